"""The 2-D pooling layer (max or average), as a record.

Forward, for textbook layer ``l`` (window ``k × k``, stride ``s``, no padding)::

    max:  z^l[c,i,j] = Σ_u Σ_v m^l[c,i,j,u,v] · a^{l-1}[c, s·i+u, s·j+v]
    avg:  z^l[c,i,j] = Σ_u Σ_v a^{l-1}[c, s·i+u, s·j+v] / k²

and ``a^l = z^l`` (no activation). Max-pooling reads its *selector* ``m^l``:
``m^l[c,i,j,u,v] = 1`` at the first maximum of the window ``(c, i, j)`` in row-major
order (the smallest ``u``, then the smallest ``v``, among the positions holding the
window's largest value) and 0 elsewhere, PyTorch's ``max_pool2d`` convention for ties.
The selector is a constant of the forward values (:meth:`Pool.constants`): the
derivative of a max is taken as the derivative of the selected value, so the gradient
is routed to the first maximum only.

Shapes: the input ``(C, H, W)``, the output ``(C, (H − k)/s + 1, (W − k)/s + 1)``; the
stride (by default the window size) must tile the input exactly. No parameters.

The spec writes it ``{pool: max, size: 2}`` (``stride`` defaults to ``size``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from ..errors import quote
from ..symbolic import notation as nt
from .base import EntryContext, IndexForm, Layer, Shape
from .conv import STRIDE, c, i, j, map_sizes, u, v
from .fields import MAX_KERNEL, MAX_STRIDE, check_fields, feature_maps, tiles, whole

#: The fields of a pool entry besides the kind's own (``pool: max|avg``).
FIELDS = ("size", "stride")
#: The pooling modes.
MODES = ("max", "avg")
#: The window's rows and columns.
SIZE = sp.Symbol("k", integer=True, positive=True)


def selector(l: int) -> sp.IndexedBase:
    """``m^l``, max-pooling's selector of the first maximum, indexed ``[c,i,j,u,v]``."""
    return sp.IndexedBase(f"m^{l}", real=True)


@dataclass(frozen=True)
class Pool(Layer):
    """Max or average pooling over ``size × size`` windows moved by ``stride``."""

    kind: ClassVar[str] = "pool"
    kernel_block: ClassVar[str] = "kernels/pool.py.j2"

    mode: str
    size: int
    stride: int

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Pool:
        """``{pool: max|avg, size, stride}`` on feature maps."""
        check_fields(entry, cls.kind, FIELDS, ctx)
        mode = entry.get(cls.kind)
        if mode not in MODES:
            raise ctx.fail(cls.kind, f"expected max or avg, found {quote(mode)}")
        _, height, width = feature_maps(input_shape, cls.kind, ctx)
        if "size" not in entry:
            raise ctx.fail("size", "a pool layer needs its window size: size: n")
        size = whole(entry["size"], "size", "the window size", 1, MAX_KERNEL, ctx)
        stride = whole(entry.get("stride", size), "stride", "the stride", 1, MAX_STRIDE, ctx)
        tiles(height, size, stride, "rows", "size", cls.kind, ctx)
        tiles(width, size, stride, "columns", "size", cls.kind, ctx)
        return cls(mode, size, stride)

    def to_entry(self) -> dict[str, Any]:
        """``{pool: max|avg, size, stride}``."""
        return {self.kind: self.mode, "size": self.size, "stride": self.stride}

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, (H − k)/s + 1, (W − k)/s + 1)``."""
        channels, height, width = input_shape
        k, s = self.size, self.stride
        return (channels, (height - k) // s + 1, (width - k) // s + 1)

    def forward(self, l: int) -> IndexForm:
        """Max: ``Σ_u Σ_v m^l[c,i,j,u,v] a^{l-1}[c,s·i+u,s·j+v]``; avg: ``Σ_u Σ_v a/k²``."""
        a, z, s, k = nt.activation(l - 1), nt.preactivation(l), STRIDE, SIZE
        c_in, h_in, w_in = map_sizes(l - 1)
        _, h_out, w_out = map_sizes(l)
        read = a[c, s * i + u, s * j + v]
        shapes: dict[sp.IndexedBase, tuple[sp.Expr, ...]] = {
            z: (c_in, h_out, w_out),
            a: (c_in, h_in, w_in),
        }
        if self.mode == "max":
            m = selector(l)
            body = m[c, i, j, u, v] * read
            shapes[m] = (c_in, h_out, w_out, k, k)
        else:
            body = read / k**2
        rhs = sp.Sum(body, (u, 0, k - 1), (v, 0, k - 1))
        # the selector is 0 outside its range: no window selects a position it does not have
        outside = {selector(l): sp.Integer(0)} if self.mode == "max" else {}
        return IndexForm(
            z, (c, i, j), rhs, sizes={k: self.size, s: self.stride}, outside=outside, shapes=shapes
        )

    def constants(self, l: int, inputs: Any) -> dict[sp.IndexedBase, Any]:
        """Max: the selector ``m^l`` of the first maximum of each window (row-major)."""
        if self.mode != "max":
            return {}
        k, s = self.size, self.stride
        rows, cols = len(inputs[0]), len(inputs[0][0])
        out_rows, out_cols = (rows - k) // s + 1, (cols - k) // s + 1
        values = []
        for fmap in inputs:
            channel = []
            for r in range(out_rows):
                row = []
                for q in range(out_cols):
                    window = [
                        (fmap[s * r + du][s * q + dv], du, dv) for du in range(k) for dv in range(k)
                    ]
                    best = window[0]
                    for item in window[1:]:
                        if bool(item[0] > best[0]):  # strictly larger: the first maximum stays
                            best = item
                    row.append(
                        [
                            [sp.Integer(int((du, dv) == best[1:])) for dv in range(k)]
                            for du in range(k)
                        ]
                    )
                channel.append(row)
            values.append(channel)
        return {selector(l): values}
