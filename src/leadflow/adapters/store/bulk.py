"""Bulk reads and writes for imports: whole tables of rows per statement.

The repository (``repository.Store``) speaks one inquiry at a time; an
import of a million rows needs the database's own bulk paths instead:

- SQLite: ``executemany`` of one prepared statement on the driver's
  connection, inside the caller's transaction, which first takes the write
  lock (``BEGIN IMMEDIATE``) so that ids read here stay ours.
- PostgreSQL: ``COPY ... FROM STDIN`` in CSV form, written by Polars; ids
  are reserved from the table's sequence, so concurrent captures never
  collide with them.

Rows arrive as Polars frames whose columns are named as the table's, with
times as ``stamp``s and JSON as text. Everything runs on the caller's
connection and transaction: nothing here commits.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Table, insert, or_, select, update

from leadflow.adapters.identity.names import FORMER_NAME
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.engine import FOREIGN_KEYS_OFF
from leadflow.adapters.store.sqlite_writer import WriterConnection

SQLITE_CACHE_KIB = 512 * 1024
"""SQLite's page cache while an import writes (512 MiB): index pages stay in memory
instead of being read back for every row; the default (2 MiB) makes a large import
several times slower."""


def runner() -> str:
    """Who imports, as an ``imports`` row names it: this machine and process (``host:pid``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


LOOKUP_BATCH = 5_000
"""Values per ``IN (...)`` list when looking up what the database already knows."""


class BulkStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.postgres = self.dialect == "postgresql"
        self._mark = "%s" if self.postgres else "?"
        self._expected = -1

    # ------------------------------------------------------------ transaction, ids

    def start_writing(self) -> None:
        """Before an import's first transaction: a large page cache, no checkpoints in this
        connection's commits (the import folds the log in from a thread of its own), and no
        foreign key checks.

        The checks look up the parent of every row written (people, accounts): about a
        tenth of the time of the import's inserts. An import only refers to the people and
        companies it made or found, and nobody deletes either; its tests check the keys
        afterwards (``PRAGMA foreign_key_check``). SQLite ignores the pragma inside a
        transaction, so the checks are turned off only outside one. The engine turns them
        on again when the connection returns to the pool (``engine.FOREIGN_KEYS_OFF``),
        after its transaction has ended, whichever way the import ended.
        """
        if self.postgres:
            return
        driver: Any = self.connection.connection.driver_connection
        driver.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        driver.execute("PRAGMA wal_autocheckpoint = 0")
        if not driver.in_transaction:
            self.connection.connection.info[FOREIGN_KEYS_OFF] = True
            driver.execute("PRAGMA foreign_keys = OFF")

    def begin_writing(self) -> None:
        """Take SQLite's write lock now (after the writers queued before us), so that the
        ids read next cannot be taken by others."""
        if self.postgres:
            return
        driver: Any = self.connection.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")

    @property
    def tells_waiting(self) -> bool:
        """Whether :meth:`others_waiting` knows (SQLite with leadflow's writer queue)."""
        driver: Any = self.connection.connection.driver_connection
        return not self.postgres and isinstance(driver, WriterConnection)

    def others_waiting(self) -> bool:
        """Whether another writer waits for SQLite's write lock (always, where writers cannot
        say so, so that the caller lets go often); never on PostgreSQL."""
        if self.postgres:
            return False
        driver: Any = self.connection.connection.driver_connection
        return bool(driver.others_waiting()) if isinstance(driver, WriterConnection) else True

    def fold_log(self) -> None:
        """Between two of the import's transactions (SQLite): fold what the last one wrote
        to the write-ahead log into the database, so that the next one starts the log
        afresh. Left to the checkpointing thread alone, the log is never wholly folded
        when the import begins its next transaction (it does at once), so it only
        grows: 5.3-5.7 GB for a million rows, with twice the system time of a log
        folded each time (``docs/performance.md``)."""
        if self.postgres:
            return
        driver: Any = self.connection.connection.driver_connection
        if not driver.in_transaction:
            with contextlib.suppress(sqlite3.OperationalError):  # busy: the log grows, no more
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def end_writing(self) -> None:
        """Give the cache back (the connection returns to the pool) and fold the
        write-ahead log into the database; after the last commit, or after a failure."""
        if not self.postgres:
            driver: Any = self.connection.connection.driver_connection
            driver.execute("PRAGMA cache_size = -2000")
            driver.execute("PRAGMA wal_autocheckpoint = 1000")
            if not driver.in_transaction:  # after a failure the caller rolls back first
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def is_empty(self) -> bool:
        """Whether the database knows no people and no companies yet."""
        return not any(
            self.connection.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first()
            for table in ("people", "accounts")
        )

    def watch(self) -> None:
        """Start noticing other writers (before this connection writes anything)."""
        if self.postgres:  # the first transaction id nobody has taken yet
            self._expected = int(
                self._scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
            )
        else:
            self._expected = int(self._scalar("PRAGMA data_version"))

    def others_wrote(self) -> bool:
        """At the start of a chunk's transaction: whether any other connection has written
        since :meth:`watch` or the previous call.

        SQLite: ``data_version``, which only other connections' commits change (and
        nobody writes during our transaction: it holds the write lock). PostgreSQL:
        this transaction takes its id now; it is the one after our last unless some
        other writer (anywhere on the server: a busy server just looks changed, which
        is safe) took one in between or during our last transaction.
        """
        if self.postgres:
            xid = int(self._scalar("SELECT pg_current_xact_id()::text"))
            changed, self._expected = xid != self._expected, xid + 1
        else:
            version = int(self._scalar("PRAGMA data_version"))
            changed, self._expected = version != self._expected, version
        return changed

    def ids(self, table: Table) -> Iterator[int]:
        """An endless supply of new ids for ``table`` (SQLite: after the largest; PostgreSQL:
        reserved from its sequence in blocks, so the unused ones are gaps, as rollbacks leave)."""
        if self.postgres:
            sequence = self._scalar(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")
            while True:
                rows = self.connection.exec_driver_sql(
                    "SELECT nextval(%s) FROM generate_series(1, 10000)", (sequence,)
                )
                yield from (int(r[0]) for r in rows)
        largest = self._scalar(f"SELECT max(id) FROM {table.name}") or 0
        yield from _count_from(int(largest) + 1)

    def stamp(self, moment: datetime) -> str:
        """``moment`` as the text the database stores for a timestamp, as SQLAlchemy writes it."""
        moment = moment.astimezone(UTC)
        if self.postgres:
            return moment.isoformat()
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    # ------------------------------------------------------------ what is known already

    def key_owners(self, kind: str, values: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for batch in _batches(values):
            rows = self._select(
                "SELECT value, person_id FROM person_keys WHERE kind = {m} AND value IN ({ms})",
                [kind],
                batch,
            )
            found.update((value, int(person)) for value, person in rows)
        return found

    def block_members(self, blocks: Iterable[str]) -> list[tuple[str, int, str | None]]:
        """(block, person, name key) of the people in ``blocks``, by person id."""
        members: list[tuple[str, int, str | None]] = []
        for batch in _batches(blocks):
            members.extend(
                (block, int(person), name)
                for block, person, name in self._select(
                    "SELECT b.block, p.id, p.name_key FROM person_blocks b"
                    " JOIN people p ON p.id = b.person_id WHERE b.block IN ({ms})"
                    " ORDER BY p.id",
                    [],
                    batch,
                )
            )
        return members

    def former_names(self, people: Iterable[int]) -> list[tuple[int, str]]:
        """(person, name key) of the names ``people`` were given before their present one."""
        found: list[tuple[int, str]] = []
        for batch in _batches(people):
            rows = self._select(
                "SELECT person_id, block FROM person_blocks"
                " WHERE block LIKE {m} AND person_id IN ({ms})",
                [FORMER_NAME + "%"],  # no wildcard in it
                batch,
            )
            found.extend((int(person), block.removeprefix(FORMER_NAME)) for person, block in rows)
        return found

    def emails_of(self, person: int) -> list[str]:
        """The person's stored email keys."""
        sql = "SELECT value FROM person_keys WHERE person_id = {m} AND kind = 'email'"
        return [str(row[0]) for row in self._select(sql, [person], [])]

    def name_keys(self, people: Iterable[int]) -> dict[int, str | None]:
        found: dict[int, str | None] = {}
        for batch in _batches(people):
            rows = self._select("SELECT id, name_key FROM people WHERE id IN ({ms})", [], batch)
            found.update((int(person), name) for person, name in rows)
        return found

    def accounts_by(self, column: str, values: Iterable[str]) -> dict[str, int]:
        """The account of each value of ``column`` (domain or name_key); the first by id."""
        found: dict[str, int] = {}
        for batch in _batches(values):
            rows = self._select(
                f"SELECT {column}, id FROM accounts WHERE {column} IN ({{ms}}) ORDER BY id",
                [],
                batch,
            )
            for value, account in rows:
                found.setdefault(value, int(account))
        return found

    def without_domain(self, accounts: Iterable[int]) -> set[int]:
        """Those of these accounts that have no domain (made by a company's name alone)."""
        found: set[int] = set()
        for batch in _batches(accounts):
            sql = "SELECT id FROM accounts WHERE domain IS NULL AND id IN ({ms})"
            found.update(int(row[0]) for row in self._select(sql, [], batch))
        return found

    def set_account_domains(self, domains: Sequence[tuple[int, str]]) -> None:
        """Give each account (id, domain) its domain."""
        if domains:
            sql = f"UPDATE accounts SET domain = {self._mark} WHERE id = {self._mark}"
            self.connection.exec_driver_sql(sql, [(d, a) for a, d in domains])

    def people(self, ids: Sequence[int]) -> pl.DataFrame:
        """The stored people ``ids`` (facts as JSON text), for folding new inquiries into them."""
        columns = [
            "id",
            "email",
            "phone",
            "first_name",
            "last_name",
            "name_key",
            "company",
            "company_key",
            "account_id",
            "facts",
            "inquiry_count",
        ]
        selected = ", ".join("CAST(facts AS TEXT) AS facts" if c == "facts" else c for c in columns)
        rows: list[tuple[Any, ...]] = []
        for batch in _batches(ids):
            rows.extend(
                self._select(f"SELECT {selected} FROM people WHERE id IN ({{ms}})", [], batch)
            )
        schema = {c: pl.String for c in columns} | {
            "id": pl.Int64,
            "account_id": pl.Int64,
            "inquiry_count": pl.Int64,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")

    def activities(self, people: Sequence[int]) -> list[tuple[int, str, datetime]]:
        """(person, type, when in UTC) of the activities of ``people``."""
        rows: list[tuple[int, str, datetime]] = []
        for batch in _batches(people):
            rows.extend(
                (int(p), kind, _moment(at))
                for p, kind, at in self._select(
                    "SELECT person_id, type, at FROM activities WHERE person_id IN ({ms})",
                    [],
                    batch,
                )
            )
        return rows

    # ------------------------------------------------------------ writes

    def insert_import(
        self,
        started_at: datetime,
        source: str,
        columns: list[list[str]],
        file: str | None = None,
        checksum: str | None = None,
        rows: int | None = None,
        kind: str = "inquiries",
        campaign: str | None = None,
    ) -> int:
        """Record an imported file: its columns, name, checksum, rows and campaign, and this
        process as the one importing it; its id."""
        values = {
            "kind": kind,
            "started_at": started_at,
            "source": source,
            "columns": columns,
            "file": file,
            "checksum": checksum,
            "rows": rows,
            "campaign": campaign,
            "runner": runner(),
            "seen_at": datetime.now(UTC),
        }
        result = self.connection.execute(insert(t.imports), values)
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def claim_import(self, import_id: int, taken: int) -> bool:
        """This process goes on with the stopped import ``import_id``, if it still stands
        where this process found it (``taken`` rows, not finished); whether it did. Another
        command that resumed it meanwhile has moved it on, or finished it."""
        claimed = self.connection.execute(
            update(t.imports)
            .where(
                t.imports.c.id == import_id,
                t.imports.c.taken == taken,
                t.imports.c.finished_at.is_(None),
            )
            .values(runner=runner(), seen_at=datetime.now(UTC))
        )
        return bool(claimed.rowcount)

    def import_taken(self, import_id: int, taken: int, finished_at: datetime | None) -> None:
        """How many of the import's rows are taken, in the transaction that wrote them, and
        when it finished (None while rows are left); its runner is seen now."""
        self.connection.execute(
            update(t.imports)
            .where(t.imports.c.id == import_id)
            .values(taken=taken, finished_at=finished_at, seen_at=datetime.now(UTC))
        )

    def unfinished_imports(self, checksum: str, kind: str, since: int = 0) -> list[Any]:
        """The imports of this file (of ``kind``) that have not finished, and with ``since``
        every one after the import of that id, finished or not; oldest first.

        On PostgreSQL this first takes a lock on the file's checksum until the transaction
        ends, so that two imports of one file read and record one after the other (on
        SQLite the write lock, taken with the transaction, does so already)."""
        if self.postgres:
            self.connection.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(%s)", (file_lock_key(checksum),)
            )
        query = (
            select(t.imports)
            .where(
                t.imports.c.checksum == checksum,
                t.imports.c.kind == kind,
                or_(t.imports.c.finished_at.is_(None), t.imports.c.id > since),
            )
            .order_by(t.imports.c.id)
        )
        return list(self.connection.execute(query))

    def insert(self, table: Table, frame: pl.DataFrame, *, skip_existing: bool = False) -> None:
        """Insert every row of ``frame`` (columns named as ``table``'s) into ``table``;
        with ``skip_existing``, rows whose primary key is taken already are left out."""
        if frame.is_empty():
            return
        if self.postgres:
            if skip_existing:
                self._copy_skipping(table, frame)
            else:
                self._copy(table.name, frame)
            return
        # Bound per row only what varies: a column of nothing but nulls is left to its
        # default (binding None costs sqlite3 several times a value's binding), and one
        # value in every row is written once, as a literal.
        height = frame.height
        frame = frame.select(c for c in frame.columns if frame[c].null_count() < height)
        values = {c: _literal(frame[c]) for c in frame.columns}
        columns = list(values)
        frame = frame.select(c for c, literal in values.items() if literal is None)
        rows = frame.iter_rows() if frame.width else iter([()] * height)
        marks = ", ".join(literal or "?" for literal in values.values())
        verb = "INSERT OR IGNORE" if skip_existing else "INSERT"
        sql = f"{verb} INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def update_people(self, frame: pl.DataFrame) -> None:
        """Set the columns of ``frame`` on the people whose ``id`` it names."""
        if frame.is_empty():
            return
        columns = [c for c in frame.columns if c != "id"]
        sets = ", ".join(f"{c} = {self._mark}" for c in columns)
        sql = f"UPDATE people SET {sets} WHERE id = {self._mark}"
        rows = frame.select(*columns, "id").rows()
        if self.postgres:
            with self._driver_cursor() as cursor:
                cursor.executemany(sql, rows)
            return
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def delete_ratings(self, people: Sequence[int]) -> None:
        self.delete_people_rows(t.lead_state, people)

    def delete_people_rows(self, table: Table, people: Sequence[int]) -> None:
        """Delete the rows of ``table`` (keyed by ``person_id``) of these people."""
        for batch in _batches(people):
            marks = ", ".join(self._mark for _ in batch)
            self.connection.exec_driver_sql(
                f"DELETE FROM {table.name} WHERE person_id IN ({marks})", tuple(batch)
            )

    # ------------------------------------------------------------ helpers

    def _copy(self, table: str, frame: pl.DataFrame) -> None:
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="", quote_style="non_numeric")
        columns = ", ".join(frame.columns)
        with self._driver_cursor() as cursor:
            statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
            with cursor.copy(statement) as copy:
                copy.write(buffer.getbuffer())

    def _copy_skipping(self, table: Table, frame: pl.DataFrame) -> None:
        staging = f"bulk_{table.name}"
        columns = ", ".join(frame.columns)
        keys = ", ".join(c.name for c in table.primary_key)
        self.connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging}"
            f" (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self._copy(staging, frame)
        self.connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {staging}"
            f" ON CONFLICT ({keys}) DO NOTHING"
        )
        self.connection.exec_driver_sql(f"TRUNCATE {staging}")

    def _driver_cursor(self) -> Any:
        return self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def _scalar(self, sql: str) -> Any:
        return self.connection.exec_driver_sql(sql).scalar()

    def _select(self, sql: str, head: list[Any], batch: list[Any]) -> list[tuple[Any, ...]]:
        marks = ", ".join(self._mark for _ in batch)
        sql = sql.replace("{m}", self._mark).replace("{ms}", marks)
        return [tuple(r) for r in self.connection.exec_driver_sql(sql, tuple([*head, *batch]))]


def file_lock_key(checksum: str) -> int:
    """A PostgreSQL advisory lock's key for a file: the first 60 bits of its SHA-256,
    plus one bit that keeps leadflow's keys apart from small ones others may take."""
    return int(checksum[:15], 16) | 1 << 61


def _literal(column: pl.Series) -> str | None:
    """The SQL literal of a text or integer column that holds one value in every row."""
    if column.dtype not in (pl.String, pl.Int64) or column.null_count():
        return None
    first = column[0]
    if first != column[-1] or column.n_unique() != 1:
        return None
    return str(first) if isinstance(first, int) else "'" + first.replace("'", "''") + "'"


def _moment(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives the text SQLAlchemy wrote)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _batches(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == LOOKUP_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _count_from(start: int) -> Iterator[int]:
    n = start
    while True:
        yield n
        n += 1
