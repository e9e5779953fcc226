"""An import's write transactions, in turn with every other writer.

SQLite lets one connection write at a time: while an import holds the write lock, a
capture from the API waits. So on SQLite an import works in *slices* of rows sized to
take about :data:`SLICE_SECONDS` each, and asks whether another leadflow writer is
waiting for the lock (``sqlite_writer``: a waiting writer says so): every 1,024 rows
while it matches them to people, and after writing a slice. If one is, the import
writes the rows it has decided, commits and lets go, so the capture waits for those
rows and a commit, not for the whole chunk; if nobody waits, the transaction
goes on until it holds ``chunk_rows`` rows, so an import alone commits as seldom as
before. Each transaction:

1. waits its turn on the writer lock; after letting go for a waiting writer the
   import leaves the lock free for :data:`GAP_SECONDS`, longer than a waiting writer's
   pause between tries, so the waiter gets it;
2. asks whether anyone else wrote since its last transaction, and if so reads what
   they added about the slice's keys, blocks and companies (``MemoryIndex.fetch``
   with ``refresh``), so a person captured meanwhile is found, not made twice;
3. decides and writes slice after slice, and commits.

The JSON texts of each slice are made before it. While the import runs, a thread folds
the write-ahead log into the database (``engine.Checkpointer``), so the log stays short
and no single checkpoint at the end copies gigabytes.

Where writers cannot say that they wait (no ``fcntl``: Windows), every slice is its own
transaction. On PostgreSQL writers do not wait for each other: one transaction per
``chunk_rows`` rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from leadflow.adapters.store.bulk import BulkStore
from leadflow.adapters.store.engine import Checkpointer
from leadflow.services.bulk_import import (
    CHUNK_ROWS,
    ChunkResult,
    Ids,
    ImportFile,
    Target,
    plan_chunk,
    record_import,
    write_chunk,
)
from leadflow.services.bulk_prepare import Prepared
from leadflow.services.bulk_resolve import MemoryIndex
from leadflow.services.uow import UnitOfWork

SLICE_SECONDS = 1.0
"""The time one slice of rows aims at. Matching asks every 1,024 rows whether a writer
waits and then stops, so a writer that starts waiting waits for the rows decided so far
to be written (matching is about a quarter of a slice), and the commit."""

FIRST_ROWS = 2_000
"""Rows in the first slice, before any has been timed."""

FEWEST_ROWS = 500
"""Never fewer rows per slice than this."""

GAP_SECONDS = 0.002
"""How long the lock stays free after the import let go for a waiting writer: a waiting
writer tries again at least every millisecond (``sqlite_writer``)."""

CHECKPOINT_SECONDS = 0.25
"""How often the log is folded into the database while an import runs."""


@dataclass
class Turns:
    """The import's write transactions: how many, the longest held, how many were cut
    short for a waiting writer, and the most such a writer can have waited (the slice
    it came during, and the commit)."""

    count: int = 0
    longest: float = 0.0
    yielded: int = 0
    longest_yield: float = 0.0
    import_id: int | None = None  # the ``imports`` row the rows were taken under


@dataclass
class Pace:
    """Rows per slice, from the time the last slice took per row."""

    budget: float
    most: int
    rows: int

    def took(self, rows: int, seconds: float) -> None:
        fit = int(rows * self.budget / seconds) if seconds > 0 else self.most
        self.rows = max(min(FEWEST_ROWS, self.most), min(self.most, fit, rows * 2))


def import_in_turn(
    begin: Callable[[], UnitOfWork],
    target: Target,
    prepared: Prepared,
    file: ImportFile,
    index: MemoryIndex,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
    budget: float = SLICE_SECONDS,
) -> tuple[list[ChunkResult], Turns]:
    """Slice after slice: decide, write; commit when someone waits or a chunk is full.

    Each commit records in the ``imports`` row how many of the file's rows are taken,
    so an import that stops goes on, with ``file.taken``, after the rows it committed.
    ``progress`` is called after each slice, possibly inside a write transaction: it
    must not write to the database.
    """
    results: list[ChunkResult] = []
    turns = Turns()
    with begin() as uow:  # one connection for the whole import
        bulk = BulkStore(uow.store.connection)
        checkpointer = Checkpointer(uow.engine, interval=CHECKPOINT_SECONDS)
        bulk.start_writing()
        checkpointer.start(take_over=False)
        try:
            _in_turn(
                uow,
                bulk,
                target,
                prepared,
                file,
                index,
                chunk_rows,
                budget,
                progress,
                results,
                turns,
            )
        finally:
            checkpointer.stop()
            bulk.end_writing()
    return results, turns


PAUSE_SECONDS = 2.0
"""After letting go for a waiting writer, how long at most the import stays out while
other writers keep coming (a server's queue of captures): each would otherwise wait for
a whole slice again, one after another."""
QUIET_SECONDS = 0.05
"""The import goes on once nobody has written or waited for this long."""


def _while_writers_come(bulk: BulkStore, let_go: float) -> bool:
    """Stay out of the lock while others write, up to :data:`PAUSE_SECONDS` after
    ``let_go``; whether anybody wrote meanwhile (the index must then be refreshed)."""
    wrote = False
    while time.monotonic() - let_go < PAUSE_SECONDS:
        time.sleep(QUIET_SECONDS)
        if bulk.others_wrote():
            wrote = True
        elif not bulk.others_waiting():
            return wrote
    return wrote


def _in_turn(
    uow: UnitOfWork,
    bulk: BulkStore,
    target: Target,
    prepared: Prepared,
    file: ImportFile,
    index: MemoryIndex,
    chunk_rows: int,
    budget: float,
    progress: Callable[[int, int], None] | None,
    results: list[ChunkResult],
    turns: Turns,
) -> None:
    total = prepared.frame.height
    first = chunk_rows if bulk.postgres else min(FIRST_ROWS, chunk_rows)
    pace = Pace(budget, chunk_rows, first)
    # What the index learnt stays true while nobody else writes: then only keys and
    # blocks it has not seen are asked for, and into an empty database nothing is.
    empty = bulk.is_empty()
    bulk.watch()
    offset, written, began, let_go = file.taken, 0, 0.0, -1.0
    stop = bulk.others_waiting if bulk.tells_waiting else None
    while offset < total:
        rows = min(pace.rows, chunk_rows - written)
        chunk = prepared.frame.slice(offset, rows).with_columns(**prepared.texts)
        if not written:  # a new transaction
            time.sleep(max(0.0, let_go + GAP_SECONDS - time.monotonic()))
            seen = _while_writers_come(bulk, let_go) if let_go >= 0 else False
            bulk.begin_writing()
            began = time.monotonic()
            changed = bulk.others_wrote() or seen
            empty = empty and not changed
            if turns.import_id is None:
                target, turns.import_id = record_import(bulk, target, file)
        else:
            changed = False
        sliced = time.monotonic()
        if changed or not empty:
            index.fetch(bulk, chunk, refresh=changed)
        plan = plan_chunk(index, target, chunk, Ids.of(bulk), stop)
        results.append(write_chunk(bulk, target, plan))
        decided = plan.rows.height  # all of the slice, unless a writer began to wait
        offset, written = offset + decided, written + decided
        if not bulk.postgres and decided == chunk.height:
            pace.took(decided, time.monotonic() - sliced)
        waiting = bulk.others_waiting()
        if waiting or written >= chunk_rows or offset >= total:
            assert turns.import_id is not None  # recorded as the transaction began
            finished = datetime.now(UTC) if offset >= total else None
            bulk.import_taken(turns.import_id, offset, finished)
            uow.commit()
            done = time.monotonic()
            turns.count += 1
            turns.longest = max(turns.longest, done - began)
            if waiting:  # it waited for this slice at most, and the commit
                turns.yielded += 1
                turns.longest_yield = max(turns.longest_yield, done - sliced)
            let_go, written = (done if waiting else -1.0), 0
            if offset < total:  # (after the last, ``end_writing`` folds it)
                bulk.fold_log()  # outside the write lock: others write meanwhile
        if progress is not None:
            progress(offset, total)
