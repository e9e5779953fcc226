"""The hand-off on SQLite and PostgreSQL: routing, dispositions, SLAs and recontact.

Time is injected: captures, routing, dispositions and the worker read one clock the
test moves, so deadlines are exact and nothing sleeps.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.leads import LeadStore
from leadflow.domain.lifecycle import project
from leadflow.domain.playbook import Playbook
from leadflow.errors import Conflict, InvalidInput
from leadflow.services import dispositions, webhooks
from leadflow.services.capture import Captured, CaptureInquiry, CaptureSettings, capture, rerate
from leadflow.services.dispatch import Dispatcher
from leadflow.services.handoff import Runtime
from leadflow.services.lead_view import lead_view
from leadflow.services.reps import AddRep, add_rep, update_rep
from leadflow.services.timers import run_due
from leadflow.services.uow import UnitOfWork
from mailserver import Inbox, smtp_settings
from receivers import Receiver

BTD_TEXT = (Path(__file__).parents[2] / "src/leadflow/playbooks/btd.yaml").read_text()
HANDOFF = """
routing:
  teams:
    - name: enterprise
      when: timeframe_days <= 30
      manager: boss@acme.example
    - name: general
slas:
  working_hours: UTC Mon-Fri 09:00-17:00
  grades:
    A: {accept: 1h, first_contact: 4h}
  escalation:
    accept: [notify_manager, reassign]
handoff:
  recontact_after_days: 30
"""
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW = MONDAY


def playbook(extra: str = HANDOFF) -> Playbook:
    return parse_playbook(BTD_TEXT + extra, "btd-with-handoff.yaml")


class Clock:
    def __init__(self, at: datetime = MONDAY) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


_emails = count()


class Desk:
    """One database, one playbook, one clock: capture leads and act on them."""

    def __init__(self, engine: Engine, pb: Playbook | None = None) -> None:
        self.engine, self.pb, self.clock = engine, pb or playbook(), Clock()
        self.settings = CaptureSettings(now=self.clock, rng=random.Random(7))

    def runtime(self, by: str = "test") -> Runtime:
        return Runtime(clock=self.clock, rng=random.Random(7), by=by)

    def rep(self, name: str, team: str | None = "general", **more: object) -> int:
        command = AddRep(name, f"{name.lower()}@acme.example", team=team, **more)  # type: ignore[arg-type]
        with UnitOfWork(self.engine) as uow:
            return add_rep(uow, command, self.clock()).id

    def lead(self, grade: str = "A", days: int = 60, **fields: object) -> Captured:
        values: dict[str, object] = {
            "email": f"lead@company{next(_emails)}.com",  # a company each: no account owner
            "budget": "approved",
            "decision_role": "decision_maker",
            "timeframe_days": str(days),
        }
        if grade == "C":
            values["decision_role"] = "researcher"
        values.update(fields)
        cmd = CaptureInquiry(values, json.dumps(values), "web", "api", self.clock())
        with UnitOfWork(self.engine) as uow:
            return capture(uow, self.pb, cmd, self.settings)

    def state(self, person_id: int) -> object:
        with UnitOfWork(self.engine) as uow:
            return LeadStore(uow.store.connection).lifecycle(person_id)

    def owner(self, person_id: int) -> int | None:
        return self.state(person_id).owner_rep_id  # type: ignore[attr-defined, no-any-return]

    def do(self, what: str, person_id: int, *args: object, **kwargs: object) -> object:
        with UnitOfWork(self.engine) as uow:
            return getattr(dispositions, what)(uow, self.pb, person_id, *args, **kwargs)

    def events(self, person_id: int) -> list[str]:
        with UnitOfWork(self.engine) as uow:
            return [e.type for e in uow.store.events_of(person_id)]


def test_round_robin_over_three_reps_gives_each_ten_of_thirty(engine: Engine) -> None:
    desk = Desk(engine)
    reps = [desk.rep(name) for name in ("Ann", "Bo", "Cy")]
    owners = [desk.owner(desk.lead().person_id or 0) for _ in range(30)]
    assert Counter(owners) == {reps[0]: 10, reps[1]: 10, reps[2]: 10}
    assert owners[:6] == [*reps, *reps]  # in turn, not by chance


def test_a_rep_at_capacity_gets_no_more_and_the_lead_waits_in_the_pool(engine: Engine) -> None:
    desk = Desk(engine)
    small = desk.rep("Ann", capacity=2)
    big = desk.rep("Bo", capacity=3)
    owners = [desk.owner(desk.lead().person_id or 0) for _ in range(6)]
    assert Counter(owners) == {small: 2, big: 3, None: 1}
    waiting = desk.lead().person_id or 0
    assert desk.events(waiting)[-1] == "lead.unassigned"
    with UnitOfWork(engine) as uow:
        why = uow.store.events_of(waiting)[-1].data["why"]
    assert "capacity" in why


def test_a_company_with_an_owner_keeps_it(engine: Engine) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    desk.rep("Bo")
    first = desk.lead(email="kim@globex.com", company="Globex")
    owner = desk.owner(first.person_id or 0)
    others = [desk.lead(email=f"p{n}@globex.com", company="Globex") for n in range(4)]
    assert {desk.owner(o.person_id or 0) for o in others} == {owner}
    with UnitOfWork(engine) as uow:
        why = uow.store.events_of(others[0].person_id or 0)[-1].data["why"]
    assert "owns the account" in why
    elsewhere = desk.lead(email="sam@initech.com", company="Initech")
    assert desk.owner(elsewhere.person_id or 0) != owner  # round robin goes on elsewhere


def test_teams_working_hours_and_absence_are_honoured(engine: Engine) -> None:
    desk = Desk(engine)
    ent = desk.rep("Ent", team="enterprise")
    gen = desk.rep("Gen", team="general", working_hours="UTC Mon-Fri 09:00-17:00")
    night = desk.rep("Night", team="general", working_hours="UTC Mon-Fri 20:00-23:00")
    assert desk.owner(desk.lead(days=10).person_id or 0) == ent  # timeframe <= 30
    assert desk.owner(desk.lead().person_id or 0) == gen  # at work at 09:00
    assert desk.owner(desk.lead().person_id or 0) == gen  # Night is not at work
    desk.clock.advance(hours=12)  # 21:00: Night works, Gen does not
    assert desk.owner(desk.lead().person_id or 0) == night
    with UnitOfWork(engine) as uow:
        away = {"away_from": date(2026, 11, 23), "away_until": date(2026, 11, 24)}
        update_rep(uow, night, away, desk.clock())
    assert desk.owner(desk.lead().person_id or 0) == gen  # nobody at work: anyone present


def test_a_routed_lead_has_its_deadline_in_working_hours_and_its_speed_to_lead(
    engine: Engine,
) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    desk.clock.at = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # Friday, 30 minutes left
    lead = desk.lead().person_id or 0
    state = desk.state(lead)
    assert state.accept_due == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    with UnitOfWork(engine) as uow:
        view = lead_view(uow, desk.pb, lead, desk.clock())
    assert view["stage"]["name"] == "marketing_qualified"
    assert view["owner"]["name"] == "Ann"
    assert view["speed_to_lead"]["ready_to_routed_seconds"] == 0
    assert [h["to"] for h in view["history"]] == ["inquiry", "marketing_qualified"]
    assert view["deadlines"]["accept_by"] == "2026-11-30T09:30:00+00:00"


def test_accept_then_contact_stops_both_slas(engine: Engine) -> None:
    desk = Desk(engine)
    ann = desk.rep("Ann")
    lead = desk.lead().person_id or 0
    desk.clock.advance(minutes=20)
    done = desk.do("accept", lead, desk.runtime("ann"))
    assert (done.stage, done.side, done.owner_rep_id) == ("sales_accepted", "sales", ann)  # type: ignore[attr-defined]
    desk.clock.advance(minutes=30)
    with pytest.raises(Conflict) as twice:
        desk.do("accept", lead, desk.runtime("ann"))
    assert str(twice.value) == f"lead {lead} was already accepted at 2026-11-23T09:20:00Z"
    desk.do("contacted", lead, desk.runtime("ann"))
    desk.clock.advance(hours=30)
    report = run_due(engine, desk.pb, desk.runtime(), "w1")
    assert (report.done, report.stale) == (0, 2)  # both deadlines were met: nothing to do
    with UnitOfWork(engine) as uow:
        view = lead_view(uow, desk.pb, lead, desk.clock())
    speed = view["speed_to_lead"]
    assert (speed["routed_to_accepted_seconds"], speed["accepted_to_contact_seconds"]) == (
        1200,
        1800,
    )


def test_a_missed_acceptance_escalates_and_reassigns(engine: Engine) -> None:
    desk = Desk(engine)
    ann, bo = desk.rep("Ann"), desk.rep("Bo")
    lead = desk.lead().person_id or 0
    assert desk.owner(lead) == ann
    desk.clock.advance(minutes=61)
    report = run_due(engine, desk.pb, desk.runtime(), "w1")
    assert report.done == 1
    assert desk.owner(lead) == bo
    kinds = desk.events(lead)
    assert kinds[-2:] == ["sla.breached", "lead.routed"]
    with UnitOfWork(engine) as uow:
        breach = next(e for e in uow.store.events_of(lead) if e.type == "sla.breached")
    assert breach.data["manager"] is None  # team general has no manager
    with engine.connect() as c:
        said = c.execute(select(t.timers.c.result).where(t.timers.c.status == "done")).all()
    assert [r.result for r in said] == [
        "accept SLA missed (due 2026-11-23T10:00:00Z): no manager to tell; reassigned to Bo"
    ]
    assert run_due(engine, desk.pb, desk.runtime(), "w1").total == 0  # ran once


def test_reject_puts_the_lead_back_on_marketing_side_with_its_reason(engine: Engine) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    lead = desk.lead().person_id or 0
    done = desk.do("reject", lead, "bad_timing", desk.runtime("ann"), "Budget frozen")
    assert (done.stage, done.side, done.owner_rep_id, done.reason) == (  # type: ignore[attr-defined]
        "recycled",
        "marketing",
        None,
        "bad_timing",
    )
    assert done.recontact_on == date(2026, 12, 23)  # type: ignore[attr-defined]  # 30 days
    with UnitOfWork(engine) as uow:
        view = lead_view(uow, desk.pb, lead, desk.clock())
        logged = next(e for e in uow.store.events_of(lead) if e.type == "lead.rejected")
    assert view["reason"] == {"key": "bad_timing", "label": "Bad timing", "note": "Budget frozen"}
    assert logged.data["reason_label"] == "Bad timing"
    # Still an A lead: an activity does not send it straight back to sales.
    desk.clock.advance(days=1)
    with UnitOfWork(engine) as uow:
        rerate(uow.store, desk.pb, lead, desk.clock(), "activity", desk.runtime())
        uow.commit()
    assert (desk.state(lead).stage, desk.owner(lead)) == ("recycled", None)  # type: ignore[attr-defined]


def test_a_recycled_lead_re_enters_sales_when_it_qualifies_again(engine: Engine) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    email = "kim@hooli.com"
    lead = desk.lead(grade="A", email=email).person_id or 0
    desk.do("recycle", lead, "no_budget", desk.runtime(), None, date(2026, 12, 1))
    # A new inquiry that does not qualify: it stays with marketing (now a prospect).
    again = desk.lead(grade="C", email=email)
    assert again.person_id == lead
    assert (desk.state(lead).stage, desk.owner(lead)) == ("prospect", None)  # type: ignore[attr-defined]
    # It qualifies again: back to sales, routed.
    desk.lead(grade="A", email=email)
    assert desk.state(lead).stage == "marketing_qualified"  # type: ignore[attr-defined]
    assert desk.owner(lead) is not None


def test_a_held_lead_returns_on_its_recontact_date_by_the_worker(engine: Engine) -> None:
    desk = Desk(engine)
    ann = desk.rep("Ann")
    lead = desk.lead().person_id or 0
    desk.do("recycle", lead, "bad_timing", desk.runtime(), None, date(2026, 11, 25))
    assert run_due(engine, desk.pb, desk.runtime(), "w").total == 0  # not yet
    desk.clock.at = datetime(2026, 11, 25, 0, 0, 1, tzinfo=UTC)
    report = run_due(engine, desk.pb, desk.runtime(), "w")
    assert report.done == 1
    state = desk.state(lead)
    assert (state.stage, state.owner_rep_id, state.recontact_on) == (  # type: ignore[attr-defined]
        "marketing_qualified",
        ann,
        None,
    )


def test_dispositions_the_stage_model_does_not_allow_are_refused(engine: Engine) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    prospect = desk.lead(grade="C").person_id or 0
    with pytest.raises(Conflict, match="no way to accept it"):
        desk.do("accept", prospect, desk.runtime(), rep=1)
    lead = desk.lead().person_id or 0
    with pytest.raises(InvalidInput, match="not a reason in the playbook"):
        desk.do("reject", lead, "too_expensive", desk.runtime())
    desk.do("disqualify", lead, "competitor", desk.runtime())
    with pytest.raises(Conflict, match="final"):
        desk.do("accept", lead, desk.runtime(), rep=1)


def test_the_lifecycle_row_is_the_projection_of_the_event_log(engine: Engine) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    desk.rep("Bo")
    lead = desk.lead().person_id or 0
    desk.clock.advance(minutes=90)
    run_due(engine, desk.pb, desk.runtime(), "w")  # reassigned
    desk.do("accept", lead, desk.runtime())
    desk.do("recycle", lead, "no_budget", desk.runtime(), "later", date(2027, 1, 4))
    with UnitOfWork(engine) as uow:
        events = [(e.type, e.at, e.data) for e in uow.store.events_of(lead)]
        stored = LeadStore(uow.store.connection).lifecycle(lead)
    rebuilt = project(
        (kind, at.replace(tzinfo=UTC) if at.tzinfo is None else at, data)
        for kind, at, data in events
    )
    assert rebuilt == stored


def test_two_workers_on_postgresql_run_each_of_10000_timers_once(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers run on PostgreSQL; SQLite runs one")
    import threading

    desk = Desk(engine)
    lead = desk.lead(grade="C").person_id or 0
    due = desk.clock() - timedelta(minutes=1)
    with UnitOfWork(engine) as uow:
        # Accept-SLA timers of a rep the lead no longer has: each runs and finds it stale,
        # and the mark shows which worker ran it.
        uow.store.connection.execute(
            t.timers.insert(),
            [
                {
                    "kind": "accept_sla",
                    "person_id": lead,
                    "due_at": due,
                    "data": {"rep_id": n},
                    "status": "pending",
                }
                for n in range(10_000)
            ],
        )
        uow.commit()
    reports = {}

    def work(name: str) -> None:
        reports[name] = run_due(engine, desk.pb, desk.runtime(), name, batch=50)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as c:
        rows = c.execute(select(t.timers.c.status, t.timers.c.worker)).all()
    assert len(rows) == 10_000
    assert {status for status, _ in rows} == {"stale"}
    by_worker = Counter(worker for _, worker in rows)
    assert sum(r.total for r in reports.values()) == 10_000  # none run twice
    assert by_worker == {name: r.total for name, r in reports.items()}
    assert all(n > 0 for n in by_worker.values())  # both took a share


def test_a_routed_lead_reaches_its_reps_webhook_and_inbox_and_a_breach_the_manager(
    engine: Engine, receiver: Receiver, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    with_consent = BTD_TEXT.replace(
        "fields:\n", "fields:\n  do_not_call:\n    type: boolean\n    label: Do not call\n", 1
    )
    desk = Desk(engine, parse_playbook(with_consent + HANDOFF, "btd-consent.yaml"))
    desk.settings = CaptureSettings(now=desk.clock, rng=random.Random(7), email=True)
    ann = desk.rep("Ann", team="enterprise")
    bo = desk.rep("Bo", team="general")
    with UnitOfWork(engine) as uow:
        _, secret = webhooks.add_webhook(uow, receiver.url, "lead.routed,sla.breached", NOW, ann)
        webhooks.add_webhook(uow, receiver.url, "lead.routed", NOW, bo)  # not Bo's lead
    lead = desk.lead(days=10, first_name="Kim", last_name="Ode", do_not_call="yes")
    assert desk.owner(lead.person_id or 0) == ann
    desk.clock.advance(minutes=61)  # Ann misses the acceptance: the manager is told
    run_due(engine, desk.pb, replace(desk.runtime(), email=True), "w")
    dispatcher = Dispatcher(engine, smtp_settings(controller))
    try:
        dispatcher.run_once(desk.clock())
    finally:
        dispatcher.stop()
    bodies = [(json.loads(body), headers, body) for headers, body in receiver.received]
    assert [b["event"] for b, _, _ in bodies] == ["lead.routed", "sla.breached"]
    routed, headers, raw = bodies[0]
    assert webhooks.verify(secret, raw, headers["X-Leadflow-Signature"])
    data = routed["data"]
    assert (data["person_id"], data["rep_id"], data["name"]) == (lead.person_id, ann, "Kim Ode")
    assert data["contact_notes"] == ["Do not call"]
    assert any("Approved budget" in reason for reason in data["reasons"])
    assert data["accept_by"].startswith("2026-11-23T10:00")
    mails = {to: message for _, (to,), message in inbox.received}
    assert set(mails) == {"ann@acme.example", "boss@acme.example"}
    assert "Do not call" in mails["ann@acme.example"]["Subject"]
    assert "Kim Ode" in mails["boss@acme.example"]["Subject"]


def test_a_disposition_never_enters_a_stage_entered_by_rating_only(engine: Engine) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    lead = desk.lead().person_id or 0
    desk.do("reject", lead, "bad_timing", desk.runtime())
    done = desk.do("disqualify", lead, "competitor", desk.runtime())
    # marketing_qualified (when: route == sales) comes first in recycled's next list
    assert (done.stage, done.recontact_on) == ("disqualified", None)  # type: ignore[attr-defined]
    recycled = desk.lead().person_id or 0
    desk.do("recycle", recycled, "no_budget", desk.runtime())
    with pytest.raises(Conflict, match="no way to accept it"):
        desk.do("accept", recycled, desk.runtime(), rep=1)


def test_a_lead_sales_never_had_or_already_handed_back_cannot_be_handed_back(
    engine: Engine,
) -> None:
    desk = Desk(engine)
    desk.rep("Ann")
    prospect = desk.lead(grade="C").person_id or 0
    with pytest.raises(Conflict, match="never handed to sales"):
        desk.do("reject", prospect, "not_a_fit", desk.runtime())
    lead = desk.lead().person_id or 0
    desk.do("reject", lead, "bad_timing", desk.runtime())
    with pytest.raises(Conflict, match="handed back already"):
        desk.do("recycle", lead, "no_budget", desk.runtime())


def test_after_a_missed_first_contact_the_new_rep_takes_the_lead_over_accepted(
    engine: Engine,
) -> None:
    pb = playbook(
        HANDOFF.replace("accept: [notify_manager, reassign]", "first_contact: [reassign]")
    )
    desk = Desk(engine, pb)
    ann, bo = desk.rep("Ann"), desk.rep("Bo")
    lead = desk.lead().person_id or 0
    desk.do("accept", lead, desk.runtime())
    desk.clock.advance(hours=5)  # the 4h first-contact SLA is missed
    assert run_due(engine, pb, desk.runtime(), "w").done == 1
    state = desk.state(lead)
    assert (state.owner_rep_id, state.stage) == (bo, "sales_accepted")  # type: ignore[attr-defined]
    assert state.accepted_at is not None and state.accept_due is None  # type: ignore[attr-defined]
    assert state.contact_due == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    desk.do("contacted", lead, desk.runtime())
    desk.clock.advance(days=2)
    assert run_due(engine, pb, desk.runtime(), "w").done == 0  # nothing bounces
    assert desk.owner(lead) == bo != ann
