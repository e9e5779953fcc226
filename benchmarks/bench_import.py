"""``leadflow import`` of a million inquiries beside ``sqlite3 .import`` of the same CSV.

The issue's measure: importing 1,000,000 inquiries (about 20 % repeats of
every kind: email, phone, CRM id, name and company; shared role addresses)
into a fresh SQLite, with everything an import does (raw payloads kept,
people consolidated, every person rated, events logged), against the
``sqlite3`` shell's ``.import`` of the same file into a bare table, side by
side in one run, alternating A B B A so that drift in the machine's load
hits both alike. Each run starts from no database file at all.

The file comes from ``generate_identities.py`` (made once, then reused). Both
commands run as child processes under ``/usr/bin/time``, which gives the
wall time and the peak resident memory of each. After each leadflow run the
database is checked: every row is an inquiry or a quarantine item, every
person has a rating, and the events are there.

    .venv/bin/python benchmarks/bench_import.py                      # 1,000,000 rows, 3 pairs
    .venv/bin/python benchmarks/bench_import.py --rows 100000 --repeat 1
    .venv/bin/python benchmarks/bench_import.py --postgres postgresql+psycopg://u:p@host/db

With ``--postgres URL`` it also imports the file into a fresh schema of that
database (the ``COPY`` path) and reports the time.

With ``--probe SECONDS`` a writer like a capture takes SQLite's write lock every
SECONDS during each leadflow run (``BEGIN IMMEDIATE`` through leadflow's writer
queue, then a rollback) and the report gives how long it waited: the longest and
the 99th percentile. The import lets go of the lock for such a writer, so this
also shows what a steady trickle of captures costs the import.

    .venv/bin/python benchmarks/bench_import.py --repeat 1 --probe 1

With ``--floor`` each leadflow run's rows are then copied, table by table, into a fresh
database made by ``leadflow init`` (``INSERT INTO ... SELECT``, one transaction, the
import's settings: write-ahead log, ``synchronous=NORMAL``, a 512 MiB cache, foreign
keys off; the log folded at the end). No Python touches a row and the rows come in
their tables' key order, so this is what SQLite alone needs to store what an import
stores: the least any import of these rows could take.

    .venv/bin/python benchmarks/bench_import.py --repeat 1 --floor
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
LEADFLOW = [sys.executable, "-m", "leadflow"]
PLAYBOOK = ROOT / "examples" / "playbooks" / "btd.yaml"


@dataclass
class Run:
    tool: str
    seconds: float
    peak_mib: float
    turns: str = ""  # leadflow's own count of its write transactions
    waits: list[float] | None = None  # the probe's waits for the write lock, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv", type=Path, help="an existing file instead of a generated one")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs (default 3)")
    parser.add_argument("--postgres", help="also import into this PostgreSQL (a new schema)")
    parser.add_argument(
        "--probe", type=float, help="take the write lock every SECONDS during leadflow runs"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="after each leadflow run, time copying its rows into a fresh database",
    )
    args = parser.parse_args()
    if shutil.which("sqlite3") is None:
        sys.exit("the sqlite3 shell is needed for the baseline (apt install sqlite3)")
    OUT.mkdir(parents=True, exist_ok=True)
    path = args.csv or generated(args.rows)
    rows = count_rows(path)
    print(f"{path} ({rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB)", flush=True)
    print(f"load average before: {os.getloadavg()}", flush=True)

    runs: list[Run] = []
    for pair in range(args.repeat):
        order = ("sqlite3", "leadflow") if pair % 2 == 0 else ("leadflow", "sqlite3")
        for tool in order:
            run = baseline(path) if tool == "sqlite3" else leadflow(path, rows, args.probe)
            runs.append(run)
            print(f"  {run.tool:9s} {run.seconds:7.2f} s  peak {run.peak_mib:7.0f} MiB", flush=True)
            if run.turns:
                print(f"            {run.turns}", flush=True)
            if run.waits:
                print(f"            probe: {waits_text(run.waits)}", flush=True)
            if tool == "leadflow" and args.floor:
                copy = floor(OUT / "import-leadflow.db")
                runs.append(copy)
                print(f"  {copy.tool:9s} {copy.seconds:7.2f} s  {copy.turns}", flush=True)
    print(f"load average after: {os.getloadavg()}")

    base = [r.seconds for r in runs if r.tool == "sqlite3"]
    ours = [r for r in runs if r.tool == "leadflow"]
    copies = [r.seconds for r in runs if r.tool == "floor"]
    seconds = [r.seconds for r in ours]
    lines = [
        f"## leadflow import vs sqlite3 .import: {rows:,} rows",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"- file: {path.name}, {path.stat().st_size / 2**20:.0f} MiB",
        f"- runs: {args.repeat} pairs, alternating",
        "",
        "| | median s | min s | peak memory MiB |",
        "|---|---|---|---|",
        f"| sqlite3 .import | {statistics.median(base):.2f} | {min(base):.2f} | |",
        f"| leadflow import | {statistics.median(seconds):.2f} | {min(seconds):.2f} "
        f"| {max(r.peak_mib for r in ours):.0f} |",
        "",
        f"Ratio of medians: **{statistics.median(seconds) / statistics.median(base):.1f}x**; "
        f"of minimums: {min(seconds) / min(base):.1f}x.",
    ]
    if copies:
        copied = statistics.median(copies)
        lines += [
            "",
            f"The same rows copied by SQLite alone (``--floor``): median {copied:.2f} s, "
            f"**{copied / statistics.median(base):.1f}x** the baseline "
            f"({', '.join(r.turns for r in runs if r.tool == 'floor')}).",
        ]
    lines += [f"\n{r.turns}" for r in ours[:1] if r.turns]
    lines += [
        f"Probe every {args.probe:g} s ({n + 1}): {waits_text(r.waits)}."
        for n, r in enumerate(ours)
        if r.waits and args.probe
    ]
    if args.postgres:
        run = leadflow_postgres(path, args.postgres)
        lines.append(f"\nPostgreSQL (COPY): {run.seconds:.2f} s, peak {run.peak_mib:.0f} MiB.")
    report = "\n".join(lines)
    print("\n" + report)
    (OUT / "import_results.md").write_text(report + "\n", encoding="utf-8")


def generated(rows: int) -> Path:
    path = OUT / f"import-{rows}.csv"
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        script = ROOT / "benchmarks" / "generate_identities.py"
        subprocess.run([sys.executable, str(script), str(rows), "-o", str(path)], check=True)
    return path


def count_rows(path: Path) -> int:
    """The rows an import reads: each an inquiry or quarantined (blank lines are skipped)."""
    import polars as pl

    from leadflow.adapters.csv_files import has_value, scan_text_csv

    frame = scan_text_csv(path)
    rows = frame.filter(has_value(frame.collect_schema().names())).select(pl.len())
    return int(rows.collect().item())


def waits_text(waits: list[float]) -> str:
    ordered = sorted(waits)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{len(waits)} waits for the write lock, longest {ordered[-1]:.2f} s, "
        f"p99 {p99:.2f} s, median {statistics.median(ordered) * 1000:.1f} ms"
    )


def timed(
    command: list[str], env: dict[str, str] | None = None, output: list[str] | None = None
) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of ``command``, from ``/usr/bin/time``."""
    report = OUT / f"time-{uuid.uuid4().hex}.txt"
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if output is not None:
        output.append(done.stderr)
    peak_kib = int(report.read_text().split()[-1])
    report.unlink()
    return seconds, peak_kib / 1024


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def baseline(csv: Path) -> Run:
    db = fresh(OUT / "import-baseline.db")
    seconds, peak = timed(["sqlite3", str(db), ".mode csv", f".import {csv} inquiries"])
    return Run("sqlite3", seconds, peak)


def leadflow(csv: Path, rows: int, probe_every: float | None = None) -> Run:
    db = fresh(OUT / "import-leadflow.db")
    env = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": f"sqlite:///{db}",
        "LEADFLOW_PLAYBOOK": str(PLAYBOOK),
        "COLUMNS": "200",  # the summary table on one line per row
    }
    stop, waits, output = threading.Event(), list[float](), list[str]()
    prober = threading.Thread(target=probe, args=(db, probe_every, stop, waits))
    if probe_every:
        prober.start()
    try:
        command = [*LEADFLOW, "import", str(csv), "--source", "bench"]
        seconds, peak = timed(command, env, output)
    finally:
        stop.set()
        if probe_every:
            prober.join()
    check(db, rows)
    turns = [
        " ".join(line.replace("│", " ").replace("|", " ").split())
        for line in output[0].splitlines()
        if "transactions" in line or "another writer" in line
    ]
    return Run("leadflow", seconds, peak, "; ".join(turns), waits)


def floor(imported: Path) -> Run:
    """Copy every row of the database an import made into a fresh one, timed (``--floor``)."""
    db = fresh(OUT / "import-floor.db")
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run([*LEADFLOW, "init"], env=env, capture_output=True, check=True)
    c = sqlite3.connect(db, isolation_level=None)
    try:
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "cache_size = -524288",
            "foreign_keys = OFF",
            "wal_autocheckpoint = 0",
        ):
            c.execute(f"PRAGMA {pragma}")
        c.execute("ATTACH ? AS imported", (str(imported),))
        tables = [
            name
            for (name,) in c.execute(
                "SELECT name FROM imported.sqlite_master WHERE type = 'table'"
                " AND name NOT IN ('alembic_version', 'sqlite_sequence')"
            )
        ]
        started = time.perf_counter()
        c.execute("BEGIN")
        for name in tables:
            c.execute(f'DELETE FROM main."{name}"')  # whatever ``init`` put there
            c.execute(f'INSERT INTO main."{name}" SELECT * FROM imported."{name}"')
        c.execute("COMMIT")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        seconds = time.perf_counter() - started
        rows = sum(
            int(c.execute(f'SELECT count(*) FROM main."{name}"').fetchone()[0]) for name in tables
        )
    finally:
        c.close()
    fresh(db)
    return Run("floor", seconds, 0.0, f"{rows:,} rows in {len(tables)} tables")


def probe(db: Path, every: float, stop: threading.Event, waits: list[float]) -> None:
    """A writer like a capture: every ``every`` seconds, take the write lock and let go."""
    sys.path.insert(0, str(ROOT / "src"))
    from leadflow.adapters.store.sqlite_writer import WriterConnection

    while not Path(f"{db}-wal").exists():  # leadflow made the database and its log
        if stop.wait(0.01):
            return
    writer = sqlite3.connect(db, timeout=60, factory=WriterConnection, isolation_level=None)
    try:
        while not stop.wait(every):
            asked = time.perf_counter()
            writer.execute("BEGIN IMMEDIATE")
            waits.append(time.perf_counter() - asked)
            writer.rollback()
    finally:
        writer.close()


def check(db: Path, rows: int) -> None:
    """Everything an import must leave behind is there."""
    with sqlite3.connect(db) as c:

        def count(sql: str) -> int:
            return int(c.execute(sql).fetchone()[0])

        inquiries = count("SELECT count(*) FROM inquiries")
        quarantined = count("SELECT count(*) FROM quarantine")
        people = count("SELECT count(*) FROM people")
        rated = count("SELECT count(*) FROM lead_state")
        captured = count("SELECT count(*) FROM events WHERE type = 'inquiry.captured'")
        merged = count("SELECT count(*) FROM merges")
    problems = []
    if inquiries + quarantined != rows:
        problems.append(f"{inquiries} inquiries + {quarantined} quarantined != {rows} rows")
    if rated != people:
        problems.append(f"{rated} ratings for {people} people")
    if captured != inquiries:
        problems.append(f"{captured} captured events for {inquiries} inquiries")
    if inquiries != people + merged:
        problems.append(f"{inquiries} inquiries != {people} people + {merged} merges")
    if problems:
        sys.exit("the import left an incomplete database: " + "; ".join(problems))


def leadflow_postgres(csv: Path, url: str) -> Run:
    from sqlalchemy import create_engine, text

    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        options = f"?options=-csearch_path%3D{schema}"
        env = {
            **os.environ,
            "LEADFLOW_DATABASE_URL": url + options,
            "LEADFLOW_PLAYBOOK": str(PLAYBOOK),
        }
        seconds, peak = timed([*LEADFLOW, "import", str(csv), "--source", "bench"], env)
        return Run("leadflow (PostgreSQL)", seconds, peak)
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
