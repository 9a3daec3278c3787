"""Property test generated from the spec schema itself (issue 25, item 4).

The strategies (:mod:`schema_fuzz`) walk the pydantic models of
:mod:`symbp.spec.schema`, the ``exercise:`` block's and a claim's dataclasses and the
operator records, and draw for every field a valid value or one that violates one
of its constraints (type, bound, choice, unknown or missing key, YAML tag). Whatever
they draw, symbp ends in a result or in one :class:`~symbp.errors.SymbpError` line,
within a small time budget:

* over 5,000 cases in process: specs as YAML text and as Python dicts (load, 4,000),
  specs with claims (parse the claims, 600; verify, 80), specs with an ``exercise:``
  block (load, 500; draw one student's variant, 50), specs evaluated one update (150),
  and specs with explicit YAML tags (600);
* a fixed sample of 20 run as ``symbp`` subprocesses under 10 s of CPU and 1 GiB of
  address space, each ending with exit 0 (or 1, a failed claim) or one stderr line.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
import schema_fuzz as sf
from capped import one_error_line, run_capped
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import symbp
from symbp.budget import time_limit
from symbp.errors import SymbpError
from symbp.exercises.plan import plan
from symbp.spec import exercise as exercise_mod
from symbp.spec import schema
from symbp.symbolic.evaluate import Evaluation
from symbp.verify import claims as claims_mod
from symbp.yamlio import parse_yaml

#: Seconds of budget per in-process case: enough for a small net, short for a costly one.
BUDGET_S = 2.0

SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _ends_well(action: typing.Callable[[], Any], budget: float = BUDGET_S) -> Any:
    """The result of ``action`` within ``budget`` seconds, or its one-line SymbpError."""
    try:
        with time_limit(budget):
            return action()
    except SymbpError as err:
        message = str(err)
        assert message.strip(), repr(err)
        assert "\n" not in message and "\r" not in message, message
        message.encode("utf-8")  # no lone surrogate in the message itself
        return err


def _load_yaml(tree: Any) -> symbp.Spec:
    data, _ = parse_yaml(sf.to_yaml(tree))
    return symbp.load(data)


def test_the_strategies_cover_every_field_of_the_schema() -> None:
    """Every field of every model is walked, and every field gets both strategies."""
    paths = set(sf.field_paths())
    for name, (annotation, _) in sf.model_fields(schema.RawSpec).items():
        assert (name,) in paths
        for inner in (annotation, *typing.get_args(annotation)):
            if isinstance(inner, type) and issubclass(inner, schema.StrictModel):
                assert {p[1] for p in paths if p[0] == name and len(p) == 2} == set(
                    inner.model_fields
                )
    assert ("training", "drop_last") in paths and ("init", "generator") in paths
    for path in paths:
        pair = sf.field_pair(sf.annotation_at(path), path[-1])
        assert isinstance(pair.valid, st.SearchStrategy)
        assert isinstance(pair.invalid, st.SearchStrategy)
    # the exercise block's and a claim's raw fields are fields of their dataclasses
    exercise_fields = {f.name for f in dataclasses.fields(exercise_mod.ExerciseSpec)}
    assert set(exercise_mod.FIELDS) == exercise_fields
    claim_fields = {f.name for f in dataclasses.fields(claims_mod.Claim)}
    assert set(claims_mod.FIELDS) <= claim_fields


def test_fixed_values_of_both_halves_mean_what_they_say() -> None:
    spec = _load_yaml(
        {
            "layers": [sf.Scalar("2"), sf.Scalar("1")],
            "params": {"W": [[[sf.Scalar("0.5"), sf.Scalar("-1")]]]},
            "example": {"x": [sf.Scalar("1"), sf.Scalar("2")], "t": [sf.Scalar("1")]},
            "training": {"epochs": sf.Scalar(str(schema.RawTraining().epochs))},
        }
    )
    assert spec.layers == (2, 1)
    assert str(spec.W[0][0][1]) == "-1"
    with pytest.raises(SymbpError, match=r"training\.epochs: .*10\^18"):
        _load_yaml(
            {
                "layers": [sf.Scalar("2"), sf.Scalar("1")],
                "training": {"epochs": sf.NUMBER_INVALID[0]},
            }
        )
    with pytest.raises(SymbpError, match=r"dtype: input should be 'float64' or 'float32'"):
        _load_yaml({"layers": [sf.Scalar("2"), sf.Scalar("1")], "dtype": sf.Text("FLOAT64")})


#: The schema's scalar fields (no record behind them): every invalid value is refused there.
def _is_scalar(annotation: Any) -> bool:
    members = [annotation, *typing.get_args(annotation)]
    return not any(
        typing.get_origin(m) in (list, dict) or (isinstance(m, type) and issubclass(m, BaseModel))
        for m in members
    )


SCALAR_PATHS = [
    p
    for p in sf.field_paths()
    if p[-1] not in sf.HOOKS and _is_scalar(sf.annotation_at(p)) and p[-1] != "name"
]


@st.composite
def _one_violation(draw: Any) -> tuple[tuple[str, ...], Any]:
    path = draw(st.sampled_from(SCALAR_PATHS))
    return path, draw(sf.field_pair(sf.annotation_at(path), path[-1]).invalid)


@settings(SETTINGS, max_examples=300)
@given(_one_violation())
def test_each_drawn_violation_of_a_scalar_field_is_refused_at_that_field(
    case: tuple[tuple[str, ...], Any],
) -> None:
    path, value = case
    tree: dict[str, Any] = {"layers": [sf.Scalar("2"), sf.Scalar("1")]}
    target = tree
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value
    with pytest.raises(SymbpError) as caught:
        _load_yaml(tree)
    assert caught.value.field is not None, str(caught.value)
    assert caught.value.field.startswith(".".join(path)), str(caught.value)


def _check_claims(tree: Any) -> Any:
    spec = _load_yaml(tree)
    return claims_mod.parse_claims(spec)


def _with_exercise(tree: dict[str, Any], block: Any) -> dict[str, Any]:
    return {**tree, "exercise": block}


SPECS = st.one_of(sf.mutated_spec(), sf.coherent_spec())
CLAIMED = sf.coherent_spec(with_claims=True)
EXERCISED = st.builds(_with_exercise, sf.coherent_spec(), sf.exercise_pair().any)


@settings(SETTINGS, max_examples=2000)
@given(SPECS)
def test_specs_from_the_schema_load_or_fail_in_one_line(tree: Any) -> None:
    """Two cases a draw: the spec as YAML text, and as the Python values of a dict."""
    from_yaml = _ends_well(lambda: _load_yaml(tree))
    assert isinstance(from_yaml, (symbp.Spec, SymbpError))
    from_dict = _ends_well(lambda: symbp.load(sf.to_python(tree)))
    assert isinstance(from_dict, (symbp.Spec, SymbpError))


@settings(SETTINGS, max_examples=150)
@given(sf.coherent_spec())
def test_specs_from_the_schema_evaluate_or_fail_in_one_line(tree: Any) -> None:
    result = _ends_well(lambda: symbp.evaluate(_load_yaml(tree), steps=1))
    assert isinstance(result, (Evaluation, SymbpError))
    if isinstance(result, Evaluation):
        assert len(result.steps) == 2


@settings(SETTINGS, max_examples=600)
@given(CLAIMED)
def test_claims_from_the_schema_parse_or_fail_in_one_line(tree: Any) -> None:
    result = _ends_well(lambda: _check_claims(tree))
    if not isinstance(result, SymbpError):
        assert len(result) == len(tree["claims"])


@settings(SETTINGS, max_examples=80)
@given(CLAIMED)
def test_claims_from_the_schema_verify_or_fail_in_one_line(tree: Any) -> None:
    from symbp.verify import Report, verify

    result = _ends_well(lambda: verify(_load_yaml(tree)))
    assert isinstance(result, (Report, SymbpError))
    if isinstance(result, Report):
        assert len(result.results) == len(tree["claims"])


@settings(SETTINGS, max_examples=500)
@given(EXERCISED)
def test_exercise_blocks_from_the_schema_load_or_fail_in_one_line(tree: Any) -> None:
    result = _ends_well(lambda: _load_yaml(tree))
    if isinstance(result, symbp.Spec):
        assert result.exercise is not None


@settings(SETTINGS, max_examples=50)
@given(EXERCISED)
def test_exercise_blocks_from_the_schema_draw_or_fail_in_one_line(tree: Any) -> None:
    result = _ends_well(lambda: plan(_load_yaml(tree), count=1), budget=0.5)
    if not isinstance(result, SymbpError):
        assert len(result.variants) == 1


@settings(SETTINGS, max_examples=600, phases=[Phase.explicit, Phase.generate])
@given(SPECS.flatmap(sf.tagged))
def test_tagged_specs_from_the_schema_load_or_fail_in_one_line(tree: Any) -> None:
    result = _ends_well(lambda: _load_yaml(tree))
    assert isinstance(result, (symbp.Spec, SymbpError))


def _overflowing(formula: str) -> dict[str, Any]:
    return {
        "layers": [sf.Scalar("2"), sf.Scalar("1")],
        "activations": {"formula": sf.Text(formula)},
        "params": {"W": [[[sf.Scalar("300"), sf.Scalar("400")]]]},
        "example": {"x": [sf.Scalar("2"), sf.Scalar("3")], "t": [sf.Scalar("1")]},
    }


@pytest.mark.parametrize("formula", sf.OVERFLOWING_FORMULAS)
def test_formulas_far_from_zero_evaluate_or_fail_in_one_line(formula: str) -> None:
    """A formula the loader accepts, evaluated at z = 1800: a value, or one line."""
    result = _ends_well(lambda: symbp.evaluate(_load_yaml(_overflowing(formula)), steps=1))
    assert isinstance(result, (Evaluation, SymbpError))


#: Found by the property test: a first update carries exp(exp(exp(z))) far from zero.
AFTER_UPDATE = {
    "layers": [sf.Scalar("1"), sf.Scalar("2"), sf.Scalar("3")],
    "activations": [sf.Text("sigmoid"), {"formula": sf.Text("exp(exp(exp(x)))")}],
    "params": {
        "W": [
            [[sf.Scalar("-0.1")], [sf.Scalar("-0.1")]],
            [[sf.Scalar("-0.1")] * 2, [sf.Scalar("-0.1")] * 2, [sf.Scalar("2.5"), sf.Scalar("4")]],
        ]
    },
    "example": {"x": [sf.Scalar("-0.1")], "t": [sf.Scalar("0")] * 3},
}


def test_a_formula_carried_far_from_zero_by_an_update_ends_in_one_line() -> None:
    result = _ends_well(lambda: symbp.evaluate(_load_yaml(AFTER_UPDATE), steps=1))
    assert isinstance(result, (Evaluation, SymbpError))


# --- the subprocess sample ------------------------------------------------------------


def _command(tree: dict[str, Any]) -> list[str]:
    if "claims" in tree:
        return ["verify", "spec.yaml", "-o", "report.md", "--time-limit", "8"]
    if "exercise" in tree:
        return ["exercises", "spec.yaml", "--no-pdf", "--count", "2", "-o", "out"]
    return ["eval", "spec.yaml", "--time-limit", "8"]


SAMPLE = st.one_of(
    sf.mutated_spec(),
    sf.coherent_spec(),
    sf.coherent_spec(with_claims=True),
    EXERCISED,
)


@settings(SETTINGS, max_examples=20, phases=[Phase.generate])
@given(tree=SAMPLE)
def test_a_sample_runs_through_the_cli_within_the_caps(
    tree: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "spec.yaml").write_text(sf.to_yaml(tree) + "\n", encoding="utf-8")
    command = _command(tree)
    result = run_capped(*command, cwd=folder, home=tmp_path_factory.mktemp("home"))
    problem = one_error_line(result, command[0])
    assert problem is None, problem
    if result.returncode == 0 and command[0] == "eval":
        assert "step 1: parameters after 1 update(s)" in result.stdout
    if result.returncode in (0, 1) and command[0] == "verify":
        assert (folder / "report.md").read_text(encoding="utf-8").strip()
