"""The convention search: a "text" computed under another convention is explained.

The printed numbers here come from an independent NumPy implementation of a
small dense network (forward pass and hand-written backward pass), run under a
convention other than the spec's; verify must name that convention.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from symbp.verify import CONFIRMED, MISMATCH, verify

SIG = (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a))
TANH = (np.tanh, lambda a: 1 - a**2)


def reference(
    W: list[Any],
    b: list[Any],
    examples: list[tuple[list[float], list[float]]],
    *,
    acts: list[Any],
    loss: str = "half_sse",
    log: Any = np.log,
    lr: float = 0.5,
    steps: int = 1,
    update_b: bool = True,
    reduce_examples: str = "mean",
) -> list[dict[str, Any]]:
    """Forward values, loss and gradients of E at each step (independent of symbp)."""
    W = [np.array(w, dtype=float) for w in W]
    b = [np.array(v, dtype=float) for v in b]
    out = []
    for _ in range(steps + 1):
        gW = [np.zeros_like(w) for w in W]
        gb = [np.zeros_like(v) for v in b]
        losses, first = [], None
        for x, t in examples:
            a = [np.array(x, dtype=float)]
            for w, v, (f, _) in zip(W, b, acts, strict=True):
                a.append(f(w @ a[-1] + v))
            y, tt = a[-1], np.array(t, dtype=float)
            if loss == "half_sse":
                L, dy = 0.5 * ((y - tt) ** 2).sum(), y - tt
            elif loss == "sse":
                L, dy = ((y - tt) ** 2).sum(), 2 * (y - tt)
            elif loss == "mse":
                L, dy = ((y - tt) ** 2).mean(), 2 * (y - tt) / len(y)
            else:  # bce with the given logarithm
                c = log(np.e)
                L = -(tt * log(y) + (1 - tt) * log(1 - y)).sum()
                dy = c * (-(tt / y) + (1 - tt) / (1 - y))
            delta = dy * acts[-1][1](a[-1])
            deltas = [delta]
            for l in range(len(W) - 1, 0, -1):
                delta = (W[l].T @ delta) * acts[l - 1][1](a[l])
                deltas.insert(0, delta)
            for l in range(len(W)):
                gW[l] += np.outer(deltas[l], a[l])
                gb[l] += deltas[l]
            losses.append(L)
            first = first or {"a": a, "delta": deltas}
        m = 1 if reduce_examples == "sum" else len(examples)
        gW = [g / m for g in gW]
        gb = [g / m for g in gb]
        out.append(
            {
                "W": [w.copy() for w in W],
                "a": first["a"],
                "loss": sum(losses) / m,
                "grad_W": gW,
                "grad_b": gb,
            }
        )
        W = [w - lr * g for w, g in zip(W, gW, strict=True)]
        if update_b:
            b = [v - lr * g for v, g in zip(b, gb, strict=True)]
    return out


P2 = {"W": [[[0.15, -0.2], [0.25, 0.3]], [[0.4, -0.45], [0.5, 0.55], [-0.6, 0.35]]],
      "b": [[0.1, -0.1], [0.2, 0.05, -0.3]]}  # fmt: skip
X2 = [0.5, -0.3]
T3 = [0.2, 0.9, 0.4]
BASE: dict[str, Any] = {
    "name": "conv",
    "layers": [2, 2, 3],
    "activations": "sigmoid",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": P2,
    "example": {"x": X2, "t": T3},
}


def spec_with(claims: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(changes)
    out["claims"] = claims
    return out


def printed(value: float, decimals: int = 6) -> str:
    return f"{value:.{decimals}f}"


def labels(report: Any, index: int = 0) -> list[str]:
    return [f.label for f in report.results[index].findings]


def test_reference_agrees_with_symbp_for_the_spec_convention() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], steps=2)
    claims = [
        {"of": "loss", "step": 2, "printed": printed(ref[2]["loss"], 10)},
        {"of": "grad_W[0][1][0]", "step": 1, "printed": printed(ref[1]["grad_W"][0][1][0], 10)},
        {"of": "a[2][2]", "step": 2, "printed": printed(ref[2]["a"][2][2], 10)},
    ]
    report = verify(spec_with(claims))
    assert [r.verdict for r in report.results] == [CONFIRMED] * 3
    assert report.passed


@pytest.mark.parametrize(
    ("loss", "expected"),
    [("sse", "SSE (the sum of squared errors"), ("mse", "MSE (the mean")],
)
def test_loss_scaling_is_found(loss: str, expected: str) -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], loss=loss)
    claims = [
        {"of": "loss", "step": 0, "printed": printed(ref[0]["loss"])},
        {"of": "dE/dw^1_21", "step": 0, "printed": printed(ref[0]["grad_W"][0][1][0], 8)},
    ]
    report = verify(spec_with(claims))
    for i in (0, 1):
        assert report.results[i].verdict == MISMATCH
        assert expected in labels(report, i)[0]
    assert not report.passed


def test_half_sse_is_found_when_the_spec_says_mse() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], loss="half_sse")
    report = verify(spec_with([{"of": "E", "printed": printed(ref[0]["loss"])}], loss="mse"))
    assert "½·SSE" in labels(report)[0]


@pytest.mark.parametrize(("log", "base"), [(np.log2, "base 2"), (np.log10, "base 10")])
def test_log_base_is_found(log: Any, base: str) -> None:
    W = [[[0.3, -0.2], [0.1, 0.4]], [[0.5, -0.7]]]
    b = [[0.0, 0.1], [0.2]]
    ref = reference(W, b, [([1.0, 2.0], [1.0])], acts=[SIG, SIG], loss="bce", log=log)
    claims = [
        {"of": "loss", "printed": printed(ref[0]["loss"])},
        {"of": "grad_W[1][0][1]", "printed": printed(ref[0]["grad_W"][1][0][1])},
    ]
    spec = {
        **copy.deepcopy(BASE),
        "layers": [2, 2, 1],
        "loss": "bce",
        "params": {"W": W, "b": b},
        "example": {"x": [1.0, 2.0], "t": [1]},
        "claims": claims,
    }
    report = verify(spec)
    for i in (0, 1):
        assert base in labels(report, i)[0]


def test_step_off_by_one_and_value_before_the_update() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], steps=2)
    claims = [
        {"of": "a[2][1]", "step": 2, "printed": printed(ref[1]["a"][2][1], 7)},
        {"of": "W[1][0][0]", "step": 1, "printed": printed(ref[0]["W"][1][0][0], 7)},
        {"of": "a[2][1]", "step": 1, "printed": printed(ref[2]["a"][2][1], 7)},
    ]
    report = verify(spec_with(claims))
    assert "step 1 instead of 2 (one update fewer)" in labels(report, 0)
    assert "the value before update 1 (step 0)" in labels(report, 1)
    assert "step 2 instead of 1 (one update more)" in labels(report, 2)


def test_learning_rate_not_applied() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], lr=1.0)
    claims = [{"of": "w^1_11", "step": 1, "printed": printed(ref[1]["W"][0][0][0], 8)}]
    # η = 0.25, not 0.5: with η = 0.5 "η not applied" and "SSE instead of ½·SSE" coincide
    report = verify(spec_with(claims, optimizer={"name": "sgd", "learning_rate": 0.25}))
    assert labels(report)[0] == "the learning rate not applied (η = 1 instead of 0.25)"


def test_transposed_index_and_sign() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG])
    claims = [
        {"of": "grad_W[1][0][1]", "printed": printed(ref[0]["grad_W"][1][1][0], 8)},
        {"of": "grad_b[1][2]", "printed": printed(-ref[0]["grad_b"][1][2], 8)},
    ]
    report = verify(spec_with(claims))
    assert any(label.startswith("weight indices transposed: grad_W[1][1][0]")
               for label in labels(report, 0))  # fmt: skip
    assert "the opposite sign (error taken as t − y)" in labels(report, 1)


def test_tanh_instead_of_sigmoid() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[TANH, SIG])
    report = verify(spec_with([{"of": "y[0]", "printed": printed(ref[0]["a"][2][0])}]))
    assert "tanh instead of sigmoid in layer 1" in labels(report)


def test_biases_updated_or_fixed() -> None:
    ref = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], update_b=True)
    claim = [{"of": "a[2][0]", "step": 1, "printed": printed(ref[1]["a"][2][0], 8)}]
    report = verify(spec_with(claim, frozen=["b"]))
    assert "the biases updated too (the spec keeps them fixed)" in labels(report)
    fixed = reference(P2["W"], P2["b"], [(X2, T3)], acts=[SIG, SIG], update_b=False)
    claim = [{"of": "a[2][0]", "step": 1, "printed": printed(fixed[1]["a"][2][0], 8)}]
    assert "the biases kept fixed (not updated)" in labels(verify(spec_with(claim)))


def test_sums_over_examples() -> None:
    examples = [(X2, T3), ([0.1, 0.9], [0.5, 0.1, 0.7])]
    ref = reference(P2["W"], P2["b"], examples, acts=[SIG, SIG], reduce_examples="sum")
    claims = [
        {"of": "loss", "printed": printed(ref[0]["loss"])},
        {"of": "W[0][1][1]", "step": 1, "printed": printed(ref[1]["W"][0][1][1], 8)},
    ]
    spec = spec_with(claims, examples=[{"x": x, "t": t} for x, t in examples])
    del spec["example"]
    report = verify(spec)
    # 2 x mean(½·SSE) = mean(SSE): both conventions reproduce it
    assert "summed over the 2 examples instead of averaged" in labels(report, 0)
    assert "SSE (the sum of squared errors" in labels(report, 0)[0]
    assert "gradients summed over the 2 examples instead of averaged" in labels(report, 1)


def test_rounded_starting_parameters_are_found() -> None:
    """The exact-weight spec against a value computed from the figure's 3-decimal weights."""
    W1 = [[0.179, 0.044, 0.010], [-0.186, -0.028, -0.035],
          [-0.008, -0.063, -0.004], [-0.048, -0.131, 0.088]]  # fmt: skip
    W2 = [[0.088, 0.171, 0.005, -0.040]]
    ref = reference(
        [W1, W2], [[0] * 4, [0]], [([7, 8, 10], [1])], acts=[SIG, SIG], loss="bce", steps=3
    )
    spec = {
        "layers": [3, 4, 1],
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "init": {"name": "normal", "std": 0.1, "seed": 3, "generator": "legacy"},
        "example": {"x": [7, 8, 10], "t": [1]},
        "claims": [{"of": "a[2][0]", "step": 3, "printed": printed(ref[3]["a"][2][0], 5)}],
    }
    report = verify(spec)
    assert report.results[0].verdict == MISMATCH
    assert labels(report)[0] == "the parameters rounded to 3 decimals (as a figure prints them)"


def test_no_convention_is_claimed_for_an_unrelated_number() -> None:
    report = verify(spec_with([{"of": "a[2][0]", "printed": 0.123456}]))
    assert report.results[0].verdict == MISMATCH
    assert report.results[0].findings == ()
    assert report.results[0].explanation == "no listed convention reproduces it"


def test_gradient_summed_over_examples_and_sequential_hidden_gradients() -> None:
    examples = [(X2, T3), ([0.1, 0.9], [0.5, 0.1, 0.7])]
    ref = reference(P2["W"], P2["b"], examples, acts=[SIG, SIG], reduce_examples="sum")
    spec = spec_with(
        [{"of": "grad_W[1][2][0]", "printed": printed(ref[0]["grad_W"][1][2][0], 8)}],
        examples=[{"x": x, "t": t} for x, t in examples],
    )
    del spec["example"]
    found = labels(verify(spec))
    assert "the gradient of the loss summed over the 2 examples instead of averaged" in found
    # hidden gradient through the already-updated output weights, at step 0
    W = [np.array(w) for w in P2["W"]]
    a0 = np.array(X2)
    a1 = SIG[0](W[0] @ a0 + np.array(P2["b"][0]))
    a2 = SIG[0](W[1] @ a1 + np.array(P2["b"][1]))
    d2 = (a2 - np.array(T3)) * a2 * (1 - a2)
    W1_new = W[1] - 0.5 * np.outer(d2, a1)
    d1 = (W1_new.T @ d2) * a1 * (1 - a1)
    claim = [{"of": "grad_W[0][1][0]", "printed": printed(d1[1] * a0[0], 9)}]
    assert labels(verify(spec_with(claim)))[0] == (
        "hidden-layer gradients back-propagated through the already-updated weights above"
    )
