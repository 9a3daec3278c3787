"""What an exact evaluation of a network of layer records will do, before it does it.

:func:`plan_network` derives every layer (:mod:`.shifted`), binds the size symbols of its
formulas to the network's concrete shapes, and counts the multiply-adds of one example's
step: for each formula, the number of values it fills times the product of the ranges of
its sums (a term of a sum costs one multiply-add, whatever its guards say). A
convolution's input gradient sums only over the kernel positions that cover each input
(:mod:`.shifted` collapses the output position), so it costs about what the forward does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from ..budget import check as check_budget
from ..layers.base import Layer, Shape
from . import notation as nt
from .shifted import LayerDerivation, derive_layer

#: The most multiply-adds one exact step (all its examples, forward and backward) may take:
#: about the default time budget (:data:`symbp.budget.DEFAULT_TIME_LIMIT`, 30 s) of the SymPy
#: interpreter, which does some 4·10^3 to 10^4 multiply-adds a second on one core. A 28x28
#: input with 8 kernels 3x3 (175 616) fits; the time budget stops a slower machine.
MAX_EXACT_MACS = 200_000


def shapes_of(input_shape: Shape, network: Sequence[Layer]) -> list[Shape]:
    """The shape of ``a[0] .. a[L]``."""
    shapes = [tuple(input_shape)]
    for layer in network:
        shapes.append(layer.output_shape(shapes[-1]))
    return shapes


def _bindings(
    derivation: LayerDerivation, concrete: Mapping[sp.IndexedBase, Shape]
) -> dict[sp.Symbol, sp.Integer]:
    """The size symbols' values: the record's ``sizes``, then each axis of a known array."""
    values = {s: sp.Integer(n) for s, n in derivation.forward.sizes.items()}
    pending = []
    for base, shape in concrete.items():
        symbolic = derivation.shapes.get(base)
        if symbolic is None:
            continue
        for size, n in zip(symbolic, shape, strict=True):
            if isinstance(size, sp.Symbol) and size not in values:
                values[size] = sp.Integer(n)
            else:
                pending.append((base, size, n))
    for base, size, n in pending:
        if sp.sympify(size).xreplace(values) != n:
            raise ValueError(f"{base}: the form's size {size} is not {n}")
    return values


def _cost(expr: sp.Basic, values: Mapping[sp.Symbol, sp.Integer]) -> int:
    """Multiply-adds of one evaluation of ``expr``: a product or sum of read values costs
    one, a ``Sum`` its body times its ranges multiplied out, a piecewise its dearest branch."""
    if isinstance(expr, sp.Sum):
        count = 1
        for _, lo, hi in expr.limits:
            count *= max(int(sp.sympify(hi - lo + 1).xreplace(values)), 0)
        return count * max(1, _cost(expr.function, values))
    if isinstance(expr, sp.Piecewise):
        return max(_cost(branch, values) for branch, _ in expr.args)
    if isinstance(expr, sp.Indexed | sp.Symbol | sp.Number):
        return 0
    return max(1, sum(_cost(a, values) for a in expr.args))


@dataclass(frozen=True)
class Plan:
    derivation: LayerDerivation
    values: dict[sp.Symbol, sp.Integer]
    in_shape: Shape
    out_shape: Shape
    params: dict[str, Shape]
    macs: int

    @property
    def forward(self) -> sp.Expr:
        """The forward's right-hand side with this layer's sizes substituted."""
        return self.derivation.evaluated.xreplace(self.values)

    def gradient(self, name: str) -> sp.Expr:
        """``∂L/∂(name)`` (``W``, ``b``, ``input``) with this layer's sizes substituted:
        a stride of 1 turns its divisibility conditions into ``True``."""
        return self.derivation.gradients[name].rhs.xreplace(self.values)


def plan_network(input_shape: Shape, network: Sequence[Layer]) -> list[Plan]:
    """Derive every layer and bind its sizes; the multiply-adds of one example's step."""
    shapes = shapes_of(input_shape, network)
    plans = []
    for l0, layer in enumerate(network):
        check_budget()
        l = l0 + 1
        derivation = derive_layer(layer, l)
        params = layer.parameter_shapes(shapes[l0])
        concrete: dict[sp.IndexedBase, Shape] = {
            nt.activation(l - 1): shapes[l0],
            derivation.forward.out: shapes[l],
            nt.delta(l): shapes[l],
        }
        if "W" in params:
            concrete[nt.weight(l)] = params["W"]
        if "b" in params:
            concrete[nt.bias(l)] = params["b"]
        values = _bindings(derivation, concrete)
        macs = math.prod(shapes[l]) * _cost(derivation.evaluated, values)
        for name, form in derivation.gradients.items():
            shape = shapes[l0] if name == "input" else params[name]
            macs += math.prod(shape) * _cost(form.rhs, values)
        plans.append(Plan(derivation, values, shapes[l0], shapes[l], params, macs))
    return plans


def step_cost(input_shape: Shape, network: Sequence[Layer], n_examples: int = 1) -> int:
    """The multiply-adds of one exact step over ``n_examples`` (what the cap counts)."""
    return n_examples * sum(p.macs for p in plan_network(input_shape, network))
