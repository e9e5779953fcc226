"""Commands that close the loop: outcomes, one at a time or from a CRM's file.

::

    leadflow qualify 42                          sales confirms the lead is qualified
    leadflow outcome 42 opportunity --value 10000
    leadflow outcome 42 won --value 12000 [--currency EUR] [--date 2026-11-20]
    leadflow outcome 42 lost --reason price
    leadflow import-outcomes deals.csv           matched by person id, external id or email
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leadflow.cli.lead_commands import By, LeadId, _context, _hands
from leadflow.cli.main import DelimiterOption, PlaybookOption, app, err, out
from leadflow.errors import InvalidInput


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date like 2026-11-20", "--date") from None


@app.command()
def qualify(person_id: LeadId, by: By = None, playbook: PlaybookOption = None) -> None:
    """Sales confirms a lead is qualified (need, budget, authority, timing)."""
    from leadflow.services import dispositions
    from leadflow.services.uow import UnitOfWork

    pb, engine = _context(playbook)
    with UnitOfWork(engine) as uow:
        done = dispositions.qualify(uow, pb, person_id, _hands(by))
    err.print(f"Lead {person_id}: qualified; now in {done.stage} ({done.side} side).")


@app.command()
def outcome(
    person_id: LeadId,
    kind: Annotated[str, typer.Argument(metavar="KIND", help="opportunity, won or lost.")],
    value: Annotated[float | None, typer.Option(help="The deal's value.")] = None,
    currency: Annotated[str | None, typer.Option(help="EUR, USD...")] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="The deal's date (2026-11-20). Default: today.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why it was won or lost.")] = None,
    by: By = None,
    playbook: PlaybookOption = None,
) -> None:
    """Record an outcome: an opportunity opened, a deal won or lost."""
    from leadflow.services.outcomes import RecordOutcome, record_outcome
    from leadflow.services.uow import UnitOfWork

    pb, engine = _context(playbook)
    cmd = RecordOutcome(person_id, kind, value, currency, _date(on), reason)
    with UnitOfWork(engine) as uow:
        done = record_outcome(uow, pb, cmd, _hands(by))
    worth = (
        f" {done.value:,.2f}{' ' + done.currency if done.currency else ''}" if done.value else ""
    )
    err.print(f"Lead {person_id}: {done.kind}{worth} on {done.on} recorded.")
    if done.moved:
        err.print(f"Now in stage {done.stage}.")
    else:
        err.print(f"[yellow]{escape(done.note or '')}[/]")


@app.command("import-outcomes")
def import_outcomes(
    path: Annotated[Path, typer.Argument(metavar="FILE.csv", help="The outcomes, one a row.")],
    by: By = None,
    playbook: PlaybookOption = None,
    delimiter: DelimiterOption = None,
) -> None:
    """Feed a CRM's closed deals back: outcomes matched by person id, external id or email.

    Columns: person_id / external_id / email (at least one), outcome (opportunity, won,
    lost), value, currency, date, reason. A bad value stops the import with every
    problem by line and column; rows that match no lead are listed, never dropped.
    """
    from leadflow.adapters.csv_files import delimiter_option
    from leadflow.services.outcome_import import import_outcomes as run
    from leadflow.services.uow import UnitOfWork

    separator = delimiter_option(delimiter)
    pb, engine = _context(playbook)
    with UnitOfWork(engine) as uow:
        result = run(uow, pb, path, _hands(by), separator)
    err.print(
        f"{result.rows} rows: {len(result.recorded)} recorded, {len(result.unmatched)} unmatched."
    )
    for line, done in result.not_moved:
        err.print(f"  line {line}: lead {done.person_id}: {escape(done.note or '')}")
    for miss in result.unmatched:
        ids = ", ".join(f"{k}={v}" for k, v in miss.ids.items())
        out.print(f"unmatched line {miss.line} ({escape(ids)}): {escape(miss.why)}")
    if result.unmatched:
        raise typer.Exit(1)
