"""One lead as people read it: who, how it is rated and why, where it stands, who owns
it, its deadlines, its stage history with time in each stage, and its timeline.

The stage history and the time in each stage are derived from the ``stage.changed``
events, never stored apart from them; the current stage, owner and deadlines are the
``lifecycle`` row, itself the fold of the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import utc
from leadflow.domain.playbook import Playbook
from leadflow.errors import NotFound
from leadflow.services.handoff import contact_notes, iso
from leadflow.services.uow import UnitOfWork


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def lead_view(uow: UnitOfWork, pb: Playbook, person_id: int, now: datetime) -> dict[str, Any]:
    """The lead of person ``person_id`` as a JSON-ready document."""
    store = uow.store
    person = store.person(person_id)
    if person is None:
        raise NotFound(f"no lead {person_id}")
    leads = LeadStore(store.connection)
    state = leads.lifecycle(person_id)
    rating = store.rating(person_id)
    owner = store.rep(state.owner_rep_id) if state.owner_rep_id is not None else None
    events = store.events_of(person_id)
    stage = pb.stages[state.stage] if state.stage in {s.name for s in pb.stages.stages} else None
    history = _history(events, now)
    opted = NurtureStore(store.connection).opted_out([person_id]).get(person_id, set())
    return {
        "id": person.id,
        "person": {
            "email": person.email,
            "phone": person.phone,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company": person.company,
            "facts": person.facts,
            "inquiries": person.inquiry_count,
            "created_at": iso(utc(person.created_at)),
        },
        "contact_notes": list(contact_notes(pb, person.facts, opted)),
        "rating": None
        if rating is None
        else {
            "grade": rating.grade,
            "score": rating.score,
            "route": rating.route,
            "fit": rating.fit,
            "qualification": rating.qualification,
            "engagement": rating.engagement,
            "segment": rating.segment,
            "reasons": list(rating.reasons),
            "data_issues": list(rating.data_issues),
            "playbook_version": rating.playbook_version,
            "rated_at": iso(utc(rating.rated_at)),
        },
        "stage": None
        if state.stage is None
        else {
            "name": state.stage,
            "label": stage.label if stage else state.stage,
            "type": stage.type if stage else None,
            "definition": stage.definition if stage else None,
            "side": state.side,
            "since": iso(state.stage_since),
            "seconds_in_stage": _seconds(state.stage_since, now),
        },
        "team": state.team,
        "owner": None
        if owner is None
        else {"id": owner.id, "name": owner.name, "email": owner.email, "team": owner.team},
        "deadlines": {
            "accept_by": iso(state.accept_due),
            "first_contact_by": iso(state.contact_due),
            "recontact_on": state.recontact_on.isoformat() if state.recontact_on else None,
        },
        "reason": None
        if state.reason is None
        else {
            "key": state.reason,
            "label": pb.handoff.reasons.get(state.reason, state.reason),
            "note": state.note,
        },
        "speed_to_lead": {
            "sales_ready_at": iso(state.sales_ready_at),
            "routed_at": iso(state.routed_at),
            "accepted_at": iso(state.accepted_at),
            "first_contact_at": iso(state.first_contact_at),
            "ready_to_routed_seconds": _seconds(state.sales_ready_at, state.routed_at),
            "routed_to_accepted_seconds": _seconds(state.routed_at, state.accepted_at),
            "accepted_to_contact_seconds": _seconds(state.accepted_at, state.first_contact_at),
        },
        "history": history,
        "timeline": [
            {"at": iso(utc(e.at)), "type": e.type, "inquiry_id": e.inquiry_id, "data": e.data}
            for e in events
        ],
    }


def _history(events: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Every stage change, with how long the lead stayed in the stage it entered."""
    changes = [e for e in events if e.type == "stage.changed"]
    history = []
    for n, e in enumerate(changes):
        at = utc(e.at)
        left = utc(changes[n + 1].at) if n + 1 < len(changes) else None
        data = e.data or {}
        history.append(
            {
                "at": iso(at),
                "from": data.get("from"),
                "to": data.get("to"),
                "by": data.get("by"),
                "why": data.get("why"),
                "event": data.get("event"),
                "playbook_version": data.get("playbook_version"),
                "seconds_in_stage": _seconds(at, left or now),
                "current": left is None,
            }
        )
    return history
