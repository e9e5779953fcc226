"""Who is each row from? The matching rules of ``identity``, over an in-memory index.

:class:`MemoryIndex` answers ``find_person``'s questions (a key's owner, a
person's name key, a company block's members) from memory, and learns each
row's person before the next row is read, so a file is consolidated in file
order exactly as captures one after another would consolidate it. What the
database already knows is fetched per chunk, once per key, block, domain or
company name that the chunk mentions and the index has not seen.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import polars as pl

from leadflow.adapters.identity.normalise import Normalised
from leadflow.adapters.store.bulk import BulkStore
from leadflow.services.identity import Identity, find_person

_NOBODY: tuple[list[int], list[str]] = ([], [])

KINDS = (("external", "ext_key"), ("email", "email"), ("phone", "phone"))
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
    new_keys: list[tuple[str, str, int]] = field(default_factory=list)
    new_blocks: list[tuple[str, int]] = field(default_factory=list)


class MemoryIndex:
    """The people known so far, as ``identity.PeopleIndex`` asks for them."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], int] = {}
        self.names: dict[int, str | None] = {}
        # Per (block, word of a name key): its people by id and their name keys, in step;
        # kept current when a name key changes, through the blocks each person is in.
        self.by_word: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
        self.words_of_block: dict[str, set[str]] = {}
        self.blocks_of: dict[int, set[str]] = {}
        self.domains: dict[str, int] = {}
        self.company_accounts: dict[str, int] = {}

    # PeopleIndex
    def person_by_key(self, kind: str, value: str) -> int | None:
        return self.keys.get((kind, value))

    def name_key_of(self, person_id: int) -> str | None:
        return self.names.get(person_id)

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str]]]:
        by_word = self.by_word
        return [by_word[(block, w)] for w in words if (block, w) in by_word]

    def _add(self, block: str, person: int, name: str | None) -> None:
        if not name:
            return
        words = set(name.split())
        self.words_of_block.setdefault(block, set()).update(words)
        for word in words:
            people, names = self.by_word.setdefault((block, word), ([], []))
            at = bisect.bisect_left(people, person)
            if at < len(people) and people[at] == person:
                names[at] = name
            else:
                people.insert(at, person)
                names.insert(at, name)

    def _remove(self, block: str, person: int, name: str | None) -> None:
        for word in set(name.split()) if name else ():
            people, names = self.by_word.get((block, word), _NOBODY)
            at = bisect.bisect_left(people, person)
            if at < len(people) and people[at] == person:
                del people[at], names[at]

    # ------------------------------------------------------------ from the database

    def fetch(self, bulk: BulkStore, chunk: pl.DataFrame, refresh: bool) -> None:
        """Learn what the database knows about the keys, blocks and companies of ``chunk``.

        With ``refresh`` (someone else may have written since), the blocks seen
        before are read again too, with their members' current name keys.
        """
        found: set[int] = set()
        for kind, column in KINDS:
            values = chunk.get_column(column).drop_nulls().unique().to_list()
            unknown = [v for v in values if (kind, v) not in self.keys]
            for value, person in bulk.key_owners(kind, unknown).items():
                self.keys[(kind, value)] = person
                found.add(person)
        blocks = _blocks(chunk).to_list()
        unseen = blocks if refresh else [b for b in blocks if b not in self.words_of_block]
        for block in unseen:
            for word in self.words_of_block.pop(block, ()):
                self.by_word.pop((block, word), None)
            self.words_of_block[block] = set()
        members = bulk.block_members(unseen)
        for block, person, name in members:
            if refresh or person not in self.names:
                self.names[person] = name
            self.blocks_of.setdefault(person, set()).add(block)
        for block, person, _ in members:
            self._add(block, person, self.names[person])
        missing = [p for p in found if p not in self.names]
        self.names.update(bulk.name_keys(missing))
        domains = chunk.get_column("domain").drop_nulls().unique().to_list()
        self.domains.update(
            bulk.accounts_by("domain", [d for d in domains if d not in self.domains])
        )
        companies = chunk.get_column("company_key").drop_nulls().unique().to_list()
        fresh = [c for c in companies if c not in self.company_accounts]
        self.company_accounts.update(bulk.accounts_by("name_key", fresh))

    # ------------------------------------------------------------ row by row

    def resolve(
        self,
        chunk: pl.DataFrame,
        threshold: float,
        people: Iterator[int],
        accounts: Iterator[int],
    ) -> Resolved:
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
            if reason is not None:
                continue
            norm = Normalised(
                email, None, phone, None, None, None, name, None, company_key, domain, role
            )
            who = Identity(norm, ext)
            match = find_person(self, who, threshold)
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
        """``capture.account_for``: by domain, else by company name; created when new."""
        if domain:
            found = self.domains.get(domain)
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
                out.new_accounts.append((found, None, company, company_key))
            return found
        return None

    def _learn(self, out: Resolved, person: int, who: Identity, name: str | None) -> None:
        """``capture.apply_inquiry``'s keys, blocks and name, in memory and for writing."""
        keys = self.keys
        for key in who.keys:
            if key not in keys:
                keys[key] = person
                out.new_keys.append((*key, person))
        names = self.names
        mine = self.blocks_of.setdefault(person, set())
        if name and names.get(person) != name:
            old = names.get(person)
            names[person] = name
            for block in mine:
                self._remove(block, person, old)
                self._add(block, person, name)
        elif person not in names:
            names[person] = name
        for block in who.blocks:
            if block not in mine:
                mine.add(block)
                self._add(block, person, names[person])
                out.new_blocks.append((block, person))


def _blocks(chunk: pl.DataFrame) -> pl.Series:
    domains = ("domain:" + chunk.get_column("domain")).drop_nulls()
    companies = ("company:" + chunk.get_column("company_key")).drop_nulls()
    return pl.concat([domains, companies]).unique()
