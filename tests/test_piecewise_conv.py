"""The piecewise kernel for conv nets (symbp.codegen.piecewise_front): conv, pool and
flatten layers before the dense ones run from pieces compiled once, with the generated
conv kernel's numbers bit for bit.

Each case trains one network twice, on the generated kernel and on the piecewise one,
and compares every number the trainer gives (parameters, optimiser state, step and epoch
losses, outputs, gradients, loss) with ``np.array_equal``: equal to the last bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from bitwise import assert_same

import symbp
from symbp.codegen import pieces
from symbp.codegen.front import make_map_plan
from symbp.codegen.piecewise import takes
from symbp.codegen.piecewise_front import stand_in


def _spec(shape: list[int], front: list[object], dense: list[object], **over: object) -> dict:
    spec = {
        "name": "piecewise_conv",
        "input": shape,
        "layers": [*front, "flatten", *dense],
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.05},
        "init": {"name": "xavier_uniform", "seed": 3},
    }
    spec.update(over)
    return spec


def _conv(channels: int, kernel: object, act: str, stride: int = 1, padding: int = 0) -> dict:
    return {
        "conv": channels,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "activation": act,
    }


SOFTMAX10 = [{"dense": 10, "activation": "softmax"}]
MAX2 = {"pool": "max", "size": 2}
AVG2 = {"pool": "avg", "size": 2}

CASES = {
    # the digits conv net: kernel in taps, relu, max-pool routed by the conv block (the
    # relu zeros make many windows tie)
    "digits-taps-relu-max": _spec([1, 8, 8], [_conv(8, 3, "relu"), MAX2], SOFTMAX10),
    # stride 2, padding 1 (loops with bounds checks), 3 channels in, average pool, adam
    "s2p1-tanh-avg-adam": _spec(
        [3, 7, 7],
        [_conv(4, 3, "tanh", stride=2, padding=1), AVG2],
        [{"dense": 12, "activation": "sigmoid"}],
        loss="bce",
        optimizer={"name": "adam", "learning_rate": 0.01},
    ),
    # two conv layers: taps on the input, then padding (loops) below a max-pool that
    # routes; two dense layers; momentum with a step schedule
    "two-convs-sigmoid-relu-momentum": _spec(
        [2, 7, 7],
        [_conv(3, 2, "sigmoid"), _conv(4, 3, "relu", padding=1), MAX2],
        [{"dense": 16, "activation": "tanh"}, {"dense": 5, "activation": "softmax"}],
        optimizer={
            "name": "momentum",
            "learning_rate": 0.05,
            "schedule": {"name": "step", "gamma": 0.5, "step_size": 1},
        },
    ),
    # a max-pool on the input (ties: the inputs are 0/1) under a conv layer with a 2x3
    # kernel (taps, not the input: its delta is scattered through the pool)
    "input-max-pool-ties": _spec([2, 8, 8], [MAX2, _conv(5, [2, 3], "sigmoid")], SOFTMAX10),
    # a max-pool above an average pool (routes itself), a conv with stride 2 in loops
    "max-above-avg-identity": _spec(
        [2, 10, 10],
        [_conv(9, 3, "identity", stride=1, padding=1), AVG2, {"pool": "max", "size": 5}],
        [{"dense": 12, "activation": "softmax"}],
    ),
    # one input channel: the module's unrolled sums (4 taps on the input, then 9 taps
    # below a max-pool), built in
    "unrolled-4-and-9-taps": _spec(
        [1, 9, 9],
        [{**_conv(1, 2, "sigmoid")}, _conv(3, 3, "tanh"), MAX2],
        SOFTMAX10,
    ),
    # a dense layer of 676 x 256 weights: its products and activations run on every core
    "parallel-dense-tail": _spec(
        [1, 28, 28],
        [_conv(4, 3, "relu"), MAX2],
        [{"dense": 256, "activation": "relu"}, {"dense": 10, "activation": "softmax"}],
    ),
    # frozen biases (the conv layer's too): the step leaves them, the gradients still flow
    "frozen-biases-rprop": _spec(
        [2, 8, 8],
        [_conv(4, 3, "tanh"), MAX2],
        SOFTMAX10,
        frozen=["b"],
        optimizer={"name": "rprop", "learning_rate": 0.01},
    ),
    # no parameters before the dense layers: the front has a forward pass only
    "pool-only-front": _spec([2, 8, 8], [AVG2], SOFTMAX10),
}


#: Cases whose inputs are 0 or 1: many max-pool windows on the input tie.
BINARY = {"input-max-pool-ties"}


def _data(spec: dict, n: int, dtype: str, seed: int = 0, binary: bool = False) -> tuple:
    rng = np.random.default_rng(seed)
    n_in = math.prod(spec["input"])
    n_out = spec["layers"][-1]["dense"]
    if binary:
        X = rng.integers(0, 2, (n, n_in)).astype(dtype)
    else:
        X = rng.normal(size=(n, n_in)).astype(dtype)
    T = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, n)]
    return X, T


def _train_both(
    spec: dict, dtype: str, *, n: int = 90, batch: int = 16, epochs: int = 3,
    binary: bool = False, **fit: object,
) -> tuple[symbp.Trainer, symbp.Trainer, tuple, tuple]:  # fmt: skip
    X, T = _data(spec, n, dtype, binary=binary)
    runs, trainers = [], []
    for kernel in ("generated", "piecewise"):
        trainer = symbp.compile(spec, dtype=dtype, kernel=kernel)
        assert trainer.kernel == kernel
        history = trainer.fit(X, T, epochs=epochs, batch_size=batch, seed=5, **fit)
        runs.append((history.step_losses.copy(), history.epoch_losses.copy()))
        trainers.append(trainer)
    return trainers[0], trainers[1], runs[0], runs[1]


#: The cases also run in float32 (each case compiles a generated conv module per dtype:
#: these three cover every front piece kind, taps and loops, max and average pools).
FLOAT32 = ("digits-taps-relu-max", "s2p1-tanh-avg-adam", "input-max-pool-ties")


@pytest.mark.parametrize(
    ("case", "dtype"),
    [(c, "float64") for c in sorted(CASES)] + [(c, "float32") for c in FLOAT32],
)
def test_piecewise_conv_equals_generated_bit_for_bit(case: str, dtype: str) -> None:
    spec, binary = CASES[case], case in BINARY
    assert takes(symbp.load(spec))
    generated, piecewise, run_g, run_p = _train_both(spec, dtype, binary=binary)
    assert run_g[0].size == 3 * 6
    assert_same(run_g, run_p)
    assert_same(generated.params, piecewise.params)
    assert_same(generated.optimizer_state(), piecewise.optimizer_state())
    assert generated.steps_done == piecewise.steps_done == 18
    X, T = _data(spec, 40, dtype, seed=1, binary=binary)
    assert_same(generated.predict(X), piecewise.predict(X))
    assert_same(generated.gradients(X, T), piecewise.gradients(X, T))
    assert generated.loss(X, T) == piecewise.loss(X, T)
    # the first layer with weights moved: a wrong backward could not pass as "equal"
    first = next(k for k, W in enumerate(generated.params[0]) if W is not None)
    assert not np.array_equal(generated.params[0][first], generated.initial_params()[0][first])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batches_larger_than_a_chunk(dtype: str) -> None:
    """A batch of 300 rows runs as two chunks (CHUNK = 256): the conv kernel's gradient
    of the second chunk adds to the first's, row after row, as the module does."""
    spec = CASES["two-convs-sigmoid-relu-momentum"]
    _, _, run_g, run_p = _train_both(spec, dtype, n=700, batch=300, drop_last=True)
    assert run_g[0].size == 3 * 2
    assert_same(run_g, run_p)


def test_networks_it_does_not_take_run_the_generated_kernel() -> None:
    """A conv net whose dense layer is small (its loops are unrolled: another order of
    operations) runs the generated kernel; so does one that does not end in dense layers."""
    small = _spec([1, 5, 5], [_conv(2, 2, "relu"), MAX2], [{"dense": 1, "activation": "sigmoid"}],
                  loss="bce")  # fmt: skip
    assert not takes(symbp.load(small))  # 8 weights in the dense layer
    assert symbp.compile(small, kernel="piecewise").kernel == "generated"
    # a conv layer's leaky alpha is a run-time number its front pieces do not take
    leaky = _spec([2, 8, 8], [MAX2, _conv(5, [2, 3], "leaky_relu")], SOFTMAX10)
    assert not takes(symbp.load(leaky))
    assert symbp.compile(leaky, kernel="piecewise").kernel == "generated"
    assert takes(symbp.load(CASES["digits-taps-relu-max"]))


def _front(spec: dict) -> dict:
    plan = make_map_plan(symbp.load(spec), "float64")
    kinds = ("conv", "pool", "flatten")
    return {k: v for k, v in pieces.plan_pieces(plan).items() if k[0].startswith(kinds)}


def test_one_piece_serves_every_geometry() -> None:
    """The pieces' text holds no size: the digits net and a net of other sizes, stride
    and channels with the same kinds share every front piece; a conv layer of 9 taps (a
    3x3 kernel on one channel) takes the module's unrolled sums, built in, one of 12 taps
    the sums over the run-time offsets, shared by every number of taps."""
    digits = _front(CASES["digits-taps-relu-max"])
    assert sorted(digits) == [
        ("conv_backward", 1),
        ("conv_forward", 1),
        ("flatten_backward", 3),
        ("pool_forward", 2),
    ]
    other = _spec([1, 18, 18], [_conv(6, 3, "relu", stride=3), {"pool": "max", "size": 3}],
                  [{"dense": 7, "activation": "softmax"}])  # fmt: skip
    assert _front(other) == digits
    text = digits["conv_forward", 1].text
    assert "range(c_out)" in text and "z += X[r, t0 + tap_8] * w_8" in text
    assert all(p.key in pieces._builtin("float64") for p in digits.values())
    # 12 and 18 taps: one piece, its sums loop over the offsets
    twelve = _spec([3, 7, 7], [_conv(4, 2, "relu"), MAX2], SOFTMAX10)
    eighteen = _spec([2, 8, 8], [_conv(4, 3, "relu"), MAX2], SOFTMAX10)
    assert _front(twelve) == _front(eighteen)
    assert "for k in range(n_taps):" in _front(twelve)["conv_forward", 1].text
    plan = make_map_plan(symbp.load(twelve), "float64")
    assert stand_in(plan, plan.front[0]).taps == "taps"


def test_builtin_pieces_cover_the_digits_conv_net(monkeypatch, tmp_path) -> None:
    """The digits conv net's pieces (both dtypes) ship built in: no piece module is
    rendered into the compile cache for it."""
    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path))
    for dtype in ("float64", "float32"):
        plan = make_map_plan(symbp.load(CASES["digits-taps-relu-max"]), dtype)
        builtin = pieces._builtin(dtype)
        assert all(p.key in builtin for p in pieces.plan_pieces(plan).values())
    assert not list(tmp_path.rglob("pieces_*.py"))


def test_auto_starts_a_new_conv_net_piecewise_and_moves_to_its_kernel(monkeypatch, tmp_path):
    """In "auto" a new conv net starts on the piecewise kernel (nothing compiled for it)
    and moves to its generated kernel once the piecewise passes took TIER_UP_S; the run
    equals a generated-only one, bit for bit."""
    from symbp.codegen import piecewise, tiers

    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setattr(tiers, "_SPENT", {})
    spec = _spec([1, 6, 6], [_conv(3, 3, "sigmoid"), AVG2], [{"dense": 9, "activation": "softmax"}])
    X, T = _data(spec, 50, "float64")
    auto = symbp.compile(spec)
    assert auto.kernel == "piecewise"
    monkeypatch.setattr(piecewise, "TIER_UP_S", 0.0)
    seen: list[str] = []
    auto.fit(X, T, epochs=3, batch_size=8, callback=lambda e, t, h: seen.append(t.kernel))
    assert seen == ["generated"] * 3  # the first epoch ran piecewise, then it tiered up
    reference = symbp.compile(spec, kernel="generated")
    history = reference.fit(X, T, epochs=3, batch_size=8)
    assert_same(auto.params, reference.params)
    assert history.n_steps == 21
