"""Foot-guns the real ``leadflow`` command points out: a form whose map takes the email
away from every post, a replay's fix of a field that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BTD = ROOT / "examples" / "playbooks" / "btd.yaml"


def leadflow(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": f"sqlite:///{tmp / 'lf.db'}",
        "LEADFLOW_PLAYBOOK": str(BTD),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "leadflow", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_form_map_that_takes_the_email_away_is_warned_of(tmp_path: Path) -> None:
    """Every post to such a form would be quarantined as no_identity, with no word."""
    made = leadflow(
        tmp_path, "forms", "create", "X4", "--map", "email=budget", "--map", "Mobile=phone",
        "--map", "00N1=budget",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    said = " ".join(made.stderr.split())
    assert "warning: --map 'email=budget': the email posted as 'email' is read as 'budget'" in said
    assert "quarantined (no_identity)" in said
    assert "Mobile" not in said and "00N1" not in said  # another name of the phone; a field


def test_a_replay_fix_of_a_field_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """As ``import --map`` refuses a name no capture reads: the fix would be kept where no
    rule reads it, and the item replayed without it."""
    (tmp_path / "a.csv").write_text("first_name,budget\nNoa,planned\n", encoding="utf-8")
    imported = leadflow(tmp_path, "import", "a.csv", "--source", "expo")
    assert imported.returncode == 0, imported.stderr
    typo = leadflow(
        tmp_path, "quarantine", "replay", "1", "--set", "email=noa@acme.io",
        "--set", "budgte=approved",
    )  # fmt: skip
    assert typo.returncode == 2
    said = " ".join(typo.stderr.split())
    assert said.startswith(
        "error: --set: 'budgte=approved': 'budgte' is not a field a capture reads"
        " (did you mean 'budget'?); identity fields: email, phone,"
    )
    assert said.endswith(
        "the playbook's: budget, timeframe_days, decision_role, contact_me_now;"
        " opt-outs: do_not_email, do_not_call, do_not_contact"
    )
    listed = leadflow(tmp_path, "quarantine", "list")
    assert "no_identity" in listed.stdout  # still there, to be fixed
    fixed = leadflow(tmp_path, "quarantine", "replay", "1", "--set", "email=noa@acme.io")
    assert fixed.returncode == 0, fixed.stderr
