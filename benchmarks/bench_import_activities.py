"""``leadflow import-activities`` of 100,000 activities into a database of 100,000 inquiries.

Builds the database once: a fresh SQLite file, ``leadflow init``, then ``leadflow import``
of N inquiries (``--people``) from a file made by ``generate_identities.py`` (made once,
then reused), or from the first N rows of ``--csv``, under the b2b-saas playbook (it
scores activities; ``--playbook`` for another). That database is kept in
``benchmarks/out/activities/`` and reused by later runs of the same sizes (``--rebuild``
makes it again). The last ``--code`` builds it (by convention the newest; every code
measured must share its schema), and its leadflow reads the playbook and the phones
here.

Then writes M activities (``--activities``), ``type,at,email,phone,external_id``, one
identifier a row: the people drawn from the imported ones with a heavy tail (a weight
from a log-normal distribution for each, so most have none or one and a few have
dozens), each row naming the person by one of their inquiries' raw email (most), phone
or CRM id (``--by-phone``, ``--by-external-id``, when the import file has those
columns), the types drawn from those the playbook scores (page views the most, trial
sign-ups the least), ``at`` within the 60 days before now (ISO 8601, ``Z``), sorted by
time as an export would be, and a share of rows (``--unknown``, 1 %) naming an email
nobody gave, so skipped rows are exercised. Seeded (``--seed``); the times are counted
back from the minute the file is written.

For each ``--code SRC`` (repeatable; by default the leadflow the venv imports) it copies
the built database fresh and runs ``python -m leadflow import-activities FILE --source
bench`` with ``SRC`` first on ``PYTHONPATH``, under ``/usr/bin/time``: wall and CPU seconds,
activities a second, peak resident memory, and the rows recorded and skipped, read from
the command's summary and checked against the activities table. Every skipped row is
written (``--skipped``) and sorted by why: the planted strangers, a phone or a role
address several people gave, anything else. ``--repeat K`` runs each code K times,
alternating and reversing the order every round (A B B A). The load average is taken
before and after each run.

    .venv/bin/python benchmarks/bench_import_activities.py --people 10000 --activities 10000
    .venv/bin/python benchmarks/bench_import_activities.py --code /tmp/base/src \\
        --code src --repeat 2

Prints a Markdown table for ``docs/performance.md`` and the command line, and writes them
to ``benchmarks/out/import_activities_results.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
WORK = OUT / "activities"
PLAYBOOK = ROOT / "examples" / "playbooks" / "b2b-saas.yaml"
SOURCE = "bench"
DAYS = 60
UNKNOWN_DOMAIN = "unknown-visitors.example.com"
TIME = "%Y-%m-%dT%H:%M:%SZ"
# How often each type comes, against one for any type not named; only the types the
# playbook scores are drawn.
TYPE_WEIGHTS = {
    "page_view": 40,
    "email_open": 20,
    "email_click": 12,
    "pricing_page_view": 8,
    "content_download": 6,
    "webinar_registered": 3,
    "webinar_attended": 2,
    "email_reply": 2,
    "community_post": 2,
    "trial_signup": 1,
}
EMAIL = ("email", "e_mail", "email_address")
PHONE = ("phone", "mobile", "phone_number")
EXTERNAL = ("id", "external_id", "crm_id", "lead_id")
KINDS = {"email": EMAIL, "phone": PHONE, "external_id": EXTERNAL}  # an activity's, its columns


@dataclass
class Run:
    code: str
    seconds: float
    peak_mib: float
    cpu: float  # user and system seconds: a shared machine's load moves them far less
    recorded: int
    skipped: int
    why: Counter[str]
    load: tuple[float, float]  # one-minute load average before and after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000, help="inquiries imported")
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--csv", type=Path, help="import the first N rows of this file")
    parser.add_argument("--playbook", type=Path, default=PLAYBOOK)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--code", action="append", metavar="SRC", help="a leadflow src dir")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each code (default 1)")
    parser.add_argument("--unknown", type=float, default=0.01, help="rows naming nobody")
    parser.add_argument("--by-phone", type=float, default=0.10, help="rows found by phone")
    parser.add_argument("--by-external-id", type=float, default=0.10, help="by CRM id")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("/usr/bin/time is needed for the peak memory (apt install time)")
    WORK.mkdir(parents=True, exist_ok=True)
    codes = [str(Path(c).resolve()) for c in args.code or []] or [""]
    where = {code: leadflow_of(code) for code in codes}
    if codes[-1]:  # the last code builds the database and reads it here (its leadflow)
        sys.path.insert(0, codes[-1])
    template = database(args, codes[-1])
    activities, planted, drawn = write_activities(template, args)
    print(f"{activities}: {args.activities:,} rows, {planted:,} naming nobody; {drawn}")
    runs: list[Run] = []
    for round_ in range(args.repeat):
        for code in codes if round_ % 2 == 0 else codes[::-1]:
            run = import_activities(template, activities, code, args.playbook)
            runs.append(run)
            print(f"  {label(code):40s} {run_text(run, args.activities)}", flush=True)
    report = results(args, runs, where, planted, drawn)
    print("\n" + report)
    (OUT / "import_activities_results.md").write_text(report + "\n", encoding="utf-8")


def leadflow_of(code: str) -> str:
    """Where ``python -m leadflow`` imports leadflow from with ``code`` first on the path
    (its modules compiled to bytecode beforehand: a fresh ``git archive`` has none)."""
    if code and not (Path(code) / "leadflow" / "__init__.py").exists():
        sys.exit(f"--code {code}: no leadflow package in it (give the directory holding it)")
    if code:  # compiled now, not in the first timed run
        subprocess.run([sys.executable, "-m", "compileall", "-q", code], check=True)
    command = [sys.executable, "-c", "import leadflow; print(leadflow.__file__)"]
    found = subprocess.run(command, env=environ(code), capture_output=True, text=True, check=True)
    return str(Path(found.stdout.strip()).parent.parent)


def environ(code: str, db: Path | None = None, playbook: Path = PLAYBOOK) -> dict[str, str]:
    env = {**os.environ, "LEADFLOW_PLAYBOOK": str(playbook), "COLUMNS": "200"}
    if code:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))
    if db is not None:
        env["LEADFLOW_DATABASE_URL"] = f"sqlite:///{db}"
    return env


def label(code: str) -> str:
    return code or "venv"


def leadflow(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "leadflow", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{shlex.join(command)} failed:\n{done.stderr[-2000:]}")
    return done


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", "-journal", "-writer", "-waiting"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def inquiries(args: argparse.Namespace) -> Path:
    """The file of N inquiries: generated (and kept), or the first N rows of ``--csv``."""
    if args.csv is None:
        path = OUT / f"identities-{args.people}-seed{args.seed}.csv"
        if not path.exists():
            script = ROOT / "benchmarks" / "generate_identities.py"
            command = [sys.executable, str(script), str(args.people), "-o", str(path)]
            subprocess.run([*command, "--seed", str(args.seed)], check=True)
        return path
    import polars as pl

    path = WORK / f"{args.csv.stem}-first-{args.people}.csv"
    pl.read_csv(args.csv, infer_schema=False, n_rows=args.people).write_csv(path)
    return path


def database(args: argparse.Namespace, code: str) -> Path:
    """The database of the imported inquiries, built once by ``code`` (kept as one file)
    and reused."""
    source = args.csv.stem if args.csv else f"identities-seed{args.seed}"
    template = WORK / f"people-{args.people}-{source}-{args.playbook.stem}.db"
    if template.exists() and not args.rebuild:
        print(f"reusing {template}")
        return template
    path = inquiries(args)
    db = fresh(WORK / "building.db")
    env = environ(code, db, args.playbook)
    leadflow(["init"], env)
    started = datetime.now(UTC)
    leadflow(["import", str(path), "--source", SOURCE], env)
    took = (datetime.now(UTC) - started).total_seconds()
    fresh(template)
    with sqlite3.connect(db) as built, sqlite3.connect(template) as kept:
        built.backup(kept)  # one file, the write-ahead log folded in
    fresh(db)
    with sqlite3.connect(template) as c:
        people = c.execute("SELECT count(*) FROM people").fetchone()[0]
    print(
        f"built {template}: {args.people:,} rows of {path.name}, {people:,} people ({took:.0f} s)"
    )
    return template


def identifiers(template: Path) -> tuple[list[list[dict[str, str]]], set[str]]:
    """For each person, their inquiries' raw email, phone (when leadflow can read it: an
    inquiry's national number of another country than the default region is no key) and
    CRM id (as ``source:id``); and which of those kinds the import file had as columns."""
    from leadflow.adapters.identity.normalise import normalise_phone
    from leadflow.config import Settings

    region = Settings().default_region.upper()
    found: dict[int, list[dict[str, str]]] = {}
    columns: set[str] = set()
    with sqlite3.connect(template) as c:
        rows = c.execute(
            "SELECT person_id, source, external_id, payload FROM inquiries"
            " WHERE person_id IS NOT NULL ORDER BY id"
        )
        for person, source, external, payload in rows:
            raw = {k.strip().lower().replace(" ", "_"): v for k, v in json.loads(payload).items()}
            columns |= raw.keys()
            phone = first(raw, PHONE)
            keys = {
                "email": first(raw, EMAIL),
                "phone": phone if normalise_phone(phone, region)[0] else "",
                "external_id": f"{source}:{external}" if external else "",
            }
            if any(keys.values()):
                found.setdefault(person, []).append({k: v for k, v in keys.items() if v})
    return list(found.values()), {k for k, names in KINDS.items() if set(names) & columns}


def first(raw: dict[str, str], names: tuple[str, ...]) -> str:
    return next((raw[n] for n in names if (raw.get(n) or "").strip()), "")


def scored_types(playbook: Path) -> tuple[list[str], list[int]]:
    from leadflow.adapters.playbook_file import load_playbook
    from leadflow.services.activities import ACTIVITY_TYPES

    pb = load_playbook(playbook)
    types = [t for t in ACTIVITY_TYPES if pb.scores(t)]
    if not types:
        sys.exit(f"{playbook} scores no activity: give one with engagement (--playbook)")
    return types, [TYPE_WEIGHTS.get(t, 1) for t in types]


def write_activities(template: Path, args: argparse.Namespace) -> tuple[Path, int, str]:
    """The activities file; how many rows name nobody; how the people were drawn."""
    rng = random.Random(args.seed)
    people, kinds = identifiers(template)
    types, type_weights = scored_types(args.playbook)
    weights = [rng.lognormvariate(0, 1.5) for _ in people]
    drawn = rng.choices(range(len(people)), weights, k=args.activities)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    share = {"phone": args.by_phone, "external_id": args.by_external_id}
    rows, planted = [], 0
    for n, person in enumerate(drawn):
        at = now - timedelta(seconds=rng.randrange(DAYS * 86400))
        row = {"type": rng.choices(types, type_weights)[0], "at": at.strftime(TIME)}
        if rng.random() < args.unknown:
            row["email"], planted = f"visitor.{n}@{UNKNOWN_DOMAIN}", planted + 1
        else:
            row.update(pick(rng.choice(people[person]), kinds, share, rng))
        rows.append(row)
    rows.sort(key=lambda r: r["at"])  # as an export lists them
    path = WORK / f"activities-{args.activities}-seed{args.seed}.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, ["type", "at", "email", "phone", "external_id"])
        writer.writeheader()
        writer.writerows(rows)
    return path, planted, spread(drawn, len(people), rows)


def spread(drawn: list[int], people: int, rows: list[dict[str, str]]) -> str:
    per = Counter(drawn)
    several = sum(1 for k in per.values() if k > 1)
    by = Counter(kind for row in rows for kind in row if kind not in ("type", "at"))
    return (
        f"{len(per):,} of {people:,} people have activities, {several:,} of them several,"
        f" the most {max(per.values()):,}; found by "
        + ", ".join(f"{kind} {n:,}" for kind, n in by.most_common())
    )


def pick(
    keys: dict[str, str], kinds: set[str], share: dict[str, float], rng: random.Random
) -> dict[str, str]:
    """One identifier of an inquiry: phone or CRM id for their shares of rows, else email;
    the next kind it has when it lacks that one."""
    roll, wanted = rng.random(), "email"
    if roll < share["phone"]:
        wanted = "phone"
    elif roll < share["phone"] + share["external_id"]:
        wanted = "external_id"
    for kind in (wanted, "email", "external_id", "phone"):
        if kind in kinds and kind in keys:
            return {kind: keys[kind]}
    return {}  # none of the file's kinds: the row names nobody, and is skipped


def import_activities(template: Path, activities: Path, code: str, playbook: Path) -> Run:
    db = fresh(WORK / "run.db")
    shutil.copyfile(template, db)
    skipped_file = WORK / "skipped.txt"
    skipped_file.unlink(missing_ok=True)
    report = WORK / f"time-{uuid.uuid4().hex}.txt"
    command = [sys.executable, "-m", "leadflow", "import-activities", str(activities)]
    command += ["--source", SOURCE, "--skipped", str(skipped_file)]
    before = os.getloadavg()[0]
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M %U %S", "-o", str(report), *command],
        env=environ(code, db, playbook),
        capture_output=True,
        text=True,
        check=False,
    )
    after = os.getloadavg()[0]
    if done.returncode != 0:
        sys.exit(f"{shlex.join(command)} with {label(code)} failed:\n{done.stderr[-2000:]}")
    seconds, peak_kib, user, system = report.read_text().split()[-4:]
    report.unlink()
    summary = re.search(r"Recorded ([\d,]+) activities; skipped ([\d,]+)\.", done.stderr)
    if summary is None:
        sys.exit(f"no summary in the output of {label(code)}:\n{done.stderr[-2000:]}")
    recorded, skipped = (int(x.replace(",", "")) for x in summary.groups())
    with sqlite3.connect(db) as c:
        stored = c.execute("SELECT count(*) FROM activities").fetchone()[0]
    if stored != recorded:
        sys.exit(f"{label(code)} said {recorded:,} recorded, the database holds {stored:,}")
    why = Counter(reason(line) for line in skipped_file.read_text().splitlines())
    fresh(db)
    cpu = float(user) + float(system)
    return Run(
        code, float(seconds), int(peak_kib) / 1024, cpu, recorded, skipped, why, (before, after)
    )


def reason(line: str) -> str:
    if UNKNOWN_DOMAIN in line:
        return "planted"
    shared = re.search(r"(email|phone) \S+ belongs to", line)
    if shared:
        return "shared role address" if shared[1] == "email" else "shared phone"
    return re.sub(r"'[^']*'|\S*\d\S*", "…", re.sub(r"^line \d+: ", "", line))[:80]


def run_text(run: Run, rows: int) -> str:
    return (
        f"{run.seconds:7.2f} s {rows / run.seconds:7,.0f}/s cpu {run.cpu:6.2f} s"
        f" peak {run.peak_mib:5.0f} MiB"
        f"  recorded {run.recorded:,} skipped {run.skipped:,} ({whys(run)})"
        f"  load {run.load[0]:.2f} -> {run.load[1]:.2f}"
    )


def results(
    args: argparse.Namespace, runs: list[Run], where: dict[str, str], planted: int, drawn: str
) -> str:
    rows, codes = args.activities, list(where)
    best = {c: min((r for r in runs if r.code == c), key=lambda r: r.seconds) for c in codes}
    lines = [
        f"## leadflow import-activities: {rows:,} activities, {args.people:,} inquiries",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
        f" {platform.release()}, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}",
        f"- playbook: {args.playbook.name}; {planted:,} of the rows name nobody; {drawn}",
        f"- runs: {args.repeat} of each code, alternating",
        "",
        "| code | run | wall s | activities/s | CPU s | peak RSS MiB | recorded | skipped"
        " | load 1 min |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, run in enumerate(runs):
        lines.append(row(run, str(n // len(codes) + 1), rows))
    lines += [row(best[code], "**best**", rows) for code in codes]
    first = best[codes[0]].seconds
    lines += [""] + [
        f"{label(c)}: best {first / best[c].seconds:.2f}x as fast as {label(codes[0])}'s."
        for c in codes[1:]
    ]
    lines += ["", "Skipped rows, by why (each code's best run):"]
    lines += [f"- {label(c)}: {whys(best[c])}" for c in codes]
    lines += [
        "",
        "leadflow imported from: " + "; ".join(f"{label(c)}: {w}" for c, w in where.items()),
    ]
    lines += ["", "```", shlex.join(sys.orig_argv), "```"]
    return "\n".join(lines)


def row(run: Run, name: str, rows: int) -> str:
    return (
        f"| {label(run.code)} | {name} | {run.seconds:.2f} | {rows / run.seconds:,.0f}"
        f" | {run.cpu:.2f} | {run.peak_mib:.0f} | {run.recorded:,} | {run.skipped:,}"
        f" | {run.load[0]:.2f} → {run.load[1]:.2f} |"
    )


def whys(run: Run) -> str:
    return ", ".join(f"{why} {n:,}" for why, n in run.why.most_common()) or "none"


if __name__ == "__main__":
    main()
