"""The kernel printer and the kernel plan, unit by unit."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from numba import njit

import symbp
from symbp.codegen import runtime as rt
from symbp.codegen.plan import make_plan
from symbp.codegen.printer import NumbaPrinter, prepare, softplus

x, y, t = sp.symbols("x y t", real=True)
k = sp.Symbol("k", positive=True, integer=True)


def code(expr: sp.Expr, dtype: str = "float64") -> str:
    return NumbaPrinter(dtype).doprint(prepare(expr))


# ---------------------------------------------------------------------------
# Printer


@pytest.mark.parametrize(
    ("expr", "f64", "f32"),
    [
        (x / 4, "(0.25)*x", "(np.float32(0.25))*x"),
        (x**2, "(x*x)", "(x*x)"),
        (1 / x, "(1.0/(x))", "(np.float32(1.0)/(x))"),
        (sp.sqrt(x), "math.sqrt(x)", "math.sqrt(x)"),
        (sp.Max(0, x), "maximum(x, 0.0)", "maximum(x, np.float32(0.0))"),  # NaN x stays
        (sp.log(y) / sp.log(2), "1.4426950408889634*math.log(y)", None),
        (sp.tanh(x), "tanh64(x)", "tanh32(x)"),
        (1 / (1 + sp.exp(-x)), "(1.0/((1.0 + exp64(-x))))", None),
        (
            softplus(-x),
            "log1pexp64(abs(x)) + maximum(-x, 0.0)",
            "log1pexp32(abs(x)) + maximum(-x, np.float32(0.0))",
        ),
        (sp.Rational(9, 10) ** k, "((0.9)**k)", "((np.float32(0.9))**k)"),
    ],
)
def test_printer_spells_numbers_in_the_kernel_dtype(expr, f64, f32) -> None:
    assert code(expr) == f64
    if f32 is not None:
        assert code(expr, "float32") == f32


def test_step_functions_follow_sympy_at_zero() -> None:
    cases = {
        sp.Heaviside(x): (1.0, 0.5, 0.0),
        sp.Heaviside(x, 0): (1.0, 0.0, 0.0),
        sp.sign(x): (1.0, 0.0, -1.0),
    }
    for expr, expected in cases.items():
        text = code(expr)
        fn = _compile_scalar(text)
        assert (fn(2.0), fn(0.0), fn(-3.0)) == expected, text


def _compile_scalar(text: str):  # type: ignore[no-untyped-def]
    namespace: dict = {"math": math, "np": np, **vars(rt)}
    exec(f"def f(x):\n    return {text}\n", namespace)
    return njit(namespace["f"])


def test_floor_of_an_integer_ratio_is_exact_integer_division() -> None:
    epoch = sp.Symbol("epoch", integer=True, nonnegative=True)
    assert code(sp.floor(epoch / 3)) == "((epoch) // 3)"
    assert code(sp.floor(2 * epoch / 5)) == "((2*epoch) // 5)"


def test_printer_refuses_what_it_cannot_spell() -> None:
    with pytest.raises(ValueError, match="no kernel spelling"):
        code(sp.Function("mystery")(x))
    with pytest.raises(ValueError, match="not an identifier"):
        NumbaPrinter().doprint(sp.Symbol("w^2_11"))


def test_custom_activation_is_printed_from_its_formula() -> None:
    spec = symbp.load({"layers": [1, 1], "activations": [{"formula": "x*tanh(x)"}]})
    f = spec.activations[0].function
    assert code(f(x)) == "x*tanh64(x)"


# ---------------------------------------------------------------------------
# Plan


def test_plan_uses_stable_forms_for_log_losses() -> None:
    bce = make_plan(
        symbp.load({"layers": [2, 1], "activations": "sigmoid", "loss": "bce"}), "float64"
    )
    assert bce.output.delta.outputs == ("a - t",)
    # softplus(-z) and softplus(z) share one log1p(exp(-|z|))
    # (a small layer: NumPy's exp, faster one element at a time than the polynomial)
    assert bce.output.reduce.temps == (("log1pexp_abs_z", "np.log1p(np.exp(-(abs(z))))"),)
    assert "maximum(-z, 0.0)" in bce.output.reduce.outputs[0]
    assert "maximum(z, 0.0)" in bce.output.reduce.outputs[0]
    assert "math.log" not in bce.output.reduce.outputs[0]
    ce = make_plan(
        symbp.load({"layers": [2, 3], "activations": "softmax", "loss": "cross_entropy"}),
        "float64",
    )
    assert ce.output.uses_lse and not ce.output.uses_norm
    assert "math.log" not in " ".join(ce.output.reduce.outputs)
    # exact delta, no one-hot assumption: a_j Σ_i t_i - t_j
    assert ce.output.delta.outputs == ("a*sum_t - t",)
    assert ce.output.reductions == ("row_loss", "sum_t")
    assert ce.output.reduce.outputs[1] == "t"


@pytest.mark.parametrize("z", [-30.0, -1.5, 0.0, 0.7, 25.0])
def test_stable_log_forms_equal_the_logs(z: float) -> None:
    mpmath.mp.dps = 40
    sig = 1 / (1 + mpmath.exp(-z))
    log_sig = -(mpmath.log(1 + mpmath.exp(-z)))
    log_one_minus = -(mpmath.log(1 + mpmath.exp(z)))
    assert abs(mpmath.log(sig) - log_sig) < 1e-30
    assert abs(mpmath.log(1 - sig) - log_one_minus) < 1e-30
    printed = _compile_scalar(code(softplus(x)))  # as the kernels print it
    assert printed(z) == pytest.approx(float(mpmath.log(1 + mpmath.exp(z))), rel=1e-15)


def test_update_plan_hoists_per_step_scalars_and_detects_plain_steps() -> None:
    adam = make_plan(
        symbp.load({"layers": [1, 1], "optimizer": {"name": "adam", "learning_rate": 0.01}}),
        "float64",
    )
    # the bias corrections and 1 - beta: once a step, from the run-time numbers h_*
    assert adam.update.step.outputs == (
        "lr/(1.0 - (h_beta1**k))",
        "(1.0/((1.0 - (h_beta2**k))))",
        "1.0 - h_beta2",
        "1.0 - h_beta1",
    )
    assert adam.update.hyper == ("lr0", "weight_decay", "beta1", "beta2", "eps")
    # the new moments are named as the optimiser names them
    # the decayed gradient g + lambda theta (lambda = 0 here: an exact zero is added)
    assert adam.update.elem.temps[0] == ("update_part0", "g + h_weight_decay*theta")
    assert [name for name, _ in adam.update.elem.temps[1:]] == ["new_m", "new_v"]
    assert adam.update.elem.outputs[1:] == ("new_m", "new_v")
    assert not any("**k" in c for _, c in adam.update.elem.temps)
    assert adam.update.fold is None
    decay = make_plan(
        symbp.load({"layers": [1, 1], "optimizer": {"name": "sgd", "weight_decay": 0.5}}),
        "float64",
    )
    assert decay.update.fold == ("-lr", "-h_weight_decay*lr + 1.0")
    # no number of the spec is a literal of the update: a new value compiles nothing
    assert "0.5" not in repr(decay.update)
    momentum = make_plan(
        symbp.load({"layers": [1, 1], "optimizer": {"name": "momentum"}}), "float64"
    )
    assert momentum.update.fold is None and momentum.update.state == ("state_v",)


def test_frozen_parameters_are_left_out_of_the_update_segments() -> None:
    spec = symbp.load({"layers": [2, 3, 1], "frozen": ["W[0]", "b[1]"]})
    plan = make_plan(spec, "float64")
    # W_1: 0..6, b_1: 6..9, W_2: 9..12, b_2: 12..13
    assert plan.segments == ((6, 12),)


# ---------------------------------------------------------------------------
# Run-time helpers


def test_softplus_is_finite_at_large_arguments() -> None:
    softplus64 = _compile_scalar(code(softplus(x)))
    softplus32 = _compile_scalar(code(softplus(x), "float32"))
    assert softplus64(1e4) == 1e4
    assert softplus64(-1e4) == 0.0
    assert softplus32(np.float32(1e4)) == np.float32(1e4)
    assert math.isnan(softplus64(math.nan))
