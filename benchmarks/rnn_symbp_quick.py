"""symbp's row of the recurrent workload (issue 29 item 8), with a JAX whole-run jit to
compare against: a quick, self-contained timing.

The workload: next-value prediction of a seeded noisy sine; sequences of 20 steps of 1
feature, the target at every step the series' next value; hidden 32, Elman (tanh) or LSTM,
a dense 1 identity head, half-SSE summed over the steps (the mean over a batch's
sequences); batch 32, plain SGD; float64 and float32. Both trainers start from the same
parameters (symbp's seeded draw) and run the same batches in the same order (no
shuffling), so their loss trajectories agree (checked: first and last step).

symbp: :func:`symbp.compile` then ``fit`` (the one generated kernel; compile and the
first call's Numba compilation outside the timing). JAX: the whole run as one
``jax.jit`` (``lax.scan`` over the epochs' batches, ``lax.scan`` over the time steps
inside the loss, ``jax.grad``), compiled by a first call outside the timing.

Samples per second count sequences trained on. Run::

    python benchmarks/rnn_symbp_quick.py [--epochs 20] [--sequences 1024] [--repeat 3]

and it prints one line per cell and dtype, and ``--json`` the numbers as JSON.
:func:`symbp_row` is the function a benchmark harness calls for symbp's row.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

STEPS, FEATURES, HIDDEN, BATCH, LR = 20, 1, 32, 32, 0.01


def sine_data(sequences: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` ``(n, 20, 1)`` windows of a noisy sine and ``T`` ``(n, 20, 1)`` the next values."""
    rng = np.random.default_rng(seed)
    t = np.arange(sequences + STEPS + 1) * 0.1
    series = np.sin(t) + 0.1 * rng.standard_normal(t.size)
    idx = np.arange(STEPS)[None, :] + np.arange(sequences)[:, None]
    X = series[idx][..., None]
    T = series[idx + 1][..., None]
    return X, T


def spec_data(cell: str, dtype: str, epochs: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"recurrent": HIDDEN, "cell": cell}
    if cell == "elman":
        entry["activation"] = "tanh"
    return {
        "name": f"rnn_sine_{cell}",
        "input": {"steps": STEPS, "features": FEATURES},
        "layers": [entry, {"dense": 1, "activation": "identity"}],
        "output": "every_step",
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": LR},
        "training": {"epochs": epochs, "batch_size": BATCH, "shuffle": False},
        "init": {"name": "uniform", "low": -0.17, "high": 0.17, "seed": 0},  # ~ PyTorch: 1/sqrt(32)
        "dtype": dtype,
    }


def symbp_row(cell: str, dtype: str, X: np.ndarray, T: np.ndarray, epochs: int) -> dict[str, Any]:
    """Train symbp's generated trainer; returns seconds, samples/s and the step losses."""
    import symbp

    trainer = symbp.compile(spec_data(cell, dtype, epochs))
    trainer.fit(X[:BATCH], T[:BATCH], epochs=1)  # Numba's compile (or cache load)
    trainer.reset()
    start = time.perf_counter()
    history = trainer.fit(X, T, epochs=epochs)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "samples_per_s": epochs * X.shape[0] / seconds,
        "losses": history.step_losses.copy(),
        "start": trainer.initial_params(),
    }


def jax_row(
    cell: str, dtype: str, X: np.ndarray, T: np.ndarray, epochs: int, start: Any
) -> dict[str, Any]:
    """The same run as one ``jax.jit`` (``lax.scan``); ``start`` is symbp's (W, U, b)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    W, U, b = start
    dt = jnp.float64 if dtype == "float64" else jnp.float32
    params = tuple(jnp.asarray(a, dt) for a in (W[0], U[0], b[0], W[1], b[1]))
    n = X.shape[0] // BATCH * BATCH
    xb = jnp.asarray(X[:n], dt).reshape(-1, BATCH, STEPS, FEATURES).transpose(0, 2, 1, 3)
    tb = jnp.asarray(T[:n], dt).reshape(-1, BATCH, STEPS, 1).transpose(0, 2, 1, 3)
    lstm = cell == "lstm"

    def loss(p: Any, x: Any, t: Any) -> Any:
        Wi, Uh, bb, Wo, bo = p

        def step(carry: Any, xt: Any) -> Any:
            h, c = carry
            z = xt @ Wi.T + h @ Uh.T + bb
            if lstm:
                i, f, g, o = jnp.split(z, 4, axis=-1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
            else:
                h = jnp.tanh(z)
            return (h, c), h

        zero = jnp.zeros((x.shape[1], HIDDEN), dt)
        _, hs = jax.lax.scan(step, (zero, zero), x)
        y = hs @ Wo.T + bo
        return 0.5 * jnp.sum((y - t) ** 2) / x.shape[1]

    grad = jax.value_and_grad(loss)

    @jax.jit
    def run(p: Any) -> Any:
        def one(p: Any, batch: Any) -> Any:
            value, g = grad(p, *batch)
            return tuple(a - LR * da for a, da in zip(p, g, strict=True)), value

        def epoch(p: Any, _: Any) -> Any:
            return jax.lax.scan(one, p, (xb, tb))

        return jax.lax.scan(epoch, p, None, length=epochs)

    jax.block_until_ready(run(params))  # compile
    begin = time.perf_counter()
    _, losses = jax.block_until_ready(run(params))
    seconds = time.perf_counter() - begin
    return {
        "seconds": seconds,
        "samples_per_s": epochs * n / seconds,
        "losses": np.asarray(losses, np.float64).ravel(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--sequences", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timed runs")
    parser.add_argument("--cells", nargs="+", default=["elman", "lstm"])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--no-jax", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    X, T = sine_data(args.sequences)
    rows = []
    for cell in args.cells:
        for dtype in args.dtypes:
            runs = [symbp_row(cell, dtype, X, T, args.epochs) for _ in range(args.repeat)]
            ours = min(runs, key=lambda r: r["seconds"])
            row: dict[str, Any] = {
                "cell": cell,
                "dtype": dtype,
                "symbp_samples_per_s": ours["samples_per_s"],
            }
            if not args.no_jax:
                jruns = [
                    jax_row(cell, dtype, X, T, args.epochs, ours["start"])
                    for _ in range(args.repeat)
                ]
                theirs = min(jruns, key=lambda r: r["seconds"])
                row["jax_samples_per_s"] = theirs["samples_per_s"]
                row["ratio"] = ours["samples_per_s"] / theirs["samples_per_s"]
                tol = 1e-9 if dtype == "float64" else 1e-3
                row["same_losses"] = bool(
                    np.allclose(ours["losses"][[0, -1]], theirs["losses"][[0, -1]], rtol=tol)
                )
            rows.append(row)
            if not args.json:
                text = f"{cell:6s} {dtype}: symbp {row['symbp_samples_per_s']:,.0f} samples/s"
                if "ratio" in row:
                    text += (
                        f", JAX jit {row['jax_samples_per_s']:,.0f} samples/s, "
                        f"{row['ratio']:.2f}x, same losses: {row['same_losses']}"
                    )
                print(text, flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
