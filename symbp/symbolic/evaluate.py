"""Exact evaluation of a spec's worked example from the layer-generic formulas.

The formulas of :mod:`.generic` are instantiated with the spec's numbers: sums
run over the concrete layer sizes, indexed symbols are looked up, and every
operation is done in SymPy numbers. Values stay rational where the operations
allow it (identity, ReLU, polynomial losses) and are otherwise kept with
:data:`PRECISION` significant digits; they are rounded only for display.

Updates apply the spec's optimiser program (:mod:`symbp.ops.optimizers`) to
the gradient of ``E = (1/m) Σ_e L_e`` over all examples (full-batch steps);
the schedule sees one epoch per step. Frozen parameters are never updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import sympy as sp

from ..budget import check as check_budget
from ..errors import TooLargeError, TrainingDiverged
from ..spec import Spec
from . import notation as nt
from .generic import GenericModel, derive_generic
from .instantiate import PRECISION, Env, numeric
from .updates import Updater

#: Exact evaluation is for worked examples; above this, use the compiled trainer.
MAX_EXACT_PARAMS = 5000

Number = sp.Expr
Vector = tuple[Number, ...]
Matrix = tuple[Vector, ...]


@dataclass(frozen=True)
class ExampleValues:
    """Forward and backward values of one example at one step (0-based lists).

    ``z[l-1]`` and ``delta[l-1]`` belong to layer ``l``; ``a[0]`` is the input and
    ``a[L]`` the output; ``grad_W``/``grad_b`` are this example's ``∂L/∂θ``.
    """

    z: tuple[Vector, ...]
    a: tuple[Vector, ...]
    delta: tuple[Vector, ...]
    loss: Number
    grad_W: tuple[Matrix, ...]
    grad_b: tuple[Vector, ...]


@dataclass(frozen=True)
class Step:
    """Parameters before update ``index + 1`` and everything they give.

    ``loss``, ``grad_W`` and ``grad_b`` are of ``E``, the mean over the examples;
    ``learning_rate`` is the rate the next update uses.
    """

    index: int
    W: tuple[Matrix, ...]
    b: tuple[Vector, ...]
    examples: tuple[ExampleValues, ...]
    loss: Number
    grad_W: tuple[Matrix, ...]
    grad_b: tuple[Vector, ...]
    learning_rate: Number

    @property
    def z(self) -> tuple[Vector, ...]:
        """``z`` of the first example."""
        return self.examples[0].z

    @property
    def a(self) -> tuple[Vector, ...]:
        """``a`` of the first example (input first)."""
        return self.examples[0].a

    @property
    def output(self) -> Vector:
        """The network output ŷ of the first example."""
        return self.examples[0].a[-1]


@dataclass(frozen=True)
class Evaluation:
    """A worked example: ``steps[i]`` holds the parameters before update ``i + 1``."""

    spec: Spec
    model: GenericModel
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``symbp eval --json`` shape: 0-based nested lists of floats."""
        return {"steps": [_step_json(s) for s in self.steps]}


def _f(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_f(v) for v in value]
    return float(value)


def _step_json(step: Step) -> dict[str, Any]:
    out = {
        "step": step.index,
        "W": _f(step.W),
        "b": _f(step.b),
        "z": _f(step.z),
        "a": _f(step.a),
        "delta": _f(step.examples[0].delta),
        "loss": float(step.loss),
        "grad_W": _f(step.grad_W),
        "grad_b": _f(step.grad_b),
        "learning_rate": float(step.learning_rate),
    }
    if len(step.examples) > 1:
        out["examples"] = [
            {"z": _f(e.z), "a": _f(e.a), "loss": float(e.loss)} for e in step.examples
        ]
    return out


def initial_parameters(spec: Spec) -> tuple[tuple[Matrix, ...], tuple[Vector, ...]]:
    """The spec's starting parameters: given exactly, or drawn by its initialiser."""
    if spec.W is not None and spec.b is not None:
        return spec.W, spec.b
    if spec.init is None:
        raise TooLargeError("the spec has no params and no init: give params (W, b) or init")
    from ..ops.initializers import draw_weights

    drawn = draw_weights(
        spec.init.name, spec.init.options, spec.layers, spec.init.seed, legacy=spec.init.legacy
    )
    W = tuple(tuple(tuple(sp.Float(float(v), PRECISION) for v in row) for row in m) for m in drawn)
    b = tuple(tuple(sp.Integer(0) for _ in range(n)) for n in spec.layers[1:])
    return W, b


def evaluate(spec: Spec, steps: int = 0, model: GenericModel | None = None) -> Evaluation:
    """Evaluate ``spec``'s worked example exactly for ``steps`` updates.

    Returns ``steps + 1`` :class:`Step` records. Raises
    :class:`~symbp.errors.TrainingDiverged` naming the step when a value stops
    being finite.
    """
    if not spec.examples:
        raise TooLargeError(
            "the spec has no example: add example: {x: [...], t: [...]}", field="example"
        )
    if spec.n_params > MAX_EXACT_PARAMS:
        raise TooLargeError(
            f"exact evaluation is for worked examples (at most {MAX_EXACT_PARAMS} parameters, "
            f"this net has {spec.n_params}); train it with `symbp compile` / `symbp train`"
        )
    if steps < 0:
        raise ValueError("steps must be >= 0")
    model = model or derive_generic(spec)
    W, b = initial_parameters(spec)
    updater = Updater(spec)
    records = []
    for index in range(steps + 1):
        try:
            step = _step(spec, model, index, W, b)
        except OverflowError:  # mpmath: a value too large even for its exponent range
            raise TrainingDiverged(
                f"a value overflowed at step {index} (last finite loss: {_last_loss(records)})"
            ) from None
        if not all(_finite(v) for v in _flatten(step.loss, step.grad_W, step.grad_b)):
            raise TrainingDiverged(
                f"the loss or a gradient is not a finite real number at step {index}"
                f" (last finite loss: {_last_loss(records)})"
            )
        step = Step(**{**step.__dict__, "learning_rate": updater.rate(index)})
        records.append(step)
        if index < steps:
            W, b = updater.apply(index, W, b, step.grad_W, step.grad_b)
    return Evaluation(spec, model, tuple(records))


def _last_loss(records: Sequence[Step]) -> str:
    return f"{float(records[-1].loss):.6g}" if records else "none"


def _finite(value: sp.Expr) -> bool:
    """A finite real number (a formula like sqrt(x) at x < 0 gives complex values)."""
    return bool(value.is_finite) and value.is_number and bool(value.is_extended_real)


def _flatten(*items: Any) -> list[sp.Expr]:
    out: list[sp.Expr] = []
    for item in items:
        if isinstance(item, tuple):
            out.extend(_flatten(*item))
        else:
            out.append(item)
    return out


def _step(
    spec: Spec, model: GenericModel, index: int, W: tuple[Matrix, ...], b: tuple[Vector, ...]
) -> Step:
    examples = tuple(_stable_example(spec, model, W, b, ex.x, ex.t) for ex in spec.examples)
    m = len(examples)

    def mean(values: Sequence[sp.Expr]) -> sp.Expr:
        return numeric(sp.Add(*values) / m)

    grad_W = tuple(
        tuple(
            tuple(mean([e.grad_W[l][r][c] for e in examples]) for c in range(len(W[l][r])))
            for r in range(len(W[l]))
        )
        for l in range(len(W))
    )
    grad_b = tuple(
        tuple(mean([e.grad_b[l][r] for e in examples]) for r in range(len(b[l])))
        for l in range(len(b))
    )
    return Step(
        index, W, b, examples, mean([e.loss for e in examples]), grad_W, grad_b, sp.Integer(0)
    )


def _stable_example(
    spec: Spec,
    model: GenericModel,
    W: tuple[Matrix, ...],
    b: tuple[Vector, ...],
    x: Vector,
    t: Vector,
) -> ExampleValues:
    """One example's values; recomputed with more digits where PRECISION is not enough.

    Saturated units lose everything to cancellation at 60 digits (1 − σ(10⁴) is
    about 10⁻⁴³⁴³), so a non-finite loss or delta is recomputed at 10x and 100x
    the precision before it counts as divergence; results are rounded back.
    """
    for precision in (PRECISION, 10 * PRECISION, 100 * PRECISION):
        values = _example(spec, model, W, b, x, t, precision)
        if all(_finite(v) for v in _flatten(values.loss, values.delta)):
            break
    if precision == PRECISION:
        return values
    return ExampleValues(
        *(
            _map_floats(getattr(values, f.name), lambda v: v.evalf(PRECISION))
            for f in fields(ExampleValues)
        )
    )


def _map_floats(item: Any, change: Any) -> Any:
    """``item`` (nested tuples of numbers) with ``change`` applied to every Float."""
    if isinstance(item, tuple):
        return tuple(_map_floats(v, change) for v in item)
    return change(item) if item.is_Float else item


def _example(
    spec: Spec,
    model: GenericModel,
    W: tuple[Matrix, ...],
    b: tuple[Vector, ...],
    x: Vector,
    t: Vector,
    precision: int,
) -> ExampleValues:
    L = spec.depth
    if precision > PRECISION:  # widen the inputs' Floats, or they cap the working precision
        W, b, x, t = (_map_floats(v, lambda f: sp.Float(f, precision)) for v in (W, b, x, t))
    arrays: dict[sp.IndexedBase, Any] = {nt.activation(0): x, nt.TARGET: t}
    scalars: dict[sp.Symbol, Any] = {nt.size(l): sp.Integer(n) for l, n in enumerate(spec.layers)}
    for l in range(1, L + 1):
        arrays[nt.weight(l)] = W[l - 1]
        arrays[nt.bias(l)] = b[l - 1]
    env = Env(arrays, scalars, precision)

    def each(expr: sp.Expr, n: int, index: sp.Symbol = nt.j) -> Vector:
        out = []
        for v in range(n):
            check_budget()  # the time budget, where no signal can interrupt (threads)
            env.scalars[index] = sp.Integer(v)
            out.append(env.value(expr))
        return tuple(out)

    zs, acts = [], [x]
    for l in range(1, L + 1):
        formulas = model.layer(l)
        zs.append(each(formulas.z.rhs, spec.layers[l]))
        env.arrays[nt.preactivation(l)] = zs[-1]
        acts.append(each(formulas.a.rhs, spec.layers[l]))
        env.arrays[nt.activation(l)] = acts[-1]
    loss = env.value(model.loss.rhs)
    deltas: dict[int, Vector] = {}
    for l in range(L, 0, -1):
        deltas[l] = each(model.layer(l).delta.rhs, spec.layers[l])
        env.arrays[nt.delta(l)] = deltas[l]
    grad_W, grad_b = [], []
    for l in range(1, L + 1):
        formulas = model.layer(l)
        rows = []
        for r in range(spec.layers[l]):
            env.scalars[nt.j] = sp.Integer(r)
            rows.append(each(formulas.grad_W.rhs, spec.layers[l - 1], nt.k))
        grad_W.append(tuple(rows))
        grad_b.append(each(formulas.grad_b.rhs, spec.layers[l]))
    return ExampleValues(
        tuple(zs),
        tuple(acts),
        tuple(deltas[l] for l in range(1, L + 1)),
        loss,
        tuple(grad_W),
        tuple(grad_b),
    )
