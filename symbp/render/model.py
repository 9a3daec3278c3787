"""The document model: everything a derivation document shows, built from the symbolic model.

:func:`build` derives the spec (:func:`symbp.symbolic.derivation.derive`),
evaluates its worked example exactly where it has one
(:func:`symbp.symbolic.evaluate.evaluate`) and collects printed formulas and
tables into a :class:`Document`. The templates only lay it out.

How much is written out depends on the size of the net (never a 200-page dump):

- ``worked`` (at most :data:`WORKED_MAX_PARAMS` parameters in at most
  :data:`WORKED_MAX_DEPTH` weight layers): every neuron's
  weighted sum term by term, every parameter's chain of factors with numbers;
- ``examples`` (the explicit view exists, up to 300 parameters): the first
  neuron of each layer and the first weight and bias of each layer as worked
  examples, tables for the rest;
- ``generic`` (larger): the layer-generic formulas, one row per layer, and
  per-layer statistics where the exact evaluation still runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from .. import __version__
from ..ops.symbols import X
from ..spec import Spec
from ..symbolic import notation as nt
from ..symbolic.derivation import Derivation, derive
from ..symbolic.evaluate import MAX_EXACT_PARAMS, Evaluation, evaluate
from ..symbolic.explicit import Chain
from ..symbolic.generic import LayerFormulas
from . import steps as derivative_steps
from . import tables, worked
from .blocks import Aligned, Mark, Marks, Row, Table
from .diagram import Diagram, layout, route
from .escape import Tex
from .gates import GateGraph
from .mathtex import DIGITS, number_tex, plain_number, tex, text_names_in
from .matrix import matrix_form
from .notation import name_map, name_tex, notation_rows, param_sum, text_names

#: Nets with at most this many parameters get every neuron and every chain written out.
WORKED_MAX_PARAMS = 60
#: ... and at most this many weight layers (deeper nets: one worked example per layer).
WORKED_MAX_DEPTH = 3
#: Chains with more paths than this are written through δ instead.
MAX_PATHS = 3
#: Per-neuron tables up to this many parameters; per-layer summaries above.
TABLE_MAX_PARAMS = 300


#: Where the cost's sum of several examples' losses points to (:mod:`.every`).
OTHER_LOSSES = "each further example's loss is worked in its own subsection below"
DELTA_INTRO = (
    "Each layer's error signals come first: the output layer's from the loss, a hidden "
    "neuron's as the back-propagated sum of the next layer's errors times the local "
    "derivative of its activation. Each gradient then reuses the error signal of its "
    "neuron: the weight's is the error times the weight's input, the bias's the error itself."
)
CHAINS_INTRO = (
    "Each layer's error signals are worked first; each gradient is then written as the "
    "product of the local derivatives along the path from the loss to the parameter: "
    "first as derivatives, then as formulas, then with the numbers, then as a value."
)


@dataclass(frozen=True)
class Worked:
    """A worked item: ``title`` (text, then ``math`` if given) and its derivation.

    ``kind`` says what is worked (``w``, ``b``, ``neuron`` or ``""``) so that a
    style can pick items; ``diagram`` is the network with the item's route
    highlighted, where the item is a parameter's gradient.
    """

    title: str
    body: Aligned
    math: Tex | None = None
    kind: str = ""
    diagram: Diagram | None = None


@dataclass(frozen=True)
class LayerSection:
    """The formulas or worked items of one layer (1-based ``layer``)."""

    layer: int
    title: str
    items: tuple[Worked, ...]
    table: Table | None = None
    note: str | None = None


@dataclass(frozen=True)
class Part:
    """A titled run of layer sections added after a main section (:mod:`.every`,
    :mod:`.extras`): a further example, the batch means, a later update, a check.

    ``key`` says what it is (``example``, ``mean``, ``update``, ``check``, ``matrix``,
    ``graph``) so that a style can pick; a section with an empty title has no heading.
    """

    key: str
    title: str
    intro: str | None
    sections: tuple[LayerSection, ...]
    #: A drawing shown after the intro (:class:`.gates.GateGraph`).
    figure: GateGraph | None = None


@dataclass
class Document:
    """The content of one derivation document (see the module docstring)."""

    name: str
    title: str
    source: str | None
    description: str | None
    spec_file: str | None
    spec_hash: str
    version: str
    tier: str
    digits: int
    steps: int
    n_examples: int
    layers: tuple[int, ...]
    n_params: int
    n_trainable: int
    param_sum: Tex
    loss_name: str
    loss_scaling: str
    optimizer: str
    learning_rate: Tex
    has_numbers: bool
    numbers_note: str | None
    structure: Table | None
    notation: tuple[tuple[Tex, str, str], ...]
    diagram: Diagram
    forward_general: tuple[LayerSection, ...]
    activation_steps: tuple[derivative_steps.DerivativeSteps, ...]
    loss_steps: derivative_steps.DerivativeSteps
    loss_general: Aligned
    loss_in_output: Aligned
    output_delta: Aligned | None
    recursion: tuple[LayerSection, ...]
    #: The recursion in matrix form with shapes (:mod:`.matrix`).
    matrix_form: Aligned | None = None
    update_rule: Aligned | None = None
    #: The optimiser's hyper-parameters besides η (``\mu = 0.9``), empty for plain SGD.
    hyperparameters: Tex = field(default_factory=lambda: Tex(""))
    inputs: Table | None = None
    forward_worked: tuple[LayerSection, ...] = ()
    loss_worked: tuple[Worked, ...] = ()
    backward_worked: tuple[LayerSection, ...] = ()
    update_worked: tuple[LayerSection, ...] = ()
    trajectory: Table | None = None
    statistics: Table | None = None
    marks: list[Mark] = field(default_factory=list)
    unplaced_marks: list[Mark] = field(default_factory=list)
    #: The style the templates lay out (:mod:`.styles`); ``full`` shows every section.
    style: str = "full"
    #: The sentence that opens the worked gradients (δ first, or chains of factors).
    gradients_intro: str = ""
    #: The text's own names (spec ``names:``): (name, the document's symbol, quantity).
    text_names: tuple[tuple[Tex, Tex | None, str], ...] = ()
    #: The text's name of each named quantity, in math (``{"W[1][0][0]": "w_{5}"}``).
    name_of: dict[str, Tex] = field(default_factory=dict)
    #: Parts after the worked gradients: further examples, batch means, checks (:mod:`.every`).
    after_backward: tuple[Part, ...] = ()
    #: Parts after the first update: the later updates (:mod:`.every`).
    after_update: tuple[Part, ...] = ()
    #: ``sheet`` or ``key`` for a cloze handout (:mod:`.cloze`), else ``""``.
    cloze: str = ""

    @property
    def matrix_symbols(self) -> tuple[Tex, Tex]:
        """``W^l`` and ``w^l_{jk}``, for the prose that introduces the matrix form."""
        return Tex("W^{l}"), Tex("w^{l}_{jk}")

    @property
    def architecture(self) -> str:
        return "-".join(str(n) for n in self.layers)


def has_numbers(spec: Spec) -> str | None:
    """``None`` when the spec's worked example can be evaluated exactly, else why not."""
    if not spec.examples:
        return "the spec gives no example (x, t), so the document shows the formulas only"
    if spec.W is None and spec.init is None:
        return "the spec gives neither parameters nor an initialiser, so no numbers are shown"
    if spec.n_params > MAX_EXACT_PARAMS:
        return (
            f"exact worked numbers are computed for at most {MAX_EXACT_PARAMS} parameters; "
            f"this net has {spec.n_params}, so the document shows the layer-generic formulas"
        )
    return None


def build(
    spec: Spec,
    *,
    steps: int = 1,
    digits: int = DIGITS,
    marks: Marks | None = None,
    derivation: Derivation | None = None,
    chains: bool = False,
) -> Document:
    """The document model of ``spec`` with ``steps`` updates, numbers to ``digits`` digits.

    Every layer's error signals ``δ`` are worked with their numbers and each
    gradient reuses the ``δ`` it depends on (``∂E/∂w^l_{jk} = δ^l_j a^{l-1}_k``);
    ``chains=True`` writes each gradient as its chain of factors instead where the
    chain has at most :data:`MAX_PATHS` paths (small nets).

    The spec's ``names:`` are printed for their symbols throughout (the text's notation).
    """
    with text_names_in(name_map(spec)):
        doc = _build(spec, steps, digits, marks, derivation, chains)
    doc.text_names = text_names(spec)
    doc.name_of = {quantity: name_tex(name) for name, quantity in spec.names}
    return doc


def _build(
    spec: Spec,
    steps: int,
    digits: int,
    marks: Marks | None,
    derivation: Derivation | None,
    chains: bool = False,
) -> Document:
    marks = marks or Marks()
    derivation = derivation or derive(spec)
    generic = derivation.generic
    why_not = has_numbers(spec)
    evaluation = evaluate(spec, steps=steps, model=generic) if why_not is None else None
    if evaluation is None:
        tier = "generic"
    elif (
        derivation.explicit is not None
        and spec.n_params <= WORKED_MAX_PARAMS
        and spec.depth <= WORKED_MAX_DEPTH
    ):
        tier = "worked"
    elif derivation.explicit is not None:
        tier = "examples"
    else:
        tier = "generic"
    weights = evaluation.steps[0].W if evaluation is not None else None
    biases = evaluation.steps[0].b if evaluation is not None else None
    doc = Document(
        name=spec.name,
        title=spec.title or f"Back-propagation in the network {spec.name}",
        source=spec.source,
        description=spec.description,
        spec_file=Path(spec.path).name if spec.path else None,
        spec_hash=spec.hash,
        version=__version__,
        tier=tier,
        digits=digits,
        steps=steps if evaluation is not None else 0,
        n_examples=len(spec.examples),
        layers=spec.layers,
        n_params=spec.n_params,
        n_trainable=spec.n_trainable,
        param_sum=param_sum(spec),
        loss_name=(
            spec.loss.name.replace("_", " ")
            if spec.loss.source is None
            else f"custom ({spec.loss.source})"
        ),
        loss_scaling=spec.loss.scaling,
        optimizer=spec.optimizer.optimizer.label,
        learning_rate=number_tex(spec.optimizer.learning_rate, 6),
        has_numbers=evaluation is not None,
        numbers_note=why_not,
        structure=tables.layer_structure(spec),
        notation=notation_rows(spec),
        diagram=layout(spec, weights, digits, biases),
        forward_general=(
            LayerSection(
                0,
                "",
                (
                    Worked(
                        "",
                        Aligned(
                            tuple(
                                row
                                for f in generic.layers
                                for row in (
                                    Row(tex(f.z.lhs), tex(f.z.rhs)),
                                    Row(tex(f.a.lhs), tex(f.a.rhs)),
                                )
                            )
                        ),
                    ),
                ),
            ),
        ),
        activation_steps=tuple(derivative_steps.activation_steps(generic)),
        loss_steps=derivative_steps.loss_steps(generic),
        loss_general=Aligned(
            (
                Row(tex(generic.loss.lhs), tex(generic.loss.rhs)),
                Row(tex(generic.cost.lhs), tex(generic.cost.rhs)),
            )
        ),
        loss_in_output=derivative_steps.loss_in_output(generic),
        output_delta=derivative_steps.output_delta(generic),
        recursion=tuple(_recursion(derivation)),
        matrix_form=matrix_form(derivation),
        update_rule=worked.update_rule(evaluation) if evaluation is not None else None,
        hyperparameters=worked.hyperparameters(evaluation) if evaluation is not None else Tex(""),
    )
    if evaluation is not None:
        _numbers(doc, derivation, evaluation, marks, chains)
        doc.gradients_intro = CHAINS_INTRO if chains else DELTA_INTRO
    doc.marks = marks.legend()
    doc.unplaced_marks = marks.unplaced()
    return doc


def _layer_title(spec: Spec, l: int) -> str:
    kind = "output layer" if l == spec.depth else "hidden layer"
    act = spec.activations[l - 1]
    name = act.title if act.source is None else "custom activation"
    n = spec.layers[l]
    return f"Layer {l} ({kind}, {n} neuron{'s' if n != 1 else ''}, {name})"


def _shortest_derivative(f: LayerFormulas) -> sp.Expr:
    """The layer's textbook ``δ`` with a custom activation's ``f'`` in its shortest form."""
    act, z = f.activation, nt.preactivation(f.layer)[nt.j]
    if act.derivative_shortest == act.derivative:
        return f.delta_textbook.rhs
    return f.delta_textbook.rhs.xreplace(
        {act.derivative.xreplace({X: z}): act.derivative_shortest.xreplace({X: z})}
    )


def _recursion(derivation: Derivation) -> list[LayerSection]:
    """Per layer, output first: δ (textbook form) and the two gradient formulas."""
    spec, generic = derivation.spec, derivation.generic
    out = []
    for f in reversed(generic.layers):
        rows = (
            []
            if f.layer == spec.depth
            else [Row(tex(f.delta_textbook.lhs), tex(_shortest_derivative(f)))]
        )
        rows += [
            Row(tex(f.grad_W.lhs), tex(f.grad_W.rhs)),
            Row(tex(f.grad_b.lhs), tex(f.grad_b.rhs)),
        ]
        out.append(
            LayerSection(f.layer, _layer_title(spec, f.layer), (Worked("", Aligned(tuple(rows))),))
        )
    return out


def _numbers(
    doc: Document, derivation: Derivation, evaluation: Evaluation, marks: Marks, chains: bool
) -> None:
    """Fill in the worked numbers and tables (``doc.tier`` says how many)."""
    spec, digits = evaluation.spec, doc.digits
    doc.inputs = tables.inputs(spec, marks)
    doc.trajectory = tables.trajectory(evaluation, digits, marks)
    tabled = spec.n_params <= TABLE_MAX_PARAMS
    model = derivation.explicit
    values = model.values(evaluation.steps[0]) if model is not None else {}
    forward, backward, updates = [], [], []
    for l in range(1, spec.depth + 1):
        n = spec.layers[l]
        wide = spec.layers[l - 1] > tables.WIDE
        shown = range(n) if doc.tier == "worked" else range(min(1, n))
        items: list[Worked] = []
        if model is not None:
            for j in shown:
                z_rows, a_rows = worked.neuron(model, values, l - 1, j, digits)
                items.append(
                    Worked(
                        "Neuron",
                        Aligned(z_rows.rows + a_rows.rows),
                        tex(model.a[l][j], names=worked.output_names(model)),
                        kind="neuron",
                    )
                )
        table = None
        if tabled:  # every neuron's z and a (a wide layer's weights: its parameter list)
            table = tables.layer_forward(evaluation, l, digits, marks, weights=not wide)
        if items or table is not None:  # no section that would be empty
            note = _shown_note(doc.tier, n, "neuron") if items else None
            forward.append(LayerSection(l, _layer_title(spec, l), tuple(items), table, note))
    first_example = evaluation.steps[0].examples[0]
    for l in range(spec.depth, 0, -1):
        items = []
        if model is not None:
            shown = range(spec.layers[l]) if doc.tier == "worked" else range(1)
            items += [_delta_item(derivation, values, first_example, l, j, digits) for j in shown]
            params = [c for c in model.chains.values() if c.layer == l]
            if doc.tier != "worked":
                params = [params[0], next(c for c in params if c.kind == "b")]
            for n, chain in enumerate(params):
                title, math = _param_title(chain)
                body = _gradient(model, chain, values, evaluation, digits, chains)
                # The layer's first worked parameter shows its route through the net.
                path = route(doc.diagram, chain.kind, l, chain.indices) if n == 0 else None
                items.append(Worked(title, body, math, kind=chain.kind, diagram=path))
        table = None
        if tabled:  # a wide layer lists its parameters one a row, with their gradients
            wide = spec.layers[l - 1] > tables.WIDE
            table = (tables.parameter_list if wide else tables.layer_gradients)(
                evaluation, l, digits, marks
            )
        if items or table is not None:
            note = _shown_note(doc.tier, 0, "parameter") if items else None
            backward.append(LayerSection(l, _layer_title(spec, l), tuple(items), table, note))
        if len(evaluation.steps) > 1:
            up_items = []
            if model is not None:
                chosen = [c for c in params if c.kind == "w"][:1] + [
                    c for c in params if c.kind == "b"
                ][:1]
                for chain in chosen:
                    up_items += _update_items(evaluation, chain, digits)
            up_table = None
            if tabled and spec.layers[l - 1] <= tables.WIDE:
                up_table = tables.layer_updated(evaluation, l, digits, marks)
            if up_items or up_table is not None:
                updates.append(LayerSection(l, _layer_title(spec, l), tuple(up_items), up_table))
    doc.forward_worked = tuple(forward)
    doc.backward_worked = tuple(backward)
    doc.update_worked = tuple(updates)
    if model is not None:
        first = model.values(evaluation.steps[0], 0)
        label = nt.COST if len(spec.examples) == 1 else sp.Symbol("L_1")
        doc.loss_worked = (Worked("", worked.loss(model, first, digits, label)),)
        if len(spec.examples) > 1:
            losses = [e.loss for e in evaluation.steps[0].examples]
            mean = " + ".join(number_tex(v, digits) for v in losses)
            doc.loss_worked += (Worked("", Aligned.chain(
                Tex("E"), (Tex(rf"\frac{{1}}{{{len(losses)}}}\left({mean}\right)"), OTHER_LOSSES),
                number_tex(evaluation.steps[0].loss, digits))),)  # fmt: skip
    if not tabled:
        doc.statistics = tables.layer_statistics(evaluation, digits)
    from .every import parts  # every.py builds on this module's records

    doc.after_backward, doc.after_update = parts(doc, derivation, evaluation, marks)


def _shown_note(tier: str, n: int, what: str) -> str | None:
    """What a section that works one example of many says about the rest (its table)."""
    if tier == "worked":
        return None
    return f"As an example, the first {what} of the layer is worked out; the table lists all."


def _param_title(chain: Chain) -> tuple[str, Tex]:
    kind = "The weight" if chain.kind == "w" else "The bias"
    return kind, tex(chain.parameter)


def _delta_item(
    derivation: Derivation, values: dict, example, l: int, j: int, digits: int
) -> Worked:  # type: ignore[no-untyped-def]
    """The error signal ``δ^l_j`` of the first example, worked with its numbers."""
    model = derivation.explicit
    assert model is not None
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


def _gradient(model, chain, values, evaluation: Evaluation, digits: int, chains: bool) -> Aligned:  # type: ignore[no-untyped-def]
    l, idx = chain.layer - 1, chain.indices
    ex = evaluation.steps[0].examples[0]
    gradient = ex.grad_W[l][idx[0]][idx[1]] if chain.kind == "w" else ex.grad_b[l][idx[0]]
    if not chains or len(chain.paths) > MAX_PATHS:
        return worked.delta_form(model, chain, values, ex.delta[l][idx[0]], gradient, digits)
    return worked.chain(model, chain, values, gradient, digits)


def _update_items(evaluation: Evaluation, chain, digits: int) -> list[Worked]:  # type: ignore[no-untyped-def]
    """The first update(s) of one parameter, worked (:func:`.worked.update`)."""
    kind = "W" if chain.kind == "w" else "b"
    l = chain.layer - 1
    frozen = (kind, l) in evaluation.spec.frozen
    worked_updates = worked.update(
        evaluation, chain.parameter, (kind, l, tuple(chain.indices)), digits, frozen=frozen
    )
    title, math = _param_title(chain)
    return [
        Worked(
            title if len(worked_updates) == 1 else f"Update {k} of {title.lower()}",
            body,
            math,
            kind=chain.kind,
        )
        for k, body in worked_updates
    ]


__all__ = ["Document", "build", "has_numbers", "plain_number"]
