"""Benchmark rating: ``leadflow rate`` on a large file, and single-lead rating in-process.

Usage (from the repository root, after ``make install``)::

    .venv/bin/python benchmarks/bench_rate.py --rows 1000000 --repeat 3

1. Whole command. ``leadflow rate --playbook examples/playbooks/btd.yaml`` on
   N synthetic messy leads is timed as a subprocess, side by side with a
   baseline subprocess that only reads and writes the same CSV with Polars
   (same interpreter). Runs alternate (ABBA order), after one untimed warm-up
   of each; the median and the minimum are reported, and the ratio of the
   medians is compared with the target of at most 3.
2. Single lead. ``leadflow.domain.rating.rate`` is called once per lead on
   10,000 varied messy leads, each call timed with ``time.perf_counter_ns``:
   btd.yaml on its own, and b2b-saas.yaml with a few activities per lead.

Results are printed as Markdown, with the machine, and written to
``OUT/results.md``. The generated input is cached in ``OUT`` per row count
and seed.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import polars as pl

from leadflow.adapters.playbook_file import load_playbook
from leadflow.domain.rating import Activity, rate

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_leads import generate, generate_b2b

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T00:00:00Z"
RATIO_TARGET = 3.0
SINGLE_TARGET_US = 1000.0
RESULT_COLUMNS = ("grade", "score", "route", "reasons", "data_issues")
ACTIVITY_TYPES = (
    "page_view",
    "Page View",
    "pricing_page_view",
    "content_download",
    "webinar_attended",
    "email_click",
    "email_reply",
    "community_post",
    "trial_signup",
    "podcast_listen",
)
BASELINE_SCRIPT = '''"""Baseline: read a CSV with Polars and write it back, nothing else."""
import sys

import polars as pl

pl.read_csv(sys.argv[1]).write_csv(sys.argv[2])
'''


@dataclass
class Timed:
    """Wall-clock seconds of repeated runs of one command."""

    label: str
    command: list[str]
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


@dataclass
class SingleLead:
    """Per-call timings of in-process single-lead rating, in nanoseconds."""

    label: str
    nanos: list[int]

    @property
    def median_us(self) -> float:
        return statistics.median(self.nanos) / 1000

    @property
    def p99_us(self) -> float:
        return statistics.quantiles(self.nanos, n=100)[98] / 1000

    @property
    def max_us(self) -> float:
        return max(self.nanos) / 1000


# ---------------------------------------------------------------- input


def ensure_input(out: Path, rows: int, seed: int) -> Path:
    """The generated leads file for ``rows`` and ``seed``, written once and then reused."""
    path = out / f"leads-{rows}-seed{seed}.csv"
    if path.exists():
        log(f"input: reusing {rel(path)}")
        return path
    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    generate(rows, seed).write_csv(partial)
    partial.replace(path)
    log(f"input: generated {rows:,} leads in {time.perf_counter() - started:.1f} s: {rel(path)}")
    return path


def write_baseline_script(out: Path) -> Path:
    path = out / "baseline_polars.py"
    path.write_text(BASELINE_SCRIPT, encoding="utf-8")
    return path


# ---------------------------------------------------------------- whole command


def run_once(command: Sequence[str]) -> float:
    """Run ``command`` from the repository root; its wall-clock seconds. Fails loudly."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"command failed ({done.returncode}): {shlex.join(command)}\n{tail}")
    return seconds


def time_side_by_side(runs: Sequence[Timed], repeat: int, warmup: int) -> None:
    """Alternate the commands, reversing the order every other round (ABBA)."""
    for _ in range(warmup):
        for timed in runs:
            run_once(timed.command)
    for round_no in range(repeat):
        order = list(runs) if round_no % 2 == 0 else list(reversed(runs))
        for timed in order:
            seconds = run_once(timed.command)
            timed.seconds.append(seconds)
            log(f"  round {round_no + 1}/{repeat}  {timed.label}: {seconds:.2f} s")


def check_rated(path: Path, rows: int) -> None:
    """The rated file has one row per lead and the rating columns."""
    columns = pl.read_csv(path, n_rows=0).columns
    absent = [c for c in RESULT_COLUMNS if c not in columns]
    if absent:
        raise SystemExit(f"{rel(path)} lacks the columns {', '.join(absent)}")
    count = pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()
    if count != rows:
        raise SystemExit(f"{rel(path)} has {count:,} rows, the input {rows:,}")
    log(f"check: {rel(path)} has {count:,} rows and the columns {', '.join(RESULT_COLUMNS)}")


# ---------------------------------------------------------------- single lead


def lead_facts(frame: pl.DataFrame) -> list[dict[str, object]]:
    return list(frame.iter_rows(named=True))


def lead_activities(count: int, seed: int, now: datetime) -> list[list[Activity]]:
    """0 to 8 activities per lead, of mixed types (one unknown), up to 120 days old.

    A few are a day in the future, which rating ignores.
    """
    rng = random.Random(seed)
    return [
        [
            Activity(rng.choice(ACTIVITY_TYPES), now - timedelta(days=rng.uniform(-1, 120)))
            for _ in range(rng.randint(0, 8))
        ]
        for _ in range(count)
    ]


def time_calls(call: Callable[[int], object], count: int, warmup: int = 200) -> list[int]:
    """Nanoseconds of ``call(i)`` for each i, after ``warmup`` untimed calls."""
    for i in range(min(warmup, count)):
        call(i)
    clock = time.perf_counter_ns
    nanos: list[int] = []
    for i in range(count):
        started = clock()
        call(i)
        nanos.append(clock() - started)
    return nanos


def bench_single(count: int, seed: int) -> list[SingleLead]:
    """Time single-lead rating for btd.yaml and for b2b-saas.yaml with activities."""
    now = datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    btd = load_playbook(ROOT / "examples/playbooks/btd.yaml")
    saas = load_playbook(ROOT / "examples/playbooks/b2b-saas.yaml")
    btd_facts = lead_facts(generate(count, seed))
    saas_facts = lead_facts(generate_b2b(count, seed + 1))
    acts = lead_activities(count, seed + 2, now)
    results = [
        SingleLead(
            "btd.yaml (4 fields)",
            time_calls(lambda i: rate(btd, btd_facts[i], now=now), count),
        ),
        SingleLead(
            "b2b-saas.yaml (12 fields, 2 segments, 0–8 activities)",
            time_calls(lambda i: rate(saas, saas_facts[i], acts[i], now=now), count),
        ),
    ]
    for result in results:
        log(f"single lead: {result.label}: median {result.median_us:.1f} µs")
    return results


# ---------------------------------------------------------------- report


def machine() -> dict[str, str]:
    """CPU, cores, memory, OS and the versions that matter."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical, {usable} usable; Polars threads: "
        f"{pl.thread_pool_size()}",
        "Memory": memory,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Polars": pl.__version__,
        "leadflow": metadata.version("leadflow"),
        "leadflow source": leadflow_source(),
        "Load average at start (1, 5, 15 min)": load_average(),
    }


def leadflow_source() -> str:
    """Where leadflow is imported from, and the git commit of the repository."""
    import leadflow

    where = rel(Path(leadflow.__file__).parent)
    if Path(where).is_absolute():
        return f"{where} (outside this repository)"
    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "src")
    except (OSError, subprocess.CalledProcessError):
        return where
    return f"{where}; repository at {commit}" + (
        " with uncommitted changes in src/" if dirty else ""
    )


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def load_average() -> str:
    """The system load average, to judge whether other work shared the machine."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def size_mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB" if path.exists() else "-"


def render(
    args: argparse.Namespace,
    info: Mapping[str, str],
    runs: Sequence[Timed],
    files: Mapping[str, Path],
    single: Sequence[SingleLead],
) -> str:
    """The results as Markdown."""
    lines = [
        f"# Rating benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{reproduce(args)}`",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in info.items()),
    ]
    if runs:
        lines += whole_command_section(args, runs, files)
    if single:
        lines += single_lead_section(single)
    return "\n".join(lines) + "\n"


def whole_command_section(
    args: argparse.Namespace, runs: Sequence[Timed], files: Mapping[str, Path]
) -> list[str]:
    rate_run, base_run = runs[0], runs[1]
    ratio = rate_run.median / base_run.median
    verdict = "met" if ratio <= RATIO_TARGET else "NOT met"
    lines = [
        "",
        f"## Whole command: {args.rows:,} leads, btd.yaml",
        "",
        f"{args.repeat} timed runs each, alternating (ABBA), after {args.warmup} untimed "
        "warm-up run(s) of each. Wall-clock seconds of the whole subprocess. The start-up "
        "rows are context only; the ratio compares the first two.",
        "",
        "| Command | Median s | Min s | Runs (s) |",
        "|---|---:|---:|---|",
    ]
    for timed in runs:
        shown = ", ".join(f"{s:.2f}" for s in timed.seconds)
        lines.append(f"| {timed.label} | {timed.median:.2f} | {timed.best:.2f} | {shown} |")
    lines += [
        "",
        f"**Ratio leadflow rate / Polars read+write (medians): {ratio:.2f}** "
        f"(of the minimums: {rate_run.best / base_run.best:.2f}); "
        f"target at most {RATIO_TARGET:g}: **{verdict}**.",
        "",
        f"Input {size_mb(files['input'])}; leadflow output {size_mb(files['rated'])}; "
        f"baseline output {size_mb(files['baseline'])}.",
        "",
        "Commands timed:",
        "",
        *(f"- {timed.label}: `{shlex.join(timed.command)}`" for timed in runs),
    ]
    return lines


def single_lead_section(single: Sequence[SingleLead]) -> list[str]:
    lines = [
        "",
        "## Single-lead rating, in-process",
        "",
        f"`leadflow.domain.rating.rate` on {len(single[0].nanos):,} generated messy leads, "
        "each call timed with `time.perf_counter_ns` after 200 untimed calls.",
        "",
        "| Playbook | Median µs | p99 µs | Max µs | Median under 1 ms |",
        "|---|---:|---:|---:|---|",
    ]
    for result in single:
        verdict = "yes" if result.median_us < SINGLE_TARGET_US else "NO"
        lines.append(
            f"| {result.label} | {result.median_us:.1f} | {result.p99_us:.1f} | "
            f"{result.max_us:.0f} | {verdict} |"
        )
    return lines


def reproduce(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "benchmarks/bench_rate.py", "--rows", str(args.rows)]
    parts += ["--repeat", str(args.repeat), "--seed", str(args.seed)]
    if args.skip_command:
        parts.append("--skip-command")
    if args.skip_single:
        parts.append("--skip-single")
    if args.skip_startup:
        parts.append("--skip-startup")
    return shlex.join(parts)


# ---------------------------------------------------------------- main


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rel(path: Path) -> str:
    """``path`` relative to the repository root when it is inside it (symlinks kept)."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(ROOT))
    except ValueError:
        return str(absolute)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark leadflow rating.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="Leads in the file.")
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs of each command.")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed runs of each first.")
    parser.add_argument("--seed", type=int, default=7, help="Seed of the generated leads.")
    parser.add_argument("--single", type=int, default=10_000, help="Leads rated one by one.")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/out", help="Directory for files."
    )
    parser.add_argument(
        "--bin", type=Path, default=ROOT / ".venv/bin", help="Where python and leadflow are."
    )
    parser.add_argument("--skip-command", action="store_true", help="Only single-lead timings.")
    parser.add_argument("--skip-single", action="store_true", help="Only the whole command.")
    parser.add_argument(
        "--skip-startup", action="store_true", help="Do not time start-up on its own."
    )
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target is missed.")
    return parser.parse_args(argv)


def command_runs(args: argparse.Namespace, leads: Path) -> tuple[list[Timed], dict[str, Path]]:
    """The two commands compared, and the files they read and write."""
    out = args.out.resolve()
    files = {"input": leads, "rated": out / "rated.csv", "baseline": out / "baseline.csv"}
    rate_cmd = [
        rel(args.bin / "leadflow"), "rate", "--playbook", "examples/playbooks/btd.yaml",
        rel(leads), "-o", rel(files["rated"]), "--now", NOW, "--quiet",
    ]  # fmt: skip
    base_cmd = [
        rel(args.bin / "python"), rel(write_baseline_script(out)),
        rel(leads), rel(files["baseline"]),
    ]  # fmt: skip
    runs = [Timed("leadflow rate", rate_cmd, []), Timed("Polars read + write", base_cmd, [])]
    if not args.skip_startup:
        python = rel(args.bin / "python")
        runs += [
            Timed(
                "start-up only: leadflow --version", [rel(args.bin / "leadflow"), "--version"], []
            ),
            Timed("start-up only: import polars", [python, "-c", "import polars"], []),
        ]
    return runs, files


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine()
    runs: list[Timed] = []
    files: dict[str, Path] = {}
    if not args.skip_command:
        leads = ensure_input(args.out.resolve(), args.rows, args.seed)
        runs, files = command_runs(args, leads)
        time_side_by_side(runs, args.repeat, args.warmup)
        check_rated(files["rated"], args.rows)
    single = [] if args.skip_single else bench_single(args.single, args.seed)
    info = {**info, "Load average at end (1, 5, 15 min)": load_average()}
    report = render(args, info, runs, files, single)
    (args.out / "results.md").write_text(report, encoding="utf-8")
    print(report)
    log(f"wrote {rel(args.out / 'results.md')}")
    missed = bool(runs) and runs[0].median / runs[1].median > RATIO_TARGET
    missed |= any(result.median_us >= SINGLE_TARGET_US for result in single)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
