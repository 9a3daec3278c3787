"""A :class:`~.model.Spec` back to spec data: the inverse of :func:`~.loader.load`.

:func:`to_data` rebuilds the data from the spec's fields, not from the text it was
loaded from, so a spec changed with :func:`dataclasses.replace` (or built in code)
gives its own data. The data is normalised: one activation per layer, every
optimiser and schedule option spelled out, ``examples`` (never ``example``), numbers
as exact :class:`fractions.Fraction`. ``load(to_data(spec)) == spec`` for every spec
(the text's own ``names``, its ``claims`` and its ``exercise`` block are carried
as given).

What uses it: pickling (:meth:`Spec.__reduce__` stores this data, never SymPy
objects), the compile cache key (:func:`content_hash`), and ``symbp export-spec``
(:func:`to_yaml`, with the trained parameters as exact decimals).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ops.activations import Activation
    from ..ops.losses import Loss
    from .model import OptimizerSpec, Spec


def _number(value: Any) -> Fraction | int:
    """An exact number of the spec (a SymPy Rational, a Fraction or an int)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Fraction):
        return value
    p, q = getattr(value, "p", None), getattr(value, "q", None)
    if isinstance(p, int) and isinstance(q, int):
        return Fraction(p, q)
    raise TypeError(f"expected an exact number, found {value!r}")


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _number(v) for k, v in sorted(options.items())}


def _activation(activation: Activation) -> str | dict[str, Any]:
    return activation.spec_value  # type: ignore[return-value]


def _shaped(values: list[Any], shape: tuple[int, ...]) -> list[Any]:
    """Flat ``values`` (ordered by channel, row, column) as nested lists of ``shape``."""
    if len(shape) <= 1:
        return values
    step = len(values) // shape[0]
    return [_shaped(values[n * step : (n + 1) * step], shape[1:]) for n in range(shape[0])]


def _nested(value: Any) -> Any:
    """A parameter of any shape (nested tuples of exact numbers), ``None`` kept."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return [_nested(v) for v in value]
    return _number(value)


def _loss(loss: Loss) -> str | dict[str, Any]:
    if loss.source is not None:
        return {"formula": loss.source}
    if not loss.params:
        return loss.name
    return {"name": loss.name, **dict(sorted(loss.params.items()))}


def _optimizer(optimizer: OptimizerSpec) -> dict[str, Any]:
    schedule: str | dict[str, Any] = optimizer.schedule.name
    if optimizer.schedule_options:
        schedule = {"name": optimizer.schedule.name, **_options(optimizer.schedule_options)}
    return {
        "name": optimizer.name,
        "learning_rate": _number(optimizer.learning_rate),
        "weight_decay": _number(optimizer.weight_decay),
        "schedule": schedule,
        **_options(optimizer.options),
    }


def _matrix(rows: Sequence[Sequence[Any]]) -> list[list[Fraction | int]]:
    return [[_number(v) for v in row] for row in rows]


def to_data(spec: Spec) -> dict[str, Any]:
    """The spec's normalised data (see the module docstring); loadable by ``load``."""
    data: dict[str, Any] = {"name": spec.name}
    for key in ("title", "description", "source"):
        if getattr(spec, key) is not None:
            data[key] = getattr(spec, key)
    dense = all(layer.kind == "dense" for layer in spec.network)
    if dense:  # the old form (the list form of a dense network loads to the same spec)
        data["layers"] = list(spec.layers)
        data["activations"] = [_activation(a) for a in spec.activations]
    else:
        shape = spec.input_shape
        data["input"] = shape[0] if len(shape) == 1 else list(shape)
        data["layers"] = [layer.to_entry() for layer in spec.network]
    data["loss"] = _loss(spec.loss)
    data["optimizer"] = _optimizer(spec.optimizer)
    if spec.W is not None and not dense:
        data["params"] = {"W": _nested(spec.W), "b": _nested(spec.b)}
    elif spec.W is not None:
        data["params"] = {
            "W": [_matrix(m) for m in spec.W],
            "b": [[_number(v) for v in vec] for vec in spec.b]
            if spec.b is not None
            else [[0] * n for n in spec.layers[1:]],
        }
    if spec.init is not None:
        init: dict[str, Any] = {"name": spec.init.name, "seed": spec.init.seed}
        if spec.init.legacy:
            init["generator"] = "legacy"
        data["init"] = {**init, **_options(spec.init.options)}
    if spec.examples:
        data["examples"] = [
            {
                "x": _shaped([_number(v) for v in e.x], spec.input_shape),
                "t": [_number(v) for v in e.t],
            }
            for e in spec.examples
        ]
    if spec.frozen:
        data["frozen"] = [f"{kind}[{layer}]" for kind, layer in sorted(spec.frozen)]
    data["dtype"] = spec.dtype
    t = spec.training
    data["training"] = {
        "epochs": t.epochs,
        "batch_size": t.batch_size,
        "shuffle": t.shuffle,
        "seed": t.seed,
        "drop_last": t.drop_last,
    }
    for key in ("names", "exercise"):  # carried as the text gave them
        if spec.data.get(key) is not None:
            data[key] = spec.data[key]
    if spec.claims:
        data["claims"] = list(spec.claims)
    if spec.preprocessing is not None:
        from .preprocessing import to_data as preprocessing_data

        data["preprocessing"] = preprocessing_data(spec.preprocessing)
    if spec.recurrence is not None:
        _recurrent(spec, data)
    return data


def _recurrent(spec: Spec, data: dict[str, Any]) -> None:
    """What a recurrent network adds (:mod:`.recurrent`): the sequence input, ``U`` and the
    initial states, ``output``, ``bptt``, examples step by step."""
    rec = spec.recurrence
    assert rec is not None
    steps, features = rec.steps, spec.input_shape[0]
    data["input"] = {"steps": steps, "features": features}
    data["output"] = rec.output
    data["training"]["bptt"] = "full" if rec.bptt is None else rec.bptt
    if spec.optimizer.clip_norm is not None:
        data["optimizer"]["clip_norm"] = _number(spec.optimizer.clip_norm)
    if "params" in data:
        data["params"]["U"] = _nested(rec.U)
        for state in dict.fromkeys(s for init in rec.initial if init for s in init):
            data["params"][f"{state}0"] = [
                None if init is None else _nested(init[state]) for init in rec.initial
            ]
    outputs = spec.layers[-1]
    t_shape = (steps, outputs) if rec.output == "every_step" else (outputs,)
    for example, out in zip(spec.examples, data.get("examples", []), strict=True):
        out["x"] = _shaped([_number(v) for v in example.x], (steps, features))
        out["t"] = _shaped([_number(v) for v in example.t], t_shape)


def canonical(value: Any) -> Any:
    """JSON-ready form of spec data: exact numbers as ``"p/q"`` strings, keys as text."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, float):
        return str(Fraction(repr(value)))
    return value


def content_hash(spec: Spec, *, network_only: bool = False) -> str:
    """SHA-256 (16 hex digits) of :func:`to_data`, recomputed from the fields.

    ``network_only`` leaves out what never reaches a generated module (the text's
    title, description, source, names, claims, exercise block and preprocessing).
    """
    data = to_data(spec)
    if network_only:
        for key in (
            "title",
            "description",
            "source",
            "names",
            "claims",
            "exercise",
            "preprocessing",
        ):
            data.pop(key, None)
    text = json.dumps(canonical(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def to_yaml(spec: Spec, header: Sequence[str] = ()) -> str:
    """The spec as YAML text (exact decimals), byte-identical for the same spec."""
    from ..exercises.yamltext import dump

    return dump(to_data(spec), header=header)
