"""Run-time helpers that generated trainer modules import.

Everything here is ``@njit(cache=True)`` functions and intrinsics that LLVM inlines
into the generated kernels (and vectorises there), so a generated module stays a plain
file of ``@njit`` functions. The source of this module is part of every generated module's cache key
(:data:`RUNTIME_HASH`): a change here gives new module files, never stale compiled code.

- ``exp64``/``exp32``, ``expm1_64``/``expm1_32``, ``tanh64``/``tanh32``: branch-free,
  vectorisable versions (Cody-Waite range reduction, Taylor polynomials, exponent by
  bit cast) accurate to a few ulp; NaN propagates, overflow gives ``inf``, underflow 0.
  The scalar libm calls they replace stop LLVM from vectorising element-wise loops.
- ``gemm_acc(X, Y, C, I, N, P, alpha, beta)``: ``C[:I, :N] = alpha·X[:I, :P]·Y[:P, :N]
  + beta·C``, the broadcast form on explicit vectors, and ``gemm_acc_tile`` one tile
  of it for a module's ``prange`` loop: every product of every layer that is not small
  (defined in :mod:`.simd`, next to the intrinsics they use); ``gemm_lanes``, the same
  contract, for the recurrent trainer's products (a register block that does not spill
  with 16 vector registers).
- ``transpose_into``/``transpose_rows``: the copies ``W_l`` of weights stored as
  ``WT_l`` that back-propagation reads.
- ``maximum``/``minimum``: Python's ``max``/``min`` of two values, typed in place.
- ``matrix(flat, start, rows, cols)``, ``vector(flat, start, n)``: the arrays inside a
  flat vector (parameters, gradients, workspace), as views, checked against its length.
- ``shuffle(order, rng)``: in-place Fisher-Yates with a SplitMix64 generator whose
  64-bit state is ``rng[0]`` (reproducible, independent of NumPy's global state).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import config, njit
from numba.core import cgutils, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic

from ..ops import batches as _batches
from .simd import JitOptions, fused_multiply_add
from .simd import acc_tiles as acc_tiles  # re-exported: generated modules import here
from .simd import gemm_acc as gemm_acc
from .simd import gemm_acc_tile as gemm_acc_tile
from .simd import gemm_lanes as gemm_lanes

#: Hash of this module, :mod:`.simd` (whose products it re-exports) and the reference
#: mode's :mod:`.purepython`.
RUNTIME_HASH = hashlib.sha256(
    b"".join(
        Path(__file__).with_name(name).read_bytes()
        for name in ("runtime.py", "simd.py", "purepython.py")
    )
).hexdigest()[:12]

_JIT: JitOptions = {"error_model": "numpy", "cache": True}
#: Scalar helpers that Numba inlines into the caller's IR (LLVM does not always).
_INLINE: JitOptions = {**_JIT, "inline": "always"}

# ---------------------------------------------------------------------------
# Bit casts (integer pattern -> float), for building 2**n without a libm call.


@intrinsic
def _i64_as_f64(typingctx, x):  # type: ignore[no-untyped-def]
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _i32_as_f32(typingctx, x):  # type: ignore[no-untyped-def]
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


# ---------------------------------------------------------------------------
# Views into flat vectors.


def _is_flat(flat: types.Type, ints: tuple[types.Type, ...]) -> bool:
    """A C-contiguous vector and integer offsets/sizes: what :func:`matrix` and
    :func:`vector` accept."""
    is_vector = isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"
    return is_vector and all(isinstance(t, types.Integer) for t in ints)


def _view(context, builder, sig, args, result):  # type: ignore[no-untyped-def]
    """The view ``flat[start:…]`` of shape ``args[2:]`` (C order), after checking that
    ``flat`` holds it (else ``ValueError``)."""
    flat = sig.args[0]
    src = context.make_array(flat)(context, builder, args[0])
    first, *shape = (
        context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], sig.args[1:], strict=True)
    )
    size = shape[0] if len(shape) == 1 else builder.mul(shape[0], shape[1])
    length = cgutils.unpack_tuple(builder, src.shape, 1)[0]
    with builder.if_then(builder.icmp_signed(">", builder.add(first, size), length), likely=False):
        message = ("flat vector too short for the arrays it holds",)
        context.call_conv.return_user_exc(builder, ValueError, message)
    itemsize = src.itemsize
    strides = [itemsize] if len(shape) == 1 else [builder.mul(shape[1], itemsize), itemsize]
    out = context.make_array(result)(context, builder)
    context.populate_array(
        out,
        data=builder.gep(src.data, [first]),
        shape=shape,
        strides=strides,
        itemsize=itemsize,
        meminfo=src.meminfo,
        parent=src.parent,
    )
    return impl_ret_borrowed(context, builder, result, out._getvalue())


@intrinsic
def matrix(typingctx, flat, start, rows, cols):  # type: ignore[no-untyped-def]
    """``flat[start:start + rows*cols]`` as a C-order ``(rows, cols)`` matrix (a view).

    What ``flat[start:stop].reshape((rows, cols))`` gives, for the C-contiguous vectors
    of a trainer (parameters, gradients, workspace), without the general reshape Numba
    lowers at every call (its shape checks and helper call cost compile time per view).
    Raises ``ValueError`` when ``flat`` is shorter than ``start + rows*cols``.
    """
    if not _is_flat(flat, (start, rows, cols)):
        return None
    result = flat.copy(ndim=2, layout="C")

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return _view(context, builder, sig, args, result)

    return result(flat, start, rows, cols), codegen


@intrinsic
def vector(typingctx, flat, start, n):  # type: ignore[no-untyped-def]
    """``flat[start:start + n]`` (a view), raising ``ValueError`` where a slice would come
    out short: ``flat`` shorter than ``start + n``."""
    if not _is_flat(flat, (start, n)):
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return _view(context, builder, sig, args, flat)

    return flat(flat, start, n), codegen


# ---------------------------------------------------------------------------
# float64 elementary functions.

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693147180369123816490
_LN2_LO = 1.90821492927058770002e-10


@intrinsic
def _fma(typingctx, a, b, c):  # type: ignore[no-untyped-def]
    """``a*b + c`` rounded once (``llvm.fma``; the loop vectoriser keeps it fused)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return fused_multiply_add(builder, *args)

    return a(a, b, c), codegen


#: 1/(k+1)! for k = 0..12: exp(r) - 1 = r·Σ_k A_k r^k (Taylor to degree 13).
_A64 = tuple(1.0 / math.factorial(k + 1) for k in range(13))


@njit(**_JIT)
def _poly_exp64(r):  # type: ignore[no-untyped-def]
    """exp(r) - 1 for |r| <= ln(2)/2 (Taylor to degree 13, relative error < 1e-16).

    Estrin's scheme with fused multiply-adds: the dependency chain is 5 operations
    deep instead of Horner's 26, so a vectorised loop is not latency-bound.
    """
    A = _A64
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    e0, e1 = _fma(A[1], r, A[0]), _fma(A[3], r, A[2])
    e2, e3 = _fma(A[5], r, A[4]), _fma(A[7], r, A[6])
    e4, e5 = _fma(A[9], r, A[8]), _fma(A[11], r, A[10])
    f0, f1, f2 = _fma(e1, r2, e0), _fma(e3, r2, e2), _fma(e5, r2, e4)
    g0, g1 = _fma(f1, r4, f0), _fma(A[12], r4, f2)
    return _fma(g1, r8, g0) * r


@njit(**_JIT)
def _scale64(n):  # type: ignore[no-untyped-def]
    """``2**n`` for an integral float ``n`` in [-1022, 1023], from its bit pattern."""
    return _i64_as_f64((np.int64(n) + 1023) << 52)


@njit(**_JIT)
def exp64(x):  # type: ignore[no-untyped-def]
    """``exp(x)`` in float64, vectorisable (``2**n (1 + expm1(r))``, ``x = n ln 2 + r``)."""
    y = min(max(x, -746.0), 710.0)
    n = np.floor(y * _LOG2E + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    p = _poly_exp64(r)
    n1 = np.floor(0.5 * n)
    out = _scale64(n1) * (_scale64(n - n1) * (1.0 + p))
    return out if x == x else x


@njit(**_JIT)
def expm1_64(x):  # type: ignore[no-untyped-def]
    """``exp(x) - 1`` in float64, accurate near 0 (``2**n expm1(r) + (2**n - 1)``)."""
    y = min(max(x, -40.0), 710.0)
    n = np.floor(y * _LOG2E + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    p = _poly_exp64(r)
    n1 = np.floor(0.5 * n)
    s1, s2 = _scale64(n1), _scale64(n - n1)
    s = s1 * s2
    out = s * p + (s - 1.0) if n < 60 else s1 * (s2 * (1.0 + p)) - 1.0
    return out if x == x else x


@njit(**_JIT)
def tanh64(x):  # type: ignore[no-untyped-def]
    """``tanh(x)`` in float64 as ``-u / (2 + u)``, ``u = expm1(-2|x|)``, vectorisable."""
    y = -2.0 * min(abs(x), 20.0)
    n = np.floor(y * _LOG2E + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO
    s = _scale64(n)
    u = s * _poly_exp64(r) + (s - 1.0)
    t = -u / (2.0 + u)
    out = t if x >= 0 else -t
    return out if x == x else x


# ---------------------------------------------------------------------------
# float32 versions (constants and polynomial degree for single precision).

_F = np.float32
_LOG2E_F = _F(1.442695)
_LN2_HI_F = _F(0.693359375)
_LN2_LO_F = _F(-2.12194440e-4)
#: 1/(k+1)! for k = 0..7 (Taylor to degree 8).
_A32 = tuple(_F(1.0 / math.factorial(k + 1)) for k in range(8))
_ONE_F, _TWO_F, _HALF_F = _F(1.0), _F(2.0), _F(0.5)
_LO_F, _HI_F, _CAP_F = _F(-104.0), _F(89.0), _F(10.0)


@njit(**_JIT)
def _poly_exp32(r):  # type: ignore[no-untyped-def]
    """exp(r) - 1 for |r| <= ln(2)/2 in float32 (Taylor to degree 8, Estrin's scheme)."""
    A = _A32
    r2 = r * r
    r4 = r2 * r2
    e0, e1 = _fma(A[1], r, A[0]), _fma(A[3], r, A[2])
    e2, e3 = _fma(A[5], r, A[4]), _fma(A[7], r, A[6])
    f0, f1 = _fma(e1, r2, e0), _fma(e3, r2, e2)
    return _fma(f1, r4, f0) * r


@njit(**_JIT)
def _scale32(n):  # type: ignore[no-untyped-def]
    """``2**n`` for an integral float32 ``n`` in [-126, 127], from its bit pattern."""
    return _i32_as_f32((np.int32(n) + 127) << 23)


@njit(**_JIT)
def exp32(x):  # type: ignore[no-untyped-def]
    """``exp(x)`` in float32, vectorisable."""
    y = min(max(x, _LO_F), _HI_F)
    n = np.floor(y * _LOG2E_F + _HALF_F)
    r = (y - n * _LN2_HI_F) - n * _LN2_LO_F
    p = _poly_exp32(r)
    n1 = np.floor(_HALF_F * n)
    out = _scale32(n1) * (_scale32(n - n1) * (_ONE_F + p))
    return out if x == x else x


@njit(**_JIT)
def expm1_32(x):  # type: ignore[no-untyped-def]
    """``exp(x) - 1`` in float32, accurate near 0."""
    y = min(max(x, _F(-20.0)), _HI_F)
    n = np.floor(y * _LOG2E_F + _HALF_F)
    r = (y - n * _LN2_HI_F) - n * _LN2_LO_F
    p = _poly_exp32(r)
    n1 = np.floor(_HALF_F * n)
    s1, s2 = _scale32(n1), _scale32(n - n1)
    s = s1 * s2
    out = s * p + (s - _ONE_F) if n < _F(30.0) else s1 * (s2 * (_ONE_F + p)) - _ONE_F
    return out if x == x else x


@njit(**_JIT)
def tanh32(x):  # type: ignore[no-untyped-def]
    """``tanh(x)`` in float32, vectorisable."""
    y = -_TWO_F * min(abs(x), _CAP_F)
    n = np.floor(y * _LOG2E_F + _HALF_F)
    r = (y - n * _LN2_HI_F) - n * _LN2_LO_F
    s = _scale32(n)
    u = s * _poly_exp32(r) + (s - _ONE_F)
    t = -u / (_TWO_F + u)
    out = t if x >= 0 else -t
    return out if x == x else x


@njit(**_INLINE)
def maximum(x, y):  # type: ignore[no-untyped-def]
    """``max(x, y)`` as Python has it (``x`` unless ``y > x``, so a NaN ``x`` stays).

    Numba's own ``max`` is an overload that every new process compiles as a function
    of its own before a kernel that uses it; this one is typed in place.
    """
    return y if y > x else x


@njit(**_INLINE)
def minimum(x, y):  # type: ignore[no-untyped-def]
    """``min(x, y)`` as Python has it (``x`` unless ``y < x``); see :func:`maximum`."""
    return y if y < x else x


@njit(**_INLINE)
def log1pexp64(y):  # type: ignore[no-untyped-def]
    """``log(1 + exp(-y))`` in float64 for ``y >= 0`` (NaN propagates)."""
    return math.log1p(exp64(-y))


@njit(**_INLINE)
def log1pexp32(y):  # type: ignore[no-untyped-def]
    """``log(1 + exp(-y))`` in float32 for ``y >= 0``."""
    return math.log1p(exp32(-y))


# ---------------------------------------------------------------------------
# Data movement shared by every network (compiled once, not per network).


@njit(**_JIT)
def transpose_rows(A, m, out):  # type: ignore[no-untyped-def]
    """``out[:, :m] = A[:m]ᵀ`` (the copies ``W_l`` of weights stored as ``WT_l``).

    Eight rows at a time, so that each write fills a cache line of ``out``.
    """
    s0 = 0
    while s0 + 8 <= m:
        for j in range(A.shape[1]):
            for s in range(8):
                out[j, s0 + s] = A[s0 + s, j]
        s0 += 8
    for s in range(s0, m):
        for j in range(A.shape[1]):
            out[j, s] = A[s, j]


@njit(**_JIT)
def transpose_into(A, out):  # type: ignore[no-untyped-def]
    """``out = Aᵀ``."""
    transpose_rows(A, A.shape[0], out)


# ---------------------------------------------------------------------------
# Shuffling.

# The one shuffle of the package (symbp.ops.batches), compiled: the exact evaluator runs
# the same function in Python, so both visit the rows in the same order for a seed.
shuffle = njit(**_JIT)(_batches.shuffle)


# ---------------------------------------------------------------------------
# The records a generated ``train`` takes (typed tuples: Numba unboxes them field by field).


class Net(NamedTuple):
    """The arrays one trainer owns and ``train`` changes in place.

    ``params``: the flat parameter vector (see the module's ``PARAMS``); ``state``: the
    optimiser's state, one row per name of ``STATE``; ``grads``: the gradient of the
    last step, laid out as ``params``; ``ws``: the chunk workspace (``workspace()``);
    ``progress``: int64 counters at the slots :data:`EPOCHS_DONE`, :data:`UPDATES_DONE`,
    :data:`DIVERGED_STEP`.
    """

    params: np.ndarray
    state: np.ndarray
    grads: np.ndarray
    ws: np.ndarray
    progress: np.ndarray


class Batches(NamedTuple):
    """What ``train`` runs over: rows ``X``, targets ``T``, the rows' ``weights`` (float64,
    one positive weight per row, or shape (0,) for none: the plain batch mean), the row
    ``order`` (shuffled in place), the shuffle's generator state ``rng`` (uint64, one
    value), and the schedule of :mod:`symbp.ops.batches`: ``epochs``, ``batch_size``,
    ``shuffle``, ``drop_last``; ``task`` one of :data:`TRAIN`, :data:`GRADIENT`,
    :data:`PREDICT`."""

    X: np.ndarray
    T: np.ndarray
    weights: np.ndarray
    order: np.ndarray
    rng: np.ndarray
    epochs: int
    batch_size: int
    shuffle: bool
    drop_last: bool
    task: int


class Log(NamedTuple):
    """Where ``train`` writes the loss of every step (before its update) and of every
    epoch (the mean over its examples), both float64, and, for the task PREDICT, the
    network's outputs (one row per row of the epoch; shape (0, n_L) otherwise)."""

    step_losses: np.ndarray
    epoch_losses: np.ndarray
    outputs: np.ndarray


#: ``Batches.task``: train (steps with updates), the loss and gradient of each batch
#: only, or the forward pass only (outputs to ``Log.outputs``).
TRAIN, GRADIENT, PREDICT = 0, 1, 2


#: Slots of ``Net.progress``: epochs done (the schedule's epoch), updates applied (the
#: optimiser's step ``k``; at 0 the state is initialised), and the step of the epoch
#: whose loss was not finite (-1 while training has not diverged).
EPOCHS_DONE, UPDATES_DONE, DIVERGED_STEP = 0, 1, 2
PROGRESS_SLOTS = 3


# numba.config sets its options from NUMBA_* variables at import; its stub declares none.
if config.DISABLE_JIT:  # type: ignore[attr-defined]  # reference mode: NumPy for intrinsics
    from . import purepython as _pure

    # The names are typed as the intrinsics; in reference mode they are the plain
    # functions of the same arguments, hence the assignment ignores.
    _fma, _i32_as_f32, _i64_as_f64 = _pure.fma, _pure.i32_as_f32, _pure.i64_as_f64  # type: ignore[assignment]
    matrix, vector = _pure.matrix, _pure.vector  # type: ignore[assignment]
