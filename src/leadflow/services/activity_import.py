"""``leadflow import-activities``: record activities from a CSV file.

Columns: ``type``, ``at`` (ISO 8601; UTC when no zone is given), and one of
``person_id``, ``email``, ``phone``, ``external_id`` (``source:id``) to find the person.
Rows that name no known person or cannot be read are skipped and reported.

Like an import of inquiries, each import of activities records its file (name, SHA-256)
and, in every transaction, how many of its rows are done: a file imported before is
refused (its activities would count twice towards engagement) unless ``again``, and one
whose import stopped goes on after the rows it did with ``resume``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.exc import DataError, IntegrityError

from leadflow.adapters.csv_files import has_value, read_text_csv, sniff_delimiter
from leadflow.adapters.csv_records import row_lines
from leadflow.adapters.store.bulk import BulkStore
from leadflow.adapters.store.repository import Event, Store
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import clean
from leadflow.errors import InvalidInput, LeadflowError
from leadflow.services.activities import KnownKeys, RecordActivity, store_activity
from leadflow.services.capture import CaptureSettings, refusal, rerate_many
from leadflow.services.import_runs import claim, refuse_running
from leadflow.services.imports import (
    check_same_rows,
    earlier_import,
    file_checksum,
    named_source,
)
from leadflow.services.uow import UnitOfWork

BATCH = 1_000


@dataclass
class ActivityImport:
    """What an import of activities did: activities recorded, rows skipped (line and why),
    the types recorded that the playbook gives no points (how many of each), rows a
    stopped import of the file had done (left out this time), and its ``imports`` row."""

    done: int = 0
    skipped: list[str] = field(default_factory=list)
    unscored: Counter[str] = field(default_factory=Counter)
    resumed: int = 0
    import_id: int | None = None


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def import_activity_csv(
    uow_factory: Callable[[], UnitOfWork],
    pb: Playbook,
    path: Path,
    settings: CaptureSettings,
    source: str | None,
    now: datetime,
    again: bool = False,
    resume: bool = False,
    delimiter: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ActivityImport:
    """Record every row (after those a stopped import of the file did, with ``resume``);
    ``delimiter``: the file's, when a guess would be wrong (else sniffed); ``progress`` is
    told ``(rows done, rows)`` after each transaction, the rows a resumed import had done
    counted as done."""
    if source is not None:
        source = named_source("--source", source)
    checksum = file_checksum(path)
    earlier, seen = earlier_import(
        uow_factory, path, checksum, "activities", source or "", again, resume
    )
    delimiter = delimiter or sniff_delimiter(path)
    frame = read_text_csv(path, delimiter)
    needed = {"type", "at"}
    if not needed <= set(frame.columns):
        missing = ", ".join(sorted(needed - set(frame.columns)))
        raise InvalidInput(
            f"an activities file needs the columns type and at; missing: {missing}", where=str(path)
        )
    if not {"person_id", "email", "phone", "external_id"} & set(frame.columns):
        raise InvalidInput(
            "an activities file needs person_id, email, phone or external_id", where=str(path)
        )
    result = ActivityImport()
    # Lines of no value (Excel's ",,,,") are no activities; each row keeps its line.
    columns = frame.columns
    frame = frame.with_columns(_lines(path, delimiter, frame.height)).filter(has_value(columns))
    rows = frame.to_dicts()
    if earlier is not None:
        check_same_rows(earlier, len(rows))
        result.import_id, result.resumed = int(earlier.id), int(earlier.taken)
    for offset in range(result.resumed, len(rows), BATCH):
        with uow_factory() as uow:
            bulk = BulkStore(uow.store.connection)
            if offset == result.resumed:  # the first transaction: record (or claim) it
                refuse_running(bulk, checksum, "activities", seen)
                if result.import_id is None:
                    header = [[c, c] for c in columns]
                    result.import_id = bulk.insert_import(
                        now, source or "", header, str(path), checksum, len(rows), "activities"
                    )
                else:
                    claim(bulk, result.import_id, result.resumed, str(path))
            part = rows[offset : offset + BATCH]
            batch = _record_batch(uow.store, pb, part, settings, source, now)
            uow.store.append_events(batch.logged)
            # As of now: an activity is never later (``store_activity``).
            moments = dict.fromkeys(batch.touched, now)
            rerate_many(uow.store, pb, moments, "activity", settings.runtime())
            end = min(offset + BATCH, len(rows))
            assert result.import_id is not None  # recorded in the first transaction
            bulk.import_taken(
                result.import_id, end, datetime.now(UTC) if end == len(rows) else None
            )
            uow.commit()
        result.done += batch.done
        result.skipped += batch.skipped_in_order()
        result.unscored.update(batch.unscored)
        if progress is not None:
            progress(end, len(rows))
    return result


@dataclass
class _Batch:
    """What a transaction's rows did: kept only once they are all written."""

    done: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    unscored: Counter[str] = field(default_factory=Counter)
    touched: dict[int, None] = field(default_factory=dict)  # the people to rate, in order
    logged: list[Event] = field(default_factory=list)  # activity.recorded, logged together

    def skip(self, line: int, why: str) -> None:
        self.skipped.append((line, f"line {line}: {why}"))

    def skipped_in_order(self) -> list[str]:
        """Why each row was skipped, in the file's order (rows read wrong are skipped
        before the others are looked up)."""
        return [said for _, said in sorted(self.skipped)]


def _record_batch(
    store: Store,
    pb: Playbook,
    rows: list[dict[str, Any]],
    settings: CaptureSettings,
    source: str | None,
    now: datetime,
) -> _Batch:
    """Store a transaction's rows; a row the database refuses is skipped with its line.

    A row writes one statement, its INSERT (its event is logged with the batch's). SQLite
    undoes a statement that fails and keeps the transaction. PostgreSQL aborts the whole
    transaction: there the rows are written in one savepoint, and should the database
    refuse one, again each in a savepoint of its own (a savepoint per row costs two
    round trips to the server). On PostgreSQL the rows' people are also looked up
    together (a query is a round trip there); on SQLite one by one is as quick (measured:
    48.5 s against 50.5 s of 100,000 rows, each email being read twice then)."""
    read = _Batch()  # the rows that cannot be read, skipped
    commands = _commands(rows, source, read)
    if store.connection.dialect.name == "sqlite":
        return _store(
            store, pb, commands, settings, now, read, None, savepoints=False, refusals=True
        )
    keys = KnownKeys(store, [cmd for _, cmd in commands])
    whole = store.connection.begin_nested()
    try:
        batch = _store(
            store, pb, commands, settings, now, read, keys, savepoints=False, refusals=False
        )
    except (IntegrityError, DataError):
        whole.rollback()
        return _store(
            store, pb, commands, settings, now, read, keys, savepoints=True, refusals=True
        )
    whole.commit()
    return batch


def _commands(
    rows: list[dict[str, Any]], source: str | None, read: _Batch
) -> list[tuple[int, RecordActivity]]:
    """The rows as activities to record, with their lines; those that cannot be read
    are skipped in ``read``."""
    commands = []
    for row in rows:
        line = row["__line"]
        if clean(row.get("at")) is None:  # a file is history: its rows are not now
            read.skip(
                line, "at is empty: give the time of the activity (ISO 8601, UTC when no zone)"
            )
            continue
        at = parse_time(row.get("at"))
        if at is None:
            read.skip(line, f"'at' is not an ISO 8601 time: {row.get('at')!r}")
            continue
        person = (row.get("person_id") or "").strip()
        if person and not _an_id(person):
            if not any(row.get(k) for k in ("email", "phone", "external_id")):
                read.skip(
                    line, f"person_id {person!r} is not a leadflow id (a whole number from 1)"
                )
                continue
            person = ""  # (say, 17.0 from a spreadsheet): found by the others
        cmd = RecordActivity(
            type=row.get("type") or "",
            at=at,
            person_id=int(person) if person else None,
            email=row.get("email"),
            phone=row.get("phone"),
            external_id=row.get("external_id"),
            source=source or clean(row.get("source")),  # a blank cell: none
        )
        commands.append((line, cmd))
    return commands


def _store(
    store: Store,
    pb: Playbook,
    commands: list[tuple[int, RecordActivity]],
    settings: CaptureSettings,
    now: datetime,
    read: _Batch,
    keys: KnownKeys | None,
    *,
    savepoints: bool,
    refusals: bool,
) -> _Batch:
    """Store each activity (in a savepoint of its own with ``savepoints``), the rows
    skipped in ``read`` beside them; a value the database refuses skips its row with
    ``refusals``, else stops the batch (its error raised)."""
    batch = _Batch(skipped=list(read.skipped))
    for line, cmd in commands:
        savepoint = store.connection.begin_nested() if savepoints else None
        try:
            _, person_id, _at = store_activity(store, cmd, settings, now, batch.logged, keys)
            if savepoint is not None:
                savepoint.commit()
        except LeadflowError as error:  # raised before the row writes anything
            if savepoint is not None:
                savepoint.rollback()
            batch.skip(line, str(error))
            continue
        except (IntegrityError, DataError) as error:  # a value it cannot store
            # (not a lock held too long, a full disk: those stop the import, which
            # goes on with --resume, rather than lose rows as refused)
            if not refusals:
                raise
            if savepoint is not None:
                savepoint.rollback()
            batch.skip(line, f"the database refused it: {refusal(error)}")
            continue
        batch.touched[person_id] = None
        batch.done += 1
        if not pb.scores(cmd.type):
            batch.unscored[cmd.type] += 1
    return batch


def _lines(path: Path, delimiter: str, rows: int) -> pl.Series:
    """The line of the file each of its ``rows`` starts on; InvalidInput should the csv
    module read other rows than Polars did (the lines named would be wrong)."""
    lines = row_lines(path, delimiter)
    if len(lines) != rows:
        raise InvalidInput(
            f"cannot read as CSV: {rows:,} rows read one way, {len(lines):,} another"
            " (a quote or a line end in it?)",
            where=str(path),
        )
    return pl.Series("__line", lines, dtype=pl.Int64)


def _an_id(text: str) -> bool:
    """Whether ``text`` is a person's id: ASCII digits (not "²"), from 1 to the largest id
    the database holds."""
    return len(text) <= 19 and text.isascii() and text.isdigit() and 0 < int(text) < 2**63
