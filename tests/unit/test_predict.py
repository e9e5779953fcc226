"""Predictive scoring: preparing a table, training, evaluating, factors, form questions.

The synthetic leads (``synthetic_leads`` in conftest) convert because of ``budget``,
``role`` and a little ``source``; ``noise`` is random. The tests fail if training stops
learning that signal, if held-out figures leak, or if the plumbing loses a column.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from leadflow.adapters.csv_files import read_text_csv
from leadflow.analytics.predict.data import blank_placeholders, encode, prepare
from leadflow.analytics.predict.evaluation import evaluate
from leadflow.analytics.predict.factors import contributions, describe
from leadflow.analytics.predict.metrics import ece, lift_by_decile, precision_at
from leadflow.analytics.predict.questions import ADDS, NOT_A_QUESTION, NOTHING, question_values
from leadflow.analytics.predict.training import TrainOptions, make_folds, train
from leadflow.errors import InvalidInput

Leads = Callable[..., str]
FAST = TrainOptions(folds=3)


def _frame(tmp_path: Path, text: str, name: str = "leads.csv") -> pl.DataFrame:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return blank_placeholders(read_text_csv(path), ["Select"])


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_delimiter_is_sniffed_and_placeholders_are_missing(
    tmp_path: Path, synthetic_leads: Leads, delimiter: str
) -> None:
    frame = _frame(tmp_path, synthetic_leads(rows=60, delimiter=delimiter))
    assert frame.columns[:3] == ["lead_no", "signed_up", "source"]
    assert "Select" not in frame["role"].drop_nulls().to_list()
    assert frame["role"].null_count() > 0
    raw = read_text_csv(tmp_path / "leads.csv")
    assert raw["role"].null_count() == 0  # without --missing, Select is an answer


def test_prepare_types_columns_and_drops_what_cannot_help(
    tmp_path: Path, synthetic_leads: Leads
) -> None:
    prepared = prepare(_frame(tmp_path, synthetic_leads()), "converted", exclude=["signed*"])
    kinds = {f.name: f.kind for f in prepared.features}
    category = "category"
    assert kinds == {"source": category, "budget": "number", "role": category, "noise": category}
    reasons = {d.name: d.reason for d in prepared.dropped}
    assert "identifier" in reasons["lead_no"]
    assert "same answer" in reasons["newsletter"]
    assert prepared.target == "Converted" and set(prepared.y) == {0, 1}
    role = next(f for f in prepared.features if f.name == "role")
    assert "Select" not in role.categories
    x = prepared.matrix()
    assert np.isnan(x[:, 2]).sum() == prepared.frame["role"].null_count()


def test_unknown_answers_encode_as_other_and_unparsable_numbers_as_blank() -> None:
    frame = pl.DataFrame({"role": ["a", "b", "zzz", None], "n": ["1", "x", None, "2.5"]})
    from leadflow.analytics.predict.data import Feature

    x = encode(frame, [Feature("role", "category", ("a", "b")), Feature("n", "number")])
    assert x[:, 0].tolist()[:3] == [0.0, 1.0, 2.0] and np.isnan(x[3, 0])
    assert x[0, 1] == 1.0 and np.isnan(x[1, 1]) and np.isnan(x[2, 1]) and x[3, 1] == 2.5


def test_target_errors_say_what_and_where(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": ["1", "2", "3"], "won": ["yes", "maybe", "no"]})
    with pytest.raises(InvalidInput, match=r"line 3: target 'maybe' is not an outcome"):
        prepare(frame, "won")
    with pytest.raises(InvalidInput, match=r"--target: no column 'sold'"):
        prepare(frame, "sold")
    with pytest.raises(InvalidInput, match="at least 2 leads of each outcome"):
        prepare(pl.DataFrame({"a": ["1", "2", "3"], "won": ["1", "0", "0"]}), "won")
    with pytest.raises(InvalidInput, match="'Asym\\*' matches no column"):
        prepare(frame, "won", exclude=["Asym*"])


def test_blank_outcomes_are_left_out_and_order_sorts_rows() -> None:
    frame = pl.DataFrame(
        {
            "at": ["2025-03-01", "2025-01-01", "2025-02-01", "2025-04-01", "2025-05-01"],
            "x": ["3", "1", "2", "4", "5"],
            "won": ["won", "lost", "", "won", "lost"],
        }
    )
    prepared = prepare(blank_placeholders(frame, []), "won", order_by="at")
    assert prepared.unlabelled == 1 and prepared.ordered
    assert prepared.frame["x"].to_list() == ["1", "3", "4", "5"]
    assert prepared.y.tolist() == [0, 1, 1, 0]
    with pytest.raises(InvalidInput, match="line 2: 'soon' is not a number or an ISO 8601 date"):
        prepare(
            frame.with_columns(pl.lit("soon").alias("at"), won=pl.lit("1")), "won", order_by="at"
        )


def test_training_learns_the_signal(tmp_path: Path, synthetic_leads: Leads) -> None:
    train_part = prepare(_frame(tmp_path, synthetic_leads(rows=500, seed=1)), "converted")
    x, y = train_part.matrix(), train_part.y
    fitted = train(train_part.features, x, y, ordered=False, options=FAST)
    assert set(fitted.fold_auc) == {"logistic", "boosting"}
    assert fitted.cv_auc() > 0.8
    test_frame = _frame(tmp_path, synthetic_leads(rows=400, seed=2), "test.csv")
    test_part = prepare(test_frame, "converted")
    p = fitted.predict(encode(test_part.frame, fitted.features))
    from leadflow.analytics.predict.metrics import auc

    assert auc(test_part.y, p) > 0.8
    assert ((p >= 0) & (p <= 1)).all()
    assert abs(float(p.mean()) - float(test_part.y.mean())) < 0.1


def test_forward_folds_only_judge_later_rows() -> None:
    y = np.array([0, 1] * 30, dtype=np.int8)
    for fit_rows, judged in make_folds(y, True, 4, 0):
        assert fit_rows.max() < judged.min()
    stratified = make_folds(y, False, 4, 0)
    assert sorted(np.concatenate([b for _, b in stratified]).tolist()) == list(range(60))


def test_evaluation_is_nested_and_shows_the_baseline(
    tmp_path: Path, synthetic_leads: Leads
) -> None:
    prepared = prepare(_frame(tmp_path, synthetic_leads(rows=400)), "converted")
    result = evaluate(prepared, folds=3)
    assert result.held_out == 400 and len(result.model.fold_auc) == 3
    assert result.model.scores.auc > 0.8 and result.baseline.scores.auc > 0.8
    assert len(result.model.scores.deciles) == 10
    ordered = prepare(_frame(tmp_path, synthetic_leads(rows=400)), "converted", file_order=True)
    timed = evaluate(ordered, folds=3, test_fraction=0.25)
    assert timed.held_out == 100 and "earliest 300" in timed.split


def test_metrics_on_known_values() -> None:
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=np.int8)
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    assert precision_at(y, p, 0.2) == 1.0
    assert precision_at(y, p, 0.5) == 0.6
    deciles = lift_by_decile(y, p)
    assert deciles[0].lift == pytest.approx(1 / 0.3) and deciles[2].rate == 0.0
    perfect = np.array([1.0, 1.0, 0.0, 0.0])
    assert ece(np.array([1, 1, 0, 0], dtype=np.int8), perfect) == 0.0
    assert ece(np.array([1, 0], dtype=np.int8), np.array([0.5, 0.5])) == 0.0
    assert ece(np.array([0, 0], dtype=np.int8), np.array([0.9, 0.9])) == pytest.approx(0.9)


def test_factors_name_the_answers_that_move_the_prediction(
    tmp_path: Path, synthetic_leads: Leads
) -> None:
    prepared = prepare(_frame(tmp_path, synthetic_leads(rows=500)), "converted")
    x = prepared.matrix()
    fitted = train(prepared.features, x, prepared.y, ordered=False, options=FAST)
    effects = contributions(fitted, x[:50])
    names = [f.name for f in prepared.features]
    strongest = np.abs(effects).mean(axis=0)
    assert names[int(strongest.argmax())] in ("budget", "role")
    assert strongest[names.index("noise")] < strongest[names.index("budget")]
    text = describe(prepared.frame[:50], fitted, effects, top=2)
    assert len(text) == 50 and any(t.startswith(("budget=", "role=")) for t in text)
    blank = np.isnan(x[:50, names.index("role")])
    assert (effects[blank, names.index("role")] == 0).all()  # no factor for a blank answer


def test_question_values_name_the_useless_questions(tmp_path: Path, synthetic_leads: Leads) -> None:
    prepared = prepare(_frame(tmp_path, synthetic_leads(rows=500)), "converted")
    filled = {c: 1 - prepared.frame[c].null_count() / 500 for c in prepared.frame.columns}
    report = question_values(prepared, filled, folds=3, candidates=("logistic",))
    verdicts = {q.name: q.verdict for q in report.questions}
    assert verdicts["budget"] == ADDS and verdicts["role"] == ADDS
    assert verdicts["noise"] == NOTHING and verdicts["newsletter"] == NOTHING
    assert verdicts["lead_no"] == NOT_A_QUESTION
    assert "noise" in report.add_nothing and "budget" not in report.add_nothing
    assert report.auc_without_named is not None
    assert report.auc - report.auc_without_named < report.min_gain
    role = next(q for q in report.questions if q.name == "role")
    assert role.filled == pytest.approx(filled["role"]) and role.filled < 0.95
