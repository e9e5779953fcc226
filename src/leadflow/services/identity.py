"""Who is this inquiry from? Find the person it belongs to, or decide it is someone new.

Rules, in order; the first that finds someone wins, and the merge records it:

1. ``external_id``: a source's own id for the record (``source:id``).
2. ``email``: the same normalised address. A *role address* (info@, sales@...)
   is shared by colleagues, so it joins only a name that agrees: alike at
   ``match_name_threshold`` (rapidfuzz ratio of the name keys); a missing name never
   disagrees. Of the people who gave the address, the one whose name, present or
   former, agrees best is found (``role_email``), as for a phone below; none agreeing,
   the later rules decide, and someone new is then found by the address too.
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
   Colleagues are not joined (:func:`colleagues`): when the inquiry's own address
   and one of the person's are at one domain, and the names' differing words are
   each in its own address (mark.jones@ from Mark Jones, mary.jones@ of Mary
   Jones), the next most similar person is taken, if any.

Exact identifiers belong to one person each; an identifier already owned by
someone else is not moved (that would silently merge two existing people). A shared
identifier's other people (a number's, a role address's) are in its block
(:func:`shared_block`), only ever beside the key's owner, so an identifier without one
is not looked up there; a person's former names are in blocks of theirs too
(``names.former_name_block``). With no name to tell them apart (an activity, a search),
:func:`people_behind` finds all of an identifier's people.

The rules read people through :class:`PeopleIndex`: the store for one
inquiry at a time, an in-memory index for a bulk import, so both decide alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from rapidfuzz import fuzz, process

from leadflow.adapters.identity.emails import is_role_address, role_block
from leadflow.adapters.identity.normalise import Normalised
from leadflow.adapters.identity.phones import phone_block

DEFAULT_NAME_THRESHOLD = 90.0
DEFAULT_PHONE_NAME_FLOOR = 70.0
"""How alike two names must be (0-100) for a phone to join them: a switchboard's or a
family's line is several people's, so a phone alone joins only names that can be one."""


class PeopleIndex(Protocol):
    """What the rules need to know about the people already known."""

    def person_by_key(self, kind: str, value: str) -> int | None: ...

    def name_key_of(self, person_id: int) -> str | None: ...

    def sharers(self, block: str) -> Sequence[tuple[int, str | None]]:
        """The people other than the key's owner who gave a shared identifier (its
        ``block``, :func:`shared_block`), by id, with their name keys."""
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

    def emails_of(self, person_id: int) -> Collection[str]:
        """The email addresses the person gave (their ``email`` keys)."""
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


def shared_block(kind: str, value: str) -> str | None:
    """The block of the people, other than its key's owner, who gave an identifier several
    people share: a phone (``phones.phone_block``) or a role address
    (``emails.role_block``); None for another identifier, which is one person's."""
    if kind == "phone":
        return phone_block(value)
    if kind == "email" and is_role_address(value):
        return role_block(value)
    return None


class KeyIndex(Protocol):
    """Who gave an identifier: the store, or the web pages' queries."""

    def person_by_key(self, kind: str, value: str) -> int | None: ...

    def people_sharing(self, kind: str, value: str, block: str) -> list[int]:
        """The key's owner and the people of its ``block`` (:func:`shared_block`), by id."""
        ...


def people_behind(store: KeyIndex, kind: str, value: str) -> list[int]:
    """Everyone who gave an identifier, by id, with no name to choose among them (an
    activity, a search): the key's owner, and for one several people may share (a phone,
    a role address) the others of its block too. One query either way."""
    block = shared_block(kind, value)
    if block is not None:
        return store.people_sharing(kind, value, block)
    found = store.person_by_key(kind, value)
    return [found] if found is not None else []


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
    norm = who.norm
    if norm.email and not norm.role_address:
        found = store.person_by_key("email", norm.email)
        if found is not None:
            return Match(found, "email", 1.0, norm.email)
    elif norm.email:
        role = Shared("email", norm.email, "role_email", fuzz.ratio, threshold)
        match = _by_shared(store, role, norm.name_key)
        if match is not None:
            return match
    if norm.phone:
        phone = Shared("phone", norm.phone, "phone", name_likeness, phone_floor)
        match = _by_shared(store, phone, norm.name_key)
        if match is not None:
            return match
    return _fuzzy(store, who, threshold)


@dataclass(frozen=True)
class Shared:
    """An identifier several people may give (a phone, a role address), the rule it
    joins by, and how alike (0-100) two names must be, by ``likeness``, to be one."""

    kind: str
    value: str
    rule: str
    likeness: Callable[[str, str], float]
    floor: float


def _by_shared(store: PeopleIndex, shared: Shared, name: str | None) -> Match | None:
    """The person of a shared identifier with a name (present or former) the most like
    ``name``, at ``shared.floor`` or more; one with no name agrees, least of all.

    The key's owner is asked first: the same name, or none given, cannot be bettered;
    the identifier's other people (its block, :func:`shared_block`) and former names are
    read only when the owner's name is another."""
    kind, value, rule = shared.kind, shared.value, shared.rule
    owner = store.person_by_key(kind, value)
    if owner is None:
        return None
    owner_name = store.name_key_of(owner)
    if not name or owner_name == name:
        return Match(owner, rule, 1.0, value)
    block = shared_block(kind, value)
    people = [(owner, owner_name), *(store.sharers(block) if block else ())]
    former = store.former_names([person for person, _ in people])
    best: tuple[float, int, str | None] | None = None  # score, person, name key
    for person, present in people:
        names = [present, *sorted(former.get(person, ()))]
        score, other = _likest(name, names, shared.likeness)
        if (score >= shared.floor or other is None) and (best is None or score > best[0]):
            best = (score, person, other)
    if best is None:
        return None
    score, person, other = best
    if not other or other == name:
        return Match(person, rule, 1.0, value)
    return Match(person, rule, score / 100, f"{value}, '{name}' ~ '{other}'")


def _likest(
    name: str, names: Iterable[str | None], likeness: Callable[[str, str], float]
) -> tuple[float, str | None]:
    """The one of ``names`` most like ``name``, and how alike; -1 and None for no name."""
    found: tuple[float, str | None] = (-1.0, None)
    for other in names:
        if other:
            score = likeness(name, other)
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


def colleagues(store: PeopleIndex, who: Identity, person: int, name: str) -> bool:
    """Whether the inquiry and ``person`` (called ``name``), whose names are alike, are
    two colleagues rather than one person: the inquiry's own address and one of the
    person's are two at one domain, and each has in it a word of its own name that the
    other name lacks ("mark.jones@acme.com" from Mark Jones, "mary.jones@acme.com" of
    Mary Jones). A typo in a name is in no address, and the same name (two Shirley
    Ferraris) differs by no word, so neither is a reason to keep two apart."""
    norm = who.norm
    if not norm.email or norm.role_address or not norm.name_key:
        return False
    mine, theirs = set(norm.name_key.split()), set(name.split())
    local, _, domain = norm.email.partition("@")
    if not (mine - theirs) & _words(local):
        return False
    for address in store.emails_of(person):
        other_local, _, other_domain = address.partition("@")
        if other_domain != domain or address == norm.email or is_role_address(address):
            continue
        if (theirs - mine) & _words(other_local):
            return True
    return False


def _words(local: str) -> set[str]:
    """The words of an address's local part: "mary.jones2" is mary and jones."""
    return set(re.split(r"[^a-z]+", local)) - {""}


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
            hits = process.extract(
                name, names, scorer=fuzz.ratio, score_cutoff=threshold, limit=None
            )
            for other, score, at in hits:  # the most similar first
                if found is not None and (score, -people[at]) <= (found[0], -found[1]):
                    break
                if not colleagues(store, who, people[at], other):
                    found = (score, people[at], other)
                    break
        if found is not None and (best is None or found[0] > best.score * 100):
            score, person, other = found
            best = Match(person, "fuzzy_name", score / 100, f"{block}: '{name}' ~ '{other}'")
    return best
