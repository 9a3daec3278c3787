"""Sets of real values: an activation's outputs and the outputs a loss takes.

The records state them as SymPy sets (``Interval``, ``Reals``, ``FiniteSet``):
an :class:`~.activations.Activation` the values its outputs take
(:meth:`~.activations.Activation.output_values`), a :class:`~.losses.Loss` the outputs
``y`` at which its term is a finite real (:attr:`~.losses.Loss.output_domain`).
``None`` means unknown (a formula the spec gives): nothing is concluded from it.
"""

from __future__ import annotations

import sympy as sp

#: The open unit interval (0, 1): sigmoid's values, and what ``bce`` takes.
UNIT = sp.Interval.open(0, 1)
#: The positive reals (0, inf): what ``log y`` takes.
POSITIVE = sp.Interval.open(0, sp.oo)
#: The non-negative reals [0, inf): ReLU's values.
NON_NEGATIVE = sp.Interval(0, sp.oo)
#: Every real number.
REALS: sp.Set = sp.S.Reals


def within(values: sp.Set | None, domain: sp.Set | None) -> bool | None:
    """Whether every value of ``values`` lies in ``domain``; ``None``: unknown."""
    if values is None or domain is None:
        return None
    answer = values.is_subset(domain)
    return None if answer is None else bool(answer)


def shown(values: sp.Set) -> str:
    """``values`` as a message writes it: ``(0, 1)``, ``[0, inf)``, ``(-inf, inf)``, ``{1}``."""
    if isinstance(values, sp.Interval):
        left = "(" if values.left_open or values.start == -sp.oo else "["
        right = ")" if values.right_open or values.end == sp.oo else "]"
        return f"{left}{_end(values.start)}, {_end(values.end)}{right}"
    if isinstance(values, sp.FiniteSet):
        return "{" + ", ".join(_end(v) for v in sorted(values, key=float)) + "}"
    return str(values)


def _end(value: sp.Expr) -> str:
    if value == sp.oo:
        return "inf"
    if value == -sp.oo:
        return "-inf"
    return str(value)
