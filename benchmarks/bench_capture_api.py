"""Load test of the capture API: ``POST /api/v1/inquiries`` on SQLite, against `leadflow serve`.

Prepares a fresh SQLite database in ``benchmarks/out/``, creates a capture key with the real
CLI (``leadflow init``, ``leadflow keys create --scope capture``), starts ``leadflow serve`` on
a free port of 127.0.0.1 (``--workers N`` is passed on) and always stops it at the end.
Then, over HTTP/1.1 keep-alive connections, posts single inquiries: about 20 % repeat an
earlier person's email (they merge), the rest are new people. Each request is timed on the
client (``time.perf_counter``). The client is a small asyncio protocol that sends requests
built beforehand and reads only status and length, so that it takes little of the CPU the
server needs (httpx took 2-3 ms per request, a core at 400/s).

1. **Closed loop**: C workers post back to back for D seconds: the most it can take, and the
   latency at that load.
2. **Open loop**: requests are started on a fixed schedule of R per second for D seconds,
   whatever the answers do; latency counts from the scheduled start (so a server that falls
   behind is charged for the queue too, no coordinated omission).

Reported per run: requests, achieved req/s, p50/p95/p99 ms, errors (transport errors and
any status other than 200/201), quarantined (202) answers, and the CPU used by the server
(its process and worker processes) and by this load generator (from ``/proc``), which say
what limits throughput.

With ``--profile N`` (default 500) it also runs N captures in-process, without HTTP, through
the same functions the route calls (key check, body parsing, capture and commit), timing the
phases and profiling them with cProfile, so the time per request can be split into HTTP
serving and the capture itself (normalisation, matching, rating, SQL, commit).

    .venv/bin/python benchmarks/bench_capture_api.py                  # D=20 s, C=8, R=500
    .venv/bin/python benchmarks/bench_capture_api.py --workers 2 --modes open --rate 500
    .venv/bin/python benchmarks/bench_capture_api.py --duration 10 --concurrency 1,8 --rate 200,500

Traffic goes only to 127.0.0.1; every run is bounded in time and in count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PATH = "/api/v1/inquiries"
FIRST = [
    "ann",
    "bob",
    "carla",
    "dev",
    "elif",
    "femi",
    "greta",
    "hiro",
    "ines",
    "jon",
    "kira",
    "liam",
    "maya",
    "noah",
    "olu",
    "priya",
]
FIRST += [
    "quinn",
    "rosa",
    "sven",
    "tara",
    "uma",
    "victor",
    "wen",
    "xavi",
    "yara",
    "zoe",
    "arjun",
    "bea",
    "chen",
    "dana",
    "emil",
]
LAST = [
    "adler",
    "baker",
    "costa",
    "dubois",
    "evans",
    "fischer",
    "garcia",
    "hughes",
    "ito",
    "jensen",
    "kowalski",
    "lopez",
]
LAST += [
    "moreau",
    "nakamura",
    "okafor",
    "petrov",
    "quist",
    "rossi",
    "schmidt",
    "tanaka",
    "umar",
    "vargas",
    "weber",
    "xu",
]
LAST += ["young", "zimmer", "abara", "bianchi", "carter", "dahl"]
BUDGET = ["approved", "Approved", " APPROVED ", "pending", "none", ""]
TIMEFRAME = ["30", "14", "90", "180", " 60 ", "soon", ""]
ROLE = ["decision maker", "Decision Maker", "decision-maker", "influencer", "user", ""]
COMPANIES = 400  # people spread over this many companies (accounts are shared)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- inquiries ------------------------------------------------------------------------------


class Inquiries:
    """Bodies for single-inquiry posts: new people, and a share repeating an earlier email."""

    def __init__(self, seed: int, repeat_share: float, run: str) -> None:
        self.rng = random.Random(seed)
        self.repeat_share = repeat_share
        self.run = run
        self.people: list[tuple[str, str, str, str]] = []  # email, first, last, company
        self.made = 0

    def body(self) -> tuple[bytes, bool]:
        """A JSON body, and whether it repeats an earlier person."""
        rng = self.rng
        repeat = bool(self.people) and rng.random() < self.repeat_share
        if repeat:
            email, first, last, company = rng.choice(self.people)
        else:
            self.made += 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            number = rng.randrange(COMPANIES)
            company = f"Company {number} Ltd"
            email = f"{first}.{last}.{self.run}{self.made}@company{number}.example"
            self.people.append((email, first.title(), last.title(), company))
            first, last = first.title(), last.title()
        data = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "company": company,
            "budget": rng.choice(BUDGET),
            "timeframe_days": rng.choice(TIMEFRAME),
            "decision_role": rng.choice(ROLE),
        }
        return json.dumps(data).encode(), repeat


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Run:
    mode: str
    load: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    service: list[float] = field(default_factory=list)  # seconds from actual send (open loop)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    dropped: int = 0  # open loop: not sent because too many were in flight
    elapsed: float = 0.0
    server_cpu: float = 0.0  # seconds of CPU of the server process and its children
    serving_cpu: float = 0.0  # of the server process alone (its children: the folder)
    client_cpu: float = 0.0  # seconds of CPU of this process
    repeats: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def record(self, status: str, started: float, sent: float, done: float) -> None:
        self.statuses[status] += 1
        if status in ("200", "201", "202"):
            self.latencies.append(done - started)
            self.service.append(done - sent)
        else:
            self.errors += 1


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


def proc_cpu(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of a process and its live descendants, and of the process
    alone, from /proc."""
    stats: dict[int, tuple[int, float]] = {}  # pid: (parent, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, (0, 0.0))[1]
        todo += [child for child, (parent, _cpu) in stats.items() if parent == current]
    return total, stats.get(pid, (0, 0.0))[1]


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class HttpError(Exception):
    """The connection broke, or the answer was not HTTP/1.1 as expected."""


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends prepared requests and reads status codes.

    Cheaper than a general client (httpx costs about 2-3 ms of CPU per request here, which on
    two cores takes CPU from the server under test): requests are bytes built beforehand, and
    of each answer only the status line and Content-Length are read.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.body = b""  # the last answer's body

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length = 0
        for header in head[1:]:
            name, _, value = header.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        self.body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(int(head[0].split(" ", 2)[1]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc}"))

    async def send(self, request: bytes, timeout: float) -> int:
        if self.transport is None:
            raise HttpError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await asyncio.wait_for(self.waiter, timeout)


class Client:
    """Up to ``connections`` keep-alive connections; a request waits for a free one."""

    def __init__(self, port: int, key: str, connections: int, timeout: float) -> None:
        self.port, self.key, self.timeout = port, key, timeout
        self.size = connections
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()

    async def __aenter__(self) -> Client:
        loop = asyncio.get_running_loop()
        for _ in range(self.size):
            _transport, conn = await loop.create_connection(Connection, HOST, self.port)
            self.idle.put_nowait(conn)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        while not self.idle.empty():
            conn = self.idle.get_nowait()
            if conn.transport is not None:
                conn.transport.close()

    def request(self, body: bytes | None) -> bytes:
        """The bytes of a POST of ``body``; without a body, GET /healthz."""
        if body is None:
            return f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode()
        return (
            f"POST {PATH} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def send(self, request: bytes) -> int:
        return (await self.exchange(request))[0]

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """The answer's status and body."""
        conn = await self.idle.get()
        try:
            if conn.transport is None:  # broken earlier: open a new one in its place
                loop = asyncio.get_running_loop()
                _transport, conn = await loop.create_connection(Connection, HOST, self.port)
            return await conn.send(request, self.timeout), conn.body
        except (OSError, TimeoutError, HttpError):
            if conn.transport is not None:
                conn.transport.close()
            raise
        finally:
            self.idle.put_nowait(conn)


async def post(client: Client, request: bytes, run: Run, started: float) -> None:
    """Send a prepared request; time it from ``started`` and from the actual send."""
    sent = time.perf_counter()
    try:
        status = str(await client.send(request))
    except (OSError, TimeoutError, HttpError) as error:
        status = type(error).__name__
    run.record(status, started, sent, time.perf_counter())


async def closed_loop(
    client: Client,
    gen: Inquiries | None,
    run: Run,
    workers: int,
    duration: float,
    cap: int,
) -> None:
    start = time.perf_counter()
    deadline = start + duration
    budget = [cap]

    async def worker() -> None:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            body, repeat = gen.body() if gen is not None else (None, False)
            run.repeats += repeat
            await post(client, client.request(body), run, time.perf_counter())

    await asyncio.gather(*(worker() for _ in range(workers)))
    run.elapsed = time.perf_counter() - start


async def open_loop(
    client: Client,
    gen: Inquiries,
    run: Run,
    rate: float,
    duration: float,
    max_in_flight: int,
) -> None:
    total = int(rate * duration)
    made = [gen.body() for _ in range(total)]  # all bodies prepared before the clock starts
    requests = [client.request(body) for body, _repeat in made]
    run.repeats += sum(repeat for _body, repeat in made)
    start = time.perf_counter() + 0.01
    in_flight: set[asyncio.Task[None]] = set()
    for i, request in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= max_in_flight:
            run.dropped += 1
            run.statuses["dropped"] += 1
            run.errors += 1
            continue
        task = asyncio.create_task(post(client, request, run, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
    run.elapsed = time.perf_counter() - start


async def measure(
    args: argparse.Namespace, port: int, key: str, server_pid: int, gen: Inquiries
) -> list[Run]:
    runs: list[Run] = []
    cap = int(args.max_requests)

    async def timed(run: Run, work: Any) -> Run:
        (server0, serving0), client0 = proc_cpu(server_pid), self_cpu()
        await work
        server1, serving1 = proc_cpu(server_pid)
        run.server_cpu, run.serving_cpu = server1 - server0, serving1 - serving0
        run.client_cpu = self_cpu() - client0
        return run

    first = args.concurrency[0]
    if args.warmup > 0:
        async with Client(port, key, first, args.timeout) as client:
            warm = Run("warm-up", f"C={first}")
            await closed_loop(client, gen, warm, first, args.warmup, cap)
            print(f"warm-up: {warm.requests} requests, statuses {dict(warm.statuses)}", flush=True)
    if args.baseline > 0:
        async with Client(port, key, 1, args.timeout) as client:
            run = Run("closed loop, GET /healthz (baseline)", "C=1")
            runs.append(await timed(run, closed_loop(client, None, run, 1, args.baseline, cap)))
            print(line(run), flush=True)
    if "closed" in args.modes:
        for workers in args.concurrency:
            async with Client(port, key, workers, args.timeout) as client:
                run = Run("closed loop", f"C={workers}")
                work = closed_loop(client, gen, run, workers, args.duration, cap)
                runs.append(await timed(run, work))
                print(line(run), flush=True)
    if "open" in args.modes:
        for rate in args.rate:
            connections = args.open_connections
            async with Client(port, key, connections, args.timeout) as client:
                run = Run("open loop", f"R={rate:g}/s ({connections} conns)")
                limit = min(cap, args.max_in_flight)
                work = open_loop(client, gen, run, rate, args.duration, limit)
                runs.append(await timed(run, work))
                print(line(run), flush=True)
    return runs


def line(run: Run) -> str:
    return (
        f"{run.mode} {run.load}: {run.requests} requests in {run.elapsed:.1f} s, "
        f"{run.ok / run.elapsed:.0f} ok/s, p50 {ms(percentile(run.latencies, 0.5))} "
        f"p99 {ms(percentile(run.latencies, 0.99))} ms, errors {run.errors}, "
        f"statuses {dict(run.statuses)}, server CPU {run.server_cpu / run.elapsed:.0%} "
        f"(the serving process {run.serving_cpu / run.elapsed:.0%}), "
        f"client CPU {run.client_cpu / run.elapsed:.0%}"
    )


def ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f}"


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare(args: argparse.Namespace, env: dict[str, str]) -> str:
    """Fresh database, schema and a capture key made with the CLI; returns the key."""
    leadflow = str(args.bin / "leadflow")
    subprocess.run([leadflow, "init"], env=env, check=True, capture_output=True, timeout=120)
    made = subprocess.run(
        [leadflow, "keys", "create", "--scope", "capture", "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    key = made.stdout.strip()
    if not key.startswith("lf_"):
        raise SystemExit(f"unexpected output of 'leadflow keys create': {made.stdout!r}")
    return key


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"leadflow serve exited with {server.returncode}; see the log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"leadflow serve did not answer /healthz within {timeout:g} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def database_counts(path: Path) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        counts: dict[str, Any] = {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("inquiries", "people", "merges", "accounts", "quarantine", "events")
        }
        counts["quarantine reasons"] = dict(
            db.execute("SELECT reason, count(*) FROM quarantine GROUP BY reason").fetchall()
        )
    return counts


# --- in-process profile ---------------------------------------------------------------------

PHASES = [
    ("key check (authenticate)", "deps.py", "check_key"),
    ("parse + validate body", "routes_inquiries.py", "_commands"),
    ("capture + commit (_capture_all)", "routes_inquiries.py", "_capture_all"),
    ("  capture_in (all SQL and logic)", "capture.py", "capture_in"),
    ("    normalise identity", "normalise.py", "normalise"),
    ("    find_person (matching)", "identity.py", "find_person"),
    ("    insert inquiry", "repository.py", "insert_inquiry"),
    ("    _consolidate (person, merge, account, keys, blocks)", "capture.py", "_consolidate"),
    ("      account_for", "capture.py", "account_for"),
    ("    rate_and_save (rate + save rating)", "capture.py", "rate_and_save"),
    ("      rate (domain rating)", "rating.py", "rate"),
    ("    append_events", "repository.py", "append_events"),
    ("  commit", "uow.py", "commit"),
    ("  open/close connection (UnitOfWork)", "uow.py", "__enter__"),
    ("all sqlite3 execute calls", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("sqlite3 commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
]


def profile_in_process(args: argparse.Namespace, playbook: Path | None, source: Path) -> str:
    """Run N captures through the route's own functions without HTTP; timing and cProfile.

    On a copy of the load test's database (``source``), so matching sees as many people
    per company as the server did at the end.
    """
    path = args.out / "capture-profile.db"
    for suffix in ("", "-wal", "-shm", "-writer"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(path)) as dst,
    ):
        src.backup(dst)
    os.environ["LEADFLOW_DATABASE_URL"] = f"sqlite:///{path}"
    from leadflow.adapters.playbook_file import load_playbook
    from leadflow.api import deps, routes_inquiries
    from leadflow.api.app import create_app
    from leadflow.api.schemas import parse_object
    from leadflow.config import Settings
    from leadflow.services.keys import create_key
    from leadflow.services.uow import UnitOfWork

    settings = Settings()
    app = create_app(settings, playbook=load_playbook(playbook) if playbook else None)
    runtime: deps.Runtime = app.state.runtime
    with UnitOfWork(runtime.engine) as uow:
        key = create_key(uow, "capture", "profile", datetime.now(UTC)).key
    gen = Inquiries(args.seed + 1, args.repeat_share, "p")

    def one(body: bytes) -> tuple[float, float, float]:
        """What ``routes_inquiries._handle`` does, in its order, timed by phase."""
        t0 = time.perf_counter()
        with runtime.uow() as uow:
            deps.check_key(uow, key, "capture")
            t1 = time.perf_counter()
            text, parsed = parse_object(body)
            commands = routes_inquiries._commands(runtime, text, parsed, None)
            t2 = time.perf_counter()
            results = routes_inquiries._capture_all(uow, runtime, commands)
        assert not results[0].quarantined, results[0]
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2

    for _ in range(50):  # warm-up, also gives repeats something to repeat
        one(gen.body()[0])
    bodies = [gen.body()[0] for _ in range(args.profile)]
    plain = [one(b) for b in bodies[: args.profile // 2]]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for body in bodies[args.profile // 2 :]:
        one(body)
    profiler.disable()
    profiled_wall = time.perf_counter() - start
    runtime.engine.dispose()

    auth, parse, cap = (statistics.median(x) * 1000 for x in zip(*plain, strict=True))
    total = [sum(t) * 1000 for t in plain]
    stats = pstats.Stats(profiler)
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    lines = [
        f"### In-process capture path ({len(plain)} timed without profiler, "
        f"{args.profile - len(plain)} under cProfile)",
        "",
        "Without the profiler, median per inquiry: "
        f"key check (with opening the connection) {auth:.2f} ms, parse + validate {parse:.2f} ms, "
        f"capture + commit {cap:.2f} ms; total median {statistics.median(total):.2f} ms, "
        f"p99 {percentile(total, 0.99):.2f} ms, i.e. at most "
        f"{1000 / statistics.mean(total):.0f} inquiries/s on one core without HTTP "
        "(on a copy of the load test's database).",
        "",
        "Under cProfile (times inflated by the profiler; shares are what matter):",
        "",
        "| phase | cumulative ms per inquiry | share of profiled time |",
        "|---|---:|---:|",
    ]
    count = args.profile - len(plain)
    for label, filename, function in PHASES:
        found = [
            v
            for (fn, _line, name), v in table.items()
            if name == function and (fn.endswith(filename) or fn == filename)
        ]
        if not found:
            continue
        cumulative = sum(v[3] for v in found)
        lines.append(
            f"| {label} | {cumulative / count * 1000:.2f} | {cumulative / profiled_wall:.0%} |"
        )
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(40)
    callers = pstats.Stats(profiler, stream=buffer).sort_stats("cumulative")
    callers.print_callers("_make_proxy|_execute_clauseelement")
    (args.out / "capture_profile.txt").write_text(buffer.getvalue())
    lines += ["", "Top functions by own time: `benchmarks/out/capture_profile.txt`."]
    return "\n".join(lines)


# --- report ---------------------------------------------------------------------------------


def machine(load_start: tuple[float, ...], load_end: tuple[float, ...]) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for package in ("leadflow", "fastapi", "starlette", "uvicorn", "httpx", "sqlalchemy"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
    for extra in ("uvloop", "httptools"):
        try:
            __import__(extra)
            versions.append(f"{extra} installed")
        except ImportError:
            versions.append(f"no {extra} (uvicorn uses asyncio + h11)")

    def load(avg: tuple[float, ...]) -> str:
        return " / ".join(f"{x:.2f}" for x in avg)

    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical, {usable} usable",
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "Packages": ", ".join(versions),
        "Load average (1/5/15 min) at start": load(load_start),
        "Load average (1/5/15 min) at end": load(load_end),
    }


def report(
    args: argparse.Namespace,
    runs: list[Run],
    info: dict[str, str],
    counts: dict[str, Any],
    profile: str,
) -> str:
    out = [
        "## Capture API on SQLite: `POST /api/v1/inquiries`, one inquiry per request",
        "",
        f"Duration {args.duration:g} s per run, {args.repeat_share:.0%} of inquiries repeat an "
        f"earlier email (merge), `leadflow serve --workers {args.workers}`, "
        f"playbook `{args.playbook or 'bundled b2b-saas'}`, client and server on the same "
        "machine. Latency from the client; in the open loop from each request's scheduled "
        "start. Errors: transport errors and statuses other than 200/201/202.",
        "",
        "| mode | concurrency / target rate | requests | achieved req/s | p50 ms | p95 ms "
        "| p99 ms | errors | 202 (quarantined) | server CPU | server CPU ms/req "
        "| the serving process alone | client CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lat = run.latencies
        out.append(
            f"| {run.mode} | {run.load} | {run.requests} | {run.ok / run.elapsed:.0f} "
            f"| {ms(percentile(lat, 0.5))} | {ms(percentile(lat, 0.95))} "
            f"| {ms(percentile(lat, 0.99))} | {run.errors} | {run.statuses.get('202', 0)} "
            f"| {run.server_cpu / run.elapsed:.0%} "
            f"| {run.server_cpu / max(run.ok, 1) * 1000:.1f} "
            f"| {run.serving_cpu / run.elapsed:.0%} "
            f"| {run.client_cpu / run.elapsed:.0%} |"
        )
    odd = [
        f"{run.mode} {run.load}: {dict(run.statuses)}"
        for run in runs
        if set(run.statuses) - {"200", "201"}
    ]
    if odd:
        out += ["", "Answers other than 200/201 ('dropped': not sent, too many in flight):"]
        out += [f"- {text}" for text in odd]
    opens = [r for r in runs if r.mode == "open loop" and r.service]
    if opens:
        out += ["", "Open loop, latency from the actual send (without client-side queueing):"]
        for run in opens:
            out.append(
                f"- {run.load}: p50 {ms(percentile(run.service, 0.5))} ms, "
                f"p99 {ms(percentile(run.service, 0.99))} ms"
            )
    out += [
        "",
        "CPU is the share of one core over the run (100 % = one core busy); each server "
        "worker is one Python process, so with the GIL it cannot use much more than one core.",
        "",
        "Database after the runs: "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "quarantine reasons")
        + f"; quarantine reasons {counts.get('quarantine reasons') or 'none'}.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
    ]
    if profile:
        out += ["", profile]
    return "\n".join(out) + "\n"


# --- main -----------------------------------------------------------------------------------


def numbers(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run (20)")
    parser.add_argument(
        "--concurrency", type=numbers, default=[8.0], help="closed-loop workers, e.g. 1,8 (8)"
    )
    parser.add_argument(
        "--rate", type=numbers, default=[500.0], help="open-loop target req/s, e.g. 200,500"
    )
    parser.add_argument("--modes", default="closed,open", help="closed,open (both)")
    parser.add_argument(
        "--open-connections", type=int, default=32, help="connection pool of the open loop (32)"
    )
    parser.add_argument(
        "--max-in-flight", type=int, default=2000, help="open loop: drop beyond this (2000)"
    )
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per run")
    parser.add_argument(
        "--baseline", type=float, default=5.0, help="seconds of GET /healthz, C=1 (5; 0: skip)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up (2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request (10 s)")
    parser.add_argument("--repeat-share", type=float, default=0.2, help="repeated emails (0.2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--playbook",
        type=Path,
        default=ROOT / "examples" / "playbooks" / "btd.yaml",
        help="playbook for serve (btd.yaml: its fields are the ones posted)",
    )
    parser.add_argument("--workers", type=int, default=1, help="leadflow serve --workers (1)")
    parser.add_argument(
        "--no-access-log", action="store_true", help="leadflow serve --no-access-log"
    )
    parser.add_argument("--profile", type=int, default=500, help="in-process captures (0: skip)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--bin", type=Path, default=ROOT / ".venv" / "bin")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency]
    args.modes = {m.strip() for m in args.modes.split(",")}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    database = args.out / "capture-api.db"
    for suffix in ("", "-wal", "-shm", "-writer"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("LEADFLOW_PLAYBOOK", None)
    key = prepare(args, env)
    port = free_port()
    base = f"http://{HOST}:{port}"
    command = [str(args.bin / "leadflow"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(args.workers)]
    if args.no_access_log:
        command += ["--no-access-log"]
    if args.playbook:
        command += ["--playbook", str(args.playbook)]
    log = (args.out / "capture-api-serve.log").open("wb")
    print("$ " + " ".join(command), flush=True)
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(base, server, timeout=30)
        gen = Inquiries(args.seed, args.repeat_share, "r")
        runs = asyncio.run(measure(args, port, key, server.pid, gen))
    finally:
        stop(server)
        log.close()
    counts = database_counts(database)
    profile = profile_in_process(args, args.playbook, database) if args.profile > 0 else ""
    info = machine(load_start, os.getloadavg())
    text = report(args, runs, info, counts, profile)
    print()
    print(text)
    (args.out / "capture_api_results.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
