"""The dispatcher on SQLite and PostgreSQL: one run sends webhooks and (with SMTP)
emails; its thread gets a capture's event to a real listener well under a second later,
goes on past failing receivers and a database that fails, and stops cleanly."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, event, text

from leadflow.adapters.store.outbox import express_off, express_to
from leadflow.bootstrap import bundled_playbook
from leadflow.config import Settings
from leadflow.services import mailer, outbox, webhooks
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.dispatch import Dispatcher, DispatchReport
from leadflow.services.uow import UnitOfWork
from mailserver import Inbox, smtp_settings  # tests/ is on sys.path
from receivers import Receiver

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BTD = bundled_playbook("btd")


def captured(engine: Engine, email: str, at: datetime = NOW) -> None:
    fields = {"email": email, "company": "Acme"}
    with UnitOfWork(engine) as uow:
        capture(
            uow,
            BTD,
            CaptureInquiry(fields, json.dumps(fields), "web", "api", at),
            CaptureSettings(),
        )


def hook(engine: Engine, url: str, events: str = "lead.captured") -> None:
    with UnitOfWork(engine) as uow:
        webhooks.add_webhook(uow, url, events, NOW)


def test_one_run_sends_webhooks_and_emails_when_smtp_is_configured(
    engine: Engine, receiver: Receiver, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    hook(engine, receiver.url, "lead.captured,lead.rated")
    captured(engine, "ann@acme.io")
    with UnitOfWork(engine) as uow:
        mailer.queue_email(uow.store, "rep@acme.io", "A lead", "Call.", NOW, "lead.routed")
        uow.commit()
    without_smtp = Dispatcher(engine, Settings(smtp_host=None))
    try:
        assert without_smtp.run_once(NOW) == DispatchReport(outbox.Report(sent=2), None)
    finally:
        without_smtp.stop()
    assert len(receiver.received) == 2 and inbox.received == []  # the email waits
    with_smtp = Dispatcher(engine, smtp_settings(controller))
    try:
        assert with_smtp.run_once(NOW) == DispatchReport(outbox.Report(), outbox.Report(sent=1))
        assert with_smtp.run_once(NOW) == DispatchReport(outbox.Report(), outbox.Report())
    finally:
        with_smtp.stop()
    assert [to for _, (to,), _ in inbox.received] == ["rep@acme.io"]


def test_the_thread_delivers_within_a_second_and_survives_failing_receivers(
    engine: Engine, receiver: Receiver, broken: Receiver
) -> None:
    hook(engine, broken.url)  # answers 500 to everything
    hook(engine, receiver.url)
    dispatcher = Dispatcher(engine, Settings(dispatch_interval=0.2))  # the default
    dispatcher.start()
    try:
        for n in range(3):
            started = time.monotonic()
            captured(engine, f"lead{n}@acme.io", datetime.now(UTC))
            assert receiver.wait_for(n + 1, timeout=5)
            assert time.monotonic() - started < 1.0  # "well under a second" with 0.2 s
        assert len(broken.received) == 3  # tried, failed, to be retried later
        alive = [t for t in threading.enumerate() if t.name == "leadflow-dispatch"]
        assert len(alive) == 1
    finally:
        dispatcher.stop()
    assert not [t for t in threading.enumerate() if t.name == "leadflow-dispatch"]
    bodies = [json.loads(body)["data"]["person_id"] for _, body in receiver.received]
    assert len(set(bodies)) == 3  # one lead.captured for each of the three leads


def statuses(engine: Engine) -> list[tuple[str, int]]:
    with UnitOfWork(engine) as uow:
        rows = webhooks.list_deliveries(uow, None, None, 100)
    return sorted((r.status, r.attempts) for r in rows)


def test_a_delivery_queued_while_the_thread_runs_is_sent_at_commit_without_a_claim(
    engine: Engine, receiver: Receiver
) -> None:
    hook(engine, receiver.url)
    claims: list[str] = []

    def seen(*args: object) -> None:
        sql = str(args[2])
        if sql.lstrip().startswith("UPDATE deliveries") and "attempts + " in sql:  # a claim
            claims.append(sql)

    dispatcher = Dispatcher(engine, Settings(dispatch_interval=30))  # it would sleep 30 s
    dispatcher.start()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        time.sleep(0.1)  # the thread is asleep in its interval
        started = time.monotonic()
        captured(engine, "woken@acme.io", datetime.now(UTC))
        assert receiver.wait_for(1, timeout=5)
        assert time.monotonic() - started < 2.0
        deadline = time.monotonic() + 5  # the dispatcher's thread records the outcome
        while statuses(engine) != [("delivered", 1)] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert statuses(engine) == [("delivered", 1)]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        dispatcher.stop()
    assert claims == []  # queued claimed: only the outcome was written, no claim


def test_stopping_gives_back_the_deliveries_the_express_thread_has_not_sent(
    engine: Engine, receiver: Receiver
) -> None:
    receiver.delay = 0.5
    hook(engine, receiver.url)
    dispatcher = Dispatcher(engine, Settings(dispatch_interval=30))
    dispatcher.start()
    try:
        for n in range(3):
            captured(engine, f"queued{n}@acme.io", datetime.now(UTC))
        assert receiver.wait_for(1, timeout=5)  # the first is being answered, slowly
    finally:
        dispatcher.stop()
    assert statuses(engine) == [("delivered", 1), ("pending", 0), ("pending", 0)]
    assert Dispatcher(engine, Settings(dispatch_interval=0)).run_once().webhooks == outbox.Report(
        sent=2
    )


def test_a_delivery_claimed_at_queueing_by_a_process_that_died_is_sent_after_the_lease(
    engine: Engine, receiver: Receiver
) -> None:
    class Dead:  # a sender that took the rows and died before sending them
        def until(self) -> datetime:
            return NOW + outbox.LEASE

        def take(self, claimed: list[object]) -> None:
            pass

    hook(engine, receiver.url)
    lane = Dead()
    express_to(engine, lane)
    try:
        captured(engine, "orphan@acme.io")
    finally:
        express_off(engine, lane)
    assert statuses(engine) == [("sending", 1)]
    other = Dispatcher(engine, Settings(dispatch_interval=0))
    assert other.run_once(NOW + timedelta(seconds=30)).webhooks == outbox.Report()
    lapsed = NOW + outbox.LEASE + timedelta(seconds=1)
    assert other.run_once(lapsed).webhooks == outbox.Report(sent=1)
    assert statuses(engine) == [("delivered", 2)] and len(receiver.received) == 1


def test_a_batch_is_claimed_in_one_write_and_its_outcomes_recorded_in_another(
    engine: Engine, receiver: Receiver, broken: Receiver
) -> None:
    hook(engine, receiver.url)
    hook(engine, broken.url)
    for n in range(5):
        captured(engine, f"batch{n}@acme.io")
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", committed)
    dispatcher = Dispatcher(engine, Settings(dispatch_interval=0))
    try:
        report = dispatcher.run_once(NOW)
    finally:
        dispatcher.stop()
        event.remove(engine, "commit", committed)
    assert report.webhooks == outbox.Report(sent=5, retried=5)
    # the claim of all ten, their outcomes, and the claim that found nothing more
    assert len(commits) == 3
    with UnitOfWork(engine) as uow:
        rows = webhooks.list_deliveries(uow, None, None, 100)
    assert sorted(r.status for r in rows) == ["delivered"] * 5 + ["pending"] * 5


def test_the_thread_goes_on_after_the_database_fails(
    engine: Engine, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    hook(engine, receiver.url)
    dispatcher = Dispatcher(engine, Settings(dispatch_interval=0.05))
    with engine.begin() as connection:  # the outbox is gone: every run fails
        connection.execute(text("ALTER TABLE deliveries RENAME TO deliveries_away"))
    try:
        with caplog.at_level(logging.ERROR, logger="leadflow.dispatch"):
            dispatcher.start()
            deadline = time.monotonic() + 5
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.02)
        assert "sending webhooks and emails failed" in caplog.records[0].getMessage()
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE deliveries_away RENAME TO deliveries"))
        captured(engine, "back@acme.io", datetime.now(UTC))
        assert receiver.wait_for(1, timeout=5)  # within the pause after the failure (1 s)
    finally:
        dispatcher.stop()


def test_an_interval_of_zero_starts_no_thread(engine: Engine) -> None:
    dispatcher = Dispatcher(engine, Settings(dispatch_interval=0))
    dispatcher.start()
    try:
        assert not [t for t in threading.enumerate() if t.name == "leadflow-dispatch"]
    finally:
        dispatcher.stop()
