"""Notifications: the one place the rest of leadflow calls to tell the outside world.

::

    lead_routed(store, RoutedNotice(...), now, email=True)   # webhook + an email to the rep
    sla_breached(store, BreachNotice(...), now, notify=["sales-lead@acme.io"])
    event(store, "lead.accepted", {"person_id": 7, "rep_id": 3}, now)

Each call writes to the outboxes in the caller's transaction (a webhook delivery per
subscribed webhook, through the subscriptions cache, so nothing when nobody subscribes;
one statement for the emails) and returns: the dispatcher sends them once the
transaction commits (``services.dispatch``). A webhook with a rep gets an event only
when its data has that ``rep_id``; the notices carry it.

The emails are plain text, rendered from ``templates/email/*.txt.j2``. The one to the
rep says who the lead is, the contact preferences to honour (first, and in the
subject), why it is sales-ready, the deadlines and the lead id.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from leadflow.adapters.store.repository import Store, utc
from leadflow.services import mailer, webhooks

SLAS = {"accept": "accepted", "first_contact": "contacted for the first time"}
"""The SLAs a breach can be of, and the words for what was due."""
TYPED = ("lead.routed", "sla.breached")
"""Events with a function of their own here (their data has a fixed shape)."""


@dataclass(frozen=True)
class RoutedNotice:
    """A sales-ready lead was routed to a rep: who, why, to whom and by when."""

    person_id: int
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    title: str | None
    grade: str
    score: float
    reasons: tuple[str, ...]  # plain-language reasons why it is sales-ready
    contact_notes: tuple[str, ...]  # contact preferences to honour, e.g. ("Do not call",)
    rep_id: int
    rep_name: str
    rep_email: str
    team: str | None
    why_rep: str  # "round robin in team emea", "owner of account acme.io"
    accept_by: datetime | None
    contact_by: datetime | None


@dataclass(frozen=True)
class BreachNotice:
    """A lead's SLA (``accept`` or ``first_contact``) was missed, and what was done."""

    person_id: int
    name: str | None
    grade: str
    sla: str  # "accept" or "first_contact"
    due_at: datetime
    rep_id: int | None
    rep_name: str | None
    action: str  # what the escalation did, in plain words


def lead_routed(store: Store, notice: RoutedNotice, at: datetime, email: bool) -> None:
    """Queue ``lead.routed`` (data: the notice, with ``rep_id``) for the webhooks, and,
    when ``email``, an email to the rep."""
    leads_routed(store, [(notice, at)], email)


def leads_routed(
    store: Store, notices: Sequence[tuple[RoutedNotice, datetime]], email: bool
) -> None:
    """:func:`lead_routed` for many leads (a bulk import's slice), the webhooks' rows
    queued in one statement per moment (a slice's leads share one), in the order given
    within each."""
    by_moment: dict[datetime, list[tuple[str, dict[str, Any]]]] = {}
    for notice, at in notices:
        by_moment.setdefault(at, []).append(("lead.routed", as_data(notice)))
    for at, events in by_moment.items():
        webhooks.enqueue_all(store, events, at)
    if email:
        for notice, at in notices:
            subject, text = routed_email(notice)
            mailer.queue_email(
                store, notice.rep_email, subject, text, at, "lead.routed", notice.person_id
            )


def sla_breached(store: Store, notice: BreachNotice, at: datetime, notify: Sequence[str]) -> None:
    """Queue ``sla.breached`` (data: the notice) for the webhooks, and an email to each
    address in ``notify`` (once each)."""
    if notice.sla not in SLAS:
        raise ValueError(f"unknown SLA {notice.sla!r}: {', '.join(SLAS)}")
    webhooks.enqueue(store, "sla.breached", as_data(notice), at)
    if notify:
        subject, text = breach_email(notice)
        mailer.queue_emails(store, notify, subject, text, at, "sla.breached", notice.person_id)


def event(store: Store, event_type: str, data: Mapping[str, Any], at: datetime) -> None:
    """Queue any other webhook event (``lead.accepted``, ``lead.rejected``,
    ``lead.recycled``, ``stage.changed``, ...: ``webhooks.EVENTS``); put ``rep_id`` in
    ``data`` for rep webhooks."""
    if event_type in TYPED:
        raise ValueError(f"{event_type} has a function of its own in services.notifications")
    webhooks.enqueue(store, event_type, data, at)


def as_data(notice: RoutedNotice | BreachNotice) -> dict[str, Any]:
    """A notice as webhook data: its fields, lists for tuples (times become ISO 8601
    in UTC when the body is written)."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in dataclasses.asdict(notice).items()
    }


def routed_email(notice: RoutedNotice) -> tuple[str, str]:
    """The subject and text of the email to the rep a lead was routed to."""
    who = _who(notice.person_id, notice.name, notice.email, notice.company)
    subject = f"New {notice.grade} lead for you: {who}"
    if notice.company and notice.company not in who:
        subject += f" ({notice.company})"
    if notice.contact_notes:
        subject += f" - {'; '.join(notice.contact_notes)}"
    if notice.accept_by is not None:
        subject += f" - accept by {when(notice.accept_by)}"
    text = _render(
        "lead_routed.txt.j2",
        n=notice,
        who=who,
        score=format(notice.score, "g"),
        accept_by=when(notice.accept_by),
        contact_by=when(notice.contact_by),
    )
    return subject, text


def breach_email(notice: BreachNotice) -> tuple[str, str]:
    """The subject and text of the email that an SLA was missed."""
    who = _who(notice.person_id, notice.name, None, None)
    deadline = SLAS[notice.sla]
    subject = f"SLA missed: {who} ({notice.grade}) was not {deadline} by {when(notice.due_at)}"
    text = _render(
        "sla_breached.txt.j2", n=notice, who=who, deadline=deadline, due_at=when(notice.due_at)
    )
    return subject, text


def when(moment: datetime | None) -> str:
    """A deadline as people read it: ``Mon 23 Nov 2026, 11:00 UTC``."""
    if moment is None:
        return "no deadline"
    return utc(moment).strftime("%a %d %b %Y, %H:%M UTC")  # type: ignore[union-attr]


def _who(person_id: int, name: str | None, email: str | None, company: str | None) -> str:
    for label in (name, email, company):
        if label and label.strip():
            return " ".join(label.split())
    return f"lead {person_id}"


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("leadflow", "templates/email"),
        autoescape=False,  # plain text; nothing here is HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, **context: Any) -> str:
    return _templates().get_template(name).render(**context)
