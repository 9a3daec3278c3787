"""Loading the list form of a spec (``input:`` + one entry per layer) into a :class:`~.model.Spec`.

A network of dense layers only is written as the old form (:func:`.network.as_old_form`)
and loaded through it: the spec is equal to the old form's (same hash, documents,
modules) and its ``data`` is the old form. Any other network is loaded through the old
form for every field the layers do not change (loss, optimiser, training, ...), with the
sizes of each layer's output flattened, and then gets its records, its parameters of the
records' shapes (``null`` for a layer without any) and its examples shaped as the input.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..layers import Dense
from ..ops.activations import make_activation
from .fields import FieldContext, check_targets
from .model import Example, Spec
from .network import as_old_form, build_network_params, example_items, flatten_values, parse_network
from .recurrent import build_recurrent, is_recurrent
from .schema import to_fraction


def build_list_form(
    data: Mapping[str, Any], ctx: FieldContext, build_old: Callable[[dict[str, Any]], Spec]
) -> Spec:
    """The spec of list-form ``data``; ``build_old`` loads old-form data (same file, lines)."""
    if is_recurrent(data):  # input: {steps, features} and a recurrent layer first
        return build_recurrent(data, ctx, build_old)
    input_shape, network = parse_network(data, ctx)
    dense = [layer for layer in network if isinstance(layer, Dense)]
    if len(dense) == len(network):
        return build_old(as_old_form(data, input_shape, dense))
    sizes, shape = [math.prod(input_shape)], input_shape
    for layer in network:
        shape = layer.output_shape(shape)
        sizes.append(math.prod(shape))
    identity = make_activation("identity", {})
    old = {k: v for k, v in data.items() if k not in ("input", "params", "example", "examples")}
    old["layers"] = sizes
    old["activations"] = [(layer.activation or identity).spec_value for layer in network]
    spec = build_old(old)
    W, b = build_network_params(data.get("params"), input_shape, network, ctx)
    examples = _examples(data, input_shape, spec, ctx)
    return dataclasses.replace(
        spec,
        input_shape=input_shape,
        network=network,
        W=W,
        b=b,
        examples=examples,
        data=dict(data),
    )


def _examples(
    data: Mapping[str, Any], input_shape: tuple[int, ...], spec: Spec, ctx: FieldContext
) -> tuple[Example, ...]:
    """``example:`` / ``examples:`` with ``x`` shaped as the input (flattened by (c, i, j))."""
    out = []
    for path, item in example_items(data, ctx):
        x = flatten_values(item["x"], input_shape, (*path, "x"), ctx)
        t_given = item["t"] if isinstance(item["t"], list) else [item["t"]]
        t = flatten_values(t_given, (spec.layers[-1],), (*path, "t"), ctx)
        check_targets([to_fraction(v) for v in t_given], spec.loss, (*path, "t"), ctx)
        out.append(Example(x, t))
    return tuple(out)
