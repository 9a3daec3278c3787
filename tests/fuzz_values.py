"""The values the schema strategies are built from (test helper, used by :mod:`schema_fuzz`).

Generated values are trees of dicts, lists, :class:`Scalar` (plain YAML text such as
``0.5`` or ``1e999``) and :class:`Text` (a quoted string), each optionally tagged
(:class:`Tagged` for a mapping or a sequence); :func:`to_yaml` writes them as YAML text
and :func:`to_python` as the Python values a caller of :func:`symbp.load` would pass.

Every strategy comes as a :class:`Pair` ``(valid, invalid)``. Here are those of the
leaves: numbers and whole numbers at and beyond the limits of :mod:`symbp.limits`,
texts (with the hostile ones: newlines, TeX, HTML, paths, escape sequences), booleans,
and the records that the ``Any``-typed spec fields name (activations, losses and their
options, schedules, quantities of :data:`symbp.verify.quantities.ARITY`, ``names:``),
each read from symbp's registries rather than listed here; and :func:`tagged`, which
puts a right, wrong or unsafe YAML tag on one node of a tree.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from symbp import limits
from symbp.errors import SymbpError
from symbp.ops.activations import ACTIVATIONS
from symbp.ops.losses import LOG_BASES, LOSSES
from symbp.ops.optimizers import SCHEDULES
from symbp.verify.quantities import ARITY
from symbp.yamlio import parse_yaml

S = st.SearchStrategy


@dataclasses.dataclass(frozen=True)
class Scalar:
    """A plain YAML scalar written as is (``0.5``, ``1e999``, ``true``, ``null``)."""

    text: str
    tag: str | None = None


@dataclasses.dataclass(frozen=True)
class Text:
    """A string, written double-quoted (JSON escapes) in YAML."""

    value: str
    tag: str | None = None


@dataclasses.dataclass(frozen=True)
class Tagged:
    """A mapping or sequence with an explicit tag (``!!set {a: null}``, ``!!omap [...]``)."""

    value: Any
    tag: str


@dataclasses.dataclass(frozen=True)
class Pair:
    """The valid and the constraint-violating values of one field."""

    valid: S[Any]
    invalid: S[Any]
    #: Mostly valid (so that cases reach the later fields), sometimes invalid.
    any: S[Any] = dataclasses.field(init=False, compare=False)

    def __post_init__(self) -> None:
        # built once: hypothesis validates each new strategy object, which is slow
        object.__setattr__(self, "any", st.one_of(self.valid, self.valid, self.invalid))


# --- numbers, from the limits -------------------------------------------------------

_E = limits.MAX_DECIMAL_EXPONENT
_DIGITS = limits.MAX_SIGNIFICANT_DIGITS
_BIG = limits.MAX_INTEGER

NUMBER_VALID = [
    "0",
    "1",
    "-2",
    "0.5",
    "-0.179",
    ".25",
    "1e-3",
    "1_000",
    str(_BIG),
    str(-_BIG),
    f"1e{_E}",
    f"1e-{_E}",
    "0." + "1" * _DIGITS,
    "0x1F",  # YAML 1.1 reads hex and sexagesimal (1:30 is 90) as integers
    "1:30",
]
NUMBER_INVALID: list[Any] = [
    Scalar(str(_BIG + 1)),
    Scalar(f"1e{_E + 1}"),
    Scalar(f"1e-{_E + 1}"),
    Scalar("0." + "1" * (_DIGITS + 1)),
    Scalar("1e999999999"),
    Scalar("1e-999999999"),
    Scalar("9" * 5000),
    Scalar(".nan"),
    Scalar(".inf"),
    Scalar("-.inf"),
    Scalar("true"),
    Scalar("null"),
    Text("0.5"),
    Text("1e-999999999"),
    Text("9" * 400),
    [],
    {},
]
#: Tags that resolve to a type symbp refuses, or that YAML cannot build safely.
HOSTILE_TAGS = [
    "!!python/object:os.system",
    "!!python/name:os.system",
    "!!timestamp",
    "!!binary",
    "!!set",
    "!!omap",
    "!!pairs",
    "!custom",
]
#: Tags applied to scalars: the standard ones, each right for some values only.
SCALAR_TAGS = ["!!int", "!!float", "!!str", "!!bool", "!!null", *HOSTILE_TAGS]


#: Small decimals (most valid values, so that evaluation stays quick), one draw each.
_SMALL = sorted(
    {str(Fraction(n, d)) if d == 1 else repr(n / d) for n in range(-8, 9) for d in (1, 2, 4, 8, 10)}
)
number_pair = Pair(
    valid=st.sampled_from([*_SMALL, *_SMALL, *NUMBER_VALID]).map(Scalar),
    invalid=st.sampled_from(NUMBER_INVALID),
)


@functools.cache
def whole_pair(bounds: tuple[int, ...] = ()) -> Pair:
    """Whole numbers: small ones, the integer limit and the given bounds, each ±1."""
    edges = sorted({b + d for b in (0, 1, _BIG, *bounds) for d in (-1, 0, 1)})
    inside = [e for e in edges if abs(e) <= _BIG]
    return Pair(
        valid=st.one_of(
            st.integers(0, 4).map(lambda v: Scalar(str(v))),
            st.sampled_from(inside).map(lambda v: Scalar(str(v))),
            st.just(Scalar("1e3")),  # a decimal that is a whole number is one
        ),
        invalid=st.one_of(
            st.sampled_from([Scalar(str(_BIG + 1)), Scalar(str(-_BIG - 1)), Scalar("0.5")]),
            st.sampled_from([Scalar("true"), Text("3"), Scalar("1.5e0"), Scalar("null"), []]),
        ),
    )


# --- strings ----------------------------------------------------------------------

#: Texts that must never escape their context (newlines, TeX, HTML, paths, ESC codes).
HOSTILE_TEXT = [
    "net\n\\input{/etc/passwd}",
    "\\write18{touch pwned}",
    "../escape",
    "/tmp/x/../../etc",
    "\x1b]0;owned\x07\x1b[2J",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "w5\n",
    "a\x00b",
    "𝑥",
    "\u202eevil",
    "%",
    "}{",
    "x" * 300,
]
text_pair = Pair(
    valid=st.one_of(
        st.sampled_from(["net", "Koech 3-4-1", "a_b", "β"]),
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=12),
    ).map(Text),
    invalid=st.sampled_from([Scalar("1"), Scalar("0.5"), Scalar("true"), [Text("a")], {}]),
)
bool_pair = Pair(
    valid=st.sampled_from([Scalar("true"), Scalar("false"), Scalar("yes"), Scalar("off")]),
    invalid=st.sampled_from([Scalar("2"), Text("maybe"), Scalar("null"), Scalar("0.5"), []]),
)


# --- the records that Any-typed fields name ------------------------------------------


def options_of(names: Mapping[str, Any]) -> list[str]:
    return sorted({str(o) for option_names in names.values() for o in option_names})


def _named(registry: Mapping[str, Any], option_names: Callable[[Any], Any], unknown: str) -> Pair:
    """``name`` or ``{name: ..., option: number}`` of a registry's records."""
    names = sorted(registry)
    every_option = options_of({k: option_names(v) for k, v in registry.items()})
    own = {name: list(option_names(registry[name])) for name in names}
    keys_of = {
        name: st.lists(st.sampled_from(own[name]), max_size=2, unique=True)
        if own[name]
        else st.just([])
        for name in names
    }
    name_of = st.sampled_from(names)

    def mapping(values: S[Any]) -> S[dict[str, Any]]:
        @st.composite
        def build(draw: Callable[[S[Any]], Any]) -> dict[str, Any]:
            name = draw(name_of)
            return {"name": Text(name), **{k: draw(values) for k in draw(keys_of[name])}}

        return build()

    return Pair(
        valid=st.one_of(name_of.map(Text), mapping(number_pair.valid)),
        invalid=st.one_of(
            st.sampled_from([Text(unknown), Scalar("1"), Scalar("null"), []]),
            mapping(number_pair.invalid),
            st.builds(
                lambda n, o: {"name": Text(n), o: Scalar("1")},
                name_of,
                st.sampled_from([*every_option, "bogus"]),
            ),
        ),
    )


formula_pair = Pair(
    valid=st.sampled_from(
        ["x", "x/(1+abs(x))", "tanh(x)", "exp(-x**2)", "x**2/2", "log(1+exp(x))"]
    ),
    invalid=st.sampled_from(["__import__('os')", "1e999*x", "x" + "+x" * 300, "", "x.real", "ｘ"]),
)
#: Formulas the loader accepts whose values overflow far from zero (kept apart: see
#: ``test_fuzz_schema``'s overflow test).
OVERFLOWING_FORMULAS = ["exp(exp(exp(x)))", "x**x**x**x", "exp(x)**exp(x)", "exp(exp(x))"]


@functools.cache
def activation_pair() -> Pair:
    named = _named(ACTIVATIONS, lambda record: record[1], "bogus")
    formula = st.builds(lambda f: {"formula": Text(f)}, formula_pair.any)
    return Pair(valid=st.one_of(named.valid, formula), invalid=named.invalid)


@functools.cache
def loss_pair() -> Pair:
    named = _named(LOSSES, lambda record: record[1], "nope")
    with_base = st.sampled_from([k for k, v in LOSSES.items() if "log_base" in v[1]])

    def log_base(bases: list[Any]) -> S[dict[str, Any]]:
        return st.builds(
            lambda n, b: {"name": Text(n), "log_base": Scalar(str(b))},
            with_base,
            st.sampled_from(bases),
        )

    formula = st.builds(lambda f: {"formula": Text(re.sub(r"\bx\b", "(y-t)", f))}, formula_pair.any)
    return Pair(
        valid=st.one_of(named.valid, log_base(list(LOG_BASES)), formula),
        invalid=st.one_of(named.invalid, log_base([3, "pi", 0, "1e309"])),
    )


@functools.cache
def schedule_pair() -> Pair:
    return _named(SCHEDULES, lambda cls: cls().hyperparameters, "cyclic")


@functools.cache
def quantity_text(layers: tuple[int, ...] = (2, 2, 1)) -> S[str]:
    """Quantity names of :data:`ARITY`, indices mostly in range (the last one maybe not)."""

    kinds = st.sampled_from(sorted(ARITY))
    index = st.integers(0, max(layers))

    @st.composite
    def build(draw: Callable[[S[Any]], Any]) -> str:
        kind = draw(kinds)
        return kind + "".join(f"[{draw(index)}]" for _ in range(ARITY[kind]))

    return st.one_of(build(), st.sampled_from(["w²₁₁", "b^1_2", "∂E/∂w^2_11", "ŷ", "nope[0]"]))


@functools.cache
def names_pair() -> Pair:
    return Pair(
        valid=st.dictionaries(
            st.sampled_from(["w5", "out_h1", "E_total", "w5\n", "x" * 30, "<b>", "1x"]),
            quantity_text().map(Text),
            max_size=2,
        ),
        invalid=st.sampled_from([Scalar("1"), [Text("w5")], {"w5": Scalar("3")}]),
    )


@functools.cache
def preprocessing_pair() -> Pair:
    """The trained model's ``preprocessing`` (:mod:`symbp.spec.preprocessing`): a scaler
    of one to three features (its lengths may not match the layers: refused, one line)
    and labels; invalid ones break a constraint of the field."""
    numbers = st.lists(number_pair.valid, min_size=1, max_size=3)
    positive = st.lists(
        st.sampled_from(["0.5", "1", "2.25", "1e-3"]).map(Scalar), min_size=1, max_size=3
    )
    labels = st.one_of(
        st.lists(
            st.integers(0, 9).map(lambda v: Scalar(str(v))), min_size=1, max_size=3, unique=True
        ),
        st.lists(st.sampled_from(["cat", "dog", "<b>", "a\nb"]).map(Text), min_size=1, max_size=3),
    )
    standardize = st.fixed_dictionaries({"mean": numbers, "scale": positive})
    return Pair(
        valid=st.fixed_dictionaries({}, optional={"standardize": standardize, "labels": labels}),
        invalid=st.sampled_from(
            [
                Scalar("1"),
                {"standardize": {"mean": [Scalar("0")], "scale": [Scalar("0")]}},
                {"standardize": {"mean": [Scalar("0")], "scale": [Scalar("-1")]}},
                {"standardize": {"mean": [Scalar("0")]}},
                {"labels": [Scalar("1"), Scalar("1")]},
                {"labels": [Scalar("1"), Text("a")]},
                {"scaler": {}},
            ]
        ),
    )


# --- tags ----------------------------------------------------------------------------


@st.composite
def tagged(draw: Callable[[S[Any]], Any], value: Any) -> Any:
    """``value`` with an explicit YAML tag put on one of its nodes (right or wrong)."""
    value = copy.deepcopy(value)  # drawn values may be shared (st.just, sampled_from)
    nodes: list[tuple[Any, Any]] = []  # (container, key) of every node

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            nodes.append((node, key))
            if isinstance(child, (dict, list)):
                walk(child)

    walk(value)
    container, key = nodes[draw(st.integers(0, len(nodes) - 1))]
    node = container[key]
    if isinstance(node, (Scalar, Text)):
        container[key] = dataclasses.replace(node, tag=draw(_SCALAR_TAGS))
    else:
        container[key] = Tagged(node, draw(_NODE_TAGS))
    return value


_SCALAR_TAGS = st.sampled_from(SCALAR_TAGS)
_NODE_TAGS = st.sampled_from([*HOSTILE_TAGS, "!!map", "!!seq"])


# --- rendering -------------------------------------------------------------------------


def _key(key: Any) -> str:
    text = str(key)
    return text if text.isidentifier() else json.dumps(text)


def to_yaml(value: Any) -> str:
    """Flow-style YAML text of a generated tree."""
    if isinstance(value, Tagged):
        return f"{value.tag} {to_yaml(value.value)}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {to_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    tag = f"{value.tag} " if value.tag else ""
    if isinstance(value, Scalar):
        return tag + value.text
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in value.value)
    return tag + json.dumps(value.value, ensure_ascii=surrogate or not value.value.isprintable())


def to_python(value: Any) -> Any:
    """The Python values of a generated tree (a scalar as YAML would read it)."""
    if isinstance(value, Tagged):
        return to_python(value.value)
    if isinstance(value, dict):
        return {str(k): to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, Text):
        return value.value
    try:
        return parse_yaml(f"v: {value.text}")[0]["v"]
    except SymbpError:
        return value.text


__all__ = [
    "HOSTILE_TAGS",
    "NUMBER_INVALID",
    "NUMBER_VALID",
    "OVERFLOWING_FORMULAS",
    "Pair",
    "Scalar",
    "Tagged",
    "Text",
    "bool_pair",
    "number_pair",
    "quantity_text",
    "tagged",
    "text_pair",
    "to_python",
    "to_yaml",
    "whole_pair",
]
