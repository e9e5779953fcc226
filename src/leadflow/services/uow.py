"""The unit of work: one transaction, committed explicitly.

::

    with UnitOfWork(engine) as uow:
        uow.store.insert_inquiry(...)
        uow.commit()          # without this, leaving the block rolls everything back

Events that must reach the outside world (webhooks, emails) are collected on
the unit of work and handed out only after a successful commit; a commit that queued
webhook deliveries or emails wakes this process's sender (``Dispatcher``) at once.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from leadflow.adapters.store import outbox
from leadflow.adapters.store.repository import Store


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._store: Store | None = None
        self.published: list[dict[str, object]] = []
        self._pending: list[dict[str, object]] = []

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("use the unit of work inside a 'with' block")
        return self._store

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._connection.begin()
        self._store = Store(self._connection)
        return self

    def publish(self, event: dict[str, object]) -> None:
        """Queue an event for after the commit."""
        self._pending.append(event)

    def commit(self) -> None:
        assert self._connection is not None
        self._connection.commit()
        outbox.after_commit(self._connection)
        self.published.extend(self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        assert self._connection is not None
        self._connection.rollback()
        outbox.forget(self._connection)
        self._pending.clear()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._connection.in_transaction():
                self._connection.rollback()
            outbox.forget(self._connection)
        finally:
            self._connection.close()
            self._connection = None
            self._store = None
            self._pending.clear()
