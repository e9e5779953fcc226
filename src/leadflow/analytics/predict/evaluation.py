"""Honest evaluation: every figure comes from leads the model never saw while it was built.

- **Time order known** (rows earliest first): the earliest leads train, the latest
  ``test_fraction`` are held out. Model choice and calibration use forward folds inside
  the training leads only.
- **Otherwise**: stratified k-fold cross-validation, nested. For each outer fold the
  whole training procedure (typing the columns, choosing the candidate on inner folds,
  calibrating, refitting) runs on the other folds; the held-out fold is predicted once.
  The figures are computed on all the held-out predictions together, and the AUC per
  outer fold is reported beside them.

The baseline, a plain one-hot logistic regression (no calibration, no choice), is fitted
on exactly the same training rows and judged on the same held-out rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leadflow.analytics.predict.data import Labels, Prepared, encode, plan_features
from leadflow.analytics.predict.metrics import Scores, auc, score
from leadflow.analytics.predict.training import (
    Folds,
    Progress,
    TrainOptions,
    _quiet,
    make_folds,
    train,
    train_baseline,
)


@dataclass(frozen=True)
class Side:
    """One model's figures on the held-out leads."""

    scores: Scores
    fold_auc: tuple[float, ...]  # per outer fold (one value for a time-ordered split)


@dataclass(frozen=True)
class Evaluation:
    split: str
    rows: int
    held_out: int
    model: Side
    baseline: Side
    chosen: tuple[str, ...]  # the candidate chosen in each outer fold


def outer_folds(y: Labels, ordered: bool, folds: int, test_fraction: float, seed: int) -> Folds:
    n = len(y)
    if ordered:
        cut = round(n * (1 - test_fraction))
        return [(np.arange(cut), np.arange(cut, n))]
    return make_folds(y, False, folds, seed)


def describe_split(y: Labels, ordered: bool, folds: Folds) -> str:
    if ordered:
        train_rows, test_rows = folds[0]
        return (
            f"time-ordered: the earliest {len(train_rows)} leads train, "
            f"the latest {len(test_rows)} are held out"
        )
    return (
        f"stratified {len(folds)}-fold cross-validation, nested: each of the {len(y)} leads "
        "is predicted once by a model built without it"
    )


def evaluate(
    prepared: Prepared,
    *,
    folds: int = 5,
    test_fraction: float = 0.25,
    top_fraction: float = 0.1,
    seed: int = 0,
    progress: Progress = _quiet,
) -> Evaluation:
    """The model and the baseline judged on the same held-out leads (see the module docstring)."""
    y = prepared.y
    outer = outer_folds(y, prepared.ordered, folds, test_fraction, seed)
    columns = [f.name for f in prepared.features]
    skip = [c for c in prepared.frame.columns if c not in columns]
    model_p = np.full(len(y), np.nan)
    base_p = np.full(len(y), np.nan)
    model_auc: list[float] = []
    base_auc: list[float] = []
    chosen: list[str] = []
    for number, (fit_rows, held) in enumerate(outer, start=1):
        progress(f"outer fold {number} of {len(outer)}")
        features, _ = plan_features(prepared.frame[fit_rows], skip)
        x = encode(prepared.frame, features)
        options = TrainOptions(folds=folds, seed=seed)
        ordered = prepared.ordered
        fitted = train(features, x[fit_rows], y[fit_rows], ordered=ordered, options=options)
        baseline = train_baseline(features, x[fit_rows], y[fit_rows], seed)
        model_p[held] = fitted.predict(x[held])
        base_p[held] = baseline.predict(x[held])
        model_auc.append(auc(y[held], model_p[held]))
        base_auc.append(auc(y[held], base_p[held]))
        chosen.append(fitted.name)
    judged = ~np.isnan(model_p)
    return Evaluation(
        split=describe_split(y, prepared.ordered, outer),
        rows=len(y),
        held_out=int(judged.sum()),
        model=Side(score(y[judged], model_p[judged], top_fraction), tuple(model_auc)),
        baseline=Side(score(y[judged], base_p[judged], top_fraction), tuple(base_auc)),
        chosen=tuple(chosen),
    )


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0
