"""The ``users`` table (who signs in to the web pages) and ``site_secrets``. On the
caller's connection."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Record


class UserStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def insert(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.users).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def by_id(self, user_id: int) -> Record | None:
        return self.connection.execute(select(t.users).where(t.users.c.id == user_id)).first()

    def by_email(self, email: str) -> Record | None:
        return self.connection.execute(select(t.users).where(t.users.c.email == email)).first()

    def all(self) -> list[Record]:
        return list(self.connection.execute(select(t.users).order_by(t.users.c.id)))

    def update(self, user_id: int, values: Mapping[str, Any]) -> None:
        self.connection.execute(update(t.users).where(t.users.c.id == user_id).values(**values))


def site_secret(connection: Connection, name: str, make: str, now: datetime) -> str:
    """The secret called ``name``, stored as ``make`` on first use. Two processes that
    start together agree: the first insert wins, and both read the stored value."""
    statement = _SECRET_INSERTS[
        "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
    ]
    connection.execute(statement, {"name": name, "value": make, "created_at": now})
    found = connection.execute(
        select(t.site_secrets.c.value).where(t.site_secrets.c.name == name)
    ).scalar_one()
    return str(found)


_SECRET_INSERTS = {
    "postgresql": postgresql.insert(t.site_secrets).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(t.site_secrets).on_conflict_do_nothing(),
}
