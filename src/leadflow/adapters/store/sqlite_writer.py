"""SQLite writers queue on a file lock, so the database passes to the next one at once.

SQLite lets one connection write at a time. The others wait in its busy handler, which
sleeps 1, 2, 5, 10, 15, 20, 25... up to 100 ms between tries: with two server processes
(``leadflow serve --workers 2``) each capture holding the lock for about a millisecond,
the waiting process slept while the database stood free, and two processes captured
fewer inquiries per second than one.

A :class:`WriterConnection` takes an advisory lock (``flock``) on ``<database>-writer``
before a transaction's first write and gives it back after the commit or rollback. The
threads of one process first queue on a ``threading.Lock`` per database, sleeping until
it is let go (polling took the interpreter from the thread that writes); only its holder
takes the file lock, and while another process holds that, tries again after 50 us,
doubling up to 1 ms, so it gets the lock within a millisecond of its release; after 30 s
(SQLite's busy timeout here) it gives up with SQLite's own error, ``database is locked``.
Reads do not take the lock (WAL: they never wait for a writer).

A writer that has to wait says so: while it waits it holds a shared lock on
``<database>-waiting``. A long writer (an import) asks :meth:`WriterConnection.others_waiting`
between its steps, and commits and lets go as soon as someone waits, instead of
after a fixed amount of work. SQLite's own locking is unchanged and still decides; this only
queues leadflow's connections, in any process. A writer that is not leadflow (the
sqlite3 shell) still meets the busy handler.

Where ``fcntl`` does not exist (Windows) the connection is plain sqlite3.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

TIMEOUT = 30.0  # seconds, as the busy timeout of leadflow's SQLite connections
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER")


_GATES: dict[str, threading.Lock] = {}
_GATES_LOCK = threading.Lock()


def _gate(lock_path: str) -> threading.Lock:
    """The process's lock in front of ``lock_path``: the threads of one process queue on
    it (sleeping, woken when it is let go) and only its holder takes the file lock."""
    with _GATES_LOCK:
        return _GATES.setdefault(lock_path, threading.Lock())


def can_queue_writers() -> bool:
    return fcntl is not None


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:16].upper()
    return head.startswith(_WRITES) or head.startswith(("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"))


class WriterCursor(sqlite3.Cursor):
    connection: WriterConnection

    def execute(self, sql: str, parameters: Any = (), /) -> WriterCursor:
        self.connection.before(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> WriterCursor:
        self.connection.before(sql)
        return super().executemany(sql, seq_of_parameters)


class WriterConnection(sqlite3.Connection):
    """A sqlite3 connection that holds ``<database>-writer`` while it writes."""

    # Set before the database is opened: a file that cannot be opened must not make
    # ``__del__`` fail after the real error.
    _lock_fd: int | None = None
    _waiting_fd: int | None = None
    _holding = False

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._lock_path = f"{os.fspath(database)}-writer"
        self._lock_fd: int | None = None
        self._waiting_fd: int | None = None
        self._holding = False

    def cursor(self, factory: Any = WriterCursor) -> Any:
        return super().cursor(factory)

    # sqlite3's shortcuts make their cursor in C, past cursor() above.
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.cursor().execute(sql, parameters)  # type: ignore[no-any-return]

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, seq_of_parameters)  # type: ignore[no-any-return]

    def before(self, sql: str) -> None:
        """Wait for the writer lock before this connection's first write."""
        if self._holding or not _is_write(sql):
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        fd, gate = self._lock_fd, _gate(self._lock_path)
        if gate.acquire(blocking=False):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    self._wait_signalled(lambda: self._wait_for(fd))
                except BaseException:
                    gate.release()
                    raise
        else:
            self._wait_signalled(lambda: self._wait_in_process(gate, fd))
        self._holding = True

    def _wait_signalled(self, wait: Callable[[], None]) -> None:
        """``wait``, holding a shared lock on ``<database>-waiting`` meanwhile: "someone
        waits" (:meth:`others_waiting`)."""
        waiting = self._waiting()
        fcntl.flock(waiting, fcntl.LOCK_SH)
        try:
            wait()
        finally:
            fcntl.flock(waiting, fcntl.LOCK_UN)

    def _wait_in_process(self, gate: threading.Lock, fd: int) -> None:
        """Another thread of this process writes: sleep on the process's gate until it
        lets go (no polling: each poll took the interpreter from the thread that writes),
        then take the file lock, which another process may hold."""
        started = time.monotonic()
        if not gate.acquire(timeout=TIMEOUT):
            raise sqlite3.OperationalError("database is locked")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                self._wait_for(fd, TIMEOUT - (time.monotonic() - started))
            except BaseException:
                gate.release()
                raise

    @staticmethod
    def _wait_for(fd: int, timeout: float = TIMEOUT) -> None:
        deadline, pause = time.monotonic() + timeout, 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _waiting(self) -> int:
        if self._waiting_fd is None:
            path = f"{self._lock_path[: -len('-writer')]}-waiting"
            self._waiting_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._waiting_fd

    def others_waiting(self) -> bool:
        """Whether another leadflow writer is waiting for the writer lock now."""
        waiting = self._waiting()
        try:
            fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(waiting, fcntl.LOCK_UN)
        return False

    def _release(self) -> None:
        if self._holding and self._lock_fd is not None:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            _gate(self._lock_path).release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self._release()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
        /,
    ) -> Literal[False]:  # ``with connection:`` commits or rolls back in C
        try:
            return super().__exit__(kind, error, trace)
        finally:
            if not self.in_transaction:
                self._release()

    def _close_files(self) -> None:
        for fd in (self._lock_fd, self._waiting_fd):
            if fd is not None:
                os.close(fd)
        self._lock_fd = self._waiting_fd = None

    def __del__(self) -> None:  # a connection dropped unclosed must not keep the lock
        self._release()
        self._close_files()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
            self._close_files()
