"""Nurture on SQLite and PostgreSQL: tracks, the contact policy, links, answers.

Time is injected: captures, the worker and the links read a clock the test moves.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.domain.playbook import Playbook
from leadflow.services import contact, dispositions
from leadflow.services.capture import Captured, CaptureInquiry, CaptureSettings, capture
from leadflow.services.dispatch import Dispatcher
from leadflow.services.handoff import Runtime
from leadflow.services.nurture import run_due
from leadflow.services.qualification import call_queue, record_answers, script
from leadflow.services.reps import AddRep, add_rep
from leadflow.services.uow import UnitOfWork
from mailserver import Inbox, smtp_settings

BTD = (Path(__file__).parents[2] / "src/leadflow/playbooks/btd.yaml").read_text()
FIELDS = """fields:
  do_not_email: {type: boolean, label: Do not email}
  timezone: {type: text, label: Time zone}
"""
NURTURE = """
nurture:
  tracks:
    - name: bad_timing
      reasons: [bad_timing]
      steps:
        - email: later
          after: 7d
    - name: not_yet
      when: grade in (c, d)
      steps:
        - email: welcome
        - email: case_study
          after: 3d
          unless_engaged: true
        - call: ask about budget and timing
          after: 4d
        - email: checkin
          after: 7d
  emails:
    welcome:
      subject: "Welcome, {{ first_name or 'there' }}"
      body: |
        Hello {{ first_name or 'there' }},
        our guide is at https://example.com/guide?from=nurture
        Change what you get: {{ preferences_url }}
    case_study:
      subject: How Acme did it
      body: "Read it: https://example.com/case"
    checkin:
      subject: Still looking?
      body: Reply to this email.
    later:
      subject: Is now a better time?
      body: "When you are ready: https://example.com/demo"
contact_policy:
  do_not_email: do_not_email
  caps:
    - {channel: email, side: marketing, max: 2, per: 7d}
  quiet_hours: {start: "20:00", end: "08:00", timezone_field: timezone}
routing:
  teams:
    - name: sales
handoff:
  recontact_after_days: 60
"""
BASE = "http://leadflow.test"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def playbook() -> Playbook:
    return parse_playbook(BTD.replace("fields:\n", FIELDS, 1) + NURTURE, "btd-nurture.yaml")


class Clock:
    def __init__(self) -> None:
        self.at = MONDAY

    def __call__(self) -> datetime:
        return self.at


class Desk:
    def __init__(self, engine: Engine) -> None:
        self.engine, self.pb, self.clock = engine, playbook(), Clock()
        self.settings = CaptureSettings(now=self.clock, rng=random.Random(3))
        self.n = 0

    def runtime(self) -> Runtime:
        return Runtime(clock=self.clock, rng=random.Random(3), by="test")

    def prospect(self, **fields: object) -> int:
        self.n += 1
        values: dict[str, object] = {
            "email": f"p{self.n}@firm{self.n}.com",
            "first_name": f"Pat{self.n}",
            "budget": "planned",
            "decision_role": "researcher",
            **fields,
        }
        cmd = CaptureInquiry(values, json.dumps(values), "web", "api", self.clock())
        with UnitOfWork(self.engine) as uow:
            got: Captured = capture(uow, self.pb, cmd, self.settings)
        assert got.route == "nurture", got
        return got.person_id or 0

    def run(self) -> object:
        return run_due(self.engine, self.pb, self.runtime(), BASE, batch=50)

    def emails(self, person_id: int | None = None) -> list[object]:
        with self.engine.connect() as c:
            query = select(t.emails).order_by(t.emails.c.id)
            if person_id is not None:
                query = query.where(t.emails.c.person_id == person_id)
            return list(c.execute(query))

    def touches(self, person_id: int) -> list[object]:
        with UnitOfWork(self.engine) as uow:
            return NurtureStore(uow.store.connection).touches_of(person_id)

    def enrollment(self, person_id: int) -> object:
        with self.engine.connect() as c:
            query = select(t.enrollments).where(t.enrollments.c.person_id == person_id)
            return c.execute(query.order_by(t.enrollments.c.id.desc())).first()


def test_a_prospect_enters_its_track_and_gets_each_step_in_turn(engine: Engine) -> None:
    desk = Desk(engine)
    lead = desk.prospect()
    assert desk.enrollment(lead).track == "not_yet"  # type: ignore[attr-defined]
    desk.run()
    (welcome,) = desk.emails(lead)
    assert welcome.subject == f"Welcome, Pat{desk.n}"  # type: ignore[attr-defined]
    text = welcome.text  # type: ignore[attr-defined]
    assert re.search(rf"{BASE}/t/[\w-]+/0", text), text  # the guide, tracked
    assert "example.com/guide" not in text
    assert re.search(rf"{BASE}/u/[\w-]+/preferences", text)
    assert re.search(rf"Unsubscribe: {BASE}/u/[\w-]+\n", text)  # added: the body had none
    desk.clock.at += timedelta(days=3)
    desk.run()
    assert [e.subject for e in desk.emails(lead)] == [  # type: ignore[attr-defined]
        f"Welcome, Pat{desk.n}",
        "How Acme did it",
    ]
    desk.clock.at += timedelta(days=4)
    desk.run()
    with UnitOfWork(engine) as uow:
        (task,) = NurtureStore(uow.store.connection).tasks("open", "call")
    assert (task.person_id, task.purpose) == (lead, "ask about budget and timing")


def test_caps_and_quiet_hours_defer_and_opt_outs_skip_with_the_reason(engine: Engine) -> None:
    desk = Desk(engine)
    tokyo = desk.prospect(timezone="Asia/Tokyo")  # 18:00 there: not quiet yet
    nope = desk.prospect(do_not_email="yes")
    desk.clock.at = MONDAY.replace(hour=12)  # 21:00 in Tokyo
    desk.run()
    assert desk.emails(tokyo) == []
    deferred = desk.touches(tokyo)[-1]
    assert (deferred.status, deferred.reason) == ("deferred", "quiet hours where the person is")  # type: ignore[attr-defined]
    assert desk.enrollment(tokyo).due_at.replace(tzinfo=UTC) == datetime(
        2026, 11, 23, 23, 0, tzinfo=UTC
    )  # type: ignore[attr-defined]
    assert desk.emails(nope) == []
    skipped = desk.touches(nope)[0]
    assert (skipped.status, skipped.reason) == ("skipped", "unsubscribed from email")  # type: ignore[attr-defined]
    # The cap: two marketing emails a week. A third in the same week waits for the first
    # to leave the window.
    capped = desk.prospect()
    desk.clock.at = MONDAY.replace(hour=13)
    desk.run()  # welcome
    desk.clock.at += timedelta(days=3)
    desk.run()  # case study
    with UnitOfWork(engine) as uow:  # a third email, queued by another track's step
        NurtureStore(uow.store.connection).add_touches(
            [
                {
                    "person_id": capped,
                    "at": desk.clock(),
                    "channel": "email",
                    "side": "marketing",
                    "stage": "prospect",
                    "status": "sent",
                }
            ]
        )
        uow.commit()
    desk.clock.at += timedelta(days=4, hours=1)  # the call task: not an email, not capped
    desk.run()
    desk.clock.at += timedelta(days=7)
    desk.run()
    assert [e.subject for e in desk.emails(capped)][-1] == "Still looking?"  # type: ignore[attr-defined]


def test_answers_on_a_call_change_the_grade_and_route_the_lead(engine: Engine) -> None:
    desk = Desk(engine)
    with UnitOfWork(engine) as uow:
        rep = add_rep(uow, AddRep("Ann", "ann@acme.example", team="sales"), desk.clock()).id
    lead = desk.prospect()
    with UnitOfWork(engine) as uow:
        person = uow.store.person(lead)
        asked = [q.field for q in script(desk.pb, person.facts)]  # type: ignore[union-attr]
        queue = call_queue(uow, desk.pb)
    assert asked == ["timeframe_days"] and [w.person_id for w in queue] == [lead]
    with UnitOfWork(engine) as uow:
        answers = {"budget": "approved", "decision_role": "decision maker", "timeframe_days": "30"}
        done = record_answers(
            uow, desk.pb, lead, answers, "Lee", "call", desk.settings, desk.clock()
        )
    assert (done.grade, done.route, done.stage, done.owner_rep_id) == (
        "A",
        "sales",
        "marketing_qualified",
        rep,
    )
    assert desk.enrollment(lead).exit_reason == "promoted"  # type: ignore[attr-defined]
    with engine.connect() as c:
        given = c.execute(select(t.answers.c.field, t.answers.c.by, t.answers.c.channel)).all()
    assert sorted(given) == [(f, "Lee", "call") for f in sorted(answers)]


@pytest.fixture
def served(engine: Engine) -> Iterator[tuple[str, Desk]]:
    desk = Desk(engine)
    app = create_app(
        Settings(dispatch_interval=0), engine=engine, playbook=desk.pb, clock=desk.clock
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", desk
    server.should_exit = True
    thread.join(10)


def test_the_unsubscribe_link_in_a_real_http_client_opts_out_and_stops_the_track(
    served: tuple[str, Desk],
) -> None:
    base, desk = served
    lead = desk.prospect()
    run_due(desk.engine, desk.pb, desk.runtime(), base)
    (welcome,) = desk.emails(lead)
    link = re.search(rf"{base}/u/[\w-]+(?=\n)", welcome.text).group(0)  # type: ignore[attr-defined, union-attr]
    click = re.search(rf"{base}/t/[\w-]+/0", welcome.text).group(0)  # type: ignore[attr-defined, union-attr]
    with httpx.Client(trust_env=False, timeout=10) as client:
        followed = client.get(click)
        assert followed.status_code == 302
        assert followed.headers["location"] == "https://example.com/guide?from=nurture"
        page = client.get(link)
        assert page.status_code == 200 and "no more emails" in page.text
        assert 'name="email" value="yes">' in page.text  # the box is now unticked
    with UnitOfWork(desk.engine) as uow:
        prefs = NurtureStore(uow.store.connection).preferences_of(lead)
        kinds = [e.type for e in uow.store.events_of(lead)]
    assert prefs == {"email": True}
    assert "contact.opted_out" in kinds and "activity.recorded" in kinds
    assert desk.enrollment(lead).exit_reason == "unsubscribed"  # type: ignore[attr-defined]
    desk.clock.at += timedelta(days=30)
    run_due(desk.engine, desk.pb, desk.runtime(), base)
    assert len(desk.emails(lead)) == 1  # nothing after the opt-out
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert client.get(f"{base}/u/not-a-token").status_code == 404


def test_a_rejected_lead_enters_the_track_named_by_its_reason(engine: Engine) -> None:
    desk = Desk(engine)
    with UnitOfWork(engine) as uow:
        add_rep(uow, AddRep("Ann", "ann@acme.example", team="sales"), desk.clock())
    lead = desk.prospect()
    with UnitOfWork(engine) as uow:
        answers = {"budget": "approved", "decision_role": "decision maker", "timeframe_days": "30"}
        record_answers(uow, desk.pb, lead, answers, "Lee", "call", desk.settings, desk.clock())
    with UnitOfWork(engine) as uow:
        dispositions.reject(uow, desk.pb, lead, "bad_timing", desk.runtime())
    enrollment = desk.enrollment(lead)
    assert (enrollment.track, enrollment.status) == ("bad_timing", "active")  # type: ignore[attr-defined]
    with UnitOfWork(engine) as uow:
        assert LeadStore(uow.store.connection).lifecycle(lead).stage == "recycled"


def test_a_reps_call_counts_against_the_caps_of_the_track_the_lead_goes_back_to(
    engine: Engine,
) -> None:
    desk = Desk(engine)
    text = BTD.replace("fields:\n", FIELDS, 1) + NURTURE.replace(
        "- {channel: email, side: marketing, max: 2, per: 7d}", "- {channel: any, max: 1, per: 7d}"
    ).replace("- email: later\n          after: 7d", "- email: later\n          after: 1d")
    desk.pb = parse_playbook(text, "btd-one-touch-a-week.yaml")
    with UnitOfWork(engine) as uow:
        add_rep(uow, AddRep("Ann", "ann@acme.example", team="sales"), desk.clock())
    lead = desk.prospect()
    with UnitOfWork(engine) as uow:
        answers = {"budget": "approved", "decision_role": "decision maker", "timeframe_days": "30"}
        record_answers(uow, desk.pb, lead, answers, "Lee", "call", desk.settings, desk.clock())
    with UnitOfWork(engine) as uow:
        dispositions.accept(uow, desk.pb, lead, desk.runtime())
    desk.clock.at += timedelta(hours=1)
    with UnitOfWork(engine) as uow:
        dispositions.contacted(uow, desk.pb, lead, desk.runtime(), "call")
    call = desk.touches(lead)[-1]
    assert (call.channel, call.side, call.stage, call.status) == (  # type: ignore[attr-defined]
        "call",
        "sales",
        "sales_accepted",
        "sent",
    )
    with UnitOfWork(engine) as uow:
        dispositions.reject(uow, desk.pb, lead, "bad_timing", desk.runtime())
    desk.clock.at += timedelta(days=1)
    desk.run()  # the track's first email is due, but the rep called a day ago
    assert desk.emails(lead) == []
    held = desk.touches(lead)[-1]
    assert (held.status, held.reason) == ("deferred", "cap: at most 1 message per week")  # type: ignore[attr-defined]
    assert desk.enrollment(lead).due_at.replace(tzinfo=UTC) == MONDAY + timedelta(days=7, hours=1)  # type: ignore[attr-defined]
    desk.clock.at = MONDAY + timedelta(days=7, hours=1)
    desk.run()
    assert [e.subject for e in desk.emails(lead)] == ["Is now a better time?"]  # type: ignore[attr-defined]


def test_an_opt_out_withdraws_the_nurture_emails_still_waiting_to_be_sent(
    engine: Engine, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    desk = Desk(engine)
    lead = desk.prospect()
    desk.run()  # the welcome email, sent
    dispatcher = Dispatcher(engine, smtp_settings(controller))
    dispatcher.run_once(desk.clock())
    assert len(inbox.received) == 1
    desk.clock.at += timedelta(days=3)
    desk.run()  # the case study is queued; the mail server is slow to take it
    (token,) = [x.token for x in desk.touches(lead) if x.step == 0]  # type: ignore[attr-defined]
    desk.clock.at += timedelta(minutes=5)
    with UnitOfWork(engine) as uow:
        contact.unsubscribe(uow, token, desk.clock())  # the link in the welcome email
    dispatcher.run_once(desk.clock())
    assert len(inbox.received) == 1  # the case study never left
    welcome, case = desk.emails(lead)
    assert (welcome.status, case.status) == ("sent", "withdrawn")  # type: ignore[attr-defined]
    assert case.last_error == "withdrawn: the person opted out of email (unsubscribe link)"  # type: ignore[attr-defined]


def test_opting_out_of_calls_cancels_the_open_call_task_and_leaves_the_call_queue(
    engine: Engine,
) -> None:
    desk = Desk(engine)
    lead = desk.prospect()
    other = desk.prospect()
    desk.run()  # the welcome emails
    desk.clock.at += timedelta(days=3)
    desk.run()
    desk.clock.at += timedelta(days=4)
    desk.run()  # the call step: a task for each
    with UnitOfWork(engine) as uow:
        tasks = NurtureStore(uow.store.connection).tasks("open", "call")
        assert sorted(int(x.person_id) for x in tasks) == [lead, other]
        waiting = {w.person_id for w in call_queue(uow, desk.pb)}
        assert {lead, other} <= waiting
    (token,) = [x.token for x in desk.touches(lead) if x.step == 0]  # type: ignore[attr-defined]
    keep = {"email": True, "call": False, "mail": True, "any": True}
    with UnitOfWork(engine) as uow:
        contact.set_preferences(uow, token, keep, desk.clock())
    with UnitOfWork(engine) as uow:
        (still,) = NurtureStore(uow.store.connection).tasks("open", "call")
        (cancelled,) = NurtureStore(uow.store.connection).tasks("cancelled", "call")
        waiting = {w.person_id for w in call_queue(uow, desk.pb)}
    assert int(still.person_id) == other
    assert int(cancelled.person_id) == lead
    assert cancelled.note == "cancelled: the person opted out of calls (preference page)"
    assert cancelled.done_at is not None
    assert lead not in waiting and other in waiting
    # emails are still wanted: the track goes on
    assert desk.enrollment(lead).status == "active"  # type: ignore[attr-defined]


def test_a_link_at_the_end_of_a_sentence_is_tracked_without_its_full_stop(
    engine: Engine,
) -> None:
    desk = Desk(engine)
    text = BTD.replace("fields:\n", FIELDS, 1) + NURTURE.replace(
        'body: "When you are ready: https://example.com/demo"',
        'body: "Book at https://example.com/demo. Or read https://example.com/faq, first!"',
    )
    desk.pb = parse_playbook(text, "btd-sentences.yaml")
    with UnitOfWork(engine) as uow:
        add_rep(uow, AddRep("Ann", "ann@acme.example", team="sales"), desk.clock())
    lead = desk.prospect()
    with UnitOfWork(engine) as uow:
        answers = {"budget": "approved", "decision_role": "decision maker", "timeframe_days": "30"}
        record_answers(uow, desk.pb, lead, answers, "Lee", "call", desk.settings, desk.clock())
    with UnitOfWork(engine) as uow:
        dispositions.reject(uow, desk.pb, lead, "bad_timing", desk.runtime())
    desk.clock.at += timedelta(days=7)
    desk.run()
    (later,) = desk.emails(lead)
    touch = desk.touches(lead)[-1]
    assert touch.links == ["https://example.com/demo", "https://example.com/faq"]  # type: ignore[attr-defined]
    token = touch.token  # type: ignore[attr-defined]
    assert f"Book at {BASE}/t/{token}/0. Or read {BASE}/t/{token}/1, first!" in later.text  # type: ignore[attr-defined]


def test_a_nurture_email_goes_out_as_text_and_html_and_its_pixel_records_the_open(
    served: tuple[str, Desk], smtp: tuple[Controller, Inbox]
) -> None:
    base, desk = served
    controller, inbox = smtp
    lead = desk.prospect(first_name="<Pat>")
    run_due(desk.engine, desk.pb, desk.runtime(), base)
    Dispatcher(desk.engine, smtp_settings(controller)).run_once(desk.clock())
    (received,) = [m for _, to, m in inbox.received if to == [f"p{desk.n}@firm{desk.n}.com"]]
    assert received.get_content_type() == "multipart/alternative"
    text, page = received.iter_parts()  # type: ignore[attr-defined]
    assert (text.get_content_type(), page.get_content_type()) == ("text/plain", "text/html")
    (email,) = desk.emails(lead)
    token = desk.touches(lead)[0].token  # type: ignore[attr-defined]
    assert text.get_content().replace("\r\n", "\n") == email.text  # type: ignore[attr-defined]
    html = page.get_content().replace("\r\n", "\n")
    assert html == email.html  # type: ignore[attr-defined]
    assert "<p>Hello &lt;Pat&gt;,<br>" in html  # the text, escaped
    assert f'<a href="{base}/t/{token}/0">{base}/t/{token}/0</a>' in html
    assert f'<a href="{base}/u/{token}">' in html  # the unsubscribe link, not tracked
    pixel = f'<img src="{base}/t/{token}/open.gif" width="1" height="1" alt="">'
    assert html.count(pixel) == 1
    with httpx.Client(trust_env=False, timeout=10) as client:
        got = client.get(f"{base}/t/{token}/open.gif")
    assert (got.status_code, got.headers["content-type"]) == (200, "image/gif")
    with desk.engine.connect() as c:
        kinds = c.execute(select(t.activities.c.type).where(t.activities.c.person_id == lead))
        assert [k for (k,) in kinds] == ["email_open"]


def test_a_lead_past_the_last_step_of_a_shortened_track_finishes_it(engine: Engine) -> None:
    desk = Desk(engine)
    lead = desk.prospect()
    other = desk.prospect()
    desk.run()  # the welcome email: both are at the second step now
    shorter = NURTURE.replace(
        """        - email: case_study
          after: 3d
          unless_engaged: true
        - call: ask about budget and timing
          after: 4d
        - email: checkin
          after: 7d
""",
        "",
    )
    desk.pb = parse_playbook(BTD.replace("fields:\n", FIELDS, 1) + shorter, "btd-short.yaml")
    assert len(desk.pb.nurture.track("not_yet").steps) == 1  # type: ignore[union-attr]
    desk.clock.at += timedelta(days=3)
    desk.run()  # the playbook now ends where they are
    for person in (lead, other):
        enrollment = desk.enrollment(person)
        assert (enrollment.status, enrollment.exit_reason) == ("finished", "track finished")  # type: ignore[attr-defined]
    assert len(desk.emails(lead)) == 1
