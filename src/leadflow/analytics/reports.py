"""The closed-loop reports: funnel, sources, velocity, recycle, gaps, and the last
inquiries ranked. Definitions in ``docs/reports.md``; in short:

- a lead belongs to the period of its **first inquiry** and to the source, campaign
  and form of that inquiry (first touch); ``rep`` is the rep it was last routed to,
  ``grade`` its grade now, ``month`` the month of its first inquiry;
- a stage is *reached* when the lead entered a stage of that type at least once;
- a rate is a share of leads (0-1), None when nothing was there to divide by.

Each report is a :class:`Report`: named columns and rows, ready for a table, CSV or
JSON. The numbers come from ``adapters/store/report_store.py``; this module only
divides, orders and names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from leadflow.adapters.store.funnel_counts import VELOCITY
from leadflow.adapters.store.report_store import Period, ReportStore

if TYPE_CHECKING:  # the rating's machinery only for the report that uses it
    from leadflow.domain.playbook import Playbook

BY = {"source": "source", "campaign": "campaign", "form": "form_key", "rep": "rep_id"}
BY.update(grade="grade", month="month")
"""``--by`` names and the funnel columns they group on."""

MEASURE_NAMES = {
    **{
        f"in_{s}": f"time in {s.replace('_', ' ')}"
        for s, *_ in (
            (n,)
            for n in (
                "inquiry",
                "nurture",
                "marketing_qualified",
                "sales_accepted",
                "sales_qualified",
                "opportunity",
                "won",
                "lost",
                "recycled",
                "disqualified",
            )
        )
    },
    "speed_to_lead": "speed to lead (sales ready to first contact)",
    "time_to_accept": "time to accept (routed to accepted)",
    "to_sales_ready": "inquiry to sales ready",
}
"""The velocity measures as the report names them."""

FUNNEL = (
    ("marketing", "inquiry", "inquiry"),
    ("marketing", "prospect", "nurture"),
    ("marketing", "marketing qualified", "marketing_qualified"),
    ("sales", "sales accepted", "sales_accepted"),
    ("sales", "sales qualified", "sales_qualified"),
    ("sales", "opportunity", "opportunity"),
    ("sales", "won", "won"),
)
"""The funnel's steps: (part, step, stage type column)."""


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "notes": self.notes,
        }


def rate(part: int | float | None, whole: int | float | None) -> float | None:
    """part / whole rounded to 4 places; None when whole is 0 or unknown."""
    if not whole or part is None:
        return None
    return round(float(part) / float(whole), 4)


class Reports:
    """The reports over one connection, grouped by ``by`` (a ``--by`` name or None)."""

    def __init__(self, connection: Connection, period: Period, by: str | None) -> None:
        self.store = ReportStore(connection)
        self.period = period
        self.column = BY[by] if by is not None else None
        self.dim = by or "all"
        self.by = by or "all"

    def _label(self, key: Any, reps: dict[int, str] | None = None) -> str:
        if key is None or key == "":
            return "(none)"
        if reps is not None:
            return reps.get(int(key), f"rep {key}")
        return str(key)

    def _labels(self) -> Callable[[Any], str]:
        reps = self.store.rep_names() if self.column == "rep_id" else None
        return lambda key: self._label(key, reps)

    def funnel(self) -> Report:
        steps = [column for _, _, column in FUNNEL]
        names = ["leads", "ready", *(f"reached_{s}" for s in steps)]
        names += [f"both_{s}" for s in steps[1:]]
        label = self._labels()
        rows: list[dict[str, Any]] = []
        found = self.store.counts(self.period, self.dim, names)
        if not found and self.column is None:
            found = [{"key": "all", **dict.fromkeys(names, 0)}]
        for g in sorted(found, key=_order):
            group = label(g["key"])
            for i, (part, step, column) in enumerate(FUNNEL):
                previous = f"reached_{FUNNEL[i - 1][2]}" if i else None
                both = _int(g.get(f"both_{column}")) if i else None
                rows.append(
                    {
                        self.by: group,
                        "funnel": part,
                        "step": step,
                        "leads": _int(g[f"reached_{column}"]),
                        "from_previous": both,
                        "conversion": rate(both, g[previous]) if previous else None,
                    }
                )
            rows.append(
                {
                    self.by: group,
                    "funnel": "hand-off",
                    "step": "sales ready",
                    "leads": _int(g["ready"]),
                    "from_previous": _int(g["ready"]),
                    "conversion": rate(g["ready"], g["leads"]),
                }
            )
        columns = [self.by, "funnel", "step", "leads", "from_previous", "conversion"]
        notes = [
            "leads: leads whose first inquiry is in the period that ever entered a stage of "
            "the step's type; from_previous: those that also entered the step before; "
            "conversion: from_previous / the step before's leads. sales ready: leads routed "
            "to sales or marketing qualified at least once, conversion of all inquiries."
        ]
        return Report("funnel", "Marketing and sales funnel", columns, rows, notes)

    def sources(self) -> Report:
        label = self._labels()
        reasons: dict[Any, list[tuple[int, str]]] = {}
        for r in self.store.reasons(self.period, self.column, "rejected"):
            mine = reasons.setdefault(_text(r["key"]) or "", [])
            mine.append((int(r["n"]), r["reason"] or "(none)"))
        rows = []
        names = ["leads", "inquiries", "ready", "routed", "accepted", "won", "lost", "revenue"]
        for g in sorted(self.store.counts(self.period, self.dim, names), key=_order):
            g = {k: (v if k in ("key", "revenue") else _int(v)) for k, v in g.items()}
            top = sorted(reasons.get(_text(g["key"]) or "", []), key=lambda x: (-x[0], x[1]))
            closed = (g["won"] or 0) + (g["lost"] or 0)
            rows.append(
                {
                    self.by: label(g["key"]),
                    "leads": g["leads"],
                    "inquiries": g["inquiries"],
                    "sales_ready": g["ready"],
                    "sales_ready_share": rate(g["ready"], g["leads"]),
                    "routed": g["routed"],
                    "accepted": g["accepted"],
                    "acceptance_rate": rate(g["accepted"], g["routed"]),
                    "rejections": sum(n for n, _ in top),
                    "rejection_reasons": ", ".join(f"{why} {n}" for n, why in top),
                    "won": g["won"] or 0,
                    "lost": g["lost"] or 0,
                    "win_rate": rate(g["won"] or 0, closed),
                    "revenue": float(g["revenue"] or 0.0),
                }
            )
        notes = [
            "acceptance_rate: accepted / routed; win_rate: won / (won + lost); revenue: the "
            "won deals' values; rejections: sales rejections of these leads, by reason."
        ]
        return Report(
            "sources",
            "Sources and campaigns",
            list(rows[0]) if rows else [self.by, "leads"],
            rows,
            notes,
        )

    def velocity(self) -> Report:
        from leadflow.adapters.store.velocity_store import durations

        label = self._labels()
        zeros = self.store.counts(self.period, self.dim, [f"zero_{n}" for n, _, _ in VELOCITY])
        zero_counts = {
            (_text(z["key"]) or ""): {n: _int(z[f"zero_{n}"]) for n, _, _ in VELOCITY}
            for z in zeros
        }
        positive = durations(self.store.connection, self.period, self.column)
        rows = []
        for order, (measure, _, _) in enumerate(VELOCITY):
            counts = positive.counts(measure)
            for key in set(zero_counts) | set(counts):
                stats = percentiles(
                    zero_counts.get(key, {}).get(measure, 0),
                    counts.get(key, 0),
                    partial(positive.at, measure, key),
                )
                if stats["leads"]:
                    row = {self.by: label(key), "measure": MEASURE_NAMES[measure], **stats}
                    rows.append((row[self.by], order, row))
        columns = [self.by, "measure", "leads", "median_seconds", "p90_seconds"]
        notes = [
            "time in a stage type: per lead, the time spent in it over the visits that ended "
            "(leads still in it are not counted); median: the middle value (mean of the two "
            "middle ones); p90: the smallest value at least 90% of the leads do not exceed."
        ]
        ordered = [row for _, _, row in sorted(rows, key=lambda r: r[:2])]
        return Report("velocity", "Velocity", columns, ordered, notes)

    def recycle(self) -> Report:
        label = self._labels()
        rows = []
        for g in sorted(self.store.handbacks(self.period, self.column), key=_order):
            rows.append(
                {
                    self.by: label(g["key"]),
                    "kind": g["kind"],
                    "reason": g["reason"] or "(none)",
                    "handbacks": g["n"],
                    "routed_again": g["routed_again"],
                    "accepted_again": g["accepted_again"],
                    "won": g["won"],
                    "lost": g["lost"],
                    "disqualified": g["disqualified"],
                    "with_marketing_now": g["with_marketing"],
                }
            )
        rows.sort(key=lambda r: (r[self.by], r["kind"], -r["handbacks"], r["reason"]))
        columns = [
            self.by,
            "kind",
            "reason",
            "handbacks",
            "routed_again",
            "accepted_again",
            "won",
            "lost",
            "disqualified",
            "with_marketing_now",
        ]
        notes = [
            "one row per hand-back of the period (by its own time); what became of the lead "
            "counts what happened after that hand-back; with_marketing_now: the lead is in an "
            "inquiry, nurture or recycled stage now."
        ]
        return Report("recycle", "Hand-backs and what became of them", columns, rows, notes)

    def gaps(self, pb: Playbook) -> Report:
        from leadflow.domain.rating import needed_by

        label = self._labels()
        fields = list(pb.fields)
        needs = needed_by(pb, None)
        for segment in pb.segments:
            for name, labels in needed_by(pb, segment.name).items():
                needs.setdefault(name, [])
                needs[name] += [x for x in labels if x not in needs[name]]
        rows = []
        blanks = {
            (g["key"], g["field"]): (_int(g["unanswered"]), _int(g["missing"]))
            for g in self.store.gap_counts(self.period, self.dim)
        }
        for g in sorted(self.store.counts(self.period, self.dim, ["leads"]), key=_order):
            leads = _int(g["leads"])
            for name in fields:
                unanswered, missing = blanks.get((g["key"], name), (0, 0))
                rows.append(
                    {
                        self.by: label(g["key"]),
                        "field": name,
                        "leads": leads,
                        "unanswered": unanswered,
                        "unanswered_share": rate(unanswered, leads),
                        "not_evaluated": missing,
                        "not_evaluated_share": rate(missing, leads),
                        "needed_by": "; ".join(needs.get(name, [])),
                    }
                )
        columns = [
            self.by,
            "field",
            "leads",
            "unanswered",
            "unanswered_share",
            "not_evaluated",
            "not_evaluated_share",
            "needed_by",
        ]
        notes = [
            "unanswered: leads that left the question (playbook field) blank; not_evaluated: "
            "leads for which a criterion or grade rule needing it could not be judged. As of "
            "each lead's latest rating."
        ]
        return Report("gaps", "Data gaps: questions left unanswered", columns, rows, notes)


def rank(connection: Connection, last: int) -> Report:
    """The last ``last`` inquiries, their leads ranked by score (grade, reasons, gaps)."""
    rows = ReportStore(connection).last_inquiries(last)
    ranked = sorted(rows, key=lambda r: (-(r["score"] or 0.0), -r["inquiry_id"]))
    out = []
    for n, r in enumerate(ranked, 1):
        name = " ".join(p for p in (r["first_name"], r["last_name"]) if p)
        out.append(
            {
                "rank": n,
                "lead": r["person_id"],
                "name": name or r["email"] or "",
                "company": r["company"] or "",
                "source": r["source"],
                "received_at": str(r["received_at"])[:19],
                "grade": r["grade"],
                "score": r["score"],
                "route": r["route"],
                "reasons": "; ".join(_list(r["reasons"])),
                "data_issues": "; ".join(_list(r["data_issues"])),
            }
        )
    columns = [
        "rank",
        "lead",
        "name",
        "company",
        "source",
        "received_at",
        "grade",
        "score",
        "route",
        "reasons",
        "data_issues",
    ]
    notes = [f"the last {last} inquiries (a lead with several is listed for each), best first"]
    return Report("rank", f"The last {last} inquiries, ranked", columns, out, notes)


def percentiles(
    zeros: int, positives: int, read: Callable[[list[int]], list[int]]
) -> dict[str, Any]:
    """Count, median and p90 (nearest rank) of durations in seconds: ``zeros`` zero
    durations below ``positives`` positive ones, of which ``read`` gives the values at
    ranks (from 0) of their sorted list. Only the two or three ranks needed are read."""
    n = zeros + positives
    if n == 0:
        return {"leads": 0, "median_seconds": None, "p90_seconds": None}
    wanted = [(n - 1) // 2, n // 2, p90_rank(n)]
    above = sorted({k - zeros for k in wanted if k >= zeros})
    found = dict(zip(above, read(above), strict=True)) if above else {}

    def at(k: int) -> float:  # the k-th smallest value, from 0
        return 0.0 if k < zeros else float(found[k - zeros])

    median = (at(wanted[0]) + at(wanted[1])) / 2
    return {"leads": n, "median_seconds": median, "p90_seconds": at(wanted[2])}


def p90_rank(n: int) -> int:
    """The nearest rank of the p90 of n values, from 0: the ceil(0.9 n)-th smallest,
    counted in whole numbers so that no floating-point rounding can move it."""
    return (9 * n + 9) // 10 - 1


def _text(key: Any) -> str | None:
    return str(key) if key is not None else None


def _order(row: dict[str, Any]) -> tuple[bool, str]:
    return (row["key"] in (None, ""), str(row["key"]))


def _int(value: Any) -> int:
    """A sum from the database (None when nothing was summed; a Decimal on PostgreSQL)."""
    return int(value or 0)


def _list(value: Any) -> list[str]:
    import json

    if value is None:
        return []
    if isinstance(value, str):
        loaded: list[str] = json.loads(value)
        return loaded
    return list(value)
