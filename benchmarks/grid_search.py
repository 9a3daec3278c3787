"""A hyper-parameter search end to end: symbp against scikit-learn's MLPClassifier and
PyTorch eager, from an empty compile cache and from a warm one.

Run: ``python benchmarks/grid_search.py`` (about 2-4 minutes on 2 cores; PyTorch rows
need ``pip install torch==2.13.0`` and are left out without it).

Two searches on scikit-learn's digits (X / 16), ``GridSearchCV`` with 3 folds, no refit,
20 epochs of shuffled minibatches of 32, no early stopping, no L2 penalty:

* SGD: learning rate in {0.01, 0.02, 0.05, 0.1} x one hidden ReLU layer of {32, 64}
  units (24 fits, two network structures);
* Adam: learning rate in {0.001, 0.002, 0.005, 0.01} x beta1 in {0.8, 0.9}, 64 hidden
  units (24 fits, one structure).

Rows: ``symbp cold`` (a new process with an empty ``SYMBP_CACHE_DIR``: every module is
rendered during the search; symbp's runtime helpers and the built-in pieces of ReLU,
softmax, cross-entropy, SGD and Adam were compiled once before, by another network, as
after installing and a first use); ``symbp warm`` (a new process that finds the modules
the cold run left); ``symbp cold n_jobs=2`` (``GridSearchCV(n_jobs=2)``, empty cache: the
two worker processes share the modules through the on-disk cache); MLPClassifier
(``sgd`` with momentum 0 or ``adam``, same architecture); PyTorch eager (the same network
and loop written with ``torch.nn``). Each row runs in its own process and times the search
only (imports excluded); "modules" counts the modules rendered into the cache (one per
structure: the numbers are run-time arguments); "piecewise" the fits that ran on the
piecewise kernel (:mod:`symbp.codegen.tiers`: a new network starts on pieces compiled
before and moves to its generated kernel once that pays); "compiles" the Numba compiles
of the generated kernels over every process, "loads" the kernels a process loaded from
Numba's on-disk cache instead (counted from each fit's ``train.stats``): with
``n_jobs=2`` a worker that starts a module another worker is compiling waits for it and
loads it (:mod:`symbp.codegen.first_call`), so a search compiles each structure once.

Target (issue 27): symbp's cold SGD search takes at most half of MLPClassifier's time.
Figures hold for the machine they ran on; the script prints its CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

SGD_GRID = {"lr": [0.01, 0.02, 0.05, 0.1], "hidden": [32, 64]}
ADAM_GRID = {"lr": [0.001, 0.002, 0.005, 0.01], "beta1": [0.8, 0.9]}
EPOCHS, BATCH, FOLDS = 20, 32, 3


def _spec(optimizer: dict[str, Any], hidden: int) -> dict[str, Any]:
    return {
        "name": "digits-search",
        "layers": [64, hidden, 10],
        "activations": ["relu", "softmax"],
        "loss": "cross_entropy",
        "optimizer": optimizer,
        "init": {"name": "he_uniform", "seed": 0},
        "training": {"epochs": EPOCHS, "batch_size": BATCH, "shuffle": True, "seed": 0},
    }


def _search(row: str, search: str, n_jobs: int) -> dict[str, Any]:
    """Run one search in this process; return its time and score."""
    import time

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    grid: Any
    if row.startswith("symbp"):
        estimator = _counting_classifier()(epochs=EPOCHS, batch_size=BATCH, tol=None)
        if search == "sgd":
            grid = {
                "spec": [
                    _spec({"name": "sgd", "learning_rate": 0.01}, h) for h in SGD_GRID["hidden"]
                ],
                "learning_rate": SGD_GRID["lr"],
            }
        else:
            grid = {
                "spec": [
                    _spec({"name": "adam", "learning_rate": 0.001, "beta1": b1}, 64)
                    for b1 in ADAM_GRID["beta1"]
                ],
                "learning_rate": ADAM_GRID["lr"],
            }
    elif row == "MLPClassifier":
        from sklearn.neural_network import MLPClassifier

        common = dict(
            batch_size=BATCH,
            max_iter=EPOCHS,
            alpha=0.0,
            shuffle=True,
            random_state=0,
            tol=0.0,
            n_iter_no_change=EPOCHS + 1,
            early_stopping=False,
        )
        if search == "sgd":
            estimator = MLPClassifier(
                solver="sgd", momentum=0.0, nesterovs_momentum=False, **common
            )
            grid = {
                "learning_rate_init": SGD_GRID["lr"],
                "hidden_layer_sizes": [(h,) for h in SGD_GRID["hidden"]],
            }
        else:
            estimator = MLPClassifier(solver="adam", hidden_layer_sizes=(64,), **common)
            grid = {"learning_rate_init": ADAM_GRID["lr"], "beta_1": ADAM_GRID["beta1"]}
    else:
        from torch_estimator import TorchMLP

        estimator = TorchMLP(solver=search, epochs=EPOCHS, batch_size=BATCH)
        grid = (
            {"lr": SGD_GRID["lr"], "hidden": SGD_GRID["hidden"]}
            if search == "sgd"
            else {"lr": ADAM_GRID["lr"], "beta1": ADAM_GRID["beta1"], "hidden": [64]}
        )
    import warnings

    warnings.simplefilter("ignore")
    gs = GridSearchCV(estimator, grid, cv=FOLDS, refit=False, n_jobs=n_jobs)
    t0 = time.perf_counter()
    gs.fit(X, y)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "best_score": float(gs.best_score_),
        "fits": int(len(gs.cv_results_["params"]) * FOLDS),
        "mean_score": float(np.mean(gs.cv_results_["mean_test_score"])),
    }


def _counting_classifier() -> type:
    """``SymbpClassifier`` that notes, after each fit, how its process got the kernel so
    far: Numba's compiles (cache misses) and loads from the on-disk cache (hits) of the
    module's ``train``, one line per fit in ``$GRID_COMPILE_LOG`` (every worker of
    ``n_jobs=2`` appends to the same file)."""
    import symbp

    class Counting(symbp.SymbpClassifier):
        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
            out = super().fit(X, y, sample_weight)
            stats = self.trainer_.module.train.stats
            line = json.dumps(
                [
                    os.getpid(),
                    self.trainer_.module.__name__,
                    sum(stats.cache_misses.values()),
                    sum(stats.cache_hits.values()),
                    self.trainer_.kernel,
                ]
            )
            with open(os.environ["GRID_COMPILE_LOG"], "a", encoding="utf-8") as log:
                log.write(line + "\n")
            return out

    return Counting


def _compiles(log: Path) -> tuple[int, int, int]:
    """Numba compiles and cache loads of the search's generated kernels, over every
    process, and the fits that ended on the piecewise kernel (symbp.codegen.tiers)."""
    if not log.is_file():
        return 0, 0, 0
    last: dict[tuple[int, str], tuple[int, int]] = {}
    piecewise = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, module, misses, hits, kernel = json.loads(line)
        last[(pid, module)] = (misses, hits)  # counts grow within a process
        piecewise += kernel == "piecewise"
    return sum(m for m, _ in last.values()), sum(h for _, h in last.values()), piecewise


def _run(row: str, search: str, cache: str, n_jobs: int = 1) -> dict[str, Any]:
    """``_search`` in a new process with ``SYMBP_CACHE_DIR=cache``."""
    log = Path(cache + "-compiles.jsonl")
    log.unlink(missing_ok=True)  # one run's lines only (the warm row reuses the cache)
    env = {
        **os.environ,
        "SYMBP_CACHE_DIR": cache,
        "PYTHONPATH": str(HERE),
        "GRID_COMPILE_LOG": str(log),
    }
    args = [sys.executable, str(Path(__file__)), "--child", row, search, str(n_jobs)]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{row}: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    kernels = Path(cache, "kernels")
    result["modules"] = len(list(kernels.glob("*.py"))) if kernels.is_dir() else 0
    result["compiles"], result["loads"], result["piecewise"] = _compiles(log)
    return result


def _prime(top: str) -> None:
    """Compile symbp's runtime helpers, and the built-in pieces of ReLU, softmax, cross
    entropy, SGD and Adam, once: what the first networks after installing symbp that use
    these records do (another network than the search's: 3-40-2)."""
    code = (
        "import numpy as np, symbp\n"
        "for opt in ('sgd', 'adam'):\n"
        "    tr = symbp.compile({'layers': [3, 40, 2], 'activations': ['relu', 'softmax'], "
        "'loss': 'cross_entropy', 'optimizer': {'name': opt, 'learning_rate': 0.01}, "
        "'init': {'name': 'he_uniform', 'seed': 0}})\n"
        "    tr.fit(np.zeros((4, 3)), np.eye(2)[[0, 1, 0, 1]], epochs=1, batch_size=2)\n"
    )
    env = {**os.environ, "SYMBP_CACHE_DIR": str(Path(top, "prime"))}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searches", nargs="+", default=["sgd", "adam"])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        row, search, n_jobs = args.child
        print(json.dumps(_search(row, search, int(n_jobs))))
        return 0
    try:
        import torch  # noqa: F401

        peers = ["MLPClassifier", "PyTorch eager"]
    except ImportError:
        peers = ["MLPClassifier"]
        print("PyTorch not installed: its rows are left out")
    print(f"CPU: {_cpu()}, {os.cpu_count()} cores; {EPOCHS} epochs, batch {BATCH}, {FOLDS} folds")
    verdicts = []
    with tempfile.TemporaryDirectory() as top:
        _prime(top)
        for search in args.searches:
            rows: dict[str, dict[str, Any]] = {}
            cold_cache = str(Path(top, f"{search}-cold"))
            rows["symbp cold"] = _run("symbp", search, cold_cache)
            rows["symbp warm"] = _run("symbp", search, cold_cache)
            rows["symbp cold n_jobs=2"] = _run("symbp", search, str(Path(top, f"{search}-j2")), 2)
            for peer in peers:
                rows[peer] = _run(peer, search, str(Path(top, f"{search}-{peer[:3]}")))
            cold = rows["symbp cold"]["seconds"]
            print(f"\n{search.upper()} search ({rows['symbp cold']['fits']} fits)")
            print(
                f"{'row':22} {'seconds':>8} {'x symbp cold':>13} {'modules':>8} "
                f"{'compiles':>8} {'loads':>6} {'piecewise':>9} {'best CV':>8}"
            )
            for name, r in rows.items():
                ours = name.startswith("symbp")
                modules, compiles, loads, piecewise = (
                    (str(r["modules"]), str(r["compiles"]), str(r["loads"]), str(r["piecewise"]))
                    if ours
                    else ("-", "-", "-", "-")
                )
                print(
                    f"{name:22} {r['seconds']:8.2f} {r['seconds'] / cold:13.2f} "
                    f"{modules:>8} {compiles:>8} {loads:>6} {piecewise:>9} {r['best_score']:8.3f}"
                )
            if search == "sgd":
                ratio = rows["MLPClassifier"]["seconds"] / cold
                verdicts.append(
                    f"cold SGD search at most half of MLPClassifier's: "
                    f"{'met' if ratio >= 2 else 'MISSED'} ({ratio:.2f}x)"
                )
    print()
    for line in verdicts:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
