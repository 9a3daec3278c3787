"""Loading a spec whose network has a recurrent layer (:mod:`symbp.layers.recurrent`)::

    input: {steps: 3, features: 2}
    layers:
      - {recurrent: 3, cell: elman, activation: tanh}   # elman | gru | lstm
      - {dense: 1, activation: identity}                # applied at every step
    output: every_step          # a loss at every step, summed over the steps; or last_step
    loss: half_sse
    training: {bptt: full}      # or {bptt: k}: truncated BPTT(k)
    params: {W: [W0, W1], U: [U0, null], b: [b0, b1], h0: [[0, 0, 0], null]}
    example: {x: [[1, 0], [0, 1], [1, 1]], t: [[0.5], [0.2], [0.9]]}

So far the network is one recurrent layer first, then at least one dense layer, the
dense layers applied to ``h_t`` at every step. ``params`` takes one entry per layer for
``W``, ``U`` and ``b`` (``null`` where a layer has none), and optionally the initial
states ``h0`` (and ``c0`` for the LSTM), one entry per layer, zeros where not given.
An example's ``x`` is one list of ``features`` values per step; its ``t`` one list of
outputs per step for ``every_step``, one list of outputs for ``last_step``.

Every other field is the list form's (:mod:`.listform`), loaded through the old form as
conv nets are; :class:`~.model.Recurrence` holds what the recurrence adds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import sympy as sp

from ..errors import quote
from ..layers import Dense, Layer, Recurrent, Shape
from ..layers.fields import MAX_FEATURES, MAX_STEPS
from ..limits import MAX_LAYERS
from ..ops.activations import make_activation
from ..yamlio import PathKey
from .fields import FieldContext, check_targets
from .model import Example, Recurrence, Spec
from .network import EntryContext, _entry, _nested, _zeros, build_network_params, example_items
from .schema import to_fraction

#: The values of ``output:``.
OUTPUTS = ("every_step", "last_step")


def is_recurrent(data: Mapping[str, Any]) -> bool:
    """Whether list-form ``data`` describes a recurrent network (``input`` a mapping, or a
    ``recurrent`` entry among the layers)."""
    entries = data.get("layers")
    named = isinstance(entries, list) and any(
        isinstance(e, Mapping) and Recurrent.kind in e for e in entries
    )
    return isinstance(data.get("input"), Mapping) or named


def parse_sequence_input(value: Any, ctx: FieldContext) -> tuple[int, int]:
    """``input: {steps: T, features: F}``, each bounded."""
    if not isinstance(value, Mapping) or set(value) != {"steps", "features"}:
        raise ctx.error(
            ("input",),
            f"a recurrent network takes input: {{steps: T, features: F}}, found {quote(value)}",
        )
    out = []
    for key, high in (("steps", MAX_STEPS), ("features", MAX_FEATURES)):
        n = value[key]
        if isinstance(n, bool) or not isinstance(n, int):
            raise ctx.error(("input", key), f"expected a whole number, found {quote(n)}")
        if not 1 <= n <= high:
            raise ctx.error(("input", key), f"expected {key} from 1 to {high}, found {n}")
        out.append(n)
    return out[0], out[1]


def _network(data: Mapping[str, Any], features: int, ctx: FieldContext) -> tuple[Layer, ...]:
    entries = data.get("layers")
    if not isinstance(entries, list) or len(entries) < 2:
        raise ctx.error(
            ("layers",),
            "a recurrent network is a recurrent layer and at least one dense layer after it, "
            f"found {quote(entries)}",
        )
    if len(entries) > MAX_LAYERS - 1:
        raise ctx.error(
            ("layers",), f"expected at most {MAX_LAYERS - 1} layers, found {len(entries)}"
        )
    shape: Shape = (features,)
    out: list[Layer] = []
    for i, entry in enumerate(entries):
        record = _entry(entry, i, shape, EntryContext(ctx, i, len(entries)), ctx)
        wanted = Recurrent if i == 0 else Dense
        if not isinstance(record, wanted):
            what = "a recurrent layer first" if i == 0 else "dense layers after the recurrent one"
            raise ctx.error(
                ("layers", i),
                f"a recurrent network is {what} so far (dense layers apply at every step), "
                f"found {record.kind}",
            )
        out.append(record)
        shape = record.output_shape(shape)
    return tuple(out)


def _bptt(data: Mapping[str, Any], steps: int, ctx: FieldContext) -> int | None:
    training = data.get("training")
    value = training.get("bptt", "full") if isinstance(training, Mapping) else "full"
    if value == "full":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEPS:
        raise ctx.error(
            ("training", "bptt"),
            f"expected full or the truncation k (a whole number from 1 to {MAX_STEPS}), "
            f"found {quote(value)}",
        )
    return value


def _params(
    value: Any, features: int, network: Sequence[Layer], ctx: FieldContext
) -> tuple[Any, Any, tuple[Any, ...] | None, tuple[Mapping[str, Any] | None, ...]]:
    """``W``, ``b`` (as the list form reads them), ``U`` and the initial states."""
    states = [layer.cell.states if isinstance(layer, Recurrent) else () for layer in network]
    keys = ("W", "U", "b", *(f"{s}0" for s in dict.fromkeys(s for st in states for s in st)))
    if value is not None and not isinstance(value, Mapping):
        raise ctx.error(("params",), f"expected a mapping with W, U and b, found {quote(value)}")
    given = dict(value or {})
    for key in given:
        if key not in keys:
            raise ctx.error(("params", str(key)), f"unknown field; expected {', '.join(keys)}")
    initial = tuple(
        {s: _state(given, s, l, layer, states[l], ctx) for s in states[l]} if states[l] else None
        for l, layer in enumerate(network)
    )
    if value is None:
        return None, None, None, initial
    if given.get("U") is None:
        raise ctx.error(("params",), "params of a recurrent network need U (null where none)")
    plain = {k: v for k, v in given.items() if k in ("W", "b")}
    W, b = build_network_params(plain, (features,), network, ctx)
    U = _per_layer(given["U"], "U", features, network, ctx)
    return W, b, U, initial


def _per_layer(
    given: Any, name: str, features: int, network: Sequence[Layer], ctx: FieldContext
) -> tuple[Any, ...]:
    if not isinstance(given, list) or len(given) != len(network):
        found = len(given) if isinstance(given, list) else quote(given)
        raise ctx.error(
            ("params", name),
            f"expected {len(network)} entries (one per layer, null for a layer without "
            f"{name}), found {found}",
        )
    out: list[Any] = []
    shape: Shape = (features,)
    for l, (entry, layer) in enumerate(zip(given, network, strict=True)):
        path: PathKey = ("params", name, l)
        shapes = layer.parameter_shapes(shape)
        shape = layer.output_shape(shape)
        if name not in shapes:
            if entry is not None:
                raise ctx.error(path, f"layer {l} has no {name}; expected null")
            out.append(None)
            continue
        if entry is None:
            raise ctx.error(path, f"layer {l} has {name} of shape {list(shapes[name])}")
        out.append(_nested(entry, shapes[name], path, ctx))
    return tuple(out)


def _state(
    given: Mapping[str, Any], state: str, l: int, layer: Layer, states: tuple[str, ...], ctx: Any
) -> tuple[Any, ...]:
    key = f"{state}0"
    size = layer.output_shape((0,))[0]
    values = given.get(key)
    if values is None:
        return tuple(_zeros((size,)))
    if not isinstance(values, list) or len(values) <= l:
        raise ctx.error(("params", key), "expected one entry per layer (null where none)")
    entry = values[l]
    if entry is None:
        return tuple(_zeros((size,)))
    return tuple(_nested(entry, (size,), ("params", key, l), ctx))


def _examples(
    data: Mapping[str, Any],
    steps: int,
    features: int,
    outputs: int,
    output: str,
    ctx: Any,
    loss: Any,
) -> tuple[Example, ...]:
    out = []
    for path, item in example_items(data, ctx):
        x = _nested(item["x"], (steps, features), (*path, "x"), ctx)
        t_shape = (steps, outputs) if output == "every_step" else (outputs,)
        t_given = item["t"]
        if output == "last_step" and not isinstance(t_given, list):
            t_given = [t_given]
        t = _nested(t_given, t_shape, (*path, "t"), ctx)
        rows = t if output == "every_step" else (t,)
        for row in rows:
            check_targets([Fraction(int(v.p), int(v.q)) for v in row], loss, (*path, "t"), ctx)
        out.append(Example(_flat(x), _flat(t)))
    return tuple(out)


def _flat(value: Any) -> tuple[Any, ...]:
    if isinstance(value, tuple):
        return tuple(v for part in value for v in _flat(part))
    return (value,)


def build_recurrent(
    data: Mapping[str, Any], ctx: FieldContext, build_old: Callable[[dict[str, Any]], Spec]
) -> Spec:
    """The spec of recurrent list-form ``data``; ``build_old`` loads old-form data."""
    steps, features = parse_sequence_input(data.get("input"), ctx)
    network = _network(data, features, ctx)
    output = data.get("output", "every_step")
    if output not in OUTPUTS:
        raise ctx.error(("output",), f"expected one of {', '.join(OUTPUTS)}, found {quote(output)}")
    bptt = _bptt(data, steps, ctx)
    sizes: list[int] = [features]
    shape: Shape = (features,)
    for layer in network:
        shape = layer.output_shape(shape)
        sizes.append(shape[0])
    identity = make_activation("identity", {})
    drop = ("input", "params", "example", "examples", "output")
    old = {k: v for k, v in data.items() if k not in drop}
    if isinstance(data.get("training"), Mapping):
        old["training"] = {k: v for k, v in data["training"].items() if k != "bptt"}
    old["layers"] = sizes
    old["activations"] = [(layer.activation or identity).spec_value for layer in network]
    clip = _clip_norm(old, ctx)
    frozen_U = _frozen_U(old, network)
    spec = build_old(old)
    W, b, U, initial = _params(data.get("params"), features, network, ctx)
    examples = _examples(data, steps, features, sizes[-1], output, ctx, spec.loss)
    return dataclasses.replace(
        spec,
        input_shape=(features,),
        network=network,
        W=W,
        b=b,
        examples=examples,
        data=dict(data),
        recurrence=Recurrence(steps, output, bptt, U, initial),
        optimizer=dataclasses.replace(spec.optimizer, clip_norm=clip),
        frozen=spec.frozen | frozen_U,
    )


def _clip_norm(old: dict[str, Any], ctx: FieldContext) -> sp.Rational | None:
    """``optimizer: {clip_norm: c}``, a positive number, taken out of ``old``."""
    given = old.get("optimizer")
    if not isinstance(given, Mapping) or "clip_norm" not in given:
        return None
    old["optimizer"] = {k: v for k, v in given.items() if k != "clip_norm"}
    path: PathKey = ("optimizer", "clip_norm")
    try:
        value = to_fraction(given["clip_norm"])
    except ValueError as err:
        raise ctx.error(path, str(err)) from None
    if value <= 0:
        raise ctx.error(path, f"expected a positive number, found {quote(given['clip_norm'])}")
    return sp.Rational(value.numerator, value.denominator)


def _frozen_U(old: dict[str, Any], network: Sequence[Layer]) -> frozenset[tuple[str, int]]:
    """The ``frozen:`` entries ``U`` and ``U[l]`` (a recurrent layer ``l``), taken out of
    ``old`` (the rest, ``W``/``b``, are the old form's)."""
    given = old.get("frozen")
    if not isinstance(given, list):
        return frozenset()
    layers = [l for l, layer in enumerate(network) if isinstance(layer, Recurrent)]
    names = {"U": layers, **{f"U[{l}]": [l] for l in layers}}
    keys = [item.replace(" ", "") if isinstance(item, str) else None for item in given]
    old["frozen"] = [item for item, key in zip(given, keys, strict=True) if key not in names]
    return frozenset(("U", l) for key in keys if key in names for l in names[key])


def describe(spec: Spec) -> str:
    """A recurrent spec's input and layers in one line, from the layers' entries:
    ``input 3 steps × 2 features, layers (recurrent 3 (cell elman, activation tanh),
    dense 1 (activation identity))`` (what ``Spec.__repr__`` shows)."""
    rec = spec.recurrence
    assert rec is not None
    parts = []
    for layer in spec.network:
        (kind, size), *rest = layer.to_entry().items()
        options = ", ".join(f"{k} {v}" for k, v in rest)
        parts.append(f"{kind} {size}" + (f" ({options})" if options else ""))
    steps, features = rec.steps, spec.input_shape[0]
    return (
        f"input {steps} step{'s' * (steps != 1)} × {features} feature{'s' * (features != 1)}, "
        f"layers ({', '.join(parts)})"
    )
