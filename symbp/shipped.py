"""The example specs shipped inside the package (``symbp examples``).

They are package data (``symbp.examples``, the checkout's ``examples/``), found
through :mod:`importlib.resources`, so they are there in a wheel install too.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from .errors import SymbpError, quote


def _root() -> Path:
    return Path(str(importlib.resources.files("symbp.examples")))


def names() -> list[str]:
    """The shipped examples' names (file stems), sorted."""
    return sorted(p.stem for p in _root().glob("*.yaml"))


def example_path(name: str) -> Path:
    """The file of the shipped example ``name`` (with or without ``.yaml``)."""
    stem = name.removesuffix(".yaml")
    if stem not in names():
        raise SymbpError(
            f"no shipped example {quote(name[:60])}; expected one of {', '.join(names())}",
            field="name",
        )
    return _root() / f"{stem}.yaml"


def listing() -> str:
    """One line per example: its name and title."""
    from .yamlio import read_yaml

    lines = []
    width = max(len(n) for n in names())
    for name in names():
        data, _ = read_yaml(example_path(name))
        title = data.get("title") or data.get("name") or ""
        lines.append(f"{name:<{width}}  {' '.join(str(title).split())}")
    return "\n".join(lines) + "\n"


def copy_examples(out: Path, name: str | None = None) -> list[Path]:
    """Copy one example (or all) into the folder ``out``; the written paths.

    A file of the same name that differs (a user's edited copy) is never replaced:
    symbp refuses in one line before copying anything.
    """
    from .fileio import check_writable_dir, write_atomic

    check_writable_dir(out)
    chosen = {out / Path(example_path(n)).name: example_path(n).read_bytes() for n in
              ([name] if name is not None else names())}  # fmt: skip
    for target, data in chosen.items():
        if os.path.lexists(target) and not (target.is_file() and target.read_bytes() == data):
            raise SymbpError(
                f"{target} exists and differs from the shipped example; nothing was copied: "
                "move it away or choose another folder",
                field="--out",
            )
    return [write_atomic(target, data) for target, data in chosen.items()]
