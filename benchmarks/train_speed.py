"""Training speed of the generated Numba trainer against PyTorch, JAX and NumPy.

Run: ``python benchmarks/train_speed.py`` (about 10 minutes on 2 cores; ``--quick`` for
one round and the small workloads). Needs the optional peers (``pip install
torch==2.13.0 jax jaxlib``); a missing peer is reported and left out.

Every row trains the same network from the same initial weights on the same data with
the same math: batch-mean loss, consecutive minibatches (the last one may be smaller),
plain SGD. The loss trajectories are compared (float64: relative 1e-10) so that the
rows time the same work. Rounds are interleaved (each round runs every row once, in
rotated order) because this machine is shared and noisy; the best round is reported.

Workloads (:mod:`workloads`): W1 3-4-1 sigmoid/BCE, one example, SGD lr 0.5, 10,000
steps; W2 64-64-10 tanh/softmax-CE on scikit-learn's digits, minibatch 32, lr 0.05, 20
epochs; W3 784-256-256-10 relu/softmax-CE, minibatch 128, one epoch over 60,000
synthetic samples. Each in float64 and float32. The peers are in :mod:`peers`.

Columns: samples/s; the generated trainer's speed divided by each peer's; the fraction
of the GEMM peak (2 * multiply-adds of the forward pass, the weight gradients and the
back-propagated deltas, per second, over the rate of a 2048x2048 numpy matmul measured
in the same run). Also printed: cold compile (new network, empty kernel cache: render +
Numba compile + first step) and warm start (a new process that finds the kernel in
Numba's cache), each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from peers import Run, jax_loop_row, jax_scan_row, numpy_row, torch_row
from workloads import Workload, workloads

TOL = {"float64": 1e-10, "float32": 5e-3}

# ---------------------------------------------------------------------------
# Rows: each returns a function that trains from the initial weights and returns
# the loss of every step (taken before its update).


def symbp_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    import symbp

    trainer = symbp.compile(w.spec, dtype=dtype)
    X, T = w.X.astype(dtype), w.T.astype(dtype)
    trainer.fit(X[:1], T[:1], epochs=1, batch_size=1)  # compile outside the timing

    def run() -> np.ndarray:
        trainer.reset()
        trainer.params = (W0, b0)
        return trainer.fit(X, T, epochs=w.epochs, batch_size=w.batch, shuffle=False).step_losses

    return run


ROWS: dict[str, Callable[..., Run]] = {
    "symbp (generated)": symbp_row,
    "JAX whole-run jit": jax_scan_row,
    "JAX loop of jit step": jax_loop_row,
    "PyTorch eager": torch_row,
    "NumPy by hand": numpy_row,
}
PEERS = [name for name in ROWS if name != "symbp (generated)"]


# ---------------------------------------------------------------------------
# Measurement.


def blas_kernel() -> str:
    """Which BLAS numpy uses and the kernel it picked (OpenBLAS: its core type)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for info in threadpool_info():
        if "numpy" in info.get("filepath", "") and info.get("user_api") == "blas":
            return (
                f"{info.get('internal_api')} {info.get('version')}, kernel "
                f"{info.get('architecture')}, {info.get('num_threads')} threads"
            )
    return "unknown"


def gemm_peak(dtype: str, repeats: int = 5) -> float:
    a = np.random.default_rng(0).normal(size=(2048, 2048)).astype(dtype)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * 2048**3 / best


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class Result:
    workload: str
    dtype: str
    times: dict[str, list[float]] = field(default_factory=dict)
    deviation: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def measure(w: Workload, dtype: str, rounds: int) -> Result:
    import symbp

    trainer = symbp.compile(w.spec, dtype="float64")
    W0, b0 = trainer.initial_params()
    result = Result(w.name, dtype)
    runs: dict[str, Run] = {}
    for name, make in ROWS.items():
        try:
            runs[name] = make(w, dtype, W0, b0)
        except ImportError as err:
            result.missing[name] = str(err).split("\n")[0]
    reference = None
    for r in range(rounds):
        names = list(runs)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            start = time.perf_counter()
            losses = runs[name]()
            result.times.setdefault(name, []).append(time.perf_counter() - start)
            if name == "symbp (generated)":
                reference = losses if reference is None else reference
            result.deviation.setdefault(name, 0.0)
            if reference is not None and name != "symbp (generated)":
                dev = float(np.max(np.abs(losses - reference) / np.abs(reference)))
                result.deviation[name] = max(result.deviation[name], dev)
    return result


def compile_times(spec: dict[str, Any]) -> dict[str, float]:
    """Cold compile and warm start of ``spec``'s trainer, each in a new process."""
    script = (
        "import time, json, sys, numpy as np\n"
        "t0 = time.perf_counter(); import symbp, symbp.codegen, numba; t1 = time.perf_counter()\n"
        f"spec = {spec!r}\n"
        "tr = symbp.compile(spec)\n"
        "X = np.zeros((1, spec['layers'][0])); T = np.eye(spec['layers'][-1])[:1]\n"
        "tr.fit(X, T, epochs=1, batch_size=1)\n"
        "t2 = time.perf_counter()\n"
        "print(json.dumps({'import': t1 - t0, 'compile_and_first_step': t2 - t1}))\n"
    )
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SYMBP_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            done = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            data = json.loads(done.stdout.strip().splitlines()[-1])
            out[label] = data["compile_and_first_step"]
            out[f"{label}_import"] = data["import"]
        # Numba's own floor: the first call of a trivial cached @njit function in a new
        # process (target set-up, which imports SciPy for BLAS, and the cache load).
        Path(cache, "trivial_kernel.py").write_text(
            "from numba import njit\n\n\n@njit(cache=True)\ndef f(x):\n    return x + 1.0\n"
        )
        floor = (
            "import time, json, numba\n"
            "t0 = time.perf_counter(); import trivial_kernel; trivial_kernel.f(1.0)\n"
            "print(json.dumps(time.perf_counter() - t0))\n"
        )
        for _ in range(2):  # the first run compiles and caches
            done = subprocess.run(
                [sys.executable, "-c", floor], cwd=cache, capture_output=True, text=True, check=True
            )
        out["numba_floor"] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def report(results: list[Result], peaks: dict[str, float], workloads_: dict[str, Workload]) -> str:
    lines = [f"BLAS behind numpy: {blas_kernel()}"]
    for dtype in ("float64", "float32"):
        if dtype in peaks:
            lines.append(
                f"GEMM peak ({dtype}, 2048x2048 numpy matmul): {peaks[dtype] / 1e9:.1f} GFLOP/s"
            )
    header = (
        f"{'workload':8} {'dtype':8} {'row':22} {'samples/s':>12} {'best s':>9} "
        f"{'symbp x':>9} {'GEMM peak':>10} {'max dev':>9}"
    )
    lines += ["", header, "-" * len(header)]
    for res in results:
        w = workloads_[res.workload]
        best = {name: min(t) for name, t in res.times.items()}
        ours = best.get("symbp (generated)")
        for name, t in best.items():
            speed = w.samples / t
            ratio = "" if ours is None or name == "symbp (generated)" else f"{t / ours:.2f}x"
            frac = w.samples * w.flops_per_sample / t / peaks[res.dtype]
            dev = "" if name == "symbp (generated)" else f"{res.deviation.get(name, 0):.1e}"
            lines.append(
                f"{res.workload:8} {res.dtype:8} {name:22} {speed:12.4g} {t:9.4f} "
                f"{ratio:>9} {frac:10.1%} {dev:>9}"
            )
        for name, why in res.missing.items():
            lines.append(f"{res.workload:8} {res.dtype:8} {name:22} missing: {why}")
        lines.append("")
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(
    results: list[Result], peaks: dict[str, float], workloads_: dict[str, Workload]
) -> list[str]:
    out = []
    for res in results:
        best = {name: min(t) for name, t in res.times.items()}
        ours = best["symbp (generated)"]
        fastest = min((t, n) for n, t in best.items() if n != "symbp (generated)")
        tag = f"{res.workload} {res.dtype}"
        out.append(
            f"{tag}: at least the fastest peer ({fastest[1]}): "
            f"{_verdict(ours <= fastest[0])} ({fastest[0] / ours:.2f}x)"
        )
        if res.workload == "W2":
            for peer, want in (("JAX whole-run jit", 1.4), ("PyTorch eager", 10)):
                if peer in best:
                    got = best[peer] / ours
                    out.append(f"{tag}: >= {want}x {peer}: {_verdict(got >= want)} ({got:.2f}x)")
        if res.workload == "W3":
            w = workloads_["W3"]
            frac = w.samples * w.flops_per_sample / ours / peaks[res.dtype]
            out.append(
                f"{tag}: >= 75% of GEMM peak: {'met' if frac >= 0.75 else 'MISSED'} ({frac:.1%})"
            )
        bad = [n for n, d in res.deviation.items() if d > TOL[res.dtype]]
        if bad:
            out.append(f"{tag}: trajectories differ beyond {TOL[res.dtype]:g}: {', '.join(bad)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=["W1", "W2", "W3"])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round, W1 and W2")
    parser.add_argument("--json", default=None, help="also write the raw times here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.workloads = 1, [w for w in args.workloads if w != "W3"]
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        pass
    loads = workloads(args.workloads)
    peaks = {dtype: gemm_peak(dtype) for dtype in args.dtypes}
    results = []
    for w in loads:
        for dtype in args.dtypes:
            print(f"measuring {w.name} {dtype} ...", file=sys.stderr, flush=True)
            results.append(measure(w, dtype, args.rounds))
    peaks = {dtype: max(peaks[dtype], gemm_peak(dtype)) for dtype in args.dtypes}
    by_name = {w.name: w for w in loads}
    print(report(results, peaks, by_name))
    print("Targets:")
    for line in targets(results, peaks, by_name):
        print("  " + line)
    if "W2" in by_name:
        ct = compile_times(by_name["W2"].spec)
        print(
            f"\nW2 compile: cold {ct['cold']:.2f} s (target < 2 s: {_verdict(ct['cold'] < 2)}), "
            f"warm start in a new process {ct['warm']:.2f} s (target < 0.3 s: "
            f"{_verdict(ct['warm'] < 0.3)}); importing symbp + numba {ct['warm_import']:.2f} s; "
            f"a trivial cached @njit function's first call in a new process (Numba's floor) "
            f"{ct['numba_floor']:.2f} s"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.__dict__ for r in results], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
