"""``symbp check`` of a text against a recurrent net: its numbers identified as per-step
quantities with their time step (``h[0][1] at t=2``), and numbers printed with a usual BPTT
slip (the last step's loss only, the recurrent term left out, the loss averaged over the
steps, the full-BPTT gradient under truncation) named by that slip. The numbers of the
texts come from an independent NumPy loop of the Elman net (below)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from symbp.cli import main

ELMAN = Path(__file__).parent / "data" / "elman_3step.yaml"
RAW = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))


def numpy_elman(
    *, weights: str = "sum", recurrent: bool = True, bptt: int | None = None
) -> dict[str, Any]:
    """The Elman net of ``elman_3step.yaml`` (tanh, dense identity, half SSE at every step)
    by a plain loop: ``h`` by step, ``dh[t]`` = ∂E/∂h_t, ``gW``, ``gU``, ``gb``, ``E``;
    ``weights`` ``sum``/``mean``/``last``, ``recurrent=False`` drops the term from t+1,
    ``bptt`` carries each step's loss back at most that many steps."""
    W, W1 = (np.array(w, dtype=float) for w in RAW["params"]["W"])
    U = np.array(RAW["params"]["U"][0], dtype=float)
    b, b1 = (np.array(v, dtype=float) for v in RAW["params"]["b"])
    xs = np.array(RAW["example"]["x"], dtype=float)
    ts = np.array(RAW["example"]["t"], dtype=float)
    T, n = len(xs), len(b)
    hs, h = [np.zeros(n)], np.zeros(n)
    for t in range(T):
        h = np.tanh(W @ xs[t] + U @ h + b)
        hs.append(h)
    ys = [W1 @ hs[t + 1] + b1 for t in range(T)]
    losses = [0.5 * float(((ys[t] - ts[t]) ** 2).sum()) for t in range(T)]
    scale = {"sum": [1.0] * T, "mean": [1.0 / T] * T, "last": [0.0] * (T - 1) + [1.0]}[weights]
    local = [scale[t] * (W1.T @ (ys[t] - ts[t])) for t in range(T)]
    dh = [np.zeros(n) for _ in range(T)]
    reach = T if bptt is None else bptt
    for t in range(T):  # the loss of step t+1 carried back
        g = local[t]
        for tau in range(t, max(-1, t - reach), -1):
            dh[tau] = dh[tau] + g
            if not recurrent:
                break
            g = U.T @ (g * (1 - hs[tau + 1] ** 2))
    gW, gU, gb = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    for t in range(T):
        dz = dh[t] * (1 - hs[t + 1] ** 2)
        gW += np.outer(dz, xs[t])
        gU += np.outer(dz, hs[t])
        gb += dz
    E = sum(s * L for s, L in zip(scale, losses, strict=True))
    return {"h": hs[1:], "y": ys, "L": losses, "E": E, "dh": dh, "gW": gW, "gU": gU, "gb": gb}


def _check(tmp_path: Path, data: dict[str, Any], text: str, capsys: Any) -> dict[str, Any]:
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "text.md").write_text(text, encoding="utf-8")
    args = ["check", str(tmp_path / "text.md"), "--spec", str(tmp_path / "net.yaml")]
    assert main([*args, "--json", "--steps", "0"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _found(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (n["verdict"], n["quantity"], n.get("time"), n["cause"], n["explained"])
        for n in report["numbers"]
    ]


def test_check_names_per_step_quantities_with_their_time_step(tmp_path: Path, capsys: Any) -> None:
    r = numpy_elman()
    text = (
        f"The hidden states: h1 = {r['h'][0][1]:.6f}, h2 = {r['h'][1][1]:.6f}, "
        f"h3 = {r['h'][2][1]:.6f}. The losses {r['L'][0]:.6f} and {r['L'][2]:.6f} "
        f"sum to E = {r['E']:.6f}. Backward: dE/dh_2 = {r['dh'][1][0]:.6f}, "
        f"dE/dh_1 = {r['dh'][0][2]:.6f}; dE/dU = {r['gU'][0][1]:.6f}, "
        f"dE/dW = {r['gW'][2][1]:.6f}, dE/db = {r['gb'][1]:.6f}.\n"
    )
    report = _check(tmp_path, RAW, text, capsys)
    assert _found(report) == [
        ("confirmed", "h[0][1]", 1, None, False),
        ("confirmed", "h[0][1]", 2, None, False),
        ("confirmed", "h[0][1]", 3, None, False),
        ("confirmed", "loss", 1, None, False),
        ("confirmed", "loss", 3, None, False),
        ("confirmed", "loss", None, None, False),
        ("confirmed", "delta_h[0][0]", 2, None, False),
        ("confirmed", "delta_h[0][2]", 1, None, False),
        ("confirmed", "grad_U[0][0][1]", None, None, False),
        ("confirmed", "grad_W[0][2][1]", None, None, False),
        ("confirmed", "grad_b[0][1]", None, None, False),
    ]
    assert report["numbers"][1]["exact"] == pytest.approx(r["h"][1][1], rel=1e-12)
    assert report["counts"] == {"confirmed": 11, "truncated": 0, "near": 0, "unmatched": 0}


def test_the_text_report_labels_the_time_step(tmp_path: Path, capsys: Any) -> None:
    r = numpy_elman()
    (tmp_path / "text.md").write_text(f"h = {r['h'][1][1]:.6f}\n", encoding="utf-8")
    assert main(["check", str(tmp_path / "text.md"), "--spec", str(ELMAN), "--steps", "0"]) == 0
    out = capsys.readouterr().out
    assert "h[0][1] at t=2, step 0: confirmed (exact 0.249694727)" in out


SLIPPED = [
    ("last-step-only", {"weights": "last"}, "the gradient of the last step's loss only"),
    ("no-recurrent-term", {"recurrent": False}, "the recurrent term left out of ∂E/∂h_t"),
    ("mean-over-steps", {"weights": "mean"}, "the loss averaged over the steps"),
]


@pytest.mark.parametrize(("cause", "how", "label"), SLIPPED, ids=[c for c, _, _ in SLIPPED])
def test_check_names_the_usual_bptt_slips(
    cause: str, how: dict[str, Any], label: str, tmp_path: Path, capsys: Any
) -> None:
    right, slipped = numpy_elman(), numpy_elman(**how)
    assert abs(right["gW"][1][1] - slipped["gW"][1][1]) > 1e-3
    text = f"h = {right['h'][0][0]:.6f}; dE/dW = {slipped['gW'][1][1]:.6f}\n"
    report = _check(tmp_path, RAW, text, capsys)
    assert _found(report) == [
        ("confirmed", "h[0][0]", 1, None, False),
        ("near", "grad_W[0][1][1]", None, cause, True),
    ]
    number = report["numbers"][1]
    assert number["exact"] == pytest.approx(right["gW"][1][1], rel=1e-12)
    assert number["convention"].startswith(label)


def test_check_names_the_full_bptt_gradient_under_truncation(tmp_path: Path, capsys: Any) -> None:
    data = dict(RAW, training={"bptt": 2})
    cut, full = numpy_elman(bptt=2), numpy_elman()
    assert abs(cut["dh"][0][0] - full["dh"][0][0]) > 1e-3
    text = f"dE/dh_1 = {full['dh'][0][0]:.6f}, dE/dW = {cut['gW'][0][0]:.6f}\n"
    report = _check(tmp_path, data, text, capsys)
    assert _found(report) == [
        ("near", "delta_h[0][0]", 1, "full-bptt", True),
        ("confirmed", "grad_W[0][0][0]", None, None, False),
    ]
    assert report["numbers"][0]["exact"] == pytest.approx(cut["dh"][0][0], rel=1e-12)
    assert "truncates (bptt: k)" in report["numbers"][0]["convention"]


def test_precision_compares_the_identifications_with_claims_with_time(
    tmp_path: Path, capsys: Any
) -> None:
    r = numpy_elman()
    h1, h2, h3 = (f"{r['h'][t][0]:.6f}" for t in range(3))
    data = dict(RAW, claims=[
        {"of": "h[0][0]", "time": 1, "example": 0, "printed": h1},  # the only example
        {"of": "h[0][0]", "time": 2, "printed": h2},
        {"of": "h[0][0]", "time": 1, "printed": h3},  # the claim names the wrong step
    ])  # fmt: skip
    report = _check(tmp_path, data, f"h_1 = {h1}, h_2 = {h2}, h_3 = {h3}\n", capsys)
    assert [n.get("time") for n in report["numbers"]] == [1, 2, 3]
    assert report["precision"] == {
        "claimed": 3,
        "identified": 3,
        "right": 2,
        "precision": pytest.approx(2 / 3),
    }
