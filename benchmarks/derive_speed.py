"""How long the two symbolic views take to derive, as the network grows.

Run: ``python benchmarks/derive_speed.py`` (about a minute on 2 cores).

- Layer-generic view (:func:`symbp.symbolic.generic.derive_generic`): widths stay
  symbols, so its cost depends on the depth only. Timed on 3-4-1, 64-64-10,
  784-512-512-10 and 10 layers of width 1024; the issue expects 784-512-512-10
  "in well under a second".
- Explicit view (:func:`symbp.symbolic.explicit.derive_explicit`): one symbol
  and one chain per parameter, so its cost grows with the parameter count and
  the number of paths; timed on growing small nets until it refuses
  (:class:`~symbp.errors.TooLargeError`).

``first`` is the first derivation in this process (SymPy's caches cold for that
network), ``best`` the fastest of the repeats. Times are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import symbp
from symbp.errors import TooLargeError
from symbp.symbolic.explicit import derive_explicit
from symbp.symbolic.generic import derive_generic

GENERIC_NETS: list[tuple[str, dict[str, Any]]] = [
    ("3-4-1 sigmoid/bce", {"layers": [3, 4, 1], "activations": "sigmoid", "loss": "bce"}),
    (
        "64-64-10 relu/softmax/ce",
        {"layers": [64, 64, 10], "activations": ["relu", "softmax"], "loss": "cross_entropy"},
    ),
    (
        "784-512-512-10 relu/softmax/ce",
        {
            "layers": [784, 512, 512, 10],
            "activations": ["relu", "relu", "softmax"],
            "loss": "cross_entropy",
        },
    ),
    ("10 x 1024 tanh/mse", {"layers": [1024] * 11, "activations": "tanh", "loss": "mse"}),
]

EXPLICIT_NETS: list[list[int]] = [
    [2, 2, 1],
    [3, 4, 1],
    [4, 6, 2],
    [6, 8, 3],
    [8, 10, 4],
    [10, 12, 4],
    [12, 16, 4],
    [4, 6, 6, 2],
    [6, 8, 8, 3],
    [16, 32, 4],
]

#: The issue's bound for 784-512-512-10 ("well under a second").
GENERIC_BOUND_S = 1.0


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times[0], min(times), result


def generic(repeats: int) -> float:
    """Print the generic view's times; return the 784-512-512-10 best time."""
    print("layer-generic view (derive_generic)")
    print(f"  {'network':34s} {'params':>9s} {'first s':>9s} {'best s':>9s}")
    bound = float("nan")
    for label, data in GENERIC_NETS:
        spec = symbp.load(data)
        first, best, _ = _time(lambda spec=spec: derive_generic(spec), repeats)
        print(f"  {label:34s} {spec.n_params:9d} {first:9.3f} {best:9.3f}")
        if spec.layers == (784, 512, 512, 10):
            bound = best
    return bound


def explicit(repeats: int) -> None:
    print("explicit view (derive_explicit), sigmoid + mse")
    print(f"  {'network':16s} {'params':>7s} {'chain factors':>14s} {'first s':>9s} {'best s':>9s}")
    for layers in EXPLICIT_NETS:
        spec = symbp.load({"layers": layers, "activations": "sigmoid", "loss": "mse"})
        label = "-".join(map(str, layers))
        try:
            first, best, model = _time(lambda spec=spec: derive_explicit(spec), repeats)
        except TooLargeError as err:
            print(f"  {label:16s} {spec.n_params:7d}   refused: {err.message[:70]}...")
            break
        factors = sum(chain.n_factors for chain in model.chains.values())
        print(f"  {label:16s} {spec.n_params:7d} {factors:14d} {first:9.3f} {best:9.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timings per network")
    args = parser.parse_args(argv)
    derive_generic(symbp.load({"layers": [1, 1]}))  # import and SymPy warm-up
    best = generic(args.repeats)
    print()
    explicit(max(1, args.repeats - 1))
    print()
    verdict = "yes" if best < GENERIC_BOUND_S else "NO"
    print(f"784-512-512-10 under {GENERIC_BOUND_S:.0f} s: {verdict} ({best:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
