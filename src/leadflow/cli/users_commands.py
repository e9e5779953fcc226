"""Commands for the users of the web pages: add, list, password, deactivate, activate.

``users add`` asks for the password twice at a terminal, or reads one line from
standard input with ``--password-stdin`` (for scripts: ``echo "$PW" | leadflow users
add ...``), and prints the new user's id alone on standard output. A user is named by
its id or its email address.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from leadflow.cli.api_commands import _uow
from leadflow.cli.main import app, err
from leadflow.cli.store_commands import FormatOption, _emit
from leadflow.errors import InvalidInput

users_app = typer.Typer(
    help="Users of the web pages (admin, marketing, manager, rep): add, list, password, "
    "deactivate, activate.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

Ref = Annotated[str, typer.Argument(metavar="ID|EMAIL", help="The user's id or email address.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (one line)."),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InvalidInput("no password on standard input", where="--password-stdin")
        return line
    if not sys.stdin.isatty():
        raise InvalidInput(
            "give the password at a terminal, or pipe it in with --password-stdin",
            where="password",
        )
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The user's email address; it signs in with it.")],
    role: Annotated[str, typer.Option(help="admin, marketing, manager (sales) or rep (sales).")],
    name: Annotated[str | None, typer.Option(help="The name shown on the pages.")] = None,
    rep: Annotated[
        str | None,
        typer.Option(help="role rep: the rep (id or email) it works as. Default: EMAIL's rep."),
    ] = None,
    team: Annotated[str | None, typer.Option(help="role manager: the team it manages.")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user who signs in to the web pages, and print its id."""
    from leadflow.services.users import AddUser, add_user

    command = AddUser(email, _password(password_stdin), role, name, rep, team)
    with _uow() as uow:
        user = add_user(uow, command, datetime.now(UTC))
    sys.stdout.write(f"{user.id}\n")
    linked = f", rep {user.rep_id}" if user.rep_id else (f", team {user.team}" if user.team else "")
    err.print(
        f"Added user [bold]{escape(user.email)}[/] ({user.role_label}{escape(linked)}, "
        f"id {user.id})."
    )


@users_app.command("list")
def users_list(fmt: FormatOption = "table") -> None:
    """List the users: email, name, role, rep or team, active."""
    from leadflow.services.users import list_users

    with _uow() as uow:
        users = list_users(uow)
    rows: list[list[object]] = [
        [
            u.id,
            u.email,
            u.name,
            u.role,
            u.rep_id,
            u.team,
            u.active if fmt == "json" else ("yes" if u.active else "no"),
        ]
        for u in users
    ]
    _emit(["id", "email", "name", "role", "rep", "team", "active"], rows, fmt)
    if not users and fmt == "table":
        err.print("There are no users; add one with [bold]leadflow users add[/].")


@users_app.command("password")
def users_password(ref: Ref, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password."""
    from leadflow.services.users import set_password

    with _uow() as uow:
        user = set_password(uow, ref, _password(password_stdin), datetime.now(UTC))
    err.print(f"Changed the password of [bold]{escape(user.email)}[/].")


@users_app.command("deactivate")
def users_deactivate(ref: Ref) -> None:
    """The user can no longer sign in; its open sessions end at their next page."""
    from leadflow.services.users import set_active

    with _uow() as uow:
        user = set_active(uow, ref, False, datetime.now(UTC))
    err.print(f"Deactivated [bold]{escape(user.email)}[/].")


@users_app.command("activate")
def users_activate(ref: Ref) -> None:
    """The user can sign in again."""
    from leadflow.services.users import set_active

    with _uow() as uow:
        user = set_active(uow, ref, True, datetime.now(UTC))
    err.print(f"Activated [bold]{escape(user.email)}[/].")
