"""The ``symbp derive`` and ``symbp eval`` commands on the shipped examples."""

from __future__ import annotations

import itertools
import json
import re

import catalog
import pytest
import yaml

import symbp
from symbp.cli import main
from symbp.symbolic.explicit import MAX_EXPLICIT_PARAMS

KOECH_TRAJECTORY = ["0.521", "0.648", "0.758", "0.836", "0.881", "0.908", "0.925"]


def _run(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return out


@pytest.fixture(scope="module")
def koech_derivation(examples_dir) -> str:
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["derive", str(examples_dir / "koech_3_4_1.yaml")]) == 0
    return buffer.getvalue()


def test_derive_prints_the_chain_for_w2_11(koech_derivation: str) -> None:
    assert "∂E/∂w²₁₁ = ∂E/∂a²₁ · ∂a²₁/∂z²₁ · ∂z²₁/∂w²₁₁" in koech_derivation
    # a first-layer weight goes through the hidden unit: five factors
    assert "∂E/∂w¹₂₃ = ∂E/∂a²₁ · ∂a²₁/∂z²₁ · ∂z²₁/∂a¹₂ · ∂a¹₂/∂z¹₂ · ∂z¹₂/∂w¹₂₃" in (
        koech_derivation
    )
    # every one of the 21 parameters has its chain
    assert len(re.findall(r"^∂E/∂[wb]", koech_derivation, flags=re.M)) == 21


def test_derive_prints_the_delta_rule(koech_derivation: str) -> None:
    text = koech_derivation
    assert "== Backward pass (delta recursion)" in text
    assert "   = a²ⱼ - tⱼ" in text  # sigmoid + BCE output delta
    assert "δ¹ⱼ = (1 - a¹ⱼ)⋅a¹ⱼ⋅" in text and "δ²ᵢ⋅w²ᵢⱼ" in text
    assert "∂L/∂w²ⱼₖ = a¹ₖ⋅δ²ⱼ    ∂L/∂b²ⱼ = δ²ⱼ" in text
    assert "∂L/∂w¹ⱼₖ = a⁰ₖ⋅δ¹ⱼ    ∂L/∂b¹ⱼ = δ¹ⱼ" in text
    assert "= a⋅(1 - a)   (with a = f(x))" in text
    assert "21 parameters, 21 trainable" in text


def test_derive_every_shipped_example(capsys, examples_dir) -> None:
    paths = [p for p in sorted(examples_dir.glob("*.yaml")) if symbp.load(p).dense_only]
    assert len(paths) >= 3  # the conv examples: test_derive_every_conv_example
    for path in paths:
        out = _run(capsys, "derive", str(path))
        assert "∂L/∂w¹ⱼₖ = a⁰ₖ⋅δ¹ⱼ" in out, path
        if symbp.load(path).n_params <= MAX_EXPLICIT_PARAMS:
            assert re.search(r"^∂E/∂w¹₁₁ = ", out, flags=re.M), path
        else:
            assert "(skipped: " in out and "layer-generic" in out, path


def test_derive_every_conv_example(capsys, examples_dir) -> None:
    """The shipped conv examples derive the kernel gradient as a correlation and the input
    gradient as the full convolution with the rotated kernel."""
    specs = {p: symbp.load(p) for p in sorted(examples_dir.glob("*.yaml"))}
    paths = [p for p, s in specs.items() if not s.dense_only and s.recurrence is None]
    assert [p.stem for p in paths] == ["conv_1x5x5", "conv_stride2_pad1", "digits_conv_8x8"]
    for path in paths:
        out = _run(capsys, "derive", str(path))
        assert "= the correlation of the input a^0 with delta^1" in out, path
        assert "with the kernel w^1 rotated by 180°" in out, path


def test_derive_seed000_single_neuron(capsys, examples_dir) -> None:
    out = _run(capsys, "derive", str(examples_dir / "seed000_forward.yaml"))
    assert "∂E/∂w¹₁₁ = ∂E/∂a¹₁ · ∂a¹₁/∂z¹₁ · ∂z¹₁/∂w¹₁₁" in out
    assert "2⋅a¹ⱼ - 2⋅tⱼ" in out or "(2⋅a¹ⱼ - 2⋅tⱼ)" in out  # SSE without the ½


def test_derive_latex(capsys, examples_dir) -> None:
    out = _run(capsys, "derive", "--latex", str(examples_dir / "koech_3_4_1.yaml"))
    assert r"\frac{\partial E}{\partial w^{2}_{11}}" in out
    assert r"\delta^{1}_{j} = \left(1 - a^{1}_{j}\right) a^{1}_{j} \sum_{i=0}^{n_{2} - 1}" in out
    assert r"= a^{2}_{j} - t_{j}" in out
    for line in out.splitlines():
        if line.strip() and not line.lstrip().startswith("%"):
            assert not re.search(r"[∂δσℓ⋅⁰¹²³ⱼₖ]", line), line


def test_derive_generic_only_and_large_nets(capsys, write_spec) -> None:
    path = write_spec({"layers": [16, 32, 4], "activations": "sigmoid", "loss": "mse"})
    out = _run(capsys, "derive", str(path))
    assert "(skipped: " in out and "layer-generic" in out
    assert "∂L/∂w²ⱼₖ = a¹ₖ⋅δ²ⱼ" in out
    small = write_spec(catalog.spec("sigmoid_half_sse"), "small.yaml")
    out = _run(capsys, "derive", "--generic", str(small))
    assert "(skipped: not requested)" in out and "∂E/∂w" not in out


def test_derive_custom_formulas(capsys, write_spec) -> None:
    path = write_spec(catalog.spec("formula_softsign_cubic"))
    out = _run(capsys, "derive", str(path))
    assert "formula(x / (1 + abs(x)))" in out
    assert "∂E/∂w²₁₃" in out


# --- eval --------------------------------------------------------------------------


def _json(capsys, *argv: str) -> dict:
    return json.loads(_run(capsys, "eval", "--json", *argv))


def test_eval_json_shape(capsys, examples_dir) -> None:
    data = _json(capsys, str(examples_dir / "koech_3_4_1.yaml"), "--steps", "6")
    steps = data["steps"]
    assert len(steps) == 7
    for entry in steps:
        assert {"W", "b", "z", "a", "loss", "grad_W", "grad_b"} <= set(entry)
        assert [len(m) for m in entry["W"]] == [4, 1] and [len(m[0]) for m in entry["W"]] == [3, 4]
        assert [len(v) for v in entry["b"]] == [4, 1]
        assert [len(v) for v in entry["z"]] == [4, 1]
        assert [len(v) for v in entry["a"]] == [3, 4, 1]
        assert entry["a"][0] == [7, 8, 10]  # the input first
        assert [len(m) for m in entry["grad_W"]] == [4, 1]
        assert isinstance(entry["loss"], float)
    assert [f"{s['a'][-1][0]:.3f}" for s in steps] == KOECH_TRAJECTORY
    assert [f"{v:.3f}" for v in steps[0]["a"][1]] == ["0.845", "0.132", "0.354", "0.377"]


def test_eval_json_entries_chain_by_the_update(capsys, examples_dir) -> None:
    """Entry i+1's W is entry i's W minus η times entry i's gradient (η = 0.5, plain GD)."""
    steps = _json(capsys, str(examples_dir / "koech_3_4_1.yaml"), "--steps", "2")["steps"]
    assert len(steps) == 3
    for before, after in itertools.pairwise(steps):
        for l in range(2):
            for r, row in enumerate(before["W"][l]):
                for c, w in enumerate(row):
                    expected = w - 0.5 * before["grad_W"][l][r][c]
                    assert after["W"][l][r][c] == pytest.approx(expected, rel=1e-12, abs=1e-15)
            for r, bias in enumerate(before["b"][l]):
                expected = bias - 0.5 * before["grad_b"][l][r]
                assert after["b"][l][r] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        # BCE of the one example: -ln ŷ
        import math

        assert before["loss"] == pytest.approx(-math.log(before["a"][-1][0]), rel=1e-12)


def test_eval_json_seed000_exact_values(capsys, examples_dir) -> None:
    steps = _json(capsys, str(examples_dir / "seed000_forward.yaml"), "--steps", "0")["steps"]
    assert len(steps) == 1
    assert steps[0]["z"] == [[3.3]] and steps[0]["a"][0] == [2, 3, 4]
    assert steps[0]["a"][1][0] == pytest.approx(0.9644288107273638, rel=1e-15)


def test_eval_default_one_step_and_several_examples(capsys, write_spec) -> None:
    path = write_spec(catalog.spec("examples_three"))
    steps = _json(capsys, str(path))["steps"]
    assert len(steps) == 2
    assert len(steps[0]["examples"]) == 3
    losses = [e["loss"] for e in steps[0]["examples"]]
    assert steps[0]["loss"] == pytest.approx(sum(losses) / 3, rel=1e-12)
    assert steps[0]["a"][0] == [0.5, -1]  # the first example's input


def test_eval_tables(capsys, examples_dir) -> None:
    out = _run(
        capsys, "eval", str(examples_dir / "koech_3_4_1.yaml"), "--steps", "6", "--digits", "3"
    )
    assert "trajectory" in out and "forward pass" in out and "W[1][0][3]" in out
    rows = re.findall(r"^│\s+(\d)\s+│\s+\S+\s+│\s+(\S+)\s+│$", out, flags=re.M)
    assert [value for _, value in rows[-7:]] == KOECH_TRAJECTORY
    assert "optimizer sgd, learning rate 0.5; frozen: none" in out


def test_eval_rejects_a_negative_step_count(capsys, examples_dir) -> None:
    with pytest.raises(SystemExit) as info:
        main(["eval", str(examples_dir / "koech_3_4_1.yaml"), "--steps", "-1"])
    assert info.value.code == 2
    assert "expected a number >= 0" in capsys.readouterr().err


def test_eval_json_is_plain_json(capsys, write_spec) -> None:
    """Every number in the JSON is a float (exact values are rounded only for output)."""
    path = write_spec(yaml.safe_dump(catalog.spec("relu_sse")))
    text = _run(capsys, "eval", "--json", str(path))
    data = json.loads(text)

    def floats(value):
        if isinstance(value, list):
            return all(floats(v) for v in value)
        return isinstance(value, (float, int))

    assert all(floats(step[key]) for step in data["steps"] for key in ("W", "z", "a", "grad_W"))
