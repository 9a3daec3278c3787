"""Numeric evaluation of formulas within the float64 range, so no value explodes.

Exact evaluation keeps numbers rational where it can, so a custom activation such as
``x**x`` at ``x = 10^4`` would be a 40,000-digit integer, and one more step a number
no memory holds. Every value an activation or an exact evaluation computes is kept
within ``10^308`` in magnitude (:data:`symbp.limits.MAX_DECIMAL_EXPONENT`, the
float64 range: a trainer would see ``inf`` there):

* :func:`guard` estimates a power or an exponential from its arguments' logarithms
  *before* it is computed, and raises :class:`OutOfRange` where it would be beyond
  that range; a power whose exact result would be a fraction of more than
  :data:`MAX_EXACT_DIGITS` digits (a tiny one) is computed in floating point instead
  (:func:`power`);
* :func:`check` raises :class:`OutOfRange` for a computed value beyond it;
* :func:`evaluate` evaluates a formula in ``x`` node by node with both.

:class:`OutOfRange` is a :class:`~symbp.errors.TrainingDiverged` (one line, exit 1):
the network diverges where its values leave the float64 range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import sympy as sp

from ..errors import TrainingDiverged, quote
from ..limits import MAX_DECIMAL_EXPONENT
from .symbols import X

#: An exact power is computed in floating point when its result would need more digits.
MAX_EXACT_DIGITS = 2000
#: ln(10^308): the largest argument of exp within the range.
_MAX_EXP_ARGUMENT = MAX_DECIMAL_EXPONENT * math.log(10)
_GROWING = (sp.exp, sp.sinh, sp.cosh)


class OutOfRange(TrainingDiverged):
    """A value beyond ``10^308`` in magnitude (beyond float64): the network diverges there."""


def log10_abs(value: sp.Expr) -> float | None:
    """``log10 |value|`` of a Rational or Float (``None`` for 0 or anything else)."""
    if value.is_Rational:
        if value == 0:
            return None
        return math.log10(abs(int(value.p))) - math.log10(int(value.q))
    if value.is_Float:
        mpf = mpmath.mpf(value._mpf_)  # type: ignore[attr-defined]
        return None if mpf == 0 else float(mpmath.log10(abs(mpf)))
    return None


def shown(value: sp.Expr) -> str:
    """A number for a message: ``10000``, ``0.25``, ``about 10^40000``."""
    exponent = log10_abs(value)
    if exponent is not None and abs(exponent) > 300:
        return f"about {'-' if value < 0 else ''}10^{exponent:.0f}"
    if value.is_Integer:
        return str(int(value))
    if value.is_Rational or value.is_Float:
        return f"{float(value):.6g}"
    return quote(str(value))


def _refuse(what: str) -> OutOfRange:
    return OutOfRange(
        f"{what} is beyond 10^{MAX_DECIMAL_EXPONENT} in magnitude (the float64 range): the "
        "network diverges there; use smaller inputs, weights or learning rate, or a "
        "bounded activation"
    )


def guard(func: Any, args: tuple[sp.Expr, ...], name: str = "") -> None:
    """Raise :class:`OutOfRange` where ``func(*args)`` would be beyond the range."""
    where = f" in {name}" if name else ""
    if func is sp.Pow and len(args) == 2:
        base, exponent = args
        digits = log10_abs(base)
        if digits is None or not (exponent.is_Rational or exponent.is_Float):
            return
        size = float(exponent) * digits
        if size > MAX_DECIMAL_EXPONENT:
            raise _refuse(f"the power {shown(base)}**{shown(exponent)}{where}")
    elif func in _GROWING and len(args) == 1 and (args[0].is_Rational or args[0].is_Float):
        argument = float(args[0])
        if (argument if func is sp.exp else abs(argument)) > _MAX_EXP_ARGUMENT:
            raise _refuse(f"{func.__name__}({shown(args[0])}){where}")


def power(base: sp.Expr, exponent: sp.Expr, precision: int) -> sp.Expr:
    """``base**exponent``, in ``precision``-digit floating point where exact would be huge."""
    digits = log10_abs(base)
    if (
        digits is not None
        and base.is_Rational
        and exponent.is_Rational
        and abs(float(exponent) * digits) > MAX_EXACT_DIGITS
    ):
        return sp.Pow(sp.Float(base, precision), exponent)
    return sp.Pow(base, exponent)


def check(value: sp.Expr, name: str = "") -> sp.Expr:
    """``value``, or :class:`OutOfRange` where it is beyond ``10^308`` in magnitude."""
    digits = log10_abs(value)
    if digits is not None and digits > MAX_DECIMAL_EXPONENT:
        raise _refuse(f"the value {shown(value)}{f' of {name}' if name else ''}")
    return value


def evaluate(
    formula: sp.Expr, x: sp.Expr, precision: int, describe: Callable[[], str] | None = None
) -> sp.Expr:
    """``formula`` at ``X = x``, node by node within the range (:func:`guard`, :func:`check`).

    Values stay exact where SymPy keeps them exact (a power of rationals below
    :data:`MAX_EXACT_DIGITS` digits); ``describe()`` names the formula and the point
    at the start of an :class:`OutOfRange` message.
    """

    def walk(node: sp.Basic) -> Any:
        if node == X:
            return x
        if not node.args or node.is_Number:
            return node
        args = tuple(walk(a) for a in node.args)
        if isinstance(node, sp.Expr):
            guard(node.func, args)
            if node.func is sp.Pow:
                return check(power(args[0], args[1], precision))
            return check(node.func(*args))
        return node.func(*args)

    try:
        return walk(formula)  # type: ignore[no-any-return]
    except OutOfRange as err:
        if describe is None:
            raise
        raise OutOfRange(f"{describe()}: {err.message}") from None
