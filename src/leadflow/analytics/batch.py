"""Rate a whole table at once: the vectorised twin of ``leadflow.domain.rating.rate``.

The playbook's bound conditions are compiled to Polars expressions, so a
million leads are rated in one pass over columns, with no Python loop per
row. Every step mirrors the single-lead path (see its module docstring);
property-based tests hold the two to identical results, reasons and issues
included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from leadflow.analytics.columns import ROW as _ROW
from leadflow.analytics.columns import (
    Tables,
    _b,
    _c,
    _d,
    _display,
    _k,
    _message,
    _t,
    _tenths,
    _v,
    condition,
    field_columns,
)
from leadflow.analytics.engagement import SEPARATOR, _with_engagement
from leadflow.analytics.lookup import (
    LOOKUP_LIMIT,
    Part,
    field_tables,
    indexed,
    joined_by_key,
    joint_key,
    reason_table,
)
from leadflow.domain.moments import as_utc
from leadflow.domain.playbook import Criterion, FieldDef, Grade, Playbook
from leadflow.domain.rating import (
    grade_reason,
    missing_message,
    needed_by,
    override_reason,
    route_reason,
)

RESULT_COLUMNS = ("grade", "score", "route", "reasons", "data_issues")
"""The columns ``leadflow rate`` adds to a file, in this order."""


# ---------------------------------------------------------------- the whole rating


def rate_frame(
    playbook: Playbook,
    facts: pl.DataFrame | pl.LazyFrame,
    *,
    now: datetime,
    columns: Mapping[str, str] | None = None,
    activities: pl.DataFrame | pl.LazyFrame | None = None,
    issue_flags: bool = False,
    lookup_limit: int = LOOKUP_LIMIT,
    separator: str = SEPARATOR,
) -> pl.LazyFrame:
    """Add the rating columns to ``facts``.

    ``columns`` maps field names to the columns that hold them (default: the
    field's own name when present). ``activities`` has one row per activity
    with ``__row`` (the row number in ``facts``), ``type`` and ``at`` (UTC).
    The result has the input columns followed by grade, score, route, fit,
    qualification, engagement, segment, reasons and data_issues (texts: the
    single-lead rating's lists joined with ``separator``). With
    ``issue_flags``, also a boolean column ``issue:FIELD`` per field: whether
    the lead has a data issue about it (for summaries, without parsing text).

    For a ``DataFrame``, a field whose column has at most ``lookup_limit``
    distinct values is parsed once per distinct value (see ``lookup``); 0
    parses every field by expressions, as for a ``LazyFrame``.
    """
    now = as_utc(now)
    today = now.date()
    if columns is None:
        present = set(facts.lazy().collect_schema().names())
        columns = {f: f for f in playbook.fields if f in present}
    tables: Tables = {}
    if isinstance(facts, pl.DataFrame):
        tables = field_tables(playbook.fields, facts, columns, lookup_limit)
    frame = with_fields(playbook, facts.lazy().with_row_index(_ROW), columns, tables)
    segment = pl.lit(None, pl.String)
    for s in reversed(playbook.segments):
        test = condition(s.condition, today).fill_null(False)
        segment = pl.when(test).then(pl.lit(s.name)).otherwise(segment)
    frame = frame.with_columns(segment.alias("segment"))

    frame = frame.with_columns(**_criteria(playbook, today))
    frame = frame.with_columns(**_dimensions(playbook))
    frame = _with_engagement(playbook, frame, activities, now, separator)
    engagement = _tenths(pl.col("__e.micro"))
    score = pl.col(_d("fit_tenths")) + pl.col(_d("qualification_tenths")) + engagement
    frame = frame.with_columns(
        _points(engagement).alias(_d("engagement")),
        _points(score).alias(_d("score")),
    )
    frame = frame.with_columns(**_grades(playbook, today))
    frame = frame.with_columns(_route_index(playbook).alias("__rc"))
    labels, grade_why, routes, route_why = _outcomes(playbook)
    reasons = _joined(
        separator,
        [
            *_criterion_reasons(playbook, tables),
            pl.col("__e.reasons"),
            _take(grade_why, pl.String(), "__g"),
            _take(route_why, pl.String(), "__rc"),
        ],
    )
    issues = _joined(separator, _issues(playbook))
    flags: dict[str, pl.Expr] = {}
    if issue_flags:
        parts = _issues(playbook)
        names = list(playbook.fields)
        parse, missing = parts[: len(names)], parts[len(names) :]
        flags = {
            f"issue:{n}": p.is_not_null() | m.is_not_null()
            for n, p, m in zip(names, parse, missing, strict=True)
        }
    keep = [c for c in facts.lazy().collect_schema().names() if not c.startswith("__")]
    added = [
        "grade",
        "score",
        "route",
        "fit",
        "qualification",
        "engagement",
        "segment",
        "reasons",
        "data_issues",
    ]
    kept = [c for c in keep if c not in added]
    engaged = playbook.engagement is not None and activities is not None
    keyed = {
        "__r.reasons": _reason_parts(playbook, tables) if not engaged else None,
        "__r.issues": _issue_parts(playbook, tables),
    }
    keys = {n: joint_key(p) for n, p in keyed.items() if p is not None}
    if any(key is not None for key in keys.values()):
        # Joined per distinct key: first the keys (and only the columns still
        # needed, so the intermediate columns are never held in memory), then
        # each key's text is built once and looked up.
        texts = {"__r.reasons": reasons, "__r.issues": issues}
        data = frame.select(
            *kept,
            *["__g", "__rc", "segment", *(_d(n) for n in ("score", *added[3:6]))],
            **{n: keys.get(n) if keys.get(n) is not None else texts[n] for n in texts},
            **flags,
        ).collect()
        frame = data.lazy()
        reasons, issues = (
            joined_by_key(data.get_column(n), keyed[n] or [], separator)
            if keys.get(n) is not None
            else pl.col(n)
            for n in texts
        )
        flags = {n: pl.col(n) for n in flags}
    frame = frame.with_columns(
        grade=_take(labels, pl.String(), "__g"),
        reasons=reasons,
        data_issues=issues,
        route=_take(routes, pl.String(), "__rc"),
        score=pl.col(_d("score")),
        fit=pl.col(_d("fit")),
        qualification=pl.col(_d("qualification")),
        engagement=pl.col(_d("engagement")),
        **flags,
    )
    return frame.select([*kept, *added, *flags])


def with_fields(
    pb: Playbook,
    frame: pl.LazyFrame,
    columns: Mapping[str, str] | None = None,
    tables: Tables | None = None,
) -> pl.LazyFrame:
    """Add each field's typed value, parse issue and whether it is blank to ``frame``.

    ``columns`` maps field names to input columns; by default a field is read
    from the column of its own name, when there is one. A field with a table
    (see ``lookup``) is looked up by its value's index in the table; any other
    is parsed from its trimmed text.
    """
    if columns is None:
        names = set(frame.collect_schema().names())
        columns = {f: f for f in pb.fields if f in names}
    texts: dict[str, pl.Expr] = {}
    parsed: dict[str, pl.Expr] = {}
    for f in pb.fields.values():
        table = (tables or {}).get(f.name)
        if table is not None:
            texts[_k(f.name)] = table.code()
            parsed[_v(f.name)] = table.take(table.values)
            parsed[f"__i.{f.name}"] = table.take(table.issues)
            parsed[_b(f.name)] = table.take(table.blank)
            continue
        parts = field_columns(f, columns.get(f.name))
        texts[_t(f.name)] = parts.pop(_t(f.name))
        parsed.update(parts)
    return frame.with_columns(**texts).with_columns(**parsed)


def _criteria(pb: Playbook, today: object) -> dict[str, pl.Expr]:
    out: dict[str, pl.Expr] = {}
    for c in pb.criteria:
        test = condition(c.condition, today)
        if c.segments is not None:
            test = pl.when(pl.col("segment").is_in(sorted(c.segments)).fill_null(False)).then(test)
        out[_c(c.name)] = test
    return out


def _dimensions(pb: Playbook) -> dict[str, pl.Expr]:
    out: dict[str, pl.Expr] = {}
    for dimension in ("fit", "qualification"):
        terms = [
            pl.when(pl.col(_c(c.name)).fill_null(False)).then(pl.lit(c.micro)).otherwise(0)
            for c in pb.criteria
            if c.dimension == dimension
        ]
        micro = pl.sum_horizontal(terms).cast(pl.Int64) if terms else pl.lit(0, pl.Int64)
        out[_d(f"{dimension}_tenths")] = _tenths(micro)
        out[_d(dimension)] = _points(_tenths(micro))
    return out


def _points(tenths: pl.Expr) -> pl.Expr:
    """Whole tenths as a float equal to Python's ``tenths / 10``.

    Polars divides by a constant as a multiplication by its reciprocal
    (449 / 10 = 44.900000000000006), so the divisor is a column of tens: an
    element-wise IEEE division, which rounds correctly (whole tenths are far
    below 2**53, so the dividend is exact).
    """
    ten = (tenths * 0 + 10).cast(pl.Float64)
    return tenths.cast(pl.Float64) / ten


def _take(entries: Sequence[object], dtype: pl.DataType, index: str) -> pl.Expr:
    """Per row, the entry at the index held in column ``index``."""
    return pl.lit(pl.Series(entries, dtype=dtype)).gather(pl.col(index))


def _entries(pb: Playbook) -> list[Grade]:
    """Every grade of every ladder: the playbook's, then each segment's own, in order."""
    return [*pb.grades, *(g for s in pb.segments for g in s.grades)]


def _ladder(grades: Sequence[Grade], today: object, start: int) -> pl.Expr:
    """The entry index (from ``start``) of the first grade whose condition is true."""
    index: pl.Expr = pl.lit(start + len(grades) - 1, pl.UInt32)
    for i, g in reversed(list(enumerate(grades[:-1]))):
        assert g.condition is not None
        fires = condition(g.condition, today).fill_null(False)
        index = pl.when(fires).then(pl.lit(start + i, pl.UInt32)).otherwise(index)
    return index


def _grade_index(pb: Playbook, today: object) -> pl.Expr:
    """The grade given, as an index into :func:`_entries` (so the ladder is known too)."""
    index = _ladder(pb.grades, today, 0)
    start = len(pb.grades)
    for s in pb.segments:
        if s.grades:
            here = (pl.col("segment") == s.name).fill_null(False)
            index = pl.when(here).then(_ladder(s.grades, today, start)).otherwise(index)
            start += len(s.grades)
    return index


def _grades(pb: Playbook, today: object) -> dict[str, pl.Expr]:
    """The grade (``__g``: its entry), then the override that fires (``__o``: 0 for none)."""
    fired: pl.Expr = pl.lit(0, pl.UInt32)
    for k, o in reversed(list(enumerate(pb.overrides, 1))):
        fires = condition(o.condition, today).fill_null(False)
        fired = pl.when(fires).then(pl.lit(k, pl.UInt32)).otherwise(fired)
    return {"__g": _grade_index(pb, today), "__o": fired}


def _outcomes(pb: Playbook) -> tuple[list[str], list[str], list[str], list[str]]:
    """Per grade entry: label and reason; per (override, entry): route and its reason."""
    entries = _entries(pb)
    labels = [g.label for g in entries]
    why = [grade_reason(g.label, g.meaning, g.condition, pb) for g in entries]
    routes: list[str] = [pb.routes[g] for g in labels]
    route_why = [route_reason(g, pb.routes[g]) for g in labels]
    for o in pb.overrides:
        routes += [o.to for _ in labels]
        route_why += [override_reason(o.to, o.reason, g, pb.routes[g]) for g in labels]
    return labels, why, routes, route_why


def _route_index(pb: Playbook) -> pl.Expr:
    """The route and its reason, as an index into the lists of :func:`_outcomes`."""
    return pl.col("__o") * len(_entries(pb)) + pl.col("__g")


def _reason_parts(pb: Playbook, tables: Tables) -> list[Part] | None:
    """The reasons as parts with few texts each, when every criterion reads one looked-up field."""
    parts: list[Part] = []
    for c in pb.criteria:
        table = tables.get(c.fields[0]) if len(c.fields) == 1 else None
        if table is None:
            return None
        texts, index = indexed(reason_table(c, table))
        met = pl.col(_c(c.name)).fill_null(False)
        parts.append((pl.when(met).then(table.take(index, pl.UInt32())), texts))
    _, grade_why, _, route_why = _outcomes(pb)
    parts.append((pl.col("__g"), grade_why))
    parts.append((pl.col("__rc"), route_why))
    return parts


def _issue_parts(pb: Playbook, tables: Tables) -> list[Part] | None:
    """The data issues as parts with few texts each, when every field is looked up."""
    if any(name not in tables for name in pb.fields):
        return None
    parts: list[Part] = []
    for name in pb.fields:
        table = tables[name]
        texts, index = indexed(table.issues.to_list())
        parts.append((table.take(index, pl.UInt32()), texts))
    options: list[str | None] = [None, *(s.name for s in pb.segments)]
    needs = {option: needed_by(pb, option) for option in options}
    for f in pb.fields.values():
        texts = []
        which: pl.Expr = pl.lit(None, pl.UInt32)
        for option in options:
            if f.name not in needs[option]:
                continue
            texts.append(missing_message(f, needs[option][f.name]))
            here = (
                pl.col("segment").is_null()
                if option is None
                else (pl.col("segment") == option).fill_null(False)
            )
            which = pl.when(here).then(pl.lit(len(texts) - 1, pl.UInt32)).otherwise(which)
        parts.append((pl.when(pl.col(_b(f.name))).then(which), texts))
    return parts


def _joined(separator: str, parts: list[pl.Expr]) -> pl.Expr:
    """The parts that are not null, joined with ``separator``, as one text.

    Built directly as text: a list per row, joined afterwards, costs several
    times more on a million rows.
    """
    if not parts:
        return pl.lit("")
    return pl.concat_str(parts, separator=separator, ignore_nulls=True)


def _criterion_reasons(pb: Playbook, tables: Tables) -> list[pl.Expr]:
    """One reason per criterion that holds: its label, the values it read, its points."""
    items = []
    for c in pb.criteria:
        fields = [pb.fields[name] for name in c.fields]
        table = tables.get(fields[0].name) if len(fields) == 1 else None
        if table is not None:
            text = table.take(reason_table(c, table), pl.String())
        elif len(fields) == 1 and fields[0].type in ("choice", "boolean"):
            text = _finite_reason(c, fields[0])
        else:
            parts: list[str | pl.Expr] = [f"{c.label}: "]
            for i, f in enumerate(fields):
                parts += [", " if i else "", f"{f.name}=", _display(f, tables)]
            parts.append(f" ({c.points_text} {c.dimension})")
            text = _message(*parts)
        items.append(pl.when(pl.col(_c(c.name)).fill_null(False)).then(text))
    return items


def _finite_reason(c: Criterion, f: FieldDef) -> pl.Expr:
    """A criterion over one choice or yes/no field has few possible reasons: look them up."""
    tail = f" ({c.points_text} {c.dimension})"
    if f.type == "boolean":
        value = pl.col(_v(f.name))
        yes, no = (f"{c.label}: {f.name}={shown}{tail}" for shown in ("yes", "no"))
        return pl.when(value).then(pl.lit(yes)).when(~value).then(pl.lit(no))
    keys = list(f.choices)
    texts = [f"{c.label}: {f.name}={key}{tail}" for key in keys]
    return pl.col(_v(f.name)).replace_strict(keys, texts, default=None, return_dtype=pl.String)


def _issues(pb: Playbook) -> list[pl.Expr]:
    items = [pl.col(f"__i.{name}") for name in pb.fields]
    options: list[str | None] = [None, *(s.name for s in pb.segments)]
    needs = {option: needed_by(pb, option) for option in options}
    for f in pb.fields.values():
        message: pl.Expr = pl.lit(None, pl.String)
        for option in options:
            if f.name not in needs[option]:
                continue
            text = missing_message(f, needs[option][f.name])
            here = (
                pl.col("segment").is_null()
                if option is None
                else (pl.col("segment") == option).fill_null(False)
            )
            message = pl.when(here).then(pl.lit(text)).otherwise(message)
        items.append(pl.when(pl.col(_b(f.name))).then(message))
    return items
