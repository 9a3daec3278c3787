"""Fit a :class:`~symbp.train.data.Dataset` to a spec: encode, split, standardise.

* Feature count must equal the spec's input layer ``layers[0]``.
* Class labels become targets by one-hot encoding (one output unit per class,
  classes in sorted order) or, for a one-unit output layer, a single 0/1 column
  (two classes only). A loss whose targets are signs (``hinge``) gets −1/+1
  instead of 0/1. ``one_hot=None`` chooses: one-hot when the output layer has
  more than one unit.
* Targets are checked against the loss's target domain (``bce`` and
  ``cross_entropy`` need ``[0, 1]``, ``hinge`` needs −1 or 1).
* The split is seeded: test first, then validation from the rest, stratified by
  class where every class has enough examples; each holds ``floor(f·n + ½)`` of
  the ``n`` examples (iris, 0.15: 23), the training split the rest.
* Standardisation (``x' = (x − mean) / std``, std 0 taken as 1) is fitted on the
  training split only and applied to all three.

* :func:`spec_for_data` fits the spec to the data first: a target column of whole
  numbers becomes class labels when the spec's output activation is softmax or the
  caller asks (``classes=True``, ``symbp train --classes``), and open sizes
  (``layers: [null, …, null]``, :mod:`symbp.spec.sizing`) are filled: the input from
  the features, the output from the classes (one unit each; one unit for two classes
  when the output is neither softmax nor trained by cross-entropy, unless ``one_hot``)
  or the target columns.

Mismatches raise :class:`~symbp.errors.DataError`: what the data has, what the
spec expects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ..spec import Spec
from ..spec.loader import build
from ..spec.sizing import SpecSource, open_sizes, spec_source, with_sizes
from .data import Dataset
from .sequences import columns_in, columns_out

#: Losses whose networks are scored by accuracy rather than MSE.
CLASSIFICATION_LOSSES = frozenset({"bce", "cross_entropy", "hinge"})


@dataclass(frozen=True)
class Split:
    """One split: inputs ``X`` ``(n, layers[0])`` and targets ``T`` ``(n, layers[-1])``."""

    X: np.ndarray
    T: np.ndarray

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass(frozen=True)
class Prepared:
    """Data ready for a spec's trainer.

    ``task`` is ``"classification"`` (scored by accuracy) or ``"regression"``
    (scored by MSE). ``classes`` are the labels in output order (``None`` for
    real targets). ``mean``/``scale`` are the standardisation (``None`` if off),
    ``var`` the training split's variances (scikit-learn's ``var_``).
    """

    name: str
    train: Split
    val: Split
    test: Split
    task: str
    classes: np.ndarray | None
    feature_names: tuple[str, ...]
    mean: np.ndarray | None
    scale: np.ndarray | None
    sign_targets: bool
    var: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return int(self.train.X.shape[1])

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply the training split's standardisation to new inputs."""
        X = np.asarray(X, dtype=np.float64)
        return X if self.mean is None else (X - self.mean) / self.scale


def encode_targets(
    y: np.ndarray,
    classes: np.ndarray,
    n_out: int,
    *,
    one_hot: bool,
    sign: bool,
) -> np.ndarray:
    """Class labels ``y`` ``(n,)`` → targets ``(n, n_out)`` (one-hot, or one 0/1 column)."""
    index = np.searchsorted(classes, y)
    low = -1.0 if sign else 0.0
    if one_hot:
        T = np.full((len(y), len(classes)), low)
        T[np.arange(len(y)), index] = 1.0
        return T
    return np.where(index == 1, 1.0, low).reshape(-1, 1)


def _name(item: Any) -> Any:
    return item.get("name") if isinstance(item, Mapping) else item


def output_activation(data: Mapping[str, Any]) -> Any:
    """The name of the output activation in raw spec ``data`` (a formula: ``None``)."""
    activations = data.get("activations", "sigmoid")
    if isinstance(activations, list):
        activations = activations[-1] if activations else None
    return _name(activations)


def class_units(data: Mapping[str, Any], n_classes: int, one_hot: bool | None = None) -> int:
    """Output units for ``n_classes`` classes under raw spec ``data`` (open output size).

    One per class; one for two classes when ``one_hot`` is not asked and the output
    is neither softmax nor trained by cross-entropy (a 0/1, or −1/+1, unit).
    """
    single = output_activation(data) != "softmax" and _name(data.get("loss")) != "cross_entropy"
    if n_classes == 2 and single and not one_hot:
        return 1
    return n_classes


def spec_for_data(
    source: SpecSource, data: Dataset, *, classes: bool = False, one_hot: bool | None = None
) -> tuple[Spec, Dataset]:
    """The spec for ``data`` (open sizes filled) and the data (integer labels as classes).

    ``classes`` asks for a whole-number target column to be class labels (it is
    anyway when the spec's output is softmax); a target that is not such a column is
    then a :class:`~symbp.errors.DataError`.
    """
    raw, lines, file = spec_source(source)
    if not isinstance(raw, Mapping):
        return build(raw, lines=lines, file=file), data  # type: ignore[arg-type]
    if classes or (output_activation(raw) == "softmax" and data.integer_targets):
        data = data.as_labels()
    open_in, open_out = open_sizes(raw)
    if open_in or open_out:
        if data.labels:
            n_out = class_units(raw, len(np.unique(data.y)), one_hot)
        else:
            n_out = int(data.y.shape[1])
        raw = with_sizes(raw, data.n_features, n_out)
    return build(raw, lines=lines, file=file), data


def targets_for(
    data: Dataset, spec: Spec, one_hot: bool | None = None
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """The target matrix for ``spec``, the classes (if labels), and the one-hot choice."""
    n_in, n_out = columns_in(spec), columns_out(spec)  # a sequence is one row (.sequences)
    if data.n_features != n_in:
        raise DataError(
            f"{data.name}: {data.n_features} features per example; "
            f"the spec's input layer expects {n_in}"
        )
    sign = spec.loss.target_domain == "sign"
    if data.labels:
        classes = np.unique(data.y)
        use_one_hot = n_out > 1 if one_hot is None else one_hot
        if use_one_hot and len(classes) != n_out:
            raise DataError(
                f"{data.name}: {len(classes)} classes; the spec's output layer has {n_out} "
                f"unit{'s' if n_out != 1 else ''} (one-hot needs one unit per class)"
            )
        if not use_one_hot:
            if n_out != 1:
                raise DataError(
                    f"{data.name}: one target column (class labels); the spec's output layer has "
                    f"{n_out} units; pass --one-hot to encode the {len(classes)} classes"
                )
            if len(classes) != 2:
                raise DataError(
                    f"{data.name}: {len(classes)} classes; the spec's one-unit output layer holds "
                    "2 classes (0/1); give the output layer one unit per class"
                )
        T = encode_targets(data.y, classes, n_out, one_hot=use_one_hot, sign=sign)
        return T, classes, use_one_hot
    if one_hot:
        raise DataError(
            f"{data.name}: --one-hot needs class labels; the targets are real numbers "
            f"({data.y.shape[1]} column{'s' if data.y.shape[1] != 1 else ''})"
        )
    T = np.asarray(data.y, dtype=np.float64)
    if T.shape[1] != n_out:
        raise DataError(
            f"{data.name}: {T.shape[1]} target column{'s' if T.shape[1] != 1 else ''}; "
            f"the spec's output layer expects {n_out}"
        )
    return T, None, False


def check_domain(T: np.ndarray, spec: Spec, name: str) -> None:
    """Raise if the targets fall outside the loss's target domain."""
    domain = spec.loss.target_domain
    loss = spec.loss.name
    if domain == "unit_interval" and (T.min() < 0 or T.max() > 1):
        raise DataError(
            f"{name}: targets range over [{T.min():g}, {T.max():g}]; the spec's loss {loss} "
            f"expects targets in [0, 1] (to train on others: loss: {{name: {loss}, "
            "soft_targets: true})"
        )
    if domain == "sign" and not np.all(np.isin(T, (-1.0, 1.0))):
        raise DataError(f"{name}: targets are not all -1 or 1, as the spec's loss {loss} expects")


def _split_indices(
    name: str,
    n: int,
    strata: np.ndarray | None,
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train, validation, test; sizes ``floor(f·n + ½)`` of the whole set."""
    from sklearn.model_selection import train_test_split

    def split(idx: np.ndarray, count: int, labels: np.ndarray | None):
        if count <= 0:
            return idx, idx[:0]
        try:
            return train_test_split(idx, test_size=count, random_state=seed, stratify=labels)
        except ValueError:  # a class too small to stratify
            return train_test_split(idx, test_size=count, random_state=seed)

    n_test = math.floor(test_fraction * n + 0.5)
    n_val = math.floor(val_fraction * n + 0.5)
    if n_test + n_val >= n:
        raise DataError(
            f"{name}: {n} examples leave no training split with validation fraction "
            f"{val_fraction:g} and test fraction {test_fraction:g}"
        )
    rest, test = split(np.arange(n), n_test, strata)
    train, val = split(rest, n_val, None if strata is None else strata[rest])
    return np.sort(train), np.sort(val), np.sort(test)


def prepare(
    data: Dataset,
    spec: Spec,
    *,
    one_hot: bool | None = None,
    standardize: bool = False,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Prepared:
    """Encode, split and (optionally) standardise ``data`` for ``spec``."""
    for label, value in (("validation", val_fraction), ("test", test_fraction)):
        if not 0 <= value < 1:
            raise DataError(f"{label} fraction {value:g}; expected a number in [0, 1)")
    if val_fraction + test_fraction >= 1:
        raise DataError(
            f"validation + test fractions {val_fraction + test_fraction:g}; expected less than 1"
        )
    T, classes, _ = targets_for(data, spec, one_hot)
    check_domain(T, spec, data.name)
    task = (
        "classification"
        if classes is not None or spec.loss.name in CLASSIFICATION_LOSSES
        else "regression"
    )
    strata = data.y if data.labels else None
    train, val, test = _split_indices(
        data.name, data.n_examples, strata, val_fraction, test_fraction, seed
    )
    X = data.X
    mean = scale = var = None
    if standardize:
        mean = X[train].mean(axis=0)
        var = X[train].var(axis=0)
        scale = X[train].std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        X = (X - mean) / scale
    return Prepared(
        name=data.name,
        train=Split(X[train], T[train]),
        val=Split(X[val], T[val]),
        test=Split(X[test], T[test]),
        task=task,
        classes=classes,
        feature_names=data.feature_names,
        mean=mean,
        scale=scale,
        sign_targets=spec.loss.target_domain == "sign",
        var=var,
    )
