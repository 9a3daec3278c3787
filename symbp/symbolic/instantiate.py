"""Instantiate index-form formulas with numbers: a small interpreter over SymPy trees.

``Sum`` runs over concrete ranges (several indices: the first outermost), ``Indexed``
looks up arrays, and every other node is rebuilt from the values of its arguments.
A read outside an array's range gives the value :class:`Env` is told for that array
(``outside``: zero padding, ``δ`` beyond the output) and is an error for any other array:
a negative index never wraps around to the end. Values stay rational where
the operations allow it and are otherwise kept with :data:`PRECISION`
significant digits, and within ``10^308`` in magnitude (:mod:`symbp.ops.bounded`:
a power or exponential that would leave that range raises
:class:`~symbp.ops.bounded.OutOfRange` before it is computed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp

from ..ops.bounded import check, guard, power

#: Significant digits kept for values that cannot stay rational.
PRECISION = 60


def numeric(value: sp.Expr, precision: int = PRECISION) -> sp.Expr:
    """``value`` as a SymPy Rational or a ``precision``-digit Float."""
    if value.is_Rational or value.is_Float:
        return value
    out = value.evalf(precision)
    if not out.is_number:
        raise ValueError(f"cannot evaluate {value}")
    return out


class Env:
    """Values of the symbols of one instantiation: arrays, scalars and sizes."""

    def __init__(
        self,
        arrays: Mapping[sp.IndexedBase, Any],
        scalars: Mapping[sp.Symbol, Any],
        precision: int = PRECISION,
        outside: Mapping[sp.IndexedBase, sp.Expr] | None = None,
    ) -> None:
        self.arrays = dict(arrays)
        self.scalars = dict(scalars)
        self.precision = precision
        self.outside = dict(outside or {})

    def value(self, expr: sp.Expr) -> sp.Expr:
        """The exact (or PRECISION-digit) value of ``expr`` in this environment."""
        if expr.is_Number:
            return expr
        if isinstance(expr, sp.Indexed):
            return self._read(expr)
        if isinstance(expr, sp.Symbol):
            return self.scalars[expr]
        if isinstance(expr, sp.Sum):
            return self._sum(expr)
        if isinstance(expr, sp.Add):
            return numeric(sp.Add(*(self.value(a) for a in expr.args)), self.precision)
        if isinstance(expr, sp.Mul):
            return numeric(sp.Mul(*(self.value(a) for a in expr.args)), self.precision)
        if isinstance(expr, sp.Piecewise):
            for branch, condition in expr.args:
                if self._holds(condition):
                    return self.value(branch)
            raise ValueError(f"no branch of {expr} applies")
        args = tuple(self.value(a) for a in expr.args)
        guard(expr.func, args)  # no power or exponential beyond 10^308, even for a moment
        if expr.func is sp.Pow:
            return check(numeric(power(args[0], args[1], self.precision), self.precision))
        return check(numeric(expr.func(*args), self.precision))

    def _read(self, expr: sp.Indexed) -> Any:
        """``base[indices]``; outside the range the ``outside`` value, or an error."""
        item = self.arrays[expr.base]
        for index in expr.indices:
            value = self.value(index)
            if not value.is_Integer:
                raise ValueError(f"{expr} reads the index {value}, not a whole number")
            n = int(value)
            if not 0 <= n < len(item):
                if expr.base in self.outside:
                    return self.outside[expr.base]
                raise IndexError(f"{expr} reads {expr.base} at {n}, outside 0..{len(item) - 1}")
            item = item[n]
        return item

    def _sum(self, expr: sp.Sum) -> sp.Expr:
        outer = dict(self.scalars)
        total: sp.Expr = self._sum_over(expr.function, list(expr.limits))
        self.scalars = outer
        return numeric(total, self.precision)

    def _sum_over(self, body: sp.Expr, limits: list[tuple[sp.Expr, ...]]) -> sp.Expr:
        (var, low, high), rest = limits[0], limits[1:]
        total: sp.Expr = sp.Integer(0)
        for n in range(int(self.value(low)), int(self.value(high)) + 1):
            self.scalars[var] = sp.Integer(n)
            total = total + (self._sum_over(body, rest) if rest else self.value(body))
        return total

    def _holds(self, condition: sp.Basic) -> bool:
        if condition in (sp.true, sp.false):
            return condition == sp.true
        # a comparison's sides are values (a sum in one binds its own index); and/or/not
        # of conditions hold as their parts do
        if isinstance(condition, sp.core.relational.Relational):
            return bool(condition.func(self.value(condition.lhs), self.value(condition.rhs)))
        if isinstance(condition, sp.Not):
            return not self._holds(condition.args[0])
        if isinstance(condition, (sp.And, sp.Or)):
            parts = (self._holds(arg) for arg in condition.args)
            return all(parts) if isinstance(condition, sp.And) else any(parts)
        # Indexed values first: the free symbols of ``z^1[j] > 0`` include the base ``z^1``.
        condition = condition.xreplace({e: self.value(e) for e in condition.atoms(sp.Indexed)})
        return bool(condition.xreplace({s: self.value(s) for s in condition.free_symbols}))
