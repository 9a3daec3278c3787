"""Parameter updates in exact arithmetic: the spec's optimiser program, element-wise.

The optimiser records (:mod:`symbp.ops.optimizers`) are straight-line programs
of SymPy assignments; this module runs them with exact numbers for every
parameter element, keeping each element's optimiser state between steps.
Frozen parameters are never updated.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..ops.optimizers import EPOCH, LR, LR0, THETA, G, K, with_weight_decay
from ..spec import Spec
from .instantiate import Env

Vector = tuple[sp.Expr, ...]
Matrix = tuple[Vector, ...]


class Updater:
    """Applies the spec's optimiser program element-wise, keeping its state."""

    def __init__(self, spec: Spec) -> None:
        opt = spec.optimizer
        self.spec = spec
        self.program = with_weight_decay(opt.optimizer.program, opt.weight_decay)
        self.hyper = {opt.optimizer.symbol(k): v for k, v in opt.options.items()}
        self.schedule_env = {
            LR0: opt.learning_rate,
            EPOCH: sp.Integer(0),
            **{sp.Symbol(k, positive=True): v for k, v in opt.schedule_options.items()},
        }
        self.state: dict[tuple[str, int], dict[str, list[list[sp.Expr]]]] = {}

    def rate(self, epoch: int) -> sp.Expr:
        env = Env({}, {**self.schedule_env, EPOCH: sp.Integer(epoch)})
        return env.value(self.spec.optimizer.schedule.rate)

    def apply(
        self,
        index: int,
        W: tuple[Matrix, ...],
        b: tuple[Vector, ...],
        grad_W: tuple[Matrix, ...],
        grad_b: tuple[Vector, ...],
        *,
        epoch: int | None = None,
    ):  # type: ignore[no-untyped-def]
        """The parameters after update ``index + 1`` (its rate: the schedule at ``epoch``,
        by default ``index``: one full-batch update per epoch)."""
        lr = self.rate(index if epoch is None else epoch)
        new_W = tuple(
            W[l]
            if ("W", l) in self.spec.frozen
            else tuple(
                tuple(
                    self.element(("W", l), (r, c), W[l][r][c], grad_W[l][r][c], lr, index)
                    for c in range(len(W[l][r]))
                )
                for r in range(len(W[l]))
            )
            for l in range(len(W))
        )
        new_b = tuple(
            b[l]
            if ("b", l) in self.spec.frozen
            else tuple(
                self.element(("b", l), (r,), b[l][r], grad_b[l][r], lr, index)
                for r in range(len(b[l]))
            )
            for l in range(len(b))
        )
        return new_W, new_b

    def element(
        self,
        array: tuple[str, int],
        pos: tuple[int, ...],
        theta: sp.Expr,
        g: sp.Expr,
        lr: sp.Expr,
        index: int,
    ) -> sp.Expr:
        """``θ`` after update ``index + 1`` of the element at ``pos`` of ``array``
        (``("W", l)``), keeping its state (of any shape of parameter: conv kernels too).
        Frozen arrays are the caller's to skip."""
        state = self.state.setdefault((*array, *pos), {})  # type: ignore[arg-type]
        trace = _run(self.spec, self.program, self.hyper, state, theta, g, lr, index)
        state.update({s: v for s, v in trace.assigned if s in state})
        return trace.after

    def state_of(self, array: tuple[str, int], pos: tuple[int, ...]) -> dict[sp.Symbol, sp.Expr]:
        """The optimiser state of one element after its latest update (empty before one)."""
        return self.state.get((*array, *pos), {})  # type: ignore[arg-type]


@dataclass(frozen=True)
class UpdateTrace:
    """One element's update ``k`` (1-based), assignment by assignment.

    ``before`` holds every symbol the program reads (``θ``, ``g`` with weight decay
    not yet added, ``η`` after the schedule, ``k``, the hyper-parameters and the
    state before the update); ``assigned`` each program target with its new value,
    in program order.
    """

    k: int
    before: dict[sp.Symbol, sp.Expr]
    assigned: tuple[tuple[sp.Symbol, sp.Expr], ...]

    @property
    def after(self) -> sp.Expr:
        """``θ`` after the update (Rprop assigns its state after ``θ``)."""
        return dict(self.assigned)[THETA]


def _run(
    spec: Spec,
    program: tuple,  # type: ignore[type-arg]
    hyper: dict[sp.Symbol, sp.Expr],
    state: dict[sp.Symbol, sp.Expr],
    theta: sp.Expr,
    g: sp.Expr,
    lr: sp.Expr,
    index: int,
) -> UpdateTrace:
    """Update ``index + 1`` of one element: the program run on ``state`` (filled with the
    optimiser's initial state first if empty; the caller keeps the new state)."""
    opt = spec.optimizer.optimizer
    if not state:
        init_env = Env({}, {LR: lr, **hyper})
        state.update({opt.symbol(n): init_env.value(v) for n, v in opt.state.items()})
    before = {THETA: theta, G: g, LR: lr, K: sp.Integer(index + 1), **hyper, **state}
    env = Env({}, dict(before))
    assigned = []
    for target, expr in program:
        env.scalars[target] = env.value(expr)
        assigned.append((target, env.scalars[target]))
    return UpdateTrace(index + 1, before, tuple(assigned))


def trace_element(
    spec: Spec, theta: sp.Expr, gradients: list[sp.Expr], rates: list[sp.Expr]
) -> list[UpdateTrace]:
    """The spec's optimiser program run on one element for ``len(gradients)`` updates.

    ``theta`` is the element's starting value, ``gradients[k]`` and ``rates[k]`` the
    batch gradient and learning rate of update ``k + 1`` (from an
    :class:`~.records.Evaluation`): the same program :class:`Updater` runs (both call
    :func:`_run`), so its ``θ`` after every update equals the evaluation's (the
    documents check this).
    """
    updater = Updater(spec)
    state: dict[sp.Symbol, sp.Expr] = {}
    out = []
    for index, (g, lr) in enumerate(zip(gradients, rates, strict=True)):
        trace = _run(spec, updater.program, updater.hyper, state, theta, g, lr, index)
        state.update({s: v for s, v in trace.assigned if s in state})
        theta = trace.after
        out.append(trace)
    return out
