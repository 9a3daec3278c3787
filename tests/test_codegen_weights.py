"""Per-row sample weights in the generated kernels (issue 26, item 4).

With weights ``w`` a batch's loss is ``E = Σ wᵢ Lᵢ / Σ wᵢ`` and its gradients are those
of that weighted mean. Checked against the exact evaluator (each example's own loss and
gradients, weighted by hand in Fractions), against central finite differences, and
through training (the first update is the weighted gradient's step; the epoch loss is
the weighted mean of the step losses).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.errors import DataError

#: Exact in binary, and unequal: the weighted mean differs from the plain one.
WEIGHTS = [Fraction(1), Fraction(3), Fraction(1, 2), Fraction(9, 4)]

#: Rational all the way (relu, identity, mse): the exact evaluator's values are Fractions.
RATIONAL: dict[str, Any] = {
    "name": "weights-rational",
    "layers": [2, 3, 2],
    "activations": ["relu", "identity"],
    "loss": "mse",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {
        "W": [[[0.5, -0.25], [0.75, 0.5], [-0.5, 1.25]], [[0.25, -0.75, 0.5], [1.0, 0.5, -0.25]]],
        "b": [[0.125, -0.25, 0.5], [0.25, -0.5]],
    },
    "examples": [
        {"x": [1.5, 0.5], "t": [0.25, -1]},
        {"x": [-0.5, 2], "t": [1, 0.5]},
        {"x": [0.75, -1.25], "t": [-0.5, 0.75]},
        {"x": [2, 1], "t": [0.5, 0]},
    ],
}

#: Transcendental (tanh, softmax, cross-entropy), for the finite differences.
SMOOTH: dict[str, Any] = {
    "name": "weights-smooth",
    "layers": [3, 4, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 5},
}


def _data(spec: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[float(v) for v in ex.x] for ex in spec.examples])
    T = np.array([[float(v) for v in ex.t] for ex in spec.examples])
    return X, T


def _fraction(value: sp.Expr) -> Fraction:
    assert value.is_Rational, value
    return Fraction(int(value.p), int(value.q))


def test_weighted_loss_and_gradients_equal_the_exact_weighted_mean() -> None:
    spec = symbp.load(RATIONAL)
    step = symbp.evaluate(spec).steps[0]
    rows = [step.examples[i] for i in range(len(WEIGHTS))]
    total = sum(WEIGHTS)
    loss = sum(w * _fraction(r.loss) for w, r in zip(WEIGHTS, rows, strict=True)) / total

    def weighted(get: Any) -> list[np.ndarray]:
        out = []
        for layer in range(spec.depth):
            arrays = [np.array(get(r)[layer], dtype=object) for r in rows]
            exact = sum(
                w * np.vectorize(_fraction, otypes=[object])(a)
                for w, a in zip(WEIGHTS, arrays, strict=True)
            )
            out.append((exact / total).astype(float))
        return out

    grad_W = weighted(lambda r: r.grad_W)
    grad_b = weighted(lambda r: r.grad_b)
    trainer = symbp.compile(spec)
    X, T = _data(spec)
    w = np.array([float(v) for v in WEIGHTS])
    assert trainer.loss(X, T, sample_weight=w) == pytest.approx(float(loss), rel=1e-15)
    got_W, got_b = trainer.gradients(X, T, sample_weight=w)
    for got, want in zip(got_W + got_b, grad_W + grad_b, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)
    # the weighted mean is not the plain one, and weights 1 are the plain one
    plain = trainer.loss(X, T)
    assert abs(plain - float(loss)) > 1e-3
    assert trainer.loss(X, T, sample_weight=np.ones(4)) == pytest.approx(plain, rel=1e-15)
    # integer weights are repeated rows
    twice = np.array([1, 3, 1, 2])
    repeated = trainer.gradients(np.repeat(X, twice, axis=0), np.repeat(T, twice, axis=0))
    weighted_int = trainer.gradients(X, T, sample_weight=twice)
    for a, b in zip(repeated[0] + repeated[1], weighted_int[0] + weighted_int[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_weighted_gradients_match_finite_differences(dtype: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(9, 3))
    T = np.eye(3)[rng.integers(0, 3, size=9)]
    w = rng.uniform(0.1, 4.0, size=9)
    trainer = symbp.compile(SMOOTH, dtype=dtype)
    reference = symbp.compile(SMOOTH)  # float64, for the differences
    W = [m.astype(np.float64) for m in trainer.params[0]]
    b = [v.astype(np.float64) for v in trainer.params[1]]
    reference.params = (W, b)
    grad_W, grad_b = trainer.gradients(X, T, sample_weight=w)
    h = 1e-6
    for which, arrays, grads in (("W", W, grad_W), ("b", b, grad_b)):
        for layer, (a, g) in enumerate(zip(arrays, grads, strict=True)):
            numeric = np.zeros_like(a)
            for index in np.ndindex(a.shape):
                for sign in (1, -1):
                    moved = [m.copy() for m in arrays]
                    moved[layer][index] += sign * h
                    reference.params = (moved, b) if which == "W" else (W, moved)
                    numeric[index] += sign * reference.loss(X, T, sample_weight=w) / (2 * h)
            tol = 1e-8 if dtype == "float64" else 2e-5
            np.testing.assert_allclose(g, numeric, rtol=tol * 100, atol=tol)
    # the plain mean's gradient differs: the weights are used
    assert not np.allclose(trainer.gradients(X, T)[0][0], grad_W[0], atol=1e-6)


def test_training_steps_use_the_weighted_batch_mean() -> None:
    spec = symbp.load(RATIONAL)
    X, T = _data(spec)
    w = np.array([float(v) for v in WEIGHTS])
    trainer = symbp.compile(spec)
    start = trainer.params
    # what the first step must do: the weighted gradient of rows 0, 1 (batch of 2)
    loss0 = trainer.loss(X[:2], T[:2], sample_weight=w[:2])
    gW, gb = trainer.gradients(X[:2], T[:2], sample_weight=w[:2])
    history = trainer.fit(X, T, epochs=1, batch_size=2, shuffle=False, sample_weight=w)
    assert history.step_losses[0] == loss0
    # the second step started from the first update: θ - η g
    trainer.reset()
    trainer.params = (
        [m - 0.5 * g for m, g in zip(start[0], gW, strict=True)],
        [v - 0.5 * g for v, g in zip(start[1], gb, strict=True)],
    )
    loss1 = trainer.loss(X[2:], T[2:], sample_weight=w[2:])
    assert history.step_losses[1] == pytest.approx(loss1, rel=1e-15)
    # the epoch loss is the weighted mean of the rows' losses at their steps
    expected = (loss0 * w[:2].sum() + loss1 * w[2:].sum()) / w.sum()
    assert history.epoch_losses[0] == pytest.approx(expected, rel=1e-15)


def test_unweighted_training_is_unchanged_by_the_option() -> None:
    """No weights: the same steps as weights of ones, to rounding, and the same
    trajectory on every call (no weights array is made up)."""
    spec = symbp.load(RATIONAL)
    X, T = _data(spec)
    plain = symbp.compile(spec)
    a = plain.fit(X, T, epochs=3, batch_size=3, shuffle=True).step_losses.copy()
    plain.reset()
    b = plain.fit(X, T, epochs=3, batch_size=3, shuffle=True).step_losses.copy()
    np.testing.assert_array_equal(a, b)
    plain.reset()
    ones = plain.fit(X, T, epochs=3, batch_size=3, shuffle=True, sample_weight=np.ones(4))
    np.testing.assert_allclose(ones.step_losses, a, rtol=1e-14)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1, 2, 3], "sample_weight: expected shape (4,) (one weight per row of X), found (3,)"),
        ([1, 0, 1, 1], "sample_weight: row 1 holds 0.0; weights must be finite and > 0"),
        ([1, 1, -2, 1], "sample_weight: row 2 holds -2.0; weights must be finite and > 0"),
        ([1, 1, 1, np.nan], "sample_weight: row 3 holds nan; weights must be finite and > 0"),
        (["a", "b", "c", "d"], "sample_weight: expected an array of numbers, found dtype <U1"),
    ],
)
def test_bad_weights_are_one_line_data_errors(weights: Any, message: str) -> None:
    spec = symbp.load(RATIONAL)
    X, T = _data(spec)
    trainer = symbp.compile(spec)
    before = trainer.params
    with pytest.raises(DataError) as err:
        trainer.fit(X, T, epochs=1, sample_weight=weights)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    for got, want in zip(trainer.params[0], before[0], strict=True):
        np.testing.assert_array_equal(got, want)
