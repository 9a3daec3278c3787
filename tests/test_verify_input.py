"""Claims as users write them: names, printed numbers, and one-line errors for bad ones."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import symbp
from symbp.errors import DataError, SpecError
from symbp.verify import CONFIRMED, MISMATCH, TRUNCATED, judge, parse_printed, parse_quantity

NET: dict[str, Any] = {
    "layers": [3, 4, 2],
    "activations": "sigmoid",
    "loss": "half_sse",
    "params": {
        "W": [[[0.1, 0.2, 0.3]] * 4, [[0.1, -0.2, 0.3, -0.4], [0.5, 0.1, -0.1, 0.2]]],
        "b": [[0.1] * 4, [0.0, 0.1]],
    },
    "example": {"x": [1, 0, 1], "t": [1, 0]},
}
SPEC = symbp.load(NET)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("a[2][1]", "a[2][1]"),
        ("grad_W[1][0][3]", "grad_W[1][0][3]"),
        ("loss", "loss"),
        ("E", "loss"),
        ("y[1]", "a[2][1]"),
        ("ŷ[0]", "a[2][0]"),
        ("w²₁₃", "W[1][0][2]"),
        ("w^2_{2,4}", "W[1][1][3]"),
        ("w^1_43", "W[0][3][2]"),
        ("b¹₂", "b[0][1]"),
        ("a^1_4", "a[1][3]"),
        ("z^2_1", "z[1][0]"),
        ("δ²₂", "delta[1][1]"),
        ("∂E/∂w²₁₁", "grad_W[1][0][0]"),
        ("dE/db^1_3", "grad_b[0][2]"),
        ("x_3", "a[0][2]"),
        ("delta[0][3]", "delta[0][3]"),
        ("learning_rate", "learning_rate"),
    ],
)
def test_quantity_names(text: str, name: str) -> None:
    assert parse_quantity(text, SPEC).name == name


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a[3][0]", "layer 3 does not exist; a has layers 0..2"),
        ("a[1][4]", "index 4 is out of range; there are 4 neurons of layer 1"),
        ("W[2][0][0]", "weight layer index 2 does not exist"),
        ("W[1][0][4]", "index 4 is out of range; there are 4 neurons of layer 1"),
        ("z[2][0]", "z has 0..1 (z[i] is layer i+1)"),
        ("grad_w[0][0][0]", "unknown quantity 'grad_w'"),
        ("a[1]", "a takes 2 indexes, found 1"),
        ("y", "the network has 2 outputs"),
        ("w^0_11", "textbook indices are 1-based"),
        ("w^2_123", "separate two-digit ones with a comma"),
        ("dE/da^1_1", "only dE/dw and dE/db"),
        ("a[-1][0]", "cannot read quantity"),
    ],
)
def test_bad_quantity_names(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=None) as err:
        parse_quantity(text, SPEC)
    assert reason in str(err.value)


@pytest.mark.parametrize(
    ("raw", "text", "value", "decimals"),
    [
        (Fraction(521, 1000), "0.521", Fraction(521, 1000), 3),
        (Fraction(1, 2), "0.5", Fraction(1, 2), 1),
        ("0.50", "0.50", Fraction(1, 2), 2),
        ("-0.1360", "-0.1360", Fraction(-136, 1000), 4),
        ("−0.2", "-0.2", Fraction(-1, 5), 1),
        (0.25, "0.25", Fraction(1, 4), 2),
        (3, "3", Fraction(3), 0),
        ("3.51085e-5", "3.51085e-5", Fraction(351085, 10**10), 10),
    ],
)
def test_printed_numbers(raw: object, text: str, value: Fraction, decimals: int) -> None:
    printed = parse_printed(raw)
    assert (printed.text, printed.value, printed.decimals) == (text, value, decimals)


@pytest.mark.parametrize("raw", ["abc", "", "nan", "inf", True, None, [0.5], Fraction(1, 3)])
def test_printed_must_be_a_decimal_number(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_printed(raw)


@pytest.mark.parametrize(
    ("value", "printed", "verdict"),
    [
        (Fraction(836315, 10**6), "0.836", CONFIRMED),
        (Fraction(836518, 10**6), "0.836", TRUNCATED),
        (Fraction(836518, 10**6), "0.837", CONFIRMED),
        (Fraction(8365, 10**4), "0.836", CONFIRMED),  # a tie rounds either way
        (Fraction(8365, 10**4), "0.837", CONFIRMED),
        (Fraction(-136093, 10**6), "-0.1360", TRUNCATED),
        (Fraction(-136093, 10**6), "-0.1361", CONFIRMED),
        (Fraction(-136093, 10**6), "-0.1362", MISMATCH),
        (Fraction(2721861, 10**7), "0.2720", MISMATCH),
        (Fraction(5, 10), "0.50", CONFIRMED),
        (Fraction(504, 1000), "0.50", CONFIRMED),
        (Fraction(506, 1000), "0.50", TRUNCATED),
    ],
)
def test_judge(value: Fraction, printed: str, verdict: str) -> None:
    assert judge(value, parse_printed(printed)) == verdict


def test_tolerance_replaces_rounding() -> None:
    assert judge(Fraction(52), parse_printed("50"), Fraction(3)) == CONFIRMED
    assert judge(Fraction(54), parse_printed("50"), Fraction(3)) == MISMATCH


def _write(tmp_path: Path, claims: list[Any]) -> Path:
    import yaml

    data = {**NET, "params": NET["params"], "claims": claims}
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ([{"of": "a[5][0]", "printed": 0.5}], 'claims[0]: {of: "a[5][0]", printed: 0.5}: a[5][0]'),
        (
            [{"of": "a[2][0]", "printed": 0.5}, {"of": "a[2][0]", "printed": "half"}],
            'claims[1]: {of: "a[2][0]", printed: "half"}: printed must be a number',
        ),
        (
            [{"of": "W[0][0][0]", "step": 1001, "printed": 0.1}],
            "step 1001 is beyond the 1000 updates",
        ),
        ([{"of": "loss", "step": 1, "epoch": 1, "printed": 0.1}], "give step or epoch, not both"),
        ([{"of": "epoch_loss", "printed": 0.1}], "epoch_loss is of a whole epoch"),
        ([{"of": "grad_x[5]", "printed": 0.1}], "there are 3 inputs"),
        ([{"of": "W[0][0][0]", "step": -1, "printed": 0.1}], "step must be a whole number >= 0"),
        ([{"of": "W[0][0][0]", "step": 1.5, "printed": 0.1}], "step must be a whole number"),
        ([{"of": "a[2][0]", "value": 0.5}], "unknown field 'value'"),
        ([{"of": "a[2][0]"}], "'printed' is missing"),
        ([{"printed": 0.5}], "'of' is missing"),
        (["a[2][0] = 0.5"], "expected a mapping"),
        ([{"of": "loss", "printed": 0.5, "example": 1}], "example 1 does not exist"),
        ([{"of": "loss", "printed": 0.5, "tolerance": -1}], "tolerance must be positive"),
        ([{"of": "lost", "printed": 0.5}], "unknown quantity 'lost'"),
    ],
)
def test_bad_claims_are_one_line_errors(
    tmp_path: Path, claims: list[Any], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, claims)
    with pytest.raises(SpecError) as err:
        symbp.verify(path)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}:")  # file and line of the claim
    assert "\n" not in str(err.value)
    from symbp.cli import main

    assert main(["verify", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err


def test_no_claims_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="the spec has no claims"):
        symbp.verify(_write(tmp_path, []))


def test_unknown_reference_is_bad_input() -> None:
    with pytest.raises(DataError, match="against must be one of torch"):
        symbp.verify({**NET, "claims": [{"of": "loss", "printed": 1}]}, against="jax")


def test_console_entry_point_exit_code_two_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"of": "b[0][9]", "printed": 0.1}])
    proc = subprocess.run(
        [sys.executable, "-m", "symbp.cli", "verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("symbp verify: error:")
    assert "claims[0]" in proc.stderr and "index 9 is out of range" in proc.stderr


def test_claims_by_example_and_textbook_names(tmp_path: Path) -> None:
    """Per-example loss and gradient claims; the mean is the default."""
    import copy

    data = copy.deepcopy(NET)
    del data["example"]
    data["examples"] = [{"x": [1, 0, 1], "t": [1, 0]}, {"x": [0, 1, 1], "t": [0, 1]}]
    spec = symbp.load(data)
    run = symbp.evaluate(spec)
    step = run.steps[0]
    e0, e1 = step.examples
    claims = [
        {"of": "loss", "printed": f"{float(step.loss):.9f}"},
        {"of": "loss", "example": 1, "printed": f"{float(e1.loss):.9f}"},
        {"of": "dE/dw^1_11", "example": 0, "printed": f"{float(e0.grad_W[0][0][0]):.9f}"},
        {"of": "a[2][1]", "example": 1, "printed": f"{float(e1.a[2][1]):.9f}"},
        {"of": "a[2][1]", "printed": f"{float(e0.a[2][1]):.9f}"},
    ]
    report = symbp.verify({**data, "claims": claims})
    assert [r.verdict for r in report.results] == [CONFIRMED] * 5
    assert float(e0.loss) != float(step.loss)  # the claims really pick different values


def test_against_torch_without_torch_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    with pytest.raises(
        DataError, match=r"--against torch needs PyTorch: pip install 'symbp\[torch\]'"
    ):
        symbp.verify({**NET, "claims": [{"of": "loss", "printed": 1}]}, against="torch")
