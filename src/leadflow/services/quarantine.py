"""The quarantine: inquiries leadflow could not process, kept with their error.

A person fixes one (``--set field=value`` on top of what was received, or a
corrected JSON object) and replays it through the same capture path. A replay
that fails again stays in the quarantine with the new error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow.adapters.store.repository import Record
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import column_key
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.capture import (
    IDENTITY_ALIASES,
    IDENTITY_FIELDS,
    Captured,
    CaptureInquiry,
    CaptureSettings,
    capture_guarded,
    identify,
    split_fields,
    unread_name,
)
from leadflow.services.forms import for_replay
from leadflow.services.uow import UnitOfWork


@dataclass(frozen=True)
class Replayed:
    item_id: int
    result: Captured


def item(uow: UnitOfWork, item_id: int) -> Record:
    found = uow.store.quarantine_item(item_id)
    if found is None:
        raise NotFound(f"no quarantined inquiry {item_id} (see 'leadflow quarantine list')")
    return found


def fields_of(row: Record) -> dict[str, Any]:
    """What the inquiry said: its parsed fields, else its payload read as JSON."""
    if row.fields is not None:
        return dict(row.fields)
    try:
        value = json.loads(row.payload)
    except ValueError:
        raise InvalidInput(
            "the payload could not be read; replay it with --payload FILE.json", "replay"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput("the payload is not a JSON object; use --payload FILE.json", "replay")
    return value


def apply_changes(fields: Mapping[str, Any], changes: Mapping[str, str]) -> dict[str, Any]:
    """Fixes replace a field however it was spelled: ``email`` replaces ``Email``, and
    an identity field replaces its other names (``external_id`` replaces ``id``)."""
    fixed = dict(fields)
    for name, value in changes.items():
        same = _spellings(name)
        for existing in [k for k in fixed if column_key(k) in same]:
            del fixed[existing]
        fixed[name] = value
    return fixed


def _spellings(name: str) -> set[str]:
    key = column_key(name)
    field = IDENTITY_ALIASES.get(key)
    return set(IDENTITY_FIELDS[field]) if field else {key}


def replay(
    uow: UnitOfWork,
    pb: Playbook,
    item_id: int,
    settings: CaptureSettings,
    now: datetime,
    changes: Mapping[str, str] | None = None,
    replacement: Mapping[str, Any] | None = None,
) -> Replayed:
    """Capture the fixed inquiry and mark the item replayed, in one transaction.

    When it still cannot be captured, the same item stays in the quarantine with
    the new error (no second item is made).
    """
    row = item(uow, item_id)
    if row.replayed_at is not None:
        raise Conflict(
            f"quarantined inquiry {item_id} was already replayed (inquiry {row.inquiry_id})"
        )
    for name, value in (changes or {}).items():  # a typo would add a field no rule reads
        said = unread_name(pb, name)
        if said is not None:
            raise InvalidInput(f"'{name}={value}': {said}", where="--set")
    fields = dict(replacement) if replacement is not None else fields_of(row)
    source = row.source
    if row.reason == "unknown_form" and replacement is None:
        # Kept as posted, before any form read it: read it as its form does now.
        fields, form_source = for_replay(uow, row.form_key, fields)
        source = source or form_source
    fields = apply_changes(fields, changes or {})
    raw = json.dumps(fields, ensure_ascii=False)
    cmd = CaptureInquiry(
        fields,
        raw,
        source or "replay",
        "replay",
        now,
        campaign=_campaign(row, fields, changes or {}, replaced=replacement is not None),
        form_key=row.form_key,
    )
    ident, _ = split_fields(pb, fields)
    who = identify(cmd, ident, settings.region)
    if not who.identifiable:
        problem = "; ".join(p for p in (who.norm.email_issue, who.norm.phone_issue) if p)
        return _still_failing(uow, item_id, problem or "still no email, phone or id")
    # A capture that quarantines the fix itself (a value the database would refuse) makes a
    # second item: undone, so that this one stays, with the new error, to be fixed again.
    attempt = uow.store.connection.begin_nested()
    result, refused = capture_guarded(uow.store, pb, cmd, settings)
    if result is None or result.quarantined:
        attempt.rollback()
        why = f"the database refused it: {refused}" if result is None else result.error
        return _still_failing(uow, item_id, why or "it could not be captured")
    attempt.commit()
    uow.store.update_quarantine(
        item_id, {"replayed_at": now, "inquiry_id": result.inquiry_id, "fields": fields}
    )
    uow.commit()
    return Replayed(item_id, result)


def _campaign(
    row: Record, fields: Mapping[str, Any], changes: Mapping[str, str], *, replaced: bool
) -> str | None:
    """The campaign the item was given beside its fields, unless the fix names one: a
    ``--set campaign=...``, or a replacement with a campaign of its own."""
    named = changes.keys() | (fields.keys() if replaced else set())
    if any(column_key(name) in _spellings("campaign") for name in named):
        return None
    return None if row.campaign is None else str(row.campaign)


def _still_failing(uow: UnitOfWork, item_id: int, error: str) -> Replayed:
    uow.store.update_quarantine(item_id, {"error": f"replay failed: {error}"})
    uow.commit()
    return Replayed(item_id, Captured(quarantine_id=item_id, error=error))
