"""Exact textbook numbers: seed 000's forward pass, seed 001's worked example, and
small hand-computed cases whose results are rationals.

Expected values come from the seeds' texts, from hand calculations written out
here, or from independent mpmath / numpy computations, never from symbp itself.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.symbolic.evaluate import evaluate

R = sp.Rational


def _mp(value: sp.Expr) -> mpmath.mpf:
    return mpmath.mpf(str(sp.N(value, 70)))


def assert_digits(value: sp.Expr, expected: mpmath.mpf, digits: int = 50) -> None:
    """``value`` agrees with ``expected`` to ``digits`` significant digits."""
    with mpmath.workdps(80):
        got = _mp(value)
        assert abs(got - expected) <= abs(expected) * mpmath.mpf(10) ** -digits, (got, expected)


# --- seed 000: one sigmoid neuron ------------------------------------------------


@pytest.fixture(scope="module")
def seed000(examples_dir):
    spec = symbp.load(examples_dir / "seed000_forward.yaml")
    return spec, evaluate(spec, 1)


def test_seed000_weighted_sum_and_z_are_exact(seed000) -> None:
    spec, ev = seed000
    x, w = spec.examples[0].x, spec.W[0][0]
    # 0.1*2 + 0.5*3 + 0.9*4 = 5.3; minus the bias 2.0 gives 3.3.
    assert sum(wi * xi for wi, xi in zip(w, x, strict=True)) == R(53, 10)
    assert spec.b[0][0] == -2
    assert ev.steps[0].z == ((R(33, 10),),)
    assert ev.steps[0].z[0][0].is_Rational


def test_seed000_sigmoid_output(seed000) -> None:
    _, ev = seed000
    a = ev.steps[0].output[0]
    with mpmath.workdps(80):
        expected = 1 / (1 + mpmath.exp(-mpmath.mpf(33) / 10))
    assert str(expected).startswith("0.9644288107")
    assert_digits(a, expected, 55)
    assert f"{float(a):.2f}" == "0.96"


def test_seed000_sse_loss_and_gradients(seed000) -> None:
    """E = (a - 1)²; ∂E/∂w_k = 2 (a - 1) a (1 - a) x_k; ∂E/∂b = 2 (a - 1) a (1 - a)."""
    _, ev = seed000
    step = ev.steps[0]
    with mpmath.workdps(80):
        a = 1 / (1 + mpmath.exp(-mpmath.mpf(33) / 10))
        delta = 2 * (a - 1) * a * (1 - a)
        assert_digits(step.loss, (a - 1) ** 2)
        assert_digits(step.grad_b[0][0], delta)
        for k, xk in enumerate((2, 3, 4)):
            assert_digits(step.grad_W[0][0][k], delta * xk)
        # one step of learning rate 0.5
        assert_digits(ev.steps[1].W[0][0][0], mpmath.mpf(1) / 10 - delta * 2 / 2)


# --- seed 001: the 3-4-1 worked example ------------------------------------------


@pytest.fixture(scope="module")
def koech(examples_dir):
    spec = symbp.load(examples_dir / "koech_3_4_1.yaml")
    return spec, evaluate(spec, 6)


def test_koech_network_shape(koech) -> None:
    spec, _ = koech
    assert spec.layers == (3, 4, 1)
    assert spec.n_params == 21 and spec.n_trainable == 21


def test_koech_trajectory_matches_the_text(koech) -> None:
    _, ev = koech
    assert len(ev.steps) == 7
    shown = [f"{float(step.output[0]):.3f}" for step in ev.steps]
    assert shown == ["0.521", "0.648", "0.758", "0.836", "0.881", "0.908", "0.925"]


def test_koech_hidden_outputs_and_first_prediction(koech) -> None:
    _, ev = koech
    hidden = [f"{float(v):.3f}" for v in ev.steps[0].a[1]]
    assert hidden == ["0.845", "0.132", "0.354", "0.377"]
    assert str(sp.N(ev.steps[0].output[0], 20)).startswith("0.52088767")


def _numpy_koech(steps: int) -> list[float]:
    """The article's notebook, written independently in float64 numpy."""
    np.random.seed(3)
    W1 = np.random.randn(4, 3) * 0.1
    W2 = np.random.randn(1, 4) * 0.1
    b1, b2 = np.zeros(4), np.zeros(1)
    x, t, lr = np.array([7.0, 8.0, 10.0]), np.array([1.0]), 0.5
    out = []
    for step in range(steps + 1):
        a1 = 1 / (1 + np.exp(-(W1 @ x + b1)))
        a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
        out.append(float(a2[0]))
        if step == steps:
            break
        d2 = a2 - t  # sigmoid + bce
        d1 = (W2.T @ d2) * a1 * (1 - a1)
        W2, b2 = W2 - lr * np.outer(d2, a1), b2 - lr * d2
        W1, b1 = W1 - lr * np.outer(d1, x), b1 - lr * d1
    return out


def test_koech_trajectory_matches_an_independent_numpy_run(koech) -> None:
    _, ev = koech
    expected = _numpy_koech(6)
    for step, value in zip(ev.steps, expected, strict=True):
        assert float(step.output[0]) == pytest.approx(value, rel=1e-12, abs=1e-14)


def test_koech_values_carry_at_least_50_digits(koech) -> None:
    _, ev = koech
    y = ev.steps[3].output[0]
    assert y.is_Float and y._prec >= mpmath.libmp.dps_to_prec(50)


def test_koech_figure_weights_give_the_figure_numbers(examples_dir) -> None:
    spec = symbp.load(examples_dir / "koech_3_4_1_figure.yaml")
    assert spec.W[0][0][0] == R(179, 1000) and spec.W[1][0][3] == R(-40, 1000)
    step = evaluate(spec, 0).steps[0]
    assert step.z[0][0] == R(179 * 7 + 44 * 8 + 10 * 10, 1000)
    assert f"{float(step.output[0]):.3f}" == "0.521"


# --- hand-computed rational cases --------------------------------------------------


def test_identity_neuron_one_step_by_hand() -> None:
    """z = ½·2 − 1·1 + ¼ = ¼; E = ½(¼ − 1)² = 9/32; δ = −¾; ∇W = δx = (−3/2, −3/4).

    With η = ½: W = (½ + ¾, −1 + 3/8) = (5/4, −5/8), b = ¼ + 3/8 = 5/8, and then
    z = 5/4·2 − 5/8 + 5/8 = 5/2.
    """
    spec = symbp.load(
        {
            "layers": [2, 1],
            "activations": "identity",
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 0.5},
            "params": {"W": [[[0.5, -1]]], "b": [[0.25]]},
            "example": {"x": [2, 1], "t": [1]},
        }
    )
    ev = evaluate(spec, 1)
    s0, s1 = ev.steps
    assert s0.z == ((R(1, 4),),) and s0.loss == R(9, 32)
    assert s0.examples[0].delta == ((R(-3, 4),),)
    assert s0.grad_W == (((R(-3, 2), R(-3, 4)),),) and s0.grad_b == ((R(-3, 4),),)
    new_w = s1.W
    assert new_w == (((R(5, 4), R(-5, 8)),),) and s1.b == ((R(5, 8),),)
    assert s1.z == ((R(5, 2),),) and s1.loss == R(9, 8)
    for value in (s0.loss, *s0.grad_W[0][0], *s1.W[0][0], s1.loss):
        assert value.is_Rational


def test_relu_two_layer_one_step_by_hand() -> None:
    """x = (3, 1); W¹ = [[1, −1], [−1, ½]], b¹ = 0: z¹ = (2, −5/2), a¹ = (2, 0).

    W² = [[½, 2]], b² = 1: z² = ŷ = 2; t = 3: E = ½, δ² = −1.
    ∇W² = δ² a¹ = (−2, 0), ∇b² = −1; δ¹ = (½·(−1)·1, 2·(−1)·0) = (−½, 0);
    ∇W¹ = δ¹ xᵀ = [[−3/2, −½], [0, 0]], ∇b¹ = (−½, 0).
    With η = 1/10: W¹ = [[23/20, −19/20], [−1, ½]], b¹ = (1/20, 0),
    W² = [[7/10, 2]], b² = 11/10.
    """
    spec = symbp.load(
        {
            "layers": [2, 2, 1],
            "activations": ["relu", "identity"],
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "params": {"W": [[[1, -1], [-1, 0.5]], [[0.5, 2]]], "b": [[0, 0], [1]]},
            "example": {"x": [3, 1], "t": [3]},
        }
    )
    s0, s1 = evaluate(spec, 1).steps
    assert s0.z == ((2, R(-5, 2)), (2,)) and s0.a == ((3, 1), (2, 0), (2,))
    assert s0.loss == R(1, 2)
    assert s0.examples[0].delta == ((R(-1, 2), 0), (-1,))
    assert s0.grad_W == (((R(-3, 2), R(-1, 2)), (0, 0)), ((-2, 0),))
    assert s0.grad_b == ((R(-1, 2), 0), (-1,))
    new_w = s1.W
    assert new_w == (((R(23, 20), R(-19, 20)), (-1, R(1, 2))), ((R(7, 10), 2),))
    assert s1.b == ((R(1, 20), 0), (R(11, 10),))
    assert all(v.is_Rational for v in (*s1.W[0][0], *s1.W[1][0], *s1.b[0], s1.loss))


def test_mse_and_sse_scaling_by_hand() -> None:
    """Two identity outputs (2, −1) against targets (0, 0): SSE = 5, MSE = 5/2, ½SSE = 5/2;
    with two examples the loss is the mean of the per-example losses."""
    base = {
        "layers": [1, 2],
        "activations": "identity",
        "params": {"W": [[[2], [-1]]], "b": [[0, 0]]},
        "example": {"x": [1], "t": [0, 0]},
    }
    losses = {
        name: evaluate(symbp.load({**base, "loss": name}), 0).steps[0].loss
        for name in ("sse", "mse", "half_sse", "mae")
    }
    assert losses == {"sse": 5, "mse": R(5, 2), "half_sse": R(5, 2), "mae": R(3, 2)}
    two = {**base, "loss": "sse", "examples": [{"x": [1], "t": [0, 0]}, {"x": [2], "t": [0, 0]}]}
    del two["example"]
    step = evaluate(symbp.load(two), 0).steps[0]
    # the second example's outputs are (4, −2): SSE 20; mean (5 + 20)/2
    assert step.loss == R(25, 2)
    # ∂SSE/∂W[0][0][0] = 2·y·x: 2·2·1 = 4 and 2·4·2 = 16; mean 10
    assert step.grad_W[0][0][0] == 10
