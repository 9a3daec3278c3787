"""A conv layer right below a max-pool does the pool's backward in the generated trainer
(it visits each window's first maximum only): the plan says so for exactly that pair,
and the gradients stay the exact evaluator's (1e-12, float64) where the routed conv layer
is not the first (its delta scatters into the layer below, through the padded loops) and
where the pool's windows overlap (stride 1: a position that is the maximum of two
windows takes both deltas)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conv_kernel_cases import assert_matches_exact, inputs, spec_of

import symbp
from symbp.codegen.front import make_map_plan
from symbp.symbolic.network_run import run_network

CASES: list[tuple[str, list[int], list[Any], str, int]] = [
    (
        "second-conv-padded-below-max",
        [1, 4, 4],
        [
            {"conv": 2, "kernel": 3, "stride": 1, "padding": 1, "activation": "tanh"},
            {"conv": 2, "kernel": 3, "stride": 1, "padding": 1, "activation": "relu"},
            {"pool": "max", "size": 2},
            "flatten",
            {"dense": 1, "activation": "sigmoid"},
        ],
        "bce",
        1,
    ),
    (
        "overlapping-windows",
        [1, 5, 5],
        [
            {"conv": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "relu"},
            {"pool": "max", "size": 2, "stride": 1},
            "flatten",
            {"dense": 2, "activation": "softmax"},
        ],
        "cross_entropy",
        2,
    ),
]


def test_the_plan_routes_a_max_pool_through_the_conv_below_it() -> None:
    plan = make_map_plan(symbp.load(spec_of(CASES[0])), "float64")
    first, second, pool, flatten = plan.front
    assert first.pooled_by is None and not first.routed_below
    assert second.pooled_by is not None and second.pooled_by.index == pool.index == 3
    assert pool.routed_below and not flatten.routed_below
    avg = spec_of(
        ("avg", [1, 4, 4], [CASES[0][2][0], {"pool": "avg", "size": 2}, *CASES[0][2][3:]], "bce", 1)
    )
    conv, avg_pool, _ = make_map_plan(symbp.load(avg), "float64").front
    assert conv.pooled_by is None and not avg_pool.routed_below


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_routed_gradients_equal_the_exact_evaluator(case: Any) -> None:
    data = spec_of(case)
    spec = symbp.load(data)
    trainer = symbp.compile(spec)  # the module of tests/test_conv_kernel.py's case
    text = trainer.module_path.read_text()
    assert "is routed to the first maximum of each window by layer" in text
    X, T = inputs(data)
    grad_W, grad_b = trainer.gradients(X, T)
    exact = run_network(spec).steps[0].evaluation
    assert trainer.loss(X, T) == pytest.approx(float(exact.loss), rel=1e-12, abs=1e-12)
    for got, want in zip(grad_W + grad_b, exact.grad_W + exact.grad_b, strict=True):
        if want is None:
            assert got is None
            continue
        want = np.array(want, dtype=object).astype(np.float64)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_ties_go_to_the_first_maximum_of_the_window() -> None:
    """The max-pool routes each window's delta to its first maximum, row-major: a filter
    of zeros makes every value of its map equal (the bias), so each window's delta must
    reach its top-left position alone.
    Checked against the exact evaluator (whose ties tests/test_conv_torch.py checks
    against PyTorch), 1e-12."""
    case = (
        "ties",
        [1, 5, 5],
        [
            {"conv": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "identity"},
            {"pool": "max", "size": 2},
            "flatten",
            {"dense": 2, "activation": "sigmoid"},
        ],
        "bce",
        2,
    )
    data = spec_of(case, n_examples=2)
    data["params"]["W"][0][0] = [[[0, 0], [0, 0]]]
    spec = symbp.load(data)
    trainer = symbp.compile(spec)
    X, T = inputs(data)
    grad_W, grad_b = trainer.gradients(X, T)
    exact = run_network(spec).steps[0].evaluation
    assert_matches_exact(grad_W + grad_b, exact.grad_W + exact.grad_b)
    # the zero filter's gradient is not zero: its windows' deltas reached the input
    assert np.abs(grad_W[0][0]).max() > 1e-3
