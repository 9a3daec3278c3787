"""File access: atomic writes (a crash never leaves a half-written output) and bounded
reads (a spec path cannot block symbp or fill the memory)."""

from __future__ import annotations

import math
import os
import stat
import tempfile
from pathlib import Path

import numpy as np

from .errors import SymbpError
from .limits import MAX_DATA_BYTES, MAX_DATA_VALUES


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and rename.

    What is at ``path`` decides (:mod:`symbp.outputs.target`): a pipe or a character
    device is written into as a stream, never renamed over; a folder, socket or block
    device is refused with one line; a link to a regular file is followed.
    """
    from .outputs.target import regular_target, write_stream_target

    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if write_stream_target(path, raw) is not None:
        return path
    path = regular_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as fb:
                fb.write(data)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as ft:
                ft.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def kind_of(mode: int) -> str | None:
    """What a file of ``st_mode`` ``mode`` is, in words (``None`` for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_limited(
    path: str | Path, max_bytes: int, *, error: type[SymbpError] = SymbpError
) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else at once.

    A folder, a FIFO, a device or a socket is refused by ``os.stat`` before it is
    opened (so a FIFO cannot block and ``/dev/zero`` cannot fill the memory); the
    file is opened non-blocking and checked again through its descriptor, and at
    most ``max_bytes`` are read. Problems raise ``error`` (a :class:`SymbpError`)
    naming the file.
    """
    name = str(path)
    try:
        kind = kind_of(os.stat(path).st_mode)
        if kind is None:
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
            fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
            try:
                info = os.fstat(fd)
                kind = kind_of(info.st_mode)
                if kind is None and info.st_size <= max_bytes:
                    chunks, size = [], 0
                    while size <= max_bytes:
                        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
                        if not chunk:
                            break
                        chunks.append(chunk)
                        size += len(chunk)
                    data = b"".join(chunks)
                else:
                    data = b""
                    size = info.st_size
            finally:
                os.close(fd)
    except FileNotFoundError:
        raise error("file not found", file=name) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=name) from None
    if kind is not None:
        raise error(f"cannot read file: it is {kind}, not a regular file", file=name)
    if size > max_bytes:
        raise error(
            f"the file is larger than {max_bytes} bytes ({max_bytes / 2**20:g} MiB), "
            "the most symbp reads",
            file=name,
        )
    return data


def os_error_text(err: OSError) -> str:
    """An ``OSError`` as one line: the path and what failed (``disk full`` …)."""
    reason = err.strerror or type(err).__name__
    if err.errno is not None:
        import errno

        reason = {
            errno.ENOSPC: "no space left on the device (disk full)",
            errno.EACCES: "permission denied",
            errno.EROFS: "the file system is read-only",
            errno.ENOTDIR: "a file stands where a folder is expected",
            errno.EISDIR: "a folder stands where a file is expected",
            errno.ENOENT: "no such file or folder",
            errno.EEXIST: "a file stands where a folder is expected",
        }.get(err.errno, reason)
    where = err.filename if err.filename is not None else "(unknown path)"
    return f"{where}: {reason}"


def check_writable_dir(path: str | Path, *, field: str = "--out") -> Path:
    """Create the folder ``path`` (and its parents) and prove it writable, before any
    long work that would write there; a one-line :class:`SymbpError` otherwise."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise SymbpError(f"{path}: expected a folder, found a file", field=field)
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".symbp-probe.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise SymbpError(f"cannot write there: {os_error_text(err)}", field=field) from None
    return path


def open_npz(
    path: str | Path,
    *,
    error: type[SymbpError] = SymbpError,
    max_bytes: int | None = None,
    max_values: int | None = None,
) -> np.lib.npyio.NpzFile:
    """``np.load(path, allow_pickle=False)`` of an ``.npz`` of at most ``max_bytes``
    (default :data:`~symbp.limits.MAX_DATA_BYTES`) whose every member's header promises
    at most ``max_values`` values (default :data:`~symbp.limits.MAX_DATA_VALUES`) and
    8 bytes a value on average: checked before anything is decompressed, as a few
    compressed bytes can stand for gigabytes. Problems raise ``error`` naming the file;
    a file NumPy cannot read raises ``OSError``, ``ValueError`` or ``BadZipFile``.
    """
    max_bytes = MAX_DATA_BYTES if max_bytes is None else max_bytes
    max_values = MAX_DATA_VALUES if max_values is None else max_values
    size = os.stat(path).st_size
    if size > max_bytes:
        raise error(
            f"the file has {size} bytes; expected at most {max_bytes} ({max_bytes / 2**20:g} MiB)",
            file=str(path),
        )
    archive = np.load(path, allow_pickle=False)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError("not an .npz archive")
    members = archive.zip
    try:
        if members is None:  # pragma: no cover - np.load of a file sets it
            raise ValueError("not an .npz archive")
        for member in members.namelist():
            with members.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(stream)
            count = math.prod(shape)
            if count > max_values or count * dtype.itemsize > 8 * max_values:
                name = member.removesuffix(".npy")
                raise error(
                    f"array {name} has shape {shape} of {dtype}; expected at most "
                    f"{max_values} values, {8 * max_values} bytes",
                    file=str(path),
                )
    except BaseException:
        archive.close()
        raise
    return archive
