"""One output path (``-o FILE``): what symbp does with what is already there.

==========================  ==================================================
what ``path`` is            what symbp does
==========================  ==================================================
nothing yet                 writes a temporary file beside it and renames it into
                            place (:func:`symbp.fileio.write_atomic`)
a regular file              the same: the file is replaced whole, atomically; a
                            symbolic link to one is followed (the link stays)
a FIFO (named pipe)         opens it and writes the bytes into it as a stream (it
                            waits for a reader, like ``cat > fifo``); the FIFO stays
a character device          the same (a terminal, ``/dev/null``): never renamed over
a folder, a socket, a       refused with one line (:class:`~symbp.errors.SymbpError`,
block device                exit 2) before anything is written
==========================  ==================================================
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import SymbpError
from ..fileio import kind_of


def _streamable(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def write_stream_target(path: Path, data: bytes) -> Path | None:
    """Write ``data`` into ``path`` if it is a pipe or a character device.

    Returns ``path`` when written, ``None`` when ``path`` does not exist or is a
    regular file (the caller replaces it atomically, following a symbolic link:
    see :func:`regular_target`). A folder, socket or block device raises a
    one-line :class:`SymbpError`.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISREG(mode):
        return None
    if not _streamable(mode):
        raise SymbpError(
            f"{path}: cannot write there: it is {kind_of(mode)}; expected a file name, "
            "a pipe (FIFO) or a character device"
        )
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)  # no O_CREAT, no O_TRUNC: the node itself is never replaced
    try:
        mode = os.fstat(fd).st_mode
        if not _streamable(mode):  # replaced between the two looks: refuse, write nothing
            raise SymbpError(f"{path}: changed while opened (now {kind_of(mode) or 'a file'})")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return path


def regular_target(path: Path) -> Path:
    """``path``, or where it links to when it is a symbolic link to a regular file (so an
    atomic replace keeps the user's link and replaces the file it names)."""
    if path.is_symlink() and path.is_file():
        return Path(os.path.realpath(path))
    return path
