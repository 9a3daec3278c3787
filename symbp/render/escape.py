"""Escaping of user text for LaTeX, HTML and Markdown, and safe file names.

Every string that comes from a spec (name, title, source, description, a
custom formula's source text) or from the operator records' prose is plain
text. The templates escape plain ``str`` values by default; only values marked
as trusted markup (:class:`Tex` from SymPy's printers, MathML, SVG built by
:mod:`symbp.render`) pass through unchanged. So ``\\input{/etc/passwd}`` or
``<script>`` in a title is printed literally and never interpreted.

The escapers themselves live in :mod:`symbp.escape` (one per output context,
shared with ``verify``, ``exercises``, ``train`` and the CLI); the names are
re-exported here for the templates and older imports.
"""

from __future__ import annotations

import re
import unicodedata

from ..escape import html_escape, md_code, md_escape, tex_escape

__all__ = ["Tex", "html_escape", "md_code", "md_escape", "safe_filename", "tex_escape"]


class Tex(str):
    """Trusted LaTeX (math-mode unless a template says otherwise), never escaped."""

    __slots__ = ()


def safe_filename(name: str, default: str = "network") -> str:
    """A file name made of ``name``'s letters, digits, ``.``, ``-`` and ``_`` only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")
    return cleaned[:100] or default
