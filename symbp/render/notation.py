"""The document's notation: the notation table and the parameter count.

Indices are 1-based in the documents; the table maps each symbol onto the spec's
0-based names (``w^{l}_{jk}`` is ``W[l-1][j-1][k-1]``).
"""

from __future__ import annotations

from ..spec import Spec
from .escape import Tex


def notation_rows(spec: Spec) -> tuple[tuple[Tex, str, str], ...]:
    """The notation table: symbol (LaTeX), meaning, and the spec's / ``eval --json`` name."""
    L = spec.depth
    return (
        (Tex(r"l = 0, \dots, " + str(L)), "layer number: 0 is the input, "
         f"{L} the output", "layers[l]"),
        (Tex(r"n_l"), "number of neurons in layer l", "layers[l]"),
        (Tex(r"x_k = a^{0}_{k}"), "input k of an example", "x[k-1]"),
        (Tex(r"t_j"), "target of output j", "t[j-1]"),
        (Tex(r"w^{l}_{jk}"), "weight into neuron j of layer l from neuron k of layer l-1",
         "W[l-1][j-1][k-1]"),
        (Tex(r"b^{l}_{j}"), "bias of neuron j of layer l", "b[l-1][j-1]"),
        (Tex(r"z^{l}_{j}"), "weighted input of neuron j of layer l", "z[l-1][j-1]"),
        (Tex(r"a^{l}_{j} = f_l(z^{l}_{j})"), "activation (output) of neuron j of layer l",
         "a[l][j-1]"),
        (Tex(rf"\hat{{y}}_j = a^{{{L}}}_{{j}}"), "output j of the network", f"a[{L}][j-1]"),
        (Tex(r"\delta^{l}_{j} = \partial L / \partial z^{l}_{j}"),
         "error signal of neuron j of layer l", "delta[l-1][j-1]"),
        (Tex(r"L,\ E"), "loss of one example; cost E = mean of L over the m examples", "loss"),
        (Tex(r"\eta"), "learning rate", "optimizer.learning_rate"),
    )  # fmt: skip


def param_sum(spec: Spec) -> Tex:
    """``4 \\cdot 3 + 4 + 1 \\cdot 4 + 1 = 21``: weights and biases layer by layer."""
    terms = [
        rf"{o} \cdot {i} + {o}" for i, o in zip(spec.layers[:-1], spec.layers[1:], strict=True)
    ]
    return Tex(" + ".join(terms) + f" = {spec.n_params}")
