"""The email outbox: queue an email in the caller's transaction, send it later.

::

    queue_email(store, "ann@acme.io", "A lead for you", text, now, "lead.routed", person_id)
    ...the caller commits...
    send_due(uow, now, settings)      # the dispatcher does this; claims, sends, retries

An email is written to ``emails`` with the change that caused it, so it exists exactly
when that change commits, and goes out through the SMTP server of the
``LEADFLOW_SMTP_*`` settings when :func:`send_due` runs. Sending is claim-safe across
processes and retried with backoff like webhook deliveries (see ``services.outbox``);
an email the server refuses for good (an unknown mailbox) fails at once.

When an email fails for a reason that is not its own (the SMTP server cannot be
reached, refuses the login, or asks to try later), the run stops after that email (it is
retried later) and gives back the rest unsent, rather than trying each one against a
server that is down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from leadflow.adapters.mail import Mailbox, MailError
from leadflow.adapters.store.outbox import Outbox
from leadflow.adapters.store.repository import Record, Store, utc
from leadflow.config import Settings
from leadflow.errors import InvalidInput
from leadflow.services import outbox
from leadflow.services.uow import UnitOfWork

STATUSES = ("pending", "sending", "sent", "failed", "withdrawn")
"""``withdrawn``: a nurture email not sent because the person opted out meanwhile."""


@dataclass(frozen=True)
class Email:
    """One email in the outbox and log."""

    id: int
    to: str
    subject: str
    text: str
    kind: str
    person_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    html: str | None = None  # the HTML alternative (nurture emails)


def _email(row: Record) -> Email:
    return Email(
        id=int(row.id),
        to=row.to,
        subject=row.subject,
        text=row.text,
        kind=row.kind,
        person_id=row.person_id,
        status=row.status,
        attempts=int(row.attempts),
        next_attempt_at=utc(row.next_attempt_at),  # type: ignore[arg-type]
        last_error=row.last_error,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        sent_at=utc(row.sent_at),
        html=row.html,
    )


def check_address(address: str, where: str = "to") -> str:
    """One email address, as far as an outbox needs to know: refused here, with where,
    rather than by the SMTP server hours later."""
    text = address.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text):
        raise InvalidInput(f"'{address}' is not an email address", where=where)
    if len(text) > 320:
        raise InvalidInput(f"the address is {len(text)} characters long; at most 320", where)
    return text


def queue_email(
    store: Store,
    to: str,
    subject: str,
    text: str,
    at: datetime,
    kind: str,
    person_id: int | None = None,
) -> None:
    """Queue one plain-text email to ``to``, in the caller's transaction (one statement).
    ``kind`` says why it is sent (``lead.routed``); ``person_id`` is the lead it is about."""
    queue_emails(store, [to], subject, text, at, kind, person_id)


def queue_emails(
    store: Store,
    to: Sequence[str],
    subject: str,
    text: str,
    at: datetime,
    kind: str,
    person_id: int | None = None,
) -> None:
    """The same email to each address (one email each), in one statement."""
    addresses = list(dict.fromkeys(check_address(a) for a in to))
    if len(kind) > 50:
        raise InvalidInput(f"'{kind}' is longer than 50 characters", where="kind")
    rows = [
        {
            "to": address,
            "subject": subject,
            "text": text,
            "kind": kind,
            "person_id": person_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for address in addresses
    ]
    Outbox(store.connection).insert("emails", rows)


def list_emails(uow: UnitOfWork, status: str | None = None, limit: int = 50) -> list[Email]:
    """The email log, newest first."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"no status '{status}' ({', '.join(STATUSES)})", where="status")
    return [_email(row) for row in Outbox(uow.store.connection).emails(status, limit)]


def send_due(
    uow: UnitOfWork,
    now: datetime,
    settings: Settings,
    limit: int = 100,
    keep_going: Callable[[], bool] = lambda: True,
) -> outbox.Report:
    """Claim the emails due by ``now`` and send each once through the SMTP server, on
    one connection; :class:`MailError` when no server is configured."""
    with Mailbox(settings) as mailbox:
        server_ok = True

        def send(row: Record) -> outbox.Attempt:
            nonlocal server_ok
            try:
                mailbox.send(row.to, row.subject, row.text, row.html)
            except MailError as error:
                server_ok = error.permanent  # a refused mailbox says nothing of the server
                return outbox.Attempt(str(error), permanent=error.permanent)
            return outbox.Attempt()

        def going() -> bool:
            return server_ok and keep_going()

        return outbox.send_claimed(uow, "emails", now, send, limit, going)
