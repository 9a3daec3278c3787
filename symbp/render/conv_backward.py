"""The backward pass of a conv network's document, one presentation per layer kind.

From the output's ``δ`` back to the input:

- dense: ``∂L/∂W`` (the outer product ``δ · a``) and ``∂L/∂b = δ``;
- flatten: ``δ`` read back as maps (the inverse reshape);
- pool: the routed ``δ`` (max-pool: to each window's arg-max, underlined; average: an
  equal share to every position) and the conv layer's ``δ`` it gives;
- conv: one kernel gradient entry worked as the correlation it is (the input positions
  it reads boxed), all of ``∂L/∂W`` and ``∂L/∂b``, each kernel beside its 180° rotation
  and (first layer) one input position of ``∂L/∂x`` worked as the full convolution.

:data:`BACKWARD` maps each record class to its presentation; :func:`backward_pieces`
puts them in order. Every number comes from the exact evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers import Conv, Dense, Flatten, Pool
from ..layers.base import Layer
from ..spec import Spec
from .conv_forward import pool_marks, presentation
from .conv_pieces import (
    MAX_CHANNELS,
    Piece,
    display,
    indexed,
    map_width,
    packed,
    para,
    read,
    stack,
    vector,
    worked,
)
from .escape import Tex
from .maps import MAX_SHOWN, Term, grid, rotation
from .mathtex import tex_number


def dense_backward(layer: Dense, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """A dense layer's gradients, and where its ``δ`` goes next."""
    L = l + 1
    pieces: list[Piece] = []
    gw, gb = ex.grad_W[l], ex.grad_b[l]
    if gw is not None and gb is not None:
        pieces.append(
            para(
                f"Layer {L}'s gradients ∂L/∂W[{l}] = δ[{l}] · a[{l}] (outer product) "
                f"and ∂L/∂b[{l}] = δ[{l}]:"
            )
        )
        for r, row in enumerate(gw[:MAX_SHOWN]):
            pieces.append(display(vector(rf"\partial L/\partial w^{{{L}}}_{{{r},:}}", row, digits)))
        pieces.append(display(vector(rf"\partial L/\partial b^{{{L}}}", gb, digits)))
    if l > 0:
        pieces.append(
            para(f"Sent back to a[{l}]: δ[{l - 1}] after the next layer's weights (shown with it).")
        )
    return pieces


def flatten_backward(layer: Flatten, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """Flatten's ``δ`` as maps again (the inverse reshape)."""
    L = l + 1
    C, H, Wd = (len(ex.a[l]), len(ex.a[l][0]), len(ex.a[l][0][0]))
    flat = ex.delta[l]
    maps = [
        [[flat[c * H * Wd + i * Wd + j] for j in range(Wd)] for i in range(H)] for c in range(C)
    ]
    return [
        para(
            "Flatten's δ is read back in the forward's order (the inverse reshape): "
            f"δ[{l}] as maps:"
        ),
        *stack(f"\\delta^{{{L}}}", maps, digits),
    ]


def pool_backward(layer: Pool, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """The pool's routed ``δ`` and the ``δ`` of the layer before it."""
    L = l + 1
    marks = pool_marks(layer, l, ex.a[l])
    how = (
        "only the arg-max position of each window (underlined) receives the "
        "window's δ, the others 0"
        if marks
        else f"every position of a window receives 1/{layer.size**2} of its δ"
    )
    pieces = [
        para(
            f"The pool routes δ back: {how}; times the conv layer's activation "
            f"derivative this gives the conv layer's δ[{l - 1}]:"
        ),
        *stack(f"\\delta^{{{L}}}", ex.delta[l], digits),
    ]
    if l > 0:
        pieces += stack(f"\\delta^{{{L - 1}}}", ex.delta[l - 1], digits, marked=marks)
    return pieces


def conv_backward(layer: Conv, l: int, step: Any, ex: Any, digits: int) -> list[Piece]:
    """One kernel gradient entry worked as a correlation (the positions read boxed), all
    of the kernel and bias gradients, each kernel before and after its 180° rotation and,
    for the first layer, one input position worked as the full convolution."""
    W = step.W[l]
    L = l + 1
    kh, kw = layer.kernel
    s, p = layer.stride, layer.padding
    a_in, delta = ex.a[l], ex.delta[l]
    pieces = [
        para(
            f"Layer {L}'s δ[{l}] maps (above). One kernel gradient entry worked as the "
            "correlation it is: the sum over (i, j) of δ[o,i,j] a[c, s·i+u−p, s·j+v−p]; "
            "the input positions it reads are boxed."
        )
    ]
    o, c, u, v = 0, 0, 0, 0
    terms, seen = [], set()
    for i in range(len(delta[o])):
        for j in range(len(delta[o][0])):
            r, q = s * i + u - p, s * j + v - p
            if 0 <= r < len(a_in[c]) and 0 <= q < len(a_in[c][0]):
                seen.add((r, q))
            terms.append(
                Term(
                    Tex(indexed(r"\delta", L, o, i, j)),
                    delta[o][i][j],
                    Tex(indexed("a", l, c, r, q)),
                    read(a_in[c], r, q),
                )
            )
    pieces += stack(f"a^{{{l}}}", a_in, digits, boxed={c: seen})
    if len(terms) <= 3 * MAX_SHOWN:
        body = worked(
            Tex(rf"\frac{{\partial L}}{{\partial {indexed('w', L, o, c, u, v)}}}"),
            terms,
            ex.grad_W[l][o][c][u][v],
            digits,
        )
        pieces.append(Piece("aligned", body))
    else:
        pieces.append(
            display(
                rf"\frac{{\partial L}}{{\partial {indexed('w', L, o, c, u, v)}}} = "
                rf"{tex_number(ex.grad_W[l][o][c][u][v], digits)}"
            )
        )
    pieces.append(para(f"All of ∂L/∂W[{l}] and ∂L/∂b[{l}] (δ summed over its positions):"))
    for o2, kernel in enumerate(ex.grad_W[l][:MAX_CHANNELS]):
        parts = [
            (
                rf"\partial L/\partial {indexed('w', L, o2, c2, ':', ':')} = {grid(k, digits)}",
                map_width(k, digits) + 12,
            )
            for c2, k in enumerate(kernel[:MAX_CHANNELS])
        ]
        bias = tex_number(ex.grad_b[l][o2], digits)
        parts.append((rf"\partial L/\partial b^{{{L}}}_{{{o2}}} = {bias}", len(bias) + 14))
        pieces += packed(parts)
    pieces.append(
        para(
            "The input gradient is the full convolution of δ with each kernel rotated by "
            "180° (rot180 w[u][v] = w[kh−1−u][kw−1−v]):"
        )
    )
    for o2 in range(min(len(W), MAX_CHANNELS)):
        pieces.append(
            display(str(rotation(Tex(indexed("w", L, o2, 0, ":", ":")), W[o2][0], digits)))
        )
    grad = ex.grad_x if l == 0 else None
    if grad is not None:
        y = x = min(kh - 1, len(a_in[0]) - 1)
        terms = []
        for o2 in range(len(W)):
            for uu in range(kh):
                for vv in range(kw):
                    ny, nx = y + p - uu, x + p - vv
                    if ny % s or nx % s:
                        continue
                    i, j = ny // s, nx // s
                    if 0 <= i < len(delta[o2]) and 0 <= j < len(delta[o2][0]):
                        terms.append(
                            Term(
                                Tex(indexed(r"\tilde w", L, o2, 0, kh - 1 - uu, kw - 1 - vv)),
                                W[o2][0][uu][vv],
                                Tex(indexed(r"\delta", L, o2, i, j)),
                                delta[o2][i][j],
                            )
                        )
        pieces.append(
            para(
                f"One input position worked, channel 0, row {y}, column {x}: the kernel "
                "positions that touched it, each rotated weight times the δ it met."
            )
        )
        pieces.append(
            Piece(
                "aligned",
                worked(
                    Tex(rf"\frac{{\partial L}}{{\partial {indexed('x', None, 0, y, x)}}}"),
                    terms,
                    grad[0][y][x],
                    digits,
                ),
            )
        )
        pieces.append(para("The whole input gradient ∂L/∂x:"))
        pieces += stack(r"\partial L/\partial x", grad, digits)
    return pieces


#: Each layer record's backward presentation: ``(layer, l, step, example, digits)``.
BACKWARD: dict[type[Layer], Callable[..., list[Piece]]] = {
    Conv: conv_backward,
    Pool: pool_backward,
    Flatten: flatten_backward,
    Dense: dense_backward,
}


def backward_pieces(spec: Spec, step: Any, ex: Any, digits: int) -> list[Piece]:
    """The output's ``δ``, then every layer's presentation (:data:`BACKWARD`) from the
    last to the first."""
    out_l = len(spec.network) - 1
    pieces: list[Piece] = [
        para(f"The output's δ[{out_l}] = ∂L/∂z[{out_l}]:"),
        display(vector(f"\\delta^{{{out_l + 1}}}", ex.delta[out_l], digits)),
    ]
    for l in reversed(range(len(spec.network))):
        layer = spec.network[l]
        pieces += presentation(BACKWARD, layer, spec)(layer, l, step, ex, digits)
    return pieces
