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

from ..ops.optimizers import LR, THETA, G, with_weight_decay
from ..ops.symbols import X
from ..symbolic import notation as nt
from ..symbolic.evaluate import PRECISION, Evaluation
from ..symbolic.explicit import Chain, ExplicitModel
from .blocks import Aligned, Row
from .escape import Tex
from .mathtex import factor_tex, number_tex, product_tex, tex

Values = Mapping[sp.Basic, sp.Expr]


def output_names(model: ExplicitModel) -> dict[sp.Basic, str]:
    """The outputs ``a^L_j`` print as ``\\hat{y}`` (one output) or ``\\hat{y}_j``."""
    outputs = model.a[-1]
    if len(outputs) == 1:
        return {outputs[0]: r"\hat{y}"}
    return {a: rf"\hat{{y}}_{{{j + 1}}}" for j, a in enumerate(outputs)}


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
    numbers = [
        product_tex(
            [number_tex(values[s], digits, paren=True), number_tex(values[w], digits, paren=True)],
            "",
        )
        for s, w in pairs
    ]
    weighted = _numeric(sp.Add(*(values[s] * values[w] for s, w in pairs)))
    b_value = number_tex(values[bias], digits, paren="negative")
    z_rows = sum_rows(
        tex(z),
        [
            [*symbolic, tex(bias)],
            [*numbers, b_value],
            [number_tex(weighted, digits, paren="negative"), b_value],
            number_tex(values[z], digits),
        ],
        SUM_TERMS_PER_ROW,
    )
    act = model.spec.activations[l]
    definition = model.definitions[a]
    rhs: list[Tex] = [tex(definition, names=names), tex(definition, values=values, digits=digits)]
    if act.elementwise:
        rhs.append(tex(act.formula, values={X: values[z]}, digits=digits))
    rhs.append(number_tex(values[a], digits))
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
    return sum_rows(
        lhs,
        [
            [show(t, names=names) for t in terms],
            [show(t, values=values, digits=digits) for t in nonzero],
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

    stages = [
        lambda f: symbolic(f),
        lambda f: factor_tex(f.expr, names=names),
        lambda f: factor_tex(f.expr, values=values, digits=digits),
        lambda f: number_tex(_numeric(f.expr.xreplace(dict(values))), digits, paren=True),
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
    out: list[Row] = []
    for row in rows:
        if out and row.lhs is None and row.rhs == out[-1].rhs:
            continue
        out.append(row)
    return tuple(out)


def chain_factor_values(chain: Chain, values: Values) -> list[list[sp.Expr]]:
    """The numeric value of each factor of each path (for checks and tables)."""
    return [[_numeric(f.expr.xreplace(dict(values))) for f in path] for path in chain.paths]


_HYPER_NAMES = {
    sp.Symbol("eps", positive=True): r"\epsilon",
    sp.Symbol("momentum", positive=True): r"\mu",
}


def update_rule(evaluation: Evaluation) -> Aligned:
    """The optimiser's update program, one assignment per row (``←``)."""
    opt = evaluation.spec.optimizer
    program = with_weight_decay(opt.optimizer.program, opt.weight_decay)
    names = {
        **_HYPER_NAMES,
        THETA: r"\theta",
        G: r"\frac{\partial E}{\partial \theta}",
        LR: r"\eta",
    }
    rows = tuple(
        Row(
            tex(target, names=names),
            tex(expr, names=names, order="rev-lex"),
            None,
            Tex(r"\leftarrow"),
        )
        for target, expr in program
    )
    return Aligned(rows)


def update(
    evaluation: Evaluation,
    parameter: sp.Symbol,
    before: sp.Expr,
    gradient: sp.Expr,
    after: sp.Expr,
    digits: int,
    *,
    frozen: bool = False,
) -> Aligned:
    """One parameter's first update: ``θ ← θ - η ∂E/∂θ = numbers = value``.

    Numbers are substituted where the optimiser's update is one assignment
    without state (plain gradient descent); otherwise the new value follows.
    """
    opt = evaluation.spec.optimizer
    program = with_weight_decay(opt.optimizer.program, opt.weight_decay)
    lr = evaluation.steps[0].learning_rate
    d_theta = rf"\frac{{\partial E}}{{\partial {tex(parameter)}}}"
    names = {**_HYPER_NAMES, THETA: tex(parameter), G: d_theta, LR: r"\eta"}
    lhs = tex(parameter)
    arrow = Tex(r"\leftarrow")
    if frozen:
        return Aligned((Row(lhs, number_tex(after, digits), "frozen: never updated", arrow),))
    rows = []
    if len(program) == 1 and not opt.optimizer.state:
        ((_, expr),) = program
        values = {THETA: before, G: gradient, LR: lr}
        rows.append(Row(lhs, tex(expr, names=names, order="rev-lex"), None, arrow))
        rows.append(Row(None, tex(expr, values=values, digits=digits, order="rev-lex")))
        rows.append(Row(None, number_tex(after, digits)))
    else:
        rows.append(
            Row(lhs, number_tex(after, digits), f"one step of {opt.optimizer.label}", arrow)
        )
    return Aligned(tuple(rows))


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
    return Aligned.chain(
        lhs,
        Tex(f"{d} {tex(source)}"),
        product_tex(
            [number_tex(delta, digits, paren=True), number_tex(values[source], digits, paren=True)],
            "",
        ),
        number_tex(gradient, digits),
    )
