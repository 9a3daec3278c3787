"""Path parts taken from a spec or a data source, sanitised and confined.

A spec's ``name:`` is text from a file: ``"../escape"``, ``"a/b"``, ``"~"``, a
newline or 500 characters must not build a path outside the folder it is meant
for. :func:`path_part` keeps letters, digits, ``.``, ``_`` and ``-`` (anything
else becomes ``_``), drops leading dots (so no ``..`` and no hidden files) and
caps the length; :func:`confined` checks a built path stays under its root.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SymbpError

#: The longest path part built from a name (file systems allow 255 bytes).
MAX_PART = 80


def path_part(text: str, *, fallback: str = "run") -> str:
    """``text`` as one safe path component (never empty, ``.`` or ``..``).

    >>> path_part("../escape")
    'escape'
    >>> path_part("a/b c")
    'a_b_c'
    """
    part = re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip())
    part = part.lstrip(".").strip("_")[:MAX_PART].rstrip(".")
    return part or fallback


def confined(path: Path, root: Path, *, field: str = "name") -> Path:
    """``path`` if it lies under ``root`` once both are resolved; else a one-line error."""
    resolved, base = path.resolve(), root.resolve()
    if resolved != base and base not in resolved.parents:
        raise SymbpError(f"{path} would lie outside {root}", field=field)
    return path
