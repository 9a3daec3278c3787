"""Worked numbers: each formula of the explicit model written with the spec's values.

Everything here prints a definition or chain of :class:`~symbp.symbolic.explicit.
ExplicitModel` three ways — in symbols, with numbers substituted (by the
printer, so the shape of the formula stays), and as the resulting value, which
is always taken from the exact :class:`~symbp.symbolic.evaluate.Evaluation`.
Indices are 1-based as in the textbooks (``w^{2}_{11}`` is ``W[1][0][0]``).

Seed 000's forward pass reads, for one neuron::

    z = (2)(0.1) + (3)(0.5) + (4)(0.9) + (-2) = 5.3 + (-2) = 3.3,   a = σ(3.3) = 0.964
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..ops.optimizers import EPOCH, LR, LR0, THETA, G, K, with_weight_decay
from ..ops.symbols import X
from ..symbolic import notation as nt
from ..symbolic.evaluate import PRECISION, Evaluation
from ..symbolic.explicit import Chain, ExplicitModel
from .blocks import Aligned, Row, only_number
from .escape import Tex
from .mathtex import factor_tex, number_tex, product_tex, tex
from .rounding import ROUNDED_NOTE, as_printed, expression_digits, operand_digits

Values = Mapping[sp.Basic, sp.Expr]


def output_names(model: ExplicitModel) -> dict[sp.Basic, str]:
    """The outputs ``a^L_j`` print as ``\\hat{y}`` (one output) or ``\\hat{y}_j``."""
    outputs = model.a[-1]
    if len(outputs) == 1:
        return {outputs[0]: r"\hat{y}"}
    return {a: rf"\hat{{y}}_{{{j + 1}}}" for j, a in enumerate(outputs)}


def _enough(found: int | None, digits: int) -> int:
    """The digits :mod:`~symbp.render.rounding` found, or ``digits`` where none do."""
    return digits if found is None else found


def _numeric(expr: sp.Expr) -> sp.Expr:
    return expr if expr.is_Rational else expr.evalf(PRECISION)


def _terms(
    model: ExplicitModel, l: int, r: int
) -> tuple[list[tuple[sp.Symbol, sp.Symbol]], sp.Symbol]:
    """The weighted sum of ``z[l][r]`` as (input, weight) pairs in input order, and the bias."""
    definition = model.definitions[model.z[l][r]]
    bias = model.b[l][r]
    order = {w: c for c, w in enumerate(model.W[l][r])}
    pairs = []
    for term in sp.Add.make_args(definition):
        if term == bias:
            continue
        (weight,) = [f for f in sp.Mul.make_args(term) if f in order]
        (source,) = [f for f in sp.Mul.make_args(term) if f != weight]
        pairs.append((source, weight))
    pairs.sort(key=lambda p: order[p[1]])
    return pairs, bias


#: Terms per row when a weighted sum or a loss is written out (longer sums wrap).
SUM_TERMS_PER_ROW = 5
LOSS_TERMS_PER_ROW = 3


def sum_rows(lhs: Tex, stages: list[list[str] | str], per_row: int) -> Aligned:
    """``lhs = stage₁ = stage₂ …`` where a stage given as a list is a sum of terms.

    Long sums wrap after ``per_row`` terms onto continuation rows (``+ …``);
    consecutive identical stages are shown once.
    """
    rows: list[Row] = []
    last = None
    for stage in stages:
        terms = [stage] if isinstance(stage, str) else stage
        key = " + ".join(terms)
        if key == last:
            continue
        last = key
        for n in range(0, len(terms), per_row):
            chunk = " + ".join(terms[n : n + per_row])
            if n == 0:
                rows.append(Row(lhs if not rows else None, Tex(chunk)))
            else:
                rows.append(Row(None, Tex(f"+ {chunk}"), None, Tex("")))
    return Aligned(tuple(rows))


def neuron(
    model: ExplicitModel, values: Values, l: int, r: int, digits: int
) -> tuple[Aligned, Aligned]:
    """Neuron ``r`` of weight layer ``l`` (0-based): its weighted input and its activation."""
    names = output_names(model)
    z, a = model.z[l][r], model.a[l + 1][r]
    pairs, bias = _terms(model, l, r)
    symbolic = [product_tex([tex(s), tex(w)], " ") for s, w in pairs]
    weighted = _numeric(sp.Add(*(values[s] * values[w] for s, w in pairs)))
    # Each line adds up as printed: the sum's operands carry the digits it takes.
    n_sum = _enough(
        operand_digits(
            lambda n: as_printed(weighted, n) + as_printed(values[bias], n), values[z], digits
        ),
        digits,
    )
    n_terms = _enough(
        operand_digits(
            lambda n: sp.Add(
                *(as_printed(values[s], n) * as_printed(values[w], n) for s, w in pairs)
            ),
            weighted,
            n_sum,
        ),
        digits,
    )
    numbers = [
        product_tex(
            [
                number_tex(values[s], n_terms, paren=True),
                number_tex(values[w], n_terms, paren=True),
            ],
            "",
        )
        for s, w in pairs
    ]
    b_value = number_tex(values[bias], n_sum, paren="negative")
    stages: list[list[str] | str] = [[*symbolic, tex(bias)], [*numbers, b_value]]
    if values[bias] != 0:  # ``1.70 + 0 = 1.70`` says nothing: a zero bias goes straight to z
        stages.append([number_tex(weighted, n_sum, paren="negative"), b_value])
    stages.append(number_tex(values[z], digits))
    z_rows = sum_rows(tex(z), stages, SUM_TERMS_PER_ROW)
    act = model.spec.activations[l]
    definition = model.definitions[a]
    n_act = expression_digits(definition, values, values[a], digits)
    shown = _enough(n_act, digits)
    rhs: list[Tex | tuple[Tex, str]] = [
        tex(definition, names=names),
        tex(definition, values=values, digits=shown),
    ]
    if act.elementwise:
        rhs.append(tex(act.formula, values={X: values[z]}, digits=shown))
    value = number_tex(values[a], digits)
    rhs.append(value if n_act is not None else (value, ROUNDED_NOTE))
    a_rows = Aligned.chain(tex(a, names=names), *rhs)
    return z_rows, a_rows


def loss(
    model: ExplicitModel, values: Values, digits: int, symbol: sp.Symbol | None = None
) -> Aligned:
    """The loss of one example: its per-output terms, with numbers, and its value.

    The loss's terms are grouped by the output they involve (in output order),
    so ``n`` outputs give ``n`` terms, wrapped :data:`LOSS_TERMS_PER_ROW` a row.
    """
    names = output_names(model)
    lhs = tex(symbol if symbol is not None else model.loss_symbol)
    outputs = {a: i for i, a in enumerate(model.a[-1])}
    groups: dict[int, list[sp.Expr]] = {}
    for term in sp.Add.make_args(model.loss):
        key = min((outputs[s] for s in term.free_symbols if s in outputs), default=-1)
        groups.setdefault(key, []).append(term)
    terms = [sp.Add(*groups[k]) for k in sorted(groups)]

    def show(term: sp.Expr, **kw: object) -> str:
        return factor_tex(term, **kw) if len(terms) > 1 else tex(term, **kw)  # type: ignore[arg-type]

    # A term that is zero with the numbers (t_j = 0 in cross-entropy) is left out there.
    nonzero = [t for t in terms if t.xreplace(dict(values)) != 0] or terms[:1]
    shown = _enough(
        expression_digits(model.loss, values, values[model.loss_symbol], digits), digits
    )
    return sum_rows(
        lhs,
        [
            [show(t, names=names) for t in terms],
            [show(t, values=values, digits=shown) for t in nonzero],
            number_tex(values[model.loss_symbol], digits),
        ],
        LOSS_TERMS_PER_ROW,
    )


def _path_product(path: tuple, render) -> str:  # type: ignore[no-untyped-def]
    return product_tex([render(f) for f in path])


def chain(
    model: ExplicitModel, chain: Chain, values: Values, gradient: sp.Expr, digits: int
) -> Aligned:
    """One parameter's gradient: chain of factors, their formulas, numbers, value.

    ``gradient`` is the parameter's ``∂L/∂θ`` of this example from the evaluation.
    """
    names = output_names(model)
    lhs = Tex(rf"\frac{{\partial {tex(model.loss_symbol)}}}{{\partial {tex(chain.parameter)}}}")

    def symbolic(f):  # type: ignore[no-untyped-def]
        return Tex(
            rf"\frac{{\partial {tex(f.numerator, names=names)}}}"
            rf"{{\partial {tex(f.denominator, names=names)}}}"
        )

    factor_values = chain_factor_values(chain, values)
    n_factors = _enough(
        operand_digits(
            lambda n: sp.Add(
                *(sp.Mul(*(as_printed(v, n) for v in path)) for path in factor_values)
            ),
            gradient,
            digits,
        ),
        digits,
    )
    n_values = max(
        _enough(
            expression_digits(f.expr, values, _numeric(f.expr.xreplace(dict(values))), n_factors),
            n_factors,
        )
        for path in chain.paths
        for f in path
    )
    stages = [
        lambda f: symbolic(f),
        lambda f: factor_tex(f.expr, names=names),
        lambda f: factor_tex(f.expr, values=values, digits=n_values),
        lambda f: number_tex(_numeric(f.expr.xreplace(dict(values))), n_factors, paren=True),
    ]
    rows: list[Row] = []
    for stage in stages:
        for n, path in enumerate(chain.paths):
            text = _path_product(path, stage)
            rel = Tex("=") if n == 0 else Tex("")  # continuation of a sum over paths
            head = Tex(text if n == 0 else f"+ {text}")
            rows.append(Row(lhs if not rows else None, head, None, rel))
    rows.append(Row(None, number_tex(gradient, digits)))
    return Aligned(_dedupe(rows))


def _dedupe(rows: list[Row]) -> tuple[Row, ...]:
    """``rows`` without repeated steps, nor a bare number followed by the value."""
    out: list[Row] = []
    for row in rows:
        if out and row.lhs is None and row.rhs == out[-1].rhs:
            continue
        if (
            out
            and row.lhs is None
            and out[-1].lhs is None
            and only_number(row.rhs)
            and only_number(out[-1].rhs)
            and out[-1].note is None
        ):
            out[-1] = row  # ``= (-0.257) = -0.257``: the value alone
            continue
        out.append(row)
    return tuple(out)


def chain_factor_values(chain: Chain, values: Values) -> list[list[sp.Expr]]:
    """The numeric value of each factor of each path (for checks and tables)."""
    return [[_numeric(f.expr.xreplace(dict(values))) for f in path] for path in chain.paths]


#: How the optimisers' hyper-parameters and state print (PyTorch's names in the spec).
OPTIMIZER_NAMES: dict[sp.Basic, str] = {
    sp.Symbol("eps", positive=True): r"\epsilon",
    sp.Symbol("momentum", positive=True): r"\mu",
    sp.Symbol("beta1", positive=True): r"\beta_{1}",
    sp.Symbol("beta2", positive=True): r"\beta_{2}",
    sp.Symbol("eta_minus", positive=True): r"\eta^{-}",
    sp.Symbol("eta_plus", positive=True): r"\eta^{+}",
    sp.Symbol("step_min", positive=True): r"\Delta_{\min}",
    sp.Symbol("step_max", positive=True): r"\Delta_{\max}",
    sp.Symbol("m_hat", real=True): r"\hat{m}",
    sp.Symbol("v_hat", real=True): r"\hat{v}",
    sp.Symbol("step", real=True): r"\Delta",
    sp.Symbol("prev", real=True): r"g_{\mathrm{prev}}",
    sp.Symbol("same_sign", real=True): r"s",
    sp.Symbol("g_used", real=True): r"\tilde{g}",
    sp.Symbol("weight_decay", positive=True): r"\lambda",
    LR: r"\eta",
    K: "t",  # the update count (1, 2, ...), as the textbooks name it: k indexes neurons
}


def update_ranks(evaluation: Evaluation) -> dict[sp.Basic, int]:
    """The textbook order of an update rule's symbols (the printer's ``ranks``).

    The optimiser's state and temporaries (every target of its program but θ) come
    first, then the gradient, then the parameter: ``m ← β₁ m + (1 − β₁) g``,
    ``g + λθ``; coefficients lead every product (``(1 − β₁) g``).
    """
    ranks: dict[sp.Basic, int] = {
        target: 0 for target, _ in _program(evaluation) if target != THETA
    }
    ranks[G] = 1
    ranks[THETA] = 2
    return ranks


def _program(evaluation: Evaluation):  # type: ignore[no-untyped-def]
    opt = evaluation.spec.optimizer
    return with_weight_decay(opt.optimizer.program, opt.weight_decay)


def hyperparameters(evaluation: Evaluation) -> Tex:
    """The optimiser's hyper-parameters and weight decay as ``\\mu = 0.9, \\lambda = ...``."""
    opt = evaluation.spec.optimizer
    parts = [
        f"{tex(opt.optimizer.symbol(k), names=OPTIMIZER_NAMES)} = {number_tex(v, 6)}"
        for k, v in opt.options.items()
    ]
    if opt.weight_decay != 0:
        parts.append(rf"\lambda = {number_tex(opt.weight_decay, 6)}")
    return Tex(r",\ ".join(parts))


def update_rule(evaluation: Evaluation) -> Aligned:
    """The optimiser's update program, one assignment per row (``←``).

    Weight decay ``λ`` appears as ``g + λθ``; a schedule other than ``constant``
    gets its rate formula ``η = …`` as the first row.
    """
    opt = evaluation.spec.optimizer
    names = {
        **OPTIMIZER_NAMES,
        THETA: r"\theta",
        G: r"\frac{\partial E}{\partial \theta}",
    }
    ranks = update_ranks(evaluation)
    rows = []
    if opt.schedule.name != "constant":
        rate = opt.schedule.rate.xreplace({LR0: sp.Symbol("eta_0", positive=True)})
        rows.append(Row(Tex(r"\eta"), tex(rate, names={EPOCH: r"\mathrm{epoch}", **names})))
    counted = False
    for target, expr in _decay_named(_program(evaluation), opt.weight_decay):
        note = None
        if K in expr.free_symbols and not counted:
            note, counted = UPDATE_COUNT_NOTE, True
        rows.append(
            Row(
                tex(target, names=names),
                tex(expr, names=names, ranks=ranks),
                note,
                Tex(r"\leftarrow"),
            )
        )
    return Aligned(tuple(rows))


#: What ``t`` in an update rule is (said where it first appears).
UPDATE_COUNT_NOTE = "t = 1, 2, ... counts the updates"


_LAMBDA = sp.Symbol("weight_decay", positive=True)


def _decay_named(program, decay):  # type: ignore[no-untyped-def]
    """The program with the weight decay's number written as ``λ`` (for the formulas)."""
    if decay == 0:
        return program
    return tuple(
        (target, expr.xreplace({decay * THETA: _LAMBDA * THETA})) for target, expr in program
    )


#: Updates worked per parameter: stateful optimisers show a second (its state at work).
UPDATES_WORKED = {"sgd": 1, "gd": 1}


def update(
    evaluation: Evaluation,
    parameter: sp.Symbol,
    position: tuple[str, int, tuple[int, ...]],
    digits: int,
    *,
    frozen: bool = False,
) -> list[tuple[int, Aligned]]:
    """One parameter's first updates ``(k, derivation)``: each assignment of the
    optimiser's program in symbols, with the numbers and as a value, then
    ``Δθ = θ_new − θ``.

    ``position`` is ``("W" | "b", layer (0-based), indices)``. The values come from
    :func:`~symbp.symbolic.updates.trace_element` (the evaluator's program run on this
    element from the evaluation's gradients); the new value must equal the
    evaluation's. Numbers get enough digits that old and new values differ.
    """
    from ..symbolic.updates import trace_element

    opt = evaluation.spec.optimizer
    kind, l, idx = position
    lhs = tex(parameter)
    arrow = Tex(r"\leftarrow")

    def at(step, grad=False):  # type: ignore[no-untyped-def]
        arrays = (
            (step.grad_W if grad else step.W) if kind == "W" else (step.grad_b if grad else step.b)
        )
        value = arrays[l]
        for n in idx:
            value = value[n]
        return value

    steps = evaluation.steps
    if frozen:
        frozen_row = Row(lhs, number_tex(at(steps[-1]), digits), "frozen: never updated", arrow)
        return [(1, Aligned((frozen_row,)))]
    count = min(len(steps) - 1, UPDATES_WORKED.get(opt.optimizer.name, 2))
    traces = trace_element(
        evaluation.spec,
        at(steps[0]),
        [at(steps[k], grad=True) for k in range(count)],
        [steps[k].learning_rate for k in range(count)],
    )
    d_theta = rf"\frac{{\partial E}}{{\partial {lhs}}}"
    names = {**OPTIMIZER_NAMES, THETA: lhs, G: d_theta}
    ranks = update_ranks(evaluation)
    out = []
    for trace in traces:
        old, new = trace.before[THETA], trace.after
        expected = at(steps[trace.k])
        if abs(sp.N(new - expected, 40)) > 1e-40 * max(1, abs(float(expected))):  # pragma: no cover
            raise AssertionError(f"update {trace.k} of {parameter}: the trace disagrees")
        shown = visible_digits([(old, new)], digits)
        env = dict(trace.before)
        rows: list[Row] = []
        for target, expr in _decay_named(_program(evaluation), opt.weight_decay):
            values = {**env, _LAMBDA: opt.weight_decay}
            rows.append(
                Row(tex(target, names=names), tex(expr, names=names, ranks=ranks), None, arrow)
            )
            assigned = dict(trace.assigned)[target]
            n_expr = expression_digits(expr, values, assigned, shown)
            carried = _enough(n_expr, shown)
            rows.append(Row(None, tex(expr, values=values, digits=carried, ranks=ranks)))
            env[target] = assigned
            note = None if n_expr is not None else ROUNDED_NOTE
            rows.append(Row(None, number_tex(env[target], shown), note))
        change = Tex(rf"\Delta {lhs}")
        if old != 0:
            n_diff = max(shown, _difference_digits(new, old, digits))
            difference = f"{number_tex(new, n_diff)} - {number_tex(old, n_diff, paren='negative')}"
            rows.append(Row(change, Tex(difference)))
        rows.append(Row(change if old == 0 else None, number_tex(new - old, digits)))
        out.append((trace.k, Aligned(_dedupe(rows))))
    return out


def _difference_digits(new: sp.Expr, old: sp.Expr, digits: int) -> int:
    """Digits at which ``new - old`` as printed gives the printed change."""
    found = operand_digits(lambda n: as_printed(new, n) - as_printed(old, n), new - old, digits)
    return _enough(found, digits)


def visible_digits(pairs: list[tuple[sp.Expr, sp.Expr]], digits: int, most: int = 12) -> int:
    """The fewest significant digits (at least ``digits``) at which every changed
    ``(old, new)`` pair prints as two different numbers (at most ``most``)."""
    from .mathtex import display_number

    changed = [(a, b) for a, b in pairs if a != b]
    for n in range(digits, most + 1):
        if all(float(display_number(a, n)) != float(display_number(b, n)) for a, b in changed):
            return n
    return most


def delta_form(
    model: ExplicitModel,
    chain: Chain,
    values: Values,
    delta: sp.Expr,
    gradient: sp.Expr,
    digits: int,
) -> Aligned:
    """A gradient through ``δ`` (``∂L/∂w^l_{jk} = δ^l_j a^{l-1}_k``) for chains of many paths."""
    l, (j, *rest) = chain.layer, chain.indices
    lhs = Tex(rf"\frac{{\partial {tex(model.loss_symbol)}}}{{\partial {tex(chain.parameter)}}}")
    d = tex(nt.explicit_symbol("delta", l, j))
    if chain.kind == "b":
        return Aligned.chain(lhs, Tex(d), number_tex(gradient, digits))
    source = model.a[l - 1][rest[0]]
    n = _enough(
        operand_digits(
            lambda n: as_printed(delta, n) * as_printed(values[source], n), gradient, digits
        ),
        digits,
    )
    return Aligned.chain(
        lhs,
        Tex(f"{d} {tex(source)}"),
        product_tex(
            [number_tex(delta, n, paren=True), number_tex(values[source], n, paren=True)],
            "",
        ),
        number_tex(gradient, digits),
    )


def _explicit(expr: sp.Expr, model: ExplicitModel, layer: int, j: int) -> sp.Expr:
    """The index-form ``expr`` of neuron ``j`` (0-based) of ``layer`` in explicit symbols."""
    spec = model.spec
    expr = expr.xreplace({nt.j: sp.Integer(j)})
    expr = expr.xreplace({nt.size(l): sp.Integer(n) for l, n in enumerate(spec.layers)})
    bases = {
        nt.activation(layer).label: model.a[layer],
        nt.preactivation(layer).label: model.z[layer - 1],
        nt.TARGET.label: model.t,
    }

    def one(ix: sp.Indexed) -> sp.Expr:
        row = bases.get(ix.base.label)
        (n,) = ix.indices
        return row[int(n)] if row is not None and n.is_Integer else ix

    return expr.replace(lambda e: isinstance(e, sp.Indexed), one)


def output_delta(
    model: ExplicitModel,
    formula: sp.Expr,
    values: Values,
    delta: sp.Expr,
    j: int,
    digits: int,
    note: str | None = None,
) -> Aligned:
    """``δ^L_j`` of one output neuron: its textbook formula, with numbers, its value.

    ``formula`` is the generic model's ``δ^L_j`` (index form); ``delta`` the value
    from the exact evaluation.
    """
    L = model.spec.depth
    names = output_names(model)
    expr = _explicit(formula, model, L, j)
    shown = tex(expr, names=names)
    first: Tex | tuple[Tex, str] = (shown, note) if note else shown
    carried = _enough(expression_digits(expr, values, delta, digits), digits)
    return Aligned.chain(
        tex(nt.explicit_symbol("delta", L, j)),
        first,
        tex(expr, values=values, digits=carried),
        number_tex(delta, digits),
    )


def local_derivative(activation_record, z: sp.Symbol, a: sp.Symbol) -> sp.Expr:  # type: ignore[no-untyped-def]
    """``f'(z)`` of an element-wise activation, in the output ``a`` where that is the
    textbook form (``a(1 - a)``, ``1 - a²``), else in ``z`` (shortest form)."""
    from ..ops.symbols import A

    if activation_record.derivative_from_output is not None:
        return activation_record.derivative_from_output.xreplace({A: a})
    return activation_record.derivative_shortest.xreplace({X: z})


def hidden_delta(
    model: ExplicitModel,
    values: Values,
    deltas: tuple[tuple[sp.Expr, ...], ...],
    layer: int,
    k: int,
    digits: int,
) -> Aligned:
    """``δ^l_k = (Σ_i δ^{l+1}_i w^{l+1}_{ik}) · f'(z^l_k)`` with numbers (``l`` = ``layer``).

    Three blocks: the back-propagated sum term by term and its value, the local
    derivative from its derived formula with the number substituted, and their
    product. ``deltas[l-1]`` are the exact ``δ^l`` of the example (0-based lists).
    """
    act = model.spec.activations[layer - 1]
    nxt = deltas[layer]
    d_syms = [nt.explicit_symbol("delta", layer + 1, i) for i in range(len(nxt))]
    weights = [model.W[layer][i][k] for i in range(len(nxt))]
    total = _numeric(sp.Add(*(nxt[i] * values[w] for i, w in enumerate(weights))))
    z, a = model.z[layer - 1][k], model.a[layer][k]
    f_prime = local_derivative(act, z, a)
    f_value = _numeric(f_prime.xreplace(dict(values)))
    sum_lhs = Tex(
        rf"\sum_{{i=1}}^{{{len(nxt)}}} \delta^{{{layer + 1}}}_{{i}} w^{{{layer + 1}}}_{{i{k + 1}}}"
        if len(nxt) > 1
        else f"{tex(d_syms[0])} {tex(weights[0])}"
    )
    terms = [product_tex([tex(d), tex(w)], " ") for d, w in zip(d_syms, weights, strict=True)]
    delta = deltas[layer - 1][k]
    # Each line's operands carry the digits it takes to give its result as printed
    # (the product's factors may carry more than the lines that gave them).
    n_product = _enough(
        operand_digits(lambda n: as_printed(total, n) * as_printed(f_value, n), delta, digits),
        digits,
    )
    n_sum = _enough(
        operand_digits(
            lambda n: sp.Add(
                *(
                    as_printed(v, n) * as_printed(values[w], n)
                    for v, w in zip(nxt, weights, strict=True)
                )
            ),
            total,
            digits,
        ),
        digits,
    )
    n_local = _enough(expression_digits(f_prime, values, f_value, digits), digits)
    numbers = [
        product_tex(
            [number_tex(v, n_sum, paren=True), number_tex(values[w], n_sum, paren=True)], ""
        )
        for v, w in zip(nxt, weights, strict=True)
    ]
    stages: list[list[str] | str] = [list(terms), list(numbers), number_tex(total, digits)]
    if len(nxt) == 1:  # one term: δ w = δ w says nothing
        stages = stages[1:]
    rows = list(sum_rows(sum_lhs, stages, SUM_TERMS_PER_ROW).rows)
    f_call = Tex(rf"{act.label}'\left({tex(z)}\right)")
    rows += Aligned.chain(
        f_call,
        tex(f_prime),
        tex(f_prime, values=values, digits=n_local),
        number_tex(f_value, digits),
    ).rows
    d = tex(nt.explicit_symbol("delta", layer, k))
    rows += Aligned.chain(
        d,
        Tex(rf"\left({sum_lhs}\right) \cdot {f_call}"),
        product_tex(
            [number_tex(total, n_product, paren=True), number_tex(f_value, n_product, paren=True)],
            "",
        ),
        number_tex(delta, digits),
    ).rows
    return Aligned(tuple(rows))
