"""Outgoing webhooks: subscribe a URL to events, queue them, deliver them signed.

An event is written to the outbox (``deliveries``), one row per subscribed webhook, in
the transaction of the change that caused it: if that change commits, its deliveries
exist; if the process dies before they are sent, they are sent later. ``deliver_due``
POSTs each due delivery's body with::

    X-Leadflow-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the secret>
    X-Leadflow-Event: lead.captured
    X-Leadflow-Delivery: <the delivery's id, the same on every retry>

A 2xx answer delivers it; anything else (or no answer) is retried after
``10 s * 2^(attempt-1)`` (at most an hour), and after :data:`MAX_ATTEMPTS` it fails.
Receivers check the signature with :func:`verify`.

The capture path asks which webhooks subscribe to an event through a small cache
(:class:`Subscriptions`, at most :data:`CACHE_SECONDS` old), so that a capture with no
webhook runs no statement more than before; a webhook added by another process gets
events from at most that long after it was added.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import json
import secrets
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from leadflow.adapters.store.repository import Record, Store, utc
from leadflow.errors import InvalidInput, NotFound
from leadflow.services.uow import UnitOfWork

EVENTS = (
    "lead.captured",
    "lead.rated",
    "lead.routed",
    "lead.accepted",
    "lead.rejected",
    "lead.recycled",
    "stage.changed",
    "sla.breached",
)
"""The events a webhook may subscribe to."""

MAX_ATTEMPTS = 8
"""After this many failed attempts a delivery is marked failed (about 21 minutes in)."""
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def _webhook(row: Record) -> Webhook:
    return Webhook(
        id=int(row.id),
        url=row.url,
        events=tuple(row.events or ()),
        active=bool(row.active),
        created_at=utc(row.created_at),  # type: ignore[arg-type]
    )


def parse_events(events: str | Iterable[str]) -> tuple[str, ...]:
    """``"lead.routed,lead.accepted"`` (or a list) as known event names, in order, once."""
    names = events.split(",") if isinstance(events, str) else list(events)
    wanted = [name.strip() for name in names if name.strip()]
    if not wanted:
        raise InvalidInput(f"name at least one event: {', '.join(EVENTS)}", where="events")
    for name in wanted:
        if name not in EVENTS:
            close = difflib.get_close_matches(name, EVENTS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"events: {', '.join(EVENTS)}"
            raise InvalidInput(f"no event '{name}' ({hint})", where="events")
    return tuple(dict.fromkeys(wanted))


def check_url(url: str) -> str:
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"'{url}' is not an http(s) URL", where="url")
    return text


def add_webhook(
    uow: UnitOfWork, url: str, events: str | Iterable[str], now: datetime
) -> tuple[Webhook, str]:
    """Subscribe ``url`` to ``events``; the new webhook and its signing secret."""
    values = {"url": check_url(url), "events": list(parse_events(events))}
    secret = secrets.token_hex(32)
    webhook_id = uow.store.insert_webhook(
        {**values, "secret": secret, "active": True, "created_at": now}
    )
    uow.commit()
    SUBSCRIPTIONS.forget(uow.engine)
    return find_webhook(uow, webhook_id), secret


def list_webhooks(uow: UnitOfWork, include_inactive: bool = False) -> list[Webhook]:
    return [_webhook(row) for row in uow.store.webhooks(include_inactive)]


def find_webhook(uow: UnitOfWork, webhook_id: int) -> Webhook:
    row = uow.store.webhook(webhook_id)
    if row is None:
        raise NotFound(f"no webhook {webhook_id} (see 'leadflow webhooks list --all')")
    return _webhook(row)


def remove_webhook(uow: UnitOfWork, webhook_id: int) -> Webhook:
    """Deactivate the webhook: it gets no new events, its delivery log stays."""
    find_webhook(uow, webhook_id)
    uow.store.set_webhook_active(webhook_id, False)
    uow.commit()
    SUBSCRIPTIONS.forget(uow.engine)
    return find_webhook(uow, webhook_id)


class Subscriptions:
    """Which active webhooks subscribe to each event, read at most every ``seconds``
    per database (engine), so a capture usually reads nothing."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._read: weakref.WeakKeyDictionary[Engine, tuple[float, dict[str, tuple[int, ...]]]]
        self._read = weakref.WeakKeyDictionary()

    def of(self, store: Store) -> dict[str, tuple[int, ...]]:
        engine = store.connection.engine
        now = self.clock()
        cached = self._read.get(engine)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        by_event: dict[str, list[int]] = {}
        for webhook_id, events in store.subscriptions():
            for name in events:
                by_event.setdefault(name, []).append(webhook_id)
        read = {name: tuple(ids) for name, ids in by_event.items()}
        self._read[engine] = (now, read)
        return read

    def forget(self, engine: Engine) -> None:
        self._read.pop(engine, None)


SUBSCRIPTIONS = Subscriptions(CACHE_SECONDS)


def body_of(event_type: str, payload: Mapping[str, Any], at: datetime) -> str:
    """The JSON text POSTed for one event: ``{"event", "occurred_at", "data"}``."""
    document = {"event": event_type, "occurred_at": utc(at).isoformat(), "data": payload}  # type: ignore[union-attr]
    return json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)


def enqueue_all(store: Store, events: Sequence[tuple[str, Mapping[str, Any]]], at: datetime) -> int:
    """Queue these events for every active webhook subscribed to them, in the caller's
    transaction (one statement, none when nobody subscribes); how many were queued."""
    subscribed = SUBSCRIPTIONS.of(store)
    if not subscribed:
        return 0
    rows = [
        {
            "webhook_id": webhook_id,
            "event": event_type,
            "body": body_of(event_type, payload, at),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for event_type, payload in events
        for webhook_id in subscribed.get(event_type, ())
    ]
    store.insert_deliveries(rows)
    return len(rows)


def enqueue(store: Store, event_type: str, payload: Mapping[str, Any], at: datetime) -> int:
    """Queue one event (see :func:`enqueue_all`)."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    return enqueue_all(store, [(event_type, payload)], at)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Leadflow-Signature`` value for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers: is ``header`` the signature of exactly these body bytes?

    Compare the raw bytes received, before parsing the JSON; the comparison takes the
    same time whatever the header, so it gives nothing away.
    """
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    wait: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(wait, LONGEST_WAIT)


def deliver_due(
    uow: UnitOfWork, now: datetime, client: httpx.Client, limit: int = 500
) -> DeliveryReport:
    """Send the deliveries due by ``now`` once each; each outcome is committed at once."""
    due = uow.store.due_deliveries(now, limit)
    uow.commit()
    delivered = retried = failed = 0
    for row in due:
        outcome = _attempt(uow.store, row, now, client)
        uow.commit()
        delivered += outcome == "delivered"
        retried += outcome == "pending"
        failed += outcome == "failed"
    return DeliveryReport(delivered, retried, failed)


def _attempt(store: Store, row: Record, now: datetime, client: httpx.Client) -> str:
    attempts = int(row.attempts) + 1
    if not row.active:
        store.update_delivery(row.id, {"status": "failed", "last_error": "the webhook was removed"})
        return "failed"
    body = row.body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Leadflow-Signature": sign(row.secret, body),
        "X-Leadflow-Event": row.event,
        "X-Leadflow-Delivery": str(row.id),
    }
    code: int | None = None
    try:
        code = client.post(row.url, content=body, headers=headers).status_code
        error = None if 200 <= code < 300 else f"the receiver answered {code}"
    except httpx.HTTPError as problem:
        error = f"{type(problem).__name__}: {problem}"
    values: dict[str, Any] = {"attempts": attempts, "last_status_code": code, "last_error": error}
    if error is None:
        values.update(status="delivered", delivered_at=now)
    elif attempts >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=now + backoff(attempts))
    store.update_delivery(row.id, values)
    return str(values.get("status", "pending"))
