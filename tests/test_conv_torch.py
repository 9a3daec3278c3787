"""The exact evaluation of conv networks = PyTorch float64 autograd (F.conv2d, max_pool2d,
avg_pool2d, flatten, dense + sigmoid, BCE), for stride 1 and 2, padding 0 and 1, several
channels, max and average pooling, ties in max-pooling, and the issue's worked net."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from conv_cases import (
    DONE_B,
    DONE_T,
    DONE_W,
    DONE_X,
    Dense,
    act,
    done_when_net,
    flat,
    grid,
)

from symbp.layers import Conv, Flatten, Pool
from symbp.ops.activations import make_activation
from symbp.ops.losses import make_loss
from symbp.symbolic.network import evaluate_network, sgd_steps, shapes_of

pytestmark = pytest.mark.extras
torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
F = torch.nn.functional

_ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda v: v}


def _tensor(value: Any) -> Any:
    return torch.tensor(_floats(value), dtype=torch.float64, requires_grad=True)


def _floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value)


def torch_run(input_shape, net, W, b, examples):  # type: ignore[no-untyped-def]
    """Mean BCE over the examples and its gradients, by PyTorch float64 autograd."""
    Wt = [None if w is None else _tensor(w) for w in W]
    bt = [None if v is None else _tensor(v) for v in b]
    xs = _tensor([x for x, _ in examples])
    ts = torch.tensor(_floats([list(t) for _, t in examples]), dtype=torch.float64)
    h, maps = xs, [xs]
    for layer, w, bias in zip(net, Wt, bt, strict=True):
        if isinstance(layer, Conv):
            h = F.conv2d(h, w, bias, stride=layer.stride, padding=layer.padding)
        elif isinstance(layer, Pool):
            pool = F.max_pool2d if layer.mode == "max" else F.avg_pool2d
            h = pool(h, layer.size, layer.stride)
        elif isinstance(layer, Flatten):
            h = torch.flatten(h, 1)
        else:
            h = h @ w.T + bias
        if layer.activation is not None:
            h = _ACT[layer.activation.name](h)
        maps.append(h)
    loss = -(ts * torch.log(h) + (1 - ts) * torch.log(1 - h)).sum(dim=1).mean()
    loss.backward()
    return loss, Wt, bt, xs, maps


def _close(exact: Any, reference: Any, tol: float = 1e-12) -> None:
    got = [float(v) for v in flat(exact)]
    want = reference.detach().reshape(-1).tolist()
    assert len(got) == len(want)
    assert got == pytest.approx(want, rel=tol, abs=tol)


def _check(input_shape, net, examples, seed=1):  # type: ignore[no-untyped-def]
    shapes = shapes_of(input_shape, net)
    W, b = [], []
    for n, layer in enumerate(net):
        params = layer.parameter_shapes(shapes[n])
        W.append(grid(params["W"], seed + 2 * n) if params else None)
        b.append(grid(params["b"], seed + 2 * n + 1) if params else None)
    _compare(input_shape, net, W, b, examples)


def _compare(input_shape, net, W, b, examples):  # type: ignore[no-untyped-def]
    ev = evaluate_network(input_shape, net, make_loss("bce", {}), W, b, examples)
    loss, Wt, bt, xs, maps = torch_run(input_shape, net, W, b, examples)
    assert float(ev.loss) == pytest.approx(loss.item(), rel=1e-12)
    for n in range(len(net)):
        if Wt[n] is not None:
            _close(ev.grad_W[n], Wt[n].grad)
            _close(ev.grad_b[n], bt[n].grad)
        assert ev.grad_W[n] is None if Wt[n] is None else ev.grad_W[n] is not None
        for e, result in enumerate(ev.examples):
            _close(result.a[n + 1], maps[n + 1][e])
    # the mean input gradient: torch's is of the mean loss, per example
    for e, result in enumerate(ev.examples):
        _close(result.grad_x, xs.grad[e] * len(examples))
    return ev


def test_the_issue_net_matches_torch() -> None:
    shape, net = done_when_net()
    ev = _compare(shape, net, DONE_W, DONE_B, [(DONE_X, DONE_T)])
    assert str(ev.examples[0].z[0][0][0]) == "[3, -4, 7, -2]"  # exact, term by term


@pytest.mark.parametrize(
    ("stride", "padding", "mode", "activation"),
    [(1, 0, "max", "relu"), (1, 1, "avg", "tanh"), (2, 1, "max", "sigmoid"), (2, 0, "avg", "relu")],
)
def test_conv_pool_nets_match_torch(stride: int, padding: int, mode: str, activation: str) -> None:
    size = 7 if stride == 2 else 6  # (7 + 2p - 3) tiles by 2 for p = 0 and 1
    shape = (2, size, size)
    conv = Conv(3, (3, 3), stride, padding, act(activation))
    out = conv.output_shape(shape)
    pool = Pool(mode, 2, 2 if out[1] % 2 == 0 else 1)
    n_flat = 3 * pool.output_shape(out)[1] * pool.output_shape(out)[2]
    net = (conv, pool, Flatten(), Dense(2, act("sigmoid")))
    assert n_flat == Flatten().output_shape(pool.output_shape(out))[0]
    examples = [(grid(shape, 11), [1, 0]), (grid(shape, 12), [0, 1])]
    _check(shape, net, examples, seed=stride + 3 * padding)


def test_rectangular_kernel_two_conv_layers_match_torch() -> None:
    shape = (2, 5, 6)
    net = (
        Conv(2, (2, 3), 1, 1, act("tanh")),
        Conv(3, (3, 2), 2, 0, act("relu")),
        Flatten(),
        Dense(1, act("sigmoid")),
    )
    _check(shape, net, [(grid(shape, 5), [1])], seed=4)


def test_max_pool_ties_route_to_the_first_maximum_as_torch() -> None:
    # every window holds equal values in channel 0 and two maxima in channel 1
    x = [
        [[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 3, 3], [0, 0, 3, 3]],
        [[5, 1, 0, 4], [2, 5, 4, 4], [1, 1, 7, 0], [1, 1, 0, 7]],
    ]
    net = (Pool("max", 2, 2), Flatten(), Dense(1, act("sigmoid")))
    W = [None, None, [[1, -2, 3, -1, 2, 1, -3, 1]]]
    b = [None, None, [0]]
    ev = _compare((2, 4, 4), net, W, b, [(x, [1])])
    routed = ev.examples[0].delta[0]  # δ of the pool's output, sent to one position per window
    gx = ev.grad_x
    nonzero = [[[int(v != 0) for v in row] for row in fmap] for fmap in gx]
    assert nonzero[0] == [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert nonzero[1] == [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert gx[1][0][3] == routed[1][0][1]


def test_twenty_sgd_steps_follow_torch_s_loss_trajectory() -> None:
    shape = (2, 5, 5)
    net = (Conv(2, (3, 3), 2, 1, act("relu")), Flatten(), Dense(2, act("sigmoid")))
    W = [grid((2, 2, 3, 3), 21), None, [[v / 2 for v in row] for row in grid((2, 18), 22)]]
    b = [grid((2,), 23), None, grid((2,), 24)]
    examples = [(grid(shape, 25), [1, 0]), (grid(shape, 26), [0, 1])]
    runs = sgd_steps(shape, net, make_loss("bce", {}), W, b, examples, 19, Fraction(1, 2))
    Wt = [None if w is None else _tensor(w) for w in W]
    bt = [None if v is None else _tensor(v) for v in b]
    xs = torch.tensor(_floats([x for x, _ in examples]), dtype=torch.float64)
    ts = torch.tensor(_floats([t for _, t in examples]), dtype=torch.float64)
    params = [p for p in Wt + bt if p is not None]
    optimiser = torch.optim.SGD(params, lr=0.5)
    trajectory = []
    for _ in range(20):
        optimiser.zero_grad()
        h = F.relu(F.conv2d(xs, Wt[0], bt[0], stride=2, padding=1))
        y = torch.sigmoid(torch.flatten(h, 1) @ Wt[2].T + bt[2])
        loss = -(ts * torch.log(y) + (1 - ts) * torch.log(1 - y)).sum(dim=1).mean()
        trajectory.append(loss.item())
        loss.backward()
        optimiser.step()
    exact = [float(run.loss) for run in runs]
    assert exact == pytest.approx(trajectory, rel=1e-10, abs=1e-10)
    assert exact[-1] < exact[0] / 2  # it learns: the trajectory is not flat


def test_softmax_cross_entropy_after_a_leaky_relu_conv_matches_torch() -> None:
    shape = (2, 4, 4)
    net = (
        Conv(2, (3, 3), 1, 1, make_activation("leaky_relu", {"alpha": Fraction(1, 10)})),
        Pool("avg", 2, 2),
        Flatten(),
        Dense(3, act("softmax")),
    )
    W = [grid((2, 2, 3, 3), 31), None, None, grid((3, 8), 32)]
    b = [grid((2,), 33), None, None, grid((3,), 34)]
    x = grid(shape, 35)
    ev = evaluate_network(shape, net, make_loss("cross_entropy", {}), W, b, [(x, [0, 1, 0])])
    Wt = [None if w is None else _tensor(w) for w in W]
    bt = [None if v is None else _tensor(v) for v in b]
    xs = _tensor([x])
    h = F.leaky_relu(F.conv2d(xs, Wt[0], bt[0], padding=1), 0.1)
    h = torch.flatten(F.avg_pool2d(h, 2), 1) @ Wt[3].T + bt[3]
    loss = F.cross_entropy(h, torch.tensor([1]))
    loss.backward()
    assert float(ev.loss) == pytest.approx(loss.item(), rel=1e-12)
    _close(ev.grad_W[0], Wt[0].grad)
    _close(ev.grad_b[0], bt[0].grad)
    _close(ev.grad_W[3], Wt[3].grad)
    _close(ev.grad_x, xs.grad[0])
    _close(ev.examples[0].a[4], torch.softmax(h, 1)[0])
