"""What :func:`replacing` writes for each kind of path: a regular file replaced whole, a
link's file (the link kept), a FIFO or device written straight into; a folder, a socket
and leadflow's own database refused."""

from __future__ import annotations

import os
import re
import socket
import stat
from pathlib import Path

import pytest

from fifos import reading  # tests/ is on sys.path
from leadflow.adapters.files import check_writable, replacing
from leadflow.adapters.store.engine import sqlite_files
from leadflow.errors import InvalidInput


def test_a_regular_file_is_replaced_whole_or_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(b"before\n")
    with pytest.raises(RuntimeError), replacing(out) as handle:
        handle.write(b"half")
        raise RuntimeError("the export failed")
    assert out.read_bytes() == b"before\n"
    with replacing(out) as handle:
        handle.write(b"after\n")
    assert out.read_bytes() == b"after\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no .part left


def test_a_link_stays_a_link_and_its_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "people.csv"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with replacing(link) as handle:
        handle.write(b"new\n")
    assert link.is_symlink() and link.readlink() == real
    assert real.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real"]


def test_a_link_to_a_file_not_made_yet_makes_it(tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to("made.csv")
    with replacing(link) as handle:
        handle.write(b"rows\n")
    assert link.is_symlink() and (tmp_path / "made.csv").read_bytes() == b"rows\n"


def test_a_fifo_is_written_straight_into(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    read = reading(fifo)
    with replacing(fifo) as handle:
        handle.write(b"a,b\n1,2\n")
    assert read() == b"a,b\n1,2\n"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("name", ["lf.db", "lf.db-wal", "lf.db-shm", "lf.db-journal"])
def test_the_database_is_refused_by_any_name(tmp_path: Path, name: str) -> None:
    database = tmp_path / "lf.db"
    for suffix in ("", "-wal"):
        Path(f"{database}{suffix}").write_bytes(b"data")
    files = sqlite_files(f"sqlite:///{database}")
    link, hard = tmp_path / "link", tmp_path / "hard"
    link.symlink_to(name)
    os.link(database, hard)
    (tmp_path / "sub").mkdir()
    for path in (tmp_path / name, link, hard, tmp_path / "sub" / ".." / name):
        with pytest.raises(InvalidInput, match="leadflow's own database"):
            check_writable(path, files)
        with pytest.raises(InvalidInput, match="nothing was written"), replacing(path, files):
            pytest.fail("replacing opened the database to write")
    assert database.read_bytes() == b"data" and Path(f"{database}-wal").read_bytes() == b"data"


def test_what_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "to-folder").symlink_to("folder")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to("nowhere/out.csv")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        for name, says in [
            ("folder", "is a folder"),
            ("to-folder", "is a folder"),
            ("loop", "cannot write here"),
            ("dangling", f"there is no folder {tmp_path / 'nowhere'}"),
            ("missing/out.csv", "there is no folder"),
            ("sock", "is a socket"),
        ]:
            with pytest.raises(InvalidInput, match=re.escape(says)):
                check_writable(tmp_path / name)


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("sqlite:////srv/lf.db", "/srv/lf.db"),
        ("sqlite:///lf.db", "lf.db"),
        ("sqlite:///file:lf.db?mode=ro&uri=true", "lf.db"),
        ("sqlite:///file:///srv/lf.db?uri=true", "/srv/lf.db"),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("postgresql+psycopg://u:p@host/lf", None),
        ("not a url", None),
    ],
)
def test_the_files_a_database_url_keeps_its_data_in(url: str, database: str | None) -> None:
    expected = [] if database is None else [Path(database + s) for s in SUFFIXES]
    assert sqlite_files(url) == expected


SUFFIXES = ("", "-wal", "-shm", "-journal")
