"""Writers on one SQLite file queue on the writer lock; readers do not wait."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from leadflow.adapters.store import sqlite_writer
from leadflow.adapters.store.sqlite_writer import WriterConnection

pytestmark = pytest.mark.skipif(
    not sqlite_writer.can_queue_writers(), reason="no fcntl (Windows): plain sqlite3"
)


def connect(path: Path) -> WriterConnection:
    db = sqlite3.connect(path, timeout=30, factory=WriterConnection, check_same_thread=False)
    assert isinstance(db, WriterConnection)
    return db


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "leadflow.db"
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x INTEGER)")
    return path


def test_a_second_writer_waits_for_the_first_to_commit(path: Path) -> None:
    first, second = connect(path), connect(path)
    first.execute("INSERT INTO t VALUES (1)")
    done: list[float] = []

    def write() -> None:
        second.execute("INSERT INTO t VALUES (2)")
        done.append(time.monotonic())
        second.commit()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.2)
    assert not done, "the second writer did not wait"
    with connect(path) as reader:  # reads do not wait
        assert reader.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    committed = time.monotonic()
    first.commit()
    thread.join(timeout=10)
    assert done and done[0] >= committed
    assert done[0] - committed < 0.1  # handed over at once, not after SQLite's sleeps
    assert first.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]
    first.close()
    second.close()


def test_a_rollback_gives_the_lock_back(path: Path) -> None:
    first, second = connect(path), connect(path)
    first.execute("INSERT INTO t VALUES (1)")
    first.rollback()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()
    assert first.execute("SELECT x FROM t").fetchall() == [(2,)]
    first.close()
    second.close()


def test_a_writer_gives_up_after_the_timeout(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_writer, "TIMEOUT", 0.2)
    first, second = connect(path), connect(path)
    first.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.commit()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()
    first.close()
    second.close()


def test_begin_immediate_takes_the_writer_lock_as_a_write_does(path: Path) -> None:
    """The import opens its transactions with BEGIN IMMEDIATE: others queue behind it."""
    first, second = connect(path), connect(path)
    first.execute("BEGIN IMMEDIATE")
    waited: list[bool] = []

    def write() -> None:
        started = time.monotonic()
        second.execute("INSERT INTO t VALUES (2)")
        waited.append(time.monotonic() - started > 0.15)
        second.commit()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.2)
    first.commit()
    thread.join(timeout=10)
    assert waited == [True]


def test_a_waiting_writer_says_so(path: Path) -> None:
    """A long writer (an import) asks between its steps, and lets go when someone waits."""
    first, second = connect(path), connect(path)
    first.execute("BEGIN IMMEDIATE")
    assert not first.others_waiting()

    def write() -> None:
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()

    thread = threading.Thread(target=write)
    thread.start()
    deadline = time.monotonic() + 10
    while not first.others_waiting() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.others_waiting()
    first.commit()
    thread.join(timeout=10)
    assert not first.others_waiting()
    assert first.execute("SELECT x FROM t").fetchall() == [(2,)]
    first.close()
    second.close()
