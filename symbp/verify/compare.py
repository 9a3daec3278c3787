"""Printed numbers and the rule that says whether an exact value matches one.

A printed number carries its precision: ``0.521`` has 3 decimals. It *confirms*
the exact value ``v`` when ``v`` rounds to it at that precision
(``|v - p| <= ½·10⁻ᵈ``); it is *truncated* when cutting ``v`` after ``d``
decimals (toward zero) gives it but rounding does not. With an explicit
``tolerance`` the rule is ``|v - p| <= tolerance`` instead.

A number printed with :data:`FLOAT64_DIGITS` or more significant digits is a float64
written in full (``repr`` of a NumPy or PyTorch float64): it is judged at float64
precision, confirmed within :data:`FLOAT64_RELATIVE` of its size (the rounding a
float trainer accumulates over many updates; exactness would ask for digits past
what the format holds).

YAML reads ``0.50`` as the number 1/2 and loses the trailing zero, so a claim
may give ``printed`` as a string (``"0.50"``) to keep the printed digits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..errors import quote
from ..limits import (
    MAX_DECIMAL_EXPONENT,
    MAX_SIGNIFICANT_DIGITS,
    NumberError,
    check_fraction,
    check_integer,
    decimal_fraction,
)

CONFIRMED = "confirmed"
TRUNCATED = "truncated"
MISMATCH = "mismatch"
#: Not what the exact value rounds to, but what the author's own habit gives
#: (:mod:`.author`: rounding carried from printed intermediates, or a truncating author).
CONSISTENT = "consistent"

#: The most decimals a printed number may show (a 50-digit number near 10^-308).
MAX_DECIMALS = MAX_DECIMAL_EXPONENT + MAX_SIGNIFICANT_DIGITS
#: A printed number: sign, digits with an optional point (group 1: the decimals),
#: optional exponent (group 2).
_PRINTED = re.compile(r"[-+]?(?:\d+(?:\.(\d*))?|\.(\d+))(?:[eE]([-+]?\d+))?")
#: Significant digits from which a printed number is read as a full float64.
FLOAT64_DIGITS = 15
#: Relative agreement that confirms a full float64 (about 4,500 units in its last place).
FLOAT64_RELATIVE = Fraction(1, 10**12)


@dataclass(frozen=True)
class Printed:
    """A number as a text prints it: exact ``value`` and ``decimals`` after the point."""

    text: str
    value: Fraction
    decimals: int

    @property
    def significant(self) -> int:
        """Significant digits printed (``0.00521`` has 3)."""
        digits = "".join(ch for ch in self.text.split("e")[0].split("E")[0] if ch.isdigit())
        return len(digits.lstrip("0")) or 1

    @property
    def unit(self) -> Fraction:
        """One unit in the last printed place (``10⁻ᵈ``)."""
        return Fraction(1, 10**self.decimals)


def parse_printed(raw: object) -> Printed:
    """Read a claim's ``printed`` value (number or numeric string); ``ValueError`` if neither.

    Whatever its type, the number goes through the limits of :mod:`symbp.limits`
    (:func:`~symbp.limits.decimal_fraction` reads a string's digits before any
    arithmetic, so ``"1e-999999999"`` or a million digits is refused at once), and
    it may have at most :data:`MAX_DECIMALS` decimals.
    """
    if isinstance(raw, bool):
        raise ValueError(f"printed must be a number, found {raw!r}")
    try:
        if isinstance(raw, int):
            return Printed(str(check_integer(raw)), Fraction(raw), 0)
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise ValueError(f"printed must be a finite number, found {raw!r}")
            return _from_text(repr(raw), raw)
        if isinstance(raw, Fraction):
            return _from_fraction(check_fraction(raw))
    except NumberError as err:
        raise ValueError(f"printed must be a number within the limits: {err}") from None
    if isinstance(raw, str):
        return _from_text(raw.strip().replace("−", "-"), raw)
    raise ValueError(f"printed must be a number or a numeric string, found {quote(raw)}")


def _from_text(text: str, raw: object) -> Printed:
    match = _PRINTED.fullmatch(text.replace("_", ""))
    if match is None:
        raise ValueError(f"printed must be a number, found {quote(raw)}")
    try:
        value = decimal_fraction(text)
    except NumberError as err:
        raise ValueError(f"printed must be a number within the limits: {err}") from None
    fraction, exponent = match.group(1) or match.group(2) or "", match.group(3)
    if exponent is not None and len(exponent.lstrip("+-").lstrip("0")) > 6:
        decimals = 10**7  # only a zero gets here (other values were range-checked)
    else:
        decimals = max(0, len(fraction) - int(exponent or 0))
    if decimals > MAX_DECIMALS:
        raise ValueError(
            f"printed {quote(raw, 40)} has {'too many' if decimals > 10**6 else decimals} "
            f"decimals (at most {MAX_DECIMALS} are accepted)"
        )
    return Printed(text, value, decimals)


def _from_fraction(value: Fraction) -> Printed:
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        raise ValueError(f"printed must be a decimal number, found {value}")
    decimals = max(twos, fives)
    return Printed(format_decimal(value, decimals), value, decimals)


def exact(value: sp.Expr) -> Fraction:
    """The exact rational value of a SymPy Rational or Float."""
    r = sp.Rational(value)
    return Fraction(int(r.p), int(r.q))


def format_decimal(value: Fraction | sp.Expr, decimals: int) -> str:
    """``value`` rounded (half to even) to ``decimals`` places, as text."""
    v = value if isinstance(value, Fraction) else exact(value)
    scaled = v * 10**decimals
    n = round(scaled)
    sign = "-" if n < 0 else ""
    digits = str(abs(n)).rjust(decimals + 1, "0")
    text = digits if decimals == 0 else f"{digits[:-decimals]}.{digits[-decimals:]}"
    return sign + text


def _truncate(v: Fraction, decimals: int) -> Fraction:
    scale = 10**decimals
    whole = abs(v.numerator) * scale // v.denominator
    return Fraction(whole if v >= 0 else -whole, scale)


def judge(
    value: sp.Expr | Fraction,
    printed: Printed,
    tolerance: Fraction | None = None,
    slack: Fraction = Fraction(0),
) -> str:
    """``confirmed``, ``truncated`` or ``mismatch`` for exact ``value`` against ``printed``.

    ``slack`` widens the rounding rule by an amount below the printed precision: a
    value computed in float arithmetic carries the noise of its operation order
    (:func:`float_slack`), and a verdict must not flip on that.
    """
    v = value if isinstance(value, Fraction) else exact(value)
    p = printed.value
    if tolerance is not None:
        return CONFIRMED if abs(v - p) <= tolerance + slack else MISMATCH
    if abs(v - p) <= printed.unit / 2 + slack:
        return CONFIRMED
    if printed.significant >= FLOAT64_DIGITS and abs(v - p) <= abs(p) * FLOAT64_RELATIVE:
        return CONFIRMED  # a float64 in full: judged at its precision
    if _truncate(v, printed.decimals) == p:
        return TRUNCATED
    return MISMATCH


#: Units in the last place a float computation may differ by with another operation order.
FLOAT_ULPS = 2
#: The spacing of each float format relative to the value (machine epsilon).
EPSILON = {"float32": Fraction(1, 2**23), "float64": Fraction(1, 2**52)}


def float_slack(value: sp.Expr | Fraction, arithmetic: str) -> Fraction:
    """The operation-order noise of ``value`` computed in ``arithmetic`` (0 for exact)."""
    if arithmetic not in EPSILON:
        return Fraction(0)
    v = value if isinstance(value, Fraction) else exact(value)
    return FLOAT_ULPS * EPSILON[arithmetic] * abs(v)


def shown_digits(printed: Printed) -> int:
    """Decimals to show a computed value with: three more than printed (at least six)."""
    return max(printed.decimals + 3, 6)
