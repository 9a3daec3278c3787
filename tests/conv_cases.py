"""Small conv networks for the tests of conv, pool and flatten, and their PyTorch twins.

``Dense`` here is a test-only record (the spec's dense record lives in
``symbp.layers.dense`` once it is routed through the stages): its forward is the
textbook ``z^l_j = Σ_k w^l_{jk} a^{l-1}_k + b^l_j`` and its form gives no shapes, so the
engine infers them from the sums' limits as it would for any kind that gives none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import sympy as sp

from symbp.layers import Conv, Flatten, IndexForm, Layer, Pool, Shape
from symbp.ops.activations import Activation, make_activation
from symbp.symbolic import notation as nt


@dataclass(frozen=True)
class Dense(Layer):
    """A dense layer (test-only record): ``size`` outputs and an activation."""

    kind: ClassVar[str] = "dense"
    size: int
    activation: Activation

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: Any) -> Dense:
        raise NotImplementedError

    def output_shape(self, input_shape: Shape) -> Shape:
        return (self.size,)

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"W": (self.size, input_shape[0]), "b": (self.size,)}

    def forward(self, l: int) -> IndexForm:
        j, k = nt.j, nt.k
        rhs = (
            sp.Sum(nt.weight(l)[j, k] * nt.activation(l - 1)[k], (k, 0, nt.size(l - 1) - 1))
            + nt.bias(l)[j]
        )
        return IndexForm(nt.preactivation(l), (j,), rhs, {nt.size(l): self.size})


def act(name: str) -> Activation:
    return make_activation(name, {})


def grid(shape: Sequence[int], seed: int, scale: int = 4) -> Any:
    """Deterministic small rationals of ``shape`` (multiples of 1/scale in -1..1, no ties
    unless the shape is tiny)."""
    count = 1
    for n in shape:
        count *= n
    values = [
        Fraction(((seed * 7919 + 104729 * (n + 1)) % (4 * scale + 1)) - 2 * scale, 2 * scale)
        + Fraction(n, 1000)
        for n in range(count)
    ]
    return nest(values, shape)


def nest(flat: Sequence[Any], shape: Sequence[int]) -> Any:
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [nest(flat[n * step : (n + 1) * step], shape[1:]) for n in range(shape[0])]


def flat(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [v for part in value for v in flat(part)]
    return [value]


def done_when_net() -> tuple[Shape, tuple[Layer, ...]]:
    """The issue's net: input [1,5,5], conv 2 filters 2x2 + relu, max-pool 2, flatten,
    dense 1 + sigmoid (use with BCE)."""
    return (1, 5, 5), (
        Conv(2, (2, 2), 1, 0, act("relu")),
        Pool("max", 2, 2),
        Flatten(),
        Dense(1, act("sigmoid")),
    )


#: The issue's example: integer-ish parameters, one example (x 5x5, t = 1).
DONE_W: list[Any] = [
    [[[[1, -1], [0, 2]]], [[[-1, 1], [1, 0]]]],
    None,
    None,
    [[Fraction(1, 2), -1, 1, Fraction(-1, 2), 1, 0, Fraction(-1, 2), 1]],
]
DONE_B: list[Any] = [[0, Fraction(1, 2)], None, None, [Fraction(-1, 4)]]
DONE_X = [
    [[1, 0, 2, -1, 1], [0, 1, -1, 2, 0], [2, -1, 0, 1, 1], [1, 2, 1, 0, -1], [0, 1, -2, 1, 2]]
]
DONE_T = [1]
