"""Merges and unmerges: every join of an inquiry to a person can be undone.

``unmerge(merge_id)`` splits the merged inquiry off into a person of its own
and rebuilds both people from the inquiries they keep, in the order received
(identifiers, names, company, facts), then rates both again. Activities
stay with the person they were recorded for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadflow.adapters.store.repository import Record, Store
from leadflow.domain.playbook import Playbook
from leadflow.errors import Conflict, NotFound
from leadflow.services.capture import (
    CaptureInquiry,
    CaptureSettings,
    account_for,
    apply_inquiry,
    identify,
    new_person,
    rerate,
    split_fields,
)


@dataclass(frozen=True)
class Unmerged:
    merge_id: int
    inquiry_id: int
    kept_person_id: int
    new_person_id: int


def list_merges(store: Store, limit: int = 50, person_id: int | None = None) -> list[Record]:
    return store.merges(limit=limit, person_id=person_id)


def unmerge(
    store: Store, pb: Playbook, merge_id: int, settings: CaptureSettings, now: datetime
) -> Unmerged:
    merge = store.merge(merge_id)
    if merge is None:
        raise NotFound(f"no merge {merge_id} (see 'leadflow merges')")
    if merge.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone (into person {merge.split_person_id})")
    inquiry = store.inquiry(merge.inquiry_id)
    if inquiry is None or inquiry.person_id != merge.person_id:
        raise Conflict(f"inquiry {merge.inquiry_id} is no longer with person {merge.person_id}")
    # The split person is rebuilt as if its inquiry had been captured alone: first seen
    # then (its last change is that inquiry's too, so it never reads older than it).
    split = new_person(store, inquiry.received_at)
    store.set_inquiry_person(inquiry.id, split, inquiry.account_id)
    store.mark_merge_undone(merge_id, now, split)
    for person_id in (merge.person_id, split):
        reproject(store, pb, person_id, settings)
        rerate(store, pb, person_id, now, None, settings.runtime())
    store.append_event(
        "person.unmerged",
        now,
        merge.person_id,
        inquiry.id,
        {"merge_id": merge_id, "rule": merge.rule, "new_person_id": split},
    )
    return Unmerged(merge_id, inquiry.id, merge.person_id, split)


def reproject(store: Store, pb: Playbook, person_id: int, settings: CaptureSettings) -> None:
    """Rebuild a person from its inquiries, as if they had been captured in order."""
    store.remove_keys(person_id)
    store.update_person(
        person_id,
        {
            "facts": {},
            "inquiry_count": 0,
            "email": None,
            "phone": None,
            "first_name": None,
            "last_name": None,
            "name_key": None,
            "company": None,
            "company_key": None,
            "account_id": None,
        },
    )
    for row in store.inquiries_of(person_id):
        _fold(store, pb, person_id, row, settings)


def _fold(
    store: Store, pb: Playbook, person_id: int, row: Record, settings: CaptureSettings
) -> None:
    fields = store.inquiry_fields(row)
    cmd = CaptureInquiry(
        fields=fields,
        raw=row.payload,
        source=row.source,
        channel=row.channel,
        received_at=row.received_at,
    )
    ident, facts = split_fields(pb, fields)
    who = identify(cmd, ident, settings.region)
    account_id = account_for(store, who, row.received_at)
    apply_inquiry(store, person_id, who, facts, account_id, row.received_at)
    store.set_inquiry_person(row.id, person_id, account_id)
