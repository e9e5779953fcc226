"""CSV files read by the csv module, record by record, each with the line it starts on.

Polars reads the rows of a file (:mod:`leadflow.adapters.csv_files`); the csv module
reads where a record's lines matter: the header exactly as written, and where a file
Polars refused goes wrong.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from leadflow.errors import InvalidInput


def read_header(path: Path, delimiter: str) -> list[str]:
    """The header row exactly as written (Polars renames repeated names; this does not),
    after any empty lines, as Polars skips them. A name with a stray double quote is
    refused: Polars reads on from it into the rows, and loses them without a word."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        for line, row, text in Records(handle, delimiter):
            if not row:
                continue
            stray = _stray_quote(line, text, delimiter)
            if stray:
                raise InvalidInput(f"cannot read as CSV: {stray}", where=str(path))
            return row
    return []


def find_bad_row(path: Path, delimiter: str) -> str | None:
    """Where a file a CSV reader refused goes wrong, in words: the first row with more
    values than the header has columns, a stray double quote, or a quote never closed.
    Read again row by row (only once the fast reader has failed); None when nothing is
    found."""
    header: list[str] | None = None
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        records = Records(handle, delimiter, strict=True)
        try:
            for line, row, text in records:
                stray = _stray_quote(line, text, delimiter, header)
                if stray:
                    return stray
                if header is None:
                    header = row or None  # empty lines before it are skipped
                elif len(row) > len(header):
                    return (
                        f"line {line:,} has {len(row)} values, but the header names"
                        f" {len(header)} columns; quote a value that holds a '{delimiter}'"
                    )
        except csv.Error as error:
            return f"from line {records.start:,}: {error} (a quote opened and never closed?)"
    return None


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


class Records:
    """The records of a CSV file read by the csv module, each with the line it starts on
    and its text as written; ``start`` is the line of the one being read."""

    def __init__(self, handle: TextIO, delimiter: str, *, strict: bool = False) -> None:
        self._taken: list[str] = []
        self._reader = csv.reader(self._lines(handle), delimiter=delimiter, strict=strict)
        self.start = 1

    def _lines(self, handle: TextIO) -> Iterator[str]:
        for line in handle:
            self._taken.append(line)
            yield line

    def __iter__(self) -> Iterator[tuple[int, list[str], str]]:
        for row in self._reader:
            text = "".join(self._taken)
            self._taken.clear()
            yield self.start, row, text
            self.start = self._reader.line_num + 1
