"""Unmerge after the merged person lived on: later inquiries, answers and the reports' rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import Engine, select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_store import FunnelStore
from leadflow.bootstrap import bundled_playbook
from leadflow.services.capture import Captured, CaptureInquiry, CaptureSettings, capture
from leadflow.services.merges import Unmerged, unmerge
from leadflow.services.qualification import record_answers
from leadflow.services.uow import UnitOfWork

BTD = bundled_playbook("btd")
SETTINGS = CaptureSettings()
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = START + timedelta(days=3)


def _sender(engine: Engine) -> Any:
    clock = count()

    def send(source: str = "web", **fields: object) -> Captured:
        at = START + timedelta(hours=next(clock))
        cmd = CaptureInquiry(fields, json.dumps(fields), source, "api", at)
        with UnitOfWork(engine) as uow:
            return capture(uow, BTD, cmd, SETTINGS)

    return send


ANN = {"first_name": "Ann", "last_name": "Lee", "company": "Acme"}


def _merged_twice_then_more(engine: Engine) -> tuple[Captured, ...]:
    """Ann at work (a); a private Ann Lee of Acme with a phone, joined by name (b); then one
    inquiry by a's email (c) and one by b's phone alone (d)."""
    send = _sender(engine)
    a = send(email="ann@acme.com", budget="approved", **ANN)
    b = send(email="ann.lee@gmail.com", phone="+1 415 555 0199", source="expo", **ANN)
    c = send(email="ann@acme.com", first_name="Ann", last_name="Lee")
    d = send(phone="(415) 555-0199", decision_role="decision_maker")
    assert (b.merged, c.merged, d.merged) == ("fuzzy_name", "email", "phone")
    assert a.person_id == b.person_id == c.person_id == d.person_id
    return a, b, c, d


def _unmerge_inquiry(engine: Engine, inquiry_id: int | None, at: datetime = LATER) -> Unmerged:
    with UnitOfWork(engine) as uow:
        (merge,) = [m for m in uow.store.merges() if m.inquiry_id == inquiry_id]
        done = unmerge(uow.store, BTD, merge.id, SETTINGS, at)
        uow.commit()
    return done


def test_later_inquiries_follow_the_identifiers_they_were_joined_by(engine: Engine) -> None:
    """An inquiry joined by the split inquiry's phone goes with it; one joined by the kept
    person's email stays; the phone is the split person's identifier from then on."""
    a, b, c, d = _merged_twice_then_more(engine)
    done = _unmerge_inquiry(engine, b.inquiry_id)
    kept, split = done.kept_person_id, done.new_person_id
    with UnitOfWork(engine) as uow:
        store = uow.store
        assert [r.id for r in store.inquiries_of(kept)] == [a.inquiry_id, c.inquiry_id]
        assert [r.id for r in store.inquiries_of(split)] == [b.inquiry_id, d.inquiry_id]
        assert store.person_by_key("phone", "+14155550199") == split
        assert store.person_by_key("email", "ann.lee@gmail.com") == split
        assert store.person_by_key("email", "ann@acme.com") == kept
        person = store.person(split)
        assert person is not None and person.inquiry_count == 2
        assert person.facts == {"decision_role": "decision_maker"}
        (moved,) = [m for m in store.merges() if m.inquiry_id == d.inquiry_id]
        assert (moved.person_id, moved.rule, moved.undone_at) == (split, "phone", None)
    # the moved inquiry's merge is the split person's now, and can be undone in turn
    again = _unmerge_inquiry(engine, d.inquiry_id, LATER + timedelta(hours=1))
    assert again.kept_person_id == split
    with UnitOfWork(engine) as uow:
        assert [r.id for r in uow.store.inquiries_of(split)] == [b.inquiry_id]
        assert [r.id for r in uow.store.inquiries_of(again.new_person_id)] == [d.inquiry_id]
        assert uow.store.person_by_key("phone", "+14155550199") == split  # b gave it first


def test_unmerge_keeps_the_answers_recorded_for_the_person(engine: Engine) -> None:
    a, b, *_ = _merged_twice_then_more(engine)
    with UnitOfWork(engine) as uow:
        record_answers(
            uow, BTD, a.person_id or 0, {"budget": "none"}, "rep", "call", SETTINGS, LATER
        )
    done = _unmerge_inquiry(engine, b.inquiry_id, LATER + timedelta(hours=1))
    with UnitOfWork(engine) as uow:
        kept = uow.store.person(done.kept_person_id)
        assert kept is not None
        # the call came after every inquiry: its answer is the latest
        assert kept.facts == {"budget": "none"}


def test_unmerge_leaves_the_reports_rows_as_a_rebuild_from_the_log(engine: Engine) -> None:
    """Both people's funnel rows count their own inquiries and first touch, and equal what
    the log alone rebuilds."""
    _, b, *_ = _merged_twice_then_more(engine)
    done = _unmerge_inquiry(engine, b.inquiry_id)
    with UnitOfWork(engine) as uow:
        rows = FunnelStore(uow.store.connection).rows([done.kept_person_id, done.new_person_id])
        counts = _counts(uow.store.connection)
    kept, split = rows[done.kept_person_id], rows[done.new_person_id]
    assert (kept.source, kept.inquiries, kept.first_at) == ("web", 2, START)
    assert (split.source, split.inquiries, split.first_at) == (
        "expo",
        2,
        START + timedelta(hours=1),
    )
    with UnitOfWork(engine) as uow:
        funnel = FunnelStore(uow.store.connection)
        funnel.rebuild()
        assert funnel.rows([done.kept_person_id, done.new_person_id]) == rows
        assert _counts(uow.store.connection) == counts


def _counts(connection: Any) -> list[tuple[Any, ...]]:
    """The reports' sums, without the rows that came to add up to nothing."""
    rows = connection.execute(select(t.funnel_counts)).all()
    return sorted(tuple(r) for r in rows if any(v for v in tuple(r)[3:]))


def test_an_unmerge_logs_an_event_for_both_people(engine: Engine) -> None:
    _, b, *_ = _merged_twice_then_more(engine)
    done = _unmerge_inquiry(engine, b.inquiry_id)
    with UnitOfWork(engine) as uow:
        for person_id in (done.kept_person_id, done.new_person_id):
            kinds = [e.type for e in uow.store.events_of(person_id)]
            assert "person.unmerged" in kinds


def test_an_unmerge_tells_webhooks_of_the_new_person_before_its_rating(engine: Engine) -> None:
    """A receiver (a CRM) knows people by ``lead.captured``: the person split off is new to
    it, so it hears of it, with the inquiry and where the person came from, then its
    rating; the kept person is rated again."""
    from leadflow.services import webhooks

    _, b, *_ = _merged_twice_then_more(engine)
    with UnitOfWork(engine) as uow:
        webhooks.add_webhook(uow, "https://example.com/h", "lead.captured,lead.rated", START)
    done = _unmerge_inquiry(engine, b.inquiry_id)
    with engine.connect() as connection:
        rows = connection.execute(select(t.deliveries).order_by(t.deliveries.c.id)).all()
    bodies = [json.loads(row.body) for row in rows]
    assert [(b["event"], b["data"]["person_id"]) for b in bodies] == [
        ("lead.captured", done.new_person_id),
        ("lead.rated", done.kept_person_id),
        ("lead.rated", done.new_person_id),
    ]
    captured = bodies[0]["data"]
    assert captured["inquiry_id"] == b.inquiry_id
    assert (captured["source"], captured["channel"]) == ("expo", "api")
    assert (captured["unmerged_from"], captured["merge_id"]) == (
        done.kept_person_id,
        done.merge_id,
    )
    assert bodies[0]["occurred_at"] == LATER.isoformat()
