"""Notifications on SQLite and PostgreSQL: the email outbox (queued in the caller's
transaction, sent to a real SMTP server, retried, given up), lead.routed and
sla.breached to rep-scoped and unscoped webhooks and by email, and other events."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from leadflow.adapters.store import tables
from leadflow.adapters.store.outbox import Outbox
from leadflow.config import Settings
from leadflow.errors import InvalidInput
from leadflow.services import mailer, notifications, outbox, webhooks
from leadflow.services.notifications import BreachNotice, RoutedNotice
from leadflow.services.reps import AddRep, add_rep
from leadflow.services.uow import UnitOfWork
from mailserver import Inbox, body, free_port, smtp_settings  # tests/ is on sys.path
from receivers import Receiver

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def person(engine: Engine) -> int:
    """A person to write about (emails.person_id refers to people)."""
    with UnitOfWork(engine) as uow:
        values = {"created_at": NOW, "updated_at": NOW, "facts": {}, "inquiry_count": 0}
        person_id = uow.store.connection.execute(tables.people.insert().values(**values))
        uow.commit()
        return int(person_id.inserted_primary_key[0])  # type: ignore[index]


def rep(engine: Engine, name: str, email: str) -> int:
    with UnitOfWork(engine) as uow:
        return add_rep(uow, AddRep(name, email, team="emea"), NOW).id


def emails(engine: Engine) -> list[mailer.Email]:
    with UnitOfWork(engine) as uow:
        return list(reversed(mailer.list_emails(uow)))


def deliveries(engine: Engine) -> list[Any]:
    with UnitOfWork(engine) as uow:
        return list(reversed(Outbox(uow.store.connection).deliveries()))


def notice(person_id: int, rep_id: int, **changes: Any) -> RoutedNotice:
    made = RoutedNotice(
        person_id=person_id,
        name="Bo Lee",
        email="bo@globex.io",
        phone="+1 212 555 0100",
        company="Globex",
        title="Head of Operations",
        grade="A",
        score=87.5,
        reasons=("Budget approved", "Decides the purchase", "Buying within 14 days"),
        contact_notes=("Do not call",),
        rep_id=rep_id,
        rep_name="Ann Lee",
        rep_email="ann@acme.io",
        team="emea",
        why_rep="round robin in team emea",
        accept_by=NOW + timedelta(hours=2),
        contact_by=NOW + timedelta(days=1),
    )
    return replace(made, **changes)


def send_emails(engine: Engine, settings: Settings, now: datetime = NOW) -> outbox.Report:
    with UnitOfWork(engine) as uow:
        return mailer.send_due(uow, now, settings)


def test_an_email_is_queued_in_the_callers_transaction(engine: Engine) -> None:
    lead = person(engine)
    with UnitOfWork(engine) as uow:
        mailer.queue_email(uow.store, "ann@acme.io", "s", "t", NOW, "lead.routed", lead)
        # no commit: leaving the block rolls the email back with the change
    assert emails(engine) == []
    with UnitOfWork(engine) as uow:
        mailer.queue_email(uow.store, "ann@acme.io", "s", "t", NOW, "lead.routed", lead)
        with pytest.raises(InvalidInput, match="to: 'ann at acme' is not an email address"):
            mailer.queue_email(uow.store, "ann at acme", "s", "t", NOW, "lead.routed")
        uow.commit()
    ((email),) = emails(engine)
    assert (email.to, email.kind, email.person_id, email.status) == (
        "ann@acme.io",
        "lead.routed",
        lead,
        "pending",
    )


def test_due_emails_are_sent_once_through_smtp(
    engine: Engine, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    with UnitOfWork(engine) as uow:
        for n in range(3):
            mailer.queue_email(uow.store, f"rep{n}@acme.io", f"lead {n}", "Call.", NOW, "x")
        mailer.queue_email(uow.store, "later@acme.io", "later", "t", NOW + timedelta(hours=1), "x")
        uow.commit()
    settings = smtp_settings(controller)
    assert send_emails(engine, settings) == outbox.Report(sent=3)
    assert [r for _, (r,), _ in inbox.received] == ["rep0@acme.io", "rep1@acme.io", "rep2@acme.io"]
    assert len(inbox.sessions) == 1  # one connection for the run
    assert body(inbox.received[0][2]) == "Call.\n"
    assert [(e.status, e.attempts, e.sent_at) for e in emails(engine)[:3]] == [("sent", 1, NOW)] * 3
    assert send_emails(engine, settings) == outbox.Report()  # nothing twice
    assert send_emails(engine, settings, NOW + timedelta(hours=1)) == outbox.Report(sent=1)
    assert len(inbox.received) == 4


def test_a_refused_mailbox_fails_at_once_and_the_others_go(
    engine: Engine, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    inbox.refuse.add("gone@acme.io")
    with UnitOfWork(engine) as uow:
        for to in ("gone@acme.io", "ann@acme.io"):
            mailer.queue_email(uow.store, to, "s", "t", NOW, "x")
        uow.commit()
    assert send_emails(engine, smtp_settings(controller)) == outbox.Report(sent=1, failed=1)
    gone, ann = emails(engine)
    assert (gone.status, gone.attempts) == ("failed", 1)
    assert gone.last_error is not None and "refused the recipient gone@acme.io" in gone.last_error
    assert ann.status == "sent"


def test_a_server_that_is_down_is_tried_once_a_run_with_backoff(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        for n in range(3):
            mailer.queue_email(uow.store, f"rep{n}@acme.io", "s", "t", NOW, "x")
        uow.commit()
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nobody listens
        smtp_tls="none",
        smtp_username="bo",
        smtp_password="pa55-w0rd-Xy",
    )
    assert send_emails(engine, settings) == outbox.Report(retried=1)
    first, *rest = emails(engine)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.next_attempt_at == NOW + outbox.FIRST_RETRY
    assert (
        first.last_error is not None and "cannot send email through 127.0.0.1" in first.last_error
    )
    assert "pa55-w0rd-Xy" not in first.last_error
    assert [(e.status, e.attempts, e.last_error) for e in rest] == [("pending", 0, None)] * 2
    with pytest.raises(Exception, match="LEADFLOW_SMTP_HOST"):
        send_emails(engine, Settings(smtp_host=None))


def test_lead_routed_reaches_the_reps_webhook_the_unscoped_one_and_the_rep(
    engine: Engine, smtp: tuple[Controller, Inbox], receiver: Receiver
) -> None:
    controller, inbox = smtp
    ann, cy = rep(engine, "Ann Lee", "ann@acme.io"), rep(engine, "Cy Park", "cy@acme.io")
    with UnitOfWork(engine) as uow:
        for_ann, _ = webhooks.add_webhook(uow, receiver.url, "lead.routed", NOW, rep="ann@acme.io")
        for_cy, _ = webhooks.add_webhook(uow, receiver.url, "lead.routed", NOW, rep=cy)
        for_all, _ = webhooks.add_webhook(uow, receiver.url, "lead.routed", NOW)
    assert (for_ann.rep_id, for_cy.rep_id, for_all.rep_id) == (ann, cy, None)
    bo, di = person(engine), person(engine)
    with UnitOfWork(engine) as uow:
        notifications.lead_routed(uow.store, notice(bo, ann), NOW, email=True)
        notifications.lead_routed(
            uow.store, notice(di, cy, name="Di Ng", rep_email="cy@acme.io"), NOW, email=False
        )
        uow.commit()
    routed = [(d.webhook_id, json.loads(d.body)["data"]["person_id"]) for d in deliveries(engine)]
    assert sorted(routed) == sorted(
        [(for_ann.id, bo), (for_all.id, bo), (for_cy.id, di), (for_all.id, di)]
    )
    data = json.loads(deliveries(engine)[0].body)["data"]
    assert data["rep_id"] == ann and data["contact_notes"] == ["Do not call"]
    assert data["accept_by"] == "2026-11-23T11:00:00+00:00"
    assert data["reasons"] == ["Budget approved", "Decides the purchase", "Buying within 14 days"]

    ((email),) = emails(engine)  # Di's rep was not emailed: email=False
    assert (email.to, email.kind, email.person_id) == ("ann@acme.io", "lead.routed", bo)
    assert send_emails(engine, smtp_settings(controller)) == outbox.Report(sent=1)
    ((_, recipients, message),) = inbox.received
    assert recipients == ["ann@acme.io"]
    assert message["Subject"] == (
        "New A lead for you: Bo Lee (Globex) - Do not call - accept by Mon 23 Nov 2026, 11:00 UTC"
    )
    text = body(message)
    assert text.index("Do not call") < text.index("Why it is sales-ready")  # up front
    for words in (
        "Bo Lee, Head of Operations at Globex",
        "  - Budget approved\n  - Decides the purchase\n  - Buying within 14 days\n",
        "Accept by:         Mon 23 Nov 2026, 11:00 UTC",
        "First contact by:  Tue 24 Nov 2026, 09:00 UTC",
        "Email:    bo@globex.io",
        "Why you: round robin in team emea.",
        f"Lead id: {bo}",
    ):
        assert words in text


def test_sla_breached_reaches_webhooks_and_each_address_once(
    engine: Engine, smtp: tuple[Controller, Inbox], receiver: Receiver
) -> None:
    controller, inbox = smtp
    ann = rep(engine, "Ann Lee", "ann@acme.io")
    with UnitOfWork(engine) as uow:
        webhooks.add_webhook(uow, receiver.url, "sla.breached", NOW, rep=ann)
    bo = person(engine)
    breach = BreachNotice(
        bo, "Bo Lee", "A", "accept", NOW, ann, "Ann Lee", "reassigned to Cy Park (round robin)"
    )
    with UnitOfWork(engine) as uow:
        notify = ["head@acme.io", "ops@acme.io", "head@acme.io"]
        notifications.sla_breached(uow.store, breach, NOW + timedelta(minutes=1), notify)
        with pytest.raises(ValueError, match="unknown SLA 'lunch'"):
            notifications.sla_breached(uow.store, replace(breach, sla="lunch"), NOW, notify)
        uow.commit()
    ((delivery),) = deliveries(engine)
    assert json.loads(delivery.body)["data"]["action"] == "reassigned to Cy Park (round robin)"
    assert sorted(e.to for e in emails(engine)) == ["head@acme.io", "ops@acme.io"]
    assert send_emails(engine, smtp_settings(controller), NOW + timedelta(minutes=1)).sent == 2
    message = inbox.received[0][2]
    assert (
        message["Subject"]
        == "SLA missed: Bo Lee (A) was not accepted by Mon 23 Nov 2026, 09:00 UTC"
    )
    assert "What leadflow did: reassigned to Cy Park (round robin)" in body(message)


def test_other_events_go_to_webhooks_by_rep(engine: Engine, receiver: Receiver) -> None:
    ann, cy = rep(engine, "Ann Lee", "ann@acme.io"), rep(engine, "Cy Park", "cy@acme.io")
    with UnitOfWork(engine) as uow:
        hook, _ = webhooks.add_webhook(uow, receiver.url, "lead.accepted,stage.changed", NOW, ann)
    with UnitOfWork(engine) as uow:
        notifications.event(uow.store, "lead.accepted", {"person_id": 1, "rep_id": ann}, NOW)
        notifications.event(uow.store, "lead.accepted", {"person_id": 2, "rep_id": cy}, NOW)
        notifications.event(uow.store, "stage.changed", {"person_id": 3}, NOW)  # no rep
        with pytest.raises(ValueError, match=r"lead\.routed has a function of its own"):
            notifications.event(uow.store, "lead.routed", {}, NOW)
        with pytest.raises(ValueError, match=r"unknown webhook event 'lead\.won'"):
            notifications.event(uow.store, "lead.won", {}, NOW)
        uow.commit()
    assert [json.loads(d.body)["data"] for d in deliveries(engine)] == [
        {"person_id": 1, "rep_id": ann}
    ]
    with UnitOfWork(engine) as uow, httpx.Client() as client:
        assert webhooks.deliver_due(uow, NOW, client) == outbox.Report(sent=1)
    assert hook.rep_id == ann
