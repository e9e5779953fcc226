"""``leadflow reps ...`` end to end, through the real CLI on a SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_store_cli import leadflow, ok  # pytest puts this folder on sys.path


def test_add_list_update_deactivate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a table wide enough not to fold the addresses
    added = leadflow(
        tmp_path,
        *("reps", "add", "--name", "Ann Lee", "--email", "Ann.Lee@Acme.io", "--team", "emea"),
        *("--capacity", "20", "--territory", "DE", "--territory", "North America"),
        *("--hours", "Europe/Berlin mon-fri 09:00-17:00"),
    )
    assert ok(added) == "1\n"  # the id alone on stdout
    assert "Added rep" in added.stderr
    bob = ok(leadflow(tmp_path, "reps", "add", "--name", "Bob", "--email", "bob@acme.io"))
    assert bob == "2\n"

    listed = json.loads(ok(leadflow(tmp_path, "reps", "list", "--format", "json")))
    assert [r["email"] for r in listed] == ["ann.lee@acme.io", "bob@acme.io"]
    assert listed[0]["territories"] == ["DE", "North America"]
    assert listed[0]["hours"] == "Europe/Berlin Mon-Fri 09:00-17:00"
    assert (listed[0]["capacity"], listed[1]["capacity"], listed[0]["active"]) == (20, None, True)

    changed = leadflow(
        tmp_path,
        *("reps", "update", "ann.lee@acme.io", "--clear", "capacity", "--territory", "FR"),
        *("--away-from", "2026-12-24", "--away-until", "2027-01-01"),
    )
    ok(changed)
    assert "Updated rep Ann Lee" in changed.stderr
    ok(leadflow(tmp_path, "reps", "deactivate", "2"))

    table = ok(leadflow(tmp_path, "reps", "list"))
    assert "ann.lee@acme.io" in table and "bob@acme.io" not in table
    rows = list(
        csv.DictReader(
            io.StringIO(ok(leadflow(tmp_path, "reps", "list", "--all", "--format", "csv")))
        )
    )
    assert [(r["id"], r["active"]) for r in rows] == [("1", "yes"), ("2", "no")]
    assert (rows[0]["capacity"], rows[0]["territories"]) == ("", "FR")
    assert (rows[0]["away_from"], rows[0]["away_until"]) == ("2026-12-24", "2027-01-01")


def test_refusals_are_plain_messages_with_exit_code_2(tmp_path: Path) -> None:
    ok(leadflow(tmp_path, "reps", "add", "--name", "Ann", "--email", "ann@acme.io"))
    for args, words in (
        (("add", "--name", "Ann 2", "--email", "ANN@acme.io"), "exists already"),
        (("add", "--name", "X", "--email", "x@acme.io", "--hours", "Berlin Mon 9-5"), "time zone"),
        (("add", "--name", "X", "--email", "x@acme.io", "--away-from", "2026-12-24"), "both"),
        (("update", "nobody@acme.io", "--team", "x"), "no rep 'nobody@acme.io'"),
        (("update", "1"), "at least one option"),
        (("update", "1", "--clear", "colour"), "cannot be cleared"),
        (("deactivate", "7"), "no rep '7'"),
    ):
        refused = leadflow(tmp_path, "reps", *args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert "error:" in refused.stderr and words in refused.stderr, refused.stderr
        assert refused.stdout == ""
    rows = json.loads(ok(leadflow(tmp_path, "reps", "list", "--all", "--format", "json")))
    assert [r["name"] for r in rows] == ["Ann"]
