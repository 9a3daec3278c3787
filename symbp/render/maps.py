"""Feature maps, kernels and delta maps as small matrices with numbers, in LaTeX math.

The pieces a convolutional network's document is made of (issue 28, item 4): a map as a
matrix whose cells may be *boxed* (the window of one output position, the positions a
kernel gradient reads) or *marked* (max-pool's arg-max, underlined); a kernel beside its
180° rotation; one output position of a convolution worked term by term. Every piece is
:class:`~symbp.render.escape.Tex`, so the same text serves LaTeX (amsmath's ``bmatrix``),
HTML (MathML through latex2mathml) and Markdown (``$$`` math) with no template of its own.

Conventions: a map is indexed ``[i][j]`` (row, column, 0-based, as the spec and
``eval --json``); a stack of maps ``[c][i][j]``; a kernel ``[u][v]``. ``rot180(K)[u][v] =
K[kh−1−u][kw−1−v]``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import sympy as sp

from .blocks import Aligned
from .escape import Tex
from .mathtex import DIGITS, number_tex, tex_number

Number: TypeAlias = sp.Expr | float | int
Map: TypeAlias = Sequence[Sequence[Number]]
Cell: TypeAlias = tuple[int, int]

#: The largest map shown cell by cell; a larger one is summarised (documents stay on the page).
MAX_SHOWN = 12


def as_number(value: Number) -> sp.Expr:
    """An engine's number as a SymPy number (never parses text: a ``str`` is refused)."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, found {type(value).__name__}")
    return sp.Integer(value) if isinstance(value, int) else sp.Float(value)


def _cell(value: Number, digits: int, boxed: bool, marked: bool) -> str:
    text = tex_number(value, digits)
    if marked:
        text = rf"\underline{{{text}}}"
    return rf"\boxed{{{text}}}" if boxed else text


def grid(
    values: Map,
    digits: int = DIGITS,
    *,
    boxed: Collection[Cell] = (),
    marked: Collection[Cell] = (),
) -> Tex:
    """``values`` as a ``bmatrix``; the cells in ``boxed`` boxed, those in ``marked``
    underlined (max-pool's arg-max).

    A map with more than :data:`MAX_SHOWN` rows or columns is refused: the caller
    shows one representative position and summary tables instead.
    """
    rows = [list(row) for row in values]
    if not rows or not rows[0]:
        raise ValueError("a map needs at least one cell")
    if len(rows) > MAX_SHOWN or len(rows[0]) > MAX_SHOWN:
        raise ValueError(f"a map of {len(rows)}×{len(rows[0])} is too large to show cell by cell")
    boxes, marks = set(boxed), set(marked)
    body = r" \\ ".join(
        " & ".join(_cell(v, digits, (i, j) in boxes, (i, j) in marks) for j, v in enumerate(row))
        for i, row in enumerate(rows)
    )
    return Tex(rf"\begin{{bmatrix}} {body} \end{{bmatrix}}")


def rot180(kernel: Map) -> list[list[Number]]:
    """The kernel rotated by 180°: ``rot180(K)[u][v] = K[kh−1−u][kw−1−v]``."""
    return [list(reversed(row)) for row in reversed([list(r) for r in kernel])]


def rotation(name: Tex, kernel: Map, digits: int = DIGITS) -> Tex:
    """``name = K → rot180 → K'``: the kernel before and after the rotation the input
    gradient uses."""
    before, after = grid(kernel, digits), grid(rot180(kernel), digits)
    arrow = r"\xrightarrow{\text{rot}\,180^\circ}"
    return Tex(rf"{name} = {before} \quad {arrow} \quad {after}")


def window(top: int, left: int, height: int, width: int) -> set[Cell]:
    """The cells ``[top, top+height) × [left, left+width)`` (one kernel position)."""
    return {(top + u, left + v) for u in range(height) for v in range(width)}


@dataclass(frozen=True)
class Term:
    """One product ``weight · value`` of a worked sum, with the names the document prints."""

    weight_name: Tex
    weight: Number
    value_name: Tex
    value: Number


def term_lines(
    terms: Sequence[Term], digits: int = DIGITS, *, bias: tuple[Tex, Number] | None = None
) -> tuple[list[str], list[str]]:
    """The names (``w a``) and the numbers (``(w) · (a)``) of a worked sum's terms, the
    bias last, one string per term."""
    names = [rf"{t.weight_name}\, {t.value_name}" for t in terms]
    numbers = [
        rf"{number_tex(t.weight, digits, paren='negative')} \cdot "
        rf"{number_tex(t.value, digits, paren='negative')}"
        for t in terms
    ]
    if bias is not None:
        names.append(str(bias[0]))
        numbers.append(str(number_tex(bias[1], digits, paren="negative")))
    return names, numbers


def worked_sum(
    lhs: Tex,
    terms: Sequence[Term],
    result: Number,
    digits: int = DIGITS,
    *,
    bias: tuple[Tex, Number] | None = None,
) -> Aligned:
    """``lhs = Σ w·a (+ b) = (w₁)(a₁) + … (+ b) = result``: one position worked term by term.

    The names line comes first, the numbers second, the value last (the value as the
    exact engine gives it, not re-added here).
    """
    names, numbers = term_lines(terms, digits, bias=bias)
    return Aligned.chain(
        lhs,
        Tex(" + ".join(names)),
        Tex(" + ".join(numbers)),
        number_tex(result, digits),
    )
