"""Property tests: random and hostile specs thrown at the loader.

Whatever it is given, ``symbp.load`` either returns a Spec or raises a SpecError
whose message is one line; it never raises anything else and never hangs (each
example has a 2 s deadline). Inputs: random nested data, valid specs with one
field replaced by random data, formula strings from a grammar of arithmetic mixed
with hostile tokens (``__import__``, attribute access, lambdas, comprehensions,
``:=``, towers of powers), and random YAML text.
"""

from __future__ import annotations

import copy
import string
from fractions import Fraction
from typing import Any

import catalog
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbp
from symbp.errors import SpecError

SETTINGS = settings(
    max_examples=150,
    deadline=2000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

FIELDS = [
    "name",
    "layers",
    "activations",
    "loss",
    "optimizer",
    "params",
    "init",
    "example",
    "examples",
    "frozen",
    "dtype",
    "training",
    "claims",
    "title",
]
WORDS = [
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "identity",
    "softmax",
    "formula",
    "name",
    "alpha",
    "half_sse",
    "bce",
    "cross_entropy",
    "hinge",
    "mae",
    "log_base",
    "e",
    "sgd",
    "adam",
    "rprop",
    "momentum",
    "learning_rate",
    "schedule",
    "exponential",
    "step",
    "gamma",
    "W",
    "b",
    "W[0]",
    "b[1]",
    "x",
    "t",
    "__import__",
    "os",
    "",
    "\n",
    "∂",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.fractions()
    | st.sampled_from(WORDS)
    | st.text(max_size=12)
)
keys = st.sampled_from(FIELDS + WORDS) | st.text(max_size=8) | st.integers(-3, 3)
nested = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


def _check(source: Any) -> symbp.Spec | None:
    try:
        spec = symbp.load(source)
    except SpecError as err:
        text = str(err)
        assert text and "\n" not in text and "\r" not in text, repr(text)
        return None
    assert isinstance(spec, symbp.Spec)
    return spec


@SETTINGS
@given(st.dictionaries(keys, nested, max_size=8))
def test_random_dicts(data: dict) -> None:
    _check(data)


@SETTINGS
@given(nested)
def test_random_values_as_a_whole_spec(data: Any) -> None:
    if isinstance(data, (dict, str)):
        data = {"layers": data} if isinstance(data, str) else data
    try:
        symbp.load(data)
    except SpecError as err:
        assert "\n" not in str(err)


@SETTINGS
@given(st.sampled_from(catalog.names()), st.sampled_from([*FIELDS, "extra"]), nested)
def test_valid_spec_with_one_random_field(name: str, field: str, value: Any) -> None:
    spec = catalog.spec(name)
    spec[field] = value
    _check(spec)


@SETTINGS
@given(
    st.sampled_from(catalog.names()),
    st.sampled_from(["params", "example", "optimizer", "activations", "loss"]),
    st.data(),
)
def test_valid_spec_with_one_random_leaf(name: str, field: str, data: st.DataObject) -> None:
    """Replace one leaf deep inside a valid field (a weight, an option, a name)."""
    spec = catalog.spec(name)
    if field not in spec:
        return
    node: Any = spec
    key: Any = field
    while isinstance(node[key], (dict, list)) and node[key]:
        child = node[key]
        key = data.draw(
            st.sampled_from(list(child) if isinstance(child, dict) else range(len(child)))
        )
        node = child
    node[key] = data.draw(nested)
    _check(spec)


# --- formulas ---------------------------------------------------------------------

ATOMS = [
    "x",
    "y",
    "t",
    "z",
    "e",
    "pi",
    "0",
    "1",
    "2",
    "0.5",
    "1e308",
    "1e-300",
    "64",
    "9",
    "__import__",
    "os",
    "sys",
    "self",
    "None",
    "True",
    "lambda",
    "'x'",
    '"os"',
    "b'x'",
    "__class__",
    "__builtins__",
    "globals()",
    "eval",
    "exec",
    "open",
    "getattr",
]
FUNCS = [
    "exp",
    "log",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "abs",
    "tanh",
    "sinh",
    "cosh",
    "sin",
    "cos",
    "atan",
    "erf",
    "max",
    "min",
    "eval",
    "__import__",
    "getattr",
    "print",
    "type",
]
OPS = ["+", "-", "*", "/", "**", "^", "%", "//", "@", "<", "==", "and", "or", "if", "&", ">>"]
HOSTILE = [
    ".",
    "[",
    "]",
    "{",
    "}",
    ":",
    ":=",
    "**9**9**9",
    ",",
    ";",
    "\\",
    "#",
    "lambda:",
    "for x in",
    "(",
    ")",
    "*",
    "**",
    "\n",
    "`",
    "$",
]


def _formula_strategy() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(OPS), inner).map(" ".join),
            st.tuples(st.sampled_from(FUNCS), inner).map(lambda p: f"{p[0]}({p[1]})"),
            st.tuples(st.sampled_from(["max", "min", "exp"]), inner, inner).map(
                lambda p: f"{p[0]}({p[1]}, {p[2]})"
            ),
            inner.map(lambda s: f"({s})"),
            inner.map(lambda s: f"-{s}"),
            st.tuples(inner, st.sampled_from(["real", "__class__", "system", "imag"])).map(
                lambda p: f"{p[0]}.{p[1]}"
            ),
            inner.map(lambda s: f"[{s} for x in range(9)]"),
            inner.map(lambda s: f"(lambda: {s})()"),
            st.tuples(inner, inner).map(lambda p: f"{p[0]}[{p[1]}]"),
            inner.map(lambda s: f"(x := {s})"),
            inner.map(lambda s: f"{{{s}: 1}}"),
            inner.map(lambda s: f"{s}**9**9**9"),
            st.tuples(inner, st.sampled_from(HOSTILE), inner).map("".join),
        )

    return st.recursive(st.sampled_from(ATOMS), extend, max_leaves=12)


formulas = _formula_strategy() | st.text(alphabet=string.printable, max_size=40)


@SETTINGS
@given(formulas)
def test_random_activation_formulas(formula: str) -> None:
    spec = catalog.spec("formula_softplus")
    spec["activations"] = [{"formula": formula}, "identity"]
    loaded = _check(spec)
    if loaded is not None:
        assert loaded.activations[0].source == formula.strip()


@SETTINGS
@given(formulas)
def test_random_loss_formulas(formula: str) -> None:
    spec = catalog.spec("formula_loss_quartic")
    spec["loss"] = {"formula": formula.replace("x", "y")}
    _check(spec)


# --- YAML text --------------------------------------------------------------------

YAML_PIECES = [
    "layers: [2, 1]\n",
    "layers: [2, 2, 1]\n",
    "activations: sigmoid\n",
    "loss: bce\n",
    "example: {x: [1, 2], t: [1]}\n",
    "params:\n  W: [[[0.5, 1]]]\n",
    "  b: [[0]]\n",
    "frozen: [W]\n",
    "optimizer: {name: adam, beta1: 0.8}\n",
    "- 1\n",
    "  - [1, 2]\n",
    "&a [1, 2]",
    "*a",
    "*b",
    "!!python/object:os.system",
    "!!binary aGk=",
    "? [1]\n: 2\n",
    "%YAML 1.2\n---\n",
    "---\n",
    "...\n",
    "\t",
    "  ",
    ":",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "#",
    "|\n  text\n",
    ".nan",
    ".inf",
    "1e999",
    "0x1F",
    "0o17",
    "1_000",
    "2001-12-14",
    "~",
    "yes",
    "null",
    "activations: {formula: '__import__(\"os\")'}\n",
    "\n",
]


@pytest.fixture(scope="module")
def yaml_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("yaml")


@SETTINGS
@given(st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=6), max_size=12))
def test_random_yaml_text(yaml_dir, pieces: list[str]) -> None:
    path = yaml_dir / "spec.yaml"
    path.write_text("".join(pieces), encoding="utf-8")
    try:
        symbp.load(path)
    except SpecError as err:
        text = str(err)
        assert text.startswith(str(path)) and "\n" not in text, repr(text)


def test_loaded_specs_keep_exact_numbers() -> None:
    """A random valid spec keeps its numbers exactly (Fractions in, Rationals out)."""
    spec = catalog.spec("identity_half_sse")
    spec["params"]["W"][0][0][0] = Fraction(1, 3)
    loaded = symbp.load(copy.deepcopy(spec))
    assert str(loaded.W[0][0][0]) == "1/3"
