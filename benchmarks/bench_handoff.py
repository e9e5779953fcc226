"""Speed to lead, end to end: an A lead posted to the API until its rep's webhook gets it.

Prepares a fresh SQLite database in ``benchmarks/out/handoff/`` with the real CLI: the
bundled btd playbook plus hand-off rules (one team, round robin, an acceptance SLA), three
reps, and one webhook per rep scoped to that rep (``leadflow webhooks add URL --events
lead.routed --rep EMAIL``), all pointing at a real HTTP listener on 127.0.0.1 that this
script runs. Starts ``leadflow serve`` and posts A leads (approved budget, the decision
maker, a purchase within 30 days) on an open-loop schedule of R per second. For each lead
the latency runs from the moment its request was due to be sent until the listener has
read the ``lead.routed`` delivery for it (matched by ``person_id``, its signature checked
with that rep's secret). Reported: p50, p90, p99 and max, leads not delivered within the
timeout, and how the leads were spread over the reps.

With ``--during-import ROWS`` a ``leadflow import`` of a generated file of that many rows
(``benchmarks/generate_identities.py``; reused from ``benchmarks/out/`` when present) runs
into the same database at the same time; the leads are posted once the import has begun
writing, and the import's own time is reported too.

    .venv/bin/python benchmarks/bench_handoff.py --leads 10000 --rate 100
    .venv/bin/python benchmarks/bench_handoff.py --leads 2000 --rate 50 --during-import 1000000

Traffic goes only to 127.0.0.1; every run is bounded in time and in count.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench_capture_api import Client, HttpError, proc_cpu, self_cpu

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
LEADFLOW = str(ROOT / ".venv" / "bin" / "leadflow")
HANDOFF = """
routing:
  teams:
    - name: inside_sales
      method: round_robin
slas:
  working_hours: UTC Mon-Sun 00:00-24:00
  grades:
    A: {accept: 1h, first_contact: 4h}
"""


class Listener(ThreadingHTTPServer):
    """Keeps, per person id, when its ``lead.routed`` arrived and whether it was signed
    with the secret of the rep it names."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secrets: dict[int, str] = {}
        self.arrived: dict[int, tuple[float, int, bool]] = {}
        self.other = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Listener

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen = time.perf_counter()
        self.send_response(204)
        self.end_headers()
        document = json.loads(body)
        data = document.get("data", {})
        rep = int(data.get("rep_id") or 0)
        secret = self.server.secrets.get(rep, "")
        sign = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(sign, self.headers.get("X-Leadflow-Signature", ""))
        with self.server.lock:
            if document.get("event") == "lead.routed":
                self.server.arrived.setdefault(int(data["person_id"]), (seen, rep, good))
            else:
                self.server.other += 1

    def log_message(self, format: str, *args: Any) -> None:
        return


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(args: argparse.Namespace, listener: Listener) -> tuple[dict[str, str], str]:
    work = OUT / "handoff"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    playbook = work / "playbook.yaml"
    btd = (ROOT / "src/leadflow/playbooks/btd.yaml").read_text(encoding="utf-8")
    playbook.write_text(btd + HANDOFF, encoding="utf-8")
    env = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": f"sqlite:///{work / 'leadflow.db'}",
        "LEADFLOW_PLAYBOOK": str(playbook),
        "LEADFLOW_DISPATCH_INTERVAL": str(args.dispatch_interval),
    }
    run([LEADFLOW, "init"], env)
    key = run([LEADFLOW, "keys", "create", "--scope", "capture"], env)
    for n in range(args.reps):
        email = f"rep{n}@bench.example"
        add = [LEADFLOW, "reps", "add", "--name", f"Rep {n}", "--email", email]
        rep = int(run([*add, "--team", "inside_sales"], env))
        secret = run(
            [LEADFLOW, "webhooks", "add", listener.url, "--events", "lead.routed", "--rep", email],
            env,
        )
        listener.secrets[rep] = secret
    return env, key


def import_file(rows: int) -> Path:
    path = OUT / f"identities-{rows}.csv"
    if not path.exists():
        script = ROOT / "benchmarks" / "generate_identities.py"
        subprocess.run([sys.executable, str(script), str(rows), "-o", str(path)], check=True)
    return path


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [LEADFLOW, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    sys.exit("leadflow serve did not answer /health within 30 s")


async def post_leads(
    port: int, key: str, leads: int, rate: float, connections: int
) -> tuple[dict[int, float], dict[int, float], list[str]]:
    """Post ``leads`` A leads at ``rate`` per second; the due time of each and the time
    its answer came, by person id.

    Through bench_capture_api's lean keep-alive client, with the requests built
    beforehand: httpx's connection pool costs milliseconds of CPU per request and grows
    with the requests waiting for a connection, so on a busy machine the client fell
    behind its own schedule and charged that to the server.
    """
    due: dict[int, float] = {}
    answered: dict[int, float] = {}
    errors: list[str] = []
    async with Client(port, key, connections, timeout=60) as client:
        requests = [client.request(json.dumps(_body(n)).encode()) for n in range(leads)]
        start = time.perf_counter() + 0.1

        async def one(n: int) -> None:
            at = start + n / rate
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            try:
                status, text = await client.exchange(requests[n])
            except (OSError, TimeoutError, HttpError) as error:
                errors.append(f"{type(error).__name__}: {error}")
                return
            done = time.perf_counter()
            if status not in (200, 201):
                errors.append(f"{status}: {text[:200]!r}")
                return
            result = json.loads(text)
            if result.get("grade") != "A":
                errors.append(f"lead {n} was graded {result.get('grade')}, not A")
            due[int(result["person_id"])] = at
            answered[int(result["person_id"])] = done

        await asyncio.gather(*(one(n) for n in range(leads)))
    return due, answered, errors


def _body(n: int) -> dict[str, str]:
    return {
        "email": f"buyer{n}@company{n}.example",
        "first_name": "Pat",
        "last_name": f"Buyer{n}",
        "budget": "approved",
        "decision_role": "decision maker",
        "timeframe_days": "30",
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def split(
    due: dict[int, float], answered: dict[int, float], arrived: dict[int, tuple[float, Any, bool]]
) -> None:
    """Where the time went: the capture (post to its answer) and the rest (the answer to
    the webhook: the dispatcher's claim and the POST)."""
    for label, values in (
        ("  post -> answer (capture)", [answered[p] - at for p, at in due.items()]),
        (
            "  answer -> webhook (dispatch)",
            [arrived[p][0] - answered[p] for p in due if p in arrived],
        ),
    ):
        ms = [1000 * x for x in values]
        print(
            f"{label}: p50 {percentile(ms, 0.5):.0f} ms, p90 {percentile(ms, 0.9):.0f} ms, "
            f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
        )


def timeline(
    due: dict[int, float], arrived: dict[int, tuple[float, Any, bool]], posting: float
) -> None:
    """The slowest lead of each 10 s of posting: when the tail happened."""
    worst: dict[int, float] = {}
    for p, at in due.items():
        if p in arrived:
            window = int((at - posting) // 10)
            worst[window] = max(worst.get(window, 0.0), arrived[p][0] - at)
    cells = ", ".join(f"{10 * w}s {1000 * v:.0f}" for w, v in sorted(worst.items()))
    print(f"  slowest per 10 s of posting (ms): {cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="A leads posted per second")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--connections",
        type=int,
        default=0,
        help="keep-alive connections (default: rate/5, 2 to 32: each used within the "
        "server's 5 s keep-alive)",
    )
    parser.add_argument("--dispatch-interval", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=60.0, help="wait for stragglers")
    parser.add_argument("--during-import", type=int, default=0, metavar="ROWS")
    parser.add_argument(
        "--wait-import",
        action="store_true",
        help="let the import finish (by default it is stopped once the leads are measured)",
    )
    args = parser.parse_args(argv)

    listener = Listener()
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    env, key = prepare(args, listener)
    load_before = os.getloadavg()
    server, base = serve(env)
    importer = None
    import_started = 0.0
    try:
        if args.during_import:
            path = import_file(args.during_import)
            import_started = time.perf_counter()
            importer = subprocess.Popen(
                [LEADFLOW, "import", str(path), "--source", "bench-import"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(15)  # past reading and preparing the file: into its writing
        posting = time.perf_counter()
        server_cpu, client_cpu = proc_cpu(server.pid)[0], self_cpu()
        port = int(base.rsplit(":", 1)[1])
        connections = args.connections or min(32, max(2, int(args.rate // 5)))
        posted = post_leads(port, key, args.leads, args.rate, connections)
        due, answered, errors = asyncio.run(posted)
        deadline = time.perf_counter() + args.timeout
        while time.perf_counter() < deadline:
            with listener.lock:
                if all(p in listener.arrived for p in due):
                    break
            time.sleep(0.05)
        busy = time.perf_counter() - posting
        server_cpu, client_cpu = proc_cpu(server.pid)[0] - server_cpu, self_cpu() - client_cpu
        import_running = importer is not None and importer.poll() is None
        if importer is not None and import_running and not args.wait_import:
            importer.terminate()  # the leads are measured: the rest of the import is not
            importer.wait(30)
        elif importer is not None:
            importer.wait()
    finally:
        if importer is not None and importer.poll() is None:
            importer.kill()
        server.terminate()
        server.wait(10)
        listener.shutdown()
    import_seconds = time.perf_counter() - import_started if importer else 0.0
    with listener.lock:
        arrived = dict(listener.arrived)
    latencies = [arrived[p][0] - at for p, at in due.items() if p in arrived]
    missing = [p for p in due if p not in arrived]
    unsigned = sum(1 for p in due if p in arrived and not arrived[p][2])
    spread = Counter(arrived[p][1] for p in due if p in arrived)
    load_after = os.getloadavg()
    print(f"machine: {platform.node()} {os.cpu_count()} cpus, load {load_before} -> {load_after}")
    print(f"leads posted: {len(due)} at {args.rate:g}/s; errors: {len(errors)}")
    for line in errors[:5]:
        print(f"  {line}")
    if latencies:
        ms = [1000 * x for x in latencies]
        print(
            "post -> lead.routed received: "
            f"p50 {percentile(ms, 0.5):.0f} ms, p90 {percentile(ms, 0.9):.0f} ms, "
            f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
        )
        split(due, answered, arrived)
        timeline(due, arrived, posting)
    print(f"not received within {args.timeout:g} s: {len(missing)}; bad signatures: {unsigned}")
    if due:
        print(
            f"CPU while posting and waiting ({busy:.0f} s): leadflow serve "
            f"{1000 * server_cpu / len(due):.2f} ms a lead ({server_cpu / busy:.0%} of a core), "
            f"this script (client and listener) {1000 * client_cpu / len(due):.2f} ms a lead"
        )
    print(f"per rep: {dict(sorted(spread.items()))}")
    if importer is not None:
        state = "running the whole time the leads were posted" if import_running else "done first"
        print(
            f"import of {args.during_import:,} rows: {state}; "
            f"{import_seconds:.0f} s from its start to the end of the measurement"
        )
    return 0 if latencies and not missing and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
