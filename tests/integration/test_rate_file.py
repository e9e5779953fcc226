"""Rating a CSV file in-process: the columns in and out, and the errors for bad files.

The end-to-end tests drive the same service through the command; these cover
the corners that would cost a process each.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadflow.adapters.playbook_file import load_playbook
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput
from leadflow.services import rate_file
from leadflow.services.rate_file import RateSummary, rate_csv

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLAYBOOKS = Path(__file__).resolve().parents[2] / "src" / "leadflow" / "playbooks"
BTD = load_playbook(PLAYBOOKS / "btd.yaml")
ADDED = ["grade", "score", "route", "reasons", "data_issues"]


def rate_text(
    tmp_path: Path, text: str, mappings: dict[str, str] | None = None
) -> tuple[list[list[str]], RateSummary]:
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8", newline="")
    out = io.BytesIO()
    summary = rate_csv(BTD, path, out, now=NOW, mappings=mappings)
    return list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"), newline=""))), summary


def test_a_file_with_a_header_and_no_rows(tmp_path: Path) -> None:
    rows, summary = rate_text(tmp_path, "id,budget\n")
    assert rows == [["id", "budget", *ADDED]]
    assert summary.rows == 0


def test_the_summary_counts_grades_routes_and_issues(tmp_path: Path) -> None:
    text = (
        "budget,decision_role,timeframe_days,contact_me_now\n"
        "approved,decision_maker,10,\n"
        "none,researcher,soon,yes\n"
        "planned,influencer,500,\n"
    )
    rows, summary = rate_text(tmp_path, text)
    assert [r[4] for r in rows[1:]] == ["A", "D", "C"]
    assert summary.grades == {"A": 1, "D": 1, "C": 1}
    assert summary.routes == {"sales": 2, "nurture": 1}
    assert summary.with_issues == 1
    assert summary.issue_counts == {"timeframe_days": 1}


def test_a_column_named_like_a_result_is_replaced(tmp_path: Path) -> None:
    rows, summary = rate_text(tmp_path, "id,grade,budget\n1,old,approved\n")
    assert rows[0] == ["id", "budget", *ADDED]
    assert summary.replaced == ["grade"]


def test_columns_match_fields_forgivingly(tmp_path: Path) -> None:
    text = "Budget,Decision-Role,TIMEFRAME DAYS\napproved,Decision Maker,5\n"
    rows, summary = rate_text(tmp_path, text)
    assert rows[1][3] == "A"
    assert summary.columns is not None
    assert dict(summary.columns.fields) == {
        "budget": "Budget",
        "timeframe_days": "TIMEFRAME DAYS",
        "decision_role": "Decision-Role",
    }
    assert list(summary.columns.missing) == ["contact_me_now"]


def test_a_map_naming_a_column_the_file_lacks(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--map names column 'Budget Status'"):
        rate_text(tmp_path, "id,budget\n1,approved\n", {"Budget Status": "budget"})


def test_a_map_naming_a_field_the_playbook_lacks(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--map names field 'money'"):
        rate_text(tmp_path, "id,Money\n1,approved\n", {"Money": "money"})


def test_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="the file is empty"):
        rate_text(tmp_path, "")


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("budget\nné\n".encode("utf-16"))
    with pytest.raises(InvalidInput, match="not UTF-8") as caught:
        rate_csv(BTD, path, io.BytesIO(), now=NOW)
    assert str(path) in str(caught.value)


def test_repeated_column_names_are_kept_as_written(tmp_path: Path) -> None:
    rows, _ = rate_text(tmp_path, "id,Notes,Notes,budget\n1,a,b,approved\n")
    assert rows[0] == ["id", "Notes", "Notes", "budget", *ADDED]
    assert rows[1][:4] == ["1", "a", "b", "approved"]


def test_a_repeated_field_column_is_read_from_the_first_of_them(tmp_path: Path) -> None:
    """As ``import`` and ``import-activities`` read a repeated name."""
    rows, _ = rate_text(tmp_path, "id,budget,budget\n1,none,approved\n2,approved,none\n")
    reasons = [row[3 + ADDED.index("reasons")] for row in rows[1:]]
    assert ["budget=approved" in r for r in reasons] == [False, True]


WAYS = ["in memory", "streamed", "chunked"]
"""The ways a file is rated: read whole and written natively (to a path), streamed through
one query (a path, a file over ``IN_MEMORY_BYTES``), in chunks (a stream)."""


def rate_way(
    tmp_path: Path,
    text: str,
    way: str,
    monkeypatch: pytest.MonkeyPatch,
    stream: io.BytesIO | None = None,
    pb: Playbook = BTD,
    **options: Any,
) -> tuple[list[list[str]], RateSummary]:
    """``text`` rated the ``way`` named (``stream``: where the chunks go); the rows
    written to ``rated.csv`` or the stream, and the summary."""
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8", newline="")
    if way == "streamed":
        monkeypatch.setattr(rate_file, "IN_MEMORY_BYTES", 0)
    if way == "chunked":
        stream = stream or io.BytesIO()
        summary = rate_csv(pb, path, stream, now=NOW, chunk_rows=1, **options)
        written = stream.getvalue().decode("utf-8")
    else:
        out = tmp_path / "rated.csv"
        summary = rate_csv(pb, path, out, now=NOW, **options)
        written = out.read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(written, newline=""))), summary


HOSTILE = (
    "id,Name,Phone,budget,=cmd\n"
    '1,"=HYPERLINK(""http://evil"",""x"")",+14155550100,approved,@SUM(1)\n'
    "2,-2+3,(415) 555-0100,planned,\tx\n"
)


@pytest.mark.parametrize("way", WAYS)
def test_the_input_values_are_written_as_read_formulas_too(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rated file is the caller's own file with columns added: its values as given (a
    phone in E.164, a negative number), never rewritten for a spreadsheet; leadflow's
    columns start with a grade, a number, a route or the playbook's words."""
    rows, summary = rate_way(tmp_path, HOSTILE, way, monkeypatch)
    assert rows[0] == ["id", "Name", "Phone", "budget", "=cmd", *ADDED]
    assert rows[1][:5] == [
        "1",
        '=HYPERLINK("http://evil","x")',
        "+14155550100",
        "approved",
        "@SUM(1)",
    ]
    assert rows[2][:5] == ["2", "-2+3", "(415) 555-0100", "planned", "\tx"]
    assert [row[6] for row in rows[1:]] == ["1.0", "1.0"]
    assert summary.rows == 2


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "id,budget,notes\n1,approved,x\n2,planned,y,z\n",
            "line 3 has 4 values, but the header names 3 columns",
        ),
        (
            'id,budget,notes\n1,approved,x\n2,planned,27" Monitor\n',
            "line 3: the value '27\" Monitor' of column 'notes' has a double quote",
        ),
    ],
    ids=["a-value-too-many", "stray-quote"],
)
def test_a_row_too_wide_is_refused_naming_file_and_line_and_nothing_is_written(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch, text: str, says: str
) -> None:
    """As ``leadflow import`` refuses a row with a value too many, or a stray quote."""
    stream = io.BytesIO()
    with pytest.raises(InvalidInput, match=re.escape(says)) as refused:
        rate_way(tmp_path, text, way, monkeypatch, stream)
    assert refused.value.where == str(tmp_path / "leads.csv")
    assert not (tmp_path / "rated.csv").exists()
    assert stream.getvalue() == b""


@pytest.mark.parametrize("way", WAYS)
def test_a_row_short_of_values_reads_the_missing_ones_as_empty(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``leadflow import`` reads it, and as spreadsheets and most CSV readers do."""
    text = 'id,budget,notes\n1,approved,"a\nb"\n2,planned\n3\n'
    rows, summary = rate_way(tmp_path, text, way, monkeypatch)
    assert [row[:3] for row in rows[1:]] == [
        ["1", "approved", "a\nb"],
        ["2", "planned", ""],
        ["3", "", ""],
    ]
    assert summary.rows == 3


@pytest.mark.parametrize("way", WAYS)
def test_blank_lines_are_skipped_and_counted(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Empty lines, and lines of delimiters and spaces alone (Excel's ``,,``), in the middle
    and at the end: no row of the table, as ``leadflow import`` skips them. A row whose
    last values are empty is no row short of values."""
    text = "id,budget,notes\n1,approved,\n\n2,planned,x\n,,\n  , ,\n3,,\n\n\n"
    rows, summary = rate_way(tmp_path, text, way, monkeypatch)
    assert [row[:3] for row in rows[1:]] == [
        ["1", "approved", ""],
        ["2", "planned", "x"],
        ["3", "", ""],
    ]
    assert (summary.rows, summary.blank) == (3, 5)


@pytest.mark.parametrize("way", WAYS)
def test_activities_reach_their_leads_past_blank_lines(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    b2b = load_playbook(PLAYBOOKS / "b2b-saas.yaml")
    activities = tmp_path / "activities.csv"
    activities.write_text("id,type,at\nA2,trial_signup,2026-11-22T09:00:00Z\n\n", encoding="utf-8")
    text = "id,product,company_size\n\nA1,starter,40\n\nA2,starter,40\n"
    rows, summary = rate_way(tmp_path, text, way, monkeypatch, pb=b2b, activities=activities)
    assert [row[0] for row in rows[1:]] == ["A1", "A2"]
    assert "Trial sign-up" not in rows[1][6] and "Trial sign-up" in rows[2][6]
    assert (summary.blank, summary.activities, summary.activities_skipped) == (2, 1, 0)
