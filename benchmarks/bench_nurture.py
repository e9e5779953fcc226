"""One day of nurture steps for 100,000 prospects on SQLite: what ``leadflow worker`` runs.

Prepares, once, a SQLite database in ``benchmarks/out/nurture/`` with the real CLI: a
generated CSV of N prospects (unique people, all graded D: no budget, researchers, no
date; 10 % each in New York, Berlin and Tokyo, 5 % do-not-email) imported with
``leadflow import`` into the bundled btd playbook plus a nurture track and a contact
policy (below), so every prospect enters the track, its first step due at once.

Then, for each repeat, on a fresh copy of that database, it times
``services.nurture.run_due`` (the function ``leadflow worker`` calls each pass) with the
clock at 12:00 UTC the next day: every enrollment is due, so this day is the heaviest the
track has. Each step is decided with the contact policy; the emails (text and HTML,
tracked links, unsubscribe link, open pixel) are rendered and queued in the outbox; the
touches and the enrollments' next steps are written. Sending the emails over SMTP is the
dispatcher's job, not part of advancing the steps, and is not timed. At 12:00 UTC it is
21:00 in Tokyo: those steps are deferred to the morning (quiet hours), and the
do-not-email people are skipped; everyone else is sent the welcome email.

    .venv/bin/python benchmarks/bench_nurture.py                    # 100,000 prospects, 3 runs
    .venv/bin/python benchmarks/bench_nurture.py --prospects 10000 --repeat 1 --profile

After each run the database is checked: every due enrollment was decided once (sent,
deferred or skipped), the outbox holds one email per sent step, and none is left due.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "nurture"
PLAYBOOK = ROOT / "src" / "leadflow" / "playbooks" / "btd.yaml"
NURTURE = """
  do_not_email: {type: boolean, label: Do not email}
  timezone: {type: text, label: Time zone}
nurture:
  tracks:
    - name: not_yet
      when: grade in (c, d)
      steps:
        - email: welcome
        - email: guide
          after: 2d
        - call: ask about budget and timing
          after: 3d
  emails:
    welcome:
      subject: "Welcome, {{ first_name or 'there' }}"
      body: |
        Hello {{ first_name or 'there' }} at {{ company or 'your company' }},

        thank you for your interest. Our buyer's guide is at
        https://example.com/guide?from=nurture and the pricing at https://example.com/pricing.

        Choose what you hear from us: {{ preferences_url }}
    guide:
      subject: The guide, chapter two
      body: "More: https://example.com/guide/2"
contact_policy:
  do_not_email: do_not_email
  caps:
    - {channel: email, side: marketing, max: 2, per: 7d}
    - {channel: any, stage: prospect, max: 3, per: 7d}
  quiet_hours: {start: "20:00", end: "08:00", timezone_field: timezone}
"""
ZONES = ("", "", "", "", "", "", "", "America/New_York", "Europe/Berlin", "Asia/Tokyo")


def playbook_text() -> str:
    text = PLAYBOOK.read_text()
    fields, rest = text.split("fields:\n", 1)
    extra, policy = NURTURE.split("nurture:\n", 1)
    return f"{fields}fields:\n{extra.lstrip(chr(10))}{rest}\nnurture:\n{policy}"


def write_csv(path: Path, n: int) -> None:
    firsts = ("Ann", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jo")
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            ["first_name", "last_name", "email", "company", "budget", "decision_role",
             "do_not_email", "timezone"]
        )  # fmt: skip
        for i in range(n):
            first = firsts[i % len(firsts)]
            out.writerow(
                [
                    first,
                    f"Lee{i}",
                    f"{first.lower()}.lee{i}@firm{i}.com",
                    f"Firm {i}",
                    "none",
                    "researcher",
                    "yes" if i % 20 == 3 else "",
                    ZONES[i % len(ZONES)],
                ]
            )


def prepare(n: int) -> Path:
    """The imported database (made once per size, then reused)."""
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"nurture-{n}.db"
    if db.exists():
        return db
    (OUT / "playbook.yaml").write_text(playbook_text())
    source = OUT / f"prospects-{n}.csv"
    write_csv(source, n)
    building = db.with_suffix(".building.db")
    for leftover in OUT.glob(building.name + "*"):
        leftover.unlink()
    env = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": f"sqlite:///{building}",
        "LEADFLOW_PLAYBOOK": str(OUT / "playbook.yaml"),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "leadflow", "import", str(source), "--source", "bench"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"imported {n:,} prospects in {time.perf_counter() - started:.1f} s", flush=True)
    with sqlite3.connect(building) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (enrolled,) = c.execute(
            "SELECT count(*) FROM enrollments WHERE status = 'active'"
        ).fetchone()
    building.rename(db)
    print(f"{enrolled:,} enrolled in the track", flush=True)
    return db


def run_once(db: Path, profile: bool) -> tuple[float, object, int]:
    from sqlalchemy import func, select

    from leadflow.adapters.playbook_file import load_playbook
    from leadflow.adapters.store import tables as t
    from leadflow.adapters.store.engine import make_engine
    from leadflow.services.handoff import Runtime
    from leadflow.services.nurture import run_due

    work = db.with_name("run.db")
    for leftover in OUT.glob("run.db*"):
        leftover.unlink()
    shutil.copyfile(db, work)
    engine = make_engine(f"sqlite:///{work}")
    pb = load_playbook(OUT / "playbook.yaml")
    with engine.connect() as c:
        due = c.execute(select(func.count()).select_from(t.enrollments)).scalar_one()
        latest = c.execute(select(func.max(t.enrollments.c.due_at))).scalar_one()
    noon = datetime.combine(latest.date() + timedelta(days=1), clock_time(12), tzinfo=UTC)
    runtime = Runtime(clock=lambda: noon, by="bench")
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = run_due(engine, pb, runtime, "https://leadflow.example.com")
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    check(engine, report, due, noon)
    engine.dispose()
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return seconds, report, due


def check(engine: object, report: object, due: int, now: datetime) -> None:
    from sqlalchemy import Engine, func, select

    from leadflow.adapters.store import tables as t

    assert isinstance(engine, Engine)
    with engine.connect() as c:
        emails = c.execute(select(func.count()).select_from(t.emails)).scalar_one()
        html = c.execute(select(func.count()).where(t.emails.c.html.is_not(None))).scalar_one()
        touches = c.execute(select(func.count()).select_from(t.touches)).scalar_one()
        left = c.execute(
            select(func.count()).where(
                t.enrollments.c.status == "active", t.enrollments.c.due_at <= now
            )
        ).scalar_one()
    sent, deferred, skipped = report.sent, report.deferred, report.skipped  # type: ignore[attr-defined]
    assert report.total == due == touches, (sent, deferred, skipped, due, touches)  # type: ignore[attr-defined]
    assert emails == html == sent, (emails, html, sent)
    assert left == 0, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prospects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores (nproc)")
    db = prepare(args.prospects)
    times = []
    for n in range(args.repeat):
        load = os.getloadavg()
        seconds, report, due = run_once(db, args.profile)
        times.append(seconds)
        print(
            f"run {n + 1}: {due:,} due steps in {seconds:.1f} s ({due / seconds:,.0f}/s): "
            f"{report.sent:,} sent, {report.deferred:,} deferred, "  # type: ignore[attr-defined]
            f"{report.skipped:,} skipped; load average before "  # type: ignore[attr-defined]
            f"{', '.join(f'{x:.2f}' for x in load)}",
            flush=True,
        )
    median = statistics.median(times)
    print(
        f"one day of steps for {args.prospects:,} prospects: median {median:.1f} s, "
        f"best {min(times):.1f} s of {len(times)} (target: under 60 s)"
    )


if __name__ == "__main__":
    main()
