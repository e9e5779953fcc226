"""An import's new people folded column by column give the rows the one-by-one fold gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy import event as events

from leadflow.adapters.store import funnel_store
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


def test_a_few_rows_added_measure_by_measure_sum_as_every_measure_does(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A capture's few rows of sums go through statements of their own measures; many rows
    through one of every measure: the same table either way, new rows and added ones."""
    day = int(T0.timestamp()) // 86_400
    first = {
        ("all", "all", day): {"leads": 1, "inquiries": 1, "reached_inquiry": 1},
        ("source", "expo", day): {"leads": 1, "inquiries": 1, "reached_inquiry": 1},
        ("campaign", "", day): {"leads": 1, "inquiries": 2, "revenue": 1250.5},
        ("grade", "A", day): {"leads": 0},  # nothing to add: no row
    }
    second = {
        ("all", "all", day): {"inquiries": 1, "won": 1, "revenue": 10.0},
        ("source", "web", day + 1): {"leads": 1, "zero_speed_to_lead": 1},
    }
    gaps = {("source", "expo", day, "budget"): (1, 0)}
    tables = []
    for some in (64, 0):  # measure by measure; then every measure
        monkeypatch.setattr(funnel_store, "SOME", some)
        with engine.connect() as connection:
            store = FunnelStore(connection)
            store.add_counts(first, gaps)
            store.add_counts(second, gaps)
            query = select(t.funnel_counts).order_by(*t.funnel_counts.primary_key.columns)
            tables.append([tuple(r) for r in connection.execute(query)])
            gap = connection.execute(select(t.gap_counts.c.unanswered)).scalar_one()
            connection.rollback()
        assert gap == 2
    assert tables[0] == tables[1]
    assert len(tables[0]) == 4  # the grade's row was never made
    everything = {row[:3]: row for row in tables[0]}
    columns = [c.name for c in t.funnel_counts.columns]
    both = dict(zip(columns, everything[("all", "all", day)], strict=True))
    assert (both["leads"], both["inquiries"], both["won"], both["revenue"]) == (1, 2, 1, 10.0)
