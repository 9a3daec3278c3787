"""Document styles: which sections of one document model a document shows.

There is one document model (:func:`symbp.render.model.build`); a style only
selects and condenses its sections, so a handout and its answer key always
carry the same numbers:

- ``full`` (the answer key): everything the model holds;
- ``handout``: the diagram, the training data, the forward pass (one neuron
  per layer worked and the layer tables), the loss, one output-layer weight and
  one hidden-layer weight worked through (the hidden one with its route
  highlighted in the diagram), each with the error signal it reuses, the
  δ/gradient tables, one update worked, the updated parameters and the
  trajectory. The layer table, the notation table, the
  layer-generic forward pass and recursion and the derivatives of the
  activations are left to the answer key. Seed 001's 3-4-1 example fits on four pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SymbpError
from .diagram import rescaled

if TYPE_CHECKING:
    from .blocks import Table
    from .model import Document, LayerSection, Part, Worked

#: The styles, the first the default of ``symbp doc``; ``cloze`` is the handout with
#: chosen numbers blanked (:mod:`.cloze`, applied by :func:`.document.render_document`).
STYLES = ("full", "handout", "cloze")
#: The style of ``symbp demo``'s worked example.
DEMO_STYLE = "handout"
#: The handout draws the network this much smaller.
HANDOUT_SCALE = 0.6


def check_style(style: str) -> str:
    """``style`` if it is one of :data:`STYLES`, else a one-line error."""
    if style not in STYLES:
        raise SymbpError(f"style: expected one of {', '.join(STYLES)}, found {style!r}")
    return style


def _first_weight(items: tuple[Worked, ...]) -> tuple[Worked, ...]:
    """The first worked weight of a layer (the first item when none is a weight)."""
    weights = [item for item in items if item.kind == "w"]
    return tuple(weights[:1] or items[:1])


def _delta_and_weight(items: tuple[Worked, ...]) -> tuple[Worked, ...]:
    """The first neuron's worked error signal and the layer's first worked weight."""
    deltas = [item for item in items if item.kind == "delta"]
    return tuple(deltas[:1]) + _first_weight(items)


def _backward(sections: tuple[LayerSection, ...]) -> tuple[LayerSection, ...]:
    """One δ and one weight per layer; only the deepest layer's weight shows its route
    (the one whose route runs through the whole net)."""
    picked = _one_each(sections, _delta_and_weight)
    return tuple(
        s
        if n == len(picked) - 1
        else replace(s, items=tuple(replace(item, diagram=None) for item in s.items))
        for n, s in enumerate(picked)
    )


def _without_changes(table: Table | None) -> Table | None:
    """The table without its rows of changes Δθ (the worked update shows one)."""
    if table is None:
        return None
    rows = tuple(row for row in table.rows if not (row and row[0].kind == "change"))
    caption = table.caption.replace(", each with its change in the row below", "")
    return replace(table, rows=rows, caption=caption)


def _one_each(
    sections: tuple[LayerSection, ...],
    pick: Callable[[tuple[Worked, ...]], tuple[Worked, ...]],
) -> tuple[LayerSection, ...]:
    """Each section with the items ``pick`` keeps (and without its "as an example" note)."""
    return tuple(replace(s, items=pick(s.items), note=None) for s in sections)


def _handout_parts(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    """The added parts a handout keeps: each further example's loss and tables (it works
    example 1 only) and the batch mean of the worked weight of each layer."""
    out = []
    for part in parts:
        if part.key == "example":
            sections = tuple(
                replace(
                    s,
                    title=s.title.replace("Backward pass, layer", "Layer"),
                    items=tuple(i for i in s.items if i.kind == "loss"),
                )
                for s in part.sections
            )
            intro = (part.intro or "").split(" Its forward pass")[0] + (
                " Its loss and, per layer, its forward and backward values:"
            )
            out.append(
                replace(
                    part, intro=intro, sections=tuple(s for s in sections if s.items or s.table)
                )
            )
        elif part.key == "mean":
            intro = (part.intro or "").replace("(each worked above)", "(tabled above)")
            out.append(replace(part, intro=intro, sections=_one_each(part.sections, _first_weight)))
    return tuple(out)


def apply_style(doc: Document, style: str) -> Document:
    """The sections of ``doc`` that ``style`` shows (``doc`` itself is not changed)."""
    check_style(style)
    if style == "full":
        return replace(doc, style=style)
    if style == "cloze":  # the handout's sections; the blanks come after (:mod:`.cloze`)
        style = "handout"
    updates = doc.update_worked
    # One update worked (the output layer's weight); the tables show the rest.
    updates = tuple(
        replace(
            s,
            items=_first_weight(s.items) if n == 0 else (),
            note=None,
            table=_without_changes(s.table),
        )
        for n, s in enumerate(updates)
    )
    updates = tuple(s for s in updates if s.items or s.table is not None)  # none left empty
    # Without worked numbers the layer-generic derivation is all the handout has to
    # show: it keeps it, so that no section is left empty.
    generic = not doc.backward_worked
    return replace(
        doc,
        style=style,
        diagram=rescaled(doc.diagram, HANDOUT_SCALE),
        forward_general=doc.forward_general if generic else (),
        structure=None,
        notation=(),
        activation_steps=doc.activation_steps if generic else (),
        output_delta=doc.output_delta if generic else None,
        recursion=doc.recursion if generic else (),
        matrix_form=None,
        forward_worked=_one_each(doc.forward_worked, lambda items: items[:1]),
        backward_worked=_backward(doc.backward_worked),
        update_worked=updates,
        after_backward=_handout_parts(doc.after_backward),
        after_update=(),
    )


__all__ = ["DEMO_STYLE", "STYLES", "apply_style", "check_style"]
