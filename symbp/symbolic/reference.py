"""The reference evaluation of one example: the generic formulas, one SymPy number at a time.

The formulas of :mod:`.generic` are instantiated with the numbers by the
interpreter of :mod:`.instantiate`: sums run over the concrete layer sizes, indexed
symbols are looked up, and every operation is done in SymPy numbers (rational where
the operations allow it, else :data:`PRECISION` digits). It is slow (a SymPy
expression per scalar) and kept as the reference the fast path
(:mod:`.vectorised`) is tested against, and as its fallback where that cannot
evaluate a formula or a value saturates.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sympy as sp

from ..budget import check as check_budget
from ..spec import Spec
from . import notation as nt
from .generic import GenericModel
from .instantiate import PRECISION, Env
from .records import ExampleValues, Matrix, Vector


def finite(value: sp.Expr) -> bool:
    """A finite real number (a formula like sqrt(x) at x < 0 gives complex values)."""
    return bool(value.is_finite) and value.is_number and bool(value.is_extended_real)


def flatten(*items: Any) -> list[sp.Expr]:
    out: list[sp.Expr] = []
    for item in items:
        if isinstance(item, tuple):
            out.extend(flatten(*item))
        else:
            out.append(item)
    return out


def example_values(
    spec: Spec,
    model: GenericModel,
    W: tuple[Matrix, ...],
    b: tuple[Vector, ...],
    x: Vector,
    t: Vector,
) -> ExampleValues:
    """One example's values; recomputed with more digits where PRECISION is not enough.

    Saturated units lose everything to cancellation at 60 digits (1 − σ(10⁴) is
    about 10⁻⁴³⁴³), so a non-finite loss or delta is recomputed at 10x and 100x
    the precision before it counts as divergence; results are rounded back.
    """
    for precision in (PRECISION, 10 * PRECISION, 100 * PRECISION):
        values = _example(spec, model, W, b, x, t, precision)
        if all(finite(v) for v in flatten(values.loss, values.delta)):
            break
    if precision == PRECISION:
        return values
    return ExampleValues(
        *(
            _map_floats(getattr(values, f.name), lambda v: v.evalf(PRECISION))
            for f in fields(ExampleValues)
        )
    )


def _map_floats(item: Any, change: Any) -> Any:
    """``item`` (nested tuples of numbers) with ``change`` applied to every Float."""
    if isinstance(item, tuple):
        return tuple(_map_floats(v, change) for v in item)
    return change(item) if item.is_Float else item


def _example(
    spec: Spec,
    model: GenericModel,
    W: tuple[Matrix, ...],
    b: tuple[Vector, ...],
    x: Vector,
    t: Vector,
    precision: int,
) -> ExampleValues:
    L = spec.depth
    if precision > PRECISION:  # widen the inputs' Floats, or they cap the working precision
        W, b, x, t = (_map_floats(v, lambda f: sp.Float(f, precision)) for v in (W, b, x, t))
    arrays: dict[sp.IndexedBase, Any] = {nt.activation(0): x, nt.TARGET: t}
    scalars: dict[sp.Symbol, Any] = {nt.size(l): sp.Integer(n) for l, n in enumerate(spec.layers)}
    for l in range(1, L + 1):
        arrays[nt.weight(l)] = W[l - 1]
        arrays[nt.bias(l)] = b[l - 1]
    env = Env(arrays, scalars, precision)

    def each(expr: sp.Expr, n: int, index: sp.Symbol = nt.j) -> Vector:
        out = []
        for v in range(n):
            check_budget()  # the time budget, where no signal can interrupt (threads)
            env.scalars[index] = sp.Integer(v)
            out.append(env.value(expr))
        return tuple(out)

    zs, acts = [], [x]
    for l in range(1, L + 1):
        formulas = model.layer(l)
        zs.append(each(formulas.z.rhs, spec.layers[l]))
        env.arrays[nt.preactivation(l)] = zs[-1]
        acts.append(each(formulas.a.rhs, spec.layers[l]))
        env.arrays[nt.activation(l)] = acts[-1]
    loss = env.value(model.loss.rhs)
    deltas: dict[int, Vector] = {}
    for l in range(L, 0, -1):
        deltas[l] = each(model.layer(l).delta.rhs, spec.layers[l])
        env.arrays[nt.delta(l)] = deltas[l]
    env.scalars[nt.j] = sp.Integer(0)
    grad_x: Vector = ()
    if model.grad_input is not None:
        grad_x = each(model.grad_input.rhs, spec.layers[0], nt.k)
    grad_W, grad_b = [], []
    for l in range(1, L + 1):
        formulas = model.layer(l)
        rows = []
        for r in range(spec.layers[l]):
            env.scalars[nt.j] = sp.Integer(r)
            rows.append(each(formulas.grad_W.rhs, spec.layers[l - 1], nt.k))
        grad_W.append(tuple(rows))
        grad_b.append(each(formulas.grad_b.rhs, spec.layers[l]))
    return ExampleValues(
        tuple(zs),
        tuple(acts),
        tuple(deltas[l] for l in range(1, L + 1)),
        loss,
        tuple(grad_W),
        tuple(grad_b),
        grad_x,
    )
