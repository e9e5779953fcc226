"""The ``leadflow`` command.

Each command parses its options, calls a service and renders the result.
Data goes to standard output; messages, progress and summaries go to
standard error, so ``leadflow rate ... -o - | ...`` stays clean. Every
``LeadflowError`` is caught once, in :func:`main`, printed plainly (on one line, unwrapped,
so a log keeps it whole), and ends the command with exit code 2.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from leadflow import __version__
from leadflow.errors import InvalidInput, LeadflowError

if TYPE_CHECKING:
    from leadflow.services.rate_file import RateSummary

app = typer.Typer(
    name="leadflow",
    help="Lead management with one agreed definition: capture, rate, hand off, nurture, measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

PlaybookOption = Annotated[
    Path | None,
    typer.Option(
        "--playbook",
        "-p",
        help="Playbook YAML file. Default: $LEADFLOW_PLAYBOOK, else the bundled b2b-saas playbook.",
    ),
]
NowOption = Annotated[
    str | None,
    typer.Option(help="Rate as of this moment (ISO 8601, e.g. 2026-11-23T09:00Z). Default: now."),
]

DelimiterOption = Annotated[
    str | None,
    typer.Option(help="The file's delimiter, e.g. ';' or tab, when the sniffed one is wrong."),
]
RawOption = Annotated[
    bool,
    typer.Option(
        "--raw",
        help="Write every value exactly as it is, without the ' that keeps a spreadsheet "
        "from running text such as =... or +... as a formula (for programs).",
    ),
]


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{value}' is not an ISO 8601 date or time", where="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _playbook(path: Path | None):  # type: ignore[no-untyped-def]
    from leadflow.bootstrap import load_active_playbook

    return load_active_playbook(path)


def _version(value: bool) -> None:
    if value:
        out.print(f"leadflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """leadflow: rate every inquiry against the playbook sales and marketing agreed on."""


@app.command()
def check(
    playbooks: Annotated[list[Path], typer.Argument(help="Playbook files to check.")],
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
    now: NowOption = None,
) -> None:
    """Validate playbooks, lint them and run their examples. Exit 1 if any fails."""
    from leadflow.cli.render import print_check_report
    from leadflow.services.check import check_file

    moment = _now(now)
    failed = 0
    for path in playbooks:
        report = check_file(path, moment)
        print_check_report(err, report, strict)
        failed += not report.ok(strict)
    if len(playbooks) > 1:
        err.print(f"{len(playbooks) - failed} of {len(playbooks)} playbooks pass.")
    if failed:
        raise typer.Exit(1)


@app.command()
def rate(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT.csv", help="Leads, one per row.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output CSV file, or - for standard output.")
    ],
    playbook: PlaybookOption = None,
    activities: Annotated[
        Path | None,
        typer.Option(help="Activities CSV with the id column, type and at (ISO time)."),
    ] = None,
    id_column: Annotated[
        str, typer.Option(help="Column that identifies a lead, to join activities.")
    ] = "id",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Map a column to a field: 'Column Name=field'. Repeatable."),
    ] = None,
    now: NowOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Rate every row of a CSV file: adds grade, score, route, reasons and data_issues."""
    from leadflow.adapters.csv_files import parse_mappings
    from leadflow.cli.render import print_rate_summary, progress_bar
    from leadflow.services.rate_file import rate_csv

    pb = _playbook(playbook)
    mappings = parse_mappings(mapping or [])
    moment = _now(now)
    show = not quiet and err.is_terminal
    with progress_bar(err, show) as advance:
        if output == "-":
            summary = rate_csv(
                pb,
                input_file,
                sys.stdout.buffer,
                now=moment,
                mappings=mappings,
                activities=activities,
                id_column=id_column,
                progress=advance,
            )
            sys.stdout.flush()
        else:
            summary = _rate_into(
                Path(output),
                lambda out: rate_csv(
                    pb,
                    input_file,
                    out,
                    now=moment,
                    mappings=mappings,
                    activities=activities,
                    id_column=id_column,
                    progress=advance,
                    summary=not quiet,
                ),
            )
    if not quiet:
        print_rate_summary(err, pb, summary, None if output == "-" else output)


def _rate_into(path: Path, rate: Callable[[Path | BinaryIO], RateSummary]) -> RateSummary:
    """Rate into ``path`` as ``adapters.files`` writes a file: a regular file through a
    temporary one beside it (Polars writes a path natively, the fastest way), put in its
    place when done; a FIFO or a device straight; never the database's files."""
    from leadflow.adapters.files import output_target
    from leadflow.cli.render import database_files

    target = output_target(path, database_files())
    if target is None:
        with path.open("wb") as handle:
            return rate(handle)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        summary = rate(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return summary


@app.command()
def explain(
    playbook: PlaybookOption = None,
    fact: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="A fact: field=value. Repeatable."),
    ] = None,
    activity: Annotated[
        list[str] | None,
        typer.Option(
            "--activity", "-a", help="An activity: TYPE or TYPE:DAYS_AGO (e.g. webinar_attended:3)."
        ),
    ] = None,
    now: NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rating as JSON.")] = False,
) -> None:
    """Rate one lead and show every reason behind its grade and route."""
    from leadflow.cli.render import print_rating
    from leadflow.services.explain import explain_lead

    pb = _playbook(playbook)
    rating = explain_lead(pb, fact or [], activity or [], _now(now))
    if as_json:
        data = {
            "grade": rating.grade,
            "route": rating.route,
            "score": rating.score,
            "dimensions": rating.dimensions,
            "segment": rating.segment,
            "reasons": list(rating.reasons),
            "data_issues": list(rating.data_issues),
            "playbook": pb.name,
            "playbook_version": rating.playbook_version,
        }
        out.print_json(json.dumps(data))
    else:
        print_rating(out, pb, rating)


@app.command()
def docs(
    playbook: Annotated[Path, typer.Argument(help="Playbook file.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="HTML file to write, or - for standard output.")
    ] = "definitions.html",
) -> None:
    """Render the playbook as the definitions document that sales and marketing sign."""
    from leadflow.adapters.playbook_file import load_playbook
    from leadflow.services.definitions import render_definitions

    html = render_definitions(load_playbook(playbook))
    if output == "-":
        sys.stdout.write(html)
        return
    from leadflow.adapters.files import replacing
    from leadflow.cli.render import database_files

    with replacing(Path(output), database_files()) as handle:
        handle.write(html.encode("utf-8"))
    err.print(f"Wrote the definitions document to [bold]{output}[/].")


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the demo files.")] = Path(
        "leadflow-demo"
    ),
    leads: Annotated[int, typer.Option(min=10, max=1_000_000, help="How many inquiries.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Seed for the generated inquiries.")] = 7,
    serve: Annotated[
        bool, typer.Option(help="Then serve the web pages on the demo database until Ctrl-C.")
    ] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for the web pages.")] = 8000,
) -> None:
    """Generate sample inquiries, rate them with the bundled playbook, show what happened,
    then serve the web pages on the demo database with a demo login for each role."""
    from leadflow.services.demo import run_demo

    run_demo(out, directory, leads, seed, datetime.now(UTC))
    if serve:
        _serve_demo(directory, port)


def _serve_demo(directory: Path, port: int) -> None:
    import uvicorn

    from leadflow.api.app import create_app
    from leadflow.bootstrap import bundled_playbook
    from leadflow.config import Settings
    from leadflow.services.demo import print_web_logins

    database = (directory / "leadflow.db").resolve()
    settings = Settings(database_url=f"sqlite:///{database}")
    web = create_app(settings, playbook=bundled_playbook(), server=True)
    print_web_logins(out, f"http://127.0.0.1:{port}/")
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning", server_header=False)


def main() -> None:
    """Console entry point: run the app, turning leadflow errors into a message and exit 2,
    and a reader that stopped reading (``| head -1``) into a quiet end."""
    try:
        app()
    except LeadflowError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(2)
    except OSError as error:  # a file or folder that cannot be read or written
        if _broken_pipe(error):
            _end_quietly()
        where = f"{error.filename}: " if error.filename else ""
        err.print(
            f"[bold red]error:[/] {escape(where + (error.strerror or str(error)))}", soft_wrap=True
        )
        sys.exit(2)


def _broken_pipe(error: OSError) -> bool:
    """Whether the reader of what was being written went away. polars passes the OS's
    EPIPE on as a plain OSError that only its text tells: "Broken pipe (os error 32)"."""
    return error.errno == errno.EPIPE or str(error).endswith(f"(os error {errno.EPIPE})")


def _end_quietly() -> NoReturn:
    """End with exit 0 and no message: the reader had what it wanted (``head -1``). Standard
    output is pointed at devnull first, as Python's documentation recommends for a broken
    pipe, so that the flush at exit does not meet the closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


# The database commands register themselves on `app`.
import leadflow.cli.api_commands  # noqa: E402, F401
from leadflow.cli import (  # noqa: E402, F401
    lead_commands,
    model_commands,
    nurture_commands,
    outcome_commands,
    report_commands,
    reps_commands,
    store_commands,
    users_commands,
    webhooks_commands,
)
