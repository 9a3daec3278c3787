"""Training front end: data sources, the runner with metrics and plots, sklearn estimators.

::

    from symbp.train import load_data, prepare, train
    spec = symbp.load("examples/digits_64_64_10.yaml")
    data = prepare(load_data("digits"), spec, standardize=True)
    result = train(spec, data, out_dir="runs/digits")   # compiles, trains, writes
    print(result.summary())

Modules: :mod:`.data` (sources), :mod:`.prepare` (encode, split, standardise),
:mod:`.metrics`, :mod:`.diagnostics` (gradient norms, feature sensitivity),
:mod:`.runner` (training loop glue, run directory), :mod:`.plots`,
:mod:`.estimator` (scikit-learn), :mod:`.cli` and :mod:`.demo` (commands).
"""

from __future__ import annotations

from typing import Any

from .data import Dataset, load_data
from .prepare import Prepared, Split, prepare
from .runner import RunResult, train


def __getattr__(name: str) -> Any:
    if name in ("SymbpClassifier", "SymbpRegressor"):
        from . import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'symbp.train' has no attribute {name!r}")


__all__ = [
    "Dataset",
    "Prepared",
    "RunResult",
    "Split",
    "SymbpClassifier",
    "SymbpRegressor",
    "load_data",
    "prepare",
    "train",
]
