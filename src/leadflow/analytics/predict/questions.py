"""Which form questions earn their place: how often each is answered, what it adds.

For every column of the lead form:

- **filled**: the share of leads that answered it (not blank, not a placeholder).
- **adds**: drop-column importance. The model chosen as in training is validated on
  the same folds with every question, then once without each question in turn; the
  loss of ROC AUC is what the question adds *beyond all the others*. Two questions
  that say the same thing each add little alone: drop one, then run the report again.

Questions that overlap hide each other (each adds little alone, both together a lot),
so the advice is built greedily: leave out the question that adds least, validate
again, and go on while the AUC lost by everything left out together stays below
``min_gain``. Those questions *add nothing* and still cost form completions, and the
report names them, with the AUC without all of them (``auc_without_named``). A question
that adds little alone but could not join them *overlaps* with another one. A column
every lead answers the same way, or no lead answers, adds nothing by definition.
Identifiers are listed but are not questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from leadflow.analytics.predict import estimators
from leadflow.analytics.predict.data import Feature, Labels, Matrix, Prepared
from leadflow.analytics.predict.training import (
    Folds,
    Progress,
    _quiet,
    make_folds,
    out_of_fold,
)

ADDS = "adds"
NOTHING = "adds nothing"
OVERLAPS = "overlaps"
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
    auc_without_named: float | None = None  # without every question that adds nothing

    @property
    def add_nothing(self) -> list[str]:
        return [q.name for q in self.questions if q.verdict == NOTHING]


@dataclass(frozen=True)
class _Judge:
    """Validates one candidate on fixed folds with some features left out."""

    name: str
    features: tuple[Feature, ...]
    x: Matrix
    y: Labels
    folds: Folds
    seed: int

    def aucs(self, without: Sequence[int]) -> np.ndarray:
        keep = [i for i in range(len(self.features)) if i not in without]
        kept = tuple(self.features[i] for i in keep)
        scores = out_of_fold(self.name, kept, self.x[:, keep], self.y, self.folds, self.seed)[1]
        return np.asarray(scores)


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
    y, x, features = prepared.y, prepared.matrix(), prepared.features
    splits = make_folds(y, prepared.ordered, folds, seed)
    kind = "forward (time-ordered)" if prepared.ordered else "stratified"
    full: dict[str, list[float]] = {}
    for name in candidates:
        progress(f"validating {name} with every question")
        full[name] = out_of_fold(name, features, x, y, splits, seed)[1]
    best = max(candidates, key=lambda n: float(np.mean(full[n])))
    judge = _Judge(best, features, x, y, splits, seed)
    base = np.asarray(full[best])
    losses: list[np.ndarray] = []
    for j, feature in enumerate(features):
        progress(f"without '{feature.name}' ({j + 1} of {len(features)})")
        losses.append(base - judge.aucs([j]))
    removable, without = _removable(judge, base, losses, min_gain, progress)
    rows = [_row(f, filled, losses[j], j in removable, min_gain) for j, f in enumerate(features)]
    for dropped in prepared.dropped:
        verdict = NOT_A_QUESTION if "identifier" in dropped.reason else NOTHING
        share = filled.get(dropped.name, 0.0)
        rows.append(QuestionValue(dropped.name, share, None, None, verdict, dropped.reason))
    rows.sort(key=lambda q: (q.auc_loss is None, -(q.auc_loss or 0.0), q.name))
    return QuestionReport(
        model=best,
        validation=f"{len(splits)} {kind} folds",
        auc=float(base.mean()),
        min_gain=min_gain,
        questions=tuple(rows),
        auc_without_named=without,
    )


def _removable(
    judge: _Judge,
    base: np.ndarray,
    losses: Sequence[np.ndarray],
    min_gain: float,
    progress: Progress,
) -> tuple[set[int], float | None]:
    """Greedy: leave out the least useful question, re-validate, keep going while the
    total loss stays under ``min_gain``. Returns the set and the AUC without it."""
    order = sorted(range(len(losses)), key=lambda j: float(losses[j].mean()))
    weak = [j for j in order if float(losses[j].mean()) < min_gain]
    removed: list[int] = []
    without: float | None = None
    for step, j in enumerate(weak, start=1):
        if len(removed) + 1 >= len(losses):
            break
        progress(f"without {len(removed) + 1} questions together ({step} of {len(weak)})")
        aucs = judge.aucs([*removed, j])
        if float((base - aucs).mean()) < min_gain:
            removed.append(j)
            without = float(aucs.mean())
    return set(removed), without


def _row(
    feature: Feature, filled: Mapping[str, float], loss: np.ndarray, removable: bool, gain: float
) -> QuestionValue:
    mean = float(loss.mean())
    sd = float(loss.std(ddof=1)) if len(loss) > 1 else 0.0
    if removable:
        verdict, note = NOTHING, ""
    elif mean >= gain:
        verdict, note = ADDS, ""
    else:
        verdict, note = OVERLAPS, "little alone, but not to be dropped with the others"
    return QuestionValue(feature.name, filled.get(feature.name, 1.0), mean, sd, verdict, note)
