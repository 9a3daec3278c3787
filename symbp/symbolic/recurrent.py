"""Backpropagation through time, derived from a cell's formulas (:mod:`symbp.layers.cells`).

**The cell's derivatives.** :func:`derive_cell` composes the cell's formulas of one unit
``j`` and differentiates each state ``s`` (``h``; and ``c`` for the LSTM) with SymPy with
respect to every symbol the unit reads (:class:`~symbp.layers.cells.UnitSymbols`):
``Wx_g``, ``Uh_g`` (gate ``g``'s input and recurrent sums), ``b_B`` and the unit's
previous states. Nothing of the backward is written by hand: from these local partials,

- ``∂s_t[j]/∂W[g·n+j][k] = ∂s/∂Wx_g · x_t[k]``, ``∂s_t[j]/∂U[g·n+j][m] = ∂s/∂Uh_g ·
  h_{t-1}[m]``, ``∂s_t[j]/∂b[B·n+j] = ∂s/∂b_B``;
- the cell's Jacobian ``∂s_t[j]/∂h_{t-1}[m] = Σ_g ∂s/∂Uh_g · U[g·n+j][m] + [m = j] ·
  ∂s/∂h_prev`` and ``∂s_t[j]/∂c_{t-1}[m] = [m = j] · ∂s/∂c_prev``.

**The recursion** (full BPTT), ``E = Σ_t w_t L_t`` (``w_t = 1`` at every step for
``output: every_step``; only ``w_T = 1`` for ``last_step``):
``∂E/∂s_t = w_t ∂L_t/∂s_t + (∂s_{t+1}/∂s_t)ᵀ ∂E/∂s_{t+1}``, with the explicit boundary
``∂E/∂s_{T+1} = 0`` (never a wrapped index) and ``s_0`` the initial state ``h0`` (``c0``);
``L_t`` reads ``h_t`` only, through the dense layers. Weight gradients are sums over
time: ``∂E/∂W = Σ_t (∂s_t/∂W)ᵀ ∂E/∂s_t`` with ``∂s_t/∂W`` the local partial (``s_{t-1}``
held fixed), and likewise for ``U`` and ``b``.

**Truncated BPTT(k).** For the loss at step ``t`` the states before ``t−k+1`` are
constants: ``L_t`` reaches the parameters through the steps ``t−k+1 … t`` only. The
quantity ``∂E/∂s_τ`` under truncation is ``Σ_{t=τ}^{min(T, τ+k−1)} (∂s_t/∂s_τ)ᵀ w_t
∂L_t/∂s_t`` (each loss carried back at most ``k − 1`` Jacobians); the weight gradients are
the same sums over ``τ``. ``k ≥ T`` is full BPTT. PyTorch reproduces it by detaching the
state ``s_{t−k}`` in the graph of ``L_t``.

Time is counted from 1 (``x_1`` is an example's first step, ``h_0`` the initial state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..layers.cells import Cell, UnitSymbols
from ..ops.activations import Activation


@dataclass(frozen=True)
class CellDerivation:
    """A cell's formulas of one unit and the local partials derived from them.

    ``formulas``: each named quantity in the unit's symbols and earlier names (the cell as
    written); ``composed``: the same in the unit's input symbols only; ``partials``:
    ``{(state, symbol): ∂state/∂symbol}``, every non-zero one, composed; ``within``: for
    each state besides ``h``, ``∂h/∂state`` inside one step (the LSTM's ``∂h_t/∂c_t``), in
    the unit's named quantities, which makes the textbook's total ``∂E/∂c_t``.
    """

    cell: Cell
    activation: Activation
    formulas: dict[str, sp.Expr]
    composed: dict[str, sp.Expr]
    partials: dict[tuple[str, sp.Symbol], sp.Expr]
    within: dict[str, sp.Expr]

    @property
    def symbols(self) -> UnitSymbols:
        return self.cell.symbols

    def partial(self, state: str, symbol: sp.Symbol) -> sp.Expr:
        """``∂state/∂symbol`` (zero where the state does not read the symbol)."""
        return self.partials.get((state, symbol), sp.Integer(0))

    def named(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with each composed gate (and the LSTM's ``c``) written by its name:
        the textbook's form of a derivative (``(1 - gate_z)·…``)."""
        syms = self.symbols
        out = expr
        names = [k for k in self.formulas if k != "h"]
        for name in reversed(names):  # the latest (largest) first
            out = out.xreplace({self.composed[name]: syms.named(name)})
        return out


def derive_cell(cell: Cell, activation: Activation) -> CellDerivation:
    """The local partials of ``cell`` (see the module docstring)."""
    formulas = cell.unit(activation)
    composed = cell.composed(activation)
    partials: dict[tuple[str, sp.Symbol], sp.Expr] = {}
    for state in cell.states:
        for symbol in cell.symbols.inputs:
            d = sp.diff(composed[state], symbol)
            if d != 0:
                partials[(state, symbol)] = d
    within = {s: sp.diff(formulas["h"], cell.symbols.named(s)) for s in cell.states[1:]}
    return CellDerivation(cell, activation, formulas, composed, partials, within)


Vector = list[Any]


@dataclass(frozen=True)
class CellStep:
    """One step of the cell for the whole layer: each named quantity (``n`` values) and the
    local partials' values per unit (``partials[j][(state, symbol)]``)."""

    values: dict[str, Vector]
    partials: list[dict[tuple[str, sp.Symbol], Any]]
    x: Vector
    prev: dict[str, Vector]
    #: ``∂h_t/∂s_t`` per unit for each state besides ``h`` (:attr:`CellDerivation.within`).
    within: dict[str, Vector]


def unit_inputs(
    d: CellDerivation, j: int, n: int, x: Vector, prev: dict[str, Vector], W: Any, U: Any, b: Any
) -> dict[sp.Symbol, sp.Expr]:
    """The values of unit ``j``'s symbols (exact sums of the rows of ``W``, ``U``)."""
    syms = d.symbols
    out: dict[sp.Symbol, sp.Expr] = {}
    for g, gate in enumerate(d.cell.gates):
        row = g * n + j
        out[syms.wx(gate)] = sp.Add(*(sp.sympify(w) * v for w, v in zip(W[row], x, strict=True)))
        out[syms.uh(gate)] = sp.Add(
            *(sp.sympify(u) * v for u, v in zip(U[row], prev["h"], strict=True))
        )
    for B, block in enumerate(d.cell.biases):
        out[syms.b(block)] = sp.sympify(b[B * n + j])
    for state in d.cell.states:
        out[syms.prev(state)] = sp.sympify(prev[state][j])
    return out


def back_one_step(
    d: CellDerivation, step: CellStep, g: dict[str, Vector], U: Any
) -> dict[str, Vector]:
    """``(∂s_t/∂s_{t-1})ᵀ g``: the gradient ``g`` of the states at ``t`` carried to ``t-1``
    through the cell's Jacobian (built from the local partials; see the module docstring)."""
    syms = d.symbols
    n = len(step.partials)
    out: dict[str, Vector] = {s: [sp.Integer(0)] * n for s in d.cell.states}
    for j, local in enumerate(step.partials):
        for s in d.cell.states:
            gs = g[s][j]
            if gs == 0:
                continue
            for gi, gate in enumerate(d.cell.gates):
                p = local.get((s, syms.uh(gate)), 0)
                if p == 0:
                    continue
                row = U[gi * n + j]
                for m in range(n):
                    out["h"][m] += gs * p * row[m]
            for prev in d.cell.states:
                p = local.get((s, syms.prev(prev)), 0)
                if p != 0:
                    out[prev][j] += gs * p
    return out


def parameter_terms(
    d: CellDerivation, step: CellStep, g: dict[str, Vector]
) -> tuple[list[Vector], list[Vector], Vector]:
    """This step's terms of ``∂E/∂W``, ``∂E/∂U``, ``∂E/∂b`` from ``g = ∂E/∂s_t``."""
    syms, cell = d.symbols, d.cell
    n = len(step.partials)
    F, G = len(step.x), len(cell.gates)
    gW = [[sp.Integer(0)] * F for _ in range(G * n)]
    gU = [[sp.Integer(0)] * n for _ in range(G * n)]
    gb: Vector = [sp.Integer(0)] * (len(cell.biases) * n)
    for j, local in enumerate(step.partials):
        for gi, gate in enumerate(cell.gates):
            dx = sp.Add(*(g[s][j] * local.get((s, syms.wx(gate)), 0) for s in cell.states))
            dh = sp.Add(*(g[s][j] * local.get((s, syms.uh(gate)), 0) for s in cell.states))
            row = gi * n + j
            gW[row] = [dx * v for v in step.x]
            gU[row] = [dh * v for v in step.prev["h"]]
        for B, block in enumerate(cell.biases):
            gb[B * n + j] = sp.Add(
                *(g[s][j] * local.get((s, syms.b(block)), 0) for s in cell.states)
            )
    return gW, gU, gb
