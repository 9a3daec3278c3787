"""Data sources for training: scikit-learn's bundled sets, CSV files, ``.npz`` archives.

:func:`load_data` reads a source into a :class:`Dataset` (features ``X`` of shape
``(n, d)``, float64, and targets ``y``: class labels of shape ``(n,)`` or real
targets of shape ``(n, k)``). Nothing is downloaded: the scikit-learn sets
(``digits``, ``iris``, ``breast_cancer``, ``wine`` and the regression set
``diabetes``) ship inside scikit-learn.

* CSV: a header row names the columns; ``target`` picks the target column by
  name, every other column is a feature and must be numeric. A numeric target is
  a real target (one column); a non-numeric target is a class label.
* ``.npz``: arrays ``X`` (``(n, d)``) and ``T`` (``(n,)`` or ``(n, k)``), numeric.

Every problem is a :class:`~symbp.errors.DataError` whose message names the
source and says what was found and what was expected.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

#: The scikit-learn sets symbp reads by name, and whether their targets are class labels.
SKLEARN_SETS: dict[str, bool] = {
    "digits": True,
    "iris": True,
    "breast_cancer": True,
    "wine": True,
    "diabetes": False,
}


@dataclass(frozen=True)
class Dataset:
    """A data set as read: features ``X`` ``(n, d)`` and targets ``y``.

    ``y`` holds class labels ``(n,)`` when ``labels`` is true, real targets
    ``(n, k)`` otherwise. ``name`` is how messages refer to the source.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    labels: bool
    description: str = ""

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def classes(self) -> np.ndarray | None:
        """The sorted distinct class labels (``None`` for real targets)."""
        return np.unique(self.y) if self.labels else None


def known_sources() -> str:
    """The accepted ``--data`` values, for messages."""
    return ", ".join(SKLEARN_SETS) + ", FILE.csv or FILE.npz"


def load_data(source: str | Path, *, target: str | None = None) -> Dataset:
    """Read ``source``: a scikit-learn set name, a ``.csv`` path or a ``.npz`` path."""
    text = str(source)
    if text in SKLEARN_SETS:
        if target is not None:
            raise DataError(f"{text}: --target applies to CSV files only; {text} has its targets")
        return _sklearn(text)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        if path.is_file():
            raise DataError(
                f"{text}: unknown file type {suffix or '(none)'}; expected .csv or .npz"
            )
        raise DataError(f"unknown data source {text!r}; expected {known_sources()}")
    if not path.is_file():
        raise DataError(f"{text}: no such file")
    if suffix == ".csv":
        return _csv(path, target)
    if target is not None:
        raise DataError(f"{text}: --target applies to CSV files only; an .npz holds X and T")
    return _npz(path)


def _sklearn(name: str) -> Dataset:
    from sklearn import datasets

    loader: Callable[..., Any] = getattr(datasets, f"load_{name}")
    bunch = loader()
    labels = SKLEARN_SETS[name]
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    if not labels:
        y = y.astype(np.float64).reshape(len(y), -1)
    names = tuple(str(f) for f in getattr(bunch, "feature_names", range(X.shape[1])))
    return Dataset(name, X, y, names, labels, description=f"scikit-learn {name}")


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _csv(path: Path, target: str | None) -> Dataset:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read the file ({err.__class__.__name__})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path}: empty file; expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    if target is None:
        raise DataError(
            f"{path}: name the target column with --target; columns are {', '.join(header)}"
        )
    if target not in header:
        raise DataError(f"{path}: no column named {target!r}; the header has {', '.join(header)}")
    if len(rows) < 2:
        raise DataError(f"{path}: no data rows after the header")
    t_col = header.index(target)
    features = [i for i in range(len(header)) if i != t_col]
    if not features:
        raise DataError(f"{path}: the only column is the target {target!r}; expected features")
    X = np.empty((len(rows) - 1, len(features)))
    raw_target: list[str] = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(
                f"{path}:{r}: found {len(row)} cells; the header has {len(header)} columns"
            )
        for c, col in enumerate(features):
            value = _number(row[col].strip())
            if value is None:
                raise DataError(
                    f"{path}:{r}: column {header[col]!r}: non-numeric cell {row[col]!r}; "
                    "expected a finite number"
                )
            X[r - 2, c] = value
        raw_target.append(row[t_col].strip())
    numbers = [_number(cell) for cell in raw_target]
    names = tuple(header[i] for i in features)
    if all(v is not None for v in numbers):
        y = np.asarray(numbers, dtype=np.float64).reshape(-1, 1)
        return Dataset(str(path), X, y, names, labels=False, description=f"CSV {path.name}")
    if any(cell == "" for cell in raw_target):
        row = raw_target.index("") + 2
        raise DataError(f"{path}:{row}: column {target!r}: empty target cell")
    y = np.asarray(raw_target)
    return Dataset(str(path), X, y, names, labels=True, description=f"CSV {path.name}")


def _npz(path: Path) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            if not {"X", "T"} <= keys:
                found = ", ".join(sorted(keys)) or "no arrays"
                raise DataError(f"{path}: expected arrays X and T; found {found}")
            X, T = archive["X"], archive["T"]
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: cannot read the archive ({err.__class__.__name__})") from None
    for key, arr in (("X", X), ("T", T)):
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise DataError(f"{path}: array {key} has dtype {arr.dtype}; expected real numbers")
    if X.ndim != 2:
        raise DataError(f"{path}: X has shape {X.shape}; expected (examples, features)")
    if T.ndim not in (1, 2) or T.shape[0] != X.shape[0]:
        raise DataError(
            f"{path}: T has shape {T.shape}; expected ({X.shape[0]},) or ({X.shape[0]}, outputs) "
            "to match X"
        )
    X = X.astype(np.float64)
    T = T.astype(np.float64).reshape(len(T), -1)
    for key, arr in (("X", X), ("T", T)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{path}: {key} holds NaN or infinite values; expected finite numbers")
    names = tuple(f"x{i + 1}" for i in range(X.shape[1]))
    return Dataset(str(path), X, T, names, labels=False, description=f"NPZ {path.name}")
