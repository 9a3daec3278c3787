"""The backward sections of a recurrent network's document, worked with numbers.

- :func:`recursion_pieces`: ``∂E/∂h_t`` at every step from the last to the first, the
  local term and the recurrent term each with its numbers (full BPTT), or under BPTT(k)
  the losses' contributions it keeps, those it drops listed; for every state besides
  ``h`` (the LSTM's ``c``) its total ``∂E/∂c_t``; before each step the cell's Jacobian
  ``∂s_{t+1}/∂s_t`` with its numbers;
- :func:`reach_table`: under truncation, each loss's contribution to each earlier
  state, the dropped ones marked;
- :func:`gradient_tables`: each shared weight's gradient as the sum of its per-step
  terms (under truncation the terms that lost a part marked, and the dropped sum);
- :func:`vanishing_pieces`: the norms of the products of the Jacobians over the steps.

Every number comes from :func:`symbp.symbolic.recurrent_parts.bptt_parts` and the exact
evaluation; the renderer lays them out.
"""

from __future__ import annotations

from typing import Any

from ..symbolic.recurrent_parts import BpttParts
from .blocks import Aligned, Cell, Row, Table
from .conv_pieces import MAX_ROWS, Piece, display, para
from .escape import Tex
from .maps import grid
from .mathtex import number_tex, plain_number
from .recurrent_forward import row_vector
from .unrolled_diagram import drawn_steps as shown_steps

#: The table of each loss's contributions is shown while it holds at most this many numbers
#: a row (steps × units); a wider one would run off the page (the worked steps list them).
REACH_VALUES = 12


def _d(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


#: The cell's Jacobian is shown while the state has at most this many entries (a page's
#: width of numbers); its norms are tabled for any size.
MAX_JACOBIAN = 6
#: A sum of vectors stays on one line while it has at most this many numbers.
LINE_VALUES = 6


def _sum_rows(vectors: list[Tex]) -> list[Row]:
    """``= a + b``, or where that holds more than :data:`LINE_VALUES` numbers, one vector
    a line (``= a``, ``+ b``)."""
    count = sum(v.count(",") + 1 for v in vectors)
    if count <= LINE_VALUES:
        return [Row(None, Tex(" + ".join(vectors)))]
    return [Row(None, vectors[0])] + [
        Row(None, Tex(f"{{}} + {v}"), rel=Tex("")) for v in vectors[1:]
    ]


def _state_name(states: tuple[str, ...], t: str) -> str:
    return states[0] + f"_{{{t}}}" if len(states) == 1 else f"s_{{{t}}}"


def _jacobian(parts: BpttParts, t: int, digits: int) -> list[Piece]:
    """``∂s_t/∂s_{t-1}`` with its numbers (rows: ``s_t``'s entries)."""
    m = parts.times[t - 1].jacobian
    if len(m) > MAX_JACOBIAN:
        return []
    s = parts.states
    lhs = _d(_state_name(s, str(t)), _state_name(s, str(t - 1)))
    return [Piece("math", Tex(rf"{lhs} = {grid(m, digits)}"), True)]


def recursion_pieces(parts: BpttParts, digits: int) -> list[Piece]:
    """``∂E/∂h_t`` (and the other states' totals) worked at every step, last first."""
    T = len(parts.times)
    states = parts.states
    pieces: list[Piece] = []
    if len(states) > 1:
        pieces.append(
            para(
                f"The state s(t) = ({', '.join(s + '(t)' for s in states)}): the Jacobian of the "
                "cell maps the whole state, rows the new state's entries ("
                + ", ".join(states)
                + " in turn), columns the previous state's.",
                True,
            )
        )
    for tp in reversed(parts.times):
        t = tp.t
        lhs = Tex(_d("E", f"h_{{{t}}}"))
        total = Tex(row_vector(tp.state_grads["h"], digits))
        local = Tex(row_vector(tp.local, digits))
        pieces.append(
            para(
                f"Step t = {t}: "
                + (
                    "no loss at this step, the recurrent term only."
                    if parts.weights[t - 1] == 0 and parts.bptt is None and t < T
                    else "the local term plus the recurrent term."
                    if parts.bptt is None and t < T
                    else "the losses within reach."
                    if parts.bptt is not None
                    else "the local term only."
                ),
                True,
            )
        )
        if parts.bptt is None:
            if t < T:
                pieces += _jacobian(parts, t + 1, digits)
            rows = [Row(lhs, Tex(_d(f"L_{{{t}}}", f"h_{{{t}}}")))]
            if t < T:
                carry = "".join(
                    rf" + \left({_d(f'{s}_{{{t + 1}}}', f'h_{{{t}}}')}\right)^{{\mathsf T}}"
                    + _d("E", f"{s}_{{{t + 1}}}")
                    for s in states
                )
                assert tp.recurrent is not None
                if parts.weights[t - 1] != 0:
                    rows[0] = Row(lhs, Tex(_d(f"L_{{{t}}}", f"h_{{{t}}}") + carry))
                    rows += _sum_rows([local, Tex(row_vector(tp.recurrent, digits))])
                else:  # no loss at this step: the recurrent term only
                    rows[0] = Row(lhs, Tex(carry.removeprefix(" + ")))
                rows.append(Row(None, total))
            else:
                rows.append(Row(None, total, f"the last step: ∂E/∂h after step {T} is 0"))
            pieces.append(Piece("aligned", Aligned(tuple(rows)), True))
        else:
            kept = [u for u in range(t, T + 1) if parts.kept(t, u)]
            dropped = [u for u in range(t, T + 1) if not parts.kept(t, u)]
            names = " + ".join(
                rf"\left({_d(f'h_{{{u}}}', f'h_{{{t}}}')}\right)^{{\mathsf T}}"
                + _d(f"L_{{{u}}}", f"h_{{{u}}}")
                if u > t
                else _d(f"L_{{{u}}}", f"h_{{{u}}}")
                for u in kept
            )
            rows = [Row(lhs, Tex(names))]
            if len(kept) > 1:
                rows += _sum_rows([Tex(row_vector(parts.reach[(t, u)], digits)) for u in kept])
            rows.append(Row(None, total))
            pieces.append(Piece("aligned", Aligned(tuple(rows)), True))
            if dropped:
                pieces.append(
                    para(
                        "Dropped by the truncation (full BPTT would add them): "
                        + "; ".join(
                            f"from L at step {u}: ("
                            + ", ".join(plain_number(v, digits) for v in parts.reach[(t, u)])
                            + ")"
                            for u in dropped
                        )
                        + ".",
                        True,
                    )
                )
        for s, values in tp.totals.items():
            rows = [
                Row(
                    Tex(_d("E", f"{s}_{{{t}}}")),
                    Tex(
                        _d("E", f"h_{{{t}}}") + r" \odot " + _d(f"h_{{{t}}}", f"{s}_{{{t}}}")
                        + (rf" + {_d(f'{s}_{{{t + 1}}}', f'{s}_{{{t}}}')} \odot "
                           + _d("E", f"{s}_{{{t + 1}}}") if t < T else "")
                    ),
                ),
                *(
                    _sum_rows([Tex(row_vector(tp.through_h[s], digits)),
                               Tex(row_vector(tp.state_grads[s], digits))])
                    if t < T
                    else []
                ),
                Row(None, Tex(row_vector(values, digits))),
            ]  # fmt: skip
            pieces.append(Piece("aligned", Aligned(tuple(rows)), True))
    return pieces


def reach_table(parts: BpttParts, digits: int) -> Table:
    """Each loss's contribution ``(∂h_t/∂h_τ)ᵀ ∂L_t/∂h_t`` to each state ``h_τ``."""
    T = len(parts.times)
    rows = []
    for tau in range(1, T + 1):
        cells = [Cell(Tex(f"h_{{{tau}}}"))]
        for t in range(1, T + 1):
            if t < tau:
                cells.append(Cell(""))
                continue
            value = Tex(row_vector(parts.reach[(tau, t)], digits))
            if not parts.kept(tau, t):
                value = Tex(rf"\text{{dropped: }} {value}")
            cells.append(Cell(value))
        rows.append(tuple(cells))
    return Table(
        "reach",
        f"What each loss contributes to ∂E/∂h at each earlier step; BPTT({parts.bptt}) keeps "
        "the contributions within its reach and drops the others",
        ("state", *(f"from L at step {t}" for t in range(1, T + 1))),
        tuple(rows),
        align="l" + "r" * T,
    )


def _leaves(prefix: str, value: Any) -> list[tuple[tuple[int, ...], Any]]:
    if isinstance(value, list | tuple):
        out = []
        for k, part in enumerate(value):
            out += [((k, *idx), v) for idx, v in _leaves(prefix, part)]
        return out
    return [((), value)]


def _textbook(name: str, idx: tuple[int, ...]) -> Tex:
    base, _, layer = name.removeprefix("grad_").partition("[")
    return Tex(rf"{base.lower()}^{{{int(layer.rstrip(']')) + 1}}}_{{{','.join(map(str, idx))}}}")


def gradient_tables(parts: BpttParts, ex: Any, digits: int) -> list[Piece]:
    """Each shared weight's gradient: its term at every step and their sum."""
    T = len(parts.times)
    pieces: list[Piece] = []
    names = [k for k in ex.grads if ex.grads[k] is not None]
    for name in names:
        terms = [_leaves(name, ex.times[t][name]) for t in range(T)]
        sums = _leaves(name, ex.grads[name])
        dropped = [_leaves(name, parts.dropped[t][name]) for t in range(len(parts.dropped))]
        lost = _leaves(name, parts.dropped_total[name]) if dropped else []
        rows = []
        for r, (idx, total) in enumerate(sums[:MAX_ROWS]):
            cells = [Cell(_textbook(name, idx))]
            for t in shown_steps(T):
                if t is None:
                    cells.append(Cell("…"))
                    continue
                text = number_tex(terms[t - 1][r][1], digits)
                if dropped and dropped[t - 1][r][1] != 0:
                    text = Tex(rf"{{{text}}}^{{*}}")
                cells.append(Cell(text))
            cells.append(Cell(number_tex(total, digits)))
            if dropped:
                cells.append(Cell(number_tex(lost[r][1], digits)))
            rows.append(tuple(cells))
        more = f" (the first {MAX_ROWS} of {len(sums)})" if len(sums) > MAX_ROWS else ""
        header: tuple[Tex | str, ...] = (
            "entry",
            *(f"t = {t}" if t is not None else "…" for t in shown_steps(T)),
            "sum",
            *(("dropped",) if dropped else ()),
        )
        note = (
            f"; * a term BPTT({parts.bptt}) cut short, the last column what full BPTT would add"
            if dropped
            else ""
        )
        base = name.removeprefix("grad_").split("[")[0].lower()
        layer = int(name.split("[")[1].rstrip("]")) + 1
        pieces.append(
            Piece(
                "table",
                Table(
                    f"terms-{name}",
                    f"∂E/∂{base}{_sup(layer)}: its term at each step and their sum{more}{note}",
                    header,
                    tuple(rows),
                    align="l" + "r" * (len(header) - 1),
                ),
                True,
            )
        )
    return pieces


def _sup(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def vanishing_pieces(parts: BpttParts, digits: int) -> list[Piece]:
    """The norms ``‖∂s_t/∂s_τ‖`` of the products of the Jacobians, and what they show."""
    T = len(parts.times)
    s = parts.states
    state = "h" if len(s) == 1 else "s"
    rows = []
    columns = shown_steps(T)
    for tau in [0, *(t for t in columns if t is not None and t < T)]:
        cells = [Cell(Tex(f"{s[0] if len(s) == 1 else 's'}_{{{tau}}}"))]
        for t in columns:
            if t is None:
                cells.append(Cell("…"))
            else:
                cells.append(Cell(number_tex(parts.norms[(t, tau)], digits) if t > tau else ""))
        rows.append(tuple(cells))
    first, last = parts.norms[(T, T - 1)], parts.norms[(T, 0)]
    trend = "shrinks" if last < first else "grows"
    what = "vanish" if last < first else "explode"
    pieces = [
        para(
            f"The gradient reaches an earlier state through the product of the cell's "
            f"Jacobians, ∂{state}(t)/∂{state}(i) = J(t) J(t − 1) … J(i + 1). With this example's "
            "numbers its "
            f"(Frobenius) norm {trend} with the number of steps it spans: from "
            f"{plain_number(first, digits)} over one step to {plain_number(last, digits)} over "
            f"all {T}: here the gradients of distant steps {what}. Jacobians of norm below 1 "
            "make them vanish over many steps, above 1 explode."
            if T > 1
            else "With one step there is no product of Jacobians."
        ),
        Piece(
            "table",
            Table(
                "jacobian-norms",
                f"The norm of ∂{state}(t)/∂{state}(i): each column a step t, each row the "
                "earlier state",
                ("from", *(f"t = {t}" if t is not None else "…" for t in columns)),
                tuple(rows),
                align="l" + "r" * len(columns),
            ),
        ),
    ]
    return pieces


def clipping_pieces(clip: Any, update: Any, digits: int) -> list[Piece]:
    """What ``clip_norm`` did to the gradients of the first update."""
    if clip is None or update is None or update.grad_norm is None:
        return [
            para(
                "No clipping is set: the gradients are used as they are. Clipping by global "
                "norm c scales every gradient by min(1, c / (|g| + 10⁻⁶)) before the update, "
                "|g| the norm over all the gradients, as PyTorch does."
            )
        ]
    scale = update.scale
    done = (
        "the norm is within the bound, so the gradients are left as they are"
        if scale == 1
        else f"every gradient is multiplied by {plain_number(scale, digits)} before the update"
    )
    return [
        para(
            f"Clipping by global norm c = {plain_number(clip, digits)}: the norm over all the "
            f"gradients is |g| = {plain_number(update.grad_norm, digits)}; {done}."
        ),
        display(
            rf"\min\left(1, \frac{{{number_tex(clip, digits)}}}{{\lVert g \rVert + 10^{{-6}}}}"
            rf"\right) = {number_tex(scale, digits)}"
        ),
    ]
