"""Hypothesis strategies derived from symbp's own schema (test helper, not a test module).

Nothing here lists a spec's fields by hand: the strategies walk

* the pydantic models of :mod:`symbp.spec.schema` (``RawSpec`` and the models it
  holds), through their type hints with their ``Annotated`` validators
  (``to_fraction``: a number, ``to_int``: a whole number, ``to_size``: a layer size),
  ``Literal`` choices, optionals, lists, nested models and ``extra="forbid"/"allow"``;
* the dataclasses of the validated ``exercise:`` block (:class:`ExerciseSpec`,
  :class:`Range`) and of a claim (:class:`~symbp.verify.claims.Claim`), restricted to
  the raw field names the parsers accept (``exercise.FIELDS``, ``claims.FIELDS``);
* the records the ``Any``-typed fields name: activations, losses and their options,
  optimisers, schedules and initialisers with their hyperparameters, the quantities
  of :data:`symbp.verify.quantities.ARITY`;
* the numeric limits of :mod:`symbp.limits` and the parsers' constants, for the values
  just inside and just outside each bound.

Every strategy comes as a :class:`Pair` ``(valid, invalid)``: ``invalid`` violates one
constraint of that field (its type, a bound, a choice, an unknown key, a missing
required field, a wrong or unsafe YAML tag). Generated values are trees of dicts,
lists, :class:`Scalar` (plain YAML text such as ``0.5`` or ``1e999``) and :class:`Text`
(a quoted string), each optionally tagged; :func:`to_yaml` writes them as YAML text and
:func:`to_python` as the Python values a caller of :func:`symbp.load` would pass.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, Literal, Union

from hypothesis import strategies as st
from pydantic import BaseModel

from symbp import limits
from symbp.errors import SymbpError
from symbp.ops.activations import ACTIVATIONS
from symbp.ops.initializers import INITIALIZERS
from symbp.ops.losses import LOG_BASES, LOSSES, make_loss
from symbp.ops.optimizers import OPTIMIZERS, SCHEDULES
from symbp.spec import exercise as exercise_mod
from symbp.spec import schema
from symbp.verify import claims as claims_mod
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
    Scalar("0x1F"),
    Scalar("1:30"),
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
        valid=st.one_of(st.integers(0, 4), st.sampled_from(inside)).map(lambda v: Scalar(str(v))),
        invalid=st.one_of(
            st.sampled_from([Scalar(str(_BIG + 1)), Scalar(str(-_BIG - 1)), Scalar("0.5")]),
            st.sampled_from([Scalar("true"), Text("3"), Scalar("1e3"), Scalar("null"), []]),
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
    invalid=st.sampled_from([Scalar("2"), Text("true"), Scalar("null"), Scalar("0.5"), []]),
)


# --- the records that Any-typed fields name ------------------------------------------


def _options(names: Mapping[str, Any]) -> list[str]:
    return sorted({str(o) for option_names in names.values() for o in option_names})


def _named(registry: Mapping[str, Any], option_names: Callable[[Any], Any], unknown: str) -> Pair:
    """``name`` or ``{name: ..., option: number}`` of a registry's records."""
    names = sorted(registry)
    every_option = _options({k: option_names(v) for k, v in registry.items()})
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
def _activation_pair() -> Pair:
    named = _named(ACTIVATIONS, lambda record: record[1], "bogus")
    formula = st.builds(lambda f: {"formula": Text(f)}, formula_pair.any)
    return Pair(valid=st.one_of(named.valid, formula), invalid=named.invalid)


@functools.cache
def _loss_pair() -> Pair:
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
def _schedule_pair() -> Pair:
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
def _names_pair() -> Pair:
    return Pair(
        valid=st.dictionaries(
            st.sampled_from(["w5", "out_h1", "E_total", "w5\n", "x" * 30, "<b>", "1x"]),
            quantity_text().map(Text),
            max_size=2,
        ),
        invalid=st.sampled_from([Scalar("1"), [Text("w5")], {"w5": Scalar("3")}]),
    )


# --- walking the pydantic models ---------------------------------------------------

#: The validators of :mod:`symbp.spec.schema` and what they take.
_VALIDATED: dict[Callable[..., Any], Callable[[], Pair]] = {
    schema.to_fraction: lambda: number_pair,
    schema.to_int: whole_pair,
    schema.to_size: lambda: _size_pair(),
}


@functools.cache
def _size_pair() -> Pair:
    bounds = whole_pair((limits.MAX_LAYER_SIZE,))
    return Pair(
        valid=st.one_of(st.integers(1, 3).map(lambda v: Scalar(str(v))), bounds.valid),
        invalid=st.one_of(bounds.invalid, st.just(Scalar(str(limits.MAX_LAYER_SIZE + 1)))),
    )


#: Fields typed ``Any`` (or a free mapping) are filled from the records they name.
HOOKS: dict[str, Callable[[], Pair]] = {
    "activations": lambda: _list_or_one(_activation_pair()),
    "loss": _loss_pair,
    "schedule": _schedule_pair,
    "names": _names_pair,
    "exercise": lambda: exercise_pair(),
    "claims": lambda: claim_pair(),
}
#: Options allowed by ``extra="allow"`` models: those of the records they name.
EXTRAS: dict[type[BaseModel], list[str]] = {
    schema.RawInit: _options({k: v.options for k, v in INITIALIZERS.items()}),
    schema.RawOptimizer: _options({k: v().hyperparameters for k, v in OPTIMIZERS.items()}),
}
#: Record names of ``name`` fields of ``extra="allow"`` models.
RECORD_NAMES: dict[type[BaseModel], list[str]] = {
    schema.RawInit: sorted(INITIALIZERS),
    schema.RawOptimizer: sorted(OPTIMIZERS),
}


def _list_or_one(pair: Pair) -> Pair:
    return Pair(
        valid=st.one_of(pair.valid, st.lists(pair.any, min_size=1, max_size=3)),
        invalid=st.one_of(pair.invalid, st.lists(pair.invalid, min_size=1, max_size=2)),
    )


@functools.cache
def field_pair(annotation: Any, name: str = "") -> Pair:
    """The (valid, invalid) strategies of a field of type ``annotation`` named ``name``."""
    if name in HOOKS:
        return HOOKS[name]()
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        for meta in args[1:]:
            func = getattr(meta, "func", None)
            if func in _VALIDATED:
                return _VALIDATED[func]()
        return field_pair(args[0], name)
    if origin in (Union, types.UnionType):
        members = [field_pair(a, name) for a in args if a is not type(None)]
        valid = st.one_of(*[m.valid for m in members])
        if type(None) in args:
            valid = st.one_of(valid, st.just(Scalar("null")))
        return Pair(valid=valid, invalid=st.one_of(*[m.invalid for m in members]))
    if origin is Literal:
        choices = [str(a) for a in args]
        return Pair(
            valid=st.sampled_from(choices).map(Text),
            invalid=st.sampled_from(
                [Text(choices[0].upper()), Text("other"), Scalar("64"), Scalar("null")]
            ),
        )
    if origin in (list, tuple):
        item = field_pair(args[0], name)
        return Pair(
            valid=st.lists(item.valid, max_size=3),
            invalid=st.one_of(
                st.lists(item.invalid, min_size=1, max_size=2),
                st.builds(lambda a, b: [a, b], item.valid, item.invalid),
                item.valid,
            ),
        )
    if origin is dict:
        return Pair(valid=st.just({}), invalid=st.just([]))
    if annotation is str:
        return text_pair
    if annotation is bool:
        return bool_pair
    if annotation is int:
        return whole_pair()
    if annotation is Fraction:
        return number_pair
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_pair(annotation)
    if dataclasses.is_dataclass(annotation):
        return dataclass_pair(annotation)
    raise TypeError(f"no strategy for field {name!r} of type {annotation!r}: extend schema_fuzz")


def model_fields(model: type[BaseModel]) -> dict[str, tuple[Any, bool]]:
    """``name -> (annotation with its Annotated validators, required)`` of a model."""
    hints = typing.get_type_hints(model, include_extras=True)
    return {n: (hints[n], f.is_required()) for n, f in model.model_fields.items()}


@functools.cache
def model_pair(model: type[BaseModel]) -> Pair:
    """A model's mapping: each field valid or absent; or one field, key or shape wrong."""
    fields = model_fields(model)
    pairs = {n: field_pair(a, n) for n, (a, _) in fields.items()}
    required = {n: pairs[n].valid for n, (_, req) in fields.items() if req}
    optional = {n: pairs[n].valid for n, (_, req) in fields.items() if not req}
    extras = EXTRAS.get(model, [])
    if "name" in optional and model in RECORD_NAMES:
        optional["name"] = st.sampled_from(RECORD_NAMES[model]).map(Text)
    valid = st.fixed_dictionaries(required, optional=optional)
    if extras:
        valid = st.builds(
            lambda d, e: {**d, **e},
            valid,
            st.dictionaries(st.sampled_from(extras), number_pair.any, max_size=2),
        )

    kinds = st.sampled_from(["field", "field", "unknown", "missing", "shape"])
    field_names = st.sampled_from(sorted(pairs))
    unknown_keys = st.sampled_from(["bogus", "Layers", "0", "a b"])
    required_names = st.sampled_from(sorted(required) or [""])
    shapes = st.sampled_from([Scalar("1"), Text("x"), Scalar("null")])

    @st.composite
    def one_wrong(draw: Callable[[S[Any]], Any]) -> Any:
        base = dict(draw(valid))
        kind = draw(kinds)
        if kind == "field":
            field = draw(field_names)
            base[field] = draw(pairs[field].invalid)
        elif kind == "unknown":
            base[draw(unknown_keys)] = Scalar("1")
        elif kind == "missing" and required:
            base.pop(draw(required_names))
        else:
            return draw(shapes) if draw(st.booleans()) else [base]
        return base

    return Pair(valid=valid, invalid=one_wrong())


@functools.cache
def dataclass_pair(cls: type) -> Pair:
    """A dataclass given as a mapping of its fields (every field optional)."""
    hints = typing.get_type_hints(cls)
    pairs = {f.name: field_pair(hints[f.name], f.name) for f in dataclasses.fields(cls)}
    return _mapping_pair(pairs, list(pairs))


def _mapping_pair(pairs: Mapping[str, Pair], allowed: list[str]) -> Pair:
    valid = st.fixed_dictionaries({}, optional={k: pairs[k].valid for k in allowed})
    field_names = st.sampled_from(allowed)
    unknown_keys = st.sampled_from(["bogus", "Of", "steps"])

    @st.composite
    def one_wrong(draw: Callable[[S[Any]], Any]) -> Any:
        base = dict(draw(valid))
        if draw(st.booleans()):
            field = draw(field_names)
            base[field] = draw(pairs[field].invalid)
        else:
            base[draw(unknown_keys)] = Scalar("1")
        return base

    return Pair(valid=valid, invalid=st.one_of(one_wrong(), st.just(Scalar("1")), st.just([])))


# --- the exercise block and claims (dataclasses, keyed by the parsers' FIELDS) ----------


@functools.cache
def _range_pair() -> Pair:
    """:class:`Range` as written: ``fixed`` or ``{range: [low, high], decimals: d}``."""
    hints = typing.get_type_hints(exercise_mod.Range)
    ends = field_pair(hints["low"])
    decimals = whole_pair((exercise_mod.MAX_DECIMALS,))
    valid = st.one_of(
        st.just(Text("fixed")),
        st.fixed_dictionaries(
            {"range": st.lists(ends.valid, min_size=2, max_size=2)},
            optional={"decimals": decimals.valid},
        ),
    )
    invalid = st.one_of(
        st.builds(lambda a, b: {"range": [a, b]}, ends.any, ends.invalid),
        st.builds(lambda d: {"range": [Scalar("-1"), Scalar("1")], "decimals": d}, decimals.any),
        st.just({"range": [Scalar("1"), Scalar("-1")]}),
        st.just({"range": [Scalar("0.05"), Scalar("1")], "decimals": Scalar("1")}),
        st.just({"range": [Scalar("0")]}),
        st.just(Text("free")),
    )
    return Pair(valid=valid, invalid=invalid)


@functools.cache
def exercise_pair() -> Pair:
    """The ``exercise:`` block from :class:`ExerciseSpec`'s fields named in ``FIELDS``."""
    hints = typing.get_type_hints(exercise_mod.ExerciseSpec)
    pairs: dict[str, Pair] = {}
    for key in exercise_mod.FIELDS:
        hint = hints[key]
        if key in exercise_mod.KINDS:
            pairs[key] = _range_pair()
        elif key == "ask":
            pairs[key] = _list_or_one(
                Pair(quantity_text().map(Text), st.sampled_from([Text(""), Scalar("1")]))
            )
        elif hint in (int, int | None):
            pairs[key] = whole_pair((12, exercise_mod.MAX_COUNT, 100_000))
        else:
            pairs[key] = field_pair(hint, key)
    return _mapping_pair(pairs, list(exercise_mod.FIELDS))


@functools.cache
def claim_pair(layers: tuple[int, ...] = (2, 2, 1)) -> Pair:
    """A ``claims:`` list from :class:`Claim`'s fields named in ``claims.FIELDS``."""
    hints = typing.get_type_hints(claims_mod.Claim)
    pairs: dict[str, Pair] = {}
    for key in claims_mod.FIELDS:
        hint = hints[key]
        if key == "of":
            pairs[key] = Pair(quantity_text(layers).map(Text), text_pair.invalid)
        elif key == "printed":  # a number, or its text (which keeps trailing zeros)
            pairs[key] = Pair(
                st.one_of(number_pair.valid, number_pair.valid.map(lambda s: Text(s.text))),
                number_pair.invalid,
            )
        elif hint in (int, int | None):
            pairs[key] = whole_pair((claims_mod.MAX_STEP,))
        else:
            pairs[key] = field_pair(hint, key)
    required = {"of": pairs["of"].valid, "printed": pairs["printed"].valid}
    optional = {k: pairs[k].valid for k in claims_mod.FIELDS if k not in required}
    one = st.fixed_dictionaries(required, optional=optional)
    wrong = _mapping_pair(pairs, list(claims_mod.FIELDS)).invalid
    return Pair(
        valid=st.lists(one, min_size=1, max_size=3),
        invalid=st.one_of(
            st.lists(st.one_of(one, wrong), min_size=1, max_size=3),
            st.just(Scalar("1")),
            st.just([Scalar("1")]),
        ),
    )


# --- whole specs ---------------------------------------------------------------------


@functools.cache
def field_paths(model: type[BaseModel] = schema.RawSpec) -> list[tuple[str, ...]]:
    """Every field of the spec schema, nested models included (``("training", "seed")``)."""
    out: list[tuple[str, ...]] = []
    for name, (annotation, _) in model_fields(model).items():
        out.append((name,))
        inner = [annotation, *typing.get_args(annotation)]
        for candidate in inner:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                out.extend((name, *p) for p in field_paths(candidate))
    return out


@functools.cache
def _annotation_at(path: tuple[str, ...]) -> Any:
    model: Any = schema.RawSpec
    annotation: Any = None
    for part in path:
        annotation = model_fields(model)[part][0]
        model = next(
            (
                a
                for a in (annotation, *typing.get_args(annotation))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
    return annotation


@st.composite
def coherent_spec(draw: Callable[[S[Any]], Any], with_claims: bool = False) -> dict[str, Any]:
    """A spec whose shapes agree (so that it gets past the shape checks), its optional
    fields drawn from the schema's valid values."""
    layers = tuple(draw(_LAYERS))
    depth = len(layers) - 1
    number = number_pair.valid if draw(_TENTHS) else number_pair.any
    spec: dict[str, Any] = {"layers": [Scalar(str(n)) for n in layers]}
    activation = _activation_pair()
    if draw(st.booleans()):
        spec["activations"] = draw(activation.valid)
    else:
        spec["activations"] = [draw(activation.valid) for _ in range(depth)]
    spec["loss"] = loss = draw(field_pair(Any, "loss").valid)
    spec["params"] = {
        "W": [
            [[draw(number) for _ in range(layers[l])] for _ in range(layers[l + 1])]
            for l in range(depth)
        ]
    }
    if draw(st.booleans()):
        spec["params"]["b"] = [[draw(number) for _ in range(layers[l + 1])] for l in range(depth)]
    spec["example"] = {
        "x": [draw(number) for _ in range(layers[0])],
        "t": [draw(_targets(loss)) for _ in range(layers[-1])],
    }
    for path in draw(_OPTIONAL):
        spec[path] = draw(field_pair(_annotation_at((path,)), path).valid)
    if with_claims:
        spec["claims"] = draw(claim_pair(layers).any)
    return spec


_LAYERS = st.lists(st.integers(1, 3), min_size=2, max_size=3)
_TENTHS = st.integers(0, 9)
_TARGETS = {
    "sign": st.sampled_from(["-1", "1", "1", "0"]).map(Scalar),
    "unit_interval": st.sampled_from(["0", "1", "0.5", "0.25", "-1"]).map(Scalar),
    None: st.sampled_from(["0", "1", "0.5", "-2"]).map(Scalar),
}


def _targets(loss: Any) -> S[Any]:
    """Targets in the loss record's ``target_domain`` (now and then outside it)."""
    name = loss.value if isinstance(loss, Text) else loss.get("name")
    domain = None
    if isinstance(name, Text) and name.value in LOSSES:
        domain = make_loss(name.value, {}).target_domain
    return _TARGETS.get(domain, _TARGETS[None])


#: The spec's other top-level fields, from the schema.
_OPTIONAL = st.lists(
    st.sampled_from(
        [
            p[0]
            for p in field_paths()
            if len(p) == 1
            and p[0] not in ("layers", "activations", "loss", "params", "example", "claims")
        ]
    ),
    max_size=3,
    unique=True,
)
_PATHS = st.sampled_from(field_paths())
_COHERENT = coherent_spec()
_QUARTERS = st.integers(0, 3)


@st.composite
def mutated_spec(draw: Callable[[S[Any]], Any], invalid: bool = True) -> dict[str, Any]:
    """A coherent spec with one field anywhere in the schema replaced (mostly wrongly)."""
    spec = draw(_COHERENT)
    path = draw(_PATHS)
    pair = field_pair(_annotation_at(path), path[-1])
    value = draw(pair.invalid if invalid and draw(_QUARTERS) else pair.valid)
    target = spec
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    return spec


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
    "Pair",
    "Scalar",
    "Tagged",
    "Text",
    "claim_pair",
    "coherent_spec",
    "exercise_pair",
    "field_pair",
    "field_paths",
    "model_pair",
    "mutated_spec",
    "tagged",
    "to_python",
    "to_yaml",
]
