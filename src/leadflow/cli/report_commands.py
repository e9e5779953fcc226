"""Commands that measure: the reports, the last inquiries ranked, and the backtest.

::

    leadflow report funnel|sources|velocity|recycle|gaps [--since 2026-09-01]
        [--until 2026-12-01] [--by source|campaign|form|rep|grade|month]
        [--format table|csv|json]
    leadflow rank [--last 100] [--format ...]
    leadflow backtest --playbook CANDIDATE.yaml [--baseline CURRENT.yaml]
        [--since 2026-01-01] [--out report.md|report.html]

Tables go to standard output, the notes that define each column to standard error.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.analytics.report_text import cell, report_csv
from leadflow.cli.main import PlaybookOption, app, err, out
from leadflow.errors import InvalidInput

if TYPE_CHECKING:
    from leadflow.analytics.reports import Report

Format = Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")]
Since = Annotated[
    str | None, typer.Option(help="Leads whose first inquiry is on or after this day.")
]
Until = Annotated[str | None, typer.Option(help="... and before this day (2026-12-01).")]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date like 2026-09-01", option) from None


def _engine() -> Any:
    """The database; migrated only when its schema is not the code's (one query: reading
    a report need not import Alembic to find that nothing is to be done)."""
    from leadflow.adapters.store.engine import check_connection, is_current, make_engine, upgrade
    from leadflow.config import Settings

    settings = Settings()
    timeout = settings.database_connect_timeout
    engine = make_engine(settings.database_url, connect_timeout=timeout)
    check_connection(engine, timeout)
    if not is_current(engine):
        upgrade(engine)
    return engine


def show(report: Report, fmt: str) -> None:
    """A report as a table (rates as percentages, times in words), CSV or JSON."""
    if fmt == "json":
        _print_json(report.as_json())
        return
    if fmt == "csv":
        sys.stdout.write(report_csv(report))  # the web pages' dashboards download the same
        return
    if fmt != "table":
        raise InvalidInput(f"unknown format '{fmt}' (table, csv or json)", where="--format")
    table = Table(title=report.title, show_edge=False)
    for column in report.columns:
        table.add_column(column.replace("_seconds", ""), overflow="fold")
    for row in report.rows:
        table.add_row(*(escape(cell(c, row.get(c))) for c in report.columns))
    out.print(table)
    if not report.rows:
        err.print("No leads in this period.")
    for note in report.notes:
        err.print(f"[dim]{escape(note)}[/]")


def _print_json(data: dict[str, Any]) -> None:
    """Coloured on a terminal; else the same text written as is: Rich takes 0.1-0.2 s to
    lay out a report of a few hundred rows that a program reads anyway."""
    if out.is_terminal:
        out.print_json(json.dumps(data, default=str))
        return
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="funnel, sources, velocity, recycle or gaps.")],
    since: Since = None,
    until: Until = None,
    by: Annotated[
        str | None, typer.Option(help="source, campaign, form, rep, grade or month.")
    ] = None,
    fmt: Format = "table",
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="First make the reports' rows again from the event log (a database from "
            "before the reports; slow on a large log).",
        ),
    ] = False,
    playbook: PlaybookOption = None,
) -> None:
    """A closed-loop report: the funnel, sources, velocity, hand-backs, data gaps."""
    from leadflow.cli.main import _playbook
    from leadflow.services.reports import ReportQuery, rebuild_rows, run_report

    query = ReportQuery(name, _day(since, "--since"), _day(until, "--until"), by)
    pb = _playbook(playbook) if name == "gaps" else None
    engine = _engine()
    if rebuild:
        err.print(f"Rebuilt the reports' rows of {rebuild_rows(engine):,} leads from the log.")
    show(run_report(engine, pb, query), fmt)


@app.command()
def rank(
    last: Annotated[int, typer.Option(help="How many of the last inquiries.")] = 100,
    fmt: Format = "table",
) -> None:
    """The last inquiries ranked, with grade, reasons and data issues: a quick sanity
    check anyone can do."""
    from leadflow.services.reports import last_ranked

    show(last_ranked(_engine(), last), fmt)


def _out_path(text: Path | None) -> Path | None:
    """The report file to write, checked before the work (``files.check_writable``)."""
    from leadflow.adapters.files import check_writable
    from leadflow.cli.render import database_files

    if text is not None and text.suffix.lower() not in (".md", ".html", ".htm"):
        raise InvalidInput(f"'{text}' should end in .md or .html", "--out")
    if text is not None:
        check_writable(text, database_files())
    return text


@app.command()
def backtest(
    playbook: Annotated[
        Path, typer.Option("--playbook", "-p", help="The candidate playbook to try.")
    ],
    baseline: Annotated[
        Path | None,
        typer.Option(help="The playbook to compare with. Default: the active one."),
    ] = None,
    since: Since = None,
    until: Until = None,
    to: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the report: .md or .html.")
    ] = None,
) -> None:
    """Replay the leads' history under a candidate playbook and compare it with the
    current one: grades, acceptance, win rate and lift, grade moves, sales workload,
    leads that would have gone to sales sooner or later."""
    from leadflow.adapters.playbook_file import load_playbook
    from leadflow.analytics.backtest_render import heading, html, markdown, sections
    from leadflow.cli.main import _playbook
    from leadflow.services.reports import run_backtest

    target = _out_path(to)
    candidate = load_playbook(playbook)
    current = _playbook(baseline)
    result = run_backtest(
        _engine(), current, candidate, _day(since, "--since"), _day(until, "--until")
    )
    out.print(f"[bold]{escape(heading(result))}[/]")
    for title, columns, rows, note in sections(result):
        table = Table(title=title, show_edge=False)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(escape(c) for c in row))
        out.print(table)
        if note:
            err.print(f"[dim]{escape(note)}[/]")
    if target is not None:
        text = html(result) if target.suffix.lower() in (".html", ".htm") else markdown(result)
        from leadflow.adapters.files import replacing
        from leadflow.cli.render import database_files

        with replacing(target, database_files()) as handle:
            handle.write(text.encode("utf-8"))
        err.print(f"Wrote {target}.")
