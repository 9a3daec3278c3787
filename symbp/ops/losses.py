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

*Outputs taken.* :attr:`Loss.output_domain` is the set of outputs ``y`` at which the
term is a finite real: ``bce`` ``(0, 1)``, ``cross_entropy`` ``(0, inf)`` (whatever the
targets or the logarithm), the others every real. The spec refuses an output
activation whose values leave it (:mod:`symbp.spec.output_range`).

``bce`` and ``cross_entropy`` take ``log_base`` (``e`` by default; ``2`` or
``10`` reproduce texts that use another logarithm). To add a loss, add a
builder to :data:`LOSSES`.

*Soft targets.* The formulas of ``bce`` and ``cross_entropy`` are defined for any
real target, and some texts use targets outside ``[0, 1]``. A worked example with
such targets is evaluated, verified and documented as written, with the one-line
:func:`soft_targets_note` (the loss is then not a probability model). Training
refuses them (their data is checked against ``target_domain``) unless the spec
asks for it: ``loss: {name: bce, soft_targets: true}``, whose domain is real.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from . import ranges
from .stable import LOG_Y
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
    #: The outputs ``y`` at which the term is a finite real for every target
    #: (:mod:`.ranges`: ``bce`` ``(0, 1)``, ``cross_entropy`` ``(0, inf)``, the others
    #: all reals); ``None``: unknown (a formula).
    output_domain: sp.Set | None = None

    @property
    def derivative(self) -> sp.Expr:
        """``∂ℓ/∂y`` as SymPy differentiates the term."""
        return sp.diff(self.term, Y)

    @property
    def log_term(self) -> sp.Expr | None:
        """The term written against ``log y`` (:data:`~.stable.LOG_Y`) where it reads ``y``
        only through ``log y`` and is linear in it (cross-entropy: ``-t·log_y``), else
        ``None``: with a normalised output, ``log y = z - log Σ`` then keeps it finite
        and ``δ_j = c_j - a_j Σ_i c_i`` for ``c = ∂ℓ/∂log y`` (:attr:`log_coefficient`)."""
        term = self.term.replace(
            lambda e: isinstance(e, sp.log) and e.args[0] == Y, lambda e: LOG_Y
        )
        if term.has(Y) or sp.diff(term, LOG_Y, 2) != 0:
            return None
        if sp.expand(term - sp.diff(term, LOG_Y) * LOG_Y) != 0:
            return None
        return term

    @property
    def log_coefficient(self) -> sp.Expr | None:
        """``c(t) = ∂ℓ/∂log y`` where :attr:`log_term` is ``c(t)·log y``, else ``None``."""
        term = self.log_term
        return None if term is None else sp.diff(term, LOG_Y)

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
        output_domain=ranges.REALS,
    )


def sse() -> Loss:
    return Loss(
        "sse",
        r"\mathrm{SSE}",
        (Y - T) ** 2,
        "sum",
        "the sum of squared errors over the outputs (no factor 1/2)",
        output_domain=ranges.REALS,
    )


def mse() -> Loss:
    return Loss(
        "mse",
        r"\mathrm{MSE}",
        (Y - T) ** 2,
        "mean",
        "the mean of squared errors over the outputs",
        output_domain=ranges.REALS,
    )


def mae() -> Loss:
    return Loss(
        "mae",
        r"\mathrm{MAE}",
        sp.Abs(Y - T),
        "mean",
        "the mean of absolute errors over the outputs",
        output_domain=ranges.REALS,
    )


def _entropy_params(log_base: object, soft_targets: bool) -> dict[str, object]:
    params: dict[str, object] = {} if log_base in (None, "e") else {"log_base": log_base}
    if soft_targets:
        params["soft_targets"] = True
    return params


def bce(log_base: object = "e", soft_targets: bool = False) -> Loss:
    log = _log(log_base)
    return Loss(
        "bce",
        r"\mathrm{BCE}",
        -(T * log(Y) + (1 - T) * log(1 - Y)),
        "sum",
        "binary cross-entropy summed over the outputs"
        + ("" if log_base in (None, "e") else f", logarithm to base {log_base}"),
        target_domain="real" if soft_targets else "unit_interval",
        params=_entropy_params(log_base, soft_targets),
        output_domain=ranges.UNIT,  # log y and log(1 - y)
    )


def cross_entropy(log_base: object = "e", soft_targets: bool = False) -> Loss:
    log = _log(log_base)
    return Loss(
        "cross_entropy",
        r"\mathrm{CE}",
        -T * log(Y),
        "sum",
        "categorical cross-entropy summed over the outputs (one-hot targets)"
        + ("" if log_base in (None, "e") else f", logarithm to base {log_base}"),
        target_domain="real" if soft_targets else "unit_interval",
        params=_entropy_params(log_base, soft_targets),
        output_domain=ranges.POSITIVE,  # log y
    )


#: The losses whose targets may lie outside ``[0, 1]`` in a worked example (with a note).
SOFT = ("bce", "cross_entropy")


def soft_targets_note(loss: Loss, targets: Sequence[Sequence[object]]) -> str | None:
    """One line where a probability loss is given targets outside ``[0, 1]``, else ``None``.

    ``targets`` are the worked example's targets, one sequence per example.
    """
    if loss.name not in SOFT:
        return None
    for e, t in enumerate(targets):
        outside = [v for v in t if not 0 <= v <= 1]  # type: ignore[operator]
        if outside:
            shown = ", ".join(f"{float(v):g}" for v in t)  # type: ignore[arg-type]
            return (
                f"note: {loss.name} with targets outside [0, 1] (example {e}: t = [{shown}]): "
                "the loss is then not a probability model, its formula is evaluated as written"
            )
    return None


def hinge() -> Loss:
    return Loss(
        "hinge",
        r"\mathrm{hinge}",
        sp.Piecewise((1 - T * Y, T * Y < 1), (0, True)),
        "sum",
        "the hinge loss max(0, 1 - t y) summed over the outputs (targets -1 or 1)",
        target_domain="sign",
        output_domain=ranges.REALS,
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
    "bce": (bce, ("log_base", "soft_targets")),
    "cross_entropy": (cross_entropy, ("log_base", "soft_targets")),
    "hinge": (hinge, ()),
}

LOG_BASES = ("e", 2, 10)


def make_loss(name: str, options: Mapping[str, object]) -> Loss:
    """Build the built-in loss ``name`` with ``options`` (already validated)."""
    builder, _ = LOSSES[name]
    return builder(**options)


__all__ = [
    "LOG_BASES",
    "LOSSES",
    "SOFT",
    "Fraction",
    "Loss",
    "custom",
    "make_loss",
    "soft_targets_note",
]
