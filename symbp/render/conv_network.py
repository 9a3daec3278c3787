"""The first two sections of a conv network's document: the layers and their formulas.

:func:`layers_table` lists each layer's kind, its settings (:func:`settings`, from the
record's fields), its input and output shapes and its parameters; :func:`formulas`
prints the record's forward in index form and the backward the engine derived from it
(:func:`symbp.symbolic.shifted.derive_layer`), as SymPy prints them.
"""

from __future__ import annotations

import sympy as sp

from ..layers import Conv, Dense, Flatten, Pool
from ..layers.base import Layer
from ..spec import Spec
from ..symbolic.network_plan import shapes_of
from ..symbolic.shifted import derive_layer
from .blocks import Cell, Table
from .conv_pieces import Piece, display, shape_text, sup


def settings(layer: Layer) -> str:
    if isinstance(layer, Conv):
        kh, kw = layer.kernel
        return (
            f"{layer.channels} kernels {kh}×{kw}, stride {layer.stride}, "
            f"pad {layer.padding}, {layer.activation.title}"
        )
    if isinstance(layer, Pool):
        return f"{layer.mode} {layer.size}×{layer.size}, stride {layer.stride}"
    if isinstance(layer, Dense) and layer.activation is not None:
        return f"{layer.activation.title}"
    return "order (c, i, j)" if isinstance(layer, Flatten) else ""


def layers_table(spec: Spec) -> Table:
    shapes = shapes_of(spec.input_shape, spec.network)
    rows = []
    for l, layer in enumerate(spec.network):
        params = layer.parameter_shapes(shapes[l])
        what = (
            ", ".join(f"{k.lower()}{sup(l + 1)} {shape_text(s)}" for k, s in params.items())
            or "none"
        )
        rows.append(
            tuple(
                Cell(v)
                for v in (
                    str(l + 1),
                    layer.kind,
                    settings(layer),
                    f"{shape_text(shapes[l])} → {shape_text(shapes[l + 1])}",
                    what,
                )
            )
        )
    return Table(
        "layers",
        "The layers (shapes: channels × height × width, or a vector's length)",
        ("layer", "kind", "settings", "input → output", "parameters"),
        tuple(rows),
        align="lllll",
    )


def formulas(layer: Layer, l: int) -> list[Piece]:
    """The record's forward and the derived backward, as SymPy prints them."""
    d = derive_layer(layer, l)
    out = [display(sp.latex(d.forward.equation), small=True)]
    names = {"W": f"w^{{{l}}}", "b": f"b^{{{l}}}", "input": f"a^{{{l - 1}}}"}
    for name, form in d.gradients.items():
        lhs = sp.latex(sp.IndexedBase(names[name])[tuple(form.index)])
        out.append(
            display(rf"\frac{{\partial L}}{{\partial {lhs}}} = {sp.latex(form.rhs)}", True, True)
        )
    return out
