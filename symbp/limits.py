"""The stated limits of symbp's input, and exact numbers read within them.

A spec is data from anyone, so every size that could make symbp hang or exhaust
the machine has a cap here, checked before the expensive step:

* the spec file: a regular file of at most :data:`MAX_SPEC_BYTES` (see
  :func:`symbp.fileio.read_limited`);
* numbers, in YAML and in formulas alike: integers up to :data:`MAX_INTEGER` in
  magnitude, decimals between ``10^-308`` and ``10^308`` with at most
  :data:`MAX_SIGNIFICANT_DIGITS` significant digits (:func:`decimal_fraction`,
  :func:`check_fraction`);
* seeds (``init.seed``, ``training.seed``, ``exercise.seed``, ``--seed``): whole
  numbers from 0 to :data:`MAX_SEED`, the range every NumPy generator accepts
  (:func:`check_seed`);
* networks: at most :data:`MAX_LAYERS` sizes of at most :data:`MAX_LAYER_SIZE` each
  (the commands add their own caps: the explicit view, exact evaluation, and the
  memory the compiled trainer's buffers need);
* the time the derivation and exact evaluation may take (:mod:`symbp.budget`);
* training data files (:mod:`symbp.train.data`): at most :data:`MAX_DATA_BYTES` on
  disk, :data:`MAX_DATA_ROWS` examples and :data:`MAX_DATA_VALUES` numbers per array
  (checked from an ``.npz`` member's header before it is decompressed), CSV cells of
  at most :data:`MAX_CELL_CHARS` characters.

Number text is never handed to ``int``, ``Fraction`` or SymPy before its digits and
exponent were counted, so ``1e999999999`` is refused in microseconds instead of
being expanded to a billion-digit integer.
"""

from __future__ import annotations

import re
from fractions import Fraction

from .errors import quote

#: The largest spec file read, in bytes.
MAX_SPEC_BYTES = 10 * 1024 * 1024
#: The largest integer (in magnitude) in a spec or a formula.
MAX_INTEGER = 10**18
#: Decimals must lie within 10^-MAX_DECIMAL_EXPONENT .. 10^MAX_DECIMAL_EXPONENT (or be 0).
MAX_DECIMAL_EXPONENT = 308
#: ... and have at most this many significant digits.
MAX_SIGNIFICANT_DIGITS = 50
#: The largest seed: NumPy's legacy generator (and scikit-learn) take 0 .. 2^32 - 1.
MAX_SEED = 2**32 - 1
#: A spec may list at most this many layer sizes ...
MAX_LAYERS = 64
#: ... each at most this large.
MAX_LAYER_SIZE = 10_000_000
#: The largest training data file (CSV or ``.npz``) read, in bytes.
MAX_DATA_BYTES = 512 * 1024 * 1024
#: The most examples (rows) in a training data file.
MAX_DATA_ROWS = 4_000_000
#: The most numbers in one array of a data file (features, targets): 512 MiB of float64.
MAX_DATA_VALUES = 64 * 1024 * 1024
#: The longest CSV cell (a number, a class label, a column name), in characters.
MAX_CELL_CHARS = 200

#: A plain decimal: optional sign, digits with an optional point, optional exponent.
_DECIMAL = re.compile(r"([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?")
#: Exponent text longer than this is out of range whatever its digits.
_MAX_EXPONENT_TEXT = 12
#: Bits of the numerator or denominator of a 50-digit decimal near 10^±308.
_MAX_FRACTION_BITS = ((MAX_DECIMAL_EXPONENT + MAX_SIGNIFICANT_DIGITS) * 3322) // 1000 + 1
_SMALLEST = Fraction(1, 10**MAX_DECIMAL_EXPONENT)
_LARGEST = Fraction(10**MAX_DECIMAL_EXPONENT)


class NumberError(ValueError):
    """A number outside the limits; ``str`` says which and what is allowed."""


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-12:]} ({len(text)} characters)"


def integer_limit_message(text: str) -> str:
    return f"integer {_short(text)} is larger than {MAX_INTEGER:.0e} (the limit is 10^18)"


def decimal_fraction(text: str) -> Fraction:
    """The exact value of the decimal ``text`` (``0.179``, ``-2``, ``1e-3``, ``.5``).

    Raises :class:`NumberError` when it is not a plain decimal or lies outside the
    limits (an integer above :data:`MAX_INTEGER`, more than
    :data:`MAX_SIGNIFICANT_DIGITS` significant digits, a magnitude outside
    ``10^±308``). The cost is linear in the length of ``text``.
    """
    match = _DECIMAL.fullmatch(text.replace("_", ""))
    if match is None or not (match.group(2) or match.group(3)):
        raise NumberError(f"{_short(text)!r} is not a decimal number")
    sign, whole, frac, exp_text = match.groups()
    frac = frac or ""
    if frac == "" and exp_text is None and "." not in text:  # an integer literal
        digits = whole.lstrip("0")
        if len(digits) > 19 or int(digits or "0") > MAX_INTEGER:
            raise NumberError(integer_limit_message(text))
        return Fraction(int(sign + (whole or "0")))
    digits = (whole or "") + frac
    significant = digits.strip("0")
    if not significant:
        return Fraction(0)
    if exp_text is not None and len(exp_text.lstrip("+-").lstrip("0")) > _MAX_EXPONENT_TEXT:
        raise NumberError(
            f"decimal {_short(text)} is out of range (magnitudes from 10^-{MAX_DECIMAL_EXPONENT}"
            f" to 10^{MAX_DECIMAL_EXPONENT} are accepted)"
        )
    exponent = int(exp_text) if exp_text is not None else 0
    if len(significant) > MAX_SIGNIFICANT_DIGITS:
        raise NumberError(
            f"decimal {_short(text)} has {len(significant)} significant digits "
            f"(at most {MAX_SIGNIFICANT_DIGITS} are accepted)"
        )
    leading = len(digits) - len(digits.lstrip("0"))
    magnitude = exponent + len(whole or "") - leading - 1  # the power of ten of the first digit
    at_top = magnitude == MAX_DECIMAL_EXPONENT and significant == "1"  # exactly 1e308
    if magnitude < -MAX_DECIMAL_EXPONENT or (magnitude >= MAX_DECIMAL_EXPONENT and not at_top):
        raise NumberError(
            f"decimal {_short(text)} is out of range (magnitudes from 10^-{MAX_DECIMAL_EXPONENT}"
            f" to 10^{MAX_DECIMAL_EXPONENT} are accepted)"
        )
    trailing = len(digits) - len(digits.rstrip("0"))
    scale = exponent - len(frac) + trailing  # value = significant * 10**scale
    value = Fraction(int(significant)) * Fraction(10) ** scale
    return -value if sign == "-" else value


def check_integer(value: int) -> int:
    """``value`` if its magnitude is at most :data:`MAX_INTEGER`; else :class:`NumberError`."""
    if value.bit_length() > 64 or abs(value) > MAX_INTEGER:
        digits = value.bit_length() * 30103 // 100000 + 1
        raise NumberError(
            f"integer of about {digits} digits is larger than 10^18 (the limit)"
            if digits > 40
            else integer_limit_message(str(value))
        )
    return value


def check_seed(value: object) -> int:
    """``value`` if it is a whole number from 0 to :data:`MAX_SEED`; else :class:`NumberError`.

    A bool, a float or a fraction is not a seed (the spec reader turns a whole
    YAML number such as ``3e2`` into an int first).
    """
    expected = f"expected a seed, a whole number from 0 to 2^32 - 1 ({MAX_SEED})"
    if isinstance(value, bool) or not isinstance(value, int):
        raise NumberError(f"{expected}, found {quote(value)}")
    if not 0 <= value <= MAX_SEED:
        raise NumberError(f"{expected}, found {quote(value)}")
    return value


def check_fraction(value: Fraction) -> Fraction:
    """``value`` if it is within the decimal limits (a Python number given directly).

    A fraction that is not a decimal (1/3) passes where its magnitude is within
    ``10^±308`` and its numerator and denominator are no longer than
    :data:`_MAX_FRACTION_BITS` bits (those of a 50-digit decimal at either end).
    """
    if value == 0:
        return value
    if (
        abs(value.numerator).bit_length() > _MAX_FRACTION_BITS
        or value.denominator.bit_length() > _MAX_FRACTION_BITS
    ):
        raise NumberError(
            f"fraction with a {max(abs(value.numerator), value.denominator).bit_length()}-bit "
            f"numerator or denominator is too long (at most {_MAX_FRACTION_BITS} bits)"
        )
    if not _SMALLEST <= abs(value) <= _LARGEST:
        raise NumberError(
            f"number {float(value):.3g} is out of range (magnitudes from "
            f"10^-{MAX_DECIMAL_EXPONENT} to 10^{MAX_DECIMAL_EXPONENT} are accepted)"
        )
    return value


__all__ = [
    "MAX_DECIMAL_EXPONENT",
    "MAX_INTEGER",
    "MAX_LAYERS",
    "MAX_LAYER_SIZE",
    "MAX_SEED",
    "MAX_SIGNIFICANT_DIGITS",
    "MAX_SPEC_BYTES",
    "NumberError",
    "check_fraction",
    "check_integer",
    "check_seed",
    "decimal_fraction",
]
