"""A serving process folds SQLite's write-ahead log in the background, not in a request."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from leadflow.adapters.store.engine import Checkpointer, make_engine


def test_the_log_is_folded_in_by_the_checkpointer_not_by_commits(tmp_path: Path) -> None:
    path = tmp_path / "leadflow.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x TEXT)"))
    checkpointer = Checkpointer(engine, interval=0.1)
    checkpointer.start()
    try:
        with engine.connect() as c:
            assert c.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
            for _ in range(20):  # about 4 MB: well past the 1,000 pages of an autocheckpoint
                c.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "x" * 2000}] * 100)
                c.commit()
            before = path.stat().st_size
        deadline = time.monotonic() + 10
        # A checkpoint may copy the log in more than one pass: wait for all of it.
        while path.stat().st_size <= before + 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > before + 2_000_000, "the log was not folded in"
    finally:
        checkpointer.stop()
        engine.dispose()


def test_an_in_memory_database_is_left_alone() -> None:
    engine = make_engine("sqlite://")
    checkpointer = Checkpointer(engine)
    checkpointer.start()
    checkpointer.stop()
    with engine.connect() as c:
        assert c.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
