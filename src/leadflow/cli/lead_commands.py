"""Commands for the hand-off: show a lead, what sales does with it, and the worker.

::

    leadflow lead 42                         the lead: rating, stage, owner, history
    leadflow accept 42 [--rep ann@acme.io]
    leadflow reject 42 --reason bad_timing [--note ...] [--recontact-on 2027-03-01]
    leadflow recycle 42 --reason no_budget --recontact-on 2027-03-01
    leadflow disqualify 42 --reason competitor
    leadflow contact 42 [--channel call]
    leadflow worker [--once] [--interval 5]

``--by`` names who acts (recorded in the event log); by default the login name.
"""

from __future__ import annotations

import getpass
import json
import signal
import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from leadflow.cli.main import PlaybookOption, app, err, out
from leadflow.domain.moments import stamp
from leadflow.errors import InvalidInput

if TYPE_CHECKING:
    from leadflow.domain.playbook import Playbook
    from leadflow.services.handoff import Runtime
    from leadflow.services.uow import UnitOfWork

LeadId = Annotated[int, typer.Argument(metavar="ID", help="The lead (its person's id).")]
Reason = Annotated[str, typer.Option(help="A reason key from the playbook's handoff.reasons.")]
Note = Annotated[str | None, typer.Option(help="Free text kept with the disposition.")]
RecontactOn = Annotated[
    str | None, typer.Option("--recontact-on", help="When to look at it again (2027-03-01).")
]
By = Annotated[str | None, typer.Option(help="Who acts, for the record. Default: your login.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the lead as JSON.")]


def _context(playbook: Path | None) -> tuple[Playbook, Any]:
    from leadflow.bootstrap import engine_for, load_active_playbook
    from leadflow.config import Settings

    settings = Settings()
    return load_active_playbook(playbook, settings), engine_for(settings)


def _hands(by: str | None) -> Runtime:
    from leadflow.config import Settings
    from leadflow.services.handoff import Runtime

    return Runtime(by=by or _login(), email=bool(Settings().smtp_host))


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date like 2027-03-01", "--recontact-on") from None


def _rep_id(uow: UnitOfWork, ref: str | None) -> int | None:
    if ref is None:
        return None
    from leadflow.services.reps import find_rep

    return find_rep(uow, int(ref) if ref.isdigit() else ref).id


def _show(engine: Any, pb: Playbook, person_id: int, as_json: bool) -> None:
    from leadflow.services.lead_view import lead_view
    from leadflow.services.uow import UnitOfWork

    with UnitOfWork(engine) as uow:
        view = lead_view(uow, pb, person_id, datetime.now(UTC))
    if as_json:
        out.print_json(json.dumps(view, default=str))
        return
    _render(view)


def _render(view: dict[str, Any]) -> None:
    person, rating, stage = view["person"], view["rating"], view["stage"]
    name = " ".join(p for p in (person["first_name"], person["last_name"]) if p) or "(no name)"
    out.print(f"[bold]Lead {view['id']}[/]: {escape(name)} <{escape(person['email'] or '')}>")
    if person["company"]:
        out.print(f"  company: {escape(person['company'])}")
    for note in view["contact_notes"]:
        out.print(f"  [bold red]{escape(note)}[/]")
    if rating:
        out.print(f"  grade {rating['grade']}, score {rating['score']:g}, route {rating['route']}")
        for reason in rating["reasons"]:
            out.print(f"    - {escape(reason)}")
    if stage:
        out.print(f"  stage: [bold]{escape(stage['label'])}[/] ({stage['side']} side)")
    owner = view["owner"]
    out.print(f"  owner: {escape(owner['name']) + ' <' + owner['email'] + '>' if owner else '-'}")
    for label, when in view["deadlines"].items():
        if when:
            out.print(f"  {label.replace('_', ' ')}: {stamp(when)}")
    if view["reason"]:
        reason = view["reason"]
        out.print(
            f"  reason: {escape(reason['label'])}"
            + (f" ({escape(reason['note'])})" if reason["note"] else "")
        )
    out.print("  history:")
    for change in view["history"]:
        out.print(
            f"    {stamp(change['at'])}  {change['from'] or '-'} -> {change['to']}"
            f"  ({escape(change['by'] or '')}: {escape(change['why'] or '')})"
        )


@app.command()
def lead(person_id: LeadId, playbook: PlaybookOption = None, as_json: JsonOption = False) -> None:
    """Show a lead: who, grade and reasons, stage, owner, deadlines, stage history."""
    pb, engine = _context(playbook)
    _show(engine, pb, person_id, as_json)


def _dispose(playbook: Path | None, person_id: int, what: str, **args: Any) -> None:
    from leadflow.services import dispositions
    from leadflow.services.uow import UnitOfWork

    pb, engine = _context(playbook)
    hands = _hands(args.pop("by"))
    with UnitOfWork(engine) as uow:
        if what == "accept":
            done = dispositions.accept(uow, pb, person_id, hands, rep=_rep_id(uow, args["rep"]))
        elif what == "contact":
            done = dispositions.contacted(uow, pb, person_id, hands, args["channel"], args["note"])
        elif what == "disqualify":
            done = dispositions.disqualify(uow, pb, person_id, args["reason"], hands, args["note"])
        else:
            verb = dispositions.reject if what == "reject" else dispositions.recycle
            recontact = _day(args["recontact_on"])
            done = verb(uow, pb, person_id, args["reason"], hands, args["note"], recontact)
    again = f", recontact on {done.recontact_on}" if done.recontact_on else ""
    err.print(f"Lead {person_id}: {what} recorded; now in {done.stage} ({done.side} side){again}.")


@app.command()
def accept(
    person_id: LeadId,
    rep: Annotated[str | None, typer.Option(help="The rep who takes it (id or email).")] = None,
    by: By = None,
    playbook: PlaybookOption = None,
) -> None:
    """Sales accepts a lead (a rep takes it from the pool with --rep)."""
    _dispose(playbook, person_id, "accept", rep=rep, by=by)


@app.command()
def reject(
    person_id: LeadId,
    reason: Reason,
    note: Note = None,
    recontact_on: RecontactOn = None,
    by: By = None,
    playbook: PlaybookOption = None,
) -> None:
    """Sales rejects a lead with a reason: it goes back to marketing."""
    _dispose(
        playbook, person_id, "reject", reason=reason, note=note, recontact_on=recontact_on, by=by
    )


@app.command()
def recycle(
    person_id: LeadId,
    reason: Reason,
    recontact_on: RecontactOn = None,
    note: Note = None,
    by: By = None,
    playbook: PlaybookOption = None,
) -> None:
    """Hand a lead back to marketing for nurture until a recontact date."""
    _dispose(
        playbook, person_id, "recycle", reason=reason, note=note, recontact_on=recontact_on, by=by
    )


@app.command()
def disqualify(
    person_id: LeadId,
    reason: Reason,
    note: Note = None,
    by: By = None,
    playbook: PlaybookOption = None,
) -> None:
    """Disqualify a lead for good, with a reason."""
    _dispose(playbook, person_id, "disqualify", reason=reason, note=note, by=by)


@app.command()
def contact(
    person_id: LeadId,
    channel: Annotated[str, typer.Option(help="call, email, meeting...")] = "call",
    note: Note = None,
    by: By = None,
    playbook: PlaybookOption = None,
) -> None:
    """Record that the owner contacted the lead (stops the first-contact SLA)."""
    _dispose(playbook, person_id, "contact", channel=channel, note=note, by=by)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between passes when nothing is due.")
    ] = 5.0,
    playbook: PlaybookOption = None,
) -> None:
    """Run due timers (SLA deadlines, recontact dates) and nurture steps, and send what
    the outboxes hold (webhooks, emails), now and then as they fall due.

    On PostgreSQL any number of workers may run, on any machines; on SQLite, one.
    """
    from leadflow.config import Settings
    from leadflow.services.dispatch import Dispatcher
    from leadflow.services.handoff import Runtime
    from leadflow.services.nurture import run_due as run_nurture
    from leadflow.services.timers import run_due

    pb, engine = _context(playbook)
    settings = Settings()
    dispatcher = Dispatcher(engine, settings)
    name = f"{socket.gethostname()}:{_pid()}"
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    err.print(f"Worker {name} on {engine.url.render_as_string(hide_password=True)}.")
    while not stopping:
        hands = Runtime(by=f"worker {name}", email=bool(settings.smtp_host))
        report = run_due(engine, pb, hands, name)
        if report.total:
            err.print(f"Timers: {report.done} run, {report.stale} stale, {report.failed} failed.")
        steps = run_nurture(engine, pb, hands, settings.public_url)
        if steps.total:
            err.print(
                f"Nurture: {steps.sent} sent, {steps.deferred} deferred, {steps.skipped} skipped, "
                f"{steps.exited} left their track, {steps.finished} finished."
            )
        sent = dispatcher.run_once()
        hooks = sent.webhooks
        if hooks.sent or hooks.retried or hooks.failed:
            err.print(
                f"Webhooks: {hooks.sent} sent, {hooks.retried} to retry, {hooks.failed} failed."
            )
        if sent.emails is not None and (sent.emails.sent or sent.emails.failed):
            err.print(f"Emails: {sent.emails.sent} sent, {sent.emails.failed} failed.")
        if once:
            return
        slept = 0.0
        while slept < interval and not stopping:
            time.sleep(0.1)
            slept += 0.1


def _pid() -> int:
    import os

    return os.getpid()
