"""Compiling and loading kernels from many threads at once (issue 26 item 2).

The cold-cache cases run in a fresh process with a fresh ``SYMBP_CACHE_DIR``, so the
module is rendered, written, imported and Numba-compiled while the threads race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symbp

SPEC = {
    "name": "threads-4-5-3",
    "layers": [4, 5, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 2},
}

#: Eight threads compile one spec at once (released together by a barrier), then each
#: predicts; prints the predictions' sums, one per thread, and the errors.
_RACE = """
import json, sys, threading
import numpy as np
import symbp

spec = json.loads(sys.argv[1])
X = np.linspace(-1.0, 1.0, 40).reshape(10, 4)
barrier = threading.Barrier(8)
sums, errors = [], []

def work():
    try:
        barrier.wait()
        trainer = symbp.compile(spec)
        sums.append(float(trainer.predict(X).sum()))
    except BaseException as err:
        errors.append(f"{type(err).__name__}: {err}")

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"sums": sums, "errors": errors}))
"""


def _race(cache: Path, spec: dict) -> dict:
    env = {**os.environ, "SYMBP_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _RACE, json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_eight_threads_compile_one_spec_on_a_cold_then_a_warm_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _race(cache, SPEC)
    assert cold["errors"] == []
    assert len(cold["sums"]) == 8 and len(set(cold["sums"])) == 1
    modules = sorted(p.name for p in (cache / "kernels").glob("*.py"))
    assert len(modules) == 1  # one module file, written once (atomically) for all eight
    warm = _race(cache, SPEC)
    assert warm == cold
    # softmax rows sum to 1: ten rows
    assert cold["sums"][0] == pytest.approx(10.0, abs=1e-12)


def test_eight_threads_in_one_process_share_one_executed_module(tmp_path, monkeypatch) -> None:
    import threading

    from symbp.codegen import loader

    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path))
    spec = {**SPEC, "name": "threads-in-process", "layers": [4, 6, 3]}
    path = symbp.codegen.write_module(spec)
    barrier = threading.Barrier(8)
    modules: list[object] = []

    def work() -> None:
        barrier.wait()
        modules.append(loader.import_module(path))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(modules) == 8 and all(m is modules[0] for m in modules)
    assert callable(modules[0].workspace)  # type: ignore[attr-defined]


def test_cross_val_score_under_joblibs_threading_backend() -> None:
    joblib = pytest.importorskip("joblib", reason="scikit-learn's parallel backend")
    from sklearn.datasets import load_iris
    from sklearn.model_selection import cross_val_score

    from symbp.train.estimator import SymbpClassifier

    X, y = load_iris(return_X_y=True)
    spec = {**SPEC, "name": "threads-cv", "layers": [None, 5, None]}
    clf = SymbpClassifier(spec, standardize=True, random_state=0)
    with joblib.parallel_backend("threading", n_jobs=4):
        scores = cross_val_score(clf, X, y, cv=4, n_jobs=4)
    serial = cross_val_score(clf, X, y, cv=4, n_jobs=1)
    assert scores.shape == (4,)
    np.testing.assert_array_equal(scores, serial)
