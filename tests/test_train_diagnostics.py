"""Feature sensitivity, gradient norms, metrics, plots and run-directory files (NumPy only)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import symbp
from symbp.train import metrics, plots, rundir
from symbp.train.diagnostics import (
    NumericActivation,
    feature_sensitivity,
    forward,
    gradient_norms,
    input_jacobian,
)


def _random_params(layers: list[int], seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    W = [rng.normal(size=(o, i)) for i, o in itertools.pairwise(layers)]
    b = [rng.normal(size=o) for o in layers[1:]]
    return W, b


@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "relu", "leaky_relu", "identity", {"formula": "x**3/3 + x"}]
)
def test_numeric_derivative_matches_finite_differences(name: object) -> None:
    spec = symbp.load({"layers": [1, 1], "activations": [name], "loss": "half_sse"})
    act = NumericActivation.of(spec.activations[0])
    z = np.array([-2.3, -0.7, 0.4, 1.9])  # away from the kinks of relu / leaky_relu
    h = 1e-6
    fd = (act.f(z + h) - act.f(z - h)) / (2 * h)
    np.testing.assert_allclose(act.df(z), fd, rtol=1e-7, atol=1e-9)


def test_forward_matches_hand_written_tanh_softmax() -> None:
    spec = symbp.load(
        {"layers": [3, 5, 4], "activations": ["tanh", "softmax"], "loss": "cross_entropy"}
    )
    W, b = _random_params([3, 5, 4], 1)
    X = np.random.default_rng(2).normal(size=(7, 3))
    h = np.tanh(X @ W[0].T + b[0])
    z = h @ W[1].T + b[1]
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(forward(spec, W, b, X)[1][-1], expected, rtol=1e-13)


@pytest.mark.parametrize(
    ("layers", "acts"),
    [
        ([3, 5, 4], ["tanh", "softmax"]),
        ([3, 4, 4, 2], ["sigmoid", "leaky_relu", "identity"]),
        ([2, 6, 1], ["relu", "sigmoid"]),
    ],
)
def test_input_jacobian_matches_finite_differences(layers: list[int], acts: list[str]) -> None:
    spec = symbp.load({"layers": layers, "activations": acts, "loss": "mse"})
    W, b = _random_params(layers, 3)
    X = np.random.default_rng(4).normal(size=(6, layers[0]))
    J = input_jacobian(spec, W, b, X)
    assert J.shape == (6, layers[-1], layers[0])
    h = 1e-6
    for k in range(layers[0]):
        e = np.zeros(layers[0])
        e[k] = h
        fd = (forward(spec, W, b, X + e)[1][-1] - forward(spec, W, b, X - e)[1][-1]) / (2 * h)
        np.testing.assert_allclose(J[:, :, k], fd, rtol=1e-6, atol=1e-8)


def test_sensitivity_of_a_linear_network_is_its_weights() -> None:
    # ŷ = W x + b with identity activation: ∂ŷ_i/∂x_k = W_ik for every example.
    spec = symbp.load({"layers": [3, 2], "activations": ["identity"], "loss": "mse"})
    W = [np.array([[1.0, -2.0, 0.0], [3.0, 0.5, -1.0]])]
    s = feature_sensitivity(spec, W, [np.zeros(2)], np.ones((5, 3)))
    np.testing.assert_allclose(s.per_output, np.abs(W[0]))
    np.testing.assert_allclose(s.per_feature, [2.0, 1.25, 0.5])


def test_gradient_norms_and_metrics() -> None:
    norms = gradient_norms([np.array([[3.0, 4.0]])], [np.array([1.0, 2.0, 2.0])])
    assert norms == {"W1": 5.0, "b1": 3.0}
    Y = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    T = np.array([[0, 1], [0, 1], [0, 1.0]])
    assert metrics.accuracy(Y, T) == pytest.approx(2 / 3)
    assert metrics.accuracy(np.array([[0.4], [0.6]]), np.array([[0.0], [1.0]])) == 1.0
    assert metrics.accuracy(np.array([[-0.2], [0.3]]), np.array([[1.0], [1.0]]), sign=True) == 0.5
    assert metrics.mse(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])) == 2.5


def test_run_files_roundtrip(tmp_path) -> None:
    W, b = _random_params([3, 4, 2], 5)
    path = tmp_path / "params.npz"
    path.write_bytes(rundir.params_npz(W, b, mean=np.zeros(3), scale=np.ones(3)))
    W2, b2 = rundir.load_params(path)
    for x, y in zip(W + b, W2 + b2, strict=True):
        np.testing.assert_array_equal(x, y)
    with np.load(path) as archive:
        assert sorted(archive.files) == ["W_1", "W_2", "b_1", "b_2", "x_mean", "x_scale"]
    rows = [{"epoch": 0, "train_loss": 1.5, "val_loss": float("nan")}]
    assert rundir.rows_csv(rows) == "epoch,train_loss,val_loss\n0,1.5,\n"


def test_plots_are_png() -> None:
    rows = [
        {
            "epoch": e,
            "train_loss": 1 / (e + 1),
            "val_loss": 1.1 / (e + 1),
            "train_accuracy": 0.5,
            "val_accuracy": 0.4,
            "grad_W1": 0.1,
            "grad_b1": 0.01,
            "grad_W2": 0.2,
            "grad_b2": 0.02,
        }
        for e in range(4)
    ]
    images = [
        plots.loss_curves(rows, np.linspace(1, 0.2, 9), 3, "t"),
        plots.score_curves(rows, "accuracy", "t"),
        plots.gradient_norm_curves(rows, 2, "t"),
        plots.sensitivity_bars(np.linspace(0, 1, 16), [str(i) for i in range(16)], "t"),
    ]
    for png in images:
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
