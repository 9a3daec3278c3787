"""A saved run's arrays checked before use: a hand-edited ``params.npz`` is one line.

``symbp export-spec``, ``symbp train --init-from`` and :func:`symbp.load_trainer`
read the arrays of a ``params.npz`` (or a trainer's ``.npz``). Before any of them is
used, :func:`check_saved` checks every array it will read:

* ``W_1 .. W_L`` and ``b_1 .. b_L`` exist for the network's ``L`` layers (no more,
  no fewer), are real numbers (float or integer, not bool, complex, text or object
  arrays), have the shapes ``(layers[l], layers[l-1])`` and ``(layers[l],)``, and
  hold finite values;
* ``spec`` and ``dtype`` (where stored) are one text each, ``dtype`` ``float64`` or
  ``float32``; ``state_names`` is a list of texts; ``counters`` holds at least two
  whole numbers >= 0 (epochs and steps done).

Each problem is a :class:`~symbp.errors.DataError` naming the file and the array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import DataError
from ..symbolic.notation import code_name

DTYPES = ("float64", "float32")


def _fail(source: str, message: str) -> DataError:
    return DataError(message, file=source)


def _text(arrays: Mapping[str, np.ndarray], key: str, source: str) -> None:
    if key in arrays and (arrays[key].shape != () or arrays[key].dtype.kind != "U"):
        raise _fail(source, f"array {key} must be one text; found {_described(arrays[key])}")


def _described(array: np.ndarray) -> str:
    return f"{array.dtype} of shape {array.shape}"


def check_meta(arrays: Mapping[str, np.ndarray], source: str) -> None:
    """The arrays other than the parameters: ``spec``, ``dtype``, ``state_names``, ``counters``."""
    _text(arrays, "spec", source)
    _text(arrays, "dtype", source)
    if "dtype" in arrays and str(arrays["dtype"]) not in DTYPES:
        raise _fail(
            source, f"array dtype must be float64 or float32; found {str(arrays['dtype'])[:20]!r}"
        )
    names = arrays.get("state_names")
    if names is not None and (names.ndim != 1 or (names.size and names.dtype.kind != "U")):
        raise _fail(source, f"array state_names must be a list of texts; found {_described(names)}")
    counters = arrays.get("counters")
    if counters is not None and (
        counters.ndim != 1
        or counters.shape[0] < 2
        or counters.dtype.kind not in "iu"
        or bool((counters < 0).any())
    ):
        raise _fail(
            source,
            "array counters must hold the whole numbers >= 0 of epochs and steps done; "
            f"found {_described(counters)}",
        )


def check_saved(
    arrays: Mapping[str, np.ndarray],
    layers: Sequence[int],
    source: str,
    shapes: Sequence[Mapping[str, tuple[int, ...]]] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(W, b)`` of a saved network of sizes ``layers``, every array checked (module doc).

    ``shapes``: each layer's parameter shapes (``{"W": …, "b": …}``, ``{}`` for a layer
    without parameters, which has no arrays), for a network other than dense layers;
    by default ``(layers[l], layers[l-1])`` and ``(layers[l],)``."""
    check_meta(arrays, source)
    depth = len(layers) - 1
    if shapes is None:
        shapes = [{"W": (layers[l], layers[l - 1]), "b": (layers[l],)} for l in range(1, depth + 1)]
    extra = code_name("W", depth + 1)
    if extra in arrays:
        raise _fail(source, f"array {extra} is one layer too many for layers {list(layers)}")
    out: dict[str, list[np.ndarray]] = {"W": [], "b": []}
    for l in range(1, depth + 1):
        for kind, shape in shapes[l - 1].items():
            key = code_name(kind, l)
            if key not in arrays:
                raise _fail(
                    source,
                    f"missing array {key} (layers {list(layers)} need W_1..W_{depth}, "
                    f"b_1..b_{depth})",
                )
            array = arrays[key]
            if array.dtype.kind not in "fiu":
                raise _fail(
                    source, f"array {key} must hold real numbers; found {_described(array)}"
                )
            if array.shape != shape:
                raise _fail(
                    source,
                    f"array {key} must have shape {shape} for layers {list(layers)}; "
                    f"found {_described(array)}",
                )
            values = array.astype(np.float64)
            if not np.isfinite(values).all():
                raise _fail(source, f"array {key} holds NaN or infinite values")
            out.setdefault(kind, []).append(values)  # a recurrent layer's U too
    return out["W"], out["b"]


__all__ = ["DTYPES", "check_meta", "check_saved"]
