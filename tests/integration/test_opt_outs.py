"""Opt-outs an inquiry carries, on SQLite and PostgreSQL: a Web-to-Lead form's
``emailOptOut`` and ``doNotCall`` boxes posted over real HTTP, an API call's
``HasOptedOutOfEmail``, ``DoNotCall`` and ``do_not_contact``, a Salesforce export's
columns by API name and by report label, a HubSpot export's and a generic file's. Each is
kept (``preferences``) whatever fields the playbook has, shown in the lead's contact notes,
and obeyed by the nurture worker: nobody who opted out of email is emailed, over a real
SMTP server on loopback."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from test_bulk_import import SETTINGS, captured_alike  # pytest puts this folder on sys.path
from test_nurture import BTD, NURTURE

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.api.app import create_app
from leadflow.bootstrap import bundled_playbook
from leadflow.config import Settings
from leadflow.domain.playbook import Playbook
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.dispatch import Dispatcher
from leadflow.services.forms import create_form
from leadflow.services.handoff import Runtime
from leadflow.services.imports import import_csv
from leadflow.services.keys import create_key
from leadflow.services.lead_view import lead_view
from leadflow.services.nurture import run_due
from leadflow.services.qualification import record_answers
from leadflow.services.uow import UnitOfWork
from mailserver import Inbox, smtp_settings

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York: no quiet hours
B2B = bundled_playbook("b2b-saas")  # its contact policy names do_not_email, do_not_call
BANT = bundled_playbook("bant")  # no consent field at all


def bare_playbook() -> Playbook:
    """The nurture tests' playbook without a consent field: its contact policy names no
    do_not_email, and it has no such field."""
    policy = "contact_policy:\n  do_not_email: do_not_email\n"
    assert policy in NURTURE
    nurture = NURTURE.replace(policy, "contact_policy:\n")
    fields = "fields:\n  timezone: {type: text, label: Time zone}\n"
    return parse_playbook(BTD.replace("fields:\n", fields, 1) + nurture, "btd-bare.yaml")


class Clock:
    def __init__(self) -> None:
        self.at = MONDAY

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def serving(engine: Engine, pb: Playbook, clock: Clock) -> Iterator[str]:
    """``leadflow serve``'s app on a real port of 127.0.0.1; its base URL."""
    app = create_app(Settings(dispatch_interval=0), engine=engine, playbook=pb, clock=clock)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def admin_key(engine: Engine) -> dict[str, str]:
    with UnitOfWork(engine) as uow:
        return {"Authorization": f"Bearer {create_key(uow, 'admin', 'tests', MONDAY).key}"}


def opted(engine: Engine) -> dict[int, set[str]]:
    with UnitOfWork(engine) as uow:
        ids = [int(p.id) for p in uow.store.connection.execute(select(t.people.c.id))]
        return dict(NurtureStore(uow.store.connection).opted_out(ids))


def person_of(engine: Engine, email: str) -> int:
    with UnitOfWork(engine) as uow:
        found = uow.store.person_by_key("email", email)
    assert found is not None, email
    return found


def view(engine: Engine, pb: Playbook, email: str) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return lead_view(uow, pb, person_of(engine, email), MONDAY)


def touches(engine: Engine, person_id: int) -> list[tuple[str, str, str | None]]:
    with UnitOfWork(engine) as uow:
        rows = NurtureStore(uow.store.connection).touches_of(person_id)
    return [(r.channel, r.status, r.reason) for r in rows]


def runtime(clock: Clock) -> Runtime:
    return Runtime(clock=clock, by="test")


# ------------------------------------------------------------------ forms and the API


def test_a_web_to_lead_post_keeps_its_opt_outs_and_nurture_obeys_them_over_smtp(
    engine: Engine, smtp: tuple[Controller, Inbox]
) -> None:
    """A playbook with no consent field: the boxes are kept all the same. The one who
    ticked Email Opt Out gets no email, though their calls go on; the one who ticked Do
    Not Call gets the emails and no call."""
    pb, clock = bare_playbook(), Clock()
    controller, inbox = smtp
    with UnitOfWork(engine) as uow:
        form = create_form(uow, "Contact us", MONDAY, source="website").key
    auth = admin_key(engine)
    base = "http://leadflow.test"
    posts = {
        "no.email@firm1.com": {"emailOptOut": "1"},
        "no.call@firm2.com": {"doNotCall": "1"},
        "anyone@firm3.com": {},
    }
    with serving(engine, pb, clock) as url, httpx.Client(base_url=url, timeout=10) as client:
        for email, boxes in posts.items():
            fields = {
                "oid": "00D1",
                "retURL": "https://example.com/thanks",
                "email": email,
                "budget": "planned",
                "decision_role": "researcher",
            }
            posted = client.post(f"/f/{form}", data={**fields, **boxes}, follow_redirects=False)
            assert posted.status_code == 303, posted.text
        no_email, no_call, anyone = (person_of(engine, e) for e in posts)
        notes = {
            p: client.get(f"/api/v1/leads/{p}", headers=auth).json()["contact_notes"]
            for p in (no_email, no_call, anyone)
        }
    assert notes == {no_email: ["Do not email"], no_call: ["Do not call"], anyone: []}
    assert opted(engine) == {no_email: {"email"}, no_call: {"call"}}
    with UnitOfWork(engine) as uow:
        source = uow.store.connection.execute(select(t.preferences.c.source)).scalars().all()
    assert source == ["inquiry (form: website)"] * 2

    dispatcher = Dispatcher(engine, smtp_settings(controller))
    try:
        for days in (0, 3, 4):  # the welcome email, the case study, the call
            clock.at += timedelta(days=days)
            run_due(engine, pb, runtime(clock), base)
            dispatcher.run_once(clock())
    finally:
        dispatcher.stop()
    emailed = sorted(to for _, tos, _ in inbox.received for to in tos)
    assert emailed == sorted(["no.call@firm2.com", "anyone@firm3.com"] * 2)
    assert touches(engine, no_email) == [
        ("email", "skipped", "unsubscribed from email"),
        ("email", "skipped", "unsubscribed from email"),
        ("call", "sent", "a task for marketing"),
    ]
    assert touches(engine, no_call)[-1] == ("call", "skipped", "asked not to be called")
    assert touches(engine, anyone)[-1] == ("call", "sent", "a task for marketing")


def test_the_api_keeps_opt_outs_under_salesforce_and_leadflow_names(engine: Engine) -> None:
    """JSON true, "true" or 1 opts out; false and "0" do not. The contact policy's fields
    get the opt-outs too (the b2b-saas playbook names do_not_email and do_not_call)."""
    clock = Clock()
    with UnitOfWork(engine) as uow:
        key = create_key(uow, "capture", "site", MONDAY).key
    inquiries = [
        {"email": "sf@firm1.com", "HasOptedOutOfEmail": True, "DoNotCall": True},
        {"email": "nobody@firm2.com", "do_not_contact": True},
        {"email": "kept@firm3.com", "HasOptedOutOfEmail": False, "DoNotCall": "0"},
        {"email": "label@firm4.com", "Email Opt Out": "true", "donotcall": 1},
    ]
    with serving(engine, B2B, clock) as url, httpx.Client(base_url=url, timeout=10) as client:
        body = {"inquiries": inquiries}
        sent = client.post(
            "/api/v1/inquiries", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        assert sent.status_code == 200, sent.text
    sf, nobody, kept, label = (person_of(engine, str(i["email"])) for i in inquiries)
    assert opted(engine) == {sf: {"email", "call"}, nobody: {"any"}, label: {"email", "call"}}
    got = view(engine, B2B, "sf@firm1.com")
    assert got["person"]["facts"] == {"do_not_email": "True", "do_not_call": "True"}
    assert got["contact_notes"] == ["Do not call", "Do not email"]
    assert view(engine, B2B, "nobody@firm2.com")["contact_notes"] == ["Do not contact"]
    assert view(engine, B2B, "kept@firm3.com")["contact_notes"] == []
    run_due(engine, B2B, runtime(clock), "http://leadflow.test")
    with engine.connect() as c:
        emailed = set(c.execute(select(t.emails.c.person_id)).scalars())
    assert emailed == {kept}
    assert touches(engine, sf) == [("email", "skipped", "unsubscribed from email")]
    with engine.connect() as c:
        track = c.execute(select(t.enrollments).where(t.enrollments.c.person_id == nobody)).one()
    assert (track.status, track.exit_reason) == ("exited", "unsubscribed")


def test_a_later_inquiry_that_says_no_does_not_take_an_opt_out_back(engine: Engine) -> None:
    """Only the person takes an opt-out back, on the preference page: a CRM's unticked box
    in a later inquiry may be older news. It still sets the fact it names."""
    settings = CaptureSettings(now=Clock())
    for fields in ({"emailOptOut": "1"}, {"HasOptedOutOfEmail": "false", "do_not_email": "no"}):
        values = {"email": "ann@acme.io", **fields}
        cmd = CaptureInquiry(values, json.dumps(values), "web", "api", MONDAY)
        with UnitOfWork(engine) as uow:
            capture(uow, B2B, cmd, settings)
    got = view(engine, B2B, "ann@acme.io")
    assert got["person"]["facts"]["do_not_email"] == "no"
    assert got["contact_notes"] == ["Do not email"]
    with engine.connect() as c:
        said = c.execute(select(t.events.c.data).where(t.events.c.type == "contact.opted_out"))
        assert len(said.all()) == 1  # logged once, when it was new


def test_a_do_not_call_answered_on_a_call_is_kept_as_an_opt_out(engine: Engine) -> None:
    """Sales records ``do_not_call=yes`` on the qualification call: kept as an opt-out,
    which a later inquiry's "no" does not take back, as an inquiry's own is not."""
    settings = CaptureSettings(now=Clock())
    values = {"email": "cal@acme.io"}
    with UnitOfWork(engine) as uow:
        capture(
            uow, B2B, CaptureInquiry(values, json.dumps(values), "web", "api", MONDAY), settings
        )
    person = person_of(engine, "cal@acme.io")
    with UnitOfWork(engine) as uow:
        record_answers(uow, B2B, person, {"do_not_call": "yes"}, "ann", "call", settings, MONDAY)
    assert opted(engine) == {person: {"call"}}
    later = {"email": "cal@acme.io", "DoNotCall": "false"}
    with UnitOfWork(engine) as uow:
        capture(uow, B2B, CaptureInquiry(later, json.dumps(later), "web", "api", MONDAY), settings)
    assert view(engine, B2B, "cal@acme.io")["contact_notes"] == ["Do not call"]
    with engine.connect() as c:
        said = c.execute(select(t.events.c.data).where(t.events.c.type == "contact.opted_out"))
        assert [d["source"] for d in said.scalars()] == ["answer (call: ann)"]


def test_an_inquiry_that_opts_out_withdraws_the_emails_waiting_and_cancels_call_tasks(
    engine: Engine,
) -> None:
    """What the unsubscribe link does to the outbox and the tasks, an inquiry's opt-out
    does too."""
    pb, clock = bare_playbook(), Clock()
    settings = CaptureSettings(now=clock)

    def inquire(**fields: object) -> int:
        values = {"email": "pat@firm1.com", "budget": "planned", "decision_role": "researcher"}
        values.update(fields)
        cmd = CaptureInquiry(values, json.dumps(values), "web", "api", clock())
        with UnitOfWork(engine) as uow:
            return capture(uow, pb, cmd, settings).person_id or 0

    lead = inquire()
    run_due(engine, pb, runtime(clock), "http://leadflow.test")  # welcome: in the outbox
    inquire(emailOptOut="on")
    for days in (3, 4):  # the case study (skipped), the call (a task opens)
        clock.at += timedelta(days=days)
        run_due(engine, pb, runtime(clock), "http://leadflow.test")
    inquire(DoNotCall="yes")
    with engine.connect() as c:
        (email,) = c.execute(select(t.emails).where(t.emails.c.person_id == lead)).all()
        (task,) = c.execute(select(t.tasks).where(t.tasks.c.person_id == lead)).all()
    assert (email.status, email.last_error) == (
        "withdrawn",
        "withdrawn: the person opted out of email (inquiry (api: web))",
    )
    assert (task.status, task.note) == (
        "cancelled",
        "cancelled: the person opted out of calls (inquiry (api: web))",
    )


# ------------------------------------------------------------------ imports


def write(path: Path, rows: list[list[str]], quoting: int = csv.QUOTE_ALL) -> Path:
    """A CSV file, every value quoted as CRM exports do (or as ``quoting`` says)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=quoting).writerows(rows)
    return path


def imported(engine: Engine, pb: Playbook, path: Path, preset: str) -> None:
    import_csv(
        lambda: UnitOfWork(engine),
        pb,
        path,
        source="crm",
        now=MONDAY,
        settings=SETTINGS,
        preset=preset,
    )


def test_a_salesforce_export_keeps_its_opt_outs_by_api_name_and_by_report_label(
    engine: Engine, tmp_path: Path
) -> None:
    api_names = write(
        tmp_path / "sf.csv",
        [
            ["Id", "FirstName", "LastName", "Company", "Email", "HasOptedOutOfEmail", "DoNotCall"],
            ["00Q8", "O", "T", "Co", "o2@co2.com", "true", "true"],
            ["00Q9", "P", "T", "Co", "p2@co2.com", "false", "false"],
        ],
    )
    labels = write(
        tmp_path / "report.csv",
        [
            ["Lead ID", "First Name", "Last Name", "Email", "Email Opt Out", "Do Not Call"],
            ["00QA", "Q", "T", "q2@co3.com", "1", "0"],
            ["00QB", "R", "T", "r2@co3.com", "0", "1"],
        ],
    )
    imported(engine, B2B, api_names, "salesforce")
    imported(engine, B2B, labels, "salesforce")
    both = view(engine, B2B, "o2@co2.com")
    assert both["person"]["facts"] == {"do_not_email": "true", "do_not_call": "true"}
    assert both["contact_notes"] == ["Do not call", "Do not email"]
    assert view(engine, B2B, "p2@co2.com")["contact_notes"] == []
    assert view(engine, B2B, "q2@co3.com")["contact_notes"] == ["Do not email"]
    assert view(engine, B2B, "r2@co3.com")["contact_notes"] == ["Do not call"]
    o, q, r = (person_of(engine, e) for e in ("o2@co2.com", "q2@co3.com", "r2@co3.com"))
    assert opted(engine) == {o: {"email", "call"}, q: {"email"}, r: {"call"}}
    run_due(engine, B2B, runtime(Clock()), "http://leadflow.test")
    with engine.connect() as c:
        emailed = set(c.execute(select(t.emails.c.to)).scalars())
    assert emailed == {"p2@co2.com", "r2@co3.com"}


def test_a_generic_file_and_a_hubspot_export_keep_opt_outs_with_no_consent_field(
    engine: Engine, tmp_path: Path
) -> None:
    """The bant playbook has no consent field: nothing lands in the facts, and the
    opt-outs are kept all the same."""
    generic = write(
        tmp_path / "expo.csv",
        [
            ["email", "Email Opt Out", "DoNotCall", "Do Not Contact"],
            ["a@expo.com", "Yes", "", ""],
            ["b@expo.com", "", "X", ""],
            ["c@expo.com", "no", "no", "TRUE"],
            ["d@expo.com", "no", "0", "false"],
        ],
    )
    hubspot = write(
        tmp_path / "hubspot.csv",
        [
            ["Record ID", "Email", "Unsubscribed from all email", "Marketing contact status"],
            ["101", "e@hub.com", "true", "Marketing contact"],
            ["102", "f@hub.com", "false", "Non-marketing contact"],
        ],
    )
    imported(engine, BANT, generic, "generic")
    imported(engine, BANT, hubspot, "hubspot")
    ids = {e: person_of(engine, e) for e in ("a@expo.com", "b@expo.com", "c@expo.com", "e@hub.com")}
    assert opted(engine) == {
        ids["a@expo.com"]: {"email"},
        ids["b@expo.com"]: {"call"},
        ids["c@expo.com"]: {"any"},
        ids["e@hub.com"]: {"email"},
    }
    assert view(engine, BANT, "a@expo.com")["person"]["facts"] == {}
    notes = {e: view(engine, BANT, e)["contact_notes"] for e in ("c@expo.com", "d@expo.com")}
    assert notes == {"c@expo.com": ["Do not contact"], "d@expo.com": []}
    assert view(engine, BANT, "e@hub.com")["contact_notes"] == ["Do not email"]


def test_importing_opt_outs_stores_what_capturing_the_rows_one_by_one_does(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """People over several rows and slices, some opted out in one row and not in
    another: the bulk import keeps and logs the same opt-outs as ``capture_in``."""
    header = ["Lead ID", "Email", "budget", "HasOptedOutOfEmail", "Do Not Call", "emailOptOut"]
    values = ["true", "false", "1", "0", "", "Yes", " on ", "x", "no"]
    rows = [header]
    for i in range(60):
        said = [values[(i * k + k) % len(values)] for k in (1, 2, 5)]
        rows.append([f"00Q{i % 7}", f"p{i % 23}@firm{i % 5}.com", "planned", *said])
    path = write(tmp_path / "leads.csv", rows, csv.QUOTE_MINIMAL)
    for database in (engine, reference):  # one of them in nurture, an email waiting
        values_ = {"email": "p1@firm1.com", "first_name": "Pat"}
        cmd = CaptureInquiry(values_, json.dumps(values_), "web", "api", MONDAY)
        with UnitOfWork(database) as uow:
            capture(uow, B2B, cmd, SETTINGS)
        run_due(database, B2B, runtime(Clock()), "http://leadflow.test")
    import_csv(
        lambda: UnitOfWork(engine),
        B2B,
        path,
        source="expo",
        now=MONDAY,
        settings=SETTINGS,
        preset="salesforce",
        chunk_rows=17,
    )
    captured_alike(engine, reference, B2B, path, mappings={})
    got, want = preferences(engine), preferences(reference)
    assert got == want and len(got) > 10
    assert {channel for _, channel, _ in got} == {"email", "call"}
    assert outbox(engine) == outbox(reference) == [("p1@firm1.com", "withdrawn")]


def preferences(engine: Engine) -> list[tuple[str, str, str]]:
    """Who opted out of what, and how: people named by their email."""
    with engine.connect() as c:
        query = select(t.people.c.email, t.preferences.c.channel, t.preferences.c.source).join(
            t.people, t.people.c.id == t.preferences.c.person_id
        )
        return sorted((str(e), str(ch), str(s)) for e, ch, s in c.execute(query))


def outbox(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as c:
        return [(r.to, r.status) for r in c.execute(select(t.emails).order_by(t.emails.c.id))]
