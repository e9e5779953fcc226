"""Captures go on while an import writes to the same SQLite file.

The import writes in short transactions and queues on the writer lock like every
capture, so a capture posted while it runs waits for one transaction at most, not for
the whole import; and the two never make one person twice, whichever comes first.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from leadflow.adapters.csv_files import read_text_csv
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.engine import make_engine, upgrade
from leadflow.bootstrap import bundled_playbook
from leadflow.services.bulk_prepare import prepare
from leadflow.services.bulk_resolve import STEP, MemoryIndex
from leadflow.services.bulk_turns import Pace
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.imports import ImportSummary, import_csv
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROWS = 6_000
SHARED = 8  # people that both the file (at its end) and the captures name


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'leadflow.db'}")
    upgrade(engine)
    return engine


def write_file(path: Path) -> Path:
    lines = ["email,first_name,last_name,company,budget"]
    lines += [f"p{i}@firm{i % 300}.com,Ann{i},Lee{i},Firm {i % 300},approved" for i in range(ROWS)]
    lines += [f"shared{i}@acme.com,,,Acme,planned" for i in range(SHARED)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_capture_gets_in_while_an_import_runs(sqlite_engine: Engine, tmp_path: Path) -> None:
    pb = bundled_playbook("btd")
    path = write_file(tmp_path / "leads.csv")
    started = threading.Event()
    outcome: list[ImportSummary | BaseException] = []

    def run_import() -> None:
        try:
            outcome.append(
                import_csv(
                    lambda: UnitOfWork(sqlite_engine),
                    pb,
                    path,
                    source="expo",
                    now=NOW,
                    settings=CaptureSettings(),
                    progress=lambda done, total: done and started.set(),
                    slice_seconds=0.02,
                )
            )
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)

    importer = threading.Thread(target=run_import)
    importer.start()
    assert started.wait(timeout=60), "the import wrote nothing"
    waits, during = [], 0
    for i in range(SHARED):
        fields = {"email": f"SHARED{i}@acme.com", "company": "Acme"}
        cmd = CaptureInquiry(fields, json.dumps(fields), "web", "api", NOW)
        asked = time.monotonic()
        with UnitOfWork(sqlite_engine) as uow:
            result = capture(uow, pb, cmd, CaptureSettings())
        waits.append(time.monotonic() - asked)
        assert result.person_id is not None and result.grade is not None
        during += importer.is_alive()
    importer.join(timeout=120)
    (summary,) = outcome
    assert isinstance(summary, ImportSummary), summary

    assert during > 0, "no capture happened while the import ran"
    assert max(waits) < 5, waits
    assert summary.yielded >= 1 and summary.transactions >= 2
    with sqlite_engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.inquiries)).scalar() == (
            ROWS + 2 * SHARED
        )
        for i in range(SHARED):  # one person for each shared address, whoever came first
            people = c.execute(
                select(t.people.c.id).where(t.people.c.email == f"shared{i}@acme.com")
            ).all()
            assert len(people) == 1
            owners = c.execute(
                select(t.inquiries.c.person_id).where(
                    func.lower(t.inquiries.c.payload).contains(f"shared{i}@acme.com")
                )
            ).all()
            assert [o for (o,) in owners] == [people[0][0]] * 2
        rated = c.execute(select(func.count()).select_from(t.lead_state)).scalar()
        assert rated == c.execute(select(func.count()).select_from(t.people)).scalar()
    sqlite_engine.dispose()


def test_rows_per_transaction_follow_the_time_they_took() -> None:
    pace = Pace(budget=0.5, most=100_000, rows=2_000)
    pace.took(2_000, 0.1)
    assert pace.rows == 4_000  # at most doubled
    pace.took(4_000, 2.0)
    assert pace.rows == 1_000  # what fits half a second
    pace.took(1_000, 10.0)
    assert pace.rows == 500  # never fewer
    small = Pace(budget=0.5, most=10, rows=10)
    small.took(10, 5.0)
    assert small.rows == 10  # chunk_rows below the floor wins


def test_matching_stops_where_it_is_told_and_learns_only_the_rows_before(tmp_path: Path) -> None:
    """A writer that begins to wait cuts the slice short: the rows not matched yet are
    left for the next transaction, and the index knows nothing of them."""
    path = write_file(tmp_path / "leads.csv")
    frame = read_text_csv(path)
    header = frame.columns
    prepared = prepare(
        bundled_playbook("btd"), frame, header, header, source="x", campaign=None, region="US"
    )
    index, asked = MemoryIndex(), []
    resolved = index.resolve(
        prepared.frame, 90.0, count(1), count(1), stop=lambda: asked.append(1) or len(asked) > 1
    )
    assert len(resolved.person) == 2 * STEP and len(resolved.new_people) == 2 * STEP
    assert ("email", f"p{2 * STEP - 1}@firm{(2 * STEP - 1) % 300}.com") in index.keys
    assert ("email", f"p{2 * STEP}@firm{(2 * STEP) % 300}.com") not in index.keys
