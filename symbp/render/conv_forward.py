"""The forward pass of a conv network's document, one presentation per layer kind.

- conv: the kernels and biases, one output position worked term by term with the input
  window it reads boxed (padding reads 0), the maps ``z`` and ``a``;
- pool: the input maps with each window's arg-max underlined (max-pool, the record's
  selector :func:`pool_marks`; the first maximum on a tie) or the window's mean, and the
  pooled maps;
- flatten: its index map ``a[l][c][i][j] → c·H·W + i·W + j`` (at most
  :data:`~.conv_pieces.MAX_ROWS` rows);
- dense: ``z`` and ``a`` as vectors.

:data:`FORWARD` maps each record class to its presentation; :func:`forward_pieces` puts
the input, every layer and the loss in order. Every number comes from the exact
evaluation (``step``: a step of :class:`~symbp.symbolic.network_run.NetworkRun`, ``ex``:
its example's quantities).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import SpecError
from ..layers import Conv, Dense, Flatten, Pool
from ..layers.base import Layer
from ..spec import Spec
from .blocks import Cell, Table
from .conv_network import settings
from .conv_pieces import (
    MAX_CHANNELS,
    MAX_ROWS,
    Piece,
    display,
    indexed,
    map_width,
    packed,
    para,
    read,
    stack,
    sup,
    vector,
    worked,
)
from .escape import Tex
from .maps import Term, grid, window
from .mathtex import number_tex, tex_number


def conv_forward(layer: Conv, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """The kernels, one output position worked term by term (its window boxed), the maps."""
    W, b, a_in, z, a = step.W[l], step.b[l], ex.a[l], ex.z[l], ex.a[l + 1]
    L = l + 1
    kh, kw = layer.kernel
    s, p = layer.stride, layer.padding
    pieces = [para(f"The kernels w{sup(L)} (kernel o, input channel c) and biases b{sup(L)}:")]
    for o, kernel in enumerate(W[:MAX_CHANNELS]):
        parts = [
            (rf"{indexed('w', L, o, c, r':', r':')} = {grid(k, digits)}", map_width(k, digits) + 6)
            for c, k in enumerate(kernel[:MAX_CHANNELS])
        ]
        bias = tex_number(b[o], digits)
        parts.append((rf"b^{{{L}}}_{{{o}}} = {bias}", len(bias) + 8))
        pieces += packed(parts)
    o, i, j = 0, 0, 0
    terms = []
    boxed: dict[int, set[tuple[int, int]]] = {}
    for c in range(len(a_in)):
        rows, cols = len(a_in[c]), len(a_in[c][0])
        boxed[c] = {
            (r, q)
            for r, q in window(s * i - p, s * j - p, kh, kw)
            if 0 <= r < rows and 0 <= q < cols
        }
        for u in range(kh):
            for v in range(kw):
                r, q = s * i + u - p, s * j + v - p
                terms.append(
                    Term(
                        Tex(indexed("w", L, o, c, u, v)),
                        W[o][c][u][v],
                        Tex(indexed("a", L - 1, c, r, q)),
                        read(a_in[c], r, q),
                    )
                )
    pieces.append(
        para(
            f"One output position worked term by term: channel {o}, row {i}, column {j}; "
            "the input window it reads is boxed"
            + (" (positions outside the input read 0, the padding)." if p else ".")
        )
    )
    pieces += stack(f"a^{{{L - 1}}}", a_in, digits, boxed=boxed)
    pieces.append(
        Piece(
            "aligned",
            worked(
                Tex(indexed("z", L, o, i, j)),
                terms,
                z[o][i][j],
                digits,
                bias=(Tex(rf"b^{{{L}}}_{{{o}}}"), b[o]),
            ),
        )
    )
    pieces.append(
        para(
            f"Every position alike gives the maps z{sup(L)} and "
            f"a{sup(L)} = {layer.activation.title}(z{sup(L)}):"
        )
    )
    pieces += stack(f"z^{{{L}}}", z, digits)
    pieces += stack(f"a^{{{L}}}", a, digits)
    return pieces


def pool_marks(layer: Pool, l: int, a_in: Any) -> dict[int, set[tuple[int, int]]]:
    """The arg-max of each window (the record's selector), as cells of the input maps."""
    marks: dict[int, set[tuple[int, int]]] = {}
    for sel in layer.constants(l + 1, a_in).values():
        for c, channel in enumerate(sel):
            for r, row in enumerate(channel):
                for q, win in enumerate(row):
                    for du, line in enumerate(win):
                        for dv, flag in enumerate(line):
                            if flag:
                                marks.setdefault(c, set()).add(
                                    (layer.stride * r + du, layer.stride * q + dv)
                                )
    return marks


def pool_forward(layer: Pool, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """The input maps with each window's arg-max underlined (or its mean), the output."""
    L = l + 1
    a_in, a = ex.a[l], ex.a[l + 1]
    marks = pool_marks(layer, l, a_in)
    if marks:
        pieces = [para("Each window's maximum (the first, on a tie) is underlined:")]
    else:
        pieces = [para(f"Each window's mean (each position weighs 1/{layer.size**2}):")]
    pieces += stack(f"a^{{{L - 1}}}", a_in, digits, marked=marks)
    pieces += stack(f"a^{{{L}}}", a, digits)
    return pieces


def flatten_forward(layer: Flatten, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """Flatten's index map: where each value of the maps goes in the vector."""
    L = l + 1
    a_in, a = ex.a[l], ex.a[l + 1]
    C, H, Wd = len(a_in), len(a_in[0]), len(a_in[0][0])
    rows = []
    for c in range(C):
        for i in range(H):
            for j in range(Wd):
                k = c * H * Wd + i * Wd + j
                if k < MAX_ROWS:
                    rows.append(
                        (
                            Cell(Tex(indexed("a", l, c, i, j))),
                            Cell(str(k)),
                            Cell(number_tex(a[k], digits)),
                        )
                    )
    listed = f" (the first {MAX_ROWS} of {C * H * Wd} listed)." if C * H * Wd > MAX_ROWS else "."
    return [
        para(
            f"Flatten orders the values by (channel, row, column): a{sup(l)} at channel c, "
            f"row i, column j goes to position c·{H * Wd} + i·{Wd} + j of a{sup(L)}" + listed
        ),
        Piece(
            "table",
            Table(
                "flatten",
                "Flatten's index map",
                ("value", "position", "number"),
                tuple(rows),
                align="lrr",
            ),
        ),
    ]


def dense_forward(layer: Dense, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """``z`` and ``a`` of a dense layer as vectors."""
    L = l + 1
    return [
        display(vector(f"z^{{{L}}}", ex.z[l], digits)),
        display(vector(f"a^{{{L}}}", ex.a[l + 1], digits)),
    ]


#: Each layer record's forward presentation: ``(layer, l, step, example, digits)``.
FORWARD: dict[type[Layer], Callable[..., list[Piece]]] = {
    Conv: conv_forward,
    Pool: pool_forward,
    Flatten: flatten_forward,
    Dense: dense_forward,
}


def presentation(
    table: dict[type[Layer], Callable[..., list[Piece]]], layer: Layer, spec: Spec
) -> Callable[..., list[Piece]]:
    """``layer``'s presentation in ``table``; a kind without one is refused in one line."""
    shown = table.get(type(layer))
    if shown is None:
        raise SpecError(f"documents of {layer.kind} layers are not available yet", file=spec.path)
    return shown


def forward_pieces(spec: Spec, step: Any, ex: Any, digits: int) -> list[Piece]:
    """The input, every layer's presentation (:data:`FORWARD`) and the loss, in order."""
    pieces: list[Piece] = [para("The input x = a⁰:")]
    pieces += (
        stack("a^{0}", ex.a[0], digits)
        if len(spec.input_shape) == 3
        else [display(vector("a^{0}", ex.a[0], digits))]
    )
    for l, layer in enumerate(spec.network):
        pieces.append(para(f"Layer {l + 1} ({layer.kind}, {settings(layer)})."))
        pieces += presentation(FORWARD, layer, spec)(layer, l, step, ex, digits)
    pieces.append(display(rf"L = {tex_number(ex.loss, digits)}"))
    return pieces
