"""The backtest page timed over HTTP on a modest history: long work by nature.

Builds ``benchmarks/out/web-backtest/demo`` with ``leadflow demo --no-serve --leads N``
(N inquiries captured as the API and imports do, with their activities: real facts and
engagement for the ratings to read), starts ``leadflow serve`` on it, signs in as the
demo's marketing user and posts the backtest form: the bundled b2b-saas playbook (the
active one) against a candidate whose Starter A needs ``fit >= 60`` instead of 20, over the
whole history (the demo captures every inquiry on the day it runs, so a *since* day would
not cut it). Timed from the client ``--runs`` times, and the same backtest in process
(``services.reports.run_backtest``), to show what HTTP and the page add.

    .venv/bin/python benchmarks/bench_backtest_page.py                 # 20,000 inquiries
    .venv/bin/python benchmarks/bench_backtest_page.py --inquiries 5000 --runs 3
    .venv/bin/python benchmarks/bench_backtest_page.py --reuse

Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "web-backtest"
MARKETING, PASSWORD = "mia.chen@example.com", "leadflow-demo"  # the demo's
STARTER_A = "when: buys_within_month and has_authority and fit >= 20"
PORT = 8792


def candidate() -> str:
    text = resources.files("leadflow.playbooks").joinpath("b2b-saas.yaml").read_text("utf-8")
    assert STARTER_A in text, "the b2b-saas Starter A rule changed: update the benchmark"
    return text.replace(STARTER_A, STARTER_A.replace("fit >= 20", "fit >= 60"))


def build(folder: Path, inquiries: int, env: dict[str, str]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    leadflow = str(ROOT / ".venv" / "bin" / "leadflow")
    subprocess.run(
        [leadflow, "demo", "--no-serve", "--dir", folder.name, "--leads", str(inquiries)],
        cwd=folder.parent,
        env=env,
        check=True,
        capture_output=True,
    )
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def size(database: Path) -> tuple[int, int]:
    """The inquiries and the leads of the history."""
    db = sqlite3.connect(database)
    inquiries = db.execute("SELECT count(*) FROM inquiries").fetchone()[0]
    people = db.execute("SELECT count(*) FROM people").fetchone()[0]
    db.close()
    return inquiries, people


def post(client: httpx.Client, text: str) -> float:
    page = client.get("/definitions/backtest")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the backtest page"
    form = {"csrf_token": token.group(1), "candidate": text, "action": "run"}
    started = time.perf_counter()
    done = client.post("/definitions/backtest", data=form)
    elapsed = time.perf_counter() - started
    assert done.status_code == 200 and 'data-testid="changed"' in done.text, done.text[:500]
    return elapsed


def over_http(env: dict[str, str], runs: int) -> list[float]:
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "leadflow"), "serve", "--port", str(PORT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=600) as client:
            page = client.get("/signin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            signed = client.post(
                "/signin",
                data={"csrf_token": token.group(1), "email": MARKETING, "password": PASSWORD},
            )
            assert signed.status_code == 303, signed.text
            text = candidate()
            return [post(client, text) for _ in range(runs)]
    finally:
        server.terminate()
        server.wait(timeout=15)


def in_process(database: Path, runs: int) -> list[float]:
    from leadflow.adapters.playbook_file import parse_playbook
    from leadflow.adapters.store.engine import make_engine
    from leadflow.bootstrap import bundled_playbook
    from leadflow.services.reports import run_backtest

    engine = make_engine(f"sqlite:///{database}")
    active, stricter = bundled_playbook(), parse_playbook(candidate(), "candidate.yaml")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run_backtest(engine, active, stricter)
        times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inquiries", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="Keep an existing demo database.")
    args = parser.parse_args()
    folder = OUT / "demo"
    database = folder / "leadflow.db"
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("LEADFLOW_PLAYBOOK", None)
    if not (args.reuse and database.exists()):
        print(f"Building the demo with {args.inquiries:,} inquiries in {folder}", file=sys.stderr)
        build(folder, args.inquiries, env)
    inquiries, people = size(database)
    http, local = over_http(env, args.runs), in_process(database, args.runs)
    print("| History | Over HTTP: median s | max s | In process: median s |")
    print("|---|---|---|---|")
    print(
        f"| {inquiries:,} inquiries, {people:,} leads | {statistics.median(http):.2f}"
        f" | {max(http):.2f} | {statistics.median(local):.2f} |"
    )


if __name__ == "__main__":
    main()
