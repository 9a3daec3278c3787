"""The spec's ``preprocessing`` field: what turns raw inputs into the network's inputs
and the network's outputs into class labels.

::

    preprocessing:
      standardize:              # scikit-learn's StandardScaler state, fitted on the training split
        mean: [0.0, 0.30, ...]  # layers[0] numbers
        scale: [1.0, 0.89, ...] # layers[0] positive numbers: x' = (x - mean) / scale
        var: [0.0, 0.79, ...]   # optional: the variances (scale is sqrt(var), 1 where var is 0)
        n_samples_seen: 1257    # optional: the rows it was fitted on
      labels: [0, 1, 2, ...]    # the class of each output unit (whole numbers or texts)

``labels`` gives one label per output unit (the predicted class is the unit with the
largest output), or, for a one-unit output layer, two labels: the first below the
threshold, the second at or above it (0.5, or 0 for a loss whose targets are signs).

The field is part of the trained model, not of the network: documents, the exact
evaluator and the generated kernels never see it (:func:`network_spec`), and a
:class:`~symbp.codegen.trainer.Trainer` applies it to every input it is given and
to :meth:`~symbp.codegen.trainer.Trainer.predict_classes`. Numbers are kept as float64
values; a spec writes each as the shortest decimal that reads back as exactly that
float.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..limits import MAX_CELL_CHARS, decimal_fraction
from .schema import to_fraction, to_int

if TYPE_CHECKING:
    import numpy as np

    from .fields import FieldContext
    from .model import Spec

Label = int | str


@dataclass(frozen=True)
class Standardize:
    """``x' = (x - mean) / scale`` per input feature (scikit-learn's ``StandardScaler``
    state: ``mean_``, ``scale_``, ``var_``, ``n_samples_seen_``)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    var: tuple[float, ...] | None = None
    n_samples_seen: int | None = None


@dataclass(frozen=True)
class Preprocessing:
    """The input standardisation and the output labels of a trained model (either may
    be ``None``)."""

    standardize: Standardize | None = None
    labels: tuple[Label, ...] | None = None

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``X`` (float64) standardised; unchanged without a standardisation."""
        import numpy as np

        X = np.asarray(X, dtype=np.float64)
        s = self.standardize
        if s is None:
            return X
        return (X - np.asarray(s.mean)) / np.asarray(s.scale)

    def scaler(self) -> Any:
        """The standardisation as a fitted ``sklearn.preprocessing.StandardScaler``
        (``None`` without one); its ``transform`` is :meth:`transform`'s arithmetic."""
        import numpy as np
        from sklearn.preprocessing import StandardScaler

        s = self.standardize
        if s is None:
            return None
        scaler = StandardScaler()
        scaler.mean_ = np.asarray(s.mean)
        scaler.scale_ = np.asarray(s.scale)
        scaler.var_ = np.asarray(s.var if s.var is not None else np.square(s.scale))
        scaler.n_samples_seen_ = s.n_samples_seen if s.n_samples_seen is not None else 0
        scaler.n_features_in_ = len(s.mean)
        return scaler


def network_spec(spec: Spec) -> Spec:
    """``spec`` without its preprocessing: the network the kernels and documents see."""
    if getattr(spec, "preprocessing", None) is None:
        return spec
    return dataclasses.replace(spec, preprocessing=None)


def with_preprocessing(spec: Spec, preprocessing: Preprocessing | None) -> Spec:
    """``spec`` carrying ``preprocessing`` (checked against its layers)."""
    if preprocessing is not None:
        check(preprocessing, spec)
    return dataclasses.replace(spec, preprocessing=preprocessing)


def from_arrays(
    mean: Any = None,
    scale: Any = None,
    labels: Any = None,
    *,
    var: Any = None,
    n_samples_seen: int | None = None,
) -> Preprocessing | None:
    """A :class:`Preprocessing` from arrays (``None`` when all are absent); the label
    array's whole numbers stay whole numbers, anything else becomes text."""
    import numpy as np

    standardize = None
    if mean is not None and scale is not None:
        standardize = Standardize(
            tuple(float(v) for v in np.asarray(mean, dtype=np.float64).ravel()),
            tuple(float(v) for v in np.asarray(scale, dtype=np.float64).ravel()),
            None if var is None else tuple(float(v) for v in np.asarray(var).ravel()),
            None if n_samples_seen is None else int(n_samples_seen),
        )
    out: tuple[Label, ...] | None = None
    if labels is not None:
        arr = np.asarray(labels).ravel()
        whole = arr.dtype.kind in "iu"
        out = tuple(int(v) if whole else str(v) for v in arr)
    if standardize is None and out is None:
        return None
    return Preprocessing(standardize, out)


def _exact(value: float) -> Fraction:
    return decimal_fraction(repr(float(value)))


def to_data(pre: Preprocessing) -> dict[str, Any]:
    """The field's data (exact decimals of the float64 values), as :func:`build` reads it."""
    data: dict[str, Any] = {}
    s = pre.standardize
    if s is not None:
        block: dict[str, Any] = {
            "mean": [_exact(v) for v in s.mean],
            "scale": [_exact(v) for v in s.scale],
        }
        if s.var is not None:
            block["var"] = [_exact(v) for v in s.var]
        if s.n_samples_seen is not None:
            block["n_samples_seen"] = s.n_samples_seen
        data["standardize"] = block
    if pre.labels is not None:
        data["labels"] = list(pre.labels)
    return data


class _Invalid(ValueError):
    def __init__(self, path: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.path = tuple(path)


def _numbers(value: Any, path: tuple[str | int, ...], n: int, least: str) -> tuple[float, ...]:
    """``n`` finite numbers; ``least`` is ``"any"``, ``"positive"`` or ``"non-negative"``."""
    if not isinstance(value, (list, tuple)):
        raise _Invalid(path, f"expected a list of {n} numbers, found {type(value).__name__}")
    if len(value) != n:
        raise _Invalid(path, f"expected {n} numbers (one per input feature), found {len(value)}")
    out = []
    for i, item in enumerate(value):
        try:
            number = float(to_fraction(item))
        except (ValueError, OverflowError) as err:
            raise _Invalid((*path, i), str(err)) from None
        if (least == "positive" and not number > 0) or (least == "non-negative" and number < 0):
            raise _Invalid((*path, i), f"expected a {least} number, found {number!r}")
        out.append(number)
    return tuple(out)


def _standardize(value: Any, n_in: int) -> Standardize:
    path: tuple[str | int, ...] = ("preprocessing", "standardize")
    if not isinstance(value, Mapping):
        raise _Invalid(
            path, f"expected a mapping with mean and scale, found {type(value).__name__}"
        )
    allowed = ("mean", "scale", "var", "n_samples_seen")
    for key in value:
        if key not in allowed:
            raise _Invalid(
                (*path, str(key)), f"unknown field; expected one of {', '.join(allowed)}"
            )
    for key in ("mean", "scale"):
        if key not in value:
            raise _Invalid((*path, key), "required field is missing")
    mean = _numbers(value["mean"], (*path, "mean"), n_in, "any")
    scale = _numbers(value["scale"], (*path, "scale"), n_in, "positive")
    var = (
        None
        if value.get("var") is None
        else _numbers(value["var"], (*path, "var"), n_in, "non-negative")
    )
    seen = value.get("n_samples_seen")
    if seen is not None:
        try:
            seen = to_int(seen)
        except ValueError as err:
            raise _Invalid((*path, "n_samples_seen"), str(err)) from None
        if seen < 1:
            raise _Invalid((*path, "n_samples_seen"), f"expected a count >= 1, found {seen}")
    return Standardize(mean, scale, var, seen)


def _labels(value: Any, n_out: int) -> tuple[Label, ...]:
    path: tuple[str | int, ...] = ("preprocessing", "labels")
    wanted = n_out if n_out > 1 else 2
    if not isinstance(value, (list, tuple)):
        raise _Invalid(path, f"expected a list of {wanted} labels, found {type(value).__name__}")
    if len(value) != wanted:
        what = "one per output unit" if n_out > 1 else "two for a one-unit output layer"
        raise _Invalid(path, f"expected {wanted} labels ({what}), found {len(value)}")
    out: list[Label] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            if not item or len(item) > MAX_CELL_CHARS:
                raise _Invalid(
                    (*path, i),
                    f"expected a label of 1 to {MAX_CELL_CHARS} characters, found {len(item)}",
                )
            out.append(item)
            continue
        try:
            out.append(to_int(item))
        except ValueError:
            raise _Invalid((*path, i), "expected a whole number or a text label") from None
    if len({type(v) for v in out}) > 1:
        raise _Invalid(path, "expected labels all whole numbers or all texts, found both")
    if len(set(out)) != len(out):
        raise _Invalid(path, "expected distinct labels, found one twice")
    return tuple(out)


def check(pre: Preprocessing, spec: Spec) -> None:
    """Raise :class:`~symbp.errors.SpecError` when ``pre`` does not fit ``spec``'s layers."""
    build(to_data(pre), spec.layers, None)


def build(value: Any, layers: tuple[int, ...], ctx: FieldContext | None) -> Preprocessing | None:
    """The ``preprocessing`` field, validated against the layer sizes (``None`` when empty)."""
    from ..errors import SpecError

    try:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise _Invalid(("preprocessing",), f"expected a mapping, found {type(value).__name__}")
        for key in value:
            if key not in ("standardize", "labels"):
                raise _Invalid(
                    ("preprocessing", str(key)), "unknown field; expected standardize, labels"
                )
        standardize = (
            None
            if value.get("standardize") is None
            else _standardize(value["standardize"], layers[0])
        )
        labels = None if value.get("labels") is None else _labels(value["labels"], layers[-1])
    except _Invalid as err:
        if ctx is not None:
            raise ctx.error(err.path, str(err)) from None
        from ..yamlio import format_path

        raise SpecError(str(err), field=format_path(err.path)) from None
    if standardize is None and labels is None:
        return None
    return Preprocessing(standardize, labels)
