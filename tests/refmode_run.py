"""Train every shipped example for a few epochs and save the parameters (``.npz``).

Run by ``tests/test_codegen_reference_mode.py`` twice: once as is (compiled kernels)
and once under ``NUMBA_DISABLE_JIT=1`` (the reference mode of
:mod:`symbp.codegen.purepython`). Usage: ``python refmode_run.py OUT.npz``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import symbp
from symbp.spec import load
from symbp.stages import trainer_takes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EPOCHS = 3


def data(spec: symbp.Spec) -> tuple[np.ndarray, np.ndarray]:
    """The spec's examples, or 37 rows drawn for a spec without any (tails of every block)."""
    if spec.examples:
        X = np.array([[float(v) for v in e.x] for e in spec.examples])
        T = np.array([[float(v) for v in e.t] for e in spec.examples])
        return X, T
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (37, spec.layers[0]))
    T = np.eye(spec.layers[-1])[rng.integers(0, spec.layers[-1], 37)]
    return X, T


def flat(params: object) -> np.ndarray:
    if isinstance(params, (list, tuple)):  # None: a layer without parameters (pool, flatten)
        return np.concatenate([flat(p) for p in params if p is not None])
    return np.ravel(np.asarray(params, dtype=np.float64))


def main(out: str) -> None:
    results = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        spec = load(path)
        if not trainer_takes(spec):
            continue  # no generated module (symbp.stages.trainer_takes)
        for dtype in ("float64", "float32"):
            trainer = symbp.compile(spec, dtype=dtype)
            X, T = data(spec)
            trainer.fit(X, T, epochs=EPOCHS)
            results[f"{path.stem}/{dtype}"] = flat(trainer.params)
            results[f"{path.stem}/{dtype}/predict"] = np.ravel(trainer.predict(X))
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1])
