"""The pieces a conv network's document is made of, and their layout on the page.

A :class:`ConvDocument` is a list of sections (:class:`Section`) of pieces (:class:`Piece`: a
paragraph, a display, an aligned derivation, a table, a diagram) that the templates
``templates/conv_document.*.j2`` lay out; the helpers here build the pieces that every
layer kind's presentation uses: stacks of maps as matrices side by side
(:func:`stack`, as many per display as fit in :data:`LINE_CHARS`), or a summary table
(:func:`summary`: minimum, maximum, mean per channel) where a map is larger than
:data:`~.maps.MAX_SHOWN` a side or has more channels than :data:`MAX_CHANNELS`; worked
sums broken after every :data:`TERMS_PER_LINE` terms (:func:`worked`); vectors.

Conventions: an indexed name :func:`indexed` prints ``base^{l}_{i,j}`` with the
textbook's 1-based layer superscript; maps are ``[c][i][j]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .blocks import Aligned, Cell, Row, Table
from .escape import Tex
from .maps import MAX_SHOWN, Term, as_number, grid, term_lines, worked_sum
from .mathtex import number_tex, tex_number

#: Channels shown as matrices; the others are in the summary table.
MAX_CHANNELS = 4
#: Flatten's index map and the updates table show at most this many rows.
MAX_ROWS = 24
#: A display of maps holds at most this many characters of numbers (a page's width).
LINE_CHARS = 64


@dataclass(frozen=True)
class Piece:
    """One block of a section: ``kind`` is ``text`` (a paragraph), ``math`` (one
    display), ``aligned`` (an :class:`Aligned` derivation), ``table`` or ``diagram``
    (a :class:`~.map_diagram.MapDiagram`)."""

    kind: str
    content: Any
    full_only: bool = False
    #: Set in a smaller size in LaTeX (the derived formulas).
    small: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    pieces: tuple[Piece, ...]


@dataclass
class ConvDocument:
    """What a conv network's document shows (see the module docstring)."""

    name: str
    title: str
    source: str | None
    description: str | None
    spec_file: str | None
    spec_hash: str
    version: str
    style: str
    sections: tuple[Section, ...]


def para(text: str, full_only: bool = False) -> Piece:
    return Piece("text", text, full_only)


def display(tex: str, full_only: bool = False, small: bool = False) -> Piece:
    return Piece("math", Tex(tex), full_only, small)


#: What a worked sum says when it leaves out its terms with a factor 0.
ZERO_NOTE = "terms with a factor 0 left out"
#: A worked sum's line holds at most this many terms.
TERMS_PER_LINE = 3


def worked(
    lhs: Tex,
    terms: Sequence[Term],
    result: Any,
    digits: int,
    *,
    bias: tuple[Tex, Any] | None = None,
) -> Aligned:
    """:func:`.maps.worked_sum`, its names and numbers broken after every
    :data:`TERMS_PER_LINE` terms so that a long sum stays on the page."""
    kept = [t for t in terms if as_number(t.weight) != 0 and as_number(t.value) != 0]
    if bias is not None and as_number(bias[1]) == 0:
        bias = None
    if not kept and bias is None:
        rhs = Tex(rf"{number_tex(result, digits)} \quad \text{{({ZERO_NOTE})}}")
        return Aligned((Row(lhs, rhs),))
    if len(kept) < len(terms):
        body = worked(lhs, kept, result, digits, bias=bias)
        last = body.rows[-1]
        rhs = Tex(rf"{last.rhs} \quad \text{{({ZERO_NOTE})}}")
        return Aligned((*body.rows[:-1], Row(last.lhs, rhs, None, last.rel)))
    if len(terms) + (bias is not None) <= TERMS_PER_LINE:
        return worked_sum(lhs, terms, result, digits, bias=bias)
    names, numbers = term_lines(terms, digits, bias=bias)
    rows: list[Row] = []
    for items in (names, numbers):
        for start in range(0, len(items), TERMS_PER_LINE):
            chunk = " + ".join(items[start : start + TERMS_PER_LINE])
            if start == 0:
                rows.append(Row(lhs if not rows else None, Tex(chunk)))
            else:
                rows.append(Row(None, Tex(f"{{}} + {chunk}"), rel=Tex("")))
    rows.append(Row(None, number_tex(result, digits)))
    return Aligned(tuple(rows))


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(n: int) -> str:
    """``n`` as superscript digits, the textbook's layer index in prose (``a¹``)."""
    return str(n).translate(_SUP)


def shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(n) for n in shape)


def indexed(base: str, l: int | None, *idx: int | str) -> str:
    sup = "" if l is None else f"^{{{l}}}"
    sub = ",".join(str(i) for i in idx)
    return rf"{base}{sup}_{{{sub}}}"


def map_width(fmap: Any, digits: int) -> int:
    """A map's width in characters of its widest number (two between columns)."""
    widest = max(len(tex_number(v, digits)) for row in fmap for v in row)
    return len(fmap[0]) * (widest + 2) + 8


def packed(parts: Sequence[tuple[str, int]]) -> list[Piece]:
    """Displays of ``parts`` (TeX, its width in characters) side by side, a new display
    wherever the next part would pass :data:`LINE_CHARS`."""
    pieces: list[Piece] = []
    line: list[str] = []
    used = 0
    for tex, width in parts:
        if line and used + width > LINE_CHARS:
            pieces.append(display(r" \quad ".join(line)))
            line, used = [], 0
        line.append(tex)
        used += width
    pieces.append(display(r" \quad ".join(line)))
    return pieces


def stack(base: str, maps: Any, digits: int, boxed: Any = None, marked: Any = None) -> list[Piece]:
    """The channels of ``maps`` as matrices (as many per display as fit in
    :data:`LINE_CHARS`), or a summary table where a map is too large to show (then the
    ``boxed`` cells' part of each map is cut out, :func:`excerpts`)."""
    channels = list(maps)
    rows, cols = len(channels[0]), len(channels[0][0])
    pieces: list[Piece] = []
    shown = channels[:MAX_CHANNELS]
    widths = [map_width(fmap, digits) for fmap in shown]
    if rows <= MAX_SHOWN and cols <= MAX_SHOWN and max(widths) <= LINE_CHARS:
        line: list[str] = []
        used = 0
        for c, fmap in enumerate(shown):
            if line and used + widths[c] > LINE_CHARS:
                pieces.append(display(r" \quad ".join(line)))
                line, used = [], 0
            cells = grid(
                fmap, digits, boxed=(boxed or {}).get(c, ()), marked=(marked or {}).get(c, ())
            )
            line.append(rf"{base}[{c}] = {cells}")
            used += widths[c]
        pieces.append(display(r" \quad ".join(line)))
        if len(channels) <= MAX_CHANNELS:
            return pieces
        pieces.append(Piece("table", summary(base, channels, digits)))
        return pieces
    pieces.append(Piece("table", summary(base, channels, digits)))
    return pieces + excerpts(base, shown, digits, boxed or {})


def excerpts(base: str, maps: Sequence[Any], digits: int, boxed: Any) -> list[Piece]:
    """Where a map is summarised, the part of each channel holding its boxed cells (the
    window a worked sum reads), cut out as a matrix with its rows and columns named."""
    pieces = []
    for c, cells in sorted(boxed.items()):
        if c >= len(maps) or not cells:
            continue
        r0, r1 = min(r for r, _ in cells), max(r for r, _ in cells)
        q0, q1 = min(q for _, q in cells), max(q for _, q in cells)
        part = [row[q0 : q1 + 1] for row in maps[c][r0 : r1 + 1]]
        if len(part) > MAX_SHOWN or len(part[0]) > MAX_SHOWN:
            continue
        if map_width(part, digits) > LINE_CHARS:
            continue
        where = rf"\text{{rows {r0}–{r1}, columns {q0}–{q1}}}"
        # Boxes only where the part holds cells the sum does not read (a stride > 1).
        marked = {(r - r0, q - q0) for r, q in cells}
        marked = marked if len(marked) < len(part) * len(part[0]) else set()
        pieces.append(display(rf"{base}[{c}]\ {where} = {grid(part, digits, boxed=marked)}"))
    return pieces


def summary(base: str, channels: list[Any], digits: int) -> Table:
    rows = []
    for c, fmap in enumerate(channels):
        values = [as_number(v) for row in fmap for v in row]
        mean = sp.Add(*values) / len(values)
        rows.append(
            (
                Cell(Tex(rf"{base}[{c}]")),
                Cell(number_tex(min(values, key=float), digits)),
                Cell(number_tex(max(values, key=float), digits)),
                Cell(number_tex(mean, digits)),
            )
        )
    return Table(
        f"summary-{base}",
        f"Each channel of {len(channels[0])}×{len(channels[0][0])} in summary",
        ("map", "min", "max", "mean"),
        tuple(rows),
        align="lrrr",
    )


def vector(name: str, values: Sequence[Any], digits: int) -> str:
    body = r" \\ ".join(tex_number(v, digits) for v in values)
    if len(values) > 3 * MAX_SHOWN:
        body = r" \\ ".join([*(tex_number(v, digits) for v in values[:MAX_SHOWN]), r"\vdots"])
    return rf"{name} = \begin{{bmatrix}} {body} \end{{bmatrix}}^{{\mathsf T}}"


def read(fmap: Any, r: int, c: int) -> Any:
    if 0 <= r < len(fmap) and 0 <= c < len(fmap[0]):
        return fmap[r][c]
    return sp.Integer(0)
