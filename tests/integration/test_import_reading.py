"""How an import reads its file: every row it holds, each value under its own column,
or an error that says what is wrong and on which line; never a file read as fewer rows,
or as other values, with nothing said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_bulk_import import plain_import  # pytest puts this folder on sys.path

from leadflow.adapters.store import tables as t
from leadflow.errors import InvalidInput
from leadflow.services import imports
from leadflow.services.uow import UnitOfWork


def payloads(engine: Engine) -> list[dict[str, str | None]]:
    """The stored inquiries' payloads, then the quarantined ones', in order."""
    with engine.connect() as c:
        kept = c.execute(select(t.inquiries.c.payload).order_by(t.inquiries.c.id)).scalars()
        held = c.execute(select(t.quarantine.c.payload).order_by(t.quarantine.c.id)).scalars()
        return [json.loads(p) for p in [*kept, *held]]


LEADS = [
    ["email", "first_name", "company"],
    ["ann@acme.com", "Ann", "Acme"],
    ["bob@globex.com", "Bob", '"Globex\nEurope"'],
    ["cy@initech.de", "Cy", "Initech"],
]


def lines(end: str, rows: list[list[str]] = LEADS) -> bytes:
    return "".join(",".join(row) + end for row in rows).encode()


@pytest.mark.parametrize("end", ["\r", "\r\n"])
def test_lines_that_end_in_cr_alone_are_read_as_lines_ending_in_crlf_are(
    engine: Engine, tmp_path: Path, end: str
) -> None:
    """Excel's CSV (Macintosh) and old Mac programs end lines in CR alone (the file was
    one header line: 0 rows read, and success)."""
    path = tmp_path / "leads.csv"
    path.write_bytes(lines(end))
    summary = plain_import(engine, path)
    assert summary.rows == 3
    assert payloads(engine) == [
        {"email": "ann@acme.com", "first_name": "Ann", "company": "Acme"},
        {"email": "bob@globex.com", "first_name": "Bob", "company": "Globex\nEurope"},
        {"email": "cy@initech.de", "first_name": "Cy", "company": "Initech"},
    ]


def test_text_that_is_not_utf8_in_a_file_of_cr_lines_is_named_by_its_line(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(lines("\r") + "rene@societe.fr,René,Société\r".encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"not UTF-8 text: line 5, byte 20 of it \(0xe9\)"):
        plain_import(engine, path)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('email,"first_name\na@x.com,Ann\n', "from line 1: unexpected end of data"),
        ('email,first"name\na@x.com,Ann\n', "line 1: the column name 'first\"name' has a"),
    ],
    ids=["quote-never-closed", "quote-inside-a-name"],
)
def test_a_file_with_rows_is_never_read_as_a_header_alone(
    engine: Engine, tmp_path: Path, text: str, says: str
) -> None:
    """Polars reads the whole file as the header line and says nothing."""
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=says):
        plain_import(engine, path)
    with UnitOfWork(engine) as uow:
        assert uow.store.count(t.imports) == 0


def test_a_header_read_as_other_columns_than_the_rows_is_refused(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payloads name each value by the header as the csv module reads it, the rows
    are read by Polars: should the two disagree (a line end or a quote one of them reads
    otherwise), values would go under the wrong names. The mismatch was hidden."""
    path = tmp_path / "leads.csv"
    path.write_bytes(lines("\n"))
    monkeypatch.setattr(imports, "read_header", lambda *_: ["email", "first_name"])
    with pytest.raises(InvalidInput, match="holds 2 names read alone, 3 read with the rest"):
        plain_import(engine, path)


def test_lines_of_no_value_are_skipped_and_counted_never_quarantined(
    engine: Engine, tmp_path: Path
) -> None:
    """Empty lines, and lines of delimiters and spaces alone (Excel writes an empty row
    as ``,,,,``), were quarantined as inquiries with a made-up payload of nulls."""
    path = tmp_path / "leads.csv"
    path.write_text(
        'email,first_name\na@x.com,Ann\n\n\nb@x.com,Bob\n,\n  , \t\n"",""\n, Cy\n\n',
        encoding="utf-8",
    )
    summary = plain_import(engine, path)
    assert payloads(engine) == [
        {"email": "a@x.com", "first_name": "Ann"},
        {"email": "b@x.com", "first_name": "Bob"},
        {"email": None, "first_name": " Cy"},  # a value: a row, kept as written
    ]
    assert (summary.rows, summary.blank, summary.new_people) == (3, 6, 2)
    assert dict(summary.quarantined) == {"no_identity": 1}
    with engine.connect() as c:
        assert c.execute(select(t.imports.c.rows, t.imports.c.taken)).one() == (3, 3)


def test_empty_lines_before_the_header_are_skipped(engine: Engine, tmp_path: Path) -> None:
    """As Polars skips them (the file was refused as empty)."""
    path = tmp_path / "leads.csv"
    path.write_text("\n\r\nemail;first_name\na@x.com;Ann\n", encoding="utf-8")
    assert plain_import(engine, path).rows == 1
    assert payloads(engine) == [{"email": "a@x.com", "first_name": "Ann"}]


def test_a_stray_double_quote_is_named_by_its_line_and_value(
    engine: Engine, tmp_path: Path
) -> None:
    """A quote inside a value not in quotes (27" Monitor): the csv module reads it as
    written, Polars reads on into the next lines and failed saying "CSV malformed:
    expected 0 rows, actual 1 rows", with no line. Past the first chunk too."""
    path = tmp_path / "leads.csv"
    rows = [f"u{i}@acme.com,Desk,Acme" for i in range(2_000)]
    path.write_text(
        "email,item,company\n" + "\n".join(rows) + '\nz@x.com,27" Monitor,Acme\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as refused:
        plain_import(engine, path)
    assert refused.value.where == str(path)
    assert str(refused.value).endswith(
        "cannot read as CSV: line 2,002: the value '27\" Monitor' of column 'item' has a"
        " double quote but is not in quotes; put it in quotes with the quote doubled,"
        ' "27"" Monitor", or take the quote out'
    )


def test_a_stray_double_quote_in_the_header_is_refused(engine: Engine, tmp_path: Path) -> None:
    """Polars read the file as its last row alone: the header's quote and the next
    stray one made the two rows between them part of a column name."""
    path = tmp_path / "leads.csv"
    path.write_text(
        'email,Size 27",company\na@x.com,L,Acme\nb@x.com,5" x,Globex\nc@x.com,M,Initech\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="line 1: the column name 'Size 27\"' has a double"):
        plain_import(engine, path)
    with UnitOfWork(engine) as uow:
        assert uow.store.count(t.inquiries) == 0


def test_a_value_longer_than_128_kb_is_kept_whole_in_the_payload(
    engine: Engine, tmp_path: Path
) -> None:
    """On PostgreSQL too: a pasted e-mail thread, one line of it longer than the csv
    module's own limit (131,072 characters)."""
    thread = "\n".join(
        f"On day {i}, Ann wrote: " + "can we talk about pricing? " * 400 for i in range(20)
    )
    quoted = '"' + thread.replace('"', '""') + '"'
    path = tmp_path / "leads.csv"
    path.write_text(
        f"email,description\nann@acme.com,{quoted}\nbob@globex.com,short\n", encoding="utf-8"
    )
    assert plain_import(engine, path).rows == 2
    assert [p["description"] for p in payloads(engine)] == [thread, "short"]
