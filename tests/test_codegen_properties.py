"""Property test: random networks, the kernel's gradients against two references.

Hypothesis draws a network (1 to 4 weight layers, widths 1 to 16, activations and
losses from the registry and custom formulas), starting weights and data. The compiled
kernel's gradient of E must equal the exact symbolic gradient (the evaluator) and
central finite differences of the kernel's own loss. Every draw compiles a new module,
so the number of examples is small and fixed (``derandomize``: the same networks every
run, whose compiled kernels then come from Numba's cache).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbp
from symbp.codegen import compile
from symbp.codegen.check import exact_run, examples_arrays, finite_differences, relative_error

HIDDEN = [
    "sigmoid",
    "tanh",
    "relu",
    {"name": "leaky_relu", "alpha": 0.1},
    "identity",
    {"formula": "x*tanh(x)"},
    {"formula": "x/(1 + x**2)"},
    {"formula": "log(1 + exp(x))"},
]
#: loss -> (output activations it is drawn with, kind of targets)
LOSSES: list[tuple[Any, list[Any], str]] = [
    ("half_sse", HIDDEN, "real"),
    ("mse", ["tanh", "identity", {"formula": "x/(1 + abs(x))"}], "real"),
    ("mae", ["identity", "sigmoid"], "real"),
    ("bce", ["sigmoid"], "unit"),
    ({"name": "bce", "log_base": 2}, ["sigmoid"], "unit"),
    ("cross_entropy", ["softmax"], "onehot"),
    ("half_sse", ["softmax"], "unit"),
    ("hinge", ["tanh", "identity"], "sign"),
    ({"formula": "log(cosh(y - t))"}, ["identity", "tanh"], "real"),
    ({"formula": "(y - t)**2/2 + (y - t)**4/4"}, ["sigmoid", "identity"], "real"),
]


@st.composite
def networks(draw: st.DrawFn) -> dict[str, Any]:
    depth = draw(st.integers(1, 4))
    layers = [draw(st.integers(1, 16)) for _ in range(depth + 1)]
    loss, outputs, kind = draw(st.sampled_from(LOSSES))
    hidden = [draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1)]
    output = draw(st.sampled_from(outputs))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_out = layers[-1]
    examples = []
    for _ in range(3):
        x = np.round(rng.uniform(-1.5, 1.5, layers[0]), 2)
        if kind == "unit":
            t = np.round(rng.uniform(0, 1, n_out), 2)
        elif kind == "onehot":
            t = np.eye(n_out)[rng.integers(0, n_out)]
        elif kind == "sign":
            t = rng.choice([-1.0, 1.0], n_out)
        else:
            t = np.round(rng.uniform(-1, 1, n_out), 2)
        examples.append({"x": [float(v) for v in x], "t": [float(v) for v in t]})
    return {
        "name": "property",
        "layers": layers,
        "activations": [*hidden, output],
        "loss": loss,
        "init": {"name": draw(st.sampled_from(["xavier_uniform", "he_normal"])), "seed": 1},
        "examples": examples,
    }


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(networks())
def test_kernel_gradients_match_symbolic_and_finite_differences(data: dict[str, Any]) -> None:
    spec = symbp.load(data)
    trainer = compile(spec)
    X, T = examples_arrays(spec)
    gW, gb = trainer.gradients(X, T)
    exact = exact_run(spec, 0)
    # Scales below 1e-8 are rounding noise (e.g. a softmax with one output: E is 0).
    assert relative_error([*gW, *gb], [*exact.grad_W[0], *exact.grad_b[0]], floor=1e-8) <= 1e-11
    assert abs(trainer.loss(X, T) - exact.losses[0]) <= 1e-11 * max(abs(exact.losses[0]), 1e-8)
    fW, fb = finite_differences(trainer, X, T, h=1e-6)
    assert relative_error([*gW, *gb], [*fW, *fb], floor=1e-8) <= 1e-5
