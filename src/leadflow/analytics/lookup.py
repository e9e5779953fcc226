"""Dictionary parsing: a field's distinct raw values, each parsed once by the single-lead code.

Most columns a playbook reads hold few distinct values (choices, yes/no, a
few thousand day counts). For such a column the typed value, the parse
issue, whether it is blank and the text a reason shows are computed for each
distinct raw value with :meth:`FieldDef.normalise` and :meth:`FieldDef.display`
themselves, then gathered per row by the value's index in that dictionary: the
result is the single-lead result by construction, and a gather costs far less
than parsing text a million times. Columns with more distinct values than
:data:`LOOKUP_LIMIT` are parsed by the vectorised expressions in ``batch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from leadflow.domain.playbook import Criterion, FieldDef
from leadflow.domain.values import clean

LOOKUP_LIMIT = 20_000
"""Above this many distinct values in a column, its field is parsed by expressions instead.

Parsing one distinct value in Python costs about 3.5 µs; parsing a column by
expressions about 0.1-0.2 s per million rows: at 20,000 values a lookup costs
at most about 0.07 s, less than the expressions on a large file.
"""

FIELD_DTYPES: dict[str, type[pl.DataType]] = {
    "text": pl.String,
    "choice": pl.String,
    "boolean": pl.Boolean,
    "number": pl.Float64,
    "integer": pl.Int64,
    "date": pl.Date,
}


def _k(name: str) -> str:
    return f"__k.{name}"


@dataclass(frozen=True)
class FieldTable:
    """One field's dictionary: per distinct raw value (the last entry: a blank cell)."""

    field: FieldDef
    column: str
    raws: Sequence[str]
    values: pl.Series
    issues: pl.Series
    blank: pl.Series
    shown: list[str]

    def code(self) -> pl.Expr:
        """Each row's index in the dictionary (a blank cell: the last one)."""
        return (
            pl.col(self.column)
            .cast(pl.Enum(list(self.raws)))
            .to_physical()
            .cast(pl.UInt32)
            .fill_null(len(self.raws))
        )

    def take(
        self, entries: pl.Series | Sequence[object], dtype: pl.DataType | None = None
    ) -> pl.Expr:
        """Per row, the entry of ``entries`` (one per dictionary index) for its value."""
        series = entries if isinstance(entries, pl.Series) else pl.Series(entries, dtype=dtype)
        return pl.lit(series).gather(pl.col(_k(self.field.name)))


def field_table(f: FieldDef, column: str, raws: Sequence[str]) -> FieldTable:
    """Parse each distinct raw value exactly as ``rating.rate`` parses a lead's value."""
    values: list[object] = []
    issues: list[str | None] = []
    blank: list[bool] = []
    shown: list[str] = []
    for raw in [*raws, None]:
        parsed = f.normalise(raw)
        text = clean(raw)
        values.append(parsed.value)
        issues.append(parsed.issue)
        blank.append(text is None)
        shown.append(f.display(parsed.value, text))
    return FieldTable(
        field=f,
        column=column,
        raws=raws,
        values=pl.Series(values, dtype=FIELD_DTYPES[f.type]),
        issues=pl.Series(issues, dtype=pl.String),
        blank=pl.Series(blank, dtype=pl.Boolean),
        shown=shown,
    )


def field_tables(
    fields: Mapping[str, FieldDef],
    facts: pl.DataFrame,
    columns: Mapping[str, str],
    limit: int = LOOKUP_LIMIT,
) -> dict[str, FieldTable]:
    """The dictionaries of the fields whose text column has at most ``limit`` distinct values."""
    out: dict[str, FieldTable] = {}
    if limit <= 0:
        return out
    for f in fields.values():
        column = columns.get(f.name)
        if column is None or facts.schema.get(column) != pl.String:
            continue
        distinct = facts.get_column(column).drop_nulls().unique()
        if len(distinct) > limit:
            continue
        out[f.name] = field_table(f, column, distinct.to_list())
    return out


def reason_table(c: Criterion, table: FieldTable) -> list[str]:
    """A one-field criterion's reason for each dictionary entry, worded as ``rating.rate`` does."""
    tail = f" ({c.points_text} {c.dimension})"
    return [f"{c.label}: {c.fields[0]}={shown}{tail}" for shown in table.shown]


# ---------------------------------------------------------------- texts joined by key

Part = tuple[pl.Expr, list[str]]
"""A piece of a joined text: per row an index into the texts, or null when it is absent."""

KEY_LIMIT = 2**62


def indexed(texts: Sequence[str | None]) -> tuple[list[str], list[int | None]]:
    """The distinct texts, and for each input the index of its text (None stays None)."""
    distinct: dict[str, int] = {}
    index: list[int | None] = []
    for text in texts:
        index.append(None if text is None else distinct.setdefault(text, len(distinct)))
    return list(distinct), index


def joint_key(parts: Sequence[Part]) -> pl.Expr | None:
    """One whole number per row that says which text each part shows (None if too many)."""
    key: pl.Expr = pl.lit(0, pl.Int64)
    weight = 1
    for index, texts in parts:
        key = key + (index.cast(pl.Int64) + 1).fill_null(0) * weight
        weight *= len(texts) + 1
        if weight > KEY_LIMIT:
            return None
    return key


JOINED_LIMIT = 100_000
"""Above this many distinct keys, the texts are joined per row by expressions instead."""


def joined_by_key(keys: pl.Series, parts: Sequence[Part], separator: str) -> pl.Expr:
    """The parts' texts joined: built once per distinct key present, then looked up per row.

    With very many distinct keys, each part's text is looked up from its digit
    of the key and the texts are joined per row (the same text, built in Polars).
    """
    distinct = keys.unique().sort()
    key = pl.col(keys.name)
    if len(distinct) > JOINED_LIMIT:
        shown = []
        weight = 1
        for _, options in parts:
            digit = (key // weight) % (len(options) + 1)
            weight *= len(options) + 1
            if options:
                text = pl.lit(pl.Series(options, dtype=pl.String)).gather((digit - 1).clip(0))
                shown.append(pl.when(digit > 0).then(text))
        if not shown:
            return pl.lit("")
        return pl.concat_str(shown, separator=separator, ignore_nulls=True)
    texts = []
    for code in distinct.to_list():
        words = []
        for _, options in parts:
            code, digit = divmod(code, len(options) + 1)
            if digit:
                words.append(options[digit - 1])
        texts.append(separator.join(words))
    return pl.lit(pl.Series(texts, dtype=pl.String)).gather(pl.lit(distinct).search_sorted(key))
