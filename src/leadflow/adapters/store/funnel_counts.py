"""The reports' counts, kept per group and day: what a ``GROUP BY`` over a million
funnel rows would add up, added up as the rows change.

A funnel row (``funnel_store.to_row``) **contributes** to one row of ``funnel_counts``
per dimension: (``all``, "all"), (``source``, its source), (``campaign``, ...),
(``form``, ...), (``rep``, ...), (``grade``, ...), (``month``, ...), each on the day of
its first inquiry. Its contribution is a vector of :data:`MEASURES` (1 lead, its
inquiries, 1 per stage type reached, ...) and, in ``gap_counts``, 1 per field it left
blank or could not be judged on. When a row changes, the old contribution is taken
away and the new one added, in the same transaction; so the counts are always the sums
of the rows, which the reports then read in a few hundred rows instead of a million.

Two implementations of one definition: :func:`contributions` for a few rows at a time
(a capture), :func:`contribution_frame` for a chunk (an import, the benchmark); a test
holds them equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

DAY = 86_400
DIMENSIONS = {
    "all": None,
    "source": "source",
    "campaign": "campaign",
    "form": "form_key",
    "rep": "rep_id",
    "grade": "grade",
    "month": "month",
}
"""Dimension name -> the funnel column it groups by (None: one group, "all")."""
STAGES = (
    "inquiry",
    "nurture",
    "marketing_qualified",
    "sales_accepted",
    "sales_qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "disqualified",
)
STEPS = STAGES[:7]
"""The funnel's steps; ``both_<step>`` counts leads that reached it and the one before."""
VELOCITY: tuple[tuple[str, str, str | None], ...] = (
    *((f"in_{s}", f"seconds_{s}", None) for s in STAGES),
    ("speed_to_lead", "ready_at", "contacted_at"),
    ("time_to_accept", "routed_at", "accepted_at"),
    ("to_sales_ready", "first_at", "ready_at"),
)
"""The velocity measures: (name, start, end): end - start, or start alone."""
MEASURES = (
    "leads",
    "inquiries",
    *(f"reached_{s}" for s in STAGES),
    *(f"both_{s}" for s in STEPS[1:]),
    "ready",
    "routed",
    "accepted",
    "handed_back",
    "won",
    "lost",
    "revenue",
    *(f"zero_{name}" for name, _, _ in VELOCITY),
)
Key = tuple[str, str, int]


def key_of(row: Mapping[str, Any], column: str | None) -> str:
    if column is None:
        return "all"
    value = row[column]
    return "" if value is None else str(value)


def measures(row: Mapping[str, Any]) -> dict[str, float]:
    """One funnel row's contribution to its groups (zeros left out)."""
    got: dict[str, float] = {"leads": 1, "inquiries": row["inquiries"] or 0}
    for s in STAGES:
        if row[f"reached_{s}"] is not None:
            got[f"reached_{s}"] = 1
    for before, step in pairwise(STEPS):
        if row[f"reached_{before}"] is not None and row[f"reached_{step}"] is not None:
            got[f"both_{step}"] = 1
    for name, column in (
        ("ready", "ready_at"),
        ("routed", "routed_at"),
        ("accepted", "accepted_at"),
    ):
        if row[column] is not None:
            got[name] = 1
    if row["handbacks"]:
        got["handed_back"] = 1
    if row["outcome"] in ("won", "lost"):
        got[row["outcome"]] = 1
    if row["outcome"] == "won" and row["outcome_value"]:
        got["revenue"] = float(row["outcome_value"])
    for name, start, end in VELOCITY:
        if row[start] is not None and (end is None or row[end] is not None):
            value = row[start] if end is None else row[end] - row[start]
            if value == 0:
                got[f"zero_{name}"] = 1
    return got


TIME_GROUPS = ("first_at", "source", "campaign", "form_key", "rep_id", "grade", "month")


def times(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's ``funnel_times`` row: its positive velocity durations (the velocity report
    reads those; the zero ones are counted here), or None when it has none."""
    found: dict[str, Any] = {}
    for name, start, end in VELOCITY:
        known = row[start] is not None and (end is None or row[end] is not None)
        value = (row[start] if end is None else row[end] - row[start]) if known else None
        found[name] = value if value is not None and value > 0 else None
    if all(v is None for v in found.values()):
        return None
    return {"person_id": row["person_id"], **{g: row[g] for g in TIME_GROUPS}, **found}


def times_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """:func:`times` of a frame of funnel rows: those with a positive duration."""
    import polars as pl

    c = pl.col
    values = {}
    for name, start, end in VELOCITY:
        value = c(start) if end is None else c(end) - c(start)
        values[name] = pl.when(value > 0).then(value).otherwise(pl.lit(None, pl.Int64))
    frame = rows.select("person_id", *TIME_GROUPS, **values)
    return frame.filter(pl.any_horizontal(c(n).is_not_null() for n, _, _ in VELOCITY))


def gaps(row: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Field -> (unanswered, not evaluated) of one funnel row."""
    found: dict[str, tuple[int, int]] = {}
    missing = set(_names(row["missing"]))
    for name in _names(row["unanswered"]):
        found[name] = (1, int(name in missing))
    for name in missing - set(found):
        found[name] = (0, 1)
    return found


def _names(text: str | None) -> list[str]:
    return [n for n in (text or "").split(",") if n]


def contributions(
    changes: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any]]],
) -> tuple[dict[Key, dict[str, float]], dict[tuple[str, str, int, str], list[int]]]:
    """The sums to add for rows changing from ``old`` (None: new) to ``new``."""
    counts: dict[Key, dict[str, float]] = {}
    gap_counts: dict[tuple[str, str, int, str], list[int]] = {}
    for old, new in changes:
        for row, sign in ((old, -1), (new, 1)):
            if row is None or row["first_at"] is None:
                continue
            day = int(row["first_at"]) // DAY
            values = measures(row)
            blanks = gaps(row)
            for dim, column in DIMENSIONS.items():
                key = (dim, key_of(row, column), day)
                sums = counts.setdefault(key, {})
                for name, value in values.items():
                    sums[name] = sums.get(name, 0) + sign * value
                for field, (u, m) in blanks.items():
                    pair = gap_counts.setdefault((*key, field), [0, 0])
                    pair[0] += sign * u
                    pair[1] += sign * m
    return counts, gap_counts


def contribution_frame(rows: pl.DataFrame, sign: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`contributions` of a frame of funnel rows (all new, or all taken away with
    ``sign`` -1), as frames of ``funnel_counts`` and ``gap_counts`` rows."""
    import polars as pl

    rows = rows.filter(pl.col("first_at").is_not_null())
    c = pl.col

    def known(name: str) -> pl.Expr:
        return c(name).is_not_null()

    values: dict[str, pl.Expr] = {"leads": pl.lit(1), "inquiries": c("inquiries").fill_null(0)}
    for s in STAGES:
        values[f"reached_{s}"] = known(f"reached_{s}").cast(pl.Int64)
    for before, step in pairwise(STEPS):
        values[f"both_{step}"] = (known(f"reached_{before}") & known(f"reached_{step}")).cast(
            pl.Int64
        )
    values.update(
        ready=known("ready_at").cast(pl.Int64),
        routed=known("routed_at").cast(pl.Int64),
        accepted=known("accepted_at").cast(pl.Int64),
        handed_back=(c("handbacks").fill_null(0) > 0).cast(pl.Int64),
        won=(c("outcome") == "won").fill_null(False).cast(pl.Int64),
        lost=(c("outcome") == "lost").fill_null(False).cast(pl.Int64),
        revenue=pl.when(c("outcome") == "won")
        .then(c("outcome_value"))
        .otherwise(0.0)
        .fill_null(0.0),
    )
    for name, start, end in VELOCITY:
        value = c(start) if end is None else c(end) - c(start)
        values[f"zero_{name}"] = (value == 0).fill_null(False).cast(pl.Int64)
    frame = rows.with_columns(day=(c("first_at") // DAY), **values)
    # Summed first by every group key at once (an import's rows share most of them),
    # then by each dimension: the same sums, over a few rows instead of a copy per
    # dimension of every row.
    keys = [f"key:{dim}" for dim in DIMENSIONS]
    keyed = frame.select(
        "day",
        *(
            (pl.lit("all") if column is None else c(column).cast(pl.String).fill_null("")).alias(
                f"key:{dim}"
            )
            for dim, column in DIMENSIONS.items()
        ),
        *MEASURES,
        u=c("unanswered").fill_null("").str.split(","),
        m=c("missing").fill_null("").str.split(","),
    )
    combos = keyed.group_by("day", *keys).agg(c(m).sum() for m in MEASURES)
    counts = [
        combos.select(pl.lit(dim).alias("dim"), c(f"key:{dim}").alias("key"), "day", *MEASURES)
        for dim in DIMENSIONS
    ]
    blanks = pl.concat(
        [
            keyed.select("day", *keys, field=c(part))
            .explode("field")
            .filter(c("field") != "")
            .group_by("day", *keys, "field")
            .agg(
                unanswered=pl.len().cast(pl.Int64) * int(part == "u"),
                missing=pl.len().cast(pl.Int64) * int(part == "m"),
            )
            for part in ("u", "m")
        ]
    )
    gap_parts = [
        blanks.select(
            pl.lit(dim).alias("dim"),
            c(f"key:{dim}").alias("key"),
            "day",
            "field",
            "unanswered",
            "missing",
        )
        for dim in DIMENSIONS
    ]
    summed = (
        pl.concat(counts).group_by("dim", "key", "day").agg(*(c(m).sum() * sign for m in MEASURES))
    )
    gap_frame = (
        pl.concat(gap_parts)
        .group_by("dim", "key", "day", "field")
        .agg(c("unanswered").sum() * sign, c("missing").sum() * sign)
    )
    return summed, gap_frame
