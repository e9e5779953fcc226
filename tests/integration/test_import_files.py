"""An import knows its file: the same file is not imported twice by mistake, and an
import that stopped half-way goes on after the rows it committed, ending as one
import of the whole file would have."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from test_bulk_import import (  # pytest puts this folder on sys.path
    MAPPINGS,
    NOW,
    SETTINGS,
    messy_rows,
    snapshot,
    write_csv,
)

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.bulk import BulkStore, runner
from leadflow.bootstrap import bundled_playbook
from leadflow.errors import Conflict, InvalidInput
from leadflow.services import activity_import, bulk_import, import_runs
from leadflow.services.identity import people_behind
from leadflow.services.imports import file_checksum, import_csv
from leadflow.services.uow import UnitOfWork

PB = bundled_playbook("btd")


def run(engine: Engine, path: Path, **options: Any) -> Any:
    """``path`` imported as ``test_bulk_import`` does, in transactions of 23 rows."""
    settings = {"source": "expo", "preset": "salesforce", "mappings": MAPPINGS, **options}
    return import_csv(
        lambda: UnitOfWork(engine), PB, path, now=NOW, settings=SETTINGS, chunk_rows=23, **settings
    )


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return tuple(  # type: ignore[return-value]
            c.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.inquiries, t.quarantine, t.people)
        )


def imports(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        query = select(
            t.imports.c.file, t.imports.c.rows, t.imports.c.taken, t.imports.c.finished_at
        ).order_by(t.imports.c.id)
        return [
            (Path(f).name, rows, taken, done is not None)
            for f, rows, taken, done in c.execute(query)
        ]


def said_when_stopped(engine: Engine, path: Path, kind: str = "inquiries") -> str:
    """What the CLI says when an import of ``path`` is interrupted now."""
    from leadflow.cli.main import err  # first: it registers the commands' modules
    from leadflow.cli.store_commands import _interrupted

    with err.capture() as captured:
        assert _interrupted(engine, path, kind).exit_code == 130
    return " ".join(captured.get().split())


def stop_in_transaction(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """The import fails while it writes its ``nth`` slice, before that slice commits."""
    fold = bulk_import.fold_chunk
    calls: list[int] = []

    def fold_then_fail(*args: Any) -> None:
        calls.append(1)
        fold(*args)
        if len(calls) == nth:
            raise KeyboardInterrupt

    monkeypatch.setattr(bulk_import, "fold_chunk", fold_then_fail)


def test_a_file_imported_before_is_refused_under_any_name_unless_told_again(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "leads.csv", messy_rows(1, 60))
    first = run(engine, path)
    before = counts(engine)
    copy = tmp_path / "leads (1).csv"
    shutil.copyfile(path, copy)
    for name in (path, copy):
        with pytest.raises(
            Conflict, match="imported already, by import 1 of 2026-11-23T09:00:00Z "
        ) as e:
            run(engine, name, source="other")
        assert f"{first.rows:,} rows" in str(e.value) and "--again" in str(e.value)
    assert counts(engine) == before  # nothing written
    with pytest.raises(InvalidInput, match=r"took all of its .* nothing to resume"):
        run(engine, path, resume=True)

    second = run(engine, copy, again=True)
    assert second.import_id == 2 and second.rows == first.rows
    inquiries, quarantined, people = counts(engine)
    assert (inquiries, quarantined) == (before[0] * 2, before[1] * 2)
    assert people == before[2]  # the same people, each with more inquiries
    assert imports(engine) == [
        ("leads.csv", first.rows, first.rows, True),
        ("leads (1).csv", first.rows, first.rows, True),
    ]


def test_a_stopped_import_resumes_after_its_rows_and_ends_as_one_whole_import(
    engine: Engine, reference: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while writing its third slice: the two committed slices stay, with the
    count of rows they took in the same transactions; the resumed import takes the rest,
    and the database ends as importing the file in one go leaves it."""
    path = write_csv(tmp_path / "leads.csv", messy_rows(2, 160))
    whole = run(reference, path)

    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 3)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path)
    assert imports(engine) == [("leads.csv", whole.rows, 46, False)]
    assert sum(counts(engine)[:2]) == 46
    assert f"46 of the {whole.rows:,} rows of" in said_when_stopped(engine, path)
    assert "--resume" in said_when_stopped(engine, path)

    with pytest.raises(
        Conflict, match=r"stopped after 46 of its 160 rows\. Give --resume.*--again"
    ):
        run(engine, path)
    rest = run(engine, path, resume=True)
    assert (rest.import_id, rest.resumed, rest.rows) == (1, 46, whole.rows)
    assert imports(engine) == [("leads.csv", whole.rows, whole.rows, True)]
    got, want = snapshot(engine), snapshot(reference)
    for part in want:
        assert got[part] == want[part], part
    assert rest.new_people < whole.new_people == len(got["people"])


def test_a_file_with_blank_lines_resumes_after_its_rows_exactly(
    engine: Engine, reference: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blank lines (empty, or delimiters alone) are skipped before the rows are counted,
    so the rows a stopped import took are the same rows whenever the file is read. A
    stopped import that counted otherwise (leadflow once counted blank lines as rows)
    is not resumed at a row it did not mean."""
    rows = messy_rows(9, 100)  # with rows of nothing (",,,,") among them
    for at in range(90, 0, -9):
        rows.insert(at, [])  # an empty line
    path = write_csv(tmp_path / "leads.csv", rows)
    whole = run(reference, path)
    assert (whole.rows, whole.blank) == (100, 16)

    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path)
    assert imports(engine) == [("leads.csv", 100, 23, False)]
    with engine.begin() as c:
        c.execute(update(t.imports).values(rows=116))  # as once counted
    with pytest.raises(InvalidInput, match="read 116 rows in this file, this one reads 100"):
        run(engine, path, resume=True)
    with engine.begin() as c:
        c.execute(update(t.imports).values(rows=100))
    rest = run(engine, path, resume=True)
    assert (rest.resumed, rest.rows, rest.blank) == (23, 100, 16)
    got, want = snapshot(engine), snapshot(reference)
    for part in want:
        assert got[part] == want[part], part
    assert len(got["inquiries"]) + len(got["quarantine"]) == 100


def test_a_resume_must_read_the_file_as_the_stopped_import_did(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "leads.csv", messy_rows(3, 60))
    with pytest.raises(InvalidInput, match="no import of this file has begun here"):
        run(engine, path, resume=True)
    said = said_when_stopped(engine, path)  # stopped before its first commit
    assert "before its first commit: this command imported nothing" in said
    assert "--resume" not in said
    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path)
    assert "23 of the 60 rows of" in said_when_stopped(engine, path)
    with engine.begin() as c:  # as an earlier command left it
        c.execute(update(t.imports).values(runner="elsewhere:1"))
    said = said_when_stopped(engine, path)  # an --again stopped before its first commit
    assert "this command imported nothing" in said and "23 of" not in said
    with engine.begin() as c:
        c.execute(update(t.imports).values(runner=runner()))
    with pytest.raises(InvalidInput, match="under source 'expo'") as e:
        run(engine, path, source="fair", resume=True)
    assert e.value.where == "--source"
    with pytest.raises(InvalidInput, match="read column 'Full Name' as 'name', this one as"):
        run(engine, path, mappings={}, resume=True)
    with pytest.raises(InvalidInput, match="not both"):
        run(engine, path, again=True, resume=True)
    assert sum(counts(engine)[:2]) == 23  # the refusals wrote nothing

    again = run(engine, path, again=True)  # the whole file once more, as a new import
    assert again.import_id == 2 and again.resumed == 0
    assert sum(counts(engine)[:2]) == 23 + again.rows


def test_a_resume_must_read_the_file_with_the_stopped_imports_delimiter(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[v.replace('"', "").replace("\n", " ") for v in row] for row in messy_rows(8, 60)]
    path = write_csv(tmp_path / "leads.csv", rows)
    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path)
    with pytest.raises(InvalidInput, match=r"'Lead ID', 'First Name'.*this one reads 'Lead I") as e:
        run(engine, path, delimiter="|", mappings={}, resume=True)
    assert "resume it with the same --delimiter" in str(e.value)
    assert sum(counts(engine)[:2]) == 23
    assert run(engine, path, delimiter=",", resume=True).resumed == 23


def test_an_activities_file_is_imported_once_and_a_stopped_one_resumes(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    other_leadflow: subprocess.Popen[bytes],
) -> None:
    """Activities imported twice would count twice towards engagement. Each row finds its
    person by an address that is one person's: a role address several people gave (the
    file's info@gmail.com) finds none of them, and its rows would be skipped."""
    pb = bundled_playbook("b2b-saas")
    people = write_csv(tmp_path / "leads.csv", messy_rows(4, 20))
    run(engine, people)
    with UnitOfWork(engine) as uow:
        given = uow.store.connection.execute(select(t.people.c.email).distinct()).scalars()
        emails = sorted(e for e in given if e and len(people_behind(uow.store, "email", e)) == 1)
    lines = [
        f"{kind},2026-11-2{i % 3}T10:00:00Z,{email}"
        for i, (email, kind) in enumerate(
            zip(emails * 3, ["webinar_attended", "page_view", "email_reply"] * 20, strict=False)
        )
    ]
    assert len(lines) == 12  # four addresses, three times each
    path = tmp_path / "acts.csv"
    path.write_text("type,at,email\n" + "\n".join(lines) + "\n", encoding="utf-8")

    def load(**options: Any) -> activity_import.ActivityImport:
        return activity_import.import_activity_csv(
            lambda: UnitOfWork(engine), pb, path, SETTINGS, "web", NOW, **options
        )

    def all_activities() -> int:
        with engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(t.activities)).scalar_one())

    before = all_activities()  # the import of people records some of its own

    def activities() -> int:
        """Activities recorded from the file."""
        return all_activities() - before

    monkeypatch.setattr(activity_import, "BATCH", 4)
    store, calls = activity_import.store_activity, []

    def stop_in_the_third_batch(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 10:  # the second row of the third batch of four
            raise KeyboardInterrupt
        return store(*args)

    with monkeypatch.context() as patch:
        patch.setattr(activity_import, "store_activity", stop_in_the_third_batch)
        with pytest.raises(KeyboardInterrupt):
            load()
    done = activities()
    assert done == 8 and imports(engine)[-1] == ("acts.csv", len(lines), 8, False)
    with pytest.raises(Conflict, match=rf"stopped after {done} of its {len(lines)} rows"):
        load()
    stopped = imports_rows(engine)[-1]
    claimed_by(engine, stopped.id, f"{socket.gethostname()}:{other_leadflow.pid}", NOW)
    with pytest.raises(Conflict, match=f"import {stopped.id} of this file is running now"):
        load(resume=True)
    claimed_by(engine, stopped.id, stopped.runner, stopped.seen_at)  # it stopped after all
    rest = load(resume=True)
    assert (rest.resumed, rest.done, rest.skipped) == (done, len(lines) - done, [])
    assert activities() == len(lines)
    assert imports(engine)[-1] == ("acts.csv", len(lines), len(lines), True)
    with pytest.raises(Conflict, match="one more activity; give --again"):
        load()
    assert activities() == len(lines)
    assert load(again=True).done == len(lines) and activities() == 2 * len(lines)


@pytest.fixture
def other_leadflow() -> Iterator[subprocess.Popen[bytes]]:
    """A living process on this machine whose command line names leadflow, as a second
    ``leadflow import`` would be."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "leadflow"])
    yield process
    process.kill()
    process.wait()


def claimed_by(engine: Engine, import_id: int, runner: str, seen_at: datetime) -> None:
    with engine.begin() as c:
        claimed_by_in(c, import_id, runner, seen_at)


def test_an_import_still_running_is_neither_resumed_nor_repeated(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    other_leadflow: subprocess.Popen[bytes],
) -> None:
    """Two commands taking the same rows would make each of them two inquiries."""
    path = write_csv(tmp_path / "leads.csv", messy_rows(5, 60))
    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path)
    with engine.connect() as c:
        runner, seen = c.execute(select(t.imports.c.runner, t.imports.c.seen_at)).one()
    assert runner == f"{socket.gethostname()}:{os.getpid()}" and seen is not None
    assert import_runs.running(imports_rows(engine)[0]) is None  # this process: it stopped

    here = f"{socket.gethostname()}:{other_leadflow.pid}"
    claimed_by(engine, 1, here, datetime.now(UTC))
    for options in ({}, {"resume": True}, {"again": True}):
        with pytest.raises(Conflict, match="import 1 of this file is running now") as e:
            run(engine, path, **options)
        assert f"(process {other_leadflow.pid} on this machine)" in str(e.value)
        assert "has taken 23 of its" in str(e.value)
    assert sum(counts(engine)[:2]) == 23  # the refusals wrote nothing

    elsewhere = "crm-import-host:4242"
    claimed_by(engine, 1, elsewhere, datetime.now(UTC) - timedelta(minutes=3))
    with pytest.raises(Conflict, match="process 4242 on crm-import-host, which committed"):
        run(engine, path, resume=True)
    claimed_by(engine, 1, elsewhere, datetime.now(UTC) - import_runs.HEARD_WITHIN)
    assert import_runs.running(imports_rows(engine)[0]) is None  # not heard of: stopped

    # Two commands at once: each saw no running import before it began; the one that
    # records second finds the other in its transaction. Here an older import of the
    # file runs while the newest stopped, and the newest is all a command sees first.
    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path, again=True)  # import 2: 23 rows, stopped
    claimed_by(engine, 1, here, datetime.now(UTC))
    assert [r.id for r in imports_rows(engine)] == [1, 2]
    with pytest.raises(Conflict, match="import 1 of this file is running now"):
        run(engine, path, resume=True)  # resumes import 2; import 1 still runs
    assert sum(counts(engine)[:2]) == 46

    other_leadflow.kill()
    other_leadflow.wait()
    rest = run(engine, path, resume=True)
    assert (rest.import_id, rest.resumed) == (2, 23)


def test_a_resume_gives_its_rows_the_campaign_the_stopped_import_gave(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "leads.csv", messy_rows(6, 60))
    with monkeypatch.context() as patch:
        stop_in_transaction(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            run(engine, path, campaign="spring-fair")
    assert imports_rows(engine)[0].campaign == "spring-fair"
    for campaign in (None, "autumn"):
        with pytest.raises(InvalidInput, match="gave its rows campaign 'spring-fair'") as e:
            run(engine, path, campaign=campaign, resume=True)
        assert e.value.where == "--campaign"
    run(engine, path, campaign="spring-fair", resume=True)
    with engine.connect() as c:
        campaigns = set(c.execute(select(t.inquiries.c.campaign)).scalars())
    assert campaigns == {"spring-fair"}


def imports_rows(engine: Engine) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(select(t.imports).order_by(t.imports.c.id)))


def test_two_imports_of_one_file_begun_together_record_one_after_the_other(
    engine: Engine, tmp_path: Path, other_leadflow: subprocess.Popen[bytes]
) -> None:
    """PostgreSQL has no one write lock: the file's own (an advisory lock on its
    checksum) keeps a second import from recording itself beside a first one that has
    not committed yet. (On SQLite the write lock does; see the test above.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the write lock orders the two")
    path = write_csv(tmp_path / "leads.csv", messy_rows(7, 30))
    checksum = file_checksum(path)
    first = engine.connect()
    transaction = first.begin()
    bulk = BulkStore(first)
    assert bulk.unfinished_imports(checksum, "inquiries") == []  # takes the file's lock
    recorded = bulk.insert_import(NOW, "expo", [], str(path), checksum, 30)
    claimed_by_in(first, recorded, f"{socket.gethostname()}:{other_leadflow.pid}")
    commits = threading.Timer(1.5, transaction.commit)  # the first import's first commit
    commits.start()
    began = time.monotonic()
    try:
        with pytest.raises(Conflict, match=f"import {recorded} of this file is running now"):
            run(engine, path)
        assert time.monotonic() - began >= 1.4  # it waited for the first one's commit
    finally:
        commits.join()
        first.close()
    assert counts(engine) == (0, 0, 0)


def claimed_by_in(
    connection: Any, import_id: int, runner: str, seen_at: datetime | None = None
) -> None:
    values = {"runner": runner} | ({} if seen_at is None else {"seen_at": seen_at})
    connection.execute(update(t.imports).where(t.imports.c.id == import_id).values(values))


def test_a_file_imported_by_another_command_while_this_one_started_is_refused(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two commands started together both find no import of the file; a small file's
    import can then record itself and finish before the other records itself. The other
    must still be refused, whatever it was told: it would add every row once more."""
    from leadflow.services import imports as import_service

    path = write_csv(tmp_path / "leads.csv", messy_rows(8, 30))
    read = import_service.read_text_csv

    def another_command_first(*args: Any) -> Any:  # right after this one looked
        monkeypatch.setattr(import_service, "read_text_csv", read)
        run(engine, path)
        return read(*args)

    monkeypatch.setattr(import_service, "read_text_csv", another_command_first)
    with pytest.raises(Conflict, match=r"import \d+ of this file began while this command"):
        run(engine, path, again=True)
    inquiries, quarantined, _ = counts(engine)
    [(name, rows, taken, finished)] = imports(engine)  # the other command's, alone
    assert (name, taken, finished) == ("leads.csv", rows, True)
    assert inquiries + quarantined == rows  # each row once

    activities = tmp_path / "acts.csv"
    activities.write_text("type,at,email\n" + "page_view,2026-11-20T10:00:00Z,x@y.io\n")
    read_acts = activity_import.read_text_csv

    def load() -> activity_import.ActivityImport:
        return activity_import.import_activity_csv(
            lambda: UnitOfWork(engine), PB, activities, SETTINGS, "web", NOW
        )

    def another_load_first(*args: Any) -> Any:
        monkeypatch.setattr(activity_import, "read_text_csv", read_acts)
        load()
        return read_acts(*args)

    monkeypatch.setattr(activity_import, "read_text_csv", another_load_first)
    with pytest.raises(Conflict, match=r"began while this command started, and has finished"):
        load()
    assert [row[0] for row in imports(engine)] == ["leads.csv", "acts.csv"]


def test_activities_with_ids_that_are_no_ids_are_skipped_with_their_line(
    engine: Engine, tmp_path: Path
) -> None:
    """An id too large for the database, a superscript digit or a word is that row's own
    problem: the other rows are recorded and the import finishes."""
    run(engine, write_csv(tmp_path / "leads.csv", messy_rows(9, 10)))
    with engine.connect() as c:
        person = c.execute(
            select(func.min(t.people.c.id)).where(t.people.c.email.is_not(None))
        ).scalar_one()
        email = c.execute(select(t.people.c.email).where(t.people.c.id == person)).scalar_one()
    path = tmp_path / "acts.csv"
    at = "page_view,2026-11-20T10:00:00Z"
    lines = [f"{at},{p}," for p in ("99999999999999999999", "²", "abc", "1" * 5000)]
    lines += [",,,", f"{at},{person},", f"{at},17.0,{email}"]  # a blank line; found by email
    path.write_text("type,at,person_id,email\n" + "\n".join(lines) + "\n", encoding="utf-8")
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "web", NOW
    )
    assert done.done == 2
    assert [s.split(":")[0] for s in done.skipped] == ["line 2", "line 3", "line 4", "line 5"]
    assert all("is not a leadflow id" in s for s in done.skipped)
    assert imports(engine)[-1] == ("acts.csv", 6, 6, True)  # the blank line is no row


def test_a_skipped_activity_is_named_by_the_line_of_the_file_it_starts_on(
    engine: Engine, tmp_path: Path
) -> None:
    """As ``import`` names a line: an empty line before the header, and a value quoted
    over lines, made every later row's line too small (it was the row's index)."""
    act = "page_view,2026-11-20T10:00:00Z"
    path = tmp_path / "acts.csv"
    path.write_text(
        "\ntype,at,email,note\n"  # the header is line 2
        f'{act},ghost1@x.io,"called;\nno answer"\n'  # lines 3 and 4
        "page_view,yesterday,ghost2@x.io,\n"  # line 5
        "\n"  # line 6, no row
        f'{act},ghost3@x.io,"a\r\nb\r\nc"\n'  # lines 7 to 9
        f"{act},ghost4@x.io,\n",  # line 10
        encoding="utf-8",
    )
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "web", NOW
    )
    assert [s.split(":")[0] for s in done.skipped] == ["line 3", "line 5", "line 7", "line 10"]
    assert "'at' is not an ISO 8601 time: 'yesterday'" in done.skipped[1]


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_source_is_refused_before_anything_is_read(
    engine: Engine, tmp_path: Path, blank: str
) -> None:
    """A source names where the rows came from: one of spaces alone names nothing (it was
    stored as given). Nothing is imported, nor recorded as imported."""
    path = write_csv(tmp_path / "leads.csv", messy_rows(3, 5))
    with pytest.raises(InvalidInput, match="is blank: name where these came from") as caught:
        run(engine, path, source=blank)
    assert caught.value.where == "--source"
    acts = tmp_path / "acts.csv"
    acts.write_text("type,at,email\npage_view,2026-11-20T10:00:00Z,a@x.io\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="is blank") as caught:
        activity_import.import_activity_csv(
            lambda: UnitOfWork(engine), PB, acts, SETTINGS, blank, NOW
        )
    assert caught.value.where == "--source"
    assert counts(engine) == (0, 0, 0) and imports(engine) == []


def test_a_source_is_stored_without_the_spaces_around_it(engine: Engine, tmp_path: Path) -> None:
    """The option's and an activity row's own; a blank cell of a source column is none."""
    run(engine, write_csv(tmp_path / "leads.csv", messy_rows(3, 5)), source="  expo 2026 ")
    with engine.connect() as c:
        emails = c.execute(select(t.people.c.email).where(t.people.c.email.is_not(None)))
        email = next(e for e in emails.scalars() if "@" in e and not e.startswith("info@"))
    acts = tmp_path / "acts.csv"
    at = "page_view,2026-11-20T10:00:00Z"
    acts.write_text(f"type,at,email,source\n{at},{email}, ads \n{at},{email},  \n", "utf-8")
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, acts, SETTINGS, None, NOW
    )
    assert done.done == 2
    again = tmp_path / "more.csv"
    again.write_text(f"type,at,email\n{at},{email}\n", "utf-8")
    activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, again, SETTINGS, " web ", NOW
    )
    with engine.connect() as c:
        inquiries = set(c.execute(select(t.inquiries.c.source)).scalars())
        files = list(c.execute(select(t.imports.c.source).order_by(t.imports.c.id)).scalars())
        acts_by = list(c.execute(select(t.activities.c.source).order_by(t.activities.c.id)))
    assert inquiries == {"expo 2026"} and files == ["expo 2026", "", "web"]
    assert [source for (source,) in acts_by][-3:] == ["ads", None, "web"]


def test_an_activity_with_no_time_is_skipped_saying_so(engine: Engine, tmp_path: Path) -> None:
    """A file is history: a row with an empty (or blank) ``at`` is not taken as now, as
    the API takes an activity without one, but skipped with what to give."""
    path = tmp_path / "acts.csv"
    path.write_text(
        'type,at,email\npage_view,,a@x.io\npage_view,"  ",b@x.io\npage_view,soon,c@x.io\n',
        encoding="utf-8",
    )
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "web", NOW
    )
    assert done.skipped == [
        "line 2: at is empty: give the time of the activity (ISO 8601, UTC when no zone)",
        "line 3: at is empty: give the time of the activity (ISO 8601, UTC when no zone)",
        "line 4: 'at' is not an ISO 8601 time: 'soon'",
    ]


def test_an_activity_is_found_by_the_first_column_of_a_repeated_name(
    engine: Engine, tmp_path: Path
) -> None:
    """As ``import`` reads a repeated name: the first column of it is the one read."""
    path = tmp_path / "acts.csv"
    path.write_text(
        "type,at,email,email\npage_view,2026-11-20T10:00:00Z,first@dup.io,second@dup.io\n",
        encoding="utf-8",
    )
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "web", NOW
    )
    assert done.skipped == ["line 2: no person with email first@dup.io"]


def test_a_stopped_import_resumed_by_two_commands_at_once_is_taken_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both commands find the import stopped at the same row; the one that records itself
    second finds it moved on (or finished) and is refused, instead of taking its rows
    again."""
    from leadflow.services import imports as import_service

    path = write_csv(tmp_path / "leads.csv", messy_rows(10, 60))
    stop_in_transaction(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run(engine, path)
    monkeypatch.undo()
    read = import_service.read_text_csv

    def another_resume_first(*args: Any) -> Any:
        monkeypatch.setattr(import_service, "read_text_csv", read)
        run(engine, path, resume=True)
        return read(*args)

    monkeypatch.setattr(import_service, "read_text_csv", another_resume_first)
    with pytest.raises(Conflict, match=r"was resumed by another command while this one"):
        run(engine, path, resume=True)
    inquiries, quarantined, _ = counts(engine)
    [(_, rows, taken, finished)] = imports(engine)
    assert (taken, finished) == (rows, True) and inquiries + quarantined == rows


def test_an_activity_the_database_refuses_is_skipped_with_its_line_and_loses_no_other(
    engine: Engine, tmp_path: Path
) -> None:
    """A value the database refuses (here a trigger's, as a constraint of its own would)
    skips its row, named by its line; the rows before and after it in the same
    transaction are recorded, and their people rated. SQLite undoes the one statement,
    PostgreSQL the row's savepoint."""
    run(engine, write_csv(tmp_path / "leads.csv", messy_rows(9, 10)))
    with engine.begin() as c:
        if c.dialect.name == "sqlite":
            c.exec_driver_sql(
                "CREATE TRIGGER no_meetings BEFORE INSERT ON activities"
                " WHEN NEW.type = 'meeting' BEGIN SELECT RAISE(ABORT, 'no meetings'); END"
            )
        else:
            c.exec_driver_sql(
                "CREATE FUNCTION no_meetings() RETURNS trigger AS $$ BEGIN"
                " IF NEW.type = 'meeting' THEN RAISE check_violation USING MESSAGE ="
                " 'no meetings'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            c.exec_driver_sql(
                "CREATE TRIGGER no_meetings BEFORE INSERT ON activities"
                " FOR EACH ROW EXECUTE FUNCTION no_meetings()"
            )
        emails = c.execute(
            select(t.people.c.email).where(t.people.c.email.is_not(None)).order_by(t.people.c.id)
        ).scalars()
        first, second = list(emails)[:2]
        before = c.execute(select(func.max(t.events.c.id))).scalar_one()
    path = tmp_path / "acts.csv"
    path.write_text(
        "type,at,email\n"
        f"page_view,2026-11-20T10:00:00Z,{first}\n"
        f"meeting,2026-11-20T11:00:00Z,{first}\n"
        f"email_click,2026-11-20T12:00:00Z,{second}\n",
        encoding="utf-8",
    )
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "web", NOW
    )
    assert done.done == 2
    assert len(done.skipped) == 1
    assert done.skipped[0].startswith("line 3: the database refused it")
    assert "no meetings" in done.skipped[0]
    with engine.connect() as c:
        kept = c.execute(select(t.activities.c.type).order_by(t.activities.c.id)).scalars()
        assert list(kept) == ["page_view", "email_click"]
        logged = c.execute(
            select(t.events.c.type).where(t.events.c.id > before).order_by(t.events.c.id)
        ).scalars()
        kinds = [kind for kind in logged if kind in ("activity.recorded", "lead.rated")]
        assert kinds == ["activity.recorded", "activity.recorded", "lead.rated", "lead.rated"]


def test_an_activities_import_tells_its_progress_after_each_transaction(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows done and rows, after each commit; a resumed import counts the rows the stopped
    one did as done."""
    run(engine, write_csv(tmp_path / "leads.csv", messy_rows(9, 10)))
    with engine.connect() as c:
        email = c.execute(
            select(t.people.c.email).where(t.people.c.email.is_not(None)).limit(1)
        ).scalar_one()
    path = tmp_path / "acts.csv"
    rows = [f"page_view,2026-11-20T1{n}:00:00Z,{email}" for n in range(5)]
    path.write_text("type,at,email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(activity_import, "BATCH", 2)
    told: list[tuple[int, int]] = []

    def load(**options: Any) -> activity_import.ActivityImport:
        return activity_import.import_activity_csv(
            lambda: UnitOfWork(engine),
            PB,
            path,
            SETTINGS,
            "web",
            NOW,
            progress=lambda done, total: told.append((done, total)),
            **options,
        )

    assert load().done == 5
    assert told == [(2, 5), (4, 5), (5, 5)]
    told.clear()
    assert load(again=True).done == 5
    assert told == [(2, 5), (4, 5), (5, 5)]


def test_an_activities_import_looks_up_a_transactions_people_together(
    engine: Engine, tmp_path: Path
) -> None:
    """On PostgreSQL one query finds the people of a transaction's rows by email and CRM
    id, not one a row (a round trip each; SQLite looks them up one by one, as quick); a
    row naming nobody is still skipped with its line, in the file's order."""
    run(engine, write_csv(tmp_path / "leads.csv", messy_rows(9, 10)))
    with engine.connect() as c:
        emails = list(
            c.execute(
                select(t.people.c.email).where(t.people.c.email.is_not(None)).limit(4)
            ).scalars()
        )
    path = tmp_path / "acts.csv"
    lines = [f"page_view,2026-11-20T10:00:00Z,{email}" for email in emails]
    lines.insert(1, "page_view,2026-11-20T10:00:00Z,nobody@example.com")
    lines.insert(3, "page_view,yesterday,nobody@example.com")
    path.write_text("type,at,email\n" + "\n".join(lines) + "\n", encoding="utf-8")
    seen: list[str] = []

    def watch(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "person_keys" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        done = activity_import.import_activity_csv(
            lambda: UnitOfWork(engine), PB, path, SETTINGS, "web", NOW
        )
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert done.done == 4
    assert [s.split(":")[0] for s in done.skipped] == ["line 3", "line 5"]
    assert "no person with email nobody@example.com" in done.skipped[0]
    assert len(seen) == (5 if engine.dialect.name == "sqlite" else 1), seen
