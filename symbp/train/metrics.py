"""Scores of predictions ``Y`` against targets ``T`` (both ``(n, outputs)``), computed
by :mod:`sklearn.metrics`.

* The predicted class: with several outputs ``argmax_i y_i`` (the true one
  ``argmax_i t_i`` of one-hot targets); with one output the threshold is 0.5 for 0/1
  targets and 0 for −1/+1 targets (hinge).
* Class probabilities (for the log-loss): several outputs clipped at 0 and rescaled to
  sum to 1 (softmax outputs are unchanged); one output ``p`` (``(y + 1) / 2`` for
  −1/+1 targets) clipped to [0, 1] gives ``(1 − p, p)``. The estimators'
  ``predict_proba`` is the same.
* Classification reports accuracy, macro-averaged F1, log-loss and the confusion
  matrix (rows: true class, columns: predicted class, in output order); regression
  MSE, MAE (both means over examples and outputs) and R² (averaged over outputs).
  These are scores, independent of the spec's loss and its scaling.

scikit-learn is imported on first use, so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def predicted_index(Y: np.ndarray, *, sign: bool = False) -> np.ndarray:
    """The predicted class index per example (``(n,)``)."""
    Y = np.asarray(Y)
    if Y.shape[1] > 1:
        return np.argmax(Y, axis=1)
    return (Y[:, 0] > 0 if sign else Y[:, 0] >= 0.5).astype(np.int64)


def probabilities(Y: np.ndarray, *, sign: bool = False) -> np.ndarray:
    """Class probabilities ``(n, classes)`` from the outputs (see the module docstring)."""
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape[1] == 1:
        p = (Y[:, 0] + 1) / 2 if sign else Y[:, 0]
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1 - p, p])
    Y = np.clip(Y, 0.0, None)
    total = Y.sum(axis=1, keepdims=True)
    return np.divide(Y, total, out=np.full_like(Y, 1 / Y.shape[1]), where=total > 0)


def accuracy(Y: np.ndarray, T: np.ndarray, *, sign: bool = False) -> float:
    """The fraction of examples whose predicted class is the target class."""
    if len(T) == 0:
        return float("nan")
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(predicted_index(T, sign=sign), predicted_index(Y, sign=sign)))


def mse(Y: np.ndarray, T: np.ndarray) -> float:
    """Mean squared error over examples and outputs."""
    if len(T) == 0:
        return float("nan")
    from sklearn.metrics import mean_squared_error

    return float(mean_squared_error(np.asarray(T), np.asarray(Y)))


def score_name(task: str) -> str:
    """``"accuracy"`` for classification, ``"mse"`` for regression."""
    return "accuracy" if task == "classification" else "mse"


def score(task: str, Y: np.ndarray, T: np.ndarray, *, sign: bool = False) -> float:
    """Accuracy (classification) or MSE (regression)."""
    return accuracy(Y, T, sign=sign) if task == "classification" else mse(Y, T)


def report_names(task: str) -> tuple[str, ...]:
    """The names :func:`report` gives for ``task`` (in its order)."""
    if task == "classification":
        return ("accuracy", "f1", "log_loss", "confusion_matrix")
    return ("mse", "mae", "r2")


def report(task: str, Y: np.ndarray, T: np.ndarray, *, sign: bool = False) -> dict[str, Any]:
    """Every score of ``task`` (:func:`report_names`), NaN (an empty matrix) without rows.

    ``confusion_matrix`` is a list of lists of ints; the others are floats.
    """
    if len(T) == 0:
        return {
            name: ([] if name == "confusion_matrix" else math.nan) for name in report_names(task)
        }
    from sklearn import metrics as sk

    Y, T = np.asarray(Y, dtype=np.float64), np.asarray(T, dtype=np.float64)
    if task != "classification":
        return {
            "mse": float(sk.mean_squared_error(T, Y)),
            "mae": float(sk.mean_absolute_error(T, Y)),
            "r2": float(sk.r2_score(T, Y)) if len(T) > 1 else math.nan,
        }
    truth, predicted = predicted_index(T, sign=sign), predicted_index(Y, sign=sign)
    labels = np.arange(max(Y.shape[1], 2))
    return {
        "accuracy": float(sk.accuracy_score(truth, predicted)),
        "f1": float(sk.f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        "log_loss": float(sk.log_loss(truth, probabilities(Y, sign=sign), labels=labels)),
        "confusion_matrix": sk.confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


def fmt(value: float) -> str:
    """A metric for people: 4 decimals in [0.001, 10⁴), else 4 significant digits."""
    return f"{value:.4f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"
