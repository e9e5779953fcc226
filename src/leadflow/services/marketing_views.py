"""What marketing sees on the web pages: the funnel, the leads sales handed back, the
inquiries (searched and filtered) and the quarantine.

The dashboard's funnel is one function behind the :class:`Funnel` interface, so the
reports (funnel by source, velocity) can take its place without touching the pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from leadflow.adapters.identity.emails import normalise_email
from leadflow.adapters.store.pages import PageQueries
from leadflow.adapters.store.repository import Record
from leadflow.domain.playbook import Playbook
from leadflow.services.identity import people_behind
from leadflow.services.quarantine import fields_of, item
from leadflow.services.uow import UnitOfWork

PAGE = 50


@dataclass(frozen=True)
class FunnelRow:
    stage: str
    label: str
    type: str
    side: str
    leads: int
    share: float  # of all leads


@dataclass(frozen=True)
class FunnelView:
    rows: list[FunnelRow]
    total: int
    title: str = "Leads by stage"


class Funnel(Protocol):
    """Anything that draws the dashboard's funnel from the database."""

    def __call__(self, uow: UnitOfWork, pb: Playbook, now: datetime) -> FunnelView: ...


def stage_funnel(uow: UnitOfWork, pb: Playbook, now: datetime) -> FunnelView:
    """Where every lead stands now, stage by stage in the playbook's order."""
    counts = PageQueries(uow.store.connection).stage_counts()
    total = sum(counts.values())
    rows = [
        FunnelRow(
            s.name,
            s.label,
            s.type,
            s.owner,
            counts.get(s.name, 0),
            counts.get(s.name, 0) / total if total else 0.0,
        )
        for s in pb.stages.stages
    ]
    return FunnelView(rows, total)


def handed_back(uow: UnitOfWork, before: datetime | None) -> list[Record]:
    """The leads sales rejected or recycled, waiting for their recontact date."""
    return PageQueries(uow.store.connection).handed_back(before, PAGE)


@dataclass(frozen=True)
class InquirySearch:
    q: str = ""  # an email address or a phone number (all its people, if shared) or a person id
    source: str = ""
    channel: str = ""
    before: int | None = None


def search_inquiries(uow: UnitOfWork, search: InquirySearch, region: str) -> list[Record]:
    """The newest inquiries that match, a page at a time. ``q`` finds a person exactly
    (by email, phone or id): every inquiry of that person, or of every person behind a
    phone or a role address several people gave (a switchboard, info@)."""
    pages = PageQueries(uow.store.connection)
    person_ids: list[int] | None = None
    if search.q.strip():
        person_ids = find_people(pages, search.q, region)
    return pages.inquiries(
        source=search.source.strip() or None,
        channel=search.channel.strip() or None,
        person_ids=person_ids,
        before=search.before,
        limit=PAGE,
    )


def find_people(pages: PageQueries, q: str, region: str) -> list[int]:
    """The people ``q`` names exactly, by id: a lead id, an email address or a phone
    number. A phone or a role address (info@, sales@) finds everyone who gave it (a
    switchboard's, a family's line, colleagues'), not only the first, who owns its key."""
    q = q.strip()
    if q.isdigit() and len(q) < 12:
        return [int(q)]
    if "@" in q:
        email, _ = normalise_email(q)
        return people_behind(pages, "email", email) if email else []
    from leadflow.adapters.identity.phones import normalise_phone

    phone, _ = normalise_phone(q, region)
    return people_behind(pages, "phone", phone) if phone else []


def quarantine_list(uow: UnitOfWork, replayed: bool, before: int | None) -> list[Record]:
    return PageQueries(uow.store.connection).quarantine(
        replayed=replayed, before=before, limit=PAGE
    )


def quarantine_item(uow: UnitOfWork, item_id: int) -> tuple[Record, str]:
    """The item and its fields as editable JSON (the payload as received if unreadable)."""
    row = item(uow, item_id)
    try:
        text = json.dumps(fields_of(row), indent=2, ensure_ascii=False, default=str)
    except Exception:  # an unreadable payload: show it as it came, to be fixed by hand
        text = row.payload
    return row, text


def parse_fixed(text: str) -> dict[str, Any]:
    """The fixed fields a person typed, as a JSON object; InvalidInput says where."""
    from leadflow.errors import InvalidInput

    try:
        value = json.loads(text)
    except ValueError as error:
        raise InvalidInput(
            f"the fields are not valid JSON (line {getattr(error, 'lineno', '?')}): {error}",
            "fields",
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput('the fields must be one JSON object: {"email": ...}', "fields")
    return value
