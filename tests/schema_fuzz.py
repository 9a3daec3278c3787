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
:func:`to_python` as the Python values a caller of :func:`symbp.load` would pass
(both in :mod:`fuzz_values`, with the leaves' strategies). Over 400 lines: the walk,
the two dataclass blocks and the whole-spec strategies read best side by side.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, Literal, Union

from fuzz_values import (
    NUMBER_INVALID,
    OVERFLOWING_FORMULAS,
    Pair,
    S,
    Scalar,
    Tagged,
    Text,
    activation_pair,
    bool_pair,
    loss_pair,
    names_pair,
    number_pair,
    options_of,
    preprocessing_pair,
    quantity_text,
    schedule_pair,
    tagged,
    text_pair,
    to_python,
    to_yaml,
    whole_pair,
)
from hypothesis import strategies as st
from pydantic import BaseModel

from symbp import limits
from symbp.ops.initializers import INITIALIZERS
from symbp.ops.losses import LOSSES, make_loss
from symbp.ops.optimizers import OPTIMIZERS
from symbp.spec import exercise as exercise_mod
from symbp.spec import schema
from symbp.verify import claims as claims_mod

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


def _input_pair() -> Pair:
    """``input:`` of the list form of ``layers:``: a size, or [channels, height, width]."""
    size = st.integers(1, 3).map(lambda v: Scalar(str(v)))
    return Pair(
        valid=st.one_of(size, st.lists(size, min_size=3, max_size=3)),
        invalid=st.sampled_from(
            [Scalar("0"), Scalar("-1"), Text("x"), [Scalar("1"), Scalar("2")], Scalar("null")]
        ),
    )


#: Fields typed ``Any`` (or a free mapping) are filled from the records they name.
HOOKS: dict[str, Callable[[], Pair]] = {
    "input": _input_pair,
    "activations": lambda: _list_or_one(activation_pair()),
    "loss": loss_pair,
    "schedule": schedule_pair,
    "names": names_pair,
    "exercise": lambda: exercise_pair(),
    "claims": lambda: claim_pair(),
    "preprocessing": preprocessing_pair,
}
#: Options allowed by ``extra="allow"`` models: those of the records they name.
EXTRAS: dict[type[BaseModel], list[str]] = {
    schema.RawInit: options_of({k: v.options for k, v in INITIALIZERS.items()}),
    schema.RawOptimizer: options_of({k: v().hyperparameters for k, v in OPTIMIZERS.items()}),
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
        invalid = st.one_of(*[m.invalid for m in members])
        if type(None) in args:  # null is then a valid value
            valid = st.one_of(valid, st.just(Scalar("null")))
            invalid = invalid.filter(lambda v: v != Scalar("null"))
        return Pair(valid=valid, invalid=invalid)
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
def annotation_at(path: tuple[str, ...]) -> Any:
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
    activation = activation_pair()
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
        spec[path] = draw(field_pair(annotation_at((path,)), path).valid)
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
            and p[0]
            not in ("input", "layers", "activations", "loss", "params", "example", "claims")
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
    pair = field_pair(annotation_at(path), path[-1])
    value = draw(pair.invalid if invalid and draw(_QUARTERS) else pair.valid)
    target = spec
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    return spec


__all__ = [
    "NUMBER_INVALID",
    "OVERFLOWING_FORMULAS",
    "Pair",
    "Scalar",
    "Tagged",
    "Text",
    "annotation_at",
    "claim_pair",
    "coherent_spec",
    "exercise_pair",
    "field_pair",
    "field_paths",
    "model_fields",
    "model_pair",
    "mutated_spec",
    "tagged",
    "to_python",
    "to_yaml",
]
