"""Time exact evaluation and verification of a full-batch step over many examples.

Issue 14's case: a 4-2-2 tanh/softmax/cross-entropy net, 400 examples, one
full-batch step, checked by ``symbp verify`` against claims made from the result.
Prints the seconds of the vectorised runner and, for a smaller batch, of the
reference (one SymPy number at a time) with the ratio. A figure holds for the
machine it ran on.

    python benchmarks/verify_speed.py [--rows 400] [--reference-rows 40]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from symbp.spec import load
from symbp.symbolic.evaluate import evaluate
from symbp.verify import verify


def spec_data(rows: int, claims: bool = False) -> dict:
    rng = np.random.default_rng(0)
    X = np.round(rng.uniform(-1, 1, (rows, 4)), 2)
    labels = rng.integers(0, 2, rows)
    data = {
        "layers": [4, 2, 2],
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "params": {
            "W": [[[0.1, -0.2, 0.3, 0.05], [-0.3, 0.2, 0.1, -0.1]], [[0.4, -0.5], [-0.2, 0.3]]],
            "b": [[0.0, 0.1], [0.05, -0.05]],
        },
        "examples": [
            {"x": [float(v) for v in x], "t": [int(label == 0), int(label == 1)]}
            for x, label in zip(X, labels, strict=True)
        ],
    }
    return data


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--reference-rows", type=int, default=40)
    args = parser.parse_args()

    spec = load(spec_data(args.rows))
    seconds, evaluation = timed(lambda: evaluate(spec, steps=1))
    print(f"evaluate, {args.rows} rows, 1 full-batch step (vectorised): {seconds:.2f} s")
    after = evaluation.steps[1]
    data = spec_data(args.rows)
    data["claims"] = [
        {"of": "loss", "step": 1, "printed": f"{float(after.loss):.6f}"},
        {"of": "W[0][0][0]", "step": 1, "printed": f"{float(after.W[0][0][0]):.6f}"},
        {"of": "W[1][1][1]", "step": 1, "printed": f"{float(after.W[1][1][1]):.6f}"},
    ]
    seconds, report = timed(lambda: verify(load(data)))
    print(f"verify, {args.rows} rows, claims at step 1: {seconds:.2f} s ({report.summary()})")

    small = load(spec_data(args.reference_rows))
    fast, _ = timed(lambda: evaluate(small, steps=1, fast=True))
    slow, _ = timed(lambda: evaluate(small, steps=1, fast=False))
    print(
        f"{args.reference_rows} rows: vectorised {fast:.2f} s, reference {slow:.2f} s,"
        f" ratio {slow / fast:.1f}x"
    )


if __name__ == "__main__":
    main()
