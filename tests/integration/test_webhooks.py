"""Webhooks on SQLite and PostgreSQL: subscribe, queue in the capture's transaction,
deliver signed to a real HTTP listener, retry with backoff, give up."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event

from leadflow.adapters.store import tables
from leadflow.adapters.store.outbox import Outbox
from leadflow.bootstrap import bundled_playbook
from leadflow.errors import InvalidInput, NotFound
from leadflow.services import outbox, webhooks
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.uow import UnitOfWork
from receivers import Receiver  # tests/ is on sys.path

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BTD = bundled_playbook("btd")


def send(engine: Engine, email: str) -> int:
    fields = {"email": email, "company": "Acme"}
    cmd = CaptureInquiry(fields, json.dumps(fields), "web", "api", NOW)
    with UnitOfWork(engine) as uow:
        result = capture(uow, BTD, cmd, CaptureSettings())
    assert result.inquiry_id is not None
    return result.inquiry_id


def pending(engine: Engine) -> list[Any]:
    with UnitOfWork(engine) as uow:
        return list(reversed(Outbox(uow.store.connection).deliveries()))


def test_add_checks_url_and_events(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        with pytest.raises(InvalidInput, match=r"did you mean 'lead\.routed'"):
            webhooks.add_webhook(uow, "https://example.com/h", "lead.routd", NOW)
        with pytest.raises(InvalidInput, match="not an http"):
            webhooks.add_webhook(uow, "ftp://example.com/h", "lead.routed", NOW)
        hook, secret = webhooks.add_webhook(
            uow, "https://example.com/h", "lead.routed, lead.accepted,lead.routed", NOW
        )
        assert hook.events == ("lead.routed", "lead.accepted")
        assert len(secret) == 64
        assert [h.id for h in webhooks.list_webhooks(uow)] == [hook.id]
        assert not webhooks.remove_webhook(uow, hook.id).active
        assert webhooks.list_webhooks(uow) == []
        with pytest.raises(NotFound):
            webhooks.remove_webhook(uow, hook.id + 1)


def test_a_capture_queues_one_delivery_per_subscribed_event_in_its_transaction(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        hook, _ = webhooks.add_webhook(uow, "https://example.com/h", "lead.captured", NOW)
        webhooks.add_webhook(uow, "https://example.com/other", "lead.routed", NOW)
    inquiry_id = send(engine, "ann@acme.io")
    rows = pending(engine)
    assert [(r.webhook_id, r.event, r.status, r.attempts) for r in rows] == [
        (hook.id, "lead.captured", "pending", 0)
    ]
    body = json.loads(rows[0].body)
    assert body["event"] == "lead.captured"
    assert body["data"]["inquiry_id"] == inquiry_id
    assert body["occurred_at"] == NOW.isoformat()


def test_a_capture_rolled_back_queues_nothing(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        webhooks.add_webhook(uow, "https://example.com/h", "lead.captured,lead.rated", NOW)
    fields = {"email": "bo@acme.io"}
    with UnitOfWork(engine) as uow:
        from leadflow.services.capture import capture_in

        capture_in(
            uow.store, BTD, CaptureInquiry(fields, "{}", "web", "api", NOW), CaptureSettings()
        )
        assert uow.store.count(tables.deliveries) == 2
        # no commit: leaving the block rolls the inquiry and its deliveries back
    assert pending(engine) == []


def test_without_webhooks_a_capture_runs_no_more_statements(engine: Engine) -> None:
    send(engine, "warm@acme.io")  # reads (and caches) that nobody subscribes
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        send(engine, "cy@other.io")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "webhooks" in s or "deliveries" in s]
    assert pending(engine) == []


def test_a_delivery_reaches_a_real_listener_and_its_signature_verifies(
    engine: Engine, receiver: Receiver
) -> None:
    with UnitOfWork(engine) as uow:
        _, secret = webhooks.add_webhook(uow, receiver.url, "lead.captured,lead.rated", NOW)
    send(engine, "di@acme.io")
    with UnitOfWork(engine) as uow, httpx.Client(timeout=5) as client:
        report = webhooks.deliver_due(uow, NOW, client)
    assert report == outbox.Report(sent=2)
    assert len(receiver.received) == 2
    rows = pending(engine)
    for (headers, body), row in zip(receiver.received, rows, strict=True):
        assert webhooks.verify(secret, body, headers["X-Leadflow-Signature"])
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Leadflow-Signature"] == f"sha256={digest}"  # as the docs say
        assert not webhooks.verify("another secret", body, headers["X-Leadflow-Signature"])
        assert not webhooks.verify(secret, body + b" ", headers["X-Leadflow-Signature"])
        assert headers["X-Leadflow-Event"] == row.event
        assert headers["X-Leadflow-Delivery"] == str(row.id)
        assert body.decode() == row.body
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    with UnitOfWork(engine) as uow, httpx.Client(timeout=5) as client:
        assert webhooks.deliver_due(uow, NOW, client) == outbox.Report()


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    engine: Engine, broken: Receiver
) -> None:
    with UnitOfWork(engine) as uow:
        webhooks.add_webhook(uow, broken.url, "lead.rated", NOW)
        webhooks.enqueue(uow.store, "lead.rated", {"person_id": 1, "grade": "A"}, NOW)
        uow.commit()
    now, waits = NOW, []
    with httpx.Client(timeout=5) as client:
        for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
            with UnitOfWork(engine) as uow:
                early = webhooks.deliver_due(uow, now - timedelta(seconds=1), client)
                assert early == outbox.Report()  # not due yet: nothing sent
                report = webhooks.deliver_due(uow, now, client)
            (row,) = pending(engine)
            assert row.attempts == attempt
            assert (row.last_status_code, row.last_error) == (500, "the receiver answered 500")
            if attempt < outbox.MAX_ATTEMPTS:
                assert report == outbox.Report(retried=1)
                waits.append(row.next_attempt_at.replace(tzinfo=UTC) - now)
                now = now + waits[-1]
            else:
                assert report == outbox.Report(failed=1)
                assert row.status == "failed"
    assert waits[:3] == [timedelta(seconds=s) for s in (10, 20, 40)]
    assert len(broken.received) == outbox.MAX_ATTEMPTS
    with UnitOfWork(engine) as uow, httpx.Client(timeout=5) as client:
        later = webhooks.deliver_due(uow, now + timedelta(days=1), client)
    assert later == outbox.Report()


def test_a_removed_webhook_gets_nothing_more(engine: Engine, receiver: Receiver) -> None:
    with UnitOfWork(engine) as uow:
        hook, _ = webhooks.add_webhook(uow, receiver.url, "lead.captured", NOW)
    send(engine, "ed@acme.io")
    with UnitOfWork(engine) as uow:
        webhooks.remove_webhook(uow, hook.id)
    send(engine, "fay@acme.io")
    with UnitOfWork(engine) as uow, httpx.Client(timeout=5) as client:
        report = webhooks.deliver_due(uow, NOW, client)
    assert report == outbox.Report(failed=1)
    assert receiver.received == []
