"""Exact evaluation of a network of layer records from the derived formulas.

Given the input shape, a tuple of :class:`~symbp.layers.Layer` records, a loss, the
parameters and examples, :func:`evaluate_network` computes every named quantity of one
forward and backward pass per example, by instantiating with numbers the forward of each
record and the backward that :mod:`.shifted` derived from it (never a hand-written
backward):

- ``z[l]``, ``a[l]`` (``a[0] = x``; feature maps as nested ``[c][i][j]`` lists),
  ``delta[l] = ∂L/∂z[l]``, ``grad_W[l]``, ``grad_b[l]`` (``None`` for a layer without
  parameters) and ``grad_x = ∂L/∂x``, named as the spec names them (``l`` 0-based: layer
  ``l`` produces ``a[l+1]``);
- the loss ``L`` of each example, and over the examples the means ``E = (1/m) Σ L`` and
  the mean gradients (:class:`NetworkEvaluation`).

Values stay rational where the operations allow it and are otherwise kept with
:data:`~.instantiate.PRECISION` significant digits (:mod:`.instantiate`). The output
layer's ``δ`` is the loss differentiated by SymPy with respect to each ``z`` of the
output, through the output's activation (element-wise, or softmax for an activation that
is not). A step costs a stated number of multiply-adds (:func:`step_cost`, counted from
the formulas' sums); above :data:`MAX_EXACT_MACS` the evaluation is refused.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from ..budget import check as check_budget
from ..errors import DataError, TooLargeError, quote
from ..layers.base import Layer, Shape
from ..ops.activations import Activation
from ..ops.losses import Loss
from ..ops.symbols import T, Y
from . import notation as nt
from .instantiate import PRECISION, Env, numeric
from .nested import floats
from .network_plan import MAX_EXACT_MACS, Plan, plan_network, shapes_of, step_cost

__all__ = [
    "MAX_EXACT_MACS",
    "ExampleResult",
    "NetworkEvaluation",
    "evaluate_network",
    "sgd_steps",
    "shapes_of",
    "step_cost",
]

Nested = Any  # nested lists of SymPy numbers


@dataclass(frozen=True)
class ExampleResult:
    """Every quantity of one example's forward and backward pass (spec's 0-based ``l``)."""

    z: tuple[Nested, ...]
    a: tuple[Nested, ...]
    delta: tuple[Nested, ...]
    grad_W: tuple[Nested | None, ...]
    grad_b: tuple[Nested | None, ...]
    grad_x: Nested
    loss: sp.Expr


@dataclass(frozen=True)
class NetworkEvaluation:
    """One step's examples and their means (``E = (1/m) Σ_e L_e`` and its gradients)."""

    examples: tuple[ExampleResult, ...]
    loss: sp.Expr
    grad_W: tuple[Nested | None, ...]
    grad_b: tuple[Nested | None, ...]
    grad_x: Nested
    macs: int

    def to_json(self) -> dict[str, Any]:
        """The ``eval --json`` names: ``z``, ``a``, ``delta`` of the first example, the mean
        ``loss``, ``grad_W``, ``grad_b``, ``grad_x`` (``null`` for a layer without
        parameters), nested lists of floats; ``examples`` when there are several."""
        first = self.examples[0]
        out: dict[str, Any] = {
            "z": floats(first.z),
            "a": floats(first.a),
            "delta": floats(first.delta),
            "loss": float(self.loss),
            "grad_W": floats(self.grad_W),
            "grad_b": floats(self.grad_b),
            "grad_x": floats(self.grad_x),
        }
        if len(self.examples) > 1:
            out["examples"] = [
                {
                    "z": floats(e.z),
                    "a": floats(e.a),
                    "loss": float(e.loss),
                    "grad_x": floats(e.grad_x),
                }
                for e in self.examples
            ]
        return out


def _number(item: Any, where: str) -> sp.Expr:
    """An exact SymPy number: ints and fractions as rationals, a float as its exact binary
    value, a SymPy number as itself; anything else (text included) is refused."""
    if isinstance(item, bool):
        raise DataError(f"{where}: expected a number, found {item!r}")
    if isinstance(item, int | Fraction):
        return sp.Rational(item.numerator, item.denominator)
    if isinstance(item, float) and math.isfinite(item):
        return sp.Rational(item)
    if isinstance(item, sp.Expr) and (item.is_Rational or item.is_Float):
        return item
    raise DataError(f"{where}: expected a number, found {quote(item)}")


def _check_array(value: Nested, shape: Shape, name: str) -> list[Any]:
    """``value`` as nested lists of exact numbers of ``shape``, or a one-line :class:`DataError`."""

    def walk(item: Any, depth: int, where: str) -> Any:
        if depth == len(shape):
            if isinstance(item, list | tuple):
                raise DataError(f"{name}{where}: expected a number, found a list")
            return _number(item, f"{name}{where}")
        if not isinstance(item, list | tuple) or len(item) != shape[depth]:
            found = len(item) if isinstance(item, list | tuple) else "a number"
            raise DataError(
                f"{name}{where}: expected {shape[depth]} entries (shape "
                f"{'x'.join(map(str, shape))}), found {found}"
            )
        return [walk(part, depth + 1, f"{where}[{n}]") for n, part in enumerate(item)]

    return walk(value, 0, "")  # type: ignore[no-any-return]


def _tabulate(rhs: sp.Expr, index: Sequence[sp.Symbol], shape: Shape, env: Env) -> Nested:
    """``rhs`` at every index of ``shape``, as nested lists."""
    # key the arrays by the very objects ``rhs`` reads: a dict lookup then never has to
    # compare two equal bases built apart (SymPy's equality is slow)
    for base in {r.base for r in rhs.atoms(sp.Indexed)}:
        if base in env.arrays:
            env.arrays[base] = env.arrays.pop(base)
        if base in env.outside:
            env.outside[base] = env.outside.pop(base)
    flat = []
    for position in itertools.product(*(range(n) for n in shape)):
        for symbol, n in zip(index, position, strict=True):
            env.scalars[symbol] = sp.Integer(n)
        flat.append(env.value(rhs))
    return _nest(flat, shape)


def _nest(flat: list[Any], shape: Shape) -> Nested:
    if len(shape) <= 1:
        return flat
    step = math.prod(shape[1:])
    return [_nest(flat[n * step : (n + 1) * step], shape[1:]) for n in range(shape[0])]


def _map(fn: Any, value: Nested) -> Nested:
    if isinstance(value, list):
        return [_map(fn, v) for v in value]
    return fn(value)


def _zip_map(fn: Any, left: Nested, right: Nested) -> Nested:
    if isinstance(left, list):
        return [_zip_map(fn, a, b) for a, b in zip(left, right, strict=True)]
    return fn(left, right)


def _output_delta(
    loss: Loss, activation: Activation | None, n: int
) -> tuple[sp.Expr, list[sp.Expr], list[sp.Symbol], list[sp.Symbol]]:
    """``L`` and ``∂L/∂z_j`` of one example in the output's ``z_j`` and targets ``t_j``."""
    z = [sp.Symbol(f"z_{j}", real=True) for j in range(n)]
    t = [sp.Symbol(f"t_{j}", real=True) for j in range(n)]
    if activation is None:
        outputs = list(z)
    elif activation.elementwise:
        outputs = [activation(zj) for zj in z]
    else:  # softmax, the one vector activation
        norm = sp.Add(*(sp.exp(zk) for zk in z))
        outputs = [sp.exp(zj) / norm for zj in z]
    total = loss.reduce(
        [loss.term.xreplace({Y: y, T: tj}) for y, tj in zip(outputs, t, strict=True)]
    )
    return total, [sp.diff(total, zj) for zj in z], z, t


def evaluate_network(
    input_shape: Shape,
    network: Sequence[Layer],
    loss: Loss,
    W: Sequence[Nested | None],
    b: Sequence[Nested | None],
    examples: Sequence[tuple[Nested, Sequence[Any]]],
    precision: int = PRECISION,
    plans: Sequence[Plan] | None = None,
) -> NetworkEvaluation:
    """Evaluate ``network`` exactly on ``examples`` (pairs ``(x, t)``) with ``W``, ``b``.

    ``plans`` replaces :func:`~.network_plan.plan_network`'s plans of ``network`` (the
    convention search of :mod:`symbp.verify.network` evaluates variants of the derived
    formulas through it).

    ``W[l]`` / ``b[l]`` are nested lists in the shapes of the records'
    :meth:`~symbp.layers.Layer.parameter_shapes` (``None`` for a layer without
    parameters); ``x`` is shaped as ``input_shape``, ``t`` is a list as long as the
    output. Raises :class:`~symbp.errors.DataError` (one line) for a value of the wrong
    shape, :class:`~symbp.errors.TooLargeError` above :data:`MAX_EXACT_MACS`.
    """
    if not examples:
        raise DataError("no example to evaluate: give at least one (x, t)")
    shapes = shapes_of(input_shape, network)
    if len(shapes[-1]) != 1:
        raise DataError("the last layer must give a vector (put flatten and dense at the end)")
    if len(W) != len(network) or len(b) != len(network):
        raise DataError(f"W and b need one entry per layer ({len(network)}), null where none")
    plans = list(plan_network(input_shape, network) if plans is None else plans)
    macs = len(examples) * sum(p.macs for p in plans)
    if macs > MAX_EXACT_MACS:
        raise TooLargeError(
            f"exact evaluation of this network takes {macs} multiply-adds a step (at most "
            f"{MAX_EXACT_MACS}); use smaller maps, fewer channels or fewer examples"
        )
    weights: list[Nested | None] = []
    biases: list[Nested | None] = []
    for l0, plan in enumerate(plans):
        for name, given, into in (("W", W[l0], weights), ("b", b[l0], biases)):
            if name in plan.params:
                if given is None:
                    raise DataError(f"{name}[{l0}]: expected the layer's parameters, found null")
                into.append(_check_array(given, plan.params[name], f"{name}[{l0}]"))
            elif given is not None:
                raise DataError(f"{name}[{l0}]: the layer has no parameters; expected null")
            else:
                into.append(None)
    n_out = shapes[-1][0]
    total, dz, z_syms, t_syms = _output_delta(loss, network[-1].activation, n_out)
    results = []
    for e, (x, t) in enumerate(examples):
        check_budget()
        xs = _check_array(x, shapes[0], f"example[{e}].x")
        ts = _check_array(list(t), (n_out,), f"example[{e}].t")
        results.append(_one(plans, weights, biases, xs, ts, (total, dz, z_syms, t_syms), precision))
    m = len(results)

    def mean(*values: sp.Expr) -> sp.Expr:
        return numeric(sp.Add(*values) / m, precision)

    def mean_tree(items: list[Nested]) -> Nested:
        if items[0] is None:
            return None
        if isinstance(items[0], list):
            return [mean_tree(list(parts)) for parts in zip(*items, strict=True)]
        return mean(*items)

    return NetworkEvaluation(
        examples=tuple(results),
        loss=mean(*(r.loss for r in results)),
        grad_W=tuple(mean_tree([r.grad_W[l] for r in results]) for l in range(len(plans))),
        grad_b=tuple(mean_tree([r.grad_b[l] for r in results]) for l in range(len(plans))),
        grad_x=mean_tree([r.grad_x for r in results]),
        macs=macs,
    )


def _one(
    plans: list[Plan],
    weights: list[Nested | None],
    biases: list[Nested | None],
    x: Nested,
    t: list[sp.Expr],
    output: tuple[sp.Expr, list[sp.Expr], list[sp.Symbol], list[sp.Symbol]],
    precision: int,
) -> ExampleResult:
    a: list[Nested] = [x]
    zs: list[Nested] = []
    constants: list[dict[sp.IndexedBase, Any]] = []
    for l0, plan in enumerate(plans):
        l, d = l0 + 1, plan.derivation
        consts = d.layer.constants(l, a[-1])
        constants.append(consts)
        arrays = _arrays(l, a[-1], weights[l0], biases[l0], consts)
        env = Env(arrays, dict(plan.values), precision, outside=d.forward.outside)
        z = _tabulate(plan.forward, d.forward.index, plan.out_shape, env)
        zs.append(z)
        act = d.layer.activation
        if act is None:
            a.append(z)
        elif act.elementwise:
            a.append(_map(lambda v, f=act, en=env: en.value(f(v)), z))
        else:  # softmax over the output vector
            a.append(_softmax(z, precision))
    total, dz, z_syms, t_syms = output
    scalars = dict(zip(z_syms, zs[-1], strict=True)) | dict(zip(t_syms, t, strict=True))
    out_env = Env({}, scalars, precision)
    loss = out_env.value(total)
    delta: Nested = [out_env.value(expr) for expr in dz]
    deltas: list[Nested] = [None] * len(plans)
    grad_W: list[Nested | None] = [None] * len(plans)
    grad_b: list[Nested | None] = [None] * len(plans)
    grad_x: Nested = None
    for l0 in range(len(plans) - 1, -1, -1):
        check_budget()
        plan, l = plans[l0], l0 + 1
        d = plan.derivation
        deltas[l0] = delta
        arrays = _arrays(l, a[l0], weights[l0], biases[l0], constants[l0])
        arrays[nt.delta(l)] = delta
        env = Env(arrays, dict(plan.values), precision, outside=d.gradients["input"].outside)
        for name, into in (("W", grad_W), ("b", grad_b)):
            if name in d.gradients:
                index = d.gradients[name].index
                into[l0] = _tabulate(plan.gradient(name), index, plan.params[name], env)
        index = d.gradients["input"].index
        g = _tabulate(plan.gradient("input"), index, plan.in_shape, env)
        if l0 == 0:
            grad_x = g
            break
        act = plans[l0 - 1].derivation.layer.activation
        if act is None:
            delta = g
        else:
            delta = _zip_map(
                lambda gv, zv, f=act, en=env: en.value(gv * f.derivative_at(zv)), g, zs[l0 - 1]
            )
    return ExampleResult(
        z=tuple(zs),
        a=tuple(a),
        delta=tuple(deltas),
        grad_W=tuple(grad_W),
        grad_b=tuple(grad_b),
        grad_x=grad_x,
        loss=loss,
    )


def _softmax(z: list[sp.Expr], precision: int) -> list[sp.Expr]:
    norm = sp.Add(*(sp.exp(v) for v in z))
    return [numeric(sp.exp(v) / norm, precision) for v in z]


def _arrays(
    l: int, inputs: Nested, W: Nested | None, b: Nested | None, consts: Mapping[sp.IndexedBase, Any]
) -> dict[sp.IndexedBase, Any]:
    arrays: dict[sp.IndexedBase, Any] = {nt.activation(l - 1): inputs, **consts}
    if W is not None:
        arrays[nt.weight(l)] = W
    if b is not None:
        arrays[nt.bias(l)] = b
    return arrays


def sgd_steps(
    input_shape: Shape,
    network: Sequence[Layer],
    loss: Loss,
    W: Sequence[Nested | None],
    b: Sequence[Nested | None],
    examples: Sequence[tuple[Nested, Sequence[Any]]],
    steps: int,
    rate: Any,
    precision: int = PRECISION,
) -> list[NetworkEvaluation]:
    """``steps + 1`` evaluations with plain full-batch gradient descent between them:
    ``W ← W − rate · ∂E/∂W`` (and ``b``), ``E`` the mean loss over ``examples``. The
    spec's optimisers and schedules are :mod:`symbp.symbolic.updates`' (wired by the spec)."""
    eta = _number(rate, "rate")
    out = []
    for step in range(steps + 1):
        evaluation = evaluate_network(input_shape, network, loss, W, b, examples, precision)
        out.append(evaluation)
        if step == steps:
            break

        def update(value: Nested, grad: Nested) -> Nested:
            return numeric(sp.sympify(value) - eta * grad, precision)

        W = [
            None if w is None else _zip_map(update, w, g)
            for w, g in zip(W, evaluation.grad_W, strict=True)
        ]
        b = [
            None if v is None else _zip_map(update, v, g)
            for v, g in zip(b, evaluation.grad_b, strict=True)
        ]
    return out
