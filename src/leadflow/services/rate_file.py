"""Rate every row of a CSV file and write it back with the rating added.

The output keeps every input column, in input order and exactly as written,
and adds ``grade``, ``score``, ``route``, ``reasons`` and ``data_issues``
(lists joined with "; "). Rows are rated in chunks, vectorised, so a long
file shows progress and memory stays bounded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from leadflow.adapters.csv_files import (
    ColumnMap,
    map_columns,
    read_header,
    read_text_csv,
    sniff_delimiter,
    write_header,
)
from leadflow.analytics.batch import RESULT_COLUMNS, rate_frame
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput

CHUNK_ROWS = 250_000
ISSUE_FIELD = r"(?:^|; )([a-z][a-z0-9_]*): "
"""Each data issue starts with the field it is about."""
Progress = Callable[[int, int], None]


@dataclass
class RateSummary:
    rows: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    with_issues: int = 0
    issue_counts: Counter[str] = field(default_factory=Counter)
    columns: ColumnMap | None = None
    replaced: list[str] = field(default_factory=list)
    activities: int = 0
    activities_skipped: int = 0
    seconds: float = 0.0


def rate_csv(
    pb: Playbook,
    source: str | Path,
    out: BinaryIO,
    *,
    now: datetime,
    mappings: Mapping[str, str] | None = None,
    activities: str | Path | None = None,
    id_column: str = "id",
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> RateSummary:
    started = time.perf_counter()
    summary = RateSummary()
    leads = read_text_csv(source)
    header = read_header(Path(source), sniff_delimiter(Path(source)))
    if len(header) != leads.width:
        header = leads.columns
    summary.columns = map_columns(pb, leads.columns, mappings)
    summary.replaced = [c for c in RESULT_COLUMNS if c in leads.columns]
    for name in summary.replaced:
        if name in summary.columns.fields.values():
            raise InvalidInput(f"column '{name}' carries a field and would be overwritten")
    kept = [
        name
        for name, column in zip(header, leads.columns, strict=True)
        if column not in summary.replaced
    ]
    leads = leads.drop(summary.replaced)
    write_header(out, [*kept, *RESULT_COLUMNS])
    acts = None
    if activities is not None:
        acts, summary.activities, summary.activities_skipped = _read_activities(
            Path(activities), leads, id_column, str(source)
        )
    total = leads.height
    summary.rows = total
    for offset in range(0, max(total, 1), chunk_rows):
        part = leads.slice(offset, chunk_rows)
        part_acts = None
        if acts is not None:
            part_acts = acts.filter(
                (pl.col("__row") >= offset) & (pl.col("__row") < offset + chunk_rows)
            ).with_columns(pl.col("__row") - offset)
        rated = rate_frame(
            pb, part, now=now, columns=summary.columns.fields, activities=part_acts
        ).collect()
        _tally(summary, rated)
        rated.select(
            *leads.columns,
            "grade",
            "score",
            "route",
            "reasons",
            "data_issues",
        ).write_csv(out, include_header=False)
        if progress is not None:
            progress(min(offset + chunk_rows, total), total)
    summary.seconds = time.perf_counter() - started
    return summary


def _tally(summary: RateSummary, rated: pl.DataFrame) -> None:
    for grade, count in rated["grade"].value_counts().iter_rows():
        summary.grades[grade] += count
    for route, count in rated["route"].value_counts().iter_rows():
        summary.routes[route] += count
    summary.with_issues += int((rated["data_issues"].str.len_bytes() > 0).sum())
    facts = (
        rated.select(pl.col("data_issues").str.extract_all(ISSUE_FIELD).explode())
        .drop_nulls()
        .select(pl.col("data_issues").str.extract(ISSUE_FIELD, 1))
        .to_series()
        .value_counts()
    )
    for name, count in facts.iter_rows():
        summary.issue_counts[name] += count


def _read_activities(
    path: Path, leads: pl.DataFrame, id_column: str, source: str
) -> tuple[pl.DataFrame, int, int]:
    """Activities (id, type, at) as rows of the leads table; unmatched or undated rows skipped."""
    if id_column not in leads.columns:
        raise InvalidInput(
            f"--id-column '{id_column}' is not a column of the leads file "
            f"(columns: {', '.join(leads.columns)})",
            where=source,
        )
    raw = read_text_csv(path)
    wanted = [id_column, "type", "at"]
    absent = [c for c in wanted if c not in raw.columns]
    if absent:
        raise InvalidInput(
            f"an activities file needs the columns {', '.join(wanted)}; "
            f"missing: {', '.join(absent)}",
            where=str(path),
        )
    rows = leads.select(pl.col(id_column).alias("__id")).with_row_index("__row")
    parsed = raw.select(
        pl.col(id_column).alias("__id"),
        pl.col("type"),
        pl.col("at")
        .str.strip_chars()
        .str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
        .alias("at"),
    )
    joined = parsed.join(rows, on="__id", how="inner").drop_nulls(["at", "type"])
    return joined.select("__row", "type", "at"), raw.height, raw.height - joined.height
