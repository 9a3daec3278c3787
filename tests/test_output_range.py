"""An output activation whose values the loss cannot take is refused at the spec's ``loss``.

``bce`` reads ``log y`` and ``log(1 - y)``, ``cross_entropy`` ``log y``: a tanh,
identity, ReLU or leaky ReLU output (or softmax on one output, always 1, under ``bce``)
would make the loss NaN on the first step. The records state the values (activations)
and the domain (losses); the spec refuses the pair in one line naming ``loss``, from
every entry point, and writes nothing.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
import yaml
from sympy.calculus.util import continuous_domain, function_range

import symbp
from symbp.cli import main
from symbp.errors import SpecError, TrainingDiverged
from symbp.ops import ranges
from symbp.ops.activations import make_activation
from symbp.ops.losses import LOSSES, make_loss
from symbp.ops.symbols import X, Y
from symbp.symbolic.evaluate import evaluate
from symbp.verify import verify

TANH_BCE = (
    "loss: bce takes outputs in (0, 1); the output activation tanh gives values in (-1, 1): "
    "use sigmoid (or a loss such as half_sse)"
)

#: (output activation, loss, output size, the message's part after "loss: ")
REFUSED: list[tuple[Any, Any, int, str]] = [
    ("tanh", "bce", 1, TANH_BCE.removeprefix("loss: ")),
    (
        "identity",
        "bce",
        1,
        "bce takes outputs in (0, 1); the output activation identity gives values in "
        "(-inf, inf): use sigmoid (or a loss such as half_sse)",
    ),
    (
        "relu",
        {"name": "bce", "log_base": 2, "soft_targets": True},
        1,
        "bce takes outputs in (0, 1); the output activation relu gives values in [0, inf): "
        "use sigmoid (or a loss such as half_sse)",
    ),
    (
        "leaky_relu",
        "bce",
        2,
        "bce takes outputs in (0, 1); the output activation leaky_relu gives values in "
        "(-inf, inf): use sigmoid or softmax (or a loss such as half_sse)",
    ),
    (
        "tanh",
        "cross_entropy",
        3,
        "cross_entropy takes outputs in (0, inf); the output activation tanh gives values in "
        "(-1, 1): use sigmoid or softmax (or a loss such as half_sse)",
    ),
    (
        "identity",
        {"name": "cross_entropy", "log_base": 10},
        2,
        "cross_entropy takes outputs in (0, inf); the output activation identity gives values "
        "in (-inf, inf): use sigmoid or softmax (or a loss such as half_sse)",
    ),
    (
        "relu",
        "cross_entropy",
        2,
        "cross_entropy takes outputs in (0, inf); the output activation relu gives values in "
        "[0, inf): use sigmoid or softmax (or a loss such as half_sse)",
    ),
    (
        {"name": "leaky_relu", "alpha": -0.5},
        {"name": "cross_entropy", "soft_targets": True},
        2,
        "cross_entropy takes outputs in (0, inf); the output activation leaky_relu gives "
        "values in [0, inf): use sigmoid or softmax (or a loss such as half_sse)",
    ),
    (
        "softmax",
        "bce",
        1,
        "bce takes outputs in (0, 1); the output activation softmax gives only 1 on a layer "
        "of one output: use sigmoid (or a loss such as half_sse)",
    ),
]
IDS = [f"{a if isinstance(a, str) else a['name']}-{n}" for a, _, n, _ in REFUSED]


def _spec(output: Any, loss: Any, n: int, *, numbers: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "range",
        "layers": [2, 3, n],
        "activations": ["sigmoid", output],
        "loss": loss,
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
    }
    if numbers:
        spec["params"] = {
            "W": [[[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]], [[0.7, -0.8, 0.9]] * n],
            "b": [[0, 0, 0], [0] * n],
        }
        spec["example"] = {"x": [1, 0], "t": [1] + [0] * (n - 1)}
    return spec


def _loss_line(path: Path) -> int:
    """The 1-based line of ``loss:`` in the YAML file ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("loss:"))


# -- the records ---------------------------------------------------------------------


def test_activation_records_state_their_values() -> None:
    values = {
        name: make_activation(name, {}).output_values(2)
        for name in ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax")
    }
    assert values == {
        "sigmoid": sp.Interval.open(0, 1),
        "tanh": sp.Interval.open(-1, 1),
        "relu": sp.Interval(0, sp.oo),
        "leaky_relu": sp.S.Reals,
        "identity": sp.S.Reals,
        "softmax": sp.Interval.open(0, 1),
    }
    assert make_activation("softmax", {}).output_values(1) == sp.FiniteSet(1)
    assert make_activation("tanh", {}).output_values(1) == sp.Interval.open(-1, 1)
    assert make_activation("leaky_relu", {"alpha": Fraction(0)}).output_values(1) == (
        sp.Interval(0, sp.oo)
    )
    assert make_activation("leaky_relu", {"alpha": Fraction(-1, 2)}).output_values(1) == (
        sp.Interval(0, sp.oo)
    )


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "identity"])
def test_activation_values_agree_with_sympy_function_range(name: str) -> None:
    activation = make_activation(name, {})
    assert function_range(activation.formula, X, sp.S.Reals) == activation.output_values(1)


def test_piecewise_activation_values_hold_at_their_ends() -> None:
    """ReLU and leaky ReLU (which SymPy's function_range cannot take): 0 is a value of
    ReLU, and leaky ReLU takes every sign."""
    relu = make_activation("relu", {})
    leaky = make_activation("leaky_relu", {})
    assert relu(sp.Integer(-3)) == 0 and relu(sp.Integer(5)) == 5
    assert leaky(sp.Integer(-300)) == -3 and leaky(sp.Integer(7)) == 7


@pytest.mark.parametrize(
    ("name", "options"),
    [(n, {}) for n in LOSSES if n != "hinge"]  # SymPy cannot take the hinge's Piecewise
    + [("bce", {"log_base": 2}), ("cross_entropy", {"log_base": 10})],
)
def test_loss_domain_agrees_with_sympy_continuous_domain(name: str, options: dict) -> None:
    loss = make_loss(name, options)
    assert continuous_domain(loss.term, Y, sp.S.Reals) == loss.output_domain


def test_loss_domains() -> None:
    domains = {name: make_loss(name, {}).output_domain for name in LOSSES}
    assert domains == {
        "half_sse": sp.S.Reals,
        "sse": sp.S.Reals,
        "mse": sp.S.Reals,
        "mae": sp.S.Reals,
        "bce": sp.Interval.open(0, 1),
        "cross_entropy": sp.Interval.open(0, sp.oo),
        "hinge": sp.S.Reals,
    }
    assert make_loss("bce", {"soft_targets": True}).output_domain == sp.Interval.open(0, 1)


def test_ranges_shown_and_compared() -> None:
    assert [ranges.shown(s) for s in (ranges.UNIT, ranges.NON_NEGATIVE, ranges.REALS)] == [
        "(0, 1)",
        "[0, inf)",
        "(-inf, inf)",
    ]
    assert ranges.shown(sp.Interval.Lopen(0, 1)) == "(0, 1]"
    assert ranges.within(ranges.UNIT, ranges.POSITIVE) is True
    assert ranges.within(ranges.NON_NEGATIVE, ranges.POSITIVE) is False
    assert ranges.within(None, ranges.UNIT) is None


# -- the Python API ------------------------------------------------------------------


@pytest.mark.parametrize(("output", "loss", "n", "message"), REFUSED, ids=IDS)
def test_load_and_compile_refuse_at_loss(output, loss, n, message, tmp_path: Path) -> None:
    spec = _spec(output, loss, n)
    with pytest.raises(SpecError) as err:
        symbp.load(spec)
    assert err.value.field == "loss"
    assert str(err.value) == f"loss: {message}"
    with pytest.raises(SpecError) as err:
        symbp.compile(spec)
    assert str(err.value) == f"loss: {message}"


def test_a_file_spec_names_file_and_line(write_spec) -> None:
    path = write_spec(_spec("tanh", "bce", 1))
    with pytest.raises(SpecError) as err:
        symbp.load(path)
    assert str(err.value) == f"{path}:{_loss_line(path)}: {TANH_BCE}"


def test_list_form_and_recurrent_specs_refuse_at_loss() -> None:
    conv = {
        "input": [1, 4, 4],
        "layers": [
            {"conv": 2, "kernel": 2, "activation": "relu"},
            "flatten",
            {"dense": 1, "activation": "tanh"},
        ],
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
    }
    with pytest.raises(SpecError) as err:
        symbp.load(conv)
    assert str(err.value) == TANH_BCE
    recurrent = {
        "input": {"steps": 3, "features": 1},
        "layers": [
            {"recurrent": 2, "cell": "elman", "activation": "tanh"},
            {"dense": 2, "activation": "identity"},
        ],
        "output": "last_step",
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
    }
    with pytest.raises(SpecError) as err:
        symbp.load(recurrent)
    assert err.value.field == "loss"
    assert "the output activation identity gives values in (-inf, inf)" in str(err.value)


def test_estimators_refuse_at_loss() -> None:
    X_ = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    for output, loss in (("tanh", "bce"), ("identity", "cross_entropy")):
        spec = {
            "layers": [None, 3, None],
            "activations": ["relu", output],
            "loss": loss,
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "training": {"epochs": 1},
        }
        with pytest.raises(SpecError) as err:
            symbp.SymbpClassifier(spec=spec).fit(X_, y)
        assert err.value.field == "loss"
        assert f"the output activation {output} gives values in" in str(err.value)
    with pytest.raises(SpecError) as err:
        symbp.SymbpRegressor(spec={**spec, "layers": [None, 3, 1]}).fit(X_, y.astype(float))
    assert err.value.field == "loss"


# -- the accepted pairs --------------------------------------------------------------

OUTPUTS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("loss", ["half_sse", "sse", "mse", "mae"])
def test_squared_and_absolute_losses_take_every_output(output: str, loss: str) -> None:
    spec = symbp.load(_spec(output, loss, 2))
    assert (spec.activations[-1].name, spec.loss.name) == (output, loss)


@pytest.mark.parametrize(
    ("output", "loss", "n"),
    [
        ("sigmoid", "bce", 1),
        ("sigmoid", "bce", 2),
        ("softmax", "bce", 2),
        ("sigmoid", "cross_entropy", 2),
        ("softmax", "cross_entropy", 3),
        ("softmax", "cross_entropy", 1),
        ({"formula": "x"}, "bce", 1),  # a formula's values are unknown: not refused
        ("tanh", {"formula": "-t*log(y)"}, 1),  # nor a formula loss's domain
        ("tanh", "hinge", 1),
    ],
)
def test_pairs_the_loss_takes_are_accepted(output: Any, loss: Any, n: int) -> None:
    spec = symbp.load(_spec(output, loss, n, numbers=n == 1))
    assert spec.layers[-1] == n


def test_an_accepted_pair_keeps_its_exact_numbers() -> None:
    """sigmoid + bce: the loss at step 0 is -ln σ(z) for the example's target 1, with
    z = 0.7 σ(0.1) - 0.8 σ(0.3) + 0.9 σ(0.5)."""
    steps = evaluate(symbp.load(_spec("sigmoid", "bce", 1)), 0).steps

    def sigma(v: sp.Expr) -> sp.Expr:
        return 1 / (1 + sp.exp(-v))

    r = sp.Rational
    z = r(7, 10) * sigma(r(1, 10)) - r(4, 5) * sigma(r(3, 10)) + r(9, 10) * sigma(r(1, 2))
    assert abs(sp.N(steps[0].loss + sp.log(sigma(z)), 50)) < 1e-45


# -- the command line ----------------------------------------------------------------


def _cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


@pytest.mark.parametrize(("output", "loss", "n", "message"), REFUSED, ids=IDS)
def test_every_command_exits_2_with_one_line(
    output, loss, n, message, write_spec, tmp_path: Path, capsys
) -> None:
    path = write_spec(yaml.safe_dump(_spec(output, loss, n), default_flow_style=None))
    data = tmp_path / "data.csv"
    data.write_text("a,b,y\n0,1,1\n1,0,0\n1,1,1\n", encoding="utf-8")
    out = tmp_path / "out"
    commands = {
        "compile": ["compile", str(path), "-o", str(out)],
        "train": ["train", str(path), "--data", str(data), "--target", "y", "-o", str(out)],
        "doc": ["doc", str(path), "--format", "md", "-o", str(out)],
        "eval": ["eval", str(path)],
        "exercises": ["exercises", str(path), "--count", "2", "--no-pdf", "-o", str(out)],
    }
    for command, args in commands.items():
        code, err = _cli(args, capsys)
        assert code == 2, (command, err)
        where = f"{path}:{_loss_line(path)}"
        assert err == f"symbp {command}: error: {where}: loss: {message}\n", (command, err)
        assert "Traceback" not in err
        assert not out.exists(), command
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "spec.yaml"]


# -- a formula the records cannot judge: the NaN names the output as its likely cause -----

FORMULA_OUT = {
    "name": "formula-out",
    "layers": [1, 1],
    "activations": {"formula": "x"},
    "loss": "bce",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "params": {"W": [[[-1]]], "b": [[0]]},
    "example": {"x": [1], "t": [1]},
}
FORMULA_HINT = (
    "the output activation (formula 'x') may give values that bce cannot take "
    "(it takes outputs in (0, 1))"
)


def test_evaluator_names_the_output_at_step_0() -> None:
    with pytest.raises(TrainingDiverged) as err:
        evaluate(symbp.load(FORMULA_OUT), 1)
    assert str(err.value) == (
        "the loss or a gradient is not a finite real number at step 0 (last finite loss: none); "
        + FORMULA_HINT
    )


def test_evaluator_says_nothing_of_the_output_where_the_loss_takes_every_value() -> None:
    spec = {**FORMULA_OUT, "activations": {"formula": "sqrt(x)"}, "loss": "half_sse"}
    with pytest.raises(TrainingDiverged) as err:
        evaluate(symbp.load(spec), 1)
    assert str(err.value) == (
        "the loss or a gradient is not a finite real number at step 0 (last finite loss: none)"
    )


def test_trainer_names_the_output_not_the_learning_rate_before_any_update() -> None:
    trainer = symbp.compile(FORMULA_OUT)
    X_, T_ = np.array([[1.0], [2.0]]), np.array([[1.0], [0.0]])
    with pytest.raises(TrainingDiverged) as err:
        trainer.fit(X_, T_, epochs=2, batch_size=2)
    message = str(err.value)
    assert message == (
        "the loss became nan at epoch 1, step 1 (update 1); last finite loss: none "
        f"(the first step). {FORMULA_HINT[0].upper()}{FORMULA_HINT[1:]}; "
        "else standardise the inputs"
    )
    assert "learning rate" not in message


def test_evaluator_names_a_loss_formula_that_the_output_may_leave() -> None:
    spec = {
        **FORMULA_OUT,
        "activations": "tanh",
        "loss": {"formula": "-t*log(y)"},
        "example": {"x": [1], "t": [1]},
    }
    with pytest.raises(TrainingDiverged) as err:
        evaluate(symbp.load(spec), 1)
    assert str(err.value).endswith(
        "; the output activation (tanh) may give values at which the loss formula "
        "'-t*log(y)' is not finite"
    )


# -- the convention search -----------------------------------------------------------


def test_convention_search_still_evaluates_tanh_at_a_bce_output() -> None:
    """The spec refuses tanh + bce, but a text that printed tanh at a sigmoid output is a
    slip the convention search names (the variant is evaluated where tanh(z) is in (0, 1),
    which bce takes), as it names the swap in a hidden layer."""
    W = [np.array([[0.15, -0.2], [0.25, 0.3]]), np.array([[0.4, -0.45], [0.5, 0.55]])]
    b = [np.array([0.1, -0.1]), np.array([0.2, 0.05])]
    x = np.array([0.5, -0.3])

    def sigma(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    hidden_tanh = sigma(W[1] @ np.tanh(W[0] @ x + b[0]) + b[1])
    z_out = W[1] @ sigma(W[0] @ x + b[0]) + b[1]
    assert (z_out > 0).all()  # tanh(z) in (0, 1): bce of it is finite
    spec = {
        "name": "swap",
        "layers": [2, 2, 2],
        "activations": "sigmoid",
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "params": {"W": [w.tolist() for w in W], "b": [v.tolist() for v in b]},
        "example": {"x": x.tolist(), "t": [1, 0]},
        "claims": [
            {"of": "y[0]", "printed": f"{hidden_tanh[0]:.6f}"},
            {"of": "y[1]", "printed": f"{np.tanh(z_out[1]):.6f}"},
        ],
    }
    report = verify(spec)
    assert "tanh instead of sigmoid in layer 1" in [f.label for f in report.results[0].findings]
    assert [f.label for f in report.results[1].findings] == ["tanh instead of sigmoid in layer 2"]
    with pytest.raises(SpecError) as err:
        symbp.load({**spec, "activations": ["sigmoid", "tanh"]})
    assert err.value.field == "loss"
