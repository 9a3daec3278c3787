"""Document styles: which sections of one document model a document shows.

There is one document model (:func:`symbp.render.model.build`); a style only
selects and condenses its sections, so a handout and its answer key always
carry the same numbers:

- ``full`` (the answer key): everything the model holds;
- ``handout``: the diagram, the training data, the forward pass (one neuron
  per layer worked and the layer tables), the loss, one output-layer weight and
  one hidden-layer weight worked through (each with its route highlighted in
  the diagram), the δ/gradient tables, one update worked, the updated
  parameters and the trajectory. The layer table, the notation table, the
  layer-generic forward pass and recursion and the derivatives of the
  activations are left to the answer key. Seed 001's 3-4-1 example fits on four pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SymbpError

if TYPE_CHECKING:
    from .model import Document, LayerSection, Worked

#: The styles, the first the default of ``symbp doc``.
STYLES = ("full", "handout")
#: The style of ``symbp demo``'s worked example.
DEMO_STYLE = "handout"
#: The handout draws the network this much smaller.
HANDOUT_SCALE = 0.72


def check_style(style: str) -> str:
    """``style`` if it is one of :data:`STYLES`, else a one-line error."""
    if style not in STYLES:
        raise SymbpError(f"style: expected one of {', '.join(STYLES)}, found {style!r}")
    return style


def _first_weight(items: tuple[Worked, ...]) -> tuple[Worked, ...]:
    """The first worked weight of a layer (the first item when none is a weight)."""
    weights = [item for item in items if item.kind == "w"]
    return tuple(weights[:1] or items[:1])


def _one_each(
    sections: tuple[LayerSection, ...],
    pick: Callable[[tuple[Worked, ...]], tuple[Worked, ...]],
) -> tuple[LayerSection, ...]:
    """Each section with the items ``pick`` keeps (and without its "as an example" note)."""
    return tuple(replace(s, items=pick(s.items), note=None) for s in sections)


def apply_style(doc: Document, style: str) -> Document:
    """The sections of ``doc`` that ``style`` shows (``doc`` itself is not changed)."""
    check_style(style)
    if style == "full":
        return replace(doc, style=style)
    updates = doc.update_worked
    # One update worked (the output layer's weight); the tables show the rest.
    updates = tuple(
        replace(s, items=_first_weight(s.items) if n == 0 else (), note=None)
        for n, s in enumerate(updates)
    )
    return replace(
        doc,
        style=style,
        diagram=replace(doc.diagram, scale=HANDOUT_SCALE),
        forward_general=(),
        structure=None,
        notation=(),
        activation_steps=(),
        output_delta=None,
        recursion=(),
        forward_worked=_one_each(doc.forward_worked, lambda items: items[:1]),
        backward_worked=_one_each(doc.backward_worked, _first_weight),
        update_worked=updates,
    )


__all__ = ["DEMO_STYLE", "STYLES", "apply_style", "check_style"]
