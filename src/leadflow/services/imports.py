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
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from leadflow.adapters.csv_files import read_header, read_text_csv, sniff_delimiter
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import column_key
from leadflow.errors import InvalidInput
from leadflow.services.bulk_import import CHUNK_ROWS, Target
from leadflow.services.bulk_prepare import prepare
from leadflow.services.bulk_resolve import MemoryIndex
from leadflow.services.bulk_turns import SLICE_SECONDS, import_in_turn
from leadflow.services.capture import IDENTITY_ALIASES, IDENTITY_FIELDS, CaptureSettings
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
    },
}

Progress = Callable[[int, int], None]


@dataclass
class ImportSummary:
    rows: int = 0
    new_people: int = 0
    merged: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    repeated: int = 0
    seconds: float = 0.0
    transactions: int = 0
    longest_transaction: float = 0.0  # seconds: the longest the import held the write lock
    yielded: int = 0  # transactions ended early because another writer waited
    longest_yield: float = 0.0  # seconds: the most such a writer can have waited

    @property
    def merged_total(self) -> int:
        return sum(self.merged.values())


def check_targets(pb: Playbook, mappings: Mapping[str, str]) -> None:
    """Each --map names a field the import reads: an identity field (or one of its other
    names) or a field of the playbook (or a column it names). A typo would otherwise take
    the column away from its field without a word."""
    known_columns = {column_key(c) for f in pb.fields.values() for c in f.columns}
    for column, target in mappings.items():
        key = column_key(target)
        if key in IDENTITY_ALIASES or key in pb.fields or key in known_columns:
            continue
        raise InvalidInput(
            f"'{column}={target}': '{target}' is not a field the import reads; identity"
            f" fields: {', '.join(IDENTITY_FIELDS)}; the playbook's: {', '.join(pb.fields)}",
            where="--map",
        )


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
) -> ImportSummary:
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
        )


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
) -> ImportSummary:
    started = time.perf_counter()
    _check_length("--source", source, 200)
    if campaign is not None:
        _check_length("--campaign", campaign, 200)
    frame = read_text_csv(path)
    header = read_header(path, sniff_delimiter(path))
    if len(header) != frame.width:
        header = frame.columns
    names = column_names(header, preset, mappings or {})
    check_targets(pb, mappings or {})
    summary = ImportSummary(rows=frame.height)
    if frame.height == 0:  # a header and nothing else
        summary.seconds = time.perf_counter() - started
        return summary
    prepared = prepare(
        pb, frame, header, names, source=source, campaign=campaign, region=settings.region
    )
    del frame
    if progress is not None:  # read and normalised: the rows to go are known
        progress(0, prepared.frame.height)
    target = Target(pb, source, now, settings.name_threshold, prepared.fields, settings.runtime())
    chunks, turns = import_in_turn(
        engine_uow, target, prepared, MemoryIndex(), chunk_rows, progress, slice_seconds
    )
    summary.transactions, summary.longest_transaction = turns.count, turns.longest
    summary.yielded, summary.longest_yield = turns.yielded, turns.longest_yield
    for chunk in chunks:
        summary.new_people += chunk.new_people
        summary.merged.update(chunk.merged)
        summary.quarantined.update(chunk.quarantined)
    summary.seconds = time.perf_counter() - started
    return summary


def _check_length(option: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidInput(f"{option} takes at most {limit} characters, got {len(value)}", option)
