"""The candidate models, built for a list of features, and their probability calibration.

- ``logistic``: the plain baseline. Numbers: median for not answered plus a
  "not answered" indicator, standardised; categories: one-hot, with "not answered"
  and "other" as answers of their own; L2-regularised logistic regression (C=1).
- ``boosting``: gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier)
  with categories split natively and "not answered" learnt as its own branch.

Fitting runs on one OpenMP thread: the tables are small, and on a machine whose cores
are shared more threads make gradient boosting several times slower, not faster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from leadflow.analytics.predict.data import Feature, Labels, Matrix

CANDIDATES = ("logistic", "boosting")
BASELINE = "logistic"
ISOTONIC_MIN_ROWS = 1000  # fewer out-of-fold predictions than this: a sigmoid (Platt) fit


@contextmanager
def one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


def build(name: str, features: Sequence[Feature], seed: int = 0) -> Any:
    """An unfitted scikit-learn classifier for the named candidate."""
    if name == "logistic":
        return _logistic(features)
    if name == "boosting":
        return _boosting(features, seed)
    raise ValueError(f"unknown candidate {name!r}")


def _logistic(features: Sequence[Feature]) -> Pipeline:
    numbers = [i for i, f in enumerate(features) if f.kind == "number"]
    categories = [i for i, f in enumerate(features) if f.kind == "category"]
    parts: list[tuple[str, Any, list[int]]] = []
    if numbers:
        scale = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
        )
        parts.append(("numbers", scale, numbers))
    if categories:
        one_hot = make_pipeline(
            SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
            OneHotEncoder(handle_unknown="ignore"),
        )
        parts.append(("categories", one_hot, categories))
    return make_pipeline(
        ColumnTransformer(parts), LogisticRegression(C=1.0, max_iter=2000, random_state=0)
    )


def _boosting(features: Sequence[Feature], seed: int) -> HistGradientBoostingClassifier:
    mask = np.array([f.kind == "category" for f in features])
    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=8,
        min_samples_leaf=50,
        l2_regularization=1.0,
        max_features=0.5,
        categorical_features=mask if mask.any() else None,
        early_stopping=False,
        random_state=seed,
    )


def fit(name: str, features: Sequence[Feature], x: Matrix, y: Labels, seed: int = 0) -> Any:
    with one_thread():
        return build(name, features, seed).fit(x, y)


def raw_scores(model: Any, x: Matrix) -> Matrix:
    """The fitted model's probability of the positive outcome, before calibration."""
    with one_thread():
        return np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)


@dataclass(frozen=True)
class Calibration:
    """Maps a model's raw probability to an observed rate, learnt on out-of-fold predictions."""

    method: str  # "isotonic", "sigmoid" or "none"
    mapper: Any

    def apply(self, scores: Matrix) -> Matrix:
        if self.method == "none":
            return scores
        if self.method == "isotonic":
            out = self.mapper.predict(scores)
        else:
            out = self.mapper.predict_proba(_logit(scores))[:, 1]
        return np.clip(np.asarray(out, dtype=np.float64), 0.0, 1.0)


def calibrate(scores: Matrix, y: Labels) -> Calibration:
    """Isotonic regression on enough rows, else a sigmoid on the log-odds."""
    if len(scores) >= ISOTONIC_MIN_ROWS:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        return Calibration("isotonic", iso.fit(scores, y))
    platt = LogisticRegression(C=1e4, max_iter=1000).fit(_logit(scores), y)
    return Calibration("sigmoid", platt)


def _logit(p: Matrix) -> Matrix:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64).reshape(-1, 1)
