"""Predictive scoring on the X Education leads: the model beside a plain logistic regression.

    .venv/bin/python benchmarks/eval_model.py [--data PATH/Leads.csv] [--seeds 5]

Only facts known at capture: Tags, Lead Quality, Lead Profile, Last Activity, Last Notable
Activity and the Asymmetrique columns are excluded (sales fills them in after contact, or
they record post-conversion events); ``Select`` is read as not answered. Every figure is
on leads the model never saw while it was built, model choice and calibration included:

1. nested stratified 5-fold cross-validation (what ``leadflow model evaluate`` does
   without an order);
2. single random stratified splits, 75 % train / 25 % held out, seeds 0-4;
3. time-ordered splits, earliest 75 % train, latest 25 % held out: by ``Lead Number``
   (the real time order: leads are numbered as they arrive) and in file order (the file
   lists the newest first, so there the model learns from the newest leads and is judged
   on the oldest: later rows that differ from the earlier ones).

Prints Markdown with the machine, and writes it to ``benchmarks/out/model_results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.model_selection import train_test_split

from leadflow import __version__
from leadflow.analytics.predict.data import Prepared, encode, plan_features
from leadflow.analytics.predict.evaluation import Evaluation, evaluate, mean_sd
from leadflow.analytics.predict.metrics import Scores, score
from leadflow.analytics.predict.training import train, train_baseline
from leadflow.services.model_files import DataSpec, load

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/datasets/x-education-leads/Leads.csv"
LEAKY = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Last Activity",
    "Last Notable Activity",
    "Asymmetrique*",
)
HEAD = (
    "| split | held out | model | AUC | ECE | Brier | precision top 10% | lift decile 1 | seconds |"
)
RULE = "|---|---:|---|---:|---:|---:|---:|---:|---:|"


def row(split: str, held: int, name: str, s: Scores, seconds: float | None) -> str:
    took = f"{seconds:.1f}" if seconds is not None else ""
    return (
        f"| {split} | {held:,} | {name} | {s.auc:.4f} | {s.ece:.4f} | {s.brier:.4f} "
        f"| {s.precision_top:.3f} | {s.deciles[0].lift:.2f} | {took} |"
    )


def evaluation_rows(label: str, result: Evaluation, seconds: float) -> list[str]:
    chosen = "/".join(sorted(set(result.chosen)))
    lines = [
        row(label, result.held_out, f"leadflow ({chosen})", result.model.scores, seconds),
        row(label, result.held_out, "baseline one-hot logistic", result.baseline.scores, None),
    ]
    if len(result.model.fold_auc) > 1:
        m, s = mean_sd(result.model.fold_auc)
        b, t = mean_sd(result.baseline.fold_auc)
        lines.append(f"| {label}: AUC per fold | | | {m:.4f} ± {s:.4f} vs {b:.4f} ± {t:.4f} |")
    return lines


def random_split(prepared: Prepared, seed: int) -> tuple[Scores, Scores, str, float]:
    """The whole training procedure on 75 % of the leads, judged on the other 25 %."""
    started = time.perf_counter()
    y = prepared.y
    fit_rows, held = train_test_split(
        np.arange(len(y)), test_size=0.25, stratify=y, random_state=seed
    )
    fit_rows.sort()
    names = [f.name for f in prepared.features]
    skip = [c for c in prepared.frame.columns if c not in names]
    features, _ = plan_features(prepared.frame[fit_rows], skip)
    x = encode(prepared.frame, features)
    fitted = train(features, x[fit_rows], y[fit_rows], ordered=False)
    baseline = train_baseline(features, x[fit_rows], y[fit_rows])
    model_scores = score(y[held], fitted.predict(x[held]))
    base_scores = score(y[held], baseline.predict(x[held]))
    return model_scores, base_scores, fitted.name, time.perf_counter() - started


def machine() -> str:
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (
        f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"leadflow {__version__}; load average {load[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--seeds", type=int, default=5, help="random splits to run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/out")
    args = parser.parse_args()

    lines = [f"Data: `{args.data.name}`, target `Converted`, excluded: {', '.join(LEAKY)}.", ""]
    lines += [f"Machine: {machine()}", "", HEAD, RULE]
    base_spec = DataSpec(args.data, "converted", LEAKY, ("Select",))
    prepared = load(base_spec)
    print(f"{len(prepared.y)} leads, {len(prepared.features)} features", flush=True)

    started = time.perf_counter()
    result = evaluate(prepared, folds=5)
    lines += evaluation_rows("nested stratified 5-fold CV", result, time.perf_counter() - started)
    print("\n".join(lines[-3:]), flush=True)

    for seed in range(args.seeds):
        model, base, chosen, seconds = random_split(prepared, seed)
        label = f"random stratified 75/25, seed {seed}"
        lines += [
            row(label, model.rows, f"leadflow ({chosen})", model, seconds),
            row(label, base.rows, "baseline one-hot logistic", base, None),
        ]
        print("\n".join(lines[-2:]), flush=True)

    for label, spec in (
        ("time-ordered by Lead Number", DataSpec(**{**vars(base_spec), "order_by": "Lead Number"})),
        ("time-ordered in file order", DataSpec(**{**vars(base_spec), "file_order": True})),
    ):
        started = time.perf_counter()
        result = evaluate(load(spec), folds=5, test_fraction=0.25)
        lines += evaluation_rows(label, result, time.perf_counter() - started)
        print("\n".join(lines[-2:]), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "model_results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
