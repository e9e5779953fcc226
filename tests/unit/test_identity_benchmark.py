"""The identity benchmark's yardstick: pairwise scores, and a generator that repeats itself."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import generate_identities
from identity_metrics import pairwise


def test_pairwise_counts_pairs_from_cluster_sizes() -> None:
    # Truth: {a, b, c} and {d, e}: 3 + 1 = 4 true pairs.
    truth = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    # Predicted: {a, b}, {c, d, e}: 1 + 3 = 4 pairs, of which a-b and d-e are right.
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}
    scores = pairwise(truth, predicted)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (4, 4, 2)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.5)


def test_records_left_out_of_the_prediction_are_alone() -> None:
    truth = {"a": 1, "b": 1, "c": 2}
    scores = pairwise(truth, {"a": 7, "c": 7})  # b quarantined; a and c wrongly together
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (1, 1, 0)
    assert scores.precision == 0.0
    assert scores.recall == 0.0


def test_the_generator_gives_the_same_files_for_a_seed() -> None:
    first = generate_identities.generate(2_000, 0.2, seed=11)
    again = generate_identities.generate(2_000, 0.2, seed=11)
    other = generate_identities.generate(2_000, 0.2, seed=12)
    assert first.inquiries.equals(again.inquiries)
    assert first.labels.equals(again.labels)
    assert not first.inquiries.equals(other.inquiries)


def test_the_generator_makes_the_duplicates_it_was_asked_for() -> None:
    result = generate_identities.generate(2_000, 0.2, seed=11)
    assert result.inquiries.height == 2_000
    assert result.labels["person"].n_unique() == 1_600
    assert "record_ref" in result.inquiries.columns
    shared = result.labels.filter(result.labels["variations"].str.contains("role_address"))
    assert shared["person"].n_unique() > 1  # several people behind role addresses
