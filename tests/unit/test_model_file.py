"""Model files: a round trip keeps predictions and header; damage is refused clearly."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from leadflow.adapters.model_file import read_header, read_model
from leadflow.analytics.predict.training import TrainOptions
from leadflow.errors import InvalidInput
from leadflow.services.model_files import DataSpec, score_file, train_file

MOMENT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def trained(tmp_path: Path, synthetic_leads: Callable[..., str]) -> Path:
    data = tmp_path / "history.csv"
    data.write_text(synthetic_leads(rows=300, delimiter=";"), encoding="utf-8")
    spec = DataSpec(data, "converted", exclude=("signed_up",), missing=("Select",))
    model = tmp_path / "model.lfm"
    train_file(spec, model, MOMENT, TrainOptions(folds=3))
    return model


def test_round_trip_keeps_header_and_predictions(trained: Path) -> None:
    header, _ = read_header(trained)
    assert header["target"] == "Converted" and header["missing"] == ["Select"]
    assert header["trained_at"] == "2026-11-23T09:00:00+00:00"
    assert len(header["version"]) == 12 and header["payload_sha256"].startswith(header["version"])
    assert [f["name"] for f in header["features"]] == ["source", "budget", "role", "noise"]
    assert header["excluded"] == ["signed_up"] and header["model"] in ("logistic", "boosting")
    bundle = read_model(trained)
    assert bundle.version == header["version"]
    x = np.array([[0.0, 80.0, 0.0, 0.0], [2.0, 10.0, 2.0, 1.0]])
    p = bundle.fitted.predict(x)
    assert p[0] > p[1]  # a big budget and a decision maker beat a small one and a researcher


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "leads.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a leadflow model file"):
        read_model(other)
    with pytest.raises(InvalidInput, match="no such model file"):
        read_model(tmp_path / "missing.lfm")


def test_a_damaged_model_is_refused(trained: Path, tmp_path: Path) -> None:
    data = trained.read_bytes()
    cut = tmp_path / "cut.lfm"
    cut.write_bytes(data[:-100])
    with pytest.raises(InvalidInput, match="damaged: its checksum does not match"):
        read_model(cut)
    broken = tmp_path / "broken.lfm"
    first, _, rest = data.partition(b"\n")
    broken.write_bytes(first + b"\n{not json\n" + rest.partition(b"\n")[2])
    with pytest.raises(InvalidInput, match="header is damaged"):
        read_model(broken)
    future = tmp_path / "future.lfm"
    future.write_bytes(b"leadflow-model 9\n" + rest)
    with pytest.raises(InvalidInput, match="format 9; this leadflow reads format 1"):
        read_model(future)


def test_another_scikit_learn_version_is_refused(trained: Path, tmp_path: Path) -> None:
    first, _, rest = trained.read_bytes().partition(b"\n")
    line, _, payload = rest.partition(b"\n")
    header = json.loads(line)
    header["versions"]["scikit-learn"] = "0.1.0"
    other = tmp_path / "old.lfm"
    other.write_bytes(first + b"\n" + json.dumps(header).encode() + b"\n" + payload)
    with pytest.raises(InvalidInput, match=r"trained with scikit-learn 0\.1\.0"):
        read_model(other)


def test_scoring_needs_the_model_columns_and_keeps_the_rest(trained: Path, tmp_path: Path) -> None:
    leads = tmp_path / "new.csv"
    leads.write_text("id;source;budget;role;noise;extra\n7;event;90;Select;red;x\n", "utf-8")
    out = tmp_path / "scored.csv"
    summary = score_file(trained, leads, out, factors=2)
    text = out.read_text(encoding="utf-8").splitlines()
    added = "predicted_conversion;top_factors;model_version"
    assert text[0] == f"id;source;budget;role;noise;extra;{added}"
    assert text[1].startswith("7;event;90;Select;red;x;")  # values kept as written
    assert summary.rows == 1 and text[1].endswith(summary.version)
    assert "role=" not in text[1]  # Select is a blank answer: no factor
    missing = tmp_path / "missing.csv"
    missing.write_text("id,source,budget\n1,web,3\n", encoding="utf-8")
    needs = r"missing.csv: the model needs the column\(s\) 'role', 'noise'"
    with pytest.raises(InvalidInput, match=needs):
        score_file(trained, missing, out)
