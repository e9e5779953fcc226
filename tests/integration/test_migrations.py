"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from leadflow.adapters.store.engine import HEAD, alembic_config, is_current, upgrade
from leadflow.adapters.store.tables import metadata


def test_the_migrated_schema_is_the_declared_one(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, metadata)
    assert differences == [], "a change to tables.py needs a migration"


def test_head_is_the_newest_migration_and_says_when_one_is_missing(engine: Engine) -> None:
    """The report commands migrate when ``is_current`` says no: HEAD must be Alembic's."""
    assert ScriptDirectory.from_config(alembic_config(engine)).get_heads() == [HEAD]
    assert is_current(engine)
    command.downgrade(alembic_config(engine), "0013")  # the velocity indexes go
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
