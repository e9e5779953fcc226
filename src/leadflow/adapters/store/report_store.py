"""The reports' queries: aggregates over the ``funnel`` and ``handbacks`` rows.

Every query reads one narrow row per lead (see ``funnel_store.py``), never the event
log, and groups in the database. ``Period`` selects leads by their first inquiry
(``funnel.first_at``: the cohort), hand-backs by their own time. ``by`` is a funnel
column (source, campaign, form_key, rep_id, grade, month) or None for one group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)

from leadflow.adapters.store import tables as t

f = t.funnel.c
DIMENSIONS = ("source", "campaign", "form_key", "rep_id", "grade", "month")


@dataclass(frozen=True)
class Period:
    """[since, until) in Unix seconds; None leaves that end open."""

    since: int | None = None
    until: int | None = None

    def on(self, column: Any) -> list[ColumnElement[bool]]:
        where = []
        if self.since is not None:
            where.append(column >= self.since)
        if self.until is not None:
            where.append(column < self.until)
        return where


def _key(by: str | None) -> Any:
    if by is None:
        return literal("all")
    if by not in DIMENSIONS:
        raise ValueError(f"no dimension {by}")
    return f[by]


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _reached(column: str) -> ColumnElement[bool]:
    return f[f"reached_{column}"].is_not(None)


class ReportStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.connection.execute(query)]

    def funnel(self, period: Period, by: str | None, steps: Sequence[str]) -> list[dict[str, Any]]:
        """Per group: leads, inquiries, leads that reached each step (a stage column),
        and that reached each step and the one before (``both_<step>``), sales-ready."""
        key = _key(by).label("key")
        columns: list[Any] = [key, func.count().label("leads")]
        columns.append(func.coalesce(func.sum(f.inquiries), 0).label("inquiries"))
        for i, step in enumerate(steps):
            columns.append(func.count(f[f"reached_{step}"]).label(step))
            if i:
                both = and_(_reached(steps[i - 1]), _reached(step))
                columns.append(_count_if(both).label(f"both_{step}"))
        columns.append(func.count(f.ready_at).label("ready"))
        query = select(*columns).where(*period.on(f.first_at))
        return self._rows(query.group_by(key) if by is not None else query)

    def sources(self, period: Period, by: str | None) -> list[dict[str, Any]]:
        """Per group: leads, inquiries, sales-ready, routed, accepted, won, lost, revenue."""
        key = _key(by).label("key")
        query = select(
            key,
            func.count().label("leads"),
            func.coalesce(func.sum(f.inquiries), 0).label("inquiries"),
            func.count(f.ready_at).label("ready"),
            func.count(f.routed_at).label("routed"),
            func.count(f.accepted_at).label("accepted"),
            _count_if(f.handbacks > 0).label("handed_back"),
            _count_if(f.outcome == "won").label("won"),
            _count_if(f.outcome == "lost").label("lost"),
            func.sum(case((f.outcome == "won", f.outcome_value), else_=None)).label("revenue"),
        ).where(*period.on(f.first_at))
        return self._rows(query.group_by(key) if by is not None else query)

    def reasons(self, period: Period, by: str | None, kind: str) -> list[dict[str, Any]]:
        """Hand-backs of one kind (rejected, recycled) per group and reason, for the
        leads of the period."""
        h = t.handbacks.c
        key = _key(by).label("key")
        query = (
            select(key, h.reason, func.count().label("n"))
            .select_from(t.handbacks.join(t.funnel, f.person_id == h.person_id))
            .where(h.kind == kind, *period.on(f.first_at))
            .group_by(key, h.reason)
        )
        return self._rows(query)

    def durations(
        self, period: Period, by: str | None, measures: Sequence[tuple[Any, Any | None]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Durations per lead, one per measure: ``end - start``, or the column ``start``
        alone when there is no end; a duration counts where known and not negative.

        Two scans, whatever the number of measures: per group, how many of each are zero
        (counted, not fetched: the moves a capture makes at once), and the rows of the
        leads with any positive one, as (group, value or None per measure).
        """
        key = cast(_key(by), String).label("key")
        values = [start if end is None else end - start for start, end in measures]
        zero = [_count_if(v == 0) for v in values]
        zeros = select(key, *zero).where(*period.on(f.first_at))
        if by is not None:
            zeros = zeros.group_by(key)
        shown = [case((v > 0, v), else_=None) for v in values]
        positive = select(key, *shown).where(or_(*(v > 0 for v in values)), *period.on(f.first_at))
        return list(map(tuple, self.connection.execute(positive))), [
            tuple(r) for r in self.connection.execute(zeros)
        ]

    def handbacks(self, period: Period, by: str | None) -> list[dict[str, Any]]:
        """Hand-backs of the period per group, kind and reason, and what became of the
        lead after each: routed again, accepted again, won, lost, disqualified."""
        h = t.handbacks.c
        key = _key(by).label("key")
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

    def gaps(self, period: Period, by: str | None, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Per group: leads, and per field the leads that left it blank (``u:<field>``)
        and those for which it was blank and needed (``m:<field>``)."""
        key = _key(by).label("key")
        columns: list[Any] = [key, func.count().label("leads")]
        # PostgreSQL spells SQLite's instr strpos; either is faster than LIKE '%,name,%'.
        find = func.strpos if self.connection.dialect.name == "postgresql" else func.instr
        for name in fields:
            mark = f",{name},"
            columns.append(_count_if(find(f.unanswered, mark) > 0).label(f"u:{name}"))
            columns.append(_count_if(find(f.missing, mark) > 0).label(f"m:{name}"))
        query = select(*columns).where(*period.on(f.first_at))
        return self._rows(query.group_by(key) if by is not None else query)

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
