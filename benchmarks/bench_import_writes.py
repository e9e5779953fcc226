"""Where an import's writes go, table by table, and how fast rows can be written at best.

Runs ``leadflow import FILE --source bench`` in this process on a fresh SQLite database
(the btd playbook; or the database ``--database-url`` names, which must be initialised and
empty), with every ``BulkStore.insert`` timed by table, and prints the rows,
the seconds and the microseconds a row of each. Then, unless ``--no-floor``, writes
``--floor-rows`` rows of the events' five columns into a bare table by ``executemany``
from Polars' ``iter_rows``, without and with an index on ``person_id`` (WAL,
``synchronous=NORMAL``, a 256 MiB cache): the fastest Python's ``sqlite3`` writes such
rows, a floor for the import's twelve-odd rows an inquiry.

    .venv/bin/python benchmarks/bench_import_writes.py benchmarks/out/import-1000000.csv

(the file is made by ``bench_import.py``). On PostgreSQL, into a database made for it:

    createdb -O leadflow leadflow_bench
    LEADFLOW_DATABASE_URL=$URL .venv/bin/leadflow init
    .venv/bin/python benchmarks/bench_import_writes.py FILE --no-floor --database-url "$URL"
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="CSV to import (bench_import.py makes one)")
    parser.add_argument("--playbook", type=Path, default=ROOT / "examples/playbooks/btd.yaml")
    parser.add_argument("--floor-rows", type=int, default=1_000_000)
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument(
        "--database-url",
        help="import into this (empty, initialised) database instead of a new SQLite file,"
        " e.g. a PostgreSQL database made for it; the floor stays on SQLite",
    )
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"{args.file} is missing: run benchmarks/bench_import.py first")
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks/out") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'import.db'}"
        spent = import_timed(args.file, args.playbook, url)
        print_writes(spent)
        if not args.no_floor:
            floor(args.floor_rows, Path(folder) / "floor.db")


def import_timed(file: Path, playbook: Path, url: str) -> dict[str, list[float]]:
    """Import ``file`` into the database at ``url``; per table: [seconds, rows] of its
    inserts."""
    os.environ["LEADFLOW_DATABASE_URL"] = url
    os.environ["LEADFLOW_PLAYBOOK"] = str(playbook)
    from typer.testing import CliRunner

    from leadflow.adapters.store.bulk import BulkStore
    from leadflow.cli.main import app

    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    insert = BulkStore.insert

    def timed(self: BulkStore, table: object, frame: object, **options: object) -> None:
        started = time.perf_counter()
        insert(self, table, frame, **options)  # type: ignore[arg-type]
        took = spent[table.name]  # type: ignore[attr-defined]
        took[0] += time.perf_counter() - started
        took[1] += frame.height  # type: ignore[attr-defined]

    BulkStore.insert = timed  # type: ignore[method-assign]
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["import", str(file), "--source", "bench"])
    if result.exit_code != 0:
        sys.exit(f"the import failed:\n{result.output}")
    print(f"import of {file.name}: {time.perf_counter() - started:.1f} s in all")
    return spent


def print_writes(spent: dict[str, list[float]]) -> None:
    print("| table | rows | s | µs a row |\n|---|---:|---:|---:|")
    for name, (seconds, rows) in sorted(spent.items(), key=lambda kv: -kv[1][0]):
        if rows:
            print(f"| {name} | {rows:,} | {seconds:.2f} | {seconds / rows * 1e6:.1f} |")
    seconds = sum(s for s, _ in spent.values())
    rows = sum(int(r) for _, r in spent.values())
    print(f"| all | {rows:,} | {seconds:.1f} | {seconds / max(rows, 1) * 1e6:.1f} |")


def floor(rows: int, database: Path) -> None:
    import polars as pl

    frame = pl.DataFrame(
        {
            "at": ["2026-11-24 09:00:00.000000"] * rows,
            "type": ["inquiry.captured"] * rows,
            "person_id": range(rows),
            "inquiry_id": range(rows),
            "data": ['{"source":"bench","channel":"import","campaign":null,"form_key":null}']
            * rows,
        }
    )
    started = time.perf_counter()
    for _ in frame.iter_rows():
        pass
    print(
        f"\n{rows:,} rows of five columns: the tuples alone {time.perf_counter() - started:.2f} s"
    )
    for indexed in (False, True):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        connection = sqlite3.connect(database)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "cache_size = -262144"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, type TEXT,"
            " person_id INTEGER, inquiry_id INTEGER, data TEXT)"
        )
        if indexed:
            connection.execute("CREATE INDEX ix_events_person_id ON events (person_id)")
        started = time.perf_counter()
        connection.executemany(
            "INSERT INTO events (at, type, person_id, inquiry_id, data) VALUES (?, ?, ?, ?, ?)",
            frame.iter_rows(),
        )
        connection.commit()
        took = time.perf_counter() - started
        connection.close()
        print(
            f"a bare table {'with' if indexed else 'without'} an index: {took:.2f} s, "
            f"{took / rows * 1e6:.2f} µs a row"
        )


if __name__ == "__main__":
    main()
