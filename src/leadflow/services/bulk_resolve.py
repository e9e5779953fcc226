"""Who is each row from? The matching rules of ``identity``, over an in-memory index.

:class:`MemoryIndex` answers ``find_person``'s questions (a key's owner, a
person's name key, the people of a company block who share a word of a name)
from memory, and learns each
row's person before the next row is read, so a file is consolidated in file
order exactly as captures one after another would consolidate it. What the
database already knows is fetched per chunk, once per key, block, domain or
company name that the chunk mentions and the index has not seen; a shared identifier's
other people (a number's, a role address's) and their former names only when a row
gives it with a name its owner does not have. A stored person who comes to such an
identifier within the chunk has their former names read when the rules first ask for
them (rare: one query then).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field

import polars as pl

from leadflow.adapters.identity.names import former_name_block
from leadflow.adapters.identity.normalise import Normalised
from leadflow.adapters.store.bulk import BulkStore
from leadflow.services.identity import (
    DEFAULT_PHONE_NAME_FLOOR,
    Identity,
    find_person,
    shared_block,
)

KINDS = (("external", "ext_key"), ("email", "email"), ("phone", "phone"))

STEP = 1024
"""Rows between two questions whether to stop (``MemoryIndex.resolve``)."""
"""Each key kind and the prepared column that holds it."""


@dataclass
class Resolved:
    """Per row of a chunk (``None`` for rows that go to the quarantine)."""

    person: list[int | None]
    account: list[int | None]
    rule: list[str | None]
    score: list[float | None]
    detail: list[str | None]
    new_people: list[int] = field(default_factory=list)
    new_accounts: list[tuple[int, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # (id, domain, name, name_key)
    adopted: list[tuple[int, str]] = field(default_factory=list)  # (account, its new domain)
    new_keys: list[tuple[str, str, int]] = field(default_factory=list)
    new_blocks: list[tuple[str, int]] = field(default_factory=list)

    def cut(self, rows: int) -> None:
        """Keep the first ``rows`` rows only (the rest were not looked at)."""
        for column in (self.person, self.account, self.rule, self.score, self.detail):
            del column[rows:]


class MemoryIndex:
    """The people known so far, as ``identity.PeopleIndex`` asks for them."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], int] = {}
        self.names: dict[int, str | None] = {}
        # Per (block, word of a name key): its person, or its people by id when several
        # (most are one: an int takes a tenth of the memory of a list).
        self.by_word: dict[tuple[str, str], int | list[int]] = {}
        self.blocks_of: dict[int, tuple[str, ...]] = {}
        # Per block of a shared identifier (a phone, a role address) another person owns
        # too: those others, by id (few have any); the name keys people were given before
        # their present one; the people read from the database, and which blocks' people
        # and people's former names were read.
        self.shared: dict[str, list[int]] = {}
        self.former: dict[int, set[str]] = {}
        self.stored: set[int] = set()
        self.shared_read: set[str] = set()
        self.former_read: set[int] = set()
        self.bulk: BulkStore | None = None  # the database's, once asked
        self.seen_blocks: set[str] = set()
        self.domains: dict[str, int] = {}
        self.company_accounts: dict[str, int] = {}
        self.domainless: set[int] = set()  # accounts known by a name alone, no domain yet
        # Each person's email keys given in this import (one as a str, the fewest bytes),
        # and the stored people whose stored ones were read (``identity.colleagues``).
        self.emails: dict[int, str | list[str]] = {}
        self.emails_read: set[int] = set()

    # PeopleIndex
    def person_by_key(self, kind: str, value: str) -> int | None:
        return self.keys.get((kind, value))

    def name_key_of(self, person_id: int) -> str | None:
        return self.names.get(person_id)

    def sharers(self, block: str) -> list[tuple[int, str | None]]:
        return [(p, self.names.get(p)) for p in self.shared.get(block, ())]

    def former_names(self, people: Sequence[int]) -> dict[int, set[str]]:
        if self.bulk is not None:
            # Read before the chunk, but for a stored person who came to a shared
            # identifier in it.
            unread = [p for p in people if p in self.stored and p not in self.former_read]
            if unread:
                self._read_former(self.bulk, unread)
        former = self.former
        return {p: former[p] for p in people if p in former}

    def emails_of(self, person_id: int) -> list[str]:
        bulk = self.bulk
        if bulk is not None and person_id in self.stored and person_id not in self.emails_read:
            self.emails_read.add(person_id)  # rarely asked: read when first asked
            for email in bulk.emails_of(person_id):
                self._email(person_id, email)
        found = self.emails.get(person_id)
        return [] if found is None else [found] if isinstance(found, str) else found

    def _email(self, person: int, email: str) -> None:
        found = self.emails.get(person)
        if found is None:
            self.emails[person] = email
        elif isinstance(found, str):
            if found != email:
                self.emails[person] = [found, email]
        elif email not in found:
            found.append(email)

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str | None]]]:
        by_word, names = self.by_word, self.names
        groups: list[tuple[list[int], list[str | None]]] = []
        for word in words:
            found = by_word.get((block, word))
            if found is None:
                continue
            people = [found] if isinstance(found, int) else found
            groups.append((people, [names[p] for p in people]))
        return groups

    def _add(self, block: str, person: int, name: str | None) -> None:
        for word in set(name.split()) if name else ():
            key = (block, word)
            found = self.by_word.get(key)
            if found is None:
                self.by_word[key] = person
            elif isinstance(found, int):
                if found != person:
                    self.by_word[key] = sorted((found, person))
            else:
                at = bisect.bisect_left(found, person)
                if at == len(found) or found[at] != person:
                    found.insert(at, person)

    def _remove(self, block: str, person: int, name: str | None) -> None:
        for word in set(name.split()) if name else ():
            key = (block, word)
            found = self.by_word.get(key)
            if found == person:
                del self.by_word[key]
            elif isinstance(found, list):
                at = bisect.bisect_left(found, person)
                if at < len(found) and found[at] == person:
                    del found[at]

    def _rename(self, person: int, name: str | None) -> None:
        """A person's name key changes: the words they are found by, in every block."""
        old = self.names.get(person)
        self.names[person] = name
        for block in self.blocks_of.get(person, ()):
            self._remove(block, person, old)
            self._add(block, person, name)

    def _share(self, block: str, person: int) -> bool:
        """Count a person among a shared identifier's others (its ``block``); whether they
        were not among them yet."""
        people = self.shared.setdefault(block, [])
        at = bisect.bisect_left(people, person)
        if at < len(people) and people[at] == person:
            return False
        people.insert(at, person)
        return True

    def _join(self, block: str, person: int) -> bool:
        """Put a person in a block; whether they were not in it yet."""
        mine = self.blocks_of.get(person, ())
        if block in mine:
            return False
        self.blocks_of[person] = (*mine, block)
        self._add(block, person, self.names.get(person))
        return True

    # ------------------------------------------------------------ from the database

    def fetch(self, bulk: BulkStore, chunk: pl.DataFrame, refresh: bool) -> None:
        """Learn what the database knows about the keys, blocks and companies of ``chunk``.

        With ``refresh`` (someone else may have written since), the blocks seen
        before are read again too, with their members' current name keys.
        """
        self.bulk = bulk
        found: set[int] = set()
        for kind, column in KINDS:
            values = chunk.get_column(column).drop_nulls().unique().to_list()
            unknown = [v for v in values if (kind, v) not in self.keys]
            for value, person in bulk.key_owners(kind, unknown).items():
                self.keys[(kind, value)] = person
                found.add(person)
        blocks = _blocks(chunk).to_list()
        unseen = blocks if refresh else [b for b in blocks if b not in self.seen_blocks]
        self.seen_blocks.update(unseen)
        for block, person, name in bulk.block_members(unseen):
            self._named(person, name, refresh)
            self._join(block, person)
            self.stored.add(person)
        missing = [p for p in found if p not in self.names]
        self.names.update(bulk.name_keys(missing))
        self.stored |= found
        self._fetch_shared(bulk, chunk, refresh)
        domains = chunk.get_column("domain").drop_nulls().unique().to_list()
        self.domains.update(
            bulk.accounts_by("domain", [d for d in domains if d not in self.domains])
        )
        companies = chunk.get_column("company_key").drop_nulls().unique().to_list()
        fresh = bulk.accounts_by(
            "name_key", [c for c in companies if c not in self.company_accounts]
        )
        self.company_accounts.update(fresh)
        self.domainless |= bulk.without_domain(fresh.values())

    def _fetch_shared(self, bulk: BulkStore, chunk: pl.DataFrame, refresh: bool) -> None:
        """The other people of the numbers and role addresses whose owner has another name
        than a row gives with it, and the former names of all of them: what
        ``find_person`` reads beyond the owner (an owner still so called when the row
        comes cannot be bettered). Their other people are stored only beside an owner."""
        if refresh:
            self.shared_read.clear()
            self.former_read.clear()
        keys, names = self.keys, self.names
        roles = chunk.filter(pl.col("role_address")).select("email", "name_key")
        asked: dict[str, int] = {}  # block: the key's owner
        for kind, pairs in (("phone", chunk.select("phone", "name_key")), ("email", roles)):
            for value, name in pairs.drop_nulls().unique().iter_rows():
                owner, block = keys.get((kind, value)), shared_block(kind, value)
                if owner is None or not block or block in self.shared_read:
                    continue
                if names.get(owner) != name:
                    asked[block] = owner
        self.shared_read.update(asked)
        people = set(asked.values())
        for block, person, name in bulk.block_members(asked):
            self._named(person, name, refresh)
            self._share(block, person)
            people.add(person)
        self.stored |= people
        self._read_former(bulk, people - self.former_read)

    def _read_former(self, bulk: BulkStore, people: Collection[int]) -> None:
        self.former_read.update(people)
        for person, name in bulk.former_names(people):
            self.former.setdefault(person, set()).add(name)

    def _named(self, person: int, name: str | None, refresh: bool) -> None:
        """A person's name key as the database has it: new to the index, or, with
        ``refresh``, changed since."""
        if person not in self.names:
            self.names[person] = name
        elif refresh and self.names[person] != name:
            self._rename(person, name)

    # ------------------------------------------------------------ row by row

    def resolve(
        self,
        chunk: pl.DataFrame,
        threshold: float,
        people: Iterator[int],
        accounts: Iterator[int],
        stop: Callable[[], bool] | None = None,
        phone_floor: float = DEFAULT_PHONE_NAME_FLOOR,
    ) -> Resolved:
        """Each row's person, in order; with ``stop``, asked every :data:`STEP` rows, the
        rows up to where it said yes (the lists are that long)."""
        n = chunk.height
        out = Resolved([None] * n, [None] * n, [None] * n, [None] * n, [None] * n)
        columns = (
            "reason",
            "email",
            "role_address",
            "phone",
            "name_key",
            "company",
            "company_key",
            "domain",
            "ext_key",
        )
        rows = chunk.select(columns).iter_rows()
        for i, (reason, email, role, phone, name, company, company_key, domain, ext) in enumerate(
            rows
        ):
            if not i % STEP and i and stop is not None and stop():
                out.cut(i)
                break
            if reason is not None:
                continue
            norm = Normalised(
                email, None, phone, None, None, None, name, None, company_key, domain, role
            )
            who = Identity(norm, ext)
            match = find_person(self, who, threshold, phone_floor)
            if match is None:
                person = next(people)
                out.new_people.append(person)
            else:
                person = match.person_id
                out.rule[i], out.score[i], out.detail[i] = match.rule, match.score, match.detail
            out.person[i] = person
            out.account[i] = self._account(out, accounts, domain, company, company_key)
            self._learn(out, person, who, name)
        return out

    def _account(
        self,
        out: Resolved,
        accounts: Iterator[int],
        domain: str | None,
        company: str | None,
        company_key: str | None,
    ) -> int | None:
        """``capture.account_for``: by domain, else by company name; created when new,
        but for an account known by the name alone, which takes the domain."""
        if domain:
            found = self.domains.get(domain)
            if found is None and company_key:
                named = self.company_accounts.get(company_key)
                if named is not None and named in self.domainless:
                    self.domainless.discard(named)
                    found = self.domains[domain] = named
                    out.adopted.append((named, domain))
            if found is None:
                found = self.domains[domain] = next(accounts)
                if company_key:
                    self.company_accounts.setdefault(company_key, found)
                out.new_accounts.append((found, domain, company, company_key))
            return found
        if company_key:
            found = self.company_accounts.get(company_key)
            if found is None:
                found = self.company_accounts[company_key] = next(accounts)
                self.domainless.add(found)
                out.new_accounts.append((found, None, company, company_key))
            return found
        return None

    def _learn(self, out: Resolved, person: int, who: Identity, name: str | None) -> None:
        """``capture.apply_inquiry``'s keys, blocks and name, in memory and for writing."""
        keys = self.keys
        for key in who.keys:
            owner = keys.get(key)
            if owner is None:
                keys[key] = person
                out.new_keys.append((*key, person))
                if key[0] == "email":
                    self._email(person, key[1])
            elif owner != person and (block := shared_block(*key)) and self._share(block, person):
                out.new_blocks.append((block, person))
        old = self.names.get(person)
        if name and old != name:
            if old and old not in self.former.setdefault(person, set()):
                self.former[person].add(old)
                out.new_blocks.append((former_name_block(old), person))
            self._rename(person, name)
        elif person not in self.names:
            self.names[person] = name
        for block in who.blocks:
            if self._join(block, person):
                out.new_blocks.append((block, person))


def _blocks(chunk: pl.DataFrame) -> pl.Series:
    domains = ("domain:" + chunk.get_column("domain")).drop_nulls()
    companies = ("company:" + chunk.get_column("company_key")).drop_nulls()
    return pl.concat([domains, companies]).unique()
