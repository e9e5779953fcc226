"""The whole file at once: each row's identity, facts and JSON texts, in Polars.

An import reads every row the way :func:`capture.capture_in` reads one
inquiry, but column by column instead of row by row:

- which column is an identity field and which a playbook fact is decided
  once per column (``split_fields``' rules: a playbook field first, then its
  ``columns:``, then the identity aliases); per row, the first non-blank alias
  gives an identity field and the last non-blank column a fact, as
  ``split_fields`` has it (a quoted empty field is read as an empty text, not
  null, so blank means empty or spaces, never only null);
- names, emails, phones, companies and domains go through
  ``normalise_frame``, the vectorised twin of ``normalise``;
- the raw payload (the row as JSON under the file's own column names), the
  parsed fields and the ``inquiry.captured`` event's data (source, channel,
  campaign, form key: none for a file) are built as JSON text by Polars;
- a row with no email, phone or id, or with a value longer than its column
  takes, is marked for the quarantine with the error the single path gives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from leadflow.adapters.identity.countries import COUNTRY_FIELDS
from leadflow.adapters.identity.names import split_full_name
from leadflow.adapters.identity.normalise import normalise_frame
from leadflow.domain.playbook import Playbook
from leadflow.domain.policy import OPT_OUT_NAMES, YES
from leadflow.domain.values import STRIP_CHARS, column_key
from leadflow.services.capture import IDENTITY_ALIASES, LIMITS

NO_IDENTITY = "the inquiry has no email, phone or id"
OPT_CHANNELS = tuple(OPT_OUT_NAMES)


@dataclass(frozen=True)
class Roles:
    """Which values feed which identity field and which playbook fact, in file order, and
    which say an opt-out of each channel (``opt_outs.opted_out_in``)."""

    ident: dict[str, list[pl.Expr]]
    facts: dict[str, list[pl.Expr]]
    opt_outs: dict[str, list[pl.Expr]]
    country: list[pl.Expr]  # the country, where phones are read (``countries.country_of``)


def column_roles(pb: Playbook, names: Sequence[str]) -> Roles:
    """``split_fields``' decision for each column name (``names`` are the mapped names).

    The single path reads a dictionary of the row's non-empty values, so a name that
    several columns share (mapped to it by ``--map`` or a preset: the file's own names are
    unique, ``csv_records.unique_names``) is one value: the last of them that is given.
    Names are then taken in the order they first appear.
    """
    columns: dict[str, list[str]] = {}
    for index, name in enumerate(names):
        columns.setdefault(str(name), []).append(_col(index))
    owners = pb.field_columns
    says = pb.opt_out_names
    ident: dict[str, list[pl.Expr]] = {}
    facts: dict[str, list[pl.Expr]] = {}
    opt_outs: dict[str, list[pl.Expr]] = {}
    country: list[pl.Expr] = []
    for name, cols in columns.items():
        value = pl.coalesce(list(reversed(cols))) if len(cols) > 1 else pl.col(cols[0])
        norm = column_key(name)
        if norm in COUNTRY_FIELDS:
            country.append(value)
        for channel, keys in says.items():
            if norm in keys:
                opt_outs.setdefault(channel, []).append(value)
        if norm in pb.fields:
            facts.setdefault(norm, []).append(value)
            continue
        owner = next((f for f, keys in owners.items() if norm in keys), None)
        if owner is not None:
            facts.setdefault(owner, []).append(value)
        elif norm in IDENTITY_ALIASES:
            ident.setdefault(IDENTITY_ALIASES[norm], []).append(value)
    return Roles(ident, facts, opt_outs, country)


@dataclass(frozen=True)
class Prepared:
    """The file, column by column: ``frame`` and the JSON ``texts`` to add per chunk.

    The JSON texts (payload, event data) are the bulk of the bytes, so they are made
    chunk by chunk, when written, instead of for the whole file at once. ``fields``
    (the parsed fields as JSON) is made only where needed: for the quarantine, and for
    the inquiries when the file's columns do not give them. ``gives_fields``: the
    file's columns, stored once in the ``imports`` table, give each inquiry's fields
    (its payload's values under the names they are captured under); not when ``header``
    repeats a name (its payload would keep one value of each; the import gives it one
    whose repeated names are made unique, ``csv_records.unique_names``).
    """

    frame: pl.DataFrame
    texts: dict[str, pl.Expr]
    fields: pl.Expr
    gives_fields: bool


def prepare(
    pb: Playbook,
    frame: pl.DataFrame,
    header: Sequence[str],
    names: Sequence[str],
    *,
    source: str,
    campaign: str | None,
    region: str,
) -> Prepared:
    """One row per input row (``__row`` its number), with everything the import writes.

    Frame columns: the file's own (as ``__c0``, ``__c1``...); ``external_id``,
    ``ext_key``, ``campaign``; the normalised identity (``email``, ``phone``,
    ``first_name``, ``last_name``, ``name_key``, ``company``, ``company_key``,
    ``domain``, ``role_address``); ``fact:NAME`` (the trimmed value, null when
    blank) per playbook field; ``opt:CHANNEL`` per opt-out channel (``email``,
    ``call``, ``any``: whether the row opts the person out of it); and
    ``reason``/``error`` for rows that go to the quarantine instead (null for the
    others). Texts: ``payload`` and ``captured`` (JSON), and ``fields``, as
    expressions over those columns.
    """
    raw = frame.rename({c: _col(i) for i, c in enumerate(frame.columns)})
    roles = column_roles(pb, names)

    def first(name: str) -> pl.Expr:
        return _one(roles.ident.get(name, []))

    def per_row(**columns: pl.Expr) -> pl.DataFrame:
        # One value a row even when every expression is a literal (a file with no column
        # for them): ``select`` of literals alone gives one row, not the file's count.
        return raw.with_columns(**columns).select(list(columns))

    ident = per_row(
        email=first("email"),
        phone=first("phone"),
        first_name=first("first_name"),
        last_name=first("last_name"),
        name=first("name"),
        company=first("company"),
        website=first("website"),
        country=_one(roles.country),
        external_id=_clean(first("external_id")),
        campaign=pl.lit(campaign, pl.String) if campaign else _clean(first("campaign")),
    )
    ident = _split_full_names(ident)
    norm = normalise_frame(ident, region=region)
    fact_raw = {f: _one(roles.facts.get(f, [])[::-1]) for f in pb.fields}
    prepared = pl.concat(
        [
            raw,
            per_row(**{f"fact:{f}": _clean(e) for f, e in fact_raw.items()}),
            per_row(**{f"opt:{c}": _said_yes(roles.opt_outs.get(c, [])) for c in OPT_CHANNELS}),
            ident.select("external_id", "campaign"),
            norm,
        ],
        how="horizontal",
    ).with_row_index("__row")
    prepared = prepared.with_columns(
        ext_key=pl.when(pl.col("external_id").is_not_null()).then(
            pl.lit(f"{source}:") + pl.col("external_id")
        ),
    )
    mapped = [(str(n), pl.col(_col(i))) for i, n in enumerate(names)]
    texts = {
        "payload": json_object([(str(h), pl.col(_col(i))) for i, h in enumerate(header)]),
        "captured": pl.concat_str(
            pl.lit('{"source":' + json.dumps(source, ensure_ascii=False) + ',"channel":"import"'),
            pl.lit(',"campaign":'),
            _value(pl.col("campaign")),
            pl.lit(',"form_key":null'),
            pl.lit("}"),
        ),
    }
    unique = len({str(h) for h in header}) == len(header)
    return Prepared(_with_refusals(prepared), texts, json_object(mapped, drop_nulls=True), unique)


def _with_refusals(prepared: pl.DataFrame) -> pl.DataFrame:
    too_long = [
        pl.when(pl.col(c).str.len_chars() > limit).then(
            pl.format(
                "the database would refuse the inquiry: {} takes at most {} characters, got {}",
                pl.lit(where),
                pl.lit(limit),
                pl.col(c).str.len_chars(),
            )
        )
        for c, where, limit in LIMITS
    ]
    nul = [
        pl.when(pl.col(c).str.contains("\x00", literal=True)).then(
            pl.lit(f"the database would refuse the inquiry: {where} contains a NUL character")
        )
        for c, where, _ in LIMITS
    ]
    issues = pl.concat_str(
        [pl.col("email_issue"), pl.col("phone_issue")], separator="; ", ignore_nulls=True
    )
    identifiable = (
        pl.col("email").is_not_null()
        | pl.col("phone").is_not_null()
        | pl.col("external_id").is_not_null()
    )
    no_identity = pl.format(
        "cannot tell who this is: {}",
        pl.when(issues != "")
        .then(issues)
        .otherwise(pl.lit("the inquiry has no email, phone or id")),
    )
    refused = pl.coalesce([*too_long, *nul])
    return prepared.with_columns(
        reason=pl.when(~identifiable)
        .then(pl.lit("no_identity"))
        .when(refused.is_not_null())
        .then(pl.lit("database")),
        error=pl.when(~identifiable).then(no_identity).otherwise(refused),
    )


def _split_full_names(ident: pl.DataFrame) -> pl.DataFrame:
    """A full name splits into first and last when neither was given (``capture._names``),
    once per distinct full name, by the function the single path calls."""
    full = _clean(pl.col("name"))
    only_full = full.is_not_null() & _clean(pl.col("first_name")).is_null()
    only_full = only_full & _clean(pl.col("last_name")).is_null()
    wanted = ident.filter(only_full).select(full.alias("full")).unique()
    if wanted.is_empty():
        return ident.drop("name")
    halves = [split_full_name(text) for text in wanted["full"].to_list()]
    table = wanted.with_columns(
        __first=pl.Series([h[0] for h in halves], dtype=pl.String),
        __last=pl.Series([h[1] for h in halves], dtype=pl.String),
    )
    joined = ident.with_columns(__full=pl.when(only_full).then(full)).join(
        table, left_on="__full", right_on="full", how="left", maintain_order="left"
    )
    return joined.with_columns(
        first_name=pl.when(pl.col("__full").is_not_null())
        .then(pl.col("__first"))
        .otherwise(pl.col("first_name")),
        last_name=pl.when(pl.col("__full").is_not_null())
        .then(pl.col("__last"))
        .otherwise(pl.col("last_name")),
    ).drop("name", "__full", "__first", "__last")


def _one(values: Sequence[pl.Expr]) -> pl.Expr:
    """The first of ``values`` that is not blank, trimmed (an identity field's first
    name with a value; a fact's last, given reversed); null when all are blank.
    ``pl.coalesce`` alone would take an empty text, as a quoted empty field is read.
    A single value is left as it is: it is trimmed where it is read."""
    if not values:
        return pl.lit(None, pl.String)
    return values[0] if len(values) == 1 else pl.coalesce([_clean(v) for v in values])


def _said_yes(values: Sequence[pl.Expr]) -> pl.Expr:
    """Whether any of ``values`` is a yes as ``policy.truthy`` reads one."""
    if not values:
        return pl.lit(False)
    yes = [v.str.strip_chars().str.to_lowercase().is_in(YES).fill_null(False) for v in values]
    return pl.any_horizontal(yes)


def _clean(expr: pl.Expr) -> pl.Expr:
    """``values.clean`` in Polars: trimmed, null when blank."""
    stripped = expr.str.strip_chars(STRIP_CHARS)
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def _value(expr: pl.Expr) -> pl.Expr:
    """A text column as JSON values (``"..."`` or ``null``)."""
    encoded = pl.struct(expr.alias("v")).struct.json_encode()
    return encoded.str.slice(5, encoded.str.len_chars() - 6)


def json_object(items: list[tuple[str, pl.Expr]], drop_nulls: bool = False) -> pl.Expr:
    """A JSON object per row from (key, text column) pairs; nulls left out with ``drop_nulls``."""
    if not items:
        return pl.lit("{}")
    parts = []
    for key, expr in items:
        member = pl.lit(json.dumps(key, ensure_ascii=False) + ":") + _value(expr)
        parts.append(pl.when(expr.is_not_null()).then(member) if drop_nulls else member)
    body = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return pl.concat_str(pl.lit("{"), body, pl.lit("}"))


def _col(index: int) -> str:
    return f"__c{index}"
