"""The reports' queries: the sums in ``funnel_counts`` and ``gap_counts``, and the
few ``funnel`` and ``handbacks`` rows a report needs one by one.

Nothing here reads the event log, and nothing groups a million rows: the sums per group
and day are kept as the rows change (``funnel_counts.py``). ``Period`` selects leads by
the day of their first inquiry (the cohort), hand-backs by their own time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    literal,
    select,
)

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_counts import DAY, DIMENSIONS

f = t.funnel.c


@dataclass(frozen=True)
class Period:
    """[since, until) in whole days since 1970-01-01 (UTC); None leaves that end open."""

    since: int | None = None
    until: int | None = None

    def on(self, column: Any) -> list[ColumnElement[bool]]:
        """On a column of Unix seconds."""
        where = []
        if self.since is not None:
            where.append(column >= self.since * DAY)
        if self.until is not None:
            where.append(column < self.until * DAY)
        return where

    def days(self, column: Any) -> list[ColumnElement[bool]]:
        """On a column of days."""
        where = []
        if self.since is not None:
            where.append(column >= self.since)
        if self.until is not None:
            where.append(column < self.until)
        return where


def _key(column: str | None) -> Any:
    if column is None:
        return literal("all")
    if column not in DIMENSIONS.values():
        raise ValueError(f"no dimension {column}")
    return f[column]


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


class ReportStore:
    """``dim`` is a ``funnel_counts`` dimension (all, source, campaign, form, rep,
    grade, month); ``column`` the funnel column it stands for (None for all)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.connection.execute(query)]

    def counts(self, period: Period, dim: str, names: Sequence[str]) -> list[dict[str, Any]]:
        """Per group (``key``): the sums of these ``funnel_counts`` columns."""
        k = t.funnel_counts.c
        query = (
            select(k.key, *(func.sum(k[name]).label(name) for name in names))
            .where(k.dim == dim, *period.days(k.day))
            .group_by(k.key)
        )
        return self._rows(query)

    def gap_counts(self, period: Period, dim: str) -> list[dict[str, Any]]:
        """Per group and field: leads that left it blank, and that it left unjudged."""
        g = t.gap_counts.c
        query = (
            select(
                g.key,
                g.field,
                func.sum(g.unanswered).label("unanswered"),
                func.sum(g.missing).label("missing"),
            )
            .where(g.dim == dim, *period.days(g.day))
            .group_by(g.key, g.field)
        )
        return self._rows(query)

    def reasons(self, period: Period, column: str | None, kind: str) -> list[dict[str, Any]]:
        """Hand-backs of one kind (rejected, recycled) per group and reason, for the
        leads of the period."""
        h = t.handbacks.c
        key = _key(column).label("key")
        query = (
            select(key, h.reason, func.count().label("n"))
            .select_from(t.handbacks.join(t.funnel, f.person_id == h.person_id))
            .where(h.kind == kind, *period.on(f.first_at))
            .group_by(key, h.reason)
        )
        return self._rows(query)

    def handbacks(self, period: Period, column: str | None) -> list[dict[str, Any]]:
        """Hand-backs of the period per group, kind and reason, and what became of the
        lead after each: routed again, accepted again, won, lost, disqualified."""
        h = t.handbacks.c
        key = _key(column).label("key")
        after = h.at
        query = (
            select(
                key,
                h.kind,
                h.reason,
                func.count().label("n"),
                _count_if(f.last_routed_at > after).label("routed_again"),
                _count_if(f.last_accepted_at > after).label("accepted_again"),
                _count_if(and_(f.outcome == "won", f.outcome_at >= after)).label("won"),
                _count_if(and_(f.outcome == "lost", f.outcome_at >= after)).label("lost"),
                _count_if(f.reached_disqualified >= after).label("disqualified"),
                _count_if(f.stage_type.in_(("nurture", "recycled", "inquiry"))).label(
                    "with_marketing"
                ),
            )
            .select_from(t.handbacks.join(t.funnel, f.person_id == h.person_id))
            .where(*period.on(h.at))
            .group_by(key, h.kind, h.reason)
        )
        return self._rows(query)

    def last_inquiries(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` inquiries with their lead's rating and gaps, newest first."""
        i, p, s = t.inquiries.c, t.people.c, t.lead_state.c
        query = (
            select(
                i.id.label("inquiry_id"),
                i.received_at,
                i.source,
                i.campaign,
                i.form_key,
                p.id.label("person_id"),
                p.first_name,
                p.last_name,
                p.email,
                p.company,
                s.grade,
                s.score,
                s.route,
                s.reasons,
                s.data_issues,
            )
            .select_from(
                t.inquiries.join(t.people, p.id == i.person_id).outerjoin(
                    t.lead_state, s.person_id == p.id
                )
            )
            .order_by(i.id.desc())
            .limit(limit)
        )
        return self._rows(query)

    def rep_names(self) -> dict[int, str]:
        query = select(t.reps.c.id, t.reps.c.name)
        return {int(r.id): r.name for r in self.connection.execute(query)}


class ReplayStore:
    """What a backtest replays: the inquiries, activities and outcomes of the period's
    leads, in the order they happened."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def inquiries(self, period: Period) -> list[tuple[int, Any, Any]]:
        """(person, received_at, fields) of every inquiry of the period's leads. An
        imported inquiry's fields are read from its payload by its import's columns
        (``Store.inquiry_fields``): its payload is read only then."""
        from leadflow.adapters.store.repository import Store

        i = t.inquiries.c
        query = (
            select(
                i.person_id,
                i.received_at,
                i.fields,
                i.batch,
                case((i.batch.is_not(None), i.payload)).label("payload"),
            )
            .select_from(t.inquiries.join(t.funnel, f.person_id == i.person_id))
            .where(*period.on(f.first_at))
            .order_by(i.person_id, i.received_at, i.id)
        )
        store = Store(self.connection)
        return [
            (r.person_id, r.received_at, store.inquiry_fields(r))
            for r in self.connection.execute(query)
        ]

    def activities(self, period: Period) -> list[tuple[int, str, Any]]:
        a = t.activities.c
        query = (
            select(a.person_id, a.type, a.at)
            .select_from(t.activities.join(t.funnel, f.person_id == a.person_id))
            .where(*period.on(f.first_at))
        )
        return [tuple(r) for r in self.connection.execute(query)]

    def outcomes(self, period: Period) -> list[dict[str, Any]]:
        """Per lead: routed, accepted, and won or lost, as it really happened."""
        query = select(
            f.person_id,
            (f.routed_at.is_not(None)).label("routed"),
            (f.accepted_at.is_not(None)).label("accepted"),
            f.outcome,
            f.outcome_value,
        ).where(*period.on(f.first_at))
        return [dict(r._mapping) for r in self.connection.execute(query)]
