"""The web pages' queries: a rep's queue, a team's pool and board, the leads sales
handed back, inquiries and the quarantine by keyset, one lead's timeline pieces.

Every list is bounded and walks an index (see migration 0009): with a million leads
each query reads about what it shows. Pages continue by keyset (``before``: the last
id shown), never by OFFSET.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Record, people_sharing

lc, p, s = t.lifecycle, t.people, t.lead_state

LEAD_COLUMNS = (
    lc.c.person_id,
    lc.c.stage,
    lc.c.stage_since,
    lc.c.side,
    lc.c.team,
    lc.c.owner_rep_id,
    lc.c.routed_at,
    lc.c.accepted_at,
    lc.c.accept_due,
    lc.c.contact_due,
    lc.c.reason,
    lc.c.note,
    lc.c.recontact_on,
    p.c.first_name,
    p.c.last_name,
    p.c.company,
    p.c.email,
    p.c.facts,
    s.c.grade,
    s.c.score,
    s.c.reasons,
)


def _leads(where: Any) -> Select[Any]:
    return (
        select(*LEAD_COLUMNS)
        .select_from(lc.join(p, p.c.id == lc.c.person_id).outerjoin(s, s.c.person_id == p.c.id))
        .where(where)
    )


class PageQueries:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------ sales

    def to_accept(self, rep_id: int, stages: Collection[str], limit: int) -> list[Record]:
        """The rep's leads waiting for acceptance, the nearest deadline first."""
        query = (
            _leads(
                and_(
                    lc.c.owner_rep_id == rep_id,
                    lc.c.accepted_at.is_(None),
                    lc.c.stage.in_(list(stages)),
                )
            )
            .order_by(lc.c.accept_due.asc().nulls_last(), lc.c.person_id)
            .limit(limit)
        )
        return list(self.connection.execute(query))

    def working(
        self, rep_id: int, stages: Collection[str], before: int | None, limit: int
    ) -> list[Record]:
        """The rep's accepted leads in an open stage, newest first."""
        where = and_(
            lc.c.owner_rep_id == rep_id,
            lc.c.accepted_at.is_not(None),
            lc.c.stage.in_(list(stages)),
        )
        if before is not None:
            where = and_(where, lc.c.person_id < before)
        query = _leads(where).order_by(lc.c.person_id.desc()).limit(limit)
        return list(self.connection.execute(query))

    def pool(
        self, team: str, stages: Collection[str], before: int | None, limit: int
    ) -> list[Record]:
        """The team's leads no rep owns, ready to accept, newest first."""
        where = and_(
            lc.c.team == team,
            lc.c.owner_rep_id.is_(None),
            lc.c.stage.in_(list(stages)),
            lc.c.recontact_on.is_(None),
        )
        if before is not None:
            where = and_(where, lc.c.person_id < before)
        query = _leads(where).order_by(lc.c.person_id.desc()).limit(limit)
        return list(self.connection.execute(query))

    def board(self, team: str, stages: Collection[str]) -> list[tuple[int | None, str, int]]:
        """(owner, stage, open leads) of one team: its board."""
        query = (
            select(lc.c.owner_rep_id, lc.c.stage, func.count())
            .where(lc.c.team == team, lc.c.stage.in_(list(stages)))
            .group_by(lc.c.owner_rep_id, lc.c.stage)
        )
        return [(o, st, int(n)) for o, st, n in self.connection.execute(query)]

    def due_soon(self, team: str, column: str, until: datetime, limit: int) -> list[Record]:
        """The team's leads whose acceptance (or first contact) is due before ``until``,
        the most overdue first."""
        due = lc.c[column]
        query = (
            _leads(and_(lc.c.team == team, due.is_not(None), due < until))
            .order_by(due, lc.c.person_id)
            .limit(limit)
        )
        return list(self.connection.execute(query))

    def count_due(self, team: str, column: str, until: datetime) -> int:
        due = lc.c[column]
        query = select(func.count()).where(lc.c.team == team, due.is_not(None), due < until)
        return int(self.connection.execute(query).scalar_one())

    def teams(self) -> list[str]:
        query = select(t.reps.c.team).where(t.reps.c.team.is_not(None)).distinct()
        return sorted(str(team) for (team,) in self.connection.execute(query))

    def reps_of(self, team: str | None) -> list[Record]:
        query = select(t.reps).order_by(t.reps.c.name)
        if team is not None:
            query = query.where(t.reps.c.team == team)
        return list(self.connection.execute(query))

    def place(self, person_id: int) -> tuple[Record | None, str | None]:
        """A lead's lifecycle row and its owner's team, for the access guard."""
        row = self.connection.execute(select(lc).where(lc.c.person_id == person_id)).first()
        team = None
        if row is not None and row.owner_rep_id is not None:
            query = select(t.reps.c.team).where(t.reps.c.id == row.owner_rep_id)
            team = self.connection.execute(query).scalar()
        return row, team

    # ------------------------------------------------------------ marketing

    def handed_back(self, before: datetime | None, limit: int) -> list[Record]:
        """Leads sales handed back (held until their recontact date), latest first."""
        where: Any = lc.c.recontact_on.is_not(None)
        if before is not None:
            where = and_(where, lc.c.stage_since < before)
        query = _leads(where).order_by(lc.c.stage_since.desc()).limit(limit)
        return list(self.connection.execute(query))

    def stage_counts(self) -> dict[str, int]:
        query = select(lc.c.stage, func.count()).group_by(lc.c.stage)
        return {str(stage): int(n) for stage, n in self.connection.execute(query)}

    def inquiries(
        self,
        *,
        source: str | None,
        channel: str | None,
        person_ids: Collection[int] | None,
        before: int | None,
        limit: int,
    ) -> list[Record]:
        i = t.inquiries
        query = (
            select(
                i.c.id,
                i.c.received_at,
                i.c.channel,
                i.c.source,
                i.c.campaign,
                i.c.person_id,
                p.c.first_name,
                p.c.last_name,
                p.c.email,
                p.c.company,
            )
            .select_from(i.outerjoin(p, p.c.id == i.c.person_id))
            .order_by(i.c.id.desc())
            .limit(limit)
        )
        if source:
            query = query.where(i.c.source == source)
        if channel:
            query = query.where(i.c.channel == channel)
        if person_ids is not None:
            query = query.where(i.c.person_id.in_(list(person_ids)))
        if before is not None:
            query = query.where(i.c.id < before)
        return list(self.connection.execute(query))

    def sources(self, person_ids: Collection[int]) -> dict[int, str]:
        """Each person's source: that of its latest inquiry."""
        if not person_ids:
            return {}
        i = t.inquiries
        query = (
            select(i.c.person_id, i.c.source)
            .where(i.c.person_id.in_(list(person_ids)))
            .order_by(i.c.id)
        )
        return {int(pid): str(source) for pid, source in self.connection.execute(query)}

    def person_by_key(self, kind: str, value: str) -> int | None:
        k = t.person_keys
        query = select(k.c.person_id).where(k.c.kind == kind, k.c.value == value)
        found = self.connection.execute(query).scalar()
        return int(found) if found is not None else None

    def people_sharing(self, kind: str, value: str, block: str) -> list[int]:
        """Everyone behind a shared identifier: its key's owner and its block's people."""
        return people_sharing(self.connection, kind, value, block)

    def quarantine(self, *, replayed: bool, before: int | None, limit: int) -> list[Record]:
        q = t.quarantine
        query = select(q).order_by(q.c.id.desc()).limit(limit)
        query = query.where(q.c.replayed_at.is_not(None) if replayed else q.c.replayed_at.is_(None))
        if before is not None:
            query = query.where(q.c.id < before)
        return list(self.connection.execute(query))

    # ------------------------------------------------------------ one lead

    def activities(self, person_id: int, limit: int = 500) -> list[Record]:
        a = t.activities
        query = select(a).where(a.c.person_id == person_id).order_by(a.c.at.desc()).limit(limit)
        return list(self.connection.execute(query))

    def answers(self, person_id: int, limit: int = 500) -> list[Record]:
        a = t.answers
        query = select(a).where(a.c.person_id == person_id).order_by(a.c.at.desc()).limit(limit)
        return list(self.connection.execute(query))

    def touches(self, person_id: int, limit: int = 500) -> list[Record]:
        x = t.touches
        query = select(x).where(x.c.person_id == person_id).order_by(x.c.at.desc()).limit(limit)
        return list(self.connection.execute(query))

    def inquiries_of(self, person_id: int, limit: int = 200) -> list[Record]:
        i = t.inquiries
        query = (
            select(i.c.id, i.c.received_at, i.c.channel, i.c.source, i.c.campaign)
            .where(i.c.person_id == person_id)
            .order_by(i.c.id.desc())
            .limit(limit)
        )
        return list(self.connection.execute(query))
