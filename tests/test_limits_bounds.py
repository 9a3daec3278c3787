"""Issue 25, item 3: every number bounded whatever its YAML type or tag, a time budget
on every long Python entry point, values out of a generator's domain refused, and
error lines that quote at most about 80 characters of a value.

The hostile cases that must also end under the CPU and memory caps as subprocesses
reuse :func:`test_limits_cli.run_symbp`.
"""

from __future__ import annotations

import copy
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from test_limits_cli import run_symbp

import symbp
from symbp import api, budget
from symbp.cli import main
from symbp.errors import QUOTE_LIMIT, DataError, SpecError, SymbpError, TimeLimitExceeded, quote
from symbp.limits import MAX_SEED, NumberError, check_seed
from symbp.verify.compare import MAX_DECIMALS, parse_printed

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SPEC = """name: tags
layers: [2, 1]
activations: sigmoid
loss: half_sse
optimizer: {{name: sgd, learning_rate: {lr}}}
params: {{W: [[[0.5, -0.25]]]}}
training: {{shuffle: {shuffle}}}
example: {{x: [1, 2], t: [1]}}
"""

BASE: dict[str, Any] = {
    "layers": [2, 2, 1],
    "activations": "sigmoid",
    "loss": "half_sse",
    "init": {"name": "normal", "std": 0.1, "seed": 3},
    "example": {"x": [1, 2], "t": [1]},
}

CLAIMS = """name: printed
layers: [2, 1]
activations: sigmoid
loss: half_sse
params: {{W: [[[0.5, -0.25]]]}}
example: {{x: [1, 2], t: [1]}}
claims:
  - {{of: "a[1][0]", step: 0, printed: {printed}{more}}}
"""


def _spec(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


def _one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text, text
    return text


# -- explicit YAML tags --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!int 1e3", "the YAML tag !!int needs a whole number, found '1e3'"),
        ("!!int 0.5", "the YAML tag !!int needs a whole number, found '0.5'"),
        ("!!bool 1", "the YAML tag !!bool needs true or false, found '1'"),
        ("!!float abc", "the YAML tag !!float needs a number, found 'abc'"),
        ("!!float 0x1f", "the YAML tag !!float needs a number, found '0x1f'"),
        ("!!null 0.5", "the YAML tag !!null needs null, found '0.5'"),
        ("!!seq 0.5", "the YAML tag !!seq needs a list, found '0.5'"),
        ("!!timestamp junk", "the YAML tag !!timestamp is not accepted"),
        ("!!timestamp 2001-12-14", "the YAML tag !!timestamp is not accepted"),
        ("!!binary aGVsbG8=", "the YAML tag !!binary is not accepted"),
        ("!!set {a: null}", "the YAML tag !!set is not accepted on a mapping"),
        ("!!omap [a: 1]", "the YAML tag !!omap is not accepted on a list"),
        ("!!pairs [a: 1]", "the YAML tag !!pairs is not accepted on a list"),
        ("!!map [1]", "the YAML tag !!map is not accepted on a list"),
        ("!!str {a: 1}", "the YAML tag !!str is not accepted on a mapping"),
        ("!!python/object:os.system x", "the YAML tag !!python/object:os.system is not accepted"),
        ("!!python/name:os.system ''", "the YAML tag !!python/name:os.system is not accepted"),
        ("!custom 3", "the YAML tag !custom is not accepted"),
        ("!<tag:example.com,2000:x> 3", "the YAML tag tag:example.com,2000:x is not accepted"),
        ("!!float 1e-999999999", "decimal 1e-999999999 is out of range"),
        ("!!int " + "9" * 30, "integer 999999999999999999999999999999 is larger than"),
    ],
)
def test_an_explicit_tag_is_refused_in_one_line_naming_file_line_and_tag(
    write_spec, capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    path = write_spec(SPEC.format(lr=value, shuffle="false"))
    assert main(["derive", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"symbp derive: error: {path}:5: optimizer.learning_rate: {expected}"
        + captured.err.split(expected, 1)[1]
    )
    assert captured.err.count("\n") == 1


def test_every_tag_refusal_ends_with_the_tags_symbp_reads(write_spec) -> None:
    path = write_spec(SPEC.format(lr="!!timestamp junk", shuffle="false"))
    with pytest.raises(SpecError) as info:
        symbp.load(path)
    assert _one_line(info.value) == (
        f"{path}:5: optimizer.learning_rate: the YAML tag !!timestamp is not accepted; symbp "
        "reads !!str, !!int, !!float, !!bool, !!null, !!seq and !!map (or leave the tag out)"
    )


@pytest.mark.parametrize(
    ("lr", "value"),
    [
        ("!!float 1", Fraction(1)),
        ("!!float 0.179", Fraction(179, 1000)),
        ('!!float "0.5"', Fraction(1, 2)),
        ("!!float 1e-3", Fraction(1, 1000)),
        ("!!int 0x10", Fraction(16)),
        ('!!int "12"', Fraction(12)),
    ],
)
def test_a_tag_that_fits_is_resolved_exactly(write_spec, lr: str, value: Fraction) -> None:
    spec = symbp.load(write_spec(SPEC.format(lr=lr, shuffle="!!bool true")))
    assert spec.optimizer.learning_rate == value
    assert spec.training.shuffle is True


def test_str_tag_makes_text_which_a_number_field_refuses(write_spec) -> None:
    path = write_spec(SPEC.format(lr="!!str 0.5", shuffle="false"))
    with pytest.raises(SpecError) as info:
        symbp.load(path)
    assert _one_line(info.value) == (
        f"{path}:5: optimizer.learning_rate: expected a number, found '0.5'"
    )


def test_a_tag_on_a_key_is_checked_too(write_spec) -> None:
    path = write_spec("layers: [2, 1]\n!!binary bmFtZQ==: x\n")
    with pytest.raises(SpecError, match=r":2: .*the YAML tag !!binary is not accepted"):
        symbp.load(path)


def test_an_untagged_date_is_text(write_spec) -> None:
    text = SPEC.format(lr="0.5", shuffle="false").replace("name: tags", "name: 2020-13-45")
    spec = symbp.load(write_spec(text))
    assert spec.name == "2020-13-45"


# -- claims' numbers given as strings --------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "more", "expected"),
    [
        ('"1e-999999999"', "", "printed must be a number within the limits: decimal 1e-999999999"),
        ('"1e999999999"', "", "printed must be a number within the limits: decimal 1e999999999"),
        ('"0.0e-99999999999"', "", "has too many decimals (at most 358 are accepted)"),
        ('"1.' + "0" * 400 + '"', "", "has 400 decimals (at most 358 are accepted)"),
        ('"' + "9" * 1_000_000 + '"', "", "integer 99999999999999999999...999999999999 (1000000"),
        ('"0.' + "1" * 60 + '"', "", "has 60 significant digits (at most 50 are accepted)"),
        ('"nan"', "", "printed must be a number, found 'nan'"),
        ("0.5", ', tolerance: "1e-999999999"', "tolerance must be a number within the limits"),
        ("0.5", ', tolerance: "1e999"', "tolerance must be a number within the limits"),
    ],
    ids=[
        "1e-999999999",
        "1e999999999",
        "zero_e-99999999999",
        "400_decimals",
        "million_digits",
        "60_digits",
        "nan",
        "tolerance_tiny",
        "tolerance_huge",
    ],
)
def test_a_printed_string_has_the_number_limits(
    write_spec, printed: str, more: str, expected: str
) -> None:
    path = write_spec(CLAIMS.format(printed=printed, more=more))
    with pytest.raises(SpecError) as info:
        symbp.verify(path)
    message = _one_line(info.value)
    assert message.startswith(f"{path}:8: claims[0]: "), message
    assert expected in message, message
    assert len(message) < 500


@pytest.mark.parametrize(
    ("raw", "value", "decimals"),
    [
        ("0.50", Fraction(1, 2), 2),
        (" -1.25e-2 ", Fraction(-1, 80), 4),
        ("1_000.5", Fraction(2001, 2), 1),
        (".5", Fraction(1, 2), 1),
        ("3E2", Fraction(300), 0),
        ("1e-308", Fraction(1, 10**308), 308),
        ("0." + "0" * 357 + "0", Fraction(0), 358),
        (0.5, Fraction(1, 2), 1),
        (Fraction(1, 8), Fraction(1, 8), 3),
        (10**18, Fraction(10**18), 0),
    ],
)
def test_printed_numbers_within_the_limits_stay_exact(
    raw: object, value: Fraction, decimals: int
) -> None:
    printed = parse_printed(raw)
    assert (printed.value, printed.decimals) == (value, decimals)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (10**19, "integer 10000000000000000000 is larger than"),
        (10**5000, "integer of about 5001 digits is larger than 10^18"),
        (Fraction(1, 3**2000), "fraction with a"),
        (math.inf, "printed must be a finite number, found inf"),
        (math.nan, "printed must be a finite number, found nan"),
        (5e-324, "decimal 5e-324 is out of range"),
        ("0." + "0" * MAX_DECIMALS + "1", "decimal 0.000"),
        ("x" * 100_000, "printed must be a number, found 'xxxxxxxx"),
    ],
    ids=["1e19", "5000_digits", "long_fraction", "inf", "nan", "subnormal", "359_decimals", "text"],
)
def test_printed_numbers_of_any_type_outside_the_limits_are_refused(
    raw: object, expected: str
) -> None:
    with pytest.raises(ValueError) as info:
        parse_printed(raw)
    assert expected in str(info.value)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    "printed",
    ['"1e-999999999"', '"' + "9" * 1_000_000 + '"', '"0.0e-999999999"'],
    ids=["1e-999999999", "million_digits", "zero_e-999999999"],
)
def test_a_hostile_printed_string_ends_in_one_line_under_the_caps(
    tmp_path: Path, printed: str
) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(CLAIMS.format(printed=printed, more=""), encoding="utf-8")
    result = run_symbp("verify", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith(f"symbp verify: error: {path}:8: claims[0]: ")
    assert result.stderr.count("\n") == 1
    assert len(result.stderr) < 600
    assert result.stdout == ""


# -- time budgets of the Python entry points and `exercises --time-limit` --------------


def test_verify_with_a_tiny_time_limit_raises_the_budget_error() -> None:
    with pytest.raises(TimeLimitExceeded) as info:
        symbp.verify(EXAMPLES / "koech_3_4_1_claims.yaml", time_limit=0.001)
    assert _one_line(info.value).startswith("stopped after the time limit of 0.001 s")
    with pytest.raises(TimeLimitExceeded):
        api.verify(EXAMPLES / "koech_3_4_1_claims.yaml", time_limit=0.001)


def _record_budget(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[float]:
    seen: list[float] = []
    original = getattr(module, name)

    def recording(*args: Any, **kwargs: Any) -> Any:
        left = budget.remaining()
        seen.append(math.nan if left is None else left)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return seen


def test_verify_check_and_exercises_run_under_the_clis_default_budget(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import symbp.exercises as exercises_mod
    import symbp.verify.core as core
    import symbp.verify.scan as scan_mod

    default = budget.DEFAULT_TIME_LIMIT
    seen = _record_budget(monkeypatch, core, "parse_claims")
    symbp.verify(EXAMPLES / "koech_3_4_1_claims.yaml")
    assert len(seen) == 1 and default - 5 < seen[0] <= default

    seen = _record_budget(monkeypatch, scan_mod, "catalogue")
    text = tmp_path / "text.md"
    text.write_text("The output is 0.521 and then 0.648.\n", encoding="utf-8")
    report = api.check(text, EXAMPLES / "koech_3_4_1.yaml", steps=1)
    assert [r.found.text for r in report.results] == ["0.521", "0.648"]
    assert len(seen) == 1 and default - 5 < seen[0] <= default

    seen = _record_budget(monkeypatch, exercises_mod, "plan")
    api.exercises(EXAMPLES / "exercises_2_2_1.yaml", tmp_path / "out", count=2, pdf=False)
    assert (tmp_path / "out" / "answers.csv").is_file()
    assert len(seen) == 1 and default - 5 < seen[0] <= default


def test_check_and_exercises_stop_at_a_tiny_time_limit_writing_nothing(tmp_path: Path) -> None:
    text = tmp_path / "text.md"
    text.write_text("The output is 0.521.\n", encoding="utf-8")
    with pytest.raises(TimeLimitExceeded):
        api.check(text, EXAMPLES / "koech_3_4_1.yaml", time_limit=0.001)
    for call in (api.exercises, symbp.exercises.make_exercises):
        with pytest.raises(TimeLimitExceeded):
            call(EXAMPLES / "exercises_2_2_1.yaml", tmp_path / "out", pdf=False, time_limit=0.001)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["text.md"]


def test_exercises_has_time_limit_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["exercises", str(EXAMPLES / "exercises_2_2_1.yaml"), "--no-pdf", "-o", str(out)]
    assert main([*args, "--time-limit", "0.001"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symbp exercises: error: stopped after the time limit of 0.001 s")
    assert err.count("\n") == 1
    assert not out.exists()
    assert main([*args, "--time-limit", "0", "--count", "2"]) == 0
    assert (out / "answers.csv").is_file()


# -- values out of a generator's domain ------------------------------------------------


@pytest.mark.parametrize("seed", [-1, 2**32, 2**70, 1.5, True, "3"])
@pytest.mark.parametrize("generator", ["default", "legacy"])
def test_an_out_of_domain_init_seed_is_one_line(seed: object, generator: str) -> None:
    spec = _spec(init={"name": "normal", "std": 0.1, "seed": seed, "generator": generator})
    with pytest.raises(SpecError) as info:
        symbp.evaluate(spec)
    assert _one_line(info.value) == (
        f"init.seed: expected a seed, a whole number from 0 to 2^32 - 1 (4294967295), "
        f"found {quote(seed)}"
    )


def test_the_largest_seed_draws_with_either_generator() -> None:
    for generator in ("default", "legacy"):
        spec = _spec(init={"name": "normal", "seed": MAX_SEED, "generator": generator})
        assert len(symbp.evaluate(spec).steps) == 1


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5"])
def test_out_of_domain_yaml_seeds_name_the_line(write_spec, seed: str) -> None:
    text = SPEC.format(lr="0.5", shuffle="true").replace(
        "{shuffle: true}", f"{{shuffle: true, seed: {seed}}}"
    )
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        symbp.load(path)
    assert _one_line(info.value).startswith(f"{path}:7: training.seed: expected a seed, ")
    text = SPEC.format(lr="0.5", shuffle="true")
    path = write_spec(text.replace("training:", f"exercise: {{seed: {seed}}}\ntraining:"))
    with pytest.raises(SpecError) as info:
        symbp.load(path)
    assert _one_line(info.value).startswith(f"{path}:7: exercise.seed: expected a whole number")


def test_seed_options_of_the_commands_are_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(EXAMPLES / "koech_3_4_1.yaml")
    for argv in (
        ["train", spec, "--data", "iris", "--seed", "-1", "-o", "x"],
        ["train", spec, "--data", "iris", "--seed", "4294967296", "-o", "x"],
        ["exercises", spec, "--seed", "4294967296", "-o", "x"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert "--seed" in capsys.readouterr().err


def test_check_seed() -> None:
    assert check_seed(0) == 0 and check_seed(MAX_SEED) == MAX_SEED
    for bad in (-1, MAX_SEED + 1, 1.0, False, Fraction(1), None):
        with pytest.raises(NumberError, match="expected a seed"):
            check_seed(bad)


@pytest.mark.parametrize(
    ("init", "expected"),
    [
        (
            {"name": "uniform", "low": 1, "high": -1},
            "init.high: the range is empty: low 1 is above high -1",
        ),
        (
            {"name": "uniform", "low": -1e308, "high": 1e308},
            "init.high: high - low is beyond the largest float64; choose a smaller range",
        ),
        ({"name": "uniform", "low": math.nan}, "init.low: expected a finite number, found nan"),
        ({"name": "uniform", "high": math.inf}, "init.high: expected a finite number, found inf"),
        ({"name": "uniform", "low": -math.inf}, "init.low: expected a finite number, found -inf"),
        (
            {"name": "normal", "std": -0.5},
            "init.std: expected a standard deviation >= 0, found -0.5",
        ),
        ({"name": "normal", "std": math.nan}, "init.std: expected a finite number, found nan"),
    ],
)
def test_an_out_of_domain_initialiser_range_is_one_line(init: dict, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        symbp.evaluate(_spec(init=init))
    assert _one_line(info.value) == expected


def test_a_degenerate_uniform_range_draws_its_one_value() -> None:
    spec = symbp.load(_spec(init={"name": "uniform", "low": 0.25, "high": 0.25}))
    W = symbp.evaluate(spec).steps[0].W
    assert {float(v) for matrix in W for row in matrix for v in row} == {0.25}


# -- error lines quote at most about 80 characters of a value --------------------------


def test_quote_cuts_long_values() -> None:
    assert quote("abc") == "'abc'"
    long = quote("a" * 100_000)
    assert long.endswith("' (100000 characters)") and len(long) <= QUOTE_LIMIT + 40
    assert quote("x\ny") == "'x\\ny'"
    assert quote(10**5000) == "an integer of about 5001 digits"
    assert quote(Fraction(3, 2)) == "1.5" and quote(Fraction(7)) == "7"
    assert quote(list(range(1000))) == "[0, 1, 2, 3, 4, 5, 6, 7, ...]"
    assert len(quote({"k": "v" * 10_000})) <= QUOTE_LIMIT + 2


def test_a_long_message_is_cut_in_the_middle() -> None:
    text = str(SymbpError("a" * 600 + "b" * 600))
    assert len(text) < 1100
    assert text.startswith("a" * 500) and text.endswith("b" * 500)
    assert "[…200 characters…]" in text


@pytest.mark.parametrize(
    "changes",
    [
        {"activations": "s" * 100_000},
        {"loss": "l" * 100_000},
        {"optimizer": {"name": "o" * 100_000}},
        {"init": {"name": "i" * 100_000}},
        {"frozen": ["f" * 100_000]},
        {"layers": ["n" * 100_000, 1]},
        {"example": {"x": ["x" * 100_000, 1], "t": [1]}},
        {"activations": {"formula": "x" + "+x" * 50_000}},
        {"claims": [{"of": "q" * 100_000, "printed": 0.5}]},
        {"claims": [{"of": "a[1][0]", "printed": 0.5, "note": ["n" * 100_000]}]},
    ],
)
def test_a_100kb_value_is_quoted_short(changes: dict[str, Any]) -> None:
    with pytest.raises((SpecError, DataError)) as info:
        symbp.verify(_spec(**changes))
    message = _one_line(info.value)
    assert len(message) < 600, message
    assert not any(c * 100 in message for c in "slointfnxq"), message


# -- numeric evaluation of formulas stays within 10^308 --------------------------------


@pytest.mark.parametrize(
    ("formula", "x", "fragment"),
    [
        ("x**x", 10_000, "the power 10000**10000 is beyond 10^308"),
        ("x**x**x", 10_000, "the power 10000**10000 is beyond 10^308"),
        ("exp(x)", 10_000, "exp(10000) is beyond 10^308"),
        ("exp(exp(x))", 10_000, "exp(10000) is beyond 10^308"),
        ("cosh(x)", -10_000, "cosh(-10000) is beyond 10^308"),
        ("x*exp(-x)", -10_000, "exp(10000) is beyond 10^308"),
    ],
)
@pytest.mark.parametrize("fast", [False, True])
def test_a_formula_activation_far_from_zero_fails_in_one_line_naming_it(
    formula: str, x: int, fragment: str, fast: bool
) -> None:
    from symbp.ops.bounded import OutOfRange
    from symbp.symbolic.evaluate import evaluate

    spec = symbp.load(
        {
            "layers": [1, 1],
            "activations": {"formula": formula},
            "params": {"W": [[[1]]]},
            "example": {"x": [x], "t": [1]},
        }
    )
    with pytest.raises(OutOfRange) as info:
        evaluate(spec, steps=1, fast=fast)
    message = _one_line(info.value)
    if fast:
        assert message.startswith(f"activation of layer 1 ({quote(formula)}): a value at x = ")
    else:
        assert message.startswith(f"activation f_1(x) = {quote(str(spec.activations[0].formula))}")
        assert fragment in message
    assert "(the float64 range): the network diverges there" in message
    assert info.value.exit_code == 1


@pytest.mark.parametrize("formula", ["x*exp(x)", "x**3", "tanh(x)*x", "log(1 + exp(x))"])
def test_a_formula_activation_far_from_zero_that_stays_finite_is_evaluated(formula: str) -> None:
    spec = {
        "layers": [1, 1],
        "activations": {"formula": formula},
        "params": {"W": [[[1]]]},
        "example": {"x": [-10_000], "t": [1]},
    }
    step = symbp.evaluate(spec).steps[0]
    value = float(step.examples[0].a[1][0])
    assert math.isfinite(value) and abs(value) <= 10**12


def test_an_exact_power_that_would_be_a_huge_fraction_is_a_60_digit_float() -> None:
    import sympy as sp

    from symbp.ops.bounded import power

    tiny = power(sp.Rational(1, 10), sp.Integer(5000), 60)
    assert tiny.is_Float and sp.Rational(tiny) > 0
    assert power(sp.Rational(1, 10), sp.Integer(30), 60) == sp.Rational(1, 10**30)


# -- data files: empty or zero-row archives -------------------------------------------


def test_a_zero_row_or_empty_npz_is_one_line(tmp_path: Path) -> None:
    import numpy as np

    from symbp.train.data import load_data

    zero = tmp_path / "zero.npz"
    np.savez(zero, X=np.zeros((0, 4)), y=np.zeros((0,)))
    with pytest.raises(DataError) as info:
        load_data(zero)
    assert _one_line(info.value) == (
        f"{zero}: X has no rows (shape (0, 4)); expected at least one example"
    )
    blank = tmp_path / "blank.npz"
    blank.write_bytes(b"")
    with pytest.raises(DataError) as info:
        load_data(blank)
    assert _one_line(info.value) == f"{blank}: cannot read the archive (EOFError)"


# -- a hand-edited params.npz given to export-spec, --init-from or load_trainer -------


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The arrays of a trained 2-3-1 network's params.npz."""
    import numpy as np

    folder = tmp_path_factory.mktemp("run")
    trainer = symbp.compile(
        {
            "name": "saved",
            "layers": [2, 3, 1],
            "activations": "sigmoid",
            "loss": "half_sse",
            "init": {"name": "normal", "seed": 1},
        }
    )
    trainer.fit(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]]), epochs=1)
    trainer.save(folder / "params.npz")
    return dict(np.load(folder / "params.npz"))


def _edited(arrays: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {k: v for k, v in arrays.items() if changes.get(k, 0) is not None}
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"W_1": "shape"}, "array W_1 must have shape (3, 2) for layers [2, 3, 1]; found float64"),
        ({"b_2": "column"}, "array b_2 must have shape (1,) for layers [2, 3, 1]; found float64"),
        ({"W_1": "nan"}, "array W_1 holds NaN or infinite values"),
        ({"W_2": "inf"}, "array W_2 holds NaN or infinite values"),
        ({"W_1": "text"}, "array W_1 must hold real numbers; found <U1 of shape (3, 2)"),
        ({"W_1": "bool"}, "array W_1 must hold real numbers; found bool of shape (3, 2)"),
        ({"W_1": "complex"}, "array W_1 must hold real numbers; found complex128 of shape (3, 2)"),
        ({"b_2": None}, "missing array b_2 (layers [2, 3, 1] need W_1..W_2, b_1..b_2)"),
        ({"W_3": "extra"}, "array W_3 is one layer too many for layers [2, 3, 1]"),
        ({"counters": "float"}, "array counters must hold the whole numbers >= 0 of epochs"),
        ({"counters": "negative"}, "array counters must hold the whole numbers >= 0 of epochs"),
        ({"dtype": "int8"}, "array dtype must be float64 or float32; found 'int8'"),
        ({"state_names": "numbers"}, "array state_names must be a list of texts; found int64"),
    ],
    ids=lambda v: "-".join(f"{k}_{w}" for k, w in v.items()) if isinstance(v, dict) else "",
)
def test_a_hand_edited_params_npz_is_one_line(
    saved_run: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    expected: str,
) -> None:
    import numpy as np

    from symbp.codegen.persist import init_from, load_trainer

    made = {
        "shape": np.zeros((2, 2)),
        "column": np.zeros((1, 1)),
        "nan": np.full((3, 2), np.nan),
        "inf": np.full((1, 3), np.inf),
        "text": np.full((3, 2), "a"),
        "bool": np.ones((3, 2), dtype=bool),
        "complex": np.ones((3, 2)) * 1j,
        "extra": np.ones((1, 1)),
        "float": np.array([1.5]),
        "negative": np.array([-1, 0]),
        "int8": np.array("int8"),
        "numbers": np.array([1, 2]),
    }
    changes = {k: (None if v is None else made[v]) for k, v in change.items()}
    path = tmp_path / "params.npz"
    np.savez(path, **_edited(saved_run, **changes))
    out = tmp_path / "spec.yaml"
    assert main(["export-spec", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"symbp export-spec: error: {path}: {expected}" + err.split(expected, 1)[1]
    assert err.count("\n") == 1
    assert not out.exists()
    with pytest.raises(DataError, match=f"^{path}: ") as info:
        load_trainer(path)
    assert expected in _one_line(info.value)
    trainer = symbp.compile(_saved_spec(saved_run))
    before = [w.copy() for w in trainer.params[0]]
    with pytest.raises(DataError) as info:
        init_from(trainer, path)
    assert expected in _one_line(info.value)
    assert all((a == b).all() for a, b in zip(before, trainer.params[0], strict=True))


def _saved_spec(arrays: dict[str, Any]) -> Any:
    from symbp.yamlio import parse_yaml

    data, _ = parse_yaml(str(arrays["spec"]))
    return symbp.load(data)


def test_an_intact_params_npz_still_exports(saved_run: dict[str, Any], tmp_path: Path) -> None:
    import numpy as np

    from symbp.codegen.export import trained_spec_yaml

    path = tmp_path / "params.npz"
    np.savez(path, **saved_run)
    spec = symbp.load(_write(tmp_path, trained_spec_yaml(path)))
    assert [float(v) for v in spec.W[0][0]] == [float(v) for v in saved_run["W_1"][0]]


def _write(folder: Path, text: str) -> Path:
    path = folder / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_train_init_from_a_bad_params_npz_makes_no_run_folder(
    saved_run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    bad = tmp_path / "bad.npz"
    np.savez(bad, **_edited(saved_run, W_1=np.full((3, 2), np.nan)))
    spec = tmp_path / "spec.yaml"
    spec.write_text(str(saved_run["spec"]), encoding="utf-8")
    data = tmp_path / "data.npz"
    np.savez(data, X=np.array([[0.0, 1.0], [1.0, 0.0]] * 5), T=np.array([[1.0], [0.0]] * 5))
    out = tmp_path / "run"
    argv = ["train", str(spec), "--data", str(data), "--init-from", str(bad), "-o", str(out)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"symbp train: error: {bad}: array W_1 holds NaN or infinite values\n"
    )
    assert not out.exists()


def test_check_reads_a_million_digit_number_as_unmatched(tmp_path: Path) -> None:
    text = tmp_path / "text.md"
    text.write_text("A value 0." + "5" * 1_000_000 + " and then 0.521.\n", encoding="utf-8")
    report = api.check(text, EXAMPLES / "koech_3_4_1.yaml", steps=1)
    assert [(r.verdict, r.convention) for r in report.results] == [
        ("unmatched", "outside the number limits"),
        ("confirmed", None),
    ]


@pytest.mark.parametrize("seconds", [-1, math.nan, "soon", True])
def test_a_bad_time_limit_is_one_line(seconds: object) -> None:
    with pytest.raises(DataError) as info:
        symbp.verify(EXAMPLES / "koech_3_4_1_claims.yaml", time_limit=seconds)  # type: ignore[arg-type]
    assert _one_line(info.value) == (
        f"time_limit: expected seconds >= 0 (0: no limit), found {quote(seconds)}"
    )


def test_the_yaml_value_cap_holds_with_the_tag_checks(write_spec) -> None:
    path = write_spec("layers: [" + "1, " * 100_001 + "1]\n")
    with pytest.raises(SpecError) as info:
        symbp.load(path)
    assert _one_line(info.value) == f"{path}:1: the YAML holds more than 100000 values"
