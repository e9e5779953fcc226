"""The SQL of the outboxes: webhooks and their deliveries, and emails.

::

    outbox = Outbox(uow.store.connection)
    rows = outbox.claim("emails", now, until=now + lease, limit=20)   # then commit
    ...send each...
    outbox.finish("emails", row.id, until, {"status": "sent", "sent_at": now})

It sits beside the store (the one other module that knows SQL) so the notification
tables stay out of the store's way. Both outboxes work the same way: a row is
``pending`` until due (``next_attempt_at``); a sender **claims** due rows in a short
transaction of its own, setting ``sending`` and ``claimed_until``, sends them outside any
transaction, and records each outcome only if its claim still holds. On PostgreSQL the
claim locks the rows it picks with ``FOR UPDATE SKIP LOCKED``, so senders in any number
of processes pass each other by; SQLite runs one writer at a time, and the claim is one
``UPDATE``, so the second sender sees the first one's claim. A claim whose lease has
passed (its sender died) is due again.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Engine, Table, and_, insert, or_, select, update

from leadflow.adapters.store import direct
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Record

Queue = Literal["deliveries", "emails"]
QUEUES: dict[str, Table] = {"deliveries": t.deliveries, "emails": t.emails}

_SUBSCRIPTIONS = select(
    t.webhooks.c.id, t.webhooks.c.events, t.webhooks.c.rep_id, t.webhooks.c.url, t.webhooks.c.secret
).where(t.webhooks.c.active.is_(True))
_INSERT = {name: insert(table) for name, table in QUEUES.items()}

_QUEUED = "leadflow.queued"
_CLAIMED = "leadflow.claimed"
_SENDERS: weakref.WeakSet[threading.Event] = weakref.WeakSet()
_EXPRESS: weakref.WeakKeyDictionary[Engine, ExpressLane] = weakref.WeakKeyDictionary()


class ExpressLane(Protocol):
    """A sender of this process that sends rows claimed when they were queued."""

    def until(self) -> datetime:
        """Until when a row queued now is claimed (now, by the sender's clock, + lease)."""

    def take(self, claimed: list[Any]) -> None:
        """Rows claimed at queueing whose transaction has just committed: send them."""


def express_to(engine: Engine, lane: ExpressLane) -> None:
    """Let ``lane`` send the rows queued on ``engine`` from now on."""
    _EXPRESS[engine] = lane


def express_off(engine: Engine, lane: ExpressLane) -> None:
    """``lane`` sends no more (if it is still the one for ``engine``)."""
    if _EXPRESS.get(engine) is lane:
        del _EXPRESS[engine]


def express_lane(connection: Connection) -> ExpressLane | None:
    """This process's sender for this database, if it runs one."""
    return _EXPRESS.get(connection.engine)


def claimed_at_queueing(connection: Connection, items: Sequence[Any]) -> None:
    """Rows this transaction queued already claimed: handed to the sender on commit."""
    connection.info.setdefault(_CLAIMED, []).extend(items)


def wake_on_queued(event: threading.Event) -> None:
    """Set ``event`` whenever a transaction of this process that queued rows commits
    (a sender's cue to look now rather than at its next interval)."""
    _SENDERS.add(event)


def after_commit(connection: Connection) -> None:
    """Tell the senders of this process when the transaction just committed queued rows;
    the unit of work calls it after each commit (and :func:`forget` after a rollback)."""
    claimed = connection.info.pop(_CLAIMED, None)
    if claimed:
        lane = _EXPRESS.get(connection.engine)
        if lane is not None:  # else (the sender stopped meanwhile) the claims lapse
            lane.take(claimed)
    if connection.info.pop(_QUEUED, False):
        for event in list(_SENDERS):
            event.set()


def forget(connection: Connection) -> None:
    connection.info.pop(_QUEUED, None)
    connection.info.pop(_CLAIMED, None)


class Outbox:
    """Webhooks, deliveries and emails, on one connection in its transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------ webhooks

    def insert_webhook(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.webhooks).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def webhook(self, webhook_id: int) -> Record | None:
        query = select(t.webhooks).where(t.webhooks.c.id == webhook_id)
        return self.connection.execute(query).first()

    def webhooks(self, include_inactive: bool = False) -> list[Record]:
        query = select(t.webhooks).order_by(t.webhooks.c.id)
        if not include_inactive:
            query = query.where(t.webhooks.c.active.is_(True))
        return list(self.connection.execute(query))

    def set_webhook_active(self, webhook_id: int, active: bool) -> None:
        query = update(t.webhooks).where(t.webhooks.c.id == webhook_id)
        self.connection.execute(query.values(active=active))

    def subscriptions(self) -> list[tuple[int, list[str], int | None, str, str]]:
        """Each active webhook's id, the events it subscribes to, its rep (or None), its
        url and its secret."""
        return [
            (int(i), list(events or ()), None if rep is None else int(rep), url, secret)
            for i, events, rep, url, secret in self.connection.execute(_SUBSCRIPTIONS)
        ]

    # ------------------------------------------------------------ queued rows

    def insert(self, queue: Queue, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue many rows in one statement (an executemany); none for no rows."""
        if rows:
            direct.write(self.connection, _INSERT[queue], list(rows))
            self.connection.info[_QUEUED] = True

    def insert_claimed(self, queue: Queue, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Queue rows already claimed (``sending``, ``claimed_until`` set, the attempt
        counted) by the sender of this process; their ids, in order."""
        if not rows:
            return []
        table = QUEUES[queue]
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [int(row.id) for row in self.connection.execute(statement, list(rows))]

    def deliveries(
        self, webhook_id: int | None = None, status: str | None = None, limit: int = 100
    ) -> list[Record]:
        """The delivery log, newest first."""
        d = t.deliveries
        query = select(d).order_by(d.c.id.desc()).limit(limit)
        if webhook_id is not None:
            query = query.where(d.c.webhook_id == webhook_id)
        if status is not None:
            query = query.where(d.c.status == status)
        return list(self.connection.execute(query))

    def emails(self, status: str | None = None, limit: int = 100) -> list[Record]:
        """The email log, newest first."""
        query = select(t.emails).order_by(t.emails.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(t.emails.c.status == status)
        return list(self.connection.execute(query))

    # ------------------------------------------------------------ claims

    def has_due(self, queue: Queue, now: datetime) -> bool:
        """Is anything due? A read that takes no lock, so an idle sender costs nothing."""
        table = QUEUES[queue]
        query = select(table.c.id).where(_due(table, now)).limit(1)
        return self.connection.execute(query).first() is not None

    def claim(self, queue: Queue, now: datetime, until: datetime, limit: int) -> list[Record]:
        """Claim up to ``limit`` due rows until ``until`` (counting the attempt), oldest
        first; commit at once, then send. Deliveries come with their webhook's url,
        secret and active flag."""
        table = QUEUES[queue]
        due = select(table.c.id).where(_due(table, now))
        due = due.order_by(table.c.next_attempt_at, table.c.id).limit(limit)
        if self.connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(table)
            .where(table.c.id.in_(due))
            .values(status="sending", claimed_until=until, attempts=table.c.attempts + 1)
            .returning(table.c.id)
        )
        ids = [row.id for row in self.connection.execute(claim)]
        if not ids:
            return []
        if queue == "emails":
            query = select(table)
        else:
            w = t.webhooks
            query = select(table, w.c.url, w.c.secret, w.c.active).join(
                w, w.c.id == table.c.webhook_id
            )
        query = query.where(table.c.id.in_(ids)).order_by(table.c.next_attempt_at, table.c.id)
        return list(self.connection.execute(query))

    def finish(self, queue: Queue, row_id: int, until: datetime, values: Mapping[str, Any]) -> bool:
        """Record an outcome if the claim made until ``until`` still holds; False when
        it had lapsed and another sender claimed the row again."""
        table = QUEUES[queue]
        query = update(table).where(
            table.c.id == row_id, table.c.status == "sending", table.c.claimed_until == until
        )
        result = self.connection.execute(query.values(claimed_until=None, **values))
        return bool(result.rowcount)

    def release(self, queue: Queue, row_ids: Sequence[int], until: datetime) -> None:
        """Give back claimed rows that were not sent: pending again, the attempt uncounted."""
        table = QUEUES[queue]
        query = update(table).where(
            table.c.id.in_(list(row_ids)),
            table.c.status == "sending",
            table.c.claimed_until == until,
        )
        values = {"status": "pending", "claimed_until": None, "attempts": table.c.attempts - 1}
        self.connection.execute(query.values(**values))


def _due(table: Table, now: datetime) -> Any:
    """Pending and due, or claimed by a sender whose lease has passed."""
    return or_(
        and_(table.c.status == "pending", table.c.next_attempt_at <= now),
        and_(table.c.status == "sending", table.c.claimed_until <= now),
    )
