"""``symbp check`` of a text against a conv net: its numbers identified as the conv
quantities of the exact run, and numbers printed with a classic slip (kernel not rotated,
the max-pool gradient sent to the whole window, sum pooling) named by that slip. The
numbers of the texts come from independent NumPy loops (tests/conv_numpy.py and below)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conv_numpy import CONV_YAML, numpy_net

from symbp.cli import main

RAW = yaml.safe_load(CONV_YAML)
W, B = RAW["params"]["W"], RAW["params"]["b"]
X = RAW["example"]["x"]


def _check(tmp_path: Path, spec: str, text: str, capsys: Any, *args: str) -> list[dict[str, Any]]:
    (tmp_path / "net.yaml").write_text(spec, encoding="utf-8")
    (tmp_path / "text.md").write_text(text, encoding="utf-8")
    code = main(
        ["check", str(tmp_path / "text.md"), "--spec", str(tmp_path / "net.yaml"), "--json", *args]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)["numbers"]  # type: ignore[no-any-return]


def test_check_identifies_conv_quantities_and_names_the_window_gradient(
    tmp_path: Path, capsys: Any
) -> None:
    right = numpy_net(W, B, X, 1.0)
    spread = numpy_net(W, B, X, 1.0, spread=True)
    text = (
        f"E = {right['loss']:.6f}; the output y = {right['grad_bd'][0] + 1:.6f}; "
        f"dE/dK = {right['grad_K'][1, 0, 0, 0]:.6f}; dE/db = {right['grad_bd'][0]:.6f}; "
        f"dE/dx = {spread['grad_x'][0, 2, 2]:.6f}.\n"
    )
    numbers = _check(tmp_path, CONV_YAML, text, capsys, "--steps", "0")
    found = [(n["verdict"], n["quantity"], n["cause"], n["explained"]) for n in numbers]
    assert found == [
        ("confirmed", "loss", None, False),
        ("confirmed", "a[4][0]", None, False),
        ("confirmed", "grad_W[0][1][0][0][0]", None, False),
        ("confirmed", "delta[3][0]", None, False),
        ("near", "grad_x[0][2][2]", "window-gradient", True),
    ]
    assert numbers[4]["exact"] == pytest.approx(right["grad_x"][0, 2, 2], rel=1e-12)
    assert numbers[4]["convention"].startswith("max-pooling's gradient sent to every position")


def test_check_names_sum_pooling(tmp_path: Path, capsys: Any) -> None:
    spec = CONV_YAML.replace("{pool: max, size: 2}", "{pool: avg, size: 2}")
    right = numpy_net(W, B, X, 1.0, pool="avg")
    slipped = numpy_net(W, B, X, 1.0, pool="sum")
    text = f"avg {right['a2'][1, 0, 0]:.5f} and summed {slipped['a2'][0, 0, 1]:.5f}\n"
    numbers = _check(tmp_path, spec, text, capsys, "--steps", "0")
    assert [(n["verdict"], n["quantity"], n["cause"]) for n in numbers] == [
        ("confirmed", "a[2][1][0][0]", None),
        ("near", "a[2][0][0][1]", "sum-pooling"),
    ]
    assert numbers[1]["exact"] == pytest.approx(right["a2"][0, 0, 1], rel=1e-12)


NOT_ROTATED = """\
name: conv-4x4
input: [1, 4, 4]
layers:
  - {conv: 1, kernel: 2, activation: identity}
  - flatten
  - {dense: 1, activation: sigmoid}
loss: bce
optimizer: {name: sgd, learning_rate: 0.5}
params:
  W: [[[[[0.5, 0.25], [-0.75, 0.125]]]], null,
      [[0.25, -0.5, 0.125, 0.5, -0.25, 0.375, -0.125, 1, 0.75]]]
  b: [[0], null, [0]]
example:
  x: [[[0.5, 1, 0, -1], [2, 0, 1, 0.5], [-0.5, 1, 1, 0], [0, 2, -1, 1]]]
  t: [1]
"""


def _not_rotated_numpy() -> tuple[Any, Any, Any]:
    data = yaml.safe_load(NOT_ROTATED)
    K = np.array(data["params"]["W"][0][0][0], dtype=float)
    Wd = np.array(data["params"]["W"][2][0], dtype=float)
    x = np.array(data["example"]["x"][0], dtype=float)
    z = np.array([[np.sum(x[i : i + 2, j : j + 2] * K) for j in range(3)] for i in range(3)])
    y = 1 / (1 + np.exp(-(Wd @ z.reshape(-1))))
    delta = (y - 1) * Wd.reshape(3, 3)
    right, slip = np.zeros((4, 4)), np.zeros((4, 4))
    for i in range(3):
        for j in range(3):
            right[i : i + 2, j : j + 2] += delta[i, j] * K
            slip[i : i + 2, j : j + 2] += delta[i, j] * K[::-1, ::-1]
    return right, slip, z


def test_check_names_the_kernel_not_rotated(tmp_path: Path, capsys: Any) -> None:
    right, slip, z = _not_rotated_numpy()
    assert abs(slip[1, 3] - right[1, 3]) > 0.1
    text = f"z = {z[1, 1]:.4f}, dE/dx[1][1] = {right[1, 1]:.5f}, dE/dx[1][3] = {slip[1, 3]:.5f}\n"
    numbers = _check(tmp_path, NOT_ROTATED, text, capsys, "--steps", "0")
    assert [(n["verdict"], n["quantity"], n["cause"]) for n in numbers] == [
        ("confirmed", "a[1][0][1][1]", None),  # identity: a = z
        ("confirmed", "grad_x[0][1][1]", None),
        ("near", "grad_x[0][1][3]", "kernel-not-rotated"),
    ]
    assert numbers[2]["exact"] == pytest.approx(right[1, 3], rel=1e-12)
    assert "kernel not rotated" in numbers[2]["convention"]


def test_check_text_report_names_the_slip(tmp_path: Path, capsys: Any) -> None:
    _, slip, _ = _not_rotated_numpy()
    (tmp_path / "net.yaml").write_text(NOT_ROTATED, encoding="utf-8")
    (tmp_path / "text.md").write_text(f"gradient {slip[1, 3]:.5f}\n", encoding="utf-8")
    args = ["check", str(tmp_path / "text.md"), "--spec", str(tmp_path / "net.yaml")]
    assert main([*args, "--steps", "0"]) == 0
    out = capsys.readouterr().out
    assert "grad_x[0][1][3] at step 0: near" in out
    assert "input gradient with the kernel not rotated" in out
    assert out.rstrip().endswith("1 near (1 explained), 0 unmatched (steps 0..0 of conv-4x4)")


def test_check_of_a_conv_net_refuses_too_many_steps(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "net.yaml").write_text(NOT_ROTATED, encoding="utf-8")
    (tmp_path / "text.md").write_text("0.5\n", encoding="utf-8")
    args = ["check", str(tmp_path / "text.md"), "--spec", str(tmp_path / "net.yaml")]
    assert main([*args, "--steps", "51"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == (
        "symbp check: error: --steps: check evaluates at most 50 steps, found 51\n"
    )
    assert not (tmp_path / "text.md.html").exists()


def test_check_precision_reads_conv_claims(tmp_path: Path, capsys: Any) -> None:
    right, _, z = _not_rotated_numpy()
    printed = f"{right[1, 1]:.5f}"
    spec = NOT_ROTATED + f"claims: [{{of: 'grad_x[0][1][1]', printed: '{printed}'}}]\n"
    (tmp_path / "net.yaml").write_text(spec, encoding="utf-8")
    (tmp_path / "text.md").write_text(f"z {z[0, 0]:.4f} and {printed}\n", encoding="utf-8")
    args = ["check", str(tmp_path / "text.md"), "--spec", str(tmp_path / "net.yaml"), "--json"]
    assert main([*args, "--steps", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["precision"] == {"claimed": 1, "identified": 1, "right": 1, "precision": 1.0}
