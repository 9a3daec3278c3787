"""Training speed of a small recurrent net on a noisy sine (issue 29, item 8): PyTorch
eager, JAX whole-run jit, NumPy (BPTT by hand), our own hand-written Numba kernels and
symbp's generated recurrent trainer, for an Elman tanh net and an LSTM.

Run: ``python benchmarks/rnn_sine.py`` (the full protocol: 10 epochs, both cells,
float64 and float32, two interleaved rounds, the held-out errors and the Numba kernels'
cold compiles; a few minutes on 2 cores); ``--quick`` for one round of 2 epochs, no
held-out runs and no cold compiles; ``--cells elman`` for one cell. Needs the optional
peers (``pip install torch==2.13.0 jax``); a missing peer is reported and left out.

The workload (:mod:`rnn_workload`, its spec :data:`rnn_workload.SPEC`): 1,024 windows of
20 steps of a seeded noisy sine, 1 feature, next-value prediction at every step
(``output: every_step``, ``loss: half_sse``: a window's loss is the sum over its steps of
``1/2 (y_t - t_t)^2``, a minibatch's the mean over its windows); recurrent 32 (Elman
tanh or LSTM) and a dense 1 identity head at every step; consecutive minibatches of 32
(no shuffle), plain SGD at lr 0.005, full BPTT, 10 epochs; the same initial weights in
every row (PyTorch's default init drawn once with NumPy). Every row trains from them on
the same data with the same math, and its loss trajectory and trained parameters are
compared with the NumPy row's (float64: 1e-10; float32: 1e-4, relative on the losses and
absolute on the parameters), so that the rows time the same work.

Timing as :mod:`conv_digits`: rounds are interleaved (each round runs every row, in
rotated order); in a round a row runs repeatedly for ``--budget`` seconds (at least
once) after a pause for the previous row's threads to go idle, and the best run of all
rounds is reported. Compile: each row's first call in this process minus its best run
(JAX: tracing and XLA; Numba: the load from its cache when one is there); the hand
kernels' cold compile, in a new process with an empty Numba cache, is timed apart (and
symbp's, once its row runs).
Held-out error: each row trains once more (untimed, same protocol) and its parameters'
mean squared error is scored on 256 windows of a series of another seed
(:func:`heldout_of`).

Rows: ``JAX whole-run jit``, ``PyTorch eager`` (one thread: ``--torch-threads``),
``NumPy BPTT`` (:mod:`rnn_peers`); ``njit loops, per window (hand)`` (:mod:`rnn_hand`),
``njit loops, batch lanes (hand)`` (:mod:`rnn_hand_lanes`) and ``njit lanes + BLAS gemm
(hand)`` (:mod:`rnn_hand_blas`); ``symbp (generated)``:
:func:`symbp_row`, ``symbp.compile`` of the workload's spec. Columns: windows/s
(samples/s); each row's speed over JAX whole-run jit's and over the best hand-written
row's; compile seconds; held-out MSE; the final loss; the largest deviation from the
NumPy row (loss trajectory, relative; parameters, absolute). Issue 29's target for
symbp's row (at least 1.0x JAX whole-run jit) is printed beside it, or as pending with
the reason while the row cannot run.
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

import numpy as np
import rnn_peers
from conv_digits import best_of, cpu_model
from rnn_hand import hand_row
from rnn_hand_blas import blas_row
from rnn_hand_lanes import lanes_row
from rnn_peers import Run, jax_scan_row, numpy_row, torch_row
from rnn_symbp import Pending, symbp_row
from rnn_workload import CELLS, Params, RnnWorkload, initial_params, mse, series, windows, workload

TOL = {"float64": 1e-10, "float32": 1e-4}
HERE = Path(__file__).resolve().parent
#: Issue 29's target for symbp's row: at least this many times JAX whole-run jit's speed.
TARGET_X_JAX = 1.0


ROWS: dict[str, Callable[[RnnWorkload, str, Params], Run]] = {
    "symbp (generated)": symbp_row,
    "JAX whole-run jit": jax_scan_row,
    "PyTorch eager": torch_row,
    "NumPy BPTT": numpy_row,
    "njit loops, per window (hand)": hand_row,
    "njit loops, batch lanes (hand)": lanes_row,
    "njit lanes + BLAS gemm (hand)": blas_row,
}
SYMBP, JAX, TORCH, REFERENCE = (
    "symbp (generated)",
    "JAX whole-run jit",
    "PyTorch eager",
    "NumPy BPTT",
)
HAND = [
    "njit loops, per window (hand)",
    "njit loops, batch lanes (hand)",
    "njit lanes + BLAS gemm (hand)",
]


# ---------------------------------------------------------------------------
# Measurement.


@dataclass
class Result:
    cell: str
    dtype: str
    times: dict[str, list[float]] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)
    loss_dev: dict[str, float] = field(default_factory=dict)
    param_dev: dict[str, float] = field(default_factory=dict)
    final_loss: dict[str, float] = field(default_factory=dict)
    heldout: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def make_rows(w: RnnWorkload, dtype: str, params0: Params) -> tuple[dict[str, Run], dict[str, str]]:
    """Every row that can run, and why each other one cannot."""
    runs: dict[str, Run] = {}
    missing: dict[str, str] = {}
    for name, make in ROWS.items():
        try:
            runs[name] = make(w, dtype, params0)
        except ImportError as err:
            missing[name] = str(err).split("\n")[0]
        except Pending as err:
            missing[name] = str(err)
    return runs, missing


def deviation(
    got: tuple[np.ndarray, Params | None], ref: tuple[np.ndarray, Params]
) -> tuple[float, float]:
    """The largest relative deviation of a loss trajectory and the largest absolute one
    of the parameters from the reference's (NaN where a row gives no parameters)."""
    losses, params = got
    ref_losses, ref_params = ref
    if losses.shape != ref_losses.shape:
        return np.inf, np.inf
    loss = float(np.max(np.abs(losses - ref_losses) / np.abs(ref_losses)))
    if params is None:
        return loss, np.nan
    par = max(float(np.max(np.abs(p - q))) for p, q in zip(params, ref_params, strict=True))
    return loss, par


def measure(w: RnnWorkload, dtype: str, rounds: int, budget: float) -> Result:
    """Every row of the workload in ``dtype``: its first call (timed: compile included),
    then ``rounds`` interleaved rounds of repeated runs within ``budget`` seconds each."""
    params0 = initial_params(w.cell)
    runs, missing = make_rows(w, dtype, params0)
    result = Result(w.cell, dtype, missing=missing)
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


def heldout(n: int = 256, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``n`` windows of a series of another seed, for the held-out error."""
    from rnn_workload import STEPS, STRIDE

    return tuple(v[:n] for v in windows(series(n * STRIDE + STEPS + 1, seed)))  # type: ignore[return-value]


def heldout_of(w: RnnWorkload, result: Result) -> None:
    """Each row trained once more (untimed, same protocol); the mean squared error of
    its parameters' predictions on :func:`heldout` windows, in float64."""
    X, Y = heldout()
    runs, _ = make_rows(w, result.dtype, initial_params(w.cell))
    for name, run in runs.items():
        _, params = run()
        if params is not None:
            result.heldout[name] = mse(w.cell, params, X, Y)


def cold_compiles(cells: tuple[str, ...]) -> dict[str, float]:
    """Each hand kernel's (and symbp's, once it runs) cold compile per cell and dtype: in
    a new process with empty Numba and symbp caches, the first call on a few windows
    minus the second."""
    script = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from rnn_workload import workload, initial_params\n"
        "import rnn_hand, rnn_hand_blas, rnn_hand_lanes, rnn_sine\n"
        "out = {}\n"
        f"for cell in {cells!r}:\n"
        "    w = workload(cell, n=64, epochs=1); p = initial_params(cell)\n"
        "    for name, make in (('per window', rnn_hand.hand_row), "
        "('batch lanes', rnn_hand_lanes.lanes_row), ('lanes + BLAS', rnn_hand_blas.blas_row), "
        "('symbp', rnn_sine.symbp_row)):\n"
        "        for dtype in ('float64', 'float32'):\n"
        "            try:\n"
        "                run = make(w, dtype, p)\n"
        "            except rnn_sine.Pending:\n"
        "                continue\n"
        "            t0 = time.perf_counter(); run(); t1 = time.perf_counter(); run()\n"
        "            out[f'{name} {cell} {dtype}'] = (t1 - t0) - (time.perf_counter() - t1)\n"
        "print(json.dumps(out))\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SYMBP_CACHE_DIR": cache}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True
        )
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ---------------------------------------------------------------------------
# Report.


def report(results: list[Result], w: RnnWorkload) -> str:
    from train_speed import blas_kernel, vector_width

    lines = [f"CPU: {cpu_model()}", f"BLAS: {blas_kernel()}", *vector_width()]
    lines.append(
        f"Workload: {len(w.X)} windows of {w.X.shape[1]} steps of a noisy sine, 1 feature, "
        f"next value at every step; recurrent {w.hidden} (Elman tanh | LSTM) + dense 1 "
        f"identity at every step, half SSE summed over the steps, mean over the batch; "
        f"batch {w.batch}, SGD lr {w.lr}, full BPTT, {w.epochs} epochs "
        f"({w.samples} windows, {w.steps} steps per run)"
    )
    header = (
        f"{'cell':5} {'dtype':8} {'row':31} {'windows/s':>10} {'best s':>8} {'x JAX':>6} "
        f"{'x hand':>7} {'compile s':>9} {'heldout MSE':>11} {'final loss':>11} "
        f"{'loss dev':>8} {'param dev':>9}"
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
            held = f"{res.heldout[name]:.5f}" if name in res.heldout else ""
            target = ""
            if name == SYMBP and jax_t:
                got = jax_t / t
                target = f"  target >= {TARGET_X_JAX:.1f}x JAX: {_verdict(got >= TARGET_X_JAX)}"
            lines.append(
                f"{res.cell:5} {res.dtype:8} {name:31} {w.samples / t:10.4g} {t:8.4f} "
                f"{x_jax:>6} {x_hand:>7} {res.first[name] - t:9.2f} {held:>11} "
                f"{res.final_loss[name]:11.8f} {res.loss_dev[name]:8.1e} "
                f"{res.param_dev[name]:9.1e}{target}"
            )
        for name, why in res.missing.items():
            extra = f"  (target >= {TARGET_X_JAX:.1f}x JAX whole-run jit)" if name == SYMBP else ""
            lines.append(f"{res.cell:5} {res.dtype:8} {name:31} missing: {why}{extra}")
        lines.append("")
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(results: list[Result]) -> list[str]:
    """Issue 29's target for symbp's row per cell and dtype (at least 1.0x JAX whole-run
    jit), its ratios over the best hand-written row and PyTorch eager, the hand kernels'
    speed over JAX, and agreement with the NumPy row within :data:`TOL`."""
    out = []
    for res in results:
        best = {name: min(t) for name, t in res.times.items()}
        tag = f"{res.cell} {res.dtype}"
        if SYMBP in best:
            ours = best[SYMBP]
            if JAX in best:
                got = best[JAX] / ours
                out.append(
                    f"{tag}: symbp >= {TARGET_X_JAX:.1f}x JAX whole-run jit: "
                    f"{_verdict(got >= TARGET_X_JAX)} ({got:.2f}x)"
                )
            hand = [best[n] for n in HAND if n in best]
            if hand:
                out.append(f"{tag}: symbp over the best hand-written row: {min(hand) / ours:.2f}x")
            if TORCH in best:
                out.append(f"{tag}: symbp over PyTorch eager: {best[TORCH] / ours:.1f}x")
        else:
            out.append(
                f"{tag}: symbp target pending (>= {TARGET_X_JAX:.1f}x JAX whole-run jit): "
                f"{res.missing.get(SYMBP, 'no row')}"
            )
        if JAX in best:
            for name in HAND:
                if name in best:
                    out.append(
                        f"{tag}: {name} over JAX whole-run jit: {best[JAX] / best[name]:.2f}x"
                    )
        bad = [
            n
            for n in res.loss_dev
            if not (res.loss_dev[n] <= TOL[res.dtype])
            or res.param_dev[n] > TOL[res.dtype]  # NaN (no parameters): losses only
        ]
        out.append(
            f"{tag}: every row within {TOL[res.dtype]:g} of the NumPy row: {_verdict(not bad)}"
            + (f" (beyond: {', '.join(bad)})" if bad else "")
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--epochs", type=int, default=None, help="default: the spec's (10)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per row and round")
    parser.add_argument("--quick", action="store_true", help="2 epochs, one round, no extras")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    parser.add_argument(
        "--torch-threads", type=int, default=rnn_peers.TORCH_THREADS, help="PyTorch's threads"
    )
    args = parser.parse_args(argv)
    rnn_peers.TORCH_THREADS = args.torch_threads
    if args.quick:
        args.epochs, args.rounds, args.budget = args.epochs or 2, 1, 0.3
    results = []
    w = None
    for cell in args.cells:
        w = workload(cell) if args.epochs is None else workload(cell, epochs=args.epochs)
        for dtype in args.dtypes:
            print(f"measuring {cell} {dtype} ...", file=sys.stderr, flush=True)
            res = measure(w, dtype, args.rounds, args.budget)
            if not args.quick:
                print(f"held-out runs {cell} {dtype} ...", file=sys.stderr, flush=True)
                heldout_of(w, res)
            results.append(res)
    assert w is not None
    print(report(results, w))
    print("Targets:")
    for line in targets(results):
        print("  " + line)
    if not args.quick:
        print("\nCold compile (new process, empty Numba and symbp caches, first call minus "
              "second on 64 windows, one epoch):")  # fmt: skip
        for key, value in cold_compiles(tuple(args.cells)).items():
            print(f"  {key}: {value:.2f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.__dict__ for r in results], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
