"""Three more views of the first backward pass, each with the numbers of example 1.

- :func:`gradient_check_part`: the central difference ``(E(w+h) − E(w−h))/2h``
  of one weight beside its back-propagated gradient ``∂E/∂w``; both losses come
  from the exact engine (:func:`symbp.symbolic.evaluate.evaluate` on the spec with
  the one weight moved by ``±h``, ``h`` = :data:`H`), so the difference that is left
  is the central difference's own ``O(h²)`` error, not rounding.
- :func:`matrix_part`: the matrix form of the recursion worked with numbers:
  the vectors ``δ^l``, the product ``(W^{l+1})ᵀ δ^{l+1}`` with the matrix written
  out, the element-wise product with ``f'(z^l)``, and the outer product
  ``δ^l (a^{l−1})ᵀ`` as a matrix.
- :func:`graph_part`: one neuron as a computational graph of multiply gates
  (``w_k a_k``), an add gate (``+ b``) and an activation gate (``f``): each gate's
  forward value, its local gradients, and, backwards, upstream × local gradient.

The values are the exact evaluation's; the layer-generic formulas these views
restate are in the document's backward pass. Indices are 1-based.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import sympy as sp

from ..symbolic import notation as nt
from ..symbolic.evaluate import evaluate
from .blocks import Aligned, Cell, Row, Table
from .escape import Tex
from .gates import gate_graph, plain_symbol
from .mathtex import number_tex, plain_number, product_tex, tex
from .model import Document, LayerSection, Part, Worked
from .rounding import ROUNDED_NOTE, as_printed, operand_digits
from .worked import _enough, local_derivative, output_names

if TYPE_CHECKING:
    from ..symbolic.derivation import Derivation
    from ..symbolic.evaluate import Evaluation

#: The step of the central difference.
H = sp.Rational(1, 10_000)
#: Significant digits of the two losses and of the quotient in the gradient check.
CHECK_DIGITS = 10
#: Decimal places of the central difference (at most CHECK_DIGITS significant digits).
CHECK_DECIMALS = 10
#: The most significant digits the two losses may carry so that their quotient adds up.
MOST_CHECK_DIGITS = 20
#: Matrices are written out for layers of at most this many neurons.
MAX_MATRIX = 6


def _moved(evaluation: Evaluation, l: int, j: int, k: int, by: sp.Expr):  # type: ignore[no-untyped-def]
    """The spec with weight ``W[l][j][k]`` (0-based) of step 0 moved by ``by``."""
    step = evaluation.steps[0]
    W = tuple(
        tuple(
            tuple(v + by if (m, r, c) == (l, j, k) else v for c, v in enumerate(row))
            for r, row in enumerate(matrix)
        )
        for m, matrix in enumerate(step.W)
    )
    return replace(evaluation.spec, W=W, b=step.b, init=None)


def gradient_check_part(doc: Document, evaluation: Evaluation) -> Part | None:
    """The central difference of the first trainable weight beside ``∂E/∂w``."""
    spec = evaluation.spec
    layers = [l for l in range(spec.depth) if ("W", l) not in spec.frozen]
    if not layers:
        return None
    l, j, k = layers[0], 0, 0
    w = tex(nt.explicit_symbol("w", l + 1, j, k))
    value = evaluation.steps[0].W[l][j][k]
    plus, minus = (
        evaluate(_moved(evaluation, l, j, k, s * H), steps=0, model=evaluation.model).steps[0].loss
        for s in (1, -1)
    )
    quotient = (plus - minus) / (2 * H)
    gradient = evaluation.steps[0].grad_W[l][j][k]
    d = CHECK_DIGITS
    # The quotient adds up as printed: it is shown to CHECK_DECIMALS decimal places
    # (so that the digits a reader redoes are the digits it shows) and the two losses
    # carry the digits it takes, with a margin that keeps it off a rounding boundary.
    size = math.floor(math.log10(abs(float(quotient)))) if quotient != 0 else -1
    shown = min(max(CHECK_DECIMALS + size + 1, 3), d)
    target = as_printed(quotient, shown)
    half_unit = sp.Rational(1, 2) * sp.Rational(10) ** (size - shown + 1)
    n = next(
        (
            n
            for n in range(d, MOST_CHECK_DIGITS + 1)
            if abs((as_printed(plus, n) - as_printed(minus, n)) / (2 * H) - target)
            <= sp.Rational(4, 5) * half_unit
        ),
        None,
    )
    note = None if n is not None else ROUNDED_NOTE
    n = d if n is None else n
    h = number_tex(H, d)
    body = Aligned(
        (
            Row(Tex("h"), h),
            *Aligned.chain(
                Tex(rf"E\left({w} + h\right)"),
                Tex(rf"E\left({number_tex(value + H, d)}\right)"),
                number_tex(plus, n),
            ).rows,
            *Aligned.chain(
                Tex(rf"E\left({w} - h\right)"),
                Tex(rf"E\left({number_tex(value - H, d)}\right)"),
                number_tex(minus, n),
            ).rows,
            *Aligned.chain(
                Tex(r"\text{central difference}"),
                Tex(rf"\frac{{E\left({w} + h\right) - E\left({w} - h\right)}}{{2h}}"),
                Tex(
                    rf"\frac{{{number_tex(plus, n)} - {number_tex(minus, n, paren='negative')}}}"
                    rf"{{{number_tex(2 * H, d)}}}"
                ),
                (number_tex(quotient, shown), note) if note else number_tex(quotient, shown),
            ).rows,
            Row(
                Tex(rf"\frac{{\partial E}}{{\partial {w}}}"),
                number_tex(gradient, d),
                "back-propagation",
            ),
            Row(
                Tex(r"\text{difference}"),
                number_tex(quotient - gradient, 3),
                "of the order of h squared",
            ),
        )
    )
    intro = (
        f"A numerical check of one gradient: the weight is moved by h = {plain_number(H, 6)} "
        "up and down, the cost E is computed again exactly at both points, and the "
        "central difference is set beside the back-propagated gradient."
    )
    item = Worked("The weight", body, w, kind="check")
    return Part("check", "Checking a gradient numerically", intro, (LayerSection(0, "", (item,)),))


def _num(value: sp.Expr) -> sp.Expr:
    """An exact number as it is, anything else to 30 digits."""
    return value if value.is_Rational else sp.N(value, 30)


def _column(values: list[sp.Expr] | tuple[sp.Expr, ...], digits: int) -> str:
    body = r" \\ ".join(number_tex(v, digits) for v in values)
    return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"


def _matrix(rows: list[list[sp.Expr]], digits: int) -> str:
    body = r" \\ ".join(" & ".join(number_tex(v, digits) for v in row) for row in rows)
    return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"


def matrix_part(doc: Document, derivation: Derivation, evaluation: Evaluation) -> Part | None:
    """The matrix form worked with example 1's numbers, output layer first."""
    spec, model, digits = evaluation.spec, derivation.explicit, doc.digits
    if (
        model is None
        or doc.tier != "worked"
        or max(spec.layers) > MAX_MATRIX
        or not all(a.elementwise for a in spec.activations[:-1])
    ):
        return None
    step = evaluation.steps[0]
    ex = step.examples[0]
    values = model.values(step, 0)
    L = spec.depth
    loss = "L_{1}" if len(spec.examples) > 1 else "L"
    sections = []
    for l in range(L, 0, -1):
        delta = ex.delta[l - 1]
        d_l = rf"\boldsymbol{{\delta}}^{{{l}}}"
        rows: list[Row] = []
        out = derivation.generic.layer(L)
        if l == L:
            a_minus_t = out.delta_textbook.rhs - (nt.activation(L)[nt.j] - nt.TARGET[nt.j]) == 0
            if a_minus_t:
                rows += Aligned.chain(
                    Tex(d_l),
                    Tex(rf"\mathbf{{a}}^{{{L}}} - \mathbf{{t}}"),
                    Tex(f"{_column(ex.a[L], digits)} - {_column(spec.examples[0].t, digits)}"),
                    Tex(_column(delta, digits)),
                ).rows
            else:
                rows.append(Row(Tex(d_l), Tex(_column(delta, digits)), "each worked above"))
        else:
            act = spec.activations[l - 1]
            nxt = ex.delta[l]
            Wn = step.W[l]
            back = [
                sp.Add(*(Wn[i][k] * nxt[i] for i in range(len(nxt)))) for k in range(spec.layers[l])
            ]
            f_values = [
                local_derivative(act, model.z[l - 1][k], model.a[l][k]).xreplace(dict(values))
                for k in range(spec.layers[l])
            ]
            transposed = [[Wn[i][k] for i in range(len(nxt))] for k in range(spec.layers[l])]
            product = rf"\left(W^{{{l + 1}}}\right)^{{\top}} \boldsymbol{{\delta}}^{{{l + 1}}}"
            rows += Aligned.chain(
                Tex(product),
                Tex(f"{_matrix(transposed, digits)} {_column(nxt, digits)}"),
                Tex(_column(back, digits)),
            ).rows
            rows += Aligned.chain(
                Tex(rf"{act.label}'\left(\mathbf{{z}}^{{{l}}}\right)"),
                Tex(_column([_num(v) for v in f_values], digits)),
            ).rows
            rows += Aligned.chain(
                Tex(d_l),
                Tex(rf"\left({product}\right) \odot {act.label}'\left(\mathbf{{z}}^{{{l}}}\right)"),
                Tex(
                    rf"{_column(back, digits)} \odot "
                    rf"{_column([_num(v) for v in f_values], digits)}"
                ),
                Tex(_column(delta, digits)),
            ).rows
        prev = r"\mathbf{x}" if l == 1 else rf"\mathbf{{a}}^{{{l - 1}}}"
        a_prev = ex.a[l - 1]
        row = " & ".join(number_tex(v, digits) for v in a_prev)
        rows += Aligned.chain(
            Tex(rf"\nabla_{{W^{{{l}}}}} {loss}"),
            Tex(rf"{d_l} \left({prev}\right)^{{\top}}"),
            Tex(rf"{_column(delta, digits)} \begin{{pmatrix}} {row} \end{{pmatrix}}"),
            Tex(_matrix([list(g) for g in ex.grad_W[l - 1]], digits)),
        ).rows
        kind = "output" if l == L else "hidden"
        sections.append(
            LayerSection(
                l, f"Layer {l} ({kind})", (Worked("", Aligned(tuple(rows)), kind="matrix"),)
            )
        )
    intro = (
        "The same backward pass in matrix form, with the numbers of example 1: each "
        "layer's error vector, the transposed weights times the next layer's error vector, "
        "the element-wise product with the derivatives of the activation, and each "
        "layer's weight gradient as the outer product of its error vector and its input."
    )
    return Part("matrix", "The matrix form with numbers", intro, tuple(sections))


def _graph_neuron(spec) -> int | None:  # type: ignore[no-untyped-def]
    """The layer (1-based) whose first neuron the graph shows: the output layer if its
    activation is element-wise, else the last hidden layer with one."""
    for l in range(spec.depth, 0, -1):
        if spec.activations[l - 1].elementwise:
            return l
    return None


def graph_part(doc: Document, derivation: Derivation, evaluation: Evaluation) -> Part | None:
    """Neuron 1 of one layer as multiply, add and activation gates, with numbers."""
    spec, model, digits = evaluation.spec, derivation.explicit, doc.digits
    l = _graph_neuron(spec)
    if model is None or l is None or spec.layers[l - 1] > MAX_MATRIX:
        return None
    step = evaluation.steps[0]
    ex = step.examples[0]
    values = model.values(step, 0)
    names = output_names(model)
    act = spec.activations[l - 1]
    z_sym, a_sym = model.z[l - 1][0], model.a[l][0]
    z, a, delta = values[z_sym], values[a_sym], ex.delta[l - 1][0]
    f_prime = local_derivative(act, z_sym, a_sym).xreplace(dict(values))
    loss = tex(model.loss_symbol)
    if l == spec.depth:
        upstream = sp.diff(model.loss, a_sym).xreplace(dict(values))
        up_note = "from the loss"
    else:
        nxt = ex.delta[l]
        upstream = sp.Add(*(nxt[i] * step.W[l][i][0] for i in range(len(nxt))))
        up_note = "the back-propagated sum"
    upstream, f_value = _num(upstream), _num(f_prime)
    a_tex, z_tex = tex(a_sym, names=names), tex(z_sym)
    n_in = spec.layers[l - 1]
    header = ("gate", "computes", "value", "local gradient", "upstream", "downstream")
    rows: list[tuple[Cell, ...]] = [
        (
            Cell(Tex(act.label)),
            Cell(Tex(rf"{a_tex} = f\left({z_tex}\right)")),
            Cell(number_tex(a, digits)),
            Cell(number_tex(f_value, digits)),
            Cell(number_tex(upstream, digits)),
            Cell(Tex(rf"\partial {loss} / \partial {z_tex} = {number_tex(delta, digits)}")),
        ),
        (
            Cell(Tex("+")),
            Cell(Tex(rf"{z_tex} = \sum_k p_k + {tex(model.b[l - 1][0])}")),
            Cell(number_tex(z, digits)),
            Cell(Tex("1")),
            Cell(number_tex(delta, digits)),
            Cell(
                Tex(
                    rf"\partial {loss} / \partial {tex(model.b[l - 1][0])} = "
                    rf"{number_tex(ex.grad_b[l - 1][0], digits)}"
                )
            ),
        ),
    ]
    items = []
    for k in range(n_in):
        w_sym, src = model.W[l - 1][0][k], model.a[l - 1][k]
        w, x = values[w_sym], values[src]
        p = f"p_{{{k + 1}}}"
        rows.append(
            (
                Cell(Tex(r"\times")),
                Cell(Tex(rf"{p} = {tex(w_sym)} {tex(src)}")),
                Cell(number_tex(_num(w * x), digits)),
                Cell(number_tex(x, digits)),
                Cell(number_tex(delta, digits)),
                Cell(
                    Tex(
                        rf"\partial {loss} / \partial {tex(w_sym)} = "
                        rf"{number_tex(ex.grad_W[l - 1][0][k], digits)}"
                    )
                ),
            )
        )
    caption = (
        f"Neuron 1 of layer {l} as a computational graph (example 1): each gate's value, "
        "its local gradient (a multiply gate's with respect to its weight), the upstream "
        "gradient it receives and the downstream gradient it passes on"
    )
    table = Table("graph", caption, header, tuple(rows))
    # Each worked line adds up as printed: its operands carry the digits it takes.
    n_delta = _enough(
        operand_digits(lambda n: as_printed(upstream, n) * as_printed(f_value, n), delta, digits),
        digits,
    )

    def grad_digits(k: int) -> int:
        source = values[model.a[l - 1][k]]
        found = operand_digits(
            lambda n: as_printed(delta, n) * as_printed(source, n), ex.grad_W[l - 1][0][k], digits
        )
        return _enough(found, digits)

    n_grads = [grad_digits(k) for k in range(min(n_in, 2))]
    backward = Aligned(
        (
            *Aligned.chain(
                Tex(rf"\frac{{\partial {loss}}}{{\partial {z_tex}}}"),
                (
                    Tex(
                        rf"\frac{{\partial {loss}}}{{\partial {a_tex}}} \cdot "
                        rf"{act.label}'\left({z_tex}\right)"
                    ),
                    f"upstream ({up_note}) times local",
                ),
                product_tex(
                    [
                        number_tex(upstream, n_delta, paren=True),
                        number_tex(f_value, n_delta, paren=True),
                    ],
                    "",
                ),
                number_tex(delta, digits),
            ).rows,
            *(
                row
                for k in range(min(n_in, 2))
                for row in Aligned.chain(
                    Tex(rf"\frac{{\partial {loss}}}{{\partial {tex(model.W[l - 1][0][k])}}}"),
                    (
                        Tex(
                            rf"\frac{{\partial {loss}}}{{\partial {z_tex}}} \cdot 1 \cdot "
                            rf"{tex(model.a[l - 1][k])}"
                        ),
                        "add gate, then multiply gate",
                    ),
                    product_tex(
                        [
                            number_tex(delta, n_grads[k], paren=True),
                            Tex("1"),
                            number_tex(values[model.a[l - 1][k]], n_grads[k], paren=True),
                        ],
                        r" \cdot ",
                    ),
                    number_tex(ex.grad_W[l - 1][0][k], digits),
                ).rows
            ),
        )
    )
    items.append(Worked("Backwards through the gates", backward, kind="graph"))
    intro = (
        f"Neuron 1 of layer {l} as a computational graph: a multiply gate for each input "
        "(the weight times the input), an add gate that sums the products and the bias "
        "into z, and the activation gate a = f(z). The forward pass runs through the gates "
        "left to right; the backward pass right to left, each gate passing on its "
        "upstream gradient times its local gradient. An add gate passes its upstream "
        "gradient on unchanged; a multiply gate multiplies it by the other input. In the "
        "drawing each edge carries its forward value above it and, in red below it, the "
        "gradient of the loss that flows back along it; the add gate passes the same "
        "gradient back to each of its inputs."
    )
    figure = gate_graph(
        inputs=[
            (
                tex(model.a[l - 1][k]),
                plain_symbol("x" if l == 1 else "a", l - 1, k),
                values[model.a[l - 1][k]],
            )
            for k in range(n_in)
        ],
        weights=[values[model.W[l - 1][0][k]] for k in range(n_in)],
        bias=(tex(model.b[l - 1][0]), plain_symbol("b", l, 0), values[model.b[l - 1][0]]),
        z=z,
        activation=(Tex(act.label), act.title),
        output=(a_tex, plain_symbol("a", l, 0), a),
        delta=delta,
        upstream=upstream,
        input_gradients=[_num(delta * values[model.W[l - 1][0][k]]) for k in range(n_in)],
        digits=digits,
    )
    return Part(
        "graph",
        "One neuron as a computational graph",
        intro,
        (LayerSection(0, "", tuple(items), table),),
        figure,
    )


def views(doc: Document, derivation: Derivation, evaluation: Evaluation) -> tuple[Part, ...]:
    """The views a full document adds after the worked gradients."""
    found = (
        matrix_part(doc, derivation, evaluation),
        graph_part(doc, derivation, evaluation),
        gradient_check_part(doc, evaluation) if doc.tier in ("worked", "examples") else None,
    )
    return tuple(p for p in found if p is not None)


__all__ = ["H", "gradient_check_part", "graph_part", "matrix_part", "views"]
