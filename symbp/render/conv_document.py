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
:data:`~.conv_pieces.MAX_CHANNELS` are summarised (minimum, maximum, mean per channel).

The parts live in modules of one job each: :mod:`.conv_pieces` (the document model and
the layout of maps, sums and vectors), :mod:`.conv_network` (the layers table and the
derived formulas), :mod:`.conv_forward` and :mod:`.conv_backward` (one presentation per
layer kind); this module puts the sections together and renders them.
"""

from __future__ import annotations

from ..layers import Dense
from ..spec import Spec
from ..symbolic.network_run import run_network
from .conv_backward import backward_pieces
from .conv_forward import forward_pieces
from .conv_network import formulas, layers_table
from .conv_pieces import ConvDocument, Piece, Section, para, shape_text
from .map_diagram import MAX_SQUARES, map_layout
from .mathtex import DIGITS
from .record_document import document, refuse_unbuilt, updates_table
from .templating import render

__all__ = ["TEMPLATES", "ConvDocument", "build_conv", "render_conv"]


def build_conv(
    spec: Spec, *, steps: int = 1, digits: int = DIGITS, style: str = "full"
) -> ConvDocument:
    """The document of ``spec`` (a network of layer records) in ``style``."""
    run = run_network(spec, max(steps, 1))
    first = run.steps[0]
    ex = first.evaluation.examples[0]
    sections = [
        Section(
            "The network",
            (
                para(
                    f"Input {shape_text(spec.input_shape)}; loss: {spec.loss.title}. Layers are "
                    "numbered from 1 as textbooks do: layer 1 has the kernels w¹ and the maps "
                    "z¹ and a¹; a⁰ is the input x."
                ),
                Piece("table", layers_table(spec)),
                para(
                    "The feature maps as stacks of squares (channels × height × width; at "
                    f"most {MAX_SQUARES} squares drawn), the vectors as bars, and on each "
                    "arrow what the layer does:"
                ),
                Piece("diagram", map_layout(spec.input_shape, spec.network)),
            ),
        ),
        Section(
            "The derivation",
            (
                para(
                    "Each layer's forward in index form, and (answer key) the backward the "
                    "engine derived from it by differentiating and collapsing the Kronecker "
                    "deltas of the shifted indices; δ = ∂L/∂z of each layer, reads outside a map "
                    "give 0."
                ),
                *(p for l, layer in enumerate(spec.network, 1) for p in formulas(layer, l)),
            ),
        ),
        Section("The forward pass", tuple(forward_pieces(spec, first, ex, digits))),
        Section(
            "The backward pass",
            tuple(Piece(p.kind, p.content, True) for p in backward_pieces(spec, first, ex, digits)),
        ),
        Section("The update", (updates_table(run.steps, ("W", "b"), _caption, digits),)),
    ]
    return document(spec, f"Back-propagation in the network {spec.name}", sections, style)


def _caption(lr: str) -> str:
    return f"The first update θ ← θ − η ∂E/∂θ, η = {lr}"


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
    kinds = "/".join(dict.fromkeys(l.kind for l in spec.network if not isinstance(l, Dense)))
    refuse_unbuilt(spec, style, marks, chains, kinds)
    document = build_conv(spec, steps=steps, digits=digits, style=style)
    return render(format, TEMPLATES[format], doc=document)
