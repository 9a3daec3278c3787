"""Issue 30: carried rounding along the whole computation, and causes ranked by evidence.

Each "text" is an independent NumPy loop written the way its kind of author computes:
a hand calculation that rounds what it prints and goes on from the rounded numbers,
a float32 training loop, a loop that sums its gradients over the batch. verify must
name the cause that explains the text as a whole.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

import symbp
from symbp.verify import CONFIRMED, CONSISTENT, MISMATCH, TRUNCATED, judge, parse_printed
from symbp.verify.compare import float_slack

EXAMPLES = [([0.5, -0.3], [1.0]), ([0.1, 0.9], [0.0]), ([-0.7, 0.2], [1.0])]
W_2_2_1 = [[[0.15, -0.2], [0.25, 0.3]], [[0.4, -0.45]]]


def sig(z: Any) -> Any:
    return 1 / (1 + np.exp(-z))


def test_older_textbook_err6_carried_from_the_printed_output() -> None:
    """Han & Kamber's worked example: 3-2-1 sigmoid net, x = (1, 0, 1), T = 1, η = 0.9.

    The book prints O4 = 0.332, O5 = 0.525, O6 = 0.474 and the output error
    Err6 = O6 (1 − O6)(T − O6) = 0.1311 from the printed O6 (symbp's δ = −Err6). The
    exact δ rounds to −0.1312: only the printed O6 gives −0.1311.
    """
    W0 = np.array([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]])
    b0 = np.array([-0.4, 0.2])
    W1, b1 = np.array([[-0.3, -0.2]]), np.array([0.1])
    x = np.array([1.0, 0.0, 1.0])
    hidden = sig(W0 @ x + b0)
    out = sig(W1 @ hidden + b1)[0]
    o6 = round(out, 3)
    err6 = o6 * (1 - o6) * (1 - o6)
    exact_delta = (out - 1) * out * (1 - out)
    assert (f"{o6:.3f}", f"{-err6:.4f}", f"{exact_delta:.4f}") == ("0.474", "-0.1311", "-0.1312")
    spec = {
        "name": "han-kamber",
        "layers": [3, 2, 1],
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.9},
        "params": {"W": [W0.tolist(), W1.tolist()], "b": [b0.tolist(), b1.tolist()]},
        "example": {"x": [1, 0, 1], "t": [1]},
        "claims": [
            {"of": "O4", "printed": f"{hidden[0]:.3f}"},
            {"of": "O5", "printed": f"{hidden[1]:.3f}"},
            {"of": "O6", "printed": f"{o6:.3f}"},
            {"of": "Err6", "printed": f"{-err6:.4f}"},
        ],
        "names": {"O4": "a[1][0]", "O5": "a[1][1]", "O6": "a[2][0]", "Err6": "delta[1][0]"},
    }
    report = symbp.verify(spec, time_limit=0)
    assert [r.verdict for r in report.results] == [CONFIRMED] * 3 + [CONSISTENT]
    err = report.results[3]
    assert err.grade == "consistent"
    assert err.findings[0].cause == "carried"
    assert (
        err.findings[0].label == "rounding carried on: from the printed a[2][0] = 0.474 (claim #2)"
    )
    assert "truncated" not in err.explanation
    assert float(err.findings[0].value) == -err6
    assert report.passed


def _three_layer() -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    W = [
        np.array([[-0.44, -0.08], [-0.76, 0.05], [-0.18, -0.86]]),
        np.array([[-0.8, 0.97, 0.39], [-0.1, 0.28, -0.46]]),
        np.array([[-0.4, -0.85]]),
    ]
    b = [np.array([-0.89, 0.61, 0.63]), np.array([-0.99, -0.34]), np.array([-0.82])]
    x = np.array([0.6, -0.4])
    a1 = sig(W[0] @ x + b[0])
    a2 = sig(W[1] @ np.round(a1, 3) + b[1])  # from the printed, rounded a[1]
    z3 = W[2] @ np.round(a2, 3) + b[2]  # from the printed, rounded a[2]
    spec = {
        "name": "three-layer",
        "layers": [2, 3, 2, 1],
        "loss": "half_sse",
        "params": {"W": [w.tolist() for w in W], "b": [v.tolist() for v in b]},
        "example": {"x": x.tolist(), "t": [1]},
        "claims": [
            *({"of": f"a[1][{j}]", "printed": f"{a1[j]:.3f}"} for j in range(3)),
            *({"of": f"a[2][{j}]", "printed": f"{a2[j]:.3f}"} for j in range(2)),
            {"of": "z[2][0]", "printed": f"{z3[0]:.4f}"},
        ],
    }
    exact_a2 = sig(W[1] @ a1 + b[1])
    return spec, exact_a2, W[2] @ exact_a2 + b[2]


def test_three_layer_net_computed_from_the_printed_rounded_outputs() -> None:
    spec, exact_a2, exact_z3 = _three_layer()
    # the text's a[2][0] and z[2][0] are not what the exact values round to
    assert spec["claims"][3]["printed"] != f"{exact_a2[0]:.3f}"
    assert spec["claims"][5]["printed"] != f"{exact_z3[0]:.4f}"
    report = symbp.verify(spec, time_limit=0)
    assert [r.verdict for r in report.results] == [CONFIRMED] * 3 + [CONSISTENT, CONFIRMED] + [
        CONSISTENT
    ]
    a20, z3 = report.results[3], report.results[5]
    assert a20.findings[0].label == (
        "rounding carried on: from the printed a[1][0] = 0.246 (claim #0), "
        "a[1][1] = 0.533 (claim #1), a[1][2] = 0.704 (claim #2)"
    )
    # the last layer from the previous layer's printed outputs, itself carried
    assert z3.findings[0].label == (
        "rounding carried on: from the printed a[2][0] = 0.402 (claim #3), "
        "a[2][1] = 0.368 (claim #4)"
    )
    assert z3.explanation.startswith(z3.findings[0].label)
    assert report.passed


def test_cost_from_the_printed_outputs_over_three_examples() -> None:
    W = [np.array(w) for w in W_2_2_1]
    b = [np.array([0.1, -0.1]), np.array([0.2])]
    outputs = [sig(W[1] @ sig(W[0] @ np.array(x) + b[0]) + b[1])[0] for x, _ in EXAMPLES]
    printed = [round(y, 3) for y in outputs]
    cost = np.mean([0.5 * (t[0] - y) ** 2 for y, (_, t) in zip(printed, EXAMPLES, strict=True)])
    exact = np.mean([0.5 * (t[0] - y) ** 2 for y, (_, t) in zip(outputs, EXAMPLES, strict=True)])
    assert (f"{cost:.4f}", f"{exact:.4f}") == ("0.1157", "0.1155")
    spec = {
        "name": "cost-of-three",
        "layers": [2, 2, 1],
        "loss": "half_sse",
        "params": {"W": W_2_2_1, "b": [[0.1, -0.1], [0.2]]},
        "examples": [{"x": x, "t": t} for x, t in EXAMPLES],
        "claims": [
            *({"of": "y", "example": e, "printed": f"{y:.3f}"} for e, y in enumerate(printed)),
            {"of": "cost", "printed": f"{cost:.4f}"},
        ],
    }
    report = symbp.verify(spec, time_limit=0)
    assert [r.verdict for r in report.results] == [CONFIRMED] * 3 + [CONSISTENT]
    assert report.results[3].findings[0].label == (
        "rounding carried on: from the printed a[2][0] of example 0 = 0.551 (claim #0), "
        "a[2][0] of example 1 = 0.537 (claim #1), a[2][0] of example 2 = 0.548 (claim #2)"
    )


def _float32_training(lr: float, steps: int, b00: float) -> list[dict[str, Any]]:
    """Full-batch SGD in float32, as a framework computes: NumPy float32 throughout."""
    f = np.float32
    W = [np.array(w, dtype=f) for w in W_2_2_1]
    b = [np.array([b00, -0.1], dtype=f), np.array([0.2], dtype=f)]
    X = np.array([x for x, _ in EXAMPLES], dtype=f)
    T = np.array([t for _, t in EXAMPLES], dtype=f)
    out = []
    for _ in range(steps + 1):
        gW = [np.zeros_like(w) for w in W]
        gb = [np.zeros_like(v) for v in b]
        loss = f(0)
        for x, t in zip(X, T, strict=True):
            a1 = f(1) / (f(1) + np.exp(-(W[0] @ x + b[0])))
            y = f(1) / (f(1) + np.exp(-(W[1] @ a1 + b[1])))
            loss += f(0.5) * ((y - t) ** 2).sum()
            d2 = (y - t) * y * (f(1) - y)
            d1 = (W[1].T @ d2) * a1 * (f(1) - a1)
            gW = [gW[0] + np.outer(d1, x), gW[1] + np.outer(d2, a1)]
            gb = [gb[0] + d1, gb[1] + d2]
        m = f(len(X))
        out.append({"W": [w.copy() for w in W], "b": [v.copy() for v in b], "loss": loss / m})
        W = [w - f(lr) * g / m for w, g in zip(W, gW, strict=True)]
        b = [v - f(lr) * g / m for v, g in zip(b, gb, strict=True)]
    return out


def test_float32_text_every_claim_explained_by_float32_not_a_coincidence() -> None:
    """A framework's float32 run printed with 8 significant digits. One bias is the
    float32 number nearest 0.1000005, so the parameters rounded to 2 decimals come
    within 10⁻⁷ of the exact ones and happen to reproduce one claim too; float32
    arithmetic reproduces every claim, and is each one's cause."""
    b00 = float(np.float32(0.1000005))
    run = _float32_training(0.5, 5, b00)
    claims = []
    for s in (1, 3, 5):
        claims += [
            {"of": "loss", "step": s, "printed": f"{run[s]['loss']:.8g}"},
            {"of": "W[1][0][0]", "step": s, "printed": f"{run[s]['W'][1][0, 0]:.8g}"},
            {"of": "W[0][1][0]", "step": s, "printed": f"{run[s]['W'][0][1, 0]:.8g}"},
            {"of": "b[0][0]", "step": s, "printed": f"{run[s]['b'][0][0]:.8g}"},
        ]
    spec = {
        "name": "float32-text",
        "layers": [2, 2, 1],
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "params": {"W": W_2_2_1, "b": [[b00, -0.1], [0.2]]},
        "examples": [{"x": x, "t": t} for x, t in EXAMPLES],
        "claims": claims,
    }
    report = symbp.verify(spec, time_limit=0)
    explained = [r for r in report.results if r.verdict != CONFIRMED]
    assert len(explained) >= 5
    for r in explained:
        assert r.verdict in (MISMATCH, TRUNCATED)
        assert r.findings[0].cause == "arith-float32", r.claim.text
        assert r.explanation.startswith("computed in float32 arithmetic")
        assert f"the cause of {len(explained)} of the text's claims" in r.explanation
    coincidences = [r for r in explained if "params-round2" in [f.cause for f in r.findings]]
    assert len(coincidences) == 1  # the coincidence: an alternative, not the cause
    details = coincidences[0].details()
    assert details[0].startswith("computed in float32 arithmetic")
    assert any(d.startswith("alternative: the parameters rounded to 2 decimals") for d in details)


def test_batch_summed_gradients_outrank_carried_rounding() -> None:
    """A loop that sums its gradients over the batch (no 1/m) and updates with them; the
    text prints the summed gradients (5 decimals) and the updated weight it computed
    from its own printed gradient. Every claim's cause: summed over the examples."""
    W = [np.array(w) for w in W_2_2_1]
    b = [np.array([0.1, -0.1]), np.array([0.2])]
    gW = [np.zeros_like(w) for w in W]
    gb = [np.zeros_like(v) for v in b]
    for x, t in EXAMPLES:
        a1 = sig(W[0] @ np.array(x) + b[0])
        y = sig(W[1] @ a1 + b[1])
        d2 = (y - np.array(t)) * y * (1 - y)
        d1 = (W[1].T @ d2) * a1 * (1 - a1)
        gW = [gW[0] + np.outer(d1, x), gW[1] + np.outer(d2, a1)]
        gb = [gb[0] + d1, gb[1] + d2]
    g = round(gW[1][0, 0], 5)
    claims = [
        {"of": "dE/dw^2_11", "printed": f"{g:.5f}"},
        {"of": "dE/dw^2_12", "printed": f"{gW[1][0, 1]:.5f}"},
        {"of": "dE/db^2_1", "printed": f"{gb[1][0]:.5f}"},
        {"of": "dE/dw^1_11", "printed": f"{gW[0][0, 0]:.5f}"},
        {"of": "w^2_11", "step": 1, "printed": f"{0.4 - 0.5 * g:.5f}"},
    ]
    spec = {
        "name": "summed",
        "layers": [2, 2, 1],
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "params": {"W": W_2_2_1, "b": [[0.1, -0.1], [0.2]]},
        "examples": [{"x": x, "t": t} for x, t in EXAMPLES],
        "claims": claims,
    }
    report = symbp.verify(spec, time_limit=0)
    assert [r.verdict for r in report.results] == [MISMATCH] * 5
    for r in report.results:
        assert r.findings[0].cause == "summed-examples", r.claim.text
        assert "summed over the 3 examples instead of averaged" in r.explanation
        assert "the cause of 5 of the text's claims" in r.explanation
    assert not report.passed
    first = report.to_json()["claims"][4]
    assert (first["support"], first["conventions"][0]["cause"]) == (5, "summed-examples")
    # the printed gradient is a mismatch: the update is never "carried" from it
    assert "carried" not in [c["cause"] for c in first["conventions"]]


def test_float_causes_do_not_flip_on_their_own_noise() -> None:
    """A float32 value a hair past the rounding boundary of an 8-digit print: within two
    units in float32's last place it is confirmed, in exact or float64 arithmetic not."""
    printed = parse_printed("0.12345678")
    value = Fraction("0.123456785") + Fraction(1, 10**12)
    assert judge(value, printed) == TRUNCATED
    assert judge(value, printed, slack=float_slack(value, "float64")) == TRUNCATED
    assert judge(value, printed, slack=float_slack(value, "float32")) == CONFIRMED
    assert float_slack(value, "exact") == 0
    assert float_slack(value, "float32") == 2 * abs(value) / 2**23
