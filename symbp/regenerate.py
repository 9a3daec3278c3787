"""Regenerate (or check) the committed outputs for the shipped examples.

``generated/`` holds the Numba trainer modules and ``docs/`` the derivation
documents of every spec in ``examples/``. They are never edited by hand::

    python -m symbp.regenerate           # rewrite generated/ and docs/
    python -m symbp.regenerate --check   # exit 1 and list the files that drifted

Each stage says what it ships: ``symbp.codegen.shipped_outputs`` and
``symbp.render.shipped_outputs`` map a path relative to the repository root to
the file's content (str or bytes) for a list of example specs.

A stage may also ship PDFs (``shipped_pdfs``, the exercise sheets and keys):
they are written when TeX Live is installed, but not drift-checked, because
their bytes depend on the TeX Live release (their LaTeX sources are checked).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from .fileio import write_atomic

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
STAGES = ("symbp.codegen", "symbp.render", "symbp.exercises")


def example_specs(root: Path = ROOT) -> list[Path]:
    """The shipped example specs (``examples/*.yaml``), sorted."""
    return sorted((root / "examples").glob("*.yaml"))


def expected_outputs(root: Path = ROOT) -> dict[str, str | bytes]:
    """Every committed output, by path relative to ``root``, as the code now makes it."""
    out: dict[str, str | bytes] = {}
    specs = example_specs(root)
    for stage in STAGES:
        module = importlib.import_module(stage)
        shipped: Callable[[list[Path]], Mapping[str, str | bytes]] | None = getattr(
            module, "shipped_outputs", None
        )
        if shipped is not None:
            out.update(shipped(specs))
    return out


def pdf_outputs(root: Path = ROOT) -> dict[str, str | bytes]:
    """The shipped PDFs (``shipped_pdfs`` of each stage); empty without a TeX engine."""
    from .render.pdf import find_engine

    if find_engine() is None:
        return {}
    out: dict[str, str | bytes] = {}
    specs = example_specs(root)
    for stage in STAGES:
        shipped = getattr(importlib.import_module(stage), "shipped_pdfs", None)
        if shipped is not None:
            out.update(shipped(specs))
    return out


def drifted(root: Path = ROOT) -> list[str]:
    """Paths whose committed content differs from what the code produces now."""
    bad = []
    for rel, content in sorted(expected_outputs(root).items()):
        path = root / rel
        data = content.encode() if isinstance(content, str) else content
        if not path.exists() or path.read_bytes() != data:
            bad.append(rel)
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symbp.regenerate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args(argv)
    if args.check:
        bad = drifted()
        for rel in bad:
            print(f"drifted: {rel}")
        return 1 if bad else 0
    for rel, content in sorted(expected_outputs().items()):
        write_atomic(ROOT / rel, content)
        print(f"wrote {rel}")
    pdfs = pdf_outputs()
    for rel, content in sorted(pdfs.items()):
        write_atomic(ROOT / rel, content)
        print(f"wrote {rel} (not drift-checked)")
    if not pdfs:
        print("no TeX engine: the shipped PDFs were not rebuilt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
