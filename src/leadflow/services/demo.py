"""``leadflow demo``: the main job, end to end, on generated inquiries.

It writes sample inquiries and activities, rates them with the bundled
b2b-saas playbook, renders the definitions document, and shows what
happened: how many inquiries are sales-ready, the best leads and why, the
facts most often missing, and where to look next.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadflow.bootstrap import DEFAULT_PLAYBOOK, bundled_playbook
from leadflow.domain.playbook import Playbook
from leadflow.samples import generate
from leadflow.services.definitions import render_definitions
from leadflow.services.rate_file import RateSummary, rate_csv


def run_demo(console: Console, directory: Path, leads: int, seed: int, now: datetime) -> None:
    pb = bundled_playbook(DEFAULT_PLAYBOOK)
    directory.mkdir(parents=True, exist_ok=True)
    sample = generate(leads, seed, now)
    inquiries = directory / "inquiries.csv"
    activities = directory / "activities.csv"
    rated = directory / "rated.csv"
    definitions = directory / "definitions.html"
    playbook_copy = directory / "playbook.yaml"
    sample.inquiries.write_csv(inquiries)
    sample.activities.write_csv(activities)
    summary = rate_csv(pb, inquiries, rated, now=now, activities=activities)
    definitions.write_text(render_definitions(pb), encoding="utf-8")
    source = Path(__file__).resolve().parents[1] / "playbooks" / f"{DEFAULT_PLAYBOOK}.yaml"
    playbook_copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")

    console.rule(f"[bold]leadflow demo[/] · {escape(pb.name)}")
    console.print(
        f"Generated {summary.rows:,} inquiries from {sample.inquiries['lead_source'].n_unique()} "
        f"sources with {sample.activities.height:,} activities (page views, downloads, "
        f"webinars...), and rated each against the playbook [dim]{pb.version}[/] "
        f"in {summary.seconds:.2f}s."
    )
    _grades(console, pb, summary)
    table = pl.read_csv(rated, infer_schema=False)
    _best(console, table)
    _gaps(console, summary)
    _next(console, directory, inquiries, activities, rated, definitions, playbook_copy)


def _grades(console: Console, pb: Playbook, summary: RateSummary) -> None:
    table = Table(title="Grades", title_justify="left")
    for column in ("grade", "inquiries", "share", "goes to"):
        table.add_column(column, justify="right" if column in ("inquiries", "share") else "left")
    for label in pb.grade_labels:
        count = summary.grades.get(label, 0)
        table.add_row(label, f"{count:,}", f"{count / summary.rows:.1%}", pb.routes[label])
    console.print(table)
    sales = summary.routes.get("sales", 0)
    console.print(
        f"[bold]{sales:,} of {summary.rows:,} ({sales / summary.rows:.1%})[/] go to sales now "
        "(graded A or B, or asked for a call); the rest stay in marketing's nurture. "
        "Practitioners expect 5-15% of inquiries to be sales-ready."
    )


def _best(console: Console, table: pl.DataFrame) -> None:
    best = (
        table.with_columns(pl.col("score").cast(pl.Float64))
        .filter(pl.col("grade") == "A")
        .sort("score", descending=True)
        .head(5)
    )
    if best.is_empty():
        return
    console.print("\n[bold]The best leads, and why[/]")
    for row in best.iter_rows(named=True):
        reasons = [r for r in row["reasons"].split("; ") if not r.startswith(("Grade ", "Route "))]
        labels = ", ".join(r.split(": ")[0] if ": " in r else r for r in reasons)
        console.print(
            f"  [bold green]{row['grade']}[/] {row['score']:>5}  {escape(row['first_name'])} "
            f"{escape(row['last_name'])}, {escape(row['company'])}\n"
            f"        [dim]{escape(labels)}[/]"
        )


def _gaps(console: Console, summary: RateSummary) -> None:
    if not summary.issue_counts:
        return
    console.print(
        "\n[bold]Facts most often missing or unreadable[/] (questions to ask, or fix on the form)"
    )
    for name, count in summary.issue_counts.most_common(5):
        console.print(f"  {escape(name):<16} {count:>6,} inquiries ({count / summary.rows:.0%})")


def _next(console: Console, directory: Path, *files: Path) -> None:
    console.print("\n[bold]Where to look next[/]")
    for path in files:
        console.print(f"  {escape(str(path))}")
    playbook = directory / "playbook.yaml"
    console.print(
        "\n  [bold]Explain one lead:[/] leadflow explain -p "
        f"{escape(str(playbook))} --set product=enterprise --set budget=approved "
        "--set decision_role=decision_maker --set timeframe_days=120 --set company_size=2500"
        "\n  [bold]Rate your own file:[/] leadflow rate -p "
        f"{escape(str(playbook))} your-leads.csv -o rated.csv"
        "\n  [bold]Check a playbook:[/] leadflow check examples/playbooks/*.yaml"
        "\n  [bold]Read the definitions:[/] open "
        f"{escape(str(directory / 'definitions.html'))} in a browser"
    )
