"""Every web page timed over HTTP with 1,000,000 leads in the database.

Builds ``benchmarks/out/web/leadflow.db`` (SQLite, migrated by leadflow) with bulk
inserts: 1,000,000 people, each with an inquiry, a rating (grade, score, reasons), a
lifecycle row (stage, team, owner, deadlines: the bundled b2b-saas playbook's stages, in
proportions like a real funnel) and two events; 40 reps in 4 teams; 1,000 quarantined
inquiries; one user of each role. Nurture as the b2b-saas playbook's tracks would have
left it: every prospect entered ``getting_started`` (15%: ``enterprise_education``) and
every recycled lead ``bad_timing`` when it arrived, and is at the step its age reaches
or has finished (1% of those still in a track paused); half the leads now on the sales
side left a track when promoted, the disqualified when disqualified. The steps of the
last 60 days are touches: sent, or held back first (12% deferred for quiet hours, 4% by
a cap) or skipped (3%). Then starts ``leadflow serve``, signs in as each role
and asks for every page ``--runs`` times in turn, timing each request from the client
(httpx on the same machine, so the figures include HTTP, the session check, the queries
and the rendering). Reported per page: median, p95 and max, in ms. The target: every
page under 300 ms.

    .venv/bin/python benchmarks/bench_web.py                    # 1,000,000 leads, 30 runs
    .venv/bin/python benchmarks/bench_web.py --leads 100000 --runs 10
    .venv/bin/python benchmarks/bench_web.py --reuse            # keep the database
    .venv/bin/python benchmarks/bench_web.py --reuse --no-statistics

The dashboards read the reports' rows (``funnel``, ``funnel_counts``, ``funnel_times``,
``gap_counts``, ``handbacks``): ``report_data.py`` draws them for the same person ids as
``bench_reports.py`` does (a year of timelines; the reports read nothing else). A
database built before the dashboards gets them added by ``--reuse``.

The database is ANALYZEd after it is built, as a DBA might; leadflow itself never runs
ANALYZE, so a database in use has no statistics for SQLite's planner: ``--no-statistics``
drops them (and the default puts them back) to measure that case too.

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
from urllib.parse import quote

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
# The b2b-saas playbook's tracks: each step's channel and its day after entering.
TRACKS = {
    "getting_started": (("email", 0), ("email", 3), ("email", 10), ("call", 17)),
    "enterprise_education": (
        ("email", 0),
        ("email", 7),
        ("email", 21),
        ("call", 28),
        ("mail", 49),
    ),
    "bad_timing": (("email", 30), ("email", 75), ("call", 89)),
}
SALES_SIDE = ("marketing_qualified", "sales_accepted", "sales_qualified", "opportunity", "won")
CAP = "cap: at most 2 marketing emails per week"
QUIET = "quiet hours where the person is"
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
    report_rows(db, leads, seed)
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


def report_rows(db: sqlite3.Connection, leads: int, seed: int) -> None:
    """The rows the dashboards' reports read (``funnel``, its sums and times, the
    hand-backs), from ``report_data.py`` as ``bench_reports.py`` loads them: a year of
    timelines drawn for the same person ids (the reports read nothing else, so they need
    not agree with the lifecycle rows above)."""
    from report_data import report_rows as generate_rows

    started = time.perf_counter()
    for name, frame in generate_rows(leads, seed).items():
        sql = f"INSERT INTO {name} ({', '.join(frame.columns)}) VALUES"
        sql += f" ({', '.join('?' for _ in frame.columns)})"
        for part in frame.iter_slices(200_000):
            db.executemany(sql, part.iter_rows())
        db.commit()
    print(f"  reports' rows in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def ensure_report_rows(database: Path, seed: int) -> None:
    """A database built before the dashboards has people but no reports' rows: add them."""
    db = sqlite3.connect(database)
    if db.execute("SELECT count(*) FROM funnel").fetchone()[0] == 0:
        leads = db.execute("SELECT count(*) FROM people").fetchone()[0]
        report_rows(db, leads, seed)
        db.execute("ANALYZE")
    db.close()


def _nurture(
    rng: random.Random, pid: int, stage: str, at: datetime, enrollments: list, touches: list
) -> None:  # type: ignore[type-arg]
    """The person's enrollment, if it has one, and the touches of its last 60 days."""
    entered = ts(at)
    if stage in (*SALES_SIDE, "lost", "disqualified"):
        if stage == "disqualified" or rng.random() < 0.5:
            why = "disqualified" if stage == "disqualified" else "promoted"
            left = ts(at + timedelta(days=rng.randrange(1, 30)))
            row = (pid, "getting_started", 1, "exited", None, entered, entered, left, why)
            enrollments.append(row)
        return
    track = "bad_timing" if stage == "recycled" else "getting_started"
    if stage == "prospect" and rng.random() < 0.15:
        track = "enterprise_education"
    steps = TRACKS[track]
    done = sum(1 for _, day in steps if at + timedelta(days=day) <= NOW)
    for index, (channel, day) in enumerate(steps[:done]):
        _touches(rng, pid, track, index, channel, at + timedelta(days=day), touches)
    last = ts(at + timedelta(days=steps[done - 1][1])) if done else None
    if done == len(steps):
        row = (pid, track, done, "finished", None, entered, last, last, "track finished")
        enrollments.append(row)
        return
    status = "paused" if rng.random() < 0.01 else "active"
    due = ts(at + timedelta(days=steps[done][1]))
    enrollments.append((pid, track, done, status, due, entered, last, None, None))


def _touches(
    rng: random.Random, pid: int, track: str, step: int, channel: str, at: datetime, out: list
) -> None:  # type: ignore[type-arg]
    if at < NOW - timedelta(days=60):
        return
    row = (pid, channel, "marketing", "prospect", track, step)
    x = rng.random()
    if x < 0.03:
        out.append((*row, ts(at), "skipped", "engaged since the last step"))
        return
    if x < 0.19:
        why, before = (QUIET, rng.randrange(1, 12)) if x < 0.15 else (CAP, rng.randrange(1, 72))
        out.append((*row, ts(at - timedelta(hours=before)), "deferred", why))
    out.append((*row, ts(at), "sent", None))


def _batch(
    db: sqlite3.Connection, rng: random.Random, ids: range, reps: list, cumulative: list
) -> None:  # type: ignore[type-arg]
    people, inquiries, states, lifecycle, events = [], [], [], [], []
    enrollments: list = []  # type: ignore[type-arg]
    touches: list = []  # type: ignore[type-arg]
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
        _nurture(rng, pid, stage, at, enrollments, touches)
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
    db.executemany(
        "INSERT INTO enrollments (person_id, track, step, status, due_at, entered_at,"
        " last_step_at, exited_at, exit_reason) VALUES (?,?,?,?,?,?,?,?,?)",
        enrollments,
    )
    db.executemany(
        "INSERT INTO touches (person_id, channel, side, stage, track, step, at, status, reason)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        touches,
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
    nurtured = db.execute(  # a person in a track, and the members' 100th page
        "SELECT p.email FROM enrollments e JOIN people p ON p.id = e.person_id"
        " WHERE e.status = 'active' ORDER BY e.id DESC LIMIT 1"
    ).fetchone()[0]
    deep = db.execute(
        "SELECT due_at, id FROM enrollments WHERE track = 'getting_started'"
        " AND status NOT IN ('finished', 'exited') ORDER BY due_at, id LIMIT 1 OFFSET 4999"
    ).fetchone()
    db.close()
    after = "x"
    if deep is not None:
        moment = datetime.strptime(deep[0], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        after = quote(f"{moment.isoformat()},{deep[1]}")
    return [
        ("sign-in page", "", "/signin"),
        ("my queue (rep)", "rep@example.com", "/queue"),
        ("my queue, next pool page", "rep@example.com", "/queue?pool_before=900000"),
        ("lead page (rep's own lead)", "rep@example.com", f"/leads/{owned}"),
        ("lead page, another rep's (403)", "rep@example.com", "/leads/2"),
        ("team board (manager)", "manager@example.com", "/team"),
        (
            "dashboard: funnel report, stages now, handed back",
            "marketing@example.com",
            "/dashboard",
        ),
        ("dashboard, funnel by source", "marketing@example.com", "/dashboard?by=source"),
        (
            "dashboard, funnel of a quarter by month",
            "marketing@example.com",
            "/dashboard?since=2026-09-01&until=2026-12-01&by=month",
        ),
        ("dashboard: sources", "marketing@example.com", "/dashboard/sources"),
        (
            "dashboard: sources by campaign",
            "marketing@example.com",
            "/dashboard/sources?by=campaign",
        ),
        ("dashboard: velocity", "marketing@example.com", "/dashboard/velocity"),
        ("dashboard: velocity by source", "marketing@example.com", "/dashboard/velocity?by=source"),
        (
            "dashboard: velocity by campaign",
            "marketing@example.com",
            "/dashboard/velocity?by=campaign",
        ),
        ("dashboard: velocity by rep", "marketing@example.com", "/dashboard/velocity?by=rep"),
        ("dashboard: velocity by month", "marketing@example.com", "/dashboard/velocity?by=month"),
        (
            "dashboard: velocity of a quarter",
            "marketing@example.com",
            "/dashboard/velocity?since=2026-09-01&until=2026-12-01",
        ),
        ("dashboard: recycle", "marketing@example.com", "/dashboard/recycle"),
        ("dashboard: recycle by rep", "marketing@example.com", "/dashboard/recycle?by=rep"),
        ("CSV: sources by campaign", "marketing@example.com", "/dashboard/sources.csv?by=campaign"),
        ("CSV: velocity by source", "marketing@example.com", "/dashboard/velocity.csv?by=source"),
        ("dashboard, a rep's (403)", "rep@example.com", "/dashboard/sources"),
        ("inquiries, newest", "marketing@example.com", "/inquiries"),
        ("inquiries by source", "marketing@example.com", "/inquiries?source=trade_show"),
        ("inquiries by email", "marketing@example.com", f"/inquiries?q={email}"),
        ("inquiries, page 1,000", "marketing@example.com", "/inquiries?before=950000"),
        ("nurture: tracks, schedule, held back", "marketing@example.com", "/nurture"),
        (
            "nurture, one step's people",
            "marketing@example.com",
            "/nurture?track=getting_started&step=2",
        ),
        (
            "nurture, members' page 100",
            "marketing@example.com",
            f"/nurture?track=getting_started&after={after}",
        ),
        ("nurture, a person's tracks", "marketing@example.com", f"/nurture?q={nurtured}"),
        ("nurture, held back in 30 days", "marketing@example.com", "/nurture?held=30"),
        ("quarantine", "marketing@example.com", "/quarantine"),
        ("definitions", "marketing@example.com", "/definitions"),
        ("backtest: the form", "marketing@example.com", "/definitions/backtest"),
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


def statistics_(database: Path, wanted: bool) -> None:
    """ANALYZE the database, or drop its statistics."""
    db = sqlite3.connect(database)
    has = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    if wanted and not has:
        db.execute("ANALYZE")
    elif not wanted and has:
        db.execute("DROP TABLE sqlite_stat1")
    db.commit()
    db.close()
    print(f"SQLite statistics: {'yes (ANALYZE)' if wanted else 'none'}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="Keep an existing database.")
    parser.add_argument(
        "--statistics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="With SQLite's planner statistics (ANALYZE), or without them.",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / "leadflow.db"
    if not (args.reuse and database.exists()):
        print(f"Building {args.leads:,} leads in {database}", file=sys.stderr)
        build(database, args.leads, args.seed)
    else:
        ensure_report_rows(database, args.seed)
    statistics_(database, args.statistics)
    print("| Page | Path | Status | Median ms | p95 ms | Max ms |")
    print("|---|---|---|---|---|---|")
    worst, over = 0.0, []
    for name, path, status, times in measure(database, args.runs):
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        worst = max(worst, ordered[-1])
        median = statistics.median(times)
        print(f"| {name} | `{path}` | {status} | {median:.1f} | {p95:.1f} | {ordered[-1]:.1f} |")
        if ordered[-1] >= 300:
            over.append(f"{name} (median {median:.0f} ms, max {ordered[-1]:.0f} ms)")
    print(f"\nSlowest single request: {worst:.1f} ms (target: every page under 300 ms)")
    print("Over 300 ms: " + ("; ".join(over) if over else "none"))


if __name__ == "__main__":
    main()
