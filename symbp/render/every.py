"""Every example and every update of a document, worked or tabled.

Example 1 and update 1 are worked in the main sections of the document
(:mod:`.model`); this module adds the rest as :class:`~.model.Part` s:

- ``example`` parts, one per further example ``e``: its forward pass, its loss
  ``L_e``, its error signals ``δ`` and the gradients of ``L_e``, worked as for
  example 1 (the same neurons and parameters the document's tier works), and per
  layer a table of ``z``, ``a``, ``δ`` and ``∂L_e/∂θ`` of every neuron (the
  handout keeps only the tables and the loss);
- a ``mean`` part: each gradient of ``E`` as the mean it is over the examples of the
  batch, ``∂E/∂θ = (1/m)(∂L_1/∂θ + … + ∂L_m/∂θ)`` with the numbers;
- ``update`` parts, one per update after the first: the learning rate worked
  where a schedule changes it (``η = η₀ γ^⌊epoch/s⌋`` with the numbers), each
  example's forward and backward values and the loss ``E`` at the parameters the
  update starts from, the gradients of ``E``, and the parameter table after the
  update, so a parameter table follows every update.

Every number comes from the exact evaluation (:mod:`symbp.symbolic.evaluate`);
indices are 1-based as in the rest of the document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from ..ops.optimizers import EPOCH, LR0
from ..symbolic import notation as nt
from ..symbolic.evaluate import Evaluation, Step
from ..symbolic.explicit import Chain, ExplicitModel
from . import tables, worked
from .blocks import Aligned, Cell, Marks, Row, Table
from .escape import Tex
from .mathtex import number_tex, plain_number, product_tex, tex
from .model import TABLE_MAX_PARAMS, Document, LayerSection, Part, Worked
from .views import views

if TYPE_CHECKING:
    from ..symbolic.derivation import Derivation

#: At most this many examples are worked out in full (more are tabled only) ...
MAX_WORKED_EXAMPLES = 8
#: ... and at most this many get their own subsection and tables (per update too);
#: the batch means and the trajectory still cover every example.
MAX_SHOWN_EXAMPLES = 12
#: A batch mean lists every example's gradient up to this many examples.
MAX_MEAN_TERMS = 6


def _vector(values: tuple[sp.Expr, ...] | list[sp.Expr]) -> str:
    return "(" + ", ".join(plain_number(v, 6) for v in values) + ")"


def _loss_symbol(e: int) -> sp.Symbol:
    return sp.Symbol(f"L_{e + 1}")


def _grad_lhs(loss: str, parameter: sp.Symbol) -> Tex:
    return Tex(rf"\frac{{\partial {loss}}}{{\partial {tex(parameter)}}}")


def _gradient_item(
    model: ExplicitModel, chain: Chain, values: dict, example, e: int, digits: int
) -> Worked:  # type: ignore[no-untyped-def]
    """``∂L_e/∂θ = δ a = (δ)(a) = value`` of example ``e`` (0-based)."""
    l, (j, *rest) = chain.layer, chain.indices
    lhs = _grad_lhs(tex(_loss_symbol(e)), chain.parameter)
    d = tex(nt.explicit_symbol("delta", l, j))
    delta = example.delta[l - 1][j]
    if chain.kind == "b":
        body = Aligned.chain(lhs, Tex(d), number_tex(example.grad_b[l - 1][j], digits))
    else:
        source = model.a[l - 1][rest[0]]
        body = Aligned.chain(
            lhs,
            Tex(f"{d} {tex(source)}"),
            product_tex(
                [
                    number_tex(delta, digits, paren=True),
                    number_tex(values[source], digits, paren=True),
                ],
                "",
            ),
            number_tex(example.grad_W[l - 1][j][rest[0]], digits),
        )
    title = "The weight" if chain.kind == "w" else "The bias"
    return Worked(title, body, tex(chain.parameter), kind=chain.kind)


def example_table(
    evaluation: Evaluation, l: int, e: int, digits: int, at: int = 0, marks: Marks | None = None
) -> Table:
    """Layer ``l`` for example ``e`` (0-based) at step ``at``: per neuron ``z``, ``a``,
    ``δ`` and the gradients of the example's loss ``L_e`` (layers of more than
    :data:`~.tables.WIDE` inputs: ``z``, ``a`` and ``δ`` only)."""
    spec = evaluation.spec
    ex = evaluation.steps[at].examples[e]
    n_in = spec.layers[l - 1] if spec.layers[l - 1] <= tables.WIDE else -1
    loss = tex(_loss_symbol(e))
    header = (
        "neuron",
        Tex(rf"z^{{{l}}}_{{j}}"),
        Tex(rf"a^{{{l}}}_{{j}}"),
        Tex(rf"\delta^{{{l}}}_{{j}}"),
        *(Tex(rf"\partial {loss} / \partial w^{{{l}}}_{{j{k + 1}}}") for k in range(n_in)),
        *((Tex(rf"\partial {loss} / \partial b^{{{l}}}_{{j}}"),) if n_in >= 0 else ()),
    )

    def cell(value: sp.Expr, name: str) -> Cell:
        # Example 1's z, a and δ carry the eval --json names (marks, cloze).
        if e == 0 and marks is not None and name:
            return marks.cell(number_tex(value, digits), name, at)
        return Cell(number_tex(value, digits))

    rows = tuple(
        (
            Cell(Tex(f"j = {j + 1}")),
            cell(ex.z[l - 1][j], f"z[{l - 1}][{j}]"),
            cell(ex.a[l][j], f"a[{l}][{j}]"),
            cell(ex.delta[l - 1][j], f"delta[{l - 1}][{j}]"),
            *(Cell(number_tex(ex.grad_W[l - 1][j][k], digits)) for k in range(n_in)),
            *((Cell(number_tex(ex.grad_b[l - 1][j], digits)),) if n_in >= 0 else ()),
        )
        for j in range(spec.layers[l])
    )
    kind = "output" if l == spec.depth else "hidden"
    caption = f"Example {e + 1}, layer {l} ({kind})"
    if at:
        caption += f", at step {at}"
    caption += f": the forward and backward values; its loss {plain_number(ex.loss, digits)}"
    return Table(f"example{e + 1}_{l}_{at}", caption, header, rows)


def _shown(tier: str, n: int) -> range:
    return range(n) if tier == "worked" else range(min(1, n))


def _chains(model: ExplicitModel, tier: str, l: int) -> list[Chain]:
    params = [c for c in model.chains.values() if c.layer == l]
    if tier != "worked":
        params = [params[0], next(c for c in params if c.kind == "b")]
    return params


def example_part(doc: Document, derivation: Derivation, evaluation: Evaluation, e: int) -> Part:
    """Example ``e`` (0-based, not the first) worked as example 1 is, with its tables."""
    spec, digits, model = evaluation.spec, doc.digits, derivation.explicit
    step = evaluation.steps[0]
    ex = step.examples[e]
    worked_out = model is not None and e < MAX_WORKED_EXAMPLES
    sections: list[LayerSection] = []
    values = model.values(step, e) if model is not None else {}
    for l in range(1, spec.depth + 1):
        items: list[Worked] = []
        if worked_out:
            assert model is not None
            for j in _shown(doc.tier, spec.layers[l]):
                z_rows, a_rows = worked.neuron(model, values, l - 1, j, digits)
                items.append(
                    Worked(
                        "Neuron",
                        Aligned(z_rows.rows + a_rows.rows),
                        tex(model.a[l][j], names=worked.output_names(model)),
                        kind="neuron",
                    )
                )
            sections.append(LayerSection(l, f"Forward pass, layer {l}", tuple(items)))
    if model is not None:
        body = worked.loss(model, values, digits, _loss_symbol(e))
        sections.append(LayerSection(0, "Its loss", (Worked("", body, kind="loss"),)))
    for l in range(spec.depth, 0, -1):
        items = []
        if worked_out:
            assert model is not None
            for j in _shown(doc.tier, spec.layers[l]):
                items.append(_delta(derivation, model, values, ex, l, j, digits))
            items += [
                _gradient_item(model, c, values, ex, e, digits) for c in _chains(model, doc.tier, l)
            ]
        table = None
        if spec.layers[l - 1] <= tables.WIDE:
            table = example_table(evaluation, l, e, digits)
        sections.append(LayerSection(l, f"Backward pass, layer {l}", tuple(items), table))
    x, t = spec.examples[e].x, spec.examples[e].t
    intro = (
        f"Example {e + 1} has the input x = {_vector(x)} and the target t = {_vector(t)}. "
        "Its forward pass, its loss, its error signals and the gradients of its loss are "
        "worked as for example 1; the symbols z, a, ŷ and δ here stand for example "
        f"{e + 1}'s values."
    )
    return Part(
        "example", f"Example {e + 1}", intro, tuple(s for s in sections if s.items or s.table)
    )


def _delta(derivation, model, values, example, l: int, j: int, digits: int) -> Worked:  # type: ignore[no-untyped-def]
    symbol = nt.explicit_symbol("delta", l, j)
    if l == model.spec.depth:
        layer = derivation.generic.layer(l)
        note = "; ".join(f"assuming {a}" for a in layer.assumptions) or None
        body = worked.output_delta(
            model, layer.delta_textbook.rhs, values, example.delta[l - 1][j], j, digits, note
        )
    else:
        body = worked.hidden_delta(model, values, example.delta, l, j, digits)
    return Worked("The error signal", body, tex(symbol), kind="delta")


def _rows(evaluation: Evaluation, at: int) -> tuple[int, ...]:
    step = evaluation.steps[at]
    return step.rows or tuple(range(len(evaluation.spec.examples)))


def mean_item(step: Step, rows: tuple[int, ...], chain: Chain, digits: int) -> Aligned:
    """``∂E/∂θ = (1/m)(∂L_1/∂θ + … ) = (1/m)((g_1) + …) = value`` over the batch ``rows``."""
    l, idx = chain.layer - 1, chain.indices

    def grad(ex) -> sp.Expr:  # type: ignore[no-untyped-def]
        return ex.grad_W[l][idx[0]][idx[1]] if chain.kind == "w" else ex.grad_b[l][idx[0]]

    m = len(rows)
    total = step.grad_W[l][idx[0]][idx[1]] if chain.kind == "w" else step.grad_b[l][idx[0]]
    lhs = _grad_lhs("E", chain.parameter)
    half = rf"\frac{{1}}{{{m}}}"
    if m <= MAX_MEAN_TERMS:
        symbols = " + ".join(_grad_lhs(tex(_loss_symbol(r)), chain.parameter) for r in rows)
        numbers = " + ".join(
            number_tex(grad(step.examples[r]), digits, paren="negative") for r in rows
        )
        return Aligned.chain(
            lhs,
            Tex(rf"{half}\left({symbols}\right)"),
            Tex(rf"{half}\left({numbers}\right)"),
            number_tex(total, digits),
        )
    summed = sp.Add(*(grad(step.examples[r]) for r in rows))
    return Aligned.chain(
        lhs,
        Tex(rf"{half}\sum_{{e}} \frac{{\partial L_{{e}}}}{{\partial {tex(chain.parameter)}}}"),
        (
            Tex(rf"{half} \cdot {number_tex(summed, digits, paren='negative')}"),
            f"the sum over the {m} examples",
        ),
        number_tex(total, digits),
    )


def mean_part(doc: Document, derivation: Derivation, evaluation: Evaluation) -> Part | None:
    """Each worked gradient of ``E`` as the mean over the batch of the first update."""
    model = derivation.explicit
    rows = _rows(evaluation, 0)
    if model is None or len(rows) < 2:
        return None
    step = evaluation.steps[0]
    sections = []
    for l in range(evaluation.spec.depth, 0, -1):
        items = tuple(
            Worked(
                "The weight" if c.kind == "w" else "The bias",
                mean_item(step, rows, c, doc.digits),
                tex(c.parameter),
                kind=c.kind,
            )
            for c in _chains(model, doc.tier, l)
        )
        sections.append(LayerSection(l, f"Layer {l}", items))
    intro = (
        f"The cost E is the mean of the losses of the {len(rows)} examples, so each gradient "
        "of E is the mean of the examples' gradients (each worked above):"
    )
    if len(rows) > MAX_WORKED_EXAMPLES:
        intro = intro.replace(" (each worked above)", "")
    if len(evaluation.spec.examples) > MAX_SHOWN_EXAMPLES:
        intro = intro.rstrip(":") + (
            f"; the first {MAX_SHOWN_EXAMPLES} examples have their own subsections above,"
            " the sums are over all of them:"
        )
    return Part("mean", "The gradients of E: means over the examples", intro, tuple(sections))


def rate_item(evaluation: Evaluation, at: int, digits: int) -> Worked | None:
    """The schedule's ``η`` of update ``at + 1`` worked with its numbers, where it changes."""
    opt = evaluation.spec.optimizer
    step = evaluation.steps[at]
    if opt.schedule.name == "constant" or (
        at > 0 and evaluation.steps[at - 1].learning_rate == step.learning_rate
    ):
        return None
    rate = opt.schedule.rate
    constants = {
        s: opt.schedule_options[s.name]
        for s in rate.free_symbols
        if s.name in opt.schedule_options and opt.schedule_options[s.name] is not None
    }
    # The names of the update rule's row of the schedule (:func:`.worked.update_rule`).
    symbolic = tex(rate, names={EPOCH: r"\mathrm{epoch}", LR0: r"\eta_{0}"})
    numbers = {LR0: opt.learning_rate, EPOCH: sp.Integer(step.epoch), **constants}
    shown = _unevaluated(rate, numbers)
    body = Aligned.chain(
        Tex(r"\eta"),
        symbolic,
        (shown, f"epoch {step.epoch}, update {at + 1}"),
        number_tex(step.learning_rate, digits),
    )
    return Worked("The learning rate", body, kind="rate")


def _unevaluated(rate: sp.Expr, numbers: dict) -> Tex:  # type: ignore[type-arg]
    """``rate`` with the numbers put in but nothing evaluated (``0.5 · 0.5^⌊2/2⌋``)."""
    dummies = {s: sp.Symbol(f"N{n}") for n, s in enumerate(sorted(numbers, key=str))}
    names = {dummies[s]: plain_number(v, 6) for s, v in numbers.items()}
    expr = rate.xreplace(dummies)
    text = tex(expr, names=names)
    return Tex(text.replace(r"\frac", r"\tfrac"))


def update_part(doc: Document, evaluation: Evaluation, at: int, marks: Marks) -> Part:
    """Update ``at + 1`` (``at`` ≥ 1): η, the values at step ``at``, ``E`` and the tables."""
    spec, digits = evaluation.spec, doc.digits
    step = evaluation.steps[at]
    rows = _rows(evaluation, at)
    sections: list[LayerSection] = []
    item = rate_item(evaluation, at, digits)
    if item is not None:
        sections.append(LayerSection(0, "", (item,)))
    for r in rows[:MAX_SHOWN_EXAMPLES]:
        sections.append(
            LayerSection(
                0,
                f"Example {r + 1}" if len(rows) > 1 else "",
                (),
                None,
            )
        )
        for l in range(spec.depth, 0, -1):
            sections.append(
                LayerSection(0, "", (), example_table(evaluation, l, r, digits, at, marks))
            )
    losses = [step.examples[r].loss for r in rows]
    if len(rows) > 1:
        terms = " + ".join(number_tex(v, digits) for v in losses[:MAX_MEAN_TERMS])
        if len(rows) > MAX_MEAN_TERMS:
            terms += r" + \dots"
        body = Aligned.chain(
            Tex("E"),
            Tex(rf"\frac{{1}}{{{len(rows)}}}\left({terms}\right)"),
            number_tex(step.loss, digits),
        )
    else:
        body = Aligned((Row(Tex("E"), number_tex(step.loss, digits)),))
    sections.append(
        LayerSection(0, "", (Worked("The cost at these parameters", body, kind="loss"),))
    )
    for l in range(spec.depth, 0, -1):
        if spec.layers[l - 1] > tables.WIDE:
            sections.append(LayerSection(0, "", (), parameter_list(evaluation, l, digits, at)))
            continue
        if len(rows) > 1:
            grads = tables.layer_gradients(evaluation, l, digits, marks, at)
            sections.append(LayerSection(0, "", (), grads))
        updated = tables.layer_updated(evaluation, l, digits, marks, at + 1)
        sections.append(LayerSection(0, "", (), updated))
    intro = (
        f"Update {at + 1} starts from the parameters after update {at} (the table of "
        f"update {at}) and repeats the forward pass, the loss and the backward pass, "
        f"tabled here, before the {doc.optimizer} update; the tables of the parameters "
        f"after update {at + 1} close it."
    )
    if len(rows) > MAX_SHOWN_EXAMPLES:
        intro += f" The first {MAX_SHOWN_EXAMPLES} of the {len(rows)} examples are tabled."
    return Part(
        "update",
        f"Update {at + 1}",
        intro,
        tuple(s for s in sections if s.items or s.table or s.title),
    )


def parameter_list(evaluation: Evaluation, l: int, digits: int, at: int) -> Table:
    """Layer ``l`` one parameter a row (wide layers): its value at step ``at``, the
    gradient of ``E`` there and its value after update ``at + 1``."""
    spec = evaluation.spec
    before, after = evaluation.steps[at], evaluation.steps[at + 1]
    header = ("parameter", f"after update {at}", Tex(r"\partial E / \partial \theta"),
              f"after update {at + 1}")  # fmt: skip
    rows = []
    for j in range(spec.layers[l]):
        for k in range(spec.layers[l - 1]):
            rows.append(
                (
                    Cell(tex(nt.explicit_symbol("w", l, j, k))),
                    Cell(number_tex(before.W[l - 1][j][k], digits)),
                    Cell(number_tex(before.grad_W[l - 1][j][k], digits)),
                    Cell(number_tex(after.W[l - 1][j][k], digits)),
                )
            )
        rows.append(
            (
                Cell(tex(nt.explicit_symbol("b", l, j))),
                Cell(number_tex(before.b[l - 1][j], digits)),
                Cell(number_tex(before.grad_b[l - 1][j], digits)),
                Cell(number_tex(after.b[l - 1][j], digits)),
            )
        )
    # Not "Layer l: parameters and gradients …": that is the first update's table's
    # caption, which a reader (or pdftotext) would find in this one too.
    caption = f"Layer {l} at step {at}: parameters and gradients, and after update {at + 1}"
    return Table(f"parameters{l}_{at + 1}", caption, header, tuple(rows))


def parts(
    doc: Document, derivation: Derivation, evaluation: Evaluation, marks: Marks
) -> tuple[tuple[Part, ...], tuple[Part, ...]]:
    """The parts after the worked gradients (further examples, batch means, the views
    of :mod:`.views`) and after the first update (the later updates)."""
    after_backward: list[Part] = [
        example_part(doc, derivation, evaluation, e)
        for e in range(1, min(len(evaluation.spec.examples), MAX_SHOWN_EXAMPLES))
    ]
    mean = mean_part(doc, derivation, evaluation)
    if mean is not None:
        after_backward.append(mean)
    after_backward += views(doc, derivation, evaluation)
    after_update = [
        update_part(doc, evaluation, at, marks)
        for at in range(1, len(evaluation.steps) - 1)
        if evaluation.spec.n_params <= TABLE_MAX_PARAMS
    ]
    return tuple(after_backward), tuple(after_update)


__all__ = [
    "example_part",
    "example_table",
    "mean_item",
    "mean_part",
    "parts",
    "rate_item",
    "update_part",
]
