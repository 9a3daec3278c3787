"""Jinja environments for the document templates (``templates/document.*.j2``).

Printers own the math, templates own the structure. Each environment escapes
plain strings by default, so spec text can never inject markup:

- LaTeX: LaTeX-safe delimiters ``\\VAR{...}``, ``\\BLOCK{...}``, ``%#`` (line
  comments); every ``str`` printed with ``\\VAR`` goes through
  :func:`~symbp.render.escape.tex_escape` unless it is a trusted
  :class:`~symbp.render.escape.Tex`. A macro's output (already escaped inside
  the macro) is printed as ``\\VAR{m.table(t)|raw}``.
- HTML: autoescape on; ``|math`` / ``|dmath`` turn ``Tex`` into MathML
  (latex2mathml), no scripts, no network.
- Markdown: plain strings are escaped by :func:`~symbp.render.escape.md_escape`;
  ``Tex`` is written between ``$`` signs by the template.

All use ``StrictUndefined`` (a missing field is an error, not an empty string).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
from latex2mathml.converter import convert as _to_mathml
from markupsafe import Markup

from .escape import Tex, md_escape, tex_escape

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


def _cm(value: float) -> Tex:
    return Tex(f"{value:.2f}")


def _px(value: float) -> str:
    return f"{value:.1f}"


def _is_math(value: object) -> bool:
    return isinstance(value, Tex)


@cache
def environment(kind: str) -> jinja2.Environment:
    """The Jinja environment for ``kind``: ``tex``, ``html`` or ``md``."""
    common = {
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
        env = jinja2.Environment(autoescape=True, **common)
        env.filters["math"] = mathml
        env.filters["dmath"] = lambda v: mathml(v, display=True)
        env.filters["px"] = _px
    elif kind == "md":
        env = jinja2.Environment(autoescape=False, finalize=_md_finalize, **common)
        env.filters["raw"] = _Raw
    else:
        raise ValueError(f"no template environment {kind!r}")
    env.tests["math"] = _is_math
    return env


def render(kind: str, template: str, **context: object) -> str:
    """Render ``template`` (a file in ``templates/``) with ``context``."""
    text = environment(kind).get_template(template).render(**context)
    return text.lstrip("\n")  # the blank lines left by the templates' macro definitions
