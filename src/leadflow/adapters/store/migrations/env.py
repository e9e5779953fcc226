"""Alembic environment: runs migrations on the engine leadflow hands it."""

from __future__ import annotations

from alembic import context

from leadflow.adapters.store.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through leadflow (leadflow init), which provides the engine")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
