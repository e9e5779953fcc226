"""Reading CSV files: which delimiter a file has, judged from more than its header; rows of
no value."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from leadflow.adapters.csv_files import sniff_delimiter, without_blank_rows


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
