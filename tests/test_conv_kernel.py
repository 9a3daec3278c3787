"""The generated trainer of conv nets (issue 28, items 5 and 6): its gradients equal the
exact evaluator's (1e-12, float64) and finite differences, for stride 1 and 2, padding 0
and 1, several channels, max and average pooling; its optimiser step is the flat
vector's, so SGD, momentum and Adam move every parameter as their formulas say; float32
follows float64; reference mode (``NUMBA_DISABLE_JIT=1``) gives the jitted numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conv_kernel_cases import CASES, assert_matches_exact, inputs, spec_of

import symbp
from symbp.symbolic.network_run import run_network

IDS = [case[0] for case in CASES]


def _array(value: Any) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=object).astype(np.float64)


def _flat(W: list[Any], b: list[Any]) -> np.ndarray:
    parts = [np.ravel(v) for pair in zip(W, b, strict=True) for v in pair if v is not None]
    return np.concatenate(parts)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_gradients_equal_the_exact_evaluator(case: Any) -> None:
    data = spec_of(case)
    spec = symbp.load(data)
    trainer = symbp.compile(spec)
    X, T = inputs(data)
    grad_W, grad_b = trainer.gradients(X, T)
    exact = run_network(spec).steps[0].evaluation
    assert trainer.loss(X, T) == pytest.approx(float(exact.loss), rel=1e-12, abs=1e-12)
    for got, want in zip(grad_W + grad_b, exact.grad_W + exact.grad_b, strict=True):
        if want is None:
            assert got is None
            continue
        want = _array(want)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # a flattened X (n, C*H*W) in (c, i, j) order is the same input
    flat_W, _ = trainer.gradients(X.reshape(len(X), -1), T)
    assert all(
        (a is None and b is None) or np.array_equal(a, b)
        for a, b in zip(flat_W, grad_W, strict=True)
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_gradients_equal_finite_differences(case: Any) -> None:
    data = spec_of(case)
    trainer = symbp.compile(data)
    X, T = inputs(data)
    W, b = trainer.params
    grad = _flat(*trainer.gradients(X, T))
    rng = np.random.default_rng(7)
    for _ in range(3):  # random directions: (E(p + h u) - E(p - h u)) / 2h = grad . u
        u = rng.standard_normal(grad.size)
        u /= np.linalg.norm(u)
        h = 1e-6
        values = []
        for sign in (1, -1):
            offset = 0
            Ws, bs = [], []
            for w, v in zip(W, b, strict=True):
                if w is None:
                    Ws.append(None)
                    bs.append(None)
                    continue
                Ws.append(w + sign * h * u[offset : offset + w.size].reshape(w.shape))
                offset += w.size
                bs.append(v + sign * h * u[offset : offset + v.size])
                offset += v.size
            trainer.params = (Ws, bs)
            values.append(trainer.loss(X, T))
        trainer.params = (W, b)
        assert (values[0] - values[1]) / (2 * h) == pytest.approx(grad @ u, rel=1e-6, abs=1e-8)


def _adam(theta, g, state, k, lr, b1=0.9, b2=0.999, eps=1e-8):  # type: ignore[no-untyped-def]
    m, v = state
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mhat, vhat = m / (1 - b1**k), v / (1 - b2**k)
    return theta - lr * mhat / (np.sqrt(vhat) + eps), (m, v)


def _momentum(theta, g, state, k, lr, mu=0.9):  # type: ignore[no-untyped-def]
    (vel,) = state
    vel = mu * vel + g
    return theta - lr * vel, (vel,)


def _sgd(theta, g, state, k, lr):  # type: ignore[no-untyped-def]
    return theta - lr * g, state


OPTIMIZERS = [
    ({"name": "sgd", "learning_rate": 0.1}, _sgd, 0),
    ({"name": "momentum", "learning_rate": 0.05, "momentum": 0.9}, _momentum, 1),
    ({"name": "adam", "learning_rate": 0.01}, _adam, 2),
]


@pytest.mark.parametrize(
    ("optimizer", "step", "n_state"), OPTIMIZERS, ids=[o[0]["name"] for o in OPTIMIZERS]
)
@pytest.mark.parametrize("case", CASES[:2], ids=IDS[:2])
def test_optimisers_update_every_parameter_by_their_formula(
    case: Any, optimizer: dict[str, Any], step: Any, n_state: int
) -> None:
    data = spec_of(case, optimizer=optimizer)
    trainer = symbp.compile(data)
    twin = symbp.compile(data)  # measures the gradient at each step
    X, T = inputs(data)
    lr = optimizer["learning_rate"]
    theta = _flat(*trainer.params)
    state = tuple(np.zeros_like(theta) for _ in range(n_state))
    for k in range(1, 4):
        twin.params = trainer.params
        g = _flat(*twin.gradients(X, T))
        theta, state = step(theta, g, state, k, lr)
        trainer.fit(X, T, epochs=1, batch_size=len(X), shuffle=False)
        np.testing.assert_allclose(_flat(*trainer.params), theta, rtol=1e-12, atol=1e-13)


def test_plain_sgd_follows_the_exact_trajectory() -> None:
    data = spec_of(CASES[1])  # stride 2, padding 1, average pooling
    data["training"] = {"epochs": 3, "batch_size": 2, "shuffle": False}
    spec = symbp.load(data)
    trainer = symbp.compile(spec)
    X, T = inputs(data)
    history = trainer.fit(X, T)
    run = run_network(spec, epochs=3)
    exact = [float(s.evaluation.loss) for s in run.steps[:-1]]
    np.testing.assert_allclose(history.step_losses, exact, rtol=1e-12, atol=1e-13)
    final = run.steps[-1]
    np.testing.assert_allclose(
        _flat(*trainer.params),
        _flat([_array(w) for w in final.W], [_array(v) for v in final.b]),
        rtol=1e-12,
        atol=1e-13,
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_follows_float64(case: Any) -> None:
    data = spec_of(case)
    X, T = inputs(data)
    wide = symbp.compile(data, dtype="float64")
    narrow = symbp.compile(data, dtype="float32")
    for trainer in (wide, narrow):
        trainer.fit(X, T, epochs=5, batch_size=2, shuffle=False)
    # 10 steps in float32 stay within 1e-5 of float64 (relative to the largest value)
    a, b = _flat(*wide.params), _flat(*narrow.params).astype(np.float64)
    assert narrow.params[0][0].dtype == np.float32
    assert np.abs(a - b).max() <= 1e-5 * max(1.0, np.abs(a).max())
    np.testing.assert_allclose(narrow.predict(X), wide.predict(X), rtol=0, atol=1e-5)


REFERENCE_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
import numpy as np
import symbp
from conv_kernel_cases import CASES, inputs, spec_of
out = {{}}
for case in CASES:
    data = spec_of(case, optimizer={{"name": "adam", "learning_rate": 0.01}})
    trainer = symbp.compile(data)
    X, T = inputs(data)
    history = trainer.fit(X, T, epochs=2, batch_size=2, shuffle=True, seed=3)
    W, b = trainer.params
    out[case[0]] = {{
        "losses": history.step_losses.tolist(),
        "params": [None if w is None else w.ravel().tolist() for w in W + b],
        "predict": trainer.predict(X).ravel().tolist(),
    }}
print(json.dumps(out))
"""


def test_reference_mode_gives_the_jitted_numbers() -> None:
    tests = str(Path(__file__).resolve().parent)
    script = REFERENCE_SCRIPT.format(tests=tests)
    results = []
    for disable in ("1", "0"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        results.append(json.loads(done.stdout))
    reference, jitted = results
    assert sorted(reference) == sorted(IDS)
    for name in IDS:
        for key in ("losses", "predict"):
            np.testing.assert_allclose(reference[name][key], jitted[name][key], rtol=1e-13)
        for got, want in zip(reference[name]["params"], jitted[name]["params"], strict=True):
            assert (got is None) == (want is None)
            if got is not None:
                np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


EDGES = [
    ("flatten-first", [2, 3, 3], ["flatten", {"dense": 2, "activation": "sigmoid"}], "bce", 2),
    (
        "pool-first",
        [1, 4, 4],
        [
            {"pool": "avg", "size": 2},
            {"conv": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "tanh"},
            "flatten",
            {"dense": 1, "activation": "sigmoid"},
        ],
        "bce",
        1,
    ),
]


@pytest.mark.parametrize("case", EDGES, ids=[c[0] for c in EDGES])
def test_nets_whose_first_layer_has_no_parameters(case: Any) -> None:
    """Flatten or pool reading the input itself (flatten copies the row; a conv after a
    pool forms the pool's delta, which nothing reads)."""
    data = spec_of(case)
    spec = symbp.load(data)
    trainer = symbp.compile(spec)
    X, T = inputs(data)
    grad_W, grad_b = trainer.gradients(X, T)
    exact = run_network(spec).steps[0].evaluation
    assert_matches_exact(grad_W + grad_b, exact.grad_W + exact.grad_b)
