"""Does reading leaky ReLU's alpha at run time cost speed? (issue 27 item 1)

Run: ``python benchmarks/alpha_speed.py`` (``--rounds N``, ``--workloads W2 W3``).

The W2 (64-64-10 on scikit-learn's digits, minibatch 32, 20 epochs) and W3
(784-256-256-10, minibatch 128, one epoch of 60,000 rows) networks of
:mod:`workloads` with every hidden activation ``leaky_relu`` (alpha 0.1), trained by
their generated kernel in two builds of the same template: ``literal``, alpha printed
into the blocks as a number (how the kernels were written before; rendered here with
:func:`symbp.codegen.hyper.run_time_numbers` answering no), and ``run-time``, alpha
read from ``hyper`` (``act_alpha``, what symbp writes now). Both start from the same
weights; their loss trajectories must be equal (the same operations on the same
numbers). Rounds are interleaved (literal, run-time, then run-time, literal, …) and
each row's best run within BUDGET seconds per round is reported: this machine is
shared, so only the ratio within one run means anything.

Measured (2-core AMD EPYC, znver2, shared with other jobs; run-time/literal):
W2 float64 1.16 (3 rounds), 1.06, 1.04 (9 rounds), 0.95 (15 rounds); W2 float32 0.85,
1.03, 1.02, 1.05; W3 float64 0.81, float32 0.97 (3 rounds, 13-16 s and 3.7 s a run).
No consistent difference: the sign changes between runs, and two trainers of the same
run-time module differed by 20% between themselves in one run of 9 rounds. Equal
losses in every run.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from workloads import Workload, workloads

BUDGET = 1.0
ALPHA = 0.1


def leaky(w: Workload) -> Workload:
    """``w`` with every hidden activation leaky ReLU (alpha :data:`ALPHA`)."""
    spec = copy.deepcopy(w.spec)
    hidden = len(spec["layers"]) - 2
    spec["activations"] = [{"name": "leaky_relu", "alpha": ALPHA}] * hidden + ["softmax"]
    spec["name"] = f"{w.name}-leaky"
    return Workload(w.name, spec, w.X, w.T, w.labels, w.epochs, w.batch, w.lr)


def trainer(spec: dict[str, Any], dtype: str, literal: bool, folder: Path) -> Any:
    """A trainer on the generated kernel, alpha ``literal`` or read at run time."""
    import symbp
    from symbp.codegen import emit, hyper, loader
    from symbp.codegen.trainer import Trainer

    if not literal:
        return symbp.compile(spec, dtype=dtype, kernel="generated")
    loaded = symbp.load(spec)
    original = hyper.run_time_numbers
    hyper.run_time_numbers = lambda spec: False  # type: ignore[assignment]
    try:
        text = emit.render(loaded, dtype)
        path = loader.write(text, folder / f"literal_{loader.text_key(text)}.py")
        return Trainer(loaded, loader.import_module(path), dtype, path, "generated")
    finally:
        hyper.run_time_numbers = original  # type: ignore[assignment]


def row(w: Workload, dtype: str, literal: bool, folder: Path, start: tuple) -> Callable[[], Any]:
    tr = trainer(w.spec, dtype, literal, folder)
    X, T = w.X.astype(dtype), w.T.astype(dtype)
    tr.fit(X[:1], T[:1], epochs=1, batch_size=1)  # compile outside the timing

    def run() -> np.ndarray:
        tr.reset()
        tr.params = start
        return tr.fit(X, T, epochs=w.epochs, batch_size=w.batch, shuffle=False).step_losses

    return run


def best_of(run: Callable[[], Any], budget: float) -> tuple[float, np.ndarray]:
    time.sleep(0.25)
    t0 = time.perf_counter()
    losses = run()
    best = spent = time.perf_counter() - t0
    while spent < budget:
        t0 = time.perf_counter()
        run()
        took = time.perf_counter() - t0
        best, spent = min(best, took), spent + took
    return best, losses


def main(argv: list[str] | None = None) -> int:
    import symbp

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", nargs="+", default=["W2", "W3"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'workload':<9}{'dtype':<9}{'literal s':>11}{'run-time s':>12}{'run-time/literal':>18}")
    with tempfile.TemporaryDirectory() as tmp:
        for w in map(leaky, workloads(args.workloads)):
            start = symbp.compile(w.spec, kernel="generated").initial_params()
            for dtype in ("float64", "float32"):
                runs = {
                    name: row(w, dtype, name == "literal", Path(tmp), start)
                    for name in ("literal", "run-time")
                }
                best: dict[str, float] = {}
                losses: dict[str, np.ndarray] = {}
                for r in range(args.rounds):
                    order = list(runs) if r % 2 == 0 else list(reversed(runs))
                    for name in order:
                        took, losses[name] = best_of(runs[name], BUDGET)
                        best[name] = min(best.get(name, took), took)
                same = np.array_equal(losses["literal"], losses["run-time"])
                ratio = best["run-time"] / best["literal"]
                print(
                    f"{w.name:<9}{dtype:<9}{best['literal']:>11.4f}{best['run-time']:>12.4f}"
                    f"{ratio:>18.3f}  (losses equal: {same})",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
