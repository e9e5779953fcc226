"""The hand-off's queries: lifecycle rows, reps as routing sees them, account owners,
timers. On the caller's connection and transaction, beside :class:`Store`.

Timers are claimed for a worker by :meth:`LeadStore.claim_due`: on PostgreSQL with
``FOR UPDATE SKIP LOCKED``, so two workers never take the same row and neither waits
for the other; on SQLite the claim runs under the database's single write lock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from leadflow.adapters.store import direct
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Record, utc
from leadflow.domain.lifecycle import LIFECYCLE_COLUMNS, Lifecycle

_LIFECYCLE = select(t.lifecycle).where(t.lifecycle.c.person_id == bindparam("person_id"))
_LIFECYCLES = text("SELECT * FROM lifecycle WHERE person_id IN :people").bindparams(
    bindparam("people", expanding=True)
)
# Routing's statements, built once: a routed lead runs them on the capture's path.
_REPS = select(t.reps).order_by(t.reps.c.id)
_OPEN_LEADS = (
    select(t.lifecycle.c.owner_rep_id, func.count())
    .where(t.lifecycle.c.owner_rep_id.in_(bindparam("reps", expanding=True)))
    .where(t.lifecycle.c.stage.in_(bindparam("stages", expanding=True)))
    .group_by(t.lifecycle.c.owner_rep_id)
)
_INSERT_TIMER = insert(t.timers)
_TAKE_TURN = (
    update(t.reps)
    .where(t.reps.c.id == bindparam("rep_id"))
    .values(last_turn=select(func.coalesce(func.max(t.reps.c.last_turn), 0) + 1).scalar_subquery())
)
_ACCOUNT_OF = (
    select(t.people.c.account_id, t.accounts.c.owner_rep_id)
    .select_from(t.people.outerjoin(t.accounts, t.accounts.c.id == t.people.c.account_id))
    .where(t.people.c.id == bindparam("person_id"))
)
_SET_ACCOUNT_OWNER = (
    update(t.accounts)
    .where(t.accounts.c.id == bindparam("account_id"))
    .values(owner_rep_id=bindparam("rep_id"))
)
_ACCOUNTS_OF = (
    select(t.people.c.id, t.people.c.account_id, t.accounts.c.owner_rep_id)
    .select_from(t.people.outerjoin(t.accounts, t.accounts.c.id == t.people.c.account_id))
    .where(t.people.c.id.in_(bindparam("people", expanding=True)))
)
_SET_TURN = (
    update(t.reps).where(t.reps.c.id == bindparam("rep_id")).values(last_turn=bindparam("turn"))
)
_PART = 10_000  # people in one IN list
_TIMES = ("stage_since", "sales_ready_at", "routed_at", "accepted_at", "first_contact_at")
_DUES = ("accept_due", "contact_due")


def _upsert(dialect: Any) -> Any:
    statement = dialect.insert(t.lifecycle)
    return statement.on_conflict_do_update(
        index_elements=[t.lifecycle.c.person_id],
        set_={name: statement.excluded[name] for name in (*LIFECYCLE_COLUMNS, "updated_at")},
    )


_UPSERTS = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


def timer_row(
    kind: str, person_id: int, due_at: datetime, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A pending timer's row."""
    return {
        "kind": kind,
        "person_id": person_id,
        "due_at": due_at,
        "data": dict(data),
        "status": "pending",
    }


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def lifecycle_of(row: Record | None) -> Lifecycle:
    """A stored row as a :class:`Lifecycle` (an empty one for a person not yet staged)."""
    if row is None:
        return Lifecycle()
    return _lifecycle({name: getattr(row, name) for name in LIFECYCLE_COLUMNS})


def _lifecycle(values: dict[str, Any]) -> Lifecycle:
    """A row's values as a :class:`Lifecycle`: moments in UTC; read without column types
    (:meth:`LeadStore.lifecycles`), SQLite gives moments and dates as text."""
    for name in (*_TIMES, *_DUES):
        value = values[name]
        values[name] = utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
    if isinstance(values["recontact_on"], str):
        values["recontact_on"] = date.fromisoformat(values["recontact_on"])
    return Lifecycle(**values)


class LeadStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._upsert = _UPSERTS["postgresql" if self.dialect == "postgresql" else "sqlite"]

    # ------------------------------------------------------------ lifecycle

    def lifecycle(self, person_id: int) -> Lifecycle:
        rows = direct.read(self.connection, _LIFECYCLE, {"person_id": person_id})
        return lifecycle_of(rows[0] if rows else None)

    def lifecycles(self, people: Sequence[int]) -> dict[int, Lifecycle]:
        """The stored lifecycles of ``people`` (those that have one), read as plain values:
        for many people at once, SQLAlchemy's per-row type processing costs several times
        the query itself."""
        found: dict[int, Lifecycle] = {}
        for part in direct.in_parts(people, _PART):
            for row in direct.plain(self.connection, _LIFECYCLES, {"people": part}):
                found[int(row["person_id"])] = _lifecycle(
                    {name: row[name] for name in LIFECYCLE_COLUMNS}
                )
        return found

    def save_lifecycle(self, person_id: int, state: Lifecycle, at: datetime) -> None:
        values = {name: getattr(state, name) for name in LIFECYCLE_COLUMNS}
        row = {"person_id": person_id, **values, "updated_at": at}
        direct.write(self.connection, self._upsert, row)

    def stage_counts(self) -> dict[str, int]:
        query = select(t.lifecycle.c.stage, func.count()).group_by(t.lifecycle.c.stage)
        return {stage: int(n) for stage, n in self.connection.execute(query)}

    # ------------------------------------------------------------ routing

    def reps_for_routing(
        self, open_stages: Collection[str], count_all: bool
    ) -> list[tuple[Record, int]]:
        """Every rep (active or not) with its open leads (leads it owns in an open stage).

        Open leads are counted for the reps with a capacity, or for all with
        ``count_all``; the others show 0 (nothing needs their count).
        """
        reps = list(self.connection.execute(_REPS))
        wanted = [int(r.id) for r in reps if count_all or r.capacity is not None]
        counts: dict[int, int] = {}
        if wanted:
            found = self.connection.execute(
                _OPEN_LEADS, {"reps": wanted, "stages": list(open_stages)}
            )
            counts = {int(rep): int(n) for rep, n in found}
        return [(rep, counts.get(int(rep.id), 0)) for rep in reps]

    def take_turn(self, rep_id: int) -> None:
        """Give the rep the newest turn: round robin goes to the others first."""
        self.connection.execute(_TAKE_TURN, {"rep_id": rep_id})

    def account_of(self, person_id: int) -> tuple[int | None, int | None]:
        """The person's account and the rep who owns it (each None when there is none)."""
        row = self.connection.execute(_ACCOUNT_OF, {"person_id": person_id}).first()
        if row is None:
            return None, None
        account, owner = row
        return (
            int(account) if account is not None else None,
            int(owner) if owner is not None else None,
        )

    def set_account_owner(self, account_id: int, rep_id: int | None) -> None:
        self.connection.execute(_SET_ACCOUNT_OWNER, {"account_id": account_id, "rep_id": rep_id})

    def accounts_of(self, people: Sequence[int]) -> list[tuple[int, int | None, int | None]]:
        """(person, account, the account's owner) of each of ``people`` (:meth:`account_of`
        for many)."""
        found = []
        for part in direct.in_parts(people, _PART):
            for person, account, owner in self.connection.execute(_ACCOUNTS_OF, {"people": part}):
                found.append((int(person), _int(account), _int(owner)))
        return found

    def set_turns(self, turns: Mapping[int, int]) -> None:
        """Set reps' last turns (what :meth:`take_turn` left, for many turns at once)."""
        if turns:
            rows = [{"rep_id": rep, "turn": turn} for rep, turn in turns.items()]
            self.connection.execute(_SET_TURN, rows)

    def set_account_owners(self, owners: Mapping[int, int | None]) -> None:
        if owners:
            rows = [{"account_id": a, "rep_id": rep} for a, rep in owners.items()]
            self.connection.execute(_SET_ACCOUNT_OWNER, rows)

    # ------------------------------------------------------------ timers

    def add_timer(
        self, kind: str, person_id: int, due_at: datetime, data: Mapping[str, Any]
    ) -> int:
        return direct.insert(
            self.connection, _INSERT_TIMER, timer_row(kind, person_id, due_at, data)
        )

    def add_timers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert timers made by :func:`timer_row`, in their order."""
        if rows:
            self.connection.execute(_INSERT_TIMER, list(rows))

    def claim_due(self, now: datetime, limit: int) -> list[Record]:
        """Pending timers due by ``now``, oldest first, locked for this transaction."""
        query = (
            select(t.timers)
            .where(t.timers.c.status == "pending", t.timers.c.due_at <= now)
            .order_by(t.timers.c.due_at, t.timers.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(self.connection.execute(query))

    def finish_timer(
        self, timer_id: int, status: str, result: str, worker: str, at: datetime
    ) -> None:
        self.connection.execute(
            update(t.timers)
            .where(t.timers.c.id == timer_id)
            .values(status=status, result=result, worker=worker, done_at=at)
        )

    def timers_of(self, person_id: int) -> list[Record]:
        query = select(t.timers).where(t.timers.c.person_id == person_id).order_by(t.timers.c.id)
        return list(self.connection.execute(query))

    def next_due(self) -> datetime | None:
        query = select(func.min(t.timers.c.due_at)).where(t.timers.c.status == "pending")
        return utc(self.connection.execute(query).scalar())
