"""CSV in and out, with every value kept exactly as written.

Files are read with every column as text (``007`` stays ``007``), the
delimiter sniffed from the header and the lines after it (comma, semicolon,
tab or pipe) unless given, lines ending in LF, CRLF or CR alone (old Mac
programs), a UTF-8 byte-order mark ignored. Column names are matched to
playbook fields forgivingly ("Decision Role", "decision-role" and
``decision_role`` are the same field), and a field's ``columns:`` list names
other spellings.

What leadflow writes as CSV from its database for people to open (exports) is guarded
against spreadsheet formulas (:func:`formula_guarded`); a rated or scored file is the
caller's own file with columns added, its values written as read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import dropwhile, islice
from pathlib import Path
from typing import BinaryIO, TypeVar

import polars as pl

from leadflow.adapters.csv_records import BadRow, Records, checked_rows, find_bad_row
from leadflow.analytics.report_text import FORMULA_CHARACTERS
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import STRIP_CHARS, column_key
from leadflow.errors import InvalidInput

DELIMITERS = ",;\t|"
SAMPLE_LINES = 20  # the lines after the header a delimiter is judged from
HEAD_BYTES = 1 << 16  # where the line end is looked for
LINE_ENDS = re.compile(rb'"[^"]*"|\r\n?|\n')  # a quoted value (skipped), or a line end
FORMULA_START = "^[" + re.escape("".join(FORMULA_CHARACTERS)) + "]"
"""A text that a spreadsheet reads as a formula, as a pattern: one that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return (OWASP; the reports' CSV guards the same)."""
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def line_end(path: Path) -> str:
    """How the lines of a CSV file end, as Polars' ``eol_char``: ``"\\r"`` when its first
    line (outside quotes) ends in CR alone, as Excel's *CSV (Macintosh)* and other old
    Mac programs write, else ``"\\n"`` (CRLF too: Polars drops the CR). Read with the
    wrong one, a file of CR lines is one long header line and no rows."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except FileNotFoundError:
        raise InvalidInput("no such file", where=str(path)) from None
    for found in LINE_ENDS.finditer(head):
        if not found.group().startswith(b'"'):
            return "\r" if found.group() == b"\r" else "\n"
    return "\n"


def check_utf8(path: Path, block: int = 1 << 24) -> None:
    """InvalidInput naming the line and byte of the first thing in ``path`` that is not
    UTF-8: read lossily, it would be stored as U+FFFD with nothing said."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    end = line_end(path).encode()
    line, offset = 1, 0  # the line being read, and where it starts in the file
    read = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(block):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    _not_utf8(path, chunk, error.start, read, line, offset, end)
                line += chunk.count(end)
                last = chunk.rfind(end)
                if last >= 0:
                    offset = read + last + 1
                read += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidInput("not UTF-8 text: the file ends inside a character", str(path)) from None
    except FileNotFoundError:
        raise InvalidInput("no such file", where=str(path)) from None


def _not_utf8(
    path: Path, chunk: bytes, start: int, read: int, line: int, offset: int, end: bytes
) -> None:
    line += chunk.count(end, 0, start)
    last = chunk.rfind(end, 0, start)
    if last >= 0:
        offset = read + last + 1
    byte = chunk[start : start + 1].hex()
    raise InvalidInput(
        f"not UTF-8 text: line {line:,}, byte {read + start - offset + 1} of it (0x{byte});"
        " save the file as UTF-8 (in Excel: CSV UTF-8) and import it again",
        where=str(path),
    )


def sniff_delimiter(path: Path) -> str:
    """The delimiter of a CSV file, judged by :func:`judge_delimiter` from its header line
    and the lines after it."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            lines = list(islice(dropwhile(_empty, handle), SAMPLE_LINES + 1))
    except FileNotFoundError:
        raise InvalidInput("no such file", where=str(path)) from None
    except UnicodeDecodeError:
        check_utf8(path)  # says where
        raise
    if not lines or not lines[0].strip():
        raise InvalidInput("the file is empty: a header row is needed", where=str(path))
    return judge_delimiter(lines, whole=len(lines) <= SAMPLE_LINES)


def _empty(line: str) -> bool:
    """An empty line: Polars skips those before the header."""
    return not line.strip("\r\n")


def judge_delimiter(lines: Sequence[str], *, whole: bool = True) -> str:
    """The delimiter (comma, semicolon, tab or pipe) that reads ``lines``, a header line
    and the lines after it (``whole``: all of the file), as a table.

    A delimiter that splits the header in two or more and every other line into as many
    values wins; then one that splits the header, with the most lines split alike; then
    the one that splits the header into the most; then the first of ``DELIMITERS``.
    Values are counted as the csv module reads them, so a delimiter inside quotes does
    not count; lines with no value are left out. Judged from the header alone, a comma
    in a column name ("Straße, Hausnummer") outvoted the semicolons of the whole file.
    """

    def judged(delimiter: str) -> tuple[bool, bool, int, int]:
        rows: list[list[str]] = []
        cut = not whole
        try:
            rows.extend(row for row in csv.reader(lines, delimiter=delimiter) if any(row))
        except csv.Error:  # a value too long (VALUE_LIMIT): judged from the rows before
            cut = False  # it, each read whole (the readers say where it is)
        if cut and len(rows) > 1:
            rows.pop()  # the last line read may be cut short (a quoted value goes on)
        width = len(rows[0]) if rows else 0
        alike = sum(len(row) == width for row in rows)
        return (width > 1 and alike == len(rows), width > 1, alike, width)

    return max(DELIMITERS, key=judged)


def delimiter_option(text: str | None) -> str | None:
    """``--delimiter`` as given: one character, or ``tab`` (also ``\\t``); None: sniffed."""
    if text is None:
        return None
    found = {"tab": "\t", "\\t": "\t"}.get(text.lower(), text)
    if len(found) != 1 or len(found.encode()) != 1 or found in '"\r\n':
        raise InvalidInput(
            f"'{text}' is not a delimiter: give one character, such as ';' or '|', or tab",
            where="--delimiter",
        )
    return found


def write_header(out: BinaryIO, names: Sequence[str], delimiter: str = ",") -> None:
    """A CSV header line, quoted where needed, as Polars writes data rows."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\n").writerow(names)
    out.write(text.getvalue().encode("utf-8"))


def formula_guarded(frame: Frame) -> Frame:
    """``frame`` with each text value that starts as a formula (:data:`FORMULA_START`)
    behind a ``'``, so a spreadsheet shows it instead of running it.

    Much of what leadflow writes was typed by strangers into public forms: a name such as
    ``=HYPERLINK("http://evil","x")`` would be run by Excel, LibreOffice or Google Sheets
    (OWASP, "CSV Injection"). The single quote is OWASP's advice: a spreadsheet takes it
    as its mark for text and shows the value. Every text column is guarded alike, rather
    than a list of columns deemed free text: an email may start with ``-`` or ``=``, a
    column added later would be open until someone remembered it, and a phone in E.164
    (``+4930...``) read as a formula would become a number without its ``+``. Numbers
    and times are not text and are left as they are, negative numbers included. One
    Polars expression a text column, lazy when ``frame`` is; in memory, only the columns
    with such a text are written anew."""
    texts = [name for name, dtype in frame.collect_schema().items() if dtype == pl.String]
    if isinstance(frame, pl.DataFrame) and texts:
        found = frame.select(pl.col(texts).str.contains(FORMULA_START).any()).row(0)
        texts = [name for name, formula in zip(texts, found, strict=True) if formula]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in texts
    )


def read_text_csv(path: str | Path, delimiter: str | None = None) -> pl.DataFrame:
    """Read a CSV with every column as text; raise :class:`InvalidInput` saying what and where
    (a file with rows after its header is never read as none). ``delimiter``: as given
    (``--delimiter``), else sniffed."""
    path = Path(path)
    delimiter = delimiter or sniff_delimiter(path)
    try:
        frame = pl.read_csv(
            path,
            separator=delimiter,
            eol_char=line_end(path),
            infer_schema=False,
            encoding="utf8",
        )
    except pl.exceptions.PolarsError as error:
        raise csv_error(error, path, delimiter=delimiter) from None
    if frame.height == 0:
        _refuse_unread_rows(path, delimiter)
    _refuse_long_values(frame, path, delimiter)
    if frame.columns and frame.columns[0].startswith("\ufeff"):
        frame = frame.rename({frame.columns[0]: frame.columns[0].lstrip("\ufeff")})
    return frame


def _refuse_unread_rows(path: Path, delimiter: str) -> None:
    """InvalidInput when a file read as a header alone has a row with a value after its
    header: Polars reads a header with a quote it never closes, or one it does not take
    for a quote, as the whole file, and says nothing."""
    found = find_bad_row(path, delimiter)
    if found is None:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            records = Records(handle, delimiter)
            given = (line for line, row, _ in records if _given(row))
            next(given, None)  # the header
            line = next(given, None)
        if line is None:
            return
        found = f"line {line:,} holds values, but the file was read as a header alone"
    raise InvalidInput(f"cannot read as CSV: {found}", where=str(path))


def _refuse_long_values(frame: pl.DataFrame, path: Path, delimiter: str) -> None:
    """InvalidInput naming the line, column and length of a value longer than the csv
    module reads (:data:`~leadflow.adapters.csv_records.VALUE_LIMIT`): Polars reads any,
    and the file must read alike whichever reads it. A file of no more bytes than the limit
    holds no such value, so only a larger one is looked at (every value, once)."""
    limit = csv.field_size_limit()
    if path.stat().st_size <= limit:
        return
    longest = frame.select(pl.all().str.len_bytes().max()).row(0) if frame.height else ()
    if all(size is None or size <= limit for size in longest):
        return  # (no more bytes than the limit: no more characters)
    found = find_bad_row(path, delimiter)  # the csv module reads on to it, and says so
    if found is not None:
        raise InvalidInput(f"cannot read as CSV: {found}", where=str(path))


def read_rows(path: Path, delimiter: str | None = None) -> list[tuple[int, list[str]]]:
    """The header and the rows of a small CSV file, each with the line it starts on (the
    file's own numbers, a value over several lines and blank lines counted), for a reader
    whose messages name lines. Read as :func:`read_text_csv` reads: UTF-8 (a byte that is
    not is named by line and byte), the delimiter as given (``--delimiter``) or judged from
    the header and the lines after it, lines ending in LF, CRLF or CR alone, a byte-order
    mark ignored; refused as it refuses, naming the line
    (:func:`~leadflow.adapters.csv_records.checked_rows`): a row with more values than the
    header, a stray double quote, a value longer than
    :data:`~leadflow.adapters.csv_records.VALUE_LIMIT`, a quote never closed. Empty lines
    before the header, and rows of no value (:func:`has_value`), are left out; a file with
    no header is refused."""
    delimiter = delimiter or sniff_delimiter(path)
    try:
        rows = list(checked_rows(path, delimiter))
    except UnicodeDecodeError:
        check_utf8(path)  # says where
        raise
    except BadRow as bad:
        raise InvalidInput(f"cannot read as CSV: {bad}", where=str(path)) from None
    if not rows:  # (a delimiter given: none was judged, which says so)
        raise InvalidInput("the file is empty: a header row is needed", where=str(path))
    return rows[:1] + [(line, row) for line, row in rows[1:] if _given(row)]


def has_value(columns: Sequence[str]) -> pl.Expr:
    """Whether a row holds a value in any of ``columns``: not an empty line, nor one of
    delimiters and spaces alone (Excel writes an empty row as ``,,,,``). Polars reads
    such a line as a row of nulls (or of spaces); it is no row of the table."""
    return pl.any_horizontal(
        pl.col(c).str.strip_chars(STRIP_CHARS).str.len_bytes() > 0 for c in columns
    ).fill_null(False)


def _given(row: Sequence[str]) -> bool:
    """Whether a row read by the csv module holds a value (:func:`has_value`)."""
    return any(value.strip(STRIP_CHARS) for value in row)


def without_blank_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """``frame`` without the rows of no value (:func:`has_value`), and how many they were.

    Only a row with no value in its first column can be one: the other columns are looked
    at in those rows alone (a tenth of the time on a file whose first column is filled)."""
    if not frame.width:
        return frame, 0
    given = frame.select(has_value(frame.columns[:1])).to_series()
    if not given.all():
        unsure = (~given).arg_true()
        rest = frame.select(pl.all().gather(unsure)).select(has_value(frame.columns))
        given = given.scatter(unsure, rest.to_series())
    blank = frame.height - int(given.sum())
    return (frame.filter(given) if blank else frame), blank


def scan_text_csv(path: str | Path) -> pl.LazyFrame:
    """The lazy twin of :func:`read_text_csv`, for streaming a file through a query.

    Errors surface when the query runs; wrap its execution with :func:`csv_error`.
    """
    path = Path(path)
    frame = pl.scan_csv(
        path,
        separator=sniff_delimiter(path),
        eol_char=line_end(path),
        infer_schema=False,
        encoding="utf8",
    )
    first = frame.collect_schema().names()[0] if frame.collect_schema().names() else ""
    if first.startswith("\ufeff"):
        frame = frame.rename({first: first.lstrip("\ufeff")})
    return frame


def csv_error(
    error: Exception, path: str | Path, *, locate: bool = True, delimiter: str | None = None
) -> InvalidInput:
    """What a CSV reader's error says, as InvalidInput. With ``locate`` (``path`` is the
    file that was read, with ``delimiter`` or the one sniffed), what went wrong is looked
    for in it: text that is not UTF-8 (read strictly: never stored as U+FFFD) by
    :func:`check_utf8`, a bad row by :func:`find_bad_row`."""
    if locate and "utf-8" in str(error).lower():
        check_utf8(Path(path))
    if locate and Path(path).is_file():
        found = find_bad_row(Path(path), delimiter or sniff_delimiter(Path(path)))
        if found:
            return InvalidInput(f"cannot read as CSV: {found}", where=str(path))
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return InvalidInput(f"cannot read as CSV: {first}", where=str(path))


@dataclass(frozen=True)
class ColumnMap:
    """Which input column carries each field, and what could not be matched."""

    fields: Mapping[str, str]  # field -> column
    missing: Sequence[str]  # fields with no column
    unused: Sequence[str]  # columns that carry no field


def map_columns(
    pb: Playbook, columns: Sequence[str], explicit: Mapping[str, str] | None = None
) -> ColumnMap:
    """Match input columns to fields: explicit ``--map`` first, then names, then ``columns:``."""
    explicit = dict(explicit or {})
    for column, field in explicit.items():
        if column not in columns:
            raise InvalidInput(f"--map names column '{column}', which the file does not have")
        if field not in pb.fields:
            raise InvalidInput(f"--map names field '{field}', which the playbook does not define")
    found: dict[str, str] = {field: column for column, field in explicit.items()}
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    for name, f in pb.fields.items():
        if name in found:
            continue
        for candidate in (name, *f.columns):
            match = candidate if candidate in columns else by_key.get(column_key(candidate))
            if match is not None:
                found[name] = match
                break
    ordered = {name: found[name] for name in pb.fields if name in found}
    taken = set(ordered.values())
    return ColumnMap(
        fields=ordered,
        missing=[name for name in pb.fields if name not in ordered],
        unused=[c for c in columns if c not in taken],
    )


def parse_mappings(items: Sequence[str]) -> dict[str, str]:
    """``--map 'Column Name=field'`` options as a dict."""
    out: dict[str, str] = {}
    for item in items:
        column, sep, field = item.rpartition("=")
        if not sep or not column or not field:
            raise InvalidInput(f"--map '{item}': write it as 'Column Name=field'")
        out[column] = field.strip()
    return out
