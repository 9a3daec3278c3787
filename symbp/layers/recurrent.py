"""The recurrent layer: a cell (:mod:`.cells`) applied at every time step.

The spec writes it ``{recurrent: n, cell: elman | gru | lstm, activation: tanh}`` as the
first entry of ``layers:`` with ``input: {steps: T, features: F}``
(:mod:`symbp.spec.recurrent`); ``activation`` is the Elman cell's ``f`` (default tanh)
and is fixed by the GRU and LSTM cells (sigmoid gates, tanh).

Shapes, per time step: the input is a vector of ``F`` values, the output ``h_t`` a vector
of ``n`` values; with ``G`` gates and ``B`` bias blocks (:class:`.cells.Cell`) the
parameters are ``W`` ``(G·n, F)``, ``U`` ``(G·n, n)`` and ``b`` ``(B·n,)`` in
PyTorch's layout (``weight_ih``, ``weight_hh``; the biases as :mod:`.cells` says).
Initialisation: ``fan_in = n`` and ``fan_out = G·n``, so that an initialiser drawing
from ``±1/√fan_in`` draws PyTorch's ``±1/√hidden_size``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from ..errors import quote
from ..symbolic import notation as nt
from .base import EntryContext, IndexForm, Layer, Shape
from .cells import CELLS, Cell
from .fields import MAX_HIDDEN, check_fields, whole

#: The fields of a recurrent entry besides the kind's own (``recurrent: n``).
FIELDS = ("cell", "activation")


def previous(name: str, l: int) -> sp.IndexedBase:
    """The state ``name`` of layer ``l`` at the step before (``h^l_{t-1}``)."""
    return sp.IndexedBase(f"{name}^{l}_{{t-1}}", real=True)


def parameter(name: str, l: int) -> sp.IndexedBase:
    """A recurrent layer's parameter ``W^l``, ``U^l`` or ``b^l``."""
    return sp.IndexedBase(f"{name}^{l}", real=True)


@dataclass(frozen=True)
class Recurrent(Layer):
    """A recurrent layer of ``size`` units, its ``cell`` and the Elman cell's ``activation``."""

    kind: ClassVar[str] = "recurrent"

    size: int
    cell: Cell
    activation: Any = None

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Layer:
        """``{recurrent: n, cell: elman, activation: tanh}``; the input is one step's vector."""
        check_fields(entry, cls.kind, FIELDS, ctx)
        size = whole(
            entry.get(cls.kind), cls.kind, "the number of hidden units", 1, MAX_HIDDEN, ctx
        )
        name = entry.get("cell", "elman")
        if not isinstance(name, str) or name not in CELLS:
            raise ctx.fail("cell", f"expected one of {', '.join(CELLS)}, found {quote(name)}")
        cell = CELLS[name]
        if len(input_shape) != 1:
            raise ctx.fail(None, "a recurrent layer needs a vector input at each step")
        if not cell.takes_activation:
            if "activation" in entry:
                raise ctx.fail(
                    "activation",
                    f"the {name} cell fixes its activations (sigmoid gates, tanh); remove it",
                )
            return cls(size, cell, None)
        activation = ctx.activation(entry.get("activation", cell.default_activation), "activation")
        if not activation.elementwise:
            raise ctx.fail("activation", f"expected an element-wise activation, found {name}")
        return cls(size, cell, activation)

    def __hash__(self) -> int:
        key = None if self.activation is None else self.activation.key
        return hash((self.kind, self.size, self.cell.name, key))

    def __repr__(self) -> str:
        extra = "" if self.activation is None else f", {self.activation.key}"
        return f"Recurrent({self.size}, {self.cell.name}{extra})"

    @property
    def unit_activation(self) -> Any:
        """The activation the cell's formulas receive (the Elman ``f``; tanh otherwise)."""
        if self.activation is not None:
            return self.activation
        from ..ops.activations import make_activation

        return make_activation(self.cell.default_activation, {})

    def to_entry(self) -> dict[str, Any]:
        """``{"recurrent": n, "cell": name[, "activation": ...]}``."""
        out: dict[str, Any] = {self.kind: self.size, "cell": self.cell.name}
        if self.activation is not None:
            out["activation"] = self.activation.spec_value
        return out

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(n,)`` at every step."""
        return (self.size,)

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """``W`` ``(G·n, F)``, ``U`` ``(G·n, n)``, ``b`` ``(B·n,)``."""
        rows = len(self.cell.gates) * self.size
        return {
            "W": (rows, input_shape[0]),
            "U": (rows, self.size),
            "b": (len(self.cell.biases) * self.size,),
        }

    def fan(self, input_shape: Shape) -> tuple[int, int]:
        """``(n, G·n)`` (see the module docstring)."""
        return (self.size, len(self.cell.gates) * self.size)

    def forward(self, l: int) -> IndexForm:
        """``h^l_t[j]`` in index form: the cell's composed formula of unit ``j`` with its
        sums written out over ``x_t`` (``a^{l-1}``) and ``h^l_{t-1}``."""
        j, k, m = nt.j, nt.k, sp.Symbol("m", integer=True, nonnegative=True)
        n, F = nt.size(l), nt.size(l - 1)
        W, U, b = parameter("W", l), parameter("U", l), parameter("b", l)
        x = nt.activation(l - 1)
        syms = self.cell.symbols
        values: dict[sp.Symbol, sp.Expr] = {}
        for g, gate in enumerate(self.cell.gates):
            values[syms.wx(gate)] = sp.Sum(W[g * n + j, k] * x[k], (k, 0, F - 1))
            values[syms.uh(gate)] = sp.Sum(U[g * n + j, m] * previous("h", l)[m], (m, 0, n - 1))
        for B, block in enumerate(self.cell.biases):
            values[syms.b(block)] = b[B * n + j]
        for state in self.cell.states:
            values[syms.prev(state)] = previous(state, l)[j]
        h = self.cell.composed(self.unit_activation)["h"].xreplace(values)
        out = sp.IndexedBase(f"h^{l}_t", real=True)
        return IndexForm(out, (j,), h, {n: self.size})
