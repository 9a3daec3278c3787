"""Edge labels placed without collisions, for the network diagram (TikZ and SVG).

Each label sits on its own edge, a fraction ``t`` of the way from the source
to the destination. :func:`place` walks the labels in order and gives each the
``t`` nearest its preferred one at which its box (an estimate of the printed
label, :func:`box_size`) meets no label placed before it and no neuron or bias
unit: in a layer of two neurons the label of a weight no longer lands on a
bias label ("−0.3−0.1"). Both templates paint a background under the label, so
the edges that pass under a label do not run through its text.

Sizes are in the diagram's centimetres at scale 1 (``\\scriptsize`` in LaTeX,
11 px at 60 px per cm in SVG: the LaTeX box is the larger, so it is the one
kept apart); a smaller diagram has smaller labels (:data:`SMALL_LABELS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The estimated width of one character of a label (cm, ``\scriptsize``) and its height.
CHAR_WIDTH = 0.15
LABEL_HEIGHT = 0.36
#: Padding around a label's text (cm), and the least gap kept between two boxes.
PADDING = 0.06
GAP = 0.04
#: The radii of a drawn neuron and of a bias unit (cm), as the templates draw them.
NEURON_RADIUS = 0.5
BIAS_RADIUS = 0.3
#: Where a label may sit along its edge (fractions of the edge), searched in this step.
T_MIN, T_MAX, T_STEP = 0.1, 0.9, 0.025
#: A diagram drawn smaller than scale 1 prints its labels smaller too (``\tiny`` for
#: ``\scriptsize``, 8 px for 11 px in SVG): their size relative to scale 1's.
SMALL_LABELS = 0.72


@dataclass(frozen=True)
class Box:
    """An axis-aligned box centred at ``(x, y)``, ``w`` wide and ``h`` high (cm)."""

    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box, gap: float = GAP) -> bool:
        return (
            abs(self.x - other.x) < (self.w + other.w) / 2 + gap
            and abs(self.y - other.y) < (self.h + other.h) / 2 + gap
        )

    def meets_circle(self, cx: float, cy: float, r: float) -> bool:
        """Whether the box and the disc of radius ``r`` at ``(cx, cy)`` intersect."""
        nx = min(max(cx, self.x - self.w / 2), self.x + self.w / 2)
        ny = min(max(cy, self.y - self.h / 2), self.y + self.h / 2)
        return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r


def box_size(text: str, scale: float = 1.0) -> tuple[float, float]:
    """The estimated width and height of a label printing ``text`` (its Unicode form),
    in the units of a diagram drawn at ``scale`` (cm at scale 1)."""
    factor = (SMALL_LABELS if scale < 1 else 1.0) / scale
    return (len(text) * CHAR_WIDTH + 2 * PADDING) * factor, LABEL_HEIGHT * factor


@dataclass(frozen=True)
class Label:
    """One label to place: its edge's ends, its preferred fraction ``t`` and its size."""

    x0: float
    y0: float
    x1: float
    y1: float
    t: float
    w: float
    h: float

    def at(self, t: float) -> Box:
        return Box(
            self.x0 + t * (self.x1 - self.x0), self.y0 + t * (self.y1 - self.y0), self.w, self.h
        )


def _candidates(preferred: float) -> list[float]:
    steps = round((T_MAX - T_MIN) / T_STEP)
    ts = [T_MIN + n * T_STEP for n in range(steps + 1)]
    return [preferred, *sorted(ts, key=lambda t: (abs(t - preferred), t))]


def place(labels: Sequence[Label], circles: Sequence[tuple[float, float, float]]) -> list[Box]:
    """A box for each label, in order; each avoids the boxes before it and the circles.

    ``circles`` are ``(x, y, r)`` of the drawn neurons and bias units. Where no
    fraction along the edge is free, the one meeting the fewest boxes is taken.
    """
    placed: list[Box] = []
    for label in labels:
        best: tuple[int, Box] | None = None
        for t in _candidates(label.t):
            box = label.at(t)
            clashes = sum(box.overlaps(p) for p in placed) + sum(
                box.meets_circle(x, y, r) for x, y, r in circles
            )
            if best is None or clashes < best[0]:
                best = (clashes, box)
            if clashes == 0:
                break
        assert best is not None
        placed.append(best[1])
    return placed


__all__ = ["BIAS_RADIUS", "NEURON_RADIUS", "SMALL_LABELS", "Box", "Label", "box_size", "place"]
