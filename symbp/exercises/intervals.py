"""Interval arithmetic over the SymPy trees of symbp's formulas (:mod:`mpmath.iv`).

:class:`IntervalEnv` evaluates an index-form formula (the model's ``z``, ``a``,
loss, ``δ`` and gradient formulas, an optimiser program's assignments) as
:class:`~symbp.symbolic.instantiate.Env` does, with intervals in place of
numbers: ``+ − × ÷`` and integer powers by :mod:`mpmath.iv` (outward rounding);
``exp``, ``log``, ``sqrt``, ``tanh`` and the other increasing functions from the
values at the ends; ``Max``, ``Min``, ``Abs`` and ``Piecewise`` (every branch a
condition may take over the interval, joined) exactly; an activation through its
own formula. A function none of these covers is taken as monotone over the (tiny)
interval, from its values at the ends and the middle. :func:`rounded` widens an
interval by a rounding to ``d`` decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import sympy as sp
from mpmath import iv
from mpmath.libmp import (
    finf,
    fnan,
    fninf,
    from_rational,
    round_ceiling,
    round_floor,
    to_rational,
)

#: Working digits of the interval arithmetic.
DIGITS = 40
_INCREASING = (
    sp.exp,
    sp.log,
    sp.sqrt,
    sp.tanh,
    sp.atan,
    sp.erf,
    sp.sinh,
    sp.Heaviside,
    sp.floor,
    sp.ceiling,
    sp.sign,
)
Interval = Any  # mpmath.iv.mpf
_NOT_FINITE = (finf, fninf, fnan)
#: How close (in units of the last decimal) an enclosure's ends must be to count as exact.
_EXACT = Fraction(1, 10**25)


def point(value: Any) -> Interval:
    """The narrowest interval at the working precision around the number ``value``."""
    if isinstance(value, (sp.Rational, int, Fraction)):
        f = Fraction(int(sp.Rational(value).p), int(sp.Rational(value).q))
        return _from_ends(f, f)
    return iv.mpf(str(sp.Float(value, DIGITS + 5)))


def ends(x: Interval) -> tuple[Fraction, Fraction]:
    """The ends of ``x`` as exact fractions; :class:`ArithmeticError` if one is not finite."""
    lo, hi = x._mpi_
    if lo in _NOT_FINITE or hi in _NOT_FINITE:
        raise ArithmeticError("an interval is not bounded (a formula left its domain)")
    return Fraction(*to_rational(lo)), Fraction(*to_rational(hi))


def _hull(*xs: Interval) -> Interval:
    lows, highs = zip(*(ends(x) for x in xs), strict=True)
    return _from_ends(min(lows), max(highs))


def _from_ends(lo: Fraction, hi: Fraction) -> Interval:
    """The interval from ``lo`` rounded down to ``hi`` rounded up (working precision)."""
    return iv.make_mpf(
        (
            from_rational(lo.numerator, lo.denominator, iv.prec, round_floor),
            from_rational(hi.numerator, hi.denominator, iv.prec, round_ceiling),
        )
    )


def rounded(x: Interval, decimals: int) -> Interval:
    """``x`` widened by the rounding to ``decimals``: half a unit each side, unless ``x``
    encloses one number already written with ``decimals`` places (within the working
    precision), which no student changes."""
    scale = 10**decimals
    lo, hi = ends(x)
    k = round((lo + hi) / 2 * scale)
    if abs(lo * scale - k) < _EXACT and abs(hi * scale - k) < _EXACT:
        return x
    half = Fraction(1, 2 * scale)
    return _from_ends(lo - half, hi + half)


class IntervalEnv:
    """The values of index-form formulas over intervals (as :class:`~symbp.symbolic.
    instantiate.Env` does over numbers): arrays, scalars and sizes by symbol."""

    def __init__(self, arrays: Mapping[sp.Basic, Any], scalars: Mapping[sp.Basic, Any]) -> None:
        self.arrays = dict(arrays)
        self.scalars = dict(scalars)

    def value(self, expr: sp.Expr) -> Interval:
        if expr.is_Number:
            return point(expr)
        if isinstance(expr, sp.Indexed):
            item = self.arrays[expr.base]
            for index in expr.indices:
                item = item[self.index(index)]
            return item
        if isinstance(expr, sp.Symbol):
            return self.scalars[expr]
        if isinstance(expr, sp.Sum):
            ((var, low, high),) = expr.limits
            outer = dict(self.scalars)
            total = iv.mpf(0)
            for n in range(self.index(low), self.index(high) + 1):
                self.scalars[var] = iv.mpf(n)
                total = total + self.value(expr.function)
            self.scalars = outer
            return total
        if isinstance(expr, sp.Add):
            total = iv.mpf(0)
            for a in expr.args:
                total = total + self.value(a)
            return total
        if isinstance(expr, sp.Mul):
            product = iv.mpf(1)
            for a in expr.args:
                product = product * self.value(a)
            return product
        if isinstance(expr, sp.Pow):
            return self._power(expr)
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr)
        return self._function(expr)

    def index(self, expr: sp.Expr) -> int:
        """An index expression's value (a whole number)."""
        lo, hi = ends(self.value(expr))
        if lo != hi or lo.denominator != 1:
            raise ValueError(f"not an index: {expr}")
        return int(lo)

    def _power(self, expr: sp.Pow) -> Interval:
        base = self.value(expr.base)
        exp = expr.exp
        if exp.is_Integer:
            return base ** int(exp)
        if exp == sp.Rational(1, 2):
            return iv.sqrt(base)
        power = self.value(exp)
        return iv.exp(power * iv.log(base))

    def _piecewise(self, expr: sp.Piecewise) -> Interval:
        taken: list[Interval] = []
        for branch, condition in expr.args:
            holds = self._holds(condition)
            if holds is False:
                continue
            taken.append(self.value(branch))
            if holds is True:
                break
        if not taken:
            raise ValueError(f"no branch of {expr} applies")
        return _hull(*taken)

    def _holds(self, condition: sp.Basic) -> bool | None:
        """True or False where the condition is so over the whole interval, else None."""
        if condition in (sp.true, sp.false):
            return condition == sp.true
        if not isinstance(condition, sp.core.relational.Relational):
            return None
        lo, hi = ends(self.value(condition.lhs) - self.value(condition.rhs))
        if isinstance(condition, (sp.StrictGreaterThan, sp.GreaterThan)):
            strict = isinstance(condition, sp.StrictGreaterThan)
            if lo > 0 or (not strict and lo >= 0):
                return True
            if hi < 0 or (strict and hi <= 0):
                return False
        if isinstance(condition, (sp.StrictLessThan, sp.LessThan)):
            strict = isinstance(condition, sp.StrictLessThan)
            if hi < 0 or (not strict and hi <= 0):
                return True
            if lo > 0 or (strict and lo >= 0):
                return False
        return None

    def _function(self, expr: sp.Expr) -> Interval:
        args = [self.value(a) for a in expr.args]
        if isinstance(expr, (sp.Max, sp.Min)):
            pick = max if isinstance(expr, sp.Max) else min
            bounds = [ends(a) for a in args]
            return _from_ends(pick(b[0] for b in bounds), pick(b[1] for b in bounds))
        if isinstance(expr, sp.Abs):
            lo, hi = ends(args[0])
            if lo >= 0:
                return args[0]
            if hi <= 0:
                return -args[0]
            return _from_ends(Fraction(0), max(-lo, hi))
        formula = getattr(expr.func, "formula", None)
        if formula is not None and len(args) == 1:  # an activation: through its formula
            (symbol,) = formula.free_symbols or {sp.Symbol("x")}
            inner = IntervalEnv({}, {symbol: args[0]})
            return inner.value(formula)
        if expr.func is sp.exp:
            return iv.exp(args[0])
        if expr.func is sp.log and len(args) == 1:
            return iv.log(args[0])
        return self._sampled(expr.func, args, expr.func in _INCREASING)

    @staticmethod
    def _sampled(func: Any, args: Sequence[Interval], increasing: bool) -> Interval:
        """``func`` from its values at the ends (and the middle unless increasing)."""
        bounds = [ends(a) for a in args]
        picks = [(0,), (1,)] if increasing else [(0,), (1,), (2,)]
        values = []
        for (which,) in picks:
            chosen = [b[which] if which < 2 else (b[0] + b[1]) / 2 for b in bounds]
            value = func(*(sp.Rational(c.numerator, c.denominator) for c in chosen))
            values.append(Fraction(str(sp.N(value, DIGITS))))  # tanh(1/3) stays unevaluated
        slack = max(abs(v) for v in values) * Fraction(1, 10**30) + Fraction(1, 10**60)
        return _from_ends(min(values) - slack, max(values) + slack)
