"""The columns of a vectorised rating: names, parsed values, conditions.

Each field of the playbook becomes a few working columns (its value, text,
choice key, display, whether it is missing or unreadable), named by the
helpers below; :func:`condition` compiles a bound condition of the playbook
into a Polars expression over them. Used by ``batch`` and ``engagement``.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from leadflow.analytics.lookup import (
    FIELD_DTYPES,
    FieldTable,
)
from leadflow.domain import expr
from leadflow.domain.playbook import FieldDef
from leadflow.domain.values import (
    CHOICE_SEPARATORS,
    DATE_PATTERN,
    NUMBER_PATTERN,
    STRIP_CHARS,
    THOUSANDS_PATTERN,
    bounds,
    out_of_range,
)

ROW = "__row"
"""The row number column: which lead a working row (an activity, say) belongs to."""


def _v(name: str) -> str:
    return f"__v.{name}"


def _t(name: str) -> str:
    return f"__t.{name}"


def _c(name: str) -> str:
    return f"__c.{name}"


def _d(name: str) -> str:
    return f"__d.{name}"


def _b(name: str) -> str:
    return f"__b.{name}"


def _k(name: str) -> str:
    return f"__k.{name}"


Tables = Mapping[str, FieldTable]


# ---------------------------------------------------------------- values


def _choice_key(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(CHOICE_SEPARATORS, "_")


def _message(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def field_columns(f: FieldDef, column: str | None) -> dict[str, pl.Expr]:
    """The trimmed text, the typed value and the parse issue of one field."""
    if column is None:
        null = pl.lit(None, pl.String)
        return {
            _t(f.name): null,
            _v(f.name): _typed_null(f),
            f"__i.{f.name}": null,
            _b(f.name): pl.lit(True),
        }
    stripped = pl.col(column).cast(pl.String).str.strip_chars(STRIP_CHARS)
    text = pl.when(stripped.str.len_bytes() > 0).then(stripped)
    value, issue = _parse(f, pl.col(_t(f.name)))
    blank = pl.col(_t(f.name)).is_null()
    return {_t(f.name): text, _v(f.name): value, f"__i.{f.name}": issue, _b(f.name): blank}


def _typed_null(f: FieldDef) -> pl.Expr:
    return pl.lit(None, FIELD_DTYPES[f.type])


def _parse(f: FieldDef, text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    no_issue = pl.lit(None, pl.String)
    bad = _message(f"{f.name}: '", text, f"' is not {f.expected}")
    if f.type == "text":
        plain = text.str.to_lowercase() if f.lowercase else text
        if not f.lookup:
            return plain, no_issue
        keys, targets = list(f.lookup), [str(v) for v in f.lookup.values()]
        found = _choice_key(text).replace_strict(
            keys, targets, default=None, return_dtype=pl.String
        )
        return pl.coalesce(found, plain), no_issue
    if f.type in ("choice", "boolean"):
        dtype = pl.Boolean if f.type == "boolean" else pl.String
        keys = list(f.lookup)
        value = _choice_key(text).replace_strict(
            keys, list(f.lookup.values()), default=None, return_dtype=dtype
        )
        if f.unlisted is not None:
            value = pl.when(text.is_not_null()).then(value.fill_null(pl.lit(f.unlisted)))
        return value, pl.when(text.is_not_null() & value.is_null()).then(bad)
    if f.type == "date":
        valid = text.str.contains(f"^(?:{DATE_PATTERN})$") & ~text.str.starts_with("0000")
        value = pl.when(valid).then(text.str.to_date("%Y-%m-%d", strict=False))
        return value, pl.when(text.is_not_null() & value.is_null()).then(bad)
    return _parse_number(f, text, bad)


def _parse_number(f: FieldDef, text: pl.Expr, bad: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Mirror of the number branch of ``FieldDef.normalise``."""
    thousands = text.str.contains(f"^(?:{THOUSANDS_PATTERN})$")
    plain = text.str.contains(f"^(?:{NUMBER_PATTERN})$")
    digits = pl.when(thousands).then(text.str.replace_all(",", "", literal=True)).otherwise(text)
    number = pl.when(thousands | plain).then(digits.cast(pl.Float64, strict=False))
    low, high = bounds(f.minimum, f.maximum)
    in_range = (number >= low) & (number <= high)
    whole = (number.floor() == number) if f.type == "integer" else pl.lit(True)
    parsed = number.is_not_null() & (~in_range | whole)
    good = pl.when(parsed & in_range).then(number)
    value = good.cast(pl.Int64) if f.type == "integer" else good
    out = out_of_range(f.name, "\x00", f.minimum, f.maximum).split("\x00")
    issue = (
        pl.when(text.is_not_null() & ~parsed.fill_null(False))
        .then(bad)
        .when(parsed & ~in_range)
        .then(_message(out[0], text, out[1]))
    )
    return value, issue


def _display(f: FieldDef, tables: Tables) -> pl.Expr:
    """Mirror of ``FieldDef.display``: looked up for a field parsed by dictionary."""
    table = tables.get(f.name)
    if table is not None:
        return table.take(table.shown, pl.String())
    value = pl.col(_v(f.name))
    if f.type == "boolean":
        return (
            pl.when(value)
            .then(pl.lit("yes"))
            .when(~value)
            .then(pl.lit("no"))
            .otherwise(pl.lit("unknown"))
        )
    if f.type in ("choice", "text"):
        return value.fill_null("unknown")
    return pl.when(value.is_not_null()).then(pl.col(_t(f.name))).otherwise(pl.lit("unknown"))


# ---------------------------------------------------------------- conditions


def condition(node: expr.Node, today: object) -> pl.Expr:
    """A bound condition as a Polars expression, with the same three-valued logic."""
    if isinstance(node, expr.Const):
        return pl.lit(node.value)
    if isinstance(node, expr.FieldRef):
        return pl.col(_v(node.name))
    if isinstance(node, expr.CriterionRef):
        return pl.col(_c(node.name))
    if isinstance(node, expr.DimensionRef):
        return pl.col(_d(node.name))
    if isinstance(node, expr.Met):
        return pl.sum_horizontal(
            [pl.col(_c(n)).fill_null(False).cast(pl.Int64) for n in node.criteria]
        )
    if isinstance(node, expr.DaysFrom):
        days = (pl.lit(today) - pl.col(_v(node.field))).dt.total_days()
        return days if node.sign == 1 else -days
    if isinstance(node, expr.Not):
        return ~condition(node.operand, today)
    if isinstance(node, expr.BoolOp):
        items = [condition(i, today) for i in node.items]
        out = items[0]
        for item in items[1:]:
            out = (out & item) if node.op == "and" else (out | item)
        return out
    if isinstance(node, expr.Compare):
        left, right = condition(node.left, today), condition(node.right, today)
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[node.op]
    if isinstance(node, expr.InList):
        operand = condition(node.operand, today)
        members = [v.value for v in node.values if isinstance(v, expr.Const)]
        inside = pl.when(operand.is_not_null()).then(operand.is_in(members))
        return ~inside if node.negate else inside
    if isinstance(node, expr.Is):
        operand = condition(node.operand, today)
        result = {
            "known": operand.is_not_null(),
            "unknown": operand.is_null(),
            "true": operand.fill_null(False),
            "false": (~operand).fill_null(False),
        }[node.what]
        return ~result if node.negate else result
    raise TypeError(f"cannot compile {node!r}")


def _tenths(micro: pl.Expr) -> pl.Expr:
    """Mirror of ``rating.tenths``."""
    return (micro + 50_000) // 100_000
