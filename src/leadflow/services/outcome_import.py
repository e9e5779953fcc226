"""Import a CRM's closed deals: a CSV file of outcomes, matched to leads.

Columns (names in any case; ``id`` columns may be blank on a row that has another):

- ``person_id``, ``external_id`` (the id the CRM gave the inquiry), ``email``: how the
  lead is found, tried in this order; at least one column must be there;
- ``outcome``: opportunity, won or lost (required);
- ``value`` (not negative), ``currency`` (EUR, USD...), ``date`` (2026-11-20),
  ``reason``: optional.

The file is read as ``leadflow import`` reads one (:func:`~leadflow.adapters.csv_files.read_rows`):
UTF-8, the delimiter judged from the header and the lines after it unless given, any line
end, blank lines skipped; lines are the file's own, a value over two lines counted as two.
Every row is checked first: a bad value stops the import before anything is written,
with every problem listed by line and column. Rows that match no lead (or, by external
id, several) are not recorded and are listed with why; the others are recorded like
``leadflow outcome`` (:func:`leadflow.services.outcomes.record_in`), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from leadflow.adapters.csv_files import read_rows
from leadflow.adapters.identity.emails import normalise_email
from leadflow.adapters.store import tables as t
from leadflow.domain.funnel import OUTCOMES
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import column_key
from leadflow.errors import InvalidInput
from leadflow.services.handoff import Runtime
from leadflow.services.outcomes import Recorded, RecordOutcome, record_in
from leadflow.services.uow import UnitOfWork

IDS = ("person_id", "external_id", "email")
COLUMNS = (*IDS, "outcome", "value", "currency", "date", "reason")
SHOWN = 20
"""Problems listed in an error before '... and N more'."""


@dataclass(frozen=True)
class Row:
    line: int
    ids: dict[str, str]
    cmd: RecordOutcome  # person_id 0 until matched


@dataclass(frozen=True)
class Unmatched:
    line: int
    ids: dict[str, str]
    why: str


@dataclass
class OutcomeImport:
    rows: int = 0
    recorded: list[tuple[int, Recorded]] = field(default_factory=list)  # (line, result)
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def not_moved(self) -> list[tuple[int, Recorded]]:
        return [(line, r) for line, r in self.recorded if not r.moved]


def read_outcomes(path: Path, delimiter: str | None = None) -> list[Row]:
    """The file's rows, checked; InvalidInput listing every problem by line and column.
    ``delimiter``: the file's, when a guess would be wrong (else judged)."""
    try:
        (at, names), *given = read_rows(path, delimiter)
    except OSError as error:
        raise InvalidInput(f"cannot read it: {error.strerror or error}", str(path)) from None
    header = [column_key(h) for h in names]
    if "outcome" not in header:
        raise InvalidInput("no 'outcome' column (opportunity, won or lost)", f"{path}, line {at}")
    if not any(name in header for name in IDS):
        raise InvalidInput(
            f"no column to find the lead by ({', '.join(IDS)})", f"{path}, line {at}"
        )
    rows: list[Row] = []
    problems: list[str] = []
    for line, values in given:
        cells: dict[str, str] = {}
        for i, h in enumerate(header):  # a repeated name is its first column's, as imports
            cells.setdefault(h, values[i].strip() if i < len(values) else "")
        row = _row(line, cells, problems)
        if row is not None:
            rows.append(row)
    if problems:
        more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise InvalidInput(
            f"{len(problems)} problem(s), nothing imported:\n" + "\n".join(problems[:SHOWN]) + more,
            str(path),
        )
    return rows


def _row(line: int, cells: dict[str, str], problems: list[str]) -> Row | None:
    found = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(f"line {line}, column {column}: {message}")

    kind = cells.get("outcome", "").lower()
    if kind not in OUTCOMES:
        bad("outcome", f"'{cells.get('outcome', '')}' is not one of {', '.join(OUTCOMES)}")
    ids = {name: cells[name] for name in IDS if cells.get(name)}
    if not ids:
        bad("/".join(n for n in IDS if n in cells), "no id to find the lead by")
    if "person_id" in ids and not ids["person_id"].isdigit():
        bad("person_id", f"'{ids['person_id']}' is not a whole number")
    value = None
    if cells.get("value"):
        try:
            value = float(cells["value"].replace(",", ""))
        except ValueError:
            bad("value", f"'{cells['value']}' is not a number")
        else:
            if value < 0 or value != value:
                bad("value", f"'{cells['value']}' is negative or not a number")
    on = None
    if cells.get("date"):
        try:
            on = date.fromisoformat(cells["date"])
        except ValueError:
            bad("date", f"'{cells['date']}' is not a date like 2026-11-20")
    currency = cells.get("currency") or None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        bad("currency", f"'{currency}' is not a currency code like EUR or USD")
    reason = cells.get("reason") or None
    if reason is not None and len(reason) > 200:
        bad("reason", "longer than 200 characters")
    if len(problems) > found:
        return None
    return Row(line, ids, RecordOutcome(0, kind, value, currency, on, reason))


def import_outcomes(
    uow: UnitOfWork, pb: Playbook, path: Path, runtime: Runtime, delimiter: str | None = None
) -> OutcomeImport:
    """Check, match and record every row of ``path``; commits once at the end.
    ``delimiter``: the file's, when a guess would be wrong (else judged)."""
    rows = read_outcomes(path, delimiter)
    result = OutcomeImport(rows=len(rows))
    people = _matches(uow, rows)
    for row in rows:
        person, why = people[row.line]
        if person is None:
            result.unmatched.append(Unmatched(row.line, row.ids, why))
            continue
        cmd = RecordOutcome(person, *_rest(row.cmd))
        result.recorded.append((row.line, record_in(uow, pb, cmd, runtime)))
    uow.commit()
    return result


def _rest(cmd: RecordOutcome) -> tuple[str, float | None, str | None, date | None, str | None]:
    return cmd.kind, cmd.value, cmd.currency, cmd.on, cmd.reason


def _matches(uow: UnitOfWork, rows: list[Row]) -> dict[int, tuple[int | None, str]]:
    """Each row's person, or None and why, looked up in a few queries."""
    c = uow.store.connection
    wanted_ids = {int(r.ids["person_id"]) for r in rows if "person_id" in r.ids}
    known = set()
    if wanted_ids:
        query = select(t.people.c.id).where(t.people.c.id.in_(sorted(wanted_ids)))
        known = {int(i) for (i,) in c.execute(query)}
    externals = sorted({r.ids["external_id"] for r in rows if "external_id" in r.ids})
    by_external: dict[str, set[int]] = {}
    if externals:
        query = select(t.inquiries.c.external_id, t.inquiries.c.person_id).where(
            t.inquiries.c.external_id.in_(externals), t.inquiries.c.person_id.is_not(None)
        )
        for ext, owner in c.execute(query):
            by_external.setdefault(ext, set()).add(int(owner))
    emails = {r.line: normalise_email(r.ids["email"])[0] for r in rows if "email" in r.ids}
    by_email: dict[str, int] = {}
    wanted = sorted({e for e in emails.values() if e})
    if wanted:
        query = select(t.person_keys.c.value, t.person_keys.c.person_id).where(
            t.person_keys.c.kind == "email", t.person_keys.c.value.in_(wanted)
        )
        by_email = {value: int(owner) for value, owner in c.execute(query)}
    found: dict[int, tuple[int | None, str]] = {}
    for row in rows:
        tried: list[str] = []
        person: int | None = None
        if "person_id" in row.ids:
            if int(row.ids["person_id"]) in known:
                person = int(row.ids["person_id"])
            else:
                tried.append(f"no lead {row.ids['person_id']}")
        if person is None and "external_id" in row.ids:
            owners = by_external.get(row.ids["external_id"], set())
            if len(owners) == 1:
                person = next(iter(owners))
            else:
                many = f"{len(owners)} leads" if owners else "no lead"
                tried.append(f"{many} with external id '{row.ids['external_id']}'")
        if person is None and "email" in row.ids:
            email = emails.get(row.line)
            if email and email in by_email:
                person = by_email[email]
            else:
                tried.append(f"no lead with email '{row.ids['email']}'")
        found[row.line] = (person, "; ".join(tried))
    return found
