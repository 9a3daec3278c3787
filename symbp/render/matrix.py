"""The delta recursion in matrix form, with the shape of every quantity.

For each layer ``l`` (output first), with ``W^l`` the ``n_l × n_{l-1}`` matrix of
the weights ``w^l_{jk}`` and ``⊙`` the element-wise product::

    δ^L = a^L − t                       (or ∇_{a^L} L ⊙ f_L'(z^L); softmax: J^T ∇_{a^L} L)
    δ^l = ((W^{l+1})^T δ^{l+1}) ⊙ f_l'(z^l)
    ∇_{W^l} L = δ^l (a^{l-1})^T,        ∇_{b^l} L = δ^l

These rows restate the generic model's index form (:mod:`symbp.symbolic.generic`):
the output row is ``a − t`` exactly where the generic model's textbook ``δ^L_j``
is ``a^L_j − t_j``. Over a batch of ``m`` examples the gradients of ``E`` are the
means of these per-example gradients.
"""

from __future__ import annotations

from ..symbolic import notation as nt
from ..symbolic.derivation import Derivation
from .blocks import Aligned, Row
from .escape import Tex


def _shape(rows: int, cols: int) -> str:
    return f"{rows} × {cols}"


def _vec(name: str, l: int | None = None) -> str:
    return rf"\mathbf{{{name}}}" + (f"^{{{l}}}" if l is not None else "")


def matrix_form(derivation: Derivation) -> Aligned:
    """One row per quantity, output layer first, each with its shape as a note."""
    spec, generic = derivation.spec, derivation.generic
    L = spec.depth
    n = spec.layers
    rows: list[Row] = []
    out = generic.layer(L)
    act = spec.activations[-1]
    a_minus_t = out.delta_textbook.rhs - (nt.activation(L)[nt.j] - nt.TARGET[nt.j]) == 0
    if a_minus_t:
        rhs = rf"{_vec('a', L)} - {_vec('t')}"
    elif act.elementwise:
        rhs = rf"\nabla_{{{_vec('a', L)}}} L \odot {act.label}'\left({_vec('z', L)}\right)"
    else:
        rhs = rf"J^{{\top}} \nabla_{{{_vec('a', L)}}} L"
    note = _shape(n[L], 1)
    if out.assumptions and a_minus_t:
        note += ", one-hot targets"
    if not act.elementwise and not a_minus_t:
        note += ", J the softmax Jacobian"
    rows.append(Row(Tex(rf"\boldsymbol{{\delta}}^{{{L}}}"), Tex(rhs), note))
    for l in range(L, 0, -1):
        if l < L:
            f = spec.activations[l - 1]
            rows.append(
                Row(
                    Tex(rf"\boldsymbol{{\delta}}^{{{l}}}"),
                    Tex(
                        rf"\left(\left(W^{{{l + 1}}}\right)^{{\top}} "
                        rf"\boldsymbol{{\delta}}^{{{l + 1}}}\right) \odot "
                        rf"{f.label}'\left({_vec('z', l)}\right)"
                    ),
                    _shape(n[l], 1),
                )
            )
        prev = _vec("x") if l == 1 else _vec("a", l - 1)
        rows.append(
            Row(
                Tex(rf"\nabla_{{W^{{{l}}}}} L"),
                Tex(rf"\boldsymbol{{\delta}}^{{{l}}} \left({prev}\right)^{{\top}}"),
                _shape(n[l], n[l - 1]),
            )
        )
        rows.append(
            Row(
                Tex(rf"\nabla_{{\mathbf{{b}}^{{{l}}}}} L"),
                Tex(rf"\boldsymbol{{\delta}}^{{{l}}}"),
                _shape(n[l], 1),
            )
        )
    return Aligned(tuple(rows))


__all__ = ["matrix_form"]
