"""Files the CLI writes: whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from leadflow.errors import InvalidInput


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file beside it, put in its place only when the
    writing ends well: a failed or refused export leaves an existing file as it was."""
    if path.is_dir():
        raise InvalidInput("is a folder; name a file to write", where=str(path))
    if not path.parent.is_dir():
        raise InvalidInput(f"there is no folder {path.parent}", where=str(path))
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    # Created as open() would create the file itself: the umask decides who may read it.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
