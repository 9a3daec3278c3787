"""The starting parameters of a network of layer records drawn by the spec's ``init:``.

As for dense nets (:func:`.evaluate.initial_parameters`): every layer's ``W`` is drawn
in layer order from one seeded generator by the spec's initialiser
(:func:`symbp.ops.initializers.draw_arrays`), scaled by the fans the layer record gives
(:meth:`symbp.layers.Layer.fan`: ``C·kh·kw`` and ``O·kh·kw`` for a conv kernel, as
PyTorch computes them), in the shape the record gives (``W[l][o][c][u][v]``); biases
start at zero; a layer without parameters has ``None``. The drawn float64 values enter
the exact evaluation as :data:`~.instantiate.PRECISION`-digit numbers, as dense nets' do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..ops.initializers import draw_arrays
from .instantiate import PRECISION
from .network_plan import shapes_of

if TYPE_CHECKING:
    from ..spec import Spec


def _exact(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_exact(v) for v in value]
    return sp.Float(float(value), PRECISION)


def initial_network_parameters(spec: Spec) -> tuple[list[Any], list[Any]]:
    """``W`` and ``b`` (nested lists, ``None`` where a layer has none) drawn by ``spec.init``."""
    assert spec.init is not None
    shapes = shapes_of(spec.input_shape, spec.network)
    params = [layer.parameter_shapes(shapes[l]) for l, layer in enumerate(spec.network)]
    fans = [
        (*layer.fan(shapes[l]), tuple(p["W"]))
        for l, (layer, p) in enumerate(zip(spec.network, params, strict=True))
        if "W" in p
    ]
    init = spec.init
    drawn = iter(draw_arrays(init.name, init.options, fans, init.seed, legacy=init.legacy))
    W = [_exact(next(drawn)) if "W" in p else None for p in params]
    b = [_exact(np.zeros(p["b"])) if "b" in p else None for p in params]
    return W, b
