"""The raw structure of a spec (pydantic): field names and types only.

Numbers are :class:`fractions.Fraction` (exact); booleans and strings are not
numbers. Everything that needs more than a type (shapes, names of operators) is
checked in :mod:`.fields`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..errors import quote
from ..limits import NumberError, check_fraction, check_integer, check_seed, decimal_fraction


def to_fraction(value: object) -> Fraction:
    """``value`` as an exact fraction, within the number limits of :mod:`symbp.limits`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise ValueError(f"expected a number, found {quote(value)}")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"expected a finite number, found {quote(value)}")
            return decimal_fraction(repr(value))
        if isinstance(value, int):
            return Fraction(check_integer(value))
        return check_fraction(value)
    except NumberError as err:
        raise ValueError(f"expected a number within the limits: {err}") from None


def to_int(value: object) -> int:
    """``value`` as a whole number of magnitude at most 10^18."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, Fraction) and value.denominator == 1:
            value = value.numerator
        else:
            raise ValueError(f"expected a whole number, found {quote(value)}")
    try:
        return check_integer(value)
    except NumberError as err:
        raise ValueError(f"expected a whole number within the limits: {err}") from None


def to_seed(value: object) -> int:
    """A seed: a whole number from 0 to 2^32 - 1 (:func:`symbp.limits.check_seed`)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        value = value.numerator  # YAML's 3e2 is a fraction; a whole one is a whole number
    try:
        return check_seed(value)
    except NumberError as err:
        raise ValueError(str(err)) from None


def to_size(value: object) -> int | None:
    """A layer size: a whole number, or ``None`` for an open size (:mod:`.sizing`)."""
    return None if value is None else to_int(value)


Number = Annotated[Fraction, BeforeValidator(to_fraction)]
Int = Annotated[int, BeforeValidator(to_int)]
Seed = Annotated[int, BeforeValidator(to_seed)]
Size = Annotated[int | None, BeforeValidator(to_size)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class RawParams(StrictModel):
    W: list[list[list[Number]]] | None = None
    b: list[list[Number]] | None = None


class RawExample(StrictModel):
    x: list[Number]
    t: list[Number] | Number


class RawInit(StrictModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = "xavier_uniform"
    seed: Seed = 0
    generator: Literal["default", "legacy"] = "default"


class RawOptimizer(StrictModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = "sgd"
    learning_rate: Number = Fraction(1, 10)
    weight_decay: Number = Fraction(0)
    schedule: str | dict[str, Any] = "constant"


class RawTraining(StrictModel):
    epochs: Int = 10
    batch_size: Int | None = None
    shuffle: bool = False
    seed: Seed = 0
    drop_last: bool = False


class RawSpec(StrictModel):
    name: str | None = None
    title: str | None = None
    description: str | None = None
    source: str | None = None
    #: The list form's input shape (an int or [C, H, W]); a spec with ``input`` has its
    #: ``layers`` as entries, read by the layer records (:mod:`.network`), never here.
    input: Any = None
    layers: list[Size]
    activations: Any = "sigmoid"
    loss: Any = "half_sse"
    optimizer: RawOptimizer = RawOptimizer()
    params: RawParams | None = None
    init: RawInit | None = None
    example: RawExample | None = None
    examples: list[RawExample] | None = None
    frozen: list[str] = []
    dtype: Literal["float64", "float32"] = "float64"
    training: RawTraining = RawTraining()
    claims: list[Any] = []
    exercise: Any = None
    names: Any = None
    preprocessing: Any = None  # checked in .preprocessing
