"""``adapters/store/direct.py``: a write straight on SQLite's cursor stores exactly what
SQLAlchemy's own execution stores, and the cases only SQLAlchemy can run take its path."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from leadflow.adapters.store import direct
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.engine import make_engine
from leadflow.adapters.store.funnel_store import _ADD_COUNTS
from leadflow.adapters.store.repository import (
    _ACCOUNT_BY_NAME_KEY,
    _INSERT_EVENT,
    _KEY_OWNERS,
    _MEMBERS_OF_BLOCKS,
    _PERSON,
    _UPDATE_PERSON,
)

AT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)


def _engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    t.metadata.create_all(engine)
    return engine


def _person(engine: Engine) -> int:
    with engine.begin() as c:
        values = {"created_at": AT, "updated_at": AT, "email": "a@b.example", "facts": {}}
        return int(c.execute(insert(t.people), values).inserted_primary_key[0])  # type: ignore[index]


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as raw:
        return raw.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()


def _both(tmp_path: Path, statement: Any, params: Any, table: str) -> None:
    """The same write through direct.write and through Connection.execute: same rows."""
    stored = []
    for name, run in (("direct", direct.write), ("sqlalchemy", None)):
        path = tmp_path / f"{name}.db"
        engine = _engine(path)
        _person(engine)
        with engine.begin() as c:
            if run is None:
                c.execute(statement, params)
            else:
                run(c, statement, params)
        engine.dispose()
        stored.append(_rows(path, table))
    assert stored[0] == stored[1]
    assert stored[0]  # something was written


def test_events_with_dates_json_and_nulls_are_stored_as_sqlalchemy_stores_them(
    tmp_path: Path,
) -> None:
    rows = [
        {"type": "inquiry.captured", "at": AT, "person_id": 1, "inquiry_id": None, "data": {}},
        {"type": "lead.rated", "at": AT, "person_id": 1, "inquiry_id": 7, "data": {"g": "A"}},
        {"type": "x", "at": AT, "person_id": None, "inquiry_id": None, "data": None},
    ]
    _both(tmp_path, _INSERT_EVENT, rows, "events")


def test_queued_deliveries_are_stored_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    row = {
        "webhook_id": 1,
        "event": "lead.routed",
        "body": '{"event": "lead.routed"}',
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": AT,
        "created_at": AT,
    }
    _both(tmp_path, insert(t.deliveries), [row, {**row, "body": "{}"}], "deliveries")


def test_an_update_follows_the_keys_given(tmp_path: Path) -> None:
    params = {"email": "new@b.example", "updated_at": AT, "facts": {"budget": 5}, "target_id": 1}
    _both(tmp_path, _UPDATE_PERSON, params, "people")


def test_an_upsert_that_adds_to_stored_sums(tmp_path: Path) -> None:
    statement = _ADD_COUNTS["sqlite"]
    columns = [c.name for c in t.funnel_counts.columns if c.name not in ("dim", "key", "day")]
    row = {"dim": "source", "key": "web", "day": 20_000, **{n: 1 for n in columns}}
    _both(tmp_path, statement, [row, {**row, "day": 20_001}, row], "funnel_counts")


def test_engines_with_other_json_serializers_each_write_their_own(tmp_path: Path) -> None:
    """Compiled statements are kept per JSON serializer: leadflow's engines write compact
    JSON (``engine.json_text``), SQLAlchemy's default ``json.dumps``; neither takes the
    other's processor, whichever wrote first."""
    row = {"type": "x", "at": AT, "person_id": None, "inquiry_id": None, "data": {"g": "A"}}
    written = []
    for name, engine in (
        ("leadflow", make_engine(f"sqlite:///{tmp_path / 'leadflow.db'}")),
        ("default", _engine(tmp_path / "default.db")),
    ):
        t.metadata.create_all(engine)
        with engine.begin() as c:
            direct.write(c, _INSERT_EVENT, row)
        engine.dispose()
        written.append(_rows(tmp_path / f"{name}.db", "events")[0][-1])
    assert written == ['{"g":"A"}', '{"g": "A"}']


def test_insert_gives_the_new_rows_id(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "ids.db")
    values = {"created_at": AT, "updated_at": AT, "email": "c@d.example", "facts": {}}
    values["inquiry_count"] = 0
    with engine.begin() as c:
        first = direct.insert(c, insert(t.people), values)
        second = direct.insert(c, insert(t.people), {**values, "email": "e@f.example"})
        emails = dict(c.execute(select(t.people.c.id, t.people.c.email)).all())
    assert second == first + 1
    assert emails == {first: "c@d.example", second: "e@f.example"}


def test_a_left_out_column_with_a_python_default_takes_sqlalchemys_path(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "defaults.db")
    statement = insert(t.people)
    with engine.begin() as c:
        person = direct.insert(c, statement, {"created_at": AT, "updated_at": AT})
        facts, count = c.execute(
            select(t.people.c.facts, t.people.c.inquiry_count).where(t.people.c.id == person)
        ).one()
    assert (facts, count) == ({}, 0)  # the columns' defaults: dict and 0
    assert direct._PREPARED[(id(statement), ("created_at", "updated_at"), (None, None))] is None


def test_a_watched_engine_sees_every_statement(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "watched.db")
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(str(a[2])))
    with engine.begin() as c:
        direct.write(c, _UPDATE_PERSON, {"email": "x@y.example", "target_id": 1})
    assert seen == ["UPDATE people SET email=? WHERE people.id = ?"]


def test_nothing_runs_for_no_rows(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "empty.db")
    with engine.begin() as c:
        assert direct.write(c, _INSERT_EVENT, []) is None


def test_a_rolled_back_write_is_gone(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "rollback.db")
    row = {"type": "x", "at": AT, "person_id": None, "inquiry_id": None, "data": {}}
    with engine.connect() as c:
        direct.write(c, _INSERT_EVENT, [row])
        c.rollback()
    assert _rows(tmp_path / "rollback.db", "events") == []


def test_a_write_first_in_its_transaction_is_committed_with_it(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "first.db")
    row = {"type": "x", "at": AT, "person_id": None, "inquiry_id": None, "data": {}}
    with engine.connect() as c:
        direct.write(c, _INSERT_EVENT, [row])
        c.commit()
    assert len(_rows(tmp_path / "first.db", "events")) == 1


# ------------------------------------------------------------------ reads


def _read_both(engine: Engine, statement: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows through direct.read and through Connection.execute: equal, field by field
    and by name."""
    with engine.connect() as c:
        mine = direct.read(c, statement, params)
        theirs = c.execute(statement, params).all()
    assert [tuple(r) for r in mine] == [tuple(r) for r in theirs]
    assert [r._asdict() for r in mine] == [dict(r._mapping) for r in theirs]
    return [tuple(r) for r in mine]


def test_a_read_gives_sqlalchemys_rows_with_dates_and_json(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "read.db")
    person = _person(engine)
    with engine.begin() as c:
        c.execute(update(t.people).values(facts={"budget": "approved", "n": [1, 2]}))
    assert len(_read_both(engine, _PERSON, {"person_id": person})) == 1
    with engine.connect() as c:
        (found,) = direct.read(c, _PERSON, {"person_id": person})
    assert found.created_at == AT.replace(tzinfo=None)  # SQLite keeps no zone, as SQLAlchemy
    assert found.facts == {"budget": "approved", "n": [1, 2]}
    assert _read_both(engine, _PERSON, {"person_id": person + 1}) == []


def test_in_lists_of_every_length_and_of_pairs(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "lists.db")
    people = [_person(engine) for _ in range(3)]
    with engine.begin() as c:
        keys = [{"kind": "email", "value": f"p{p}@x.example", "person_id": p} for p in people]
        c.execute(insert(t.person_keys), keys)
        blocks = [{"block": f"b{p % 2}", "person_id": p} for p in people]
        c.execute(insert(t.person_blocks), blocks)
    pairs = [("email", f"p{p}@x.example") for p in people]
    for n in (0, 1, 2, 3, 1):  # each length compiled once, then found again
        assert len(_read_both(engine, _KEY_OWNERS, {"keys": pairs[:n]})) == n
    assert len(_read_both(engine, _KEY_OWNERS, {"keys": [("phone", "p1@x.example")]})) == 0
    assert len(_read_both(engine, _MEMBERS_OF_BLOCKS, {"blocks": ["b0", "b1"]})) == 3
    assert len(_read_both(engine, _MEMBERS_OF_BLOCKS, {"blocks": ["b1"]})) == 2


def test_a_limit_the_statement_carries_is_kept(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "limit.db")
    with engine.begin() as c:
        for domain in ("a.example", "b.example"):
            values = {"name": "Acme", "name_key": "acme", "domain": domain, "created_at": AT}
            c.execute(insert(t.accounts), values)
    assert len(_read_both(engine, _ACCOUNT_BY_NAME_KEY, {"name_key": "acme"})) == 1


def test_a_watched_engine_sees_every_read(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "watched.db")
    person = _person(engine)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with engine.connect() as c:
        (row,) = direct.read(c, _PERSON, {"person_id": person})
    assert row.id == person and any("FROM people" in sql for sql in seen)


def test_leadflows_own_engine_takes_the_direct_path(tmp_path: Path) -> None:
    """``make_engine`` listens to SQLite's savepoints (to begin the transaction first),
    not to statements: that left every statement on SQLAlchemy's path for a day."""
    engine = make_engine(f"sqlite:///{tmp_path / 'own.db'}")
    with engine.connect() as c:
        assert direct._bypassed(c)
    event.listen(engine, "after_cursor_execute", lambda *a: None)
    with engine.connect() as c:
        assert not direct._bypassed(c)  # someone watches the statements now


def test_a_refused_write_or_read_is_sqlalchemys_error_on_either_path(tmp_path: Path) -> None:
    """Callers catch SQLAlchemy's IntegrityError or OperationalError (a capture
    quarantines a refused value): the direct path raises the same, with the driver's
    error as its ``orig``."""
    engine = _engine(tmp_path / "refused.db")
    person = _person(engine)
    values = {"id": person, "created_at": AT, "updated_at": AT, "facts": {}, "inquiry_count": 0}
    for run in (direct.write, None):
        with engine.begin() as c, pytest.raises(IntegrityError) as refused:
            if run is None:
                c.execute(insert(t.people), values)
            else:
                run(c, insert(t.people), values)
        assert isinstance(refused.value.orig, sqlite3.IntegrityError)
        assert "UNIQUE constraint failed: people.id" in str(refused.value)
    with engine.begin() as c:
        c.exec_driver_sql("DROP TABLE person_keys")
        with pytest.raises(OperationalError, match="no such table: person_keys"):
            direct.read(c, _KEY_OWNERS, {"keys": [("email", "a@b.example")]})
