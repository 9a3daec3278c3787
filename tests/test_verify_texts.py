"""Issue 14: conventions of real texts, recognised from an independent NumPy "text".

Each test runs a plain NumPy training loop the way a tutorial writes it, prints a
number from it, and checks that verify names the convention the loop used.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

import symbp
from symbp.verify import CONFIRMED, CONSISTENT, MISMATCH

PARAMS = {"W": [[[0.15, -0.2], [0.25, 0.3]], [[0.4, -0.45]]], "b": [[0.1, -0.1], [0.2]]}
EXAMPLES = [([0.5, -0.3], [1.0]), ([0.1, 0.9], [0.0]), ([-0.7, 0.2], [1.0])]
BASE: dict[str, Any] = {
    "name": "text",
    "layers": [2, 2, 1],
    "activations": "sigmoid",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": PARAMS,
    "examples": [{"x": x, "t": t} for x, t in EXAMPLES],
}


def sig(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def forward_backward(W: list, b: list, x: list, t: list) -> tuple:
    """One example: the ½·SSE loss, the gradients and the input gradient."""
    a0 = np.array(x)
    a1 = sig(W[0] @ a0 + b[0])
    y = sig(W[1] @ a1 + b[1])
    d2 = (y - np.array(t)) * y * (1 - y)
    d1 = (W[1].T @ d2) * a1 * (1 - a1)
    grads = ([np.outer(d1, a0), np.outer(d2, a1)], [d1, d2])
    return 0.5 * ((y - np.array(t)) ** 2).sum(), grads, W[0].T @ d1


def start() -> tuple[list, list]:
    return [np.array(w) for w in PARAMS["W"]], [np.array(v) for v in PARAMS["b"]]


def online_epoch(lr: float = 0.5) -> tuple[list, list, float]:
    """One epoch as a from-scratch tutorial trains: one update per row, rows in order;
    it prints the epoch's loss as Σ (y − t)² over the rows (summed, no ½)."""
    W, b = start()
    printed_loss = 0.0
    for x, t in EXAMPLES:
        loss, (gW, gb), _ = forward_backward(W, b, x, t)
        printed_loss += 2 * loss
        W = [w - lr * g for w, g in zip(W, gW, strict=True)]
        b = [v - lr * g for v, g in zip(b, gb, strict=True)]
    return W, b, printed_loss


def with_claims(claims: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(changes)
    out["claims"] = claims
    return out


def test_epoch_loss_printed_as_summed_sse_is_explained_with_sum() -> None:
    _, _, printed = online_epoch()
    spec = with_claims(
        [{"of": "epoch_loss", "epoch": 1, "printed": f"{printed:.6f}"}],
        training={"batch_size": 1, "shuffle": False},
    )
    (result,) = symbp.verify(spec).results
    assert result.verdict == MISMATCH and result.grade == "mismatch explained"
    assert result.explanation.startswith("summed over the epoch's steps (3) instead of averaged")
    assert "SSE (the sum of squared errors, no ½)" in result.explanation


def test_online_loop_checked_against_a_full_batch_spec_names_the_schedule() -> None:
    W, _, _ = online_epoch()
    spec = with_claims([{"of": "W[0][0][1]", "epoch": 1, "printed": f"{W[0][0, 1]:.8f}"}])
    (result,) = symbp.verify(spec).results
    assert result.verdict == MISMATCH
    labels = [f.label for f in result.findings]
    assert "online updates (one per example, rows in order) instead of full-batch updates" in (
        labels
    )
    # ... and the same spec with the text's schedule confirms it
    fixed = with_claims(spec["claims"], training={"batch_size": 1, "shuffle": False})
    assert symbp.verify(fixed).results[0].verdict == CONFIRMED


def test_a_printed_step_eta_g_is_recognised_naming_the_learning_rate() -> None:
    W, b = start()
    grads = [forward_backward(W, b, x, t)[1][0][1] for x, t in EXAMPLES]
    g = np.mean(grads, axis=0)[0, 0]
    spec = with_claims([{"of": "dE/dw^2_11", "printed": f"{0.5 * g:.6f}"}])
    (result,) = symbp.verify(spec).results
    assert result.findings and "η·g" in result.findings[0].label
    assert "learning rate η = 0.5" in result.findings[0].label


def test_input_gradients_are_confirmed() -> None:
    W, b = start()
    grad_x = np.mean([forward_backward(W, b, x, t)[2] for x, t in EXAMPLES], axis=0)
    one = forward_backward(W, b, *EXAMPLES[1])[2]
    spec = with_claims([
        {"of": "grad_x[0]", "printed": f"{grad_x[0]:.8f}"},
        {"of": "grad_x[1]", "printed": f"{grad_x[1]:.8f}"},
        {"of": "grad_x[1][0]", "printed": f"{one[0]:.8f}"},
    ])  # fmt: skip
    report = symbp.verify(spec)
    assert [r.verdict for r in report.results] == [CONFIRMED] * 3


def test_float32_training_is_named_for_a_long_printed_number() -> None:
    spec = symbp.load(BASE)
    trainer = symbp.compile(spec, dtype="float32")
    X = np.array([x for x, _ in EXAMPLES], dtype=np.float32)
    T = np.array([t for _, t in EXAMPLES], dtype=np.float32)
    trainer.fit(X, T, epochs=20, batch_size=3, shuffle=False)
    value = float(trainer.params[0][0][0][0])
    # no time budget: the verdict is checked here, and a loaded machine may be slow
    (result,) = symbp.verify(
        with_claims([{"of": "W[0][0][0]", "step": 20, "printed": f"{value:.9f}"}]), time_limit=0
    ).results
    labels = [f.label for f in result.findings]
    assert result.verdict == MISMATCH  # exact arithmetic differs in the 8th digit
    assert any(label.startswith("computed in float32 arithmetic") for label in labels)


def test_carried_rounding_from_a_printed_intermediate_is_not_called_truncated() -> None:
    """ŷ printed rounded (0.4502 for 0.45017); the loss ½(1 − 0.4502)² = 0.15114 printed
    as 0.1511, which only truncates the exact 0.15116: consistent, naming claim #0."""
    spec = {
        "layers": [2, 1], "activations": "sigmoid", "loss": "half_sse",
        "params": {"W": [[[0.5, -0.4]]], "b": [[0.1]]},
        "example": {"x": [1, 2], "t": [1]},
        "claims": [{"of": "y", "printed": 0.4502}, {"of": "loss", "printed": 0.1511}],
    }  # fmt: skip
    report = symbp.verify(spec)
    loss = report.results[1]
    assert loss.verdict == CONSISTENT and loss.grade == "consistent"
    assert "truncated" not in loss.explanation
    assert "from the printed a[1][0] = 0.4502 (claim #0)" in loss.explanation
    assert report.passed
    # a truncating author: two truncated numbers, none rounded
    trunc = {**spec, "claims": [{"of": "y", "printed": 0.4501}, {"of": "loss", "printed": 0.1511}]}
    report = symbp.verify(trunc)
    assert [r.verdict for r in report.results] == [CONSISTENT, CONSISTENT]
    assert report.author is not None and report.author.startswith("the author truncates")
