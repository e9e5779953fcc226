"""Commands for nurture and qualification: tracks, who is in them, calls and answers.

::

    leadflow nurture list [--status active] [--limit 50]   enrollments, newest first
    leadflow nurture show ID                                one enrollment and its touches
    leadflow nurture pause ID | resume ID
    leadflow nurture run                                    run the steps due now, once
    leadflow nurture report [--since DAY] [--until DAY] [--top 10] [--format table|csv|json]
    leadflow calls [--limit 20]                             the qualification-call queue
    leadflow calls script ID                                what to ask this lead
    leadflow answer ID --set budget=approved [--set ...] [--by NAME] [--channel call]
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from leadflow.cli.lead_commands import _context, _login
from leadflow.cli.main import PlaybookOption, _now, app, err, out
from leadflow.cli.store_commands import FormatOption, _emit, _pairs
from leadflow.domain.moments import stamp

nurture_app = typer.Typer(
    help="Nurture tracks: who is in them, pause, resume, run.", no_args_is_help=True
)
calls_app = typer.Typer(
    help="Qualification calls: the queue, and the script for one lead.", invoke_without_command=True
)
app.add_typer(nurture_app, name="nurture")
app.add_typer(calls_app, name="calls")

EnrollmentId = Annotated[int, typer.Argument(metavar="ID", help="The enrollment's id (see list).")]


def _uow(playbook: Path | None) -> tuple[Any, Any]:
    from leadflow.services.uow import UnitOfWork

    pb, engine = _context(playbook)
    return pb, UnitOfWork(engine)


@nurture_app.command("list")
def nurture_list(
    status: Annotated[str | None, typer.Option(help="active, paused, finished or exited.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    fmt: FormatOption = "table",
    playbook: PlaybookOption = None,
) -> None:
    """Enrollments in nurture tracks, newest first."""
    from leadflow.adapters.store.nurture_store import NurtureStore

    _, uow = _uow(playbook)
    with uow:
        rows = NurtureStore(uow.store.connection).enrollments(status, limit)
    columns = ["id", "lead", "track", "step", "status", "next due", "entered", "why it left"]
    _emit(
        columns,
        [
            [
                r.id,
                r.person_id,
                r.track,
                r.step,
                r.status,
                r.due_at,
                r.entered_at,
                r.exit_reason,
            ]
            for r in rows
        ],
        fmt,
    )


@nurture_app.command("show")
def nurture_show(enrollment_id: EnrollmentId, playbook: PlaybookOption = None) -> None:
    """One enrollment: its track's steps, where it is, and every touch with its reason."""
    from leadflow.adapters.store.nurture_store import NurtureStore
    from leadflow.errors import NotFound

    pb, uow = _uow(playbook)
    with uow:
        ns = NurtureStore(uow.store.connection)
        row = ns.enrollment(enrollment_id)
        if row is None:
            raise NotFound(f"no enrollment {enrollment_id} (see 'leadflow nurture list')")
        touches = [t for t in ns.touches_of(int(row.person_id)) if t.track == row.track]
    track = pb.nurture.track(row.track)
    out.print(
        f"[bold]Enrollment {row.id}[/]: lead {row.person_id} in {escape(row.track)} ({row.status})"
    )
    if track is not None:
        for n, step in enumerate(track.steps):
            mark = "->" if n == row.step and row.status == "active" else "  "
            out.print(f"  {mark} {n + 1}. after {step.after}: {escape(step.words())}")
    out.print(f"  next due: {stamp(row.due_at) or '-'}")
    for touch in touches:
        why = f" ({escape(touch.reason)})" if touch.reason else ""
        out.print(
            f"  {stamp(touch.at)}  step {touch.step + 1}: {touch.channel} {touch.status}{why}"
        )


def _status(enrollment_id: int, status: str, playbook: Path | None) -> None:
    from leadflow.adapters.store.nurture_store import NurtureStore
    from leadflow.errors import Conflict, NotFound

    _, uow = _uow(playbook)
    with uow:
        ns = NurtureStore(uow.store.connection)
        row = ns.enrollment(enrollment_id)
        if row is None:
            raise NotFound(f"no enrollment {enrollment_id}")
        wanted_from = "active" if status == "paused" else "paused"
        if row.status != wanted_from:
            raise Conflict(f"enrollment {enrollment_id} is {row.status}, not {wanted_from}")
        ns.set_status(enrollment_id, status)
        uow.commit()
    err.print(f"Enrollment {enrollment_id} is {status}.")


@nurture_app.command("pause")
def nurture_pause(enrollment_id: EnrollmentId, playbook: PlaybookOption = None) -> None:
    """Hold a lead's track where it is: no step runs until it is resumed."""
    _status(enrollment_id, "paused", playbook)


@nurture_app.command("resume")
def nurture_resume(enrollment_id: EnrollmentId, playbook: PlaybookOption = None) -> None:
    """Go on with a paused track (a step overdue meanwhile runs at the next pass)."""
    _status(enrollment_id, "active", playbook)


@nurture_app.command("run")
def nurture_run(
    playbook: PlaybookOption = None,
    now: Annotated[
        str | None,
        typer.Option(
            help="Run the steps due by this moment, as of it (ISO 8601, e.g. "
            "2026-11-24T15:00Z): quiet hours and caps are judged then. Default: now."
        ),
    ] = None,
) -> None:
    """Run the nurture steps due now, once (what `leadflow worker` does every pass)."""
    from leadflow.config import Settings
    from leadflow.services.handoff import Runtime
    from leadflow.services.nurture import run_due

    moment = _now(now)
    pb, engine = _context(playbook)
    settings = Settings()
    runtime = Runtime(clock=lambda: moment, by="nurture run", email=bool(settings.smtp_host))
    report = run_due(engine, pb, runtime, settings.public_url)
    err.print(
        f"Nurture: {report.sent} sent, {report.deferred} deferred, {report.skipped} skipped, "
        f"{report.exited} left their track, {report.finished} finished."
    )
    for reason, count in sorted(report.reasons.items(), key=lambda kv: -kv[1]):
        err.print(f"  held back or skipped {count}x: {escape(reason)}")


@nurture_app.command("report")
def nurture_report(
    since: Annotated[
        str | None, typer.Option(help="First day (UTC, YYYY-MM-DD), included.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day (UTC, YYYY-MM-DD), not included.")
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="How many leads touched most.")] = 10,
    fmt: FormatOption = "table",
    playbook: PlaybookOption = None,
) -> None:
    """The customer experience report: touches per lead per week by stage and channel,
    what held messages back (every cap), and the leads touched most."""
    from leadflow.cli.nurture_render import print_experience
    from leadflow.services.nurture_report import experience

    start, end = _start(since, "--since"), _start(until, "--until")
    pb, uow = _uow(playbook)
    with uow:
        report = experience(uow, pb, start, end, top)
    print_experience(out, report, fmt)


def _start(text: str | None, option: str) -> datetime | None:
    from datetime import date, time

    from leadflow.errors import InvalidInput

    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a day like 2027-03-01", option) from None


@calls_app.callback()
def calls(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    fmt: FormatOption = "table",
    playbook: PlaybookOption = None,
) -> None:
    """The leads waiting for a qualification call: call tasks first, then by grade and age."""
    if ctx.invoked_subcommand is not None:
        return
    from leadflow.services.qualification import call_queue

    pb, uow = _uow(playbook)
    with uow:
        waiting = call_queue(uow, pb, limit)
    columns = [
        "lead",
        "name",
        "company",
        "grade",
        "stage",
        "waiting since",
        "source",
        "questions",
        "task",
    ]
    _emit(
        columns,
        [
            [
                w.person_id,
                w.name,
                w.company,
                w.grade,
                w.stage,
                w.waiting_since,
                w.source,
                w.questions,
                w.task,
            ]
            for w in waiting
        ],
        fmt,
    )


@calls_app.command("script")
def calls_script(
    person_id: Annotated[int, typer.Argument(metavar="ID")], playbook: PlaybookOption = None
) -> None:
    """What to ask this lead on a call: the playbook's questions it has not answered."""
    from leadflow.errors import NotFound
    from leadflow.services.qualification import script

    pb, uow = _uow(playbook)
    with uow:
        person = uow.store.person(person_id)
    if person is None:
        raise NotFound(f"no lead {person_id}")
    questions = script(pb, person.facts)
    name = " ".join(p for p in (person.first_name, person.last_name) if p) or f"lead {person_id}"
    out.print(
        f"[bold]Call script for {escape(name)}[/]"
        + (f", {escape(person.company)}" if person.company else "")
    )
    if not questions:
        out.print("  Every qualification question is answered.")
    for n, q in enumerate(questions, start=1):
        choices = f"  [dim]({' / '.join(q.choices)})[/]" if q.choices else ""
        out.print(f"  {n}. {escape(q.question)}{choices}")
        out.print(f"     record: leadflow answer {person_id} --set {q.field}=...")


@app.command()
def answer(
    person_id: Annotated[int, typer.Argument(metavar="ID", help="The lead (its person's id).")],
    values: Annotated[list[str], typer.Option("--set", help="An answer, FIELD=VALUE. Repeatable.")],
    by: Annotated[str | None, typer.Option(help="Who gave or took the answers.")] = None,
    channel: Annotated[str, typer.Option(help="How: call, form, email, api, import.")] = "call",
    playbook: PlaybookOption = None,
) -> None:
    """Record qualification answers; the lead is rated again and routed if it is ready."""
    from leadflow.bootstrap import capture_settings
    from leadflow.config import Settings
    from leadflow.services.qualification import record_answers

    pb, uow = _uow(playbook)
    answers = _pairs(values, "--set")
    with uow:
        done = record_answers(
            uow,
            pb,
            person_id,
            answers,
            by or _login(),
            channel,
            capture_settings(Settings()),
            datetime.now(UTC),
        )
    owner = f", routed to rep {done.owner_rep_id}" if done.owner_rep_id else ""
    err.print(f"Lead {person_id}: grade {done.grade} ({done.route}), stage {done.stage}{owner}.")
