"""How the CLI shows things: check reports, ratings, summaries, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import Rating
from leadflow.services.check import CheckReport
from leadflow.services.rate_file import RateSummary

if TYPE_CHECKING:
    from leadflow.config import Settings

GRADE_STYLE = {"A": "bold green", "B": "green", "C": "yellow", "D": "dim"}


def _grade(label: str) -> str:
    return f"[{GRADE_STYLE.get(label, 'bold')}]{escape(label)}[/]"


def print_check_report(console: Console, report: CheckReport, strict: bool) -> None:
    ok = report.ok(strict)
    mark = "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]"
    pb = report.playbook
    title = f" {escape(pb.name)} [dim]{pb.version}[/]" if pb else ""
    console.print(f"{mark} {escape(report.path)}{title}")
    for line in report.errors:
        console.print(f"  [red]error[/]   {escape(line)}")
    if pb is not None:
        passed = len(report.examples) - len(report.failed_examples)
        console.print(f"  examples {passed}/{len(report.examples)} pass")
    for example in report.failed_examples:
        console.print(
            f"  [red]example[/] {escape(example.name)}: {escape('; '.join(example.mismatches))}"
        )
    for line in report.warnings:
        label = "[red]warning[/]" if strict else "[yellow]warning[/]"
        console.print(f"  {label} {escape(line)}")
    for line in report.notes:
        console.print(f"  [dim]note[/]    {escape(line)}")


def print_rating(console: Console, pb: Playbook, rating: Rating) -> None:
    segment = f"   segment [bold]{escape(rating.segment)}[/]" if rating.segment else ""
    console.print(
        f"Grade {_grade(rating.grade)}  ->  [bold]{rating.route}[/]   score {rating.score:g} "
        f"(fit {rating.fit:g}, qualification {rating.qualification:g}, "
        f"engagement {rating.engagement:g}){segment}"
    )
    console.print(f"[dim]{escape(pb.name)} · playbook {rating.playbook_version}[/]")
    console.print("\n[bold]Why[/]")
    for reason in rating.reasons:
        console.print(f"  - {escape(reason)}")
    if rating.data_issues:
        console.print("\n[bold]Data issues[/]")
        for issue in rating.data_issues:
            console.print(f"  [yellow]![/] {escape(issue)}")


def print_rate_summary(
    console: Console, pb: Playbook, summary: RateSummary, output: str | None
) -> None:
    rows = summary.rows
    columns = summary.columns
    if columns is not None and columns.missing:
        console.print(
            f"[yellow]No column for[/] {escape(', '.join(columns.missing))}: "
            "those facts are unknown on every row (use --map 'Column=field')."
        )
    if summary.replaced:
        console.print(f"[yellow]Replaced existing columns[/] {', '.join(summary.replaced)}.")
    if summary.blank:
        console.print(f"{summary.blank:,} blank lines skipped.")
    if summary.activities_skipped:
        console.print(
            f"[yellow]{summary.activities_skipped} of {summary.activities} activities skipped[/] "
            "(no matching lead, or no readable time in 'at')."
        )
    table = Table(title=f"{rows:,} leads rated with {escape(pb.name)} in {summary.seconds:.1f}s")
    table.add_column("grade")
    table.add_column("leads", justify="right")
    table.add_column("share", justify="right")
    table.add_column("route")
    for label in pb.grade_labels:
        count = summary.grades.get(label, 0)
        share = f"{count / rows:.1%}" if rows else "-"
        table.add_row(_grade(label), f"{count:,}", share, pb.routes.get(label, ""))
    console.print(table)
    sales = summary.routes.get("sales", 0)
    console.print(
        f"To sales: {sales:,} ({sales / rows:.1%}); to nurture: "
        f"{summary.routes.get('nurture', 0):,}."
        if rows
        else "No rows."
    )
    if summary.with_issues:
        top = ", ".join(
            f"{name} ({count:,})" for name, count in summary.issue_counts.most_common(5)
        )
        console.print(f"{summary.with_issues:,} rows have data issues; most often: {escape(top)}.")
    if output:
        console.print(f"Wrote [bold]{escape(output)}[/].")


class RowsColumn(ProgressColumn):
    """``12,000/1,000,000 rows``; ``?`` for the total until the file's rows are counted."""

    def render(self, task: Task) -> Text:
        total = f"{int(task.total):,}" if task.total is not None else "?"
        return Text(f"{int(task.completed):,}/{total} rows")


def database_files(settings: Settings | None = None) -> list[Path]:
    """The files of the configured SQLite database (``settings``', else read now), which
    no output may be written over (:func:`adapters.files.replacing`); none for
    PostgreSQL, or when the settings cannot be read (a command that needs no database
    still writes its file)."""
    from leadflow.adapters.store.engine import sqlite_files
    from leadflow.config import Settings

    try:
        return sqlite_files((settings or Settings()).database_url)
    except ValueError:  # pydantic's ValidationError: settings this command does not read
        return []


@contextmanager
def progress_bar(
    console: Console, show: bool, label: str = "rating"
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback ``(done, total)`` drawing a bar on a terminal, else ``None``."""
    if not show:
        yield None
        return
    with Progress(
        TextColumn(label),
        BarColumn(),
        RowsColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("rate", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance
