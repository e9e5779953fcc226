"""The ``funnel`` and ``handbacks`` rows: kept current with the events that change them.

:meth:`FunnelStore.fold` is called with every batch of events the moment they are
logged, in the same transaction (``Store.append_events`` for one lead at a time, the
bulk import for a chunk): it reads the stored rows of the people concerned, folds the
events in with :func:`leadflow.domain.funnel.apply`, and writes the rows back. So a row
is always the fold of its person's events, and :meth:`rebuild` can make every row
again from the log alone (a database from before the reports, or a check).

**Folded behind** (SQLite only): ``leadflow serve`` logs its captures' events without
folding them (:meth:`FunnelStore.defer`) and folds them a moment later, many at a time
(``routes_inquiries.Together``, ``services.folder``): that costs less than folding each
capture's alone (the same sums rows are read and written once a fold, not once a
capture), and none of it is in a request's time. ``fold_backlog`` then
holds one row: every event after its ``after`` id is not folded yet. Whoever folds or
reads the rows first folds that backlog, in log order, in its own write transaction
(:meth:`FunnelStore.catch_up`): a writer before it logs its own events, a report before
it reads (``services.reports``). So the rows a reader sees are the fold of the whole
log, as before, and no event is folded twice or out of order. On SQLite this holds
because one writer at a time logs and event ids grow in commit order; PostgreSQL's do
not, so there nothing is folded behind and the backlog stays empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from leadflow.adapters.store import direct
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_counts import MEASURES, contributions, times
from leadflow.domain.funnel import COLUMN_OF, KINDS, Funnel, apply
from leadflow.domain.moments import as_utc

_SCALARS = tuple(f.name for f in fields(Funnel) if f.name not in ("reached", "seconds"))
_TIMES = frozenset(
    {
        "first_at",
        "stage_since",
        "ready_at",
        "routed_at",
        "last_routed_at",
        "accepted_at",
        "last_accepted_at",
        "contacted_at",
        "opportunity_at",
        "outcome_at",
    }
)
BATCH = 5_000
"""People per ``IN (...)`` list when reading the stored rows."""
SOME = 64
"""Sums of at most this many rows are added measure by measure (``add_counts``)."""


def _upsert(dialect: Any) -> Any:
    statement = dialect.insert(t.funnel)
    columns = [c.name for c in t.funnel.columns if c.name != "person_id"]
    return statement.on_conflict_do_update(
        index_elements=[t.funnel.c.person_id],
        set_={name: statement.excluded[name] for name in columns},
    )


_UPSERTS = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


def _upsert_times(dialect: Any) -> Any:
    statement = dialect.insert(t.funnel_times)
    columns = [c.name for c in t.funnel_times.columns if c.name != "person_id"]
    return statement.on_conflict_do_update(
        index_elements=[t.funnel_times.c.person_id],
        set_={name: statement.excluded[name] for name in columns},
    )


_UPSERT_TIMES = {"sqlite": _upsert_times(sqlite), "postgresql": _upsert_times(postgresql)}


def _adding(dialect: Any, table: Any, keys: Sequence[str]) -> Any:
    statement = dialect.insert(table)
    columns = [c.name for c in table.columns if c.name not in keys]
    return statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={name: table.c[name] + statement.excluded[name] for name in columns},
    )


_COUNT_KEYS = ("dim", "key", "day")
_ADD_COUNTS = {
    name: _adding(d, t.funnel_counts, _COUNT_KEYS)
    for name, d in (("sqlite", sqlite), ("postgresql", postgresql))
}
_SOME_COUNTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _adding_some(dialect: str, names: tuple[str, ...]) -> Any:
    """The upsert that adds only these measures (the others: 0 in a new row, untouched in
    a stored one), built once per set of names: a capture adds to 5 or so of the 50
    columns of each of its 7 rows, and binding and adding the zeros cost more than that."""
    key = (dialect, names)
    found = _SOME_COUNTS.get(key)
    if found is None:
        table = t.funnel_counts
        adding = (sqlite if dialect == "sqlite" else postgresql).insert(table)
        zeros: dict[str, Any] = {m: literal_column("0") for m in MEASURES if m not in names}
        found = _SOME_COUNTS[key] = adding.values(zeros).on_conflict_do_update(
            index_elements=[table.c[k] for k in _COUNT_KEYS],
            set_={m: table.c[m] + adding.excluded[m] for m in names},
        )
    return found


_ADD_GAPS = {
    name: _adding(d, t.gap_counts, ("dim", "key", "day", "field"))
    for name, d in (("sqlite", sqlite), ("postgresql", postgresql))
}

_ROW = select(t.funnel).where(t.funnel.c.person_id == bindparam("person_id"))
_ROWS = text("SELECT * FROM funnel WHERE person_id IN :people").bindparams(
    bindparam("people", expanding=True)
)

# The backlog: marked by the first capture that leaves its events unfolded (the events
# logged before it are all folded), taken (deleted and read, under the write lock) by
# whoever folds it.
_LAST_ID = func.coalesce(func.max(t.events.c.id), literal_column("0"))
_MARK = (
    sqlite.insert(t.fold_backlog)
    .values(
        id=literal_column("1"),  # no parameter: run by ``direct`` on the driver's cursor
        after=select(_LAST_ID).scalar_subquery(),
    )
    .on_conflict_do_nothing()
)
_MARK_AFTER = insert(t.fold_backlog).values(id=literal_column("1"))
_TAKE = delete(t.fold_backlog).returning(t.fold_backlog.c.after)
_LAST_EVENT = select(_LAST_ID)
_PENDING = select(t.fold_backlog.c.after)
_LATER = (
    select(t.events.c.person_id, t.events.c.type, t.events.c.at, t.events.c.data)
    .where(
        t.events.c.id > bindparam("after"),
        t.events.c.id <= bindparam("last"),
        t.events.c.person_id.is_not(None),
        t.events.c.type.in_(sorted(KINDS)),
    )
    .order_by(t.events.c.id)
)

Logged = tuple[int, str, datetime, Mapping[str, Any]]
"""One event as folded: person, kind, moment, data."""
_Changes = tuple[
    list[dict[str, Any]],
    dict[int, dict[str, Any]],
    list[dict[str, Any]],
    tuple[dict[tuple[str, str, int], dict[str, float]], dict[tuple[str, str, int, str], list[int]]],
]
"""What a fold writes: the new rows, the stored ones they replace, hand-backs, sums."""


def epoch(moment: datetime | None) -> int | None:
    """A moment as whole Unix seconds (naive moments are UTC, as SQLite returns them)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def moment(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def to_row(person_id: int, state: Funnel) -> dict[str, Any]:
    row: dict[str, Any] = {"person_id": person_id}
    for name in _SCALARS:
        value = getattr(state, name)
        row[name] = epoch(value) if name in _TIMES else value
    row["month"] = state.first_at.strftime("%Y-%m") if state.first_at is not None else None
    for kind, column in COLUMN_OF.items():
        row[f"reached_{column}"] = epoch(state.reached.get(kind))
        spent = state.seconds.get(kind)
        row[f"seconds_{column}"] = round(spent) if spent is not None else None
    return row


def of_row(row: Any) -> Funnel:
    """A stored row (a mapping by column name) as a :class:`Funnel`."""
    values: dict[str, Any] = {}
    for name in _SCALARS:
        value = row[name]
        values[name] = moment(value) if name in _TIMES else value
    reached: dict[str, datetime] = {}
    seconds: dict[str, float] = {}
    for kind, column in COLUMN_OF.items():
        if row[f"reached_{column}"] is not None:
            reached[kind] = datetime.fromtimestamp(row[f"reached_{column}"], UTC)
        if row[f"seconds_{column}"] is not None:
            seconds[kind] = float(row[f"seconds_{column}"])
    return Funnel(**values, reached=reached, seconds=seconds)


class FunnelStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def rows(self, people: Sequence[int]) -> dict[int, Funnel]:
        found: dict[int, Funnel] = {}
        if len(people) == 1:  # a capture's: one statement compiled once, no IN list
            rows = direct.read(self.connection, _ROW, {"person_id": people[0]})
            return {people[0]: of_row(rows[0]._asdict())} if rows else found
        # Read as plain values: SQLAlchemy's per-row type processing of the wide rows
        # costs several times the query (the columns are numbers and texts either way).
        for part in direct.in_parts(people, BATCH):
            for row in direct.plain(self.connection, _ROWS, {"people": part}):
                found[int(row["person_id"])] = of_row(row)
        return found

    def defer(self) -> None:
        """Leave the events this transaction logs next unfolded (SQLite): marks the
        backlog, if it is not marked already. Call it before logging them."""
        direct.write(self.connection, _MARK, {}).fetchall()

    def pending(self) -> bool:
        """Whether events wait to be folded (read without the write lock: a hint)."""
        if self.connection.dialect.name != "sqlite":
            return False
        return bool(direct.read(self.connection, _PENDING, {}))

    def take_backlog(self) -> int | None:
        """Take the backlog (SQLite; its statement writes, so it runs under the write lock):
        the id after which no event is folded, or None when all are; the caller folds
        them in this transaction."""
        taken = direct.write(self.connection, _TAKE, {}).fetchall()
        return int(taken[0][0]) if taken else None

    def catch_up(self) -> int:
        """Fold the events left unfolded (see the module), in log order, before this
        transaction logs or reads its own; the number of events folded. On SQLite its
        first statement writes, so it runs under the write lock; on PostgreSQL nothing is
        ever left unfolded and it does nothing."""
        if self.connection.dialect.name != "sqlite":
            return 0
        after = self.take_backlog()
        if after is None:
            return 0
        folded = 0
        batch: list[Logged] = []
        for event in self._logged_after(after, self._last_event()):
            batch.append(event)
            if len(batch) >= BATCH:
                self.fold(batch)
                folded, batch = folded + len(batch), []
        self.fold(batch)
        return folded + len(batch)

    def _last_event(self) -> int:
        return int(direct.read(self.connection, _LAST_EVENT, {})[0][0])

    def _logged_after(self, after: int, last: int) -> Iterator[Logged]:
        """The events after ``after`` up to ``last`` that a fold takes, in log order."""
        for person_id, kind, at, data in self.connection.execute(
            _LATER, {"after": after, "last": last}
        ):
            yield int(person_id), kind, as_utc(at), _data(data)

    def fold(self, events: Iterable[Logged]) -> None:
        """Fold logged events into their people's rows (events of other kinds are skipped)."""
        self._store(self._changes(events))

    def _changes(self, events: Iterable[Logged]) -> _Changes | None:
        """What folding these events writes: computed from the stored rows, not written."""
        folded = self.folded(events)
        if folded is None:
            return None
        before, states, backs = folded
        old = {p: to_row(p, state) for p, state in before.items()}
        after = {p: to_row(p, state) for p, state in states.items()}
        sums = contributions((old.get(p), row) for p, row in after.items())
        return list(after.values()), old, backs, sums

    def _store(self, changes: _Changes | None) -> None:
        if changes is None:
            return
        rows, old, backs, (counts, gaps) = changes
        self.write(rows, old)
        if backs:
            self.connection.execute(insert(t.handbacks), backs)
        self.add_counts(counts, gaps)

    def catch_up_aside(self) -> int | None:
        """:meth:`catch_up` with the folding done before the write lock is taken (the
        folder process: a capture then waits only for the writing). The backlog, its
        events and their people's rows are read without the lock and the new rows made;
        then, under the lock, the backlog is taken and the rows written only if it is the
        one read: every writer or reader that folds takes the backlog first, so if it is
        unchanged nobody folded meanwhile and the rows read are still the stored ones
        (an ``after`` taken by someone is never marked again: new events come after it).
        Events logged after those read stay in the backlog. The number of events folded,
        or None when someone else folded meanwhile (nothing written: try again)."""
        if self.connection.dialect.name != "sqlite":
            return 0
        found = direct.read(self.connection, _PENDING, {})
        if not found:
            return 0
        after, last = int(found[0][0]), self._last_event()
        logged = list(self._logged_after(after, last))
        changes = self._changes(logged)
        if self.take_backlog() != after:
            return None
        if self._last_event() > last:
            direct.write(self.connection, _MARK_AFTER, {"after": last}).fetchall()
        self._store(changes)
        return len(logged)

    def folded(
        self, events: Iterable[Logged]
    ) -> tuple[dict[int, Funnel], dict[int, Funnel], list[dict[str, Any]]] | None:
        """The stored rows these events change, the rows after them, and the hand-back
        rows to add; None when no event changes a row."""
        relevant = [e for e in events if e[1] in KINDS]
        if not relevant:
            return None
        people = list(dict.fromkeys(e[0] for e in relevant))
        before = self.rows(people)
        states = dict(before)
        backs: list[dict[str, Any]] = []
        for person_id, kind, at, data in relevant:
            states[person_id] = apply(states.get(person_id, Funnel()), kind, at, data)
            if kind in ("lead.rejected", "lead.recycled"):
                backs.append(
                    {
                        "person_id": person_id,
                        "at": epoch(at),
                        "kind": kind.removeprefix("lead."),
                        "reason": data.get("reason"),
                        "rep_id": data.get("rep_id"),
                    }
                )
        return before, {p: states[p] for p in people}, backs

    def write(
        self, rows: Sequence[dict[str, Any]], stored: Mapping[int, dict[str, Any]] | None = None
    ) -> None:
        """Store these rows (made with :func:`to_row`), inserted or replacing the stored
        ones, and the velocity report's rows of those with a positive duration
        (``funnel_times``). ``stored``: the rows as they are stored now, by person, so that
        what did not change is not written again (a ``funnel_times`` row's index entries
        cost about 70 µs to rewrite)."""
        dialect = "postgresql" if self.connection.dialect.name == "postgresql" else "sqlite"
        before = stored or {}
        changed = [r for r in rows if before.get(r["person_id"]) != r]
        if changed:
            direct.write(self.connection, _UPSERTS[dialect], changed)
        # a lead with a positive duration keeps one: its times row is only ever replaced
        timed = []
        for row in changed:
            now, then = times(row), before.get(row["person_id"])
            if now is not None and (then is None or times(then) != now):
                timed.append(now)
        if timed:
            direct.write(self.connection, _UPSERT_TIMES[dialect], timed)

    def add_counts(
        self,
        counts: Mapping[tuple[str, str, int], Mapping[str, float]],
        gaps: Mapping[tuple[str, str, int, str], Sequence[int]],
    ) -> None:
        """Add these sums to ``funnel_counts`` and ``gap_counts`` (rows made as needed)."""
        dialect = "postgresql" if self.connection.dialect.name == "postgresql" else "sqlite"
        added = [(key, values) for key, values in counts.items() if any(values.values())]
        if added:
            if len(added) <= SOME:  # a capture's: only the measures some row adds to
                used = {m for _, values in added for m, n in values.items() if n}
                names = tuple(m for m in MEASURES if m in used)
                statement = _adding_some(dialect, names)
            else:  # a fold of many people: every measure, one statement
                names, statement = MEASURES, _ADD_COUNTS[dialect]
            rows = [
                {"dim": d, "key": k, "day": day, **{m: values.get(m, 0) for m in names}}
                for (d, k, day), values in added
            ]
            direct.write(self.connection, statement, rows)
        gap_rows = [
            {"dim": d, "key": k, "day": day, "field": name, "unanswered": u, "missing": m}
            for (d, k, day, name), (u, m) in gaps.items()
            if u or m
        ]
        if gap_rows:
            direct.write(self.connection, _ADD_GAPS[dialect], gap_rows)

    def rebuild(self) -> int:
        """Every row again from the event log, in log order; the number of people."""
        for table in (
            t.fold_backlog,  # the whole log is folded below
            t.gap_counts,
            t.funnel_counts,
            t.funnel_times,
            t.handbacks,
            t.funnel,
        ):
            self.connection.execute(delete(table))
        query = (
            select(t.events.c.person_id, t.events.c.type, t.events.c.at, t.events.c.data)
            .where(t.events.c.person_id.is_not(None), t.events.c.type.in_(sorted(KINDS)))
            .order_by(t.events.c.person_id, t.events.c.id)
        )
        count = 0
        batch: list[Logged] = []
        last = None
        for person_id, kind, at, data in self.connection.execute(query):
            if person_id != last and len(batch) >= BATCH:
                count += len({e[0] for e in batch})
                self.fold(batch)
                batch = []
            last = person_id
            batch.append((int(person_id), kind, as_utc(at), _data(data)))
        count += len({e[0] for e in batch})
        self.fold(batch)
        return count


def _data(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        loaded: Mapping[str, Any] = json.loads(value)
        return loaded
    return value or {}
