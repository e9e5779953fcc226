"""CPU per capture in-process: the capture API's route functions without HTTP.

Copies the database the capture-API load test left (``benchmarks/out/capture-profile.db``,
made by ``bench_capture_api.py``: a few thousand people, so matching has company blocks to
read), then runs ``--captures`` single inquiries through what ``POST /api/v1/inquiries``
calls, in its order (key check, body parsing, capture and commit), after 100 untimed, and
prints the process CPU and the wall time per capture. About 20 % repeat an earlier email.

``--together 1,2,4,8``: the requests captured in turns of each size, as the server does with
requests that arrive together (``routes_inquiries.Together``), sizes alternating in rounds;
the CPU per capture for each. ``--asgi``: the whole ASGI app in process (Starlette, routing,
the route, the response) against the route's functions alone, alternating in blocks; the
difference is the framework's CPU per capture. ``--fold-behind N``: captures one at a time
folding their events into the reports' rows at once, against captures leaving them for a
fold of every N captures (``leadflow serve`` folds every 0.25 s: N = 125 at 500/s), the
folds' CPU included, alternating in rounds.

To compare two versions of the code side by side, run it alternately with another
``src`` first on the path (the other commit's ``src`` exported with ``git archive``):

    .venv/bin/python benchmarks/bench_capture_api.py --modes closed --duration 5   # the database
    .venv/bin/python benchmarks/bench_capture_cpu.py --captures 2000
    git archive <commit> src | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/src .venv/bin/python benchmarks/bench_capture_cpu.py --captures 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_capture_api import Inquiries  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--source", type=Path, default=ROOT / "benchmarks/out/capture-profile.db")
    parser.add_argument("--playbook", type=Path, default=ROOT / "examples/playbooks/btd.yaml")
    parser.add_argument("--together", help="turn sizes to compare, e.g. 1,2,4,8")
    parser.add_argument("--asgi", action="store_true", help="the ASGI app against the route")
    parser.add_argument("--fold-behind", type=int, help="folding at once against every N")
    args = parser.parse_args()
    if not args.source.exists():
        sys.exit(f"{args.source} is missing: run benchmarks/bench_capture_api.py first")
    path = ROOT / "benchmarks/out/capture-cpu.db"
    for suffix in ("", "-wal", "-shm", "-writer"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(args.source)) as source,
        contextlib.closing(sqlite3.connect(path)) as copy,
    ):
        source.backup(copy)
    os.environ["LEADFLOW_DATABASE_URL"] = f"sqlite:///{path}"

    from leadflow.adapters.playbook_file import load_playbook
    from leadflow.api import deps, routes_inquiries
    from leadflow.api.app import create_app
    from leadflow.api.schemas import parse_object
    from leadflow.config import Settings
    from leadflow.services.keys import create_key
    from leadflow.services.uow import UnitOfWork

    app = create_app(Settings(), playbook=load_playbook(args.playbook))
    runtime: deps.Runtime = app.state.runtime
    with UnitOfWork(runtime.engine) as uow:
        key = create_key(uow, "capture", "cpu", datetime.now(UTC)).key
    inquiries = Inquiries(args.seed, 0.2, "c")

    def one(body: bytes) -> None:
        with runtime.uow() as uow:
            deps.check_key(uow, key, "capture")
            text, parsed = parse_object(body)
            commands = routes_inquiries._commands(runtime, text, parsed, None)
            routes_inquiries._capture_all(uow, runtime, commands)

    for _ in range(100):
        one(inquiries.body()[0])
    load = os.getloadavg()[0]
    if args.together:
        sizes = [int(size) for size in args.together.split(",")]
        spent = together(runtime, key, inquiries, sizes, args.captures)
        for size in sizes:
            print(f"turns of {size}: CPU {spent[size] * 1000:.3f} ms a capture (load {load:.2f})")
    elif args.fold_behind:
        at_once, behind_ = fold_behind(runtime, key, inquiries, args.fold_behind, args.captures)
        print(
            f"{args.captures} captures each way: folded at once {at_once * 1000:.3f} ms of CPU "
            f"a capture, folded behind every {args.fold_behind} {behind_ * 1000:.3f} ms "
            f"(folds included; load {load:.2f})"
        )
    elif args.asgi:
        app_ms, route_ms = asyncio.run(through_asgi(app, key, inquiries, one, args.captures))
        print(
            f"{args.captures} captures each way: the ASGI app {app_ms:.3f} ms of CPU a capture, "
            f"the route's functions {route_ms:.3f} ms; the framework {app_ms - route_ms:.3f} ms "
            f"(load {load:.2f})"
        )
    else:
        bodies = [inquiries.body()[0] for _ in range(args.captures)]
        cpu, wall = time.process_time(), time.perf_counter()
        for body in bodies:
            one(body)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{args.captures} captures: CPU {cpu / args.captures * 1000:.3f} ms a capture, "
            f"wall {wall / args.captures * 1000:.3f} ms (load {os.getloadavg()[0]:.2f})"
        )
    runtime.engine.dispose()


def together(
    runtime: Any, key: str, inquiries: Inquiries, sizes: list[int], captures: int
) -> dict[int, float]:
    """CPU seconds per capture for turns of each size; ``captures`` per size in 4 rounds,
    the sizes in turn (reversed every other round, so a drift of the machine's speed
    falls on all)."""
    from leadflow.api import routes_inquiries

    spent = {size: 0.0 for size in sizes}
    per_round = max(captures // 4, max(sizes))
    for round_ in range(4):
        for size in sizes if round_ % 2 == 0 else sizes[::-1]:
            items = [(key, inquiries.body()[0], None) for _ in range(per_round - per_round % size)]
            started = time.process_time()
            for start in range(0, len(items), size):
                outcomes = routes_inquiries._handle_together(runtime, items[start : start + size])
                assert not any(isinstance(o, BaseException) for o in outcomes), outcomes
            spent[size] += (time.process_time() - started) / len(items) / 4
    return spent


def fold_behind(
    runtime: Any, key: str, inquiries: Inquiries, every: int, captures: int
) -> tuple[float, float]:
    """CPU seconds per capture, folding at once and folding behind (a fold every ``every``
    captures, counted), in 4 rounds of ``captures // 4`` each way, the order alternating."""
    from leadflow.api import routes_inquiries
    from leadflow.services.reports import fold_backlog

    spent = {False: 0.0, True: 0.0}
    per_round = max(captures // 4, every)
    for round_ in range(4):
        for later in (False, True) if round_ % 2 == 0 else (True, False):
            items = [(key, inquiries.body()[0], None) for _ in range(per_round)]
            started = time.process_time()
            for n, item in enumerate(items, 1):
                outcomes = routes_inquiries._handle_together(runtime, [item], fold_later=later)
                assert not any(isinstance(o, BaseException) for o in outcomes), outcomes
                if later and n % every == 0:
                    fold_backlog(runtime.engine)
            if later:
                fold_backlog(runtime.engine)
            spent[later] += (time.process_time() - started) / len(items) / 4
    return spent[False], spent[True]


async def through_asgi(
    app: Any, key: str, inquiries: Inquiries, one: Any, captures: int
) -> tuple[float, float]:
    """Milliseconds of CPU per capture through the ASGI app and through ``one``, in
    alternating blocks of 100."""
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
    ]

    async def post(body: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/inquiries",
            "raw_path": b"/api/v1/inquiries",
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8000),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        assert sent[0]["status"] in (200, 201), sent

    spent = {"app": 0.0, "route": 0.0}
    for block in range(0, captures, 100):
        for way in ("app", "route") if block % 200 == 0 else ("route", "app"):
            bodies = [inquiries.body()[0] for _ in range(100)]
            started = time.process_time()
            for body in bodies:
                if way == "app":
                    await post(body)
                else:
                    one(body)
            spent[way] += time.process_time() - started
    blocks = len(range(0, captures, 100)) * 100
    return spent["app"] / blocks * 1000, spent["route"] / blocks * 1000


if __name__ == "__main__":
    main()
