"""The reports' ``funnel`` rows for an import chunk: the events it logs, folded.

The chunk's events are folded exactly as ``Store.append_events`` folds a capture's
(:class:`leadflow.adapters.store.funnel_store.FunnelStore`), then written with the
database's bulk paths. ``lead.rated`` carries the fields each lead left blank, found
here column by column (:func:`gap_lists`), as :func:`leadflow.domain.funnel.gaps` does
for one lead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.bulk import BulkStore
from leadflow.adapters.store.funnel_counts import MEASURES, contribution_frame, times_frame
from leadflow.adapters.store.funnel_store import FunnelStore, Logged, to_row
from leadflow.domain.funnel import KINDS, Funnel
from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import needed_by
from leadflow.domain.values import STRIP_CHARS
from leadflow.services.bulk_fold import SIMPLE, fold_new


def gap_lists(pb: Playbook, facts: pl.DataFrame, segments: pl.Series) -> pl.DataFrame:
    """``missing`` and ``unanswered`` (lists of field names) for each row of ``facts``
    (the fields' raw texts), whose segments are ``segments``."""
    names = list(pb.fields)
    blank = {
        name: (
            facts.get_column(name).cast(pl.String).str.strip_chars(STRIP_CHARS).fill_null("") == ""
            if name in facts.columns
            else pl.Series([True] * facts.height)
        )
        for name in names
    }
    frame = pl.DataFrame({f"blank:{n}": s for n, s in blank.items()}).with_columns(segment=segments)
    labels = [s.name for s in pb.segments]
    needed: dict[str | None, dict[str, list[str]]] = {None: needed_by(pb, None)}
    needed.update({s: needed_by(pb, s) for s in labels})

    def listed(columns: list[str]) -> pl.Expr:
        if not columns:
            return pl.lit([], dtype=pl.List(pl.String))
        parts = [pl.when(pl.col(f"blank:{n}")).then(pl.lit(n)) for n in columns]
        return pl.concat_list(parts).list.drop_nulls()

    missing = pl.lit([], dtype=pl.List(pl.String))
    for segment, needs in needed.items():
        test = pl.col("segment").is_null() if segment is None else pl.col("segment") == segment
        missing = pl.when(test).then(listed([n for n in names if n in needs])).otherwise(missing)
    return frame.select(missing=missing, unanswered=listed(names))


def fold_chunk(bulk: BulkStore, events: pl.DataFrame, fresh: Sequence[int]) -> None:
    """Fold a chunk's events (``at`` as stamps, ``data`` as JSON text) into the rows: new
    people with the import's usual events column by column (``bulk_fold``), the others
    one event at a time, as a capture would. ``fresh``: people made by this chunk, who
    have no row yet (not looked for)."""
    kept = events.filter(pl.col("type").is_in(sorted(KINDS)) & pl.col("person_id").is_not_null())
    if kept.is_empty():
        return
    store = FunnelStore(bulk.connection)
    # People the chunk did not make may have a row already: folded one by one from it
    # (a person with none is folded from nothing, as the columns would).
    made = pl.Series(list(fresh), dtype=pl.Int64).implode()
    odd = kept.filter(~pl.col("type").is_in(SIMPLE)).get_column("person_id").unique().implode()
    one_by_one = ~pl.col("person_id").is_in(made) | pl.col("person_id").is_in(odd)
    by_column = fold_new(kept.filter(~one_by_one), _moment)
    new = by_column.select(
        pl.col(name).cast(kind) if name in by_column.columns else pl.lit(None, kind).alias(name)
        for name, kind in _SCHEMA.items()
    )
    before: dict[int, Funnel] = {}
    backs: list[dict[str, Any]] = []
    rest = kept.filter(one_by_one)
    if not rest.is_empty():
        moments: dict[str, datetime] = {}
        logged: list[Logged] = []
        for at, kind, person_id, data in rest.select("at", "type", "person_id", "data").iter_rows():
            when = moments.get(at)
            if when is None:
                when = moments[at] = _moment(at)
            logged.append((int(person_id), kind, when, json.loads(data) if data else {}))
        folded = store.folded(logged)
        if folded is not None:
            before, states, backs = folded
            rows = [to_row(person_id, state) for person_id, state in states.items()]
            new = pl.concat([new, pl.DataFrame(rows, schema=_SCHEMA, orient="row")])
    bulk.delete_people_rows(t.funnel, list(before))
    bulk.insert(t.funnel, new)
    bulk.delete_people_rows(t.funnel_times, list(before))
    bulk.insert(t.funnel_times, times_frame(new))
    if backs:
        bulk.connection.execute(t.handbacks.insert(), backs)
    old = pl.DataFrame(
        [to_row(p, state) for p, state in before.items()], schema=_SCHEMA, orient="row"
    )
    add_counts(store, [contribution_frame(new, 1), contribution_frame(old, -1)])


def add_counts(store: FunnelStore, parts: list[tuple[pl.DataFrame, pl.DataFrame]]) -> None:
    """Add contribution frames (``funnel_counts.contribution_frame``) to the stored sums."""
    counts = (
        pl.concat([p[0] for p in parts])
        .group_by("dim", "key", "day")
        .agg(pl.col(m).sum() for m in MEASURES)
    )
    gaps = (
        pl.concat([p[1] for p in parts])
        .group_by("dim", "key", "day", "field")
        .agg(pl.col("unanswered").sum(), pl.col("missing").sum())
    )
    store.add_counts(
        {(r["dim"], r["key"], r["day"]): r for r in counts.iter_rows(named=True)},
        {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in gaps.iter_rows()},
    )


_SCHEMA: dict[str, Any] = {
    c.name: (
        pl.Float64
        if c.name.endswith("_value")
        else pl.Int64
        if c.name in ("person_id", "inquiries", "handbacks", "rep_id", "first_at")
        or c.name.endswith(("_at", "_since"))
        or c.name.startswith(("reached_", "seconds_"))
        else pl.String
    )
    for c in t.funnel.columns
}


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
