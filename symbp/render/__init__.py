"""Documents rendered from the symbolic model (text, LaTeX/PDF, HTML, Markdown).

- :func:`write_document` (``symbp doc``, ``symbp.document``): a derivation
  document as PDF, LaTeX, HTML or Markdown;
- :func:`render_document`: the LaTeX, HTML or Markdown text;
- :func:`shipped_outputs`: the committed ``docs/`` files of the shipped examples;
- :func:`show`: a derivation or evaluation that shows itself in Jupyter.

Heavier modules (Jinja, latex2mathml) load on first use, so ``symbp derive``
and ``symbp eval`` (which use :mod:`.text`) start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "write_document": "document",
    "render_document": "document",
    "shipped_outputs": "document",
    "show": "jupyter",
    "TexMissing": "pdf",
    "TexFailed": "pdf",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
