"""The store: every query leadflow makes, on one connection in one transaction.

Only this module (and the bulk loader beside it) knows SQL. Times go in as
aware UTC datetimes and come out the same way on SQLite and PostgreSQL.

The statements a capture runs are built once, below, with bound parameters, and
executed with a dictionary of values: SQLAlchemy then finds each one compiled in
its cache instead of building and compiling it again for every inquiry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Table,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from leadflow.adapters.identity.names import FORMER_NAME, sharing_a_word
from leadflow.adapters.store import direct
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_store import FunnelStore
from leadflow.domain.moments import as_utc

Record = Row[*tuple[Any, ...]]
"""A result row of any width."""

RATING_FIELDS = (
    "grade",
    "score",
    "route",
    "fit",
    "qualification",
    "engagement",
    "segment",
    "reasons",
    "data_issues",
    "playbook_version",
    "rated_at",
)
"""What :meth:`Store.save_rating` writes: the automated rating, nothing set by hand."""


def _upserts(dialect: Any) -> tuple[Any, Any]:
    """The two upserts of a capture for one dialect: a block, and a lead's rating."""
    block = dialect.insert(t.person_blocks).on_conflict_do_nothing()
    rating = dialect.insert(t.lead_state)
    rating = rating.on_conflict_do_update(
        index_elements=[t.lead_state.c.person_id],
        set_={name: rating.excluded[name] for name in RATING_FIELDS},
    )
    return block, rating


# Built once: executing the same statement object reuses its cache key and compiled form.
_UPSERTS = {"sqlite": _upserts(sqlite), "postgresql": _upserts(postgresql)}
_INQUIRY_BY_IDEMPOTENCY_KEY = select(
    t.inquiries.c.id, t.inquiries.c.person_id, t.inquiries.c.payload
).where(t.inquiries.c.idempotency_key == bindparam("key"))
_INSERT_INQUIRY = insert(t.inquiries)
_SET_INQUIRY_PERSON = (
    update(t.inquiries)
    .where(t.inquiries.c.id == bindparam("inquiry_id"))
    .values(person_id=bindparam("person_id"), account_id=bindparam("account_id"))
)
_PERSON = select(t.people).where(t.people.c.id == bindparam("person_id"))
_PEOPLE = select(t.people).where(t.people.c.id.in_(bindparam("people", expanding=True)))
_INSERT_PERSON = insert(t.people)
_UPDATE_PERSON = update(t.people).where(t.people.c.id == bindparam("target_id"))
_PERSON_BY_KEY = select(t.person_keys.c.person_id).where(
    t.person_keys.c.kind == bindparam("kind"), t.person_keys.c.value == bindparam("value")
)
PEOPLE_SHARING = union(
    _PERSON_BY_KEY,
    select(t.person_blocks.c.person_id).where(t.person_blocks.c.block == bindparam("block")),
)
"""Everyone behind an identifier several people may give (a phone, a role address): its
key's owner and its block's people (``identity.shared_block``)."""
_NAME_KEY_OF = select(t.people.c.name_key).where(t.people.c.id == bindparam("person_id"))
_INSERT_KEY = insert(t.person_keys)
_EMAILS_OF = select(t.person_keys.c.value).where(
    t.person_keys.c.person_id == bindparam("person_id"), t.person_keys.c.kind == "email"
)
_KEY_OWNERS = select(t.person_keys.c.kind, t.person_keys.c.value, t.person_keys.c.person_id).where(
    tuple_(t.person_keys.c.kind, t.person_keys.c.value).in_(bindparam("keys", expanding=True))
)
_BLOCK_MEMBERS = (
    select(t.people.c.id, t.people.c.name_key)
    .join(t.person_blocks, t.person_blocks.c.person_id == t.people.c.id)
    .where(t.person_blocks.c.block == bindparam("block"))
    .order_by(t.people.c.id)
)
_MEMBERS_OF_BLOCKS = (
    select(t.person_blocks.c.block, t.people.c.id, t.people.c.name_key)
    .join(t.person_blocks, t.person_blocks.c.person_id == t.people.c.id)
    .where(t.person_blocks.c.block.in_(bindparam("blocks", expanding=True)))
    .order_by(t.people.c.id)
)
_FORMER_NAMES = select(t.person_blocks.c.person_id, t.person_blocks.c.block).where(
    t.person_blocks.c.person_id.in_(bindparam("people", expanding=True)),
    t.person_blocks.c.block.like(FORMER_NAME + "%"),  # no wildcard in it
)
_ACCOUNT_BY_DOMAIN = select(t.accounts.c.id).where(t.accounts.c.domain == bindparam("domain"))
_ACCOUNT_BY_NAME_KEY = (
    select(t.accounts.c.id)
    .where(t.accounts.c.name_key == bindparam("name_key"))
    .order_by(t.accounts.c.id)
    .limit(1)
)
_INSERT_ACCOUNT = insert(t.accounts)
_FIRST_BY_NAME_KEY = (
    select(t.accounts.c.id, t.accounts.c.domain)
    .where(t.accounts.c.name_key == bindparam("name_key"))
    .order_by(t.accounts.c.id)
    .limit(1)
    .subquery()
)
_ACCOUNT_BY_DOMAIN_OR_NAME = union_all(
    select(t.accounts.c.id, t.accounts.c.domain).where(t.accounts.c.domain == bindparam("domain")),
    select(_FIRST_BY_NAME_KEY.c.id, _FIRST_BY_NAME_KEY.c.domain),
)
_INSERT_MERGE = insert(t.merges)
_INSERT_EVENT = insert(t.events)
_INSERT_ACTIVITY = insert(t.activities)
_RATING = select(t.lead_state).where(t.lead_state.c.person_id == bindparam("person_id"))
_ACTIVITIES_OF = (
    select(t.activities.c.type, t.activities.c.at)
    .where(t.activities.c.person_id == bindparam("person_id"))
    .order_by(t.activities.c.at)
)
_ACTIVITIES_OF_MANY = (
    select(t.activities.c.person_id, t.activities.c.type, t.activities.c.at)
    .where(t.activities.c.person_id.in_(bindparam("people", expanding=True)))
    .order_by(t.activities.c.person_id, t.activities.c.at)
)
_API_KEY_BY_PREFIX = select(t.api_keys).where(t.api_keys.c.prefix == bindparam("prefix"))
_INSERT_QUARANTINE = insert(t.quarantine)
_QUARANTINE_TEXTS = frozenset({"channel", "source", "campaign", "form_key", "payload", "error"})


def storable(text: str) -> str:
    """``text`` with each NUL character as the four characters ``\\x00``, the way bytes
    that are not text are kept: PostgreSQL stores no NUL in text, and what is kept as
    received (a payload, a quarantine item) must be kept whatever it holds."""
    return text.replace("\x00", "\\x00") if "\x00" in text else text


def utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything leadflow stores is UTC."""
    return None if moment is None else as_utc(moment)


@dataclass(frozen=True)
class PersonRow:
    id: int
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    name_key: str | None
    company: str | None
    company_key: str | None
    account_id: int | None
    facts: dict[str, Any]
    inquiry_count: int
    created_at: datetime


@dataclass(frozen=True)
class Event:
    """One entry of the event log, as :meth:`Store.append_events` writes it."""

    kind: str
    at: datetime
    person_id: int | None = None
    inquiry_id: int | None = None
    data: Mapping[str, Any] | None = None


def people_sharing(connection: Connection, kind: str, value: str, block: str) -> list[int]:
    """:data:`PEOPLE_SHARING` of an identifier and its ``block``, by id."""
    params = {"kind": kind, "value": value, "block": block}
    return sorted(int(row[0]) for row in direct.read(connection, PEOPLE_SHARING, params))


class Store:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

        self._upserts = _UPSERTS["postgresql" if self.dialect == "postgresql" else "sqlite"]
        self._import_columns: dict[int, list[str]] = {}
        self.fold_later = False
        """Log events without folding them into the reports' rows (SQLite only: see
        ``funnel_store``); whoever reads or folds the rows next folds them first."""

    # ------------------------------------------------------------ inquiries

    def inquiry_by_idempotency_key(self, key: str) -> Record | None:
        return self.connection.execute(_INQUIRY_BY_IDEMPOTENCY_KEY, {"key": key}).first()

    def insert_inquiry(self, values: Mapping[str, Any]) -> int:
        return direct.insert(self.connection, _INSERT_INQUIRY, values)

    def set_inquiry_person(self, inquiry_id: int, person_id: int, account_id: int | None) -> None:
        direct.write(
            self.connection,
            _SET_INQUIRY_PERSON,
            {"inquiry_id": inquiry_id, "person_id": person_id, "account_id": account_id},
        )

    def inquiry(self, inquiry_id: int) -> Record | None:
        return self.connection.execute(
            select(t.inquiries).where(t.inquiries.c.id == inquiry_id)
        ).first()

    def inquiry_fields(self, row: Record) -> dict[str, Any]:
        """The fields parsed from an inquiry: its own, or, for an inquiry that came with an
        import whose columns give them, its payload's values under the names those
        columns are captured under, nulls left out."""
        m = row._mapping
        if m["fields"] is not None or m["batch"] is None:
            return dict(m["fields"] or {})
        batch = int(m["batch"])
        if batch not in self._import_columns:
            query = select(t.imports.c.columns).where(t.imports.c.id == batch)
            self._import_columns[batch] = [
                name for _, name in self.connection.execute(query).scalar_one()
            ]
        names = self._import_columns[batch]
        values = json.loads(m["payload"]).values()
        return {n: v for n, v in zip(names, values, strict=True) if v is not None}

    def imports(
        self, limit: int, checksum: str | None = None, kind: str | None = None
    ) -> list[Record]:
        """Imported files, newest first; with ``checksum``, only those of that content, and
        with ``kind`` (inquiries, activities), only those of that kind."""
        query = select(t.imports).order_by(t.imports.c.id.desc()).limit(limit)
        if checksum is not None:
            query = query.where(t.imports.c.checksum == checksum)
        if kind is not None:
            query = query.where(t.imports.c.kind == kind)
        return list(self.connection.execute(query))

    def inquiries_of_people(self, first: int, last: int) -> list[Record]:
        """The inquiries of the people with ids from ``first`` to ``last``, each one's in the
        order :meth:`inquiries_of` gives."""
        query = (
            select(t.inquiries)
            .where(t.inquiries.c.person_id.between(first, last))
            .order_by(t.inquiries.c.person_id, t.inquiries.c.received_at, t.inquiries.c.id)
        )
        return list(self.connection.execute(query))

    def inquiries_of(self, person_id: int) -> list[Record]:
        query = (
            select(t.inquiries)
            .where(t.inquiries.c.person_id == person_id)
            .order_by(t.inquiries.c.received_at, t.inquiries.c.id)
        )
        return list(self.connection.execute(query))

    # ------------------------------------------------------------ people

    def person(self, person_id: int) -> PersonRow | None:
        rows = direct.read(self.connection, _PERSON, {"person_id": person_id})
        return person_row(rows[0]._asdict()) if rows else None

    def people(self, ids: Sequence[int]) -> dict[int, PersonRow]:
        """:meth:`person` of several people, read together; an unknown id has no entry."""
        found: dict[int, PersonRow] = {}
        for part in direct.in_parts(list(dict.fromkeys(ids))):
            for row in direct.read(self.connection, _PEOPLE, {"people": part}):
                found[int(row.id)] = person_row(row._asdict())
        return found

    def ratings_of(self, ids: Sequence[int]) -> dict[int, Record]:
        """The automated ratings of ``ids``, by person (see :meth:`rating`)."""
        found: dict[int, Record] = {}
        for part in direct.in_parts(ids):
            query = select(t.lead_state).where(t.lead_state.c.person_id.in_(part))
            for row in self.connection.execute(query):
                found[int(row.person_id)] = row
        return found

    def insert_person(self, values: Mapping[str, Any]) -> int:
        return direct.insert(self.connection, _INSERT_PERSON, values)

    def update_person(self, person_id: int, values: Mapping[str, Any]) -> None:
        # The SET clause follows the keys given; the same keys find it compiled in the cache.
        direct.write(self.connection, _UPDATE_PERSON, {**values, "target_id": person_id})

    def person_by_key(self, kind: str, value: str) -> int | None:
        found = direct.read(self.connection, _PERSON_BY_KEY, {"kind": kind, "value": value})
        return int(found[0][0]) if found else None

    def people_sharing(self, kind: str, value: str, block: str) -> list[int]:
        """Everyone behind an identifier several people may give (a phone, a role address),
        by id: the first who gave it owns its key, the others are in its ``block``
        (``identity.shared_block``); one query, whichever it has."""
        return people_sharing(self.connection, kind, value, block)

    def name_key_of(self, person_id: int) -> str | None:
        return self.connection.execute(_NAME_KEY_OF, {"person_id": person_id}).scalar_one_or_none()

    def key_owners(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Who owns each of these identifiers, in one query; keys nobody owns are left out."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found = direct.read(self.connection, _KEY_OWNERS, {"keys": wanted})
        return {(kind, value): int(owner) for kind, value, owner in found}

    def add_keys(
        self,
        person_id: int,
        keys: Iterable[tuple[str, str]],
        owners: Mapping[tuple[str, str], int] | None = None,
    ) -> list[tuple[str, str]]:
        """Add identifiers not yet taken; return those already owned by another person.

        ``owners`` is :meth:`key_owners` of these keys read earlier in this transaction,
        to save reading them again.
        """
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        if owners is None:
            owners = self.key_owners(wanted)
        free = [
            {"kind": kind, "value": value, "person_id": person_id}
            for kind, value in wanted
            if (kind, value) not in owners
        ]
        if free:
            direct.write(self.connection, _INSERT_KEY, free)
        return [key for key in wanted if owners.get(key, person_id) != person_id]

    def person_ids(self, after: int, limit: int) -> list[int]:
        """Up to ``limit`` people's ids greater than ``after``, in order."""
        query = (
            select(t.people.c.id).where(t.people.c.id > after).order_by(t.people.c.id).limit(limit)
        )
        return [int(i) for i in self.connection.execute(query).scalars()]

    def blocks_of(self, first: int, last: int) -> dict[int, set[str]]:
        """The blocks of the people with ids from ``first`` to ``last``."""
        b = t.person_blocks
        query = select(b.c.person_id, b.c.block).where(b.c.person_id.between(first, last))
        blocks: dict[int, set[str]] = {}
        for person_id, block in self.connection.execute(query):
            blocks.setdefault(int(person_id), set()).add(block)
        return blocks

    def remove_keys(self, person_id: int) -> None:
        self.connection.execute(
            t.person_keys.delete().where(t.person_keys.c.person_id == person_id)
        )
        self.connection.execute(
            t.person_blocks.delete().where(t.person_blocks.c.person_id == person_id)
        )

    def add_blocks(self, person_id: int, blocks: Iterable[str]) -> None:
        rows = [{"block": block, "person_id": person_id} for block in blocks]
        if rows:
            direct.write(self.connection, self._upserts[0], rows)

    def emails_of(self, person_id: int) -> list[str]:
        """``identity.PeopleIndex.emails_of``: the person's email keys."""
        return [r[0] for r in direct.read(self.connection, _EMAILS_OF, {"person_id": person_id})]

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str | None]]]:
        """``identity.PeopleIndex.name_candidates``: the block's people whose name key has
        one of ``words``."""
        return [sharing_a_word(self.block_members(block), words)]

    def sharers(self, block: str) -> list[tuple[int, str | None]]:
        """``identity.PeopleIndex.sharers``: the people of a shared identifier's block."""
        return self.block_members(block)

    def former_names(self, people: Sequence[int]) -> dict[int, list[str]]:
        """``identity.PeopleIndex.former_names``: the people's former name blocks."""
        found: dict[int, list[str]] = {}
        if people:
            rows = direct.read(self.connection, _FORMER_NAMES, {"people": list(people)})
            for person_id, block in rows:
                found.setdefault(int(person_id), []).append(block.removeprefix(FORMER_NAME))
        return found

    def block_members(self, block: str) -> list[tuple[int, str | None]]:
        rows = self.connection.execute(_BLOCK_MEMBERS, {"block": block})
        return [(int(r[0]), r[1]) for r in rows]

    def members_of_blocks(self, blocks: Sequence[str]) -> dict[str, list[tuple[int, str | None]]]:
        """:meth:`block_members` of several blocks in one query; every block has a list."""
        members: dict[str, list[tuple[int, str | None]]] = {block: [] for block in blocks}
        if members:
            for block, person_id, name_key in direct.read(
                self.connection, _MEMBERS_OF_BLOCKS, {"blocks": list(members)}
            ):
                members[block].append((int(person_id), name_key))
        return members

    # ------------------------------------------------------------ accounts

    def account_by_domain(self, domain: str) -> int | None:
        found = direct.read(self.connection, _ACCOUNT_BY_DOMAIN, {"domain": domain})
        return int(found[0][0]) if found else None

    def account_by_name_key(self, name_key: str) -> int | None:
        found = direct.read(self.connection, _ACCOUNT_BY_NAME_KEY, {"name_key": name_key})
        return int(found[0][0]) if found else None

    def account_by_domain_or_name(
        self, domain: str, name_key: str
    ) -> tuple[int | None, int | None]:
        """In one query, :meth:`account_by_domain`, and the account
        :meth:`account_by_name_key` finds when it has no domain yet."""
        rows = direct.read(
            self.connection, _ACCOUNT_BY_DOMAIN_OR_NAME, {"domain": domain, "name_key": name_key}
        )
        by_domain = next((int(r[0]) for r in rows if r[1] == domain), None)
        nameless = next((int(r[0]) for r in rows if r[1] is None), None)
        return by_domain, nameless

    def set_account_domain(self, account_id: int, domain: str) -> None:
        self.connection.execute(
            t.accounts.update().where(t.accounts.c.id == account_id).values(domain=domain)
        )

    def insert_account(self, values: Mapping[str, Any]) -> int:
        return direct.insert(self.connection, _INSERT_ACCOUNT, values)

    # ------------------------------------------------------------ merges

    def insert_merge(self, values: Mapping[str, Any]) -> int:
        return direct.insert(self.connection, _INSERT_MERGE, values)

    def merge(self, merge_id: int) -> Record | None:
        return self.connection.execute(select(t.merges).where(t.merges.c.id == merge_id)).first()

    def merges(self, limit: int = 50, person_id: int | None = None) -> list[Record]:
        query = select(t.merges).order_by(t.merges.c.id.desc()).limit(limit)
        if person_id is not None:
            query = query.where(t.merges.c.person_id == person_id)
        return list(self.connection.execute(query))

    def merges_of_person(self, person_id: int) -> list[Record]:
        """Every merge into this person, undone or not, in the order recorded."""
        query = select(t.merges).where(t.merges.c.person_id == person_id).order_by(t.merges.c.id)
        return list(self.connection.execute(query))

    def move_merge(self, merge_id: int, values: Mapping[str, Any]) -> None:
        """Name another person (and the rule that joins the inquiry to it) in a merge."""
        self.connection.execute(update(t.merges).where(t.merges.c.id == merge_id).values(**values))

    def mark_merge_undone(self, merge_id: int, at: datetime, split_person_id: int) -> None:
        self.connection.execute(
            update(t.merges)
            .where(t.merges.c.id == merge_id)
            .values(undone_at=at, split_person_id=split_person_id)
        )

    # ------------------------------------------------------------ events, activities

    def append_event(
        self,
        kind: str,
        at: datetime,
        person_id: int | None = None,
        inquiry_id: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.append_events([Event(kind, at, person_id, inquiry_id, data)])

    def append_events(self, events: Sequence[Event]) -> None:
        """Log several events in one statement, in the order given, and fold them into
        the reports' ``funnel`` rows (``funnel_store.py``) in the same transaction, after
        any events left unfolded before them; with :attr:`fold_later`, leave them
        unfolded."""
        rows = [
            {
                "type": e.kind,
                "at": e.at,
                "person_id": e.person_id,
                "inquiry_id": e.inquiry_id,
                "data": dict(e.data or {}),
            }
            for e in events
        ]
        if not rows:
            return
        funnel = FunnelStore(self.connection)
        if self.fold_later and self.dialect == "sqlite":
            funnel.defer()
            direct.write(self.connection, _INSERT_EVENT, rows)
            return
        funnel.catch_up()
        direct.write(self.connection, _INSERT_EVENT, rows)
        funnel.fold(
            (e.person_id, e.kind, e.at, e.data or {}) for e in events if e.person_id is not None
        )

    def events_of(self, person_id: int) -> list[Record]:
        query = select(t.events).where(t.events.c.person_id == person_id).order_by(t.events.c.id)
        return list(self.connection.execute(query))

    def answers_of(self, person_id: int) -> list[tuple[str, str | None, datetime]]:
        """The answers recorded for a person (field, value, when), in the order given."""
        a = t.answers
        query = (
            select(a.c.field, a.c.value, a.c.at)
            .where(a.c.person_id == person_id)
            .order_by(a.c.at, a.c.id)
        )
        return [(r[0], r[1], utc(r[2])) for r in self.connection.execute(query)]  # type: ignore[misc]

    def insert_activity(self, values: Mapping[str, Any]) -> int:
        return direct.insert(self.connection, _INSERT_ACTIVITY, values)

    def activities_of(self, person_id: int) -> list[tuple[str, datetime]]:
        rows = direct.read(self.connection, _ACTIVITIES_OF, {"person_id": person_id})
        return [(r[0], utc(r[1])) for r in rows]  # type: ignore[misc]

    def activities_of_many(self, people: Sequence[int]) -> dict[int, list[tuple[str, datetime]]]:
        """:meth:`activities_of` of several people, read together; a person with none has
        no entry."""
        found: dict[int, list[tuple[str, datetime]]] = {}
        for part in direct.in_parts(list(dict.fromkeys(people))):
            for person_id, kind, at in direct.read(
                self.connection, _ACTIVITIES_OF_MANY, {"people": part}
            ):
                found.setdefault(int(person_id), []).append((kind, utc(at)))  # type: ignore[arg-type]
        return found

    def move_activities(self, source: int, target: int, ids: Sequence[int]) -> None:
        if ids:
            self.connection.execute(
                update(t.activities).where(t.activities.c.id.in_(ids)).values(person_id=target)
            )

    # ------------------------------------------------------------ ratings

    def save_rating(self, person_id: int, values: Mapping[str, Any]) -> None:
        """Insert or replace the automated rating: exactly the :data:`RATING_FIELDS`."""
        if set(values) != set(RATING_FIELDS):
            raise ValueError(f"a rating has the fields {', '.join(RATING_FIELDS)}")
        direct.write(self.connection, self._upserts[1], {"person_id": person_id, **values})

    def rating(self, person_id: int) -> Record | None:
        return self.connection.execute(_RATING, {"person_id": person_id}).first()

    # ------------------------------------------------------------ quarantine

    def insert_quarantine(self, values: Mapping[str, Any]) -> int:
        """Keep an item, whatever its texts hold: a NUL in one is kept as ``\\x00``
        (:func:`storable`)."""
        row = {
            k: storable(v) if k in _QUARANTINE_TEXTS and isinstance(v, str) else v
            for k, v in values.items()
        }
        result = self.connection.execute(_INSERT_QUARANTINE, row)
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def quarantined(self, include_replayed: bool = False, limit: int = 100) -> list[Record]:
        query = select(t.quarantine).order_by(t.quarantine.c.id).limit(limit)
        if not include_replayed:
            query = query.where(t.quarantine.c.replayed_at.is_(None))
        return list(self.connection.execute(query))

    def quarantine_by_idempotency_key(self, key: str) -> Record | None:
        """The first quarantine item made by a request with this Idempotency-Key."""
        query = (
            select(t.quarantine)
            .where(t.quarantine.c.idempotency_key == key)
            .order_by(t.quarantine.c.id)
            .limit(1)
        )
        return self.connection.execute(query).first()

    def quarantine_item(self, item_id: int) -> Record | None:
        query = select(t.quarantine).where(t.quarantine.c.id == item_id)
        return self.connection.execute(query).first()

    def update_quarantine(self, item_id: int, values: Mapping[str, Any]) -> None:
        self.connection.execute(
            update(t.quarantine).where(t.quarantine.c.id == item_id).values(**values)
        )

    # ------------------------------------------------------------ counts

    def top_leads(self, limit: int = 5) -> list[Record]:
        """The highest-scored people graded for sales, with their rating."""
        p, s = t.people, t.lead_state
        query = (
            select(
                p.c.id,
                p.c.first_name,
                p.c.last_name,
                p.c.company,
                p.c.inquiry_count,
                s.c.grade,
                s.c.score,
                s.c.route,
                s.c.reasons,
            )
            .join(s, s.c.person_id == p.c.id)
            .where(s.c.route == "sales")
            .order_by(s.c.score.desc(), p.c.id)
            .limit(limit)
        )
        return list(self.connection.execute(query))

    def grade_counts(self) -> dict[str, int]:
        query = select(t.lead_state.c.grade, func.count()).group_by(t.lead_state.c.grade)
        return {str(grade): int(n) for grade, n in self.connection.execute(query)}

    def count(self, table: Table) -> int:
        return int(self.connection.execute(select(func.count()).select_from(table)).scalar() or 0)

    # ------------------------------------------------------------ api keys

    def insert_api_key(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.api_keys).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def api_key_by_prefix(self, prefix: str) -> Record | None:
        found = direct.read(self.connection, _API_KEY_BY_PREFIX, {"prefix": prefix})
        return found[0] if found else None

    def api_keys(self) -> list[Record]:
        return list(self.connection.execute(select(t.api_keys).order_by(t.api_keys.c.id)))

    def revoke_api_key(self, prefix: str, at: datetime) -> None:
        self.connection.execute(
            update(t.api_keys).where(t.api_keys.c.prefix == prefix).values(revoked_at=at)
        )

    # ------------------------------------------------------------ forms

    def insert_form(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.forms).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def form_by_key(self, key: str) -> Record | None:
        return self.connection.execute(select(t.forms).where(t.forms.c.key == key)).first()

    def forms(self) -> list[Record]:
        return list(self.connection.execute(select(t.forms).order_by(t.forms.c.id)))

    def set_form_active(self, key: str, active: bool) -> None:
        self.connection.execute(update(t.forms).where(t.forms.c.key == key).values(active=active))

    # ------------------------------------------------------------ reps

    def insert_rep(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.reps).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def rep(self, rep_id: int) -> Record | None:
        return self.connection.execute(select(t.reps).where(t.reps.c.id == rep_id)).first()

    def rep_by_email(self, email: str) -> Record | None:
        return self.connection.execute(select(t.reps).where(t.reps.c.email == email)).first()

    def reps(self, include_inactive: bool = False) -> list[Record]:
        query = select(t.reps).order_by(t.reps.c.id)
        if not include_inactive:
            query = query.where(t.reps.c.active.is_(True))
        return list(self.connection.execute(query))

    def update_rep(self, rep_id: int, values: Mapping[str, Any]) -> None:
        self.connection.execute(update(t.reps).where(t.reps.c.id == rep_id).values(**values))


def person_row(m: Mapping[str, Any]) -> PersonRow:
    """A ``people`` row's values as a :class:`PersonRow`."""
    return PersonRow(
        id=m["id"],
        email=m["email"],
        phone=m["phone"],
        first_name=m["first_name"],
        last_name=m["last_name"],
        name_key=m["name_key"],
        company=m["company"],
        company_key=m["company_key"],
        account_id=m["account_id"],
        facts=dict(m["facts"] or {}),
        inquiry_count=m["inquiry_count"],
        created_at=utc(m["created_at"]),  # type: ignore[arg-type]
    )


def dumps(value: Any) -> str:
    """JSON text for stored payloads: stable key order, unicode kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
