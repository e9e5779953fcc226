"""``leadflow model ...`` end to end, in-process through the real entry point."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from leadflow.cli.main import main

LEADS = Path(__file__).resolve().parents[3] / "shared/datasets/x-education-leads/Leads.csv"
LEAKY = "Tags,Lead Quality,Lead Profile,Last Activity,Last Notable Activity,Asymmetrique*"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["leadflow", *args])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        main()
    except SystemExit as stop:
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_evaluate_score_questions_show(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    synthetic_leads: Callable[..., str],
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("history.csv").write_text(synthetic_leads(rows=300, delimiter=";"), encoding="utf-8")
    common = ["--target", "converted", "--data", "history.csv", "--missing", "Select"]
    code, _, err = run(
        capsys,
        monkeypatch,
        "model",
        "train",
        *common,
        "--folds",
        "3",
        "--exclude",
        "signed_up",
        "-o",
        "m.lfm",
    )
    assert code == 0, err
    assert "Wrote model" in err and "lead_no (an identifier" in err

    code, out, err = run(capsys, monkeypatch, "model", "show", "m.lfm")
    header = json.loads(out)
    assert code == 0 and header["target"] == "Converted" and header["excluded"] == ["signed_up"]

    code, out, err = run(
        capsys, monkeypatch, "model", "score", "history.csv", "--model", "m.lfm", "-o", "scored.csv"
    )
    assert code == 0, err
    scored = Path("scored.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader(scored, delimiter=";"))
    assert len(rows) == 300 and all(0 <= float(r["predicted_conversion"]) <= 1 for r in rows)
    assert {r["model_version"] for r in rows} == {header["version"]}

    code, out, err = run(
        capsys,
        monkeypatch,
        "model",
        "evaluate",
        *common,
        "--folds",
        "3",
        "--order-by",
        "signed_up",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["held_out"] == 75 and "time-ordered" in result["split"]
    assert result["model"]["scores"]["auc"] > 0.7 and "auc" in result["baseline"]["scores"]

    code, out, err = run(capsys, monkeypatch, "model", "evaluate", *common, "--folds", "3")
    assert code == 0, err
    assert "baseline (one-hot logistic)" in out and "Lift by decile" in out

    code, out, err = run(
        capsys, monkeypatch, "model", "questions", *common, "--folds", "3", "--exclude", "signed_up"
    )
    assert code == 0, err
    assert "add nothing" in out and "noise" in out.split("add nothing")[-1]


def test_errors_are_clear(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    synthetic_leads: Callable[..., str],
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("history.csv").write_text(synthetic_leads(rows=60), encoding="utf-8")
    code, _, err = run(capsys, monkeypatch, "model", "train", "--target", "won", "-o", "m.lfm")
    assert code == 2 and "--data: the database records no outcomes yet" in err
    code, _, err = run(
        capsys,
        monkeypatch,
        "model",
        "train",
        "--target",
        "sold",
        "--data",
        "history.csv",
        "-o",
        "m.lfm",
    )
    assert code == 2 and "--target: no column 'sold'" in err
    code, _, err = run(
        capsys,
        monkeypatch,
        "model",
        "score",
        "history.csv",
        "--model",
        "history.csv",
        "-o",
        "out.csv",
    )
    assert code == 2 and "history.csv: not a leadflow model file" in err


@pytest.mark.skipif(not LEADS.exists(), reason="the X Education leads are not beside the repo")
def test_real_leads_prepare_without_the_leaky_columns() -> None:
    from leadflow.services.model_files import DataSpec, load

    spec = DataSpec(LEADS, "converted", tuple(LEAKY.split(",")), ("Select",))
    prepared = load(spec)
    names = {f.name for f in prepared.features}
    assert len(prepared.y) == 9240 and int(prepared.y.sum()) == 3561
    assert not names & {"Tags", "Lead Quality", "Last Activity", "Asymmetrique Profile Score"}
    assert {"Lead Origin", "Total Time Spent on Website", "City"} <= names
    city = next(f for f in prepared.features if f.name == "City")
    assert "Select" not in city.categories
