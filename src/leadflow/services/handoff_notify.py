"""Tell the outside world what a hand-off step did: webhooks and emails, via the outbox.

Called with a step's events in the transaction that logs them (so the notifications
exist exactly when the step commits). ``lead.routed`` becomes a :class:`RoutedNotice`
(who the lead is, why it is sales-ready, its contact preferences, the rep and why, the
deadlines) for the rep's webhooks and, with ``Runtime.email``, an email to the rep;
``sla.breached`` a :class:`BreachNotice`, emailed to the team's manager when the
escalation says ``notify_manager``; the other events of :data:`webhooks.EVENTS` go to
the webhooks as they were logged, with the person's id and the lead's owner
(``rep_id``), so a rep's webhook gets the events of its own leads.

With no webhook subscribed and no email to send, this runs no statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import Event, PersonRow, Store, person_row
from leadflow.domain.lifecycle import as_moment
from leadflow.domain.playbook import Playbook
from leadflow.services import notifications, webhooks
from leadflow.services.handoff import Runtime, Step, contact_notes, finish
from leadflow.services.notifications import BreachNotice, RoutedNotice


def publish(
    store: Store,
    pb: Playbook,
    person_id: int,
    events: Sequence[Event],
    owner: int | None,
    runtime: Runtime,
) -> None:
    """Queue the notifications for ``events``, all of one person whose owner is now
    ``owner``; nothing is read for an event nobody hears of."""
    for e in events:
        if not _heard(store, e.kind, runtime):
            continue
        data = dict(e.data or {})
        if e.kind == "lead.routed":
            routed = _routed(store, pb, person_id, data)
            notifications.lead_routed(store, routed, e.at, runtime.email)
        elif e.kind == "sla.breached":
            notice, notify = _breach(store, person_id, data, events)
            notifications.sla_breached(store, notice, e.at, notify if runtime.email else ())
        elif e.kind in webhooks.EVENTS and e.kind != "lead.rated":
            rep = data.get("rep_id", owner)
            notifications.event(
                store, e.kind, {**data, "person_id": person_id, "rep_id": rep}, e.at
            )


def publish_routed(
    store: Store, pb: Playbook, routed: Sequence[tuple[int, Sequence[Event]]], runtime: Runtime
) -> None:
    """:func:`publish` for the ``lead.routed`` events of many people (a bulk import's
    slice: ``(person id, events)`` in the order routed), their people, ratings and
    opt-outs read together; nothing read when nobody hears of it."""
    events = [(p, e) for p, logged in routed for e in logged if e.kind == "lead.routed"]
    if not events or not _heard(store, "lead.routed", runtime):
        return
    ids = sorted({p for p, _ in events})
    nurture = NurtureStore(store.connection)
    people = {i: person_row(row._asdict()) for i, row in nurture.people(ids).items()}
    ratings, opted = store.ratings_of(ids), nurture.opted_out(ids)
    notices = [
        (
            _notice(
                pb,
                person_id,
                dict(e.data or {}),
                people.get(person_id),
                ratings.get(person_id),
                opted.get(person_id, set()),
            ),
            e.at,
        )
        for person_id, e in events
    ]
    notifications.leads_routed(store, notices, runtime.email)


def _heard(store: Store, kind: str, runtime: Runtime) -> bool:
    """Whether an event of ``kind`` reaches anyone: a webhook subscribed to it (the
    subscriptions are cached), or an email this process sends for it."""
    if runtime.email and kind in ("lead.routed", "sla.breached"):
        return True
    return kind in webhooks.EVENTS and kind in webhooks.SUBSCRIPTIONS.of(store)


def _routed(store: Store, pb: Playbook, person_id: int, data: dict[str, Any]) -> RoutedNotice:
    opted = NurtureStore(store.connection).opted_out([person_id]).get(person_id, set())
    return _notice(pb, person_id, data, store.person(person_id), store.rating(person_id), opted)


def _notice(
    pb: Playbook,
    person_id: int,
    data: dict[str, Any],
    person: PersonRow | None,
    rating: Any,
    opted: set[str],
) -> RoutedNotice:
    facts = person.facts if person is not None else {}
    name = " ".join(p for p in (person.first_name, person.last_name) if p) if person else ""
    return RoutedNotice(
        person_id=person_id,
        name=name or None,
        email=person.email if person else None,
        phone=person.phone if person else None,
        company=person.company if person else None,
        title=_text(facts.get("title")),
        grade=str(data.get("grade") or (rating.grade if rating else "")),
        score=float(data.get("score") or (rating.score if rating else 0.0)),
        reasons=tuple(rating.reasons) if rating is not None else (),
        contact_notes=contact_notes(pb, facts, opted),
        rep_id=int(data["rep_id"]),
        rep_name=str(data.get("rep_name")),
        rep_email=str(data.get("rep_email")),
        team=data.get("team"),
        why_rep=str(data.get("why")),
        accept_by=as_moment(data.get("accept_due")),
        contact_by=None,
    )


def _breach(
    store: Store, person_id: int, data: dict[str, Any], events: Sequence[Event]
) -> tuple[BreachNotice, list[str]]:
    person = store.person(person_id)
    rating = store.rating(person_id)
    rep = store.rep(int(data["rep_id"])) if data.get("rep_id") is not None else None
    after = [e for e in events if e.kind in ("lead.routed", "lead.unassigned")]
    if after and after[-1].kind == "lead.routed":
        action = f"reassigned to {(after[-1].data or {}).get('rep_name')}"
    elif after:
        action = "returned to the team's pool"
    else:
        action = "none: the lead stays with its owner"
    name = " ".join(p for p in (person.first_name, person.last_name) if p) if person else ""
    manager = data.get("manager")
    notify = [manager] if manager and "notify_manager" in data.get("actions", ()) else []
    notice = BreachNotice(
        person_id=person_id,
        name=name or None,
        grade=rating.grade if rating is not None else "",
        sla=str(data["sla"]),
        due_at=as_moment(data["due"]) or datetime.min,
        rep_id=rep.id if rep is not None else None,
        rep_name=rep.name if rep is not None else None,
        action=action,
    )
    return notice, notify


def settle(
    store: Store, leads: LeadStore, pb: Playbook, step: Step, at: datetime, runtime: Runtime
) -> None:
    """Save the step's lifecycle, log its events and queue their notifications."""
    finish(store, leads, step, at)
    publish(store, pb, step.person_id, step.events, step.state.owner_rep_id, runtime)


def _text(value: object) -> str | None:
    return str(value) if value is not None and str(value).strip() else None
