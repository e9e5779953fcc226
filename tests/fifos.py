"""A reader for a FIFO in a test, that can neither miss what is written nor hang."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def reading(fifo: Path) -> Callable[[], bytes]:
    """Open ``fifo`` and read it to its end in a thread; the function returned waits for
    the end and gives what was read. The test holds the FIFO open for writing meanwhile,
    so the reader neither sees an end before the code under test opens it nor waits for
    ever when that code never does (a FIFO replaced by a file): the end comes once both
    have closed it."""
    held = os.open(fifo, os.O_RDWR)  # Linux opens a FIFO so without waiting for a reader
    end = os.open(fifo, os.O_RDONLY)  # a writer is there (held): no wait either
    read: list[bytes] = []

    def read_all() -> None:
        with open(end, "rb") as handle:
            read.append(handle.read())

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()

    def result() -> bytes:
        os.close(held)
        reader.join(timeout=30)
        return b"".join(read)

    return result
