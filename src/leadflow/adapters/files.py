"""Files the CLI writes: whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from leadflow.errors import InvalidInput


def check_writable(path: Path) -> None:
    """Refuse, before any work, a file that :func:`replacing` could not write: a folder,
    a file in a folder that does not exist or that this user may not write in."""
    if path.is_dir():
        raise InvalidInput("is a folder; name a file to write", where=str(path))
    if not path.parent.is_dir():
        raise InvalidInput(f"there is no folder {path.parent}", where=str(path))
    if not os.access(path.parent, os.W_OK):
        raise InvalidInput(f"cannot write in the folder {path.parent}", where=str(path))


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file beside it, put in its place only when the
    writing ends well: a failed or refused export leaves an existing file as it was."""
    check_writable(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    # Created as open() would create the file itself: the umask decides who may read it.
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as error:  # named by the file asked for, not the temporary one
        raise InvalidInput(f"cannot write here: {error.strerror}", where=str(path)) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
