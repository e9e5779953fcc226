"""Which form questions earn their place: how often each is answered, what it adds.

For every column of the lead form:

- **filled**: the share of leads that answered it (not blank, not a placeholder).
- **adds**: drop-column importance. The model chosen as in training is validated on
  the same folds with every question, then once without each question in turn; the
  loss of ROC AUC is what the question adds *beyond all the others*. Two questions
  that say the same thing each add little alone: drop one, then run the report again.

A question whose AUC loss is below ``min_gain`` adds nothing to predicting the outcome
and still costs form completions, so the report names it. A column every lead answers
the same way, or no lead answers, adds nothing by definition. Identifiers are listed
but are not questions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from leadflow.analytics.predict import estimators
from leadflow.analytics.predict.data import Prepared
from leadflow.analytics.predict.training import (
    Progress,
    _quiet,
    make_folds,
    out_of_fold,
)

ADDS = "adds"
NOTHING = "adds nothing"
NOT_A_QUESTION = "not a question"


@dataclass(frozen=True)
class QuestionValue:
    name: str
    filled: float
    auc_loss: float | None  # mean over folds; None when the model could not use the column
    loss_sd: float | None
    verdict: str
    note: str = ""


@dataclass(frozen=True)
class QuestionReport:
    model: str
    validation: str
    auc: float  # with every question
    min_gain: float
    questions: tuple[QuestionValue, ...]

    @property
    def add_nothing(self) -> list[str]:
        return [q.name for q in self.questions if q.verdict == NOTHING]


def question_values(
    prepared: Prepared,
    filled: Mapping[str, float],
    *,
    folds: int = 4,
    seed: int = 0,
    min_gain: float = 0.002,
    candidates: tuple[str, ...] = estimators.CANDIDATES,
    progress: Progress = _quiet,
) -> QuestionReport:
    """Fill rate and drop-column AUC loss of every question (see the module docstring)."""
    y = prepared.y
    x = prepared.matrix()
    features = prepared.features
    splits = make_folds(y, prepared.ordered, folds, seed)
    kind = "forward (time-ordered)" if prepared.ordered else "stratified"
    full: dict[str, list[float]] = {}
    for name in candidates:
        progress(f"validating {name} with every question")
        full[name] = out_of_fold(name, features, x, y, splits, seed)[1]
    best = max(candidates, key=lambda n: float(np.mean(full[n])))
    base = np.asarray(full[best])
    rows: list[QuestionValue] = []
    for j, feature in enumerate(features):
        progress(f"without '{feature.name}' ({j + 1} of {len(features)})")
        keep = [i for i in range(len(features)) if i != j]
        kept = tuple(features[i] for i in keep)
        aucs = np.asarray(out_of_fold(best, kept, x[:, keep], y, splits, seed)[1])
        loss = base - aucs
        mean = float(loss.mean())
        sd = float(loss.std(ddof=1)) if len(loss) > 1 else 0.0
        verdict = ADDS if mean >= min_gain else NOTHING
        rows.append(QuestionValue(feature.name, filled.get(feature.name, 1.0), mean, sd, verdict))
    for dropped in prepared.dropped:
        verdict = NOT_A_QUESTION if "identifier" in dropped.reason else NOTHING
        rows.append(
            QuestionValue(
                dropped.name, filled.get(dropped.name, 0.0), None, None, verdict, dropped.reason
            )
        )
    rows.sort(key=lambda q: (q.auc_loss is None, -(q.auc_loss or 0.0), q.name))
    return QuestionReport(
        model=best,
        validation=f"{len(splits)} {kind} folds",
        auc=float(base.mean()),
        min_gain=min_gain,
        questions=tuple(rows),
    )
