"""One neuron drawn as a computational graph of gates, with its numbers.

Left to right: the neuron's inputs, one multiply gate per input (its weight
inside), the add gate (with the bias coming in), the activation gate and the
output. Every edge carries its forward value above it and, in red below it, the
gradient of the loss that flows back along it: upstream gradient × local gradient
(the add gate passes its upstream gradient on unchanged, a multiply gate multiplies
it by its weight, the activation gate by ``f'(z)``). The edges into the add gate
all carry the same ``δ`` back, so it is written once, on the edge out of it.
Coordinates are in cm with y downwards; TikZ (``templates/parts.tex.j2``) and SVG
(``templates/gates.svg.j2``) draw the same layout. The labels of the edges into the
add gate sit near their source, where those edges are still a row apart, so no two
labels overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from .escape import Tex
from .mathtex import number_tex, plain_number

#: Vertical distance of the inputs (cm); the columns' x positions.
ROW = 1.5
X_INPUT, X_MULTIPLY, X_ADD, X_ACTIVATION, X_OUTPUT = 0.0, 3.0, 7.4, 10.2, 13.2
#: The bias comes in from below, between the inputs' and the multiply gates' columns.
X_BIAS = 1.5
#: Pixels per drawing unit in the SVG; a gate's half height (units); the width of one
#: character of a gate's 11 px label (px), with the padding around it.
SVG_UNIT_PX = 48
GATE_HALF_HEIGHT = 0.32
GATE_CHAR_PX = 6.6
GATE_PADDING_PX = 12
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class GateNode:
    """A gate or an end point: ``tex`` for LaTeX, ``text`` (plain) for SVG."""

    id: str
    x: float
    y: float
    tex: Tex
    text: str
    kind: str  # input, multiply, add, activation, output, bias

    @property
    def half_width(self) -> float:
        """Half the width of the gate's SVG box (units): wide enough for its label
        (``leaky ReLU``, ``× -0.123``), at least 0.45; an end point's text counts 0.45."""
        if self.kind in ("input", "output", "bias"):
            return 0.45
        label = len(self.text) * GATE_CHAR_PX + GATE_PADDING_PX
        return max(0.45, label / (2 * SVG_UNIT_PX))

    def boundary(self, dx: float, dy: float) -> tuple[float, float]:
        """Where a line from the centre in direction ``(dx, dy)`` leaves the gate's box
        (an end point: a circle of radius 0.45)."""
        norm = (dx * dx + dy * dy) ** 0.5
        if self.kind in ("input", "output", "bias"):
            scale = 0.45 / norm
        else:
            scale = min(
                self.half_width / abs(dx) if dx else float("inf"),
                GATE_HALF_HEIGHT / abs(dy) if dy else float("inf"),
            )
        return self.x + dx * scale, self.y + dy * scale


@dataclass(frozen=True)
class GateEdge:
    """An edge with its forward value and the gradient flowing back along it."""

    src: GateNode
    dst: GateNode
    forward: Tex
    forward_text: str
    backward: Tex
    backward_text: str
    #: Where along the edge its labels sit (0: at the source).
    pos: float = 0.5

    @property
    def start(self) -> tuple[float, float]:
        """Where the SVG line leaves its source's box."""
        return self.src.boundary(self.dst.x - self.src.x, self.dst.y - self.src.y)

    @property
    def end(self) -> tuple[float, float]:
        """Where the SVG line (its arrow tip) meets its target's box."""
        return self.dst.boundary(self.src.x - self.dst.x, self.src.y - self.dst.y)

    @property
    def label_x(self) -> float:
        return self.src.x + (self.dst.x - self.src.x) * self.pos

    @property
    def label_y(self) -> float:
        return self.src.y + (self.dst.y - self.src.y) * self.pos


@dataclass(frozen=True)
class GateGraph:
    """The drawing; ``template`` is the SVG template the ``svg`` filter renders."""

    nodes: tuple[GateNode, ...]
    edges: tuple[GateEdge, ...]
    width: float
    height: float
    ident: str = "gates"
    template: str = "gates.svg.j2"
    unit_px: int = SVG_UNIT_PX


def plain_symbol(kind: str, l: int, *indices: int) -> str:
    """``a¹₂``, ``x₁``, ``b²₁`` in plain text (1-based indices from 0-based ones)."""
    sub = "".join(str(i + 1) for i in indices).translate(_SUB)
    if kind == "x":
        return f"x{sub}"
    return f"{kind}{str(l).translate(_SUP)}{sub}"


def gate_graph(
    *,
    inputs: list[tuple[Tex, str, object]],
    weights: list[object],
    bias: tuple[Tex, str, object],
    z: object,
    activation: tuple[Tex, str],
    output: tuple[Tex, str, object],
    delta: object,
    upstream: object,
    input_gradients: list[object],
    digits: int,
) -> GateGraph:
    """The graph of one neuron: ``inputs`` as ``(tex, text, value)``, the weights'
    values, the bias ``(tex, text, value)``, ``z``, the activation's label, the output
    ``(tex, text, value)``, ``δ = ∂L/∂z``, the upstream ``∂L/∂a`` and ``∂L/∂`` input."""

    def num(value: object) -> tuple[Tex, str]:
        return number_tex(value, digits), plain_number(value, digits)  # type: ignore[arg-type]

    n = len(inputs)
    middle = (n - 1) * ROW / 2
    nodes: list[GateNode] = []
    edges: list[GateEdge] = []
    add = GateNode("add", X_ADD, middle, Tex("+"), "+", "add")
    act = GateNode("act", X_ACTIVATION, middle, activation[0], activation[1], "activation")
    out = GateNode("out", X_OUTPUT, middle, output[0], output[1], "output")
    d_tex, d_text = num(delta)
    for k, ((symbol, text, value), weight, grad) in enumerate(
        zip(inputs, weights, input_gradients, strict=True)
    ):
        y = k * ROW
        src = GateNode(f"in{k}", X_INPUT, y, symbol, text, "input")
        w_text = num(weight)[1]
        w_shown = number_tex(weight, digits, paren="negative")  # type: ignore[arg-type]
        mul = GateNode(
            f"mul{k}", X_MULTIPLY, y, Tex(rf"\times {w_shown}"), f"× {w_text}", "multiply"
        )
        nodes += [src, mul]
        edges.append(GateEdge(src, mul, *num(value), *num(grad)))
        product = num(weight * value)  # type: ignore[operator]
        edges.append(GateEdge(mul, add, *product, Tex(""), "", 0.22))
    b = GateNode("bias", X_BIAS, n * ROW, bias[0], bias[1], "bias")
    nodes += [b, add, act, out]
    edges.append(GateEdge(b, add, *num(bias[2]), Tex(""), "", 0.15))
    edges.append(GateEdge(add, act, *num(z), d_tex, d_text))
    edges.append(GateEdge(act, out, *num(output[2]), *num(upstream)))
    return GateGraph(tuple(nodes), tuple(edges), X_OUTPUT + 1.0, n * ROW)


__all__ = ["GateEdge", "GateGraph", "GateNode", "gate_graph", "plain_symbol"]
