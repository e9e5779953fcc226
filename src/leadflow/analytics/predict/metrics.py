"""How good a list of predicted probabilities is, against the outcomes that happened.

- ``auc``: ROC AUC, the chance that a random converted lead is ranked above a random
  other one (0.5 = guessing, 1 = perfect ranking).
- ``ece``: expected calibration error over ten equal-width bins of the prediction: the
  gap between predicted and observed rates, weighted by the bin's share of leads.
- ``precision_at``: the conversion rate among the top fraction of leads by prediction.
- ``lift_by_decile``: leads ranked by prediction, cut into ten groups; each group's
  conversion rate over the overall rate (decile 1 = the highest predictions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from leadflow.analytics.predict.data import Labels, Matrix


@dataclass(frozen=True)
class Decile:
    decile: int
    leads: int
    converted: int
    rate: float
    lift: float


@dataclass(frozen=True)
class Scores:
    """The figures for one set of held-out predictions."""

    rows: int
    auc: float
    ece: float
    brier: float
    top_fraction: float
    precision_top: float
    base_rate: float
    deciles: tuple[Decile, ...]


def auc(y: Labels, p: Matrix) -> float:
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, p))


def ece(y: Labels, p: Matrix, bins: int = 10) -> float:
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            total += float(inside.mean()) * abs(float(p[inside].mean()) - float(y[inside].mean()))
    return total


def _ranked(p: Matrix) -> np.ndarray:
    """Row indices from the highest prediction down; ties keep row order."""
    return np.argsort(-p, kind="stable")


def precision_at(y: Labels, p: Matrix, fraction: float) -> float:
    k = max(1, round(len(y) * fraction))
    return float(y[_ranked(p)[:k]].mean())


def lift_by_decile(y: Labels, p: Matrix) -> tuple[Decile, ...]:
    base = float(y.mean())
    out: list[Decile] = []
    for number, part in enumerate(np.array_split(_ranked(p), 10), start=1):
        if len(part) == 0:
            continue
        rate = float(y[part].mean())
        out.append(Decile(number, len(part), int(y[part].sum()), rate, rate / base if base else 0))
    return tuple(out)


def score(y: Labels, p: Matrix, top_fraction: float = 0.1) -> Scores:
    return Scores(
        rows=len(y),
        auc=auc(y, p),
        ece=ece(y, p),
        brier=float(brier_score_loss(y, p)),
        top_fraction=top_fraction,
        precision_top=precision_at(y, p, top_fraction),
        base_rate=float(y.mean()),
        deciles=lift_by_decile(y, p),
    )
