"""Exports on each database: times in the one form the CLI writes, in UTC."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from test_bulk_import import NOW, plain_import  # pytest puts this folder on sys.path

from leadflow.services.export import export


def test_an_export_writes_times_in_utc_whatever_the_time_zone_of_the_session(
    engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL gives a time in its session's time zone: exported as it came, an
    inquiry received at 09:00 UTC read ``04:00:00-05:00`` (and SQLite's, with no zone at
    all, could not be told from a local time)."""
    if engine.dialect.name == "postgresql":
        engine.dispose()

        @event.listens_for(engine, "connect")
        def _in_new_york(connection: Any, _: Any) -> None:
            connection.execute("SET TIME ZONE 'America/New_York'")
            connection.commit()

    path = tmp_path / "leads.csv"
    path.write_text("email,first_name\nann@acme.com,Ann\n", encoding="utf-8")
    plain_import(engine, path)
    out = io.BytesIO()
    export(engine, "inquiries", out)
    (row,) = csv.DictReader(io.StringIO(out.getvalue().decode()))
    assert row["received_at"] == "2026-11-23T09:00:00Z" == f"{NOW:%Y-%m-%dT%H:%M:%SZ}"
