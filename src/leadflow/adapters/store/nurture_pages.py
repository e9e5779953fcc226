"""The nurture page's queries: who is in which track at which step, what is due over the
next days, who is in a track (a page at a time), and what the contact policy held back.

Each walks one of the partial indexes of migration 0013: over the *open* enrollments
(active or paused, spelled "neither finished nor exited": the few still in a track, not
the many who finished or left) or the touches *held back* (deferred or skipped). The
conditions are the indexes' own literals (:data:`~leadflow.adapters.store.tables.
ENROLLMENT_OPEN`, ``TOUCH_HELD``): with a bound parameter in their place neither SQLite nor
PostgreSQL would use the index. Lists are bounded and continue by keyset, never by OFFSET.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, case, func, select, text, tuple_

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Record

e, p, s, x = t.enrollments, t.people, t.lead_state, t.touches
OPEN = text(f"enrollments.{t.ENROLLMENT_OPEN}")
HELD = text(f"touches.{t.TOUCH_HELD}")

MEMBER_COLUMNS = (
    e.c.id,
    e.c.person_id,
    e.c.track,
    e.c.step,
    e.c.status,
    e.c.due_at,
    e.c.entered_at,
    e.c.last_step_at,
    e.c.exited_at,
    e.c.exit_reason,
    p.c.first_name,
    p.c.last_name,
    p.c.company,
    p.c.email,
    s.c.grade,
)


class NurturePages:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def at_step(self) -> list[tuple[str, int, int, int]]:
        """(track, next step, active, paused) of the open enrollments."""
        query = (
            select(e.c.track, e.c.step, func.count(), _count(e.c.status == "paused"))
            .where(OPEN)
            .group_by(e.c.track, e.c.step)
        )
        rows = self.connection.execute(query)
        return [(tr, int(st), int(n) - int(k or 0), int(k or 0)) for tr, st, n, k in rows]

    def scheduled(
        self, tracks: Collection[str], bounds: Sequence[datetime]
    ) -> list[tuple[str, int, int, int]]:
        """(track, step, bucket, steps) of the active enrollments in ``tracks`` due before
        ``bounds[-1]``: bucket ``i`` holds those due before ``bounds[i]`` (and not before
        ``bounds[i-1]``). It reads only the index entries due in that time. Paused ones are
        left out by counting, not by a condition on ``status`` (which would lead SQLite to
        ix_enrollments_status_due_at and a lookup per row)."""
        if not tracks:
            return []
        bucket = case(
            *((e.c.due_at < bound, i) for i, bound in enumerate(bounds[:-1])),
            else_=len(bounds) - 1,
        ).label("bucket")
        query = (
            select(e.c.track, e.c.step, bucket, _count(e.c.status == "active"))
            .where(OPEN, e.c.track.in_(sorted(tracks)), e.c.due_at < bounds[-1])
            .group_by(e.c.track, e.c.step, bucket)
        )
        rows = self.connection.execute(query)
        return [(tr, int(st), int(b), int(n)) for tr, st, b, n in rows if n]

    def members(
        self, track: str, step: int | None, after: tuple[datetime, int] | None, limit: int
    ) -> list[Record]:
        """Who is in ``track`` (at ``step``), the next due first; after ``(due_at, id)``."""
        where: list[Any] = [OPEN, e.c.track == track]
        if step is not None:
            where.append(e.c.step == step)
        if after is not None:
            where.append(tuple_(e.c.due_at, e.c.id) > tuple_(*after))
        query = _members().where(*where).order_by(e.c.due_at, e.c.id).limit(limit)
        return list(self.connection.execute(query))

    def enrollments_of(self, people: Sequence[int], limit: int) -> list[Record]:
        """Every enrollment of these people, the latest first (in a track now or before)."""
        if not people:
            return []
        where = e.c.person_id.in_(list(people))
        query = _members().where(where).order_by(e.c.id.desc()).limit(limit)
        return list(self.connection.execute(query))

    def held(self, since: datetime) -> list[tuple[str, str, int, int]]:
        """(status, reason, times, people) of the touches held back at ``since`` or later."""
        query = (
            select(x.c.status, x.c.reason, func.count(), func.count(x.c.person_id.distinct()))
            .where(HELD, x.c.at >= since)
            .group_by(x.c.status, x.c.reason)
        )
        return [(st, r or "", int(n), int(k)) for st, r, n, k in self.connection.execute(query)]

    def latest_held(self, since: datetime, limit: int) -> list[Record]:
        """The latest touches held back at ``since`` or later, with who they were for."""
        query = (
            select(
                x.c.id,
                x.c.at,
                x.c.person_id,
                x.c.channel,
                x.c.status,
                x.c.reason,
                x.c.track,
                x.c.step,
                p.c.first_name,
                p.c.last_name,
                p.c.company,
                p.c.email,
            )
            .select_from(x.join(p, p.c.id == x.c.person_id))
            .where(HELD, x.c.at >= since)
            .order_by(x.c.at.desc(), x.c.id.desc())
            .limit(limit)
        )
        return list(self.connection.execute(query))


def _count(condition: Any) -> Any:
    """How many rows of the group meet ``condition``."""
    return func.sum(case((condition, 1), else_=0))


def _members() -> Select[Any]:
    return select(*MEMBER_COLUMNS).select_from(
        e.join(p, p.c.id == e.c.person_id).outerjoin(s, s.c.person_id == e.c.person_id)
    )
