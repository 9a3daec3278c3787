"""A conv spec through the commands: derive, eval (text, --json, the API) and the one-line
refusal of every stage not built for conv/pool/flatten layers yet (nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conv_numpy import CONV_YAML, numpy_net

import symbp
from symbp.cli import main
from symbp.symbolic.network_plan import MAX_EXACT_MACS
from symbp.symbolic.network_run import NetworkDerivation, NetworkRun


@pytest.fixture
def conv_spec(tmp_path: Path) -> Path:
    path = tmp_path / "conv-5x5.yaml"
    path.write_text(CONV_YAML, encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


REFUSED = [
    (["doc", "{spec}", "--style", "cloze", "-o", "{out}/x.pdf"], "cloze sheets in documents"),
    (["doc", "{spec}", "--style", "cloze", "-o", "-"], "cloze sheets in documents"),
    (["doc", "{spec}", "--chains", "--format", "md", "-o", "{out}/x.md"], "gradient chains"),
    (["eval", "{spec}", "--arithmetic", "float64"], "float64 evaluation"),
    (["derive", "{spec}", "--latex"], "--latex"),
]


@pytest.mark.parametrize(("argv", "what"), REFUSED, ids=[" ".join(a[:2]) for a, _ in REFUSED])
def test_stages_not_built_for_conv_refuse_with_one_line(
    argv: list[str], what: str, conv_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "text.md").write_text("The output is 0.62.\n", encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())
    args = [a.format(spec=conv_spec, out=out) for a in argv]
    code, stdout, err = _run(args, capsys)
    assert code == 2
    assert stdout == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"symbp {args[0]}: error: ")
    assert what in err
    assert "Traceback" not in err
    if what in ("cloze sheets in documents", "gradient chains"):
        assert "of conv/pool/flatten layers are not available yet; the full and handout" in err
    assert sorted(p.name for p in out.iterdir()) == before  # nothing written


def test_the_python_api_refuses_as_the_commands_do(conv_spec: Path, tmp_path: Path) -> None:
    with pytest.raises(symbp.SpecError, match="cloze sheets in documents of conv/pool/flatten"):
        symbp.document(conv_spec, format="md", out=tmp_path / "x.md", style="cloze")
    assert sorted(tmp_path.iterdir()) == [conv_spec]


def test_dense_only_is_asked_of_the_spec(conv_spec: Path) -> None:
    assert symbp.load(conv_spec).dense_only is False
    assert symbp.load("koech_3_4_1").dense_only is True


def test_derive_prints_every_layer_the_loss_and_the_output_delta(
    conv_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["derive", str(conv_spec)], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "layer 1 (conv): forward" in lines
    assert (
        "  z^1[o, i, j] = b^1[o] + Σ_{c,u,v} a^0[c, i*s - p + u, j*s - p + v]*w^1[o, c, u, v]"
        in lines
    )
    assert "    = the full convolution of delta^1 with the kernel w^1 rotated by 180°" in out
    assert "routing: each window's delta^2 goes to the one position its selector m^2 chose" in out
    assert "delta^3 read back in the forward's order (the inverse reshape)" in out
    assert lines[-2] == "loss: L = -(1 - t[0])*log(1 - a^4[0]) - log(a^4[0])*t[0]"
    assert lines[-1] == "output delta: δ^4[j] = ∂L/∂a^4[j] · sigmoid'(z^4[j]) = a^4[j] - t[j]"


def test_derive_json_and_the_api(conv_spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["derive", str(conv_spec), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["input"] == [1, 5, 5]
    assert [layer["kind"] for layer in data["layers"]] == ["conv", "pool", "flatten", "dense"]
    assert data["layers"][0]["gradients"]["input"]["is"].startswith(
        "the full convolution of delta^1 with the kernel w^1 rotated by 180°"
    )
    assert set(data["layers"][1]["gradients"]) == {"input"}
    assert data["output_delta"] == "δ^4[j] = ∂L/∂a^4[j] · sigmoid'(z^4[j]) = a^4[j] - t[j]"
    derivation = symbp.derive(conv_spec)
    assert isinstance(derivation, NetworkDerivation)
    assert derivation.to_json() == data


def test_eval_json_names_and_values_match_an_independent_loop(
    conv_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["eval", str(conv_spec), "--json", "--steps", "2"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["arithmetic"] == "exact"
    steps = data["steps"]
    assert [s["step"] for s in steps] == [0, 1, 2]
    import yaml

    raw = yaml.safe_load(CONV_YAML)
    W, b = raw["params"]["W"], raw["params"]["b"]
    x, t = raw["example"]["x"], raw["example"]["t"][0]
    for s in steps:
        ref = numpy_net(W, b, x, t)
        assert s["W"][1] is None and s["b"][2] is None and s["grad_W"][1] is None
        np.testing.assert_allclose(s["z"][0], ref["z1"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["a"][1], ref["a1"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["a"][2], ref["a2"], rtol=0, atol=1e-12)
        assert s["loss"] == pytest.approx(ref["loss"], abs=1e-12)
        np.testing.assert_allclose(s["grad_W"][0], ref["grad_K"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["grad_b"][0], ref["grad_bk"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["grad_W"][3], ref["grad_Wd"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["grad_b"][3], ref["grad_bd"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["grad_x"], ref["grad_x"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            s["update_W"][0], -0.1 * np.array(ref["grad_K"]), rtol=0, atol=1e-12
        )
        W = [
            None if w is None else (np.array(w) - 0.1 * g).tolist()
            for w, g in zip(W, [ref["grad_K"], None, None, ref["grad_Wd"]], strict=True)
        ]
        b = [
            None if v is None else (np.array(v) - 0.1 * g).tolist()
            for v, g in zip(b, [ref["grad_bk"], None, None, ref["grad_bd"]], strict=True)
        ]


def test_eval_text_and_the_api_are_exact(
    conv_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["eval", str(conv_spec)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "── step 0: parameters after 0 update(s); epoch 0, examples 0, learning rate 0.1"
    )
    assert "W[0][1][0][1] = [-1, 1]" in lines
    assert "W[1] = null" in lines
    assert "z[1][0][0] = [6, 6]" in lines
    assert "z[3] = [0.5]" in lines
    run = symbp.evaluate(conv_spec, steps=1)
    assert isinstance(run, NetworkRun)
    first = run.steps[0].quantities()
    assert first["z[3][0]"] == sp.Rational(1, 2)  # exact: 0.1·6 − 0.2·6 + … + 0.1
    assert first["grad_b[3][0]"] == pytest.approx(1 / (1 + np.exp(-0.5)) - 1, abs=1e-15)
    assert len(str(first["loss"]).replace("-", "").replace(".", "")) >= 55  # 60 digits
    assert "grad_W[1]" not in "".join(first)  # a parameterless layer has no names


def test_eval_of_adam_names_its_states(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "adam.yaml"
    path.write_text(
        CONV_YAML.replace("{name: sgd, learning_rate: 0.1}", "{name: adam, learning_rate: 0.1}"),
        encoding="utf-8",
    )
    code, out, err = _run(["eval", str(path), "--json"], capsys)
    assert (code, err) == (0, "")
    step = json.loads(out)["steps"][0]
    assert sorted(step["optimizer_state"]) == ["m_W", "m_b", "v_W", "v_b"]
    # Adam's first update is −η·g/(|g| + ε) element-wise: ±0.1 up to ε
    assert step["update_b"][3][0] == pytest.approx(-0.1 * np.sign(step["grad_b"][3][0]), rel=1e-6)


def _big_spec(tmp_path: Path) -> Path:
    """Input [3, 28, 28], conv 8 3x3: about 10^6 multiply-adds a step, above the cap."""
    import yaml

    data = {
        "name": "big",
        "input": [3, 28, 28],
        "layers": [
            {"conv": 8, "kernel": 3, "activation": "relu"},
            {"pool": "max", "size": 2},
            "flatten",
            {"dense": 1, "activation": "sigmoid"},
        ],
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "params": {
            "W": [
                [
                    [
                        [[(o + c + u + v) % 3 - 1 for v in range(3)] for u in range(3)]
                        for c in range(3)
                    ]
                    for o in range(8)
                ],
                None,
                None,
                [[(k % 5) / 10 for k in range(8 * 13 * 13)]],
            ],
            "b": [[0] * 8, None, None, [0]],
        },
        "example": {
            "x": [[[(i * j + c) % 4 for j in range(28)] for i in range(28)] for c in range(3)],
            "t": [1],
        },
    }
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_eval_above_the_multiply_add_cap_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _big_spec(tmp_path)
    code, out, err = _run(["eval", str(path)], capsys)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert f"multiply-adds a step (at most {MAX_EXACT_MACS}); use smaller maps" in err


def test_eval_without_params_or_init_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    data = yaml.safe_load(CONV_YAML)
    del data["params"]
    path = tmp_path / "none.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = _run(["eval", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"symbp eval: error: {path}: params: exact evaluation of conv/pool/flatten layers "
        "needs params: W and b, or init\n"
    )


def test_eval_follows_the_training_schedule_mini_batches_and_epochs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two examples, batch 1: step k trains on example k mod 2; --epochs 2 is 4 steps;
    each step's parameters are the previous step's minus η times its gradient."""
    import yaml

    data = yaml.safe_load(CONV_YAML)
    x0 = data.pop("example")["x"]
    x1 = [[[(v + 1) % 4 for v in row] for row in x0[0]]]
    data["examples"] = [{"x": x0, "t": [1]}, {"x": x1, "t": [0]}]
    data["training"] = {"epochs": 2, "batch_size": 1}
    path = tmp_path / "batches.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, _ = _run(["eval", str(path), "--epochs", "2", "--json"], capsys)
    assert code == 0
    steps = json.loads(out)["steps"]
    assert [(s["step"], s["epoch"], s["rows"]) for s in steps] == [
        (0, 0, [0]),
        (1, 0, [1]),
        (2, 1, [0]),
        (3, 1, [1]),
        (4, 2, [0]),
    ]
    W, b = data["params"]["W"], data["params"]["b"]
    for s, x, t in zip(steps, [x0, x1, x0, x1, x0], [1, 0, 1, 0, 1], strict=True):
        ref = numpy_net(W, b, x, t)
        np.testing.assert_allclose(s["grad_W"][0], ref["grad_K"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["grad_x"], ref["grad_x"], rtol=0, atol=1e-12)
        assert s["loss"] == pytest.approx(ref["loss"], abs=1e-12)
        W = [
            None if w is None else (np.array(w) - 0.1 * g).tolist()
            for w, g in zip(W, [ref["grad_K"], None, None, ref["grad_Wd"]], strict=True)
        ]
        b = [
            None if v is None else (np.array(v) - 0.1 * g).tolist()
            for v, g in zip(b, [ref["grad_bk"], None, None, ref["grad_bd"]], strict=True)
        ]
