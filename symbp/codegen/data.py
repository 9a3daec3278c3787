"""Checks of training data against a spec, before any kernel runs.

``X`` must be a 2-D array of numbers with ``layers[0]`` columns; ``T`` one row per
example with ``layers[-1]`` columns (a 1-D array is accepted as one column when the
network has one output, and as integer class labels, turned into one-hot rows, when it
has several). Everything must be finite, and targets must lie in the loss's domain
(``[0, 1]`` for bce and cross-entropy, ``-1`` or ``1`` for hinge). Every problem is a
one-line :class:`~symbp.errors.DataError` naming the array, the row and what was
expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from ..ops.losses import LOSSES
from ..spec import Spec


def _numeric(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise DataError(
            f"expected an array of numbers, found {type(value).__name__} ({err})", field=name
        ) from None
    if arr.dtype.kind not in "iuf":
        raise DataError(
            f"expected an array of numbers, found dtype {arr.dtype} (convert it with "
            f"np.asarray({name}, dtype=float))",
            field=name,
        )
    return arr


def _finite(arr: np.ndarray, name: str) -> None:
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(arr, axis=None)):  # one pass, no temporary array
            return
    bad = ~np.isfinite(arr)  # a NaN/Inf, or a sum that overflowed: look element by element
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"row {row}, column {col} holds {arr[row, col]}; values must be finite "
            f"(no NaN or Inf){' in this dtype' if arr.dtype == np.float32 else ''}",
            field=name,
        )


def check_inputs(X: Any, spec: Spec, dtype: str) -> np.ndarray:
    """``X`` as a C-contiguous ``(n, layers[0])`` array of ``dtype``; for a network on
    feature maps ``(C, H, W)`` also ``(n, C, H, W)``, taken in ``(c, i, j)`` order."""
    arr = _numeric(X, "X")
    n_in = spec.layers[0]
    maps = tuple(spec.input_shape)
    if len(maps) == 3 and arr.ndim == 4:
        if arr.shape[1:] != maps:
            raise DataError(
                f"expected examples of shape {maps} (the spec's input), found {arr.shape[1:]}",
                field="X",
            )
        arr = arr.reshape(arr.shape[0], n_in)
    if arr.ndim != 2:
        raise DataError(
            f"expected a 2-D array of shape (n, {n_in}), found shape {arr.shape}"
            + (" (one example? use X.reshape(1, -1))" if arr.ndim == 1 else ""),
            field="X",
        )
    if arr.shape[1] != n_in:
        raise DataError(
            f"expected {n_in} columns (layers[0] of the spec), found {arr.shape[1]}", field="X"
        )
    if arr.shape[0] == 0:
        raise DataError("expected at least one example, found 0 rows", field="X")
    out = np.ascontiguousarray(arr, dtype=dtype)
    _finite(out, "X")
    return out


def check_targets(T: Any, spec: Spec, n: int, dtype: str) -> np.ndarray:
    """``T`` as a C-contiguous ``(n, layers[-1])`` array of ``dtype``, in the loss's domain."""
    arr = _numeric(T, "T")
    n_out = spec.layers[-1]
    if arr.ndim == 1 and n_out > 1 and arr.dtype.kind in "iu":
        bad = (arr < 0) | (arr >= n_out)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"class label {arr[row]} in row {row} is out of range 0..{n_out - 1} "
                f"(the network has {n_out} outputs)",
                field="T",
            )
        arr = np.eye(n_out, dtype=dtype)[arr]
    elif arr.ndim == 1 and n_out == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n_out:
        raise DataError(
            f"expected shape ({n}, {n_out}) (layers[-1] = {n_out} outputs), found {arr.shape}"
            + (
                "; for class labels pass a 1-D integer array" if arr.ndim == 1 and n_out > 1 else ""
            ),
            field="T",
        )
    if arr.shape[0] != n:
        raise DataError(f"expected {n} rows (one per row of X), found {arr.shape[0]}", field="T")
    out = np.ascontiguousarray(arr, dtype=dtype)
    _finite(out, "T")
    domain = spec.loss.target_domain
    if domain == "unit_interval":
        bad = (out < 0) | (out > 1)
        what = "targets in [0, 1]"
    elif domain == "sign":
        bad = (out != 1) & (out != -1)
        what = "targets -1 or 1"
    else:
        return out
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        hint = (
            f" (to train on others: loss: {{name: {spec.loss.name}, soft_targets: true}})"
            if "soft_targets" in LOSSES.get(spec.loss.name, (None, ()))[1]
            else ""
        )
        raise DataError(
            f"loss {spec.loss.name} needs {what}; row {row}, column {col} holds "
            f"{out[row, col]}{hint}",
            field="T",
        )
    return out


def check_weights(weights: Any, n: int) -> np.ndarray | None:
    """Per-row weights as a C-contiguous float64 ``(n,)`` array (``None`` stays ``None``).

    Every weight must be finite and positive: the weighted mean ``Σ wᵢ Lᵢ / Σ wᵢ`` of
    a batch needs a positive total, and a row of weight 0 is a row left out (leave it
    out of ``X``, as the estimators do).
    """
    if weights is None:
        return None
    arr = _numeric(weights, "sample_weight")
    if arr.ndim != 1 or arr.shape[0] != n:
        raise DataError(
            f"expected shape ({n},) (one weight per row of X), found {arr.shape}",
            field="sample_weight",
        )
    out = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(out) | (out <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"row {row} holds {out[row]}; weights must be finite and > 0 "
            "(leave a row of weight 0 out of X)",
            field="sample_weight",
        )
    return out
