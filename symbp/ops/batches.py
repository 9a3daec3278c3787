"""The training schedule: which rows each update uses, for evaluator and kernels alike.

A *step* is one update. An *epoch* passes the rows once: at its start the row order is
shuffled (when ``shuffle``), then it is cut into consecutive batches of ``batch_size``
rows (``None``: all rows, full-batch gradient descent); the last batch of an epoch may
be smaller, or is left out with ``drop_last``.

:func:`shuffle` is the one Fisher-Yates shuffle (SplitMix64 generator, state a
``uint64`` array of length 1) of the whole package: the generated trainer's kernels run
it compiled (``symbp.codegen.runtime`` wraps this very function in ``njit``), and
:func:`batch_order` runs it in Python, so the exact evaluator and the compiled trainer
visit the rows in the same order for the same seed. Starting from ``order =
arange(n)`` and ``rng = [seed]``, each epoch shuffles the previous epoch's order in
place (the permutations compose, as in the kernel).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO53 = 1.0 / 9007199254740992.0


def shuffle(order, rng):  # type: ignore[no-untyped-def]
    """Shuffle ``order`` in place (Fisher-Yates; ``rng`` a uint64 array of length 1).

    Plain NumPy code that Numba compiles unchanged (the kernels' shuffle); called from
    Python, run it under ``np.errstate(over="ignore")`` (uint64 arithmetic wraps).
    """
    for i in range(order.shape[0] - 1, 0, -1):
        state = rng[0] + _GOLDEN  # SplitMix64
        rng[0] = state
        z = (state ^ (state >> _S30)) * _MIX1
        z = (z ^ (z >> _S27)) * _MIX2
        z = z ^ (z >> _S31)
        u = np.float64(z >> _S11) * _TWO53
        j = min(np.int64(u * (i + 1)), i)
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp


@dataclass(frozen=True)
class BatchPlan:
    """How ``n`` rows are cut into steps: ``batch`` rows per step, ``per_epoch`` steps.

    ``batch_size`` is the spec's (``None``: full batch); ``batch`` is the effective
    size, at most ``n``.
    """

    n: int
    batch_size: int | None
    shuffle: bool
    seed: int
    drop_last: bool = False

    @property
    def batch(self) -> int:
        """Rows per full step (``min(batch_size, n)``; ``n`` for full batch)."""
        return min(self.batch_size or self.n, self.n)

    @property
    def used(self) -> int:
        """Rows an epoch uses: all, or the full batches only with ``drop_last``."""
        return self.n - self.n % self.batch if self.drop_last else self.n

    @property
    def per_epoch(self) -> int:
        """Steps (updates) per epoch."""
        return self.used // self.batch if self.drop_last else math.ceil(self.n / self.batch)

    @property
    def is_full_batch(self) -> bool:
        """Whether every step uses every row in its original order."""
        return self.batch == self.n and not self.shuffle

    def bounds(self) -> list[tuple[int, int]]:
        """``(start, stop)`` into an epoch's row order for each of its steps."""
        b = self.batch
        return [(s, min(s + b, self.n)) for s in range(0, self.used, b)]

    def epochs(self) -> Iterator[tuple[tuple[int, ...], ...]]:
        """Endless: for each epoch, the rows (0-based, in use order) of each of its steps."""
        order = np.arange(self.n, dtype=np.int64)
        rng = np.array([self.seed % 2**64], dtype=np.uint64)
        bounds = self.bounds()
        while True:
            if self.shuffle:
                with np.errstate(over="ignore"):
                    shuffle(order, rng)
            rows = [int(r) for r in order]
            yield tuple(tuple(rows[a:c]) for a, c in bounds)

    def steps(self, count: int) -> list[tuple[int, tuple[int, ...]]]:
        """``(epoch, rows)`` of the first ``count`` steps (epochs 0-based)."""
        out: list[tuple[int, tuple[int, ...]]] = []
        for epoch, batches in enumerate(self.epochs()):
            for rows in batches:
                if len(out) == count:
                    return out
                out.append((epoch, rows))
            if len(out) == count:
                return out
        return out  # pragma: no cover - epochs() is endless


def batch_order(
    n: int,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int = 0,
    epochs: int = 1,
    drop_last: bool = False,
) -> list[tuple[tuple[int, ...], ...]]:
    """The rows of each step of each of ``epochs`` epochs: ``out[e][s]`` (all 0-based)."""
    plan = BatchPlan(n, batch_size, shuffle, seed, drop_last)
    it = plan.epochs()
    return [next(it) for _ in range(epochs)]


def plan_of(spec: object, n: int | None = None) -> BatchPlan:
    """The :class:`BatchPlan` of a spec's ``training`` over its examples (or ``n`` rows)."""
    training = spec.training  # type: ignore[attr-defined]
    rows = len(spec.examples) if n is None else n  # type: ignore[attr-defined]
    return BatchPlan(
        rows,
        training.batch_size,
        training.shuffle,
        training.seed,
        getattr(training, "drop_last", False),
    )
