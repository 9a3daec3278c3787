"""The document's tables, in the style of seed 001's figures.

Per weight layer ``l`` (1-based), one row per neuron ``j``: its incoming
weights ``w^l_{j1} … w^l_{jn}``, its bias ``b^l_j`` and its forward values
``z^l_j``, ``a^l_j``; then the same layout for the gradients (with ``δ^l_j``)
and for the updated parameters. Layers wider than :data:`WIDE` inputs switch
to one row per parameter. Every number cell can carry a verdict mark (see
:class:`~symbp.render.blocks.Marks`), keyed in the ``symbp eval --json``
naming: ``W[l-1][j-1][k-1]``, ``z[l-1][j-1]``, ``a[l][j-1]``, ``loss`` …
"""

from __future__ import annotations

import sympy as sp

from ..spec import Spec
from ..symbolic import notation as nt
from ..symbolic.evaluate import Evaluation, Step
from .blocks import Cell, Marks, Table
from .escape import Tex
from .mathtex import number_tex, plain_number, tex

#: Above this many inputs per neuron, parameter tables list one parameter per row.
WIDE = 6
#: The trajectory table shows at most this many outputs.
MAX_OUTPUT_COLUMNS = 6


def _w(l: int, j: int | sp.Symbol, k: int | sp.Symbol) -> Tex:
    """``w^l_{jk}`` with 0-based ``j, k`` shown 1-based (symbols shown as they are)."""
    if isinstance(j, int) and isinstance(k, int):
        return tex(nt.explicit_symbol("w", l, j, k))
    return Tex(rf"w^{{{l}}}_{{{tex(j)}{k + 1 if isinstance(k, int) else tex(k)}}}")


def _sym(kind: str, l: int, j: int) -> Tex:
    return tex(nt.explicit_symbol(kind, l, j))


def _output(spec: Spec, j: int) -> Tex:
    return Tex(r"\hat{y}") if spec.layers[-1] == 1 else Tex(rf"\hat{{y}}_{{{j + 1}}}")


#: Inputs and targets that fit side by side in one row of the data table; wider data
#: is transposed (one row per input, one column per example), so none is cut off.
DATA_COLUMNS = 10


def inputs(spec: Spec, marks: Marks) -> Table:
    """The examples: inputs ``x_k`` and targets ``t_j`` (one row per example, or per
    quantity when there are more than :data:`DATA_COLUMNS` of them)."""
    if spec.layers[0] + spec.layers[-1] > DATA_COLUMNS:
        return _inputs_transposed(spec, marks)
    header = (
        "example",
        *(tex(nt.explicit_symbol("x", 0, k)) for k in range(spec.layers[0])),
        *(tex(nt.explicit_symbol("t", spec.depth, j)) for j in range(spec.layers[-1])),
    )
    rows = tuple(
        (
            Cell(str(e + 1)),
            *(marks.cell(number_tex(v, 6), f"a[0][{k}]", 0) for k, v in enumerate(ex.x)),
            *(Cell(number_tex(v, 6)) for v in ex.t),
        )
        for e, ex in enumerate(spec.examples)
    )
    return Table("inputs", "The training data", header, rows)


def _inputs_transposed(spec: Spec, marks: Marks) -> Table:
    """The examples as columns: a row per input ``x_k``, then a row per target ``t_j``."""
    header = ("", *(f"example {e + 1}" for e in range(len(spec.examples))))
    rows = [
        (
            Cell(tex(nt.explicit_symbol("x", 0, k))),
            *(marks.cell(number_tex(ex.x[k], 6), f"a[0][{k}]", 0) for ex in spec.examples),
        )
        for k in range(spec.layers[0])
    ]
    rows += [
        (
            Cell(tex(nt.explicit_symbol("t", spec.depth, j))),
            *(Cell(number_tex(ex.t[j], 6)) for ex in spec.examples),
        )
        for j in range(spec.layers[-1])
    ]
    caption = "The training data (a column per example)"
    return Table("inputs", caption, header, tuple(rows))


def layer_forward(
    evaluation: Evaluation, l: int, digits: int, marks: Marks, *, weights: bool = True
) -> Table:
    """Weight layer ``l`` (1-based) at step 0: weights, bias, ``z`` and ``a`` per neuron
    (without the weights for a wide layer: its parameter list has them)."""
    spec, step = evaluation.spec, evaluation.steps[0]
    n_in = spec.layers[l - 1] if weights else 0
    out_layer = l == spec.depth
    header = (
        "neuron",
        *(_w(l, sp.Symbol("j"), k) for k in range(n_in)),
        Tex(rf"b^{{{l}}}_{{j}}"),
        Tex(rf"z^{{{l}}}_{{j}}"),
        Tex(rf"a^{{{l}}}_{{j}}" + (r" = \hat{y}_{j}" if out_layer else "")),
    )
    rows = []
    for j in range(spec.layers[l]):
        rows.append(
            (
                Cell(Tex(f"j = {j + 1}")),
                *(
                    marks.cell(number_tex(step.W[l - 1][j][k], digits), f"W[{l - 1}][{j}][{k}]", 0)
                    for k in range(n_in)
                ),
                marks.cell(number_tex(step.b[l - 1][j], digits), f"b[{l - 1}][{j}]", 0),
                marks.cell(number_tex(step.z[l - 1][j], digits), f"z[{l - 1}][{j}]", 0),
                marks.cell(number_tex(step.a[l][j], digits), f"a[{l}][{j}]", 0),
            )
        )
    kind = "output" if out_layer else "hidden"
    caption = (
        f"Layer {l} ({kind}): parameters before training and the forward pass"
        if weights
        else f"Layer {l} ({kind}): every neuron's bias, weighted input and output"
    )
    if len(spec.examples) > 1:
        caption += " (z and a of example 1)"
    return Table(f"forward{l}", caption, header, tuple(rows))


def layer_gradients(
    evaluation: Evaluation, l: int, digits: int, marks: Marks, at: int = 0
) -> Table:
    """Weight layer ``l`` at step ``at``: ``∂E/∂w``, ``∂E/∂b`` and ``δ`` per neuron."""
    spec, step = evaluation.spec, evaluation.steps[at]
    n_in = spec.layers[l - 1]
    header = (
        "neuron",
        *(Tex(rf"\partial E / \partial {_w(l, sp.Symbol('j'), k)}") for k in range(n_in)),
        Tex(rf"\partial E / \partial b^{{{l}}}_{{j}}"),
        Tex(rf"\delta^{{{l}}}_{{j}}"),
    )
    rows = []
    for j in range(spec.layers[l]):
        rows.append(
            (
                Cell(Tex(f"j = {j + 1}")),
                *(
                    marks.cell(
                        number_tex(step.grad_W[l - 1][j][k], digits),
                        f"grad_W[{l - 1}][{j}][{k}]",
                        at,
                    )
                    for k in range(n_in)
                ),
                marks.cell(number_tex(step.grad_b[l - 1][j], digits), f"grad_b[{l - 1}][{j}]", at),
                marks.cell(
                    number_tex(step.examples[0].delta[l - 1][j], digits), f"delta[{l - 1}][{j}]", at
                ),
            )
        )
    caption = f"Layer {l}: gradients of E (step {at})"
    if len(spec.examples) > 1:
        caption += "; δ of example 1"
    return Table(f"gradients{l}", caption, header, tuple(rows))


def _changed_digits(evaluation: Evaluation, l: int, digits: int, update: int = 1) -> int:
    """Digits at which every parameter of layer ``l`` that ``update`` changes prints changed."""
    from .worked import visible_digits

    before, after = evaluation.steps[update - 1], evaluation.steps[update]
    pairs = [
        (before.W[l - 1][j][k], after.W[l - 1][j][k])
        for j in range(len(before.W[l - 1]))
        for k in range(len(before.W[l - 1][j]))
    ] + [(before.b[l - 1][j], after.b[l - 1][j]) for j in range(len(before.b[l - 1]))]
    return visible_digits(pairs, digits)


def layer_updated(
    evaluation: Evaluation, l: int, digits: int, marks: Marks, update: int = 1
) -> Table:
    """Weight layer ``l`` after update ``update`` (1: the first), and the change ``Δθ``
    of each parameter.

    The new values get as many significant digits as it takes for every changed
    parameter to print differently from its old value (at least ``digits``).
    """
    spec, step = evaluation.spec, evaluation.steps[update]
    before = evaluation.steps[update - 1]
    n_in = spec.layers[l - 1]
    shown = _changed_digits(evaluation, l, digits, update)
    header = (
        "neuron",
        *(_w(l, sp.Symbol("j"), k) for k in range(n_in)),
        Tex(rf"b^{{{l}}}_{{j}}"),
    )
    rows = []
    for j in range(spec.layers[l]):
        rows.append(
            (
                Cell(Tex(f"j = {j + 1}")),
                *(
                    marks.cell(
                        number_tex(step.W[l - 1][j][k], shown), f"W[{l - 1}][{j}][{k}]", update
                    )
                    for k in range(n_in)
                ),
                marks.cell(number_tex(step.b[l - 1][j], shown), f"b[{l - 1}][{j}]", update),
            )
        )
        rows.append(
            (
                Cell(Tex(r"\Delta"), kind="change"),
                *(
                    Cell(number_tex(step.W[l - 1][j][k] - before.W[l - 1][j][k], digits))
                    for k in range(n_in)
                ),
                Cell(number_tex(step.b[l - 1][j] - before.b[l - 1][j], digits)),
            )
        )
    frozen = [kind for kind in ("W", "b") if (kind, l - 1) in spec.frozen]
    rate = plain_number(before.learning_rate, 6)
    which = "the first update" if update == 1 else f"update {update}"
    caption = (
        f"Layer {l}: parameters after {which} (learning rate {rate}),"
        " each with its change in the row below"
    )
    if shown > digits:
        caption += f"; new values to {shown} significant digits, so that every change shows"
    if frozen:
        caption += f" ({' and '.join(frozen)} frozen: unchanged)"
    return Table(f"updated{l}" + (f"_{update}" if update > 1 else ""), caption, header, tuple(rows))


def parameter_list(evaluation: Evaluation, l: int, digits: int, marks: Marks) -> Table:
    """Weight layer ``l`` with one row per parameter (for wide layers)."""
    spec = evaluation.spec
    first = evaluation.steps[0]
    after = evaluation.steps[1] if len(evaluation.steps) > 1 else None
    header: tuple[Tex | str, ...] = (
        "parameter",
        "value",
        Tex(r"\partial E / \partial \theta"),
        *(("after update 1",) if after else ()),
    )
    rows = []
    for j in range(spec.layers[l]):
        entries: list[tuple[Tex, str, tuple[str | int, ...]]] = [
            (_w(l, j, k), f"W[{l - 1}][{j}][{k}]", ("W", l - 1, j, k))
            for k in range(spec.layers[l - 1])
        ]
        entries.append((_sym("b", l, j), f"b[{l - 1}][{j}]", ("b", l - 1, j)))
        for symbol, name, key in entries:
            rows.append(
                (
                    Cell(symbol),
                    marks.cell(number_tex(_get(first, key), digits), name, 0),
                    marks.cell(number_tex(_get(first, key, grad=True), digits), "grad_" + name, 0),
                    *(
                        (marks.cell(number_tex(_get(after, key), digits), name, 1),)
                        if after
                        else ()
                    ),
                )
            )
    return Table(f"parameters{l}", f"Layer {l}: parameters and gradients", header, tuple(rows))


def _get(step: Step, key: tuple, grad: bool = False):  # type: ignore[no-untyped-def]
    kind, l, *idx = key
    source = (
        (step.grad_W if kind == "W" else step.grad_b)
        if grad
        else (step.W if kind == "W" else step.b)
    )
    value = source[l]
    for i in idx:
        value = value[i]
    return value


def trajectory(evaluation: Evaluation, digits: int, marks: Marks) -> Table:
    """Loss and outputs over the steps (outputs of example 1).

    With an online or minibatch schedule (``training.batch_size`` below the number of
    examples) each row also says its epoch and which examples the next update uses,
    in order, and the epoch loss where an epoch ends (the mean of its step losses,
    as a training loop prints it).
    """
    spec = evaluation.spec
    L = spec.depth
    n_out = min(spec.layers[-1], MAX_OUTPUT_COLUMNS)
    varying_rate = len({s.learning_rate for s in evaluation.steps}) > 1
    plan = evaluation.plan
    batched = plan is not None and plan.batch < len(spec.examples)
    per_epoch = evaluation.per_epoch
    header = (
        "step",
        *(("epoch", "next update's rows") if batched else ()),
        Tex("E"),
        *(_output(spec, j) for j in range(n_out)),
        *((Tex(r"\eta"),) if varying_rate else ()),
        *(("epoch loss",) if batched else ()),
    )

    def schedule(s: Step) -> tuple[Cell, ...]:
        if not batched:
            return ()
        rows_used = ", ".join(str(r + 1) for r in s.rows)
        return Cell(str(s.epoch + 1)), Cell(rows_used)

    def epoch_loss(s: Step) -> tuple[Cell, ...]:
        if not batched:
            return ()
        ends = s.index > 0 and s.index % per_epoch == 0 and s.epoch_loss is not None
        if not ends:
            return (Cell(""),)
        return (marks.cell(number_tex(s.epoch_loss, digits), "epoch_loss", s.index),)

    rows = tuple(
        (
            Cell(str(s.index)),
            *schedule(s),
            marks.cell(number_tex(s.loss, digits), "loss", s.index),
            *(
                marks.cell(number_tex(s.output[j], digits), f"a[{L}][{j}]", s.index)
                for j in range(n_out)
            ),
            *(
                (marks.cell(number_tex(s.learning_rate, digits), "learning_rate", s.index),)
                if varying_rate
                else ()
            ),
            *epoch_loss(s),
        )
        for s in evaluation.steps
    )
    caption = "The loss and the output over the updates (step t: after t updates)"
    if batched:
        size = plan.batch if plan is not None else 0
        kind = "online" if size == 1 else f"batches of {size}"
        caption += (
            f"; {kind}: E is the loss of the rows the next update uses, the outputs are"
            " example 1's, the epoch loss is the mean of an epoch's step losses"
        )
    if spec.layers[-1] > n_out:
        caption += f"; first {n_out} of {spec.layers[-1]} outputs"
    return Table("trajectory", caption, header, rows)


def layer_structure(spec: Spec) -> Table:
    """One row per layer: size, activation, weight shape and parameter counts."""
    header = (
        "layer",
        Tex("n_l"),
        "activation",
        Tex(r"w^{l}\ \text{shape}"),
        "parameters",
        "trainable",
    )
    rows = [
        (
            Cell("0 (input)"),
            Cell(Tex(str(spec.layers[0]))),
            Cell("-"),
            Cell("-"),
            Cell("-"),
            Cell("-"),
        )
    ]
    for l in range(1, spec.depth + 1):
        n_in, n_out = spec.layers[l - 1], spec.layers[l]
        act = spec.activations[l - 1]
        trainable = (0 if ("W", l - 1) in spec.frozen else n_in * n_out) + (
            0 if ("b", l - 1) in spec.frozen else n_out
        )
        kind = "output" if l == spec.depth else "hidden"
        rows.append(
            (
                Cell(f"{l} ({kind})"),
                Cell(Tex(str(n_out))),
                Cell(act.title if act.source is None else f"f(x) = {act.source}"),
                Cell(Tex(rf"{n_out} \times {n_in}")),
                Cell(Tex(rf"{n_out} \cdot {n_in} + {n_out} = {n_out * n_in + n_out}")),
                Cell(Tex(str(trainable))),
            )
        )
    return Table("structure", "The layers", header, tuple(rows), align="lrlrrr")


def layer_statistics(evaluation: Evaluation, digits: int) -> Table:
    """Per-layer summaries of the forward and backward values (large nets)."""
    step = evaluation.steps[0]
    header = (
        "layer",
        Tex(r"\min_j a^{l}_{j}"),
        Tex(r"\max_j a^{l}_{j}"),
        Tex(r"\max_j |\delta^{l}_{j}|"),
        Tex(r"\lVert \partial E / \partial w^{l} \rVert_{F}"),
        Tex(r"\max |\partial E / \partial w^{l}_{jk}|"),
    )
    rows = []
    for l in range(1, evaluation.spec.depth + 1):
        acts = step.a[l]
        deltas = step.examples[0].delta[l - 1]
        grads = [g for row in step.grad_W[l - 1] for g in row]
        norm = sp.sqrt(sp.Add(*(g**2 for g in grads)))
        rows.append(
            (
                Cell(str(l)),
                Cell(number_tex(min(acts, key=float), digits)),
                Cell(number_tex(max(acts, key=float), digits)),
                Cell(number_tex(max((abs(d) for d in deltas), key=float), digits)),
                Cell(number_tex(norm.evalf(30), digits)),
                Cell(number_tex(max((abs(g) for g in grads), key=float), digits)),
            )
        )
    return Table(
        "statistics", "Per-layer summary of the first step (example 1)", header, tuple(rows)
    )
