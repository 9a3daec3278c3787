"""The output activation against the loss: values the loss cannot take are refused.

A loss that reads ``log y`` (``bce``, ``cross_entropy``) has no finite value at an
output ``y <= 0`` (or ``y >= 1`` for ``bce``): a tanh, identity or ReLU output would
give a NaN loss on the first step, which the trainers would report as a divergence.
The records say what they give and take (:meth:`~symbp.ops.activations.Activation.
output_values`, :attr:`~symbp.ops.losses.Loss.output_domain`); this check compares
them, by value sets, never by name. A formula's values or domain are unknown and
pass (nothing is concluded from them).
"""

from __future__ import annotations

import sympy as sp

from ..ops import ranges
from ..ops.activations import ACTIVATIONS, Activation, make_activation
from ..ops.losses import LOSSES, Loss, make_loss
from .fields import FieldContext


def check_output_range(activation: Activation, loss: Loss, n: int, ctx: FieldContext) -> None:
    """Raise a SpecError at ``loss`` where the output activation (on a layer of ``n``
    outputs) gives values outside what ``loss`` takes."""
    domain = loss.output_domain
    values = activation.output_values(n)
    if values is None or domain is None or ranges.within(values, domain) is not False:
        return
    gives = f"values in {ranges.shown(values)}"
    if isinstance(values, sp.FiniteSet):  # a normalised activation on one output
        gives = f"only {ranges.shown(values)[1:-1]} on a layer of one output"
    fixes = _activations_within(domain, n)
    others = _losses_taking(values)
    advice = f"use {' or '.join(fixes)}" if fixes else "use another output activation"
    if others:
        advice += f" (or a loss such as {others[0]})"
    raise ctx.error(
        ("loss",),
        f"{loss.name} takes outputs in {ranges.shown(domain)}; the output activation "
        f"{activation.name} gives {gives}: {advice}",
    )


def _activations_within(domain: sp.Set, n: int) -> list[str]:
    """The built-in activations (default options) whose outputs all lie in ``domain``."""
    out = []
    seen = set()
    for name, (builder, _) in ACTIVATIONS.items():
        if builder in seen:  # an alias (linear)
            continue
        seen.add(builder)
        values = make_activation(name, {}).output_values(n)
        if ranges.within(values, domain):
            out.append(name)
    return out


def _losses_taking(values: sp.Set) -> list[str]:
    """The built-in losses (default options) that take every value of ``values``."""
    return [name for name in LOSSES if ranges.within(values, make_loss(name, {}).output_domain)]


def first_loss_hint(activation: Activation, loss: Loss, n: int) -> str | None:
    """Where the loss may have no finite value before any update because of the output
    activation: one clause naming both (the spec refuses the pairs the records rule out,
    so this is for a formula, whose values or domain are unknown), else ``None``."""
    domain = loss.output_domain
    if domain == ranges.REALS or ranges.within(activation.output_values(n), domain):
        return None
    output = f"formula {activation.source!r}" if activation.source is not None else activation.name
    if domain is None:
        return (
            f"the output activation ({output}) may give values at which the loss formula "
            f"{loss.source!r} is not finite"
        )
    return (
        f"the output activation ({output}) may give values that {loss.name} cannot take "
        f"(it takes outputs in {ranges.shown(domain)})"
    )
