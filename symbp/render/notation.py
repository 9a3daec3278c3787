"""The document's notation: the notation table, the parameter count, the text's names.

Indices are 1-based in the documents; the table maps each symbol onto the spec's
0-based names (``w^{l}_{jk}`` is ``W[l-1][j-1][k-1]``). A spec's ``names:``
(:mod:`symbp.spec.names`) rename the document's symbols to the text's own
(``w5`` for ``w^{2}_{11}``): :func:`name_map` gives the printers the mapping.
"""

from __future__ import annotations

import re

import sympy as sp

from ..spec import Spec
from ..spec.names import NAME
from ..symbolic import notation as nt
from .escape import Tex
from .printers import latex as _plain_latex


def _plain_tex(symbol: sp.Basic) -> Tex:
    """The document's own symbol, whatever the text calls it."""
    return Tex(_plain_latex(symbol))


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


_GREEK = frozenset(
    ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
     "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega")
)  # fmt: skip


def _part(text: str) -> str:
    """One part of a validated name in math: a letter, a Greek letter, digits or a word."""
    if text.lower() in _GREEK:
        return "\\" + text
    if len(text) == 1 or text.isdigit():
        return text
    head = text.rstrip("0123456789")
    if len(head) == 1:  # h1, o2: a letter and its number
        return text
    return rf"\mathit{{{text}}}"


def name_tex(name: str) -> Tex:
    """A text's name (validated by :mod:`symbp.spec.names`) in math.

    ``w5`` is ``w_{5}``, ``out_h1`` is ``\\mathit{out}_{h1}``, ``E_total`` is
    ``E_{\\mathit{total}}``, ``delta_o1`` is ``\\delta_{o1}``.
    """
    if not NAME.match(name):
        raise ValueError(f"not a valid name: {name!r}")
    base, _, sub = name.partition("_")
    if not sub:
        stripped = base.rstrip("0123456789")
        base, sub = stripped, base[len(stripped) :]
    return Tex(_part(base) + (f"_{{{_part(sub)}}}" if sub else ""))


def quantity_symbol(spec: Spec, quantity: str) -> sp.Symbol | None:
    """The document's symbol of a canonical quantity (``W[1][0][0]`` is ``w^{2}_{11}``).

    ``None`` for the gradients, which the documents write as fractions.
    """
    kind, *idx = re.findall(r"^\w+?(?=\[|\Z)|\d+", quantity)
    if kind == "loss":
        return nt.COST
    if kind == "a":
        l, j = (int(i) for i in idx)
        return nt.explicit_symbol("x", 0, j) if l == 0 else nt.explicit_symbol("a", l, j)
    if kind in ("W", "b", "z", "delta"):
        l, *rest = (int(i) for i in idx)
        return nt.explicit_symbol({"W": "w"}.get(kind, kind), l + 1, *rest)
    return None


def text_names(spec: Spec) -> tuple[tuple[Tex, Tex | None, str], ...]:
    """The spec's ``names:`` as table rows: the name, the document's symbol, the quantity."""
    rows = []
    for name, quantity in spec.names:
        symbol = quantity_symbol(spec, quantity)
        rows.append((name_tex(name), None if symbol is None else _plain_tex(symbol), quantity))
    return tuple(rows)


def name_map(spec: Spec) -> dict[sp.Basic, str]:
    """``{document symbol: the text's name in math}``, for the printers (:func:`text_names_in`)."""
    out: dict[sp.Basic, str] = {}
    for name, quantity in spec.names:
        symbol = quantity_symbol(spec, quantity)
        if symbol is not None:
            out[symbol] = name_tex(name)
    return out
