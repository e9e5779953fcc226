"""The funnel rows of an import's new people, folded column by column.

:func:`leadflow.domain.funnel.apply` folds one event at a time; an import chunk logs a
few events for each of a hundred thousand new people, and only of four kinds
(``inquiry.captured``, ``lead.rated``, ``stage.changed``, ``lead.routed``). For people
with no stored row and only those kinds, :func:`fold_new` computes the same rows as the
fold with Polars, as ``funnel_store.to_row`` writes them; a test holds the two equal.
Everyone else (people known before, or with other events) is folded one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import polars as pl

from leadflow.domain.funnel import COLUMN_OF

SIMPLE = ("inquiry.captured", "lead.rated", "stage.changed", "lead.routed")
"""The kinds :func:`fold_new` folds."""

_CAPTURED = pl.Struct({"source": pl.String, "campaign": pl.String, "form_key": pl.String})
_RATED = pl.Struct(
    {
        "grade": pl.String,
        "route": pl.String,
        "missing": pl.List(pl.String),
        "unanswered": pl.List(pl.String),
    }
)
_ROUTED = pl.Struct({"rep_id": pl.Int64, "sales_ready_at": pl.String})


def fold_new(events: pl.DataFrame, moment: Callable[[str], datetime]) -> pl.DataFrame:
    """Funnel rows (columns named as the table's) of the people in ``events`` (columns
    ``at`` as stamps, ``type``, ``person_id``, ``data`` as JSON; in the order logged),
    all of whom are new and have events of the :data:`SIMPLE` kinds only. ``moment``
    reads a stamp."""
    if events.is_empty():
        return events.select(pl.col("person_id").cast(pl.Int64))
    stamps = events.get_column("at").unique().to_list()
    seconds = {s: int(moment(s).timestamp() // 1) for s in stamps}
    e = events.with_row_index("seq").with_columns(
        t=pl.col("at").replace_strict(seconds, return_dtype=pl.Int64)
    )
    c = pl.col
    captured = _decoded(
        e.filter(c("type") == "inquiry.captured")
        .group_by("person_id")
        .agg(
            first_at=c("t").sort_by("seq").first(),
            data=c("data").sort_by("seq").first(),
            inquiries=pl.len().cast(pl.Int64),
        ),
        _CAPTURED,
    ).select(
        "person_id",
        "first_at",
        source=c("d").struct.field("source"),
        campaign=c("d").struct.field("campaign"),
        form_key=c("d").struct.field("form_key"),
        inquiries="inquiries",
    )
    rated = _decoded(
        e.filter(c("type") == "lead.rated")
        .group_by("person_id")
        .agg(data=c("data").sort_by("seq").last()),
        _RATED,
    ).select(
        "person_id",
        grade=c("d").struct.field("grade"),
        route=c("d").struct.field("route"),
        missing=_names(c("d").struct.field("missing")),
        unanswered=_names(c("d").struct.field("unanswered")),
    )
    changed = e.filter(c("type") == "stage.changed")
    kinds = changed.select(c("data").unique()).with_columns(
        kind=c("data").str.json_path_match("$.type")
    )
    stages = (
        changed.join(kinds, on="data", how="left", nulls_equal=True)
        .filter(c("kind").is_in(list(COLUMN_OF)))
        .sort("seq")
        .with_columns(spent=(c("t").shift(-1).over("person_id") - c("t")).clip(lower_bound=0))
    )
    per_type = stages.group_by("person_id", "kind").agg(
        reached=c("t").min(), seconds=c("spent").drop_nulls().sum(), left=c("spent").count()
    )
    current = stages.group_by("person_id").agg(
        stage_type=c("kind").last(), stage_since=c("t").last()
    )
    routed = (
        e.filter(c("type") == "lead.routed")
        .with_columns(d=c("data").str.json_decode(_ROUTED))
        .with_columns(
            ready=c("d")
            .struct.field("sales_ready_at")
            .replace_strict(_readies(e, moment), default=None, return_dtype=pl.Int64)
            .fill_null(c("t"))
        )
        .group_by("person_id")
        .agg(
            routed_seq=c("seq").min(),
            routed_ready=c("ready").sort_by("seq").first(),
            routed_at=c("t").min(),
            last_routed_at=c("t").sort_by("seq").last(),
            rep_id=c("d").sort_by("seq").last().struct.field("rep_id"),
        )
    )
    qualified = (
        stages.filter(c("kind") == "marketing-qualified")
        .group_by("person_id")
        .agg(mql_seq=c("seq").min(), mql_at=c("t").sort_by("seq").first())
    )
    people = events.select(pl.col("person_id").unique())
    rows = people
    for part in (captured, rated, current, routed, qualified):
        rows = rows.join(part, on="person_id", how="left")
    for kind, column in COLUMN_OF.items():
        mine = per_type.filter(c("kind") == kind).select(
            "person_id",
            c("reached").alias(f"reached_{column}"),
            pl.when(c("left") > 0).then(c("seconds")).alias(f"seconds_{column}"),
        )
        rows = rows.join(mine, on="person_id", how="left")
    mql_first = c("mql_seq").is_not_null() & (
        c("routed_seq").is_null() | (c("mql_seq") < c("routed_seq"))
    )
    ready = pl.when(mql_first).then(c("mql_at")).otherwise(c("routed_ready"))
    return rows.with_columns(
        ready_at=ready,
        month=pl.from_epoch(c("first_at"), time_unit="s").dt.strftime("%Y-%m"),
        inquiries=c("inquiries").fill_null(0),
        handbacks=pl.lit(0, pl.Int64),
    ).drop("routed_seq", "routed_ready", "mql_seq", "mql_at")


def _decoded(frame: pl.DataFrame, dtype: pl.Struct) -> pl.DataFrame:
    """``frame`` with ``d``, its ``data`` decoded as ``dtype``: each distinct text once, as
    a slice's events repeat a few texts (grades, stages) for many people."""
    texts = frame.select(pl.col("data").unique()).with_columns(
        d=pl.col("data").str.json_decode(dtype)
    )
    return frame.join(texts, on="data", how="left", nulls_equal=True)


def _names(lists: pl.Expr) -> pl.Expr:
    """Field names as ``domain.funnel.names`` stores them: ",a,b," sorted, None if none."""
    joined = lists.list.unique().list.sort().list.join(",")
    return (
        pl.when(lists.is_null() | (lists.list.len() == 0))
        .then(None)
        .otherwise(pl.lit(",") + joined + pl.lit(","))
    )


def _readies(events: pl.DataFrame, moment: Callable[[str], datetime]) -> dict[str, int]:
    """Each ``sales_ready_at`` text of the routed events as Unix seconds."""
    texts = (
        events.filter(pl.col("type") == "lead.routed")
        .select(pl.col("data").str.json_path_match("$.sales_ready_at"))
        .to_series()
        .drop_nulls()
        .unique()
        .to_list()
    )
    return {text: int(moment(text).timestamp() // 1) for text in texts}
