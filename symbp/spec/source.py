"""Where a spec's YAML comes from: a file, a shipped example's name, or standard input.

A spec argument (``symbp doc SPEC``, ``symbp.load(SPEC)``) is resolved in this order:

1. ``-``: the YAML is read from standard input, bounded like a file (at most
   :data:`~symbp.limits.MAX_SPEC_BYTES`). It is read once per process and kept, so a
   command that looks at its spec more than once (``train``) sees the same text. Errors
   name the file ``<stdin>``; a spec without ``name:`` is named ``stdin``.
2. An existing path: that file, whatever its name (a file always wins over an example).
3. The name of a shipped example (``koech_3_4_1`` or ``koech_3_4_1.yaml``, see
   ``symbp examples``): that example. Errors and outputs name it by its file name
   (``koech_3_4_1.yaml``), never by where the package is installed.
4. Any other plain name: one line saying that neither a file nor an example has that
   name, with the examples whose names are nearest. A path with folders is only ever
   a file (``file not found``).
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..limits import MAX_SPEC_BYTES
from ..yamlio import PathKey, parse_yaml, read_yaml

#: The spec argument that means standard input.
STDIN = "-"
#: How standard input is named in errors (and in ``Spec.path``).
STDIN_NAME = "<stdin>"
#: What a spec read from standard input without a ``name:`` is called.
STDIN_SPEC_NAME = "stdin"

#: Standard input's bytes, once read, with the stream they came from.
_stdin_cache: tuple[object, bytes] | None = None


def read_stdin(max_bytes: int = MAX_SPEC_BYTES) -> bytes:
    """Standard input's bytes (at most ``max_bytes``), read once per stream and kept.

    A terminal is refused (nothing was piped in, and reading would wait for typing);
    more than ``max_bytes`` is refused as for a file.
    """
    global _stdin_cache
    stream = sys.stdin
    if _stdin_cache is not None and _stdin_cache[0] is stream:
        return _stdin_cache[1]
    if stream is None:
        raise SpecError("cannot read the spec: there is no standard input", file=STDIN_NAME)
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        raise SpecError(
            "standard input is a terminal; pipe a spec into it (cat spec.yaml | symbp eval -)",
            file=STDIN_NAME,
        )
    raw = getattr(stream, "buffer", stream)
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = raw.read(min(1 << 20, max_bytes + 1 - size))
        if not chunk:
            break
        if isinstance(chunk, str):  # a text stream without a buffer (a test's StringIO)
            chunk = chunk.encode("utf-8")
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise SpecError(
            f"standard input holds more than {max_bytes} bytes ({max_bytes / 2**20:g} MiB), "
            "the most symbp reads",
            file=STDIN_NAME,
        )
    data = b"".join(chunks)
    _stdin_cache = (stream, data)
    return data


def shipped_example(name: str) -> Path | None:
    """The file of the shipped example called ``name`` (with or without ``.yaml``), if any."""
    from ..shipped import example_path, names

    stem = name.removesuffix(".yaml")
    return example_path(stem) if stem in names() else None


def near_examples(name: str, n: int = 3) -> list[str]:
    """The shipped examples whose names are nearest to ``name`` (at most ``n``)."""
    from ..shipped import names

    stem = Path(name).name.removesuffix(".yaml")[:200]
    return difflib.get_close_matches(stem, names(), n=n, cutoff=0.5)


def read_spec_yaml(source: str | Path) -> tuple[Any, dict[PathKey, int], str]:
    """The YAML data of spec argument ``source``, its line map and the name to report it by.

    See the module's docstring for the order in which ``source`` is resolved.
    """
    text = str(source)
    if text == STDIN:
        data = read_stdin()
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(
                f"cannot read it: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                file=STDIN_NAME,
            ) from None
        parsed, lines = parse_yaml(decoded, STDIN_NAME)
        return parsed, lines, STDIN_NAME
    path = Path(source)
    if not _exists(path) and _bare_name(text):
        shipped = shipped_example(text)
        if shipped is not None:
            parsed, lines = read_yaml(shipped)
            return parsed, lines, shipped.name
        near = near_examples(text)
        hint = f"nearest: {', '.join(near)}" if near else "`symbp examples` lists them"
        raise SpecError(f"file not found, and no shipped example has that name ({hint})", file=text)
    parsed, lines = read_yaml(path)  # a path with folders: only ever a file
    return parsed, lines, text


def default_name(file: str | None) -> str:
    """The name of a spec without ``name:``: its file's stem (``stdin`` from standard input)."""
    if file is None:
        return "network"
    if file == STDIN_NAME:
        return STDIN_SPEC_NAME
    return Path(file).stem


def _bare_name(text: str) -> bool:
    """Whether ``text`` could name a shipped example: a plain name, no folders."""
    return bool(text) and "/" not in text and "\\" not in text and text not in {".", ".."}


def _exists(path: Path) -> bool:
    """Whether anything stands at ``path`` (a dangling link, a FIFO, a folder count too:
    reading it then says what is wrong with it)."""
    try:
        return path.is_symlink() or path.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte: not a file
        return False
