"""The optional ``exercise:`` block of a spec: how ``symbp exercises`` varies the numbers.

::

    exercise:
      W: {range: [-1, 1], decimals: 1}   # every weight: a multiple of 0.1 in [-1, 1] (default)
      b: {range: [-1, 1], decimals: 1}   # biases (default as W); "fixed" keeps the spec's
      x: {range: [0, 1], decimals: 1}    # inputs (default)
      t: fixed                           # targets: the spec's (default), or a range
      answer_decimals: 4                 # answers are printed with this many decimals
      tolerance: 0.0001                  # a floor under the fair tolerances (default none)
      max_abs_z: 4                       # no saturated unit: |z| <= 4 for every neuron
      max_draws: 1000                    # draws tried per student before giving up
      count: 30                          # defaults for the command line's --count, --seed
      seed: 7                            # and --ask
      ask: ["a[2][0]", loss, "grad_W[1][0][0]", "W[0][0][0]@1"]

A range's ends must be multiples of ``10^-decimals`` (the values drawn are the
integers between them over ``10^decimals``). Errors name the field, as the rest
of the spec does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import quote
from ..limits import MAX_SEED
from .schema import to_fraction, to_int

#: The kinds of drawn numbers, in the order they are drawn.
KINDS = ("W", "b", "x", "t")
FIELDS = (
    *KINDS,
    "answer_decimals",
    "tolerance",
    "max_abs_z",
    "max_draws",
    "count",
    "seed",
    "ask",
)
MAX_DECIMALS = 6
MAX_COUNT = 1000


@dataclass(frozen=True)
class Range:
    """Numbers ``k / 10^decimals`` for the integers ``k`` from ``low`` to ``high`` (scaled)."""

    low: Fraction
    high: Fraction
    decimals: int

    @property
    def scaled(self) -> tuple[int, int]:
        """The integer bounds ``(low·10^d, high·10^d)``."""
        scale = 10**self.decimals
        return int(self.low * scale), int(self.high * scale)


@dataclass(frozen=True)
class ExerciseSpec:
    """The validated ``exercise:`` block; a ``None`` range keeps the spec's own numbers."""

    W: Range | None
    b: Range | None
    x: Range | None
    t: Range | None
    answer_decimals: int = 4
    tolerance: Fraction | None = None
    max_abs_z: Fraction = Fraction(4)
    max_draws: int = 1000
    count: int | None = None
    seed: int | None = None
    ask: tuple[str, ...] = ()

    @property
    def quiz_tolerance(self) -> Fraction:
        """The least tolerance of an answer: given, else one unit in the last printed place
        (each answer's own is its fair tolerance, :mod:`symbp.exercises.tolerance`, if larger)."""
        return (
            self.tolerance if self.tolerance is not None else Fraction(1, 10**self.answer_decimals)
        )


DEFAULTS: dict[str, Range | None] = {
    "W": Range(Fraction(-1), Fraction(1), 1),
    "b": Range(Fraction(-1), Fraction(1), 1),
    "x": Range(Fraction(0), Fraction(1), 1),
    "t": None,
}


class ExerciseFieldError(ValueError):
    """A bad field of the block: ``path`` (below ``exercise``) and the message."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def _range(key: str, value: Any) -> Range | None:
    if value == "fixed":
        return None
    if not isinstance(value, Mapping):
        raise ExerciseFieldError(
            (key,), f"expected fixed or {{range: [low, high], decimals: d}}, found {quote(value)}"
        )
    unknown = [k for k in value if k not in ("range", "decimals")]
    if unknown:
        raise ExerciseFieldError((key, str(unknown[0])), "unknown option; expected range, decimals")
    bounds = value.get("range")
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise ExerciseFieldError((key, "range"), f"expected [low, high], found {quote(bounds)}")
    try:
        low, high = (to_fraction(v) for v in bounds)
        decimals = to_int(value.get("decimals", 1))
    except ValueError as err:
        raise ExerciseFieldError((key,), str(err)) from None
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ExerciseFieldError(
            (key, "decimals"), f"expected 0 to {MAX_DECIMALS} decimals, found {decimals}"
        )
    if low > high:
        raise ExerciseFieldError((key, "range"), f"expected low <= high, found [{low}, {high}]")
    scale = 10**decimals
    for end in (low, high):
        if (end * scale).denominator != 1:
            raise ExerciseFieldError(
                (key, "range"),
                f"the ends must be multiples of {Fraction(1, scale)} ({decimals} decimals), "
                f"found {float(end):g}",
            )
    return Range(low, high, decimals)


def _whole(key: str, value: Any, low: int, high: int | None = None) -> int:
    try:
        number = to_int(value)
    except ValueError as err:
        raise ExerciseFieldError((key,), str(err)) from None
    if number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ExerciseFieldError((key,), f"expected a whole number {bound}, found {number}")
    return number


def _positive(key: str, value: Any) -> Fraction:
    try:
        number = to_fraction(value)
    except ValueError as err:
        raise ExerciseFieldError((key,), str(err)) from None
    if number <= 0:
        raise ExerciseFieldError((key,), f"expected a positive number, found {number}")
    return number


def parse_exercise(value: Any) -> ExerciseSpec:
    """The :class:`ExerciseSpec` of a raw ``exercise:`` block; :class:`ExerciseFieldError`."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ExerciseFieldError(
            (), f"expected a mapping of exercise settings, found {quote(value)}"
        )
    unknown = [k for k in value if k not in FIELDS]
    if unknown:
        raise ExerciseFieldError(
            (str(unknown[0]),), f"unknown field; expected one of {', '.join(FIELDS)}"
        )
    ranges = {k: (_range(k, value[k]) if k in value else DEFAULTS[k]) for k in KINDS}
    ask = value.get("ask", [])
    if isinstance(ask, str):
        ask = [ask]
    if not isinstance(ask, list) or not all(isinstance(a, str) and a.strip() for a in ask):
        raise ExerciseFieldError(("ask",), f"expected a list of quantity names, found {quote(ask)}")
    return ExerciseSpec(
        **ranges,
        answer_decimals=_whole("answer_decimals", value.get("answer_decimals", 4), 1, 12),
        tolerance=_positive("tolerance", value["tolerance"]) if "tolerance" in value else None,
        max_abs_z=_positive("max_abs_z", value.get("max_abs_z", 4)),
        max_draws=_whole("max_draws", value.get("max_draws", 1000), 1, 100_000),
        count=_whole("count", value["count"], 1, MAX_COUNT) if "count" in value else None,
        seed=_whole("seed", value["seed"], 0, MAX_SEED) if "seed" in value else None,
        ask=tuple(a.strip() for a in ask),
    )
