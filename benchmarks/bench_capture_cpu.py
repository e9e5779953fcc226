"""CPU per capture in-process: the capture API's route functions without HTTP.

Copies the database the capture-API load test left (``benchmarks/out/capture-profile.db``,
made by ``bench_capture_api.py``: a few thousand people, so matching has company blocks to
read), then runs ``--captures`` single inquiries through what ``POST /api/v1/inquiries``
calls, in its order (key check, body parsing, capture and commit), after 100 untimed, and
prints the process CPU and the wall time per capture. About 20 % repeat an earlier email.

To compare two versions of the code side by side, run it alternately with another
``src`` first on the path (the other commit's ``src`` exported with ``git archive``):

    .venv/bin/python benchmarks/bench_capture_api.py --modes closed --duration 5   # the database
    .venv/bin/python benchmarks/bench_capture_cpu.py --captures 2000
    git archive <commit> src | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/src .venv/bin/python benchmarks/bench_capture_cpu.py --captures 2000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_capture_api import Inquiries  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--source", type=Path, default=ROOT / "benchmarks/out/capture-profile.db")
    parser.add_argument("--playbook", type=Path, default=ROOT / "examples/playbooks/btd.yaml")
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
    bodies = [inquiries.body()[0] for _ in range(args.captures)]
    cpu, wall = time.process_time(), time.perf_counter()
    for body in bodies:
        one(body)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    load = os.getloadavg()[0]
    print(
        f"{args.captures} captures: CPU {cpu / args.captures * 1000:.3f} ms a capture, "
        f"wall {wall / args.captures * 1000:.3f} ms (load {load:.2f})"
    )
    runtime.engine.dispose()


if __name__ == "__main__":
    main()
