"""Database engines: SQLite (embedded default, WAL) or PostgreSQL, chosen by URL.

``sqlite:///leadflow.db`` is the default; ``postgresql+psycopg://user:pw@host/db``
selects PostgreSQL. Schema changes go through Alembic (:func:`upgrade`), on
both, from the migrations that ship inside the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, make_url

from leadflow.adapters.store.sqlite_writer import TIMEOUT, WriterConnection, can_queue_writers

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"timeout": TIMEOUT}
        database = make_url(url).database
        if database and database != ":memory:" and can_queue_writers():
            connect_args["factory"] = WriterConnection
        engine = create_engine(url, connect_args=connect_args, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
