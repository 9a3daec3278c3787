"""Starting parameters of a network with feature maps (conv layers) for its trainer.

The spec's ``params`` where it gives them (``null`` for a layer without parameters), else
drawn by its ``init`` (``xavier_uniform`` with seed 0 when it names none): every layer's
weights from one seeded generator in layer order, each drawn with the layer's own fan-in
and fan-out (:meth:`symbp.layers.Layer.fan`, as PyTorch computes them: ``C·kh·kw`` and
``out·kh·kw`` for a conv kernel) in the layer's weight shape; biases zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..ops.initializers import INITIALIZERS
from ..spec import Spec


class _Shaped:
    """A generator whose draws take ``shape`` whatever size the initialiser asks for
    (the initialisers draw ``(fan_out, fan_in)``, a dense layer's weight shape)."""

    def __init__(self, rng: Any, shape: tuple[int, ...]) -> None:
        self._rng, self._shape = rng, shape

    def uniform(self, low: float, high: float, size: Any = None) -> np.ndarray:
        return np.asarray(self._rng.uniform(low, high, size=self._shape))

    def standard_normal(self, size: Any = None) -> np.ndarray:
        return np.asarray(self._rng.standard_normal(size=self._shape))


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
    init = INITIALIZERS[name]
    values = {k: float(v) for k, v in {**init.options, **options}.items() if v is not None}
    rng: Any = np.random.RandomState(seed) if legacy else np.random.default_rng(seed)
    W: list[np.ndarray | None] = []
    b: list[np.ndarray | None] = []
    shape = spec.input_shape
    for layer, params in zip(spec.network, shapes, strict=True):
        if params:
            fan_in, fan_out = layer.fan(shape)
            drawn = init.draw(_Shaped(rng, params["W"]), fan_in, fan_out, values)  # type: ignore[arg-type]
            W.append(np.asarray(drawn, dtype=np.float64).reshape(params["W"]))
            b.append(np.zeros(params["b"]))
        else:
            W.append(None)
            b.append(None)
        shape = layer.output_shape(shape)
    return W, b
