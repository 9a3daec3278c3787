"""Exact evaluation of a recurrent network on sequences: forward over time, then BPTT.

The network is one recurrent layer (:class:`~symbp.layers.Recurrent`) and the dense
layers after it, applied to ``h_t`` at every step. :func:`evaluate_sequences` runs the
cell's formulas step by step (:mod:`.recurrent`), the dense layers through the exact
evaluator of layer records (:func:`.network.evaluate_network`, which gives ``∂L_t/∂h_t``
as its input gradient), and the backward by the recursion and truncation of
:mod:`.recurrent`, from the cell's derived partials. Values are rationals or
:data:`~.instantiate.PRECISION`-digit numbers.

Per-step quantities (``times[t - 1]``, time ``t`` from 1), named as ``eval --json`` and
claims name them, ``l`` 0-based: the cell's quantities of layer 0 (``h[0]``, the Elman
``z[0]``, the gates ``gate_i[0]`` …, the LSTM's ``c[0]``), ``a[0]`` (``x_t``), ``a[1]``
(``h_t``), the dense layers' ``z[l]``, ``a[l+1]``, ``delta[l]``, ``delta_h[0]``
(``∂E/∂h_t``; ``delta_c[0]`` ``∂E/∂c_t``), ``loss`` (``L_t``, before its weight) and
each gradient's term of step ``t`` (``grad_W[l]`` …). Over the sequence: ``loss`` (``E``)
and the gradients (sums over the steps).

:class:`Convention` states how ``E`` and its backward are formed: the spec's (sum of the
losses, the recursion, the spec's truncation) or one of the usual slips that verify's
convention search evaluates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..budget import check as check_budget
from ..errors import TooLargeError
from ..layers import Recurrent
from ..layers.base import Layer
from ..ops.losses import Loss
from .instantiate import PRECISION, Env, numeric
from .network import evaluate_network
from .network_plan import MAX_EXACT_MACS, Plan, plan_network
from .recurrent import (
    CellDerivation,
    CellStep,
    back_one_step,
    derive_cell,
    parameter_terms,
    unit_inputs,
)

Nested = Any


@dataclass(frozen=True)
class Convention:
    """How ``E`` and its gradient are formed: ``weights`` ``sum`` (``E = Σ_t L_t``, the
    spec's), ``mean`` (averaged over the steps) or ``last`` (the last step's loss only);
    ``recurrent``: whether ``∂E/∂s_t`` carries the term from ``t + 1``; ``bptt``: the
    truncation ``k`` (``None``: full)."""

    weights: str = "sum"
    recurrent: bool = True
    bptt: int | None = None


@dataclass(frozen=True)
class SequenceResult:
    """One example's per-step quantities (``times[t-1]``), its ``E`` and gradients."""

    times: tuple[dict[str, Nested], ...]
    loss: sp.Expr
    grads: dict[str, Nested]


@dataclass(frozen=True)
class SequenceEvaluation:
    """The examples of one step and their means (``E = (1/m) Σ_e E_e``, its gradients)."""

    examples: tuple[SequenceResult, ...]
    loss: sp.Expr
    grads: dict[str, Nested]
    times: tuple[dict[str, Nested], ...]


def _n(v: Any, precision: int) -> sp.Expr:
    return numeric(sp.sympify(v), precision)


def _tree(fn: Any, *items: Nested) -> Nested:
    if items[0] is None:
        return None
    if isinstance(items[0], list | tuple):
        return [_tree(fn, *parts) for parts in zip(*items, strict=True)]
    return fn(*items)


def step_cost(network: Sequence[Layer], features: int, steps: int, bptt: int | None) -> int:
    """Multiply-adds of one example's sequence: the cell's sums, its partials and
    Jacobian products, each truncated loss carried back at most ``k`` steps."""
    layer = network[0]
    assert isinstance(layer, Recurrent)
    n, G = layer.size, len(layer.cell.gates)
    per_step = 2 * G * n * (features + n) + G * n * n * len(layer.cell.states)
    reach = steps if bptt is None else min(bptt, steps)
    head = sum(p.macs for p in plan_network((n,), network[1:]))
    return steps * (per_step * (1 + (reach if bptt is not None else 1)) + head)


class Evaluator:
    """The derived pieces of one network, reused for every example and step."""

    def __init__(self, network: Sequence[Layer], loss: Loss, precision: int = PRECISION) -> None:
        layer = network[0]
        assert isinstance(layer, Recurrent)
        self.layer = layer
        self.head = tuple(network[1:])
        self.loss = loss
        self.precision = precision
        self.cell: CellDerivation = derive_cell(layer.cell, layer.unit_activation)
        self.plans: list[Plan] = plan_network((layer.size,), self.head)

    def forward_step(
        self, x: Sequence[Any], prev: dict[str, list[Any]], W: Any, U: Any, b: Any
    ) -> CellStep:
        """The cell at one step for every unit: its named quantities and partials."""
        d, n, p = self.cell, self.layer.size, self.precision
        values: dict[str, list[Any]] = {name: [] for name in d.formulas}
        within: dict[str, list[Any]] = {s: [] for s in d.within}
        partials = []
        for j in range(n):
            scalars = {s: _n(v, p) for s, v in unit_inputs(d, j, n, list(x), prev, W, U, b).items()}
            env = Env({}, scalars, p)
            for name, formula in d.formulas.items():
                value = env.value(formula)
                env.scalars[d.symbols.named(name)] = value
                values[name].append(value)
            for s, expr in d.within.items():
                within[s].append(env.value(expr))
            inputs = Env({}, scalars, p)
            partials.append({key: inputs.value(expr) for key, expr in d.partials.items()})
        return CellStep(values, partials, list(x), {s: list(v) for s, v in prev.items()}, within)

    def sequence(
        self,
        params: dict[str, Any],
        initial: Mapping[str, Sequence[Any]],
        xs: Sequence[Sequence[Any]],
        targets: Sequence[Sequence[Any] | None],
        convention: Convention,
    ) -> SequenceResult:
        """One example: ``xs[t-1]`` the input of step ``t``; ``targets[t-1]`` its target
        (``None`` for a step without a loss). ``params``: ``W``, ``U``, ``b`` per layer."""
        p = self.precision
        W, U, b = params["W"], params["U"], params["b"]
        T = len(xs)
        prev = {s: [_n(v, p) for v in initial[s]] for s in self.layer.cell.states}
        cells: list[CellStep] = []
        heads = []
        for t in range(T):
            check_budget()
            step = self.forward_step(xs[t], prev, W[0], U[0], b[0])
            cells.append(step)
            prev = {s: step.values[s] for s in self.layer.cell.states}
            target = targets[t]
            ev = evaluate_network(
                (self.layer.size,),
                self.head,
                self.loss,
                W[1:],
                b[1:],
                [(step.values["h"], list(target) if target is not None else self._zeros())],
                p,
                plans=self.plans,
            )
            heads.append((ev, target is not None))
        weights = self._weights(targets, convention.weights)
        local = [
            {"h": list(ev.grad_x) if has else [sp.Integer(0)] * self.layer.size}
            for ev, has in heads
        ]
        for g, w in zip(local, weights, strict=True):
            g["h"] = [_n(w * v, p) for v in g["h"]]
            for s in self.layer.cell.states[1:]:
                g[s] = [sp.Integer(0)] * self.layer.size
        G = self._backward(cells, local, U[0], convention)
        return self._result(cells, heads, G, weights, params)

    def _zeros(self) -> list[Any]:
        return [sp.Integer(0)] * (self.head[-1].output_shape((0,))[0])

    @staticmethod
    def _weights(targets: Sequence[Any], how: str) -> list[sp.Expr]:
        T = len(targets)
        has = [t is not None for t in targets]
        if how == "last":
            return [sp.Integer(1 if (t == T - 1 and has[t]) else 0) for t in range(T)]
        scale = sp.Rational(1, sum(has)) if how == "mean" else sp.Integer(1)
        return [scale if h else sp.Integer(0) for h in has]

    def _backward(
        self,
        cells: list[CellStep],
        local: list[dict[str, list[Any]]],
        U: Any,
        convention: Convention,
    ) -> list[dict[str, list[Any]]]:
        """``∂E/∂s_t`` for ``t = 1..T`` (index ``t - 1``), by the recursion or truncated."""
        d, p, T = self.cell, self.precision, len(cells)
        states = self.layer.cell.states
        zero = {s: [sp.Integer(0)] * self.layer.size for s in states}

        def add(a: dict[str, list[Any]], c: dict[str, list[Any]]) -> dict[str, list[Any]]:
            return {s: [_n(u + v, p) for u, v in zip(a[s], c[s], strict=True)] for s in states}

        if not convention.recurrent:
            return [dict(g) for g in local]
        k = convention.bptt
        if k is None or k >= T:  # the recursion, ∂E/∂s_{T+1} = 0 explicitly
            out: list[dict[str, list[Any]]] = [zero] * T
            after = zero  # ∂E/∂s_{t+1} carried to s_t
            for t in range(T - 1, -1, -1):
                check_budget()
                out[t] = add(local[t], after)
                after = back_one_step(d, cells[t], out[t], U) if t > 0 else zero
            return out
        acc: list[dict[str, list[Any]]] = [zero] * T
        for t in range(T):  # the loss of step t+1, carried back over its k steps
            check_budget()
            g = local[t]
            low = max(0, t - k + 1)
            for tau in range(t, low - 1, -1):
                acc[tau] = add(acc[tau], g)
                if tau > low:
                    g = back_one_step(d, cells[tau], g, U)
                    g = {s: [_n(v, p) for v in g[s]] for s in states}
        return acc

    def _result(
        self,
        cells: list[CellStep],
        heads: list[Any],
        G: list[dict[str, list[Any]]],
        weights: list[sp.Expr],
        params: dict[str, Any],
    ) -> SequenceResult:
        p = self.precision
        L = len(self.head) + 1
        times: list[dict[str, Nested]] = []
        sums: dict[str, Nested] = {}
        total = sp.Integer(0)
        for step, (ev, has), g, w in zip(cells, heads, G, weights, strict=True):
            one = ev.examples[0]
            row: dict[str, Nested] = {f"{name}[0]": v for name, v in step.values.items()}
            row["a[0]"] = list(step.x)
            for l in range(1, L):
                row[f"z[{l}]"] = one.z[l - 1]
                row[f"a[{l + 1}]"] = one.a[l]
            row["a[1]"] = step.values["h"]
            row["delta_h[0]"] = g["h"]
            for s, dh in step.within.items():  # the total ∂E/∂s_t, through h_t too
                row[f"delta_{s}[0]"] = [
                    _n(gs + gh * w, p) for gs, gh, w in zip(g[s], g["h"], dh, strict=True)
                ]
            gW, gU, gb = parameter_terms(self.cell, step, g)
            terms: dict[str, Nested] = {
                "grad_W[0]": _tree(lambda v: _n(v, p), gW),
                "grad_U[0]": _tree(lambda v: _n(v, p), gU),
                "grad_b[0]": _tree(lambda v: _n(v, p), gb),
            }
            for l in range(1, L):
                scale = w if has else sp.Integer(0)
                row[f"delta[{l}]"] = _tree(lambda v, c=scale: _n(c * v, p), one.delta[l - 1])
                terms[f"grad_W[{l}]"] = _tree(lambda v, c=scale: _n(c * v, p), one.grad_W[l - 1])
                terms[f"grad_b[{l}]"] = _tree(lambda v, c=scale: _n(c * v, p), one.grad_b[l - 1])
            if has:
                row["loss"] = one.loss
                total = total + w * one.loss
            row.update(terms)
            for key, value in terms.items():
                sums[key] = (
                    value if key not in sums else _tree(lambda a, c: _n(a + c, p), sums[key], value)
                )
            times.append(row)
        return SequenceResult(tuple(times), _n(total, p), sums)


def evaluate_sequences(
    evaluator: Evaluator,
    params: dict[str, Any],
    initial: Mapping[str, Sequence[Any]],
    examples: Sequence[tuple[Sequence[Sequence[Any]], Sequence[Sequence[Any] | None]]],
    convention: Convention,
    cost: int,
) -> SequenceEvaluation:
    """Every example's :class:`SequenceResult` and their means; refused above
    :data:`~.network_plan.MAX_EXACT_MACS` multiply-adds (``cost`` per example)."""
    if cost * len(examples) > MAX_EXACT_MACS:
        raise TooLargeError(
            f"exact evaluation of this recurrent network takes {cost * len(examples)} "
            f"multiply-adds a step (at most {MAX_EXACT_MACS}); use fewer steps, hidden units "
            "or examples"
        )
    results = [evaluator.sequence(params, initial, xs, ts, convention) for xs, ts in examples]
    m, p = len(results), evaluator.precision

    def mean(*values: Any) -> Any:
        return _n(sp.Add(*values) / m, p)

    grads = {key: _tree(mean, *(r.grads[key] for r in results)) for key in results[0].grads}
    times = []
    for t in range(len(results[0].times)):
        row = {}
        for key in results[0].times[t]:
            if key.startswith("grad_") or key == "loss":
                parts = [r.times[t].get(key) for r in results]
                if all(part is not None for part in parts):
                    row[key] = _tree(mean, *parts)
        times.append(row)
    return SequenceEvaluation(tuple(results), mean(*(r.loss for r in results)), grads, tuple(times))
