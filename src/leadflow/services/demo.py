"""``leadflow demo``: the main job, end to end, on generated inquiries.

It generates sample inquiries and activities (some people inquire twice,
written differently), captures them into a SQLite file through the same
path as the API and imports (kept raw, consolidated into people, rated with
the bundled b2b-saas playbook), rates the file as `leadflow rate` would,
renders the definitions document, and shows what happened: how many people,
how many merges, the grades, the best leads and why, the facts most often
missing, and where to look next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadflow.bootstrap import DEFAULT_PLAYBOOK, bundled_playbook
from leadflow.domain.playbook import Playbook
from leadflow.samples import generate
from leadflow.services.definitions import render_definitions
from leadflow.services.imports import ImportSummary
from leadflow.services.rate_file import RateSummary, rate_csv
from leadflow.services.reps import AddRep
from leadflow.services.users import AddUser

DEMO_REPS = (
    AddRep("Sam Patel", "sam.patel@example.com", team="account_management", capacity=400),
    AddRep("Dana Whitfield", "dana.whitfield@example.com", team="enterprise", capacity=300),
    AddRep("Omar Haddad", "omar.haddad@example.com", team="enterprise", capacity=300),
    AddRep("Lee Moreno", "lee.moreno@example.com", team="inside_sales", territories=["US", "CA"]),
    AddRep("Ines Duarte", "ines.duarte@example.com", team="inside_sales"),
)
"""The demo's sales team, for the bundled playbook's teams."""

DEMO_PASSWORD = "leadflow-demo"
DEMO_USERS = (
    AddUser("dana.whitfield@example.com", DEMO_PASSWORD, "rep"),
    AddUser("morgan.lee@example.com", DEMO_PASSWORD, "manager", "Morgan Lee", team="enterprise"),
    AddUser("mia.chen@example.com", DEMO_PASSWORD, "marketing", "Mia Chen"),
    AddUser("admin@example.com", DEMO_PASSWORD, "admin", "Ada Admin"),
)
"""Who signs in to the demo's web pages (one of each role), all with DEMO_PASSWORD."""


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
    captured = _capture(directory / "leadflow.db", pb, inquiries, activities, now)
    definitions.write_text(render_definitions(pb), encoding="utf-8")
    source = Path(__file__).resolve().parents[1] / "playbooks" / f"{DEFAULT_PLAYBOOK}.yaml"
    playbook_copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")

    console.rule(f"[bold]leadflow demo[/] · {escape(pb.name)}")
    imported = captured.imported
    merges = ", ".join(f"{rule} {n:,}" for rule, n in imported.merged.most_common())
    console.print(
        f"Generated {summary.rows:,} inquiries from {sample.inquiries['lead_source'].n_unique()} "
        f"sources and {sample.activities.height:,} activities (page views, downloads, "
        f"webinars...), and captured them into [bold]{escape(str(captured.database))}[/] "
        "(SQLite), as the API, forms and imports do: each kept as received, consolidated into "
        f"people and rated against the playbook [dim]{pb.version}[/]."
    )
    console.print(
        f"{imported.rows:,} inquiries became [bold]{captured.people:,} people[/]: "
        f"{imported.merged_total:,} joined someone who inquired before ({merges or 'none'}); "
        f"{sum(imported.quarantined.values()):,} quarantined; "
        f"{captured.activities:,} activities recorded. ({imported.seconds:.1f}s)"
    )
    _grades(console, pb, captured)
    _handoff(console, pb, captured)
    _best(console, captured.database)
    _gaps(console, summary)
    _next(
        console,
        directory,
        captured.example,
        captured.database,
        inquiries,
        activities,
        rated,
        definitions,
        playbook_copy,
    )


@dataclass(frozen=True)
class Captured:
    database: Path
    imported: ImportSummary
    activities: int
    people: int
    grades: dict[str, int]
    stages: dict[str, int]
    routed: list[tuple[str, str | None, int]]  # rep, team, leads it owns
    pool: int  # sales-ready leads no rep could take
    example: int  # a routed lead, to show


def _capture(
    database: Path, pb: Playbook, inquiries: Path, activities: Path, now: datetime
) -> Captured:
    """The main job on the embedded default: every inquiry captured into a SQLite file."""
    from sqlalchemy import func, select

    from leadflow.adapters.store import tables
    from leadflow.adapters.store.engine import make_engine, upgrade
    from leadflow.adapters.store.leads import LeadStore
    from leadflow.services.activity_import import import_activity_csv
    from leadflow.services.capture import CaptureSettings
    from leadflow.services.imports import import_csv
    from leadflow.services.reps import add_rep
    from leadflow.services.uow import UnitOfWork
    from leadflow.services.users import add_user

    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    settings = CaptureSettings()
    with UnitOfWork(engine) as uow:
        for rep in DEMO_REPS:
            add_rep(uow, rep, now)
        for user in DEMO_USERS:
            add_user(uow, user, now)
    imported = import_csv(
        lambda: UnitOfWork(engine), pb, inquiries, source="demo-forms", now=now, settings=settings
    )
    recorded = import_activity_csv(
        lambda: UnitOfWork(engine), pb, activities, settings, "demo-web", now
    ).done
    with UnitOfWork(engine) as uow:
        people = uow.store.count(tables.people)
        grades = uow.store.grade_counts()
        stages = LeadStore(uow.store.connection).stage_counts()
        owners = uow.store.connection.execute(
            select(tables.reps.c.name, tables.reps.c.team, func.count(tables.lifecycle.c.person_id))
            .join(
                tables.lifecycle, tables.lifecycle.c.owner_rep_id == tables.reps.c.id, isouter=True
            )
            .group_by(tables.reps.c.id, tables.reps.c.name, tables.reps.c.team)
            .order_by(tables.reps.c.id)
        ).all()
        pool = uow.store.connection.execute(
            select(func.count())
            .select_from(tables.lifecycle)
            .where(tables.lifecycle.c.owner_rep_id.is_(None), tables.lifecycle.c.team.is_not(None))
        ).scalar_one()
        example = uow.store.connection.execute(
            select(func.min(tables.lifecycle.c.person_id)).where(
                tables.lifecycle.c.owner_rep_id.is_not(None)
            )
        ).scalar()
    engine.dispose()
    routed = [(name, team, int(n)) for name, team, n in owners]
    return Captured(
        database, imported, recorded, people, grades, stages, routed, int(pool), example or 1
    )


def _grades(console: Console, pb: Playbook, captured: Captured) -> None:
    table = Table(title="People by grade", title_justify="left")
    for column in ("grade", "people", "share", "goes to"):
        table.add_column(column, justify="right" if column in ("people", "share") else "left")
    people = max(captured.people, 1)
    for label in pb.grade_labels:
        count = captured.grades.get(label, 0)
        table.add_row(label, f"{count:,}", f"{count / people:.1%}", pb.routes[label])
    console.print(table)
    console.print(
        "A and B go to sales now, with anyone who asked for a call; the rest stay in "
        "marketing's nurture. Practitioners expect 5-15% of inquiries to be sales-ready."
    )


def _handoff(console: Console, pb: Playbook, captured: Captured) -> None:
    stages = ", ".join(
        f"{pb.stages[name].label} {captured.stages.get(name, 0):,}"
        for name in (s.name for s in pb.stages.stages)
        if captured.stages.get(name)
    )
    console.print(f"\n[bold]Where the leads stand[/]: {escape(stages)}")
    table = Table(title="Routed to reps (playbook routing:)", title_justify="left")
    for column in ("rep", "team", "leads"):
        table.add_column(column, justify="right" if column == "leads" else "left")
    for name, team, owned in captured.routed:
        table.add_row(escape(name), escape(team or ""), f"{owned:,}")
    console.print(table)
    console.print(
        f"Sales-ready leads went to a rep of the team the playbook picks (account owner first, "
        f"then territory, capacity and working hours), each with an acceptance deadline; "
        f"{captured.pool:,} wait in a team's pool (no rep of that team could take them)."
    )


def _best(console: Console, database: Path) -> None:
    from leadflow.adapters.store.engine import make_engine
    from leadflow.services.uow import UnitOfWork

    engine = make_engine(f"sqlite:///{database}")
    with UnitOfWork(engine) as uow:
        best = uow.store.top_leads(5)
    engine.dispose()
    if not best:
        return
    console.print("\n[bold]The best leads for sales, and why[/]")
    for row in best:
        reasons = [r for r in row.reasons if not r.startswith(("Grade ", "Route "))]
        labels = ", ".join(r.split(": ")[0] if ": " in r else r for r in reasons)
        seen = f", {row.inquiry_count} inquiries" if row.inquiry_count > 1 else ""
        console.print(
            f"  [bold green]{row.grade}[/] {row.score:>5}  {escape(row.first_name or '')} "
            f"{escape(row.last_name or '')}, {escape(row.company or '')}{seen}\n"
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


def _next(console: Console, directory: Path, lead: int, *files: Path) -> None:
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
        "\n  [bold]See the merges:[/] LEADFLOW_DATABASE_URL=sqlite:///"
        f"{escape(str(directory / 'leadflow.db'))} leadflow merges"
        "\n  [bold]Check a playbook:[/] leadflow check examples/playbooks/*.yaml"
        "\n  [bold]Work a lead:[/] LEADFLOW_DATABASE_URL=sqlite:///"
        f"{escape(str(directory / 'leadflow.db'))} leadflow lead {lead}   (then accept {lead}, "
        f"reject {lead} --reason bad_timing, leadflow worker --once)"
        "\n  [bold]Read the definitions:[/] open "
        f"{escape(str(directory / 'definitions.html'))} in a browser"
    )


def print_web_logins(console: Console, url: str) -> None:
    """Where the demo's web pages are, and who can sign in."""
    console.print(f"\n[bold]The web pages[/] are at [bold]{escape(url)}[/]. Sign in as:")
    for user in DEMO_USERS:
        console.print(f"  {user.role:<9} {escape(user.email):<28} password {DEMO_PASSWORD}")
    console.print("Stop the server with Ctrl-C.")
