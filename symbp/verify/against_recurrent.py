"""``verify --against torch`` of a recurrent net: the values recomputed by PyTorch autograd.

An independent reference for the exact values (:mod:`.against` does the same for dense
nets): at every claimed step the network runs in float64 PyTorch at the exact parameters
of that step. The recurrent layer is the PyTorch module its cell record names
(:attr:`symbp.layers.cells.Cell.torch`: ``nn.RNN``, ``nn.GRU``, ``nn.LSTM``) with
``weight_ih`` = ``W[0]``, ``weight_hh`` = ``U[0]`` and the biases as the record places
them (:meth:`~symbp.layers.cells.Cell.torch_biases`: a block named as a gate is that
gate's ``bias_ih``, a block ``h`` + gate, the GRU's ``hn``, that gate's ``bias_hh``). The
dense layers after it apply at every step with the spec's activation formulas turned
into torch functions (``sympy.lambdify``), the loss likewise; ``E`` of an example is the
sum of its steps' losses (``output: every_step``) or the last step's, the batch's ``E``
their mean. Truncation ``bptt: k`` is reproduced by ``detach``: the graph of ``L_t``
starts from the states after step ``t − k``, detached. Differentiation is torch's.

Torch values are given for the hidden and cell states, the dense layers' ``z`` and
outputs and the loss of every step, ``E`` and every whole-sequence gradient; the gates,
the deltas, the per-step gradient terms and the parameters get none. Agreement means
every gradient entry and every hidden state at the claimed steps is within
``1e-9·(1 + |exact|)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import DataError
from ..layers import Recurrent
from ..ops.symbols import T, X, Y
from ..spec import Spec
from ..symbolic.nested import floats, names
from ..symbolic.recurrent_run import RecurrentRun, RecurrentStep
from .against import RTOL, _torch, torch_function
from .report import ClaimResult

Values = dict[tuple[int | None, int | None], dict[str, float]]


def _names(prefix: str, value: Any) -> Iterator[tuple[str, float]]:
    return ((name, float(v)) for name, v in names(prefix, value))


def check_torch_cell(spec: Spec) -> None:
    """Refuse, in one line, a cell that its PyTorch module cannot compute."""
    layer = spec.network[0]
    assert isinstance(layer, Recurrent)
    cell = layer.cell
    if cell.torch_nonlinearities:
        name = layer.activation.name if layer.activation is not None else cell.default_activation
        if name not in cell.torch_nonlinearities:
            raise DataError(
                f"--against torch: nn.{cell.torch} takes the activations "
                f"{' or '.join(cell.torch_nonlinearities)}, the {cell.name} cell uses {name}; "
                "verify without --against",
                field="against",
            )


class _Net:
    """The spec's network in PyTorch at one step's parameters."""

    def __init__(self, torch: Any, spec: Spec, step: RecurrentStep) -> None:
        self.torch, self.spec = torch, spec
        layer = spec.network[0]
        assert isinstance(layer, Recurrent)
        self.layer, self.cell = layer, layer.cell
        self.n, self.F = layer.size, spec.input_shape[0]
        name = layer.activation.name if layer.activation else self.cell.default_activation
        options = self.cell.torch_options(name)
        module = getattr(torch.nn, self.cell.torch)
        self.rnn = module(self.F, self.n, dtype=torch.float64, **options)
        W, U, b = step.params["W"], step.params["U"], step.params["b"]
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(self._t(W[0]))
            self.rnn.weight_hh_l0.copy_(self._t(U[0]))
            ih, hh = self.cell.torch_biases(np.asarray(floats(b[0]), np.float64), self.n)
            self.rnn.bias_ih_l0.copy_(torch.from_numpy(ih))
            self.rnn.bias_hh_l0.copy_(torch.from_numpy(hh))
        self.head = [
            (self._t(W[l]).requires_grad_(), self._t(b[l]).requires_grad_())
            for l in range(1, len(spec.network))
        ]
        self.acts = [
            torch_function(record.activation.formula, (X,))
            if record.activation is not None and record.activation.elementwise
            else None
            for record in spec.network[1:]
        ]
        self.term = torch_function(spec.loss.term, (Y, T))
        self.initial = [self._t(step.initial[s]).reshape(1, 1, self.n) for s in self.cell.states]

    def _t(self, value: Any) -> Any:
        return self.torch.tensor(floats(value), dtype=self.torch.float64)

    def params(self) -> list[Any]:
        """``W[0]``, ``U[0]``, the biases, then each dense layer's ``W`` and ``b``."""
        rnn = self.rnn
        rest = [p for pair in self.head for p in pair]
        return [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, *rest]

    def states(self, xs: Any, last: int, cut: int | None) -> list[tuple[Any, ...]]:
        """The states after steps ``1..last``; those after step ``cut`` detached."""
        state = tuple(self.initial)
        out = []
        for step in range(1, last + 1):
            if cut is not None and step - 1 == cut:
                state = tuple(s.detach() for s in state)
            arg = state if len(state) > 1 else state[0]
            _, new = self.rnn(xs[step - 1].reshape(1, 1, self.F), arg)
            state = tuple(new) if isinstance(new, tuple) else (new,)
            out.append(state)
        return out

    def head_values(self, h: Any) -> tuple[list[Any], list[Any]]:
        """The dense layers' ``z`` and outputs of ``h``."""
        torch = self.torch
        a, zs, outs = h.reshape(self.n), [], []
        for (W, b), act in zip(self.head, self.acts, strict=True):
            z = W @ a + b
            a = torch.softmax(z, 0) if act is None else act(z)
            zs.append(z)
            outs.append(a)
        return zs, outs

    def loss(self, y: Any, target: Any) -> Any:
        terms = self.term(y, target)
        return terms.sum() if self.spec.loss.reduction == "sum" else terms.mean()


def _example(spec: Spec, index: int) -> tuple[list[list[float]], list[list[float] | None]]:
    rec = spec.recurrence
    assert rec is not None
    e, F, out = spec.examples[index], spec.input_shape[0], spec.layers[-1]
    xs = [floats(e.x[t * F : (t + 1) * F]) for t in range(rec.steps)]
    if rec.output == "every_step":
        ts: list[list[float] | None] = [
            floats(e.t[t * out : (t + 1) * out]) for t in range(rec.steps)
        ]
    else:
        ts = [None] * (rec.steps - 1) + [floats(e.t)]
    return xs, ts


def _run(torch: Any, spec: Spec, step: RecurrentStep) -> Values:
    """Torch's values at ``step``, by ``(time, example)`` then canonical name."""
    rec = spec.recurrence
    assert rec is not None
    net = _Net(torch, spec, step)
    params = net.params()
    L = len(spec.network)
    values: Values = {}
    sums: dict[str, Any] = {}
    m = len(step.rows)
    for row, e in enumerate(step.rows):
        xs_list, ts = _example(spec, e)
        xs = net._t(xs_list)
        states = net.states(xs, rec.steps, None)
        E = 0.0
        for t, state in enumerate(states, start=1):
            forward: dict[str, float] = {}
            for s, v in zip(net.cell.states, state, strict=True):
                forward.update(_names(f"{s}[0]", v.detach().reshape(net.n).tolist()))
            forward.update(_names("a[0]", xs_list[t - 1]))
            forward.update(_names("a[1]", state[0].detach().reshape(net.n).tolist()))
            zs, outs = net.head_values(state[0])
            for l in range(1, L):
                forward.update(_names(f"z[{l}]", zs[l - 1].detach().tolist()))
                forward.update(_names(f"a[{l + 1}]", outs[l - 1].detach().tolist()))
            target = ts[t - 1]
            if target is not None:
                forward["loss"] = float(net.loss(outs[-1], net._t(target)).detach())
                E += forward["loss"]
            values[(t, e)] = forward
            if row == 0:
                values[(t, None)] = dict(forward)
            elif "loss" in forward:
                values[(t, None)]["loss"] += forward["loss"]
        for p in params:
            p.grad = None
        for t, target in enumerate(ts, start=1):
            if target is None:
                continue
            cut = t - rec.bptt if rec.bptt is not None and t - rec.bptt >= 0 else None
            h = net.states(xs, t, cut)[-1][0]
            _, outs = net.head_values(h)
            net.loss(outs[-1], net._t(target)).backward()
        grads = _grads(net, params)
        values[(None, e)] = {"loss": E, **grads}
        for name, g in grads.items():
            sums[name] = sums.get(name, 0.0) + g / m
        sums["loss"] = sums.get("loss", 0.0) + E / m
    for t in range(1, rec.steps + 1):
        if "loss" in values[(t, None)]:
            values[(t, None)]["loss"] /= m
    values[(None, None)] = sums
    return values


def _grads(net: _Net, params: Sequence[Any]) -> dict[str, float]:
    def grad(p: Any) -> Any:
        return p.grad.tolist() if p.grad is not None else None

    out: dict[str, float] = {}
    n = net.n
    out.update(_names("grad_W[0]", grad(params[0])))
    out.update(_names("grad_U[0]", grad(params[1])))
    b_ih, b_hh = grad(params[2]), grad(params[3])
    blocks = []
    for block in net.cell.biases:  # the record's blocks, from PyTorch's two biases
        source, gate = (b_ih, block) if block in net.cell.gates else (b_hh, block[1:])
        g = net.cell.gates.index(gate)
        blocks += source[g * n : (g + 1) * n]
    out.update(_names("grad_b[0]", blocks))
    for l in range(1, len(net.spec.network)):
        out.update(_names(f"grad_W[{l}]", grad(params[2 + 2 * l])))
        out.update(_names(f"grad_b[{l}]", grad(params[3 + 2 * l])))
    return out


def torch_check_recurrent(
    spec: Spec, run: RecurrentRun, results: Sequence[ClaimResult]
) -> tuple[list[ClaimResult], str, bool]:
    """Torch values for the claims, a one-line summary, and whether torch agrees."""
    torch = _torch()
    check_torch_cell(spec)
    rec = spec.recurrence
    assert rec is not None
    wanted = sorted({r.claim.step for r in results} | {0})
    worst, grads, states = 0.0, 0, 0
    values: dict[int, Values] = {}
    for s in wanted:
        step = run.steps[s]
        values[s] = _run(torch, spec, step)
        exact = step.quantities()
        for name, got in values[s][(None, None)].items():
            if name.startswith("grad_"):
                want = float(exact[name])
                worst = max(worst, abs(got - want) / (1 + abs(want)))
                grads += 1
        for t in range(1, rec.steps + 1):
            exact_t = step.quantities(t)
            for name, got in values[s][(t, None)].items():
                if name.startswith("h["):
                    want = float(exact_t[name])
                    worst = max(worst, abs(got - want) / (1 + abs(want)))
                    states += 1
    out = []
    for r in results:
        c = r.claim
        found = values[c.step].get((c.time, c.example), {})
        out.append(dataclasses.replace(r, torch_value=found.get(c.quantity.name)))
    ok = worst <= RTOL
    layer = spec.network[0]
    assert isinstance(layer, Recurrent)
    how = "full BPTT" if rec.bptt is None else f"BPTT({rec.bptt}) by detach"
    summary = (
        f"PyTorch {torch.__version__} nn.{layer.cell.torch} autograd (float64, {how}) at "
        f"steps {', '.join(map(str, wanted))}: {grads} gradient entries and {states} hidden "
        f"state values, largest difference {worst:.1e} (relative to 1 + |exact|)"
        f" — {'agrees' if ok else 'DISAGREES'}"
    )
    return out, summary, ok


__all__ = ["check_torch_cell", "torch_check_recurrent"]
