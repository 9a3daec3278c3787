"""The pieces of one example's BPTT that a document works with numbers (``symbp doc``).

:func:`bptt_parts` reruns one example of a :class:`~.recurrent_run.RecurrentStep` through
the exact engine (:class:`~.recurrent_eval.Evaluator`: the cell's formulas, the head's
exact evaluation, the recursion or truncation) and keeps what
:class:`~.recurrent_eval.SequenceResult` sums away:

- each step's gate sums ``Wx_g``, ``Uh_g``, ``b_g`` per unit (:func:`.recurrent.unit_inputs`);
- the local term ``w_t ∂L_t/∂h_t`` and, in full BPTT, the recurrent term
  ``(∂s_{t+1}/∂h_t)ᵀ ∂E/∂s_{t+1}`` of ``∂E/∂h_t`` (:func:`.recurrent.back_one_step`), and
  for every state besides ``h`` (the LSTM's ``c``) the two parts of the textbook's total
  ``∂E/∂c_t = ∂E/∂h_t ⊙ ∂h_t/∂c_t + (the part carried back from t + 1)``;
- the cell's Jacobian ``J_t = ∂s_t/∂s_{t-1}`` over all states (rows: ``s_t``'s entries,
  ``h`` first; columns: ``s_{t-1}``'s), built from the derived partials by carrying each
  unit vector back one step, and the Frobenius norms of the products
  ``∂s_t/∂s_τ = J_t J_{t-1} ⋯ J_{τ+1}`` (vanishing and exploding gradients);
- each loss's contribution to every earlier state, ``(∂s_t/∂s_τ)ᵀ w_t ∂L_t/∂s_t``, and
  whether BPTT(k) keeps it (``t − τ < k``);
- under truncation, each gradient's per-step terms in full BPTT and what truncation
  dropped (full minus truncated).

Time ``t`` runs from 1; ``times[t - 1]``. Values are exact (rationals or
:data:`~.instantiate.PRECISION`-digit numbers), as the engine gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from .instantiate import PRECISION, numeric
from .network import evaluate_network
from .recurrent import back_one_step, unit_inputs
from .recurrent_eval import Convention, Evaluator

if TYPE_CHECKING:
    from ..spec import Spec
    from .recurrent_run import RecurrentStep

Vector = list[Any]
Matrix = list[list[Any]]


def _n(value: Any) -> sp.Expr:
    return numeric(sp.sympify(value), PRECISION)


@dataclass(frozen=True)
class TimeParts:
    """Time ``t``'s pieces (see the module docstring); vectors of ``n`` values."""

    t: int
    #: ``sums[gate] = {"Wx": …, "Uh": …, "b": …}`` per unit; the bias blocks by name.
    sums: dict[str, dict[str, Vector]]
    biases: dict[str, Vector]
    #: ``w_t ∂L_t/∂h_t`` (zeros at a step without a loss).
    local: Vector
    #: ``(∂s_{t+1}/∂h_t)ᵀ ∂E/∂s_{t+1}`` (zeros at ``T``); ``None`` under truncation.
    recurrent: Vector | None
    #: ``∂E/∂s_t`` per state as the recursion carries it (``h``: ``∂E/∂h_t``).
    state_grads: dict[str, Vector]
    #: For each state ``s`` besides ``h``: ``∂E/∂h_t ⊙ ∂h_t/∂s_t`` and the total ``∂E/∂s_t``.
    through_h: dict[str, Vector]
    totals: dict[str, Vector]
    #: ``J_t = ∂s_t/∂s_{t-1}`` over all states (``h`` first).
    jacobian: Matrix


@dataclass(frozen=True)
class BpttParts:
    """One example's BPTT pieces (see the module docstring)."""

    states: tuple[str, ...]
    size: int
    bptt: int | None
    times: tuple[TimeParts, ...]
    #: ``weights[t - 1] = w_t`` (1 where step ``t`` has a loss, else 0).
    weights: tuple[sp.Expr, ...]
    #: ``norms[(t, τ)] = ‖∂s_t/∂s_τ‖_F`` for ``0 ≤ τ < t`` (``s_0`` the initial state).
    norms: dict[tuple[int, int], sp.Expr]
    #: ``reach[(τ, t)]``: the loss of step ``t``'s contribution to ``∂E/∂h_τ`` (``τ ≤ t``).
    reach: dict[tuple[int, int], Vector]
    #: Under truncation, each gradient's per-step terms in full BPTT (``[t - 1][name]``)
    #: and the dropped part (full minus truncated); empty in full BPTT.
    full_terms: tuple[dict[str, Any], ...]
    dropped: tuple[dict[str, Any], ...]
    #: Under truncation, each gradient's dropped part over the sequence (full minus
    #: truncated); empty in full BPTT.
    dropped_total: dict[str, Any]

    def kept(self, tau: int, t: int) -> bool:
        """Whether BPTT(k) keeps the loss of step ``t`` at the state of step ``tau``."""
        return self.bptt is None or t - tau < self.bptt


def _tree(fn: Any, *items: Any) -> Any:
    if items[0] is None:
        return None
    if isinstance(items[0], list | tuple):
        return [_tree(fn, *parts) for parts in zip(*items, strict=True)]
    return fn(*items)


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    return [
        [_n(sp.Add(*(a[i][k] * b[k][j] for k in range(len(b))))) for j in range(len(b[0]))]
        for i in range(len(a))
    ]


def _frobenius(m: Matrix) -> sp.Expr:
    return _n(sp.sqrt(sp.Add(*(v**2 for row in m for v in row))))


def bptt_parts(spec: Spec, step: RecurrentStep, row: int = 0) -> BpttParts:
    """The pieces of the batch's ``row``-th example at ``step`` (see the module docstring)."""
    from .recurrent_run import _example  # the run's own reading of an example

    rec = spec.recurrence
    assert rec is not None
    ev = Evaluator(spec.network, spec.loss)
    d, n, states = ev.cell, ev.layer.size, ev.layer.cell.states
    xs, targets = _example(spec, step.rows[row])
    W, U, b = step.params["W"], step.params["U"], step.params["b"]
    prev = {s: [_n(v) for v in step.initial[s]] for s in states}
    cells, sums, biases, local = [], [], [], []
    weights = ev._weights(targets, "sum")
    for t, x in enumerate(xs):
        cell = ev.forward_step(x, prev, W[0], U[0], b[0])
        inputs = [unit_inputs(d, j, n, list(x), prev, W[0], U[0], b[0]) for j in range(n)]
        syms = d.symbols
        sums.append(
            {
                g: {
                    "Wx": [_n(u[syms.wx(g)]) for u in inputs],
                    "Uh": [_n(u[syms.uh(g)]) for u in inputs],
                }
                for g in d.cell.gates
            }
        )
        biases.append({B: [_n(u[syms.b(B)]) for u in inputs] for B in d.cell.biases})
        target = targets[t]
        head = evaluate_network(
            (n,),
            ev.head,
            ev.loss,
            W[1:],
            b[1:],
            [(cell.values["h"], list(target) if target is not None else ev._zeros())],
            PRECISION,
            plans=ev.plans,
        )
        g = {s: [sp.Integer(0)] * n for s in states}
        if target is not None:
            g["h"] = [_n(weights[t] * v) for v in head.grad_x]
        local.append(g)
        cells.append(cell)
        prev = {s: cell.values[s] for s in states}
    T = len(cells)
    grads = ev._backward(cells, local, U[0], Convention(bptt=rec.bptt))

    def back(t: int, g: dict[str, Vector]) -> dict[str, Vector]:
        out = back_one_step(d, cells[t], g, U[0])
        return {s: [_n(v) for v in out[s]] for s in states}

    def unit(s: str, i: int) -> dict[str, Vector]:
        return {r: [sp.Integer(int(r == s and j == i)) for j in range(n)] for r in states}

    times = []
    for t in range(T):
        rows = [back(t, unit(s, i)) for s in states for i in range(n)]
        jacobian = [[v for s in states for v in r[s]] for r in rows]
        recurrent = None
        if rec.bptt is None or rec.bptt >= T:
            recurrent = back(t + 1, grads[t + 1])["h"] if t + 1 < T else [sp.Integer(0)] * n
        gh = grads[t]["h"]
        through = {
            s: [_n(a * w) for a, w in zip(gh, cells[t].within[s], strict=True)] for s in states[1:]
        }
        totals = {
            s: [_n(a + c) for a, c in zip(through[s], grads[t][s], strict=True)] for s in states[1:]
        }
        times.append(
            TimeParts(
                t + 1,
                sums[t],
                biases[t],
                local[t]["h"],
                recurrent,
                grads[t],
                through,
                totals,
                jacobian,
            )
        )
    norms: dict[tuple[int, int], sp.Expr] = {}
    for t in range(1, T + 1):
        product = times[t - 1].jacobian
        for tau in range(t - 1, -1, -1):
            norms[(t, tau)] = _frobenius(product)
            if tau > 0:
                product = _matmul(product, times[tau - 1].jacobian)
    reach: dict[tuple[int, int], Vector] = {}
    for t in range(1, T + 1):
        g = local[t - 1]
        for tau in range(t, 0, -1):
            reach[(tau, t)] = g["h"]
            if tau > 1:
                g = back(tau - 1, g)
    full_terms: tuple[dict[str, Any], ...] = ()
    dropped: tuple[dict[str, Any], ...] = ()
    dropped_total: dict[str, Any] = {}
    if rec.bptt is not None and rec.bptt < T:
        params = {"W": W, "U": U, "b": b}
        full = ev.sequence(params, step.initial, xs, targets, Convention(bptt=None))
        cut = ev.sequence(params, step.initial, xs, targets, Convention(bptt=rec.bptt))
        full_terms = tuple(
            {k: v for k, v in row_.items() if k.startswith("grad_")} for row_ in full.times
        )
        dropped = tuple(
            {k: _tree(lambda a, c: _n(a - c), v, cut_row[k]) for k, v in full_row.items()}
            for full_row, cut_row in zip(full_terms, cut.times, strict=True)
        )
        dropped_total = {
            k: _tree(lambda a, c: _n(a - c), v, cut.grads[k]) for k, v in full.grads.items()
        }
    return BpttParts(
        tuple(states),
        n,
        rec.bptt if rec.bptt is not None and rec.bptt < T else None,
        tuple(times),
        tuple(weights),
        norms,
        reach,
        full_terms,
        dropped,
        dropped_total,
    )


__all__ = ["BpttParts", "TimeParts", "bptt_parts"]
