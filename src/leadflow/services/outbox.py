"""Sending what the outboxes hold, once, from any number of processes.

Webhook deliveries and emails are written to their outbox in the transaction of the
change that caused them, and sent later by :func:`send_claimed`, which both
``webhooks.deliver_due`` and ``mailer.send_due`` run:

1. **claim** a small batch of due rows in a short transaction of its own (``sending``,
   ``claimed_until = now + LEASE``, the attempt counted), and commit;
2. **send** each one outside any transaction;
3. **record** the batch's outcomes in one transaction, each only if its claim still holds.

One write for the outcomes of a batch rather than one per row: on SQLite every write
transaction waits its turn on the write lock, behind an import's slice at worst.

So a row is sent by one sender; only a sender that dies before it records the outcomes
leaves claims that lapse after :data:`LEASE`, and then those rows are sent again (at
least once, never lost).
A sender stops taking rows from its batch once half the lease has gone by (a slow
receiver) or it is told to stop, and gives the rest back unsent.

A failed attempt is retried after ``10 s * 2^(attempt-1)`` (at most an hour) until
:data:`MAX_ATTEMPTS`, then the row fails; a failure that retrying cannot help fails it
at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow.adapters.store.outbox import Outbox, Queue
from leadflow.adapters.store.repository import Record, utc
from leadflow.services.uow import UnitOfWork

MAX_ATTEMPTS = 8
"""After this many failed attempts a row is marked failed (about 21 minutes in)."""
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
LEASE = timedelta(seconds=60)
"""How long a claim holds. Every send must end well within it (webhooks wait at most
10 s for an answer, SMTP 10 s a step)."""
BATCH = 20
"""Rows claimed at a time: small, so a sender holds little that others could send."""

DONE = {"deliveries": ("delivered", "delivered_at"), "emails": ("sent", "sent_at")}


@dataclass(frozen=True)
class Report:
    """What one run did: sent (a webhook delivered, an email accepted by the server),
    retried later, failed for good."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: Report) -> Report:
        return Report(
            self.sent + other.sent, self.retried + other.retried, self.failed + other.failed
        )


@dataclass(frozen=True)
class Attempt:
    """How one send went: ``error`` is None when it went out; ``permanent`` when trying
    again cannot help; ``values`` are columns to record either way (a status code)."""

    error: str | None = None
    permanent: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    wait: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(wait, LONGEST_WAIT)


def send_claimed(
    uow: UnitOfWork,
    queue: Queue,
    now: datetime,
    send: Callable[[Record], Attempt],
    limit: int,
    keep_going: Callable[[], bool] = lambda: True,
    lease: timedelta = LEASE,
) -> Report:
    """Claim and send up to ``limit`` rows of ``queue`` due by ``now`` (see the module)."""
    outbox, moment = Outbox(uow.store.connection), utc(now)
    assert moment is not None
    started, report = time.monotonic(), Report()
    while limit > 0 and keep_going():
        until = moment + lease
        rows = outbox.claim(queue, moment, until, min(BATCH, limit))
        uow.commit()
        if not rows:
            break
        limit -= len(rows)
        outcomes: list[tuple[int, dict[str, Any]]] = []
        unsent: list[int] = []
        for row in rows:
            late = time.monotonic() - started > lease.total_seconds() / 2
            if unsent or late or not keep_going():
                unsent.append(row.id)
            else:
                outcomes.append((row.id, outcome(queue, row, moment, send)))
        for row_id, values in outcomes:
            if outbox.finish(queue, row_id, until, values):
                report += counted(queue, values)
            # else the claim lapsed and another sender has the row: it reports it
        if unsent:
            outbox.release(queue, unsent, until)
        uow.commit()
        if unsent:
            return report
    return report


def outcome(
    queue: Queue, row: Any, now: datetime, send: Callable[[Any], Attempt]
) -> dict[str, Any]:
    """Send one claimed row; the columns that record how it went."""
    attempts = int(row.attempts)
    if attempts > MAX_ATTEMPTS:  # claimed again after its sender died on the last attempt
        attempt = Attempt(f"gave up after {MAX_ATTEMPTS} attempts", permanent=True)
    else:
        attempt = send(row)
    done, done_at = DONE[queue]
    values: dict[str, Any] = {**attempt.values, "last_error": attempt.error}
    if attempt.error is None:
        values.update(status=done, **{done_at: now})
    elif attempt.permanent or attempts >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(status="pending", next_attempt_at=now + backoff(attempts))
    return values


def counted(queue: Queue, values: Mapping[str, Any]) -> Report:
    if values["status"] == DONE[queue][0]:
        return Report(sent=1)
    return Report(retried=1) if values["status"] == "pending" else Report(failed=1)
