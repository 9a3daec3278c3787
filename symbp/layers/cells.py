"""Recurrent cells as records: the formulas of one time step, written once in SymPy.

A *cell* maps the current input ``x_t`` (``F`` values), the previous state(s) (``h_{t-1}``,
and for the LSTM ``c_{t-1}``, ``n`` values each) and its parameters to the new state(s).
Every cell has the parameters of PyTorch's layout, one block of ``n`` rows per gate in
PyTorch's order (:attr:`Cell.gates`):

- ``W`` of shape ``(G·n, F)``: block ``g`` is the input weights of gate ``g``;
- ``U`` of shape ``(G·n, n)``: block ``g`` is the recurrent weights of gate ``g``
  (PyTorch's ``weight_hh``; ``W`` is its ``weight_ih``);
- ``b`` of shape ``(B·n,)``, one block per entry of :attr:`Cell.biases`.

A cell's formulas are those of **one unit** ``j`` of the layer, in scalar symbols
(:class:`UnitSymbols`): for each gate ``g`` the sums ``Wx_g = Σ_k W[g·n+j][k] x_t[k]`` and
``Uh_g = Σ_m U[g·n+j][m] h_{t-1}[m]``, for each bias block ``B`` the bias
``b_B = b[B·n+j]``, and the unit's previous states ``h_prev = h_{t-1}[j]``,
``c_prev = c_{t-1}[j]``. :attr:`Cell.formulas` gives, in order, each named quantity of
the step (gates, then the states) in those symbols and the names before it; the engine
(:mod:`symbp.symbolic.recurrent`) composes them and derives every derivative it needs
from them with SymPy, never from a hand-written backward. A new cell is one record here.

Biases against PyTorch's two (``b_ih``, ``b_hh``):

- Elman and LSTM: one bias ``b = b_ih + b_hh`` (every bias only adds to its gate's
  pre-activation, so the sum is all that matters);
- GRU: one bias cannot represent PyTorch's GRU, whose reset gate multiplies the
  recurrent part of the candidate *with its bias*: ``n = tanh(W_n x + b_in + r ⊙ (U_n h +
  b_hn))``. The GRU therefore keeps both candidate biases: ``b`` has ``4n`` values in the
  blocks ``r, z, n, hn``: ``b_r = b_ir + b_hr``, ``b_z = b_iz + b_hz``, ``b_n = b_in`` and
  ``b_hn = b_hn``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from ..ops.activations import Activation, make_activation


@dataclass(frozen=True)
class UnitSymbols:
    """The scalar symbols a cell's formulas of one unit ``j`` are written in."""

    gates: tuple[str, ...]
    biases: tuple[str, ...]
    states: tuple[str, ...]

    def wx(self, gate: str) -> sp.Symbol:
        """``Wx_g = Σ_k W[g·n+j][k] x_t[k]``."""
        return sp.Symbol(f"Wx_{gate}", real=True)

    def uh(self, gate: str) -> sp.Symbol:
        """``Uh_g = Σ_m U[g·n+j][m] h_{t-1}[m]``."""
        return sp.Symbol(f"Uh_{gate}", real=True)

    def b(self, block: str) -> sp.Symbol:
        """``b_B = b[B·n+j]``."""
        return sp.Symbol(f"b_{block}", real=True)

    def prev(self, state: str) -> sp.Symbol:
        """The unit's previous state ``h_{t-1}[j]`` (``c_{t-1}[j]``)."""
        return sp.Symbol(f"{state}_prev", real=True)

    def named(self, name: str) -> sp.Symbol:
        """The symbol of an earlier quantity of the same step (``i``, ``c``, …)."""
        return sp.Symbol(name, real=True)

    @property
    def inputs(self) -> tuple[sp.Symbol, ...]:
        """Every symbol a formula may read, in a fixed order."""
        return (
            *(self.wx(g) for g in self.gates),
            *(self.uh(g) for g in self.gates),
            *(self.b(B) for B in self.biases),
            *(self.prev(s) for s in self.states),
        )


#: A cell's formulas of one unit: ``(symbols, activation) -> {name: formula}`` in order.
Formulas = Callable[[UnitSymbols, Activation], Mapping[str, sp.Expr]]


@dataclass(frozen=True)
class Cell:
    """One recurrent cell (see the module docstring)."""

    name: str
    #: The PyTorch module with the same layout (``nn.RNN``, ``nn.GRU``, ``nn.LSTM``).
    torch: str
    #: The row blocks of ``W`` and ``U``, in PyTorch's order.
    gates: tuple[str, ...]
    #: The blocks of ``b``.
    biases: tuple[str, ...]
    #: The states carried from step to step, ``h`` first (the layer's output).
    states: tuple[str, ...]
    #: The formulas of one unit (every gate, then the states).
    formulas: Formulas
    #: Whether the spec's ``activation`` applies (Elman); else it is fixed by the cell.
    takes_activation: bool
    #: What the biases mean against PyTorch's ``bias_ih`` and ``bias_hh``.
    bias_note: str
    #: The activations PyTorch's module takes as its ``nonlinearity`` (a cell that
    #: takes the spec's activation), none for a cell whose activations are fixed.
    torch_nonlinearities: tuple[str, ...] = ()

    default_activation: ClassVar[str] = "tanh"

    def torch_options(self, activation: str) -> dict[str, Any]:
        """The keyword arguments of PyTorch's module for the spec's ``activation``
        (``nonlinearity`` where the cell takes one; the caller refuses an activation
        outside :attr:`torch_nonlinearities`)."""
        return {"nonlinearity": activation} if self.torch_nonlinearities else {}

    def _bias_slots(self) -> Iterator[tuple[int, bool, int]]:
        """``(k, recurrent, g)`` for block ``k`` of ``b``: a block named as a gate is
        that gate's ``bias_ih`` (``recurrent`` False), a block ``h`` + gate (the GRU's
        ``hn``) gate ``g``'s ``bias_hh``."""
        for k, block in enumerate(self.biases):
            if block in self.gates:
                yield k, False, self.gates.index(block)
            else:
                yield k, True, self.gates.index(block.removeprefix("h"))

    def torch_biases(self, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """PyTorch's ``(bias_ih, bias_hh)`` (``G·n`` values each) for the cell's ``b`` of
        a layer of ``n`` units: each block where :meth:`_bias_slots` puts it, 0 elsewhere."""
        out = (np.zeros(len(self.gates) * n, b.dtype), np.zeros(len(self.gates) * n, b.dtype))
        for k, recurrent, g in self._bias_slots():
            out[recurrent][g * n : (g + 1) * n] = b[k * n : (k + 1) * n]
        return out

    def from_torch_biases(self, ih: np.ndarray, hh: np.ndarray, n: int) -> np.ndarray:
        """The cell's ``b`` from PyTorch's two biases: a gate's ``bias_ih + bias_hh``, or
        each apart where the cell keeps that gate's ``bias_hh`` as a block of its own."""
        own = {g for _, recurrent, g in self._bias_slots() if recurrent}
        b = np.empty(len(self.biases) * n, np.result_type(ih, hh))
        for k, recurrent, g in self._bias_slots():
            gate = slice(g * n, (g + 1) * n)
            value = hh[gate] if recurrent else ih[gate] if g in own else ih[gate] + hh[gate]
            b[k * n : (k + 1) * n] = value
        return b

    @property
    def symbols(self) -> UnitSymbols:
        return UnitSymbols(self.gates, self.biases, self.states)

    def unit(self, activation: Activation) -> dict[str, sp.Expr]:
        """The named formulas of one unit, each in the unit's symbols and earlier names."""
        return dict(self.formulas(self.symbols, activation))

    def composed(self, activation: Activation) -> dict[str, sp.Expr]:
        """Every named quantity in the unit's input symbols only (earlier names replaced)."""
        out: dict[str, sp.Expr] = {}
        syms = self.symbols
        for name, formula in self.unit(activation).items():
            out[name] = formula.xreplace({syms.named(k): v for k, v in out.items()})
        return out


def _sigmoid() -> Activation:
    return make_activation("sigmoid", {})


def _tanh() -> Activation:
    return make_activation("tanh", {})


def _pre(s: UnitSymbols, gate: str) -> sp.Expr:
    return s.wx(gate) + s.uh(gate) + s.b(gate)


def _elman(s: UnitSymbols, f: Activation) -> dict[str, sp.Expr]:
    return {"z": _pre(s, "h"), "h": f(s.named("z"))}


def _gru(s: UnitSymbols, f: Activation) -> dict[str, sp.Expr]:
    sig, tanh = _sigmoid(), _tanh()
    r, z, n = s.named("gate_r"), s.named("gate_z"), s.named("gate_n")
    return {
        "gate_r": sig(_pre(s, "r")),
        "gate_z": sig(_pre(s, "z")),
        "gate_n": tanh(s.wx("n") + s.b("n") + r * (s.uh("n") + s.b("hn"))),
        "h": (1 - z) * n + z * s.prev("h"),
    }


def _lstm(s: UnitSymbols, f: Activation) -> dict[str, sp.Expr]:
    sig, tanh = _sigmoid(), _tanh()
    i, fg, g, o = (s.named(f"gate_{k}") for k in "ifgo")
    return {
        "gate_i": sig(_pre(s, "i")),
        "gate_f": sig(_pre(s, "f")),
        "gate_g": tanh(_pre(s, "g")),
        "gate_o": sig(_pre(s, "o")),
        "c": fg * s.prev("c") + i * g,
        "h": o * tanh(s.named("c")),
    }


ELMAN = Cell(
    "elman",
    "RNN",
    gates=("h",),
    biases=("h",),
    states=("h",),
    formulas=_elman,
    takes_activation=True,
    bias_note="b = bias_ih + bias_hh",
    torch_nonlinearities=("tanh", "relu"),
)
GRU = Cell(
    "gru",
    "GRU",
    gates=("r", "z", "n"),
    biases=("r", "z", "n", "hn"),
    states=("h",),
    formulas=_gru,
    takes_activation=False,
    bias_note=(
        "b = [bias_ih[r] + bias_hh[r], bias_ih[z] + bias_hh[z], bias_ih[n], bias_hh[n]]"
        " (4n values: the reset gate multiplies bias_hh[n], so it stays apart)"
    ),
)
LSTM = Cell(
    "lstm",
    "LSTM",
    gates=("i", "f", "g", "o"),
    biases=("i", "f", "g", "o"),
    states=("h", "c"),
    formulas=_lstm,
    takes_activation=False,
    bias_note="b = bias_ih + bias_hh",
)

#: The spec's cell names and their records.
CELLS: dict[str, Cell] = {c.name: c for c in (ELMAN, GRU, LSTM)}
