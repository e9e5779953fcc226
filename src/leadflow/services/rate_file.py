"""Rate every row of a CSV file and write it back with the rating added.

The output keeps every input column, in input order and as written, and adds
``grade``, ``score``, ``route``, ``reasons`` and ``data_issues`` (lists joined
with "; "). Blank lines are skipped and counted, as ``leadflow import`` skips
them. The input's values are written as read, as ``leadflow import`` reads them (a row
short of values has the missing ones empty), formulas too: the output is the caller's
own file with columns added, and none of the added ones can start as a formula (they
begin with a grade, a number, a route or the playbook's own words). What leadflow writes
from its database is guarded instead (:func:`~leadflow.adapters.csv_files.formula_guarded`).
Rows are rated vectorised, in chunks or streamed, so a long file shows progress
and memory stays bounded.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from leadflow.adapters.csv_files import (
    ColumnMap,
    csv_error,
    has_value,
    line_end,
    map_columns,
    read_text_csv,
    scan_text_csv,
    sniff_delimiter,
    without_blank_rows,
    write_header,
)
from leadflow.adapters.csv_records import read_header
from leadflow.analytics.batch import RESULT_COLUMNS, rate_frame
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput
from leadflow.services.model_rating import with_predictions

CHUNK_ROWS = 250_000
IN_MEMORY_BYTES = 256 * 1024 * 1024
"""Files up to this size are rated in memory: read whole, rated, written natively."""
Progress = Callable[[int, int], None]
GIVEN = "\x00given"  # a streamed row's mark: it has a value (no CSV name)


@dataclass
class RateSummary:
    rows: int = 0
    blank: int = 0  # lines of no value (empty, or delimiters and spaces alone), skipped
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
    out: BinaryIO | Path,
    *,
    now: datetime,
    mappings: Mapping[str, str] | None = None,
    activities: str | Path | None = None,
    id_column: str = "id",
    progress: Progress | None = None,
    summary: bool = True,
    chunk_rows: int = CHUNK_ROWS,
) -> RateSummary:
    """Rate ``source`` into ``out``: a file path (fastest) or an open binary stream.

    To a path, a file of up to ``IN_MEMORY_BYTES`` is read whole, rated (its
    fields parsed once per distinct value) and written natively; a larger one
    streams through one query (read, rate, write, pipelined, memory bounded).
    To a stream, or when the header repeats a name (which a query cannot
    carry), rows are rated in chunks. ``summary`` False skips the counts
    (grades, routes, issues) for callers that will not show them.
    """
    started = time.perf_counter()
    with with_predictions(pb, Path(source)) as (scored, blank):
        header = read_header(scored, sniff_delimiter(scored))
        job = _Job(pb, scored, header, now, mappings, activities, id_column, progress)
        result = _rate_csv(job, out, summary, chunk_rows)
    result.blank += blank  # skipped by the scoring, when the playbook has a model
    result.seconds = time.perf_counter() - started
    return result


def _rate_csv(job: _Job, out: BinaryIO | Path, summary: bool, chunk_rows: int) -> RateSummary:
    unique = len(set(job.header)) == len(job.header)  # Polars' own names, each as written
    if isinstance(out, Path) and unique and job.source.stat().st_size <= IN_MEMORY_BYTES:
        result = _in_memory(job, out, summary)
    elif isinstance(out, Path) and unique:
        result = _streamed(job, out, summary)
    else:
        result = _chunked(job, out, chunk_rows)
    return result


@dataclass(frozen=True)
class _Job:
    """What every way of rating a file needs to know."""

    pb: Playbook
    source: Path
    header: list[str]
    now: datetime
    mappings: Mapping[str, str] | None
    activities: str | Path | None
    id_column: str
    progress: Progress | None


def _plan(
    pb: Playbook, names: list[str], header: list[str], mappings: Mapping[str, str] | None
) -> tuple[RateSummary, list[str], list[str]]:
    """Column mapping, replaced result columns, and the output header (names as written)."""
    columns = map_columns(pb, names, mappings)
    result = RateSummary(columns=columns)
    result.replaced = [c for c in RESULT_COLUMNS if c in names]
    for name in result.replaced:
        if name in columns.fields.values():
            raise InvalidInput(f"column '{name}' carries a field and would be overwritten")
    if len(header) != len(names):
        header = names
    kept_names = [c for c in names if c not in result.replaced]
    kept_header = [h for h, c in zip(header, names, strict=True) if c not in result.replaced]
    return result, kept_names, [*kept_header, *RESULT_COLUMNS]


def _load(
    job: _Job,
) -> tuple[pl.DataFrame, RateSummary, list[str], list[str], pl.DataFrame | None]:
    """The leads in memory (blank lines skipped, result columns already there dropped),
    the plan, and activities."""
    leads, blank = without_blank_rows(read_text_csv(job.source))
    result, kept, output_header = _plan(job.pb, leads.columns, job.header, job.mappings)
    result.blank = blank
    leads = leads.drop(result.replaced)
    acts = None
    if job.activities is not None:
        acts, result.activities, result.activities_skipped = _read_activities(
            Path(job.activities), leads, job.id_column, str(job.source)
        )
    return leads, result, kept, output_header, acts


def _in_memory(job: _Job, out: Path, summary: bool) -> RateSummary:
    pb, source, now, progress = job.pb, job.source, job.now, job.progress
    leads, result, kept, _, acts = _load(job)
    total = leads.height
    if progress is not None:
        progress(0, total)
    rated = rate_frame(
        pb, leads, now=now, columns=_fields(result), activities=acts, issue_flags=summary
    )
    flags = [c for c in rated.collect_schema().names() if c.startswith("issue:")]
    chunk = rated.select(*kept, *RESULT_COLUMNS, *flags).collect()
    if summary:
        _tally(result, chunk, flags)
    else:
        result.rows = total
    output = chunk.select(*kept, *RESULT_COLUMNS)
    watch = _Watch(out, (total, _size(output)), progress) if progress else None
    try:
        with watch or _nothing():
            output.write_csv(out)
    except pl.exceptions.PolarsError as error:
        out.unlink(missing_ok=True)
        raise csv_error(error, source) from None
    return result


def _size(frame: pl.DataFrame) -> int:
    """Roughly the bytes ``frame`` takes as CSV: its texts, separators and short numbers."""
    texts = [c for c, t in frame.schema.items() if t == pl.String]
    lengths = frame.select(pl.col(texts).str.len_bytes().sum()).row(0) if texts else ()
    written: int = sum(int(n or 0) for n in lengths)
    return written + int(frame.height) * 5 * len(frame.columns)


def _streamed(job: _Job, out: Path, summary: bool) -> RateSummary:
    pb, source, header, now = job.pb, job.source, job.header, job.now
    mappings, activities, id_column, progress = (
        job.mappings,
        job.activities,
        job.id_column,
        job.progress,
    )
    read = scan_text_csv(source)
    names = read.collect_schema().names()
    result, kept, _ = _plan(pb, names, header, mappings)
    # Every row is rated, blank lines too, so that the queries below share one reading
    # of the file (Polars shares what they have in common); only the given are written.
    leads = read.with_columns(has_value(names).alias(GIVEN))
    acts = None
    if activities is not None:  # matched to every row read, as every row is rated
        ids = leads.select(id_column).collect() if id_column in names else pl.DataFrame()
        acts, result.activities, result.activities_skipped = _read_activities(
            Path(activities), ids, id_column, str(source)
        )
    rated = rate_frame(
        pb,
        leads.drop(result.replaced),
        now=now,
        columns=_fields(result),
        activities=acts,
        issue_flags=summary,
    )
    given = rated.filter(GIVEN)
    written = given.select(*kept, *RESULT_COLUMNS)
    queries = [written.sink_csv(out, lazy=True), rated.select((~pl.col(GIVEN)).sum())]
    flags = [c for c in rated.collect_schema().names() if c.startswith("issue:")]
    if summary:
        queries.append(
            given.group_by("grade", "route").agg(
                pl.len().alias("rows"),
                (pl.col("data_issues").str.len_bytes() > 0).sum().alias("with_issues"),
                *[pl.col(f).sum() for f in flags],
            )
        )
    watch = _Watch(out, _estimate(pb, source, now, result), progress) if progress else None
    try:
        with watch or _nothing():
            done = pl.collect_all(queries)
        result.blank = int(done[1].item())
    except pl.exceptions.PolarsError as error:
        out.unlink(missing_ok=True)
        raise csv_error(error, source) from None
    if summary:
        _tally_groups(result, done[-1], flags)
    return result


def _chunked(job: _Job, out: BinaryIO | Path, chunk_rows: int) -> RateSummary:
    pb, now, progress = job.pb, job.now, job.progress
    leads, result, kept, output_header, acts = _load(job)
    total = leads.height
    output = [*kept, *RESULT_COLUMNS]
    with _Writer(out, output_header) as write:
        for offset in range(0, max(total, 1), chunk_rows):
            part_acts = None
            if acts is not None:
                part_acts = acts.filter(
                    (pl.col("__row") >= offset) & (pl.col("__row") < offset + chunk_rows)
                ).with_columns(pl.col("__row") - offset)
            rated = rate_frame(
                pb,
                leads.slice(offset, chunk_rows),
                now=now,
                columns=_fields(result),
                activities=part_acts,
                issue_flags=True,
            )
            flags = [c for c in rated.collect_schema().names() if c.startswith("issue:")]
            chunk = rated.select(*output, *flags).collect()
            _tally(result, chunk, flags)
            write(chunk.select(output))
            if progress is not None:
                progress(min(offset + chunk_rows, total), total)
    return result


def _fields(result: RateSummary) -> Mapping[str, str]:
    assert result.columns is not None
    return result.columns.fields


@contextmanager
def _nothing() -> Iterator[None]:
    yield


SAMPLE_ROWS = 2_000


def _estimate(pb: Playbook, source: Path, now: datetime, result: RateSummary) -> tuple[int, int]:
    """Roughly how many rows the file has and how many bytes the output will take.

    From the first rows: their share of the file's bytes, and their size once rated.
    """
    size = source.stat().st_size
    with source.open("rb") as handle:
        lines = [handle.readline() for _ in range(SAMPLE_ROWS + 1)]
    sample_bytes = sum(len(line) for line in lines[1:]) or 1
    sampled = sum(1 for line in lines[1:] if line) or 1
    rows = max(sampled, round((size - len(lines[0])) / sample_bytes * sampled))
    sample = pl.read_csv(
        source,
        n_rows=SAMPLE_ROWS,
        infer_schema=False,
        separator=sniff_delimiter(source),
        eol_char=line_end(source),
        encoding="utf8-lossy",
    )
    rated = rate_frame(pb, sample, now=now, columns=_fields(result)).collect()
    written = len(rated.write_csv()) or 1
    return rows, round(written / len(rated) * rows) if len(rated) else size


class _Watch:
    """Reports progress while a streaming query writes: bytes written against the estimate."""

    def __init__(self, out: Path, estimate: tuple[int, int], progress: Progress) -> None:
        self.out = out
        self.rows, self.bytes = estimate
        self.progress = progress
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                written = self.out.stat().st_size
            except OSError:
                written = 0
            share = min(written / max(self.bytes, 1), 0.99)
            self.progress(round(share * self.rows), self.rows)

    def __enter__(self) -> _Watch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        if exc[0] is None:
            self.progress(self.rows, self.rows)


class _Writer:
    """Writes the header, then chunks of rows, to a path or a stream.

    Polars writes to a path natively, about twice as fast as through a Python
    stream, so for a path each chunk goes to a part file that is appended by
    the kernel (``os.copy_file_range``).
    """

    def __init__(self, out: BinaryIO | Path, header: list[str]) -> None:
        self.out = out
        self.header = header
        self.handle: BinaryIO | None = None
        self.part: Path | None = None

    def __enter__(self) -> _Writer:
        if isinstance(self.out, Path):
            self.handle = self.out.open("wb")
            self.part = self.out.with_name(self.out.name + ".chunk")
        else:
            self.handle = self.out
        write_header(self.handle, self.header)
        return self

    def __call__(self, chunk: pl.DataFrame) -> None:
        assert self.handle is not None
        if self.part is None:
            chunk.write_csv(self.handle, include_header=False)
            return
        chunk.write_csv(self.part, include_header=False)
        self.handle.flush()
        with self.part.open("rb") as source:
            _append(source, self.handle)

    def __exit__(self, *exc: object) -> None:
        if self.part is not None:
            self.part.unlink(missing_ok=True)
            if self.handle is not None:
                self.handle.close()


def _append(source: BinaryIO, target: BinaryIO) -> None:
    size = os.fstat(source.fileno()).st_size
    try:
        copied = 0
        while copied < size:
            step = os.copy_file_range(source.fileno(), target.fileno(), size - copied)
            if step == 0:
                break
            copied += step
        if copied == size:
            return
        source.seek(copied)
    except OSError:
        source.seek(0)
    shutil.copyfileobj(source, target, 16 * 1024 * 1024)


def _tally_groups(summary: RateSummary, groups: pl.DataFrame, flags: list[str]) -> None:
    for row in groups.iter_rows(named=True):
        summary.rows += row["rows"]
        summary.grades[row["grade"]] += row["rows"]
        summary.routes[row["route"]] += row["rows"]
        summary.with_issues += row["with_issues"]
        for flag in flags:
            if row[flag]:
                summary.issue_counts[flag.removeprefix("issue:")] += row[flag]


def _tally(summary: RateSummary, rated: pl.DataFrame, flags: list[str]) -> None:
    summary.rows += rated.height
    for grade, count in rated["grade"].value_counts().iter_rows():
        summary.grades[grade] += count
    for route, count in rated["route"].value_counts().iter_rows():
        summary.routes[route] += count
    summary.with_issues += int((rated["data_issues"].str.len_bytes() > 0).sum())
    if flags:
        sums = rated.select(pl.col(flags).sum()).row(0)
        for name, count in zip(flags, sums, strict=True):
            if count:
                summary.issue_counts[name.removeprefix("issue:")] += int(count)


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
    raw, _ = without_blank_rows(read_text_csv(path))  # a blank line: no activity, none skipped
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
