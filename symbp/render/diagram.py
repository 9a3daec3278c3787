"""The network diagram's layout, shared by the TikZ (LaTeX) and SVG (HTML) templates.

Layers are columns from left (input) to right (output), neurons top to bottom
(neuron 1 on top). A layer wider than :data:`MAX_DRAWN` shows its first
:data:`HEAD` and last :data:`TAIL` neurons around a vertical ellipsis. Edges
join every drawn pair; for small nets each edge is labelled with its weight
(the value at step 0 where the spec has numbers, else ``w^l_{jk}``), placed a
fraction ``0.25 … 0.75`` along the edge that depends on the source neuron, so
labels of one layer do not overlap.
Coordinates are in centimetres, ``y`` growing downwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """One drawn neuron: ``tex``/``text`` are its label in LaTeX and Unicode."""

    id: str
    x: float
    y: float
    tex: Tex
    text: str
    layer: int


@dataclass(frozen=True)
class Edge:
    """A drawn weight from ``src`` to ``dst`` with an optional label."""

    src: str
    dst: str
    tex: Tex | None
    text: str | None
    x: float
    y: float


@dataclass(frozen=True)
class Diagram:
    """Everything the templates draw."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    ellipses: tuple[tuple[float, float], ...]
    captions: tuple[tuple[float, str], ...]
    width: float
    height: float
    labelled: bool


def _shown(n: int) -> list[int | None]:
    """The 0-based neurons drawn for a layer of ``n`` (``None`` marks the ellipsis)."""
    if n <= MAX_DRAWN:
        return list(range(n))
    return [*range(HEAD), None, *range(n - TAIL, n)]


def _label(spec: Spec, l: int, j: int) -> tuple[Tex, str]:
    if l == 0:
        symbol = nt.explicit_symbol("x", 0, j)
    elif l == spec.depth:
        name = "y" if spec.layers[-1] == 1 else f"y_{j + 1}"
        hat = r"\hat{y}" if spec.layers[-1] == 1 else rf"\hat{{y}}_{{{j + 1}}}"
        return Tex(hat), pretty(sp.Symbol(name)).replace("y", "ŷ", 1)
    else:
        symbol = nt.explicit_symbol("a", l, j)
    return tex(symbol), pretty(symbol)


def layout(spec: Spec, weights: Sequence | None = None, digits: int = 3) -> Diagram:
    """Lay out ``spec``'s net; ``weights`` (spec-shaped ``W``) labels the edges with values."""
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
        for row, j in enumerate(column):
            x, y = l * dx, top + row * dy
            if j is None:
                ellipses.append((x, y))
                continue
            label_tex, label_text = _label(spec, l, j)
            positions[(l, j)] = (x, y)
            nodes.append(Node(f"n{l}x{j}", x, y, label_tex, label_text, l))
    edges: list[Edge] = []
    for l in range(1, len(columns)):
        for j in (j for j in columns[l] if j is not None):
            for k in (k for k in columns[l - 1] if k is not None):
                (x0, y0), (x1, y1) = positions[(l - 1, k)], positions[(l, j)]
                # Labels of edges leaving one neuron share a distance along the edges;
                # each source neuron has its own, so no two labels meet.
                n_in = spec.layers[l - 1]
                t = 0.25 + (0.5 * k / (n_in - 1) if n_in > 1 else 0.0)
                lx, ly = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                label_tex: Tex | None = None
                label_text: str | None = None
                if labelled:
                    if weights is not None:
                        value = weights[l - 1][j][k]
                        label_tex = Tex(tex_number(value, digits))
                        label_text = label_tex.replace(r"\times 10^", "e")
                    else:
                        symbol = nt.explicit_symbol("w", l, j, k)
                        label_tex, label_text = tex(symbol), pretty(symbol)
                edges.append(Edge(f"n{l - 1}x{k}", f"n{l}x{j}", label_tex, label_text, lx, ly))
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
    )
