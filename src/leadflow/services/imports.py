"""Import a CSV of inquiries (event lists, purchased lists, CRM exports).

Each row is captured like any other inquiry (``capture.capture_in``): kept as
received (the row as JSON, with the file's own column names), consolidated
into people, rated. Rows are committed in batches; a row the database
refuses is rolled back alone (a savepoint) and quarantined with its error.

Presets map the column names of common exports to leadflow's names; unmapped
columns keep their names and reach the playbook's fields when they match.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from leadflow.adapters.csv_files import read_header, read_text_csv, sniff_delimiter
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput
from leadflow.services.capture import (
    CaptureInquiry,
    CaptureSettings,
    capture_guarded,
    quarantine,
)
from leadflow.services.uow import UnitOfWork

BATCH_ROWS = 1_000

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

    @property
    def merged_total(self) -> int:
        return sum(self.merged.values())


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
) -> ImportSummary:
    started = time.perf_counter()
    frame = read_text_csv(path)
    header = read_header(path, sniff_delimiter(path))
    if len(header) != frame.width:
        header = frame.columns
    names = column_names(header, preset, mappings or {})
    summary = ImportSummary(rows=frame.height)
    rows = frame.rows()
    for offset in range(0, len(rows), BATCH_ROWS):
        with engine_uow() as uow:
            for values in rows[offset : offset + BATCH_ROWS]:
                _one(uow, pb, header, names, values, source, campaign, now, settings, summary)
            uow.commit()
        if progress is not None:
            progress(min(offset + BATCH_ROWS, len(rows)), len(rows))
    summary.seconds = time.perf_counter() - started
    return summary


def _one(
    uow: UnitOfWork,
    pb: Playbook,
    header: list[str],
    names: list[str],
    values: tuple[str | None, ...],
    source: str,
    campaign: str | None,
    now: datetime,
    settings: CaptureSettings,
    summary: ImportSummary,
) -> None:
    raw = json.dumps(dict(zip(header, values, strict=True)), ensure_ascii=False)
    fields = {name: value for name, value in zip(names, values, strict=True) if value is not None}
    cmd = CaptureInquiry(fields, raw, source, "import", now, campaign=campaign)
    result, refused = capture_guarded(uow.store, pb, cmd, settings)
    if result is None:
        quarantine(uow.store, cmd, "database", f"the database refused the inquiry: {refused}")
        summary.quarantined["database"] += 1
        return
    if result.quarantined:
        summary.quarantined["no_identity"] += 1
    elif result.merged:
        summary.merged[result.merged] += 1
    else:
        summary.new_people += 1
