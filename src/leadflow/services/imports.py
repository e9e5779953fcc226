"""Import a CSV of inquiries (event lists, purchased lists, CRM exports).

Each row is treated as a captured inquiry (``capture.capture_in``) would be:
kept as received (the row as JSON, with the file's own column names),
consolidated into people by the same matching rules, rated, logged. The work
is done in bulk (``bulk_prepare``, ``bulk_resolve``, ``bulk_import``,
``bulk_turns``): the file column by column, then slices of rows in
transactions that let go of the write lock as soon as another writer
waits, with the database's bulk paths; ``tests/integration/test_bulk_import.py`` holds the
result equal to capturing the rows one by one. A row the database would
refuse (a value longer than its column) is quarantined with the reason.

Presets map the column names of common exports to leadflow's names; unmapped
columns keep their names and reach the playbook's fields when they match.

Each import records its file (name, SHA-256, rows) and, in every transaction that
writes rows, how many of them are taken. A file imported before is refused, since
every row would become a second inquiry (``again`` imports it anyway), and one whose
import stopped half-way goes on after the rows it took (``resume``).
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadflow.adapters.csv_files import read_text_csv, sniff_delimiter, without_blank_rows
from leadflow.adapters.csv_records import read_header, unique_names
from leadflow.domain.moments import stamp
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import clean
from leadflow.errors import Conflict, InvalidInput
from leadflow.services.bulk_import import CHUNK_ROWS, ImportFile, Target
from leadflow.services.bulk_prepare import prepare
from leadflow.services.bulk_resolve import MemoryIndex
from leadflow.services.bulk_turns import SLICE_SECONDS, import_in_turn
from leadflow.services.capture import CaptureSettings, unread_name
from leadflow.services.import_runs import running, still_running
from leadflow.services.uow import UnitOfWork

PRESETS: dict[str, dict[str, str]] = {
    "generic": {},
    # A Salesforce lead export (report or Data Loader), by label and by API name.
    "salesforce": {
        "Lead ID": "external_id",
        "Id": "external_id",
        "First Name": "first_name",
        "FirstName": "first_name",
        "Last Name": "last_name",
        "LastName": "last_name",
        "Email": "email",
        "Phone": "phone",
        "Mobile": "mobile",
        "MobilePhone": "mobile",
        "Company": "company",
        "Company / Account": "company",
        "Title": "title",
        "Website": "website",
        "Lead Source": "lead_source",
        "LeadSource": "lead_source",
        "Industry": "industry",
        "No. of Employees": "company_size",
        "NumberOfEmployees": "company_size",
        "Country": "country",
        "Description": "description",
        "Rating": "sf_rating",
        "Lead Status": "sf_status",
        "Status": "sf_status",
        "Campaign Name": "campaign",
        "Email Opt Out": "do_not_email",
        "HasOptedOutOfEmail": "do_not_email",
        "Do Not Call": "do_not_call",
        "DoNotCall": "do_not_call",
    },
    # A HubSpot contact export.
    "hubspot": {
        "Record ID": "external_id",
        "Contact ID": "external_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "mobile",
        "Company Name": "company",
        "Job Title": "title",
        "Website URL": "website",
        "Number of Employees": "company_size",
        "Industry": "industry",
        "Country/Region": "country",
        "Original Source": "lead_source",
        "Lifecycle Stage": "hs_lifecycle_stage",
        "Lead Status": "hs_lead_status",
        "Unsubscribed from all email": "do_not_email",
        "Opted out of all email": "do_not_email",  # the same property's former label
    },
}

Progress = Callable[[int, int], None]


@dataclass
class ImportSummary:
    rows: int = 0  # rows with a value: each an inquiry or quarantined
    blank: int = 0  # lines of no value (empty, or delimiters and spaces alone), skipped
    new_people: int = 0
    merged: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    unread: Counter[str] = field(default_factory=Counter)  # kept rows' unreadable email/phone
    repeated: int = 0
    seconds: float = 0.0
    transactions: int = 0
    longest_transaction: float = 0.0  # seconds: the longest the import held the write lock
    yielded: int = 0  # transactions ended early because another writer waited
    longest_yield: float = 0.0  # seconds: the most such a writer can have waited
    import_id: int | None = None  # its ``imports`` row
    resumed: int = 0  # rows a stopped import of the file had taken, left out this time

    @property
    def merged_total(self) -> int:
        return sum(self.merged.values())


def check_targets(pb: Playbook, mappings: Mapping[str, str]) -> None:
    """Each --map names a field the import reads: an identity field (or one of its other
    names), a field of the playbook (or a column it names), or an opt-out (``do_not_email``,
    ``do_not_call``, ``do_not_contact``, or another of their names). A typo would otherwise
    take the column away from its field without a word."""
    for column, target in mappings.items():
        said = unread_name(pb, target)
        if said is not None:
            raise InvalidInput(f"'{column}={target}': {said}", where="--map")


def column_names(header: list[str], preset: str, mappings: Mapping[str, str]) -> list[str]:
    """The name each column is captured under: --map first, then the preset, else its own."""
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset '{preset}' (known: {', '.join(PRESETS)})", "--preset")
    for column in mappings:
        if column not in header:
            raise InvalidInput(f"--map names column '{column}', which the file does not have")
    table = PRESETS[preset]
    return [mappings.get(c) or table.get(c) or c for c in header]


def import_csv(
    engine_uow: Callable[[], UnitOfWork],
    pb: Playbook,
    path: Path,
    *,
    source: str,
    now: datetime,
    settings: CaptureSettings,
    preset: str = "generic",
    mappings: Mapping[str, str] | None = None,
    campaign: str | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    slice_seconds: float = SLICE_SECONDS,
    again: bool = False,
    resume: bool = False,
    delimiter: str | None = None,
) -> ImportSummary:
    """Import ``path``. A file imported before (the same bytes, under any name) is
    refused with :class:`Conflict` unless ``again``; one whose import stopped is refused
    unless ``again`` (the whole file once more) or ``resume`` (the rows after those it
    took, under the same source, campaign and column names); one that another import is
    taking now is refused whatever it is told. ``delimiter``: the file's, when a guess
    would be wrong (else sniffed)."""
    with _no_cyclic_gc():
        return _import_csv(
            engine_uow,
            pb,
            path,
            source,
            now,
            settings,
            preset,
            mappings,
            campaign,
            progress,
            chunk_rows,
            slice_seconds,
            again,
            resume,
            delimiter,
        )


def file_checksum(path: Path) -> str:
    """The SHA-256 of the file's bytes, in hexadecimal."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


ONE = {"inquiries": "inquiry", "activities": "activity"}


def earlier_import(
    engine_uow: Callable[[], UnitOfWork],
    path: Path,
    checksum: str,
    kind: str,
    source: str,
    again: bool,
    resume: bool,
    campaign: str | None = None,
) -> tuple[Any | None, int]:
    """The stopped import of this file (of ``kind``: inquiries, activities) that this one
    resumes, if it does; and the id of the file's latest import (0 if none), so that an
    import of the file that begins after this look is refused when this one records
    itself (``import_runs.refuse_running``). Refuses a file imported before, or one whose
    import stopped, unless told what to do (``again``, ``resume``), and one that another
    import is taking now whatever it is told."""
    if again and resume:
        raise InvalidInput("give --again or --resume, not both", where="--resume")
    with engine_uow() as uow:
        found = uow.store.imports(1, checksum, kind)
    last = found[0] if found else None
    return _resumed(path, last, kind, source, again, resume, campaign), (
        int(last.id) if last is not None else 0
    )


def _resumed(
    path: Path,
    last: Any | None,
    kind: str,
    source: str,
    again: bool,
    resume: bool,
    campaign: str | None,
) -> Any | None:
    """What :func:`earlier_import` makes of the file's latest import ``last``."""
    who = None if last is None else running(last)
    if who is not None:
        raise Conflict(still_running(last, who))
    if last is None:
        if resume:
            raise InvalidInput(
                "no import of this file has begun here, so there is nothing to resume",
                where=str(path),
            )
        return None
    if again:
        return None
    said = (
        f"import {last.id} of {stamp(last.started_at)} ("
        + (f"--source '{last.source}'" if last.source else "no --source")
        + (f", file {last.file!r}" if last.file and last.file != str(path) else "")
        + ")"
    )
    if last.finished_at is not None:
        if resume:
            raise InvalidInput(
                f"{said} took all of its {last.rows or 0:,} rows: nothing to resume",
                where=str(path),
            )
        raise Conflict(
            f"{path}: this file was imported already, by {said}, {last.rows or 0:,} rows."
            f" Importing it again would add every row as one more {ONE[kind]}; give --again"
            " to do so anyway."
        )
    if not resume:
        raise Conflict(
            f"{path}: {said} stopped after {last.taken:,} of its {last.rows or 0:,} rows."
            " Give --resume to import the rows after them, or"
            " --again to import the whole file once more."
        )
    if last.source != source:
        raise InvalidInput(
            f"the stopped {said} took its rows under "
            + (f"source '{last.source}'" if last.source else "no --source")
            + "; resume it under the same",
            where="--source",
        )
    # (an import recorded before imports named their runner kept no campaign to compare)
    if last.runner is not None and last.campaign != campaign:
        raise InvalidInput(
            f"the stopped {said} gave its rows "
            + (f"campaign '{last.campaign}'" if last.campaign else "no --campaign")
            + "; resume it with the same",
            where="--campaign",
        )
    return last


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector off while an import runs.

    The import holds millions of small containers (its index of keys, blocks and
    names) and makes no reference cycles; left on, the collector walks them all
    again and again and takes most of the time. Reference counting still frees
    everything else.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _import_csv(
    engine_uow: Callable[[], UnitOfWork],
    pb: Playbook,
    path: Path,
    source: str,
    now: datetime,
    settings: CaptureSettings,
    preset: str,
    mappings: Mapping[str, str] | None,
    campaign: str | None,
    progress: Progress | None,
    chunk_rows: int,
    slice_seconds: float,
    again: bool,
    resume: bool,
    delimiter: str | None,
) -> ImportSummary:
    started = time.perf_counter()
    source = named_source("--source", source)
    if campaign is not None:
        _check_length("--campaign", campaign, 200)
    checksum = file_checksum(path)
    earlier, seen = earlier_import(
        engine_uow, path, checksum, "inquiries", source, again, resume, campaign
    )
    delimiter = delimiter or sniff_delimiter(path)
    frame = read_text_csv(path, delimiter)
    header = unique_names(read_header(path, delimiter))  # a repeated name: "Email (2)"
    if len(header) != frame.width:  # the payloads would put values under the wrong names
        raise InvalidInput(
            f"cannot read as CSV: its header line holds {len(header)} names read alone,"
            f" {frame.width} read with the rest of the file (a quote or a line end in it?)",
            where=str(path),
        )
    names = column_names(header, preset, mappings or {})
    check_targets(pb, mappings or {})
    frame, blank = without_blank_rows(frame)  # never stored: no inquiry, no quarantine
    summary = ImportSummary(rows=frame.height, blank=blank)
    if frame.height == 0:  # a header and nothing else (but blank lines)
        summary.seconds = time.perf_counter() - started
        return summary
    columns = [[str(h), str(n)] for h, n in zip(header, names, strict=True)]
    if earlier is not None and earlier.columns != columns:
        _refuse_other_columns(earlier.columns, columns)
    if earlier is not None:
        check_same_rows(earlier, frame.height)
    prepared = prepare(
        pb, frame, header, names, source=source, campaign=campaign, region=settings.region
    )
    del frame
    if progress is not None:  # read and normalised: the rows to go are known
        progress(0, prepared.frame.height)
    target = Target(
        pb,
        source,
        now,
        settings.name_threshold,
        prepared.fields,
        settings.runtime(),
        campaign=campaign,
        phone_floor=settings.phone_name_floor,
    )
    file = ImportFile(
        str(path),
        checksum,
        prepared.frame.height,
        columns,
        gives_fields=prepared.gives_fields,
        campaign=campaign,
        import_id=None if earlier is None else int(earlier.id),
        taken=0 if earlier is None else int(earlier.taken),
        seen=seen,
    )
    summary.resumed = file.taken
    chunks, turns = import_in_turn(
        engine_uow, target, prepared, file, MemoryIndex(), chunk_rows, progress, slice_seconds
    )
    summary.import_id = turns.import_id
    summary.transactions, summary.longest_transaction = turns.count, turns.longest
    summary.yielded, summary.longest_yield = turns.yielded, turns.longest_yield
    for chunk in chunks:
        summary.new_people += chunk.new_people
        summary.merged.update(chunk.merged)
        summary.quarantined.update(chunk.quarantined)
        summary.unread.update(chunk.unread)
    summary.seconds = time.perf_counter() - started
    return summary


def _refuse_other_columns(then: list[list[str]], now: list[list[str]]) -> None:
    """A resumed import must read the columns as the stopped one did (its delimiter, preset
    and maps)."""
    if [header for header, _ in then] != [header for header, _ in now]:
        raise InvalidInput(
            f"the stopped import read the columns {', '.join(repr(h) for h, _ in then)};"
            f" this one reads {', '.join(repr(h) for h, _ in now)}: resume it with the same"
            " --delimiter",
            where="--resume",
        )
    for (header, before), (_, name) in zip(then, now, strict=False):
        if before != name:
            raise InvalidInput(
                f"the stopped import read column '{header}' as '{before}', this one as"
                f" '{name}': resume it with the same --preset and --map",
                where="--resume",
            )
    raise InvalidInput("the stopped import read other columns", where="--resume")


def check_same_rows(earlier: Any, rows: int) -> None:
    """A resumed import goes on after the rows the stopped one took, counted in the rows it
    read: it must read as many (leadflow once counted blank lines as rows)."""
    if earlier.rows is None or earlier.rows == rows:
        return
    raise InvalidInput(
        f"the stopped import {earlier.id} read {earlier.rows:,} rows in this file, this one"
        f" reads {rows:,}: it cannot go on where that one stopped; --again imports the"
        f" whole file once more (its first {earlier.taken:,} rows a second time)",
        where="--resume",
    )


def named_source(option: str, value: str) -> str:
    """A ``--source`` without the spaces around it; InvalidInput when nothing is left (a
    source of spaces alone names nothing) or it is longer than the column takes."""
    name = clean(value)
    if name is None:
        raise InvalidInput(
            f"is blank: name where these came from (an event, a list, a CRM), such as"
            f" {option} expo-2026",
            where=option,
        )
    _check_length(option, name, 200)
    return name


def _check_length(option: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidInput(f"{option} takes at most {limit} characters, got {len(value)}", option)
