"""Starting parameters of a network with feature maps (conv layers) for its trainer.

The spec's ``params`` where it gives them (``null`` for a layer without parameters), else
drawn by its ``init`` (``xavier_uniform`` with seed 0 when it names none) through
:func:`symbp.ops.initializers.draw_arrays`, the stream the exact engine draws too
(:mod:`symbp.symbolic.network_init`): every layer's weights from one seeded generator in
layer order, each drawn with the layer's own fan-in and fan-out
(:meth:`symbp.layers.Layer.fan`, as PyTorch computes them: ``C·kh·kw`` and ``out·kh·kw``
for a conv kernel) in the layer's weight shape; biases zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..ops.initializers import draw_arrays
from ..spec import Spec


def _nested(value: Any) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=object).astype(np.float64)


def initial_network_params(spec: Spec) -> tuple[list[Any], list[Any]]:
    """``(W, b)`` with ``None`` for layers without parameters (see the module)."""
    shapes, shape = [], spec.input_shape
    for layer in spec.network:
        shapes.append(layer.parameter_shapes(shape))
        shape = layer.output_shape(shape)
    if spec.W is not None:
        given = [_nested(v) for v in spec.b] if spec.b is not None else [None] * len(spec.W)
        biases = [
            np.zeros(s["b"]) if v is None and s else v for v, s in zip(given, shapes, strict=True)
        ]
        return [_nested(m) for m in spec.W], biases
    name, seed, legacy = "xavier_uniform", 0, False
    options: Mapping[str, Fraction] = {}
    if spec.init is not None:
        name, options = spec.init.name, spec.init.options
        seed, legacy = spec.init.seed, spec.init.legacy
    fans, shape = [], spec.input_shape
    for layer, params in zip(spec.network, shapes, strict=True):
        if params:
            fans.append((*layer.fan(shape), tuple(params["W"])))
        shape = layer.output_shape(shape)
    drawn = iter(draw_arrays(name, options, fans, seed, legacy=legacy))
    W = [next(drawn) if params else None for params in shapes]
    b = [np.zeros(params["b"]) if params else None for params in shapes]
    return W, b
