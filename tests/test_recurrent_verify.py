"""``symbp verify`` of recurrent nets: claims built from PyTorch float64 autograd on every
weight gradient and the hidden states at every step are confirmed (full and BPTT(2) by
detach); a full-BPTT claim under ``bptt: 2`` is a mismatch that names truncation; the
usual slips are named; ``time`` is validated in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import symbp
from symbp.cli import main
from symbp.symbolic.recurrent_run import run_recurrent
from symbp.verify.recurrent import SLIPS

DATA = Path(__file__).parent / "data"
ELMAN = DATA / "elman_3step.yaml"
LSTM = DATA / "lstm_3step.yaml"
GRADS = ("grad_W[0]", "grad_U[0]", "grad_b[0]", "grad_W[1]", "grad_b[1]")


def _data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _torch_claims(spec: symbp.Spec, bptt: int | None) -> list[dict[str, Any]]:
    from recurrent_torch import torch_reference

    ref = torch_reference(spec, bptt)
    claims = []
    for key in GRADS:
        for idx, v in np.ndenumerate(ref[key]):
            of = key + "".join(f"[{i}]" for i in idx)
            claims.append({"of": of, "printed": f"{v:.10g}"})
    for t, h in enumerate(ref["h"], start=1):
        for j, v in enumerate(h):
            claims.append({"of": f"h[0][{j}]", "time": t, "printed": f"{v:.10g}"})
    return claims


def _verify(
    data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(["verify", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.extras
@pytest.mark.parametrize("path", [ELMAN, LSTM], ids=["elman", "lstm"])
@pytest.mark.parametrize("bptt", [None, 2], ids=["full", "bptt2"])
def test_claims_built_from_pytorch_are_all_confirmed(
    path: Path, bptt: int | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch", reason="the claims are built from PyTorch autograd")
    data = _data(path)
    data["training"] = {"bptt": "full" if bptt is None else bptt}
    data["claims"] = _torch_claims(symbp.load(data), bptt)
    code, report = _verify(data, tmp_path, capsys)
    assert code == 0
    n = len(data["claims"])
    assert n == (22 if path == ELMAN else 35) + 3 * (3 if path == ELMAN else 2)
    assert [c["verdict"] for c in report["claims"]] == ["confirmed"] * n
    assert {c.get("time") for c in report["claims"]} == {None, 1, 2, 3}


@pytest.mark.extras
def test_a_full_bptt_claim_under_truncation_is_a_mismatch_naming_truncation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch", reason="the claim is built from PyTorch autograd")
    from recurrent_torch import torch_reference

    data = _data(ELMAN)
    full = torch_reference(symbp.load(data), None)["grad_W[0]"]
    data["training"] = {"bptt": 2}
    cut = torch_reference(symbp.load(data), 2)["grad_W[0]"]
    assert abs(full[0][0] - cut[0][0]) > 1e-3
    data["claims"] = [{"of": "grad_W[0][0][0]", "printed": f"{full[0][0]:.6g}"}]
    code, report = _verify(data, tmp_path, capsys)
    assert code == 1
    (claim,) = report["claims"]
    assert claim["verdict"] == "mismatch"
    assert [f["cause"] for f in claim["conventions"]] == ["full-bptt"]
    assert "truncates (bptt: k)" in claim["explanation"]


@pytest.mark.parametrize("slip", ["last-step-only", "no-recurrent-term", "mean-over-steps"])
def test_the_usual_bptt_slips_are_named(
    slip: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = symbp.load(ELMAN)
    slipped = run_recurrent(spec, convention=SLIPS[slip][1]).steps[0].arrays()
    right = run_recurrent(spec).steps[0].arrays()
    value, exact = slipped["grad_W[0]"][1][1], right["grad_W[0]"][1][1]
    assert abs(float(value - exact)) > 1e-3
    data = _data(ELMAN)
    data["claims"] = [{"of": "grad_W[0][1][1]", "printed": f"{float(value):.6g}"}]
    code, report = _verify(data, tmp_path, capsys)
    assert code == 1
    (claim,) = report["claims"]
    assert claim["verdict"] == "mismatch"
    assert [f["cause"] for f in claim["conventions"]] == [slip]
    assert SLIPS[slip][0] in claim["explanation"]


BAD_TIME = [
    ({"of": "h[0][1]", "printed": 0.1}, "h[0] is a quantity of one time step: give time: 1 to 3"),
    ({"of": "W[0][0][0]", "time": 1, "printed": 0.1}, "W[0] is not a quantity of one time step"),
    ({"of": "h[0][1]", "time": 4, "printed": 0.1}, "time 4 does not exist; expected 1 to 3"),
    ({"of": "h[0][3]", "time": 1, "printed": 0.1}, "index 1 is 3, outside 0..2"),
    ({"of": "gate_i[0][0]", "time": 1, "printed": 0.1}, "unknown quantity 'gate_i[0][0]'"),
]


@pytest.mark.parametrize(("claim", "words"), BAD_TIME, ids=[w for _, w in BAD_TIME])
def test_a_claim_with_a_bad_time_is_one_line(
    claim: dict[str, Any], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _data(ELMAN)
    data["claims"] = [claim]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "claims[0]" in err
    assert words in err


def test_time_on_a_network_without_recurrence_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {
        "layers": [2, 1],
        "activations": ["sigmoid"],
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "params": {"W": [[[0.1, 0.2]]], "b": [[0]]},
        "example": {"x": [1, 0], "t": [1]},
        "claims": [{"of": "a[1][0]", "time": 1, "printed": 0.52}],
    }
    path = tmp_path / "dense.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["verify", str(path)]) == 2
    _, err = capsys.readouterr()
    assert "time applies to the steps of a recurrent network only" in err
