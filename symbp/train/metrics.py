"""Scores of predictions ``Y`` against targets ``T`` (both ``(n, outputs)``).

* Accuracy (classification): with several outputs the predicted class is
  ``argmax_i y_i`` and the true one ``argmax_i t_i`` (one-hot targets); with one
  output the threshold is 0.5 for 0/1 targets and 0 for −1/+1 targets (hinge).
* MSE (regression): ``(1/(n·k)) Σ_e Σ_i (y_ei − t_ei)²``, the mean over examples
  and outputs — a score, independent of the spec's loss and its scaling.
"""

from __future__ import annotations

import numpy as np


def predicted_index(Y: np.ndarray, *, sign: bool = False) -> np.ndarray:
    """The predicted class index per example (``(n,)``)."""
    Y = np.asarray(Y)
    if Y.shape[1] > 1:
        return np.argmax(Y, axis=1)
    return (Y[:, 0] > 0 if sign else Y[:, 0] >= 0.5).astype(np.int64)


def accuracy(Y: np.ndarray, T: np.ndarray, *, sign: bool = False) -> float:
    """The fraction of examples whose predicted class is the target class."""
    if len(T) == 0:
        return float("nan")
    return float(np.mean(predicted_index(Y, sign=sign) == predicted_index(T, sign=sign)))


def mse(Y: np.ndarray, T: np.ndarray) -> float:
    """Mean squared error over examples and outputs."""
    if len(T) == 0:
        return float("nan")
    return float(np.mean((np.asarray(Y) - np.asarray(T)) ** 2))


def score_name(task: str) -> str:
    """``"accuracy"`` for classification, ``"mse"`` for regression."""
    return "accuracy" if task == "classification" else "mse"


def score(task: str, Y: np.ndarray, T: np.ndarray, *, sign: bool = False) -> float:
    """Accuracy (classification) or MSE (regression)."""
    return accuracy(Y, T, sign=sign) if task == "classification" else mse(Y, T)


def fmt(value: float) -> str:
    """A metric for people: 4 decimals in [0.001, 10⁴), else 4 significant digits."""
    return f"{value:.4f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"
