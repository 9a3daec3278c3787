"""The engine derives conv, pool and flatten backward formulas from the records' forward,
and the exact evaluator instantiates them: golden formulas, their names, reads outside a
range, the rotation a slip forgets, finite differences and the multiply-add cap."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from conv_cases import DONE_B, DONE_T, DONE_W, DONE_X, Dense, act, done_when_net, flat, grid

from symbp.errors import DataError, TooLargeError
from symbp.layers import Conv, Flatten, Pool
from symbp.ops.losses import make_loss
from symbp.symbolic import notation as nt
from symbp.symbolic.instantiate import Env
from symbp.symbolic.network import MAX_EXACT_MACS, evaluate_network, step_cost
from symbp.symbolic.network_plan import _cost as plan_cost
from symbp.symbolic.network_plan import plan_network
from symbp.symbolic.shifted import collapse_sums, derive_layer
from symbp.symbolic.shifted_text import derivation_lines, network_lines, recognise, text


def _conv(stride: int = 1, padding: int = 0) -> Conv:
    return Conv(2, (2, 2), stride, padding, act("relu"))


def test_conv_gradients_are_derived_with_symbolic_stride_and_padding() -> None:
    d = derive_layer(_conv(), 1)
    g = d.gradients
    assert text(g["W"].rhs) == "Σ_{i,j} a^0[c, i*s - p + u, j*s - p + v]*delta^1[o, i, j]"
    assert [str(i) for i in g["W"].index] == ["o", "c", "u", "v"]
    assert text(g["b"].rhs) == "Σ_{i,j} delta^1[o, i, j]"
    assert text(g["input"].rhs) == (
        "Σ_{o,u,v} [s | p - u + y ∧ s | p - v + x]·"
        "(delta^1[o, (p - u + y)/s, (p - v + x)/s]*w^1[o, c, u, v])"
    )
    # the input gradient sums over the kernel positions (u, v), never the output map
    (total,) = g["input"].rhs.atoms(sp.Sum)
    assert [str(v) for v, _, _ in total.limits] == ["o", "u", "v"]
    assert g["input"].outside == {nt.activation(0): 0, nt.delta(1): 0}


def test_conv_gradients_are_named_from_their_structure() -> None:
    d = derive_layer(_conv(2, 1), 1)
    assert recognise(d, "W") == (
        "the correlation of the input a^0 with delta^1 (the output positions summed)"
    )
    assert recognise(d, "input") == (
        "the full convolution of delta^1 with the kernel w^1 rotated by 180°, delta^1 dilated"
        " by the stride s (s − 1 zeros between its entries: a kernel position reaches an input"
        " only where s divides the offset), shifted by p"
    )


def test_pool_and_flatten_backward() -> None:
    routed = derive_layer(Pool("max", 2, 2), 2).gradients["input"]
    assert text(routed.rhs) == (
        "Σ_{u,v} [s | -u + y ∧ s | -v + x]·(delta^2[c, (-u + y)/s, (-v + x)/s]"
        "*m^2[c, (-u + y)/s, (-v + x)/s, u, v])"
    )
    mean = derive_layer(Pool("avg", 2, 2), 2).gradients["input"]
    assert text(mean.rhs).endswith("(delta^2[c, (-u + y)/s, (-v + x)/s]/k**2)")
    back = derive_layer(Flatten(), 3).gradients["input"]
    assert text(back.rhs) == "delta^3[H_2*W_2*c + W_2*i + j]"
    lines = derivation_lines(Pool("max", 2, 2), 2)
    assert (
        lines[-1]
        == "    = routing: each window's delta^2 goes to the one position its selector m^2 chose"
    )


def test_a_guard_is_kept_where_no_read_vanishes_outside() -> None:
    # Σ_u [u + 1 = y] W[u]: W is not zero outside its range, so 0 <= y - 1 <= 2 must stay
    u, y = sp.symbols("u y", integer=True, nonnegative=True)
    w = sp.IndexedBase("W")
    expr = sp.Sum(sp.KroneckerDelta(u + 1, y) * w[u], (u, 0, 2))
    kept = collapse_sums(expr, {y: (0, 5)}, {}, {w: (3,)})
    assert kept == sp.Piecewise((w[y - 1], (y - 1 >= 0) & (y - 1 <= 2)), (0, True))
    dropped = collapse_sums(expr, {y: (0, 5)}, {w: 0}, {w: (3,)})
    assert dropped == w[y - 1]
    # a stride gives a divisibility condition, never a bare fractional index
    s = sp.Symbol("s", integer=True, positive=True)
    strided = collapse_sums(
        sp.Sum(sp.KroneckerDelta(s * u, y) * w[u], (u, 0, 2)), {y: (0, 5)}, {w: 0}, {w: (3,)}
    )
    assert strided == sp.Piecewise((w[y / s], sp.Eq(sp.Mod(y, s), 0)), (0, True))


def test_reads_outside_a_range_never_wrap() -> None:
    a = sp.IndexedBase("a")
    env = Env({a: [[1, 2, 3]]}, {})
    with pytest.raises(IndexError, match=r"outside 0\.\.2"):
        env.value(a[0, -1])
    padded = Env({a: [[1, 2, 3]]}, {}, outside={a: sp.Integer(0)})
    assert padded.value(a[0, -1]) == 0
    assert padded.value(a[0, 3]) == 0
    i, j = sp.symbols("i j", integer=True)
    assert padded.value(sp.Sum(a[i, j], (i, 0, 0), (j, -1, 3))) == 6


def _flipped_input_gradient(delta, W, shape):  # type: ignore[no-untyped-def]
    """The slip: the full convolution of δ with the kernel NOT rotated (stride 1, padding 0)."""
    out_c, in_c, kh, kw = len(W), len(W[0]), len(W[0][0]), len(W[0][0][0])
    _, rows, cols = shape

    def d(o: int, r: int, q: int):  # type: ignore[no-untyped-def]
        inside = 0 <= r < len(delta[0]) and 0 <= q < len(delta[0][0])
        return delta[o][r][q] if inside else 0

    return [
        [
            [
                sum(
                    d(o, y - u, x - v) * W[o][c][kh - 1 - u][kw - 1 - v]
                    for o in range(out_c)
                    for u in range(kh)
                    for v in range(kw)
                )
                for x in range(cols)
            ]
            for y in range(rows)
        ]
        for c in range(in_c)
    ]


def test_the_kernel_not_rotated_gives_other_numbers_on_the_issue_example() -> None:
    shape, net = done_when_net()
    ev = evaluate_network(shape, net, make_loss("bce", {}), DONE_W, DONE_B, [(DONE_X, DONE_T)])
    r = ev.examples[0]
    slip = _flipped_input_gradient(r.delta[0], DONE_W[0], shape)
    right = [
        [
            [
                sum(
                    r.delta[0][o][y - u][x - v] * DONE_W[0][o][0][u][v]
                    for o in range(2)
                    for u in range(2)
                    for v in range(2)
                    if 0 <= y - u < 4 and 0 <= x - v < 4
                )
                for x in range(5)
            ]
            for y in range(5)
        ]
    ]
    assert [float(v) for v in flat(right)] == pytest.approx([float(v) for v in flat(ev.grad_x)])
    differ = sum(abs(float(a - b)) > 1e-6 for a, b in zip(flat(slip), flat(ev.grad_x), strict=True))
    assert differ == 17  # of the 25 inputs


def _loss(shape, net, W, b, examples):  # type: ignore[no-untyped-def]
    return evaluate_network(shape, net, make_loss("bce", {}), W, b, examples).loss


def _shifted(value, direction, h):  # type: ignore[no-untyped-def]
    if isinstance(value, list):
        return [_shifted(v, d, h) for v, d in zip(value, direction, strict=True)]
    return (
        sp.Rational(value) + h * direction
        if not isinstance(value, sp.Expr)
        else value + h * direction
    )


@pytest.mark.parametrize(
    ("stride", "padding", "mode"), [(1, 0, "max"), (2, 1, "avg"), (1, 1, "avg")]
)
def test_gradients_agree_with_central_finite_differences(
    stride: int, padding: int, mode: str
) -> None:
    shape = (2, 5, 5)
    conv = Conv(2, (3, 3), stride, padding, act("tanh"))
    out = conv.output_shape(shape)
    pool = Pool(mode, out[1] - 1, 1)
    net = (conv, pool, Flatten(), Dense(1, act("sigmoid")))
    n_flat = Flatten().output_shape(pool.output_shape(out))[0]
    W = [grid((2, 2, 3, 3), 1), None, None, grid((1, n_flat), 2)]
    b = [grid((2,), 3), None, None, grid((1,), 4)]
    x = grid(shape, 5)
    ev = evaluate_network(shape, net, make_loss("bce", {}), W, b, [(x, [1])])
    dirs = [grid((2, 2, 3, 3), 6), grid((2,), 7), grid((1, n_flat), 8), grid(shape, 9)]
    predicted = sum(
        float(g) * float(d)
        for grads, ds in zip(
            (ev.grad_W[0], ev.grad_b[0], ev.grad_W[3], ev.grad_x), dirs, strict=True
        )
        for g, d in zip(flat(grads), flat(ds), strict=True)
    )
    h = sp.Rational(1, 10**15)

    def at(sign: int):  # type: ignore[no-untyped-def]
        Ws = [_shifted(W[0], dirs[0], sign * h), None, None, _shifted(W[3], dirs[2], sign * h)]
        bs = [_shifted(b[0], dirs[1], sign * h), None, None, b[3]]
        return _loss(shape, net, Ws, bs, [(_shifted(x, dirs[3], sign * h), [1])])

    with mpmath.workdps(60):
        central = (mpmath.mpf(str(at(1))) - mpmath.mpf(str(at(-1)))) / (2 * mpmath.mpf(str(h)))
    assert float(central) == pytest.approx(predicted, rel=1e-12, abs=1e-14)


def test_the_exact_cost_is_counted_and_capped() -> None:
    shape, net = done_when_net()
    assert step_cost(shape, net) == 704  # conv 488, max-pool 160, flatten 32, dense 24
    wide = (8, 60, 60)
    big = (Conv(8, (3, 3), 1, 1, act("relu")), Flatten(), Dense(1, act("sigmoid")))
    assert step_cost(wide, big) > MAX_EXACT_MACS
    with pytest.raises(TooLargeError, match=r"multiply-adds a step \(at most 200000\)"):
        evaluate_network(wide, big, make_loss("bce", {}), [None] * 3, [None] * 3, [([], [1])])


def test_parameters_of_the_wrong_shape_are_one_line_errors() -> None:
    shape, net = done_when_net()
    W = [DONE_W[0][:1], None, None, DONE_W[3]]
    with pytest.raises(DataError, match=r"^W\[0\]: expected 2 entries \(shape 2x1x2x2\), found 1$"):
        evaluate_network(shape, net, make_loss("bce", {}), W, DONE_B, [(DONE_X, DONE_T)])
    W = [DONE_W[0], [1], None, DONE_W[3]]
    with pytest.raises(DataError, match=r"W\[1\]: the layer has no parameters; expected null"):
        evaluate_network(shape, net, make_loss("bce", {}), W, DONE_B, [(DONE_X, DONE_T)])


def test_text_is_never_read_as_a_number() -> None:
    shape, net = done_when_net()
    x = [[["1/2", 0, 0, 0, 0], *DONE_X[0][1:]]]
    with pytest.raises(
        DataError, match=r"^example\[0\]\.x\[0\]\[0\]\[0\]: expected a number, found '1/2'$"
    ):
        evaluate_network(shape, net, make_loss("bce", {}), DONE_W, DONE_B, [(x, DONE_T)])


def test_the_issue_net_by_name() -> None:
    shape, net = done_when_net()
    ev = evaluate_network(shape, net, make_loss("bce", {}), DONE_W, DONE_B, [(DONE_X, DONE_T)])
    named = ev.to_json()
    assert sorted(named) == ["a", "delta", "grad_W", "grad_b", "grad_x", "loss", "z"]
    assert named["z"][0][0][0] == [3.0, -4.0, 7.0, -2.0]
    assert named["a"][2] == [[[3.0, 7.0], [7.0, 5.0]], [[3.5, 4.5], [3.5, 2.5]]]
    assert named["a"][3] == [3.0, 7.0, 7.0, 5.0, 3.5, 4.5, 3.5, 2.5]  # (channel, row, column)
    assert named["grad_W"][1] is None and named["grad_b"][2] is None
    # z[3] = 3/2 - 7 + 7 - 5/2 + 7/2 + 0 - 7/4 + 5/2 - 1/4 = 3, a[4] = σ(3), L = ln(1 + e^-3)
    assert ev.examples[0].z[3] == [3]
    assert named["loss"] == pytest.approx(float(sp.log(1 + sp.exp(-3))), rel=1e-15)
    lines = network_lines(net)
    assert lines[0] == "layer 1 (conv): forward"
    assert "layer 4 (dense): derived backward, δ = delta^4 = ∂L/∂z^4" in lines


def test_the_derivation_does_not_depend_on_the_sizes() -> None:
    small = derive_layer(Conv(2, (2, 2), 1, 0, act("relu")), 1)
    large = derive_layer(Conv(64, (7, 5), 3, 2, act("tanh")), 1)
    for name in ("W", "b", "input"):
        assert large.gradients[name].rhs == small.gradients[name].rhs
    assert {str(k): v for k, v in large.forward.sizes.items()} == {
        "C_1": 64, "k_h": 7, "k_w": 5, "s": 3, "p": 2
    }  # fmt: skip


def test_the_input_gradient_costs_only_the_kernel_positions_that_cover_each_input() -> None:
    # 28x28, 8 kernels 3x3 (same padding): the clipped input gradient costs 784 · 8 · 9
    (plan,) = plan_network((1, 28, 28), (Conv(8, (3, 3), 1, 1, act("relu")),))
    forms = plan.derivation.gradients
    assert plan_cost(forms["input"].rhs, plan.values) * 28 * 28 == 784 * 8 * 9
    assert plan_cost(forms["W"].rhs, plan.values) * 8 * 9 == 8 * 9 * 784
    assert plan_cost(plan.derivation.evaluated, plan.values) == 9  # per output, plus the bias
    assert plan.macs == 3 * 784 * 8 * 9 + 8 * 784
