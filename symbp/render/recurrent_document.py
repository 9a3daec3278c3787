"""Documents of recurrent networks (issue 29): ``symbp doc`` of a spec with ``recurrent:``.

:func:`build_recurrent` collects a :class:`~.conv_pieces.ConvDocument` (the document model
of networks of layer records) from the exact run (:func:`symbp.symbolic.recurrent_run.
run_recurrent`) and the pieces of one example's BPTT
(:func:`symbp.symbolic.recurrent_parts.bptt_parts`), for the batch's first example:

- the network: the layers table and the network unrolled over time (TikZ / SVG);
- the cell: its formulas as the record writes them, the derived local partials
  (``full``), the recursion;
- the forward pass step by step with numbers (every gate and the cell state of an LSTM)
  and the loss at every step;
- the backward pass (``full``): ``∂E/∂h_t`` at every step, the local term plus the
  recurrent term each with its numbers (under truncation the kept contributions, the
  dropped ones listed and tabled), ``∂E/∂c_t`` for an LSTM, the cell's Jacobians;
- each shared weight's gradient as the sum of its per-step terms (``full``);
- vanishing and exploding gradients: the norms of the products of the Jacobians;
- clipping (``clip_norm``) and the updates table.

Conventions as :mod:`.recurrent_forward` states them (layers and time from 1). The
``tex``, ``html`` and ``md`` templates: ``recurrent_document.tex.j2`` (the conv document's
with the unrolled diagram), and the conv document's HTML and Markdown (whose SVG filter
draws the diagram with its own template).
"""

from __future__ import annotations

from ..spec import Spec
from ..symbolic.recurrent import derive_cell
from ..symbolic.recurrent_parts import BpttParts, bptt_parts
from ..symbolic.recurrent_run import run_recurrent
from .conv_pieces import ConvDocument, Piece, Section, para
from .mathtex import DIGITS
from .record_document import document, refuse_unbuilt, updates_table
from .recurrent_backward import (
    REACH_VALUES,
    clipping_pieces,
    gradient_tables,
    reach_table,
    recursion_pieces,
    vanishing_pieces,
)
from .recurrent_forward import cell_pieces, forward_pieces, loss_table, network_pieces
from .templating import render

__all__ = ["TEMPLATES", "build_recurrent", "render_recurrent"]

#: The templates of a recurrent network's document, by format.
TEMPLATES = {
    "tex": "recurrent_document.tex.j2",
    "html": "conv_document.html.j2",
    "md": "conv_document.md.j2",
}


def _backward(parts: BpttParts, digits: int) -> tuple[Piece, ...]:
    T = len(parts.times)
    intro = (
        f"From the last step back to the first: at step {T} only the loss there counts; at "
        "every earlier step the loss there (the local term) and, through the next step's "
        "cell, everything after it (the recurrent term)."
        if parts.bptt is None
        else f"Truncated BPTT({parts.bptt}): the loss at step t is carried back over at most "
        f"{parts.bptt - 1} Jacobian(s), to step t − {parts.bptt - 1}; ∂E/∂h(t) sums the "
        "contributions of the losses within that reach."
    )
    pieces = [para(intro, True), *recursion_pieces(parts, digits)]
    if parts.bptt is not None and T * parts.size <= REACH_VALUES:
        pieces.append(Piece("table", reach_table(parts, digits), True))
    return tuple(pieces)


def build_recurrent(
    spec: Spec, *, steps: int = 1, digits: int = DIGITS, style: str = "full"
) -> ConvDocument:
    """The document of the recurrent network ``spec`` in ``style``."""
    run = run_recurrent(spec, max(steps, 1))
    first = run.steps[0]
    ex = first.evaluation.examples[0]
    parts = bptt_parts(spec, first)
    layer = spec.network[0]
    d = derive_cell(layer.cell, layer.unit_activation)  # type: ignore[attr-defined]
    batch = (
        f" The batch has {len(first.rows)} sequences: the numbers are its first one's, the "
        "update uses the batch's mean gradient."
        if len(first.rows) > 1
        else ""
    )
    sections = [
        Section("The network", tuple(network_pieces(spec, parts))),
        Section("The cell", tuple(cell_pieces(spec, d))),
        Section(
            "The forward pass",
            (
                para(
                    "Every step with the same weights, h₀ the initial state; each quantity a "
                    "vector over the units j." + batch
                ),
                *forward_pieces(spec, d, parts, ex, digits),
                Piece("table", loss_table(spec, parts, ex, digits, first.rows[0])),
            ),
        ),
        Section("The backward pass through time", _backward(parts, digits)),
        Section(
            "The weight gradients, summed over the steps",
            (
                para(
                    "Each weight is used at every step, so its gradient is the sum of its "
                    "terms at the steps (each from ∂E/∂h(t) of that step).",
                    True,
                ),
                *gradient_tables(parts, ex, digits),
            ),
        ),
        Section("Vanishing and exploding gradients", tuple(vanishing_pieces(parts, digits))),
        Section(
            "Clipping and the update",
            (
                *clipping_pieces(spec.optimizer.clip_norm, first.update, digits),
                updates_table(run.steps, ("W", "U", "b"), _caption, digits),
            ),
        ),
    ]
    title = f"Backpropagation through time in the network {spec.name}"
    return document(spec, title, sections, style)


def _caption(lr: str) -> str:
    return f"The first update by the spec's optimiser (learning rate {lr})"


def render_recurrent(
    spec: Spec,
    *,
    format: str = "tex",
    steps: int = 1,
    digits: int = DIGITS,
    style: str = "full",
    marks: object = None,
    chains: bool = False,
) -> str:
    """The document of the recurrent network ``spec`` as ``tex``, ``html`` or ``md`` text.

    The ``full`` and ``handout`` styles are built; a cloze sheet, verdict marks and
    gradient chains are refused with one line (exit code 2 from the CLI)."""
    refuse_unbuilt(spec, style, marks, chains, "recurrent")
    document = build_recurrent(spec, steps=steps, digits=digits, style=style)
    return render(format, TEMPLATES[format], doc=document)
