"""Jinja environments for the document templates (``templates/document.*.j2``).

Printers own the math, templates own the structure. Each environment escapes
plain strings by default, so spec text can never inject markup:

- LaTeX: LaTeX-safe delimiters ``\\VAR{...}``, ``\\BLOCK{...}``, ``%#`` (line
  comments); every ``str`` printed with ``\\VAR`` goes through
  :func:`~symbp.render.escape.tex_escape` unless it is a trusted
  :class:`~symbp.render.escape.Tex`. A macro's output (already escaped inside
  the macro) is printed as ``\\VAR{m.table(t)|raw}``.
- HTML: autoescape on, and every plain ``str`` goes through
  :func:`~symbp.render.escape.html_escape` (control characters shown, not
  written raw); ``|math`` / ``|dmath`` turn ``Tex`` into MathML
  (latex2mathml), no scripts, no network.
- Markdown: plain strings are escaped by :func:`~symbp.render.escape.md_escape`;
  ``Tex`` is written between ``$`` signs by the template.

All use ``StrictUndefined`` (a missing field is an error, not an empty string).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from latex2mathml.converter import convert as _to_mathml
from markupsafe import Markup

from .escape import Tex, html_escape, md_code, md_escape, tex_escape
from .labels import SMALL_LABELS

#: The source checkout's templates (used when ``symbp.templates`` is not importable,
#: e.g. an editable install of a tree whose ``templates/`` has no ``__init__.py``).
_SOURCE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _load(name: str) -> str:
    try:
        root = resources.files("symbp.templates")
    except ModuleNotFoundError:
        return (_SOURCE_TEMPLATES / name).read_text(encoding="utf-8")
    return root.joinpath(name).read_text(encoding="utf-8")


def _loader() -> jinja2.FunctionLoader:
    return jinja2.FunctionLoader(lambda name: _load(name))


def _tex_finalize(value: object) -> object:
    if isinstance(value, Tex):
        return str(value)
    if isinstance(value, str):
        return tex_escape(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("a bool is not document content")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    raise TypeError(f"cannot print {type(value).__name__} into LaTeX")


def _html_finalize(value: object) -> object:
    """Plain text through :func:`~symbp.render.escape.html_escape` (controls shown too)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(html_escape(value))
    return value


class _Raw(str):
    """A Markdown macro's output (escaped while it rendered), printed as is."""

    __slots__ = ()


def _md_finalize(value: object) -> object:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, Tex):
        return str(value).replace("|", r"\vert ")
    if isinstance(value, str):
        return md_escape(value)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"cannot print {type(value).__name__} into Markdown")


def mathml(value: Tex, display: bool = False) -> Markup:
    """``value`` (trusted LaTeX math) as an inline MathML element.

    ``display=True`` typesets it in display style (full-size fractions and
    sums) while keeping it inline, for the cells of aligned derivations.
    """
    if not isinstance(value, Tex):
        raise TypeError("only Tex from the printers is converted to MathML")
    source = rf"\displaystyle {value}" if display else str(value)
    return Markup(_to_mathml(source, display="inline"))


_SVG_STYLE = (
    "svg.diagram{display:block;margin:1em auto;max-width:100%;height:auto}"
    "svg .input{fill:#eef0fb;stroke:#222;stroke-width:1.5}"
    "svg .hidden{fill:#fdf3e7;stroke:#222;stroke-width:1.5}"
    "svg .output{fill:#e9f6e9;stroke:#222;stroke-width:1.5}"
    "svg .bias{fill:#eeeeee;stroke:#444;stroke-width:1}"
    "svg circle.lit{stroke:#b03020;stroke-width:3}"
    "svg line.edge{stroke:#777;stroke-width:1}svg line.lit{stroke:#b03020;stroke-width:2.5}"
    "svg line.bias{stroke-dasharray:4 3}svg rect.label{fill:#fff;fill-opacity:0.9}"
    "svg .node{font-size:16px;font-style:italic}svg .unit{font-size:11px}"
    "svg .weight{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    "svg .caption{font-size:13px}"
)


#: The width (px) of one character of an SVG edge label (11 px), for its white box.
LABEL_CHAR_PX = 6.6


def svg(diagram: Any) -> Markup:
    """The diagram as one inline ``<svg>`` element (``templates/diagram.svg.j2``).

    The same markup serves HTML and Markdown; the SVG has no blank line, so a
    Markdown renderer keeps it one HTML block; ``diagram.ident`` names its arrow
    markers, so that several diagrams in one page keep theirs apart.
    """
    # A drawing names its own template (:mod:`.gates`); the network diagram is the default.
    template = environment("html").get_template(getattr(diagram, "template", "diagram.svg.j2"))
    text = template.render(
        d=diagram, ident=diagram.ident, label_char_px=LABEL_CHAR_PX, small_labels=SMALL_LABELS
    )
    return Markup("\n".join(line for line in text.splitlines() if line.strip()))


def _md_svg(markup: Markup) -> str:
    """An SVG for Markdown: its styles inline in a ``<style>`` element of its own."""
    head, sep, rest = str(markup).partition(">")
    return f"{head}{sep}<style>{_SVG_STYLE}</style>{rest}"


def _cm(value: float) -> Tex:
    text = f"{value:.2f}"
    return Tex("0.00" if text == "-0.00" else text)


def _px(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _is_math(value: object) -> bool:
    return isinstance(value, Tex)


@cache
def environment(kind: str) -> jinja2.Environment:
    """The Jinja environment for ``kind``: ``tex``, ``html`` or ``md``."""
    common: dict[str, Any] = {
        "loader": _loader(),
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
    }
    if kind == "tex":
        env = jinja2.Environment(
            block_start_string=r"\BLOCK{",
            block_end_string="}",
            variable_start_string=r"\VAR{",
            variable_end_string="}",
            comment_start_string=r"\#{",
            comment_end_string="}",
            line_comment_prefix="%#",
            autoescape=False,
            finalize=_tex_finalize,
            **common,
        )
        env.filters["cm"] = _cm
        # A macro's output was escaped while it rendered: mark it trusted for \VAR.
        env.filters["raw"] = Tex
    elif kind == "html":
        env = jinja2.Environment(autoescape=True, finalize=_html_finalize, **common)
        env.filters["math"] = mathml
        env.filters["dmath"] = lambda v: mathml(v, display=True)
        env.filters["px"] = _px
        env.filters["svg"] = svg
        env.globals["svg_style"] = _SVG_STYLE
    elif kind == "md":
        env = jinja2.Environment(autoescape=False, finalize=_md_finalize, **common)
        env.filters["raw"] = _Raw
        env.filters["code"] = lambda text: _Raw(md_code(text))
        env.filters["svg"] = lambda d: _Raw(_md_svg(svg(d)))
    else:
        raise ValueError(f"no template environment {kind!r}")
    env.tests["math"] = _is_math
    return env


def render(kind: str, template: str, **context: object) -> str:
    """Render ``template`` (a file in ``templates/``) with ``context``."""
    text = environment(kind).get_template(template).render(**context)
    return text.lstrip("\n")  # the blank lines left by the templates' macro definitions
