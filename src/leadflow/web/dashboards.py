"""The dashboards: which report each one shows, its filter form, its charts and its table.

Each dashboard is one report of ``leadflow report NAME`` (``services.reports.run_report``)
drawn as bar charts (:mod:`leadflow.web.charts`) with the report's own numbers in a table
beside them, and the same CSV the CLI writes a click away::

    /dashboard                 funnel    leads reaching each step, conversions
    /dashboard/sources         sources   acceptance and win rate per source (or any group)
    /dashboard/velocity        velocity  time in stage, speed to lead, time to accept
    /dashboard/recycle         recycle   hand-backs by reason and what became of them
    /dashboard/NAME.csv        the report as CSV, as ``leadflow report NAME --format csv``

The filter form (since, until, by) is read by :class:`Filters`; a bad value is an
:class:`~leadflow.errors.InvalidInput` naming the field, which the page shows on the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from leadflow.analytics.report_text import cell, duration
from leadflow.analytics.reports import BY, MEASURE_NAMES, Report
from leadflow.errors import InvalidInput
from leadflow.services.reports import DEFAULT_BY, ReportQuery, period
from leadflow.web.charts import Chart, bar_chart, nice_duration

CHART_GROUPS = 20
"""A chart draws at most this many groups (the largest); the table lists every one."""


@dataclass(frozen=True)
class Dashboard:
    name: str  # the report's name, and the page's: /dashboard/NAME
    title: str
    intro: str  # what the page answers, in a sentence
    charts: Callable[[Report], list[Chart]]

    @property
    def path(self) -> str:
        return "/dashboard" if self.name == "funnel" else f"/dashboard/{self.name}"


@dataclass(frozen=True)
class Filters:
    """The filter form as typed: kept as text so a bad value goes back to the form."""

    since: str = ""
    until: str = ""
    by: str = ""

    @classmethod
    def of(cls, since: str | None, until: str | None, by: str | None) -> Filters:
        return cls((since or "").strip()[:40], (until or "").strip()[:40], (by or "").strip()[:40])

    def query(self, name: str) -> ReportQuery:
        """The report query, or InvalidInput naming the field that is wrong."""
        since, until = days(self.since, self.until)
        by = None if self.by in ("", "all") else self.by
        if by is not None and by not in BY:
            raise InvalidInput(f"cannot group by '{by}' (known: {', '.join(BY)})", "by")
        return ReportQuery(name, since, until, by)

    def grouping(self, name: str) -> str:
        """The group the report uses: the form's, else the report's default, else all."""
        by = None if self.by in ("", "all") else self.by
        return by or DEFAULT_BY.get(name) or "all"

    def params(self) -> str:
        """The filters as a query string (``?since=...``), or nothing when none is set."""
        pairs = [(k, v) for k, v in (("since", self.since), ("until", self.until)) if v]
        pairs += [("by", self.by)] if self.by not in ("", "all") else []
        return "?" + urlencode(pairs) if pairs else ""


def days(since: str, until: str) -> tuple[date | None, date | None]:
    """A form's since and until as days, or InvalidInput naming the one that is wrong
    (not a date, or until not after since)."""
    first, last = _day(since, "since"), _day(until, "until")
    period(first, last)
    return first, last


def _day(text: str, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date like 2026-09-01", where) from None


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    numeric: bool


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def table(report: Report) -> Table:
    """The report's rows as cells people read (rates in %, times in words). Ungrouped,
    without the group column (every row's is ``all``; the CSV keeps it)."""
    names = report.columns[1:] if report.columns[:1] == ["all"] else report.columns
    columns = [
        Column(
            c,
            c.removesuffix("_seconds").replace("_", " "),
            any(isinstance(r.get(c), int | float) for r in report.rows),
        )
        for c in names
    ]
    rows = [[cell(c, r.get(c)) for c in names] for r in report.rows]
    return Table(columns, rows, report.notes)


def csv_name(name: str, filters: Filters) -> str:
    """``leadflow-sources-by-campaign-2026-09-01-to-2026-12-01.csv``: what is in the file."""
    parts = ["leadflow", name, "by", filters.grouping(name)]
    if filters.since or filters.until:
        parts += [filters.since or "start", "to", filters.until or "now"]
    return "-".join(parts) + ".csv"


def percent(value: float) -> str:
    return f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def _largest(
    rows: list[dict[str, Any]], size: Callable[[dict[str, Any]], float], what: str
) -> tuple[list[dict[str, Any]], str]:
    """At most CHART_GROUPS rows, the largest by ``size`` (in the report's order), and a
    note saying so when rows were left out."""
    if len(rows) <= CHART_GROUPS:
        return rows, ""
    kept = {id(r) for r in sorted(rows, key=size, reverse=True)[:CHART_GROUPS]}
    note = f"The chart shows the {CHART_GROUPS} {what} of {len(rows)}; the table lists them all."
    return [r for r in rows if id(r) in kept], note


def funnel_charts(report: Report) -> list[Chart]:
    """All leads: one bar per step. Grouped: per group, the steps that matter most."""
    by = report.columns[0]
    if by == "all":
        rows = report.rows
        labels = [r["step"] for r in rows]
        texts = [[count(r["leads"]) + _of_previous(r)] for r in rows]
        values: list[list[float | None]] = [[r["leads"]] for r in rows]
        return [
            bar_chart(
                "funnel", "Leads reaching each step", labels, ["leads"], values, count, texts=texts
            )
        ]
    steps = ("inquiry", "sales ready", "sales accepted", "won")
    groups: dict[str, dict[str, int]] = {}
    for r in report.rows:
        groups.setdefault(r[by], {})[r["step"]] = r["leads"]
    rows = [{by: g, **steps_of} for g, steps_of in groups.items()]
    shown, note = _largest(rows, lambda r: r.get("inquiry", 0), "groups with the most leads")
    values = [[r.get(s, 0) for s in steps] for r in shown]
    return [
        bar_chart(
            "funnel",
            f"Leads reaching a step, by {by}",
            [r[by] for r in shown],
            list(steps),
            values,
            count,
            note=note,
        )
    ]


def _of_previous(row: dict[str, Any]) -> str:
    conversion = row.get("conversion")
    return "" if conversion is None else f" ({percent(conversion)})"


def sources_charts(report: Report) -> list[Chart]:
    """Per group: acceptance rate (accepted / routed) and win rate (won / won + lost)."""
    if not report.rows or "acceptance_rate" not in report.columns:
        return []
    by = report.columns[0]
    shown, note = _largest(report.rows, lambda r: r["leads"], "groups with the most leads")
    values = [[r["acceptance_rate"], r["win_rate"]] for r in shown]
    return [
        bar_chart(
            "sources",
            f"Acceptance and win rate by {by}",
            [r[by] for r in shown],
            ["acceptance rate", "win rate"],
            values,
            percent,
            top=1.0,
            note=note,
        )
    ]


KEY_MEASURES = ("speed_to_lead", "time_to_accept")
"""The velocity measures charted per group when the report is grouped."""


def velocity_charts(report: Report) -> list[Chart]:
    """All leads: median and p90 of every measure. Grouped: speed to lead and time to
    accept per group."""
    by = report.columns[0]
    series = ["median", "90th percentile"]
    if by == "all":
        rows = report.rows
        labels = [r["measure"].split(" (")[0] for r in rows]
        values: list[list[float | None]] = [[r["median_seconds"], r["p90_seconds"]] for r in rows]
        return (
            [
                bar_chart(
                    "velocity",
                    "Time per measure",
                    labels,
                    series,
                    values,
                    duration,
                    nice=nice_duration,
                )
            ]
            if rows
            else []
        )
    charts = []
    for key in KEY_MEASURES:
        measure = MEASURE_NAMES[key]
        mine = [r for r in report.rows if r["measure"] == measure]
        if not mine:
            continue
        shown, note = _largest(mine, lambda r: r["leads"], "groups with the most leads")
        values = [[r["median_seconds"], r["p90_seconds"]] for r in shown]
        title = f"{measure[0].upper()}{measure[1:]}, by {by}"
        charts.append(
            bar_chart(
                key.replace("_", "-"),
                title,
                [r[by] for r in shown],
                series,
                values,
                duration,
                nice=nice_duration,
                note=note,
            )
        )
    return charts


def recycle_charts(report: Report) -> list[Chart]:
    """Per reason (and group): the hand-backs and what became of them since."""
    if not report.rows:
        return []
    by = report.columns[0]
    shown, note = _largest(report.rows, lambda r: r["handbacks"], "reasons handed back most")
    labels = [(f"{r[by]} · " if by != "all" else "") + f"{r['kind']}: {r['reason']}" for r in shown]
    series = ["hand-backs", "routed again", "accepted again", "won"]
    columns = ("handbacks", "routed_again", "accepted_again", "won")
    values: list[list[float | None]] = [[r[c] for c in columns] for r in shown]
    return [
        bar_chart(
            "recycle",
            "Hand-backs and what became of them",
            labels,
            series,
            values,
            count,
            note=note,
        )
    ]


DASHBOARDS = {
    d.name: d
    for d in (
        Dashboard(
            "funnel",
            "Funnel",
            "How many leads reached each step of the funnel, and what share of the step "
            "before went on.",
            funnel_charts,
        ),
        Dashboard(
            "sources",
            "Sources",
            "Which sources (or campaigns, forms...) bring leads sales accepts and wins: "
            "the fair basis for rewarding lead generation.",
            sources_charts,
        ),
        Dashboard(
            "velocity",
            "Velocity",
            "How long leads stay in each stage, how fast sales accepts them and how fast "
            "it first contacts them (speed to lead).",
            velocity_charts,
        ),
        Dashboard(
            "recycle",
            "Recycle",
            "Why sales hands leads back, and what became of them afterwards.",
            recycle_charts,
        ),
    )
}
"""The dashboards, in the order of their tabs."""
