"""What the velocity indexes (migration 0014) cost the writes of ``funnel_times``.

Usage (after ``bench_reports.py`` made its database)::

    .venv/bin/python benchmarks/bench_velocity_writes.py --rounds 3

Two copies of ``funnel_times`` as the 1,000,000-lead benchmark leaves it (150,461 rows),
one with the 26 partial indexes of 0014 and one without, each in a SQLite file made by
leadflow's schema. Then, alternating between them, ``--rounds`` times:

1. **one lead at a time**, as a capture or a disposition writes it: ``FunnelStore``'s
   upsert of one lead's row (a duration changed), one statement per lead, ``--leads``
   leads in one transaction (its commit, the same for both, is not timed);
2. **a chunk of an import**: ``BulkStore.insert`` of ``--leads`` new rows, as the bulk
   fold writes them.

Printed: microseconds per row, the median of the rounds.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.bulk import BulkStore
from leadflow.adapters.store.engine import make_engine
from leadflow.adapters.store.funnel_store import _UPSERT_TIMES

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [c.name for c in t.funnel_times.columns]


def copy(source: Path, target: Path, indexed: bool) -> None:
    """leadflow's schema at ``target``, its funnel_times rows (and their people) from
    ``source``, the velocity indexes dropped unless ``indexed``."""
    engine = make_engine(f"sqlite:///{target}")
    t.metadata.create_all(engine)
    engine.dispose()
    con = sqlite3.connect(target)
    con.execute("ATTACH ? AS source", (str(source),))
    con.execute(
        "INSERT INTO people (id, created_at, updated_at, facts, inquiry_count) "
        "SELECT person_id, '2026-01-01', '2026-01-01', '{}', 0 FROM source.funnel_times"
    )
    con.execute(f"INSERT INTO funnel_times SELECT {', '.join(COLUMNS)} FROM source.funnel_times")
    if not indexed:
        for index in t.funnel_times.indexes:
            con.execute(f"DROP INDEX {index.name}")
    con.commit()
    con.close()


def one_at_a_time(path: Path, rows: list[dict[str, Any]]) -> float:
    """Seconds per lead: the upsert of one changed row per statement, in one transaction."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        started = time.perf_counter()
        for row in rows:
            connection.execute(_UPSERT_TIMES["sqlite"], [row])
        took = time.perf_counter() - started
        connection.rollback()
    engine.dispose()
    return took / len(rows)


def in_bulk(path: Path, frame: pl.DataFrame) -> float:
    """Seconds per row: new rows inserted as an import's chunk (their people first)."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        people = frame.select(
            id="person_id",
            created_at=pl.lit("2026-01-01"),
            updated_at=pl.lit("2026-01-01"),
            facts=pl.lit("{}"),
            inquiry_count=pl.lit(0),
        )
        BulkStore(connection).insert(t.people, people)
        started = time.perf_counter()
        BulkStore(connection).insert(t.funnel_times, frame)
        took = time.perf_counter() - started
        connection.rollback()
    engine.dispose()
    return took / frame.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", type=Path, default=ROOT / "benchmarks" / "out" / "reports-1000000-7.db"
    )
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: Path(folder) / f"{name}.db" for name in ("with", "without")}
        for name, path in paths.items():
            copy(args.db, path, indexed=name == "with")
        con = sqlite3.connect(paths["with"])
        stored = con.execute(f"SELECT {', '.join(COLUMNS)} FROM funnel_times").fetchall()
        con.close()
        changed = [dict(zip(COLUMNS, row, strict=True)) for row in rng.sample(stored, args.leads)]
        for row in changed:  # a later contact: speed to lead one minute longer
            row["speed_to_lead"] = (row["speed_to_lead"] or 0) + 60
        top = max(r[0] for r in stored)
        new = pl.DataFrame(
            [(top + i + 1, *row[1:]) for i, row in enumerate(rng.sample(stored, args.leads))],
            schema=COLUMNS,
            orient="row",
        )
        spent: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name, path in paths.items():
                spent.setdefault(("one at a time", name), []).append(one_at_a_time(path, changed))
                spent.setdefault(("in bulk", name), []).append(in_bulk(path, new))
        print(f"{len(stored):,} rows; {args.leads:,} leads a round, {args.rounds} rounds")
        print("| Write | With 0014's indexes µs/row | Without µs/row |")
        print("|---|---:|---:|")
        for kind in ("one at a time", "in bulk"):
            cells = [statistics.median(spent[(kind, n)]) * 1e6 for n in ("with", "without")]
            print(f"| {kind} | {cells[0]:.0f} | {cells[1]:.0f} |")


if __name__ == "__main__":
    main()
