"""The velocity report's durations, read at the ranks a median and a p90 need.

A median or a p90 is the value at one or two known ranks of a group's sorted durations:
nothing else of the list is needed. For all leads and per source
(``tables.VELOCITY_ORDERED``) an index keeps each measure's positive durations in order
(``ix_funnel_times_[source_]<measure>``), so :class:`IndexedDurations` counts them along
the index and reads the value at rank k with ``ORDER BY <measure> LIMIT 1 OFFSET k``,
from whichever end is nearer. SQLite steps over k index entries for it (tens of
nanoseconds each): with 1,000,000 leads every measure takes milliseconds, where reading
150,000 rows into Python and sorting them took half a second. Other groups have their
values joined per group by the database and sorted by NumPy
(:class:`GroupedDurations`). Both answer the same two questions, so the report computes
its statistics once, from either.

Keys are those of ``funnel_counts`` (``funnel_counts.key_of``): "all", or the group's
value as text, "" for none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Connection, String, Text, cast, func, literal, select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.report_store import Period

v = t.funnel_times.c


class Durations(Protocol):
    """A period's positive durations per measure and group, as the velocity report asks."""

    def counts(self, measure: str) -> dict[str, int]:
        """Key -> how many positive durations of ``measure`` the group has."""
        ...

    def at(self, measure: str, key: str, ranks: Sequence[int]) -> list[int]:
        """The group's values at these ranks (from 0, ascending) of its sorted durations."""
        ...


def durations(connection: Connection, period: Period, column: str | None) -> Durations:
    """Read through the ordered indexes when the group has them, else group the rows: only
    the columns of the measures that have a duration in the period (counted along the
    indexes, in milliseconds)."""
    if column in t.VELOCITY_ORDERED:
        return IndexedDurations(connection, period, column)
    every = IndexedDurations(connection, period, None)
    known = [measure for measure in t.VELOCITY_COLUMNS if every.counts(measure)]
    return GroupedDurations(connection, period, column, known)


def runs(ranks: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending ranks as (first, how many) runs of consecutive ones: a median of an even
    count is two neighbours, read in one query."""
    found: list[tuple[int, int]] = []
    for rank in sorted(set(ranks)):
        if found and found[-1][0] + found[-1][1] == rank:
            found[-1] = (found[-1][0], found[-1][1] + 1)
        else:
            found.append((rank, 1))
    return found


class IndexedDurations:
    """Durations read at their ranks along the ordered indexes (``column`` None: all
    leads, or one of ``tables.VELOCITY_ORDERED``)."""

    def __init__(self, connection: Connection, period: Period, column: str | None) -> None:
        self.connection = connection
        self.period = period
        self.column = column
        self.stored: dict[tuple[str, str], tuple[list[Any], int]] = {}
        """(measure, key) -> the stored group values it stands for, and its count."""

    def _where(self, measure: str, stored: Iterable[Any] | None = None) -> list[Any]:
        """The rows with this measure known in the period (``IS NOT NULL``, as the partial
        indexes say), of the groups stored as these values."""
        where = [v[measure].is_not(None), *self.period.on(v.first_at)]
        if self.column is not None and stored is not None:
            values = list(stored)
            if len(values) == 1:
                one = values[0]
                where.append(v[self.column].is_(None) if one is None else v[self.column] == one)
            else:  # "" and none both stand for (none): rare, and read in full below
                known = [x for x in values if x is not None]
                where.append(v[self.column].in_(known) | v[self.column].is_(None))
        return where

    def counts(self, measure: str) -> dict[str, int]:
        if self.column is None:
            query = select(func.count()).where(*self._where(measure))
            total = int(self.connection.execute(query).scalar_one())
            self.stored[(measure, "all")] = ([None], total)
            return {"all": total} if total else {}
        column = v[self.column]
        grouped = select(column, func.count()).where(*self._where(measure)).group_by(column)
        found: dict[str, tuple[list[Any], int]] = {}
        for value, n in self.connection.execute(grouped):
            key = "" if value is None else str(value)
            values, before = found.get(key, ([], 0))
            found[key] = ([*values, value], before + int(n))
        self.stored.update(((measure, key), stored) for key, stored in found.items())
        return {key: n for key, (_, n) in found.items()}

    def at(self, measure: str, key: str, ranks: Sequence[int]) -> list[int]:
        stored, count = self.stored[(measure, key)]
        if len(stored) > 1:  # one group stored two ways: merge them by reading it
            query = select(v[measure]).where(*self._where(measure, stored))
            ordered = sorted(int(x) for (x,) in self.connection.execute(query))
            return [ordered[r] for r in ranks]
        found: dict[int, int] = {}
        for first, length in runs(ranks):
            for offset, value in enumerate(self._run(measure, stored, count, first, length)):
                found[first + offset] = value
        return [found[r] for r in ranks]

    def _run(
        self, measure: str, stored: list[Any], count: int, first: int, length: int
    ) -> list[int]:
        """The values at ranks first .. first + length - 1, walking from the nearer end."""
        value = v[measure]
        query = select(value).where(*self._where(measure, stored)).limit(length)
        after = count - first - length  # values above the run
        if first <= after:
            got = self.connection.execute(query.order_by(value).offset(first))
            return [int(x) for (x,) in got]
        got = self.connection.execute(query.order_by(value.desc()).offset(after))
        return [int(x) for (x,) in got][::-1]


class GroupedDurations:
    """Durations of groups without an ordered index (campaign, form, rep, grade, month).

    One statement groups the period's rows and joins each measure's values of a group
    into one comma-separated text (``group_concat`` on SQLite, ``string_agg`` on
    PostgreSQL, both skipping the unknown ones): a few hundred values come back instead
    of 150,000 rows of Python numbers, and NumPy reads and sorts each text in C. With
    1,000,000 leads that is about 200 ms, where the rows took 550.
    """

    def __init__(
        self, connection: Connection, period: Period, column: str, measures: Sequence[str]
    ) -> None:
        self.sorted: dict[str, dict[str, np.ndarray]] = {measure: {} for measure in measures}
        if not measures:
            return
        key = cast(v[column], String)
        joined = [_joined(connection, v[measure]) for measure in measures]
        query = select(key, *joined).where(*period.on(v.first_at)).group_by(key)
        parts: dict[str, dict[str, list[np.ndarray]]] = {measure: {} for measure in measures}
        for value, *texts in connection.execute(query):
            group = "" if value is None else str(value)  # "" and none are both (none)
            for measure, text in zip(measures, texts, strict=True):
                if text:
                    numbers = np.fromstring(text, dtype=np.int64, sep=",")
                    parts[measure].setdefault(group, []).append(numbers)
        for measure, groups in parts.items():
            for group, arrays in groups.items():
                values = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
                values.sort()
                self.sorted[measure][group] = values

    def counts(self, measure: str) -> dict[str, int]:
        return {key: len(values) for key, values in self.sorted.get(measure, {}).items()}

    def at(self, measure: str, key: str, ranks: Sequence[int]) -> list[int]:
        values = self.sorted[measure][key]
        return [int(values[r]) for r in ranks]


def _joined(connection: Connection, column: Any) -> Any:
    """The group's known values of the column as one text, comma-separated."""
    if connection.dialect.name == "postgresql":
        return func.string_agg(cast(column, Text), literal(","))
    return func.group_concat(column)
