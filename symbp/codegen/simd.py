"""Explicit SIMD vectors inside ``@njit`` code: a Numba type whose value is ``<n x T>``.

Numba ships with LLVM's SLP vectoriser switched off, and its loop vectoriser cannot
keep a block of accumulators of a matrix product in registers across the reduction.
These intrinsics let a kernel say what it means: load a row segment as one vector,
multiply-add a broadcast scalar into it (``llvm.fma``), store it back. The width of
a vector is the machine's (:data:`VECTOR_BITS`: 512 with AVX-512, else 256 or 128),
so ``lanes(A)`` is 8 float64 or 16 float32 on an AVX-512 machine.

- ``lanes(A)``: the number of lanes of a vector of ``A``'s dtype (a constant);
- ``vzero(A)``: a vector of zeros of ``A``'s dtype;
- ``vload(A, i, j)``: ``A[i, j:j + lanes]`` (unaligned); ``vload_n(A, i, j, n)``: the
  first ``n`` lanes only (masked: nothing past ``A[i, j + n - 1]`` is read, the rest 0);
- ``vfma(x, y, acc)``: ``x * y + acc`` lane by lane, fused, ``x`` a broadcast scalar;
  ``vadd(u, v)``: ``u + v``;
- ``vput(A, i, j, v, alpha, beta)`` / ``vput_n(A, i, j, v, alpha, beta, n)``: the
  product's epilogue, the only store: ``A[i, j:…] = alpha·v + beta·A[i, j:…]`` (``A``
  not read when ``beta`` is 0; the ``_n`` form touches the first ``n`` lanes only);
- ``strided(A)``: ``A`` typed as any-layout (one compiled kernel for every layout);
  ``not_inlined()``: marks the calling function ``noinline`` for LLVM.

Indices are not bounds-checked: the caller keeps ``j + lanes`` (or ``j + n``) within
the row. Vectors never cross a function boundary, so the type never appears in a
signature and kernels that use it cache as usual.

The products built on them, :func:`gemm_acc`, :func:`gemm_acc_tile` and
:func:`gemm_lanes`, live here too: Numba's cache does not follow a change in another
module, so the kernels stay in the file of the intrinsics they inline (and
:data:`.runtime.RUNTIME_HASH` covers both). :func:`gemm_acc`'s register block (8 rows x
2 vectors: 16 accumulators) is sized for AVX-512's 32 vector registers; with 16 (AVX2)
some accumulators spill, correct but slower. :func:`gemm_lanes` (the recurrent
trainer's) keeps to 6 x 2 there: about twice as fast at its sizes (32 lanes, 32 to 128
rows) on a 2-core AVX2 EPYC.
"""

from __future__ import annotations

import os
from typing import Literal, TypedDict

import llvmlite.binding as llvm
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, models, register_model


class JitOptions(TypedDict, total=False):
    """The keyword options of ``numba.njit`` the runtime passes (typed for Numba's stubs)."""

    error_model: Literal["python", "numpy"]
    cache: bool
    inline: Literal["never", "always"]


_JIT: JitOptions = {"error_model": "numpy", "cache": True}
#: Kernels that Numba inlines into the caller's IR.
_INLINE: JitOptions = {**_JIT, "inline": "always"}


def _vector_bits() -> int:
    """The host's vector width, or ``SYMBP_VECTOR_BITS`` (128 or 256 on a wider host).

    The variable exists to test the narrower kernels on an AVX-512 machine. Numba's
    cache does not see it, so set ``NUMBA_CACHE_DIR`` to a directory of its own as well.
    """
    features = llvm.get_host_cpu_features()
    host = 512 if features.get("avx512f") else 256 if features.get("avx") else 128
    asked = os.environ.get("SYMBP_VECTOR_BITS", "")
    if asked in ("128", "256", "512") and int(asked) <= host:
        return int(asked)
    return host


#: Width of the host's vector registers (decides the lanes of every vector).
VECTOR_BITS = _vector_bits()


class Vec(types.Type):
    """``lanes`` values of ``dtype`` in one vector register."""

    def __init__(self, dtype: types.Float, lanes: int) -> None:
        self.dtype = dtype
        self.lanes = lanes
        super().__init__(name=f"Vec({dtype} x {lanes})")


@register_model(Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type: Vec) -> None:  # type: ignore[no-untyped-def]
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.lanes))


def _vec_of(ary: types.Type) -> Vec | None:
    if not isinstance(ary, types.Array) or not isinstance(ary.dtype, types.Float):
        return None
    return Vec(ary.dtype, VECTOR_BITS // ary.dtype.bitwidth)


def _llvm_vec(context, vec: Vec) -> ir.VectorType:  # type: ignore[no-untyped-def]
    return ir.VectorType(context.get_value_type(vec.dtype), vec.lanes)


def _pointer(context, builder, sig, args, vty):  # type: ignore[no-untyped-def]
    """Address of ``A[i, j]`` (args 0-2), as a pointer to a vector."""
    aryty = sig.args[0]
    arr = context.make_array(aryty)(context, builder, args[0])
    index = [
        context.cast(builder, v, t, types.intp)
        for v, t in zip(args[1:3], sig.args[1:3], strict=True)
    ]
    ptr = cgutils.get_item_pointer(context, builder, aryty, arr, index, wraparound=False)
    return builder.bitcast(ptr, vty.as_pointer())


def _splat(builder, value, vty):  # type: ignore[no-untyped-def]
    lane0 = builder.insert_element(ir.Constant(vty, ir.Undefined), value, ir.IntType(32)(0))
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count)
    return builder.shuffle_vector(lane0, ir.Constant(vty, ir.Undefined), zeros)


def _mask(builder, lanes: int, count):  # type: ignore[no-untyped-def]
    """``lane < count`` for every lane."""
    ity = ir.VectorType(ir.IntType(64), lanes)
    count = builder.sext(count, ir.IntType(64)) if count.type.width < 64 else count
    lane = ir.Constant(ity, list(range(lanes)))
    return builder.icmp_signed("<", lane, _splat(builder, count, ity))


def _suffix(ty: ir.Type) -> str:
    """LLVM's intrinsic suffix of a float or float-vector type: ``f64``, ``v8f64``, …"""
    if isinstance(ty, ir.VectorType):
        return f"v{ty.count}{_suffix(ty.element)}"
    return "f64" if isinstance(ty, ir.DoubleType) else "f32"


def _align(vec: Vec) -> ir.Constant:
    return ir.IntType(32)(vec.dtype.bitwidth // 8)


def _load(builder, ptr, vty, align, mask):  # type: ignore[no-untyped-def]
    """The vector at ``ptr``; with a ``mask``, only its lanes (the others 0)."""
    if mask is None:
        return builder.load(ptr, align=align.constant)
    fnty = ir.FunctionType(vty, [vty.as_pointer(), ir.IntType(32), mask.type, vty])
    name = f"llvm.masked.load.{_suffix(vty)}.p0"
    fn = cgutils.get_or_insert_function(builder.module, fnty, name)
    return builder.call(fn, [ptr, align, mask, ir.Constant(vty, None)])


def _store(builder, value, ptr, align, mask):  # type: ignore[no-untyped-def]
    """Store ``value`` at ``ptr``; with a ``mask``, only its lanes."""
    if mask is None:
        builder.store(value, ptr, align=align.constant)
        return
    vty = value.type
    fnty = ir.FunctionType(ir.VoidType(), [vty, vty.as_pointer(), ir.IntType(32), mask.type])
    name = f"llvm.masked.store.{_suffix(vty)}.p0"
    fn = cgutils.get_or_insert_function(builder.module, fnty, name)
    builder.call(fn, [value, ptr, align, mask])


def fused_multiply_add(builder, a, b, c):  # type: ignore[no-untyped-def]
    """``a*b + c`` rounded once (``llvm.fma``), for floats or lane by lane for vectors."""
    ty = c.type
    fnty = ir.FunctionType(ty, [ty] * 3)
    fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.{_suffix(ty)}")
    return builder.call(fn, [a, b, c])


@intrinsic
def lanes(typingctx, ary):  # type: ignore[no-untyped-def]
    vec = _vec_of(ary)
    if vec is None:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return context.get_constant(types.intp, vec.lanes)

    return types.intp(ary), codegen


@intrinsic
def vzero(typingctx, ary):  # type: ignore[no-untyped-def]
    vec = _vec_of(ary)
    if vec is None:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return ir.Constant(_llvm_vec(context, vec), [0.0] * vec.lanes)

    return vec(ary), codegen


@intrinsic
def vload(typingctx, ary, i, j):  # type: ignore[no-untyped-def]
    vec = _vec_of(ary)
    if vec is None:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        vty = _llvm_vec(context, vec)
        return _load(builder, _pointer(context, builder, sig, args, vty), vty, _align(vec), None)

    return vec(ary, i, j), codegen


@intrinsic
def vload_n(typingctx, ary, i, j, n):  # type: ignore[no-untyped-def]
    vec = _vec_of(ary)
    if vec is None:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        vty = _llvm_vec(context, vec)
        mask = _mask(builder, vec.lanes, args[3])
        ptr = _pointer(context, builder, sig, args, vty)
        return _load(builder, ptr, vty, _align(vec), mask)

    return vec(ary, i, j, n), codegen


@intrinsic
def vadd(typingctx, u, v):  # type: ignore[no-untyped-def]
    if not isinstance(u, Vec) or u != v:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.fadd(*args)

    return u(u, v), codegen


@intrinsic
def vfma(typingctx, x, y, acc):  # type: ignore[no-untyped-def]
    if not isinstance(acc, Vec) or y != acc or x != acc.dtype:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        scalar, vy, vacc = args
        return fused_multiply_add(builder, _splat(builder, scalar, vacc.type), vy, vacc)

    return acc(x, y, acc), codegen


def _put(context, builder, sig, args, count):  # type: ignore[no-untyped-def]
    """``alpha·v + beta·A[i, j:…]`` stored to ``A[i, j:…]`` (``count`` lanes, or all)."""
    v = args[3]
    vty = v.type
    dtype = sig.args[0].dtype
    alpha = context.cast(builder, args[4], sig.args[4], dtype)
    beta = context.cast(builder, args[5], sig.args[5], dtype)
    ptr = _pointer(context, builder, sig, args, vty)
    align = ir.IntType(32)(dtype.bitwidth // 8)
    mask = None if count is None else _mask(builder, vty.count, count)
    out = builder.fmul(_splat(builder, alpha, vty), v)
    slot = cgutils.alloca_once_value(builder, out)
    with builder.if_then(builder.fcmp_unordered("!=", beta, ir.Constant(beta.type, 0.0))):
        old = _load(builder, ptr, vty, align, mask)
        builder.store(fused_multiply_add(builder, _splat(builder, beta, vty), old, out), slot)
    _store(builder, builder.load(slot), ptr, align, mask)
    return context.get_dummy_value()


@intrinsic
def vput(typingctx, ary, i, j, v, alpha, beta):  # type: ignore[no-untyped-def]
    if _vec_of(ary) is None or v != _vec_of(ary):
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return _put(context, builder, sig, args, None)

    return types.none(ary, i, j, v, alpha, beta), codegen


@intrinsic
def vput_n(typingctx, ary, i, j, v, alpha, beta, n):  # type: ignore[no-untyped-def]
    if _vec_of(ary) is None or v != _vec_of(ary):
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return _put(context, builder, sig, args, args[6])

    return types.none(ary, i, j, v, alpha, beta, n), codegen


@intrinsic
def vprefetch(typingctx, ary, i, j):  # type: ignore[no-untyped-def]
    """Ask for the cache line of ``A[i, j]`` ahead of a later load or store."""
    if _vec_of(ary) is None:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        i8p = ir.IntType(8).as_pointer()
        ptr = _pointer(context, builder, sig, args, ir.IntType(8))
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.none(ary, i, j), codegen


@intrinsic
def strided(typingctx, ary):  # type: ignore[no-untyped-def]
    """The same array, typed as any-layout (``"A"``): one compiled kernel serves C, F
    and strided views alike (no copy; only the type changes)."""
    if not isinstance(ary, types.Array):
        return None
    result = ary.copy(layout="A")

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return impl_ret_borrowed(context, builder, result, args[0])

    return result(ary), codegen


@intrinsic
def not_inlined(typingctx):  # type: ignore[no-untyped-def]
    """Mark the function that calls this ``noinline`` for LLVM (does nothing at run time).

    A caller links in the callee's code and LLVM would inline a large kernel at every
    call site and optimise each copy again: compile time that grows with the call sites.
    """

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        builder.function.attributes.add("noinline")
        builder.function.attributes.add("noduplicate")
        return context.get_dummy_value()

    return types.none(), codegen


# numba.config sets its options from NUMBA_* variables at import; its stub declares none.
if config.DISABLE_JIT:  # type: ignore[attr-defined]  # reference mode: NumPy for intrinsics
    from . import purepython as _pure

    # The names are typed as the intrinsics; in reference mode they are the plain
    # functions of the same arguments, hence the assignment ignores.
    lanes, vzero, vload, vload_n = _pure.lanes, _pure.vzero, _pure.vload, _pure.vload_n  # type: ignore[assignment]
    vadd, vfma, vput, vput_n = _pure.vadd, _pure.vfma, _pure.vput, _pure.vput_n  # type: ignore[assignment]
    vprefetch, strided, not_inlined = _pure.vprefetch, _pure.strided, _pure.not_inlined  # type: ignore[assignment]


# ---------------------------------------------------------------------------
# Products on explicit vectors.


@njit(**_INLINE)
def gemm_acc(X, Y, C, I, N, P, alpha, beta):  # type: ignore[no-untyped-def]
    """``C[i, :N] = alpha·Σ_{p<P} X[i, p]·Y[p, :N] + beta·C[i, :N]`` for i < I (see
    :func:`_gemm_acc`). ``X`` is passed on as any-layout, so that the forward products
    (``X`` row-major) and the weight-gradient products (``X = a[:m].T``) share one
    compiled kernel: a trainer compiles it once, not once per layout.
    """
    _gemm_acc(strided(X), Y, C, I, N, P, alpha, beta)


@njit(**_INLINE)
def _put_row(C, i, above, c, u, v, n, alpha, beta):  # type: ignore[no-untyped-def]
    """Row ``i`` of a register block into ``C``: ``u`` at column ``c``, the first ``n``
    lanes of ``v`` after it. Skipped when ``i`` is not a row of its own (``i <= above``:
    the last block repeats the last row). Inlined, so the vectors stay in registers."""
    if i > above:
        vput(C, i, c, u, alpha, beta)
        vput_n(C, i, c + lanes(C), v, alpha, beta, n)


@njit(**_JIT)
def _gemm_acc(X, Y, C, I, N, P, alpha, beta):  # type: ignore[no-untyped-def]
    """``C[i, :N] = alpha·Σ_{p<P} X[i, p]·Y[p, :N] + beta·C[i, :N]`` for i < I.

    The broadcast form on explicit vectors (:mod:`.simd`): a block of 8 rows x 2
    vectors of the product stays in registers while ``p`` runs; each step loads 2
    vectors of a row of ``Y`` and broadcasts 8 scalars of ``X`` into 16 fused
    multiply-adds (8 x 2 rather than 4 x 4: half the loads of ``Y``, which streams from
    L2, per multiply-add). Nothing is transposed: ``X`` may be any view (``a[:m].T``
    for a weight gradient). The last row block computes its last row again and stores
    it once; the columns past a multiple of 2 vectors go through masked vectors, 4 rows
    at a time. ``C`` must not overlap ``X`` or ``Y``; it is not read when ``beta`` is 0.
    """
    not_inlined()
    L = lanes(C)
    W = 2 * L
    tail = N - N % W  # first column of the masked part
    for i0 in range(0, I, 8):
        i1, i2, i3 = min(i0 + 1, I - 1), min(i0 + 2, I - 1), min(i0 + 3, I - 1)
        i4, i5, i6 = min(i0 + 4, I - 1), min(i0 + 5, I - 1), min(i0 + 6, I - 1)
        i7 = min(i0 + 7, I - 1)
        for c in range(0, tail, W):
            if beta != 0:  # C is read in the epilogue: ask for it now
                for i in range(i0, i7 + 1):
                    vprefetch(C, i, c)
                    vprefetch(C, i, c + L)
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = vzero(C)
            a40 = a41 = a50 = a51 = a60 = a61 = a70 = a71 = a00
            for p in range(P):
                y0, y1 = vload(Y, p, c), vload(Y, p, c + L)
                x = X[i0, p]
                a00, a01 = vfma(x, y0, a00), vfma(x, y1, a01)
                x = X[i1, p]
                a10, a11 = vfma(x, y0, a10), vfma(x, y1, a11)
                x = X[i2, p]
                a20, a21 = vfma(x, y0, a20), vfma(x, y1, a21)
                x = X[i3, p]
                a30, a31 = vfma(x, y0, a30), vfma(x, y1, a31)
                x = X[i4, p]
                a40, a41 = vfma(x, y0, a40), vfma(x, y1, a41)
                x = X[i5, p]
                a50, a51 = vfma(x, y0, a50), vfma(x, y1, a51)
                x = X[i6, p]
                a60, a61 = vfma(x, y0, a60), vfma(x, y1, a61)
                x = X[i7, p]
                a70, a71 = vfma(x, y0, a70), vfma(x, y1, a71)
            _put_row(C, i0, i0 - 1, c, a00, a01, L, alpha, beta)
            _put_row(C, i1, i0, c, a10, a11, L, alpha, beta)
            _put_row(C, i2, i1, c, a20, a21, L, alpha, beta)
            _put_row(C, i3, i2, c, a30, a31, L, alpha, beta)
            _put_row(C, i4, i3, c, a40, a41, L, alpha, beta)
            _put_row(C, i5, i4, c, a50, a51, L, alpha, beta)
            _put_row(C, i6, i5, c, a60, a61, L, alpha, beta)
            _put_row(C, i7, i6, c, a70, a71, L, alpha, beta)
    if tail == N:
        return
    c = tail
    n0 = min(N - c, L)  # the masked part: 1 or 2 vectors of n0 (+ n1) lanes
    n1 = N - c - n0
    for i0 in range(0, I, 4):
        i1, i2, i3 = min(i0 + 1, I - 1), min(i0 + 2, I - 1), min(i0 + 3, I - 1)
        if n1 == 0:  # one masked vector per row: even and odd p accumulate apart,
            a00 = a10 = a20 = a30 = a01 = a11 = a21 = a31 = vzero(C)  # 8 fmas in flight
            p = 0
            while p + 2 <= P:
                y0, y1 = vload_n(Y, p, c, n0), vload_n(Y, p + 1, c, n0)
                a00, a01 = vfma(X[i0, p], y0, a00), vfma(X[i0, p + 1], y1, a01)
                a10, a11 = vfma(X[i1, p], y0, a10), vfma(X[i1, p + 1], y1, a11)
                a20, a21 = vfma(X[i2, p], y0, a20), vfma(X[i2, p + 1], y1, a21)
                a30, a31 = vfma(X[i3, p], y0, a30), vfma(X[i3, p + 1], y1, a31)
                p += 2
            if p < P:
                y0 = vload_n(Y, p, c, n0)
                a00, a10 = vfma(X[i0, p], y0, a00), vfma(X[i1, p], y0, a10)
                a20, a30 = vfma(X[i2, p], y0, a20), vfma(X[i3, p], y0, a30)
            vput_n(C, i0, c, vadd(a00, a01), alpha, beta, n0)
            if i1 > i0:
                vput_n(C, i1, c, vadd(a10, a11), alpha, beta, n0)
            if i2 > i1:
                vput_n(C, i2, c, vadd(a20, a21), alpha, beta, n0)
            if i3 > i2:
                vput_n(C, i3, c, vadd(a30, a31), alpha, beta, n0)
        else:  # a full vector and a masked one per row
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = vzero(C)
            for p in range(P):
                y0, y1 = vload(Y, p, c), vload_n(Y, p, c + L, n1)
                x = X[i0, p]
                a00, a01 = vfma(x, y0, a00), vfma(x, y1, a01)
                x = X[i1, p]
                a10, a11 = vfma(x, y0, a10), vfma(x, y1, a11)
                x = X[i2, p]
                a20, a21 = vfma(x, y0, a20), vfma(x, y1, a21)
                x = X[i3, p]
                a30, a31 = vfma(x, y0, a30), vfma(x, y1, a31)
            _put_row(C, i0, i0 - 1, c, a00, a01, n1, alpha, beta)
            _put_row(C, i1, i0, c, a10, a11, n1, alpha, beta)
            _put_row(C, i2, i1, c, a20, a21, n1, alpha, beta)
            _put_row(C, i3, i2, c, a30, a31, n1, alpha, beta)


@njit(**_JIT)
def acc_tiles(C, I, N):  # type: ignore[no-untyped-def]
    """Number of tiles of :func:`gemm_acc_tile` for an I x N output ``C``."""
    return ((I + 31) // 32) * ((N + 8 * lanes(C) - 1) // (8 * lanes(C)))


@njit(**_JIT)
def gemm_acc_tile(X, Y, C, I, N, P, alpha, beta, t):  # type: ignore[no-untyped-def]
    """Tile ``t`` (of :func:`acc_tiles`) of :func:`gemm_acc`: 32 rows x 8 vectors of ``C``.

    A generated module shares the tiles out with its own ``prange`` loop: a cached
    kernel that calls a parallel function defined in another module crashes when a
    later process loads it (Numba names the parallel region by compile order), so
    parallel regions live in the generated module. Tiles go column block by column
    block, so each core's share of the ``prange`` keeps to one slab of ``Y`` (P x 8
    vectors), which stays in its L2 while the row blocks use it.
    """
    TN = 8 * lanes(C)
    row_tiles = (I + 31) // 32
    i0 = (t % row_tiles) * 32
    j0 = (t // row_tiles) * TN
    i1 = min(I, i0 + 32)
    j1 = min(N, j0 + TN)
    gemm_acc(X[i0:i1], Y[:, j0:j1], C[i0:i1, j0:j1], i1 - i0, j1 - j0, P, alpha, beta)


@njit(**_INLINE)
def gemm_lanes(X, Y, C, I, N, P, alpha, beta):  # type: ignore[no-untyped-def]
    """:func:`gemm_acc` for the recurrent trainer's products (rows: gates x units; columns:
    the lanes of a chunk of sequences, or the units). With 512-bit vectors it is
    :func:`gemm_acc`; with 256 bits or fewer (16 vector registers) the columns up to a
    multiple of 2 vectors go through :func:`_gemm_lanes6`'s block of 6 rows x 2 vectors
    (12 accumulators, 2 loads and a broadcast: no spills, where 8 x 2 spills), the rest
    through :func:`gemm_acc`. Same contract as :func:`gemm_acc`."""
    if VECTOR_BITS == 512:
        _gemm_acc(strided(X), Y, C, I, N, P, alpha, beta)
    else:
        _gemm_lanes6(strided(X), Y, C, I, N, P, alpha, beta)


@njit(**_JIT)
def _gemm_lanes6(X, Y, C, I, N, P, alpha, beta):  # type: ignore[no-untyped-def]
    """The 6 x 2-vector register block of :func:`gemm_lanes` (the last row block
    computes its last row again and stores it once, as :func:`_gemm_acc`'s)."""
    not_inlined()
    L = lanes(C)
    W = 2 * L
    tail = N - N % W
    if tail > 0:
        for i0 in range(0, I, 6):
            i1, i2, i3 = min(i0 + 1, I - 1), min(i0 + 2, I - 1), min(i0 + 3, I - 1)
            i4, i5 = min(i0 + 4, I - 1), min(i0 + 5, I - 1)
            for c in range(0, tail, W):
                a00 = a01 = a10 = a11 = a20 = a21 = vzero(C)
                a30 = a31 = a40 = a41 = a50 = a51 = a00
                for p in range(P):
                    y0, y1 = vload(Y, p, c), vload(Y, p, c + L)
                    x = X[i0, p]
                    a00, a01 = vfma(x, y0, a00), vfma(x, y1, a01)
                    x = X[i1, p]
                    a10, a11 = vfma(x, y0, a10), vfma(x, y1, a11)
                    x = X[i2, p]
                    a20, a21 = vfma(x, y0, a20), vfma(x, y1, a21)
                    x = X[i3, p]
                    a30, a31 = vfma(x, y0, a30), vfma(x, y1, a31)
                    x = X[i4, p]
                    a40, a41 = vfma(x, y0, a40), vfma(x, y1, a41)
                    x = X[i5, p]
                    a50, a51 = vfma(x, y0, a50), vfma(x, y1, a51)
                _put_row(C, i0, i0 - 1, c, a00, a01, L, alpha, beta)
                _put_row(C, i1, i0, c, a10, a11, L, alpha, beta)
                _put_row(C, i2, i1, c, a20, a21, L, alpha, beta)
                _put_row(C, i3, i2, c, a30, a31, L, alpha, beta)
                _put_row(C, i4, i3, c, a40, a41, L, alpha, beta)
                _put_row(C, i5, i4, c, a50, a51, L, alpha, beta)
    if tail < N:
        _gemm_acc(X, Y[:, tail:], C[:, tail:], I, N - tail, P, alpha, beta)
