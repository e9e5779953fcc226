"""The reports' rows as stored, for tests that hold them to a rebuild from the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine


def report_rows(engine: Engine) -> tuple[list[Any], ...]:
    """The funnel, times, sums, gap sums and hand-back rows, in a stable order (sums left
    at zero by a lead that moved group are not compared: a rebuild never makes them)."""
    with engine.connect() as c:

        def all_of(sql: str) -> list[Any]:
            return [tuple(r) for r in c.exec_driver_sql(sql)]

        return (
            all_of("SELECT * FROM funnel ORDER BY person_id"),
            all_of("SELECT * FROM funnel_times ORDER BY person_id"),
            all_of("SELECT * FROM funnel_counts WHERE leads <> 0 ORDER BY dim, key, day"),
            all_of(
                "SELECT * FROM gap_counts WHERE unanswered <> 0 OR missing <> 0"
                " ORDER BY dim, key, day, field"
            ),
            all_of("SELECT person_id, at, kind, reason FROM handbacks ORDER BY id"),
        )
