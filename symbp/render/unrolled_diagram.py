"""The diagram of a recurrent network unrolled over time (``symbp doc``).

One column per time step ``t``, bottom to top: the input ``x_t``, the cell (its state
``h_t``; ``h_t, c_t`` where the cell carries more states), the head's output ``y_t`` and
the loss ``L_t``. Arrows: ``x_t → h_t`` labelled with the input weights ``W¹``,
``h_{t-1} → h_t`` with the recurrent weights ``U¹`` (the same matrices at every step:
that sharing is what BPTT sums over), ``h_t → y_t`` with the head's ``W²`` (its layers),
``y_t → L_t`` with the target ``t_t``. A column ``h_0`` (the initial state) stands on the
left. A step without a loss (``output: last_step``) has no ``y_t`` and ``L_t``. More than
:data:`MAX_DRAWN` steps: the first ones and the last, a ``⋯`` between them.

Coordinates are in centimetres with ``y`` growing downwards from ``(0, 0)``; the TikZ
(``templates/diagram_unrolled.tex.j2``) and SVG (``templates/diagram_unrolled.svg.j2``)
templates draw the same layout, at ``scale < 1`` where it is wider than
:data:`~.map_diagram.MAX_WIDTH`. Every label has a TeX form (math) and a text form
(Unicode sub- and superscripts) for the SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .conv_pieces import sup
from .escape import Tex
from .map_diagram import MAX_WIDTH

#: Steps drawn at most; a longer sequence shows its first steps, ``⋯`` and the last.
MAX_DRAWN = 5
#: A column's width and the gap between the boxes of one column (cm).
COLUMN, BOX_W, BOX_H, ROW = 2.6, 1.3, 0.7, 1.6
#: Room around the drawing (cm).
EDGE = 0.3

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(n: int) -> str:
    """``n`` as subscript digits (``h₁``)."""
    return str(n).translate(_SUB)


@dataclass(frozen=True)
class Label:
    """A text in both forms: ``tex`` (math, trusted) and ``text`` (Unicode, escaped)."""

    tex: Tex
    text: str


@dataclass(frozen=True)
class Box:
    """A box centred at ``(x, y)``, ``w × h``; ``kind`` is ``input``, ``hidden`` or
    ``output`` (the colours of the other diagrams)."""

    x: float
    y: float
    w: float
    h: float
    kind: str
    label: Label


@dataclass(frozen=True)
class Edge:
    """An arrow from ``(x0, y0)`` to ``(x1, y1)`` with a label beside its middle
    (``dx``, ``dy`` from the middle: the label's centre)."""

    x0: float
    y0: float
    x1: float
    y1: float
    label: Label | None
    dx: float = 0.0
    dy: float = 0.0


@dataclass(frozen=True)
class UnrolledDiagram:
    """Everything the templates draw (see the module docstring)."""

    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    dots: tuple[tuple[float, float], ...]
    width: float
    height: float
    scale: float = 1.0
    ident: str = "unrolled"
    #: The SVG template (:func:`symbp.render.templating.svg` reads it).
    template: str = "diagram_unrolled.svg.j2"


def _label(tex: str, text: str) -> Label:
    return Label(Tex(tex), text)


def drawn_steps(steps: int) -> list[int | None]:
    """The steps drawn, ``None`` where ``⋯`` stands for the ones left out."""
    if steps <= MAX_DRAWN:
        return list(range(1, steps + 1))
    return [*range(1, MAX_DRAWN - 1), None, steps]


def unrolled_layout(
    steps: int, states: tuple[str, ...], head_layers: int, losses: tuple[bool, ...]
) -> UnrolledDiagram:
    """Lay out ``steps`` steps of a cell carrying ``states`` (``h`` first), a head of
    ``head_layers`` dense layers, and a loss at the steps where ``losses[t - 1]``."""
    state_tex = ", ".join(f"{s}_{{{{t}}}}" for s in states)
    rows = {"L": EDGE + BOX_H / 2, "y": EDGE + BOX_H / 2 + ROW}
    rows["h"], rows["x"] = rows["y"] + ROW, rows["y"] + 2 * ROW
    head = "W" + sup(2) if head_layers == 1 else f"W{sup(2)}…W{sup(head_layers + 1)}"
    head_tex = "W^{2}" if head_layers == 1 else rf"W^{{2}} \ldots W^{{{head_layers + 1}}}"
    boxes: list[Box] = []
    edges: list[Edge] = []
    dots: list[tuple[float, float]] = []
    x0 = EDGE + BOX_W / 2
    initial = ", ".join(f"{s}_{{0}}" for s in states)
    boxes.append(
        Box(x0, rows["h"], BOX_W, BOX_H, "input",
            _label(initial, ", ".join(s + sub(0) for s in states)))
    )  # fmt: skip
    prev_x: float | None = x0
    x = x0
    for t in drawn_steps(steps):
        x += COLUMN
        if t is None:
            dots.append((x, rows["h"]))
            prev_x = None
            continue
        cell_tex = state_tex.replace("{t}", str(t))
        boxes.append(
            Box(x, rows["h"], BOX_W, BOX_H, "hidden",
                _label(cell_tex, ", ".join(s + sub(t) for s in states)))
        )  # fmt: skip
        boxes.append(Box(x, rows["x"], BOX_W, BOX_H, "input", _label(f"x_{{{t}}}", f"x{sub(t)}")))
        edges.append(
            Edge(x, rows["x"] - BOX_H / 2, x, rows["h"] + BOX_H / 2,
                 _label("W^{1}", "W" + sup(1)), 0.35, 0.0)
        )  # fmt: skip
        left = (prev_x if prev_x is not None else x - COLUMN + 0.35) + BOX_W / 2
        edges.append(
            Edge(left, rows["h"], x - BOX_W / 2, rows["h"], _label("U^{1}", "U" + sup(1)), 0, -0.3)
        )
        if losses[t - 1]:
            for key in ("y", "L"):
                label = _label(f"{key}_{{{t}}}", f"{key}{sub(t)}")
                boxes.append(Box(x, rows[key], BOX_W, BOX_H, "output", label))
            edges.append(
                Edge(x, rows["h"] - BOX_H / 2, x, rows["y"] + BOX_H / 2,
                     _label(head_tex, head), 0.35 + 0.07 * len(head), 0.0)
            )  # fmt: skip
            edges.append(
                Edge(x, rows["y"] - BOX_H / 2, x, rows["L"] + BOX_H / 2,
                     _label(f"t_{{{t}}}", f"t{sub(t)}"), 0.3, 0.0)
            )  # fmt: skip
        prev_x = x
    width = x + BOX_W / 2 + 0.9 + EDGE
    height = rows["x"] + BOX_H / 2 + EDGE
    scale = min(1.0, math.floor(100 * MAX_WIDTH / width) / 100)
    return UnrolledDiagram(tuple(boxes), tuple(edges), tuple(dots), width, height, scale)


__all__ = ["Box", "Edge", "Label", "UnrolledDiagram", "drawn_steps", "unrolled_layout"]
