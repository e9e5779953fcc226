"""Give every person the identifiers and matching blocks their inquiries give today.

Matching finds a person by identifiers (``person_keys``: email, phone, a source's id) and
compares names within blocks (``person_blocks``: a company's domain or name, a shared
phone or role address, a former name), both recorded as each inquiry is captured. A
database whose people were captured before a matching rule came in lacks what that rule
reads for them: people found only by a shared phone's block (``phone:``), a role
address's (``role:``) or a name they no longer go by (``name:``) were not put in it, so
today's capture cannot find them there and makes someone new.

``reindex`` reads each person's inquiries again, in the order they were received, as
their capture read them, and adds what is missing: an identifier nobody owns goes to the
person (the people are taken in order of id, which is the order they were first seen,
so an identifier goes to the first who gave it, as capture gives it); one another person
owns puts them in its shared block when it is a phone or a role address; their inquiries'
company blocks, and the block of each name they were called before their present one.
Nothing is removed, no one is merged, moved or rated again: a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from leadflow.adapters.identity.names import former_name_block
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Store
from leadflow.domain.playbook import Playbook
from leadflow.services import identity
from leadflow.services.capture import CaptureSettings
from leadflow.services.merges import read_inquiry
from leadflow.services.uow import UnitOfWork

CHUNK = 2_000  # people a transaction: short enough for a capture to get in between


@dataclass(frozen=True)
class Reindexed:
    people: int  # read
    changed: int  # given at least one identifier or block
    keys: int  # identifiers added
    blocks: int  # block memberships added


@dataclass
class _Wanted:
    """What one person's inquiries give, in the order they gave it."""

    keys: dict[tuple[str, str], None]
    blocks: dict[str, None]


def reindex(
    uow_factory: Callable[[], UnitOfWork],
    pb: Playbook,
    settings: CaptureSettings,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
) -> Reindexed:
    """Add the identifiers and blocks every person's inquiries give and they lack, a
    transaction each ``chunk`` people; ``progress`` is told ``(people done, people)``
    after each."""
    with uow_factory() as uow:
        total = uow.store.count(t.people)
    done = changed = keys = blocks = 0
    after = 0
    while True:
        with uow_factory() as uow:
            store = uow.store
            ids = store.person_ids(after, chunk)
            if not ids:
                break
            wanted = _wanted(store, pb, settings, ids)
            have = store.blocks_of(ids[0], ids[-1])
            owners = store.key_owners(key for w in wanted.values() for key in w.keys)
            for person_id in ids:
                want = wanted.get(person_id)
                if want is None:
                    continue
                added = [key for key in want.keys if key not in owners]
                taken = store.add_keys(person_id, want.keys, owners)
                owners.update({key: person_id for key in added})
                shared = (identity.shared_block(kind, value) for kind, value in taken)
                new = [
                    b
                    for b in dict.fromkeys([*want.blocks, *(s for s in shared if s)])
                    if b not in have.get(person_id, ())
                ]
                store.add_blocks(person_id, new)
                keys += len(added)
                blocks += len(new)
                changed += bool(added or new)
            uow.commit()
        done += len(ids)
        after = ids[-1]
        if progress is not None:
            progress(done, max(total, done))
    return Reindexed(done, changed, keys, blocks)


def _wanted(
    store: Store, pb: Playbook, settings: CaptureSettings, ids: Sequence[int]
) -> dict[int, _Wanted]:
    """Per person of ``ids``, the identifiers and blocks their inquiries give."""
    wanted: dict[int, _Wanted] = {}
    names: dict[int, str] = {}
    for row in store.inquiries_of_people(ids[0], ids[-1]):
        person_id = int(row.person_id)
        who, _ = read_inquiry(store, pb, row, settings)
        want = wanted.setdefault(person_id, _Wanted({}, {}))
        want.keys.update(dict.fromkeys(who.keys))
        want.blocks.update(dict.fromkeys(who.blocks))
        name, old = who.norm.name_key, names.get(person_id)
        if name:
            if old and old != name:  # as capture does: the name they were called until now
                want.blocks[former_name_block(old)] = None
            names[person_id] = name
    return wanted
