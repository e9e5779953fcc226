"""Reading a CRM's file of outcomes: as ``leadflow import`` reads a file, with each
problem named by the file's own line."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.errors import InvalidInput
from leadflow.services.outcome_import import read_outcomes


def outcomes(
    tmp_path: Path, data: str | bytes, delimiter: str | None = None
) -> list[tuple[object, ...]]:
    path = tmp_path / "deals.csv"
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    rows = read_outcomes(path) if delimiter is None else read_outcomes(path, delimiter)
    return [(r.line, r.ids, r.cmd.kind, r.cmd.value, r.cmd.reason) for r in rows]


@pytest.mark.parametrize(
    "text",
    [
        "email;outcome;value\nann@acme.com;won;1.200,5\n",
        "email\toutcome\tvalue\nann@acme.com\twon\t1,200.5\n",
        "email|outcome|value\nann@acme.com|won|1200.5\n",
    ],
    ids=["semicolons", "tabs", "pipes"],
)
def test_the_delimiter_is_judged_from_the_header_and_the_lines_after_it(
    tmp_path: Path, text: str
) -> None:
    ((line, ids, kind, _, _),) = outcomes(tmp_path, text)
    assert (line, ids, kind) == (2, {"email": "ann@acme.com"}, "won")


def test_a_delimiter_given_is_the_one_read(tmp_path: Path) -> None:
    """A file of one column judged alone would be read with commas (its values hold
    some); given, the semicolon splits it."""
    text = "email;outcome;reason\nann@acme.com;lost;price, terms\n"
    assert outcomes(tmp_path, text, ";")[0][4] == "price, terms"
    with pytest.raises(InvalidInput, match="no 'outcome' column"):
        outcomes(tmp_path, text, "|")


def test_lines_ending_in_cr_alone_are_read_as_lines(tmp_path: Path) -> None:
    """As Excel's *CSV (Macintosh)* writes them."""
    rows = outcomes(tmp_path, "email,outcome\rann@acme.com,won\rbob@acme.com,lost\r")
    assert [(line, kind) for line, _, kind, _, _ in rows] == [(2, "won"), (3, "lost")]


def test_text_that_is_not_utf8_is_refused_naming_line_and_byte(tmp_path: Path) -> None:
    data = "email,outcome,reason\nann@acme.com,won,\nbob@acme.com,lost,trop chère\n"
    with pytest.raises(InvalidInput, match=r"not UTF-8 text: line 3, byte 26 of it \(0xe8\)"):
        outcomes(tmp_path, data.encode("latin-1"))


def test_blank_lines_are_skipped_and_problems_keep_the_file_s_lines(tmp_path: Path) -> None:
    """A reason over two lines and blank lines (``,,``, as Excel writes an empty row)
    count: a problem is named by the line it is on in the file."""
    text = (
        "\nemail,outcome,value,reason\n"
        'ann@acme.com,won,100,"a reason\non two lines"\n'
        "\n,,,\n"
        "bob@acme.com,lost,-5,\n"
        "  ,  , ,\n"
    )
    with pytest.raises(InvalidInput) as refused:
        outcomes(tmp_path, text)
    assert "1 problem(s), nothing imported:\nline 7, column value:" in str(refused.value)
    rows = outcomes(tmp_path, text.replace("-5", "5"))
    assert [(line, kind, reason) for line, _, kind, _, reason in rows] == [
        (3, "won", "a reason\non two lines"),
        (7, "lost", None),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            'email,outcome,reason\nann@acme.com,lost,a 27" monitor\n',
            "line 2: the value 'a 27\" monitor' of column 'reason' has a double quote",
        ),
        ("email,outcome\nann@acme.com,won\nbob@acme.com,lost,price\n", "line 3 has 3 values"),
        ('email,outcome,reason\nann@acme.com,lost,"price\n', "from line 2: unexpected end"),
    ],
    ids=["stray-quote", "a-value-too-many", "a-quote-never-closed"],
)
def test_a_row_that_cannot_be_read_is_refused_naming_its_line(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(InvalidInput, match="cannot read as CSV: " + says) as refused:
        outcomes(tmp_path, text)
    assert refused.value.where == str(tmp_path / "deals.csv")


@pytest.mark.parametrize("delimiter", [None, ";"], ids=["judged", "given"])
@pytest.mark.parametrize("data", ["", "\n\r\n"], ids=["empty", "empty lines"])
def test_a_file_with_no_header_is_refused_whether_or_not_the_delimiter_is_given(
    tmp_path: Path, data: str, delimiter: str | None
) -> None:
    """Given one, no delimiter is judged, which refused such a file: the rows read were
    none, and unpacking the header out of them was a traceback."""
    with pytest.raises(InvalidInput, match="the file is empty: a header row is needed"):
        outcomes(tmp_path, data, delimiter)


def test_a_repeated_column_is_read_from_the_first_of_them(tmp_path: Path) -> None:
    """As ``import`` reads a repeated name (the csv module's rows made a dictionary kept
    the last)."""
    rows = outcomes(tmp_path, "email,outcome,Outcome\nann@acme.com,won,lost\n")
    assert [(ids, kind) for _, ids, kind, _, _ in rows] == [({"email": "ann@acme.com"}, "won")]
