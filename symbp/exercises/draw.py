"""The random numbers of the exercises: one fixed, documented stream per student.

A student's stream is NumPy's ``PCG64`` bit generator seeded with
``SeedSequence([seed, w0, ..., w7])``, where ``w0..w7`` are the eight
big-endian 32-bit words of ``SHA-256("symbp-exercises/v1:" + student ID)``
(:mod:`hashlib`, never Python's salted ``hash()``). Only the bit generator's
raw 64-bit outputs (``random_raw``) are used, and they are mapped to integers
here by rejection sampling (:func:`Stream.integer`), so the numbers do not
depend on NumPy's distribution methods, whose algorithms may change between
releases; NumPy keeps ``SeedSequence`` and ``PCG64``'s raw stream fixed.
No global random state is read or changed.

A drawn number is always ``k / 10^d`` for an integer ``k``: exact, and written
to the variant specs as a short decimal.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import numpy as np

from ..spec.exercise import Range

#: Part of every student's hash: a new version of the scheme changes it.
SCHEME = "symbp-exercises/v1:"
_TWO64 = 1 << 64


def student_entropy(seed: int, student: str) -> list[int]:
    """The ``SeedSequence`` entropy of ``student``'s stream under ``seed``."""
    digest = hashlib.sha256((SCHEME + student).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "big") for i in range(0, 32, 4)]
    return [seed, *words]


class Stream:
    """The integers and decimals of one student (see the module docstring)."""

    def __init__(self, seed: int, student: str) -> None:
        sequence = np.random.SeedSequence(student_entropy(seed, student))
        self._bits = np.random.PCG64(sequence)

    def raw(self) -> int:
        """The next raw 64-bit output of the bit generator."""
        return int(self._bits.random_raw())

    def integer(self, low: int, high: int) -> int:
        """A uniform integer in ``[low, high]`` by rejection from the raw 64-bit outputs."""
        if high < low:
            raise ValueError(f"empty range [{low}, {high}]")
        n = high - low + 1
        if n > _TWO64:
            raise ValueError(f"range [{low}, {high}] is wider than 2^64")
        limit = _TWO64 - _TWO64 % n  # the largest multiple of n that fits: no modulo bias
        while True:
            r = self.raw()
            if r < limit:
                return low + r % n

    def decimal(self, spec: Range) -> Fraction:
        """A number ``k / 10^d`` with ``low <= k / 10^d <= high`` (``spec``'s range)."""
        low, high = spec.scaled
        return Fraction(self.integer(low, high), 10**spec.decimals)
