"""Benchmark the reports: each ``leadflow report`` on 1,000,000 leads and 10,000,000 events.

Usage (from the repository root, after ``make install``)::

    .venv/bin/python benchmarks/bench_reports.py --leads 1000000 --repeat 5

1. Generate (once per lead count and seed, cached in ``benchmarks/out``): a year of
   leads with Polars, each with a timeline drawn at random: first inquiry, repeat
   inquiries, rating, stage changes (inquiry -> prospect, or inquiry -> marketing
   qualified -> routed -> accepted / rejected -> contacted -> qualified -> opportunity
   -> won / lost), hand-backs and outcomes. The same timeline gives the event log
   (about 10 events a lead, JSON as leadflow writes it) and the ``funnel`` and
   ``handbacks`` rows it folds to, plus ``people``, ``inquiries`` and ``lead_state``.
   Everything is bulk-loaded into a migrated SQLite database: nothing is captured one
   by one.
2. Time each report in-process (``leadflow.analytics.reports``), as ``leadflow report``
   runs it: a fresh connection each run, one untimed warm-up, then ``--repeat`` runs;
   the median and the slowest are reported against the target of 2 s. Also with
   ``--by source`` and with ``--since`` (the last quarter), and ``rank --last 100``;
   then a few as whole ``leadflow`` commands (start-up and JSON output included), and
   ``leadflow --help`` for the start-up alone.

A database generated before is migrated to the current schema first, unless ``--as-is``:
that times another version of leadflow on the same file, as in::

    git archive main src | tar -x -C /tmp/base && ln -s "$PWD/.venv" /tmp/base/.venv
    PYTHONPATH=/tmp/base/src .venv/bin/python benchmarks/bench_reports.py --as-is

Results are printed as Markdown with the machine and written to ``OUT/reports.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Connection

import leadflow
from leadflow.adapters.playbook_file import load_playbook
from leadflow.adapters.store.engine import make_engine, upgrade
from leadflow.adapters.store.report_store import Period
from leadflow.analytics.reports import Reports, rank
from report_data import generate

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0
JSON = ("--format", "json")
COMMANDS = (
    ("--help",),
    ("report", "funnel", "--by", "source", *JSON),
    ("report", "sources", "--by", "campaign", *JSON),
    ("report", "velocity", *JSON),
    ("report", "velocity", "--by", "source", *JSON),
    ("report", "velocity", "--by", "campaign", *JSON),
    ("report", "recycle", *JSON),
    ("report", "gaps", "--by", "form", *JSON),
    ("rank", "--last", "100", *JSON),
)
"""Timed as whole commands too: start-up, imports and output included."""


def load(path: Path, tables: dict[str, pl.DataFrame]) -> None:
    """Bulk-load the generated tables into a migrated SQLite database at ``path``."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-524288")
    for name, frame in tables.items():
        started = time.perf_counter()
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {name} ({', '.join(frame.columns)}) VALUES ({marks})"
        for part in frame.iter_slices(200_000):
            con.executemany(sql, part.iter_rows())
        con.commit()
        print(f"  {name}: {frame.height:,} rows in {time.perf_counter() - started:.1f} s")
    con.execute("ANALYZE")
    con.commit()
    con.close()


Sample = tuple[float, float]
"""One run: wall-clock seconds and CPU seconds. The machine is shared: CPU time moves
far less with the load than the wall clock does, so both are shown."""


def timed(
    connect: Callable[[], Connection], work: Callable[[Connection], object], repeat: int
) -> list[Sample]:
    samples = []
    for n in range(repeat + 1):
        with connect() as connection:
            started, cpu = time.perf_counter(), time.process_time()
            work(connection)
            took = (time.perf_counter() - started, time.process_time() - cpu)
        if n:  # the first run warms the page cache
            samples.append(took)
    return samples


def run_command(argv: tuple[str, ...], env: dict[str, str]) -> Sample:
    """A whole ``leadflow`` command: its wall-clock time and its process's CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/leadflow"), *argv], env=env, check=True, stdout=subprocess.DEVNULL
    )
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def row(name: str, samples: list[Sample]) -> str:
    """A table row: median and slowest wall clock, median CPU, the target met or not."""
    walls = [wall for wall, _ in samples]
    worst = max(walls)
    status = "met" if worst < TARGET_S else "**not met**"
    cpu = statistics.median(c for _, c in samples)
    return f"| `{name}` | {statistics.median(walls):.2f} | {worst:.2f} | {cpu:.2f} | {status} |"


HEADER = "| Median s | Slowest s | CPU s (median) | Target |\n|---|---:|---:|---:|---|"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="Do not migrate a database generated before (to time another leadflow on it).",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"reports-{args.leads}-{args.seed}.db"
    if not path.exists():
        started = time.perf_counter()
        tables = generate(args.leads, args.seed)
        print(f"generated in {time.perf_counter() - started:.1f} s; loading {path}")
        load(path.with_suffix(".part"), tables)
        path.with_suffix(".part").rename(path)
    elif not args.as_is:
        upgrade(make_engine(f"sqlite:///{path}"))
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        leads = c.exec_driver_sql("SELECT count(*) FROM funnel").scalar()
        events = c.exec_driver_sql("SELECT max(id) FROM events").scalar()
    pb = load_playbook(ROOT / "src/leadflow/playbooks/btd.yaml")
    quarter = Period(since=(date(2026, 9, 1) - date(1970, 1, 1)).days)
    cases: list[tuple[str, Callable[[Connection], object]]] = [
        ("funnel", lambda c: Reports(c, Period(), None).funnel()),
        ("funnel --by source", lambda c: Reports(c, Period(), "source").funnel()),
        ("funnel --by month", lambda c: Reports(c, Period(), "month").funnel()),
        ("funnel --since 2026-09-01", lambda c: Reports(c, quarter, None).funnel()),
        ("sources", lambda c: Reports(c, Period(), "source").sources()),
        ("sources --by campaign", lambda c: Reports(c, Period(), "campaign").sources()),
        ("velocity", lambda c: Reports(c, Period(), None).velocity()),
        ("velocity --by source", lambda c: Reports(c, Period(), "source").velocity()),
        ("velocity --by campaign", lambda c: Reports(c, Period(), "campaign").velocity()),
        ("velocity --since 2026-09-01", lambda c: Reports(c, quarter, None).velocity()),
        ("recycle", lambda c: Reports(c, Period(), None).recycle()),
        ("gaps --by source", lambda c: Reports(c, Period(), "source").gaps(pb)),
        ("gaps --by form", lambda c: Reports(c, Period(), "form").gaps(pb)),
        ("rank --last 100", lambda c: rank(c, 100)),
    ]
    load_avg = os.getloadavg()
    lines = [
        f"leadflow from {Path(leadflow.__file__).parent}",
        f"{leads:,} leads, {events:,} events; SQLite {sqlite3.sqlite_version}; "
        f"{os.cpu_count()} cores; load average {load_avg[0]:.2f} at the start",
        "",
        f"| Report {HEADER}",
    ]
    for name, work in cases:
        lines.append(row(name, timed(engine.connect, work, args.repeat)))
        print(lines[-1], flush=True)
    lines += ["", f"| Whole command {HEADER}"]
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{path}"}
    for argv in COMMANDS:
        samples = [run_command(argv, env) for _ in range(args.repeat + 1)][1:]
        lines.append(row("leadflow " + " ".join(a for a in argv if a not in JSON), samples))
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"load average {os.getloadavg()[0]:.2f} at the end; {platform.platform()}")
    text = "\n".join(lines)
    print(text)
    (args.out / "reports.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
