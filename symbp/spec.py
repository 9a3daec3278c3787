"""The network spec: load, validate, and hold it as a frozen, typed :class:`Spec`.

A spec is data, never code. It comes from a YAML file or from a Python dict of
the same structure::

    name: koech-3-4-1
    layers: [3, 4, 1]                 # sizes, input layer first
    activations: sigmoid              # one for all layers, or a list (one per non-input layer)
    loss: bce
    optimizer: {name: sgd, learning_rate: 0.5}
    params:                           # optional concrete starting values
      W: [[[...], ...], [[...]]]      # W[l][j][k]: into neuron j of layer l+1 from k of layer l
      b: [[...], [...]]
    example: {x: [...], t: [...]}     # or examples: [{x: ..., t: ...}, ...]
    frozen: [b]                       # parameters never updated: W, b, W[l] or b[l]

Index convention (0-based everywhere in the spec and the API): layer 0 is the
input; ``W[l]`` has shape ``(layers[l+1], layers[l])`` and feeds layer ``l+1``.
The textbook's ``w^{l}_{jk}`` (1-based) is ``W[l-1][j-1][k-1]`` here.

Numbers are exact: YAML decimals become fractions from their source text.
Errors are :class:`~symbp.errors.SpecError` with one line naming the file, the
line and the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import sympy as sp
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from . import formula as formula_mod
from .errors import SpecError
from .ops import activations as act_mod
from .ops import losses as loss_mod
from .ops.activations import ACTIVATIONS, Activation
from .ops.initializers import INITIALIZERS
from .ops.losses import LOG_BASES, LOSSES, Loss
from .ops.optimizers import OPTIMIZERS, SCHEDULES, Optimizer, Schedule
from .ops.symbols import T, X, Y
from .yamlio import PathKey, read_yaml

# ---------------------------------------------------------------------------
# Raw structure (pydantic): types and field names only.


def _to_fraction(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise ValueError(f"expected a number, found {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, found {value!r}")
        return Fraction(repr(value))
    return Fraction(value)


def _to_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, Fraction) and value.denominator == 1:
            return int(value)
        raise ValueError(f"expected a whole number, found {value!r}")
    return value


Number = Annotated[Fraction, BeforeValidator(_to_fraction)]
Int = Annotated[int, BeforeValidator(_to_int)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class _RawParams(_Strict):
    W: list[list[list[Number]]] | None = None
    b: list[list[Number]] | None = None


class _RawExample(_Strict):
    x: list[Number]
    t: list[Number] | Number


class _RawInit(_Strict):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = "xavier_uniform"
    seed: Int = 0
    generator: Literal["default", "legacy"] = "default"


class _RawOptimizer(_Strict):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = "sgd"
    learning_rate: Number = Fraction(1, 10)
    weight_decay: Number = Fraction(0)
    schedule: str | dict[str, Any] = "constant"


class _RawTraining(_Strict):
    epochs: Int = 10
    batch_size: Int | None = None
    shuffle: bool = False
    seed: Int = 0


class _RawSpec(_Strict):
    name: str | None = None
    title: str | None = None
    description: str | None = None
    source: str | None = None
    layers: list[Int]
    activations: Any = "sigmoid"
    loss: Any = "half_sse"
    optimizer: _RawOptimizer = _RawOptimizer()
    params: _RawParams | None = None
    init: _RawInit | None = None
    example: _RawExample | None = None
    examples: list[_RawExample] | None = None
    frozen: list[str] = []
    dtype: Literal["float64", "float32"] = "float64"
    training: _RawTraining = _RawTraining()
    claims: list[Any] = []


# ---------------------------------------------------------------------------
# The validated spec.

Matrix = tuple[tuple[sp.Rational, ...], ...]


@dataclass(frozen=True)
class Example:
    """One training example: input ``x`` and target ``t`` (exact rationals)."""

    x: tuple[sp.Rational, ...]
    t: tuple[sp.Rational, ...]


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimiser with its options, the learning rate and its schedule."""

    optimizer: Optimizer
    learning_rate: sp.Rational
    options: Mapping[str, sp.Rational]
    weight_decay: sp.Rational
    schedule: Schedule
    schedule_options: Mapping[str, sp.Rational]

    @property
    def name(self) -> str:
        return self.optimizer.name


@dataclass(frozen=True)
class InitSpec:
    """How to draw starting weights when the spec gives none."""

    name: str
    options: Mapping[str, Fraction]
    seed: int
    legacy: bool


@dataclass(frozen=True)
class TrainingSpec:
    """Training-loop settings; ``batch_size None`` means the whole data set."""

    epochs: int
    batch_size: int | None
    shuffle: bool
    seed: int


@dataclass(frozen=True)
class Spec:
    """A validated network spec (see the module docstring for the conventions)."""

    name: str
    layers: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    optimizer: OptimizerSpec
    W: tuple[Matrix, ...] | None
    b: tuple[tuple[sp.Rational, ...], ...] | None
    init: InitSpec | None
    examples: tuple[Example, ...]
    frozen: frozenset[tuple[str, int]]
    dtype: str
    training: TrainingSpec
    claims: tuple[Any, ...]
    title: str | None
    description: str | None
    source: str | None
    data: Mapping[str, Any] = field(repr=False, compare=False)
    path: str | None = field(default=None, compare=False)
    lines: Mapping[PathKey, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def depth(self) -> int:
        """The number of weight layers (``len(layers) - 1``)."""
        return len(self.layers) - 1

    @property
    def n_params(self) -> int:
        """The number of parameters, trainable or frozen (3-4-1: 21)."""
        return sum(o * (i + 1) for i, o in zip(self.layers[:-1], self.layers[1:], strict=True))

    @property
    def n_trainable(self) -> int:
        """The number of parameters that updates change."""
        total = 0
        for l, (i, o) in enumerate(zip(self.layers[:-1], self.layers[1:], strict=True)):
            total += 0 if ("W", l) in self.frozen else o * i
            total += 0 if ("b", l) in self.frozen else o
        return total

    @property
    def has_numbers(self) -> bool:
        """Whether the spec carries starting parameters and at least one example."""
        return self.W is not None and bool(self.examples)

    @property
    def hash(self) -> str:
        """SHA-256 of the spec's canonical data (first 16 hex digits)."""
        text = json.dumps(_canonical(self.data), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def line_of(self, *path: str | int) -> int | None:
        """The YAML line of a field, where the spec came from a file."""
        return self.lines.get(tuple(path))


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, float):
        return str(Fraction(repr(value)))
    return value


# ---------------------------------------------------------------------------
# Loading.


def load(source: str | Path | Mapping[str, Any] | Spec) -> Spec:
    """Load a spec from a YAML path, a dict of the same structure, or return a Spec as is."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return _build(source, lines={}, file=None)
    if isinstance(source, (str, Path)):
        data, lines = read_yaml(source)
        return _build(data, lines=lines, file=str(source))
    raise SpecError(f"expected a spec path, dict or Spec, found {type(source).__name__}")


def _fmt_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Ctx:
    """Raises SpecErrors located at a field path."""

    def __init__(self, lines: Mapping[PathKey, int], file: str | None) -> None:
        self.lines = lines
        self.file = file

    def error(self, path: Sequence[str | int], message: str) -> SpecError:
        key = tuple(path)
        line = None
        while line is None and key:
            line = self.lines.get(key)
            key = key[:-1]
        return SpecError(message, field=_fmt_path(path) or None, file=self.file, line=line)


def _build(data: Any, *, lines: Mapping[PathKey, int], file: str | None) -> Spec:
    ctx = _Ctx(lines, file)
    if not isinstance(data, Mapping):
        raise ctx.error((), f"expected a mapping of spec fields, found {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise ctx.error((), f"field names must be strings, found {key!r}")
    try:
        raw = _RawSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise _pydantic_error(exc, ctx) from None

    layers = tuple(raw.layers)
    if len(layers) < 2:
        raise ctx.error(
            ("layers",), f"expected at least 2 sizes (input and output), found {len(layers)}"
        )
    for i, size in enumerate(layers):
        if size < 1:
            raise ctx.error(("layers", i), f"expected a positive layer size, found {size}")
    activations = _activations(raw.activations, layers, ctx)
    loss = _loss(raw.loss, ctx)
    if loss.name == "cross_entropy" and activations[-1].name != "softmax" and layers[-1] > 1:
        pass  # allowed: cross-entropy over any outputs, stated in the document
    optimizer = _optimizer(raw.optimizer, dict(data.get("optimizer") or {}), ctx)
    W, b = _params(raw.params, layers, ctx)
    init = _init(raw.init, ctx)
    examples = _examples(raw, layers, loss, ctx)
    frozen = _frozen(raw.frozen, len(layers) - 1, ctx)
    training = raw.training
    if training.epochs < 1:
        raise ctx.error(
            ("training", "epochs"), f"expected a positive number of epochs, found {training.epochs}"
        )
    if training.batch_size is not None and training.batch_size < 1:
        raise ctx.error(
            ("training", "batch_size"),
            f"expected a positive batch size, found {training.batch_size}",
        )
    name = raw.name or (Path(file).stem if file else "network")
    return Spec(
        name=name,
        layers=layers,
        activations=activations,
        loss=loss,
        optimizer=optimizer,
        W=W,
        b=b,
        init=init,
        examples=examples,
        frozen=frozen,
        dtype=raw.dtype,
        training=TrainingSpec(
            training.epochs, training.batch_size, training.shuffle, training.seed
        ),
        claims=tuple(raw.claims),
        title=raw.title,
        description=raw.description,
        source=raw.source,
        data=dict(data),
        path=file,
        lines=dict(lines),
    )


def _pydantic_error(exc: ValidationError, ctx: _Ctx) -> SpecError:
    err = exc.errors()[0]
    path = [
        p
        for p in err["loc"]
        if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
    ]
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
        if len(path) == 1:
            message += f"; expected one of {', '.join(_RawSpec.model_fields)}"
    elif err["type"] == "missing":
        message = "required field is missing"
    elif "expected" not in message:
        message = f"{message[0].lower()}{message[1:]}, found {err.get('input')!r}"
    return ctx.error(path, message)


def _rational(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)


def _option_values(
    given: Mapping[str, Any], allowed: Mapping[str, Any] | Sequence[str], path: tuple, ctx: _Ctx
) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for key, value in given.items():
        if key not in allowed:
            expected = ", ".join(allowed) or "no options"
            raise ctx.error((*path, key), f"unknown option; expected {expected}")
        try:
            out[key] = _to_fraction(value)
        except ValueError as err:
            raise ctx.error((*path, key), str(err)) from None
    return out


def _activations(value: Any, layers: tuple[int, ...], ctx: _Ctx) -> tuple[Activation, ...]:
    n = len(layers) - 1
    if isinstance(value, list):
        if len(value) != n:
            raise ctx.error(
                ("activations",),
                f"expected {n} activations (one per non-input layer), found {len(value)}",
            )
        items = [(("activations", i), v) for i, v in enumerate(value)]
    else:
        items = [(("activations",), value)] * n
    out = []
    for l, (path, item) in enumerate(items):
        activation = _activation(item, path, l + 1, ctx)
        if activation.output_only and l != n - 1:
            raise ctx.error(
                path,
                f"{activation.name} is allowed on the output layer only, "
                f"found on layer {l + 1} of {n}",
            )
        out.append(activation)
    return tuple(out)


def _activation(item: Any, path: tuple, index: int, ctx: _Ctx) -> Activation:
    names = ", ".join([*ACTIVATIONS, "{formula: ...}"])
    name_path = path
    if isinstance(item, str):
        item = {"name": item}
    elif isinstance(item, Mapping):
        name_path = (*path, "name")
    if not isinstance(item, Mapping):
        raise ctx.error(path, f"expected an activation name or mapping ({names}), found {item!r}")
    if "formula" in item:
        extra = set(item) - {"formula"}
        if extra:
            raise ctx.error(
                (*path, sorted(extra)[0]),
                "unknown option; a formula activation takes only 'formula'",
            )
        fpath = (*path, "formula")
        try:
            expr = formula_mod.parse_formula(item["formula"], {"x": X}, field=_fmt_path(fpath))
        except SpecError as err:
            raise err.located(file=ctx.file, line=ctx.error(fpath, "").line) from None
        return act_mod.custom(expr, str(item["formula"]).strip(), index)
    name = item.get("name")
    if name not in ACTIVATIONS:
        raise ctx.error(name_path, f"unknown activation {name!r}; expected one of {names}")
    options = {k: v for k, v in item.items() if k != "name"}
    return act_mod.make_activation(name, _option_values(options, ACTIVATIONS[name][1], path, ctx))


def _loss(value: Any, ctx: _Ctx) -> Loss:
    path = ("loss",)
    names = ", ".join([*LOSSES, "{formula: ...}"])
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ctx.error(path, f"expected a loss name or mapping ({names}), found {value!r}")
    if "formula" in value:
        extra = set(value) - {"formula"}
        if extra:
            raise ctx.error(
                (*path, sorted(extra)[0]), "unknown option; a formula loss takes only 'formula'"
            )
        fpath = (*path, "formula")
        try:
            term = formula_mod.parse_formula(
                value["formula"], {"y": Y, "t": T}, field=_fmt_path(fpath)
            )
        except SpecError as err:
            raise err.located(file=ctx.file, line=ctx.error(fpath, "").line) from None
        return loss_mod.custom(term, str(value["formula"]).strip())
    name = value.get("name")
    if name not in LOSSES:
        raise ctx.error(path, f"unknown loss {name!r}; expected one of {names}")
    options: dict[str, Any] = {}
    for key, option in value.items():
        if key == "name":
            continue
        if key not in LOSSES[name][1]:
            raise ctx.error(
                (*path, key),
                f"unknown option for loss {name}; expected "
                f"{', '.join(LOSSES[name][1]) or 'no options'}",
            )
        if key == "log_base" and option not in LOG_BASES:
            raise ctx.error((*path, key), f"expected e, 2 or 10, found {option!r}")
        options[key] = option
    return loss_mod.make_loss(name, options)


def _optimizer(raw: _RawOptimizer, given: Mapping[str, Any], ctx: _Ctx) -> OptimizerSpec:
    path = ("optimizer",)
    if raw.name not in OPTIMIZERS:
        raise ctx.error(
            (*path, "name"),
            f"unknown optimizer {raw.name!r}; expected one of {', '.join(OPTIMIZERS)}",
        )
    optimizer = OPTIMIZERS[raw.name]()
    extra = {k: v for k, v in given.items() if k not in _RawOptimizer.model_fields}
    options = {
        **optimizer.hyperparameters,
        **_option_values(extra, optimizer.hyperparameters, path, ctx),
    }
    if raw.learning_rate <= 0:
        raise ctx.error(
            (*path, "learning_rate"),
            f"expected a positive learning rate, found {raw.learning_rate}",
        )
    if raw.weight_decay < 0:
        raise ctx.error(
            (*path, "weight_decay"),
            f"expected a non-negative weight decay, found {raw.weight_decay}",
        )
    sched_value = raw.schedule if isinstance(raw.schedule, Mapping) else {"name": raw.schedule}
    spath = (*path, "schedule")
    sname = sched_value.get("name", "constant")
    if sname not in SCHEDULES:
        raise ctx.error(
            spath, f"unknown schedule {sname!r}; expected one of {', '.join(SCHEDULES)}"
        )
    schedule = SCHEDULES[sname]()
    sopts = _option_values(
        {k: v for k, v in sched_value.items() if k != "name"}, schedule.hyperparameters, spath, ctx
    )
    for key, default in schedule.hyperparameters.items():
        if key not in sopts and default is None:
            raise ctx.error(spath, f"schedule {sname} needs option {key!r}")
    for key, opt in sopts.items():
        if opt <= 0:
            raise ctx.error((*spath, key), f"expected a positive value, found {opt}")
    return OptimizerSpec(
        optimizer=optimizer,
        learning_rate=_rational(raw.learning_rate),
        options={k: _rational(v) for k, v in options.items()},
        weight_decay=_rational(raw.weight_decay),
        schedule=schedule,
        schedule_options={k: _rational(v) for k, v in sopts.items()},
    )


def _params(raw: _RawParams | None, layers: tuple[int, ...], ctx: _Ctx):  # type: ignore[no-untyped-def]
    if raw is None:
        return None, None
    depth = len(layers) - 1
    if raw.W is None:
        raise ctx.error(("params",), "params needs W (the weights); b may be left out (zero)")
    if len(raw.W) != depth:
        raise ctx.error(
            ("params", "W"),
            f"expected {depth} weight matrices for layers {list(layers)}, found {len(raw.W)}",
        )
    W = []
    for l, matrix in enumerate(raw.W):
        rows, cols = layers[l + 1], layers[l]
        if len(matrix) != rows:
            raise ctx.error(
                ("params", "W", l),
                f"expected {rows} rows (neurons of layer {l + 1}), found {len(matrix)}",
            )
        for j, row in enumerate(matrix):
            if len(row) != cols:
                raise ctx.error(
                    ("params", "W", l, j),
                    f"expected {cols} weights (neurons of layer {l}), found {len(row)}",
                )
        W.append(tuple(tuple(_rational(v) for v in row) for row in matrix))
    if raw.b is None:
        b = [tuple(sp.Integer(0) for _ in range(layers[l + 1])) for l in range(depth)]
    else:
        if len(raw.b) != depth:
            raise ctx.error(("params", "b"), f"expected {depth} bias vectors, found {len(raw.b)}")
        b = []
        for l, vec in enumerate(raw.b):
            if len(vec) != layers[l + 1]:
                raise ctx.error(
                    ("params", "b", l), f"expected {layers[l + 1]} biases, found {len(vec)}"
                )
            b.append(tuple(_rational(v) for v in vec))
    return tuple(W), tuple(b)


def _init(raw: _RawInit | None, ctx: _Ctx) -> InitSpec | None:
    if raw is None:
        return None
    if raw.name not in INITIALIZERS:
        raise ctx.error(
            ("init", "name"),
            f"unknown initializer {raw.name!r}; expected one of {', '.join(INITIALIZERS)}",
        )
    extra = {k: v for k, v in (raw.model_extra or {}).items()}
    options = _option_values(extra, INITIALIZERS[raw.name].options, ("init",), ctx)
    return InitSpec(raw.name, options, raw.seed, raw.generator == "legacy")


def _examples(raw: _RawSpec, layers: tuple[int, ...], loss: Loss, ctx: _Ctx) -> tuple[Example, ...]:
    if raw.example is not None and raw.examples is not None:
        raise ctx.error(("examples",), "give either example or examples, not both")
    if raw.example is not None:
        items = [(("example",), raw.example)]
    else:
        items = [(("examples", i), e) for i, e in enumerate(raw.examples or [])]
    out = []
    for path, ex in items:
        t = ex.t if isinstance(ex.t, list) else [ex.t]
        if len(ex.x) != layers[0]:
            raise ctx.error(
                (*path, "x"), f"expected {layers[0]} inputs (layers[0]), found {len(ex.x)}"
            )
        if len(t) != layers[-1]:
            raise ctx.error(
                (*path, "t"), f"expected {layers[-1]} targets (layers[-1]), found {len(t)}"
            )
        _check_targets(t, loss, (*path, "t"), ctx)
        out.append(Example(tuple(_rational(v) for v in ex.x), tuple(_rational(v) for v in t)))
    return tuple(out)


def _check_targets(t: Sequence[Fraction], loss: Loss, path: tuple, ctx: _Ctx) -> None:
    if loss.target_domain == "unit_interval" and any(v < 0 or v > 1 for v in t):
        raise ctx.error(path, f"{loss.name} needs targets in [0, 1], found {[str(v) for v in t]}")
    if loss.target_domain == "sign" and any(v not in (-1, 1) for v in t):
        raise ctx.error(path, f"{loss.name} needs targets -1 or 1, found {[str(v) for v in t]}")


def _frozen(items: list[str], depth: int, ctx: _Ctx) -> frozenset[tuple[str, int]]:
    out: set[tuple[str, int]] = set()
    for i, item in enumerate(items):
        text = item.replace(" ", "")
        if text in ("W", "b"):
            out.update((text, l) for l in range(depth))
            continue
        if (
            len(text) >= 4
            and text[0] in "Wb"
            and text[1] == "["
            and text[-1] == "]"
            and text[2:-1].isdigit()
        ):
            l = int(text[2:-1])
            if l < depth:
                out.add((text[0], l))
                continue
        raise ctx.error(
            ("frozen", i), f"expected W, b, W[l] or b[l] with 0 <= l < {depth}, found {item!r}"
        )
    return frozenset(out)
