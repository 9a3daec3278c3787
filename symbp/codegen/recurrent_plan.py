"""The kernel plan of a recurrent network: the cell and the dense head, lowered to code.

A recurrent network (:mod:`symbp.spec.recurrent`) is one recurrent layer, its cell a
record (:mod:`symbp.layers.cells`), and dense layers applied to ``h_t`` at every step.
Nothing here is written per cell: the plan prints, with :class:`.NumbaPrinter` after one
``cse``, the cell's states composed in the unit's symbols and every non-zero local
partial that :func:`symbp.symbolic.recurrent.derive_cell` derives with SymPy. The
template (``templates/kernels/recurrent.py.j2``) builds the recursion of ``∂E/∂s_t``,
the truncation and the weight gradients from those partials alone, as the exact engine
(:mod:`symbp.symbolic.recurrent_eval`) does, so a new cell record gets a kernel without
new template code. The dense head is the dense trainer's plan (:func:`.plan.make_plan`)
of the head as a network of its own: its activations, hidden factors, loss and output
delta are printed exactly as the dense kernels print them.

Flat parameter vector (``PARAMS``): ``W_0`` ``(G·n, F)``, ``U_0`` ``(G·n, n)``, ``b_0``
``(B·n,)`` of the recurrent layer, then ``W_l`` ``(n_l, n_{l-1})``, ``b_l`` of each dense
layer, then the initial states ``h0`` (``c0``), which are the spec's constants: no
optimiser step or clipping reads them (they are outside ``SEGMENTS``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy as sp

from ..layers import Recurrent
from ..spec import Spec
from ..symbolic.recurrent import derive_cell
from .plan import KernelPlan, make_plan
from .printer import Block, NumbaPrinter, block
from .update import UpdatePlan, update_plan

#: Sequences per chunk: the kernel's buffers hold the states of this many examples,
#: one lane each (the innermost loops run over the lanes).
CHUNK = 32


@dataclass(frozen=True)
class Slot:
    """Where one local partial's value is kept: ``P[t, index, j, s]``."""

    index: int
    state: str


@dataclass(frozen=True)
class RecurrentPlan:
    """Everything ``templates/kernels/recurrent.py.j2`` renders for one spec and dtype."""

    spec: Spec
    dtype: str
    steps: int
    features: int
    hidden: int
    cell_name: str
    gates: tuple[str, ...]
    biases: tuple[str, ...]
    states: tuple[str, ...]
    #: One step of unit ``j``: outputs the new states (``states`` order), then the slots.
    cell: Block
    n_slots: int
    #: For each gate: the slots of ``∂s/∂Wx_g`` and of ``∂s/∂Uh_g`` (one per state reading it).
    wx: tuple[tuple[Slot, ...], ...]
    uh: tuple[tuple[Slot, ...], ...]
    #: For each bias block: the slots of ``∂s/∂b_B``.
    bias: tuple[tuple[Slot, ...], ...]
    #: For each state ``p``: the slots of ``∂s/∂p_prev`` (the diagonal of the Jacobian).
    prev: tuple[tuple[Slot, ...], ...]
    #: Whether ``∂s/∂Uh_g`` is ``∂s/∂Wx_g`` for every gate (Elman, LSTM: the two sums only
    #: add), so that the backward's DU is DX and is not computed apart.
    du_is_dx: bool
    #: For each bias block, the gate whose ``∂s/∂Wx_g`` is its ``∂s/∂b_B`` (every cell
    #: here: a bias only adds to its gate's sum), so that its gradient sums DX's row;
    #: ``None`` where no gate's is.
    bias_gate: tuple[int | None, ...]
    head: KernelPlan
    update: UpdatePlan
    every_step: bool
    #: The truncation ``k`` (``None``: full BPTT, also for ``k >= steps``).
    bptt: int | None
    clip: bool
    n_params: int
    offsets: dict[str, int]
    segments: tuple[tuple[int, int], ...]
    runtime: tuple[str, ...]

    @property
    def rows(self) -> int:
        """Rows of ``W_0`` and ``U_0``: ``G·n``."""
        return len(self.gates) * self.hidden

    @property
    def out_steps(self) -> int:
        """Steps with a loss and an output: every step, or the last one only."""
        return self.steps if self.every_step else 1


def head_spec(spec: Spec) -> Spec:
    """The dense layers after the recurrent one, as a network of dense layers of its own
    (input ``n``), with the spec's loss and optimiser: what the dense plan lowers."""
    return dataclasses.replace(
        spec,
        layers=spec.layers[1:],
        activations=spec.activations[1:],
        network=(),
        recurrence=None,
        W=None,
        b=None,
        init=None,
        examples=(),
        frozen=frozenset(),
        claims=(),
        input_shape=(),
        preprocessing=None,
    )


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def make_recurrent_plan(spec: Spec, dtype: str) -> RecurrentPlan:
    """Lower ``spec`` (a recurrent network) to a :class:`RecurrentPlan` for ``dtype``."""
    rec = spec.recurrence
    layer = spec.network[0]
    assert rec is not None and isinstance(layer, Recurrent)
    cell = layer.cell
    d = derive_cell(cell, layer.unit_activation)
    syms = d.symbols
    n, F = layer.size, spec.input_shape[0]
    # one slot per distinct partial (the Elman ∂h/∂b is ∂h/∂Wx: stored once)
    exprs: list[sp.Expr] = []
    slot_of: dict[tuple[str, sp.Symbol], Slot] = {}
    for key, expr in d.partials.items():
        if expr not in exprs:
            exprs.append(expr)
        slot_of[key] = Slot(exprs.index(expr), key[0])
    printer = NumbaPrinter(dtype)
    composed = [d.composed[s] for s in cell.states]
    cell_block = block(printer, [*composed, *exprs], "cell_part")

    def slots(symbol: sp.Symbol) -> tuple[Slot, ...]:
        return tuple(slot_of[(s, symbol)] for s in cell.states if (s, symbol) in slot_of)

    head = make_plan(head_spec(spec), dtype, parallel_min_weights=2**62, run_time_numbers=False)
    G, B = len(cell.gates), len(cell.biases)
    offsets: dict[str, int] = {"W_0": 0, "U_0": G * n * F, "b_0": G * n * (F + n)}
    offset = offsets["b_0"] + B * n
    arrays = [("W", 0, 0, offsets["U_0"]), ("U", 0, offsets["U_0"], offsets["b_0"])]
    arrays.append(("b", 0, offsets["b_0"], offset))
    for lay in head.layers:
        l = lay.index
        offsets[f"W_{l}"] = offset
        offsets[f"b_{l}"] = offset + lay.n_in * lay.n_out
        arrays.append(("W", l, offset, offsets[f"b_{l}"]))
        offset = offsets[f"b_{l}"] + lay.n_out
        arrays.append(("b", l, offsets[f"b_{l}"], offset))
    for s in cell.states:
        offsets[f"{s}0"] = offset
        offset += n
    trainable = [(lo, hi) for kind, l, lo, hi in arrays if (kind, l) not in spec.frozen]
    k = rec.bptt
    return RecurrentPlan(
        spec=spec,
        dtype=dtype,
        steps=rec.steps,
        features=F,
        hidden=n,
        cell_name=cell.name,
        gates=cell.gates,
        biases=cell.biases,
        states=cell.states,
        cell=cell_block,
        n_slots=len(exprs),
        wx=tuple(slots(syms.wx(g)) for g in cell.gates),
        uh=tuple(slots(syms.uh(g)) for g in cell.gates),
        bias=tuple(slots(syms.b(b)) for b in cell.biases),
        prev=tuple(slots(syms.prev(s)) for s in cell.states),
        du_is_dx=all(slots(syms.wx(g)) == slots(syms.uh(g)) for g in cell.gates),
        bias_gate=tuple(
            next(
                (gi for gi, g in enumerate(cell.gates) if slots(syms.wx(g)) == slots(syms.b(b))),
                None,
            )
            for b in cell.biases
        ),
        head=head,
        update=update_plan(spec, printer),
        every_step=rec.output == "every_step",
        bptt=None if k is None or k >= rec.steps else k,
        clip=spec.optimizer.clip_norm is not None,
        n_params=offset,
        offsets=offsets,
        segments=_merge(trainable),
        runtime=tuple(sorted(printer.used | set(head.runtime))),
    )
