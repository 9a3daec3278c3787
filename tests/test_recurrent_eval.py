"""BPTT evaluated exactly: equal to PyTorch float64 autograd (``nn.RNN``, ``nn.GRU``,
``nn.LSTM`` with the same weights; truncation by ``detach``) and to central finite
differences of the exact loss; the boundaries, the truncation, ``eval --json``'s per-step
names and the cost bound."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
import yaml

import symbp
from symbp.cli import main
from symbp.symbolic.recurrent_run import RecurrentDerivation, RecurrentRun, run_recurrent

DATA = Path(__file__).parent / "data"
ELMAN = DATA / "elman_3step.yaml"
LSTM = DATA / "lstm_3step.yaml"
GRADS = ("grad_W[0]", "grad_U[0]", "grad_b[0]", "grad_W[1]", "grad_b[1]")


def _data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _floats(value: Any) -> np.ndarray:
    return np.array(value, dtype=object).astype(float)


def _gru(data: dict[str, Any]) -> dict[str, Any]:
    """The LSTM example as a GRU: 3 gate blocks of W and U, 4 bias blocks (hn non-zero)."""
    out = copy.deepcopy(data)
    out["layers"][0]["cell"] = "gru"
    out["params"]["W"][0] = out["params"]["W"][0][:6]
    out["params"]["U"][0] = out["params"]["U"][0][:6]
    return out


CASES = {
    "elman": (lambda: _data(ELMAN), None),
    "lstm": (lambda: _data(LSTM), None),
    "elman-bptt2": (lambda: {**_data(ELMAN), "training": {"bptt": 2}}, 2),
    "lstm-bptt2": (lambda: {**_data(LSTM), "training": {"bptt": 2}}, 2),
    "elman-bptt1": (lambda: {**_data(ELMAN), "training": {"bptt": 1}}, 1),
    "gru": (lambda: _gru(_data(LSTM)), None),
    "gru-bptt2": (lambda: {**_gru(_data(LSTM)), "training": {"bptt": 2}}, 2),
    "elman-relu": (
        lambda: {
            **_data(ELMAN),
            "layers": [
                {"recurrent": 3, "cell": "elman", "activation": "relu"},
                {"dense": 1, "activation": "identity"},
            ],
        },
        None,
    ),
    "lstm-h0-c0": (
        lambda: {
            **_data(LSTM),
            "params": {**_data(LSTM)["params"], "h0": [[0.5, -0.25], None], "c0": [[1, -2], None]},
        },
        None,
    ),
    "elman-h0-bptt2": (
        lambda: {
            **_data(ELMAN),
            "training": {"bptt": 2},
            "params": {**_data(ELMAN)["params"], "h0": [[0.3, -0.6, 0.9], None]},
        },
        2,
    ),
    "lstm-last-step": (
        lambda: {
            **_data(LSTM),
            "output": "last_step",
            "example": {"x": [[1], [0.5], [-1]], "t": [-0.2]},
        },
        None,
    ),
}


@pytest.mark.extras
@pytest.mark.parametrize("case", list(CASES))
def test_exact_bptt_equals_pytorch_autograd(case: str) -> None:
    pytest.importorskip("torch", reason="the PyTorch reference needs the torch extra")
    from recurrent_torch import torch_reference

    make, k = CASES[case]
    spec = symbp.load(make())
    ref = torch_reference(spec, k)
    step = run_recurrent(spec).steps[0]
    whole = step.arrays()
    for key in GRADS:
        assert np.max(np.abs(_floats(whole[key]) - ref[key])) < 1e-12, key
        assert np.max(np.abs(ref[key])) > 1e-3, key  # a gradient that is there
    assert abs(float(whole["loss"]) - ref["loss"]) < 1e-12
    for t in range(1, 4):
        row = step.arrays(t)
        assert np.max(np.abs(_floats(row["h[0]"]) - ref["h"][t - 1])) < 1e-12
        if ref["c"]:
            assert np.max(np.abs(_floats(row["c[0]"]) - ref["c"][t - 1])) < 1e-12


def _loss(data: dict[str, Any]) -> sp.Expr:
    return run_recurrent(symbp.load(data)).steps[0].evaluation.loss


@pytest.mark.parametrize("path", [ELMAN, LSTM])
def test_exact_gradients_equal_central_differences_of_the_exact_loss(path: Path) -> None:
    spec = symbp.load(path)
    data = spec.to_data()
    step = run_recurrent(spec).steps[0].arrays()
    eps = Fraction(1, 10**20)
    for name, key, index in [
        ("W", "grad_W[0]", (0, 1, 0)),
        ("U", "grad_U[0]", (0, 1, 1)),
        ("U", "grad_U[0]", (0, 2, 0)),
        ("b", "grad_b[0]", (0, 1)),
        ("W", "grad_W[1]", (1, 0, 1)),
    ]:
        up, down = copy.deepcopy(data), copy.deepcopy(data)
        for d, sign in ((up, 1), (down, -1)):
            entry = d["params"][name]
            for i in index[:-1]:
                entry = entry[i]
            entry[index[-1]] += sign * eps
        slope = (_loss(up) - _loss(down)) / (2 * sp.Rational(eps.numerator, eps.denominator))
        exact = step[key]
        for i in index[1:]:
            exact = exact[i]
        assert abs(float(slope - exact)) < 1e-30, (key, index)


def test_truncation_drops_terms_and_k_at_least_t_is_full() -> None:
    full = run_recurrent(symbp.load(ELMAN)).steps[0]
    data = _data(ELMAN)
    runs = {}
    for k in (1, 2, 3, 7):
        runs[k] = run_recurrent(symbp.load({**data, "training": {"bptt": k}})).steps[0]
    for key in GRADS:
        assert runs[3].arrays()[key] == full.arrays()[key]
        assert runs[7].arrays()[key] == full.arrays()[key]
    # the dense layer never reaches back in time: the same under every truncation
    assert runs[1].arrays()["grad_W[1]"] == full.arrays()["grad_W[1]"]
    u1, u2, uf = (_floats(r.arrays()["grad_U[0]"]) for r in (runs[1], runs[2], full))
    assert np.max(np.abs(u1 - uf)) > 1e-2
    # BPTT(2) drops only L_3's path to step 1, whose U-term is 0 (h_0 = 0), not its W-term
    assert np.max(np.abs(u2 - uf)) < 1e-50
    w2, wf = (_floats(r.arrays()["grad_W[0]"]) for r in (runs[2], full))
    assert np.max(np.abs(w2 - wf)) > 1e-3


def test_the_boundaries_are_explicit() -> None:
    step = run_recurrent(symbp.load(ELMAN)).steps[0]
    first, last = step.arrays(1), step.arrays(3)
    # h_0 = 0: the first step's term of ∂E/∂U is exactly zero
    assert first["grad_U[0]"] == [[0, 0, 0]] * 3
    # ∂E/∂h_{T+1} = 0: at the last step ∂E/∂h_T is the last loss's own, δ W (identity head)
    W1 = step.arrays()["W[1]"][0]
    delta = last["delta[1]"][0]
    for j in range(3):
        assert abs(last["delta_h[0]"][j] - delta * W1[j]) < sp.Float(10) ** -55
    assert (
        last["loss"] == (last["a[2]"][0] - sp.Rational(9, 10)) ** 2 / 2
        or abs(last["loss"] - (last["a[2]"][0] - sp.Rational(9, 10)) ** 2 / 2) < sp.Float(10) ** -55
    )


def test_eval_json_names_per_step_quantities_with_a_time_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", str(LSTM), "--json", "--steps", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    step = out["steps"][0]
    assert [t["time"] for t in step["times"]] == [1, 2, 3]
    names = set(step["times"][0])
    for name in (
        "h[0]",
        "c[0]",
        "gate_i[0]",
        "gate_f[0]",
        "gate_g[0]",
        "gate_o[0]",
        "delta_h[0]",
        "delta_c[0]",
        "a[2]",
        "grad_U[0]",
        "loss",
    ):
        assert name in names, name
    assert step["U"][1] is None and len(step["U"][0]) == 8
    assert step["h0"] == [[0.0, 0.0], None] or step["h0"] == [0.0, 0.0]
    # the update of the second step is plain SGD with rate 1/10
    before, after = np.array(step["W"][0]), np.array(out["steps"][1]["W"][0])
    assert np.max(np.abs(after - (before - 0.1 * np.array(step["grad_W[0]"])))) < 1e-15
    # the gradient is the sum of its per-step terms
    terms = sum(np.array(t["grad_U[0]"]) for t in step["times"])
    assert np.max(np.abs(terms - np.array(step["grad_U[0]"]))) < 1e-15


def test_derive_prints_the_cell_its_jacobian_and_the_recursion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    derivation = symbp.derive(LSTM)
    assert isinstance(derivation, RecurrentDerivation)
    lines = derivation.lines
    assert "  c = c_prev*gate_f + gate_g*gate_i" in lines
    assert "  h = gate_o*tanh(c)" in lines
    assert "  ∂c/∂c_prev = gate_f" in lines
    assert "  ∂h_t[j]/∂c_{t-1}[m] = [m=j]·∂h/∂c_prev" in lines
    assert any(l.startswith("  ∂E/∂h_t = ∂L_t/∂h_t + (∂h_{t+1}/∂h_t)ᵀ ∂E/∂h_{t+1}") for l in lines)
    assert main(["derive", str(ELMAN)]) == 0
    text = capsys.readouterr().out
    assert "  ∂h/∂Uh_h = 1 - tanh(z)**2\n" in text
    assert "boundaries: ∂E/∂h_t after the last step (t = 4) are 0" in text


def test_eval_text_shows_every_time_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(ELMAN), "--steps", "0"]) == 0
    text = capsys.readouterr().out
    assert text.count("── time ") == 3
    assert "── over the sequence (gradients: sums over time)" in text
    assert isinstance(symbp.evaluate(ELMAN), RecurrentRun)


def test_a_sequence_too_costly_to_evaluate_exactly_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    T, n = 400, 40
    data = _data(ELMAN)
    data["input"] = {"steps": T, "features": 2}
    data["layers"][0]["recurrent"] = n
    data["params"] = {
        "W": [[[0, 0]] * n, [[0] * n]],
        "U": [[[0] * n] * n, None],
        "b": [[0] * n, [0]],
    }
    data["example"] = {"x": [[0, 0]] * T, "t": [[0]] * T}
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    _, err = capsys.readouterr()
    assert len(err.splitlines()) == 1
    assert "exact evaluation of this recurrent network takes" in err
    assert "multiply-adds a step (at most 200000); use fewer steps" in err


def test_derive_json_and_the_latex_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", str(LSTM), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cell"]["name"] == "lstm"
    assert out["cell"]["formulas"]["h"] == "gate_o*tanh(c)"
    assert out["cell"]["partials"]["∂c/∂c_prev"] == "gate_f"
    assert main(["derive", str(LSTM), "--latex"]) == 2
    _, err = capsys.readouterr()
    assert "--latex of recurrent layers is not available yet" in err


def test_several_examples_give_the_mean_loss_and_gradients() -> None:
    data = _data(ELMAN)
    other = {"x": [[0, 2], [1, -1], [0.5, 0]], "t": [[0.1], [-0.3], [0.4]]}
    one = run_recurrent(symbp.load(data)).steps[0].arrays()
    two = run_recurrent(symbp.load({**data, "example": other})).steps[0].arrays()
    both = run_recurrent(
        symbp.load(
            {
                **{k: v for k, v in data.items() if k != "example"},
                "examples": [data["example"], other],
            }
        )
    ).steps[0]
    whole = both.arrays()
    assert abs(whole["loss"] - (one["loss"] + two["loss"]) / 2) < sp.Float(10) ** -55
    for key in GRADS:
        mean = (_floats(one[key]) + _floats(two[key])) / 2
        assert np.max(np.abs(_floats(whole[key]) - mean)) < 1e-15
    # per-step forward values are the first example's unless one is named
    assert both.arrays(2)["h[0]"] == run_recurrent(symbp.load(data)).steps[0].arrays(2)["h[0]"]
    assert both.arrays(2, example=1)["h[0]"] != both.arrays(2)["h[0]"]
