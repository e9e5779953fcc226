"""Commands for reps, the people leads are routed to: add, list, update, deactivate.

``reps add`` prints the new rep's id alone on standard output, so
``REP=$(leadflow reps add ...)`` works; messages go to stderr. A rep is named by
its id or its email address.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from leadflow.cli.api_commands import _uow
from leadflow.cli.main import app, err
from leadflow.cli.store_commands import FormatOption, _emit
from leadflow.errors import InvalidInput

if TYPE_CHECKING:
    from leadflow.services.reps import Rep

reps_app = typer.Typer(
    help="Reps, the people leads are routed to: add, list, update, deactivate.",
    no_args_is_help=True,
)
app.add_typer(reps_app, name="reps")

Ref = Annotated[str, typer.Argument(metavar="ID|EMAIL", help="The rep's id or email address.")]
Team = Annotated[str | None, typer.Option(help="The team the rep works in.")]
Capacity = Annotated[
    int | None, typer.Option(help="Open leads the rep can hold. Default: no limit.")
]
Territories = Annotated[
    list[str] | None,
    typer.Option("--territory", help="A territory, e.g. DE or 'North America'. Repeatable."),
]
Hours = Annotated[
    str | None,
    typer.Option(
        "--hours", help="Time zone and weekly hours: 'Europe/Berlin Mon-Fri 09:00-17:00'."
    ),
]
AwayFrom = Annotated[
    str | None, typer.Option("--away-from", help="First day out of office (2026-12-24).")
]
AwayUntil = Annotated[
    str | None, typer.Option("--away-until", help="Last day out of office (2027-01-01).")
]
CLEARABLE = {
    "team": ("team",),
    "capacity": ("capacity",),
    "territories": ("territories",),
    "hours": ("working_hours",),
    "away": ("away_from", "away_until"),
}
COLUMNS = ["id", "name", "email", "team", "capacity", "territories", "hours"]


@reps_app.command("add")
def reps_add(
    name: Annotated[str, typer.Option(help="The rep's name.")],
    email: Annotated[str, typer.Option(help="The rep's email address (unique).")],
    team: Team = None,
    capacity: Capacity = None,
    territory: Territories = None,
    hours: Hours = None,
    away_from: AwayFrom = None,
    away_until: AwayUntil = None,
) -> None:
    """Add a rep and print its id."""
    from leadflow.services.reps import AddRep, add_rep

    command = AddRep(name, email, team, capacity, territory or (), hours, away_from, away_until)
    with _uow() as uow:
        rep = add_rep(uow, command, datetime.now(UTC))
    sys.stdout.write(f"{rep.id}\n")
    err.print(f"Added rep [bold]{escape(rep.name)}[/] <{escape(rep.email)}> (id {rep.id}).")


@reps_app.command("list")
def reps_list(
    all_: Annotated[bool, typer.Option("--all", help="Include deactivated reps.")] = False,
    fmt: FormatOption = "table",
) -> None:
    """List the active reps (or all): team, capacity, territories, hours, absence."""
    from leadflow.services.reps import list_reps

    with _uow() as uow:
        reps = list_reps(uow, include_inactive=all_)
    # People read one "away" column; programs get the two days apart.
    away = ["away"] if fmt == "table" else ["away_from", "away_until"]
    _emit([*COLUMNS, *away, "active"], [_row(rep, fmt) for rep in reps], fmt)
    if not reps and fmt == "table":
        err.print("There are no reps; add one with [bold]leadflow reps add[/].")


def _row(rep: Rep, fmt: str) -> list[object]:
    territories: object = list(rep.territories) if fmt == "json" else ", ".join(rep.territories)
    if fmt == "table":
        away: list[object] = [f"{rep.away_from} to {rep.away_until}" if rep.away_from else None]
    else:
        away = [rep.away_from, rep.away_until]
    return [
        rep.id,
        rep.name,
        rep.email,
        rep.team,
        rep.capacity,
        territories,
        rep.working_hours,
        *away,
        rep.active if fmt == "json" else ("yes" if rep.active else "no"),
    ]


@reps_app.command("update")
def reps_update(
    ref: Ref,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    email: Annotated[str | None, typer.Option(help="A new email address.")] = None,
    team: Team = None,
    capacity: Capacity = None,
    territory: Annotated[
        list[str] | None,
        typer.Option("--territory", help="Replaces the territories. Repeatable."),
    ] = None,
    hours: Hours = None,
    away_from: AwayFrom = None,
    away_until: AwayUntil = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(help="Clear team, capacity, territories, hours or away. Repeatable."),
    ] = None,
    reactivate: Annotated[bool, typer.Option(help="Route new leads to the rep again.")] = False,
) -> None:
    """Change a rep: only the options given; --clear empties a field."""
    from leadflow.services.reps import update_rep

    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "email": email,
            "team": team,
            "capacity": capacity,
            "territories": territory,
            "working_hours": hours,
            "away_from": away_from,
            "away_until": away_until,
        }.items()
        if value is not None
    }
    for item in clear or []:
        if item not in CLEARABLE:
            raise InvalidInput(f"'{item}' cannot be cleared; use {', '.join(CLEARABLE)}", "--clear")
        changes.update(dict.fromkeys(CLEARABLE[item]))
    if reactivate:
        changes["active"] = True
    if not changes:
        raise InvalidInput("give at least one option to change (see --help)", where="update")
    with _uow() as uow:
        rep = update_rep(uow, ref, changes, datetime.now(UTC))
    err.print(f"Updated rep [bold]{escape(rep.name)}[/] <{escape(rep.email)}> (id {rep.id}).")


@reps_app.command("deactivate")
def reps_deactivate(ref: Ref) -> None:
    """Route no new leads to a rep; it keeps the leads and history it has."""
    from leadflow.services.reps import deactivate_rep

    with _uow() as uow:
        rep = deactivate_rep(uow, ref, datetime.now(UTC))
    err.print(
        f"Rep [bold]{escape(rep.name)}[/] <{escape(rep.email)}> (id {rep.id}) is deactivated: "
        "it gets no new leads."
    )
