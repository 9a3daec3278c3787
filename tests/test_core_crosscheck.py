"""Cross-checks of the two symbolic views against SymPy and each other (issue 2).

For every catalogue spec, at random rational points (parameters, inputs, targets):

- the explicit view's chain of factors for each parameter, composed down to
  w, b, x, t, equals ``sympy.diff`` of the fully composed loss;
- it also equals ``sympy.diff`` of the loss written with each activation's
  defining formula (so the textbook derivatives in ``fdiff`` are checked too);
- the exact evaluator, which instantiates the layer-generic formulas, gives the
  same loss and gradients, exactly where the values are rational and to at least
  40 significant digits otherwise.
"""

from __future__ import annotations

import random
import zlib
from fractions import Fraction

import catalog
import pytest
import sympy as sp

import symbp
from symbp.symbolic.evaluate import evaluate
from symbp.symbolic.explicit import derive_explicit

DIGITS = 40
#: Random points per catalogue spec.
POINTS = 2
#: Entries whose values must stay rational (no exp/log/tanh anywhere).
RATIONAL = {
    "identity_half_sse",
    "relu_sse",
    "leaky_relu_mae",
    "formula_max_min",
    "formula_softsign_cubic",
    "formula_loss_quartic",
}
#: Entries whose optimiser settings do not matter for gradients (tested elsewhere).
SKIP = {"momentum", "nesterov", "adam", "rprop", "schedule_exponential", "schedule_step"}


def number(expr: sp.Expr) -> sp.Expr:
    """A value as an exact Rational where it is one, else with 80 digits."""
    if expr.is_Rational:
        return expr
    value = sp.N(expr, 80)
    assert value.is_number and value.is_real, f"not a real number: {expr} -> {value}"
    return value


def assert_same(a: sp.Expr, b: sp.Expr, what: str, exact: bool = False) -> None:
    """``a == b`` exactly where both are rational, else to DIGITS significant digits."""
    if exact or (a.is_Rational and b.is_Rational):
        assert a.is_Rational and b.is_Rational, f"{what}: not exact: {a!r} vs {b!r}"
        assert a == b, f"{what}: {a} != {b}"
        return
    scale = max(abs(a), abs(b), sp.Rational(1, 10**5))
    assert abs(a - b) <= scale * sp.Rational(1, 10**DIGITS), f"{what}: {a} != {b}"


def _point(name: str, n: int) -> symbp.Spec:
    rng = random.Random(zlib.crc32(f"{name}/{n}".encode()))
    return symbp.load(catalog.with_numbers(catalog.spec(name), rng))


def _live_point(name: str, n: int) -> symbp.Spec:
    """The first random point (from draw ``n`` on) where no layer's gradient is all zero.

    Relu nets at random points can have a whole dead layer; comparing zeros with
    zeros would prove nothing, so such draws are skipped (deterministically).
    """
    for attempt in range(50):
        spec = _point(name, n + attempt * POINTS)
        step = evaluate(spec, 0).steps[0]
        if all(any(v != 0 for row in g for v in row) for g in step.grad_W):
            return spec
    raise AssertionError(f"{name}: no draw with live gradients in every layer")


def _symbol_values(model, spec: symbp.Spec, example: int) -> dict[sp.Symbol, sp.Expr]:
    values: dict[sp.Symbol, sp.Expr] = {}
    for l, matrix in enumerate(model.W):
        for r, row in enumerate(matrix):
            values.update({s: spec.W[l][r][c] for c, s in enumerate(row)})
        values.update({s: spec.b[l][r] for r, s in enumerate(model.b[l])})
    ex = spec.examples[example]
    values.update(dict(zip(model.x, ex.x, strict=True)))
    values.update(dict(zip(model.t, ex.t, strict=True)))
    return values


def _location(model, parameter: sp.Symbol) -> tuple[str, tuple[int, ...]]:
    chain = model.chains[parameter]
    return chain.kind, (chain.layer - 1, *chain.indices)


CASES = [(name, n) for name in catalog.names() if name not in SKIP for n in range(POINTS)]


@pytest.mark.parametrize(("name", "point"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_explicit_diff_and_generic_agree(name: str, point: int) -> None:
    spec = _live_point(name, point)
    model = derive_explicit(spec)
    evaluation = evaluate(spec, 0)
    step = evaluation.steps[0]
    composed = model.composed_loss()
    by_formula = composed.rewrite("formula")
    exact = name in RATIONAL
    nonzero_layers: set[int] = set()
    for e in range(len(spec.examples)):
        values = _symbol_values(model, spec, e)
        got = step.examples[e]
        assert_same(got.loss, number(composed.xreplace(values)), f"{name} loss", exact)
        for parameter in model.parameters:
            kind, (l, *idx) = _location(model, parameter)
            chain = number(model.composed(model.chains[parameter].expr).xreplace(values))
            diff = number(sp.diff(composed, parameter).xreplace(values))
            by_def = number(sp.diff(by_formula, parameter).xreplace(values))
            generic = got.grad_W[l][idx[0]][idx[1]] if kind == "w" else got.grad_b[l][idx[0]]
            where = f"{name} point {point} example {e} d/d{parameter}"
            assert_same(chain, diff, where + " chain vs diff", exact)
            assert_same(by_def, diff, where + " formula vs fdiff", exact)
            assert_same(generic, diff, where + " generic vs diff", exact)
            if diff != 0:
                nonzero_layers.add(l)
    assert nonzero_layers == set(range(spec.depth)), f"{name}: all-zero gradients in a layer"


@pytest.mark.parametrize("name", ["examples_three", "softmax_cross_entropy"])
def test_mean_over_examples(name: str) -> None:
    """E = (1/m) Σ L_e: loss and gradients of a step are the means of the examples'."""
    spec = _point(name, 0)
    model = derive_explicit(spec)
    step = evaluate(spec, 0).steps[0]
    composed = model.composed_loss()
    m = len(spec.examples)
    losses = [number(composed.xreplace(_symbol_values(model, spec, e))) for e in range(m)]
    assert_same(step.loss, sum(losses) / m, "mean loss")
    for parameter in model.parameters:
        kind, (l, *idx) = _location(model, parameter)
        grads = [
            number(sp.diff(composed, parameter).xreplace(_symbol_values(model, spec, e)))
            for e in range(m)
        ]
        got = step.grad_W[l][idx[0]][idx[1]] if kind == "w" else step.grad_b[l][idx[0]]
        assert_same(got, sum(grads) / m, f"mean gradient d/d{parameter}")


def test_custom_bce_formula_matches_builtin_bce() -> None:
    """The loss written as a formula gives bce's gradients (same net, same numbers)."""
    rng = random.Random(5)
    numbers = catalog.with_numbers(catalog.spec("formula_loss_bce"), rng)
    numbers["example"]["t"] = [Fraction(3, 10)]
    custom = evaluate(symbp.load(numbers), 0).steps[0]
    builtin = evaluate(symbp.load({**numbers, "loss": "bce"}), 0).steps[0]
    assert_same(custom.loss, builtin.loss, "loss")
    for l in range(2):
        for r, row in enumerate(builtin.grad_W[l]):
            for c, value in enumerate(row):
                assert_same(custom.grad_W[l][r][c], value, f"grad_W[{l}][{r}][{c}]")


def test_log_base_scales_the_loss_and_gradients() -> None:
    """bce with log_base 2 is bce / ln 2, gradients included."""
    rng = random.Random(6)
    numbers = catalog.with_numbers(catalog.spec("sigmoid_bce_log2"), rng)
    base2 = evaluate(symbp.load(numbers), 0).steps[0]
    natural = evaluate(symbp.load({**numbers, "loss": "bce"}), 0).steps[0]
    ln2 = sp.log(2).evalf(80)
    assert_same(base2.loss * ln2, natural.loss, "loss")
    assert_same(base2.grad_b[0][1] * ln2, natural.grad_b[0][1], "grad_b")
    assert natural.grad_b[0][1] != 0


def test_relu_at_negative_points_has_zero_gradient_below() -> None:
    """A dead relu unit passes no gradient to its weights (and the check sees it)."""
    numbers = catalog.spec("relu_sse")
    numbers["example"]["x"] = [1, 1]
    numbers["params"]["W"][0] = [[-1, -1], [1, 1], [-2, 1]]
    numbers["params"]["b"][0] = [0.5, 0.5, 0.5]
    step = evaluate(symbp.load(numbers), 0).steps[0]
    # z = (-1.5, 2.5, -0.5): units 0 and 2 are dead, unit 1 is live.
    assert step.z[0] == (sp.Rational(-3, 2), sp.Rational(5, 2), sp.Rational(-1, 2))
    assert step.grad_W[0][0] == (0, 0) and step.grad_W[0][2] == (0, 0)
    assert step.grad_W[0][1][0] != 0
    assert step.grad_b[0] == (0, step.grad_b[0][1], 0)
