"""The derivation's textbook forms (layer-generic and explicit views) and its scaling.

Checks the forms a teaching text writes: σ' = a(1 − a), sigmoid + BCE and
softmax + cross-entropy output deltas a − t (the latter with its one-hot
assumption recorded), tanh's (1 − a²), the per-layer rules ∂L/∂w = δ a and
∂L/∂b = δ; that wide and deep nets derive (cost independent of the widths);
and that the explicit view refuses large nets, pointing at the layer-generic view.
"""

from __future__ import annotations

import pytest
import sympy as sp

import symbp
from symbp.errors import TooLargeError
from symbp.ops.symbols import A, X
from symbp.symbolic import notation as nt
from symbp.symbolic.derivation import derive
from symbp.symbolic.evaluate import evaluate
from symbp.symbolic.explicit import derive_explicit
from symbp.symbolic.generic import derive_generic

j, i, k = nt.j, nt.i, nt.k


def _generic(layers, activations, loss):
    return derive_generic(symbp.load({"layers": layers, "activations": activations, "loss": loss}))


def _backprop_sum(l: int) -> sp.Expr:
    """Σ_i δ^{l+1}_i w^{l+1}_{ij}."""
    return sp.Sum(nt.delta(l + 1)[i] * nt.weight(l + 1)[i, j], (i, 0, nt.size(l + 1) - 1))


def test_sigmoid_derivative_is_a_times_one_minus_a() -> None:
    sigmoid = symbp.load({"layers": [1, 1]}).activations[0]
    assert sigmoid.name == "sigmoid"
    assert sp.expand(sigmoid.derivative_from_output - A * (1 - A)) == 0
    # fdiff's textbook form is the true derivative of 1/(1 + e^-x)
    true = sp.diff(1 / (1 + sp.exp(-X)), X)
    for value in (sp.Rational(-3, 2), sp.Rational(1, 3), 2):
        difference = sigmoid.derivative.xreplace({X: value}) - true.xreplace({X: value})
        assert abs(sp.N(difference, 50)) < sp.Float(10) ** -60


def test_hidden_sigmoid_delta_textbook_form() -> None:
    model = _generic([3, 4, 1], "sigmoid", "bce")
    a = nt.activation(1)[j]
    expected = a * (1 - a) * _backprop_sum(1)
    assert sp.expand(model.layer(1).delta_textbook.rhs - expected) == 0


def test_sigmoid_bce_output_delta_is_a_minus_t() -> None:
    model = _generic([3, 4, 1], "sigmoid", "bce")
    out = model.layer(2)
    assert out.delta_textbook.rhs == nt.activation(2)[j] - nt.TARGET[j]
    assert out.assumptions == ()


def test_softmax_cross_entropy_output_delta_with_one_hot_assumption() -> None:
    model = _generic([2, 3, 3], ["tanh", "softmax"], "cross_entropy")
    out = model.layer(2)
    assert out.delta_textbook.rhs == nt.activation(2)[j] - nt.TARGET[j]
    assert len(out.assumptions) == 1
    assert "one-hot" in out.assumptions[0] and "1" in out.assumptions[0]


def test_softmax_cross_entropy_exact_delta_needs_no_assumption() -> None:
    """The exact delta (used for numbers) is a Σt − t; it is a − t for one-hot targets only."""
    base = {
        "layers": [1, 3],
        "activations": "softmax",
        "loss": "cross_entropy",
        "params": {"W": [[[1], [0.5], [-1]]], "b": [[0, 0.25, 0]]},
    }
    for t in ([0, 1, 0], [0.5, 0.5, 0.5]):
        step = evaluate(symbp.load({**base, "example": {"x": [1], "t": t}}), 0).steps[0]
        a, delta = step.a[1], step.examples[0].delta[0]
        total = sum(sp.Rational(v) for v in (sp.nsimplify(x) for x in t))
        for aj, tj, dj in zip(a, t, delta, strict=True):
            expected = aj * total - sp.nsimplify(tj)
            assert abs(dj - expected) < sp.Float(10) ** -50
    # and for the non-one-hot targets that differs from a - t
    assert abs(delta[0] - (a[0] - sp.Rational(1, 2))) > sp.Rational(1, 10)


def test_tanh_hidden_delta_has_one_minus_a_squared() -> None:
    model = _generic([2, 3, 1], "tanh", "half_sse")
    a = nt.activation(1)[j]
    rhs = model.layer(1).delta_textbook.rhs
    assert rhs.has(1 - a**2)
    assert sp.expand(rhs - (1 - a**2) * _backprop_sum(1)) == 0


def test_gradient_rules_delta_times_previous_activation() -> None:
    model = _generic([2, 3, 2, 1], ["relu", "tanh", "sigmoid"], "mse")
    for l in (1, 2, 3):
        f = model.layer(l)
        assert f.grad_W.rhs == nt.delta(l)[j] * nt.activation(l - 1)[k]
        assert f.grad_b.rhs == nt.delta(l)[j]


def test_mse_output_delta_keeps_its_one_over_n() -> None:
    model = _generic([2, 2], "identity", "mse")
    rhs = model.layer(1).delta_textbook.rhs
    expected = 2 * (nt.activation(1)[j] - nt.TARGET[j]) / nt.size(1)
    assert sp.expand(rhs - expected) == 0


@pytest.mark.parametrize(
    ("layers", "activations", "loss"),
    [
        ([784, 512, 512, 10], ["relu", "relu", "softmax"], "cross_entropy"),
        ([1024] * 11, "tanh", "mse"),
    ],
    ids=["784-512-512-10", "10x1024"],
)
def test_large_nets_derive_in_the_generic_view(layers, activations, loss) -> None:
    spec = symbp.load({"layers": layers, "activations": activations, "loss": loss})
    derivation = derive(spec)
    assert derivation.explicit is None
    assert "layer-generic" in derivation.explicit_refusal
    model = derivation.generic
    assert len(model.layers) == len(layers) - 1
    for l in range(1, len(layers)):
        assert model.layer(l).grad_W.rhs == nt.delta(l)[j] * nt.activation(l - 1)[k]
    # widths stay symbols: no concrete size appears in any formula
    assert not any(f.delta.rhs.has(sp.Integer(layers[1])) for f in model.layers)
    if activations == "tanh":
        a = nt.activation(5)[j]
        assert sp.expand(model.layer(5).delta_textbook.rhs - (1 - a**2) * _backprop_sum(5)) == 0


def test_explicit_view_refuses_a_16_32_4_net() -> None:
    spec = symbp.load({"layers": [16, 32, 4], "activations": "sigmoid", "loss": "mse"})
    with pytest.raises(TooLargeError, match="layer-generic") as info:
        derive_explicit(spec)
    assert "\n" not in str(info.value)
    with pytest.raises(TooLargeError, match="layer-generic"):
        derive(spec, explicit=True)
    assert derive(spec, explicit=None).explicit is None


def test_explicit_chain_of_w2_11_in_the_3_4_1_net(examples_dir) -> None:
    """∂E/∂w²₁₁ = ∂E/∂a²₁ · ∂a²₁/∂z²₁ · ∂z²₁/∂w²₁₁ with σ' written a(1 − a)."""
    model = derive_explicit(symbp.load(examples_dir / "koech_3_4_1.yaml"))
    w = model.W[1][0][0]
    assert str(w) == "w^2_11"
    chain = model.chains[w]
    assert len(chain.paths) == 1
    (path,) = chain.paths
    a2, z2, t, a1 = model.a[2][0], model.z[1][0], model.t[0], model.a[1][0]
    assert [(f.numerator, f.denominator) for f in path] == [
        (model.loss_symbol, a2),
        (a2, z2),
        (z2, w),
    ]
    assert sp.simplify(path[0].expr - (-t / a2 + (1 - t) / (1 - a2))) == 0
    assert sp.expand(path[1].expr - a2 * (1 - a2)) == 0
    assert path[2].expr == a1
    # the product collapses to (a - t) a¹₁, the delta rule
    assert sp.simplify(chain.expr - (a2 - t) * a1) == 0
    # a first-layer weight has one path through each of ... the single output: 1 path
    assert len(model.chains[model.W[0][2][1]].paths) == 1


def test_explicit_softmax_chain_sums_over_outputs() -> None:
    spec = symbp.load({"layers": [2, 3], "activations": "softmax", "loss": "cross_entropy"})
    model = derive_explicit(spec)
    chain = model.chains[model.W[0][1][0]]
    assert len(chain.paths) == 3  # every output a_i depends on z_2
    a, t = model.a[1], model.t
    jac = {path[0].denominator: path[1].expr for path in chain.paths}
    assert sp.expand(jac[a[1]] - a[1] * (1 - a[1])) == 0
    assert sp.expand(jac[a[0]] + a[0] * a[1]) == 0
    # Σ_i ∂E/∂a_i ∂a_i/∂z_2 · x_1 = (a_2 Σ t − t_2) x_1
    expected = (a[1] * (t[0] + t[1] + t[2]) - t[1]) * model.x[0]
    assert sp.simplify(chain.expr - expected) == 0
