"""Training speed of a small conv net on scikit-learn's digits (issue 28, item 8): PyTorch
eager, JAX whole-run jit, NumPy (im2col), our own hand-written fused Numba kernels and
symbp's generated conv kernel.

Run: ``python benchmarks/conv_digits.py`` (the full protocol: 20 epochs, float64 and
float32, two interleaved rounds, the accuracy runs and the Numba kernels' cold compiles;
a few minutes on 2 cores); ``--quick`` for one round of 2 epochs, no accuracy runs and
no cold compiles. Needs the optional peers (``pip install torch==2.13.0 jax``); a
missing peer is reported and left out.

The workload (:mod:`conv_workload`): 1,797 digits 8x8 (pixels / 16), conv 1 -> 8 3x3
valid + relu, max-pool 2, flatten, dense 10 + softmax, cross-entropy averaged over the
batch; consecutive minibatches of 32 (the last one of an epoch 5 images, no shuffle),
SGD lr 0.05, 20 epochs; the same initial weights in every row (PyTorch's default init
drawn once with NumPy). Every row trains from them on the same data with the same math,
and its loss trajectory and trained parameters are compared with the NumPy row's
(float64: 1e-10; float32: 5e-3, as :mod:`train_speed`), so that the rows time the same
work.

Timing as :mod:`train_speed`: rounds are interleaved (each round runs every row, in
rotated order); in a round a row runs repeatedly for ``--budget`` seconds (at least
once) after a pause for the previous row's threads to go idle, and the best run of all
rounds is reported. Compile: each row's first call in this process minus its best run
(JAX: tracing and XLA; Numba: the load from its cache when one is there); the hand
kernels' and symbp's cold compile, in a new process with empty Numba and symbp caches,
is timed apart.
Test accuracy: each row trains once more (untimed, same protocol) on a stratified 80%
of the digits and its parameters are scored on the other 20% (:func:`accuracy_of`).

Rows: ``JAX whole-run jit``, ``PyTorch eager`` (one thread: ``--torch-threads``),
``NumPy im2col`` (:mod:`conv_peers`); ``njit loops, per sample (hand)``
(:mod:`conv_hand`) and ``njit loops, batch lanes (hand)`` (:mod:`conv_hand_lanes`);
``symbp (generated)``: :func:`symbp_row`, ``symbp.compile`` of :data:`conv_workload.SPEC`
(its generated kernel); ``symbp (piecewise)``: :func:`piecewise_row`, the same trainer on
the piecewise kernel (a new conv net's first seconds in "auto").
Columns: samples/s; each row's speed over JAX whole-run jit's and over the best
hand-written row's; compile seconds; test accuracy; the final loss; the largest
deviation from the NumPy row (loss trajectory, relative; parameters, absolute). Issue
28's targets for symbp's row are printed (pending while the slot is empty), and the
hand kernels' speed over JAX (the issue measured a plain one at about 4x).
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

import conv_peers
import numpy as np
from compile_breakdown import breakdown_line, cold_breakdown
from conv_hand import hand_row
from conv_hand_lanes import lanes_row
from conv_peers import Run, jax_scan_row, numpy_row, torch_row
from conv_workload import SPEC, ConvWorkload, Params, accuracy, initial_params, split, workload

TOL = {"float64": 1e-10, "float32": 5e-3}
HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------
# The slot for symbp's generated kernel.


def symbp_row(
    w: ConvWorkload, dtype: str, params0: Params, kernel: str = "generated"
) -> Run | None:
    """symbp's generated conv kernel: :data:`conv_workload.SPEC` compiled by
    ``symbp.compile`` (the compile cache's module; Numba's cache next to it), started from
    ``params0`` (PyTorch's layout is the trainer's: the conv kernel (8, 1, 3, 3), the
    dense weights (10, 72)) and trained by ``Trainer.fit`` (consecutive batches, no
    shuffling). The compile happens here, outside the timed function: its first call is
    the row's load time; :func:`cold_compiles` times a fresh process's compile."""
    import symbp

    trainer = symbp.compile(SPEC, dtype=dtype, kernel=kernel)
    X = np.ascontiguousarray(w.X.reshape(len(w.X), -1), dtype)
    T = np.ascontiguousarray(w.T, dtype)
    K, c, W, b = params0
    start = ([K, None, None, W], [c, None, None, b])

    def run() -> tuple[np.ndarray, Params]:
        trainer.reset()
        trainer.params = start
        history = trainer.fit(X, T, epochs=w.epochs, batch_size=w.batch, shuffle=False)
        Wt, bt = trainer.params
        out = (Wt[0], bt[0], Wt[3], bt[3])
        return history.step_losses.copy(), tuple(np.asarray(v, np.float64) for v in out)

    return run


def piecewise_row(w: ConvWorkload, dtype: str, params0: Params) -> Run | None:
    """symbp's piecewise kernel (what a new conv net runs, in ``symbp.compile``'s "auto",
    before its generated kernel pays for its compile; the same numbers bit for bit)."""
    return symbp_row(w, dtype, params0, kernel="piecewise")


ROWS: dict[str, Callable[[ConvWorkload, str, Params], Run | None]] = {
    "symbp (generated)": symbp_row,
    "symbp (piecewise)": piecewise_row,
    "JAX whole-run jit": jax_scan_row,
    "PyTorch eager": torch_row,
    "NumPy im2col": numpy_row,
    "njit loops, per sample (hand)": hand_row,
    "njit loops, batch lanes (hand)": lanes_row,
}
SYMBP, JAX, TORCH, REFERENCE = (
    "symbp (generated)",
    "JAX whole-run jit",
    "PyTorch eager",
    "NumPy im2col",
)
HAND = ["njit loops, per sample (hand)", "njit loops, batch lanes (hand)"]


# ---------------------------------------------------------------------------
# Measurement.


@dataclass
class Result:
    dtype: str
    times: dict[str, list[float]] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)
    loss_dev: dict[str, float] = field(default_factory=dict)
    param_dev: dict[str, float] = field(default_factory=dict)
    final_loss: dict[str, float] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def make_rows(
    w: ConvWorkload, dtype: str, params0: Params
) -> tuple[dict[str, Run], dict[str, str]]:
    """Every row that can run, and why each other one cannot."""
    runs: dict[str, Run] = {}
    missing: dict[str, str] = {}
    for name, make in ROWS.items():
        try:
            run = make(w, dtype, params0)
        except ImportError as err:
            missing[name] = str(err).split("\n")[0]
            continue
        if run is None:
            missing[name] = "slot: symbp has no conv kernel yet (conv_digits.symbp_row)"
        else:
            runs[name] = run
    return runs, missing


def deviation(
    got: tuple[np.ndarray, Params], ref: tuple[np.ndarray, Params]
) -> tuple[float, float]:
    """The largest relative deviation of a loss trajectory and the largest absolute one
    of the parameters from the reference's."""
    losses, params = got
    ref_losses, ref_params = ref
    loss = float(np.max(np.abs(losses - ref_losses) / np.abs(ref_losses)))
    par = max(float(np.max(np.abs(p - q))) for p, q in zip(params, ref_params, strict=True))
    return loss, par


def measure(w: ConvWorkload, dtype: str, rounds: int, budget: float) -> Result:
    """Every row of the workload in ``dtype``: its first call (timed: compile included),
    then ``rounds`` interleaved rounds of repeated runs within ``budget`` seconds each."""
    params0 = initial_params()
    runs, missing = make_rows(w, dtype, params0)
    result = Result(dtype, missing=missing)
    outputs = {}
    for name, run in runs.items():
        time.sleep(0.25)
        start = time.perf_counter()
        outputs[name] = run()
        result.first[name] = time.perf_counter() - start
    ref = outputs[REFERENCE]
    for name, out in outputs.items():
        result.loss_dev[name], result.param_dev[name] = deviation(out, ref)
        result.final_loss[name] = float(out[0][-1])
    for r in range(rounds):
        names = list(runs)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            result.times.setdefault(name, []).append(best_of(runs[name], budget))
    return result


def best_of(run: Run, budget: float) -> float:
    """The fastest of repeated calls of ``run`` within ``budget`` seconds (at least one),
    after a pause that lets the previous row's worker threads stop spinning."""
    time.sleep(0.25)
    best = spent = 0.0
    while spent < budget or best == 0.0:
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        best, spent = (took if best == 0.0 else min(best, took)), spent + took
    return best


def accuracy_of(dtype: str, result: Result, epochs: int) -> None:
    """Each row trained (untimed) on a stratified 80% of the digits with the same
    protocol, scored on the other 20% (the largest logit, computed in float64 from the
    row's trained parameters)."""
    train, X_test, y_test = split()
    train.epochs = epochs
    runs, _ = make_rows(train, dtype, initial_params())
    for name, run in runs.items():
        _, params = run()
        result.accuracy[name] = accuracy(params, X_test, y_test)


def cold_compiles(tries: int = 1) -> dict[str, float]:
    """Each hand kernel's and symbp's cold compile per dtype: in a new process with empty
    Numba and symbp caches, the first call on a few images minus the second call (best of
    ``tries``; symbp's renders its module when the row is made, which is not counted)."""
    script = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from conv_workload import workload, initial_params\n"
        "import conv_hand, conv_hand_lanes, conv_digits\n"
        "w = workload(n=64, epochs=1); p = initial_params(); out = {}\n"
        "for name, make in (('per sample', conv_hand.hand_row), "
        "('batch lanes', conv_hand_lanes.lanes_row), ('symbp', conv_digits.symbp_row),\n"
        " ('symbp piecewise', conv_digits.piecewise_row)):\n"
        "    for dtype in ('float64', 'float32'):\n"
        "        run = make(w, dtype, p)\n"
        "        t0 = time.perf_counter(); run(); t1 = time.perf_counter(); run()\n"
        "        out[f'{name} {dtype}'] = (t1 - t0) - (time.perf_counter() - t1)\n"
        "print(json.dumps(out))\n"
    )
    best: dict[str, float] = {}
    for _ in range(tries):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SYMBP_CACHE_DIR": cache}
            done = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True
            )
        if done.returncode:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items():
            best[key] = min(best.get(key, np.inf), value)
    return best


# ---------------------------------------------------------------------------
# Report.


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo and the number of CPUs this process sees."""
    try:
        text = Path("/proc/cpuinfo").read_text()
        name = next(ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln)
    except (OSError, StopIteration):
        name = "unknown"
    return f"{name}, {os.cpu_count()} CPUs"


def report(results: list[Result], w: ConvWorkload) -> str:
    from train_speed import blas_kernel, vector_width

    lines = [f"CPU: {cpu_model()}", f"BLAS: {blas_kernel()}", *vector_width()]
    lines.append(
        f"Workload: {len(w.X)} digits 8x8, conv 1->8 3x3 + relu, max-pool 2, dense 10 + "
        f"softmax, CE; batch {w.batch}, SGD lr {w.lr}, {w.epochs} epochs "
        f"({w.samples} samples, {w.steps} steps per run)"
    )
    header = (
        f"{'dtype':8} {'row':31} {'samples/s':>10} {'best s':>8} {'x JAX':>6} {'x hand':>7} "
        f"{'compile s':>9} {'test acc':>8} {'final loss':>11} {'loss dev':>8} {'param dev':>9}"
    )
    lines += ["", header, "-" * len(header)]
    for res in results:
        best = {name: min(t) for name, t in res.times.items()}
        jax_t = best.get(JAX)
        hand = [best[n] for n in HAND if n in best]
        hand_t = min(hand) if hand else None
        for name, t in best.items():
            x_jax = f"{jax_t / t:.2f}" if jax_t else ""
            x_hand = f"{hand_t / t:.2f}" if hand_t else ""
            acc = f"{res.accuracy[name]:.2%}" if name in res.accuracy else ""
            lines.append(
                f"{res.dtype:8} {name:31} {w.samples / t:10.4g} {t:8.4f} {x_jax:>6} "
                f"{x_hand:>7} {res.first[name] - t:9.2f} {acc:>8} {res.final_loss[name]:11.8f} "
                f"{res.loss_dev[name]:8.1e} {res.param_dev[name]:9.1e}"
            )
        for name, why in res.missing.items():
            lines.append(f"{res.dtype:8} {name:31} missing: {why}")
        lines.append("")
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(results: list[Result]) -> list[str]:
    """Issue 28's targets for symbp's row per dtype (at least 2x JAX whole-run jit, at
    least 0.9x each hand-written row, the plain per-sample one and the batch-lanes one,
    target 1.0x; PyTorch eager's ratio), the hand kernels' speed over JAX, agreement with
    the NumPy row within :data:`TOL`, and the rows' test accuracy (the 97% target belongs
    to ``symbp demo``'s longer Adam run, not to this workload)."""
    out = []
    for res in results:
        best = {name: min(t) for name, t in res.times.items()}
        hand = [(best[n], n) for n in HAND if n in best]
        tag = res.dtype
        if SYMBP in best:
            ours = best[SYMBP]
            if JAX in best:
                got = best[JAX] / ours
                out.append(
                    f"{tag}: symbp >= 2x JAX whole-run jit: {_verdict(got >= 2)} ({got:.2f}x)"
                )
            for t, name in sorted(hand, reverse=True):  # the plain kernel, then the best
                got = t / ours
                out.append(
                    f"{tag}: symbp >= 0.9x {name}: "
                    f"{_verdict(got >= 0.9)} ({got:.2f}x; target 1.0x: {_verdict(got >= 1.0)})"
                )
            if TORCH in best:
                out.append(f"{tag}: symbp over PyTorch eager: {best[TORCH] / ours:.1f}x")
        else:
            out.append(
                f"{tag}: symbp targets pending (>= 2x JAX whole-run jit, >= 0.9x the best "
                f"hand-written, target 1.0x, far ahead of PyTorch eager, cold compile < 3 s): "
                f"{res.missing.get(SYMBP, 'no row')}"
            )
        if JAX in best:
            for t, name in hand:
                out.append(f"{tag}: {name} over JAX whole-run jit: {best[JAX] / t:.2f}x")
        bad = [n for n in res.loss_dev if max(res.loss_dev[n], res.param_dev[n]) > TOL[res.dtype]]
        out.append(
            f"{tag}: every row within {TOL[res.dtype]:g} of the NumPy row: {_verdict(not bad)}"
            + (f" (beyond: {', '.join(bad)})" if bad else "")
        )
        if res.accuracy:  # the 97% target is symbp demo's (Adam, 60 epochs), not this SGD run's
            spread = max(res.accuracy.values()) - min(res.accuracy.values())
            out.append(
                f"{tag}: test accuracy of this workload (SGD 0.05, 20 epochs) in every row: "
                f"{min(res.accuracy.values()):.2%} to {max(res.accuracy.values()):.2%} "
                f"(the rows agree: {_verdict(spread < 0.005)}; the demo's 97% target is "
                "checked by tests/test_train_demo.py)"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per row and round")
    parser.add_argument("--quick", action="store_true", help="2 epochs, one round, no extras")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    parser.add_argument(
        "--torch-threads", type=int, default=conv_peers.TORCH_THREADS, help="PyTorch's threads"
    )
    args = parser.parse_args(argv)
    conv_peers.TORCH_THREADS = args.torch_threads
    if args.quick:
        args.epochs, args.rounds, args.budget = 2, 1, 0.3
    w = workload(epochs=args.epochs)
    results = []
    for dtype in args.dtypes:
        print(f"measuring {dtype} ...", file=sys.stderr, flush=True)
        res = measure(w, dtype, args.rounds, args.budget)
        if not args.quick:
            print(f"accuracy runs {dtype} ...", file=sys.stderr, flush=True)
            accuracy_of(dtype, res, args.epochs)
        results.append(res)
    print(report(results, w))
    print("Targets:")
    for line in targets(results):
        print("  " + line)
    if not args.quick:
        print("\nCold compile (new process, empty Numba and symbp caches, first call minus "
              "second on 64 images):")  # fmt: skip
        for key, value in cold_compiles().items():
            target = f" (target < 3 s: {_verdict(value < 3)})" if key.startswith("symbp") else ""
            print(f"  {key}: {value:.2f} s{target}")
        print("symbp's cold compile in a new process of its own (empty caches), by part:")
        for dtype in args.dtypes:
            parts = cold_breakdown(SPEC, dtype, tries=1, fresh_numba=True, kernel="generated")
            print(f"  {dtype} generated: {breakdown_line(parts)}")
        print("... and in auto (piecewise: the runtime helpers and built-in pieces compiled")
        print("once before, in an earlier process; issue 27's cold compile), best of 3:")
        for dtype in args.dtypes:
            parts = cold_breakdown(SPEC, dtype, tries=3, kernel="auto")
            print(f"  {dtype} auto: {breakdown_line(parts)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.__dict__ for r in results], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
