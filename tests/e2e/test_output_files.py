"""Where ``-o`` writes, through the real CLI: a link's file (the link kept), a FIFO's
reader, never leadflow's own database; and a reader that stops reading ends it quietly."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from test_store_cli import (
    BTD,
    LEADS,
    environment,
    leadflow,
    ok,
)  # pytest puts this folder on sys.path

from fifos import reading  # tests/ is on sys.path

MANY = 3_000  # people: about 380 KB of export, more than a pipe and its reader hold


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose database (``lf.db``) holds :data:`MANY` people, one account each."""
    folder = tmp_path_factory.mktemp("many")
    rows = "".join(f"Ann{i},Lee,ann{i}@acme{i}.com,Acme {i}\n" for i in range(MANY))
    (folder / "leads.csv").write_text(f"First Name,Last Name,Email,Company\n{rows}")
    ok(leadflow(folder, "import", "leads.csv", "--source", "expo"))
    return folder


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def test_a_link_stays_a_link_and_the_file_it_names_gets_the_rows(
    many: Path, tmp_path: Path
) -> None:
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old\n")
    link.symlink_to(real)
    written = leadflow(many, "export", "accounts", "-o", str(link))
    assert f"Wrote {MANY:,} accounts" in ok(written) + written.stderr
    assert link.is_symlink() and link.readlink() == real
    assert lines(real) == MANY + 1  # the header and the accounts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def test_a_rating_written_through_a_link_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    real, link = tmp_path / "real.csv", tmp_path / "rated.csv"
    real.write_text("old\n")
    link.symlink_to(real)
    ok(leadflow(tmp_path, "rate", "leads.csv", "-o", "rated.csv", "--quiet"))
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text().startswith("First Name,") and lines(real) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv", "rated.csv", "real.csv"]


def test_a_fifo_reader_gets_the_rows_and_the_fifo_stays(many: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "people.csv"
    os.mkfifo(fifo)
    read = reading(fifo)
    ok(leadflow(many, "export", "people", "-o", str(fifo)))
    rows = read()
    assert rows.count(b"\n") == MANY + 1 and rows.startswith(b"person_id,email,")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_the_database_is_never_written_over(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))
    database = tmp_path / "lf.db"
    (tmp_path / "link.db").symlink_to(database)
    (tmp_path / "activities.csv").write_text("type,at,email\nvisit,2026-01-05,x@y.org\n")
    for args in [
        ("export", "people", "-o", str(database)),
        ("export", "inquiries", "-o", "lf.db"),
        ("export", "accounts", "-o", "link.db"),
        ("export", "people", "-o", "lf.db-wal"),
        ("import-activities", "activities.csv", "--skipped", "lf.db"),
        ("rate", "leads.csv", "-o", "lf.db"),
        ("rate", "leads.csv", "-o", "link.db"),
        ("docs", str(BTD), "-o", "lf.db"),
    ]:
        refused = leadflow(tmp_path, *args)
        assert refused.returncode == 2, refused.stderr
        assert "is leadflow's own database" in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "Wrote" not in refused.stderr and "Recorded" not in refused.stderr
        assert "Rated" not in refused.stderr
    assert (tmp_path / "link.db").is_symlink()
    with sqlite3.connect(database) as connection:
        (people,) = connection.execute("SELECT count(*) FROM people").fetchone()
    connection.close()
    assert people == 2


def test_a_reader_that_stops_reading_ends_the_export_quietly(many: Path) -> None:
    export = subprocess.Popen(
        [sys.executable, "-m", "leadflow", "export", "people", "-o", "-"],
        cwd=many,
        env=environment(many),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None and export.stderr is not None
    assert export.stdout.readline().startswith(b"person_id,")
    export.stdout.close()  # as `head -1` does: the rest is not wanted
    stderr = export.stderr.read()
    export.stderr.close()
    assert export.wait(timeout=120) == 0, stderr
    assert stderr == b""
