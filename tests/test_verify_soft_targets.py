"""Issue 30, item 4: bce and cross_entropy with targets outside [0, 1] (soft targets).

The formulas are defined for any real target (a course notebook uses t = 1.5): eval,
verify and doc evaluate them as written with a one-line note; training refuses such
targets unless the spec asks (``loss: {name: bce, soft_targets: true}``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import symbp
from symbp.cli import main
from symbp.codegen.data import check_targets
from symbp.errors import DataError
from symbp.train.prepare import check_domain
from symbp.verify import CONFIRMED

NOTE = (
    "note: bce with targets outside [0, 1] (example 0: t = [1.5]): the loss is then not a "
    "probability model, its formula is evaluated as written"
)
SPEC: dict[str, Any] = {
    "name": "soft",
    "layers": [2, 1],
    "activations": "sigmoid",
    "loss": "bce",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {"W": [[[0.5, -0.4]]], "b": [[0.1]]},
    "example": {"x": [1.0, 2.0], "t": [1.5]},
}


def _numpy(t: float) -> tuple[float, float, float]:
    """ŷ, the bce loss and ∂L/∂w₁₂ of the one-neuron net, in NumPy."""
    x = np.array([1.0, 2.0])
    y = 1 / (1 + np.exp(-(np.array([0.5, -0.4]) @ x + 0.1)))
    loss = -(t * np.log(y) + (1 - t) * np.log(1 - y))
    grad = (y - t) * x[1]  # bce after a sigmoid: δ = y − t
    return float(y), float(loss), float(grad)


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "soft.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_verify_confirms_soft_target_values_with_the_note() -> None:
    y, loss, grad = _numpy(1.5)
    spec = copy.deepcopy(SPEC)
    spec["claims"] = [
        {"of": "y", "printed": f"{y:.6f}"},
        {"of": "loss", "printed": f"{loss:.6f}"},
        {"of": "dE/dw^1_12", "printed": f"{grad:.6f}"},
    ]
    report = symbp.verify(spec)
    assert [r.verdict for r in report.results] == [CONFIRMED] * 3
    assert report.notes == (NOTE,)
    assert NOTE in report.render("text").splitlines()
    assert report.to_json()["notes"] == [NOTE]
    # targets in [0, 1]: no note
    plain = {**spec, "example": {"x": [1.0, 2.0], "t": [1]}, "claims": spec["claims"][:1]}
    assert symbp.verify(plain).notes == ()


def test_eval_and_doc_take_soft_targets_with_a_one_line_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, SPEC)
    assert main(["eval", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == NOTE + "\n"
    step = json.loads(captured.out)["steps"][0]
    y, loss, _ = _numpy(1.5)
    assert step["loss"] == pytest.approx(loss, abs=1e-12)
    assert step["a"][1][0] == pytest.approx(y, abs=1e-12)
    out = tmp_path / "soft.md"
    assert main(["doc", str(path), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert (captured.err, captured.out) == (NOTE + "\n", f"{out}\n")
    assert out.is_file() and "1.5" in out.read_text(encoding="utf-8")
    assert main(["eval", str(path), "-q"]) == 0  # --quiet: no note
    assert capsys.readouterr().err == ""


def test_cross_entropy_soft_targets_evaluated_as_written() -> None:
    spec = {
        "name": "ce-soft",
        "layers": [2, 2],
        "activations": "softmax",
        "loss": "cross_entropy",
        "params": {"W": [[[0.5, -0.4], [0.3, 0.2]]], "b": [[0.1, 0.0]]},
        "example": {"x": [1.0, 2.0], "t": [1.2, -0.2]},
        "claims": [],
    }
    z = np.array([[0.5, -0.4], [0.3, 0.2]]) @ np.array([1.0, 2.0]) + np.array([0.1, 0.0])
    p = np.exp(z) / np.exp(z).sum()
    t = np.array([1.2, -0.2])
    loss = float(-(t * np.log(p)).sum())
    grad_z = p * t.sum() - t  # ∂L/∂z of softmax + cross-entropy, without Σt = 1
    spec["claims"] = [
        {"of": "loss", "printed": f"{loss:.8f}"},
        {"of": "delta[0][0]", "printed": f"{grad_z[0]:.8f}"},
    ]
    report = symbp.verify(spec)
    assert [r.verdict for r in report.results] == [CONFIRMED] * 2
    assert report.notes == (
        "note: cross_entropy with targets outside [0, 1] (example 0: t = [1.2, -0.2]): the "
        "loss is then not a probability model, its formula is evaluated as written",
    )


def test_training_refuses_soft_targets_unless_the_spec_asks() -> None:
    spec = symbp.load(SPEC)
    T = np.array([[1.5], [0.2]])
    with pytest.raises(DataError) as err:
        check_domain(T, spec, "data.csv")
    assert str(err.value) == (
        "data.csv: targets range over [0.2, 1.5]; the spec's loss bce expects targets in "
        "[0, 1] (to train on others: loss: {name: bce, soft_targets: true})"
    )
    with pytest.raises(DataError, match="loss bce needs targets in"):
        check_targets(T, spec, 2, "float64")
    asked = symbp.load({**SPEC, "loss": {"name": "bce", "soft_targets": True}})
    assert asked.loss.target_domain == "real"
    check_domain(T, asked, "data.csv")
    assert check_targets(T, asked, 2, "float64").tolist() == [[1.5], [0.2]]
    # the same formula either way: asking changes what training accepts, nothing else
    assert asked.loss.term == spec.loss.term


def test_soft_targets_option_must_be_true_or_false(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, {**SPEC, "loss": {"name": "bce", "soft_targets": "yes"}})
    assert main(["eval", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "loss.soft_targets" in err and "expected true or false" in err


def test_training_refusal_in_the_kernel_data_check_names_the_option() -> None:
    spec = symbp.load(SPEC)
    with pytest.raises(DataError) as err:
        check_targets(np.array([[1.5], [0.2]]), spec, 2, "float64")
    assert str(err.value).endswith(
        "holds 1.5 (to train on others: loss: {name: bce, soft_targets: true})"
    )


def test_kernel_gradients_with_soft_targets_use_the_general_softmax_delta() -> None:
    """With ``soft_targets: true`` the targets need not sum to 1: δ = a·Σt − t, not a − t."""
    spec = symbp.load(
        {
            "name": "ce-soft-kernel",
            "layers": [2, 2],
            "activations": "softmax",
            "loss": {"name": "cross_entropy", "soft_targets": True},
            "params": {"W": [[[0.5, -0.4], [0.3, 0.2]]], "b": [[0.1, 0.0]]},
            "example": {"x": [1.0, 2.0], "t": [1.2, -0.2]},
        }
    )
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    T = np.array([[1.2, -0.2], [0.7, 0.7]])  # sums 1.0 and 1.4
    W, b = np.array([[0.5, -0.4], [0.3, 0.2]]), np.array([0.1, 0.0])
    Z = X @ W.T + b
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    D = P * T.sum(axis=1, keepdims=True) - T
    net = symbp.compile(spec)
    grad_W, grad_b = net.gradients(X, T)
    np.testing.assert_allclose(grad_W[0], D.T @ X / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grad_b[0], D.mean(axis=0), rtol=0, atol=1e-12)
    assert net.loss(X, T) == pytest.approx(float(-(T * np.log(P)).sum(axis=1).mean()), abs=1e-12)
