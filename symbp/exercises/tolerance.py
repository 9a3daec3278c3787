"""Fair tolerances: how far a careful student's answer can lie from the exact one.

A careful student works the sheet from its numbers and writes down every
quantity the sheet names (each ``z``, ``a``, loss ``L`` and ``E``, ``δ``, each
example's gradient and the batch mean, the optimiser's state, the updated
parameters) rounded to the asked decimals ``d``, and computes the next quantity
from those rounded values. :func:`student_steps` follows that work in interval
arithmetic (:mod:`mpmath.iv`, outward rounding at 40 digits) through the same
formulas the exact engine evaluates (the model of :mod:`symbp.symbolic.generic`,
the optimiser program of :mod:`symbp.ops.optimizers`, the batch plan of
:mod:`symbp.ops.batches`): each named quantity's interval is widened by half a
unit ``10^-d / 2`` on each side (the most a rounding to ``d`` decimals moves it,
whichever tie rule), unless it is one number already written with ``d``
decimals. So the answer's interval holds the value of every such student, and
of one who keeps more digits anywhere.

:func:`fair_tolerance` is then the largest distance from the exact answer to
the ends of its interval, rounded up to a whole number of units ``10^-d``, and
never below one unit (a student who rounds only the answer is off by up to half
a unit). The sheet states each question's tolerance; the quiz accepts it.

The interval arithmetic itself is :mod:`.intervals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import ceil
from typing import Any

import sympy as sp
from mpmath import iv

from ..ops.batches import plan_of
from ..ops.optimizers import EPOCH, LR, LR0, THETA, G, K, with_weight_decay
from ..spec import Spec
from ..symbolic import notation as nt
from ..symbolic.evaluate import initial_parameters
from ..symbolic.generic import GenericModel
from ..symbolic.records import ExampleValues, Rows, Step
from .intervals import DIGITS, Interval, IntervalEnv, ends, point, rounded


def _tree(item: Any, change: Any) -> Any:
    if isinstance(item, tuple):
        return tuple(_tree(v, change) for v in item)
    return change(item)


class StudentRun:
    """The careful student's values at every step, as :class:`Step` records of intervals."""

    def __init__(self, spec: Spec, model: GenericModel, decimals: int) -> None:
        self.spec, self.model, self.decimals = spec, model, decimals
        opt = spec.optimizer
        self.program = with_weight_decay(opt.optimizer.program, opt.weight_decay)
        self.hyper = {opt.optimizer.symbol(k): point(v) for k, v in opt.options.items()}
        self.state: dict[tuple[Any, ...], dict[sp.Symbol, Interval]] = {}

    def round(self, x: Interval) -> Interval:
        return rounded(x, self.decimals)

    def example(self, W: Any, b: Any, row: int) -> ExampleValues:
        """One example's values, each named quantity rounded as the student writes it."""
        spec, model, L = self.spec, self.model, self.spec.depth
        ex = spec.examples[row]
        arrays: dict[sp.Basic, Any] = {
            nt.activation(0): tuple(point(v) for v in ex.x),
            nt.TARGET: tuple(point(v) for v in ex.t),
        }
        scalars: dict[sp.Basic, Any] = {nt.size(l): iv.mpf(n) for l, n in enumerate(spec.layers)}
        for l in range(1, L + 1):
            arrays[nt.weight(l)] = W[l - 1]
            arrays[nt.bias(l)] = b[l - 1]
        env = IntervalEnv(arrays, scalars)

        def each(expr: sp.Expr, n: int, index: sp.Symbol = nt.j) -> tuple[Interval, ...]:
            out = []
            for v in range(n):
                env.scalars[index] = iv.mpf(v)
                out.append(self.round(env.value(expr)))
            return tuple(out)

        zs, acts = [], [arrays[nt.activation(0)]]
        for l in range(1, L + 1):
            formulas = model.layer(l)
            zs.append(each(formulas.z.rhs, spec.layers[l]))
            env.arrays[nt.preactivation(l)] = zs[-1]
            acts.append(each(formulas.a.rhs, spec.layers[l]))
            env.arrays[nt.activation(l)] = acts[-1]
        loss = self.round(env.value(model.loss.rhs))
        deltas: dict[int, tuple[Interval, ...]] = {}
        for l in range(L, 0, -1):
            deltas[l] = each(model.layer(l).delta.rhs, spec.layers[l])
            env.arrays[nt.delta(l)] = deltas[l]
        grad_W, grad_b = [], []
        for l in range(1, L + 1):
            formulas = model.layer(l)
            rows = []
            for r in range(spec.layers[l]):
                env.scalars[nt.j] = iv.mpf(r)
                rows.append(each(formulas.grad_W.rhs, spec.layers[l - 1], nt.k))
            grad_W.append(tuple(rows))
            env.scalars[nt.j] = iv.mpf(0)
            grad_b.append(each(formulas.grad_b.rhs, spec.layers[l]))
        return ExampleValues(
            tuple(zs),
            tuple(acts),
            tuple(deltas[l] for l in range(1, L + 1)),
            loss,
            tuple(grad_W),
            tuple(grad_b),
        )

    def mean(self, values: Sequence[Interval]) -> Interval:
        total = iv.mpf(0)
        for v in values:
            total = total + v
        return self.round(total / len(values))

    def rate(self, epoch: int) -> Interval:
        opt = self.spec.optimizer
        scalars = {LR0: point(opt.learning_rate), EPOCH: iv.mpf(epoch)}
        scalars.update(
            {sp.Symbol(k, positive=True): point(v) for k, v in opt.schedule_options.items()}
        )
        return self.round(IntervalEnv({}, scalars).value(opt.schedule.rate))

    def update(
        self, key: tuple[Any, ...], theta: Interval, g: Interval, lr: Interval, index: int
    ) -> Interval:
        """One element's update ``index + 1``: the optimiser program, each target rounded."""
        opt = self.spec.optimizer.optimizer
        state = self.state.setdefault(key, {})
        if not state:
            init = IntervalEnv({}, {LR: lr, **self.hyper})
            state.update({opt.symbol(n): init.value(v) for n, v in opt.state.items()})
        env = IntervalEnv(
            {}, {THETA: theta, G: g, LR: lr, K: iv.mpf(index + 1), **self.hyper, **state}
        )
        for target, expr in self.program:
            env.scalars[target] = self.round(env.value(expr))
            if target in state:
                state[target] = env.scalars[target]
        return env.scalars[THETA]

    def steps(self, count: int) -> list[Step]:
        """Steps ``0 .. count`` (``count`` updates), every number an interval."""
        spec = self.spec
        W0, b0 = initial_parameters(spec)
        W: Any = _tree(W0, point)
        b: Any = _tree(b0, point)
        out: list[Step] = []
        losses: list[Interval] = []
        plan = plan_of(spec)
        for index, (epoch, rows) in enumerate(plan.steps(count + 1)):
            params = (W, b)
            known = {r: self.example(*params, r) for r in rows}
            batch = [known[r] for r in rows]
            loss = self.mean([e.loss for e in batch])
            grad_W = _mean_tree([e.grad_W for e in batch], self.mean)
            grad_b = _mean_tree([e.grad_b for e in batch], self.mean)
            lr = self.rate(epoch)
            done = index % plan.per_epoch or plan.per_epoch
            epoch_loss = self.mean(losses[index - done : index]) if index else None
            out.append(
                Step(
                    index=index,
                    W=W,
                    b=b,
                    examples=Rows(len(spec.examples), known, self._rows(W, b)),
                    loss=loss,
                    grad_W=grad_W,
                    grad_b=grad_b,
                    learning_rate=lr,
                    rows=rows,
                    epoch=epoch,
                    epoch_loss=epoch_loss,
                )
            )
            losses.append(loss)
            if index == count:
                break
            W, b = self._apply(index, W, b, grad_W, grad_b, lr)
        return out

    def _rows(self, W: Any, b: Any) -> Any:
        """The values of any example at the parameters ``W``, ``b`` (for :class:`Rows`)."""

        def compute(row: int) -> ExampleValues:
            return self.example(W, b, row)

        return compute

    def _apply(
        self, index: int, W: Any, b: Any, grad_W: Any, grad_b: Any, lr: Interval
    ) -> tuple[Any, Any]:
        frozen = self.spec.frozen
        new_W = tuple(
            W[l]
            if ("W", l) in frozen
            else tuple(
                tuple(
                    self.update(("W", l, r, c), W[l][r][c], grad_W[l][r][c], lr, index)
                    for c in range(len(W[l][r]))
                )
                for r in range(len(W[l]))
            )
            for l in range(len(W))
        )
        new_b = tuple(
            b[l]
            if ("b", l) in frozen
            else tuple(
                self.update(("b", l, r), b[l][r], grad_b[l][r], lr, index) for r in range(len(b[l]))
            )
            for l in range(len(b))
        )
        return new_W, new_b


def _mean_tree(items: list[Any], mean: Any) -> Any:
    if isinstance(items[0], tuple):
        return tuple(_mean_tree(list(parts), mean) for parts in zip(*items, strict=True))
    return mean(items)


def student_steps(spec: Spec, model: GenericModel, count: int, decimals: int) -> list[Step]:
    """The careful student's intervals for steps ``0 .. count`` (module docstring)."""
    saved = iv.dps
    iv.dps = DIGITS
    try:
        steps = StudentRun(spec, model, decimals).steps(count)
        for step in steps:  # the first example's values, computed while the digits are set
            step.examples[0]
        return steps
    finally:
        iv.dps = saved


def fair_tolerance(exact: Fraction, interval: Interval, decimals: int) -> Fraction:
    """The tolerance that accepts every careful student: whole units ``10^-d``, at least one."""
    unit = Fraction(1, 10**decimals)
    lo, hi = ends(interval)
    reach = max(exact - lo, hi - exact, Fraction(0))
    return max(unit, ceil(reach / unit) * unit)
