"""The network of a spec as layer records (:mod:`symbp.layers`), from either form of the spec.

The old form gives the sizes and one activation per layer::

    layers: [3, 4, 1]
    activations: [sigmoid, sigmoid]

The list form gives the input's shape and one entry per layer, each read by its kind's
record (:meth:`symbp.layers.Layer.from_entry`)::

    input: 3                          # an int: a vector; [C, H, W]: feature maps
    layers:
      - {dense: 4, activation: sigmoid}
      - {dense: 1, activation: sigmoid}

A network of dense layers only is the same network in both forms: the loader writes its
list form as the old form (:func:`as_old_form`) and builds one :class:`~.model.Spec`
from it, so both give equal specs (the same hash, documents and modules), and the
stages that rebuild a spec from ``spec.data`` (verify's conventions, the exercise
variants) see the old form. ``params:`` of the list form may hold ``null`` for a layer
without parameters (:func:`build_network_params`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sympy as sp

from ..errors import SpecError, quote
from ..layers import KINDS, Dense, Layer, Shape
from ..limits import MAX_LAYER_SIZE, MAX_LAYERS
from ..ops.activations import Activation
from ..yamlio import PathKey
from .fields import FieldContext, activation_at
from .schema import to_fraction

#: The entry ``flatten`` may be written as a bare string; any kind may, if it has no settings.
_INPUT_DIMS = (1, 3)


class EntryContext:
    """How a record reads its entry ``layers[index]`` (:class:`symbp.layers.base.EntryContext`)."""

    def __init__(self, ctx: FieldContext, index: int, count: int) -> None:
        self.ctx = ctx
        self.index = index
        self.count = count

    def fail(self, field: str | None, message: str) -> SpecError:
        path: PathKey = ("layers", self.index) if field is None else ("layers", self.index, field)
        return self.ctx.error(path, message)

    def activation(self, value: Any, field: str) -> Activation:
        path = ("layers", self.index, field)
        activation = activation_at(value, path, self.index + 1, self.ctx)
        if activation.output_only and self.index != self.count - 1:
            raise self.ctx.error(
                path,
                f"{activation.name} is allowed on the output layer only, "
                f"found on layer {self.index + 1} of {self.count}",
            )
        return activation


def parse_input(value: Any, ctx: FieldContext) -> Shape:
    """``input:``: an int (a vector of that many values) or ``[C, H, W]`` (feature maps)."""
    dims = [value] if not isinstance(value, list) else value
    if len(dims) not in _INPUT_DIMS:
        raise ctx.error(
            ("input",),
            f"expected the input size (an int) or [channels, height, width], found {quote(value)}",
        )
    for n, dim in enumerate(dims):
        path: PathKey = ("input",) if not isinstance(value, list) else ("input", n)
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise ctx.error(path, f"expected a whole number, found {quote(dim)}")
        if dim < 1:
            raise ctx.error(path, f"expected a positive size, found {dim}")
        if dim > MAX_LAYER_SIZE:
            raise ctx.error(path, f"expected a size of at most {MAX_LAYER_SIZE}, found {dim}")
    return tuple(dims)


def parse_network(data: Mapping[str, Any], ctx: FieldContext) -> tuple[Shape, tuple[Layer, ...]]:
    """The input shape and the records of the list form's ``input:`` and ``layers:``."""
    input_shape = parse_input(data["input"], ctx)
    entries = data.get("layers")
    if not isinstance(entries, list):
        raise ctx.error(
            ("layers",),
            "expected a list of layer entries ({dense: 4, activation: sigmoid}, flatten, ...), "
            f"found {quote(entries)}",
        )
    if not entries:
        raise ctx.error(("layers",), "expected at least 1 layer, found 0")
    if len(entries) > MAX_LAYERS - 1:
        raise ctx.error(
            ("layers",), f"expected at most {MAX_LAYERS - 1} layers, found {len(entries)}"
        )
    if "activations" in data:
        raise ctx.error(
            ("activations",),
            "the list form of layers gives each layer's activation in its entry; "
            "remove activations",
        )
    shape, out = input_shape, []
    for i, entry in enumerate(entries):
        record = _entry(entry, i, shape, EntryContext(ctx, i, len(entries)), ctx)
        out.append(record)
        shape = record.output_shape(shape)
    return input_shape, tuple(out)


def _entry(entry: Any, i: int, shape: Shape, ectx: EntryContext, ctx: FieldContext) -> Layer:
    kinds = ", ".join(KINDS)
    if isinstance(entry, str):
        entry = {entry: None}
    if not isinstance(entry, Mapping):
        raise ctx.error(("layers", i), f"expected a layer entry ({kinds}), found {quote(entry)}")
    named = [key for key in entry if key in KINDS]
    if not named:
        first = next(iter(entry), None)
        raise ctx.error(
            ("layers", i), f"unknown layer kind {quote(first)}; expected one of {kinds}"
        )
    if len(named) > 1:
        raise ctx.error(
            ("layers", i), f"expected one layer kind per entry, found {', '.join(named)}"
        )
    return KINDS[named[0]].from_entry(entry, shape, ectx)


def dense_network(sizes: Sequence[int], activations: Sequence[Activation]) -> tuple[Dense, ...]:
    """The records of the old form: one :class:`~symbp.layers.Dense` per weight layer."""
    return tuple(Dense(n, a) for n, a in zip(sizes[1:], activations, strict=True))


def as_old_form(
    data: Mapping[str, Any], input_shape: Shape, network: Sequence[Dense]
) -> dict[str, Any]:
    """The list form of a dense network's spec ``data`` written as the old form."""
    out = {k: v for k, v in data.items() if k != "input"}
    out["layers"] = [input_shape[0], *(layer.size for layer in network)]
    out["activations"] = [layer.activation.spec_value for layer in network]
    return out


def build_network_params(
    value: Any, input_shape: Shape, network: Sequence[Layer], ctx: FieldContext
) -> tuple[tuple[Any, ...], tuple[Any, ...]] | tuple[None, None]:
    """``params: {W: [...], b: [...]}`` of the list form: one entry per layer.

    A layer without parameters takes ``null``; a layer with them takes nested lists of
    its parameter's shape (``b`` may be left out: zeros). Each value is a nested tuple of
    SymPy rationals, ``None`` for a layer without parameters.
    """
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        raise ctx.error(("params",), f"expected a mapping with W and b, found {quote(value)}")
    for key in value:
        if key not in ("W", "b"):
            raise ctx.error(("params", str(key)), "unknown field; expected W, b")
    if value.get("W") is None:
        raise ctx.error(("params",), "params needs W (the weights); b may be left out (zero)")
    shapes, shape = [], input_shape
    for layer in network:
        shapes.append(layer.parameter_shapes(shape))
        shape = layer.output_shape(shape)
    out: dict[str, tuple[Any, ...]] = {}
    for name in ("W", "b"):
        given = value.get(name)
        if given is None:  # only b: zeros
            out[name] = tuple(_zeros(s[name]) if s else None for s in shapes)
            continue
        if not isinstance(given, list) or len(given) != len(network):
            found = len(given) if isinstance(given, list) else quote(given)
            raise ctx.error(
                ("params", name),
                f"expected {len(network)} entries (one per layer, null for a layer "
                f"without parameters), found {found}",
            )
        values: list[Any] = []
        for l, (entry, s) in enumerate(zip(given, shapes, strict=True)):
            path: PathKey = ("params", name, l)
            if not s:
                if entry is not None:
                    raise ctx.error(path, f"layer {l} has no parameters; expected null")
                values.append(None)
                continue
            if entry is None:
                raise ctx.error(path, f"layer {l} has parameters of shape {list(s[name])}")
            values.append(_nested(entry, s[name], path, ctx))
        out[name] = tuple(values)
    return out["W"], out["b"]


def _zeros(shape: Shape) -> Any:
    if len(shape) == 1:
        return tuple(sp.Integer(0) for _ in range(shape[0]))
    return tuple(_zeros(shape[1:]) for _ in range(shape[0]))


def _nested(value: Any, shape: Shape, path: PathKey, ctx: FieldContext) -> Any:
    """``value`` as nested tuples of exact rationals of ``shape`` (errors at ``path``)."""
    if not isinstance(value, list) or len(value) != shape[0]:
        found = f"{len(value)} values" if isinstance(value, list) else quote(value)
        raise ctx.error(
            path, f"expected a list of {shape[0]} values (shape {list(shape)}), found {found}"
        )
    if len(shape) > 1:
        return tuple(_nested(v, shape[1:], (*path, n), ctx) for n, v in enumerate(value))
    out = []
    for n, v in enumerate(value):
        try:
            f = to_fraction(v)
        except ValueError as err:
            raise ctx.error((*path, n), str(err)) from None
        out.append(sp.Rational(f.numerator, f.denominator))
    return tuple(out)


def flatten_values(
    value: Any, shape: Shape, path: PathKey, ctx: FieldContext
) -> tuple[sp.Rational, ...]:
    """A value of ``shape`` (an example's ``x``) in the order (channel, row, column)."""
    nested = _nested(value, shape, path, ctx)
    out: list[sp.Rational] = []

    def walk(v: Any) -> None:
        if isinstance(v, tuple):
            for item in v:
                walk(item)
        else:
            out.append(v)

    walk(nested)
    return tuple(out)


def example_items(data: Mapping[str, Any], ctx: Any) -> Iterator[tuple[PathKey, Mapping[str, Any]]]:
    """The ``example:`` or ``examples:`` entries of the list form's ``data``, each with its
    field path, checked as they are taken; refused in one line: both given, ``examples``
    not a list, an entry not ``{x: ..., t: ...}`` (``ctx``: the
    :class:`~.fields.FieldContext` naming the field)."""
    if data.get("example") is not None and data.get("examples") is not None:
        raise ctx.error(("examples",), "give either example or examples, not both")
    items: list[tuple[PathKey, Any]]
    if data.get("example") is not None:
        items = [(("example",), data["example"])]
    else:
        given = data.get("examples") or []
        if not isinstance(given, list):
            raise ctx.error(("examples",), f"expected a list of examples, found {quote(given)}")
        items = [(("examples", i), e) for i, e in enumerate(given)]
    for path, item in items:
        if not isinstance(item, Mapping) or set(item) != {"x", "t"}:
            raise ctx.error(path, f"expected an example {{x: ..., t: ...}}, found {quote(item)}")
        yield path, item
