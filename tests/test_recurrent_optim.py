"""Every optimiser for recurrent nets, exactly: several updates of the exact run equal
``torch.optim`` on ``nn.RNN``/``nn.LSTM`` + a linear head in float64 (weight decay,
schedules, frozen arrays and ``clip_norm`` included); ``eval --json`` names the updates
and the optimiser's states."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
import yaml

import symbp
from symbp.cli import main
from symbp.spec.dump import to_data
from symbp.symbolic.recurrent_run import run_recurrent

DATA = Path(__file__).parent / "data"
ELMAN = DATA / "elman_3step.yaml"
LSTM = DATA / "lstm_3step.yaml"
NAMES = ("W[0]", "U[0]", "b[0]", "W[1]", "b[1]")
UPDATES = 3


def _spec(path: Path, optimizer: dict[str, Any], tmp_path: Path, **extra: Any) -> symbp.Spec:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["optimizer"] = optimizer
    data.update(extra)
    out = tmp_path / "spec.yaml"
    out.write_text(yaml.safe_dump(data), encoding="utf-8")
    return symbp.load(out)


def _torch_optim(name: str, options: dict[str, Any]) -> Any:
    import torch

    wd = options.get("weight_decay", 0.0)
    table = {
        "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, weight_decay=wd),
        "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
        "nesterov": lambda p, lr: torch.optim.SGD(
            p, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd
        ),
        "adam": lambda p, lr: torch.optim.Adam(p, lr=lr, eps=1e-8, weight_decay=wd),
        "rprop": lambda p, lr: torch.optim.Rprop(p, lr=lr, etas=(0.5, 1.2), step_sizes=(1e-6, 50)),
    }
    return table[name]


CASES = {
    "elman-momentum": (ELMAN, {"name": "momentum", "learning_rate": 0.1}, {}),
    "elman-nesterov-wd": (
        ELMAN,
        {"name": "nesterov", "learning_rate": 0.1, "weight_decay": 0.01},
        {},
    ),
    "elman-adam": (ELMAN, {"name": "adam", "learning_rate": 0.05}, {}),
    "elman-rprop": (ELMAN, {"name": "rprop", "learning_rate": 0.05}, {}),
    "lstm-adam-wd": (LSTM, {"name": "adam", "learning_rate": 0.05, "weight_decay": 0.1}, {}),
    "lstm-momentum-frozen-b": (
        LSTM,
        {"name": "momentum", "learning_rate": 0.1},
        {"frozen": ["b"]},
    ),
    "elman-adam-frozen-U": (ELMAN, {"name": "adam", "learning_rate": 0.05}, {"frozen": ["U"]}),
    "elman-sgd-exponential": (
        ELMAN,
        {"name": "sgd", "learning_rate": 0.2, "schedule": {"name": "exponential", "gamma": 0.5}},
        {},
    ),
    "elman-sgd-clipped": (ELMAN, {"name": "sgd", "learning_rate": 0.1, "clip_norm": 0.25}, {}),
    "elman-momentum-clip-not-reached": (
        ELMAN,
        {"name": "momentum", "learning_rate": 0.1, "clip_norm": 100},
        {},
    ),
    "lstm-adam-clipped-wd": (
        LSTM,
        {"name": "adam", "learning_rate": 0.05, "clip_norm": 0.05, "weight_decay": 0.1},
        {},
    ),
}


@pytest.mark.extras
@pytest.mark.parametrize("case", list(CASES))
def test_several_updates_equal_torch_optim(case: str, tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the reference is torch.optim in float64")
    from recurrent_torch import torch_train

    path, optimizer, extra = CASES[case]
    spec = _spec(path, optimizer, tmp_path, **extra)
    run = run_recurrent(spec, UPDATES)
    schedule = optimizer.get("schedule")
    ref = torch_train(
        spec,
        UPDATES,
        _torch_optim(optimizer["name"], optimizer),
        clip_norm=optimizer.get("clip_norm"),
        gamma=schedule["gamma"] if isinstance(schedule, dict) else None,
    )
    for k, step in enumerate(run.steps):
        arrays = step.arrays()
        for name in NAMES:
            ours = np.array(arrays[name], dtype=object).astype(float)
            assert np.max(np.abs(ours - ref[k][name])) < 1e-12, (k, name)
    # the optimiser's state after the last update is torch's (momentum buffer, Adam moments)
    state_names = {"momentum_buffer": "v", "exp_avg": "m", "exp_avg_sq": "v"}
    last = run.steps[UPDATES - 1].arrays()
    checked = 0
    for name, states in ref[UPDATES]["state"].items():
        for torch_name, value in states.items():
            if torch_name not in state_names or (optimizer["name"], torch_name) == (
                "adam",
                "momentum_buffer",
            ):
                continue
            ours = np.array(last[f"{state_names[torch_name]}_{name}"], dtype=object).astype(float)
            assert np.max(np.abs(ours - value)) < 1e-12, (name, torch_name)
            checked += 1
    if optimizer["name"] in ("momentum", "nesterov", "adam"):
        assert checked > 0
    for kind in extra.get("frozen", ()):
        name = f"{kind}[0]"
        assert all(np.array_equal(ref[k][name], ref[0][name]) for k in range(UPDATES + 1))
        assert run.steps[UPDATES].arrays()[name] == run.steps[0].arrays()[name]
    if "clip_norm" in optimizer:  # the norm before clipping is torch's; the scale as torch's
        clip = optimizer["clip_norm"]
        for k in range(UPDATES):
            arrays = run.steps[k].arrays()
            assert abs(float(arrays["grad_norm"]) - ref[k]["norm"]) < 1e-12
            scale = min(1.0, clip / (ref[k]["norm"] + 1e-6))
            assert abs(float(arrays["clip_scale"]) - scale) < 1e-12
        scales = [run.steps[k].arrays()["clip_scale"] for k in range(UPDATES)]
        assert (clip < 1) == all(s < 1 for s in scales)
        assert (clip > 1) == all(s == 1 for s in scales)


def test_eval_json_names_the_updates_and_the_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_path = tmp_path / "adam.yaml"
    data = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))
    data["optimizer"] = {"name": "adam", "learning_rate": 0.05}
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["eval", str(spec_path), "--steps", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    step = out["steps"][0]
    for key in ("update_W", "update_U", "update_b", "m_W", "m_U", "m_b", "v_U"):
        assert key in step, key
    after = np.array(out["steps"][1]["U"][0])
    before = np.array(step["U"][0])
    assert np.max(np.abs(after - before - np.array(step["update_U"][0]))) < 1e-15
    # Adam's first moment after update 1 is (1 − β₁) g
    g = np.array(step["grad_U[0]"])
    assert np.max(np.abs(np.array(step["m_U"][0]) - 0.1 * g)) < 1e-15
    assert step["U"][1] is None and step["update_U"][1] is None and step["m_U"][1] is None


def test_verify_confirms_update_and_state_claims_and_refutes_an_sgd_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))
    data["optimizer"] = {"name": "momentum", "learning_rate": 0.1}
    arrays = run_recurrent(symbp.load(data), 1).steps[1].arrays()
    update, state = arrays["update_U[0]"][0][1], arrays["v_U[0]"][0][1]
    g = arrays["grad_U[0]"][0][1]
    sgd = -g / 10  # plain SGD's update of step 2: not the momentum update
    assert abs(float(update - sgd)) > 1e-4
    data["claims"] = [
        {"of": "update_U[0][0][1]", "step": 1, "printed": f"{float(update):.6g}"},
        {"of": "v_U[0][0][1]", "step": 1, "printed": f"{float(state):.6g}"},
        {"of": "update_U[0][0][1]", "step": 1, "printed": f"{float(sgd):.6g}"},
    ]
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    verdicts = [c["verdict"] for c in report["claims"]]
    assert verdicts[:2] == ["confirmed", "confirmed"]
    assert verdicts[2] != "confirmed"


def test_clip_norm_on_a_dense_network_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {
        "layers": [2, 1],
        "activations": ["sigmoid"],
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5, "clip_norm": 1},
        "params": {"W": [[[0.1, 0.2]]], "b": [[0]]},
        "example": {"x": [1, 0], "t": [1]},
    }
    path = tmp_path / "dense.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "optimizer.clip_norm" in err
    assert "clip_norm applies to recurrent networks only so far" in err


def test_clip_norm_and_frozen_U_are_kept_by_the_spec_and_named_by_eval_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))
    data["optimizer"] = {"name": "sgd", "learning_rate": 0.1, "clip_norm": 0.25}
    data["frozen"] = ["U[0]", "b[1]"]
    spec = symbp.load(data)
    assert spec.optimizer.clip_norm == sp.Rational(1, 4)
    assert spec.frozen == {("U", 0), ("b", 1)}
    again = symbp.load(to_data(spec))
    assert again.optimizer.clip_norm == sp.Rational(1, 4) and again.frozen == spec.frozen
    assert again.hash == spec.hash
    data_unclipped = {**data, "optimizer": {"name": "sgd", "learning_rate": 0.1}}
    assert symbp.load(data_unclipped).hash != spec.hash
    path = tmp_path / "clip.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["eval", str(path), "--steps", "1", "--json"]) == 0
    step = json.loads(capsys.readouterr().out)["steps"][0]
    grads = [np.array(step[f"grad_{k}"]) for k in ("W[0]", "b[0]", "W[1]")]  # U, b[1] frozen
    norm = float(np.sqrt(sum((g**2).sum() for g in grads)))
    assert abs(step["grad_norm"] - norm) < 1e-12
    assert abs(step["clip_scale"] - 0.25 / (norm + 1e-6)) < 1e-12
    assert step["update_U"][0] == [[0.0] * 3] * 3
    expected = -0.1 * step["clip_scale"] * np.array(step["grad_W[0]"])
    assert np.max(np.abs(np.array(step["update_W"][0]) - expected)) < 1e-15


def test_verify_takes_claims_on_the_clipping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))
    data["optimizer"] = {"name": "sgd", "learning_rate": 0.1, "clip_norm": 0.25}
    arrays = run_recurrent(symbp.load(data), 0).steps[0].arrays()
    norm, scale = float(arrays["grad_norm"]), float(arrays["clip_scale"])
    assert scale < 1
    data["claims"] = [
        {"of": "grad_norm", "printed": f"{norm:.6g}"},
        {"of": "clip_scale", "printed": f"{scale:.6g}"},
        {"of": "clip_scale", "printed": "1"},
    ]
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path), "--json"]) == 1
    verdicts = [c["verdict"] for c in json.loads(capsys.readouterr().out)["claims"]]
    assert verdicts[:2] == ["confirmed", "confirmed"] and verdicts[2] != "confirmed"
    del data["optimizer"]["clip_norm"]  # without clipping there is no such quantity
    data["claims"] = data["claims"][:1]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "unknown quantity 'grad_norm'" in err
