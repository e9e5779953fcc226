"""Engagement in bulk: per lead, the decayed, capped points of its activities.

The vectorised twin of the engagement part of ``leadflow.domain.rating.rate``.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from leadflow.analytics.columns import ROW as _ROW
from leadflow.analytics.columns import _choice_key, _message, _tenths
from leadflow.domain.moments import as_utc
from leadflow.domain.playbook import MICROS_PER_DAY, Playbook

SEPARATOR = "; "
"""Between the reasons (and between the data issues) of one lead, as one text."""


def _with_engagement(
    pb: Playbook,
    frame: pl.LazyFrame,
    activities: pl.DataFrame | pl.LazyFrame | None,
    now: datetime,
    separator: str,
) -> pl.LazyFrame:
    empty = {"__e.micro": pl.lit(0, pl.Int64), "__e.reasons": pl.lit(None, pl.String)}
    if pb.engagement is None or activities is None:
        return frame.with_columns(**empty)
    per_lead = engagement_frame(pb, activities, now, separator)
    joined = frame.join(per_lead, on=_ROW, how="left", maintain_order="left")
    return joined.with_columns(pl.col("__e.micro").fill_null(0))


def engagement_frame(
    pb: Playbook,
    activities: pl.DataFrame | pl.LazyFrame,
    now: datetime,
    separator: str = SEPARATOR,
) -> pl.LazyFrame:
    """Per ``__row``: the engagement score in millionths and one reason per activity type."""
    spec = pb.engagement
    assert spec is not None
    rules = list(spec.activities.values())
    keys = [r.type for r in rules]
    period = spec.period_days * MICROS_PER_DAY
    now_lit = pl.lit(as_utc(now)).dt.cast_time_unit("us")
    acts = (
        activities.lazy()
        .with_columns(key=_choice_key(pl.col("type").cast(pl.String)))
        .filter(pl.col("key").is_in(keys).fill_null(False))
        .with_columns(
            age=(
                now_lit - pl.col("at").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
            ).dt.total_microseconds()
        )
        .filter(pl.col("age") >= 0)
        .with_columns(
            idx=pl.col("key").replace_strict(keys, list(range(len(keys))), return_dtype=pl.Int64),
            bucket=pl.col("age") // period,
        )
    )
    caps = [r.max_per_period if r.max_per_period is not None else 2**62 for r in rules]
    acts = acts.filter(
        pl.col("age").rank("ordinal").over([_ROW, "idx", "bucket"])
        <= pl.col("idx").replace_strict(list(range(len(keys))), caps, return_dtype=pl.Int64)
    )
    micro = pl.col("idx").replace_strict(
        list(range(len(keys))), [r.micro for r in rules], return_dtype=pl.Float64
    )
    if spec.decay_factor is None:
        points = (micro + 0.5).floor()
    else:
        points = (micro * (pl.col("age").cast(pl.Float64) * spec.decay_factor).exp() + 0.5).floor()
    per_type = (
        acts.with_columns(points=points.cast(pl.Int64))
        .group_by([_ROW, "idx"])
        .agg(micro=pl.col("points").sum(), count=pl.len())
    )
    type_caps = [r.max_micro if r.max_micro is not None else 2**62 for r in rules]
    labels = [r.label for r in rules]
    cap = pl.col("idx").replace_strict(list(range(len(keys))), type_caps, return_dtype=pl.Int64)
    per_type = per_type.with_columns(micro=pl.min_horizontal(pl.col("micro"), cap))
    tenths = _tenths(pl.col("micro"))
    label = pl.col("idx").replace_strict(list(range(len(keys))), labels, return_dtype=pl.String)
    per_type = per_type.with_columns(
        reason=_message(
            label,
            " x",
            pl.col("count").cast(pl.String),
            " (+",
            (tenths // 10).cast(pl.String),
            ".",
            (tenths % 10).cast(pl.String),
            " engagement)",
        )
    )
    total_cap = spec.max_micro if spec.max_micro is not None else 2**62
    return (
        per_type.sort([_ROW, "idx"])
        .group_by(_ROW, maintain_order=True)
        .agg(micro=pl.col("micro").sum(), reasons=pl.col("reason").str.join(separator))
        .select(
            pl.col(_ROW),
            pl.min_horizontal(pl.col("micro"), pl.lit(total_cap)).alias("__e.micro"),
            pl.col("reasons").alias("__e.reasons"),
        )
    )
