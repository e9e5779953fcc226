"""The capture's writes on SQLite, straight on the driver's cursor.

SQLAlchemy spends about 15-20 µs of Python on each execution of a statement it has
already compiled (the execution context, the parameters, the result), and a capture
runs about 17 of them, several with many rows (events, the report's sums): together
about a third of a capture's CPU, more than SQLite's own work. :func:`write` runs a
module-level Core statement the way SQLAlchemy would, without that machinery: it
compiles the statement once per set of parameter names, keeps its SQL, the order of
its parameters and their bind processors (dates and JSON become text exactly as
SQLAlchemy stores them), and executes on the DBAPI cursor of the same connection, in
the same transaction. Only writes: it returns the cursor (``lastrowid``,
``rowcount``), never rows.

It takes the ordinary path (``Connection.execute``) whenever that would do something
more: another database than SQLite; a statement needing Python-side column defaults
(a key the caller left out) or parameters rendered at execution (``IN`` lists);
parameter names that are not the caller's keys; and a connection or engine with
event listeners, so that whatever watches the statements (a test counting them) sees
every one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.dml import UpdateBase

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class _Prepared:
    statement: UpdateBase  # kept so that its id, the cache's key, is not reused
    sql: str
    names: tuple[str, ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, processor)

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        row = [params[name] for name in self.names]
        for position, process in self.processors:  # None too: JSON's None is 'null'
            row[position] = process(row[position])
        return tuple(row)


_PREPARED: dict[tuple[int, tuple[str, ...]], _Prepared | None] = {}


def write(connection: Connection, statement: UpdateBase, params: Params) -> Any:
    """Execute ``statement`` with one set of parameters or many (all with the keys of
    the first), as ``connection.execute`` would; the DBAPI cursor, or on the ordinary
    path the result. Nothing is run for an empty list."""
    if isinstance(params, Mapping):
        first, many = params, None
    elif params:
        first, many = params[0], params
    else:
        return None
    prepared = _prepared(connection, statement, first)
    if prepared is None:
        return connection.execute(statement, params)
    if not connection.in_transaction():  # as SQLAlchemy's own execute would begin one
        connection.begin()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    if many is None:
        cursor.execute(prepared.sql, prepared.values(first))
    else:
        cursor.executemany(prepared.sql, [prepared.values(p) for p in many])
    return cursor


def _prepared(
    connection: Connection, statement: UpdateBase, first: Mapping[str, Any]
) -> _Prepared | None:
    if connection.dialect.name != "sqlite":
        return None
    if connection._has_events or connection.engine._has_events:
        return None
    key = (id(statement), tuple(first))
    try:
        return _PREPARED[key]
    except KeyError:
        prepared = _PREPARED[key] = _compile(connection, statement, tuple(first))
        return prepared


def _compile(
    connection: Connection, statement: UpdateBase, keys: tuple[str, ...]
) -> _Prepared | None:
    """The statement compiled for these keys, or None when only SQLAlchemy can run it."""
    compiled: Any = statement.compile(dialect=connection.dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.post_compile_params
        or compiled.literal_execute_params
        or not set(names) <= set(keys)
    ):
        return None
    processors = compiled._bind_processors
    return _Prepared(
        statement,
        compiled.string,
        names,
        tuple((i, processors[n]) for i, n in enumerate(names) if n in processors),
    )


def insert(connection: Connection, statement: UpdateBase, params: Mapping[str, Any]) -> int:
    """Execute an INSERT of one row through :func:`write`; the new row's id."""
    done = write(connection, statement, params)
    if hasattr(done, "inserted_primary_key"):
        return int(done.inserted_primary_key[0])
    return int(done.lastrowid)
