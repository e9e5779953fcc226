"""Nurture's queries: enrollments, touches, preferences and tasks, in batches where the
worker needs them (one statement per batch of people, not per person)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from leadflow.adapters.store import direct
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import Record, utc
from leadflow.domain.policy import Touch

_OPTED_OUT = select(t.preferences.c.channel).where(
    t.preferences.c.person_id == bindparam("person_id"), t.preferences.c.opted_out.is_(True)
)


class NurtureStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # ------------------------------------------------------------ enrollments

    def active(self, person_id: int) -> Record | None:
        query = select(t.enrollments).where(
            t.enrollments.c.person_id == person_id, t.enrollments.c.status.in_(("active", "paused"))
        )
        return self.connection.execute(query).first()

    def active_of(self, ids: Sequence[int]) -> dict[int, Record]:
        found: dict[int, Record] = {}
        for part in direct.in_parts(ids):
            query = select(t.enrollments).where(
                t.enrollments.c.person_id.in_(part),
                t.enrollments.c.status.in_(("active", "paused")),
            )
            found.update({int(r.person_id): r for r in self.connection.execute(query)})
        return found

    def enroll(self, person_id: int, track: str, due_at: datetime | None, at: datetime) -> int:
        values = {
            "person_id": person_id,
            "track": track,
            "step": 0,
            "status": "active" if due_at is not None else "finished",
            "due_at": due_at,
            "entered_at": at,
        }
        result = self.connection.execute(insert(t.enrollments).values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def enroll_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(t.enrollments), list(rows))

    def leave(self, enrollment_id: int, reason: str, at: datetime, status: str = "exited") -> None:
        self.connection.execute(
            update(t.enrollments)
            .where(t.enrollments.c.id == enrollment_id)
            .values(status=status, exit_reason=reason, exited_at=at, due_at=None)
        )

    def set_status(self, enrollment_id: int, status: str) -> None:
        self.connection.execute(
            update(t.enrollments).where(t.enrollments.c.id == enrollment_id).values(status=status)
        )

    def due(self, now: datetime, limit: int) -> list[Record]:
        query = (
            select(t.enrollments)
            .where(t.enrollments.c.status == "active", t.enrollments.c.due_at <= now)
            .order_by(t.enrollments.c.due_at, t.enrollments.c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(self.connection.execute(query))

    def update_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Each row: ``id`` and the same columns to set."""
        if not rows:
            return
        columns = [c for c in rows[0] if c != "id"]
        statement = (
            update(t.enrollments)
            .where(t.enrollments.c.id == _param("target"))
            .values({c: _param(f"v_{c}") for c in columns})
        )
        self.connection.execute(
            statement, [{"target": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
        )

    def enrollments(self, status: str | None = None, limit: int = 100) -> list[Record]:
        query = select(t.enrollments).order_by(t.enrollments.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(t.enrollments.c.status == status)
        return list(self.connection.execute(query))

    def count_enrollments(self, status: str | None = None) -> int:
        query = select(func.count()).select_from(t.enrollments)
        if status is not None:
            query = query.where(t.enrollments.c.status == status)
        return int(self.connection.execute(query).scalar_one())

    def enrollment(self, enrollment_id: int) -> Record | None:
        query = select(t.enrollments).where(t.enrollments.c.id == enrollment_id)
        return self.connection.execute(query).first()

    def track_counts(self) -> dict[tuple[str, str], int]:
        query = select(t.enrollments.c.track, t.enrollments.c.status, func.count()).group_by(
            t.enrollments.c.track, t.enrollments.c.status
        )
        return {(track, status): int(n) for track, status, n in self.connection.execute(query)}

    # ------------------------------------------------------------ what the worker reads

    def people(self, ids: Sequence[int]) -> dict[int, Record]:
        found: dict[int, Record] = {}
        for part in direct.in_parts(ids):
            for row in self.connection.execute(select(t.people).where(t.people.c.id.in_(part))):
                found[int(row.id)] = row
        return found

    def stages(self, ids: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for part in direct.in_parts(ids):
            query = select(t.lifecycle.c.person_id, t.lifecycle.c.stage).where(
                t.lifecycle.c.person_id.in_(part)
            )
            found.update({int(p): s for p, s in self.connection.execute(query)})
        return found

    def opted_out(self, ids: Sequence[int]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = defaultdict(set)
        if len(ids) == 1:  # a routed lead's notes: one statement compiled once
            for channel in self.connection.execute(_OPTED_OUT, {"person_id": ids[0]}).scalars():
                found[ids[0]].add(channel)
            return found
        for part in direct.in_parts(ids):
            query = select(t.preferences.c.person_id, t.preferences.c.channel).where(
                t.preferences.c.person_id.in_(part), t.preferences.c.opted_out.is_(True)
            )
            for person, channel in self.connection.execute(query):
                found[int(person)].add(channel)
        return found

    def touches_since(self, ids: Sequence[int], since: datetime) -> dict[int, list[Touch]]:
        found: dict[int, list[Touch]] = defaultdict(list)
        for part in direct.in_parts(ids):
            query = select(
                t.touches.c.person_id,
                t.touches.c.channel,
                t.touches.c.side,
                t.touches.c.stage,
                t.touches.c.at,
            ).where(
                t.touches.c.person_id.in_(part),
                t.touches.c.at > since,
                t.touches.c.status == "sent",
            )
            for person, channel, side, stage, at in self.connection.execute(query):
                found[int(person)].append(Touch(channel, side, stage, utc(at)))  # type: ignore[arg-type]
        return found

    def last_activity(self, ids: Sequence[int]) -> dict[int, datetime]:
        found: dict[int, datetime] = {}
        for part in direct.in_parts(ids):
            query = (
                select(t.activities.c.person_id, func.max(t.activities.c.at))
                .where(t.activities.c.person_id.in_(part))
                .group_by(t.activities.c.person_id)
            )
            found.update({int(p): utc(at) for p, at in self.connection.execute(query)})  # type: ignore[misc]
        return found

    # ------------------------------------------------------------ touches, preferences, tasks

    def add_touches(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(t.touches), list(rows))

    def touches_between(
        self, since: datetime | None, until: datetime | None
    ) -> list[tuple[Any, ...]]:
        """Every touch at ``since`` <= at < ``until``: person, at, channel, stage, status
        and reason (for the customer experience report)."""
        x = t.touches.c
        query = select(x.person_id, x.at, x.channel, x.stage, x.status, x.reason)
        if since is not None:
            query = query.where(x.at >= since)
        if until is not None:
            query = query.where(x.at < until)
        return [tuple(row) for row in self.connection.execute(query)]

    def touch(self, token: str) -> Record | None:
        return self.connection.execute(select(t.touches).where(t.touches.c.token == token)).first()

    def touches_of(self, person_id: int) -> list[Record]:
        query = select(t.touches).where(t.touches.c.person_id == person_id).order_by(t.touches.c.id)
        return list(self.connection.execute(query))

    def preferences_of(self, person_id: int) -> dict[str, bool]:
        query = select(t.preferences.c.channel, t.preferences.c.opted_out).where(
            t.preferences.c.person_id == person_id
        )
        return {channel: bool(out) for channel, out in self.connection.execute(query)}

    def set_preference(
        self, person_id: int, channel: str, opted_out: bool, at: datetime, source: str
    ) -> None:
        key = {"person_id": person_id, "channel": channel}
        exists = self.connection.execute(
            select(t.preferences.c.person_id).where(
                t.preferences.c.person_id == person_id, t.preferences.c.channel == channel
            )
        ).first()
        values = {"opted_out": opted_out, "at": at, "source": source}
        if exists is None:
            self.connection.execute(insert(t.preferences).values(**key, **values))
        else:
            self.connection.execute(
                update(t.preferences)
                .where(t.preferences.c.person_id == person_id, t.preferences.c.channel == channel)
                .values(**values)
            )

    def opt_out_many(self, pairs: Sequence[tuple[int, str]], at: datetime, source: str) -> None:
        """Mark each (person, channel) opted out, whether or not it had a row (one the
        preference page set back to wanted is replaced)."""
        if not pairs:
            return
        key = (t.preferences.c.person_id == _param("p")) & (t.preferences.c.channel == _param("c"))
        self.connection.execute(
            t.preferences.delete().where(key), [{"p": p, "c": c} for p, c in pairs]
        )
        values = {"opted_out": True, "at": at, "source": source}
        rows = [{"person_id": p, "channel": c, **values} for p, c in pairs]
        self.connection.execute(insert(t.preferences), rows)

    def withdraw_emails(self, ids: Sequence[int], why: str) -> int:
        """Withdraw these people's nurture emails not yet claimed for sending; how many."""
        done = 0
        for part in direct.in_parts(ids):
            query = (
                update(t.emails)
                .where(
                    t.emails.c.person_id.in_(part),
                    t.emails.c.status == "pending",
                    t.emails.c.kind.like("nurture.%"),
                )
                .values(status="withdrawn", last_error=why)
            )
            done += int(self.connection.execute(query).rowcount)
        return done

    def cancel_tasks(
        self, ids: Sequence[int], kinds: Sequence[str], why: str, now: datetime
    ) -> int:
        """Cancel these people's open tasks of these kinds (call, mail); how many."""
        done = 0
        for part in direct.in_parts(ids):
            query = (
                update(t.tasks)
                .where(
                    t.tasks.c.person_id.in_(part),
                    t.tasks.c.status == "open",
                    t.tasks.c.kind.in_(list(kinds)),
                )
                .values(status="cancelled", done_at=now, note=why)
            )
            done += int(self.connection.execute(query).rowcount)
        return done

    def add_tasks(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(t.tasks), list(rows))

    def tasks(
        self, status: str = "open", kind: str | None = None, limit: int = 100
    ) -> list[Record]:
        query = (
            select(t.tasks)
            .where(t.tasks.c.status == status)
            .order_by(t.tasks.c.due_at, t.tasks.c.id)
            .limit(limit)
        )
        if kind is not None:
            query = query.where(t.tasks.c.kind == kind)
        return list(self.connection.execute(query))


def _param(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)
