"""Commands over the database: init, import, imports, import-activities, merges, unmerge,
quarantine, export. The database is ``LEADFLOW_DATABASE_URL`` (default ./leadflow.db);
its schema is brought up to date on first use."""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli.main import DelimiterOption, PlaybookOption, RawOption, app, err, out
from leadflow.domain.moments import STAMPED, stamp
from leadflow.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from leadflow.config import Settings

quarantine_app = typer.Typer(help="Inquiries that could not be processed: list, show, replay.")
app.add_typer(quarantine_app, name="quarantine")


def _settings() -> Settings:
    from leadflow.config import Settings

    return Settings()


def _engine(settings: Settings) -> Engine:
    from leadflow.bootstrap import engine_for

    return engine_for(settings)


FormatOption = Annotated[
    str, typer.Option("--format", help="table (for people), csv or json (for programs).")
]


def _emit(
    columns: list[str], rows: list[list[object]], fmt: str, whole: Collection[str] = ()
) -> None:
    """Rows as a table that folds long values (never truncates), or as CSV or JSON; each
    moment (a datetime) in the one form, ``2026-11-24T17:33:08Z`` (:func:`stamp`). The
    ``whole`` columns are never folded either (a key to copy): the others give way."""
    moments = {i for row in rows for i, v in enumerate(row) if isinstance(v, datetime)}
    rows = [[stamp(v) if isinstance(v, datetime) else v for v in row] for row in rows]
    if fmt == "csv":
        from leadflow.analytics.report_text import rows_csv

        sys.stdout.write(rows_csv(columns, rows))
    elif fmt == "json":
        out.print_json(
            json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str)
        )
    elif fmt == "table":
        table = Table()
        for i, column in enumerate(columns):  # a moment is kept whole on its line
            table.add_column(
                column,
                overflow="fold",
                no_wrap=column in whole,
                min_width=len(STAMPED) if i in moments else None,
            )
        for row in rows:
            table.add_row(*(escape("" if v is None else str(v)) for v in row))
        out.print(table)
    else:
        raise InvalidInput(f"unknown format '{fmt}' (table, csv or json)", where="--format")


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"'{item}': write it as name=value", where=option)
        found[key.strip()] = value
    return found


@app.command()
def init() -> None:
    """Create the database (or bring its schema up to date) and say where it is."""
    from leadflow.adapters.store.engine import shown_url

    settings = _settings()
    _engine(settings)
    err.print(f"The database is ready: [bold]{escape(shown_url(settings.database_url))}[/]")


def _interrupted(engine: Any, file: Path, kind: str) -> typer.Exit:
    """Say what an interrupted import of ``file`` kept, from its ``imports`` row (the rows
    it took are counted there in the transactions that wrote them), and what to do next.
    Only a row this process imports counts: one an earlier command left stopped (before
    an ``--again``) says nothing of this one."""
    from leadflow.adapters.store.bulk import runner
    from leadflow.services.imports import file_checksum
    from leadflow.services.uow import UnitOfWork

    with UnitOfWork(engine) as uow:
        found = uow.store.imports(1, file_checksum(file), kind)
    name = escape(str(file))
    if found and found[0].finished_at is None and found[0].runner == runner():
        err.print(
            f"[bold red]Interrupted.[/] {found[0].taken:,} of the {found[0].rows:,} rows of"
            f" {name} were imported before it stopped (an import commits as it goes) and"
            " stay. The same command with [bold]--resume[/] imports the rows after them."
        )
    else:
        err.print(
            f"[bold red]Interrupted[/] before its first commit: this command imported"
            f" nothing of {name}. Run the same command again."
        )
    return typer.Exit(130)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="Inquiries, one per row.")],
    source: Annotated[str, typer.Option(help="Where these came from, e.g. 'expo-2026'.")],
    preset: Annotated[
        str, typer.Option(help="Column names of: generic, salesforce, hubspot.")
    ] = "generic",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Map a column: 'Column Name=field'. Repeatable."),
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign for every row.")] = None,
    playbook: PlaybookOption = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again", help="Import a file imported before once more: every row a new inquiry."
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Go on with a stopped import of this file after its rows."),
    ] = False,
    delimiter: DelimiterOption = None,
) -> None:
    """Capture every row of a CSV file as an inquiry: consolidate, rate, quarantine the rest.

    A file imported before is refused (each row would be a second inquiry); one whose
    import stopped half-way goes on with --resume."""
    from leadflow.adapters.csv_files import delimiter_option
    from leadflow.bootstrap import capture_settings, load_active_playbook, uow_factory
    from leadflow.cli.render import progress_bar
    from leadflow.services.imports import import_csv

    settings = _settings()
    pb = load_active_playbook(playbook, settings)
    engine = _engine(settings)
    try:
        with progress_bar(err, err.is_terminal, "importing") as advance:
            summary = import_csv(
                uow_factory(engine),
                pb,
                file,
                source=source,
                now=datetime.now(UTC),
                settings=capture_settings(settings),
                preset=preset,
                mappings=_pairs(mapping, "--map"),
                campaign=campaign,
                progress=advance,
                again=again,
                resume=resume,
                delimiter=delimiter_option(delimiter),
            )
    except KeyboardInterrupt:
        raise _interrupted(engine, file, "inquiries") from None
    title = f"Imported {escape(str(file))} in {summary.seconds:.1f}s"
    if summary.import_id is not None:
        title += f" (import {summary.import_id})"
    table = Table(title=title)
    table.add_column("")
    table.add_column("rows", justify="right")
    table.add_row("rows read", f"{summary.rows:,}")
    if summary.blank:
        table.add_row("blank lines skipped", f"{summary.blank:,}")
    if summary.resumed:
        table.add_row("taken before it stopped, left out", f"{summary.resumed:,}")
    table.add_row("new people", f"{summary.new_people:,}")
    for rule, n in summary.merged.most_common():
        table.add_row(f"merged into existing people ({rule})", f"{n:,}")
    for reason, n in summary.quarantined.most_common():
        table.add_row(f"quarantined ({reason})", f"{n:,}")
    for what in ("email", "phone"):
        if summary.unread[what]:
            table.add_row(f"kept with an unreadable {what}", f"{summary.unread[what]:,}")
    table.add_row(
        "write transactions (longest)",
        f"{summary.transactions:,} ({summary.longest_transaction:.2f}s)",
    )
    if summary.yielded:
        table.add_row(
            "  of them let go for another writer (its longest wait)",
            f"{summary.yielded:,} ({summary.longest_yield:.2f}s)",
        )
    err.print(table)
    if summary.quarantined:
        err.print("See them with [bold]leadflow quarantine list[/]; fix and replay each one.")
    if summary.unread:
        err.print(
            "An email or phone that cannot be read neither finds nor reaches anyone; its"
            " inquiry keeps it as given (leadflow export inquiries --raw). A number without"
            " its country code is read as dialled in the row's country (a Country column),"
            f" else in {settings.default_region} (LEADFLOW_DEFAULT_REGION)."
        )


@app.command("imports")
def imports_(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    fmt: FormatOption = "table",
) -> None:
    """List imported files (inquiries, activities): when, source, rows taken, finished (or
    running now, or stopped)."""
    from leadflow.bootstrap import uow_factory

    with uow_factory(_engine(_settings()))() as uow:
        rows = uow.store.imports(limit)
    columns = [
        "import",
        "kind",
        "started",
        "source",
        "campaign",
        "file",
        "rows",
        "taken",
        "finished",
        "sha256",
    ]
    _emit(
        columns,
        [
            [
                r.id,
                r.kind,
                r.started_at,
                r.source,
                r.campaign,
                r.file,
                r.rows,
                r.taken if r.rows is not None else None,
                _finished(r),
                r.checksum[: 12 if fmt == "table" else None] if r.checksum else None,
            ]
            for r in rows
        ],
        fmt,
    )


def _finished(row: Any) -> datetime | str | None:
    """When an import finished, or whether it runs now or stopped."""
    from leadflow.services.import_runs import running

    if row.finished_at is not None:
        return cast(datetime, row.finished_at)
    if row.rows is None:  # recorded before imports knew their files
        return None
    return "running" if running(row) else "stopped"


SKIPPED_SHOWN = 10


@app.command("import-activities")
def import_activities(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv")],
    source: Annotated[str | None, typer.Option(help="Where the activities came from.")] = None,
    playbook: PlaybookOption = None,
    skipped_file: Annotated[
        Path | None,
        typer.Option("--skipped", help="Write every skipped row and why to this text file."),
    ] = None,
    again: Annotated[
        bool,
        typer.Option("--again", help="Import a file imported before once more: each row again."),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Go on with a stopped import of this file after its rows."),
    ] = False,
    delimiter: DelimiterOption = None,
) -> None:
    """Record activities from a CSV: type, at, and person_id, email, phone or external_id.

    A file imported before is refused (each activity would count twice); one whose
    import stopped half-way goes on with --resume."""
    from leadflow.adapters.csv_files import delimiter_option
    from leadflow.adapters.files import check_writable, replacing
    from leadflow.bootstrap import capture_settings, load_active_playbook, uow_factory
    from leadflow.cli.render import database_files, progress_bar
    from leadflow.services.activity_import import import_activity_csv

    settings = _settings()
    if skipped_file is not None:  # before the import: after it, a refusal would lose the list
        check_writable(skipped_file, database_files(settings))
    pb = load_active_playbook(playbook, settings)
    engine = _engine(settings)
    try:
        with progress_bar(err, err.is_terminal, "recording") as advance:
            result = import_activity_csv(
                uow_factory(engine),
                pb,
                file,
                capture_settings(settings),
                source,
                datetime.now(UTC),
                again=again,
                resume=resume,
                delimiter=delimiter_option(delimiter),
                progress=advance,
            )
    except KeyboardInterrupt:
        raise _interrupted(engine, file, "activities") from None
    skipped, unscored = result.skipped, result.unscored
    if result.resumed:
        err.print(f"Went on after the {result.resumed:,} rows a stopped import had done.")
    err.print(f"Recorded {result.done:,} activities; skipped {len(skipped):,}.")
    if unscored:
        kinds = ", ".join(f"'{escape(k)}' ({n:,})" for k, n in unscored.most_common(SKIPPED_SHOWN))
        more = len(unscored) - SKIPPED_SHOWN
        err.print(
            f"  [yellow]{unscored.total():,} of them earn no points:[/] the playbook scores no"
            f" activity of type {kinds}{f' and {more:,} more types' if more > 0 else ''}."
            " They are kept, for a playbook that does."
        )
    for line in skipped[:SKIPPED_SHOWN]:
        err.print(f"  [yellow]skipped[/] {escape(line)}")
    if skipped_file is not None:
        with replacing(skipped_file, database_files(settings)) as handle:
            handle.write("".join(f"{line}\n" for line in skipped).encode())
        err.print(
            f"Wrote the {len(skipped):,} skipped rows to [bold]{escape(str(skipped_file))}[/]."
        )
    elif len(skipped) > SKIPPED_SHOWN:
        more = len(skipped) - SKIPPED_SHOWN
        err.print(f"  ... and {more:,} more: --skipped FILE writes every one.")


@app.command()
def merges(
    person: Annotated[int | None, typer.Option(help="Only merges into this person.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    fmt: FormatOption = "table",
) -> None:
    """List merges: which inquiry joined which person, by which rule and score."""
    from leadflow.bootstrap import uow_factory
    from leadflow.services.merges import list_merges

    with uow_factory(_engine(_settings()))() as uow:
        rows = list_merges(uow.store, limit, person)
    columns = ["merge", "at", "inquiry", "person", "rule", "score", "detail", "undone"]
    _emit(columns, [_merge_row(r, fmt) for r in rows], fmt)


def _merge_row(merge: Any, fmt: str) -> list[object]:
    """People read the score to two places; programs get it as stored, and JSON a number
    and true or false."""
    score: object = f"{merge.score:.2f}" if fmt == "table" else merge.score
    undone = merge.undone_at is not None
    shown: object = undone if fmt == "json" else ("yes" if undone else "")
    return [
        merge.id,
        merge.at,
        merge.inquiry_id,
        merge.person_id,
        merge.rule,
        score,
        merge.detail,
        shown,
    ]


@app.command()
def unmerge(
    merge_id: Annotated[int, typer.Argument(metavar="ID", help="The merge to undo.")],
    playbook: PlaybookOption = None,
) -> None:
    """Undo a merge: the inquiry becomes a person of its own; both are rebuilt and rated."""
    from leadflow.bootstrap import capture_settings, load_active_playbook, uow_factory
    from leadflow.services.merges import unmerge as undo

    settings = _settings()
    pb = load_active_playbook(playbook, settings)
    with uow_factory(_engine(settings))() as uow:
        done = undo(uow.store, pb, merge_id, capture_settings(settings), datetime.now(UTC))
        uow.commit()
    err.print(
        f"Undid merge {done.merge_id}: inquiry {done.inquiry_id} is now person "
        f"{done.new_person_id}; person {done.kept_person_id} was rebuilt."
    )


@app.command()
def reindex(playbook: PlaybookOption = None) -> None:
    """Give every person the identifiers and matching blocks their inquiries give today.

    For a database whose people were captured before a matching rule came in (shared
    phones, role addresses, former names): adds what is missing, removes nothing, merges
    no one. A second run adds nothing."""
    from leadflow.bootstrap import capture_settings, load_active_playbook, uow_factory
    from leadflow.cli.render import progress_bar
    from leadflow.services.reindex import reindex as run

    settings = _settings()
    pb = load_active_playbook(playbook, settings)
    with progress_bar(err, err.is_terminal, "reading") as advance:
        done = run(uow_factory(_engine(settings)), pb, capture_settings(settings), advance)
    err.print(
        f"Reindexed {done.people:,} people: {done.changed:,} given what they lacked"
        f" (identifiers added: {done.keys:,}, block memberships added: {done.blocks:,})."
    )


@quarantine_app.command("list")
def quarantine_list(
    all_items: Annotated[bool, typer.Option("--all", help="Include replayed ones.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many, oldest first.")] = 100,
    fmt: FormatOption = "table",
) -> None:
    """Inquiries waiting in the quarantine, with why."""
    from leadflow.bootstrap import uow_factory

    with uow_factory(_engine(_settings()))() as uow:
        rows = uow.store.quarantined(include_replayed=all_items, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    columns = ["id", "received", "channel", "source", "reason", "error"]
    table = [[r.id, r.received_at, r.channel, r.source, r.reason, r.error] for r in rows]
    if all_items:  # which are done, and what they became
        columns.append("replayed_as")
        for row, r in zip(table, rows, strict=True):
            row.append(f"inquiry {r.inquiry_id}" if r.replayed_at is not None else None)
    _emit(columns, table, fmt)
    if not rows:
        err.print("The quarantine is empty.")
    elif more:
        err.print(f"The first {limit:,} only; there are more: --limit shows more.")


@quarantine_app.command("show")
def quarantine_show(item_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """One quarantined inquiry: the payload exactly as received, and the error."""
    from leadflow.bootstrap import uow_factory
    from leadflow.services.quarantine import item

    with uow_factory(_engine(_settings()))() as uow:
        row = item(uow, item_id)
    data = {
        "id": row.id,
        "received_at": stamp(row.received_at),
        "channel": row.channel,
        "source": row.source,
        "campaign": row.campaign,
        "form_key": row.form_key,
        "reason": row.reason,
        "error": row.error,
        "payload": row.payload,
        "fields": row.fields,
        "replayed_at": stamp(row.replayed_at),
        "inquiry_id": row.inquiry_id,
    }
    out.print_json(json.dumps(data, default=str))


@quarantine_app.command("replay")
def quarantine_replay(
    item_id: Annotated[int, typer.Argument(metavar="ID")],
    fix: Annotated[
        list[str] | None, typer.Option("--set", help="Fix a field: name=value. Repeatable.")
    ] = None,
    payload: Annotated[
        Path | None, typer.Option(help="Replace the fields with this JSON object file.")
    ] = None,
    playbook: PlaybookOption = None,
) -> None:
    """Fix and replay a quarantined inquiry through the normal capture path."""
    from leadflow.bootstrap import capture_settings, load_active_playbook, uow_factory
    from leadflow.services.quarantine import replay

    settings = _settings()
    pb = load_active_playbook(playbook, settings)
    replacement = None
    if payload is not None:
        try:
            replacement = json.loads(payload.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InvalidInput(f"cannot read a JSON object: {error}", where=str(payload)) from None
        if not isinstance(replacement, dict):
            raise InvalidInput("must hold one JSON object", where=str(payload))
    with uow_factory(_engine(settings))() as uow:
        done = replay(
            uow,
            pb,
            item_id,
            capture_settings(settings),
            datetime.now(UTC),
            _pairs(fix, "--set"),
            replacement,
        )
    result = done.result
    if result.quarantined:
        err.print(f"[red]Still failing:[/] {escape(result.error or '')}")
        raise typer.Exit(1)
    err.print(
        f"Replayed {item_id}: inquiry {result.inquiry_id}, person {result.person_id}, "
        f"grade {result.grade} -> {result.route}."
    )


@app.command("export")
def export_(
    what: Annotated[str, typer.Argument(help="inquiries, people or accounts")],
    output: Annotated[str, typer.Option("--output", "-o", help="CSV file, or - for stdout.")],
    raw: RawOption = False,
) -> None:
    """Export inquiries, people or accounts as CSV."""
    from leadflow.adapters.files import replacing
    from leadflow.cli.render import database_files
    from leadflow.services.export import export

    settings = _settings()
    engine = _engine(settings)
    if output == "-":
        rows = export(engine, what, sys.stdout.buffer, raw=raw)
        sys.stdout.flush()
    else:
        with replacing(Path(output), database_files(settings)) as handle:
            rows = export(engine, what, handle, raw=raw)
        err.print(f"Wrote {rows:,} {what} to [bold]{escape(output)}[/].")
