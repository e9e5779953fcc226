"""Every web page timed over HTTP with 1,000,000 leads in the database.

Builds ``benchmarks/out/web/leadflow.db`` (SQLite, migrated by leadflow) with bulk
inserts: 1,000,000 people, each with an inquiry, a rating (grade, score, reasons), a
lifecycle row (stage, team, owner, deadlines: the bundled b2b-saas playbook's stages, in
proportions like a real funnel) and two events; 40 reps in 4 teams; 1,000 quarantined
inquiries; one user of each role. Then starts ``leadflow serve``, signs in as each role
and asks for every page ``--runs`` times in turn, timing each request from the client
(httpx on the same machine, so the figures include HTTP, the session check, the queries
and the rendering). Reported per page: median, p95 and max, in ms. The target: every
page under 300 ms.

    .venv/bin/python benchmarks/bench_web.py                    # 1,000,000 leads, 30 runs
    .venv/bin/python benchmarks/bench_web.py --leads 100000 --runs 10
    .venv/bin/python benchmarks/bench_web.py --reuse            # keep the database

Traffic goes only to 127.0.0.1; every run is bounded in count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "web"
PASSWORD = "benchmark-password"
TEAMS = ("enterprise", "inside_sales", "account_management", "partners")
REPS_PER_TEAM = 10
SOURCES = ("webinar", "whitepaper", "trade_show", "purchased_list", "partner", "organic")
# (stage, share of leads, side, owned by a rep)
STAGES = (
    ("prospect", 0.70, "marketing", False),
    ("marketing_qualified", 0.08, "marketing", True),
    ("sales_accepted", 0.08, "sales", True),
    ("sales_qualified", 0.03, "sales", True),
    ("opportunity", 0.02, "sales", True),
    ("won", 0.01, "sales", True),
    ("lost", 0.02, "sales", True),
    ("recycled", 0.04, "marketing", False),
    ("disqualified", 0.02, "marketing", False),
)
REASONS = [
    "Target industry: industry=financial_services (+15 fit)",
    "100 to 999 employees: company_size=349 (+10 fit)",
    "Budget approved or planned: budget=approved (+15 qualification)",
    "Grade B: Qualified, longer timeframe.",
    "Route sales: grade B goes to sales",
]
NOW = datetime.now(UTC).replace(microsecond=0)


def ts(moment: datetime) -> str:
    """How SQLAlchemy stores a DateTime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(database: Path, leads: int, seed: int) -> None:
    """Migrate with leadflow, then bulk-insert the rows with sqlite3."""
    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{database}"}
    leadflow = str(ROOT / ".venv" / "bin" / "leadflow")
    subprocess.run([leadflow, "init"], env=env, check=True, capture_output=True)
    rng = random.Random(seed)
    db = sqlite3.connect(database)
    db.execute("PRAGMA synchronous=OFF")
    now = ts(NOW)
    reps = []
    for t, team in enumerate(TEAMS):
        for n in range(REPS_PER_TEAM):
            rep_id = t * REPS_PER_TEAM + n + 1
            reps.append((rep_id, team))
            db.execute(
                "INSERT INTO reps (id, name, email, team, territories, active, created_at,"
                " updated_at, last_turn) VALUES (?, ?, ?, ?, '[]', 1, ?, ?, 0)",
                (rep_id, f"Rep {rep_id}", f"rep{rep_id}@example.com", team, now, now),
            )
    started = time.perf_counter()
    batch = 50_000
    cumulative, total = [], 0.0
    for stage in STAGES:
        total += stage[1]
        cumulative.append((total, stage))
    for first in range(1, leads + 1, batch):
        _batch(db, rng, range(first, min(first + batch, leads + 1)), reps, cumulative)
        db.commit()
        print(f"\r  {min(first + batch - 1, leads):,} leads", end="", file=sys.stderr, flush=True)
    db.executemany(
        "INSERT INTO quarantine (received_at, channel, source, payload, fields, reason, error)"
        " VALUES (?, 'api', 'web', ?, ?, 'unidentifiable', 'no email, phone or id')",
        [(now, json.dumps({"name": f"N{i}"}), json.dumps({"name": f"N{i}"})) for i in range(1000)],
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    print(f"\n  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    for email, role, more in (
        ("rep@example.com", "rep", ["--rep", "1"]),
        ("manager@example.com", "manager", ["--team", TEAMS[0]]),
        ("marketing@example.com", "marketing", []),
        ("admin@example.com", "admin", []),
    ):
        subprocess.run(
            [leadflow, "users", "add", email, "--role", role, *more, "--password-stdin"],
            env=env,
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )


def _batch(
    db: sqlite3.Connection, rng: random.Random, ids: range, reps: list, cumulative: list
) -> None:  # type: ignore[type-arg]
    people, inquiries, states, lifecycle, events = [], [], [], [], []
    for pid in ids:
        at = NOW - timedelta(minutes=rng.randrange(1, 400 * 24 * 60))
        when = ts(at)
        email = f"person{pid}@company{pid % 50_000}.example"
        facts = json.dumps({"industry": "financial_services", "company_size": 349})
        people.append(
            (pid, when, when, email, f"First{pid}", f"Last{pid}", f"Company {pid % 50_000}", facts)
        )
        source = SOURCES[pid % len(SOURCES)]
        inquiries.append((pid, when, "form", source, "{}", "{}", pid))
        grade = "ABCD"[rng.randrange(4)]
        states.append(
            (
                pid,
                grade,
                50.0 + rng.random() * 50,
                "sales" if grade in "AB" else "nurture",
                30.0,
                30.0,
                10.0,
                json.dumps(REASONS),
                "[]",
                "sha256:bench",
                when,
            )
        )
        x = rng.random()
        stage, _, side, owned = next(s for limit, s in cumulative if x <= limit)
        rep_id, team = reps[rng.randrange(len(reps))]
        owner = rep_id if owned and rng.random() > 0.1 else None
        if not owned and stage != "recycled":
            team = None
        accept_due = contact_due = accepted = None
        if stage == "marketing_qualified" and owner:
            accept_due = ts(NOW + timedelta(minutes=rng.randrange(-600, 600)))
        if stage == "sales_accepted":
            accepted = when
            if rng.random() < 0.5:
                contact_due = ts(NOW + timedelta(minutes=rng.randrange(-600, 600)))
        recontact = (NOW + timedelta(days=30)).date().isoformat() if stage == "recycled" else None
        reason = "bad_timing" if stage == "recycled" else None
        lifecycle.append(
            (
                pid,
                stage,
                when,
                side,
                team,
                owner,
                when if owned else None,
                when if owned else None,
                accepted,
                accept_due,
                contact_due,
                reason,
                recontact,
                when,
            )
        )
        events.append((when, "inquiry.captured", pid, pid, json.dumps({"source": source})))
        events.append(
            (
                when,
                "stage.changed",
                pid,
                None,
                json.dumps({"from": "inquiry", "to": stage, "by": "leadflow", "why": "bench"}),
            )
        )
    db.executemany(
        "INSERT INTO people (id, created_at, updated_at, email, first_name, last_name, company,"
        " facts, inquiry_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
        people,
    )
    db.executemany(
        "INSERT INTO person_keys (kind, value, person_id) VALUES ('email', ?, ?)",
        [(p[3], p[0]) for p in people],
    )
    db.executemany(
        "INSERT INTO inquiries (id, received_at, channel, source, payload, fields, person_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        inquiries,
    )
    db.executemany(
        "INSERT INTO lead_state (person_id, grade, score, route, fit, qualification, engagement,"
        " reasons, data_issues, playbook_version, rated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        states,
    )
    db.executemany(
        "INSERT INTO lifecycle (person_id, stage, stage_since, side, team, owner_rep_id,"
        " sales_ready_at, routed_at, accepted_at, accept_due, contact_due, reason, recontact_on,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        lifecycle,
    )
    db.executemany(
        "INSERT INTO events (at, type, person_id, inquiry_id, data) VALUES (?,?,?,?,?)", events
    )


def sign_in(client: httpx.Client, email: str) -> None:
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on /signin"
    done = client.post(
        "/signin",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD, "next": "/"},
    )
    assert done.status_code == 303, done.text


def pages(database: Path) -> list[tuple[str, str, str]]:
    """(page, who, path): a lead of rep 1, a lead of the pool, the last page of lists."""
    db = sqlite3.connect(database)
    owned = db.execute("SELECT person_id FROM lifecycle WHERE owner_rep_id = 1 LIMIT 1").fetchone()[
        0
    ]
    email = db.execute(
        "SELECT email FROM people WHERE id = 777777 OR id = (SELECT max(id) FROM people) LIMIT 1"
    ).fetchone()[0]
    db.close()
    return [
        ("sign-in page", "", "/signin"),
        ("my queue (rep)", "rep@example.com", "/queue"),
        ("my queue, next pool page", "rep@example.com", "/queue?pool_before=900000"),
        ("lead page (rep's own lead)", "rep@example.com", f"/leads/{owned}"),
        ("lead page, another rep's (403)", "rep@example.com", "/leads/2"),
        ("team board (manager)", "manager@example.com", "/team"),
        ("dashboard: funnel + handed back", "marketing@example.com", "/dashboard"),
        ("inquiries, newest", "marketing@example.com", "/inquiries"),
        ("inquiries by source", "marketing@example.com", "/inquiries?source=trade_show"),
        ("inquiries by email", "marketing@example.com", f"/inquiries?q={email}"),
        ("inquiries, page 1,000", "marketing@example.com", "/inquiries?before=950000"),
        ("quarantine", "marketing@example.com", "/quarantine"),
        ("definitions", "marketing@example.com", "/definitions"),
        ("users (admin)", "admin@example.com", "/admin/users"),
    ]


def measure(database: Path, runs: int) -> list[tuple[str, str, int, list[float]]]:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{database}"}
    port = 8791
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "leadflow"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        clients: dict[str, httpx.Client] = {}
        results = []
        for name, who, path in pages(database):
            if who not in clients:
                clients[who] = httpx.Client(base_url=base, timeout=30)
                if who:
                    sign_in(clients[who], who)
            client, times, status = clients[who], [], 0
            client.get(path)  # warm: the first request of a page compiles its template
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                status = response.status_code
            results.append((name, path, status, times))
        return results
    finally:
        server.terminate()
        server.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="Keep an existing database.")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / "leadflow.db"
    if not (args.reuse and database.exists()):
        print(f"Building {args.leads:,} leads in {database}", file=sys.stderr)
        build(database, args.leads, args.seed)
    print("| Page | Path | Status | Median ms | p95 ms | Max ms |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for name, path, status, times in measure(database, args.runs):
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        worst = max(worst, ordered[-1])
        median = statistics.median(times)
        print(f"| {name} | `{path}` | {status} | {median:.1f} | {p95:.1f} | {ordered[-1]:.1f} |")
    print(f"\nSlowest single request: {worst:.1f} ms (target: every page under 300 ms)")


if __name__ == "__main__":
    main()
