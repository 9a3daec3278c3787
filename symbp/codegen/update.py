"""The optimiser update of a kernel, lowered from the optimiser's update program.

An optimiser (:mod:`symbp.ops.optimizers`) is a straight-line program over one
parameter element ``theta``, its gradient ``g``, the learning rate, the step number
``k`` and state variables. Here the program (with weight decay) is inlined into one
expression per output (the new ``theta`` and the new state values), the parts that
depend only on the learning rate and ``k`` (Adam's bias corrections) are hoisted out
of the per-element loop, and the rest is printed after one ``cse``. An update that is
``beta·theta + alpha·g`` with no state (plain gradient descent, with or without weight
decay) is recognised, so that large layers can fold it into their gradient product.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..ops.optimizers import EPOCH, LR, THETA, G, K, with_weight_decay
from ..spec import Spec
from . import hyper as hyper_slots
from .printer import Block, NumbaPrinter, block, prepare, scalar_symbol

LR_ = sp.Symbol("lr", positive=True)
K_ = sp.Symbol("k", positive=True, integer=True)
EPOCH_ = sp.Symbol("epoch", nonnegative=True, integer=True)


@dataclass(frozen=True)
class UpdatePlan:
    """One optimiser update per parameter element, and per-step scalars."""

    state: tuple[str, ...]
    state_init: tuple[str, ...]  # code in lr
    hyper: tuple[str, ...]  # the run-time numbers' names (HYPER), in order
    hyper_locals: tuple[str, ...]  # their local variables in the kernel
    typed_locals: tuple[tuple[str, str], ...]  # (name, local): a local in the kernel's dtype
    step_names: tuple[str, ...]
    step: Block  # per-step scalars from lr, k and the run-time numbers
    elem: Block  # outputs: the new theta, then the new state values
    fold: tuple[str, str] | None  # (alpha, beta) code when the update is beta θ + alpha g
    schedule: str  # the learning rate, code in epoch and the run-time numbers (float64)


def _hoist(expr: sp.Expr, step: frozenset, table: dict[sp.Expr, sp.Symbol]) -> sp.Expr:
    """Replace the largest subexpressions that depend only on ``step`` symbols."""
    if expr.is_Atom or not isinstance(expr, sp.Basic):
        return expr
    free = expr.free_symbols
    if free and free <= step and isinstance(expr, sp.Expr):
        if expr not in table:
            table[expr] = sp.Symbol(f"step_factor_{len(table)}", real=True)
        return table[expr]
    if isinstance(expr, (sp.Add, sp.Mul)):
        inside = [a for a in expr.args if a.free_symbols and a.free_symbols <= step]
        if len(inside) > 1:
            rest = [a for a in expr.args if a not in inside]
            return expr.func(
                _hoist(expr.func(*inside), step, table), *(_hoist(a, step, table) for a in rest)
            )
    return expr.func(*(_hoist(a, step, table) for a in expr.args))


def update_plan(spec: Spec, printer: NumbaPrinter) -> UpdatePlan:
    """Lower ``spec``'s optimiser, weight decay and schedule to printed code."""
    opt = spec.optimizer
    record = opt.optimizer
    slots = hyper_slots.slots(spec)
    hyper = {s.symbol: s.local for s in slots}
    theta, g = scalar_symbol("theta"), scalar_symbol("g")
    state = {record.symbol(n): scalar_symbol(f"state_{n}") for n in record.state}
    values: dict[sp.Symbol, sp.Expr] = {THETA: theta, G: g, LR: LR_, K: K_, **state}
    program = with_weight_decay(record.program, hyper_slots.WEIGHT_DECAY)
    for target, expr in program:
        values[target] = expr.xreplace(hyper).xreplace(values)
    outputs = [values[THETA], *(values[s] for s in state)]
    table: dict[sp.Expr, sp.Symbol] = {}
    step = frozenset({LR_, K_, *hyper.values()})
    hoisted = [_hoist(e, step, table) for e in outputs]
    # a run-time number left in the per-element update is read in the kernel's dtype
    typed = {}
    if printer.dtype != "float64":
        for s in slots:
            if any(s.local in e.free_symbols for e in hoisted):
                typed[s.local] = scalar_symbol(f"{s.local}_{printer.dtype}")
        hoisted = [e.xreplace(typed) for e in hoisted]
    fold = None
    if not state:
        alpha, beta = sp.diff(outputs[0], g), sp.diff(outputs[0], theta)
        if (
            not (alpha.free_symbols | beta.free_symbols) & {theta, g}
            and sp.expand(outputs[0] - alpha * g - beta * theta) == 0
        ):
            f64 = NumbaPrinter("float64")
            fold = (f64.doprint(prepare(alpha)), f64.doprint(prepare(beta)))
    init = [
        printer.doprint(prepare(v.xreplace(hyper).xreplace({LR: LR_})))
        for v in record.state.values()
    ]
    rate = opt.schedule.rate.xreplace({EPOCH: EPOCH_}).xreplace(hyper)
    return UpdatePlan(
        state=tuple(str(s) for s in state.values()),
        state_init=tuple(init),
        hyper=tuple(s.name for s in slots),
        hyper_locals=tuple(str(s.local) for s in slots),
        typed_locals=tuple((str(v), str(k)) for k, v in typed.items()),
        step_names=tuple(str(s) for s in table.values()),
        step=block(NumbaPrinter("float64"), list(table), "step_part") if table else Block((), ()),
        elem=block(
            printer, hoisted, "update_part", ["new_theta", *(f"new_{n}" for n in record.state)]
        ),
        fold=fold,
        schedule=NumbaPrinter("float64").doprint(prepare(rate)),
    )
