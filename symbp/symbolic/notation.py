"""One naming scheme for every symbol of the derivation.

Layers are numbered as in the textbooks: layer 0 is the input (``a^0 = x``),
layer ``L`` the output (``a^L = ŷ``); the weight matrix ``w^l`` (spec ``W[l-1]``)
feeds layer ``l``. In index form ``w^l_{jk}`` is the weight into neuron ``j`` of
layer ``l`` from neuron ``k`` of layer ``l-1``; indices are 0-based in index
form and in the spec, and 1-based in the explicit (per-parameter) symbols, as
the seeds write ``w²₁₁``.

The code generator uses :func:`code_name` so that ``grad_W_2`` in a kernel reads
as ``∂E/∂w²`` in the document.
"""

from __future__ import annotations

import sympy as sp

#: Index symbols of the index form: j (neuron of this layer), k (previous layer), i (next / sum).
j, k, i = sp.symbols("j k i", integer=True, nonnegative=True)


def size(l: int) -> sp.Symbol:
    """``n_l``, the (symbolic) number of neurons in layer ``l``."""
    return sp.Symbol(f"n_{l}", integer=True, positive=True)


def _base(name: str, l: int) -> sp.IndexedBase:
    return sp.IndexedBase(f"{name}^{l}", real=True)


def weight(l: int) -> sp.IndexedBase:
    """``w^l``: indexed ``[j, k]``."""
    return _base("w", l)


def bias(l: int) -> sp.IndexedBase:
    """``b^l``: indexed ``[j]``."""
    return _base("b", l)


def preactivation(l: int) -> sp.IndexedBase:
    """``z^l``, the weighted input of layer ``l``."""
    return _base("z", l)


def activation(l: int) -> sp.IndexedBase:
    """``a^l``, the output of layer ``l`` (``a^0 = x``)."""
    return _base("a", l)


def delta(l: int) -> sp.IndexedBase:
    """``δ^l = ∂L/∂z^l``."""
    return _base("delta", l)


TARGET = sp.IndexedBase("t", real=True)
LOSS = sp.Symbol("L")
COST = sp.Symbol("E")
N_EXAMPLES = sp.Symbol("m", integer=True, positive=True)
EXAMPLE = sp.Symbol("e", integer=True, positive=True)
LOSS_E = sp.IndexedBase("L")[EXAMPLE]


def explicit_symbol(kind: str, l: int, *indices: int) -> sp.Symbol:
    """The explicit scalar symbol, e.g. ``explicit_symbol("w", 2, 0, 0)`` is ``w²₁₁``.

    ``indices`` are 0-based and printed 1-based; with an index above 9 they are
    separated by commas (``w²₁,₁₁``).
    """
    shown = [str(n + 1) for n in indices]
    sub = ("," if any(n >= 9 for n in indices) else "").join(shown)
    if kind == "x":
        return sp.Symbol(f"x_{sub}", real=True)
    if kind == "t":
        return sp.Symbol(f"t_{sub}", real=True)
    return sp.Symbol(f"{kind}^{l}_{sub}", real=True)


def code_name(kind: str, l: int) -> str:
    """Identifier in generated code for an array of layer ``l`` (1-based), e.g. ``grad_W_2``."""
    return f"{kind}_{l}"
