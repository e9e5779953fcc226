"""A process of its own that folds a server's captures' events into the reports' rows.

``leadflow serve`` on SQLite captures with its events left unfolded (``funnel_store``:
folded behind). Folding them costs about a seventh of a capture's CPU, and the server's
event loop runs on one core: a :class:`Folder`, started once the server has captured a
thousand inquiries (``routes_inquiries.Together``), runs the fold in another process, on
the other core, every :data:`EVERY` seconds (one read when nothing waits). It reads and
folds without SQLite's write lock and takes the lock only to write the rows
(``FunnelStore.catch_up_aside``), so a capture waits for it a few milliseconds at most,
and the server's core is free for the requests. The fold is correct whoever runs it: if
this process dies the server folds in its own loop again (``routes_inquiries.Together``),
and readers and other writers fold what waits before they read or write.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from multiprocessing.synchronize import Event
from typing import Any

from sqlalchemy import Engine

from leadflow.adapters.store.funnel_store import FunnelStore

EVERY = 0.1
"""Seconds between two folds (a tenth of a second of captures: about 50 at 500/s)."""

_log = logging.getLogger(__name__)


class Folder:
    def __init__(self, database_url: str, every: float = EVERY) -> None:
        self.database_url, self.every = database_url, every
        self._context = multiprocessing.get_context("spawn")  # no copy of the server's state
        self._stop: Event | None = None  # made at the start: it starts a helper process
        self._process: Any = None

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called (it is never started twice)."""
        return self._stop is not None

    def start(self) -> None:
        self._stop = self._context.Event()
        self._process = self._context.Process(
            target=fold_forever,
            args=(self.database_url, self.every, self._stop),
            name="leadflow-fold",
            daemon=True,
        )
        self._process.start()

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the process to finish its fold and stop; end it if it does not in time."""
        if self._process is None or self._stop is None:
            return
        self._stop.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        self._process = None


def fold_forever(database_url: str, every: float, stop: Event) -> None:
    """The process's work: fold the backlog every ``every`` seconds until ``stop``."""
    from sqlalchemy import event

    from leadflow.adapters.store.engine import make_engine
    from leadflow.services.reports import fold_backlog

    engine = make_engine(database_url)

    def leave_checkpoints_to_the_server(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA wal_autocheckpoint = 0")  # the server's Checkpointer

    event.listen(engine, "connect", leave_checkpoints_to_the_server)
    parent = os.getppid()
    try:
        while not stop.wait(every):
            if os.getppid() != parent:  # the server is gone (killed): so is its backlog's folder
                return
            try:
                fold_aside(engine)
            except Exception:  # the backlog stays marked: the next fold takes it
                _log.exception("folding the captures' events into the reports' rows failed")
        fold_backlog(engine)
    finally:
        engine.dispose()


def fold_aside(engine: Engine) -> int | None:
    """Fold the backlog, holding the write lock only to write (``FunnelStore.catch_up_aside``);
    the number of events, or None when someone else folded meanwhile."""
    with engine.connect() as connection:
        folded = FunnelStore(connection).catch_up_aside()
        if folded is None:
            connection.rollback()
        else:
            connection.commit()
        return folded
