"""An import's new people folded column by column give the rows the one-by-one fold gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import Engine, func, select
from sqlalchemy import event as events

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_store import FunnelStore, to_row
from leadflow.services.bulk_fold import fold_new

T0 = datetime(2026, 11, 23, 9, 0, 0, 250_000, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def event(at: datetime, kind: str, person: int, **data: object) -> tuple[str, str, int, str]:
    return (stamp(at), kind, person, json.dumps(data))


def test_the_column_fold_is_the_event_fold(engine: Engine) -> None:
    later = T0 + timedelta(minutes=5, seconds=3)
    stage = "stage.changed"
    rows = [
        # 1: an A lead: inquiry -> marketing qualified -> routed to rep 7
        event(T0, "inquiry.captured", 1, source="expo", campaign="spring", form_key=None),
        event(T0, "lead.rated", 1, grade="A", route="sales", missing=[], unanswered=["x"]),
        event(T0, stage, 1, to="inquiry", type="inquiry"),
        event(T0, stage, 1, to="marketing_qualified", type="marketing-qualified"),
        event(later, "lead.routed", 1, rep_id=7, sales_ready_at=T0.isoformat()),
        # 2: two inquiries in the chunk, nurtured, gaps
        event(T0, "inquiry.captured", 2, source="expo", campaign=None, form_key="demo"),
        event(T0, "inquiry.captured", 2, source="web", campaign="fall", form_key=None),
        event(
            T0,
            "lead.rated",
            2,
            grade="C",
            route="nurture",
            missing=["b", "a"],
            unanswered=["b", "a", "c"],
        ),
        event(T0, stage, 2, to="inquiry", type="inquiry"),
        event(later, stage, 2, to="prospect", type="nurture"),
        # 3: routed with no stage change and no rating
        event(later, "inquiry.captured", 3, source="list", campaign=None, form_key=None),
        event(later, "lead.routed", 3, rep_id=2, sales_ready_at=None),
    ]
    frame = pl.DataFrame(rows, schema=["at", "type", "person_id", "data"], orient="row")
    got = fold_new(frame, lambda s: datetime.fromisoformat(s).replace(tzinfo=UTC))
    with engine.connect() as connection:
        logged = [
            (p, kind, datetime.fromisoformat(at).replace(tzinfo=UTC), json.loads(data))
            for at, kind, p, data in rows
        ]
        folded = FunnelStore(connection).folded(logged)
    assert folded is not None
    want = {p: to_row(p, state) for p, state in folded[1].items()}
    for row in got.iter_rows(named=True):
        expected = want[row["person_id"]]
        differ = {k: (v, expected[k]) for k, v in row.items() if v != expected[k]}
        assert not differ, (row["person_id"], differ)
        unset = {k for k, v in expected.items() if v is not None and k not in row}
        assert not unset, (row["person_id"], unset)
    assert want[1]["seconds_marketing_qualified"] is None  # still there
    assert want[2]["seconds_inquiry"] == 303 and want[1]["ready_at"] == int(T0.timestamp())


def test_a_row_that_does_not_change_is_not_written_again(engine: Engine) -> None:
    """A repeat inquiry changes the lead's funnel row (one more inquiry) but none of its
    durations: its funnel_times row, and that row's index entries, stay as they are."""
    later = T0 + timedelta(hours=2)
    first = [
        (1, "inquiry.captured", T0, {"source": "expo", "campaign": None, "form_key": None}),
        (1, "stage.changed", T0, {"to": "inquiry", "type": "inquiry"}),
        (1, "stage.changed", later, {"to": "marketing_qualified", "type": "marketing-qualified"}),
    ]
    repeat = [(1, "inquiry.captured", later, {"source": "web", "campaign": None, "form_key": None})]
    seen: list[str] = []
    with engine.connect() as connection:
        person = {"created_at": T0, "updated_at": T0, "facts": {}, "inquiry_count": 1}
        connection.execute(t.people.insert(), {"id": 1, **person})
        store = FunnelStore(connection)
        store.fold(first)
        timed = connection.execute(select(t.funnel_times.c.to_sales_ready)).scalar_one()
        events.listen(connection, "before_cursor_execute", lambda *a: seen.append(str(a[2])))
        store.fold(repeat)
        store.fold([(1, "lead.rated", later, {"grade": "B", "route": "nurture"})])
        store.fold([(1, "lead.rated", later, {"grade": "B", "route": "nurture"})])  # again
        inquiries = connection.execute(select(t.funnel.c.inquiries)).scalar_one()
        count = connection.execute(select(func.count()).select_from(t.funnel_times)).scalar()
        connection.rollback()
    assert timed == 7_200 and count == 1 and inquiries == 2
    writes = [s.split("(")[0].strip() for s in seen if not s.startswith("SELECT")]
    assert writes == [
        "INSERT INTO funnel",  # the repeat: one more inquiry
        "INSERT INTO funnel_counts",
        "INSERT INTO funnel",  # the rating: a new grade, one of the times row's groups
        "INSERT INTO funnel_times",
        "INSERT INTO funnel_counts",
    ]  # and the same rating again: nothing
