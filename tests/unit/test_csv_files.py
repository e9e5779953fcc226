"""Reading CSV files: which delimiter a file has, judged from more than its header; rows of
no value."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from leadflow.adapters.csv_files import read_text_csv, sniff_delimiter, without_blank_rows
from leadflow.adapters.csv_records import find_bad_row, read_header, row_lines, unique_names
from leadflow.errors import InvalidInput
from leadflow.services.outcome_import import read_outcomes


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        pytest.param(
            "Name;E-Mail;Straße, Hausnummer;PLZ;Ort\n"
            "Ann Lee;ann@acme.de;Hauptstr 5;10115;Berlin\n"
            "Bob Ray;bob@beta.de;Ringstr 7;80331;München\n",
            ";",
            id="a-comma-in-a-column-name",
        ),
        pytest.param(
            "email\tname, first\tcompany\nann@acme.com\tAnn\tAcme\nbob@globex.com\tBob\tGlobex\n",
            "\t",
            id="a-comma-in-a-tab-file",
        ),
        pytest.param(
            "Name;Preis, EUR;Ort\nAnn;1,50;Berlin\nBob;2,75;Bonn\n",
            ";",
            id="a-comma-in-every-line",
        ),
        pytest.param(
            'email,notes\nann@acme.com,"call; later"\nbob@globex.com,"a; b; c"\n',
            ",",
            id="semicolons-inside-quotes",
        ),
        pytest.param(
            "email,first_name,company\nann@acme.com,Ann\nbob@globex.com,Bob,Globex\n",
            ",",
            id="a-line-short-of-values",
        ),
        pytest.param("Name;E-Mail;Straße, Hausnummer\n", ";", id="a-header-alone"),
        pytest.param("email|name|company\na@x.com|Lee, Ann|Acme\n", "|", id="pipe"),
        pytest.param("email\nann@acme.com\n", ",", id="one-column"),
    ],
)
def test_the_delimiter_splits_every_line_alike(tmp_path: Path, text: str, delimiter: str) -> None:
    """The header and the lines after it: a delimiter that splits every one of them into
    as many values as the header beats one that does not, and one that splits them into
    more beats one that splits them into fewer."""
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    assert sniff_delimiter(path) == delimiter


def test_the_delimiter_is_judged_from_the_lines_after_the_header_too(tmp_path: Path) -> None:
    """Past the lines judged, a value quoted over several lines may be cut short: it is
    left out, not counted as a line of fewer values."""
    lines = [f"u{i}@acme.de;Ann;Straße {i}, Berlin" for i in range(19)]
    path = tmp_path / "leads.csv"
    path.write_text(
        "E-Mail;Name;Straße, Ort\n" + "\n".join(lines) + '\nx@acme.de;"Lee,\nAnn";a, b\n',
        encoding="utf-8",
    )
    assert sniff_delimiter(path) == ";"


LONG = "x" * 200_000  # over the csv module's own limit, 131,072 characters


def test_a_value_longer_than_128_kb_is_read_by_every_reader(tmp_path: Path) -> None:
    """Polars reads it; the csv module, by default, did not (a traceback, or a file
    refused as if a quote were never closed)."""
    path = tmp_path / "leads.csv"
    path.write_text(f'email,description\na@x.com,"{LONG}"\nb@x.com,ok\n', encoding="utf-8")
    assert sniff_delimiter(path) == ","
    assert read_header(path, ",") == ["email", "description"]
    assert read_text_csv(path)["description"].to_list() == [LONG, "ok"]
    assert find_bad_row(path, ",") is None


def test_a_bad_row_after_a_long_value_is_named_not_taken_for_a_quote_never_closed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    rows = [f"u{i}@x.com,ok" for i in range(30)]
    path.write_text(
        "email,description\n" + "\n".join(rows) + f'\na@x.com,"{LONG}"\nb@x.com,a,b\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match=r"line 33 has 3 values, but the header names 2"):
        read_text_csv(path)


def test_a_long_value_in_a_file_of_outcomes_is_read(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(f'email,outcome,notes\na@x.com,won,"{LONG}"\n', encoding="utf-8")
    assert [row.ids for row in read_outcomes(path)] == [{"email": "a@x.com"}]


@pytest.fixture
def short_values() -> Iterator[None]:
    """The csv module told to read values of up to 1,000 characters, as leadflow tells it
    2,147,483,647 (VALUE_LIMIT): a value past the limit without a file of gigabytes."""
    before = csv.field_size_limit(1_000)
    yield
    csv.field_size_limit(before)


@pytest.mark.usefixtures("short_values")
def test_a_value_longer_than_leadflow_reads_is_named_by_its_line_column_and_length(
    tmp_path: Path,
) -> None:
    """By either reader: Polars reads any length, the csv module said "field larger than
    field limit", taken for a quote never closed."""
    path = tmp_path / "leads.csv"
    path.write_text(
        f'email,outcome,description\na@x.com,won,ok\n\n"b@x.com",won,"{"y" * 600}\n{"z" * 900}"\n',
        encoding="utf-8",
    )
    said = (
        "cannot read as CSV: line 4, column 'description': a value of 1,501 characters,"
        " longer than the 1,000 leadflow reads"
    )
    for read in (read_text_csv, read_outcomes):
        with pytest.raises(InvalidInput) as refused:
            read(path)
        assert str(refused.value) == f"{path}: {said}"
    assert find_bad_row(path, ",") == said.removeprefix("cannot read as CSV: ")


@pytest.mark.usefixtures("short_values")
def test_a_quote_never_closed_is_said_so_when_its_value_runs_past_the_limit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    rows = "\n".join(f"u{i}@x.com,{'y' * 100}" for i in range(20))
    path.write_text(f'email,description\na@x.com,"oops\n{rows}\n', encoding="utf-8")
    assert find_bad_row(path, ",") == (
        "from line 2: a quote opened in column 'description' is never closed:"
        " its value runs on to the end of the file"
    )


def test_a_problem_in_a_file_of_outcomes_is_named_by_the_line_it_starts_on(
    tmp_path: Path,
) -> None:
    """As every command names a line (``row_lines``): an empty line before the header
    made it no header at all."""
    path = tmp_path / "deals.csv"
    path.write_text(
        '\nemail,outcome,reason\na@x.com,won,"price;\nand timing"\nb@x.com,closed,\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match=r"1 problem\(s\), nothing imported:\nline 5, column"):
        read_outcomes(path)
    assert row_lines(path, ",") == [3, 5]


def test_rows_of_no_value_are_found_whatever_their_first_column_holds() -> None:
    """Only rows with no first value are looked at in full: a row with a value in another
    column stays, one of spaces and nothing else goes."""
    frame = pl.DataFrame(
        {
            "id": ["1", None, None, "  ", None, "2"],
            "name": ["Ann", "Bob", None, " ", None, None],
            "notes": [None, None, "x", None, "\u00a0", None],
        }
    )
    kept, blank = without_blank_rows(frame)
    assert (kept["id"].to_list(), blank) == (["1", None, None, "2"], 2)
    assert kept["name"].to_list() == ["Ann", "Bob", None, None]


def test_a_repeated_name_is_made_unique_and_the_first_keeps_it() -> None:
    header = ["Email", "Email", "Name", "Email (2)", "Email", "email"]
    assert unique_names(header) == ["Email", "Email (3)", "Name", "Email (2)", "Email (4)", "email"]
