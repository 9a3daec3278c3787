"""The bounds of the feature-map kinds (conv, pool, flatten) and the readers of their fields.

A spec is data from anyone, so every size of a feature-map layer is bounded here, checked
when its entry is read:

* :data:`MAX_CHANNELS` channels (of the input and of a conv layer's output);
* maps of at most :data:`MAX_MAP_SIZE` rows and as many columns;
* kernels and pooling windows of at most :data:`MAX_KERNEL` rows and columns;
* strides of at most :data:`MAX_STRIDE`, padding of at most :data:`MAX_PADDING`.

The recurrent kind's bounds live here too: :data:`MAX_STEPS` time steps of
:data:`MAX_FEATURES` features, :data:`MAX_HIDDEN` hidden units.

The cost of an exact evaluation has its own cap
(:data:`symbp.symbolic.network.MAX_EXACT_MACS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import quote
from .base import EntryContext, Shape

#: The most channels of a feature map (input or conv output).
MAX_CHANNELS = 1024
#: The most rows (or columns) of a feature map.
MAX_MAP_SIZE = 4096
#: The most rows (or columns) of a conv kernel or a pooling window.
MAX_KERNEL = 64
#: The largest stride.
MAX_STRIDE = 64
#: The largest padding.
MAX_PADDING = 64
#: The most time steps of a sequence (``input: {steps: T}``).
MAX_STEPS = 10_000
#: The most features of one time step (``input: {features: F}``).
MAX_FEATURES = 100_000
#: The most hidden units of a recurrent layer.
MAX_HIDDEN = 100_000


def check_fields(
    entry: Mapping[str, Any], kind: str, fields: tuple[str, ...], ctx: EntryContext
) -> None:
    """Refuse a key that is neither the kind's own nor one of ``fields``."""
    for key in entry:
        if key != kind and key not in fields:
            expected = ", ".join(fields) if fields else "no other field"
            raise ctx.fail(str(key), f"unknown field of a {kind} layer; expected {expected}")


def whole(value: Any, field: str, what: str, low: int, high: int, ctx: EntryContext) -> int:
    """``value`` as an int in ``low..high``, or the one-line error naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.fail(field, f"expected {what} (a whole number), found {quote(value)}")
    if not low <= value <= high:
        raise ctx.fail(field, f"expected {what} from {low} to {high}, found {value}")
    return value


def pair(value: Any, field: str, what: str, high: int, ctx: EntryContext) -> tuple[int, int]:
    """An int ``n`` (as ``(n, n)``) or a list ``[rows, columns]``, each in ``1..high``."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ctx.fail(field, f"expected {what} as n or [rows, columns], found {quote(value)}")
        return (
            whole(value[0], field, what, 1, high, ctx),
            whole(value[1], field, what, 1, high, ctx),
        )
    n = whole(value, field, what, 1, high, ctx)
    return (n, n)


def feature_maps(input_shape: Shape, kind: str, ctx: EntryContext) -> tuple[int, int, int]:
    """The input's ``(C, H, W)``, or the one-line error for a vector input."""
    if len(input_shape) != 3:
        raise ctx.fail(
            None,
            f"a {kind} layer needs feature maps [channels, height, width], found a vector"
            f" of {input_shape[0] if input_shape else 0} values",
        )
    c, h, w = input_shape
    return c, h, w


def tiles(
    extent: int, window: int, stride: int, axis: str, field: str, kind: str, ctx: EntryContext
) -> int:
    """The number of window positions along ``axis``, refusing a window that does not fit
    or a stride that leaves rows (columns) over."""
    if window > extent:
        raise ctx.fail(
            field,
            f"the {kind} window of {window} {axis} is larger than the (padded) input of"
            f" {extent} {axis}",
        )
    if (extent - window) % stride:
        raise ctx.fail(
            "stride",
            f"stride {stride} does not tile the (padded) input of {extent} {axis} with a window"
            f" of {window}: {extent} - {window} = {extent - window} is not a multiple of {stride}",
        )
    return (extent - window) // stride + 1
