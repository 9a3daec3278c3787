"""The one training schedule, the new quantities and the evaluator's arithmetics.

A step is one update on one batch of rows (``symbp.ops.batches``, the kernels' row
order too). Checked against an independent NumPy loop, the compiled trainer, finite
differences, and the reference runner (one SymPy number at a time).
"""

from __future__ import annotations

import numpy as np
import pytest
from catalog import items

import symbp
from symbp.spec import load
from symbp.symbolic.evaluate import evaluate
from symbp.symbolic.reference import flatten

W1 = [[0.15, 0.2], [0.25, 0.3]]
B1 = [0.35, 0.35]
W2 = [[0.4, 0.45]]
B2 = [0.6]
ROWS = [([0.05, 0.1], [0.01]), ([0.3, -0.2], [0.9]), ([-0.5, 0.4], [0.4])]


def online(**training: object) -> dict:
    """A 2-2-1 sigmoid net with ½SSE and SGD, three examples, trained as ``training``."""
    return {
        "layers": [2, 2, 1],
        "activations": "sigmoid",
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "params": {"W": [W1, W2], "b": [B1, B2]},
        "examples": [{"x": x, "t": t} for x, t in ROWS],
        "training": training,
    }


def numpy_online(epochs: int) -> tuple[list[np.ndarray], list[float]]:
    """Per-example SGD in plain NumPy: the parameters after ``epochs`` and every step loss."""
    W = [np.array(W1), np.array(W2)]
    b = [np.array(B1), np.array(B2)]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    losses = []
    for _ in range(epochs):
        for x, t in ROWS:
            x, t = np.array(x), np.array(t)
            h = sig(W[0] @ x + b[0])
            y = sig(W[1] @ h + b[1])
            losses.append(float(0.5 * np.sum((y - t) ** 2)))
            d2 = (y - t) * y * (1 - y)
            d1 = (W[1].T @ d2) * h * (1 - h)
            W[1] -= 0.5 * np.outer(d2, h)
            b[1] -= 0.5 * d2
            W[0] -= 0.5 * np.outer(d1, x)
            b[0] -= 0.5 * d1
    return [W[0], b[0], W[1], b[1]], losses


def flat_W_b(step) -> np.ndarray:  # type: ignore[no-untyped-def]
    parts = [step.W[0], step.b[0], step.W[1], step.b[1]]
    return np.array([float(v) for v in flatten(*parts)])


def test_online_schedule_equals_a_numpy_loop_and_the_epoch_loss_is_the_mean_step_loss() -> None:
    evaluation = evaluate(load(online(batch_size=1, shuffle=False)), epochs=2)
    assert evaluation.per_epoch == 3 and len(evaluation.steps) == 7
    params, losses = numpy_online(2)
    expected = np.concatenate([np.ravel(p) for p in params])
    np.testing.assert_allclose(flat_W_b(evaluation.steps[-1]), expected, rtol=1e-13)
    assert [s.rows for s in evaluation.steps[:3]] == [(0,), (1,), (2,)]
    np.testing.assert_allclose([float(s.loss) for s in evaluation.steps[:6]], losses, rtol=1e-13)
    epoch_losses = [float(v) for v in evaluation.epoch_losses]
    np.testing.assert_allclose(epoch_losses, [np.mean(losses[:3]), np.mean(losses[3:])], 1e-13)


def test_update_is_the_change_applied() -> None:
    evaluation = evaluate(load(online(batch_size=2)), steps=3)
    for before, after in zip(evaluation.steps, evaluation.steps[1:], strict=False):
        change = flatten(before.update_W, before.update_b)
        new, old = flatten(after.W, after.b), flatten(before.W, before.b)
        for d, n, o in zip(change, new, old, strict=True):  # in 60-digit arithmetic
            assert abs(d - (n - o)) <= 1e-50 * abs(d)
    assert [s.rows for s in evaluation.steps[:3]] == [(0, 1), (2,), (0, 1)]  # last batch: 1 row


def test_grad_x_against_finite_differences() -> None:
    step = evaluate(load(online()), steps=0).steps[0]  # full batch: the mean over the rows

    def loss(x0: np.ndarray, row: int) -> float:
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        y = sig(np.array(W2) @ sig(np.array(W1) @ x0 + B1) + B2)
        return float(0.5 * np.sum((y - ROWS[row][1]) ** 2))

    h = 1e-6
    for row in range(3):
        x = np.array(ROWS[row][0])
        fd = [(loss(x + h * e, row) - loss(x - h * e, row)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose([float(v) for v in step.examples[row].grad_x], fd, rtol=1e-7)
    mean = np.mean([[float(v) for v in step.examples[r].grad_x] for r in range(3)], axis=0)
    np.testing.assert_allclose([float(v) for v in step.grad_x], mean, rtol=1e-14)


@pytest.mark.parametrize("shuffle", [False, True])
def test_float64_arithmetic_matches_the_compiled_trainer(shuffle: bool) -> None:
    data = online(batch_size=1, shuffle=shuffle, seed=7, epochs=4)
    spec = load(data)
    evaluation = evaluate(spec, epochs=4, arithmetic="float64")
    trainer = symbp.compile(spec)
    X = np.array([x for x, _ in ROWS])
    T = np.array([t for _, t in ROWS])
    trainer.fit(X, T)
    trained = np.concatenate([np.ravel(np.asarray(p)) for p in _w_b(trainer.params)])
    np.testing.assert_allclose(flat_W_b(evaluation.steps[-1]), trained, rtol=1e-14)
    exact = evaluate(spec, epochs=4)
    np.testing.assert_allclose(flat_W_b(exact.steps[-1]), trained, rtol=1e-13)


def _w_b(params) -> list:  # type: ignore[no-untyped-def]
    """The trainer's parameters in the order W_1, b_1, W_2, b_2."""
    W, b = params
    return [W[0], b[0], W[1], b[1]]


def test_float32_arithmetic_keeps_float32_parameters() -> None:
    evaluation = evaluate(load(online(batch_size=1)), steps=4, arithmetic="float32")
    for value in flat_W_b(evaluation.steps[-1]):
        assert float(np.float32(value)) == value
    exact = evaluate(load(online(batch_size=1)), steps=4)
    np.testing.assert_allclose(flat_W_b(evaluation.steps[-1]), flat_W_b(exact.steps[-1]), 1e-6)


@pytest.mark.parametrize(("name", "data"), list(items()))
def test_vectorised_exact_runner_equals_the_reference(name: str, data: dict) -> None:
    spec = load(data)
    reference = evaluate(spec, steps=2, fast=False)
    fast = evaluate(spec, steps=2, fast=True)
    for r, f in zip(reference.steps, fast.steps, strict=True):
        a = [float(v) for v in flatten(r.W, r.b, r.loss, r.grad_W, r.grad_b, r.grad_x)]
        b = [float(v) for v in flatten(f.W, f.b, f.loss, f.grad_W, f.grad_b, f.grad_x)]
        np.testing.assert_allclose(b, a, rtol=1e-40, atol=1e-300)
        for row in range(len(spec.examples)):
            za = [float(v) for v in flatten(r.examples[row].z, r.examples[row].delta)]
            zb = [float(v) for v in flatten(f.examples[row].z, f.examples[row].delta)]
            np.testing.assert_allclose(zb, za, rtol=1e-40, atol=1e-300)


def test_verify_confirms_an_online_text_at_full_float64_precision() -> None:
    """Final weights printed with 17 digits by a per-example NumPy loop, claimed at epoch 20."""
    from symbp.verify import verify

    params, losses = numpy_online(20)
    data = online(batch_size=1, shuffle=False)
    data["claims"] = [
        {"of": "W[0][0][1]", "epoch": 20, "printed": repr(float(params[0][0, 1]))},
        {"of": "W[1][0][1]", "epoch": 20, "printed": repr(float(params[2][0, 1]))},
        {"of": "b[1][0]", "epoch": 20, "printed": repr(float(params[3][0]))},
        {"of": "epoch_loss", "epoch": 20, "printed": f"{np.mean(losses[-3:]):.6f}"},
        {"of": "epoch_loss", "epoch": 1, "printed": f"{np.mean(losses[:3]):.6f}"},
    ]
    report = verify(load(data))
    assert report.passed, report.summary()
    assert report.counts()["confirmed"] == 5


def test_eval_cli_epochs_and_arithmetic(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import yaml

    from symbp.cli import main

    path = tmp_path / "online.yaml"
    path.write_text(yaml.safe_dump(online(batch_size=1)))
    assert main(["eval", str(path), "--epochs", "2", "--arithmetic", "float32", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arithmetic"] == "float32" and len(out["steps"]) == 7
    assert out["schedule"]["steps_per_epoch"] == 3
    params, losses = numpy_online(2)
    np.testing.assert_allclose(out["steps"][-1]["W"][0], params[0], rtol=1e-6)
    np.testing.assert_allclose(out["steps"][6]["epoch_loss"], np.mean(losses[3:]), rtol=1e-6)
    assert out["steps"][0]["grad_x"] and out["steps"][0]["update_W"]
