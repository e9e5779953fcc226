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
from sqlalchemy import Engine, select

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.domain.playbook import Playbook
from leadflow.services import dispositions
from leadflow.services.capture import Captured, CaptureInquiry, CaptureSettings, capture
from leadflow.services.handoff import Runtime
from leadflow.services.nurture import run_due
from leadflow.services.qualification import call_queue, record_answers, script
from leadflow.services.reps import AddRep, add_rep
from leadflow.services.uow import UnitOfWork

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
