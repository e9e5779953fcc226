"""The unit of work commits only when told to; leaving without commit rolls back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from leadflow.adapters.store import tables
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _add_event(uow: UnitOfWork) -> None:
    uow.store.append_event("test.happened", NOW, data={"n": 1})


def test_commit_keeps_the_work(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        _add_event(uow)
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.store.count(tables.events) == 1


def test_leaving_without_commit_rolls_back(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        _add_event(uow)
    with UnitOfWork(engine) as uow:
        assert uow.store.count(tables.events) == 0


def test_an_error_rolls_back(engine: Engine) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        _add_event(uow)
        raise RuntimeError("boom")
    with UnitOfWork(engine) as uow:
        assert uow.store.count(tables.events) == 0


def test_events_are_published_only_after_commit(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.publish({"type": "lead.captured"})
        assert uow.published == []
        uow.commit()
        assert uow.published == [{"type": "lead.captured"}]


def test_times_come_back_as_utc(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        person = uow.store.insert_person(
            {"created_at": NOW, "updated_at": NOW, "facts": {"a": "b"}, "inquiry_count": 0}
        )
        uow.commit()
        row = uow.store.person(person)
        assert row is not None
        assert row.created_at == NOW
        assert row.facts == {"a": "b"}


def test_work_done_in_a_savepoint_first_is_rolled_back_with_the_unit(engine: Engine) -> None:
    """A savepoint that opens a unit's writes sits inside its transaction: releasing it
    commits nothing (sqlite3 alone would begin the transaction at the SAVEPOINT, and its
    RELEASE would commit)."""
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        uow.store.count(tables.events)  # a read first, as a unit of work often does
        savepoint = uow.store.connection.begin_nested()
        _add_event(uow)
        savepoint.commit()
        inner = uow.store.connection.begin_nested()
        _add_event(uow)
        inner.rollback()
        assert uow.store.count(tables.events) == 1
        raise RuntimeError("stopped before the unit's commit")
    with UnitOfWork(engine) as uow:
        assert uow.store.count(tables.events) == 0
