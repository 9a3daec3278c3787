"""A piecewise formula's condition is evaluated where its sums bind their indices.

The hinge loss of a softmax output is ``1 - t y`` where ``t y < 1``, with ``y`` the
softmax, a sum over the outputs in its denominator: its condition holds a sum whose
index the exact evaluator must bind itself (it used to read the index as a free
symbol and fail with a bare ``KeyError``).
"""

from __future__ import annotations

import sympy as sp

import symbp
from symbp.symbolic.records import Evaluation


def _hinge_of_softmax(x: float, w1: float, w2: float, t: int) -> Evaluation:
    return symbp.evaluate(
        {
            "layers": [1, 1, 2],
            "activations": ["identity", "softmax"],
            "loss": "hinge",
            "params": {"W": [[[w1]], [[w2], [0]]], "b": [[0], [0, 0]]},
            "example": {"x": [x], "t": [t, -t]},
        }
    )


def test_the_hinge_of_a_softmax_output_is_evaluated_exactly() -> None:
    # z2 = (w2·w1·x, 0) = (0, 0): y = (1/2, 1/2); t = (1, -1): both terms 1 - t y < 1 hold
    # (1 - 1/2 = 1/2 and 1 + 1/2 = 3/2), E = 2
    evaluation = _hinge_of_softmax(0, -0.1, -0.1, 1)
    assert abs(evaluation.steps[0].loss - 2) < sp.Float("1e-55")


def test_a_one_output_softmax_with_the_hinge_loss_is_evaluated() -> None:
    evaluation = symbp.evaluate(
        {
            "layers": [1, 1, 1],
            "activations": ["identity", "softmax"],
            "loss": {"name": "hinge"},
            "params": {"W": [[[-0.1]], [[-0.1]]]},
            "example": {"x": [-0.1], "t": [-1]},
        }
    )
    # one output: y = 1, t = -1, t y = -1 < 1: E = 1 - (-1)(1) = 2
    assert abs(evaluation.steps[0].loss - 2) < sp.Float("1e-55")
