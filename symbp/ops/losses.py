"""Loss functions, with their scaling spelled out.

A :class:`Loss` is a per-output term ``ℓ(y, t)`` and a reduction over the
outputs of one example: ``sum`` or ``mean``. The loss of one example is
``L = Σ_i ℓ(y_i, t_i)`` (or ``(1/n) Σ_i``), and over several examples or a
minibatch symbp always takes the mean of the per-example losses,
``E = (1/m) Σ_e L_e`` (seed 001's definition).

=================  =========================================  =========
name               per-example loss L                         targets
=================  =========================================  =========
``half_sse``       ½ Σ_i (y_i − t_i)²                          real
``sse``            Σ_i (y_i − t_i)²                            real
``mse``            (1/n) Σ_i (y_i − t_i)²                      real
``mae``            (1/n) Σ_i |y_i − t_i|                       real
``bce``            −Σ_i [t_i ln y_i + (1 − t_i) ln(1 − y_i)]   [0, 1]
``cross_entropy``  −Σ_i t_i ln y_i                             [0, 1]
``hinge``          Σ_i max(0, 1 − t_i y_i)                     −1 or 1
=================  =========================================  =========

At the hinge's kink (``t y = 1``) its derivative is taken as 0, the same
convention as ``relu'(0) = 0``.

``bce`` and ``cross_entropy`` take ``log_base`` (``e`` by default; ``2`` or
``10`` reproduce texts that use another logarithm). To add a loss, add a
builder to :data:`LOSSES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from .symbols import T, Y


@dataclass(frozen=True)
class Loss:
    """One loss: ``term`` is ``ℓ(Y, T)``; ``reduction`` is ``"sum"`` or ``"mean"``."""

    name: str
    label: str
    term: sp.Expr
    reduction: str
    scaling: str
    target_domain: str = "real"
    params: Mapping[str, object] = field(default_factory=dict)
    source: str | None = None

    @property
    def derivative(self) -> sp.Expr:
        """``∂ℓ/∂y`` as SymPy differentiates the term."""
        return sp.diff(self.term, Y)

    def reduce(self, terms: list[sp.Expr]) -> sp.Expr:
        """The loss of one example from its per-output terms."""
        total = sp.Add(*terms)
        return total / len(terms) if self.reduction == "mean" else total

    def output_scale(self, n_outputs: int) -> sp.Rational:
        """The factor the reduction puts on each term: 1 or 1/n."""
        return sp.Rational(1, n_outputs) if self.reduction == "mean" else sp.Integer(1)

    @property
    def title(self) -> str:
        """The per-output loss ``ℓ(y, t)`` in words, as the textbooks name it."""
        return LOSS_TITLES.get(self.name, self.name.replace("_", " "))

    @property
    def key(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        if self.source is not None:
            return f"formula({self.source})"
        return f"{self.name}({opts})" if opts else self.name


#: The losses' names in words where the spec's name is not how the textbooks write it.
LOSS_TITLES = {
    "half_sse": "half squared error",
    "sse": "squared error",
    "mse": "mean squared error",
    "mae": "mean absolute error",
    "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
}


def _log(base: object) -> Callable[[sp.Expr], sp.Expr]:
    if base in (None, "e"):
        return sp.log
    b = sp.Integer(int(base))  # type: ignore[call-overload]
    return lambda v: sp.log(v) / sp.log(b)


def half_sse() -> Loss:
    return Loss(
        "half_sse",
        r"\tfrac{1}{2}\,\mathrm{SSE}",
        (Y - T) ** 2 / 2,
        "sum",
        "one half of the sum of squared errors over the outputs",
    )


def sse() -> Loss:
    return Loss(
        "sse",
        r"\mathrm{SSE}",
        (Y - T) ** 2,
        "sum",
        "the sum of squared errors over the outputs (no factor 1/2)",
    )


def mse() -> Loss:
    return Loss(
        "mse", r"\mathrm{MSE}", (Y - T) ** 2, "mean", "the mean of squared errors over the outputs"
    )


def mae() -> Loss:
    return Loss(
        "mae",
        r"\mathrm{MAE}",
        sp.Abs(Y - T),
        "mean",
        "the mean of absolute errors over the outputs",
    )


def bce(log_base: object = "e") -> Loss:
    log = _log(log_base)
    return Loss(
        "bce",
        r"\mathrm{BCE}",
        -(T * log(Y) + (1 - T) * log(1 - Y)),
        "sum",
        "binary cross-entropy summed over the outputs"
        + ("" if log_base in (None, "e") else f", logarithm to base {log_base}"),
        target_domain="unit_interval",
        params={} if log_base in (None, "e") else {"log_base": log_base},
    )


def cross_entropy(log_base: object = "e") -> Loss:
    log = _log(log_base)
    return Loss(
        "cross_entropy",
        r"\mathrm{CE}",
        -T * log(Y),
        "sum",
        "categorical cross-entropy summed over the outputs (one-hot targets)"
        + ("" if log_base in (None, "e") else f", logarithm to base {log_base}"),
        target_domain="unit_interval",
        params={} if log_base in (None, "e") else {"log_base": log_base},
    )


def hinge() -> Loss:
    return Loss(
        "hinge",
        r"\mathrm{hinge}",
        sp.Piecewise((1 - T * Y, T * Y < 1), (0, True)),
        "sum",
        "the hinge loss max(0, 1 - t y) summed over the outputs (targets -1 or 1)",
        target_domain="sign",
    )


def custom(term: sp.Expr, source: str) -> Loss:
    """A loss given as a formula in ``y`` and ``t``; summed over the outputs."""
    return Loss(
        "formula", r"\ell", term, "sum", "the given formula summed over the outputs", source=source
    )


#: Built-in losses by spec name: name -> (builder, accepted options).
LOSSES: dict[str, tuple[Callable[..., Loss], tuple[str, ...]]] = {
    "half_sse": (half_sse, ()),
    "sse": (sse, ()),
    "mse": (mse, ()),
    "mae": (mae, ()),
    "bce": (bce, ("log_base",)),
    "cross_entropy": (cross_entropy, ("log_base",)),
    "hinge": (hinge, ()),
}

LOG_BASES = ("e", 2, 10)


def make_loss(name: str, options: Mapping[str, object]) -> Loss:
    """Build the built-in loss ``name`` with ``options`` (already validated)."""
    builder, _ = LOSSES[name]
    return builder(**options)


__all__ = ["LOG_BASES", "LOSSES", "Fraction", "Loss", "custom", "make_loss"]
