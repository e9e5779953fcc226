"""The capture's writes on SQLite, straight on the driver's cursor.

SQLAlchemy spends about 15-20 µs of Python on each execution of a statement it has
already compiled (the execution context, the parameters, the result), and a capture
runs about 17 of them, several with many rows (events, the report's sums): together
about a third of a capture's CPU, more than SQLite's own work. :func:`write` runs a
module-level Core statement the way SQLAlchemy would, without that machinery: it
compiles the statement once per set of parameter names, keeps its SQL, the order of
its parameters and their bind processors (dates and JSON become text exactly as
SQLAlchemy stores them), and executes on the DBAPI cursor of the same connection, in
the same transaction, and returns the cursor (``lastrowid``, ``rowcount``).
:func:`read` does the same for a capture's SELECTs and returns the rows as named tuples,
each column through SQLAlchemy's result processor (dates, JSON), so a caller reads
``row.name`` or unpacks it as it would a SQLAlchemy row; an ``IN`` list (an expanding
parameter) is expanded by SQLAlchemy once per length of the list and kept.

It takes the ordinary path (``Connection.execute``) whenever that would do something
more: another database than SQLite; a statement needing Python-side column defaults
(a key the caller left out) or parameters rendered at execution (``IN`` lists);
parameter names that are not the caller's keys; and a connection or engine with
event listeners, so that whatever watches the statements (a test counting them) sees
every one.
"""

from __future__ import annotations

import keyword
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, TextClause
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.dml import UpdateBase

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]
Readable = Select[Any] | CompoundSelect[Any]
"""A SELECT :func:`read` runs: one, or several joined (``UNION``)."""


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


_PREPARED: dict[tuple[int, tuple[str, ...], tuple[Any, Any]], _Prepared | None] = {}


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
    cursor = _cursor(connection)
    try:
        if many is None:
            cursor.execute(prepared.sql, prepared.values(first))
        else:
            cursor.executemany(prepared.sql, [prepared.values(p) for p in many])
    except sqlite3.Error as error:
        raise _as_sqlalchemy(error, prepared.sql, params) from error
    return cursor


def _as_sqlalchemy(error: sqlite3.Error, sql: str, params: Any) -> StatementError:
    """The error SQLAlchemy's own execution raises for this driver error (IntegrityError
    for a constraint, OperationalError for a lock...): callers catch those, whichever
    path ran the statement."""
    return DBAPIError.instance(sql, params, error, sqlite3.Error, hide_parameters=True)


_STATEMENT_EVENTS = (
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
)
"""The events of a statement's execution, which a statement run here would not raise.
Others (a transaction's begin, a savepoint: ``engine.make_engine`` listens to those on
SQLite) are still SQLAlchemy's to raise, as the transaction is still its own."""


def _bypassed(connection: Connection) -> bool:
    """Whether statements may skip SQLAlchemy on this connection: SQLite, nobody watching
    its statements."""
    if connection.dialect.name != "sqlite":
        return False
    if not (connection._has_events or connection.engine._has_events):
        return True
    watched = (connection.dispatch, connection.engine.dispatch)
    return not any(getattr(d, name, None) for d in watched for name in _STATEMENT_EVENTS)


def _cursor(connection: Connection) -> Any:
    """A DBAPI cursor of the connection, in its transaction (begun as SQLAlchemy's own
    execute would begin one)."""
    if not connection.in_transaction():
        connection.begin()
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _json_of(connection: Connection) -> tuple[Any, Any]:
    """The engine's JSON serializer and deserializer: compiled processors call them, so
    engines made with others (``engine.make_engine``'s, SQLAlchemy's default) each get
    their own."""
    dialect: Any = connection.dialect
    return dialect._json_serializer, dialect._json_deserializer


def _prepared(
    connection: Connection, statement: UpdateBase, first: Mapping[str, Any]
) -> _Prepared | None:
    if not _bypassed(connection):
        return None
    key = (id(statement), tuple(first), _json_of(connection))
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


@dataclass(frozen=True)
class _Query:
    statement: Readable  # kept so that its id, the cache's key, is not reused
    sql: str
    take: tuple[tuple[str, int | None], ...]  # per position: (parameter, index in its list)
    fixed: Mapping[str, Any]  # values the statement carries itself (a LIMIT)
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, processor)
    row: Callable[..., Any]  # a named tuple of the selected columns
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, processor)

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        flat: dict[str, list[Any]] = {}
        row = []
        for name, index in self.take:
            if index is None:
                row.append(params[name] if name in params else self.fixed[name])
                continue
            items = flat.get(name)
            if items is None:  # an IN list, tuples flattened in order
                items = flat[name] = [
                    part
                    for item in params[name]
                    for part in (item if isinstance(item, tuple) else (item,))
                ]
            row.append(items[index])
        for position, process in self.processors:
            row[position] = process(row[position])
        return tuple(row)

    def rows(self, found: list[tuple[Any, ...]]) -> list[Any]:
        make = self.row
        if not self.results:
            return [make(*r) for r in found]
        done = []
        for r in found:
            values = list(r)
            for column, process in self.results:
                values[column] = process(values[column])
            done.append(make(*values))
        return done


_QUERIES: dict[tuple[Any, ...], _Query | None] = {}


def read(connection: Connection, statement: Readable, params: Mapping[str, Any]) -> list[Any]:
    """The rows of a SELECT, as ``connection.execute(statement, params).all()`` would give
    them (named tuples here, SQLAlchemy rows on the ordinary path). For statements built
    once at module level, as :func:`write`'s: each is kept compiled for good."""
    query = _query(connection, statement, params)
    if query is None:
        return list(connection.execute(statement, params).all())
    cursor = _cursor(connection)
    try:
        cursor.execute(query.sql, query.values(params))
        return query.rows(cursor.fetchall())
    except sqlite3.Error as error:
        raise _as_sqlalchemy(error, query.sql, params) from error
    finally:
        cursor.close()


def _query(connection: Connection, statement: Readable, params: Mapping[str, Any]) -> _Query | None:
    if not _bypassed(connection):
        return None
    lists = tuple(
        (name, len(value)) for name, value in params.items() if isinstance(value, list | tuple)
    )
    key = (id(statement), tuple(params), lists, _json_of(connection))
    try:
        return _QUERIES[key]
    except KeyError:
        query = _QUERIES[key] = _compile_query(connection, statement, params)
        return query


def _compile_query(
    connection: Connection, statement: Readable, params: Mapping[str, Any]
) -> _Query | None:
    """The SELECT compiled for parameters of these names (and lists of these lengths), or
    None when only SQLAlchemy can run it."""
    compiled: Any = statement.compile(dialect=connection.dialect, column_keys=list(params))
    if compiled.literal_execute_params or compiled.positiontup is None:
        return None
    fixed = {  # bound values the statement carries (LIMIT 1): not the caller's
        name: bind.value
        for name, bind in compiled.binds.items()
        if name not in params and not bind.required and bind.callable is None
    }
    if compiled.post_compile_params:
        expanded = compiled._process_parameters_for_postcompile(
            compiled.construct_params(dict(params))
        )
        sql, names = expanded.statement, tuple(expanded.positiontup)
        processors = dict(compiled._bind_processors)
        processors.update(expanded.processors)
        origin = {
            part: (name, index)
            for name, parts in expanded.parameter_expansion.items()
            for index, part in enumerate(parts)
        }
    else:
        sql, names = compiled.string, tuple(compiled.positiontup)
        processors, origin = dict(compiled._bind_processors), {}
    take = tuple(origin.get(name, (name, None)) for name in names)
    if any(index is None and name not in params and name not in fixed for name, index in take):
        return None
    columns = compiled._result_columns
    fields = tuple(c.keyname for c in columns)
    if any(not n.isidentifier() or keyword.iskeyword(n) or n.startswith("_") for n in fields):
        return None  # not a named tuple's field: SQLAlchemy's rows take any name
    if len(set(fields)) < len(fields):
        return None
    dialect = connection.dialect
    results = tuple(
        (i, process)
        for i, column in enumerate(columns)
        if (process := column.type._cached_result_processor(dialect, None)) is not None
    )
    row = namedtuple("Row", fields)  # type: ignore[misc]
    return _Query(
        statement,
        sql,
        take,
        fixed,
        tuple((i, processors[n]) for i, n in enumerate(names) if n in processors),
        row,
        results,
    )


def plain(
    connection: Connection, statement: TextClause, params: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    """The rows of a textual query as dicts by column name, each value as the driver gives
    it (SQLite: moments and dates as text). For many rows at once: SQLAlchemy's per-row
    type processing of a typed query costs several times the query itself."""
    result = connection.execute(statement, params)
    names = list(result.keys())
    for values in result:
        yield dict(zip(names, values, strict=True))


IN_PART = 5_000
"""Ids in one ``IN`` list, unless a caller chooses (SQLite takes up to 32,766 parameters)."""


def in_parts(ids: Sequence[int], size: int = IN_PART) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size``: an ``IN`` list each (databases limit how many
    parameters one statement takes)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])
