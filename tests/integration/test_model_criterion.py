"""A playbook criterion on a trained model's prediction, with the model version in each rating."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadflow.adapters.model_file import read_header
from leadflow.adapters.playbook_file import load_playbook
from leadflow.analytics.predict.training import TrainOptions
from leadflow.errors import InvalidInput, PlaybookError
from leadflow.services.model_files import DataSpec, score_file, train_file
from leadflow.services.rate_file import rate_csv

MOMENT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLAYBOOK = """\
name: Predicted conversion
fields:
  budget: {type: number, label: Budget}
  predicted_conversion: {type: number, label: Predicted conversion}
criteria:
  fit:
    likely:
      label: Likely to convert
      when: predicted_conversion >= 0.6
      points: 1
grades:
  - grade: A
    when: met(likely) == 1
  - grade: D
route:
  sales: [A]
  nurture: [D]
model:
  file: MODEL
  VERSION
"""


@pytest.fixture
def model(tmp_path: Path, synthetic_leads: Callable[..., str]) -> Path:
    data = tmp_path / "history.csv"
    data.write_text(synthetic_leads(rows=300), encoding="utf-8")
    spec = DataSpec(data, "converted", exclude=("signed_up",), missing=("Select",))
    path = tmp_path / "models" / "conversion.lfm"
    path.parent.mkdir()
    train_file(spec, path, MOMENT, TrainOptions(folds=3))
    return path


def _playbook(tmp_path: Path, file: str, version: str = "") -> Path:
    text = PLAYBOOK.replace("MODEL", file).replace("VERSION", version)
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rate_fills_the_prediction_and_records_the_model_version(
    tmp_path: Path, model: Path, synthetic_leads: Callable[..., str]
) -> None:
    version = read_header(model)[0]["version"]
    pb = load_playbook(_playbook(tmp_path, "models/conversion.lfm", f"version: {version}"))
    leads = tmp_path / "leads.csv"
    leads.write_text(synthetic_leads(rows=80, seed=5), encoding="utf-8")
    out = tmp_path / "rated.csv"
    summary = rate_csv(pb, leads, out, now=MOMENT)
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert summary.rows == 80 and len(rows) == 80
    assert {r["model_version"] for r in rows} == {version}
    for r in rows:
        likely = float(r["predicted_conversion"]) >= 0.6
        assert r["grade"] == ("A" if likely else "D")
        assert ("Likely to convert" in r["reasons"]) == likely
    assert {r["grade"] for r in rows} == {"A", "D"}


def test_a_pinned_version_refuses_another_model(tmp_path: Path, model: Path) -> None:
    pb = load_playbook(_playbook(tmp_path, str(model), "version: 000000000000"))
    leads = tmp_path / "leads.csv"
    leads.write_text("source,budget,role,noise\nweb,50,Influencer,red\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"has version \w+, the playbook names 000000000000"):
        rate_csv(pb, leads, tmp_path / "rated.csv", now=MOMENT)


def test_the_prediction_field_must_be_a_declared_number(tmp_path: Path) -> None:
    text = PLAYBOOK.replace("MODEL", "m.lfm").replace("VERSION", "field: budget_band")
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"model\.field: declare 'budget_band' in fields"):
        load_playbook(path)


def test_a_scored_file_keeps_the_values_as_read(
    tmp_path: Path, model: Path, synthetic_leads: Callable[..., str]
) -> None:
    """The scored file, and the file rated with the model, are the file given with columns
    added: text a spreadsheet would run stays as the caller wrote it (a phone in E.164 keeps
    its +), a repeated name stays repeated."""
    lines = synthetic_leads(rows=20, seed=5).splitlines()
    lines[0] += ",Name,Phone,=cmd"
    lines[1] += ',"=HYPERLINK(""http://evil"",""x"")",+14155550100,@SUM(1)'
    lines[2:] = [line + ",Ann,,x" for line in lines[2:]]
    leads = tmp_path / "leads.csv"
    leads.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def written(path: Path) -> list[dict[str, str]]:
        return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))

    expected = ('=HYPERLINK("http://evil","x")', "+14155550100", "@SUM(1)")
    score_file(model, leads, tmp_path / "scored.csv")
    first = written(tmp_path / "scored.csv")[0]
    assert (first["Name"], first["Phone"], first["=cmd"]) == expected
    pb = load_playbook(_playbook(tmp_path, "models/conversion.lfm"))
    rate_csv(pb, leads, tmp_path / "rated.csv", now=MOMENT)
    first = written(tmp_path / "rated.csv")[0]
    assert (first["Name"], first["Phone"], first["=cmd"]) == expected


def test_rated_with_a_model_a_file_is_read_as_without_one(
    tmp_path: Path, model: Path, synthetic_leads: Callable[..., str]
) -> None:
    """The model scores a copy of the file, which is rated: blank lines are skipped and
    counted, and a row short of values has the missing ones empty."""
    lines = synthetic_leads(rows=20, seed=5).splitlines()
    leads = tmp_path / "leads.csv"
    leads.write_text("\n".join([*lines[:5], "", ",,,", *lines[5:], ""]) + "\n", encoding="utf-8")
    pb = load_playbook(_playbook(tmp_path, "models/conversion.lfm"))
    summary = rate_csv(pb, leads, tmp_path / "rated.csv", now=MOMENT)
    assert (summary.rows, summary.blank) == (20, 3)
    lines[7] = lines[7].rsplit(",", 1)[0]
    leads.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = rate_csv(pb, leads, tmp_path / "rated.csv", now=MOMENT)
    assert (summary.rows, summary.blank) == (20, 0)
    rows = list(csv.reader((tmp_path / "rated.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[7][7] == ""
