"""Builders for each spec field: names to operator records, shapes, exact values.

Each builder raises :class:`~symbp.errors.SpecError` located at the field path
(and the YAML line where the spec came from a file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import sympy as sp
from pydantic import ValidationError

from .. import formula as formula_mod
from ..errors import SpecError, quote
from ..ops import activations as act_mod
from ..ops import losses as loss_mod
from ..ops.activations import ACTIVATIONS, Activation
from ..ops.initializers import INITIALIZERS
from ..ops.losses import LOG_BASES, LOSSES, SOFT, Loss
from ..ops.optimizers import OPTIMIZERS, SCHEDULES
from ..ops.symbols import T, X, Y
from ..yamlio import PathKey
from ..yamlio import format_path as _fmt_path
from .exercise import ExerciseFieldError, ExerciseSpec, parse_exercise
from .model import Example, InitSpec, OptimizerSpec
from .schema import RawExample, RawInit, RawOptimizer, RawParams, RawSpec, to_fraction


class FieldContext:
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


def pydantic_error(exc: ValidationError, ctx: FieldContext) -> SpecError:
    err = exc.errors()[0]
    path = [
        p
        for p in err["loc"]
        if not (isinstance(p, str) and ("[" in p or p.startswith("function-") or p == "str"))
    ]
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
        if len(path) == 1:
            message += f"; expected one of {', '.join(RawSpec.model_fields)}"
    elif err["type"] == "missing":
        message = "required field is missing"
    elif "expected" not in message:
        message = re.sub(r" or instance of \w+", "", message)  # pydantic's own class names
        try:
            found = quote(err.get("input"))
        except ValueError:  # an int too long for repr (over 4300 digits)
            found = "a number too long to show"
        message = f"{message[0].lower()}{message[1:]}, found {found}"
    return ctx.error(path, message)


def _rational(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)


def _option_values(
    given: Mapping[str, Any],
    allowed: Mapping[str, Any] | Sequence[str],
    path: tuple,
    ctx: FieldContext,
) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for key, value in given.items():
        if key not in allowed:
            expected = ", ".join(allowed) or "no options"
            raise ctx.error((*path, key), f"unknown option; expected {expected}")
        try:
            out[key] = to_fraction(value)
        except ValueError as err:
            raise ctx.error((*path, key), str(err)) from None
    return out


def build_activations(
    value: Any, layers: tuple[int, ...], ctx: FieldContext
) -> tuple[Activation, ...]:
    n = len(layers) - 1
    if isinstance(value, list):
        if len(value) != n:
            raise ctx.error(
                ("activations",),
                f"expected {n} activations (one per non-input layer), found {len(value)}",
            )
        items: list[tuple[PathKey, Any]] = [(("activations", i), v) for i, v in enumerate(value)]
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


def _formula_field(
    item: Mapping[str, Any],
    path: tuple,
    variables: Mapping[str, Any],
    kind: str,
    ctx: FieldContext,
) -> tuple[sp.Expr, str]:
    """The SymPy expression and source text of a ``{formula: ...}`` activation or loss."""
    extra = set(item) - {"formula"}
    if extra:
        raise ctx.error(
            (*path, sorted(extra, key=str)[0]),
            f"unknown option; a formula {kind} takes only 'formula'",
        )
    fpath = (*path, "formula")
    try:
        expr = formula_mod.parse_formula(item["formula"], variables, field=_fmt_path(fpath))
    except SpecError as err:
        raise err.located(file=ctx.file, line=ctx.error(fpath, "").line) from None
    return expr, str(item["formula"]).strip()


def activation_at(item: Any, path: PathKey, index: int, ctx: FieldContext) -> Activation:
    """The activation named (or written as a formula) by ``item`` at ``path`` (layer ``index``)."""
    return _activation(item, tuple(path), index, ctx)


def _activation(item: Any, path: tuple, index: int, ctx: FieldContext) -> Activation:
    names = ", ".join([*ACTIVATIONS, "{formula: ...}"])
    name_path = path
    if isinstance(item, str):
        item = {"name": item}
    elif isinstance(item, Mapping):
        name_path = (*path, "name")
    if not isinstance(item, Mapping):
        raise ctx.error(
            path, f"expected an activation name or mapping ({names}), found {quote(item)}"
        )
    if "formula" in item:
        expr, source = _formula_field(item, path, {"x": X}, "activation", ctx)
        return act_mod.custom(expr, source, index)
    name = item.get("name")
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ctx.error(name_path, f"unknown activation {quote(name)}; expected one of {names}")
    options = {k: v for k, v in item.items() if k != "name"}
    return act_mod.make_activation(name, _option_values(options, ACTIVATIONS[name][1], path, ctx))


def build_loss(value: Any, ctx: FieldContext) -> Loss:
    path = ("loss",)
    names = ", ".join([*LOSSES, "{formula: ...}"])
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ctx.error(path, f"expected a loss name or mapping ({names}), found {quote(value)}")
    if "formula" in value:
        term, source = _formula_field(value, path, {"y": Y, "t": T}, "loss", ctx)
        return loss_mod.custom(term, source)
    name = value.get("name")
    if not isinstance(name, str) or name not in LOSSES:
        raise ctx.error(path, f"unknown loss {quote(name)}; expected one of {names}")
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
            raise ctx.error((*path, key), f"expected e, 2 or 10, found {quote(option)}")
        if key == "soft_targets" and not isinstance(option, bool):
            raise ctx.error((*path, key), f"expected true or false, found {quote(option)}")
        options[key] = option
    return loss_mod.make_loss(name, options)


def build_optimizer(
    raw: RawOptimizer, given: Mapping[str, Any], ctx: FieldContext
) -> OptimizerSpec:
    path = ("optimizer",)
    if raw.name not in OPTIMIZERS:
        raise ctx.error(
            (*path, "name"),
            f"unknown optimizer {quote(raw.name)}; expected one of {', '.join(OPTIMIZERS)}",
        )
    optimizer = OPTIMIZERS[raw.name]()
    extra = {k: v for k, v in given.items() if k not in RawOptimizer.model_fields}
    if "clip_norm" in extra:  # taken out by symbp.spec.recurrent for recurrent networks
        raise ctx.error(
            (*path, "clip_norm"),
            "clip_norm applies to recurrent networks only so far (symbp eval/verify)",
        )
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
    if not isinstance(sname, str) or sname not in SCHEDULES:
        raise ctx.error(
            spath, f"unknown schedule {quote(sname)}; expected one of {', '.join(SCHEDULES)}"
        )
    schedule = SCHEDULES[sname]()
    sopts = _option_values(
        {k: v for k, v in sched_value.items() if k != "name"}, schedule.hyperparameters, spath, ctx
    )
    for key, default in schedule.hyperparameters.items():
        if key not in sopts and default is None:
            raise ctx.error(spath, f"schedule {sname} needs option {quote(key)}")
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


def build_params(raw: RawParams | None, layers: tuple[int, ...], ctx: FieldContext):  # type: ignore[no-untyped-def]
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


def build_init(raw: RawInit | None, ctx: FieldContext) -> InitSpec | None:
    if raw is None:
        return None
    if raw.name not in INITIALIZERS:
        raise ctx.error(
            ("init", "name"),
            f"unknown initializer {quote(raw.name)}; expected one of {', '.join(INITIALIZERS)}",
        )
    extra = {k: v for k, v in (raw.model_extra or {}).items()}
    initializer = INITIALIZERS[raw.name]
    options = _option_values(extra, initializer.options, ("init",), ctx)
    problem = initializer.problem(options)
    if problem is not None:
        raise ctx.error(("init", problem[0]), problem[1])
    return InitSpec(raw.name, options, raw.seed, raw.generator == "legacy")


def build_examples(
    raw: RawSpec, layers: tuple[int, ...], loss: Loss, ctx: FieldContext
) -> tuple[Example, ...]:
    if raw.example is not None and raw.examples is not None:
        raise ctx.error(("examples",), "give either example or examples, not both")
    items: list[tuple[PathKey, RawExample]]
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


def check_targets(t: Sequence[Fraction], loss: Loss, path: tuple, ctx: FieldContext) -> None:
    """A target row ``t`` within the loss's target domain (errors at ``path``)."""
    _check_targets(t, loss, path, ctx)


def _check_targets(t: Sequence[Fraction], loss: Loss, path: tuple, ctx: FieldContext) -> None:
    # bce/cross_entropy targets outside [0, 1] are evaluated as written, with a note
    # (symbp.ops.losses.soft_targets_note); training checks its data itself.
    outside = any(v < 0 or v > 1 for v in t)
    if loss.target_domain == "unit_interval" and loss.name not in SOFT and outside:
        raise ctx.error(path, f"{loss.name} needs targets in [0, 1], found {[str(v) for v in t]}")
    if loss.target_domain == "sign" and any(v not in (-1, 1) for v in t):
        raise ctx.error(path, f"{loss.name} needs targets -1 or 1, found {[str(v) for v in t]}")


def build_frozen(items: list[str], depth: int, ctx: FieldContext) -> frozenset[tuple[str, int]]:
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
            ("frozen", i), f"expected W, b, W[l] or b[l] with 0 <= l < {depth}, found {quote(item)}"
        )
    return frozenset(out)


def build_exercise(value: Any, loss: Loss, ctx: FieldContext) -> ExerciseSpec:
    """The ``exercise:`` block; a target range must lie in the loss's target domain."""
    try:
        exercise = parse_exercise(value)
    except ExerciseFieldError as err:
        raise ctx.error(("exercise", *err.path), str(err)) from None
    t = exercise.t
    if t is not None:
        if loss.target_domain == "sign":
            raise ctx.error(
                ("exercise", "t"), f"{loss.name} needs targets -1 or 1; keep them fixed (t: fixed)"
            )
        if loss.target_domain == "unit_interval" and (t.low < 0 or t.high > 1):
            raise ctx.error(
                ("exercise", "t", "range"),
                f"{loss.name} needs targets in [0, 1], found [{float(t.low):g}, {float(t.high):g}]",
            )
    return exercise
