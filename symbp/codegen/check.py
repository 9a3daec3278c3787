"""Cross-checks of a compiled trainer: exact symbolic values and finite differences.

These are the references the tests compare kernels with, and they are useful to
anyone who changes a template:

- :func:`exact_run`: the exact evaluator's trajectory (full-batch steps over the spec's
  examples) as float64 arrays;
- :func:`finite_differences`: central differences of ``E`` with respect to every
  parameter (float64 trainers);
- :func:`relative_error`: the largest ``|a - b|`` over a set of arrays, relative to the
  largest ``|b|`` among them (a scale for the whole gradient, so that a component that
  cancels to almost 0 is not judged on its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..spec import Spec
from ..symbolic.evaluate import evaluate
from .trainer import Trainer

Arrays = list[np.ndarray]


def _array(values: object) -> np.ndarray:
    return np.array(values, dtype=object).astype(float)


def examples_arrays(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """The spec's examples as ``X`` (n, layers[0]) and ``T`` (n, layers[-1]) float64."""
    X = np.array([[float(v) for v in ex.x] for ex in spec.examples], dtype=float)
    T = np.array([[float(v) for v in ex.t] for ex in spec.examples], dtype=float)
    return X, T


@dataclass(frozen=True)
class ExactRun:
    """``steps + 1`` records of the exact evaluator, as float64 arrays."""

    losses: np.ndarray
    W: list[Arrays]
    b: list[Arrays]
    grad_W: list[Arrays]
    grad_b: list[Arrays]


def exact_run(spec: Spec, steps: int) -> ExactRun:
    """The exact evaluation of ``spec`` over ``steps`` full-batch updates."""
    run = evaluate(spec, steps=steps)
    return ExactRun(
        losses=np.array([float(s.loss) for s in run.steps]),
        W=[[_array(m) for m in s.W] for s in run.steps],
        b=[[_array(v) for v in s.b] for s in run.steps],
        grad_W=[[_array(m) for m in s.grad_W] for s in run.steps],
        grad_b=[[_array(v) for v in s.grad_b] for s in run.steps],
    )


def finite_differences(
    trainer: Trainer, X: np.ndarray, T: np.ndarray, h: float = 1e-6
) -> tuple[Arrays, Arrays]:
    """Central differences ``(E(θ + h) - E(θ - h)) / 2h`` for every parameter."""
    W, b = trainer.params
    base = ([w.astype(float) for w in W], [v.astype(float) for v in b])
    out_W = [np.zeros_like(w) for w in base[0]]
    out_b = [np.zeros_like(v) for v in base[1]]
    try:
        for arrays, outs, kind in ((base[0], out_W, 0), (base[1], out_b, 1)):
            for l, arr in enumerate(arrays):
                for index in np.ndindex(arr.shape):
                    values = []
                    for sign in (1, -1):
                        moved = ([w.copy() for w in base[0]], [v.copy() for v in base[1]])
                        moved[kind][l][index] += sign * h
                        trainer.params = moved
                        values.append(trainer.loss(X, T))
                    outs[l][index] = (values[0] - values[1]) / (2 * h)
    finally:
        trainer.params = base
    return out_W, out_b


def relative_error(
    actual: Sequence[np.ndarray], expected: Sequence[np.ndarray], floor: float = 1e-30
) -> float:
    """``max |actual - expected|`` over all arrays, divided by ``max |expected|``.

    The scale is at least ``floor``: a gradient that is 0 in exact arithmetic comes out
    of the 60-digit evaluator as noise of about 1e-60, which is no scale to judge by.
    """
    if len(actual) != len(expected):
        raise ValueError(f"{len(actual)} arrays against {len(expected)}")
    scale = max((float(np.max(np.abs(e))) for e in expected if e.size), default=0.0)
    scale = max(scale, floor)
    worst = 0.0
    for a, e in zip(actual, expected, strict=True):
        if a.shape != e.shape:
            raise ValueError(f"shape {a.shape} against {e.shape}")
        if a.size:
            worst = max(worst, float(np.max(np.abs(a.astype(float) - e))))
    return worst / scale
