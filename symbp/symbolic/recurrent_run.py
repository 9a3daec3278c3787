"""``derive`` and ``eval`` of a spec with a recurrent layer (:mod:`symbp.spec.recurrent`).

:func:`derive_recurrent` gives a :class:`RecurrentDerivation`: the cell's formulas of one
unit, the local partials SymPy derives from them, the cell's Jacobian, the recursion of
``∂E/∂h_t`` (and ``∂E/∂c_t``) with its boundaries, the truncation and the weight
gradients as sums over time (:mod:`.recurrent`).

:func:`run_recurrent` gives a :class:`RecurrentRun`: ``steps + 1`` exact evaluations
(:mod:`.recurrent_eval`) with the spec's optimiser applied between them element-wise
(:mod:`.nested_updates`: any optimiser record, weight decay, schedule, frozen arrays,
``clip_norm``), one update per batch of the spec's ``training`` schedule (the gradient of
``E``, the batch's mean of each sequence's loss). Names are those of
:mod:`.recurrent_eval`; parameters ``W[l]``, ``U[l]``, ``b[l]`` and the initial states
``h0[0]`` (``c0[0]``) are named at every step, with ``update_W[l]`` (``update_U``,
``update_b``) and the optimiser's states after the update (``m_U[l]``, ``v_W[l]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from ..errors import SpecError
from ..layers import Recurrent
from ..ops.batches import plan_of
from .nested import Nested, batch_row, floats, lists, names
from .nested_updates import NestedUpdater, Update
from .recurrent import derive_cell
from .recurrent_eval import Convention, Evaluator, SequenceEvaluation, evaluate_sequences, step_cost
from .shifted_text import text

if TYPE_CHECKING:
    from ..spec import Spec


@dataclass(frozen=True)
class RecurrentDerivation:
    """What ``symbp derive`` prints for a recurrent network (``lines``; ``to_json``)."""

    lines: tuple[str, ...]
    cell: dict[str, Any]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"lines": list(self.lines), "cell": self.cell}

    def __str__(self) -> str:
        return self.text()


def derive_recurrent(spec: Spec) -> RecurrentDerivation:
    """The derivation of ``spec``'s recurrent network (see the module docstring)."""
    rec = spec.recurrence
    assert rec is not None
    layer = spec.network[0]
    assert isinstance(layer, Recurrent)
    d = derive_cell(layer.cell, layer.unit_activation)
    syms = d.symbols
    n, F = layer.size, spec.input_shape[0]
    lines = [
        f"recurrent layer 0: {layer.cell.name} cell, {n} units, {F} features, "
        f"{rec.steps} steps; time t = 1..{rec.steps}, h_0 = h0"
        + (", c_0 = c0" if "c" in layer.cell.states else ""),
        "unit j's sums, gate g = block g of the rows: Wx_g = Σ_k W[g·n+j][k] x_t[k], "
        "Uh_g = Σ_m U[g·n+j][m] h_{t-1}[m], b_g = b[g·n+j]"
        + f"; gates in PyTorch's order {', '.join(layer.cell.gates)}; {layer.cell.bias_note}",
        "cell (one step of unit j):",
    ]
    lines += [f"  {name} = {text(formula)}" for name, formula in d.formulas.items()]
    lines.append("local partials (derived by SymPy from the cell):")
    partials: dict[str, str] = {}
    for (state, symbol), expr in d.partials.items():
        key = f"∂{state}/∂{symbol}"
        partials[key] = text(d.named(expr))
        lines.append(f"  {key} = {partials[key]}")
    jac = []
    for state in layer.cell.states:
        terms = [
            f"∂{state}/∂Uh_{g}·U[{gi}·n+j][m]"
            for gi, g in enumerate(layer.cell.gates)
            if (state, syms.uh(g)) in d.partials
        ]
        if (state, syms.prev("h")) in d.partials:
            terms.append(f"[m=j]·∂{state}/∂h_prev")
        jac.append(f"  ∂{state}_t[j]/∂h_{{t-1}}[m] = {' + '.join(terms) or '0'}")
        for other in layer.cell.states[1:]:
            if (state, syms.prev(other)) in d.partials:
                jac.append(f"  ∂{state}_t[j]/∂{other}_{{t-1}}[m] = [m=j]·∂{state}/∂{other}_prev")
    lines += ["the cell's Jacobian:", *jac]
    states = layer.cell.states
    head = ", ".join(f"∂E/∂{s}_t" for s in states)
    lines += [
        "the recursion (full BPTT), E = "
        + ("Σ_t L_t" if rec.output == "every_step" else f"L_{rec.steps}")
        + ", L_t the loss of the dense layers' output at step t (reads h_t only):",
        "  ∂E/∂h_t = ∂L_t/∂h_t + (∂h_{t+1}/∂h_t)ᵀ ∂E/∂h_{t+1}"
        + ("" if len(states) == 1 else " + (∂c_{t+1}/∂h_t)ᵀ ∂E/∂c_{t+1}"),
    ]
    for other in states[1:]:  # the LSTM's c: the pair s_t = (h_t, c_t) is the state
        within = text(d.within[other])
        carry = text(d.named(d.partial(other, syms.prev(other))))
        lines += [
            f"  (with the state s_t = ({', '.join(f'{s}_t' for s in states)}): the Jacobian "
            f"blocks above, h_{{t+1}} read through {other}_{{t+1}})",
            f"  textbook total: ∂E/∂{other}_t = ∂E/∂h_t·∂h_t/∂{other}_t + "
            f"∂{other}_{{t+1}}/∂{other}_t·∂E/∂{other}_{{t+1}}, ∂h_t/∂{other}_t = {within}, "
            f"∂{other}_{{t+1}}/∂{other}_t = {carry}",
        ]
    lines += [
        f"  boundaries: {head} after the last step (t = {rec.steps + 1}) are 0; "
        "the state before the first step is the initial state",
        "truncation: "
        + (
            "full BPTT"
            if rec.bptt is None
            else f"BPTT({rec.bptt}): for the loss at step t the states before t−{rec.bptt}+1 "
            f"are constants (L_t reaches steps t−{rec.bptt}+1..t only)"
        ),
        "weight gradients, sums over time (g = ∂E/∂s_t, s the states):",
        "  ∂E/∂W[g·n+j][k] = Σ_t Σ_s g_s[j]·∂s/∂Wx_g·x_t[k]",
        "  ∂E/∂U[g·n+j][m] = Σ_t Σ_s g_s[j]·∂s/∂Uh_g·h_{t-1}[m]",
        "  ∂E/∂b[B·n+j] = Σ_t Σ_s g_s[j]·∂s/∂b_B",
        "  dense layers after it: their gradients of each step (a dense layer's), summed over t",
    ]
    cell = {
        "name": layer.cell.name,
        "formulas": {k: text(v) for k, v in d.formulas.items()},
        "partials": partials,
    }
    return RecurrentDerivation(tuple(lines), cell)


# -- eval


@dataclass(frozen=True)
class RecurrentStep:
    """The parameters before update ``step + 1``, the batch (``rows``) and its evaluation."""

    step: int
    epoch: int
    rows: tuple[int, ...]
    params: dict[str, list[Nested | None]]
    initial: dict[str, Nested]
    evaluation: SequenceEvaluation
    learning_rate: sp.Expr
    update: Update | None = None

    def _row(self, example: int | None) -> int:
        return batch_row(self.rows, example, self.step)

    def arrays(self, time: int | None = None, example: int | None = None) -> dict[str, Nested]:
        """Every quantity by its name without its last indices: at ``time`` the per-step
        ones (forward values of ``example``, default the batch's first; the loss and the
        gradients' terms of ``example``, else the batch mean), else the sequence's."""
        ev = self.evaluation
        one = ev.examples[self._row(example)]
        out: dict[str, Nested] = {}
        if time is None:
            for name, values in self.params.items():
                for l, v in enumerate(values):
                    out[f"{name}[{l}]"] = v
            for name, v in self.initial.items():
                out[f"{name}0[0]"] = v
            source = one if example is not None else ev
            out.update(source.grads)
            out["loss"] = source.loss
            if self.update is not None:
                out.update(self._update_arrays())
            return out
        out.update(one.times[time - 1])
        if example is None:
            out.update(ev.times[time - 1])
        return out

    def _update_arrays(self) -> dict[str, Nested]:
        up = self.update
        assert up is not None
        out: dict[str, Nested] = {}
        for name, values in up.deltas.items():
            for l, v in enumerate(values):
                out[f"update_{name}[{l}]"] = v
        for name, values in up.states.items():
            for l, v in enumerate(values):
                out[f"{name}[{l}]"] = v
        if up.grad_norm is not None:
            out["grad_norm"] = up.grad_norm
            out["clip_scale"] = up.scale
        return out

    def quantities(self, time: int | None = None, example: int | None = None) -> dict[str, Any]:
        """Every single value by its canonical name (``grad_U[0][1][2]``, ``h[0][1]``)."""
        out: dict[str, Any] = {}
        for prefix, value in self.arrays(time, example).items():
            if value is not None:
                out.update(names(prefix, value))
        return out

    def to_json(self) -> dict[str, Any]:
        """The step as ``eval --json`` writes it: the parameters, ``loss``, the gradients
        and ``times``: one record per time step with its ``time`` field."""
        ev = self.evaluation
        out: dict[str, Any] = {"step": self.step, "epoch": self.epoch, "rows": list(self.rows)}
        for name, values in self.params.items():
            out[name] = floats(values)
        for name, v in self.initial.items():
            out[f"{name}0"] = floats(v)
        out["loss"] = float(ev.loss)
        for key, value in ev.grads.items():
            out[key] = floats(value)
        out["times"] = [
            {"time": t, **{k: floats(v) for k, v in self.arrays(t).items()}}
            for t in range(1, len(ev.times) + 1)
        ]
        out["learning_rate"] = float(self.learning_rate)
        if self.update is not None:
            for key, value in self._update_arrays().items():
                if not key.endswith("]"):
                    out[key] = float(value)
            for name, values in (*self.update.deltas.items(), *self.update.states.items()):
                out[name if name in self.update.states else f"update_{name}"] = floats(values)
        return out


@dataclass(frozen=True)
class RecurrentRun:
    """The exact trajectory of a recurrent network: ``steps[k]`` after ``k`` updates."""

    steps: tuple[RecurrentStep, ...]
    arithmetic: str = "exact"

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps], "arithmetic": self.arithmetic}


def _example(spec: Spec, index: int) -> tuple[list[list[Any]], list[list[Any] | None]]:
    rec = spec.recurrence
    assert rec is not None
    e, F, out = spec.examples[index], spec.input_shape[0], spec.layers[-1]
    xs = [list(e.x[t * F : (t + 1) * F]) for t in range(rec.steps)]
    if rec.output == "every_step":
        ts: list[list[Any] | None] = [list(e.t[t * out : (t + 1) * out]) for t in range(rec.steps)]
    else:
        ts = [None] * (rec.steps - 1) + [list(e.t)]
    return xs, ts


def run_recurrent(
    spec: Spec,
    steps: int = 0,
    *,
    epochs: int | None = None,
    convention: Callable[[Convention], Convention] | None = None,
) -> RecurrentRun:
    """``steps + 1`` exact evaluations of ``spec`` with SGD updates between them;
    ``convention`` changes the spec's :class:`~.recurrent_eval.Convention` (verify's
    convention search)."""
    rec = spec.recurrence
    assert rec is not None
    if spec.W is None or spec.b is None or rec.U is None:
        raise SpecError(
            "exact evaluation of recurrent layers needs params: W, U and b",
            field="params",
            file=spec.path,
        )
    if not spec.examples:
        raise SpecError(
            "exact evaluation needs an example: x and t", field="example", file=spec.path
        )

    base = Convention(bptt=rec.bptt)
    used = convention(base) if convention is not None else base
    batches = plan_of(spec)
    if epochs is not None:
        steps = epochs * batches.per_epoch
    updater = NestedUpdater(spec)
    evaluator = Evaluator(spec.network, spec.loss)
    cost = step_cost(spec.network, spec.input_shape[0], rec.steps, used.bptt)
    examples = [_example(spec, i) for i in range(len(spec.examples))]
    initial = dict(rec.initial[0] or {})
    params: dict[str, list[Nested | None]] = {
        "W": list(lists(spec.W)),
        "U": list(lists(rec.U)),
        "b": list(lists(spec.b)),
    }
    out: list[RecurrentStep] = []
    for step, (epoch, rows) in enumerate(batches.steps(steps + 1)):
        ev = evaluate_sequences(evaluator, params, initial, [examples[r] for r in rows], used, cost)
        lr = updater.rate(epoch)
        update = updater.apply(params, ev.grads, step, epoch)
        out.append(RecurrentStep(step, epoch, tuple(rows), params, lists(initial), ev, lr, update))
        params = update.params
    return RecurrentRun(tuple(out))


__all__: Sequence[str] = (
    "RecurrentDerivation",
    "RecurrentRun",
    "RecurrentStep",
    "derive_recurrent",
    "run_recurrent",
)
