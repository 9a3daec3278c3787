"""The flatten layer: feature maps to a vector, in PyTorch's ``flatten`` order.

Forward, for textbook layer ``l`` on an input of shape ``(C, H, W)``::

    z^l[k] = Σ_c Σ_i Σ_j [k = c·H·W + i·W + j] · a^{l-1}[c,i,j],    a^l = z^l

written with a Kronecker delta so that the engine derives the backward (the reshape of
``δ`` back to maps) like any other kind's. Element ``k`` of the output is therefore the
value at channel ``c``, row ``i``, column ``j`` with ``k = c·H·W + i·W + j``: channel
first, then row, then column, as ``torch.flatten(x, 1)`` orders ``(n, C, H, W)``. No
parameters; a vector input is refused (flatten twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from ..symbolic import notation as nt
from .base import EntryContext, IndexForm, Layer, Shape
from .conv import c, i, j, map_sizes


@dataclass(frozen=True)
class Flatten(Layer):
    """Feature maps ``(C, H, W)`` as a vector of ``C·H·W`` values (channel, row, column)."""

    kind: ClassVar[str] = "flatten"
    kernel_block: ClassVar[str] = "kernels/flatten.py.j2"
    renumbers_only: ClassVar[bool] = True

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Flatten:
        """``flatten`` (the bare word, read as ``{flatten: None}``) on feature maps."""
        for key in entry:
            if key != cls.kind:
                raise ctx.fail(str(key), "flatten takes no fields")
        if entry.get(cls.kind) not in (None, True):
            raise ctx.fail(cls.kind, "write flatten as the bare word: - flatten")
        if len(input_shape) != 3:
            raise ctx.fail(
                None,
                "flatten needs feature maps [channels, height, width]; its input is already"
                " a vector",
            )
        return cls()

    def to_entry(self) -> dict[str, Any]:
        """``{flatten: None}`` (the spec's bare word ``flatten``)."""
        return {self.kind: None}

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C·H·W,)``."""
        channels, height, width = input_shape
        return (channels * height * width,)

    def forward(self, l: int) -> IndexForm:
        """``z^l[k] = Σ_c Σ_i Σ_j [k = c·H·W + i·W + j] a^{l-1}[c,i,j]``."""
        a, z, k = nt.activation(l - 1), nt.preactivation(l), nt.k
        channels, height, width = map_sizes(l - 1)
        flat = c * height * width + i * width + j
        rhs = sp.Sum(
            sp.KroneckerDelta(k, flat) * a[c, i, j],
            (c, 0, channels - 1),
            (i, 0, height - 1),
            (j, 0, width - 1),
        )
        return IndexForm(
            z,
            (k,),
            rhs,
            shapes={z: (channels * height * width,), a: (channels, height, width)},
        )
