"""CSV files read by the csv module, record by record, each with the line it starts on.

Polars reads the rows of a file (:mod:`leadflow.adapters.csv_files`); the csv module
reads where a record's lines matter: the header exactly as written, the line each row
starts on (:func:`row_lines`, for every message that names one), where a file Polars
refused goes wrong, and the rows of a small file (a file of outcomes), each with its
line, checked as they are read (:func:`checked_rows`, for ``csv_files.read_rows``).

Both read a value of up to :data:`VALUE_LIMIT` characters, and refuse a longer one alike,
naming its line, column and length (:class:`TooLong`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from leadflow.errors import InvalidInput

VALUE_LIMIT = 2**31 - 1
"""The longest value, in characters, leadflow reads from a CSV file: the most the csv
module can be told on every platform (its limit is a C long, of 32 bits on Windows), and
more than a file whose rows are read whole into memory could hold. The module's own
default, 131,072 characters, refused a good file with a pasted e-mail thread in it, as a
quote never closed; Polars has no limit of its own, so leadflow refuses a longer value
from it too (``csv_files.read_text_csv``)."""

# The csv module's limit is one for the whole process: set here, once, where leadflow's
# readers are; raised, never lowered (a program that set it higher keeps its own).
if csv.field_size_limit() < VALUE_LIMIT:
    csv.field_size_limit(VALUE_LIMIT)


def read_header(path: Path, delimiter: str) -> list[str]:
    """The header row exactly as written (Polars renames repeated names; this does not),
    after any empty lines, as Polars skips them. A name with a stray double quote is
    refused: Polars reads on from it into the rows, and loses them without a word."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        try:
            for line, row, text in Records(handle, delimiter):
                if not row:
                    continue
                stray = _stray_quote(line, text, delimiter)
                if stray:
                    raise InvalidInput(f"cannot read as CSV: {stray}", where=str(path))
                return row
        except TooLong as error:
            raise InvalidInput(f"cannot read as CSV: {error}", where=str(path)) from None
    return []


def unique_names(header: Sequence[str]) -> list[str]:
    """``header`` with each name an earlier column has made its own: the second ``Email``
    is ``Email (2)``, the third ``Email (3)`` (the next number no column has). The first
    column of a name keeps it, and is the one read under it; the others stay, under their
    new names, in what is kept of each row (a JSON object holds a name once: with two,
    JSON readers keep the last and lose the first)."""
    taken = set(header)
    seen: set[str] = set()
    names = []
    for name in header:
        if name in seen:
            number = 2
            while f"{name} ({number})" in taken:
                number += 1
            name = f"{name} ({number})"
            taken.add(name)
        seen.add(name)
        names.append(name)
    return names


def row_lines(path: Path, delimiter: str) -> list[int]:
    """The line of the file each row starts on, in the order Polars reads the rows: after
    the header (and the empty lines before it, which Polars skips), an empty line a row of
    its own. A row's index plus 2 is no line: a value quoted over two lines is one row of
    two lines, and every message naming a line names the file's own (as
    :func:`find_bad_row` does)."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        records = iter(Records(handle, delimiter))
        try:
            next((line for line, row, _ in records if row), None)  # the header
            return [line for line, _, _ in records]
        except TooLong as error:
            raise InvalidInput(f"cannot read as CSV: {error}", where=str(path)) from None


def find_bad_row(path: Path, delimiter: str) -> str | None:
    """Where a file a CSV reader refused goes wrong, in words (:class:`BadRow`); None when
    nothing is found. Read again row by row (only once the fast reader has failed, or read
    a value too long)."""
    try:
        for _ in checked_rows(path, delimiter):
            pass
    except BadRow as bad:
        return str(bad)
    return None


class BadRow(Exception):
    """What is wrong with a row, in words."""


def checked_rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The header and the rows of ``path`` read by the csv module, each with the line it
    starts on (empty lines before the header skipped); :class:`BadRow` at the first with
    more values than the header has columns, a stray double quote, a value longer than
    :data:`VALUE_LIMIT`, or a quote never closed."""
    header: list[str] | None = None
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        records = Records(handle, delimiter, strict=True)
        try:
            for line, row, text in records:
                stray = _stray_quote(line, text, delimiter, header)
                if stray:
                    raise BadRow(stray)
                if header is None:
                    header = row or None  # empty lines before it are skipped
                    if header is None:
                        continue
                elif len(row) > len(header):
                    raise BadRow(
                        f"line {line:,} has {len(row)} values, but the header names"
                        f" {len(header)} columns; quote a value that holds a '{delimiter}'"
                    )
                yield line, row
        except TooLong as error:
            raise BadRow(str(error)) from None
        except csv.Error as error:
            raise BadRow(
                f"from line {records.start:,}: {error} (a quote opened and never closed?)"
            ) from None


def _stray_quote(
    line: int, text: str, delimiter: str, header: Sequence[str] | None = None
) -> str | None:
    """What is wrong, in words, when a record (``text``, as written, from ``line``) has a
    value with a double quote in it that does not begin with one, as ``Tom 5" Neil`` or
    ``27" Monitor``. The csv module reads the quote as written; Polars takes it for the
    start of a quoted value and reads on into the next lines, then fails without a line
    (or, in the header, loses the rows)."""
    if '"' not in text:
        return None
    values = re.compile(rf'"(?:[^"]|"")*"|[^{re.escape(delimiter)}\r\n]*')
    at, index = 0, 0
    while True:
        value = values.match(text, at)
        assert value is not None  # the second pattern matches nothing at worst
        if '"' in value.group() and not value.group().startswith('"'):
            break
        at = value.end() + 1
        if value.end() >= len(text) or text[value.end()] in "\r\n":
            return None
        index += 1
    written = value.group()
    what = f"the column name '{written}'" if header is None else f"the value '{written}'"
    if header is not None and index < len(header):
        what += f" of column '{header[index]}'"
    quoted = '"' + written.replace('"', '""') + '"'
    return (
        f"line {line:,}: {what} has a double quote but is not in quotes;"
        f" put it in quotes with the quote doubled, {quoted}, or take the quote out"
    )


class TooLong(csv.Error):
    """A value longer than the csv module reads (:data:`VALUE_LIMIT`), in words: its
    line, its column and its length."""


class Records:
    """The records of a CSV file read by the csv module, each with the line it starts on
    and its text as written; ``start`` is the line of the one being read, ``header`` the
    first record with a value. A value longer than the module reads raises
    :class:`TooLong` (the module's own error said neither where nor what)."""

    def __init__(self, handle: TextIO, delimiter: str, *, strict: bool = False) -> None:
        self._taken: list[str] = []
        self._handle = handle
        self._delimiter = delimiter
        self._reader = csv.reader(self._lines(handle), delimiter=delimiter, strict=strict)
        self.start = 1
        self.header: list[str] | None = None

    def _lines(self, handle: TextIO) -> Iterator[str]:
        for line in handle:
            self._taken.append(line)
            yield line

    def __iter__(self) -> Iterator[tuple[int, list[str], str]]:
        try:
            for row in self._reader:
                text = "".join(self._taken)
                self._taken.clear()
                if self.header is None and row:
                    self.header = row
                yield self.start, row, text
                self.start = self._reader.line_num + 1
        except csv.Error as error:
            said = self._too_long() if "field larger than field limit" in str(error) else None
            if said is None:
                raise
            raise TooLong(said) from error

    def _too_long(self) -> str | None:
        """What the record being read has that is too long, in words; None if nothing
        (the csv module failed for another reason)."""
        limit = csv.field_size_limit()
        text = "".join(self._taken)
        values = re.compile(
            rf'"((?:[^"]|"")*)(")?([^{re.escape(self._delimiter)}\r\n]*)'
            rf"|[^{re.escape(self._delimiter)}\r\n]*"
        )
        at, index = 0, 0
        while True:
            value = values.match(text, at)
            assert value is not None  # the second pattern matches nothing at worst
            if value.group().startswith('"') and value.group(2) is None:
                more = [self._handle.readline()]  # it goes on: read on to a quote
                while more[-1] and '"' not in more[-1]:
                    more.append(self._handle.readline())
                if more[-1]:
                    text += "".join(more)
                    continue
                return (
                    f"from line {self.start:,}: a quote opened in {self._column(index)}"
                    " is never closed: its value runs on to the end of the file"
                )
            if value.group().startswith('"'):
                size = len(value.group(1).replace('""', '"')) + len(value.group(3))
            else:
                size = len(value.group())
            if size > limit:
                return (
                    f"line {self.start:,}, {self._column(index)}: a value of {size:,}"
                    f" characters, longer than the {limit:,} leadflow reads"
                )
            if value.end() >= len(text) or text[value.end()] in "\r\n":
                return None
            at, index = value.end() + 1, index + 1

    def _column(self, index: int) -> str:
        if self.header is None:
            return f"the header's name {index + 1}"
        return (
            f"column '{self.header[index]}'" if index < len(self.header) else f"value {index + 1}"
        )
