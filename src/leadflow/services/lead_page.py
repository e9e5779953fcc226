"""One lead as its web page shows it: :func:`lead_view` for a signed-in user the
access guard lets in, with one timeline of everything that touched the person.

The timeline merges, newest first: every inquiry received, every activity, every answer,
every event of the log (stage changes, routing, dispositions, SLA breaches, merges),
and every message or call of nurture and sales (touches, with why one was held back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow.adapters.store.pages import PageQueries
from leadflow.adapters.store.repository import utc
from leadflow.domain.playbook import Playbook
from leadflow.services.access import LeadPlace, check_see
from leadflow.services.lead_view import lead_view
from leadflow.services.sales_views import acceptable_stages, place
from leadflow.services.uow import UnitOfWork
from leadflow.services.users import User

EVENT_WORDS = {
    "inquiry.captured": "Inquiry captured",
    "person.merged": "Joined an existing person",
    "person.unmerged": "Divided by an unmerge",
    "lead.rated": "Rated",
    "stage.changed": "Stage changed",
    "lead.routed": "Routed to a rep",
    "lead.unassigned": "Left in the team's pool",
    "lead.accepted": "Accepted by sales",
    "lead.rejected": "Rejected by sales",
    "lead.recycled": "Recycled to marketing",
    "lead.disqualified": "Disqualified",
    "lead.contacted": "Contacted",
    "lead.released": "Released from hold",
    "sla.breached": "SLA missed",
}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    kind: str  # inquiry | activity | answer | event | touch
    title: str
    detail: str


def _event_detail(kind: str, data: dict[str, Any]) -> str:
    if kind == "stage.changed":
        return f"{data.get('from') or 'new'} → {data.get('to')}: {data.get('why') or ''}"
    if kind == "lead.routed":
        return f"to {data.get('rep_name')} ({data.get('team')}): {data.get('why') or ''}"
    if kind in ("lead.rejected", "lead.recycled", "lead.disqualified"):
        note = f" — {data['note']}" if data.get("note") else ""
        until = f", recontact {data['recontact_on']}" if data.get("recontact_on") else ""
        return f"{data.get('reason_label') or data.get('reason')}{until}{note}"
    if kind == "sla.breached":
        return f"{data.get('sla')} SLA due {data.get('due')}"
    words = [
        f"{k}: {v}"
        for k, v in data.items()
        if k != "by" and v not in (None, "") and not isinstance(v, dict | list)
    ]
    return "; ".join(words)[:300]


def timeline(pages: PageQueries, events: list[dict[str, Any]], person_id: int) -> list[Entry]:
    entries = [
        Entry(
            datetime.fromisoformat(e["at"]),
            "event",
            EVENT_WORDS.get(e["type"], e["type"]),
            _event_detail(e["type"], e["data"] or {}),
        )
        for e in events
    ]
    for row in pages.inquiries_of(person_id):
        where = f" · campaign {row.campaign}" if row.campaign else ""
        entries.append(
            Entry(
                utc(row.received_at),  # type: ignore[arg-type]
                "inquiry",
                f"Inquiry #{row.id}",
                f"{row.source} via {row.channel}{where}",
            )
        )
    for row in pages.activities(person_id):
        entries.append(Entry(utc(row.at), "activity", row.type, row.source or ""))  # type: ignore[arg-type]
    for row in pages.answers(person_id):
        by = f" (by {row.by})" if row.by else ""
        entries.append(
            Entry(utc(row.at), "answer", f"Answered {row.field}", f"{row.value}{by}")  # type: ignore[arg-type]
        )
    for row in pages.touches(person_id):
        why = f": {row.reason}" if row.reason else ""
        what = row.subject or (f"{row.track} step {row.step}" if row.track else row.channel)
        entries.append(
            Entry(utc(row.at), "touch", f"{row.channel} {row.status}", f"{what}{why}")  # type: ignore[arg-type]
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def lead_page(
    uow: UnitOfWork, pb: Playbook, user: User, person_id: int, now: datetime
) -> dict[str, Any]:
    """The lead, its timeline and merges, and what this user may do with it."""
    where = place(uow, person_id)
    check_see(user, where)
    view = lead_view(uow, pb, person_id, now)
    pages = PageQueries(uow.store.connection)
    view["timeline_entries"] = timeline(pages, view["timeline"], person_id)
    view["merges"] = uow.store.merges(limit=100, person_id=person_id)
    view["may"] = _may(pb, user, where)
    view["reps"] = pages.reps_of(where.state.team) if view["may"]["reassign"] else []
    view["reasons"] = dict(pb.handoff.reasons)
    return view


def _may(pb: Playbook, user: User, where: LeadPlace) -> dict[str, bool]:
    """What the page offers this user; the access guard and the services decide again."""
    state = where.state
    open_ = state.stage is not None and not pb.stages[state.stage].terminal
    acceptable = state.stage in acceptable_stages(pb) and state.accepted_at is None
    owned = state.owner_rep_id is not None and state.owner_rep_id == user.rep_id
    sales = user.role in ("admin", "manager") or (user.role == "rep" and (owned or where.in_pool))
    with_sales = state.routed_at is not None or state.team is not None or state.side == "sales"
    return {
        "accept": sales and acceptable and (state.owner_rep_id is not None or bool(user.rep_id)),
        "hand_back": sales
        and with_sales
        and (user.role != "rep" or owned)
        and not state.held
        and open_,
        "reassign": user.role in ("admin", "manager") and with_sales and open_,
    }
