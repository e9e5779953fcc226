"""Commands for the HTTP API: serve, keys (create, list, revoke), forms (create, list, ...).

``keys create`` and ``forms create`` print the new key alone on standard output,
so ``KEY=$(leadflow keys create --scope capture)`` works; messages go to stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from leadflow.cli.main import PlaybookOption, app, err
from leadflow.cli.store_commands import FormatOption, _emit, _pairs
from leadflow.domain.moments import stamp

if TYPE_CHECKING:
    from leadflow.config import Settings
    from leadflow.services.forms import Form
    from leadflow.services.uow import UnitOfWork

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
forms_app = typer.Typer(
    help="Web forms that post to /f/KEY: create, list, deactivate, activate.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
app.add_typer(forms_app, name="forms")


def _settings() -> Settings:
    from leadflow.config import Settings

    return Settings()


def _uow() -> UnitOfWork:
    from leadflow.bootstrap import engine_for
    from leadflow.services.uow import UnitOfWork

    return UnitOfWork(engine_for(_settings()))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    playbook: PlaybookOption = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Server processes; each uses up to one core."),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log a line per request on stderr (0.1-0.2 ms of CPU each); turn it off "
            "behind a proxy that logs requests, or for the most captures a second."
        ),
    ] = True,
) -> None:
    """Run the HTTP API (capture, activities, web forms) and the web pages until Ctrl-C."""
    import uvicorn

    from leadflow.api.app import create_app
    from leadflow.bootstrap import engine_for, load_active_playbook

    settings = _settings()
    if workers == 1:
        api = create_app(settings, playbook=load_active_playbook(playbook, settings), server=True)
        _serving(host, port, settings, workers)
        uvicorn.run(
            api,
            host=host,
            port=port,
            log_level="info",
            server_header=False,
            access_log=access_log,
        )
        return
    # Each worker process builds its own app from the environment: check the playbook and
    # migrate here, once, so that a bad file fails now and the workers do not race.
    load_active_playbook(playbook, settings)
    engine_for(settings).dispose()
    if playbook is not None:
        os.environ["LEADFLOW_PLAYBOOK"] = str(playbook.resolve())
    _serving(host, port, settings, workers)
    _run_workers(host, port, workers, access_log)


def _run_workers(host: str, port: int, workers: int, access_log: bool) -> None:
    """uvicorn's supervisor over ``workers`` processes that share one listening socket."""
    import socket

    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    config = Config(
        "leadflow.api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        access_log=access_log,
    )
    bound = config.bind_socket()
    # uvicorn binds with protocol 0, and asyncio's loop sets TCP_NODELAY only on connections
    # whose socket says IPPROTO_TCP (uvloop sets it anyway): without it each answer, written
    # as headers then body, waited ~40 ms for a delayed ACK (where uvloop is not installed).
    sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    sock.set_inheritable(True)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()


def _serving(host: str, port: int, settings: Settings, workers: int) -> None:
    from leadflow.adapters.store.engine import shown_url

    processes = f", {workers} worker processes" if workers > 1 else ""
    err.print(
        f"Serving the API on [bold]http://{host}:{port}[/] "
        f"(docs at /docs) with {escape(shown_url(settings.database_url))}{processes}"
    )


@keys_app.command("create")
def keys_create(
    scope: Annotated[str, typer.Option(help="capture (safe in a public page) or admin.")],
    name: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
) -> None:
    """Create an API key and print it; it is shown only this once."""
    from leadflow.services.keys import create_key

    with _uow() as uow:
        made = create_key(uow, scope, name, datetime.now(UTC))
    sys.stdout.write(made.key + "\n")
    article = "an" if made.info.scope == "admin" else "a"
    err.print(
        f"Created {article} [bold]{made.info.scope}[/] key (prefix {made.info.prefix}); "
        "store it now: it cannot be shown again."
    )


@keys_app.command("list")
def keys_list(fmt: FormatOption = "table") -> None:
    """List API keys: prefix, scope, name, created, revoked (never the keys themselves)."""
    from leadflow.services.keys import list_keys

    with _uow() as uow:
        keys = list_keys(uow)
    columns = ["prefix", "scope", "name", "created", "revoked"]
    rows: list[list[object]] = [
        [key.prefix, key.scope, key.name, key.created_at, key.revoked_at] for key in keys
    ]
    _emit(columns, rows, fmt, whole=("prefix",))
    if not keys and fmt == "table":
        err.print("There are no API keys; create one with [bold]leadflow keys create[/].")


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[
        str,
        typer.Argument(metavar="PREFIX", help="The key's prefix (after lf_), or the whole key."),
    ],
) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    from leadflow.services.keys import revoke_key

    with _uow() as uow:
        key = revoke_key(uow, prefix, datetime.now(UTC))
    err.print(f"Revoked key {key.prefix} ({key.scope}) at {stamp(key.revoked_at)}.")


@forms_app.command("create")
def forms_create(
    name: Annotated[str, typer.Argument(help="What the form is, e.g. 'Contact us'.")],
    source: Annotated[
        str | None, typer.Option(help="Source of its inquiries. Default: form:NAME.")
    ] = None,
    thank_you: Annotated[
        str | None, typer.Option("--thank-you", help="Where to send people after posting.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Map a posted name to a field: '00N5e00000abcde=budget'."),
    ] = None,
    honeypot: Annotated[
        str, typer.Option(help="Hidden field that only bots fill in.")
    ] = "website_url",
    playbook: PlaybookOption = None,
) -> None:
    """Create a web form and print its key; point the form's action at /f/KEY."""
    from leadflow.bootstrap import load_active_playbook
    from leadflow.services.forms import create_form, identity_mapped_away, unread_targets

    field_map = _pairs(mapping, "--map")
    unread = unread_targets(load_active_playbook(playbook, _settings()), field_map or {})
    unread += identity_mapped_away(field_map or {})
    with _uow() as uow:
        form = create_form(
            uow,
            name,
            datetime.now(UTC),
            source=source,
            thank_you_url=thank_you,
            field_map=field_map,
            honeypot=honeypot,
        )
    sys.stdout.write(form.key + "\n")
    for said in unread:
        err.print(f"[yellow]warning:[/] --map {escape(said)}")
    err.print(
        f"Created form [bold]{escape(form.name)}[/] (source {escape(form.source)}): "
        f"post it to /f/{form.key}"
    )


@forms_app.command("list")
def forms_list(fmt: FormatOption = "table") -> None:
    """List forms: key, name, source, thank-you page, field map, honeypot, active."""
    from leadflow.services.forms import list_forms

    with _uow() as uow:
        forms = list_forms(uow)
    columns = ["key", "name", "source", "thank_you", "map", "honeypot", "active"]
    _emit(columns, [_form_row(form, fmt) for form in forms], fmt, whole=("key",))
    if not forms and fmt == "table":
        err.print("There are no forms; create one with [bold]leadflow forms create NAME[/].")


def _form_row(form: Form, fmt: str) -> list[object]:
    if fmt == "json":
        mapped: object = dict(form.field_map)
    else:
        mapped = ", ".join(f"{k}={v}" for k, v in form.field_map.items())
    active: object = form.active if fmt == "json" else ("yes" if form.active else "no")
    return [form.key, form.name, form.source, form.thank_you_url, mapped, form.honeypot, active]


@forms_app.command("deactivate")
def forms_deactivate(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The form's key.")],
) -> None:
    """Switch a form off: its posts are kept in the quarantine (unknown form), not captured."""
    _set_active(key, active=False)


@forms_app.command("activate")
def forms_activate(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The form's key.")],
) -> None:
    """Switch a deactivated form on again."""
    _set_active(key, active=True)


def _set_active(key: str, active: bool) -> None:
    from leadflow.services.forms import set_form_active

    with _uow() as uow:
        form = set_form_active(uow, key, active)
    state = "active" if form.active else "deactivated: its posts go to the quarantine"
    err.print(f"Form [bold]{escape(form.name)}[/] ({form.key}) is {state}.")
