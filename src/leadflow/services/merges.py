"""Merges and unmerges: every join of an inquiry to a person can be undone.

``unmerge(merge_id)`` splits the merged inquiry off into a person of its own, as if it
had been one from the start: the person's inquiries are dealt out again between the two
in the order they were captured, each later one that was joined by a merge going to the
one of them the matching rules find (an inquiry joined by the split inquiry's phone
follows it; one joined by the kept person's email stays). Each identifier goes to the
first of the two that gave it. Both people are then rebuilt from the inquiries they keep,
in the order received (identifiers, names, company, facts), the kept one with the
answers recorded for it (a call's answers count from when they were given), and rated
again. Activities and answers stay with the person they were recorded for.

A webhook subscribed to ``lead.captured`` hears of the person split off (with the
merge undone and the person it came from), then both are rated again (``lead.rated``).
Both people log ``person.unmerged`` with how many inquiries they keep and their first
one's time, source, campaign and form: the reports' rows follow it, so they stay the fold
of the log (``domain.funnel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadflow.adapters.identity.names import sharing_a_word
from leadflow.adapters.store.repository import Event, Record, Store, utc
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import clean
from leadflow.errors import Conflict, NotFound
from leadflow.services import identity, webhooks
from leadflow.services.capture import (
    CaptureInquiry,
    CaptureSettings,
    account_for,
    add_identifiers,
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
    moved: tuple[int, ...] = ()  # later inquiries that went with the split one


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
    kept = int(merge.person_id)
    # The split person is rebuilt as if its inquiry had been captured alone: first seen
    # then (its last change is that inquiry's too, so it never reads older than it).
    split = new_person(store, inquiry.received_at)
    two = _deal(store, pb, kept, split, inquiry.id, settings)
    store.mark_merge_undone(merge_id, now, split)
    for person_id in (kept, split):
        store.remove_keys(person_id)
    for person_id in (kept, split):
        add_identifiers(store, person_id, two.keys_of(person_id), two.blocks_of(person_id))
    for person_id in (kept, split):
        reproject(store, pb, person_id, settings, keys=False)
    moved = tuple(i for i in two.dealt[split] if i != inquiry.id)
    said = {"merge_id": merge_id, "rule": merge.rule, "moved": list(moved)}
    store.append_events(
        [
            Event(
                "person.unmerged",
                now,
                kept,
                inquiry.id,
                {**said, "new_person_id": split, **_first_touch(store, kept)},
            ),
            Event(
                "person.unmerged",
                now,
                split,
                inquiry.id,
                {**said, "from_person_id": kept, **_first_touch(store, split)},
            ),
        ]
    )
    # The split person is new to a webhook's receiver: it hears of it as of a capture.
    captured = {
        "inquiry_id": inquiry.id,
        "person_id": split,
        "source": inquiry.source,
        "channel": inquiry.channel,
        "campaign": inquiry.campaign,
        "form_key": inquiry.form_key,
        "unmerged_from": kept,
        "merge_id": merge_id,
    }
    webhooks.enqueue_all(store, [("lead.captured", captured)], now)
    for person_id in (kept, split):
        rerate(store, pb, person_id, now, None, settings.runtime())
    return Unmerged(merge_id, inquiry.id, kept, split, moved)


class _Two:
    """The two people an unmerge divides, as the matching rules see them while their
    inquiries are dealt out again (an :class:`identity.PeopleIndex`): each identifier
    is the first dealer's, a phone or role address the other gives too puts them in its
    block (``identity.shared_block``); a name
    key is the latest inquiry's that gives one, those before it former names."""

    def __init__(self, kept: int, split: int) -> None:
        self.keys: dict[tuple[str, str], int] = {}
        self.names: dict[int, str] = {}
        self.former: dict[int, set[str]] = {}
        self.blocks: dict[str, dict[int, None]] = {}
        self.dealt: dict[int, list[int]] = {kept: [], split: []}

    def person_by_key(self, kind: str, value: str) -> int | None:
        return self.keys.get((kind, value))

    def name_key_of(self, person_id: int) -> str | None:
        return self.names.get(person_id)

    def sharers(self, block: str) -> list[tuple[int, str | None]]:
        return [(p, self.names.get(p)) for p in self.blocks.get(block, {})]

    def former_names(self, people: Sequence[int]) -> dict[int, set[str]]:
        return {p: self.former[p] for p in people if p in self.former}

    def emails_of(self, person_id: int) -> list[str]:
        return [v for (k, v), owner in self.keys.items() if k == "email" and owner == person_id]

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str | None]]]:
        members = [(p, self.names.get(p)) for p in self.blocks.get(block, {})]
        return [sharing_a_word(members, words)]

    def deal(self, person_id: int, inquiry_id: int, who: identity.Identity) -> None:
        self.dealt[person_id].append(inquiry_id)
        for key in who.keys:
            shared = self.keys.setdefault(key, person_id) != person_id
            if shared and (block := identity.shared_block(*key)):
                self.blocks.setdefault(block, {})[person_id] = None
        name, old = who.norm.name_key, self.names.get(person_id)
        if name:
            if old and old != name:
                self.former.setdefault(person_id, set()).add(old)
            self.names[person_id] = name
        for block in who.blocks:
            self.blocks.setdefault(block, {})[person_id] = None

    def keys_of(self, person_id: int) -> list[tuple[str, str]]:
        return [key for key, owner in self.keys.items() if owner == person_id]

    def blocks_of(self, person_id: int) -> list[str]:
        return [block for block, people in self.blocks.items() if person_id in people]


def _deal(
    store: Store,
    pb: Playbook,
    kept: int,
    split: int,
    split_inquiry: int,
    settings: CaptureSettings,
) -> _Two:
    """Deal the kept person's inquiries out between the two, in the order captured: those
    before the split inquiry stay; a later one joined by a merge goes where the rules find
    it among the two (the kept person when they find neither, or both by a lower rule);
    its merge then names the person it joined and the rule that joined it."""
    two = _Two(kept, split)
    joined = {int(m.inquiry_id): m for m in store.merges_of_person(kept) if m.undone_at is None}
    for row in sorted(store.inquiries_of(kept), key=lambda r: int(r.id)):
        who, _ = read_inquiry(store, pb, row, settings)
        person = kept
        if row.id == split_inquiry:
            person = split
        elif row.id > split_inquiry and row.id in joined:
            match = identity.find_person(
                two, who, settings.name_threshold, settings.phone_name_floor
            )
            if match is not None and match.person_id == split:
                person = split
                store.move_merge(
                    joined[row.id].id,
                    {
                        "person_id": split,
                        "rule": match.rule,
                        "score": match.score,
                        "detail": match.detail,
                    },
                )
                store.set_inquiry_person(row.id, split, row.account_id)
        two.deal(person, int(row.id), who)
    store.set_inquiry_person(split_inquiry, split, None)
    return two


def read_inquiry(
    store: Store, pb: Playbook, row: Record, settings: CaptureSettings
) -> tuple[identity.Identity, dict[str, object]]:
    """Who an inquiry says it is, and the facts it gives, as its capture read them."""
    fields = store.inquiry_fields(row)
    cmd = CaptureInquiry(fields, row.payload, row.source, row.channel, row.received_at)
    ident, facts = split_fields(pb, fields)
    return identify(cmd, ident, settings.region), facts


def _first_touch(store: Store, person_id: int) -> dict[str, Any]:
    """What the reports count of a person's inquiries (``domain.funnel``): how many, and
    the first captured one's time, source, campaign and form."""
    rows = sorted(store.inquiries_of(person_id), key=lambda r: int(r.id))
    first = rows[0]
    return {
        "inquiries": len(rows),
        "first_at": (utc(first.received_at) or first.received_at).isoformat(),
        "source": first.source,
        "campaign": first.campaign,
        "form_key": first.form_key,
    }


def reproject(
    store: Store, pb: Playbook, person_id: int, settings: CaptureSettings, keys: bool = True
) -> None:
    """Rebuild a person from its inquiries and the answers recorded for it, as if they had
    come in order of time (with ``keys``, its identifiers and blocks too)."""
    if keys:
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
    answers = store.answers_of(person_id)
    for row in store.inquiries_of(person_id):
        while answers and answers[0][2] < (utc(row.received_at) or row.received_at):
            _answer(store, person_id, *answers.pop(0)[:2])
        _fold(store, pb, person_id, row, settings)
    for name, value, _ in answers:
        _answer(store, person_id, name, value)


def _answer(store: Store, person_id: int, name: str, value: str | None) -> None:
    """An answer recorded for the person, as ``record_answers`` folded it."""
    if clean(value) is None:
        return
    person = store.person(person_id)
    assert person is not None
    store.update_person(person_id, {"facts": {**person.facts, name: value}})


def _fold(
    store: Store, pb: Playbook, person_id: int, row: Record, settings: CaptureSettings
) -> None:
    who, facts = read_inquiry(store, pb, row, settings)
    account_id = account_for(store, who, row.received_at)
    apply_inquiry(store, person_id, who, facts, account_id, row.received_at)
    store.set_inquiry_person(row.id, person_id, account_id)
