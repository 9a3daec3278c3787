"""The diagram of a network of layer records: feature-map stacks, vectors and arrows.

Left to right, one *block* per quantity: the input ``a[0]`` and every layer's output
``a[l+1]`` (named ``a⁰``, ``a¹``, … as the textbooks do). A quantity with channels
(``C×H×W``) is a stack of squares seen from the front (at most :data:`MAX_SQUARES`
squares drawn, each set back by :data:`OFFSET` up and to the right; its size grows with
the map's, between :data:`MIN_SIDE` and :data:`MAX_SIDE`); a vector (``n``) is a narrow
bar. Under each block its shape (channels × height × width, or the length), above it its
name. The arrow into a block says what the layer does, from the record's fields
(:func:`arrow_text`): the kind and kernel size above the arrow, stride and padding (or
the activation) below it.

Coordinates are in centimetres with ``y`` growing downwards, from ``(0, 0)`` (the top
left corner of the drawing) to ``(width, height)``; every block, label and arrow lies
inside. The TikZ (``templates/diagram_maps.tex.j2``) and SVG
(``templates/diagram_maps.svg.j2``) templates draw the same layout; a drawing wider
than :data:`MAX_WIDTH` is drawn at ``scale < 1``, its text scaled with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..layers import Conv, Dense, Flatten, Pool
from ..layers.base import Layer
from ..symbolic.network_plan import shapes_of
from .conv_pieces import sup

#: Squares drawn for a stack of channels at most (the count is in the shape label).
MAX_SQUARES = 4
#: How far each square behind the front one is set back (cm, up and to the right).
OFFSET = 0.16
#: A map's square side (cm) per row of the map, and its bounds.
SIDE_PER_ROW, MIN_SIDE, MAX_SIDE = 0.22, 0.6, 2.0
#: A vector's bar: width (cm), height per value and its bounds.
BAR_WIDTH, BAR_PER_VALUE, MIN_BAR, MAX_BAR = 0.35, 0.1, 0.8, 2.4
#: The width (cm) of one character of a label (``\scriptsize``, SVG 11 px), generous.
CHAR_CM = 0.15
#: A label's height (cm).
LINE_CM = 0.4
#: The shortest arrow (cm), and the room left between an arrow and the blocks.
MIN_ARROW, GAP = 1.4, 0.15
#: Room above and below the blocks for their names and shapes; left and right of them.
MARGIN, EDGE = 0.9, 0.1
#: The widest drawing (cm) at scale 1; wider ones are drawn smaller.
MAX_WIDTH = 15.0
#: Pixels per centimetre in the SVG.
SVG_CM_PX = 60


@dataclass(frozen=True)
class Block:
    """One drawn quantity: the front square (or bar) at ``x, y`` (its top left corner),
    ``w × h``; ``squares`` squares in all (1 for a vector), each set back by ``OFFSET``.

    ``kind`` is ``input``, ``hidden`` or ``output`` (the dense diagram's colours);
    ``name`` (``a¹``) is printed above, ``shape`` (``8×6×6``) below."""

    x: float
    y: float
    w: float
    h: float
    squares: int
    kind: str
    name: str
    shape: str

    @property
    def right(self) -> float:
        """The rightmost x of the stack (its last square)."""
        return self.x + self.w + (self.squares - 1) * OFFSET

    @property
    def top(self) -> float:
        """The topmost y of the stack (its last square)."""
        return self.y - (self.squares - 1) * OFFSET

    @property
    def squares_at(self) -> tuple[tuple[float, float], ...]:
        """The top left corners of the squares, the back one first (drawn first)."""
        return tuple(
            (self.x + k * OFFSET, self.y - k * OFFSET) for k in reversed(range(self.squares))
        )


@dataclass(frozen=True)
class Arrow:
    """An arrow from ``x0`` to ``x1`` at height ``y``: ``above`` (kind and kernel) and
    ``below`` (stride, padding or activation) are its two label lines."""

    x0: float
    x1: float
    y: float
    above: str
    below: str


@dataclass(frozen=True)
class MapDiagram:
    """Everything the templates draw (see the module docstring)."""

    blocks: tuple[Block, ...]
    arrows: tuple[Arrow, ...]
    width: float
    height: float
    scale: float = 1.0
    ident: str = "maps"
    #: The SVG template (:func:`symbp.render.templating.svg` reads it).
    template: str = "diagram_maps.svg.j2"

    def label_boxes(self) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Every text's estimated box ``(x0, y0, x1, y1)`` in cm, by its text: the names
        above and the shapes below the blocks, the arrows' two lines."""
        boxes = []
        for b in self.blocks:
            cx = (b.x + b.right) / 2
            boxes.append((b.name, _box(b.name, cx, b.top - 0.35)))
            boxes.append((b.shape, _box(b.shape, cx, b.y + b.h + 0.35)))
        for a in self.arrows:
            cx = (a.x0 + a.x1) / 2
            for text, y in ((a.above, a.y - 0.3), (a.below, a.y + 0.3)):
                if text:
                    boxes.append((text, _box(text, cx, y)))
        return boxes


def _box(text: str, cx: float, cy: float) -> tuple[float, float, float, float]:
    half = len(text) * CHAR_CM / 2
    return (cx - half, cy - LINE_CM / 2, cx + half, cy + LINE_CM / 2)


def _times(shape: Sequence[int]) -> str:
    return "×".join(str(n) for n in shape)


def arrow_text(layer: Layer) -> tuple[str, str]:
    """The two lines on the arrow into ``layer``'s output, from the record's fields."""
    if isinstance(layer, Conv):
        kh, kw = layer.kernel
        return (
            f"conv {kh}×{kw}, {layer.activation.title}",
            f"stride {layer.stride}, pad {layer.padding}",
        )
    if isinstance(layer, Pool):
        return f"{layer.mode} pool {layer.size}×{layer.size}", f"stride {layer.stride}"
    if isinstance(layer, Flatten):
        return "flatten", "(c, i, j)"
    if isinstance(layer, Dense) and layer.activation is not None:
        return "dense", layer.activation.title
    return layer.kind, ""


def _block(shape: Sequence[int], kind: str, name: str) -> Block:
    if len(shape) == 3:
        channels, rows, cols = shape
        h = min(MAX_SIDE, max(MIN_SIDE, SIDE_PER_ROW * rows))
        w = min(MAX_SIDE, max(MIN_SIDE, SIDE_PER_ROW * cols))
        squares = min(channels, MAX_SQUARES)
        return Block(0.0, 0.0, w, h, squares, kind, name, _times(shape))
    n = shape[0]
    h = min(MAX_BAR, max(MIN_BAR, BAR_PER_VALUE * n))
    return Block(0.0, 0.0, BAR_WIDTH, h, 1, kind, name, str(n))


def _text_width(*texts: str) -> float:
    return max(len(t) for t in texts) * CHAR_CM


def map_layout(input_shape: Sequence[int], network: Sequence[Layer]) -> MapDiagram:
    """Lay out the network ``network`` on an input of ``input_shape`` (see the module
    docstring): the blocks side by side, each arrow as long as its label needs."""
    shapes = shapes_of(tuple(input_shape), tuple(network))
    last = len(network)
    raw = [
        _block(shape, "input" if l == 0 else ("output" if l == last else "hidden"), f"a{sup(l)}")
        for l, shape in enumerate(shapes)
    ]
    tallest = max(b.h + (b.squares - 1) * OFFSET for b in raw)
    middle = MARGIN + tallest / 2
    blocks: list[Block] = []
    arrows: list[Arrow] = []
    x = EDGE
    for l, b in enumerate(raw):
        # A block's labels may be wider than the block: keep them off the page's edge
        # and off the neighbouring labels.
        half_label = _text_width(b.name, b.shape) / 2
        width = b.w + (b.squares - 1) * OFFSET
        pad = max(0.0, half_label - width / 2)
        if l > 0:
            above, below = arrow_text(network[l - 1])
            length = max(MIN_ARROW, _text_width(above, below) + 0.4)
            start = x + GAP
            arrows.append(Arrow(start, start + length, middle, above, below))
            x = start + length + GAP
        x += pad if l == 0 else max(0.0, pad - GAP)
        depth = (b.squares - 1) * OFFSET
        front_top = middle - (b.h - depth) / 2
        blocks.append(Block(x, front_top, b.w, b.h, b.squares, b.kind, b.name, b.shape))
        x += width + pad
    width, height = x + EDGE, 2 * MARGIN + tallest
    # Rounded down to the 2 digits the templates print, so the drawing stays in MAX_WIDTH.
    scale = min(1.0, math.floor(100 * MAX_WIDTH / width) / 100)
    return MapDiagram(tuple(blocks), tuple(arrows), width, height, scale=scale)
