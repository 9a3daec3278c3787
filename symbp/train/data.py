"""Data sources for training: scikit-learn's bundled sets, CSV files, ``.npz`` archives.

:func:`load_data` reads a source into a :class:`Dataset` (features ``X`` of shape
``(n, d)``, float64, and targets ``y``: class labels of shape ``(n,)`` or real
targets of shape ``(n, k)``). Nothing is downloaded: the scikit-learn sets
(``digits``, ``iris``, ``breast_cancer``, ``wine`` and the regression set
``diabetes``) ship inside scikit-learn.

* CSV (read by :mod:`csv`: comma-separated, ``"`` quotes, a UTF-8 BOM and blank
  lines allowed): a header row names the columns; ``target`` picks the
  target column by name, every other column is a feature and must be numeric. A
  numeric target is a real target (one column); a non-numeric target is a class label.
* ``.npz``: arrays ``X`` (``(n, d)``) and ``y`` or ``T`` (``(n,)`` or ``(n, k)``), numeric.
* A target column of whole numbers (``0, 1, 2``) is read as real targets; it becomes
  class labels (:meth:`Dataset.as_labels`) when the spec's output is softmax or the
  user says so (``symbp train --classes``), see :func:`symbp.train.prepare.spec_for_data`.

Every problem is a :class:`~symbp.errors.DataError` whose message names the
source and says what was found and what was expected.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, quote
from ..fileio import open_npz, read_limited
from ..limits import MAX_CELL_CHARS, MAX_DATA_BYTES, MAX_DATA_ROWS, MAX_DATA_VALUES

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

    @property
    def integer_targets(self) -> bool:
        """Whether the targets are one column of whole numbers (class labels, possibly)."""
        if self.labels or self.y.ndim != 2 or self.y.shape[1] != 1:
            return False
        return bool(np.all(self.y == np.round(self.y)) and np.all(np.abs(self.y) < 2**53))

    def as_labels(self) -> Dataset:
        """This data set with its one column of whole numbers as class labels ``(n,)`` int64.

        Raises :class:`~symbp.errors.DataError` when the targets are not such a column.
        """
        if self.labels:
            return self
        if self.y.ndim != 2 or self.y.shape[1] != 1:
            raise DataError(
                f"{self.name}: class labels need one target column; found {self.y.shape[1]}"
            )
        if not self.integer_targets:
            bad = self.y[self.y != np.round(self.y)]
            raise DataError(f"{self.name}: class labels must be whole numbers; found {bad[0]:g}")
        labels = self.y[:, 0].astype(np.int64)
        return replace(self, y=labels, labels=True)


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
        raise DataError(f"unknown data source {quote(text)}; expected {known_sources()}")
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
    """``cell`` as a finite float, or ``None`` (not a number, NaN or infinite)."""
    if "_" in cell:  # Python's float() reads 1_000; a data file does not mean that
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class _Rows:
    """The rows of a growing float64 table, stored in one array that doubles as it fills."""

    def __init__(self, width: int, max_rows: int) -> None:
        self.data = np.empty((max(1, min(64, max_rows)), width))
        self.n = 0

    def append(self, row: np.ndarray) -> None:
        if self.n == len(self.data):
            grown = np.empty((2 * len(self.data), self.data.shape[1]))
            grown[: self.n] = self.data
            self.data = grown
        self.data[self.n] = row
        self.n += 1

    def array(self) -> np.ndarray:
        return self.data[: self.n]


def _csv(path: Path, target: str | None) -> Dataset:
    """Read a CSV file (:mod:`csv`: comma-separated, ``"`` quotes, a UTF-8 BOM and blank
    lines allowed) row by row, within the limits of :mod:`symbp.limits`."""
    raw = read_limited(path, MAX_DATA_BYTES, error=DataError)
    # decoded as it is read: one wide character must not widen a copy of the whole file
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline=""))
    try:
        return _csv_rows(path, reader, target)
    except UnicodeDecodeError:
        raise DataError(f"{path}: cannot read the file (UnicodeDecodeError)") from None
    except csv.Error as err:
        raise DataError(f"{path}:{reader.line_num}: cannot read the CSV ({err})") from None


def _cells(path: Path, reader: Any) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows of ``reader`` with their (last) file line, cells stripped."""
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        cells = [cell.strip() for cell in row]
        longest = max(cells, key=len)
        if len(longest) > MAX_CELL_CHARS:
            raise DataError(
                f"{path}:{reader.line_num}: a cell of {len(longest)} characters; "
                f"expected at most {MAX_CELL_CHARS} (a number or a class label)"
            )
        yield reader.line_num, cells


def _csv_rows(path: Path, reader: Any, target: str | None) -> Dataset:
    rows = _cells(path, reader)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: empty file; expected a header row and data rows")
    header = first[1]
    if target is None:
        raise DataError(
            f"{path}: name the target column with --target; columns are {', '.join(header)}"
        )
    if target not in header:
        raise DataError(
            f"{path}: no column named {quote(target)}; the header has {', '.join(header)}"
        )
    t_col = header.index(target)
    features = [i for i in range(len(header)) if i != t_col]
    if not features:
        raise DataError(f"{path}: the only column is the target {quote(target)}; expected features")
    if len(features) > MAX_DATA_VALUES:
        raise DataError(
            f"{path}: {len(features)} feature columns; expected at most {MAX_DATA_VALUES}"
        )
    max_rows = min(MAX_DATA_ROWS, MAX_DATA_VALUES // len(features))
    X = _Rows(len(features), max_rows)
    targets: list[str] = []
    empty_target: int | None = None
    for line, cells in rows:
        if len(cells) != len(header):
            raise DataError(
                f"{path}:{line}: found {len(cells)} cells; the header has {len(header)} columns"
            )
        if len(targets) == max_rows:
            raise DataError(
                f"{path}: more than {max_rows} data rows of {len(features)} features; "
                f"expected at most {MAX_DATA_ROWS} rows and {MAX_DATA_VALUES} values"
            )
        values = [_number(cells[c]) for c in features]
        if None in values:
            c = features[values.index(None)]
            raise DataError(
                f"{path}:{line}: column {quote(header[c])}: non-numeric cell {quote(cells[c])}; "
                "expected a finite number"
            )
        X.append(np.array(values))
        targets.append(cells[t_col])
        if empty_target is None and not cells[t_col]:
            empty_target = line
    if not targets:
        raise DataError(f"{path}: no data rows after the header")
    names = tuple(header[i] for i in features)
    numbers = [_number(t) for t in targets]
    if None not in numbers:
        y = np.array(numbers, dtype=np.float64).reshape(-1, 1)
        return Dataset(str(path), X.array(), y, names, labels=False, description=f"CSV {path.name}")
    if empty_target is not None:
        raise DataError(f"{path}:{empty_target}: column {quote(target)}: empty target cell")
    longest = max(map(len, targets))  # a NumPy string array holds 4 bytes per character
    if len(targets) * longest > 2 * MAX_DATA_VALUES:
        raise DataError(
            f"{path}: class labels of up to {longest} characters in {len(targets)} rows; "
            f"expected at most {2 * MAX_DATA_VALUES // len(targets)} characters a label"
        )
    y = np.array(targets, dtype=str)
    return Dataset(str(path), X.array(), y, names, labels=True, description=f"CSV {path.name}")


def _npz(path: Path) -> Dataset:
    """Read arrays ``X`` and ``y`` (or ``T``) from an ``.npz`` archive."""
    try:
        with open_npz(
            path, error=DataError, max_bytes=MAX_DATA_BYTES, max_values=MAX_DATA_VALUES
        ) as archive:
            keys = set(archive.files)
            targets = [k for k in ("y", "T") if k in keys]
            if "X" not in keys or len(targets) != 1:
                found = ", ".join(sorted(keys)) or "no arrays"
                both = "; give y or T, not both" if len(targets) == 2 else ""
                raise DataError(
                    f"{path}: expected arrays X and y (or X and T); found {found}{both}"
                )
            key = targets[0]
            X, T = archive["X"], archive[key]
    except (OSError, EOFError, zipfile.BadZipFile) as err:  # EOFError: an empty file
        raise DataError(f"{path}: cannot read the archive ({err.__class__.__name__})") from None
    except ValueError as err:
        if isinstance(err, DataError):
            raise
        raise DataError(f"{path}: cannot read the archive ({err.__class__.__name__})") from None
    for name, arr in (("X", X), (key, T)):
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise DataError(f"{path}: array {name} has dtype {arr.dtype}; expected real numbers")
    if X.ndim != 2:
        raise DataError(f"{path}: X has shape {X.shape}; expected (examples, features)")
    if X.shape[0] == 0:
        raise DataError(f"{path}: X has no rows (shape {X.shape}); expected at least one example")
    if T.ndim not in (1, 2) or T.shape[0] != X.shape[0]:
        raise DataError(
            f"{path}: {key} has shape {T.shape}; expected ({X.shape[0]},) or "
            f"({X.shape[0]}, outputs) to match X"
        )
    X = X.astype(np.float64)
    T = T.astype(np.float64).reshape(len(T), -1)
    for name, arr in (("X", X), (key, T)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{path}: {name} holds NaN or infinite values; expected finite numbers")
    names = tuple(f"x{i + 1}" for i in range(X.shape[1]))
    return Dataset(str(path), X, T, names, labels=False, description=f"NPZ {path.name}")
