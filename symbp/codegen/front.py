"""The kernel plan of a network with feature maps: its *front* (conv, pool and flatten
layers) before the dense layers that :mod:`.plan` already lowers.

A network whose input is feature maps ``(C, H, W)`` is a front of map layers, ending in
``flatten``, followed by a tail of dense layers. The tail is planned exactly as a dense
network whose input is the flattened features (:func:`.plan.make_plan` of the tail's own
spec), then renumbered so that every array keeps the derivation's layer number: the
layer producing ``a_l`` is textbook layer ``l`` of the whole network. The front layers
get a :class:`MapPlan` each: their shapes (literals in the loops), their parameters'
offsets in the flat vector (the front's first, in layer order, then the tail's) and,
for a conv layer, its activation printed from the activation record (``a = f(z)``, and
``f'`` in ``a`` where the record writes it so, else in ``z``).

Conventions of the front's arrays (stated in every generated module): one row per
example, the row holding the values of ``(C, H, W)`` in ``(c, i, j)`` order (PyTorch's
``flatten`` order), so that ``flatten`` is the identity on memory (its ``a_l`` and
``delta_l`` are the layer below's buffers); a conv kernel ``W_l`` is stored as PyTorch's
``Conv2d.weight`` ``(out, in, kh, kw)`` row-major (viewed as ``(out, in·kh·kw)``);
``delta_l[s]`` of a front layer first holds ``∂E/∂a_l`` (written by the layer above) and
is turned into ``∂E/∂z_l`` by the layer's own backward block.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..errors import SpecError
from ..layers import Dense
from ..ops.symbols import A, X
from ..spec import Spec
from .hyper import activation_local, activation_slots
from .plan import A_, Z_, KernelPlan, _merge, make_plan, number_bindings
from .printer import Block, NumbaPrinter, block

Shape3 = tuple[int, int, int]


@dataclass(frozen=True)
class MapPlan:
    """One front layer (textbook layer ``index``): reads ``a_{index-1}``, writes ``a_index``.

    ``first``: the layer reads the input row ``X[r]`` itself. Shapes are ``(C, H, W)``
    (``out_shape`` of a flatten layer is ``(C·H·W,)``). Conv layers carry their kernel,
    stride, padding, activation blocks and parameter offsets; pool layers their mode,
    window and stride; the record's template (``kernel``) renders the blocks.
    """

    index: int
    kind: str
    kernel: str
    first: bool
    #: a_l and delta_l are a_{l-1} and delta_{l-1} (the record only renumbers: flatten)
    in_place: bool
    in_shape: Shape3
    out_shape: tuple[int, ...]
    channels: int = 0
    kh: int = 0
    kw: int = 0
    stride: int = 1
    padding: int = 0
    mode: str = ""
    size: int = 0
    activation: str = ""
    act: Block | None = None
    dact: Block | None = None
    needs_z: bool = False
    W_offset: int = 0
    b_offset: int = 0
    frozen_W: bool = False
    frozen_b: bool = False
    #: Conv without padding and with at most :data:`MAX_TAPS` weights per output channel:
    #: the offset of each weight's input from the window's corner, ``c·H·W + u·W + v``
    #: in the weights' order, so that the blocks write the sums out with the kernel in
    #: registers; ``()``: loops with bounds checks.
    taps: tuple[int, ...] = ()
    #: A conv layer below a max-pool: that pool layer, whose backward (routing dE/da_l to
    #: each window's first maximum) the conv block does, visiting the maxima only.
    pooled_by: MapPlan | None = None
    #: The activation's numeric options read at run time (see :class:`.plan.LayerPlan`).
    numbers: tuple[str, ...] = ()
    #: A max-pool layer above a conv layer: its backward is done by that layer's block.
    routed_below: bool = False

    def bindings(self, dtype: str) -> tuple[tuple[str, str], ...]:
        """The statements that give this layer's blocks its activation's numbers."""
        return number_bindings(self.index, self.numbers, dtype)

    @property
    def has_params(self) -> bool:
        return self.channels > 0

    @property
    def n_in(self) -> int:
        return math.prod(self.in_shape)

    @property
    def n_out(self) -> int:
        return math.prod(self.out_shape)

    @property
    def n_weights(self) -> int:
        return self.channels * self.in_shape[0] * self.kh * self.kw

    @property
    def source(self) -> str:
        """The start of a read of the layer's input row: ``X[r, `` or ``a_{l-1}[s, ``."""
        return "X[r, " if self.first else f"a_{self.index - 1}[s, "

    @property
    def summary(self) -> str:
        """One line for the module's docstring."""
        c, h, w = self.in_shape
        shape = "x".join(str(n) for n in self.out_shape)
        if self.has_params:
            return (
                f"z_{self.index} = conv(a_{self.index - 1}, W_{self.index}) + b_{self.index}"
                f" ({self.channels}x{c}x{self.kh}x{self.kw} kernel, stride {self.stride},"
                f" padding {self.padding}), a_{self.index} = {self.activation}(z_{self.index}),"
                f" {shape}"
            )
        if self.mode:
            return (
                f"a_{self.index} = {self.mode}-pool {self.size}x{self.size} of"
                f" a_{self.index - 1} (stride {self.stride}), {shape}"
            )
        return f"a_{self.index} = flatten(a_{self.index - 1}) ({c}x{h}x{w} -> {shape})"


#: The most weights per output channel whose sums are written out term by term.
MAX_TAPS = 32


def _taps(shape: tuple[int, ...], kh: int, kw: int) -> tuple[int, ...]:
    channels, height, width = shape
    if channels * kh * kw > MAX_TAPS:
        return ()
    return tuple(
        c * height * width + u * width + v
        for c in range(channels)
        for u in range(kh)
        for v in range(kw)
    )


def split(spec: Spec) -> tuple[int, Spec]:
    """``(k, tail)``: the number of front layers and the dense tail as a spec of its own
    (input: the flattened features). One line refusal where the network does not end in
    dense layers after its maps."""
    network = spec.network
    k = 0
    while k < len(network) and not isinstance(network[k], Dense):
        k += 1
    if k == len(network) or any(not isinstance(layer, Dense) for layer in network[k:]):
        raise SpecError(
            "generated trainers need the network to end in dense layers after its"
            " conv/pool/flatten layers",
            field="layers",
            file=spec.path,
        )
    frozen = frozenset((name, l - k) for name, l in spec.frozen if l >= k)
    tail = dataclasses.replace(
        spec,
        layers=spec.layers[k:],
        activations=spec.activations[k:],
        network=(),
        input_shape=(),
        W=None,
        b=None,
        frozen=frozen,
        examples=(),
        claims=(),
        exercise=None,
        preprocessing=None,
    )
    return k, tail


def _activation_blocks(
    layer: object, printer: NumbaPrinter, l: int
) -> tuple[str, Block, Block, bool]:
    activation = layer.activation  # type: ignore[attr-defined]
    activation = activation.with_numbers({o: activation_local(o) for o in activation.params})
    act = block(printer, [activation.formula.xreplace({X: Z_})], f"f{l}_part")
    if activation.derivative_from_output is not None:
        factor = activation.derivative_from_output.xreplace({A: A_})
    else:
        factor = activation.derivative.xreplace({X: Z_})
    dact = block(printer, [factor], f"df{l}_part")
    return activation.name, act, dact, "z" in dact.reads


def _route_pools(front: list[MapPlan]) -> list[MapPlan]:
    """A max-pool layer right above a conv layer hands its backward to that layer: the
    conv block takes dE/da at each window's first maximum from the pool's delta (the
    rest of dE/da is zero), instead of the pool writing every value of dE/da and the conv
    block reading them all."""
    out = list(front)
    for k in range(1, len(out)):
        below, above = out[k - 1], out[k]
        if above.mode == "max" and below.has_params:
            out[k] = dataclasses.replace(above, routed_below=True)
            out[k - 1] = dataclasses.replace(below, pooled_by=out[k])
    return out


def make_map_plan(spec: Spec, dtype: str) -> KernelPlan:
    """The :class:`KernelPlan` of a network with a front of map layers (see the module)."""
    k, tail_spec = split(spec)
    printer = NumbaPrinter(dtype, scalar=True)
    front: list[MapPlan] = []
    offset = 0
    shape = spec.input_shape
    trainable: list[tuple[int, int]] = []
    for position, layer in enumerate(spec.network[:k]):
        l = position + 1
        out_shape = layer.output_shape(shape)
        fields: dict[str, object] = {}
        params = layer.parameter_shapes(shape)
        if params:
            kh, kw = params["W"][2], params["W"][3]
            name, act, dact, needs_z = _activation_blocks(layer, printer, l)
            n_w, n_b = math.prod(params["W"]), math.prod(params["b"])
            frozen_W, frozen_b = ("W", position) in spec.frozen, ("b", position) in spec.frozen
            fields = {
                "channels": params["W"][0],
                "kh": kh,
                "kw": kw,
                "stride": layer.stride,  # type: ignore[attr-defined]
                "padding": layer.padding,  # type: ignore[attr-defined]
                "activation": name,
                "act": act,
                "dact": dact,
                "needs_z": needs_z,
                "numbers": tuple(sorted(spec.activations[position].params)),
                "W_offset": offset,
                "b_offset": offset + n_w,
                "frozen_W": frozen_W,
                "frozen_b": frozen_b,
                "taps": _taps(shape, kh, kw) if not layer.padding else (),  # type: ignore[attr-defined]
            }
            for lo, hi, frozen in (
                (offset, offset + n_w, frozen_W),
                (offset + n_w, offset + n_w + n_b, frozen_b),
            ):
                if not frozen:
                    trainable.append((lo, hi))
            offset += n_w + n_b
        elif getattr(layer, "mode", None):  # a window of the record's mode and size
            fields = {"mode": layer.mode, "size": layer.size, "stride": layer.stride}  # type: ignore[attr-defined]
        front.append(
            MapPlan(
                index=l,
                kind=layer.kind,
                kernel=layer.kernel_block,
                first=position == 0,
                in_place=layer.renumbers_only and position > 0,
                in_shape=tuple(shape),  # type: ignore[arg-type]
                out_shape=tuple(out_shape),
                **fields,  # type: ignore[arg-type]
            )
        )
        shape = out_shape
    front = _route_pools(front)
    tail = make_plan(tail_spec, dtype)
    layers = tuple(
        dataclasses.replace(
            lay,
            index=lay.index + k,
            W_offset=lay.W_offset + offset,
            b_offset=lay.b_offset + offset,
            keep_W=not lay.small,
        )
        for lay in tail.layers
    )

    def shifted(segments: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
        return [(lo + offset, hi + offset) for lo, hi in segments]

    return dataclasses.replace(
        tail,
        spec=spec,
        layers=layers,
        front=tuple(front),
        n_params=tail.n_params + offset,
        segments=_merge(trainable + shifted(tail.segments)),
        fold_segments=_merge(trainable + shifted(tail.fold_segments)),
        runtime=tuple(sorted(set(tail.runtime) | printer.used)),
        act_hyper=activation_slots(spec),
    )
