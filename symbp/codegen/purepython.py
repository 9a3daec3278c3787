"""Plain NumPy versions of the kernels' intrinsics: the reference mode.

With ``NUMBA_DISABLE_JIT=1`` Numba's ``@njit`` returns the Python function itself,
but an ``@intrinsic`` cannot run outside compiled code. :mod:`.runtime` and
:mod:`.simd` then bind their intrinsics' names to the functions here instead, so a
generated trainer runs as ordinary Python: it can be stepped through in ``pdb`` and
compared with the compiled module (``tests/test_codegen_reference_mode.py``).

Each function does what its intrinsic does (see the intrinsic's docstring) on NumPy
arrays and scalars of the array's dtype. Two differences are allowed and small:
:func:`vfma` and :func:`fma` round twice (``x*y`` then ``+``) where LLVM's ``fma``
rounds once, and vectors are NumPy arrays of :func:`lanes` elements. Views are
NumPy views, so writes through :func:`matrix` and :func:`vector` reach the flat
vector as in compiled code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .simd import VECTOR_BITS

Array = np.ndarray[Any, Any]


def lanes(ary: Array) -> int:
    """The number of lanes of a vector of ``ary``'s dtype."""
    return VECTOR_BITS // (8 * ary.dtype.itemsize)


def vzero(ary: Array) -> Array:
    """A vector of zeros of ``ary``'s dtype."""
    return np.zeros(lanes(ary), dtype=ary.dtype)


def vload_n(ary: Array, i: int, j: int, n: int) -> Array:
    """``ary[i, j:j + n]`` in the first ``n`` lanes, zeros in the others."""
    out = vzero(ary)
    out[:n] = ary[i, j : j + n]
    return out


def vload(ary: Array, i: int, j: int) -> Array:
    """``ary[i, j:j + lanes]``."""
    return vload_n(ary, i, j, lanes(ary))


def vadd(u: Array, v: Array) -> Array:
    """``u + v`` lane by lane."""
    return u + v


def vfma(x: Any, y: Array, acc: Array) -> Array:
    """``x * y + acc`` lane by lane (``x`` a scalar)."""
    return y.dtype.type(x) * y + acc


def vput_n(ary: Array, i: int, j: int, v: Array, alpha: Any, beta: Any, n: int) -> None:
    """``ary[i, j:j + n] = alpha·v[:n] + beta·ary[i, j:j + n]`` (not read when beta is 0)."""
    kind = ary.dtype.type
    out = kind(alpha) * v[:n]
    if beta != 0:
        out = kind(beta) * ary[i, j : j + n] + out
    ary[i, j : j + n] = out


def vput(ary: Array, i: int, j: int, v: Array, alpha: Any, beta: Any) -> None:
    """``ary[i, j:j + lanes] = alpha·v + beta·ary[i, j:j + lanes]``."""
    vput_n(ary, i, j, v, alpha, beta, lanes(ary))


def vprefetch(ary: Array, i: int, j: int) -> None:
    """A hint to the cache in compiled code; nothing here."""


def strided(ary: Array) -> Array:
    """The array itself (only its Numba type changes in compiled code)."""
    return ary


def not_inlined() -> None:
    """An LLVM attribute in compiled code; nothing here."""


def matrix(flat: Array, start: int, rows: int, cols: int) -> Array:
    """``flat[start:start + rows*cols]`` as a C-order ``(rows, cols)`` view."""
    if start + rows * cols > flat.shape[0]:
        raise ValueError("flat vector too short for the arrays it holds")
    return flat[start : start + rows * cols].reshape((rows, cols))


def vector(flat: Array, start: int, n: int) -> Array:
    """``flat[start:start + n]`` (a view)."""
    if start + n > flat.shape[0]:
        raise ValueError("flat vector too short for the arrays it holds")
    return flat[start : start + n]


def fma(a: Any, b: Any, c: Any) -> Any:
    """``a*b + c`` in the operands' type."""
    return a * b + c


def i64_as_f64(x: Any) -> np.float64:
    """The float64 whose bits are the int64 ``x``."""
    return np.int64(x).view(np.float64)


def i32_as_f32(x: Any) -> np.float32:
    """The float32 whose bits are the int32 ``x``."""
    return np.int32(x).view(np.float32)
