"""The stated limits of symbp's input, one by one, in process.

Numbers (exact within the caps, refused outside them), formula characters, shapes
and literals, the spec file (size, kind), network sizes, the memory check of the
compiled trainer, and the time budget (signal and thread fallback). The hostile
cases of issue 17 run as subprocesses in ``test_limits_cli.py``.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import symbp
from symbp import budget, formula
from symbp.cli import main
from symbp.codegen.memory import buffer_bytes, check_memory
from symbp.errors import FormulaError, SpecError, TimeLimitExceeded, TooLargeError
from symbp.limits import NumberError, check_fraction, check_integer, decimal_fraction
from symbp.ops.symbols import X

#: A hang guard for refusals that must come before any work: far beyond what they
#: take on any machine (they are not timed), short of hanging the suite.
HANG_S = 30.0

BASE: dict[str, Any] = {
    "layers": [2, 2, 1],
    "activations": "sigmoid",
    "loss": "half_sse",
    "params": {"W": [[[0.5, -0.25], [1, 2]], [[0.75, -1]]]},
    "example": {"x": [1, 2], "t": [1]},
}
YAML = """layers: [2, 2, 1]
activations: {act}
params:
  W: [[[{w}, -0.25], [1, 2]], [[0.75, -1]]]
example: {{x: [1, 2], t: [1]}}
"""


def _spec(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


def _parse(text: str) -> sp.Expr:
    return formula.parse_formula(text, {"x": X}, field="activations.formula")


# -- numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.179", Fraction(179, 1000)),
        ("-2", Fraction(-2)),
        ("1e-3", Fraction(1, 1000)),
        (".25", Fraction(1, 4)),
        ("1_000.5", Fraction(2001, 2)),
        ("1200.0", Fraction(1200)),
        ("0.000", Fraction(0)),
        ("0e999999999999999999", Fraction(0)),
        ("1e308", Fraction(10**308)),
        ("1e-308", Fraction(1, 10**308)),
        ("1" * 18, Fraction(int("1" * 18))),
        ("1000000000000000000", Fraction(10**18)),
        ("1." + "0" * 5000, Fraction(1)),  # trailing zeros are not significant
        ("1." + "1" * 49, Fraction(int("1" * 50), 10**49)),
    ],
)
def test_decimals_are_exact_within_the_limits(text: str, value: Fraction) -> None:
    assert decimal_fraction(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e999999999", "out of range"),
        ("1e-999999999", "out of range"),
        ("2e308", "out of range"),
        ("9e-309", "out of range"),
        ("1e" + "9" * 5000, "out of range"),
        ("1000000000000000001", "larger than"),
        ("9" * 5000, "larger than"),
        ("1." + "1" * 50, "51 significant digits"),
        ("0x1F", "not a decimal"),
        ("1j", "not a decimal"),
        ("", "not a decimal"),
    ],
)
def test_numbers_outside_the_limits_are_refused_at_once(text: str, message: str) -> None:
    # refused by the limits before any arithmetic on the digits (a hang guard, not a
    # speed claim: the budget stops a parse that would run on)
    with budget.time_limit(HANG_S), pytest.raises(NumberError, match=message):
        decimal_fraction(text)


def test_python_numbers_have_the_same_limits() -> None:
    assert check_integer(-(10**18)) == -(10**18)
    assert check_fraction(Fraction(1, 3)) == Fraction(1, 3)
    with pytest.raises(NumberError, match="10\\^18"):
        check_integer(10**5000)
    with pytest.raises(NumberError, match="out of range"):
        check_fraction(Fraction(1, 10**309))
    with pytest.raises(NumberError, match="too long"):
        check_fraction(Fraction(1, 3**2000))


@pytest.mark.parametrize("w", ["1e999999999", "1e-999999999", "9" * 5000, "0x" + "f" * 30])
def test_yaml_numbers_out_of_range_name_the_field_and_line(write_spec, w: str) -> None:
    path = write_spec(YAML.format(act="sigmoid", w=w))
    with pytest.raises(SpecError) as info:
        symbp.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:4: params.W[0][0][0]: ")
    assert "\n" not in message


def test_dict_numbers_out_of_range_name_the_field() -> None:
    with pytest.raises(SpecError, match=r"^example\.x\[0\]: expected a number within"):
        symbp.load(_spec(example={"x": [10**5000, 1], "t": [1]}))
    with pytest.raises(SpecError, match=r"^params\.W\[0\]\[0\]\[0\]: .*out of range"):
        symbp.load(_spec(params={"W": [[[5e-324, 0], [0, 0]], [[0, 0]]]}))
    with pytest.raises(SpecError, match=r"^init\.seed: expected a seed, a whole number from 0 to"):
        symbp.load(_spec(params=None, init={"name": "normal", "seed": 10**30}))


def test_yaml_numbers_in_range_stay_exact(write_spec) -> None:
    spec = symbp.load(write_spec(YAML.format(act="sigmoid", w="0.1000000000000000000001")))
    assert spec.W[0][0][0] == sp.Rational(10**21 + 1, 10**22)


# -- formula characters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "position", "hint"),
    [
        ("\U0001d465*2", "U+1D465", 1, "looks like 'x' (NFKC) but only ASCII is accepted"),
        ("2*\uff58", "U+FF58", 3, "looks like 'x' (NFKC)"),
        ("x+\ud800", "U+D800", 3, "a lone surrogate"),
        ("x\x00", "U+0000", 2, "control character"),
        ("x+\u03b1", "U+03B1", 3, "GREEK SMALL LETTER ALPHA) at position 3 is not ASCII"),
        ("x\u00a0+1", "U+00A0", 2, "looks like ' '"),
    ],
)
def test_non_ascii_characters_are_named_by_code_point(
    text: str, code: str, position: int, hint: str
) -> None:
    with pytest.raises(FormulaError) as info:
        _parse(text)
    message = str(info.value)
    assert f"character {code} (" in message
    assert f"at position {position}" in message
    assert hint in message
    message.encode("utf-8")  # printable, whatever the input held


def test_ascii_whitespace_is_accepted() -> None:
    assert _parse("(x\t*\n2)") == 2 * X


def test_lone_surrogate_in_yaml_text_is_refused(write_spec) -> None:
    path = write_spec(YAML.format(act='{formula: "x+\\uD800"}', w="0.5"))
    with pytest.raises(SpecError, match=r":2: activations\.formula: the text holds U\+D800"):
        symbp.load(path)


# -- formula shapes and literals -----------------------------------------------------


def test_formula_caps() -> None:
    nested = "tanh(" * 6 + "x" + ")" * 6
    assert _parse(nested).count(sp.tanh) == 6
    with pytest.raises(FormulaError, match="more than 6 function calls nested"):
        _parse("tanh(" * 7 + "x" + ")" * 7)
    with pytest.raises(FormulaError, match="nesting deeper than 24 levels"):
        _parse("-" * 30 + "x")
    with pytest.raises(FormulaError, match="more than 200 terms"):
        _parse("+".join(["x"] * 101))
    assert _parse("+".join(["x"] * 100)) == 100 * X
    assert _parse("(" * 23 + "-x" + ")" * 23) == -X
    with pytest.raises(FormulaError, match="longer than 400 characters"):
        _parse("x*" + "9" * 5000)
    with pytest.raises(FormulaError, match="exponent 65 is larger than 64"):
        _parse("x**65")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x*10000000000000000000", "larger than"),
        ("x*1e400", "out of range"),
        ("x*1e-400", "out of range"),
        ("x*0.1234567890123456789012345678901234567890123456789012", "significant digits"),
        ("x*0x10", "not a decimal"),
    ],
)
def test_formula_literals_have_the_number_limits(text: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        _parse(text)


def test_formula_literals_are_read_exactly_from_their_text() -> None:
    assert _parse("x*0.30000000000000000001") == sp.Rational(3 * 10**19 + 1, 10**20) * X
    assert _parse("1e-3*x") == X / 1000


# -- the spec file -------------------------------------------------------------------


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    kinds = [
        (fifo, r"a pipe \(FIFO\)"),
        ("/dev/zero", "a character device"),
        (tmp_path, "a folder"),
    ]
    for path, kind in kinds:
        # refused before it is opened: reading the pipe would block, /dev/zero never ends
        refused = pytest.raises(SpecError, match=f"cannot read file: it is {kind}, not a regular")
        with budget.time_limit(HANG_S), refused:
            symbp.load(path)


def test_the_spec_file_has_a_size_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(10 * 2**20 + 1)  # sparse: the cap is read from its size
    with pytest.raises(SpecError, match="larger than 10485760 bytes"):
        symbp.load(big)


def test_raw_lone_surrogate_bytes_are_not_utf8(write_spec, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b'layers: [1, 1]\nname: "\xed\xa0\x80"\n')
    with pytest.raises(SpecError, match="not UTF-8 \\(byte 0xed at offset 22\\)"):
        symbp.load(path)


# -- network sizes -------------------------------------------------------------------


def test_layer_caps() -> None:
    with pytest.raises(SpecError, match=r"^layers: expected at most 64 sizes, found 65"):
        symbp.load({"layers": [1] * 65})
    with pytest.raises(SpecError, match=r"^layers\[1\]: expected a layer size of at most"):
        symbp.load({"layers": [1, 10**7 + 1]})


def test_the_trainer_memory_is_checked_before_compiling() -> None:
    spec = symbp.load({"layers": [1000, 1000, 1]})
    need = buffer_bytes(spec, "float64")
    assert need == spec.n_params * (8 * 3 + 8 * 3) + 8 * 256 * (1000 + 4 * 1001)
    assert check_memory(spec, "float64", available=4 * need) == need
    with pytest.raises(TooLargeError, match=r"^layers: the trainer of this net"):
        check_memory(spec, "float64", available=need)
    with pytest.raises(TooLargeError, match="GiB for its buffers"):
        symbp.compile({"layers": [10**7, 10**7, 1]})


# -- the time budget -----------------------------------------------------------------


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_budget_interrupts_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGALRM)
    after_suppress = []
    with pytest.raises(TimeLimitExceeded, match=r"time limit of 0\.2 s"), budget.time_limit(0.2):
        with contextlib.suppress(Exception):  # as SymPy does: the budget passes through
            _spin(5)
        after_suppress.append(True)
        _spin(5)
    assert not after_suppress  # the first spin was interrupted, through the suppress
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_budget_nests_inherits_and_pauses() -> None:
    with budget.time_limit(5):
        with budget.time_limit(None):  # inherits
            assert 4 < budget.remaining() <= 5
        with budget.time_limit(0):  # no limit
            assert budget.remaining() == float("inf")
        with budget.paused():
            time.sleep(0.2)
        assert budget.remaining() > 4.9
    assert budget.remaining() is None


def test_the_budget_in_a_thread_stops_at_check_points() -> None:
    spec = _spec(activations={"formula": "tanh(tanh(tanh(tanh(tanh(tanh(x))))))"})
    spec["layers"] = [2, 2, 2, 2, 1]
    spec.pop("params")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            symbp.derive(spec, time_limit=0.05)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert len(errors) == 1 and isinstance(errors[0], TimeLimitExceeded)


def test_time_limit_option(write_spec, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(
        YAML.format(act='{formula: "tanh(tanh(tanh(tanh(tanh(tanh(x))))))"}', w="0.5")
    )
    assert main(["derive", str(path), "--time-limit", "0.01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symbp derive: error: stopped after the time limit of 0.01 s")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["eval", str(path), "--time-limit", "-1"])
    with pytest.raises(SystemExit):
        main(["eval", str(path), "--digits", "100000000"])
