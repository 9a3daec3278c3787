"""``--against torch``: PyTorch autograd as an independent reference (skipped without torch)."""

from __future__ import annotations

import copy
from pathlib import Path

import catalog
import pytest

import symbp
from symbp.cli import main

pytestmark = pytest.mark.extras
torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_mazur_gradients_agree_with_autograd(capsys: pytest.CaptureFixture[str]) -> None:
    report = symbp.verify(EXAMPLES / "mazur_2_2_2_claims.yaml", against="torch")
    assert report.independent_ok
    assert "24 gradient entries" in report.independent
    assert report.header[5] == "torch"
    by_name = {(r.name, r.claim.step): r for r in report.results}
    # ∂E/∂w5 and the loss from torch, against the exact values
    for key in (("grad_W[1][0][0]", 0), ("loss", 1), ("a[1][1]", 0)):
        r = by_name[key]
        assert r.torch_value == pytest.approx(float(r.computed), rel=1e-14)
    assert by_name[("W[1][0][0]", 1)].torch_value is None  # parameters: no torch value
    assert main(["verify", str(EXAMPLES / "mazur_2_2_2_claims.yaml"), "--against", "torch"]) == 1
    assert "torch: agrees — FAIL" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name",
    ["relu_sse", "softmax_cross_entropy", "formula_softsign_cubic", "sigmoid_bce_log2",
     "examples_three", "leaky_relu_output_mae", "formula_loss_logcosh"],
)  # fmt: skip
def test_catalog_specs_agree_with_autograd(name: str) -> None:
    data = copy.deepcopy(catalog.spec(name))
    run = symbp.evaluate(symbp.load(data), steps=1)
    delta = run.steps[1].examples[0].delta[0][0]
    data["claims"] = [
        {"of": "loss", "step": 1, "printed": f"{float(run.steps[1].loss):.9f}"},
        {"of": "delta[0][0]", "step": 1, "printed": f"{float(delta):.9f}"},
    ]
    report = symbp.verify(data, against="torch")
    assert report.independent_ok, report.independent
    for r in report.results:
        assert r.torch_value == pytest.approx(float(r.computed), rel=1e-12, abs=1e-15)
