"""Issue 28's "Done when" for verify: for the net of conv_5x5.yaml (input [1, 5, 5], conv 2
filters 2x2 + relu, max-pool 2, flatten, dense 1 + sigmoid, BCE), claims of every grad_W,
grad_b, grad_x and the feature maps are all confirmed by ``symbp verify`` (exit 0); a claim
of the input gradient computed with the kernel not rotated is a mismatch (exit 1) that names
that slip. The claims come from PyTorch float64 autograd (where torch is installed) and,
without torch, from an independent NumPy loop. Also: bad claim names, the other slips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conv_numpy import CONV_YAML, numpy_net, unrotated_input_gradient

from symbp.cli import main

RAW = yaml.safe_load(CONV_YAML)
W, B = RAW["params"]["W"], RAW["params"]["b"]
X, T = RAW["example"]["x"], RAW["example"]["t"][0]


def _claims(prefix: str, value: Any, decimals: int | None = None) -> list[dict[str, Any]]:
    """One claim per value of ``value`` (nested), printed in full (repr of a float64) or
    to ``decimals`` decimals."""
    array = np.asarray(value, dtype=float)

    def printed(v: float) -> str:
        return repr(v) if decimals is None else f"{v:.{decimals}f}"

    return [
        {"of": prefix + "".join(f"[{i}]" for i in index), "printed": printed(float(array[index]))}
        for index in np.ndindex(array.shape)
    ]


def _verify(
    tmp_path: Path, claims: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "claims.yaml"
    path.write_text(CONV_YAML + yaml.safe_dump({"claims": claims}), encoding="utf-8")
    code = main(["verify", str(path), "--json"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def _all_claims(ref: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *_claims("z[0]", ref["z1"]),
        *_claims("a[1]", ref["a1"]),
        *_claims("a[2]", ref["a2"]),
        *_claims("grad_W[0]", ref["grad_K"]),
        *_claims("grad_b[0]", ref["grad_bk"]),
        *_claims("grad_W[3]", ref["grad_Wd"]),
        *_claims("grad_b[3]", ref["grad_bd"]),
        *_claims("grad_x", ref["grad_x"]),
        {"of": "loss", "printed": repr(ref["loss"])},
    ]


def _slip_position(right: Any, slip: Any) -> tuple[int, int, int]:
    """The input where the unrotated kernel gives the largest difference."""
    diff = np.abs(np.asarray(right) - np.asarray(slip))
    index = np.unravel_index(int(np.argmax(diff)), diff.shape)
    assert diff[index] > 1e-3
    return int(index[0]), int(index[1]), int(index[2])


def _check_done_when(
    ref: dict[str, Any],
    slip: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    claims = _all_claims(ref)
    assert len(claims) == 32 + 32 + 8 + 8 + 2 + 8 + 1 + 25 + 1
    code, report = _verify(tmp_path, claims, capsys)
    assert code == 0
    assert report["passed"] is True
    assert {c["verdict"] for c in report["claims"]} == {"confirmed"}
    assert report["counts"]["confirmed"] == len(claims)
    assert "; layers conv relu, pool, flatten, dense sigmoid; sgd" in report["conventions"]

    c, y, x = _slip_position(ref["grad_x"], slip)
    slipped = {"of": f"grad_x[{c}][{y}][{x}]", "printed": repr(float(slip[c, y, x]))}
    code, report = _verify(tmp_path, [*claims[-26:], slipped], capsys)
    assert code == 1
    last = report["claims"][-1]
    assert last["verdict"] == "mismatch"
    assert last["grade"] == "mismatch explained"
    assert last["conventions"][0]["cause"] == "kernel-not-rotated"
    assert last["explanation"].startswith("input gradient with the kernel not rotated")
    assert [c["verdict"] for c in report["claims"][:-1]] == ["confirmed"] * 26


def test_done_when_with_claims_from_an_independent_numpy_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = numpy_net(W, B, X, T)
    _check_done_when(ref, unrotated_input_gradient(ref["delta1"], W[0]), tmp_path, capsys)


@pytest.mark.extras
def test_done_when_with_claims_from_pytorch_float64_autograd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    F = torch.nn.functional

    def tensor(value: Any) -> Any:
        return torch.tensor(value, dtype=torch.float64, requires_grad=True)

    K, bk, Wd, bd = tensor(W[0]), tensor(B[0]), tensor(W[3]), tensor(B[3])
    x = tensor([X])
    z1 = F.conv2d(x, K, bk)
    z1.retain_grad()
    a1 = torch.relu(z1)
    a2 = F.max_pool2d(a1, 2)
    z4 = a2.flatten(1) @ Wd.T + bd
    y = torch.sigmoid(z4)
    loss = F.binary_cross_entropy(y, torch.tensor([[float(T)]], dtype=torch.float64))
    loss.backward()
    ref = {
        "z1": z1[0].detach().numpy(),
        "a1": a1[0].detach().numpy(),
        "a2": a2[0].detach().numpy(),
        "grad_K": K.grad.numpy(),
        "grad_bk": bk.grad.numpy(),
        "grad_Wd": Wd.grad.numpy(),
        "grad_bd": bd.grad.numpy(),
        "grad_x": x.grad[0].numpy(),
        "loss": float(loss.detach()),
    }
    slip = unrotated_input_gradient(z1.grad[0].numpy(), W[0])
    _check_done_when(ref, slip, tmp_path, capsys)


@pytest.mark.parametrize(
    ("of", "message"),
    [
        ("W[1][0]", "layer 1 (pool) has no parameters: W[1] is null"),
        ("grad_W[0][0][0][0]", "grad_W[0] has shape [2, 1, 2, 2]: give 4 indices after it"),
        ("a[2][0][2][0]", "a[2]: index 2 is 2, outside 0..1 (a[2][0..1][0..1][0..1])"),
        ("z[4][0]", "z[4] does not exist: the network has z[0] to z[3]"),
        ("grad_y[0]", "unknown quantity 'grad_y[0]'; expected one of W, b, z, a, delta"),
        ("a", "a needs its layer first: a[l]…"),
    ],
)
def test_a_bad_claim_name_is_one_line(
    of: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        CONV_YAML + yaml.safe_dump({"claims": [{"of": of, "printed": 0.5}]}), encoding="utf-8"
    )
    code = main(["verify", str(path)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"symbp verify: error: {path}:")
    assert "claims[0]" in err
    assert message in err


def test_a_mismatch_no_slip_explains_is_unexplained_and_a_truncation_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = numpy_net(W, B, X, T)
    loss = ref["loss"]  # 0.47407698…
    claims = [
        {"of": "loss", "printed": f"{loss:.4f}"},
        {"of": "loss", "printed": "0.47407"},  # 0.4740769…: truncated, not rounded
        {"of": "grad_b[3][0]", "printed": "0.9"},
    ]
    code, report = _verify(tmp_path, claims, capsys)
    assert code == 1
    assert f"{loss:.7f}" == "0.4740770"
    assert [c["verdict"] for c in report["claims"]] == ["confirmed", "truncated", "mismatch"]
    assert report["claims"][2]["grade"] == "mismatch unexplained"
    assert report["claims"][0]["quantity"] == "loss"


def test_verify_against_torch_is_refused_for_conv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        CONV_YAML + yaml.safe_dump({"claims": [{"of": "loss", "printed": 0.474}]}),
        encoding="utf-8",
    )
    assert main(["verify", str(path), "--against", "torch"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "symbp verify: error: --against: --against torch of conv/pool/flatten layers is not "
        "available yet; verify without it\n"
    )


def _rot(K: Any) -> Any:
    return np.asarray(K, dtype=float)[:, :, ::-1, ::-1]


SLIPS = [
    # (spec change, reference of the text's slip, claims made from it, the slip's key)
    ("max", {"W0": "rotated"}, ["z[0]", "a[2]"], "true-convolution"),
    ("max", {"W0": "rotated", "rotate_grad": True}, ["grad_W[0]"], "true-convolution"),
    ("avg", {"pool": "sum"}, ["a[2]", "grad_x"], "sum-pooling"),
    ("max", {"window": True}, ["grad_x", "grad_W[0]"], "window-gradient"),
]


@pytest.mark.parametrize(("pool", "slip", "names", "cause"), SLIPS)
def test_each_slip_explains_the_numbers_it_gives(
    pool: str,
    slip: dict[str, Any],
    names: list[str],
    cause: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Numbers a text computed with a slip (an independent NumPy loop with the slip) are
    mismatches that the convention search explains by that slip, and by no other first
    (printed to 12 decimals: float noise around an exact 0 is no number a text prints)."""
    text = CONV_YAML.replace("{pool: max, size: 2}", f"{{pool: {pool}, size: 2}}")
    weights = [_rot(W[0]).tolist() if slip.get("W0") else W[0], *W[1:]]
    right = numpy_net(W, B, X, T, pool=pool)
    wrong = numpy_net(
        weights, B, X, T, pool=slip.get("pool", pool), spread=slip.get("window", False)
    )
    keys = {"z[0]": "z1", "a[2]": "a2", "grad_x": "grad_x", "grad_W[0]": "grad_K"}
    claims = []
    for name in names:
        value = np.asarray(wrong[keys[name]], dtype=float)
        if slip.get("rotate_grad"):
            value = _rot(value)
        differs = np.abs(value - np.asarray(right[keys[name]], dtype=float)) > 1e-9
        assert differs.any()
        claims += [
            c for c, d in zip(_claims(name, value, 12), differs.reshape(-1), strict=True) if d
        ]
    path = tmp_path / "slip.yaml"
    path.write_text(text + yaml.safe_dump({"claims": claims}), encoding="utf-8")
    assert main(["verify", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len(report["claims"]) == len(claims) >= 2
    for claim in report["claims"]:
        assert claim["verdict"] == "mismatch"
        assert claim["conventions"][0]["cause"] == cause, claim


def test_claims_after_updates_by_step_and_by_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Claims at step 1 and epoch 2 (full batch: one update an epoch) are judged on the
    parameters after that many plain SGD updates (η = 0.1), here from the NumPy loop."""
    weights, biases, refs = W, B, []
    for _ in range(3):
        ref = numpy_net(weights, biases, X, T)
        refs.append(ref)
        grads_W = [ref["grad_K"], None, None, ref["grad_Wd"]]
        grads_b = [ref["grad_bk"], None, None, ref["grad_bd"]]
        weights = [
            None if w is None else (np.array(w) - 0.1 * g).tolist()
            for w, g in zip(weights, grads_W, strict=True)
        ]
        biases = [
            None if v is None else (np.array(v) - 0.1 * g).tolist()
            for v, g in zip(biases, grads_b, strict=True)
        ]
    claims = [
        {
            "of": "grad_W[0][0][0][1][1]",
            "step": 1,
            "printed": f"{refs[1]['grad_K'][0, 0, 1, 1]:.8f}",
        },
        {"of": "a[2][1][0][0]", "epoch": 2, "printed": f"{refs[2]['a2'][1, 0, 0]:.8f}"},
        {
            "of": "grad_x[0][3][3]",
            "step": 2,
            "example": 0,
            "printed": f"{refs[2]['grad_x'][0, 3, 3]:.8f}",
        },
        {"of": "loss", "step": 2, "printed": f"{refs[0]['loss']:.8f}"},  # step 0's loss
    ]
    code, report = _verify(tmp_path, claims, capsys)
    assert code == 1
    assert [(c["step"], c["verdict"]) for c in report["claims"]] == [
        (1, "confirmed"),
        (2, "confirmed"),
        (2, "confirmed"),
        (2, "mismatch"),
    ]
    assert refs[2]["loss"] < refs[1]["loss"] < refs[0]["loss"]
