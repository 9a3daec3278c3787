"""A ``tanh`` that LLVM can vectorise, for the batch-lanes kernels of :mod:`rnn_hand_lanes`.

Why: the recurrent workload calls ``tanh`` (and, in the LSTM, ``exp``) once per unit,
step and window: 3.3 million calls per Elman run of 10 epochs at 32 units. Numba lowers
``np.tanh`` to the C library's scalar function (vectorised only with Intel's SVML, not
installed here), and those calls took about half of the batch-lanes kernel's time; JAX
(XLA) emits its own vectorised ``tanh``. :func:`vtanh` is plain arithmetic, so that a
loop over the lanes that calls it (inlined) runs 4 (float64) values per instruction:

- ``|x| < 0.625``: Cephes' rational form ``x + x z P(z) / Q(z)``, ``z = x^2``;
- otherwise ``1 - 2 / (exp(2|x|) + 1)`` with the sign of ``x``, ``|x|`` clamped at 19.1
  (beyond it ``tanh`` is 1 in float64); ``exp(y) = 2^k e^r``: ``k = round(y / ln 2)``,
  ``r = y - k ln 2`` in two parts (Cody and Waite), ``e^r`` by Cephes' Padé form, and
  ``2^k`` (``0 <= k <= 56``) as a product of the powers ``2^(2^i)`` selected by ``k``'s
  bits (no bit casts, no calls);
- NaN gives NaN, ``-0.0`` gives ``-0.0``.

Every branch is a select, and the kernels use ``error_model="numpy"`` (no division
check), so the loop stays branch-free. Within 2 ulp of NumPy's ``tanh`` over [-25, 25]
(tests/test_rnn_bench.py); the sigmoid is ``0.5 + 0.5 tanh(z / 2)``, the same function.

Float32 has its own :func:`vtanh32` (Cephes' ``tanhf`` and ``expf`` forms, float32
constants, clamped at 9), so that a float32 loop runs 8 values per instruction instead
of converting to float64 and back; :func:`act_tanh` and :func:`act_sigmoid` pick the one
of the argument's type when the kernel compiles.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
from numba import njit, types
from numba.core.errors import NumbaIRAssumptionWarning
from numba.extending import overload


@contextlib.contextmanager
def quiet_inlining() -> Iterator[None]:
    """A context in which a kernel that calls :func:`act_tanh`/:func:`act_sigmoid`
    compiles without Numba's ``NumbaIRAssumptionWarning`` about them.

    The overloads are inlined into the kernels' IR (without it LLVM does not inline them
    and the loops stay scalar); Numba's SSA pass then warns that the selects' phi
    variables of the inlined body "are not in scope". The compiled code is right (tested
    against NumPy); only that warning, only for these functions, is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r".*variable '_act_(tanh|sigmoid)",
            category=NumbaIRAssumptionWarning,
        )
        yield


#: ln 2 in two parts (Cody-Waite): C1 has few bits, so k C1 is exact for k <= 56.
C1, C2 = 6.93145751953125e-1, 1.42860682030941723212e-6
LOG2E = 1.4426950408889634
#: Beyond this |x| tanh(x) rounds to +-1 in float64.
SATURATE = 19.1


@njit(inline="always", error_model="numpy")
def vtanh(x: float) -> float:
    """``tanh(x)`` in branch-free arithmetic (see the module docstring)."""
    a = min(abs(x), SATURATE)
    y = 2.0 * a
    k = int(y * LOG2E + 0.5)
    n = float(k)
    r = (y - n * C1) - n * C2
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 1.0)
    qx = (
        (3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
        + 2.27265548208155028766e-1
    ) * rr + 2.0
    e = 1.0 + 2.0 * px / (qx - px)
    p = 1.0
    p *= 2.0 if k & 1 else 1.0
    p *= 4.0 if k & 2 else 1.0
    p *= 16.0 if k & 4 else 1.0
    p *= 256.0 if k & 8 else 1.0
    p *= 65536.0 if k & 16 else 1.0
    p *= 4294967296.0 if k & 32 else 1.0
    big = 1.0 - 2.0 / (e * p + 1.0)
    z = x * x
    num = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
    num = num - 1.61468768441708447952e3
    den = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
    den = den + 4.84406305325125486048e3
    small = x + x * z * num / den
    out = small if a < 0.625 else (big if x > 0 else -big)
    return out if x == x and x != 0.0 else x  # NaN and signed zeros as they are


@njit(inline="always", error_model="numpy")
def vsigmoid(x: float) -> float:
    """``1 / (1 + exp(-x))`` as ``0.5 + 0.5 tanh(x / 2)`` (:func:`vtanh`)."""
    return 0.5 + 0.5 * vtanh(0.5 * x)


F32 = np.float32
#: ln 2 in two parts for float32 (Cephes' expf), log2(e), the clamp (tanhf(9) rounds to 1).
C1_32, C2_32, LOG2E_32, SATURATE_32 = (
    F32(0.693359375),
    F32(-2.12194440e-4),
    F32(1.44269504),
    F32(9.0),
)


@njit(inline="always", error_model="numpy")
def vtanh32(x: float) -> float:
    """``tanh(x)`` of a float32 in float32 arithmetic (as :func:`vtanh`)."""
    one, two, half = F32(1.0), F32(2.0), F32(0.5)
    a = min(abs(x), SATURATE_32)
    y = two * a
    k = int(y * LOG2E_32 + half)
    n = F32(k)
    r = (y - n * C1_32) - n * C2_32
    e = (
        (
            (
                (
                    ((F32(1.9875691500e-4) * r + F32(1.3981999507e-3)) * r + F32(8.3334519073e-3))
                    * r
                    + F32(4.1665795894e-2)
                )
                * r
                + F32(1.6666665459e-1)
            )
            * r
            + F32(5.0000001201e-1)
        )
        * (r * r)
        + r
        + one
    )
    p = one
    p *= F32(2.0) if k & 1 else one
    p *= F32(4.0) if k & 2 else one
    p *= F32(16.0) if k & 4 else one
    p *= F32(256.0) if k & 8 else one
    p *= F32(65536.0) if k & 16 else one
    big = one - two / (e * p + one)
    z = x * x
    small = (
        (
            ((F32(-5.70498872745e-3) * z + F32(2.06390887954e-2)) * z - F32(5.37397155531e-2)) * z
            + F32(1.33314422036e-1)
        )
        * z
        - F32(3.33332819422e-1)
    ) * z * x + x
    out = small if a < F32(0.625) else (big if x > 0 else -big)
    return out if x == x and x != 0 else x


def act_tanh(x: float) -> float:
    """``tanh`` for a kernel: :func:`vtanh32` of a float32, else :func:`vtanh`."""
    raise NotImplementedError("only inside Numba kernels")


def act_sigmoid(x: float) -> float:
    """The sigmoid for a kernel, from :func:`act_tanh`."""
    raise NotImplementedError("only inside Numba kernels")


@overload(act_tanh, inline="always")
def _act_tanh(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: vtanh32(x)
    return lambda x: vtanh(x)


@overload(act_sigmoid, inline="always")
def _act_sigmoid(x):  # type: ignore[no-untyped-def]
    if x == types.float32:
        return lambda x: F32(0.5) + F32(0.5) * vtanh32(F32(0.5) * x)
    return lambda x: 0.5 + 0.5 * vtanh(0.5 * x)
