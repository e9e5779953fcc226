"""Normalise a whole table at once: the vectorised twin of ``normalise.normalise``.

Three kinds of work, each chosen so that a row comes out exactly as the
single-row path would make it:

1. Fast paths in Polars for the emails and phones whose library answer can
   be computed with string operations (``emails.email_fast``,
   ``phones.phone_fast``): in typical data, nearly all of them.
2. Python once per *distinct* value for the rest, with the very functions
   the single-row path calls: the emails and phones the fast paths leave,
   names, companies and hosts. Names, companies and domains repeat a lot,
   so the cost follows the distinct values, not the rows.
3. A little glue in Polars mirroring the single-row glue: cutting a website
   to its host (``domains.HOST_PATTERN``, read alike by both engines), an
   email's domain and role, the two halves of the name key, the domain from
   the website else from the email.

No process pool: on typical data the library-bound values are a few
percent of the rows, and starting worker processes would cost more than it
saves on a 2-core machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from leadflow.adapters.identity.countries import region_of
from leadflow.adapters.identity.domains import (
    HOST_PATTERN,
    email_company_domain,
    website_company_domain,
)
from leadflow.adapters.identity.emails import ROLE_LOCAL_PARTS, email_fast, normalise_email
from leadflow.adapters.identity.names import (
    company_display,
    company_key,
    display_name,
    first_name_key,
    last_name_key,
)
from leadflow.adapters.identity.phones import check_region, normalise_phone, phone_fast
from leadflow.domain.values import STRIP_CHARS

INPUT_COLUMNS = ("email", "phone", "first_name", "last_name", "company", "website")
"""The logical input columns of :func:`normalise_frame`."""

NORMALISED_COLUMNS = (
    "email",
    "email_issue",
    "phone",
    "phone_issue",
    "first_name",
    "last_name",
    "name_key",
    "company",
    "company_key",
    "domain",
    "role_address",
)
"""The output columns: the fields of ``Normalised``, in order."""

_PAIR = {"a": pl.String, "b": pl.String}


def normalise_frame(
    frame: pl.DataFrame,
    *,
    region: str = "US",
    columns: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One row of :data:`NORMALISED_COLUMNS` per input row, in the input's order.

    Input columns are ``email``, ``phone``, ``first_name``, ``last_name``,
    ``company`` and ``website``; any may be absent, and ``columns`` maps
    these names to the frame's own. Values of other types are read as text,
    as ``str`` writes them (see :func:`text_columns`).
    """
    region = check_region(region)
    texts = text_columns(frame, columns)
    regions = _regions(frame, region)
    elsewhere = regions != region  # a row whose own country reads its phone
    work = texts.with_columns(
        __email_fast=email_fast(pl.col("email")),
        __phone_fast=pl.when(elsewhere).then(None).otherwise(phone_fast(texts, "phone", region)),
        __host=pl.col("website").str.extract(HOST_PATTERN, 1),
        __region=regions,
    )
    work = _with_libraries(work, region)
    work = work.with_columns(
        __email_domain=pl.col("__email").str.extract("@([^@]*)$", 1),
        __local_base=pl.col("__email").str.extract("^([^@+]*)", 1),
    )
    work = _join(work, "first_name", _lookup(work["first_name"], _first, _named("f", _PAIR)))
    work = _join(work, "last_name", _lookup(work["last_name"], _last, _named("l", _PAIR)))
    work = _join(work, "company", _lookup(work["company"], _company, _named("c", _PAIR)))
    work = _join(work, "__host", _lookup(work["__host"], _website_domain, {"w": pl.String}))
    emails = _lookup(work["__email_domain"], _email_domain, {"m": pl.String})
    work = _join(work, "__email_domain", emails)
    first_key, last_key = pl.col("f.b"), pl.col("l.b")
    return work.select(
        email=pl.col("__email"),
        email_issue=pl.col("__email_issue"),
        phone=pl.col("__phone"),
        phone_issue=pl.col("__phone_issue"),
        first_name=pl.col("f.a"),
        last_name=pl.col("l.a"),
        name_key=pl.when(first_key.is_null())
        .then(last_key)
        .when(last_key.is_null())
        .then(first_key)
        .otherwise(pl.concat_str([first_key, pl.lit(" "), last_key])),
        company=pl.col("c.a"),
        company_key=pl.col("c.b"),
        domain=pl.coalesce(pl.col("w"), pl.col("m")),
        role_address=pl.col("__local_base").is_in(sorted(ROLE_LOCAL_PARTS)).fill_null(False),
    )


def text_columns(frame: pl.DataFrame, columns: Mapping[str, str] | None) -> pl.DataFrame:
    """Each logical column as trimmed text, null when blank: ``clean`` in Polars.

    Text and integers are cast by Polars (as ``str`` would write them);
    values of other types (floats, booleans, dates) go through ``str`` once
    per distinct value, so "True" and "1.5e-07" read as the single-row path
    reads them. NaN is blank, as ``clean`` has it; a whole number in a float column of
    phones is its digits (``4155550100.0`` is 4155550100), as ``normalise_phone`` reads it.
    """
    mapping = {name: name for name in INPUT_COLUMNS if name in frame.columns}
    if columns is not None:
        unknown = sorted(set(columns) - set(INPUT_COLUMNS))
        if unknown:
            raise ValueError(f"unknown identity columns {unknown}; expected {INPUT_COLUMNS}")
        mapping.update(columns)
    texts: dict[str, pl.Series] = {}
    for name in INPUT_COLUMNS:
        source = mapping.get(name)
        if source is None:
            texts[name] = pl.Series(name, [None] * frame.height, dtype=pl.String)
        else:
            texts[name] = _as_text(frame[source], whole=name == "phone").alias(name)
    stripped = pl.all().str.strip_chars(STRIP_CHARS)
    return pl.DataFrame(texts).select(pl.when(stripped.str.len_bytes() > 0).then(stripped))


def _as_text(values: pl.Series, whole: bool = False) -> pl.Series:
    dtype = values.dtype
    if dtype == pl.String or dtype.is_integer() or isinstance(dtype, pl.Categorical | pl.Enum):
        return values.cast(pl.String)
    if dtype.is_float():
        values = values.fill_nan(None)
    table = pl.DataFrame({"v": values}).unique()
    table = table.with_columns(
        t=pl.Series([_text(v, whole) for v in table["v"].to_list()], dtype=pl.String)
    )
    joined = pl.DataFrame({"v": values}).join(
        table, on="v", how="left", maintain_order="left", nulls_equal=True
    )
    return joined["t"]


def _text(value: object, whole: bool) -> str | None:
    if value is None:
        return None
    if whole and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _regions(frame: pl.DataFrame, region: str) -> pl.Series:
    """Per row, the region its phone is read in: its ``country`` column's, when the frame
    has one and it can be told (``countries.region_of``), else ``region``."""
    if "country" not in frame.columns:
        return pl.Series("__region", [region] * frame.height, dtype=pl.String)
    countries = _as_text(frame["country"]).alias("country")
    told = _lookup(countries, lambda c: (region_of(c),), {"__r": pl.String})
    joined = _join(pl.DataFrame({"country": countries}), "country", told)
    return joined["__r"].fill_null(region).alias("__region")


def _with_libraries(work: pl.DataFrame, region: str) -> pl.DataFrame:
    """Emails and phones the fast paths left, through the libraries, once per distinct value
    (a phone: per distinct value and region)."""
    slow_email = work.filter(pl.col("__email_fast").is_null())["email"]
    emails = _lookup(slow_email, normalise_email, {"__e": pl.String, "__ei": pl.String})
    work = work.with_columns(
        __phone_key=pl.when(pl.col("phone").is_not_null()).then(
            pl.concat_str([pl.col("__region"), pl.lit(_KEYED), pl.col("phone")])
        )
    )
    slow_phone = work.filter(pl.col("__phone_fast").is_null())["__phone_key"]
    phones = _lookup(slow_phone, _phone_in_region, {"__p": pl.String, "__pi": pl.String})
    work = _join(_join(work, "email", emails), "__phone_key", phones)
    return work.with_columns(
        __email=pl.coalesce(pl.col("__email_fast"), pl.col("__e")),
        __email_issue=pl.col("__ei"),
        __phone=pl.coalesce(pl.col("__phone_fast"), pl.col("__p")),
        __phone_issue=pl.col("__pi"),
    )


_KEYED = "\x1f"  # between a region and a phone in a lookup's key: no text has one


def _phone_in_region(key: str) -> tuple[str | None, str | None]:
    region, _, phone = key.partition(_KEYED)
    return normalise_phone(phone, region)


def _lookup(
    keys: pl.Series, fn: Callable[[str], tuple[Any, ...]], schema: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """Each distinct non-null key with ``fn(key)``, one column per item of the tuple."""
    distinct = keys.drop_nulls().unique().to_list()
    results = [fn(key) for key in distinct]
    data: dict[str, list[Any]] = {"__key": distinct}
    for i, name in enumerate(schema):
        data[name] = [result[i] for result in results]
    return pl.DataFrame(data, schema={"__key": pl.String, **schema})


def _join(frame: pl.DataFrame, key: str, table: pl.DataFrame) -> pl.DataFrame:
    return frame.join(table, left_on=key, right_on="__key", how="left", maintain_order="left")


def _named(prefix: str, schema: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    return {f"{prefix}.{name}": dtype for name, dtype in schema.items()}


def _first(text: str) -> tuple[str | None, str | None]:
    return display_name(text), first_name_key(text)


def _last(text: str) -> tuple[str | None, str | None]:
    return display_name(text), last_name_key(text)


def _company(text: str) -> tuple[str | None, str | None]:
    return company_display(text), company_key(text)


def _website_domain(host: str) -> tuple[str | None]:
    return (website_company_domain(host),)


def _email_domain(domain: str) -> tuple[str | None]:
    return (email_company_domain(domain),)
