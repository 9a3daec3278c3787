"""The conv, pool and flatten records: entries read and validated with one clear line,
shapes, parameter shapes and fans as PyTorch has them, the forward's index form."""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp

from symbp.errors import SpecError
from symbp.layers import KINDS, Conv, Flatten, Pool
from symbp.layers.fields import MAX_CHANNELS, MAX_KERNEL
from symbp.ops.activations import Activation, make_activation
from symbp.symbolic import notation as nt


class Ctx:
    """What the spec loader lends a record: errors at ``layers[0].field``, activations."""

    def fail(self, field: str | None, message: str) -> Exception:
        return SpecError(message, field="layers[0]" + (f".{field}" if field else ""))

    def activation(self, value: Any, field: str) -> Activation:
        return make_activation(value, {})


def read(entry: dict[str, Any], shape: tuple[int, ...] = (1, 5, 5)) -> Any:
    (kind,) = [k for k in entry if k in KINDS]
    return KINDS[kind].from_entry(entry, shape, Ctx())


def test_the_kinds_are_registered() -> None:
    assert {k: KINDS[k] for k in ("conv", "pool", "flatten")} == {
        "conv": Conv,
        "pool": Pool,
        "flatten": Flatten,
    }


def test_a_conv_entry_is_read_with_its_defaults() -> None:
    conv = read({"conv": 2, "kernel": 2, "activation": "relu"})
    assert (conv.channels, conv.kernel, conv.stride, conv.padding) == (2, (2, 2), 1, 0)
    assert conv.activation.name == "relu"
    assert conv.output_shape((1, 5, 5)) == (2, 4, 4)
    assert conv.parameter_shapes((1, 5, 5)) == {"W": (2, 1, 2, 2), "b": (2,)}
    assert conv.n_parameters((1, 5, 5)) == 10
    wide = read({"conv": 8, "kernel": [3, 1], "stride": 2, "padding": 1}, (3, 7, 9))
    assert wide.output_shape((3, 7, 9)) == (8, 4, 6)  # (7 + 2 - 3)/2 + 1, (9 + 2 - 1)/2 + 1
    assert wide.activation.name == "identity"
    assert read({"conv": 4, "kernel": 3, "padding": "same"}, (1, 6, 6)).padding == 1
    assert read({"conv": 4, "kernel": 3, "padding": "valid"}, (1, 6, 6)).padding == 0


@pytest.mark.extras
def test_the_fans_are_torch_s() -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    conv = Conv(5, (3, 2), 1, 0, make_activation("relu", {}))
    weight = torch.empty(5, 3, 3, 2)
    assert conv.fan((3, 8, 8)) == torch.nn.init._calculate_fan_in_and_fan_out(weight) == (18, 30)


@pytest.mark.parametrize(
    ("entry", "shape", "message"),
    [
        ({"conv": 2, "kernel": 6}, (1, 5, 5),
         "layers[0].kernel: the conv window of 6 rows is larger than the (padded) input of 5 rows"),
        ({"conv": 2, "kernel": 2, "stride": 2}, (1, 5, 5),
         "layers[0].stride: stride 2 does not tile the (padded) input of 5 rows with a window"
         " of 2: 5 - 2 = 3 is not a multiple of 2"),
        ({"conv": 0, "kernel": 2}, (1, 5, 5),
         f"layers[0].conv: expected the number of output channels from 1 to {MAX_CHANNELS},"
         " found 0"),
        ({"conv": 2, "kernel": 100}, (1, 5, 5),
         f"layers[0].kernel: expected the kernel size from 1 to {MAX_KERNEL}, found 100"),
        ({"conv": 2, "kernel": [2, 2, 2]}, (1, 5, 5),
         "layers[0].kernel: expected the kernel size as n or [rows, columns], found [2, 2, 2]"),
        ({"conv": 2}, (1, 5, 5),
         "layers[0].kernel: a conv layer needs its kernel size: kernel: n or [kh, kw]"),
        ({"conv": 2, "kernel": 2, "padding": "full"}, (1, 5, 5),
         "layers[0].padding: expected a whole number, same or valid, found 'full'"),
        ({"conv": 2, "kernel": 2, "padding": "same"}, (1, 5, 5),
         "layers[0].padding: padding: same needs stride 1 and a square kernel of odd size"
         " (equal padding on every side); found stride 1 and kernel 2x2"),
        ({"conv": 2, "kernel": 2, "dilation": 2}, (1, 5, 5),
         "layers[0].dilation: unknown field of a conv layer; expected kernel, stride, padding,"
         " activation"),
        ({"conv": 2, "kernel": 2, "activation": "softmax"}, (1, 5, 5),
         "layers[0].activation: a conv layer's activation acts on each value; softmax does not"),
        ({"conv": 2, "kernel": 2}, (25,),
         "layers[0]: a conv layer needs feature maps [channels, height, width], found a vector"
         " of 25 values"),
        ({"conv": True, "kernel": 2}, (1, 5, 5),
         "layers[0].conv: expected the number of output channels (a whole number), found True"),
        ({"pool": "min", "size": 2}, (1, 4, 4), "layers[0].pool: expected max or avg, found 'min'"),
        ({"pool": "max", "size": 2}, (8,),
         "layers[0]: a pool layer needs feature maps [channels, height, width], found a vector"
         " of 8 values"),
        ({"pool": "max", "size": 2}, (1, 5, 4),
         "layers[0].stride: stride 2 does not tile the (padded) input of 5 rows with a window"
         " of 2: 5 - 2 = 3 is not a multiple of 2"),
        ({"pool": "avg"}, (1, 4, 4), "layers[0].size: a pool layer needs its window size: size: n"),
        ({"flatten": None}, (8,),
         "layers[0]: flatten needs feature maps [channels, height, width]; its input is already"
         " a vector"),
        ({"flatten": None, "size": 2}, (1, 2, 2), "layers[0].size: flatten takes no fields"),
    ],
)  # fmt: skip
def test_bad_entries_are_one_line_errors(
    entry: dict[str, Any], shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        read(entry, shape)
    assert str(caught.value) == message


def test_pool_and_flatten_shapes() -> None:
    pool = read({"pool": "max", "size": 2}, (3, 4, 6))
    assert (pool.mode, pool.size, pool.stride) == ("max", 2, 2)
    assert pool.output_shape((3, 4, 6)) == (3, 2, 3)
    assert pool.parameter_shapes((3, 4, 6)) == {}
    overlapping = read({"pool": "avg", "size": 3, "stride": 1}, (2, 5, 5))
    assert overlapping.output_shape((2, 5, 5)) == (2, 3, 3)
    assert read({"flatten": None}, (3, 2, 3)).output_shape((3, 2, 3)) == (18,)


def test_the_forward_index_forms() -> None:
    conv = Conv(2, (2, 3), 2, 1, make_activation("relu", {}))
    form = conv.forward(2)
    assert str(form.equation) == (
        "Eq(z^2[o, i, j], b^2[o] + Sum(a^1[c, i*s - p + u, j*s - p + v]*w^2[o, c, u, v],"
        " (c, 0, C_1 - 1), (u, 0, k_h - 1), (v, 0, k_w - 1)))"
    )
    assert {str(k): v for k, v in form.sizes.items()} == {
        "C_2": 2, "k_h": 2, "k_w": 3, "s": 2, "p": 1
    }  # fmt: skip
    assert form.outside == {nt.activation(1): 0}
    pool = Pool("avg", 2, 2).forward(3)
    assert str(pool.rhs) == "Sum(a^2[c, i*s + u, j*s + v]/k**2, (u, 0, k - 1), (v, 0, k - 1))"
    flatten = Flatten().forward(4)
    assert str(flatten.rhs) == (
        "Sum(KroneckerDelta(k, H_3*W_3*c + W_3*i + j)*a^3[c, i, j], (c, 0, C_3 - 1),"
        " (i, 0, H_3 - 1), (j, 0, W_3 - 1))"
    )


def test_max_pool_selector_marks_the_first_maximum() -> None:
    pool = Pool("max", 2, 2)
    x = [[[1, 3, 0, 0], [3, 2, 0, 0], [5, 1, -1, -2], [0, 5, -3, -1]]]
    m = pool.constants(1, [[[sp.Integer(v) for v in row] for row in x[0]]])[
        sp.IndexedBase("m^1", real=True)
    ]
    assert m[0][0][0] == [[0, 1], [0, 0]]  # 3 at (0,1) and (1,0): the first, row-major
    assert m[0][0][1] == [[1, 0], [0, 0]]  # all equal: the first position
    assert m[0][1][0] == [[1, 0], [0, 0]]
    assert m[0][1][1] == [[1, 0], [0, 0]]
    assert Pool("avg", 2, 2).constants(1, x) == {}
