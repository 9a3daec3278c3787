"""Weight initialisers: seeded, reproducible draws of a layer's weight matrix.

Each :class:`Initializer` draws ``W[l]`` of shape ``(fan_out, fan_in)`` from a
``numpy.random.Generator`` (or, for ``normal`` with ``generator: legacy``, from
NumPy's legacy global generator, to reproduce texts that call
``np.random.seed(s); np.random.randn(...)``). Biases start at zero unless the
spec gives them.

=================  ==================================================
``uniform``        U(low, high)
``normal``         N(0, std²)
``xavier_uniform`` U(−r, r), r = √(6 / (fan_in + fan_out))   (Glorot)
``xavier_normal``  N(0, 2 / (fan_in + fan_out))
``he_uniform``     U(−r, r), r = √(6 / fan_in)
``he_normal``      N(0, 2 / fan_in)
=================  ==================================================
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

#: ``draw(rng, fan_in, fan_out, options, size=None)``: an array of ``size`` (default
#: ``(fan_out, fan_in)``, a dense ``W``) scaled by the fans.
Draw = Callable[..., np.ndarray]


Check = Callable[[Mapping[str, Fraction]], "tuple[str, str] | None"]


def _no_check(options: Mapping[str, Fraction]) -> tuple[str, str] | None:
    return None


@dataclass(frozen=True)
class Initializer:
    """One initialiser: option defaults (``None``: required), the draw, and the check of
    its options' domain (``(option, what is wrong)`` or ``None``; the options given are
    already finite numbers within :mod:`symbp.limits`)."""

    name: str
    options: Mapping[str, Fraction | None]
    draw: Draw
    check: Check = _no_check

    def problem(self, given: Mapping[str, Fraction]) -> tuple[str, str] | None:
        """What is wrong with ``given`` (merged over the defaults), or ``None``."""
        merged = {k: v for k, v in {**self.options, **given}.items() if v is not None}
        return self.check(merged)


def _check_uniform(o: Mapping[str, Fraction]) -> tuple[str, str] | None:
    low, high = o["low"], o["high"]
    if low > high:
        return "high", f"the range is empty: low {float(low):g} is above high {float(high):g}"
    if not math.isfinite(float(high) - float(low)):
        return "high", "high - low is beyond the largest float64; choose a smaller range"
    return None


def _check_normal(o: Mapping[str, Fraction]) -> tuple[str, str] | None:
    if o["std"] < 0:
        return "std", f"expected a standard deviation >= 0, found {float(o['std']):g}"
    return None


def _uniform(rng, fan_in, fan_out, o, size=None):  # type: ignore[no-untyped-def]
    return rng.uniform(o["low"], o["high"], size=size or (fan_out, fan_in))


def _normal(rng, fan_in, fan_out, o, size=None):  # type: ignore[no-untyped-def]
    return rng.standard_normal(size=size or (fan_out, fan_in)) * o["std"]


def _scaled_uniform(scale: Callable[[int, int], float]) -> Draw:
    def draw(rng, fan_in, fan_out, o, size=None):  # type: ignore[no-untyped-def]
        r = scale(fan_in, fan_out)
        return rng.uniform(-r, r, size=size or (fan_out, fan_in))

    return draw


def _scaled_normal(scale: Callable[[int, int], float]) -> Draw:
    def draw(rng, fan_in, fan_out, o, size=None):  # type: ignore[no-untyped-def]
        return rng.standard_normal(size=size or (fan_out, fan_in)) * scale(fan_in, fan_out)

    return draw


INITIALIZERS: dict[str, Initializer] = {
    "uniform": Initializer(
        "uniform", {"low": Fraction(-1, 2), "high": Fraction(1, 2)}, _uniform, _check_uniform
    ),
    "normal": Initializer("normal", {"std": Fraction(1, 10)}, _normal, _check_normal),
    "xavier_uniform": Initializer(
        "xavier_uniform", {}, _scaled_uniform(lambda i, o: math.sqrt(6 / (i + o)))
    ),
    "xavier_normal": Initializer(
        "xavier_normal", {}, _scaled_normal(lambda i, o: math.sqrt(2 / (i + o)))
    ),
    "he_uniform": Initializer("he_uniform", {}, _scaled_uniform(lambda i, o: math.sqrt(6 / i))),
    "he_normal": Initializer("he_normal", {}, _scaled_normal(lambda i, o: math.sqrt(2 / i))),
}


def draw_weights(
    name: str,
    options: Mapping[str, Fraction],
    layers: tuple[int, ...],
    seed: int,
    legacy: bool = False,
) -> list[np.ndarray]:
    """Draw every ``W[l]`` in layer order from one seeded generator (float64)."""
    init = INITIALIZERS[name]
    values = {k: float(v) for k, v in {**init.options, **options}.items() if v is not None}
    if legacy:  # the stream of np.random.seed(seed); np.random.randn(...)
        rng: np.random.Generator | np.random.RandomState = np.random.RandomState(seed)
    else:
        rng = np.random.default_rng(seed)
    return [
        np.asarray(init.draw(rng, fan_in, fan_out, values), dtype=np.float64)
        for fan_in, fan_out in itertools.pairwise(layers)
    ]


def draw_arrays(
    name: str,
    options: Mapping[str, Fraction],
    fans: Sequence[tuple[int, int, tuple[int, ...]]],
    seed: int,
    legacy: bool = False,
) -> list[np.ndarray]:
    """Draw one array per ``(fan_in, fan_out, shape)`` in order from one seeded generator
    (float64): the weights of any layer records, scaled by each record's fans (a conv
    kernel ``(O, C, kh, kw)`` with PyTorch's fans ``C·kh·kw`` and ``O·kh·kw``). For dense
    layers (``shape == (fan_out, fan_in)``) the stream is :func:`draw_weights`'."""
    init = INITIALIZERS[name]
    values = {k: float(v) for k, v in {**init.options, **options}.items() if v is not None}
    if legacy:
        rng: np.random.Generator | np.random.RandomState = np.random.RandomState(seed)
    else:
        rng = np.random.default_rng(seed)
    return [
        np.asarray(init.draw(rng, fan_in, fan_out, values, size=tuple(shape)), dtype=np.float64)
        for fan_in, fan_out, shape in fans
    ]
