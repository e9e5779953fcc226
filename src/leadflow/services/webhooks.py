"""Outgoing webhooks: subscribe a URL to events, queue them, deliver them signed.

An event is written to the outbox (``deliveries``), one row per subscribed webhook, in
the transaction of the change that caused it: if that change commits, its deliveries
exist; if the process dies before they are sent, they are sent later. A webhook with a
rep gets only the events whose data has that ``rep_id``. ``deliver_due`` claims due
deliveries and POSTs each body once (see ``services.outbox``) with::

    X-Leadflow-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the secret>
    X-Leadflow-Event: lead.captured
    X-Leadflow-Delivery: <the delivery's id, the same on every retry>

A 2xx answer delivers it; anything else (or no answer within 10 s) is retried with
backoff, and fails after ``outbox.MAX_ATTEMPTS``. Receivers check the signature with
:func:`verify`.

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
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from leadflow.adapters.store.outbox import Outbox, claimed_at_queueing, express_lane
from leadflow.adapters.store.repository import Record, Store, utc
from leadflow.errors import InvalidInput, NotFound
from leadflow.services import outbox
from leadflow.services.uow import UnitOfWork

EVENTS = (
    "lead.captured",
    "lead.rated",
    "lead.routed",
    "lead.unassigned",
    "lead.accepted",
    "lead.rejected",
    "lead.recycled",
    "lead.disqualified",
    "lead.contacted",
    "lead.released",
    "stage.changed",
    "sla.breached",
    "nurture.entered",
    "nurture.step",
    "nurture.exited",
    "contact.opted_out",
)
"""The events a webhook may subscribe to."""

CACHE_SECONDS = 5.0
TIMEOUT = httpx.Timeout(10.0)
"""How long a delivery waits for the receiver at each step (well within the claim's lease)."""
STATUSES = ("pending", "sending", "delivered", "failed")


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    events: tuple[str, ...]
    rep_id: int | None
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One event for one webhook: the outbox row and the log of its attempts."""

    id: int
    webhook_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    body: str


def _webhook(row: Record) -> Webhook:
    return Webhook(
        id=int(row.id),
        url=row.url,
        events=tuple(row.events or ()),
        rep_id=None if row.rep_id is None else int(row.rep_id),
        active=bool(row.active),
        created_at=utc(row.created_at),  # type: ignore[arg-type]
    )


def _delivery(row: Record) -> Delivery:
    return Delivery(
        id=int(row.id),
        webhook_id=int(row.webhook_id),
        event=row.event,
        status=row.status,
        attempts=int(row.attempts),
        next_attempt_at=utc(row.next_attempt_at),  # type: ignore[arg-type]
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        delivered_at=utc(row.delivered_at),
        body=row.body,
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
    if len(text) > 2000:
        raise InvalidInput(f"the URL is {len(text)} characters long; at most 2000", where="url")
    return text


def add_webhook(
    uow: UnitOfWork,
    url: str,
    events: str | Iterable[str],
    now: datetime,
    rep: int | str | None = None,
) -> tuple[Webhook, str]:
    """Subscribe ``url`` to ``events`` (only the events of ``rep``, an id or email address,
    when given); the new webhook and its signing secret, which is not shown again."""
    from leadflow.services.reps import find_rep

    values = {"url": check_url(url), "events": list(parse_events(events))}
    rep_id = None if rep is None else find_rep(uow, rep).id
    secret = secrets.token_hex(32)
    webhook_id = Outbox(uow.store.connection).insert_webhook(
        {**values, "rep_id": rep_id, "secret": secret, "active": True, "created_at": now}
    )
    uow.commit()
    SUBSCRIPTIONS.forget(uow.engine)
    return find_webhook(uow, webhook_id), secret


def list_webhooks(uow: UnitOfWork, include_inactive: bool = False) -> list[Webhook]:
    return [_webhook(row) for row in Outbox(uow.store.connection).webhooks(include_inactive)]


def find_webhook(uow: UnitOfWork, webhook_id: int) -> Webhook:
    row = Outbox(uow.store.connection).webhook(webhook_id)
    if row is None:
        raise NotFound(f"no webhook {webhook_id} (see 'leadflow webhooks list --all')")
    return _webhook(row)


def remove_webhook(uow: UnitOfWork, webhook_id: int) -> Webhook:
    """Deactivate the webhook: it gets no new events, its delivery log stays."""
    find_webhook(uow, webhook_id)
    Outbox(uow.store.connection).set_webhook_active(webhook_id, False)
    uow.commit()
    SUBSCRIPTIONS.forget(uow.engine)
    return find_webhook(uow, webhook_id)


def list_deliveries(
    uow: UnitOfWork, webhook_id: int | None = None, status: str | None = None, limit: int = 50
) -> list[Delivery]:
    """The delivery log, newest first: of one webhook or all, of one status or all."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"no status '{status}' ({', '.join(STATUSES)})", where="status")
    if limit < 1:
        raise InvalidInput(f"the limit must be at least 1, not {limit}", where="limit")
    if webhook_id is not None:
        find_webhook(uow, webhook_id)
    rows = Outbox(uow.store.connection).deliveries(webhook_id, status, limit)
    return [_delivery(row) for row in rows]


@dataclass(frozen=True)
class Hook:
    """An active webhook as the capture path sees it (from the subscriptions cache)."""

    id: int
    rep_id: int | None
    url: str
    secret: str


Subscribers = dict[str, tuple[Hook, ...]]
"""Per event, each active webhook subscribed to it."""


@dataclass(frozen=True)
class Claimed:
    """A delivery queued already claimed by this process's sender, with what it needs
    to POST it without reading the database (see :func:`enqueue_all`)."""

    id: int
    until: datetime
    url: str
    secret: str
    event: str
    body: str
    attempts: int = 1
    active: bool = True


class Subscriptions:
    """Which active webhooks subscribe to each event, read at most every ``seconds``
    per database (engine), so a capture usually reads nothing."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._read: weakref.WeakKeyDictionary[Engine, tuple[float, Subscribers]]
        self._read = weakref.WeakKeyDictionary()

    def of(self, store: Store) -> Subscribers:
        engine = store.connection.engine
        now = self.clock()
        cached = self._read.get(engine)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        by_event: dict[str, list[Hook]] = {}
        for webhook_id, events, rep_id, url, secret in Outbox(store.connection).subscriptions():
            for name in events:
                by_event.setdefault(name, []).append(Hook(webhook_id, rep_id, url, secret))
        read = {name: tuple(hooks) for name, hooks in by_event.items()}
        self._read[engine] = (now, read)
        return read

    def forget(self, engine: Engine) -> None:
        self._read.pop(engine, None)


SUBSCRIPTIONS = Subscriptions(CACHE_SECONDS)


def body_of(event_type: str, payload: Mapping[str, Any], at: datetime) -> str:
    """The JSON text POSTed for one event: ``{"event", "occurred_at", "data"}``; times
    in the data as ISO 8601 in UTC, like ``occurred_at``."""
    document = {"event": event_type, "occurred_at": _json(at), "data": payload}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, default=_json)


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def _wants(rep_id: int | None, payload: Mapping[str, Any]) -> bool:
    """A webhook without a rep wants every event; one with a rep, only that rep's."""
    return rep_id is None or payload.get("rep_id") == rep_id


def enqueue_all(store: Store, events: Sequence[tuple[str, Mapping[str, Any]]], at: datetime) -> int:
    """Queue these events for every active webhook subscribed to them, in the caller's
    transaction (one statement, none when nobody subscribes); how many were queued.

    When this process runs a sender (``leadflow serve``'s dispatcher), the rows are
    queued already claimed by it and handed to it when the transaction commits: it POSTs
    them at once, without a claim of its own (on SQLite during an import, a write that
    would wait its turn behind a slice). Its claim lapses like any other if the process
    dies first, and another sender sends them then.
    """
    subscribed = SUBSCRIPTIONS.of(store)
    if not subscribed:
        return 0
    queued = [
        (hook, event_type, body_of(event_type, payload, at))
        for event_type, payload in events
        for hook in subscribed.get(event_type, ())
        if _wants(hook.rep_id, payload)
    ]
    rows = [
        {
            "webhook_id": hook.id,
            "event": event_type,
            "body": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for hook, event_type, body in queued
    ]
    box = Outbox(store.connection)
    lane = express_lane(store.connection)
    if lane is None:
        box.insert("deliveries", rows)
        return len(rows)
    until = lane.until()
    for row in rows:
        row.update(status="sending", attempts=1, claimed_until=until)
    ids = box.insert_claimed("deliveries", rows)
    claimed = [
        Claimed(row_id, until, hook.url, hook.secret, event_type, body)
        for row_id, (hook, event_type, body) in zip(ids, queued, strict=True)
    ]
    claimed_at_queueing(store.connection, claimed)
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


def deliver_due(
    uow: UnitOfWork,
    now: datetime,
    client: httpx.Client,
    limit: int = 500,
    keep_going: Callable[[], bool] = lambda: True,
) -> outbox.Report:
    """Claim the deliveries due by ``now`` and POST each once; each outcome is committed
    as soon as it is known (see ``services.outbox``)."""
    return outbox.send_claimed(
        uow, "deliveries", now, lambda row: post(client, row), limit, keep_going
    )


def post(client: httpx.Client, row: Any) -> outbox.Attempt:
    """POST one claimed delivery (a row, or a :class:`Claimed`) signed; how it went."""
    if not row.active:
        return outbox.Attempt("the webhook was removed", permanent=True)
    body = row.body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Leadflow-Signature": sign(row.secret, body),
        "X-Leadflow-Event": row.event,
        "X-Leadflow-Delivery": str(row.id),
    }
    try:
        response = client.post(row.url, content=body, headers=headers, timeout=TIMEOUT)
    except Exception as problem:  # any failure to reach the receiver is its, not ours
        return outbox.Attempt(
            f"{type(problem).__name__}: {problem}", values={"last_status_code": None}
        )
    code = response.status_code
    error = None if 200 <= code < 300 else f"the receiver answered {code}"
    return outbox.Attempt(error, values={"last_status_code": code})
