"""Escaping of user text for LaTeX, HTML and Markdown, and safe file names.

Every string that comes from a spec (name, title, source, description, a
custom formula's source text) or from the operator records' prose is plain
text. The templates escape plain ``str`` values by default; only values marked
as trusted markup (:class:`Tex` from SymPy's printers, MathML, SVG built by
:mod:`symbp.render`) pass through unchanged. So ``\\input{/etc/passwd}`` or
``<script>`` in a title is printed literally and never interpreted.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import escape as _html_escape


class Tex(str):
    """Trusted LaTeX (math-mode unless a template says otherwise), never escaped."""

    __slots__ = ()


_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedbl{}",
    "\n": " ",
    "\r": " ",
    "\t": " ",
}
# Non-ASCII text pdflatex (utf8 input, T1 fonts) typesets without extra packages.
_TEX_UNICODE_OK = re.compile("[\u00a0-\u00ff\u0100-\u017f\u2013\u2014\u2018\u2019\u201c\u201d]")
_TEX_UNICODE_MATH = {
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "×": r"$\times$",
    "→": r"$\to$",
    "…": r"\dots{}",
    "−": r"$-$",
    "·": r"$\cdot$",
    "σ": r"$\sigma$",
    "δ": r"$\delta$",
    "η": r"$\eta$",
    "ε": r"$\varepsilon$",
    "ϵ": r"$\epsilon$",
    "θ": r"$\theta$",
    "μ": r"$\mu$",
    "λ": r"$\lambda$",
    "Σ": r"$\Sigma$",
    "∂": r"$\partial$",
    "Δ": r"$\Delta$",
    "≠": r"$\neq$",
    "⊙": r"$\odot$",
}


def tex_escape(text: object) -> str:
    """``text`` as LaTeX text-mode source that typesets it literally.

    Characters pdflatex cannot typeset without extra packages are written as
    ``[U+XXXX]`` rather than breaking the build. Lines may break after ``_``,
    and after a ``/`` or ``.`` followed by a letter (file names, URLs), so that
    no long name runs into the margin.
    """
    out = []
    prev = ""
    text = str(text)
    for n, ch in enumerate(text):
        if ch in "`'-<>," and ch == prev:  # no ligatures: -- stays two hyphens
            out.append("{}")
        prev = ch
        if ch in _TEX_SPECIALS:
            out.append(_TEX_SPECIALS[ch])
            if ch == "_":  # file names and identifiers may break after _
                out.append(r"\allowbreak{}")
        elif ch in "/." and text[n + 1 : n + 2].isalpha():  # URLs (never 1/2 or 0.5)
            out.append(ch + r"\allowbreak{}")
        elif ch in _TEX_UNICODE_MATH:
            out.append(_TEX_UNICODE_MATH[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(" ")
        elif ord(ch) < 128 or _TEX_UNICODE_OK.match(ch):
            out.append(ch)
        else:
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


def html_escape(text: object) -> str:
    """``text`` with ``& < > " '`` escaped for HTML."""
    return str(_html_escape(str(text)))


_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]#|$~!])")


def md_escape(text: object) -> str:
    """``text`` for Markdown: HTML-escaped, Markdown punctuation backslash-escaped."""
    flat = " ".join(str(text).split())
    return _MD_SPECIALS.sub(r"\\\1", html_escape(flat).replace("&#39;", "'"))


def md_code(text: object) -> str:
    """``text`` as a Markdown code span (shown literally; ``|`` escaped for tables).

    Text with ``<``, ``>`` or ``&`` is escaped as prose instead (:func:`md_escape`):
    a code span cannot escape them, and some renderers pass HTML through.
    """
    if any(c in str(text) for c in "<>&"):
        return md_escape(text)
    flat = " ".join(str(text).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def safe_filename(name: str, default: str = "network") -> str:
    """A file name made of ``name``'s letters, digits, ``.``, ``-`` and ``_`` only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")
    return cleaned[:100] or default
