"""Train a predictive model: choose a candidate on folds of the training rows, calibrate, refit.

1. The training rows are cut into folds. When the time order is known (rows earliest
   first), the folds go forward: fold *i* fits on the first *i* blocks and is judged on
   the block after them, so a model is always judged on leads later than the ones it
   learnt from. Otherwise the folds are stratified: each keeps the share of outcomes.
2. Every candidate (``estimators.CANDIDATES``) is fitted and judged on each fold; the
   one with the best mean ROC AUC wins (a tie goes to the simpler, listed first).
3. The winner's out-of-fold predictions, which it made on rows it had not seen, fit
   the calibration; then the winner is fitted once more on all training rows. With
   forward folds only the later half of them count: the first ones learn from few,
   old leads and would teach the calibration a drift the final model does not have.

Nothing here sees rows held out for evaluation: the caller passes training rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import StratifiedKFold

from leadflow.analytics.predict import estimators
from leadflow.analytics.predict.data import Feature, Labels, Matrix
from leadflow.analytics.predict.metrics import auc
from leadflow.errors import InvalidInput

Index = npt.NDArray[np.intp]
Folds = list[tuple[Index, Index]]
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class TrainOptions:
    folds: int = 5
    seed: int = 0
    candidates: tuple[str, ...] = estimators.CANDIDATES


@dataclass
class Fitted:
    """A fitted, calibrated model and how it was chosen."""

    name: str
    model: Any
    calibration: estimators.Calibration
    features: tuple[Feature, ...]
    fold_auc: dict[str, list[float]] = field(default_factory=dict)  # candidate -> AUC per fold
    validation: str = ""

    def predict(self, x: Matrix) -> Matrix:
        """Calibrated probability of the positive outcome, one per row."""
        return self.calibration.apply(estimators.raw_scores(self.model, x))

    def cv_auc(self, name: str | None = None) -> float:
        values = self.fold_auc.get(name or self.name, [])
        return float(np.mean(values)) if values else float("nan")


def make_folds(y: Labels, ordered: bool, k: int, seed: int) -> Folds:
    """Forward folds over ordered rows, or stratified folds; fewer when there are few rows."""
    n = len(y)
    if ordered:
        blocks = np.array_split(np.arange(n), k + 1)
        folds = [(np.concatenate(blocks[: i + 1]), blocks[i + 1]) for i in range(k)]
        return [(a, b) for a, b in folds if np.unique(y[a]).size == 2 and np.unique(y[b]).size == 2]
    smallest = int(min(y.sum(), n - y.sum()))
    k = min(k, smallest)
    if k < 2:
        raise InvalidInput("too few leads of one outcome to cross-validate (2 of each needed)")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(a.astype(np.intp), b.astype(np.intp)) for a, b in splitter.split(np.zeros(n), y)]


def out_of_fold(
    name: str, features: Sequence[Feature], x: Matrix, y: Labels, folds: Folds, seed: int
) -> tuple[Matrix, list[float]]:
    """Raw predictions for each fold's judged rows (NaN elsewhere), and the AUC per fold."""
    predictions = np.full(len(y), np.nan)
    aucs: list[float] = []
    for fit_rows, judged in folds:
        model = estimators.fit(name, features, x[fit_rows], y[fit_rows], seed)
        predictions[judged] = estimators.raw_scores(model, x[judged])
        aucs.append(auc(y[judged], predictions[judged]))
    return predictions, aucs


def train(
    features: Sequence[Feature],
    x: Matrix,
    y: Labels,
    *,
    ordered: bool,
    options: TrainOptions | None = None,
    progress: Progress = _quiet,
) -> Fitted:
    """Choose, calibrate and fit a model on these rows (see the module docstring)."""
    options = options or TrainOptions()
    folds = make_folds(y, ordered, options.folds, options.seed)
    if not folds:
        raise InvalidInput("too few leads of each outcome in time order to validate a model")
    kind = "forward (time-ordered)" if ordered else "stratified"
    fold_auc: dict[str, list[float]] = {}
    predictions: dict[str, Matrix] = {}
    for name in options.candidates:
        progress(f"validating {name} on {len(folds)} {kind} folds")
        predictions[name], fold_auc[name] = out_of_fold(name, features, x, y, folds, options.seed)
    best = max(options.candidates, key=lambda n: float(np.mean(fold_auc[n])))
    seen = np.zeros(len(y), dtype=bool)
    for _, judged in folds[len(folds) // 2 :] if ordered else folds:
        seen[judged] = True
    calibration = estimators.calibrate(predictions[best][seen], y[seen])
    progress(f"fitting {best} on all {len(y)} training rows")
    model = estimators.fit(best, features, x, y, options.seed)
    return Fitted(
        name=best,
        model=model,
        calibration=calibration,
        features=tuple(features),
        fold_auc=fold_auc,
        validation=f"{len(folds)} {kind} folds",
    )


def train_baseline(features: Sequence[Feature], x: Matrix, y: Labels, seed: int = 0) -> Fitted:
    """The plain one-hot logistic regression, fitted on these rows as it is, for comparison."""
    model = estimators.fit(estimators.BASELINE, features, x, y, seed)
    none = estimators.Calibration("none", None)
    return Fitted(estimators.BASELINE, model, none, tuple(features), validation="none")
