"""Database engines: SQLite (embedded default, WAL) or PostgreSQL, chosen by URL.

``sqlite:///leadflow.db`` is the default; ``postgresql+psycopg://user:pw@host/db``
selects PostgreSQL, whose connections give up after ``connect_timeout`` seconds
(``LEADFLOW_DATABASE_CONNECT_TIMEOUT``, unless the URL names its own): a host that drops
packets is an error in seconds, not a wait of minutes. Schema changes go through Alembic
(:func:`upgrade`), on both, from the migrations that ship inside the package.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic_core import to_json
from sqlalchemy import Engine, create_engine, event, inspect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from leadflow.adapters.store.sqlite_writer import TIMEOUT, WriterConnection, can_queue_writers
from leadflow.errors import InvalidInput

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0018"
"""The newest migration's revision (a test holds it to Alembic's head): what a command
that skips Alembic checks the database against, in one query."""


def json_text(value: Any) -> str:
    """The text a JSON column stores: pydantic-core's compact JSON, unicode kept. About a
    fifth of the time of ``json.dumps``, which a capture called about nine times."""
    return to_json(value).decode()


def make_engine(url: str, *, connect_timeout: int | None = None, **options: Any) -> Engine:
    """The engine for ``url``; a PostgreSQL one gives up connecting after ``connect_timeout``
    seconds, unless the URL's query (``?connect_timeout=30``) or ``connect_args`` say
    otherwise: what the user wrote in the URL wins over the setting."""
    options.setdefault("json_serializer", json_text)
    _check_url(url)
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"timeout": TIMEOUT}
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).absolute().parent
            if not folder.is_dir():
                raise InvalidInput(
                    f"there is no folder {folder} for the SQLite file; create it first",
                    where="LEADFLOW_DATABASE_URL",
                )
        if database and database != ":memory:" and can_queue_writers():
            connect_args["factory"] = WriterConnection
        try:
            engine = create_engine(url, connect_args=connect_args, **options)
        except ArgumentError:  # sqlite://leadflow.db, a slash short
            raise InvalidInput(
                f"'{shown_url(url)}' is not a SQLite URL; use sqlite:///relative/file.db"
                " or sqlite:////absolute/file.db",
                where="LEADFLOW_DATABASE_URL",
            ) from None
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _restore_foreign_keys)
        event.listen(engine, "savepoint", _savepoint_inside_a_transaction)
        return engine
    parsed = make_url(url)
    # SQLAlchemy's connect_args win over the URL's query: set the timeout only when the
    # URL does not, and let a caller's connect_args win over it.
    postgresql = parsed.get_backend_name() == "postgresql"
    if connect_timeout is not None and postgresql and "connect_timeout" not in parsed.query:
        given = options.get("connect_args", {})
        options["connect_args"] = {"connect_timeout": connect_timeout, **given}
    return create_engine(url, pool_pre_ping=True, **options)


_URL_FORMS = "sqlite:///FILE or postgresql+psycopg://user:password@host:5432/leadflow"


def _check_url(url: str) -> None:
    """A URL SQLAlchemy cannot read, or whose database or driver is not installed
    (``postgres://``, ``mysql://``), is an error naming the setting, not a traceback; the
    URL is repeated without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(
            f"not a database URL; use {_URL_FORMS}", where="LEADFLOW_DATABASE_URL"
        ) from None
    try:
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as error:
        raise InvalidInput(
            f"'{shown_url(url)}': leadflow cannot use this database ({error}); use {_URL_FORMS}",
            where="LEADFLOW_DATABASE_URL",
        ) from None


def shown_url(url: str) -> str:
    """The database URL as leadflow prints it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def sqlite_files(url: str) -> list[Path]:
    """The files a SQLite URL keeps its data in: the database and the journals SQLite
    writes beside it (``-wal``, ``-shm``, ``-journal``), which no output may overwrite.
    None for PostgreSQL, an in-memory database or a URL that cannot be read."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return []
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return []
    if database.startswith("file:"):  # sqlite:///file:data.db?uri=true, or file:///abs
        if parsed.query.get("mode") == "memory":
            return []
        database = urlparse(database).path
    return [Path(database + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def check_connection(engine: Engine, connect_timeout: int | None = None) -> None:
    """Connect once. A database that cannot be reached or opened (nothing listening, a
    wrong password, an unknown database or host, no answer within the connect timeout; a
    SQLite file that is not a database, or a folder) is an error naming the setting, with
    the URL without its password and the server's or SQLite's own words, not a traceback.
    Errors after this one connection are the command's own: they are not about the setting.

    ``connect_timeout`` is the one :func:`make_engine` was given (an engine does not keep
    its ``connect_args``): a timeout that ran out is said with its seconds and who set them.
    """
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        if getattr(error.orig, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            raise  # another process holds the file: a wait that ran out, not the setting
        reason = str(error.orig)
        if _timed_out(engine, error.orig):
            reason = f"{_waited(engine, connect_timeout)}: {reason}"
        raise InvalidInput(_cannot_connect(engine, reason), where="LEADFLOW_DATABASE_URL") from None


def _timed_out(engine: Engine, error: BaseException | None) -> bool:
    if engine.dialect.driver != "psycopg":
        return False
    from psycopg.errors import ConnectionTimeout

    return isinstance(error, ConnectionTimeout)


def _waited(engine: Engine, connect_timeout: int | None) -> str:
    """How long psycopg waited for an answer and who said so: the URL's ``connect_timeout``,
    else the setting, else psycopg's default (psycopg waits at least 2 seconds, as libpq)."""
    from psycopg.conninfo import timeout_from_conninfo

    in_url = engine.url.query.get("connect_timeout")  # a tuple when the URL says it twice
    given: str | int | None = in_url[-1] if isinstance(in_url, tuple) else in_url
    who = "connect_timeout in the URL"
    if given is None and connect_timeout is not None:
        given, who = connect_timeout, "LEADFLOW_DATABASE_CONNECT_TIMEOUT"
    elif given is None:
        who = "psycopg's default"
    seconds = timeout_from_conninfo({} if given is None else {"connect_timeout": given})
    return f"no answer within {seconds} seconds ({who})"


def _cannot_connect(engine: Engine, reason: str) -> str:
    url = engine.url.render_as_string(hide_password=True)
    if engine.dialect.name != "sqlite":  # psycopg's words begin with "connection failed: "
        words = _one_line(reason).removeprefix("connection failed: ")
        return f"cannot connect to '{url}': {words}"
    words = _one_line(reason)
    database = engine.url.database
    if database and Path(database).is_dir():
        words += " (it is a folder)"
    return f"cannot open '{url}': {words}"


def _one_line(text: str) -> str:
    """A driver's message of several lines (libpq's hint under its error) as one."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    ended = [line if line.endswith((".", ":", "?")) else f"{line}." for line in lines[:-1]]
    return " ".join([*ended, *lines[-1:]])


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _savepoint_inside_a_transaction(connection: Any, _name: str | None) -> None:
    """Begin SQLite's transaction before a savepoint, if no statement has begun it yet.

    Python's sqlite3 begins a transaction before a data statement (INSERT, UPDATE...),
    not before ``SAVEPOINT``; a savepoint outside a transaction begins one of its own,
    and its ``RELEASE`` commits it. Rows written in a savepoint that opened a unit of
    work's writes were committed at once, one savepoint at a time, past any later
    rollback of the unit (an interrupted ``import-activities`` kept a row its count of
    rows done did not include)."""
    driver = connection.connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN")


FOREIGN_KEYS_OFF = "leadflow.foreign_keys_off"
"""Set in a pooled connection's ``info`` while it writes with SQLite's foreign key checks
off (an import: ``BulkStore.start_writing``); the connection turns them on again when it
goes back to the pool, after its transaction has ended."""


def _restore_foreign_keys(connection: Any, record: Any) -> None:
    if connection is not None and record.info.pop(FOREIGN_KEYS_OFF, False):
        connection.execute("PRAGMA foreign_keys=ON")


class Checkpointer:
    """Folds SQLite's write-ahead log into the database from a thread of its own.

    SQLite does it in whichever commit takes the log past 1,000 pages, and that commit
    waits for the copy and its fsync: a pause of several milliseconds in the middle of
    a request, behind which a busy server queues the next ones. A server turns that
    off on its connections and runs a passive checkpoint every ``interval`` seconds
    here instead, which never blocks readers or writers.
    """

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, *, take_over: bool = True) -> None:
        """Start folding; with ``take_over``, the engine's connections stop checkpointing
        in their commits (a server's); without, the caller sees to its own (an import's)."""
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return
        if take_over:
            event.listen(self.engine, "connect", _no_autocheckpoint)
            self.engine.dispose()  # connections made before keep checkpointing: drop them
        self._thread = threading.Thread(
            target=self._run, args=(database,), name="leadflow-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, database: str) -> None:
        connection = sqlite3.connect(database, timeout=1, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            with contextlib.suppress(sqlite3.Error):
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()


def _no_autocheckpoint(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA wal_autocheckpoint = 0")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # Alembic only when migrating: reports start faster

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def is_current(engine: Engine) -> bool:
    """The schema is at :data:`HEAD`, checked without importing Alembic (0.3 s)."""
    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return [tuple(row) for row in found] == [(HEAD,)]


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
