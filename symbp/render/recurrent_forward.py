"""The first sections of a recurrent network's document: the network, the cell, the
forward pass step by step and the loss at every step.

- :func:`network_pieces`: the layers table and the network unrolled over time
  (:mod:`.unrolled_diagram`);
- :func:`cell_pieces`: the cell's formulas of one unit as the record writes them
  (:mod:`symbp.layers.cells`), printed by SymPy, the local partials the engine derived
  from them (``full`` style) and the recursion of BPTT;
- :func:`forward_pieces`: at every step ``t`` the input ``x_t``, each gate's sums
  ``W_g x_t``, ``U_g h_{t-1}`` and bias, each named quantity of the cell (every gate and
  the cell state of an LSTM), the head's output and the loss ``L_t``;
- :func:`loss_table`: ``y_t``, the target, ``L_t`` and its weight in ``E``.

Notation: layers from 1 as textbooks count them: the recurrent layer's ``W¹``, ``U¹``,
``b¹`` are the spec's ``W[0]``, ``U[0]``, ``b[0]``, the head's ``W²`` is ``W[1]``; time
``t`` from 1, ``h_0`` the initial state. Block ``g`` of ``W¹`` (PyTorch's order) is
``W¹_g``. Every number comes from the exact engine (:mod:`symbp.symbolic.recurrent_eval`,
:mod:`symbp.symbolic.recurrent_parts`); nothing is recomputed here.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..layers import Recurrent
from ..spec import Spec
from ..symbolic.recurrent import CellDerivation
from ..symbolic.recurrent_parts import BpttParts
from .blocks import Cell, Table
from .conv_network import settings
from .conv_pieces import LINE_CHARS, Piece, display, packed, para, shape_text, sup
from .escape import Tex
from .mathtex import number_tex, tex_number
from .unrolled_diagram import unrolled_layout


def quantity(name: str) -> str:
    """A cell quantity's printed name: ``gate_i`` is ``i``, ``c`` is ``c``."""
    return name.removeprefix("gate_")


#: A vector shows at most this many values (a page's width), then ``…``.
MAX_VALUES = 8


def row_vector(values: Any, digits: int) -> str:
    """``values`` as a row vector ``(v_1, …, v_n)`` in TeX (the first :data:`MAX_VALUES`)."""
    shown = [tex_number(v, digits) for v in list(values)[:MAX_VALUES]]
    more = r", \ldots" if len(values) > MAX_VALUES else ""
    return r"\left(" + ", ".join(shown) + more + r"\right)"


def named_vector(name: str, values: Any, digits: int) -> tuple[str, int]:
    """``name = (…)`` and its width in characters (for :func:`.conv_pieces.packed`)."""
    body = row_vector(values, digits)
    width = sum(len(tex_number(v, digits)) + 2 for v in list(values)[:MAX_VALUES])
    width += len(name) // 3 + 6
    return rf"{name} = {body}", min(width, LINE_CHARS)


def layers_table(spec: Spec) -> Table:
    """Each layer: its kind, settings, input and output sizes and its parameters."""
    rec = spec.recurrence
    assert rec is not None
    rows = []
    size = spec.input_shape[0]
    for l, layer in enumerate(spec.network):
        if isinstance(layer, Recurrent):
            G, n = len(layer.cell.gates), layer.size
            what = (
                f"cell {layer.cell.name}"
                + (f", {layer.activation.title}" if layer.activation is not None else "")
                + (f", gates {', '.join(layer.cell.gates)}" if G > 1 else "")
            )
            params = (
                f"w{sup(l + 1)} {G * n}×{size}, u{sup(l + 1)} {G * n}×{n}, "
                f"b{sup(l + 1)} {len(layer.cell.biases) * n}"
            )
            out = n
        else:
            out = layer.output_shape((size,))[0]
            what = settings(layer) + ", at every step"
            params = f"w{sup(l + 1)} {out}×{size}, b{sup(l + 1)} {out}"
        rows.append(
            tuple(Cell(v) for v in (str(l + 1), layer.kind, what, f"{size} → {out}", params))
        )
        size = out
    return Table(
        "layers",
        f"The layers, applied at each of the {rec.steps} steps with the same weights",
        ("layer", "kind", "settings", "input → output", "parameters"),
        tuple(rows),
        align="lllll",
    )


def network_pieces(spec: Spec, parts: BpttParts) -> list[Piece]:
    rec = spec.recurrence
    assert rec is not None
    losses = tuple(bool(w) for w in parts.weights)
    subs = [str(t).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")) for t in range(1, 4)]
    last = str(rec.steps).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    every = "a loss at every step, E = " + (
        " + ".join(f"L{s}" for s in subs[: rec.steps]) if rec.steps <= 3 else f"L₁ + … + L{last}"
    )
    truncation = (
        "full backpropagation through time"
        if rec.bptt is None
        else f"truncated BPTT({rec.bptt}): the loss at step t reaches back to step t − {rec.bptt}"
        " + 1 only; the states before it are constants for that loss"
    )
    return [
        para(
            f"Input: {rec.steps} steps of {shape_text(spec.input_shape)} "
            f"feature{'s' if spec.input_shape[0] != 1 else ''}; loss: "
            f"{spec.loss.title}, "
            + (
                every
                if rec.output == "every_step"
                else f"a loss at the last step only, E = L{last}"
            )
            + f"; {truncation}. Layers are numbered from 1 as textbooks do: layer 1 is the "
            "recurrent layer (w¹, u¹, b¹), the dense layers after it read its state h(t) at "
            "every step."
        ),
        Piece("table", layers_table(spec)),
        para(
            "The network unrolled over time: the same cell at every step, its state carried "
            "from step to step through the recurrent weights, the dense head and the loss at "
            "each step:"
        ),
        Piece("diagram", unrolled_layout(rec.steps, parts.states, len(spec.network) - 1, losses)),
    ]


def _symbol_names(d: CellDerivation) -> dict[sp.Symbol, str]:
    syms, names = d.symbols, {}
    for g in d.cell.gates:
        names[syms.wx(g)] = rf"(W^{{1}}_{{{g}}} x_t)_j"
        names[syms.uh(g)] = rf"(U^{{1}}_{{{g}}} h_{{t-1}})_j"
    for B in d.cell.biases:
        names[syms.b(B)] = rf"b^{{1}}_{{{B},j}}"
    for s in d.cell.states:
        names[syms.prev(s)] = rf"{s}_{{t-1,j}}"
    for name in d.formulas:
        names[syms.named(name)] = rf"{quantity(name)}_{{t,j}}"
    return names


def cell_tex(d: CellDerivation, expr: sp.Expr) -> str:
    """``expr`` (in the unit's symbols) as SymPy prints it, in the document's names."""
    return sp.latex(expr, symbol_names=_symbol_names(d))


def cell_pieces(spec: Spec, d: CellDerivation) -> list[Piece]:
    """The cell's formulas, the derived local partials (``full``) and the recursion."""
    rec = spec.recurrence
    assert rec is not None
    syms, states = d.symbols, d.cell.states
    pieces = [
        para(
            f"The {d.cell.name} cell, unit j of the layer at step t, as PyTorch's "
            f"nn.{d.cell.torch} computes it (the bias b¹ in the blocks "
            f"{', '.join(d.cell.biases)}, each PyTorch's input and recurrent biases in one "
            "where they only add up); block g of the rows of w¹ and u¹ belongs to gate g:"
        )
    ]
    pieces += [
        display(rf"{quantity(name)}_{{t,j}} = {cell_tex(d, f)}") for name, f in d.formulas.items()
    ]
    pieces.append(
        para(
            "The local partial derivatives the engine derived from these formulas (answer "
            "key; the previous states held fixed):",
            True,
        )
    )
    for (state, symbol), expr in d.partials.items():
        lhs = rf"\frac{{\partial {state}_{{t,j}}}}{{\partial {_symbol_names(d)[symbol]}}}"
        pieces.append(Piece("math", Tex(rf"{lhs} = {cell_tex(d, d.named(expr))}"), True, True))
    carried = "".join(
        rf" + \left(\frac{{\partial {s}_{{t+1}}}}{{\partial h_t}}\right)^{{\mathsf T}}"
        rf"\frac{{\partial E}}{{\partial {s}_{{t+1}}}}"
        for s in states
    )
    pieces += [
        para(
            "Backpropagation through time: ∂E/∂h(t) collects the loss at its own step and, "
            "through the next step's cell, everything after it; the boundary after the last "
            "step is 0:"
        ),
        display(
            r"\frac{\partial E}{\partial h_t} = \frac{\partial L_t}{\partial h_t}" + carried,
        ),
    ]
    for s in states[1:]:
        within = cell_tex(d, d.within[s])
        keep = cell_tex(d, d.named(d.partial(s, syms.prev(s)))).replace("{t,j}", "{t+1,j}")
        pieces.append(
            display(
                rf"\frac{{\partial E}}{{\partial {s}_t}} = \frac{{\partial E}}{{\partial h_t}}"
                rf" \odot \frac{{\partial h_t}}{{\partial {s}_t}} + \frac{{\partial {s}_{{t+1}}}}"
                rf"{{\partial {s}_t}} \odot \frac{{\partial E}}{{\partial {s}_{{t+1}}}},"
                rf"\quad \frac{{\partial h_{{t,j}}}}{{\partial {s}_{{t,j}}}} = {within},"
                rf"\quad \frac{{\partial {s}_{{t+1,j}}}}{{\partial {s}_{{t,j}}}} = {keep}"
            )
        )
    pieces.append(
        para(
            "Each shared weight's gradient is the sum over the steps of its term at each step "
            "(the previous state held fixed): for w¹ the term of step t is the local factor "
            "times x(t), for u¹ times h(t − 1)."
        )
    )
    return pieces


def forward_pieces(
    spec: Spec, d: CellDerivation, parts: BpttParts, ex: Any, digits: int
) -> list[Piece]:
    """Every step: the input, each gate's sums, each cell quantity, the head and ``L_t``."""
    pieces: list[Piece] = []
    L = len(spec.network)
    for tp in parts.times:
        t = tp.t
        row = ex.times[t - 1]
        pieces.append(para(f"Step t = {t}:"))
        vectors = [named_vector(f"x_{{{t}}}", row["a[0]"], digits)]
        pieces += packed(vectors)
        for g, sums in tp.sums.items():  # each gate's sums and its bias block on one line
            line = [
                named_vector(rf"W^{{1}}_{{{g}}} x_{{{t}}}", sums["Wx"], digits),
                named_vector(rf"U^{{1}}_{{{g}}} h_{{{t - 1}}}", sums["Uh"], digits),
            ]
            if g in tp.biases:
                line.append(named_vector(rf"b^{{1}}_{{{g}}}", tp.biases[g], digits))
            pieces += packed(line)
        others = [B for B in tp.biases if B not in tp.sums]
        if others:
            pieces += packed(
                [named_vector(rf"b^{{1}}_{{{B}}}", tp.biases[B], digits) for B in others]
            )
        cell = [
            named_vector(f"{quantity(name)}_{{{t}}}", row[f"{name}[0]"], digits)
            for name in d.formulas
        ]
        pieces += packed(cell)
        head = [named_vector(f"z^{{{l + 1}}}_{{{t}}}", row[f"z[{l}]"], digits) for l in range(1, L)]
        head += [named_vector(f"y_{{{t}}}", row[f"a[{L}]"], digits)]
        if "loss" in row:
            head.append((rf"L_{{{t}}} = {number_tex(row['loss'], digits)}", 16))
        pieces += packed(head)
    return pieces


def loss_table(spec: Spec, parts: BpttParts, ex: Any, digits: int, example: int) -> Table:
    """``y_t``, the target, ``L_t`` and its weight at every step, and ``E`` (the spec's
    example ``example``)."""
    from ..symbolic.recurrent_run import _example

    _, targets = _example(spec, example)
    L = len(spec.network)
    rows = []
    for tp, w, target in zip(parts.times, parts.weights, targets, strict=True):
        row = ex.times[tp.t - 1]
        rows.append(
            (
                Cell(str(tp.t)),
                Cell(Tex(row_vector(row[f"a[{L}]"], digits))),
                Cell(Tex(row_vector(target, digits)) if target is not None else "none"),
                Cell(number_tex(row["loss"], digits) if "loss" in row else "none"),
                Cell(number_tex(w, digits)),
            )
        )
    rows.append((Cell("E"), Cell(""), Cell(""), Cell(number_tex(ex.loss, digits)), Cell("")))
    return Table(
        "losses",
        "The loss at every step and E, the sum of the weighted losses",
        ("step t", "output y", "target", "loss L", "weight in E"),
        tuple(rows),
        align="lllrr",
    )
