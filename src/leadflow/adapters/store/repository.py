"""The store: every query leadflow makes, on one connection in one transaction.

Only this module (and the bulk loader beside it) knows SQL. Times go in as
aware UTC datetimes and come out the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from leadflow.adapters.store import tables as t

Record = Row[*tuple[Any, ...]]
"""A result row of any width."""


def utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything leadflow stores is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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


class Store:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def _upsert(self, table: Table) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # ------------------------------------------------------------ inquiries

    def inquiry_by_idempotency_key(self, key: str) -> Record | None:
        query = select(t.inquiries.c.id, t.inquiries.c.person_id).where(
            t.inquiries.c.idempotency_key == key
        )
        return self.connection.execute(query).first()

    def insert_inquiry(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.inquiries).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def set_inquiry_person(self, inquiry_id: int, person_id: int, account_id: int | None) -> None:
        self.connection.execute(
            update(t.inquiries)
            .where(t.inquiries.c.id == inquiry_id)
            .values(person_id=person_id, account_id=account_id)
        )

    def inquiry(self, inquiry_id: int) -> Record | None:
        return self.connection.execute(
            select(t.inquiries).where(t.inquiries.c.id == inquiry_id)
        ).first()

    def inquiries_of(self, person_id: int) -> list[Record]:
        query = (
            select(t.inquiries)
            .where(t.inquiries.c.person_id == person_id)
            .order_by(t.inquiries.c.received_at, t.inquiries.c.id)
        )
        return list(self.connection.execute(query))

    # ------------------------------------------------------------ people

    def person(self, person_id: int) -> PersonRow | None:
        row = self.connection.execute(select(t.people).where(t.people.c.id == person_id)).first()
        if row is None:
            return None
        m = row._mapping
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

    def insert_person(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.people).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def update_person(self, person_id: int, values: Mapping[str, Any]) -> None:
        self.connection.execute(update(t.people).where(t.people.c.id == person_id).values(**values))

    def person_by_key(self, kind: str, value: str) -> int | None:
        query = select(t.person_keys.c.person_id).where(
            t.person_keys.c.kind == kind, t.person_keys.c.value == value
        )
        found = self.connection.execute(query).scalar()
        return int(found) if found is not None else None

    def name_key_of(self, person_id: int) -> str | None:
        query = select(t.people.c.name_key).where(t.people.c.id == person_id)
        return self.connection.execute(query).scalar_one_or_none()

    def add_keys(self, person_id: int, keys: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Add identifiers not yet taken; return those already owned by another person."""
        taken: list[tuple[str, str]] = []
        for kind, value in keys:
            owner = self.person_by_key(kind, value)
            if owner is None:
                self.connection.execute(
                    insert(t.person_keys).values(kind=kind, value=value, person_id=person_id)
                )
            elif owner != person_id:
                taken.append((kind, value))
        return taken

    def remove_keys(self, person_id: int) -> None:
        self.connection.execute(
            t.person_keys.delete().where(t.person_keys.c.person_id == person_id)
        )
        self.connection.execute(
            t.person_blocks.delete().where(t.person_blocks.c.person_id == person_id)
        )

    def add_blocks(self, person_id: int, blocks: Iterable[str]) -> None:
        for block in blocks:
            statement = self._upsert(t.person_blocks).values(block=block, person_id=person_id)
            self.connection.execute(statement.on_conflict_do_nothing())

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str | None]]]:
        """``identity.PeopleIndex.name_candidates``: the block's people, kept when a word of
        their name key is one of ``words``."""
        wanted = set(words)
        people, names = self.block_members(block)
        kept = [
            (p, n)
            for p, n in zip(people, names, strict=True)
            if n and not wanted.isdisjoint(n.split())
        ]
        return [([p for p, _ in kept], [n for _, n in kept])]

    def block_members(self, block: str) -> tuple[list[int], list[str | None]]:
        query = (
            select(t.people.c.id, t.people.c.name_key)
            .join(t.person_blocks, t.person_blocks.c.person_id == t.people.c.id)
            .where(t.person_blocks.c.block == block)
            .order_by(t.people.c.id)
        )
        rows = self.connection.execute(query).all()
        return [int(r[0]) for r in rows], [r[1] for r in rows]

    # ------------------------------------------------------------ accounts

    def account_by_domain(self, domain: str) -> int | None:
        query = select(t.accounts.c.id).where(t.accounts.c.domain == domain)
        found = self.connection.execute(query).scalar()
        return int(found) if found is not None else None

    def account_by_name_key(self, name_key: str) -> int | None:
        query = (
            select(t.accounts.c.id)
            .where(t.accounts.c.name_key == name_key)
            .order_by(t.accounts.c.id)
            .limit(1)
        )
        found = self.connection.execute(query).scalar()
        return int(found) if found is not None else None

    def insert_account(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.accounts).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    # ------------------------------------------------------------ merges

    def insert_merge(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.merges).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def merge(self, merge_id: int) -> Record | None:
        return self.connection.execute(select(t.merges).where(t.merges.c.id == merge_id)).first()

    def merges(self, limit: int = 50, person_id: int | None = None) -> list[Record]:
        query = select(t.merges).order_by(t.merges.c.id.desc()).limit(limit)
        if person_id is not None:
            query = query.where(t.merges.c.person_id == person_id)
        return list(self.connection.execute(query))

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
        self.connection.execute(
            insert(t.events).values(
                type=kind, at=at, person_id=person_id, inquiry_id=inquiry_id, data=dict(data or {})
            )
        )

    def events_of(self, person_id: int) -> list[Record]:
        query = select(t.events).where(t.events.c.person_id == person_id).order_by(t.events.c.id)
        return list(self.connection.execute(query))

    def insert_activity(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.activities).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def activities_of(self, person_id: int) -> list[tuple[str, datetime]]:
        query = (
            select(t.activities.c.type, t.activities.c.at)
            .where(t.activities.c.person_id == person_id)
            .order_by(t.activities.c.at)
        )
        return [(r[0], utc(r[1])) for r in self.connection.execute(query)]  # type: ignore[misc]

    def move_activities(self, source: int, target: int, ids: Sequence[int]) -> None:
        if ids:
            self.connection.execute(
                update(t.activities).where(t.activities.c.id.in_(ids)).values(person_id=target)
            )

    # ------------------------------------------------------------ ratings

    def save_rating(self, person_id: int, values: Mapping[str, Any]) -> None:
        row = {"person_id": person_id, **values}
        statement = self._upsert(t.lead_state).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[t.lead_state.c.person_id],
            set_={k: statement.excluded[k] for k in values},
        )
        self.connection.execute(statement)

    def rating(self, person_id: int) -> Record | None:
        query = select(t.lead_state).where(t.lead_state.c.person_id == person_id)
        return self.connection.execute(query).first()

    # ------------------------------------------------------------ quarantine

    def insert_quarantine(self, values: Mapping[str, Any]) -> int:
        result = self.connection.execute(insert(t.quarantine).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def quarantined(self, include_replayed: bool = False, limit: int = 100) -> list[Record]:
        query = select(t.quarantine).order_by(t.quarantine.c.id).limit(limit)
        if not include_replayed:
            query = query.where(t.quarantine.c.replayed_at.is_(None))
        return list(self.connection.execute(query))

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
        query = select(t.api_keys).where(t.api_keys.c.prefix == prefix)
        return self.connection.execute(query).first()

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


def dumps(value: Any) -> str:
    """JSON text for stored payloads: stable key order, unicode kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
