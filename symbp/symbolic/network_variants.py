"""Variants of a network's derived formulas: the classic slips of texts on conv nets.

Each variant transforms the plans of :func:`.network_plan.plan_network` (the derived
forward and backward of every layer, :mod:`.shifted`) and is evaluated by the same exact
evaluator (:func:`.network.evaluate_network`), so the slipped numbers come from the
derived formulas with one change, never from hand-written ones. The changes are read
from the formulas' structure, never from a layer's kind:

- ``kernel-not-rotated``: in ``∂L/∂a^{l-1}`` the weight's spatial axes (its axes after
  the first two, where it has any) read reversed, ``w[o, c, k_h−1−u, k_w−1−v]``: the
  full convolution of ``δ`` with the kernel as it is, a correlation, where the kernel
  rotated by 180° is due;
- ``true-convolution``: the forward reads the kernel reversed (a true convolution
  instead of PyTorch's cross-correlation), and the backward is derived for that forward
  (its input gradient reads the kernel reversed too, its kernel gradient at the reversed
  position);
- ``sum-pooling``: the constant factor of a read (``1/k²`` of average pooling) left out,
  in the forward and in the backward;
- ``window-gradient``: the constant arrays of a layer's forward (max-pooling's selector
  of the maximum) read as 1 in its input gradient: each window's ``δ`` sent to every
  position of the window.

A variant that changes no formula of a network does not apply to it
(:func:`applicable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import sympy as sp

from . import notation as nt
from .network_plan import Plan
from .shifted import LayerDerivation

#: A variant's key, its label in reports and its transformation of one layer's derivation.
Transform = Callable[[LayerDerivation, Mapping[sp.Symbol, sp.Integer]], LayerDerivation]


def _spatial(d: LayerDerivation) -> tuple[sp.IndexedBase, tuple[int, ...], tuple[sp.Expr, ...]]:
    weight = nt.weight(d.l)
    shape = d.shapes.get(weight, ())
    return weight, tuple(range(2, len(shape))) if len(shape) > 2 else (), tuple(shape)


def _flip_reads(
    expr: sp.Expr, base: sp.IndexedBase, axes: tuple[int, ...], shape: tuple[sp.Expr, ...]
) -> sp.Expr:
    def flipped(read: sp.Indexed) -> sp.Indexed:
        indices = list(read.indices)
        for d in axes:
            indices[d] = shape[d] - 1 - indices[d]
        return base[tuple(indices)]

    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == base,
        flipped,
    )


def _with(d: LayerDerivation, forward: sp.Expr | None = None, **rhs: sp.Expr) -> LayerDerivation:
    gradients = dict(d.gradients)
    for name, value in rhs.items():
        gradients[name] = dataclasses.replace(gradients[name], rhs=value)
    evaluated = d.evaluated if forward is None else forward
    return dataclasses.replace(d, evaluated=evaluated, gradients=gradients)


def kernel_not_rotated(d: LayerDerivation, _: Mapping[sp.Symbol, sp.Integer]) -> LayerDerivation:
    weight, axes, shape = _spatial(d)
    if not axes:
        return d
    return _with(d, input=_flip_reads(d.gradients["input"].rhs, weight, axes, shape))


def true_convolution(d: LayerDerivation, _: Mapping[sp.Symbol, sp.Integer]) -> LayerDerivation:
    weight, axes, shape = _spatial(d)
    if not axes or "W" not in d.gradients:
        return d
    grad = d.gradients["W"]
    at = {grad.index[a]: shape[a] - 1 - grad.index[a] for a in axes}
    return _with(
        d,
        forward=_flip_reads(d.evaluated, weight, axes, shape),
        input=_flip_reads(d.gradients["input"].rhs, weight, axes, shape),
        W=grad.rhs.xreplace(at),
    )


def _drop_constants(expr: sp.Expr, sizes: Mapping[sp.Symbol, sp.Integer]) -> sp.Expr:
    """``expr`` with each product that reads an array stripped of its constant factors
    (numbers and the size symbols: ``a[...]/k**2`` → ``a[...]``)."""

    def constant(e: sp.Expr) -> bool:
        return not e.atoms(sp.Indexed) and e.free_symbols <= set(sizes)

    def strip(e: sp.Mul) -> sp.Expr:
        return sp.Mul(*(f for f in e.args if not constant(f)))

    return expr.replace(
        lambda e: (
            isinstance(e, sp.Mul)
            and any(isinstance(f, sp.Indexed) for f in e.args)
            and any(constant(f) for f in e.args)
        ),
        strip,
    )


def sum_pooling(d: LayerDerivation, sizes: Mapping[sp.Symbol, sp.Integer]) -> LayerDerivation:
    if "W" in d.gradients:
        return d
    return _with(
        d,
        forward=_drop_constants(d.evaluated, sizes),
        input=_drop_constants(d.gradients["input"].rhs, sizes),
    )


def window_gradient(d: LayerDerivation, _: Mapping[sp.Symbol, sp.Integer]) -> LayerDerivation:
    own = {nt.delta(d.l), nt.weight(d.l), nt.bias(d.l), nt.activation(d.l - 1)}
    rhs = d.gradients["input"].rhs
    constants = {r.base for r in rhs.atoms(sp.Indexed)} - own
    if not constants:
        return d
    return _with(
        d,
        input=rhs.replace(
            lambda e: isinstance(e, sp.Indexed) and e.base in constants, lambda e: sp.Integer(1)
        ),
    )


#: ``key: (label, transform)`` of every variant, in the order the search tries them.
VARIANTS: dict[str, tuple[str, Transform]] = {
    "kernel-not-rotated": (
        "input gradient with the kernel not rotated (a correlation where the full "
        "convolution with the kernel rotated by 180° is due)",
        kernel_not_rotated,
    ),
    "true-convolution": (
        "forward as a true convolution (kernel flipped) instead of PyTorch's cross-correlation",
        true_convolution,
    ),
    "sum-pooling": ("average pooling written as sum pooling (no 1/size²)", sum_pooling),
    "window-gradient": (
        "max-pooling's gradient sent to every position of the window, not to the maximum",
        window_gradient,
    ),
}


def variant(key: str) -> Callable[[list[Plan]], list[Plan]]:
    """The plans of a network with the variant ``key`` applied to every layer."""
    _, transform = VARIANTS[key]

    def apply(plans: list[Plan]) -> list[Plan]:
        return [dataclasses.replace(p, derivation=transform(p.derivation, p.values)) for p in plans]

    return apply


def applicable(plans: list[Plan]) -> list[str]:
    """The keys of the variants that change a formula of the network of ``plans``."""
    out = []
    for key in VARIANTS:
        changed = variant(key)(plans)
        if any(
            new.derivation.evaluated != old.derivation.evaluated
            or any(
                new.derivation.gradients[n].rhs != old.derivation.gradients[n].rhs
                for n in old.derivation.gradients
            )
            for new, old in zip(changed, plans, strict=True)
        ):
            out.append(key)
    return out
