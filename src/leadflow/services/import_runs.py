"""Whether an import that has not finished is still running, or stopped.

An ``imports`` row names the process that imports its file (``host:pid``) and when that
process last committed rows of it (``seen_at``, with every transaction that takes rows).
An import still running must not be resumed or repeated by a second command: both
would take the same rows, and every one of them would become two inquiries.

- On this machine a process is asked directly: it runs if its pid is alive and is a
  leadflow command (a pid reused by another program does not count; nor does this
  process, which is the one asking).
- Another machine (a shared PostgreSQL) cannot be asked: its import counts as running
  while it committed rows in the last :data:`HEARD_WITHIN`. An import commits every few
  seconds, so one not heard of for that long has stopped.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadflow.adapters.store.bulk import BulkStore
from leadflow.errors import Conflict

HEARD_WITHIN = timedelta(minutes=10)
"""How recently an import on another machine must have committed rows to count as running."""


def running(row: Any) -> str | None:
    """Who still imports the ``imports`` row ``row``, in words; None when it finished or
    stopped (or was recorded before imports named their process)."""
    if row.finished_at is not None or not row.runner:
        return None
    host, _, pid_text = str(row.runner).rpartition(":")
    if not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if host == socket.gethostname():
        return f"process {pid} on this machine" if _alive(pid) else None
    if row.seen_at is None:
        return None
    seen = row.seen_at if row.seen_at.tzinfo else row.seen_at.replace(tzinfo=UTC)
    quiet = datetime.now(UTC) - seen
    if quiet >= HEARD_WITHIN:
        return None
    return f"process {pid} on {host}, which committed rows {int(quiet.total_seconds())} s ago"


def refuse_running(bulk: BulkStore, checksum: str, kind: str, seen: int) -> None:
    """Inside the transaction that records or resumes an import: refuse when another
    import of the same file is running, or began after this command looked at the file's
    imports (``seen``: the latest then, 0 for none), finished or not: two commands
    started together both found nothing, and a small file's import may have finished
    before the other records itself. A lock (SQLite's write lock; on PostgreSQL one on the
    file, see ``BulkStore.unfinished_imports``) makes this check and the record one step,
    so two commands started together cannot both go on."""
    for row in bulk.unfinished_imports(checksum, kind, since=seen):
        who = running(row)
        if who is not None:
            raise Conflict(still_running(row, who))
        if row.id > seen:
            raise Conflict(began_meanwhile(row))


def began_meanwhile(row: Any) -> str:
    """Why an import is refused when another import of its file began as it started."""
    name = f"{row.file}: " if row.file else ""
    state = "has finished" if row.finished_at is not None else "has stopped"
    return (
        f"{name}import {row.id} of this file began while this command started, and"
        f" {state} ({row.taken:,} of its {row.rows or 0:,} rows taken); this command"
        " imported nothing. See leadflow imports."
    )


def still_running(row: Any, who: str) -> str:
    """Why an import of a file that another import is taking now is refused."""
    name = f"{row.file}: " if row.file else ""
    return (
        f"{name}import {row.id} of this file is running now ({who}) and has taken"
        f" {row.taken:,} of its {row.rows or 0:,} rows. Wait for it to finish, or stop it"
        " and go on with --resume."
    )


def _alive(pid: int) -> bool:
    """Whether ``pid`` is another living leadflow process on this machine."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    command = Path(f"/proc/{pid}/cmdline")
    try:
        return b"leadflow" in command.read_bytes()
    except FileNotFoundError:  # no /proc here (macOS): the pid alone
        return not Path("/proc/self").exists()
    except PermissionError:
        return True


def claim(bulk: BulkStore, import_id: int, taken: int, file: str) -> None:
    """Go on with the stopped import ``import_id`` from its ``taken`` rows, in the
    transaction that checked no other import runs; refused when another command resumed it
    while this one started (it stands elsewhere now: its rows would be taken twice)."""
    if not bulk.claim_import(import_id, taken):
        raise Conflict(
            f"{file}: import {import_id} of this file was resumed by another command while"
            " this one started; this command imported nothing. See leadflow imports."
        )
