"""The run directory: every output of one training run, each written atomically.

==========================  ===================================================
``params.npz``              ``W_1 … W_L``, ``b_1 … b_L`` (textbook layers, ``W_l`` is spec
                            ``W[l-1]``, shape ``(n_l, n_{l-1})``); ``x_mean``/``x_scale``
                            when inputs were standardised; ``classes`` in output order;
                            the spec, optimiser state and counters of a saved trainer
                            (:mod:`symbp.codegen.persist`), so the folder is one
``metrics.csv``             one row per epoch (epoch 0 = before training): loss, score and
                            gradient norms on train/validation
``metrics.json``            the same rows, the per-iteration batch losses, the test scores and
                            the run's settings and summary line
``sensitivity.csv``         mean |∂ŷ/∂x_k| per input feature, overall and per output
``loss.png``                loss curves
``accuracy.png|mse.png``    score curves
``gradient_norms.png``      per-layer gradient norms over training
``feature_sensitivity.png`` the sensitivity bars
``.symbp-manifest.json``    what symbp wrote here and ``"complete"``: false from before
                            the first epoch until the last file is in place (the folder
                            is locked meanwhile; :mod:`symbp.outputs.folder`)
==========================  ===================================================
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..escape import csv_cell
from ..fileio import write_atomic
from ..symbolic.notation import code_name


def run_files(score: str, *, plots: bool = True, sensitivity: bool = True) -> list[str]:
    """The names of the files of a run folder, in the order they are written (``score``:
    ``accuracy`` or ``mse``; ``sensitivity``: the input sensitivity files, which only
    networks of dense layers have so far). Besides them the folder holds symbp's manifest
    (:mod:`symbp.outputs.folder`), which says ``"complete": true`` once all are in place."""
    names = ["params.npz", "metrics.csv", "metrics.json"]
    names += ["sensitivity.csv"] if sensitivity else []
    if plots:
        names += ["loss.png", f"{score}.png", "gradient_norms.png"]
        names += ["feature_sensitivity.png"] if sensitivity else []
    return names


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def params_npz(
    W: Sequence[np.ndarray],
    b: Sequence[np.ndarray],
    *,
    mean: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    classes: np.ndarray | None = None,
    trainer: Any = None,
) -> bytes:
    """The parameters (and the input transform) as ``.npz`` bytes.

    With ``trainer`` the file is also a saved trainer (:mod:`symbp.codegen.persist`:
    the spec, the optimiser state, the schedule's position), which
    :func:`symbp.load_trainer`, ``symbp train --init-from`` and ``symbp export-spec``
    read.
    """
    arrays: dict[str, np.ndarray] = {}
    if trainer is not None:
        from ..codegen.persist import trainer_arrays

        arrays.update(trainer_arrays(trainer))
    for l, (w, bias) in enumerate(zip(W, b, strict=True), start=1):
        if w is None:  # a layer without parameters (pool, flatten)
            continue
        arrays[code_name("W", l)] = np.asarray(w)
        arrays[code_name("b", l)] = np.asarray(bias)
    if mean is not None and scale is not None:
        arrays["x_mean"] = np.asarray(mean)
        arrays["x_scale"] = np.asarray(scale)
    if classes is not None:
        arrays["classes"] = np.asarray(classes).astype(str)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def load_params(path: str | Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Read ``W`` and ``b`` (spec order, 0-based lists) back from a ``params.npz``."""
    with np.load(path, allow_pickle=False) as archive:
        depth = sum(1 for key in archive.files if key.startswith("W_"))
        W = [archive[code_name("W", l)] for l in range(1, depth + 1)]
        b = [archive[code_name("b", l)] for l in range(1, depth + 1)]
    return W, b


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The per-epoch rows as CSV (columns in first-row order; NaN as empty)."""
    if not rows:
        return ""
    buf = io.StringIO()
    fields = list(rows[0])
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in fields})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return value


def sensitivity_csv(
    names: Sequence[str],
    per_feature: np.ndarray,
    per_output: np.ndarray,
    output_names: Sequence[str],
) -> str:
    """One row per feature: overall mean |∂ŷ/∂x| and one column per output.

    Feature and class names come from the data: each is a :func:`~symbp.escape.csv_cell`.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["feature", "mean_abs_dy_dx", *[csv_cell(f"dy_{o}") for o in output_names]])
    for k, name in enumerate(names):
        values = [repr(float(per_feature[k])), *map(repr, per_output[:, k].tolist())]
        writer.writerow([csv_cell(name), *values])
    return buf.getvalue()


def json_text(payload: Mapping[str, Any]) -> str:
    """``payload`` as JSON text (arrays as lists, NaN and infinity as ``null``)."""
    return json.dumps(_clean(payload), indent=1) + "\n"


def write_json(path: Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as JSON (NaN and infinity as ``null``)."""
    return write_atomic(path, json_text(payload))
