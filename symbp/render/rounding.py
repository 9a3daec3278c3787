"""Worked lines that add up: how many digits a line's operands must carry.

A worked line ``operands = result`` prints its operands and its result rounded
(:func:`~symbp.render.mathtex.display_number`), while the result itself is the
exact value. A reader who redoes the line from the printed operands must get the
printed result: ``0.0700 - 0.0600 = 0.00997`` does not add up, ``0.07000 -
0.06003 = 0.00997`` does. :func:`operand_digits` finds the fewest significant
digits (at least the document's) at which the operands, rounded as printed,
give the printed result at the result's precision.

Exact numbers (the spec's inputs and weights such as ``0.5``) print exactly at
any precision, so only rounded operands gain digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import sympy as sp

from .mathtex import display_number

#: The most significant digits an operand is given (beyond: the line is noted).
MOST_DIGITS = 12
#: Precision of the arithmetic that redoes a line from its printed operands.
_PRECISION = 40


def as_printed(value: sp.Expr | float | int, digits: int) -> sp.Rational:
    """``value`` as printed at ``digits`` significant digits, exactly (``0.257`` -> 257/1000)."""
    return sp.Rational(display_number(value, digits))


def printed_values(
    values: Mapping[sp.Basic, sp.Expr], symbols: Iterable[sp.Basic], digits: int
) -> dict[sp.Basic, sp.Expr]:
    """``values`` of ``symbols`` as printed at ``digits`` (other symbols left out)."""
    return {s: as_printed(values[s], digits) for s in symbols if s in values}


def same_printed(a: sp.Expr, b: sp.Expr, digits: int) -> bool:
    """Whether ``a`` and ``b`` print as the same number at ``digits`` (``3.3`` = ``3.30``)."""
    return float(display_number(a, digits)) == float(display_number(b, digits))


def operand_digits(
    redo: Callable[[int], sp.Expr], result: sp.Expr, digits: int, most: int = MOST_DIGITS
) -> int | None:
    """The fewest digits ``n >= digits`` at which ``redo(n)`` (the line computed from
    its operands printed at ``n`` digits) prints as ``result`` at ``digits``; None if
    even ``most`` digits do not do it."""
    for n in range(digits, max(most, digits) + 1):
        value = sp.sympify(redo(n))
        if not value.is_Rational:
            value = value.evalf(_PRECISION)
        if value.is_number and value.is_finite and same_printed(value, result, digits):
            return n
    return None


def expression_digits(
    expr: sp.Expr,
    values: Mapping[sp.Basic, sp.Expr],
    result: sp.Expr,
    digits: int,
    most: int = MOST_DIGITS,
) -> int | None:
    """:func:`operand_digits` of ``expr`` printed with ``values`` substituted."""
    symbols = [s for s in expr.free_symbols if s in values]
    return operand_digits(
        lambda n: expr.xreplace(printed_values(values, symbols, n)), result, digits, most
    )


#: The note on a line whose printed operands cannot give its printed result.
ROUNDED_NOTE = "from the unrounded values"

__all__ = [
    "MOST_DIGITS",
    "ROUNDED_NOTE",
    "as_printed",
    "expression_digits",
    "operand_digits",
    "printed_values",
    "same_printed",
]
