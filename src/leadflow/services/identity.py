"""Who is this inquiry from? Find the person it belongs to, or decide it is someone new.

Rules, in order; the first that finds someone wins, and the merge records it:

1. ``external_id``: a source's own id for the record (``source:id``).
2. ``email``: the same normalised address. A *role address* (info@, sales@...)
   is shared by colleagues, so it only joins when the names agree or one is
   missing.
3. ``phone``: the same number in E.164, given by a person whose name can be the
   inquiry's: a company's switchboard or a family's line is several people's. Names
   agree when alike at ``match_phone_name_floor`` (:func:`name_likeness`: a typo, or
   one's words among the other's, "ann" and "ann lee"); a missing name never
   disagrees. Of the people who gave the number, the one whose name, present or former
   (names follow the latest inquiry), is the most alike is found (the key's owner,
   then the others by id, on ties); none agreeing, the inquiry is someone new, who is
   then found by the number too.
4. ``fuzzy_name``: within the same company (registrable domain, else company
   name without legal suffixes), a person whose name key shares a word with
   the inquiry's (the same nickname-folded first name, or the same last name)
   and is similar enough (rapidfuzz ratio of the name keys, at least
   ``match_name_threshold``). Sharing a word keeps the comparisons few in a
   company of thousands; a typo in one name still leaves the other to share.

Exact identifiers belong to one person each; an identifier already owned by
someone else is not moved (that would silently merge two existing people). A number's
other people are in its block (``phones.phone_block``), only ever beside the key's
owner, so a number without one is not looked up there; a person's former names are in
blocks of theirs too (``names.former_name_block``).

The rules read people through :class:`PeopleIndex`: the store for one
inquiry at a time, an in-memory index for a bulk import, so both decide alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from rapidfuzz import fuzz, process

from leadflow.adapters.identity.normalise import Normalised

DEFAULT_NAME_THRESHOLD = 90.0
DEFAULT_PHONE_NAME_FLOOR = 70.0
"""How alike two names must be (0-100) for a phone to join them: a switchboard's or a
family's line is several people's, so a phone alone joins only names that can be one."""


class PeopleIndex(Protocol):
    """What the rules need to know about the people already known."""

    def person_by_key(self, kind: str, value: str) -> int | None: ...

    def name_key_of(self, person_id: int) -> str | None: ...

    def phone_sharers(self, phone: str) -> Sequence[tuple[int, str | None]]:
        """The people other than the key's owner who gave ``phone`` (its block,
        ``phones.phone_block``), by id, with their name keys."""
        ...

    def former_names(self, people: Sequence[int]) -> Mapping[int, Collection[str]]:
        """The name keys each of ``people`` was given before their present one (those
        with none are left out; ``names.former_name_block``)."""
        ...

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> Iterable[tuple[Sequence[int], Sequence[str | None]]]:
        """The people of a block whose name key has one of ``words``: groups (which may
        overlap) of people by id and their name keys, two lists in step."""
        ...


@dataclass(frozen=True)
class Identity:
    """What identifies one inquiry's sender."""

    norm: Normalised
    external: str | None  # "source:id"

    @cached_property
    def keys(self) -> list[tuple[str, str]]:
        """Exact identifiers to record for the person."""
        keys: list[tuple[str, str]] = []
        if self.external:
            keys.append(("external", self.external))
        if self.norm.email:
            keys.append(("email", self.norm.email))
        if self.norm.phone:
            keys.append(("phone", self.norm.phone))
        return keys

    @cached_property
    def blocks(self) -> list[str]:
        blocks = []
        if self.norm.domain:
            blocks.append(f"domain:{self.norm.domain}")
        if self.norm.company_key:
            blocks.append(f"company:{self.norm.company_key}")
        return blocks

    @property
    def identifiable(self) -> bool:
        return bool(self.norm.email or self.norm.phone or self.external)


@dataclass(frozen=True)
class Match:
    person_id: int
    rule: str
    score: float
    detail: str


def names_agree(a: str | None, b: str | None, threshold: float) -> bool:
    """Two name keys are the same person's; a missing name cannot disagree."""
    if not a or not b:
        return True
    return fuzz.ratio(a, b) >= threshold


def find_person(
    store: PeopleIndex,
    who: Identity,
    threshold: float = DEFAULT_NAME_THRESHOLD,
    phone_floor: float = DEFAULT_PHONE_NAME_FLOOR,
) -> Match | None:
    if who.external:
        found = store.person_by_key("external", who.external)
        if found is not None:
            return Match(found, "external_id", 1.0, who.external)
    email = who.norm.email
    if email:
        found = store.person_by_key("email", email)
        if found is not None:
            if not who.norm.role_address:
                return Match(found, "email", 1.0, email)
            if names_agree(store.name_key_of(found), who.norm.name_key, threshold):
                return Match(found, "role_email", 1.0, f"{email}, same name")
    if who.norm.phone:
        match = _by_phone(store, who.norm.phone, who.norm.name_key, phone_floor)
        if match is not None:
            return match
    return _fuzzy(store, who, threshold)


def _by_phone(store: PeopleIndex, phone: str, name: str | None, floor: float) -> Match | None:
    """The person of ``phone`` with a name (present or former) the most like ``name``, at
    ``floor`` or more; one with no name agrees, least of all.

    The key's owner is asked first: the same name, or none given, cannot be bettered;
    the number's other people and former names are read only when the owner's name is
    another."""
    owner = store.person_by_key("phone", phone)
    if owner is None:
        return None
    owner_name = store.name_key_of(owner)
    if not name or owner_name == name:
        return Match(owner, "phone", 1.0, phone)
    people = [(owner, owner_name), *store.phone_sharers(phone)]
    former = store.former_names([person for person, _ in people])
    best: tuple[float, int, str | None] | None = None  # score, person, name key
    for person, present in people:
        score, other = _likest(name, [present, *sorted(former.get(person, ()))])
        if (score >= floor or other is None) and (best is None or score > best[0]):
            best = (score, person, other)
    if best is None:
        return None
    score, person, other = best
    if not other or other == name:
        return Match(person, "phone", 1.0, phone)
    return Match(person, "phone", score / 100, f"{phone}, '{name}' ~ '{other}'")


def _likest(name: str, names: Iterable[str | None]) -> tuple[float, str | None]:
    """The one of ``names`` most like ``name``, and how alike; -1 and None for no name."""
    found: tuple[float, str | None] = (-1.0, None)
    for other in names:
        if other:
            score = name_likeness(name, other)
            if score > found[0]:
                found = (score, other)
    return found


def name_likeness(a: str, b: str) -> float:
    """How alike two name keys are (0-100): rapidfuzz's ratio ("jon smith", "john smith"),
    or 100 when one's words are all among the other's ("ann", "ann lee"; "lee ann")."""
    if a == b:
        return 100.0
    words_a, words_b = set(a.split()), set(b.split())
    if words_a <= words_b or words_b <= words_a:
        return 100.0
    return fuzz.ratio(a, b)


def _fuzzy(store: PeopleIndex, who: Identity, threshold: float) -> Match | None:
    """The most similar name in the inquiry's blocks; the first by id, then by block, on ties."""
    name = who.norm.name_key
    words = name.split() if name else []
    if len(words) < 2:
        # A first name alone ("John" at BigCo) says too little to make two people one.
        return None
    best: Match | None = None
    for block in who.blocks:
        found: tuple[float, int, str] | None = None  # score, person, name key
        for people, names in store.name_candidates(block, words):
            hit = process.extractOne(name, names, scorer=fuzz.ratio, score_cutoff=threshold)
            if hit is None:
                continue
            other, score, at = hit
            if found is None or (score, -people[at]) > (found[0], -found[1]):
                found = (score, people[at], other)
        if found is not None and (best is None or found[0] > best.score * 100):
            score, person, other = found
            best = Match(person, "fuzzy_name", score / 100, f"{block}: '{name}' ~ '{other}'")
    return best
