"""How ``leadflow nurture report`` shows the customer experience report.

- ``table``: three tables, for people;
- ``json``: the report as one object (what ``GET /api/v1/nurture/report`` answers);
- ``csv``: one tidy table, a row per number: ``part, stage, channel, status, reason,
  lead, measure, value`` (filter or pivot it in a spreadsheet).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadflow.errors import InvalidInput
from leadflow.services.nurture_report import Experience

CSV_COLUMNS = ["part", "stage", "channel", "status", "reason", "lead", "measure", "value"]


def print_experience(console: Console, report: Experience, fmt: str) -> None:
    if fmt == "json":
        console.print_json(json.dumps(asdict(report), default=_iso))
    elif fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_tidy(report))
        sys.stdout.write(text.getvalue())
    elif fmt == "table":
        _tables(console, report)
    else:
        raise InvalidInput(f"unknown format '{fmt}' (table, csv or json)", where="--format")


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _tidy(report: Experience) -> list[list[object]]:
    rows: list[list[object]] = []
    for name in ("leads", "sent", "deferred", "skipped"):
        rows.append(["totals", "", "", "", "", "", name, getattr(report, name)])
    for w in report.weekly:
        for measure in ("lead_weeks", "touches", "median", "p90", "max"):
            rows.append(["weekly", w.stage, w.channel, "", "", "", measure, getattr(w, measure)])
    for h in report.held:
        for measure in ("times", "leads"):
            rows.append(["held", "", "", h.status, h.reason, "", measure, getattr(h, measure)])
    for m in report.most:
        rows.append(["most", m.stage or "", "any", "", "", m.person_id, "touches", m.touches])
        for channel, n in m.by_channel.items():
            rows.append(["most", m.stage or "", channel, "", "", m.person_id, "touches", n])
        rows.append(
            ["most", m.stage or "", "any", "", "", m.person_id, "busiest_week", m.busiest_week]
        )
    return rows


def _window(report: Experience) -> str:
    since = f"{report.since:%Y-%m-%d}" if report.since else None
    until = f"{report.until:%Y-%m-%d}" if report.until else None
    if since and until:
        return f"from {since} to {until} (not included)"
    if since:
        return f"from {since} on"
    return f"before {until}" if until else "all time"


def _tables(console: Console, report: Experience) -> None:
    console.print(
        f"[bold]Customer experience[/], {_window(report)}: {report.leads:,} leads touched; "
        f"{report.sent:,} touches sent, {report.deferred:,} held back, "
        f"{report.skipped:,} skipped."
    )
    weekly = Table(title="Touches per lead per week (weeks with at least one touch)")
    for column in ("stage", "channel", "lead-weeks", "touches", "median", "p90", "max"):
        weekly.add_column(column, justify="left" if column in ("stage", "channel") else "right")
    for w in report.weekly:
        weekly.add_row(
            escape(w.stage),
            escape(w.channel),
            str(w.lead_weeks),
            str(w.touches),
            f"{w.median:g}",
            str(w.p90),
            str(w.max),
        )
    console.print(weekly)
    held = Table(title="What held messages back")
    for column in ("status", "reason", "times", "leads"):
        held.add_column(
            column, overflow="fold", justify="right" if column in ("times", "leads") else "left"
        )
    for h in report.held:
        held.add_row(h.status, escape(h.reason), str(h.times), str(h.leads))
    console.print(held)
    most = Table(title="Leads touched most")
    for column in ("lead", "name", "email", "stage", "touches", "by channel", "busiest week"):
        most.add_column(column, overflow="fold")
    for m in report.most:
        channels = ", ".join(f"{k} {v}" for k, v in m.by_channel.items())
        most.add_row(
            str(m.person_id),
            escape(m.name),
            escape(m.email or ""),
            escape(m.stage or ""),
            str(m.touches),
            escape(channels),
            str(m.busiest_week),
        )
    console.print(most)
