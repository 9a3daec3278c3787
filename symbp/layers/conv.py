"""The 2-D convolution layer (PyTorch's ``Conv2d``: a cross-correlation), as a record.

Forward, for textbook layer ``l`` (0-based indices, sizes, stride and padding as symbols)::

    z^l[o,i,j] = Σ_c Σ_u Σ_v W^l[o,c,u,v] · a^{l-1}[c, s·i+u−p, s·j+v−p] + b^l[o],
    a^l = f(z^l)

``o`` is the output channel, ``(i, j)`` the output position, ``c`` the input channel and
``(u, v)`` the kernel position. The input is read with zero padding: a read of
``a^{l-1}`` outside its ``H × W`` range gives 0 (:attr:`IndexForm.outside`).

Shapes: the input ``(C, H, W)``; ``W`` is ``(channels, C, kh, kw)`` and ``b``
``(channels,)``, PyTorch's ``Conv2d.weight`` / ``.bias`` layout; the output
``(channels, (H + 2p − kh)/s + 1, (W + 2p − kw)/s + 1)``, where the stride must tile the
padded input exactly. Padding is symmetric, the same on all four sides: an int, ``valid``
(0) or ``same`` (``(k − 1)/2`` for an odd kernel with stride 1). Initialisation:
``fan_in = C·kh·kw``, ``fan_out = channels·kh·kw`` (PyTorch's
``_calculate_fan_in_and_fan_out``).

The spec writes it ``{conv: 2, kernel: 2, stride: 1, padding: 0, activation: relu}``
(stride 1, padding 0 and the identity activation by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from ..errors import quote
from ..ops.activations import Activation
from ..symbolic import notation as nt
from .base import EntryContext, IndexForm, Layer, Shape
from .fields import (
    MAX_CHANNELS,
    MAX_KERNEL,
    MAX_PADDING,
    MAX_STRIDE,
    check_fields,
    feature_maps,
    pair,
    tiles,
    whole,
)

#: The fields of a conv entry besides the kind's own (``conv: channels``).
FIELDS = ("kernel", "stride", "padding", "activation")

_int = {"integer": True, "nonnegative": True}
#: Index symbols: output channel and position, input channel, kernel position.
o, i, j, c, u, v = sp.symbols("o i j c u v", **_int)
#: Stride and padding.
STRIDE, PADDING = sp.Symbol("s", integer=True, positive=True), sp.Symbol("p", **_int)
#: Kernel rows and columns.
KH, KW = sp.symbols("k_h k_w", integer=True, positive=True)


def map_sizes(l: int) -> tuple[sp.Symbol, sp.Symbol, sp.Symbol]:
    """``(C_l, H_l, W_l)``: the channels, rows and columns of ``a^l`` as symbols."""
    return sp.symbols(f"C_{l} H_{l} W_{l}", integer=True, positive=True)


@dataclass(frozen=True)
class Conv(Layer):
    """A convolution of ``channels`` output maps with a ``kernel`` of (rows, columns)."""

    kind: ClassVar[str] = "conv"
    kernel_block: ClassVar[str] = "kernels/conv.py.j2"

    channels: int
    kernel: tuple[int, int]
    stride: int
    padding: int
    activation: Activation

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Conv:
        """``{conv: channels, kernel, stride, padding, activation}`` on feature maps."""
        check_fields(entry, cls.kind, FIELDS, ctx)
        what = "the number of output channels"
        channels = whole(entry.get(cls.kind), cls.kind, what, 1, MAX_CHANNELS, ctx)
        _, height, width = feature_maps(input_shape, cls.kind, ctx)
        if "kernel" not in entry:
            raise ctx.fail("kernel", "a conv layer needs its kernel size: kernel: n or [kh, kw]")
        kernel = pair(entry["kernel"], "kernel", "the kernel size", MAX_KERNEL, ctx)
        stride = whole(entry.get("stride", 1), "stride", "the stride", 1, MAX_STRIDE, ctx)
        padding = _padding(entry.get("padding", 0), kernel, stride, ctx)
        tiles(height + 2 * padding, kernel[0], stride, "rows", "kernel", cls.kind, ctx)
        tiles(width + 2 * padding, kernel[1], stride, "columns", "kernel", cls.kind, ctx)
        activation = ctx.activation(entry.get("activation", "identity"), "activation")
        if not activation.elementwise:
            raise ctx.fail(
                "activation",
                f"a conv layer's activation acts on each value; {activation.name} does not",
            )
        return cls(channels, kernel, stride, padding, activation)

    def to_entry(self) -> dict[str, Any]:
        """``{conv: channels, kernel: [kh, kw], stride, padding, activation}`` (padding
        as the number it resolved to)."""
        return {
            self.kind: self.channels,
            "kernel": list(self.kernel),
            "stride": self.stride,
            "padding": self.padding,
            "activation": self.activation.spec_value,
        }

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(channels, (H + 2p − kh)/s + 1, (W + 2p − kw)/s + 1)``."""
        _, height, width = input_shape
        s, p, (kh, kw) = self.stride, self.padding, self.kernel
        return (self.channels, (height + 2 * p - kh) // s + 1, (width + 2 * p - kw) // s + 1)

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """``W``: ``(channels, C, kh, kw)``, ``b``: ``(channels,)`` (PyTorch's layout)."""
        return {"W": (self.channels, input_shape[0], *self.kernel), "b": (self.channels,)}

    def fan(self, input_shape: Shape) -> tuple[int, int]:
        """``(C·kh·kw, channels·kh·kw)``, as PyTorch computes them for ``Conv2d``."""
        area = self.kernel[0] * self.kernel[1]
        return (input_shape[0] * area, self.channels * area)

    def forward(self, l: int) -> IndexForm:
        """``z^l[o,i,j] = Σ_c Σ_u Σ_v W^l[o,c,u,v] a^{l-1}[c, s·i+u−p, s·j+v−p] + b^l[o]``."""
        w, bias, a = nt.weight(l), nt.bias(l), nt.activation(l - 1)
        c_in, h_in, w_in = map_sizes(l - 1)
        c_out, h_out, w_out = map_sizes(l)
        s, p = STRIDE, PADDING
        rhs = (
            sp.Sum(
                w[o, c, u, v] * a[c, s * i + u - p, s * j + v - p],
                (c, 0, c_in - 1),
                (u, 0, KH - 1),
                (v, 0, KW - 1),
            )
            + bias[o]
        )
        return IndexForm(
            nt.preactivation(l),
            (o, i, j),
            rhs,
            sizes={
                c_out: self.channels,
                KH: self.kernel[0],
                KW: self.kernel[1],
                s: self.stride,
                p: self.padding,
            },
            outside={a: sp.Integer(0)},
            shapes={
                nt.preactivation(l): (c_out, h_out, w_out),
                a: (c_in, h_in, w_in),
                w: (c_out, c_in, KH, KW),
                bias: (c_out,),
            },
        )


def _padding(value: Any, kernel: tuple[int, int], stride: int, ctx: EntryContext) -> int:
    """An int, ``valid`` (0) or ``same`` (stride 1, odd kernel: ``(k − 1)/2``)."""
    if value == "valid":
        return 0
    if value == "same":
        if stride != 1 or kernel[0] != kernel[1] or kernel[0] % 2 == 0:
            raise ctx.fail(
                "padding",
                "padding: same needs stride 1 and a square kernel of odd size (equal padding"
                f" on every side); found stride {stride} and kernel {kernel[0]}x{kernel[1]}",
            )
        return (kernel[0] - 1) // 2
    if isinstance(value, str):
        raise ctx.fail("padding", f"expected a whole number, same or valid, found {quote(value)}")
    return whole(value, "padding", "the padding", 0, MAX_PADDING, ctx)
