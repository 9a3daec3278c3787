"""The piecewise kernel's front: the conv, pool and flatten layers before the dense ones.

A network with feature maps (:mod:`.front`) runs its front layers row by row in the
generated trainer: for each row of a chunk, every front layer's forward block, and after
the dense layers every front layer's backward block, from the top down. The piecewise
kernel (:mod:`.piecewise`) calls one *piece* per front layer and pass instead, which runs
that layer's block for every row of the chunk (``for s in range(mc)`` around the block):

- **Same operations, same order.** A piece is the layer's own block
  (``templates/kernels/conv.py.j2``, ``pool.py.j2``, ``flatten.py.j2``) rendered by
  ``templates/kernels/front_piece.py.j2`` with a stand-in (:func:`stand_in`) whose sizes,
  stride, padding and window are names read from the run-time array ``geom``
  (:data:`GEOMETRY`), so one compiled piece serves every geometry. Rows are independent
  in the forward pass; a gradient summed over rows (a conv kernel's, its bias) still adds
  row 0, 1, 2 ... per element, as the module does, because one layer's rows run in order
  and no other layer writes that sum. The numbers are the generated kernel's bit for bit.
- **Where the module unrolls.** A conv layer without padding and with at most
  :data:`.front.MAX_TAPS` weights per output channel keeps its kernel in registers in
  the module (``MapPlan.taps``). For 4 or 9 taps (:data:`UNROLLED_TAPS`: 2x2 and 3x3 on
  one channel) its pieces are the module's own unrolled sums, the offsets read once from
  the array ``taps`` (a piece per number of taps, built in); for any other number they
  sum over ``taps`` at run time and keep the kernel's gradient in the array ``g_taps``:
  the same sums in the same order (each in the module's own type, the dtype), so the
  choice (:func:`front_pieces`) changes the speed, not a number. A conv layer with
  padding checks its bounds; the module's blocks without padding do not, and the checks
  never fire there.
- **Which pieces.** A block that renders no statement (flatten's forward above a layer,
  its backward on the input, a max-pool whose backward the conv block below does) has no
  piece; the driver skips it. The front's backward runs only where a front layer has
  parameters, as in the module.

The pieces' names are the hash of their text (:class:`.pieces.Piece`); the built-in
records' ship in ``symbp/codegen/builtin`` with the dense pieces (:mod:`.front_builtin`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Container
from typing import Any

import numpy as np

from .front import MapPlan, _activation_blocks
from .plan import KernelPlan
from .printer import NumbaPrinter

#: The names of the geometry in a piece, in the order of the array ``geom``.
GEOMETRY = (
    "c_in",
    "h_in",
    "w_in",
    "c_out",
    "h_out",
    "w_out",
    "kh",
    "kw",
    "stride",
    "padding",
    "n_in",
    "n_out",
    "h_pool",
    "w_pool",
    "pool_stride",
    "pool_size",
    "n_above",
    "n_taps",
)
#: The passes of a front layer.
PASSES = ("forward", "backward")


class Name(str):
    """A size written as its name: products print as products (``stride * w_in``), as
    the template's arithmetic on literal sizes would compute them."""

    def __mul__(self, other: object) -> Name:  # type: ignore[override]
        return Name(f"{self} * {other}")

    def __rmul__(self, other: object) -> Name:  # type: ignore[misc]
        return self if other == 1 else Name(f"{other} * {self}")


def _n(name: str) -> Name:
    return Name(name)


#: The geometry's names, as the stand-ins' defaults.
_C_IN, _H_IN, _W_IN = Name("c_in"), Name("h_in"), Name("w_in")
_C_OUT, _H_OUT, _W_OUT = Name("c_out"), Name("h_out"), Name("w_out")
_KH, _KW, _STRIDE, _PADDING = Name("kh"), Name("kw"), Name("stride"), Name("padding")
_POOL_SIZE, _N_IN, _N_OUT = Name("pool_size"), Name("n_in"), Name("n_out")


@dataclasses.dataclass(frozen=True)
class StandIn:
    """What a front layer's template reads of its :class:`.front.MapPlan`, with the sizes
    as :data:`GEOMETRY` names and the layer as layer 1 (the layer above, layer 2)."""

    kind: str
    kernel: str
    first: bool
    index: int = 1
    in_shape: tuple[Any, ...] = (_C_IN, _H_IN, _W_IN)
    out_shape: tuple[Any, ...] = (_C_OUT, _H_OUT, _W_OUT)
    channels: Any = 0
    kh: Any = _KH
    kw: Any = _KW
    stride: Any = _STRIDE
    padding: Any = _PADDING
    mode: str = ""
    size: Any = _POOL_SIZE
    activation: str = ""
    act: Any = None
    dact: Any = None
    needs_z: bool = False
    taps: Any = ()
    pooled_by: Any = None
    routed_below: bool = False
    n_in: Any = _N_IN
    n_out: Any = _N_OUT
    words: str = ""

    @property
    def has_params(self) -> bool:
        return bool(self.channels)

    @property
    def source(self) -> str:
        return "X[r, " if self.first else f"a_{self.index - 1}[s, "

    def bindings(self, dtype: str) -> tuple[tuple[str, str], ...]:
        """No run-time numbers: a front activation with some runs the generated kernel
        (:func:`takes_front`)."""
        return ()


def takes_front(spec: Any) -> bool:
    """Whether the piecewise kernel runs ``spec``'s network with feature maps: a front
    the generated trainer takes (:func:`.front.split`), then dense layers none of which
    is small (as for a dense network, :func:`.piecewise.takes`)."""
    from ..errors import SpecError
    from .front import split
    from .plan import SMALL_MAX_WEIGHTS

    try:
        k, tail = split(spec)
    except SpecError:
        return False
    if any(spec.activations[position].params for position in range(k)):
        # a front activation with run-time numbers (leaky ReLU's alpha): its conv blocks
        # read them from the kernel; the front pieces do not take them (yet)
        return False
    return all(tail.layers[l] * tail.layers[l + 1] > SMALL_MAX_WEIGHTS for l in range(tail.depth))


def stand_in(plan: KernelPlan, lay: MapPlan, unrolled: bool = False) -> StandIn:
    """``lay`` as layer 1 of a piece: its kind's blocks, with names for its sizes.

    ``unrolled`` (a conv layer with taps): the module's own unrolled sums, the kernel in
    registers and the offsets ``tap_0``, ``tap_1`` ... read from ``taps`` (a piece per
    number of taps); otherwise the sums loop over ``taps`` at run time (one piece)."""
    common: dict[str, Any] = {"kind": lay.kind, "kernel": lay.kernel, "first": lay.first}
    if lay.has_params:
        record = plan.spec.network[lay.index - 1]
        name, act, dact, needs_z = _activation_blocks(
            record, NumbaPrinter(plan.dtype, scalar=True), 1
        )
        pool = None
        if lay.pooled_by is not None:
            pool = StandIn(
                kind=lay.pooled_by.kind,
                kernel=lay.pooled_by.kernel,
                first=False,
                index=2,
                out_shape=(_n("c_out"), _n("h_pool"), _n("w_pool")),
                mode=lay.pooled_by.mode,
                stride=_n("pool_stride"),
                routed_below=True,
            )
        taps: Any = "taps" if lay.taps else ()
        if lay.taps and unrolled:
            taps = tuple(Name(f"tap_{k}") for k in range(len(lay.taps)))
        return StandIn(
            **common,
            channels=_n("c_out"),
            activation=name,
            act=act,
            dact=dact,
            needs_z=needs_z,
            taps=taps,
            pooled_by=pool,
            words=f"{name}, {'kernel offsets in taps' if taps else 'loops'}",
        )
    if lay.mode:
        return StandIn(
            **common,
            mode=lay.mode,
            routed_below=lay.routed_below,
            words=f"{lay.mode}-pool",
        )
    return StandIn(**common, words="flatten")


def geometry(plan: KernelPlan, lay: MapPlan) -> np.ndarray:
    """The array ``geom`` of ``lay``'s pieces (:data:`GEOMETRY`'s order)."""
    c_in, h_in, w_in = lay.in_shape
    out = (*lay.out_shape, 0, 0)[:3]  # a flatten layer's is (n,)
    pool = lay.pooled_by
    above = plan.layers[0] if lay.index == plan.front[-1].index else None
    values = {
        "c_in": c_in,
        "h_in": h_in,
        "w_in": w_in,
        "c_out": out[0],
        "h_out": out[1],
        "w_out": out[2],
        "kh": lay.kh,
        "kw": lay.kw,
        "stride": lay.stride,
        "padding": lay.padding,
        "n_in": lay.n_in,
        "n_out": lay.n_out,
        "h_pool": pool.out_shape[1] if pool else 0,
        "w_pool": pool.out_shape[2] if pool else 0,
        "pool_stride": pool.stride if pool else 0,
        "pool_size": pool.size if pool else lay.size,
        "n_above": above.n_out if above is not None else 0,
        "n_taps": len(lay.taps),
    }
    return np.array([values[name] for name in GEOMETRY], dtype=np.int64)


def _above(lay: StandIn) -> StandIn:
    """The first dense layer above a flatten layer, as layer 2 (its ``n_out`` a name)."""
    return StandIn(kind="dense", kernel="", first=False, index=2, n_out=_n("n_above"))


#: Numbers of taps (weights per output channel: in-channels x kh x kw) whose unrolled
#: conv pieces ship built in (2x2 and 3x3 kernels on one input channel).
UNROLLED_TAPS = (4, 9)


def front_pieces(plan: KernelPlan, builtin: Container[str] = ()) -> dict[tuple[str, int], Any]:
    """The pieces of ``plan``'s front layers by ``(kind_pass, layer)``: ``conv_forward``,
    ``pool_backward`` ...; blocks without statements have none.

    A conv layer with taps takes its unrolled pieces (the module's sums, about 3x faster)
    where their keys are in ``builtin`` (the built-in module's), else the pieces whose
    sums loop over the taps: both run the same operations in the same order, so the
    choice changes the speed, never a number, and no new network compiles a piece for it.
    """
    from .pieces import Piece

    out: dict[tuple[str, int], Piece] = {}
    for lay in plan.front:
        for piece in _layer_pieces(plan, lay, unrolled=False):
            out[piece.kind, lay.index] = piece
        if lay.taps:
            fast = _layer_pieces(plan, lay, unrolled=True)
            if all(piece.key in builtin for piece in fast):
                for piece in fast:
                    out[piece.kind, lay.index] = piece
    return out


def every_front_piece(plan: KernelPlan) -> list[Any]:
    """Every piece :func:`front_pieces` may choose for ``plan`` (the built-in module's:
    the unrolled ones for :data:`UNROLLED_TAPS`)."""
    out = [piece for lay in plan.front for piece in _layer_pieces(plan, lay, unrolled=False)]
    for lay in plan.front:
        if len(lay.taps) in UNROLLED_TAPS:
            out += _layer_pieces(plan, lay, unrolled=True)
    return out


def _layer_pieces(plan: KernelPlan, lay: MapPlan, unrolled: bool) -> list[Any]:
    standin = stand_in(plan, lay, unrolled)
    out = []
    for which in PASSES:
        piece = _render(f"{lay.kind}_{which}", which, plan.dtype, standin)
        if piece is not None:
            out.append(piece)
    return out


def _identifiers(text: str) -> set[str]:
    """The names in a block's text (a piece reads only the geometry its blocks use)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _render(kind: str, which: str, dtype: str, lay: StandIn) -> Any:
    from .emit import environment
    from .pieces import Piece

    template = environment().get_template("kernels/front_piece.py.j2")
    common = {
        "which": which,
        "lay": lay,
        "above": _above(lay),
        "dtype": dtype,
        "geometry": GEOMETRY,
        "identifiers": _identifiers,
    }
    draft = template.render(name=kind, **common)
    if not draft.strip():
        return None
    key = hashlib.sha256(draft.encode()).hexdigest()[:12]
    return Piece(kind, key, template.render(name=f"{kind}_{key}", **common))


class FrontPasses:
    """The front layers' passes of one network, piece by piece: :meth:`forward` for the
    chunk's rows before the dense layers, :meth:`backward` after them (the generated
    trainer's order, a layer at a time)."""

    def __init__(self, plan: KernelPlan, fns: dict[tuple[str, int], Any]) -> None:
        self.plan = plan
        dtype = np.dtype(plan.dtype)
        self._none1 = np.zeros(0, dtype)
        self._none2 = np.zeros((0, 0), dtype)
        self._taps = {lay.index: np.array(lay.taps, dtype=np.int64) for lay in plan.front}
        self._geom = {lay.index: geometry(plan, lay) for lay in plan.front}
        self._fns = fns
        self.trains = any(lay.has_params for lay in plan.front)

    def params(self, flat: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
        """The views W_l (out, in*kh*kw) and b_l of the conv layers in ``flat``."""
        out = {}
        for lay in self.plan.front:
            if lay.has_params:
                width = lay.in_shape[0] * lay.kh * lay.kw
                lo = lay.W_offset
                out[f"{prefix}W_{lay.index}"] = flat[lo : lo + lay.n_weights].reshape(
                    lay.channels, width
                )
                out[f"{prefix}b_{lay.index}"] = flat[lay.b_offset : lay.b_offset + lay.channels]
        return out

    def _call(
        self,
        which: str,
        lay: MapPlan,
        X: np.ndarray,
        order: np.ndarray,
        c0: int,
        mc: int,
        beta: int,
        p: dict[str, np.ndarray],
        g: dict[str, np.ndarray],
        w: dict[str, np.ndarray],
    ) -> None:
        fn = self._fns.get((f"{lay.kind}_{which}", lay.index))
        if fn is None:
            return  # the block has no statement (see the module)
        l = lay.index
        two, one = self._none2, self._none1
        if lay.pooled_by is not None:
            above_delta = w[f"delta_{lay.pooled_by.index}"]
        elif lay.index == self.plan.front[-1].index:
            above_delta = w[f"delta_{self.plan.layers[0].index}"]
        else:
            above_delta = two
        W_above = w.get(f"W_{l + 1}", two) if l == self.plan.front[-1].index else two
        fn(
            X, order, c0, mc, beta,
            w.get(f"a_{l - 1}", two) if not lay.first else two,
            w.get(f"z_{l}", two), w[f"a_{l}"],
            w.get(f"delta_{l - 1}", two) if not lay.first else two,
            w.get(f"delta_{l}", two), above_delta,
            p.get(f"W_{l}", two), p.get(f"b_{l}", one),
            g.get(f"grad_W_{l}", two), g.get(f"grad_b_{l}", one),
            W_above, self._taps[l], self._geom[l],
        )  # fmt: skip

    def forward(
        self,
        X: np.ndarray,
        order: np.ndarray,
        c0: int,
        mc: int,
        p: dict[str, np.ndarray],
        w: dict[str, np.ndarray],
    ) -> None:
        """a_l of every front layer for rows order[c0:c0 + mc] (the last one's is the
        first dense layer's input)."""
        for lay in self.plan.front:
            self._call("forward", lay, X, order, c0, mc, 0, p, {}, w)

    def backward(
        self,
        X: np.ndarray,
        order: np.ndarray,
        c0: int,
        mc: int,
        beta: int,
        p: dict[str, np.ndarray],
        g: dict[str, np.ndarray],
        w: dict[str, np.ndarray],
    ) -> None:
        """delta_l and the gradients of the front layers, from the top down (after the
        dense layers' backward: delta of the first dense layer is set)."""
        if not self.trains:
            return  # no parameter below the dense layers: the module has no such pass
        for lay in reversed(self.plan.front):
            self._call("backward", lay, X, order, c0, mc, beta, p, g, w)
