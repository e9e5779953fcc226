"""The velocity report against its definition, on SQLite and PostgreSQL: for every group
and period, each measure's count, median and p90 are those of the sorted durations,
computed here from the rows as written, whether the report reads them at their ranks
along the ordered indexes (all leads, per source) or has the database join them per
group (other groups).

The durations are few distinct values, so ties, zeros below the positive values, even
and odd counts and groups of one are all there; sources and campaigns include both none
and "", which the report shows as one group, "(none)".
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_counts import contributions, times
from leadflow.adapters.store.funnel_store import FunnelStore
from leadflow.adapters.store.report_store import Period
from leadflow.analytics.reports import MEASURE_NAMES, Reports, p90_rank, percentiles

DAY = 86_400
FIRST_DAY = 20_700  # 2026-09-05
STAGES = ("inquiry", "marketing_qualified", "sales_accepted", "opportunity", "won")
SPANS = [0, 0, 1, 5, 5, 60, 3600, 3600, 86_400, 7 * DAY]
PERIODS = [
    Period(),
    Period(since=FIRST_DAY + 3),
    Period(since=FIRST_DAY + 2, until=FIRST_DAY + 6),
    Period(until=FIRST_DAY + 1),
    Period(since=FIRST_DAY + 40),  # nobody
]


def lead(rng: random.Random, person: int) -> dict[str, Any]:
    """A funnel row with random groups and durations (None: not known)."""
    first = (FIRST_DAY + rng.randrange(8)) * DAY + rng.randrange(DAY)

    def span() -> int | None:
        return rng.choice([None, *SPANS, rng.randrange(1, 10 * DAY)])

    row: dict[str, Any] = {c.name: None for c in t.funnel.columns}
    row.update(
        person_id=person,
        first_at=first,
        month=datetime.fromtimestamp(first, UTC).strftime("%Y-%m"),
        source=rng.choice(["web", "web", "expo", "ads", None, ""]),
        campaign=rng.choice(["spring", "fall", None, ""]),
        rep_id=rng.choice([1, 2, None]),
        grade=rng.choice("ABCD"),
        inquiries=1,
        handbacks=0,
    )
    for stage in STAGES:
        row[f"seconds_{stage}"] = span()
    to_ready, to_contact, to_accept = span(), span(), span()
    row["ready_at"] = None if to_ready is None else first + to_ready
    if row["ready_at"] is not None and to_contact is not None:
        row["contacted_at"] = row["ready_at"] + to_contact
    if to_accept is not None:
        row["routed_at"] = first + 10
        row["accepted_at"] = first + 10 + to_accept
    return row


def spans(row: dict[str, Any]) -> dict[str, int]:
    """The row's known durations by measure, as docs/reports.md defines them."""
    found = {f"in_{s}": row[f"seconds_{s}"] for s in STAGES if row[f"seconds_{s}"] is not None}
    if row["ready_at"] is not None:
        found["to_sales_ready"] = row["ready_at"] - row["first_at"]
        if row["contacted_at"] is not None:
            found["speed_to_lead"] = row["contacted_at"] - row["ready_at"]
    if row["accepted_at"] is not None:
        found["time_to_accept"] = row["accepted_at"] - row["routed_at"]
    return found


def group(row: dict[str, Any], by: str | None) -> str:
    if by is None:
        return "all"
    value = row[{"form": "form_key", "rep": "rep_id"}.get(by, by)]
    if value is None or value == "":
        return "(none)"
    return f"rep {value}" if by == "rep" else str(value)


def expected(rows: list[dict[str, Any]], by: str | None, period: Period) -> dict[Any, Any]:
    """(group, measure) -> (leads, median, p90): sorted lists, the middle, ceil(0.9 n)."""
    lists: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        day = row["first_at"] // DAY
        if (period.since is not None and day < period.since) or (
            period.until is not None and day >= period.until
        ):
            continue
        for measure, value in spans(row).items():
            lists.setdefault((group(row, by), MEASURE_NAMES[measure]), []).append(value)
    found = {}
    for key, values in lists.items():
        values.sort()
        n = len(values)
        median = (values[(n - 1) // 2] + values[n // 2]) / 2
        found[key] = (n, median, float(values[math.ceil(0.9 * n) - 1]))
    return found


def write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Each row's ``funnel_times`` row and its sums, as a capture writes them."""
    now = datetime(2026, 9, 1, tzinfo=UTC)
    with engine.begin() as connection:
        people = [
            {"id": r["person_id"], "created_at": now, "updated_at": now, "facts": {}} for r in rows
        ]
        connection.execute(insert(t.people), people)
        timed = [x for x in map(times, rows) if x is not None]
        connection.execute(insert(t.funnel_times), timed)
        FunnelStore(connection).add_counts(*contributions((None, r) for r in rows))


@pytest.fixture
def history(engine: Engine) -> list[dict[str, Any]]:
    rng = random.Random(11)
    rows = [lead(rng, person) for person in range(1, 401)]
    write(engine, rows)
    return rows


@pytest.mark.parametrize("by", [None, "source", "campaign", "rep", "grade", "month"])
def test_each_group_and_period_has_the_sorted_durations_middle_and_p90(
    engine: Engine, history: list[dict[str, Any]], by: str | None
) -> None:
    for period in PERIODS:
        with engine.connect() as connection:
            rows = Reports(connection, period, by).velocity().rows
        got = {
            (r[by or "all"], r["measure"]): (r["leads"], r["median_seconds"], r["p90_seconds"])
            for r in rows
        }
        assert got == expected(history, by, period), (by, period)
        assert len(got) == len(rows)  # one row per group and measure


def test_rows_come_by_group_then_in_the_measures_order(
    engine: Engine, history: list[dict[str, Any]]
) -> None:
    with engine.connect() as connection:
        rows = Reports(connection, Period(), "source").velocity().rows
    order = list(MEASURE_NAMES.values())
    keys = [(r["source"], order.index(r["measure"])) for r in rows]
    assert keys == sorted(keys)
    assert {r["source"] for r in rows} == {"(none)", "ads", "expo", "web"}


def statements(engine: Engine, by: str | None) -> list[tuple[str, Any]]:
    """The statements on funnel_times the velocity report runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if "funnel_times" in sql:
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        with engine.connect() as connection:
            Reports(connection, Period(since=FIRST_DAY + 1), by).velocity()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


@pytest.mark.parametrize("by", [None, "source"])
def test_on_sqlite_the_ranks_are_read_along_the_ordered_indexes(
    engine: Engine, history: list[dict[str, Any]], by: str | None
) -> None:
    """All leads and per source: every statement on funnel_times walks one of its
    partial indexes (covering: no row is read) without sorting."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    ran = statements(engine, by)
    assert ran
    with engine.connect() as connection:
        for sql, params in ran:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            detail = json.dumps([row[-1] for row in plan])
            assert "USING COVERING INDEX ix_funnel_times_" in detail, (sql, detail)
            assert "TEMP B-TREE" not in detail, (sql, detail)  # no sort


def test_only_the_ranks_needed_are_read() -> None:
    asked: list[list[int]] = []

    def read(ranks: list[int]) -> list[int]:
        asked.append(ranks)
        return [100 + r for r in ranks]

    # 3 zeros below 7 positives: n 10, median ranks 4 and 5, p90 rank 8 (all positive)
    assert percentiles(3, 7, read) == {"leads": 10, "median_seconds": 101.5, "p90_seconds": 105.0}
    assert asked == [[1, 2, 5]]
    asked.clear()
    # 9 zeros below 1 positive: the median is 0, the p90 (rank 8) is still a zero
    assert percentiles(9, 1, read) == {"leads": 10, "median_seconds": 0.0, "p90_seconds": 0.0}
    assert asked == []
    assert [p90_rank(n) for n in (1, 2, 9, 10, 11, 20)] == [0, 1, 8, 8, 9, 17]
