"""The network diagram's layout, shared by the TikZ (LaTeX) and SVG (HTML) templates.

Layers are columns from left (input) to right (output), neurons top to bottom
(neuron 1 on top). A layer wider than :data:`MAX_DRAWN` shows its first
:data:`HEAD` and last :data:`TAIL` neurons around a vertical ellipsis. Edges
join every drawn pair; for small nets each edge is labelled with its weight
(the value at step 0 where the spec has numbers, else ``w^l_{jk}``), placed a
fraction ``0.25 … 0.75`` along the edge that depends on the source neuron,
then moved along the edge where it would meet another label or a neuron
(:func:`symbp.render.labels.place`). Each layer's biases are drawn as a bias
unit ``1`` above the gap before the layer, with a dashed edge (labelled
``b^l_j``) into each neuron.

:func:`route` highlights the route of one parameter's gradient: its own edge
and every edge from its neuron on to the outputs (the paths of its chain), and
labels only those edges; the worked parameters' sections draw it small.
Coordinates are in centimetres, ``y`` growing downwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import sympy as sp

from ..spec import Spec
from ..symbolic import notation as nt
from .escape import Tex
from .mathtex import tex, tex_number
from .printers import pretty

MAX_DRAWN = 8
HEAD, TAIL = 3, 2
#: Edges are labelled when the net has at most this many weights.
MAX_LABELLED_WEIGHTS = 20
DX, DY = 4.2, 1.5
#: Column spacing when edges carry labels.
DX_LABELLED = 5.6
DY_LABELLED = 1.9
#: The widest diagram (cm); more layers are drawn closer together.
MAX_WIDTH = 15.0


@dataclass(frozen=True)
class Node:
    """One drawn neuron or bias unit: ``tex``/``text`` are its label in LaTeX and Unicode.

    ``kind`` is ``input``, ``hidden``, ``output`` or ``bias``.
    """

    id: str
    x: float
    y: float
    tex: Tex
    text: str
    layer: int
    kind: str = "hidden"
    highlight: bool = False


@dataclass(frozen=True)
class Edge:
    """A drawn weight (or bias, ``bias=True``) from ``src`` to ``dst``, optionally labelled.

    ``x0, y0, x1, y1`` are the centres of the two ends.
    """

    src: str
    dst: str
    tex: Tex | None
    text: str | None
    x: float
    y: float
    x0: float = 0.0
    y0: float = 0.0
    x1: float = 0.0
    y1: float = 0.0
    bias: bool = False
    highlight: bool = False
    key: tuple[int, ...] = ()
    #: The label's estimated box (cm), centred at ``(x, y)`` (:mod:`symbp.render.labels`).
    w: float = 0.0
    h: float = 0.0


@dataclass(frozen=True)
class Diagram:
    """Everything the templates draw; ``top`` is the smallest ``y`` (the bias units' row)."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    ellipses: tuple[tuple[float, float], ...]
    captions: tuple[tuple[float, str], ...]
    width: float
    height: float
    labelled: bool
    top: float = 0.0
    scale: float = 1.0
    route: str | None = None
    ident: str = "net"


def _shown(n: int) -> list[int | None]:
    """The 0-based neurons drawn for a layer of ``n`` (``None`` marks the ellipsis)."""
    if n <= MAX_DRAWN:
        return list(range(n))
    return [*range(HEAD), None, *range(n - TAIL, n)]


def _label(spec: Spec, l: int, j: int) -> tuple[Tex, str]:
    named = {quantity: name for name, quantity in spec.names}.get(f"a[{l}][{j}]")
    if named is not None:  # the text's own name (spec names:)
        from .notation import name_tex

        return name_tex(named), named
    if l == 0:
        symbol = nt.explicit_symbol("x", 0, j)
    elif l == spec.depth:
        name = "y" if spec.layers[-1] == 1 else f"y_{j + 1}"
        hat = r"\hat{y}" if spec.layers[-1] == 1 else rf"\hat{{y}}_{{{j + 1}}}"
        return Tex(hat), pretty(sp.Symbol(name)).replace("y", "ŷ", 1)
    else:
        symbol = nt.explicit_symbol("a", l, j)
    return tex(symbol), pretty(symbol)


def layout(
    spec: Spec, weights: Sequence | None = None, digits: int = 3, biases: Sequence | None = None
) -> Diagram:
    """Lay out ``spec``'s net; ``weights``/``biases`` (spec-shaped) label the edges with values."""
    columns = [_shown(n) for n in spec.layers]
    n_weights = sum(a * b for a, b in zip(spec.layers[:-1], spec.layers[1:], strict=True))
    labelled = n_weights <= MAX_LABELLED_WEIGHTS
    dx = min(DX_LABELLED if labelled else DX, MAX_WIDTH / max(len(columns) - 1, 1))
    dy = DY_LABELLED if labelled else DY
    tallest = max(len(c) for c in columns)
    height = (tallest - 1) * dy
    nodes: list[Node] = []
    positions: dict[tuple[int, int], tuple[float, float]] = {}
    ellipses = []
    for l, column in enumerate(columns):
        top = (height - (len(column) - 1) * dy) / 2
        kind = "input" if l == 0 else ("output" if l == spec.depth else "hidden")
        for row, j in enumerate(column):
            x, y = l * dx, top + row * dy
            if j is None:
                ellipses.append((x, y))
                continue
            label_tex, label_text = _label(spec, l, j)
            positions[(l, j)] = (x, y)
            nodes.append(Node(f"n{l}x{j}", x, y, label_tex, label_text, l, kind))
    bias_y = -0.75 * dy
    for l in range(1, len(columns)):
        nodes.append(Node(f"b{l}", (l - 0.5) * dx, bias_y, Tex("1"), "1", l, "bias"))
    edges: list[Edge] = []
    for l in range(1, len(columns)):
        for j in (j for j in columns[l] if j is not None):
            (x1, y1) = positions[(l, j)]
            for k in (k for k in columns[l - 1] if k is not None):
                (x0, y0) = positions[(l - 1, k)]
                # Labels of edges leaving one neuron share a distance along the edges;
                # each source neuron has its own, so no two labels meet.
                n_in = spec.layers[l - 1]
                t = 0.25 + (0.5 * k / (n_in - 1) if n_in > 1 else 0.0)
                value = weights[l - 1][j][k] if weights is not None else None
                edge_tex, edge_text = _edge_label(labelled, value, ("w", l, j, k), digits)
                edges.append(
                    Edge(
                        f"n{l - 1}x{k}",
                        f"n{l}x{j}",
                        edge_tex,
                        edge_text,
                        x0 + t * (x1 - x0),
                        y0 + t * (y1 - y0),
                        x0,
                        y0,
                        x1,
                        y1,
                        key=(l, j, k),
                    )
                )
            bx, by = (l - 0.5) * dx, bias_y
            value = biases[l - 1][j] if biases is not None else None
            edge_tex, edge_text = _edge_label(labelled, value, ("b", l, j), digits)
            t = 0.6
            edges.append(
                Edge(
                    f"b{l}",
                    f"n{l}x{j}",
                    edge_tex,
                    edge_text,
                    bx + t * (x1 - bx),
                    by + t * (y1 - by),
                    bx,
                    by,
                    x1,
                    y1,
                    bias=True,
                    key=(l, j),
                )
            )
    edges = _placed(edges, nodes)
    captions = []
    for l in range(len(columns)):
        kind = "input" if l == 0 else ("output" if l == spec.depth else "hidden")
        captions.append((l * dx, f"layer {l} ({kind}, {spec.layers[l]})"))
    return Diagram(
        tuple(nodes),
        tuple(edges),
        tuple(ellipses),
        tuple(captions),
        (len(columns) - 1) * dx,
        height,
        labelled,
        top=bias_y,
    )


def rescaled(diagram: Diagram, scale: float) -> Diagram:
    """``diagram`` drawn at ``scale``, its labels placed again: the labels' font does not
    shrink with the drawing, so in its units they grow as ``1 / scale``."""
    edges = _placed(list(diagram.edges), list(diagram.nodes), scale)
    return replace(diagram, scale=scale, edges=tuple(edges))


def _placed(edges: list[Edge], nodes: Sequence[Node], scale: float = 1.0) -> list[Edge]:
    """``edges`` with their labels moved along the edges to where none collides."""
    from .labels import BIAS_RADIUS, NEURON_RADIUS, Label, box_size, place

    labelled = [e for e in edges if e.text]
    labels = []
    for e in labelled:
        t = (e.x - e.x0) / (e.x1 - e.x0) if e.x1 != e.x0 else 0.5
        labels.append(Label(e.x0, e.y0, e.x1, e.y1, t, *box_size(e.text or "", scale)))
    circles = [(n.x, n.y, BIAS_RADIUS if n.kind == "bias" else NEURON_RADIUS) for n in nodes]
    boxes = dict(zip((id(e) for e in labelled), place(labels, circles), strict=True))
    out = []
    for e in edges:
        box = boxes.get(id(e))
        out.append(e if box is None else replace(e, x=box.x, y=box.y, w=box.w, h=box.h))
    return out


def _edge_label(
    labelled: bool, value: object, symbol: tuple, digits: int
) -> tuple[Tex | None, str | None]:
    """An edge's label: its value where known, else its symbol; none for large nets."""
    if not labelled:
        return None, None
    if value is not None:
        label = Tex(tex_number(value, digits))  # type: ignore[arg-type]
        return label, label.replace(r"\times 10^", "e")
    sym = nt.explicit_symbol(*symbol)
    return tex(sym), pretty(sym)


#: The size of a route diagram relative to the network diagram.
ROUTE_SCALE = 0.5


def route(diagram: Diagram, kind: str, layer: int, indices: Sequence[int]) -> Diagram:
    """``diagram`` with the route of parameter ``kind`` (``w``/``b``) of ``layer`` highlighted.

    ``indices`` are 0-based (``(j, k)`` for a weight, ``(j,)`` for a bias). The
    route is the parameter's edge and every edge from its neuron to the
    outputs: the paths of its chain. Only the highlighted edges keep labels.
    """
    j = indices[0]
    own = (layer, *indices)
    on_route = {f"n{layer}x{j}"}
    for n in diagram.nodes:
        if n.kind != "bias" and n.layer > layer:
            on_route.add(n.id)
    src = f"b{layer}" if kind == "b" else f"n{layer - 1}x{indices[1]}"
    on_route.add(src)

    def lit(e: Edge) -> bool:
        if (e.bias == (kind == "b")) and e.key == own:
            return True
        return not e.bias and e.src in on_route and e.dst in on_route and e.key[0] > layer

    edges = tuple(
        replace(e, highlight=lit(e), tex=e.tex if lit(e) else None, text=e.text if lit(e) else None)
        for e in diagram.edges
    )
    nodes = tuple(replace(n, highlight=n.id in on_route) for n in diagram.nodes)
    symbol = nt.explicit_symbol(kind, layer, *indices)
    return replace(
        diagram,
        nodes=nodes,
        edges=tuple(_placed(list(edges), nodes, ROUTE_SCALE)),
        scale=ROUTE_SCALE,
        route=pretty(symbol),
        ident=f"route-{kind}{layer}-" + "-".join(str(i) for i in indices),
    )
