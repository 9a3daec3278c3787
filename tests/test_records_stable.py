"""What the activation and loss records tell the stages in place of their names:
the normalised (vector) form of softmax, the overflow-free logs of an output, and a
loss's term against ``log y``."""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

import symbp
from symbp.ops.activations import make_activation
from symbp.ops.losses import cross_entropy, make_loss
from symbp.ops.stable import LOG_NORMALISER, LOG_Y, softplus
from symbp.ops.symbols import T, X
from symbp.symbolic.evaluate import evaluate

z, a = sp.IndexedBase("z"), sp.IndexedBase("a")
k, j = sp.symbols("k j", integer=True)
n = sp.Symbol("n", integer=True, positive=True)


def test_softmax_layer_value_is_its_numerator_over_the_layer_sum() -> None:
    softmax = make_activation("softmax", {})
    total = sp.Sum(sp.exp(z[k]), (k, 0, n - 1))
    assert softmax.normaliser(z, k, n) == total
    assert softmax.layer_value(z, j, k, n) == sp.exp(z[j]) / total


def test_elementwise_layer_value_applies_the_function() -> None:
    tanh = make_activation("tanh", {})
    assert tanh.layer_value(z, j, k, n) == sp.tanh(z[j])


def test_in_outputs_writes_numerators_and_sum_through_the_outputs() -> None:
    softmax = make_activation("softmax", {})
    S = sp.Symbol("S")
    total = sp.Sum(sp.exp(z[k]), (k, 0, n - 1))
    expr = sp.exp(2 * z[j]) / total**2 - sp.exp(z[j]) * sp.Integer(3)
    assert softmax.in_outputs(expr, z, a, S) == a[j] ** 2 - 3 * a[j] * S


def test_stable_logs_of_the_records() -> None:
    sigmoid, softmax = make_activation("sigmoid", {}), make_activation("softmax", {})
    assert sigmoid.log_output == -softplus(-X)
    assert sigmoid.log_complement == -softplus(X)
    assert softmax.log_output == X - LOG_NORMALISER
    assert softmax.log_complement is None
    assert make_activation("tanh", {}).log_output is None
    # the same values: log σ(x) = -softplus(-x) at x = 3
    value = sigmoid.log_output.xreplace({X: 3}).evalf(30)
    assert abs(value - sp.log(1 / (1 + sp.exp(-3))).evalf(30)) < sp.Float("1e-28")


def test_loss_log_terms() -> None:
    assert cross_entropy().log_term == -T * LOG_Y
    assert cross_entropy().log_coefficient == -T
    assert cross_entropy(2).log_term == -T * LOG_Y / sp.log(2)
    assert make_loss("bce", {}).log_term is None  # log(1 - y) is not log y
    assert make_loss("mse", {}).log_term is None


SPEC = {
    "layers": [2, 3, 3],
    "activations": ["tanh", "softmax"],
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {
        "W": [[[0.5, -0.25], [1, 2], [0, 1]], [[3000, -3000, 0], [1, 0, -0.5], [2, 1, 0]]],
        "b": [[0, 0.5, 1], [0.25, 0, -1]],
    },
    "examples": [{"x": [1, 2], "t": [1, 0, 0]}, {"x": [40, -2], "t": [0, 0.5, 0.5]}],
}


def test_a_formula_loss_in_log_y_takes_the_stable_path_as_cross_entropy_does() -> None:
    """The float runner asks the loss for its term in ``log y``: a formula that is
    cross-entropy gives the very same float64 numbers as the named loss, finite where
    an output underflows to 0 (``log a = z - log Σ exp z``, not ``log 0``)."""
    named = evaluate(
        symbp.load({**SPEC, "loss": "cross_entropy"}), steps=2, arithmetic="float64", fast=True
    )
    formula = evaluate(
        symbp.load({**SPEC, "loss": {"formula": "-t*log(y)"}}),
        steps=2,
        arithmetic="float64",
        fast=True,
    )
    for one, other in zip(named.steps, formula.steps, strict=True):
        assert one.W == other.W and one.b == other.b and one.loss == other.loss
        assert one.loss.is_finite


def test_pytorch_spelling_of_the_records() -> None:
    """``to_torch`` builds each activation's module from its record, by name and options."""
    assert make_activation("leaky_relu", {"alpha": Fraction(1, 4)}).torch_module == (
        "LeakyReLU",
        {"negative_slope": 0.25},
    )
    assert make_activation("softmax", {}).torch_module == ("Softmax", {"dim": -1})
    assert make_activation("linear", {}).torch_module == ("Identity", {})
