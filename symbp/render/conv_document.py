"""Documents of networks of layer records (conv, pool, flatten, dense): ``symbp doc``.

:func:`build_conv` collects a :class:`ConvDocument` from the spec: the layers table, the
derived index forms (:func:`symbp.symbolic.shifted.derive_layer`, printed by SymPy), and
the numbers of the exact evaluation (:func:`symbp.symbolic.network_run.run_network`):

- forward: the input maps, each conv layer's kernels and biases, one output position
  worked term by term with its input window boxed, the maps ``z`` and ``a``; max-pool
  with each window's arg-max underlined (the pool record's selector); flatten's index
  map; the dense layers; the output and the loss;
- backward (``full`` style): the output ``δ``, each layer's gradients, the routed ``δ``
  maps, one kernel gradient entry worked as the correlation it is (the positions read
  boxed), the input gradient with the kernel before and after its 180° rotation and one
  input position worked as the full convolution;
- the updates table (parameters before and after the first update).

Conventions: the spec's 0-based names (``W[l]``, ``a[l]``, ``delta[l]`` as ``eval
--json``), textbook superscripts ``l + 1`` in the formulas (``w^1`` is ``W[0]``); every
worked value comes from the exact evaluation, the render only lays the terms out.
Maps larger than :data:`~.maps.MAX_SHOWN` a side and channels beyond
:data:`MAX_CHANNELS` are summarised (minimum, maximum, mean per channel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from .. import __version__
from ..errors import SpecError
from ..layers import Conv, Dense, Flatten, Pool
from ..layers.base import Layer
from ..spec import Spec
from ..symbolic.network_plan import shapes_of
from ..symbolic.network_run import NetworkRun, run_network
from ..symbolic.shifted import derive_layer
from .blocks import Aligned, Cell, Row, Table
from .escape import Tex
from .maps import MAX_SHOWN, Term, as_number, grid, rotation, term_lines, window, worked_sum
from .mathtex import DIGITS, number_tex, plain_number, tex_number
from .templating import render

#: Channels shown as matrices; the others are in the summary table.
MAX_CHANNELS = 4
#: Flatten's index map and the updates table show at most this many rows.
MAX_ROWS = 24
#: A display of maps holds at most this many characters of numbers (a page's width).
LINE_CHARS = 64


@dataclass(frozen=True)
class Piece:
    """One block of a section: ``kind`` is ``text`` (a paragraph), ``math`` (one
    display), ``aligned`` (an :class:`Aligned` derivation) or ``table``."""

    kind: str
    content: Any
    full_only: bool = False
    #: Set in a smaller size in LaTeX (the derived formulas).
    small: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    pieces: tuple[Piece, ...]


@dataclass
class ConvDocument:
    """What a conv network's document shows (see the module docstring)."""

    name: str
    title: str
    source: str | None
    description: str | None
    spec_file: str | None
    spec_hash: str
    version: str
    style: str
    sections: tuple[Section, ...]


def _t(text: str, full_only: bool = False) -> Piece:
    return Piece("text", text, full_only)


def _m(tex: str, full_only: bool = False, small: bool = False) -> Piece:
    return Piece("math", Tex(tex), full_only, small)


#: What a worked sum says when it leaves out its terms with a factor 0.
ZERO_NOTE = "terms with a factor 0 left out"
#: A worked sum's line holds at most this many terms.
TERMS_PER_LINE = 3


def _worked(
    lhs: Tex,
    terms: Sequence[Term],
    result: Any,
    digits: int,
    *,
    bias: tuple[Tex, Any] | None = None,
) -> Aligned:
    """:func:`.maps.worked_sum`, its names and numbers broken after every
    :data:`TERMS_PER_LINE` terms so that a long sum stays on the page."""
    kept = [t for t in terms if as_number(t.weight) != 0 and as_number(t.value) != 0]
    if bias is not None and as_number(bias[1]) == 0:
        bias = None
    if not kept and bias is None:
        rhs = Tex(rf"{number_tex(result, digits)} \quad \text{{({ZERO_NOTE})}}")
        return Aligned((Row(lhs, rhs),))
    if len(kept) < len(terms):
        body = _worked(lhs, kept, result, digits, bias=bias)
        last = body.rows[-1]
        rhs = Tex(rf"{last.rhs} \quad \text{{({ZERO_NOTE})}}")
        return Aligned((*body.rows[:-1], Row(last.lhs, rhs, None, last.rel)))
    if len(terms) + (bias is not None) <= TERMS_PER_LINE:
        return worked_sum(lhs, terms, result, digits, bias=bias)
    names, numbers = term_lines(terms, digits, bias=bias)
    rows: list[Row] = []
    for items in (names, numbers):
        for start in range(0, len(items), TERMS_PER_LINE):
            chunk = " + ".join(items[start : start + TERMS_PER_LINE])
            if start == 0:
                rows.append(Row(lhs if not rows else None, Tex(chunk)))
            else:
                rows.append(Row(None, Tex(f"{{}} + {chunk}"), rel=Tex("")))
    rows.append(Row(None, number_tex(result, digits)))
    return Aligned(tuple(rows))


def _prose(name: str) -> str:
    """A record's name (``cross_entropy``) as a word of prose (``cross-entropy``)."""
    return name.replace("_", "-")


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(n) for n in shape)


def _settings(layer: Layer) -> str:
    if isinstance(layer, Conv):
        kh, kw = layer.kernel
        return (
            f"{layer.channels} kernels {kh}×{kw}, stride {layer.stride}, "
            f"pad {layer.padding}, {layer.activation.name}"
        )
    if isinstance(layer, Pool):
        return f"{layer.mode} {layer.size}×{layer.size}, stride {layer.stride}"
    if isinstance(layer, Dense) and layer.activation is not None:
        return f"{layer.activation.name}"
    return "order (c, i, j)" if isinstance(layer, Flatten) else ""


def _count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _layers_table(spec: Spec) -> Table:
    shapes = shapes_of(spec.input_shape, spec.network)
    rows = []
    for l, layer in enumerate(spec.network):
        params = layer.parameter_shapes(shapes[l])
        what = ", ".join(f"{k}[{l}] {_shape(s)}" for k, s in params.items()) or "none"
        rows.append(
            tuple(
                Cell(v)
                for v in (
                    str(l + 1),
                    layer.kind,
                    _settings(layer),
                    f"{_shape(shapes[l])} → {_shape(shapes[l + 1])}",
                    what,
                )
            )
        )
    return Table(
        "layers",
        "The layers (shapes: channels × height × width, or a vector's length)",
        ("layer", "kind", "settings", "input → output", "parameters"),
        tuple(rows),
        align="lllll",
    )


def _name(base: str, l: int | None, *idx: int | str) -> str:
    sup = "" if l is None else f"^{{{l}}}"
    sub = ",".join(str(i) for i in idx)
    return rf"{base}{sup}_{{{sub}}}"


def _width(fmap: Any, digits: int) -> int:
    """A map's width in characters of its widest number (two between columns)."""
    widest = max(len(tex_number(v, digits)) for row in fmap for v in row)
    return len(fmap[0]) * (widest + 2) + 8


def _packed(parts: Sequence[tuple[str, int]]) -> list[Piece]:
    """Displays of ``parts`` (TeX, its width in characters) side by side, a new display
    wherever the next part would pass :data:`LINE_CHARS`."""
    pieces: list[Piece] = []
    line: list[str] = []
    used = 0
    for tex, width in parts:
        if line and used + width > LINE_CHARS:
            pieces.append(_m(r" \quad ".join(line)))
            line, used = [], 0
        line.append(tex)
        used += width
    pieces.append(_m(r" \quad ".join(line)))
    return pieces


def _stack(base: str, maps: Any, digits: int, boxed: Any = None, marked: Any = None) -> list[Piece]:
    """The channels of ``maps`` as matrices (as many per display as fit in
    :data:`LINE_CHARS`), or a summary table where a map is too large to show."""
    channels = list(maps)
    rows, cols = len(channels[0]), len(channels[0][0])
    pieces: list[Piece] = []
    shown = channels[:MAX_CHANNELS]
    widths = [_width(fmap, digits) for fmap in shown]
    if rows <= MAX_SHOWN and cols <= MAX_SHOWN and max(widths) <= LINE_CHARS:
        line: list[str] = []
        used = 0
        for c, fmap in enumerate(shown):
            if line and used + widths[c] > LINE_CHARS:
                pieces.append(_m(r" \quad ".join(line)))
                line, used = [], 0
            cells = grid(
                fmap, digits, boxed=(boxed or {}).get(c, ()), marked=(marked or {}).get(c, ())
            )
            line.append(rf"{base}[{c}] = {cells}")
            used += widths[c]
        pieces.append(_m(r" \quad ".join(line)))
        if len(channels) <= MAX_CHANNELS:
            return pieces
    pieces.append(Piece("table", _summary(base, channels, digits)))
    return pieces


def _summary(base: str, channels: list[Any], digits: int) -> Table:
    rows = []
    for c, fmap in enumerate(channels):
        values = [as_number(v) for row in fmap for v in row]
        mean = sp.Add(*values) / len(values)
        rows.append(
            (
                Cell(Tex(rf"{base}[{c}]")),
                Cell(number_tex(min(values, key=float), digits)),
                Cell(number_tex(max(values, key=float), digits)),
                Cell(number_tex(mean, digits)),
            )
        )
    return Table(
        f"summary-{base}",
        f"Each channel of {len(channels[0])}×{len(channels[0][0])} in summary",
        ("map", "min", "max", "mean"),
        tuple(rows),
        align="lrrr",
    )


def _vector(name: str, values: Sequence[Any], digits: int) -> str:
    body = r" \\ ".join(tex_number(v, digits) for v in values)
    if len(values) > 3 * MAX_SHOWN:
        body = r" \\ ".join([*(tex_number(v, digits) for v in values[:MAX_SHOWN]), r"\vdots"])
    return rf"{name} = \begin{{bmatrix}} {body} \end{{bmatrix}}^{{\mathsf T}}"


def _read(fmap: Any, r: int, c: int) -> Any:
    if 0 <= r < len(fmap) and 0 <= c < len(fmap[0]):
        return fmap[r][c]
    return sp.Integer(0)


def _formula(layer: Layer, l: int) -> list[Piece]:
    """The record's forward and the derived backward, as SymPy prints them."""
    d = derive_layer(layer, l)
    out = [_m(sp.latex(d.forward.equation), small=True)]
    names = {"W": f"w^{{{l}}}", "b": f"b^{{{l}}}", "input": f"a^{{{l - 1}}}"}
    for name, form in d.gradients.items():
        lhs = sp.latex(sp.IndexedBase(names[name])[tuple(form.index)])
        out.append(_m(rf"\frac{{\partial L}}{{\partial {lhs}}} = {sp.latex(form.rhs)}", True, True))
    return out


def _conv_forward(
    layer: Conv, l: int, W: Any, b: Any, a_in: Any, z: Any, a: Any, digits: int
) -> list[Piece]:
    L = l + 1
    kh, kw = layer.kernel
    s, p = layer.stride, layer.padding
    pieces = [_t(f"The kernels W[{l}][o][c] and biases b[{l}][o]:")]
    for o, kernel in enumerate(W[:MAX_CHANNELS]):
        parts = [
            (rf"{_name('w', L, o, c, r':', r':')} = {grid(k, digits)}", _width(k, digits) + 6)
            for c, k in enumerate(kernel[:MAX_CHANNELS])
        ]
        bias = tex_number(b[o], digits)
        parts.append((rf"b^{{{L}}}_{{{o}}} = {bias}", len(bias) + 8))
        pieces += _packed(parts)
    o, i, j = 0, 0, 0
    terms = []
    boxed: dict[int, set[tuple[int, int]]] = {}
    for c in range(len(a_in)):
        rows, cols = len(a_in[c]), len(a_in[c][0])
        boxed[c] = {
            (r, q)
            for r, q in window(s * i - p, s * j - p, kh, kw)
            if 0 <= r < rows and 0 <= q < cols
        }
        for u in range(kh):
            for v in range(kw):
                r, q = s * i + u - p, s * j + v - p
                terms.append(
                    Term(
                        Tex(_name("w", L, o, c, u, v)),
                        W[o][c][u][v],
                        Tex(_name("a", L - 1, c, r, q)),
                        _read(a_in[c], r, q),
                    )
                )
    pieces.append(
        _t(
            f"One output position worked term by term: channel {o}, row {i}, column {j}; "
            "the input window it reads is boxed"
            + (" (positions outside the input read 0, the padding)." if p else ".")
        )
    )
    pieces += _stack(f"a^{{{L - 1}}}", a_in, digits, boxed=boxed)
    pieces.append(
        Piece(
            "aligned",
            _worked(
                Tex(_name("z", L, o, i, j)),
                terms,
                z[o][i][j],
                digits,
                bias=(Tex(rf"b^{{{L}}}_{{{o}}}"), b[o]),
            ),
        )
    )
    pieces.append(
        _t(
            f"Every position alike gives the maps z[{l}] and "
            f"a[{l + 1}] = {layer.activation.name}(z[{l}]):"
        )
    )
    pieces += _stack(f"z^{{{L}}}", z, digits)
    pieces += _stack(f"a^{{{L}}}", a, digits)
    return pieces


def _pool_marks(layer: Pool, l: int, a_in: Any) -> dict[int, set[tuple[int, int]]]:
    """The arg-max of each window (the record's selector), as cells of the input maps."""
    marks: dict[int, set[tuple[int, int]]] = {}
    for sel in layer.constants(l + 1, a_in).values():
        for c, channel in enumerate(sel):
            for r, row in enumerate(channel):
                for q, win in enumerate(row):
                    for du, line in enumerate(win):
                        for dv, flag in enumerate(line):
                            if flag:
                                marks.setdefault(c, set()).add(
                                    (layer.stride * r + du, layer.stride * q + dv)
                                )
    return marks


def build_conv(
    spec: Spec, *, steps: int = 1, digits: int = DIGITS, style: str = "full"
) -> ConvDocument:
    """The document of ``spec`` (a network of layer records) in ``style``."""
    run = run_network(spec, max(steps, 1))
    first = run.steps[0]
    ex = first.evaluation.examples[0]
    network = spec.network
    sections = [
        Section(
            "The network",
            (
                _t(
                    f"Input {_shape(spec.input_shape)}; loss {_prose(spec.loss.name)}; "
                    f"optimiser {_prose(spec.optimizer.name)}. Layers are numbered from 1 as "
                    "textbooks do: layer 1 has the kernels W[0] and the maps z[0] and a[1]; "
                    "a[0] is the input x."
                ),
                Piece("table", _layers_table(spec)),
            ),
        ),
        Section(
            "The derivation",
            (
                _t(
                    "Each layer's forward in index form, and (answer key) the backward the "
                    "engine derived from it by differentiating and collapsing the Kronecker "
                    "deltas of the shifted indices; δ = ∂L/∂z of each layer, reads outside a map "
                    "give 0."
                ),
                *(p for l, layer in enumerate(network, 1) for p in _formula(layer, l)),
            ),
        ),
    ]
    forward: list[Piece] = [_t("The input x = a[0]:")]
    forward += (
        _stack("a^{0}", ex.a[0], digits)
        if len(spec.input_shape) == 3
        else [_m(_vector("a^{0}", ex.a[0], digits))]
    )
    backward: list[Piece] = []
    for l, layer in enumerate(network):
        L = l + 1
        a_in, z, a = ex.a[l], ex.z[l], ex.a[l + 1]
        forward.append(_t(f"Layer {L} ({layer.kind}, {_settings(layer)})."))
        if isinstance(layer, Conv):
            forward += _conv_forward(layer, l, first.W[l], first.b[l], a_in, z, a, digits)
        elif isinstance(layer, Pool):
            marks = _pool_marks(layer, l, a_in)
            if marks:
                forward.append(_t("Each window's maximum (the first, on a tie) is underlined:"))
            else:
                forward.append(_t(f"Each window's mean (each position weighs 1/{layer.size**2}):"))
            forward += _stack(f"a^{{{L - 1}}}", a_in, digits, marked=marks)
            forward += _stack(f"a^{{{L}}}", a, digits)
        elif isinstance(layer, Flatten):
            C, H, Wd = len(a_in), len(a_in[0]), len(a_in[0][0])
            rows = []
            for c in range(C):
                for i in range(H):
                    for j in range(Wd):
                        k = c * H * Wd + i * Wd + j
                        if k < MAX_ROWS:
                            rows.append(
                                (
                                    Cell(Tex(_name("a", l, c, i, j))),
                                    Cell(str(k)),
                                    Cell(number_tex(a[k], digits)),
                                )
                            )
            forward.append(
                _t(
                    f"Flatten orders the values by (channel, row, column): a[{l}][c][i][j] goes to "
                    f"position c·{H * Wd} + i·{Wd} + j of a[{L}]"
                    + (
                        f" (the first {MAX_ROWS} of {C * H * Wd} listed)."
                        if C * H * Wd > MAX_ROWS
                        else "."
                    )
                )
            )
            forward.append(
                Piece(
                    "table",
                    Table(
                        "flatten",
                        "Flatten's index map",
                        ("value", "position", "number"),
                        tuple(rows),
                        align="lrr",
                    ),
                )
            )
        else:
            forward.append(_m(_vector(f"z^{{{L}}}", z, digits)))
            forward.append(_m(_vector(f"a^{{{L}}}", a, digits)))
    forward.append(_m(rf"L = {tex_number(ex.loss, digits)}"))
    sections.append(Section("The forward pass", tuple(forward)))

    out_l = len(network) - 1
    backward.append(_t(f"The output's δ[{out_l}] = ∂L/∂z[{out_l}]:"))
    backward.append(_m(_vector(f"\\delta^{{{out_l + 1}}}", ex.delta[out_l], digits)))
    for l in reversed(range(len(network))):
        layer, L = network[l], l + 1
        if isinstance(layer, Dense):
            gw, gb = ex.grad_W[l], ex.grad_b[l]
            if gw is not None and gb is not None:
                backward.append(
                    _t(
                        f"Layer {L}'s gradients ∂L/∂W[{l}] = δ[{l}] · a[{l}] (outer product) "
                        f"and ∂L/∂b[{l}] = δ[{l}]:"
                    )
                )
                for r, row in enumerate(gw[:MAX_SHOWN]):
                    backward.append(
                        _m(_vector(rf"\partial L/\partial w^{{{L}}}_{{{r},:}}", row, digits))
                    )
                backward.append(_m(_vector(rf"\partial L/\partial b^{{{L}}}", gb, digits)))
            if l > 0:
                backward.append(
                    _t(
                        f"Sent back to a[{l}]: δ[{l - 1}] after the next layer's weights "
                        "(shown with it)."
                    )
                )
        elif isinstance(layer, Flatten):
            backward.append(
                _t(
                    "Flatten's δ is read back in the forward's order (the inverse reshape): "
                    f"δ[{l}] as maps:"
                )
            )
            C, H, Wd = (len(ex.a[l]), len(ex.a[l][0]), len(ex.a[l][0][0]))
            flat = ex.delta[l]
            maps = [
                [[flat[c * H * Wd + i * Wd + j] for j in range(Wd)] for i in range(H)]
                for c in range(C)
            ]
            backward += _stack(f"\\delta^{{{L}}}", maps, digits)
        elif isinstance(layer, Pool):
            marks = _pool_marks(layer, l, ex.a[l])
            how = (
                "only the arg-max position of each window (underlined) receives the "
                "window's δ, the others 0"
                if marks
                else f"every position of a window receives 1/{layer.size**2} of its δ"
            )
            backward.append(
                _t(
                    f"The pool routes δ back: {how}; times the conv layer's activation "
                    f"derivative this gives the conv layer's δ[{l - 1}]:"
                )
            )
            backward += _stack(f"\\delta^{{{L}}}", ex.delta[l], digits)
            if l > 0:
                backward += _stack(f"\\delta^{{{L - 1}}}", ex.delta[l - 1], digits, marked=marks)
        elif isinstance(layer, Conv):
            backward += _conv_backward(layer, l, first.W[l], ex, spec, digits)
    sections.append(
        Section("The backward pass", tuple(Piece(p.kind, p.content, True) for p in backward))
    )
    sections.append(Section("The update", (_updates(run, digits),)))
    return ConvDocument(
        name=spec.name,
        title=spec.title or f"Back-propagation in the network {spec.name}",
        source=spec.source,
        description=spec.description,
        spec_file=Path(spec.path).name if spec.path else None,
        spec_hash=spec.hash,
        version=__version__,
        style=style,
        sections=tuple(
            Section(s.title, kept)
            for s in sections
            if (kept := tuple(p for p in s.pieces if style == "full" or not p.full_only))
        ),
    )


def _conv_backward(layer: Conv, l: int, W: Any, ex: Any, spec: Spec, digits: int) -> list[Piece]:
    L = l + 1
    kh, kw = layer.kernel
    s, p = layer.stride, layer.padding
    a_in, delta = ex.a[l], ex.delta[l]
    pieces = [
        _t(
            f"Layer {L}'s δ[{l}] maps (above). One kernel gradient entry worked as the "
            "correlation it is: the sum over (i, j) of δ[o,i,j] a[c, s·i+u−p, s·j+v−p]; "
            "the input positions it reads are boxed."
        )
    ]
    o, c, u, v = 0, 0, 0, 0
    terms, read = [], set()
    for i in range(len(delta[o])):
        for j in range(len(delta[o][0])):
            r, q = s * i + u - p, s * j + v - p
            if 0 <= r < len(a_in[c]) and 0 <= q < len(a_in[c][0]):
                read.add((r, q))
            terms.append(
                Term(
                    Tex(_name(r"\delta", L, o, i, j)),
                    delta[o][i][j],
                    Tex(_name("a", l, c, r, q)),
                    _read(a_in[c], r, q),
                )
            )
    pieces += _stack(f"a^{{{l}}}", a_in, digits, boxed={c: read})
    if len(terms) <= 3 * MAX_SHOWN:
        body = _worked(
            Tex(rf"\frac{{\partial L}}{{\partial {_name('w', L, o, c, u, v)}}}"),
            terms,
            ex.grad_W[l][o][c][u][v],
            digits,
        )
        pieces.append(Piece("aligned", body))
    else:
        pieces.append(
            _m(
                rf"\frac{{\partial L}}{{\partial {_name('w', L, o, c, u, v)}}} = "
                rf"{tex_number(ex.grad_W[l][o][c][u][v], digits)}"
            )
        )
    pieces.append(_t(f"All of ∂L/∂W[{l}] and ∂L/∂b[{l}] (δ summed over its positions):"))
    for o2, kernel in enumerate(ex.grad_W[l][:MAX_CHANNELS]):
        parts = [
            (
                rf"\partial L/\partial {_name('w', L, o2, c2, ':', ':')} = {grid(k, digits)}",
                _width(k, digits) + 12,
            )
            for c2, k in enumerate(kernel[:MAX_CHANNELS])
        ]
        bias = tex_number(ex.grad_b[l][o2], digits)
        parts.append((rf"\partial L/\partial b^{{{L}}}_{{{o2}}} = {bias}", len(bias) + 14))
        pieces += _packed(parts)
    pieces.append(
        _t(
            "The input gradient is the full convolution of δ with each kernel rotated by "
            "180° (rot180 w[u][v] = w[kh−1−u][kw−1−v]):"
        )
    )
    for o2 in range(min(len(W), MAX_CHANNELS)):
        pieces.append(_m(str(rotation(Tex(_name("w", L, o2, 0, ":", ":")), W[o2][0], digits))))
    grad = ex.grad_x if l == 0 else None
    if grad is not None:
        y = x = min(kh - 1, len(a_in[0]) - 1)
        terms = []
        for o2 in range(len(W)):
            for uu in range(kh):
                for vv in range(kw):
                    ny, nx = y + p - uu, x + p - vv
                    if ny % s or nx % s:
                        continue
                    i, j = ny // s, nx // s
                    if 0 <= i < len(delta[o2]) and 0 <= j < len(delta[o2][0]):
                        terms.append(
                            Term(
                                Tex(_name(r"\tilde w", L, o2, 0, kh - 1 - uu, kw - 1 - vv)),
                                W[o2][0][uu][vv],
                                Tex(_name(r"\delta", L, o2, i, j)),
                                delta[o2][i][j],
                            )
                        )
        pieces.append(
            _t(
                f"One input position worked, channel 0, row {y}, column {x}: the kernel "
                "positions that touched it, each rotated weight times the δ it met."
            )
        )
        pieces.append(
            Piece(
                "aligned",
                _worked(
                    Tex(rf"\frac{{\partial L}}{{\partial {_name('x', None, 0, y, x)}}}"),
                    terms,
                    grad[0][y][x],
                    digits,
                ),
            )
        )
        pieces.append(_t("The whole input gradient ∂L/∂x:"))
        pieces += _stack(r"\partial L/\partial x", grad, digits)
    return pieces


def _updates(run: NetworkRun, digits: int) -> Piece:
    """Each parameter before the first update, its gradient ``∂E/∂θ`` and after it."""
    before, after = run.steps[0].quantities(), run.steps[1].quantities()
    lr = run.steps[0].learning_rate
    params = [k for k in before if k.startswith(("W[", "b["))]
    rows = tuple(
        (
            Cell(name),
            Cell(number_tex(before[name], digits)),
            Cell(number_tex(before["grad_" + name], digits)),
            Cell(number_tex(after[name], digits)),
        )
        for name in params[:MAX_ROWS]
    )
    more = f" (the first {MAX_ROWS} of {len(params)} parameters)" if len(params) > MAX_ROWS else ""
    return Piece(
        "table",
        Table(
            "updates",
            f"The first update θ ← θ − η ∂E/∂θ, η = {plain_number(lr, digits)}{more}",
            ("parameter", "before", "∂E/∂θ", "after"),
            rows,
            align="lrrr",
        ),
    )


#: The templates of a conv network's document, by format.
TEMPLATES = {
    "tex": "conv_document.tex.j2",
    "html": "conv_document.html.j2",
    "md": "conv_document.md.j2",
}


def render_conv(
    spec: Spec,
    *,
    format: str = "tex",
    steps: int = 1,
    digits: int = DIGITS,
    style: str = "full",
    marks: object = None,
    chains: bool = False,
) -> str:
    """The document of ``spec`` (not dense-only) as ``tex``, ``html`` or ``md`` text.

    The ``full`` and ``handout`` styles are built; a cloze sheet, verdict marks and
    gradient chains are refused with one line (exit code 2 from the CLI)."""
    for asked, what in ((style == "cloze", "cloze sheets"), (bool(marks), "verdict marks"),
                        (chains, "gradient chains")):  # fmt: skip
        if asked:
            kinds = "/".join(
                dict.fromkeys(l.kind for l in spec.network if not isinstance(l, Dense))
            )
            raise SpecError(
                f"{what} in documents of {kinds} layers are not available yet; "
                "the full and handout styles are",
                file=spec.path,
            )
    document = build_conv(spec, steps=steps, digits=digits, style=style)
    return render(format, TEMPLATES[format], doc=document)
