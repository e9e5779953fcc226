"""Files the CLI writes: whole or not at all, and only what the user meant to write.

A regular file, or a name not taken yet, is written through a temporary file beside it
and renamed into place when the writing ends well: a crash or a refused export never
leaves half a file. A symbolic link is followed to the file it names, and that file is
replaced, so the link stays a link. What is no regular file (a FIFO, a terminal, a device,
``/dev/stdout``) has nothing to replace: it is written straight into, as a shell's ``>``
does. A folder is refused, and so are the files of leadflow's own database: an export
written over them would destroy what it exports."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from leadflow.errors import InvalidInput


def check_writable(path: Path, database: Collection[Path] = ()) -> None:
    """Refuse, before any work, a file that :func:`replacing` could not write (a folder, a
    file in a folder that does not exist or that this user may not write in) or must not
    (one of ``database``, the files leadflow keeps its data in)."""
    _replaced_file(path, database)


@contextmanager
def replacing(path: Path, database: Collection[Path] = ()) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file beside the file it names, put in its place
    only when the writing ends well: a failed or refused export leaves an existing file as
    it was. A FIFO or a device is written straight into (there is no file to replace)."""
    target = _replaced_file(path, database)
    if target is None:
        try:
            straight = path.open("wb")  # a FIFO's open waits for its reader, as a shell's
        except OSError as error:
            raise InvalidInput(f"cannot write here: {error.strerror}", where=str(path)) from None
        with straight:
            yield straight
        return
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    # Created as open() would create the file itself: the umask decides who may read it.
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as error:  # named by the file asked for, not the temporary one
        raise InvalidInput(f"cannot write here: {error.strerror}", where=str(path)) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def output_target(path: Path, database: Collection[Path] = ()) -> Path | None:
    """For a writer that needs a path of its own (Polars writes a path natively): the
    regular file to put in place of (a temporary file beside it, then ``os.replace``),
    or None for what must be written straight into (a FIFO, a device); refused as
    :func:`replacing` refuses."""
    return _replaced_file(path, database)


def _replaced_file(path: Path, database: Collection[Path]) -> Path | None:
    """The regular file that writing ``path`` replaces: ``path`` itself, or the file its
    symbolic links lead to; None for what is written straight into (a FIFO, a device).
    Raises :class:`InvalidInput` for what cannot or must not be written."""
    try:
        mode: int | None = path.stat().st_mode  # through any link
    except FileNotFoundError:
        mode = None  # a new file, or a link to a file not made yet
    except OSError as error:  # a loop of links, a folder this user may not look in
        raise InvalidInput(f"cannot write here: {error.strerror}", where=str(path)) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InvalidInput("is a folder; name a file to write", where=str(path))
    if mode is not None and stat.S_ISSOCK(mode):
        raise InvalidInput("is a socket, which cannot be written as a file", where=str(path))
    target = path.resolve() if path.is_symlink() else path  # a link's file, in its folder
    if mode is not None and not (stat.S_ISREG(mode) and _reaches(target, path)):
        # No regular file, or one reached through a link that names no path (/dev/stdout
        # is /proc/self/fd/1, a link to "pipe:[123]" or "out.csv (deleted)"): opened as named.
        if not os.access(path, os.W_OK):
            raise InvalidInput("cannot write here: permission denied", where=str(path))
        return None
    for kept in database:
        if _same_file(target, kept):
            raise InvalidInput(
                f"is leadflow's own database ({kept}); writing here would destroy it, so"
                " nothing was written: name another file",
                where=str(path),
            )
    if not target.parent.is_dir():
        raise InvalidInput(f"there is no folder {target.parent}", where=str(path))
    if not os.access(target.parent, os.W_OK):
        raise InvalidInput(f"cannot write in the folder {target.parent}", where=str(path))
    return target


def _reaches(target: Path, path: Path) -> bool:
    """Whether ``target``, the path that ``path``'s links resolve to, is the file they
    lead to; /proc's links to descriptors name things that are no path."""
    try:
        return os.path.samefile(target, path)
    except OSError:
        return False


def _same_file(one: Path, other: Path) -> bool:
    """Whether two names are one file: the same path once links are followed, or, when
    both exist, the same file on disk (a hard link, a folder mounted twice)."""
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet)
        return one.resolve() == other.resolve()
