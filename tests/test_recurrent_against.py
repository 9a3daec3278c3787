"""``symbp verify --against torch`` of recurrent nets (issue 29 item 7): the claims' torch
values come from the PyTorch module the cell record names (nn.RNN, nn.GRU, nn.LSTM) at the
spec's weights, truncation by ``detach``; they equal the independent reference of
tests/recurrent_torch.py, the report says PyTorch agrees, and a cell PyTorch cannot
compute is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import symbp
from symbp.cli import main
from symbp.verify import verify

DATA = Path(__file__).parent / "data"
ELMAN = DATA / "elman_3step.yaml"
LSTM = DATA / "lstm_3step.yaml"
GRU = {
    "name": "gru_3step",
    "input": {"steps": 3, "features": 1},
    "layers": [{"recurrent": 2, "cell": "gru"}, {"dense": 1, "activation": "sigmoid"}],
    "output": "every_step",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "params": {
        "W": [[[0.5], [-0.4], [0.3], [0.2], [0.6], [0.1]], [[0.8, -0.6]]],
        "U": [[[0.1, -0.2], [0.3, 0.1], [-0.1, 0.2], [0.2, 0.0], [0.05, 0.1], [-0.3, 0.2]], None],
        "b": [[0.1, 0.0, -0.1, 0.2, 0.5, 0.5, 0.3, -0.2], [0.05]],
        "h0": [[0.2, -0.1], None],
    },
    "example": {"x": [[1], [0.5], [-1]], "t": [[0.3], [0.1], [0.7]]},
}
GRADS = ("grad_W[0]", "grad_U[0]", "grad_b[0]", "grad_W[1]", "grad_b[1]")


def _load(case: str, bptt: int | None) -> dict[str, Any]:
    data = (
        GRU if case == "gru" else yaml.safe_load((ELMAN if case == "elman" else LSTM).read_text())
    )
    data = dict(data, training={"bptt": "full" if bptt is None else bptt})
    claims = [{"of": f"{g}" + "[0]" * (2 if g.startswith(("grad_W", "grad_U")) else 1),
               "printed": 0.1} for g in GRADS]  # fmt: skip
    claims += [{"of": f"h[0][{j}]", "time": t, "printed": 0.1} for t in (1, 2, 3) for j in (0, 1)]
    claims += [{"of": "loss", "printed": 0.1}, {"of": "gate_z[0][0]" if case == "gru" else
               "z[1][0]", "time": 2, "printed": 0.1}]  # fmt: skip
    return dict(data, claims=claims)


@pytest.mark.extras
@pytest.mark.parametrize("bptt", [None, 2], ids=["full", "bptt2"])
@pytest.mark.parametrize("case", ["elman", "lstm", "gru"])
def test_torch_values_equal_an_independent_pytorch_reference(
    case: str, bptt: int | None, tmp_path: Path
) -> None:
    pytest.importorskip("torch", reason="--against torch runs PyTorch autograd")
    from recurrent_torch import torch_reference

    data = _load(case, bptt)
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    report = verify(path, against="torch")
    ref = torch_reference(symbp.load(data), bptt)
    got = [r.torch_value for r in report.results]
    want = [float(np.ravel(ref[g])[0]) for g in GRADS]
    want += [float(ref["h"][t - 1][j]) for t in (1, 2, 3) for j in (0, 1)]
    want.append(ref["loss"])
    assert got[:-1] == pytest.approx(want, rel=1e-12, abs=1e-15)
    if case == "gru":
        assert got[-1] is None  # a gate: torch gives no value
    else:
        computed = float(report.results[-1].computed)
        assert got[-1] == pytest.approx(computed, rel=1e-12)
    assert report.independent_ok
    how = "full BPTT" if bptt is None else "BPTT(2) by detach"
    torch_name = {"elman": "RNN", "lstm": "LSTM", "gru": "GRU"}[case]
    assert f"nn.{torch_name} autograd (float64, {how}) at steps 0:" in str(report.independent)
    assert str(report.independent).endswith("— agrees")


@pytest.mark.extras
def test_verify_against_torch_through_the_cli(tmp_path: Path, capsys: Any) -> None:
    pytest.importorskip("torch", reason="--against torch runs PyTorch autograd")
    from recurrent_torch import torch_reference

    data = yaml.safe_load(LSTM.read_text(encoding="utf-8"))
    ref = torch_reference(symbp.load(data), None)
    data["claims"] = [
        {"of": "grad_U[0][3][1]", "printed": f"{ref['grad_U[0]'][3][1]:.10g}"},
        {"of": "c[0][1]", "time": 3, "printed": f"{ref['c'][2][1]:.10g}"},
        {"of": "U[0][3][0]", "step": 1, "printed": f"{0.2 - 0.1 * ref['grad_U[0]'][3][0]:.10g}"},
    ]
    path = tmp_path / "lstm.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path), "--against", "torch", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["verdict"] for c in report["claims"]] == ["confirmed", "confirmed", "confirmed"]
    torch_values = [c["torch"] for c in report["claims"]]
    assert torch_values[:2] == pytest.approx([ref["grad_U[0]"][3][1], ref["c"][2][1]], rel=1e-12)
    assert torch_values[2] is None  # a parameter: symbp's own
    assert report["summary"].endswith("torch: agrees — PASS")


def test_a_cell_pytorch_cannot_compute_is_one_line(tmp_path: Path, capsys: Any) -> None:
    pytest.importorskip("torch", reason="the refusal names the PyTorch module")
    data = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))
    data["layers"][0]["activation"] = "sigmoid"
    data["claims"] = [{"of": "h[0][0]", "time": 1, "printed": 0.5}]
    path = tmp_path / "sig.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path), "--against", "torch"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "symbp verify: error: against: --against torch: nn.RNN takes the activations tanh or "
        "relu, the elman cell uses sigmoid; verify without --against\n"
    )
