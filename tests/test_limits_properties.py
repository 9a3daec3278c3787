"""Property test: specs and formulas from a grammar of valid and invalid pieces.

Whatever hypothesis assembles (numbers in and out of the limits, lookalike and
control characters, surrogates, deep chains, unknown names and operators, bad
shapes), loading ends in a :class:`~symbp.Spec` or a one-line
:class:`~symbp.errors.SymbpError`, quickly: 2,000 cases in process (YAML text and
Python dicts), and a fixed sample run as ``symbp derive``/``symbp eval``
subprocesses under the CPU and memory caps of ``test_limits_cli.py``.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import pytest
import sympy as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_limits_cli import run_symbp

import symbp
from symbp.errors import FormulaError, SymbpError
from symbp.formula import FUNCTIONS, parse_formula
from symbp.ops.symbols import T, X, Y
from symbp.yamlio import parse_yaml

#: A hang guard, not a speed claim: far beyond what a case takes on any machine, and
#: above symbp's own default time limit (a case stopped by it ends well).
CASE_S = 45.0

GOOD_NUMBERS = ["0", "1", "-2", "0.5", "1e-3", ".25", "1_000", "3.14159", "-0.179", "1e308"]
BAD_NUMBERS = [
    "1e999999999",
    "1e-999999999",
    "9" * 30,
    "9" * 5000,
    "1." + "1" * 60,
    "0x1F",
    ".inf",
    "-.inf",
    ".nan",
    "1e309",
    "true",
    '"3"',
    "null",
    "1:30",
]
#: Pieces of formula text: variables, constants and names that are refused.
NAMES = ["x", "y", "t", "e", "pi", "foo", "__import__", "os", "X"]
ODD = ["ｘ", "𝑥", "\ud800", "\udc00", "\x00", "\x1b", "α", "\u00a0", "ⅹ", "x\u0301"]
LITERALS = ["2", "0.5", "1e-3", "1e999", "1e-999", "9" * 25, "0x10", "1j", "'s'", "...", "1_0"]
OPERATORS = ["+", "-", "*", "/", "**", "^", "//", "%", "<", " if ", ",", " and ", "@"]
CALLS = [*FUNCTIONS, "eval", "open", "foo", "getattr"]

_leaf = st.sampled_from(NAMES + LITERALS) | st.sampled_from(ODD)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return (
        st.builds(lambda a, op, b: f"{a}{op}{b}", inner, st.sampled_from(OPERATORS), inner)
        | st.builds(lambda f, a: f"{f}({a})", st.sampled_from(CALLS), inner)
        | st.builds(lambda a, b: f"max({a}, {b})", inner, inner)
        | inner.map(lambda a: f"({a})")
        | inner.map(lambda a: f"-{a}")
        | inner.map(lambda a: f"{a}.real")
    )


def _chain(depth: int, function: str, inner: str) -> str:
    return f"{function}(" * depth + inner + ")" * depth


formulas = st.one_of(
    st.recursive(_leaf, _extend, max_leaves=24),
    st.builds(_chain, st.integers(1, 45), st.sampled_from(["tanh", "exp", "sin", "log"]), _leaf),
    st.text(max_size=40),
    st.builds(lambda n: "x+" * n + "x", st.integers(0, 250)),
)


def _number(text: str) -> Any:
    """A number piece for a dict spec: the Python value YAML would give, or the text."""
    try:
        data, _ = parse_yaml(f"v: {text}")
        return data["v"]
    except SymbpError:
        return text


#: Valid pieces are listed more often than invalid ones, so that most cases get past
#: the first field and reach formulas, parameters and examples.
numbers = st.one_of(
    st.sampled_from(GOOD_NUMBERS),
    st.sampled_from(GOOD_NUMBERS),
    st.sampled_from(GOOD_NUMBERS),
    st.sampled_from(BAD_NUMBERS),
    st.integers(-(10**20), 10**20).map(str),
)
activations = st.one_of(
    st.sampled_from(["sigmoid", "tanh", "relu", "softmax", "identity", "bogus", "null"]),
    st.builds(lambda f: {"formula": f}, formulas),
    st.builds(lambda f: {"formula": f}, formulas),
    st.builds(lambda f: {"formula": f}, formulas),
    st.builds(lambda f, a: {"formula": f, "alpha": a}, formulas, numbers),
)
losses = st.one_of(
    st.sampled_from(["half_sse", "bce", "cross_entropy", "hinge", "nope"]),
    st.builds(lambda f: {"formula": f.replace("x", "y")}, formulas),
    st.builds(lambda f: {"formula": f.replace("x", "(y-t)")}, formulas),
)
layers = st.one_of(
    st.sampled_from([[2, 2, 1], [1, 1], [3, 4, 1], [2, 3, 2]]),
    st.sampled_from([[2, 2, 1], [1, 1], [3, 4, 1], [2, 3, 2]]),
    st.sampled_from([[2, 2, 1], [1, 1], [3, 4, 1], [2, 3, 2]]),
    st.lists(st.integers(-1, 4), min_size=0, max_size=5),
    st.lists(st.sampled_from(["2", "1e999999999", "10000001", str(10**20), "2.5"]), max_size=3),
    st.just([1] * 70),
)
free_specs = st.fixed_dictionaries(
    {"layers": layers, "activations": activations, "loss": losses},
    optional={
        "params": st.fixed_dictionaries(
            {
                "W": st.lists(
                    st.lists(st.lists(numbers, min_size=1, max_size=3), max_size=3), max_size=3
                )
            },
            optional={"b": st.lists(st.lists(numbers, max_size=3), max_size=3)},
        ),
        "example": st.fixed_dictionaries(
            {"x": st.lists(numbers, max_size=3), "t": st.lists(numbers, max_size=2)}
        ),
        "optimizer": st.fixed_dictionaries(
            {"name": st.sampled_from(["sgd", "adam", "x"]), "learning_rate": numbers}
        ),
        "init": st.fixed_dictionaries({"name": st.just("normal"), "seed": numbers}),
        "name": st.sampled_from(["net", "net", "net", "\ud800", "a\u0000b", "𝑥"]),
    },
)


BASE: dict[str, Any] = {
    "layers": [2, 2, 1],
    "activations": "sigmoid",
    "loss": "half_sse",
    "params": {"W": [[["0.5", "-0.25"], ["1", "2"]], [["0.75", "-1"]]]},
    "example": {"x": ["1", "2"], "t": ["1"]},
}


def _replaced(field: str, value: Any) -> dict[str, Any]:
    """The valid base spec with one field replaced (so the case reaches that field)."""
    out = {**BASE, field: value}
    return out


#: One valid spec with one field from the grammar: most cases get to that field.
one_piece = st.one_of(
    st.builds(_replaced, st.just("activations"), activations),
    st.builds(_replaced, st.just("loss"), losses),
    st.builds(
        lambda w: _replaced("params", {"W": [[[w, "0"], ["1", "2"]], [["0.75", "-1"]]]}), numbers
    ),
    st.builds(lambda x: _replaced("example", {"x": [x, "2"], "t": ["1"]}), numbers),
)
specs = st.one_of(free_specs, one_piece, one_piece)


_NUMBER_TEXT = re.compile(r"[-+]?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?")


def _yaml(value: Any) -> str:
    """Flow-style YAML in which number pieces stay raw text and formulas are quoted."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    if value in GOOD_NUMBERS or value in BAD_NUMBERS or _NUMBER_TEXT.fullmatch(value):
        return value
    if value in {"sigmoid", "tanh", "relu", "softmax", "identity", "bogus", "null"}:
        return value
    # \uXXXX escapes for what UTF-8 cannot hold (surrogates), the characters otherwise
    return json.dumps(value, ensure_ascii=not value.isprintable() or _has_surrogate(value))


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _as_dict(value: Any, key: str = "") -> Any:
    """The dict spec: number text becomes what YAML would give; names stay text."""
    if isinstance(value, dict):
        return {k: _as_dict(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_dict(v) for v in value]
    if isinstance(value, str) and key not in ("formula", "name", "activations", "loss"):
        return _number(value)
    return value


def _ends_well(action: Any) -> Any:
    started = time.perf_counter()
    try:
        result = action()
    except SymbpError as err:
        message = str(err)
        assert "\n" not in message and message.strip()
        message.encode("utf-8")  # printable: no lone surrogate in the message itself
        result = err
    assert time.perf_counter() - started < CASE_S
    return result


SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(SETTINGS, max_examples=1000)
@given(specs)
def test_yaml_specs_load_or_fail_in_one_line(spec: dict[str, Any]) -> None:
    def load() -> Any:
        data, _ = parse_yaml(_yaml(spec))
        return symbp.load(data)

    result = _ends_well(load)
    assert isinstance(result, (symbp.Spec, SymbpError))


@settings(SETTINGS, max_examples=600)
@given(specs)
def test_dict_specs_load_or_fail_in_one_line(spec: dict[str, Any]) -> None:
    result = _ends_well(lambda: symbp.load(_as_dict(spec)))
    assert isinstance(result, (symbp.Spec, SymbpError))


@settings(SETTINGS, max_examples=1000)
@given(formulas, st.booleans())
def test_formulas_parse_or_fail_in_one_line(text: str, loss: bool) -> None:
    variables = {"y": Y, "t": T} if loss else {"x": X}
    result = _ends_well(lambda: parse_formula(text, variables, field="f"))
    if isinstance(result, sp.Expr):
        assert result.free_symbols <= set(variables.values())
        assert text.isascii()
    else:
        assert isinstance(result, FormulaError)


@settings(SETTINGS, max_examples=6, derandomize=True)
@given(spec=specs)
@example(spec=_replaced("activations", {"formula": "x/(1+abs(x))"}))
@example(spec=_replaced("loss", {"formula": _chain(6, "tanh", "y-t")}))
def test_a_sample_runs_as_subprocesses_within_the_caps(
    spec: dict[str, Any], tmp_path_factory: Any
) -> None:
    folder: Path = tmp_path_factory.mktemp("sample")
    path = folder / "spec.yaml"
    path.write_text(_yaml(spec) + "\n", encoding="utf-8")
    for command in ("derive", "eval"):
        result = run_symbp(command, str(path), "--time-limit", "8", cwd=folder)
        assert result.returncode in (0, 1, 2), result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        if result.returncode == 2:
            assert result.stderr.count("\n") == 1
            assert result.stderr.startswith(f"symbp {command}: error: ")


def test_valid_formulas_at_the_caps_finish_within_them(tmp_path: Path) -> None:
    """A 6-deep chain, the deepest accepted, derives and evaluates (exit 0) in the caps."""
    path = tmp_path / "spec.yaml"
    path.write_text(_yaml(_replaced("loss", {"formula": _chain(6, "tanh", "y-t")})) + "\n")
    derived = run_symbp("derive", str(path), cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr[-2000:]
    assert "tanh" in derived.stdout
    evaluated = run_symbp("eval", str(path), "--json", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]

    def sigmoid(v: float) -> float:
        return 1 / (1 + math.exp(-v))

    value = sigmoid(0.75 * sigmoid(0.5 - 0.5) - 1 * sigmoid(1 + 4)) - 1
    for _ in range(6):
        value = math.tanh(value)
    assert json.loads(evaluated.stdout)["steps"][0]["loss"] == pytest.approx(value, rel=1e-12)
