"""The dense (fully connected) layer: ``z^l_j = Σ_k w^l_{jk} a^{l-1}_k + b^l_j``, ``a^l = f(z^l)``.

Shapes: the input is a vector of ``n_{l-1}`` values, the output a vector of ``size``
values; ``W`` has shape ``(size, n_{l-1})`` (row ``j`` feeds output ``j``, as the
spec's ``W[l][j][k]`` and PyTorch's ``Linear.weight``) and ``b`` shape ``(size,)``.
Initialisation: ``fan_in = n_{l-1}``, ``fan_out = size`` (PyTorch's ``Linear``).

The spec writes it ``{dense: 4, activation: sigmoid}`` in the list form of ``layers:``
(the activation defaults to sigmoid, as the old form's ``activations`` does), or as one
size of the old form ``layers: [3, 4, 1]`` with its entry of ``activations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from ..errors import quote
from ..limits import MAX_LAYER_SIZE
from ..ops.activations import Activation
from ..symbolic import notation as nt
from .base import EntryContext, IndexForm, Layer, Shape

#: The fields of a dense entry besides the kind's own (``dense: size``).
FIELDS = ("activation",)


@dataclass(frozen=True)
class Dense(Layer):
    """A dense layer of ``size`` outputs with its ``activation``."""

    kind: ClassVar[str] = "dense"
    kernel_block: ClassVar[str] = "kernels/dense.py.j2"

    size: int
    activation: Activation

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Dense:
        """``{dense: size, activation: name}``; the input must be a vector."""
        for key in entry:
            if key != cls.kind and key not in FIELDS:
                raise ctx.fail(
                    str(key), f"unknown field of a dense layer; expected {', '.join(FIELDS)}"
                )
        size = entry.get(cls.kind)
        if isinstance(size, bool) or not isinstance(size, int):
            raise ctx.fail(cls.kind, f"expected the number of outputs, found {quote(size)}")
        if size < 1:
            raise ctx.fail(cls.kind, f"expected a positive layer size, found {size}")
        if size > MAX_LAYER_SIZE:
            raise ctx.fail(
                cls.kind, f"expected a layer size of at most {MAX_LAYER_SIZE}, found {size}"
            )
        if len(input_shape) != 1:
            shown = "x".join(str(n) for n in input_shape)
            raise ctx.fail(
                None,
                f"a dense layer needs a vector input, found feature maps {shown}; "
                "put flatten before it",
            )
        activation = ctx.activation(entry.get("activation", "sigmoid"), "activation")
        return cls(size, activation)

    def __hash__(self) -> int:  # the activation record holds its options in a dict
        return hash((self.kind, self.size, self.activation.key))

    def __repr__(self) -> str:
        return f"Dense({self.size}, {self.activation.key})"

    def to_entry(self) -> dict[str, Any]:
        """``{"dense": size, "activation": ...}`` as the spec writes it."""
        return {self.kind: self.size, "activation": self.activation.spec_value}

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(size,)``."""
        return (self.size,)

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """``W``: ``(size, n_in)``, ``b``: ``(size,)``."""
        return {"W": (self.size, input_shape[0]), "b": (self.size,)}

    def fan(self, input_shape: Shape) -> tuple[int, int]:
        """``(n_in, size)``."""
        return (input_shape[0], self.size)

    def values(self, a: Any, W: Any, b: Any) -> Any:
        """``z = a Wᵀ + b`` for the rows of ``a``."""
        return a @ W.T + b

    def input_gradient(self, delta: Any, W: Any) -> Any:
        """``delta W``: ``Σ_j δ_j w_{jk}`` for every ``k`` (any leading axes of ``delta``)."""
        return delta @ W

    def weight_gradient(self, delta: Any, a: Any) -> Any:
        """``δ aᵀ``: ``∂L/∂w_{jk} = δ_j a_k`` of one row."""
        return np.outer(delta, a)

    def forward(self, l: int) -> IndexForm:
        """``z^l_j = Σ_{k=0}^{n_{l-1}-1} w^l_{jk} a^{l-1}_k + b^l_j`` (sizes as symbols)."""
        j, k = nt.j, nt.k
        rhs = (
            sp.Sum(nt.weight(l)[j, k] * nt.activation(l - 1)[k], (k, 0, nt.size(l - 1) - 1))
            + nt.bias(l)[j]
        )
        return IndexForm(nt.preactivation(l), (j,), rhs, {nt.size(l): self.size})
