"""Explicit view: one symbol per parameter and each gradient as a chain of factors.

For a small network every weight, bias, weighted input and activation gets its
own scalar symbol, written as the seeds write them (``w²₁₁``, ``b²₁``, ``z²₁``,
``a¹₄``; indices 1-based). Each parameter's gradient is a sum over the paths
from the loss down to it of the product of the local derivatives along the path,
as seed 001 writes ``∂E/∂w²₁₁ = ∂E/∂ŷ · ∂ŷ/∂z²₁ · ∂z²₁/∂w²₁₁``. Every local
derivative is ``sympy.diff`` of one definition (the loss, an activation, a
weighted sum), then written in the textbook form (``σ'`` as ``a(1 − a)``).

With one example the top of each chain is ``E`` (= ``L``); with ``m`` examples
the chains are of one example's ``L`` and ``∂E/∂θ`` is their mean.

The number of chain terms grows with the product of the layer widths, so this
view refuses networks above :data:`MAX_EXPLICIT_PARAMS` parameters; use the
layer-generic view (:mod:`.generic`) for those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..budget import check as check_budget
from ..errors import TooLargeError
from ..ops.activations import Activation
from ..ops.symbols import A, T, Y
from ..spec import Spec
from . import notation as nt

#: The explicit view refuses networks with more parameters than this.
MAX_EXPLICIT_PARAMS = 300
#: ... or whose chains would hold more factors than this in all.
MAX_CHAIN_FACTORS = 200_000


@dataclass(frozen=True)
class Factor:
    """One local derivative ``∂numerator/∂denominator``, equal to ``expr``."""

    numerator: sp.Symbol
    denominator: sp.Symbol
    expr: sp.Expr

    @property
    def derivative(self) -> sp.Derivative:
        """The unevaluated ``∂numerator/∂denominator`` (for display)."""
        return sp.Derivative(self.numerator, self.denominator, evaluate=False)


@dataclass(frozen=True)
class Chain:
    """The gradient of one parameter: ``Σ_paths Π_factors``."""

    parameter: sp.Symbol
    kind: str
    layer: int
    indices: tuple[int, ...]
    paths: tuple[tuple[Factor, ...], ...]

    @property
    def expr(self) -> sp.Expr:
        """The gradient in terms of the explicit symbols (z, a, w, x, t)."""
        return sp.Add(*(sp.Mul(*(f.expr for f in path)) for path in self.paths))

    @property
    def n_factors(self) -> int:
        return sum(len(p) for p in self.paths)


@dataclass(frozen=True)
class ExplicitModel:
    """Every scalar symbol of a small network with its definition and chains.

    ``W[l][j][k]``, ``b[l][j]``, ``z[l][j]``, ``a[l][j]`` are indexed 0-based with
    ``l`` the spec's weight-layer index (textbook layer ``l + 1``); ``a`` has the
    input ``x`` first, so ``a[0]`` is ``x`` and ``a[l + 1]`` is the output of
    weight layer ``l``. ``definitions`` maps each ``z`` and ``a`` symbol and the
    loss symbol to its defining expression.
    """

    spec: Spec
    W: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]
    b: tuple[tuple[sp.Symbol, ...], ...]
    x: tuple[sp.Symbol, ...]
    t: tuple[sp.Symbol, ...]
    z: tuple[tuple[sp.Symbol, ...], ...]
    a: tuple[tuple[sp.Symbol, ...], ...]
    loss_symbol: sp.Symbol
    loss: sp.Expr
    definitions: dict[sp.Symbol, sp.Expr] = field(repr=False)
    chains: dict[sp.Symbol, Chain] = field(repr=False)

    @property
    def parameters(self) -> list[sp.Symbol]:
        """All parameters, layer by layer: weights row by row, then biases."""
        out: list[sp.Symbol] = []
        for l in range(len(self.W)):
            out += [w for row in self.W[l] for w in row]
            out += list(self.b[l])
        return out

    def composed(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every z and a replaced by its definition (down to w, b, x)."""
        for l in range(len(self.z) - 1, -1, -1):
            expr = expr.xreplace({a: self.definitions[a] for a in self.a[l + 1]})
            expr = expr.xreplace({z: self.definitions[z] for z in self.z[l]})
        return expr

    def composed_loss(self) -> sp.Expr:
        """The loss of one example as one expression in the parameters, x and t."""
        return self.composed(self.loss)

    def values(self, evaluation_step: Any, example: int = 0) -> dict[sp.Symbol, sp.Expr]:
        """Symbol -> value at one step of an :class:`~.evaluate.Evaluation`."""
        ex = evaluation_step.examples[example]
        spec_ex = self.spec.examples[example]
        out: dict[sp.Symbol, sp.Expr] = {}
        for l in range(len(self.W)):
            for r, row in enumerate(self.W[l]):
                out.update({s: evaluation_step.W[l][r][c] for c, s in enumerate(row)})
            out.update({s: evaluation_step.b[l][r] for r, s in enumerate(self.b[l])})
            out.update({s: ex.z[l][r] for r, s in enumerate(self.z[l])})
        for l, layer in enumerate(self.a):
            out.update({s: ex.a[l][r] for r, s in enumerate(layer)})
        out.update({s: v for s, v in zip(self.t, spec_ex.t, strict=True)})
        out[self.loss_symbol] = ex.loss
        return out


def _softmax_jacobian(
    zs: tuple[sp.Symbol, ...], acts: tuple[sp.Symbol, ...], i: int, j: int
) -> sp.Expr:
    """``∂a_i/∂z_j`` of softmax, differentiated by SymPy and written in the a's."""
    norm = sp.Add(*(sp.exp(z) for z in zs))
    d = sp.diff(sp.exp(zs[i]) / norm, zs[j])
    s = sp.Dummy("S", positive=True)
    d = d.xreplace({norm: s}).xreplace({sp.exp(z): a * s for z, a in zip(zs, acts, strict=True)})
    d = d.xreplace({sp.exp(2 * z): (a * s) ** 2 for z, a in zip(zs, acts, strict=True)})
    return sp.factor(sp.cancel(d))


def _activation_factor(activation: Activation, z: sp.Symbol, a: sp.Symbol) -> sp.Expr:
    """``∂a/∂z`` of an element-wise activation in textbook form."""
    if activation.derivative_from_output is not None:
        return activation.derivative_from_output.xreplace({A: a})
    return sp.diff(activation(z), z)


def derive_explicit(spec: Spec) -> ExplicitModel:
    """Build the explicit model; raises :class:`TooLargeError` above the thresholds."""
    if spec.n_params > MAX_EXPLICIT_PARAMS:
        raise TooLargeError(
            f"the explicit view writes one chain per parameter and is limited to "
            f"{MAX_EXPLICIT_PARAMS} parameters; this net has {spec.n_params}. "
            f"Use the layer-generic view instead (symbp derive --generic)"
        )
    sizes = spec.layers
    L = spec.depth
    x = tuple(nt.explicit_symbol("x", 0, k) for k in range(sizes[0]))
    t = tuple(nt.explicit_symbol("t", L, j) for j in range(sizes[-1]))
    W = tuple(
        tuple(
            tuple(nt.explicit_symbol("w", l + 1, r, c) for c in range(sizes[l]))
            for r in range(sizes[l + 1])
        )
        for l in range(L)
    )
    b = tuple(
        tuple(nt.explicit_symbol("b", l + 1, r) for r in range(sizes[l + 1])) for l in range(L)
    )
    z = tuple(
        tuple(nt.explicit_symbol("z", l + 1, r) for r in range(sizes[l + 1])) for l in range(L)
    )
    a = (
        x,
        *(tuple(nt.explicit_symbol("a", l + 1, r) for r in range(sizes[l + 1])) for l in range(L)),
    )
    loss_symbol = nt.COST if len(spec.examples) <= 1 else nt.LOSS
    definitions: dict[sp.Symbol, sp.Expr] = {}
    for l in range(L):
        act = spec.activations[l]
        for r in range(sizes[l + 1]):
            definitions[z[l][r]] = (
                sp.Add(*(W[l][r][c] * a[l][c] for c in range(sizes[l]))) + b[l][r]
            )
            if act.elementwise:
                definitions[a[l + 1][r]] = act(z[l][r])
            else:
                definitions[a[l + 1][r]] = sp.exp(z[l][r]) / sp.Add(*(sp.exp(v) for v in z[l]))
    terms = [spec.loss.term.xreplace({Y: a[L][i], T: t[i]}) for i in range(sizes[-1])]
    loss = spec.loss.reduce(terms)
    definitions[loss_symbol] = loss

    # Local derivatives, each from sympy.diff of one definition.
    d_loss = {i: sp.diff(loss, a[L][i]) for i in range(sizes[-1])}

    def d_act(l: int, i: int, j: int) -> sp.Expr:
        act = spec.activations[l]
        if act.elementwise:
            return _activation_factor(act, z[l][j], a[l + 1][j])
        return _softmax_jacobian(z[l], a[l + 1], i, j)

    # paths_to[l][p]: the paths from the loss to z[l][p], each a tuple of factors.
    paths_to: dict[tuple[int, int], list[tuple[Factor, ...]]] = {}
    out_act = spec.activations[-1]
    for p in range(sizes[-1]):
        sources = range(sizes[-1]) if not out_act.elementwise else (p,)
        paths_to[(L - 1, p)] = [
            (
                Factor(loss_symbol, a[L][i], d_loss[i]),
                Factor(a[L][i], z[L - 1][p], d_act(L - 1, i, p)),
            )
            for i in sources
        ]
    budget = 0
    for l in range(L - 2, -1, -1):
        for p in range(sizes[l + 1]):
            check_budget()
            local_act = Factor(a[l + 1][p], z[l][p], d_act(l, p, p))
            paths = []
            for i in range(sizes[l + 2]):
                step = Factor(
                    z[l + 1][i], a[l + 1][p], sp.diff(definitions[z[l + 1][i]], a[l + 1][p])
                )
                paths += [(*path, step, local_act) for path in paths_to[(l + 1, i)]]
            budget += len(paths) * (2 * (L - l) + 1) * (sizes[l] + 1)
            if budget > MAX_CHAIN_FACTORS:
                raise TooLargeError(
                    f"the explicit chains of this net would hold more than {MAX_CHAIN_FACTORS} "
                    f"factors; use the layer-generic view instead (symbp derive --generic)"
                )
            paths_to[(l, p)] = paths
    chains: dict[sp.Symbol, Chain] = {}
    for l in range(L):
        for r in range(sizes[l + 1]):
            for c in range(sizes[l]):
                w = W[l][r][c]
                last = Factor(z[l][r], w, sp.diff(definitions[z[l][r]], w))
                chains[w] = Chain(
                    w, "w", l + 1, (r, c), tuple((*path, last) for path in paths_to[(l, r)])
                )
            last = Factor(z[l][r], b[l][r], sp.diff(definitions[z[l][r]], b[l][r]))
            chains[b[l][r]] = Chain(
                b[l][r], "b", l + 1, (r,), tuple((*path, last) for path in paths_to[(l, r)])
            )
    return ExplicitModel(spec, W, b, x, t, z, tuple(a), loss_symbol, loss, definitions, chains)


__all__ = ["MAX_EXPLICIT_PARAMS", "Chain", "ExplicitModel", "Factor", "derive_explicit"]
