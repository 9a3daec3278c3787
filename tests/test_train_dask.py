"""A grid search on a two-worker Dask cluster (through joblib) gives the sequential scores.

The workers are separate processes: they unpickle the estimators, compile their specs
and find the generated modules (and Numba's compiled kernels) in the compile cache
that ``$SYMBP_CACHE_DIR`` names, the one the sequential search filled.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from test_train_sklearn import CLASSIFIER_SPEC, grid_scores, shared_cache

from symbp.train.estimator import SymbpClassifier

pytestmark = pytest.mark.extras
distributed = pytest.importorskip(
    "dask.distributed", reason="Dask is an optional extra: pip install 'symbp[dask]'"
)


def test_dask_grid_search_gives_the_sequential_scores(monkeypatch) -> None:
    import joblib

    shared_cache(monkeypatch)  # before the workers start: they inherit the environment
    X, y = load_iris(return_X_y=True)
    estimator = SymbpClassifier(CLASSIFIER_SPEC, standardize=True, random_state=0)
    sequential = grid_scores(estimator, 1, X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            scores = grid_scores(estimator, -1, X, y)
        workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2
    np.testing.assert_array_equal(scores, sequential)
    assert sequential.max() > 0.9
