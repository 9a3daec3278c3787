"""The piecewise kernel (symbp.codegen.piecewise, pieces, tiers): a dense network runs
at once from pieces compiled before, with the generated kernel's numbers bit for bit.

Each case trains one network twice, on the generated kernel and on the piecewise one,
and compares every number the trainer gives (parameters, optimiser state, step and
epoch losses, outputs, gradients) with ``np.array_equal``: equal to the last bit.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from bitwise import assert_same

import symbp
from symbp.codegen import loader, pieces
from symbp.codegen.piecewise import PiecewiseKernel, takes
from symbp.codegen.plan import make_plan
from symbp.codegen.tiers import KernelChoice
from symbp.errors import SpecError, TrainingDiverged


def _spec(**over: object) -> dict:
    spec = {
        "name": "piecewise",
        "layers": [12, 16, 5],
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "init": {"name": "xavier_uniform", "seed": 3},
    }
    spec.update(over)
    return spec


def _data(n: int, n_in: int, n_out: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in)).astype(dtype)
    T = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, n)]
    return X, T


CASES = {
    "tanh-softmax-ce-sgd": _spec(),
    "relu-softmax-ce-adam-step": _spec(
        activations=["relu", "softmax"],
        optimizer={
            "name": "adam",
            "learning_rate": 0.01,
            "schedule": {"name": "step", "gamma": 0.5, "step_size": 2},
        },
    ),
    "sigmoid-leaky-bce-momentum-decay": _spec(
        layers=[12, 16, 12, 7],
        activations=["sigmoid", "leaky_relu", "sigmoid"],
        loss="bce",
        optimizer={"name": "momentum", "learning_rate": 0.05, "weight_decay": 0.01},
    ),
    # mse reads the layer's size (1/n_out): its pieces come from the compile cache
    "tanh-identity-mse-nesterov-exponential": _spec(
        activations=["tanh", "identity"],
        loss="mse",
        optimizer={
            "name": "nesterov",
            "learning_rate": 0.02,
            "schedule": {"name": "exponential", "gamma": 0.9},
        },
    ),
    "frozen-biases-rprop": _spec(frozen=["b"], optimizer={"name": "rprop", "learning_rate": 0.01}),
    # alpha is a run-time number: the built-in leaky pieces take it as an argument
    "leaky-alphas-hidden-and-output-half_sse": _spec(
        layers=[12, 16, 12, 7],
        activations=[
            {"name": "leaky_relu", "alpha": 0.2},
            "tanh",
            {"name": "leaky_relu", "alpha": 0.3},
        ],
        loss="half_sse",
        optimizer={"name": "momentum", "learning_rate": 0.05},
    ),
}


def _train_both(
    spec: dict, dtype: str, *, n: int = 90, batch: int = 16, epochs: int = 3, **fit: object
) -> tuple[symbp.Trainer, symbp.Trainer, tuple, tuple]:
    layers = spec["layers"]
    X, T = _data(n, layers[0], layers[-1], dtype)
    runs = []
    trainers = []
    for kernel in ("generated", "piecewise"):
        trainer = symbp.compile(spec, dtype=dtype, kernel=kernel)
        assert trainer.kernel == kernel
        history = trainer.fit(X, T, epochs=epochs, batch_size=batch, seed=5, **fit)
        runs.append((history.step_losses.copy(), history.epoch_losses.copy()))
        trainers.append(trainer)
    return trainers[0], trainers[1], runs[0], runs[1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_piecewise_equals_generated_bit_for_bit(case: str, dtype: str) -> None:
    spec = CASES[case]
    generated, piecewise, run_g, run_p = _train_both(spec, dtype)
    assert run_g[0].size == 3 * 6
    assert_same(run_g, run_p)
    assert_same(generated.params, piecewise.params)
    assert_same(generated.optimizer_state(), piecewise.optimizer_state())
    assert generated.steps_done == piecewise.steps_done == 18
    X, T = _data(40, spec["layers"][0], spec["layers"][-1], dtype, seed=1)
    assert_same(generated.predict(X), piecewise.predict(X))
    assert_same(generated.gradients(X, T), piecewise.gradients(X, T))
    assert generated.loss(X, T) == piecewise.loss(X, T)
    # the numbers moved: a wrong optimiser step could not pass as "equal"
    assert not np.array_equal(generated.params[0][0], generated.initial_params()[0][0])


def test_batches_larger_than_a_chunk_and_drop_last() -> None:
    """A batch of 300 rows runs as two chunks (CHUNK = 256) with the gradients added
    across them; drop_last leaves out the last, smaller batch."""
    _, _, run_g, run_p = _train_both(_spec(), "float64", n=700, batch=300, drop_last=True)
    assert run_g[0].size == 3 * 2
    assert_same(run_g, run_p)


def test_layers_on_every_core_equal_their_generated_module(tmp_path) -> None:
    """The pieces that run on every core (products, activation, derivative, copies)
    against a module rendered with every layer parallel (``parallel_min_weights=1``)."""
    from symbp.codegen.emit import render
    from symbp.codegen.runtime import TRAIN, Batches, Log, Net

    spec = symbp.load(_spec(layers=[12, 16, 12, 7], activations=["relu", "tanh", "softmax"]))
    path = tmp_path / "parallel_module.py"
    path.write_text(render(spec, "float64", parallel_min_weights=1))
    module = loader.import_module(path)
    plan = make_plan(spec, "float64", parallel_min_weights=1)
    assert all(lay.parallel for lay in plan.layers)
    kernel = PiecewiseKernel(spec, "float64", plan)
    X, T = _data(70, 12, 7, "float64")
    results = []
    for train in (module.train, kernel.train):
        trainer = symbp.compile(spec, kernel="generated")
        params = trainer._params.copy()
        net = Net(params, np.zeros((0, params.size)), np.zeros_like(params), module.workspace(),
                  np.zeros(4, np.int64))  # fmt: skip
        steps, epochs = np.zeros(100), np.zeros(2)
        order, rng = np.arange(70), np.array([9], np.uint64)
        batches = Batches(X, T, np.zeros(0), order, rng, 2, 16, True, False, TRAIN)
        done = train(net, batches, (0.1, 0.0), Log(steps, epochs, np.zeros((0, 7))))
        results.append((params, steps[:done], epochs, order))
    assert_same(results[0], results[1])


def test_divergence_stops_at_the_same_step() -> None:
    spec = _spec(
        optimizer={"name": "sgd", "learning_rate": 1e6}, activations=["identity", "softmax"]
    )
    errors = []
    for kernel in ("generated", "piecewise"):
        trainer = symbp.compile(spec, kernel=kernel)
        X, T = _data(64, 12, 5, "float64")
        with pytest.raises(TrainingDiverged) as info:
            trainer.fit(X * 1e3, T, epochs=5, batch_size=8)
        errors.append((str(info.value), trainer.params))
    assert errors[0][0] == errors[1][0]
    assert_same(errors[0][1], errors[1][1])


def test_auto_moves_to_the_generated_kernel_between_epochs(monkeypatch, tmp_path) -> None:
    """In "auto" a new module starts piecewise and moves to its generated kernel once
    the piecewise passes have taken TIER_UP_S; the run equals a generated-only one."""
    from symbp.codegen import piecewise, tiers

    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setattr(tiers, "_SPENT", {})
    spec = _spec(layers=[12, 17, 5])  # a module no other test compiles
    X, T = _data(60, 12, 5, "float64")
    auto = symbp.compile(spec)
    assert auto.kernel == "piecewise"
    monkeypatch.setattr(piecewise, "TIER_UP_S", 0.0)
    seen = []
    auto.fit(X, T, epochs=3, batch_size=8, callback=lambda e, t, h: seen.append(t.kernel))
    assert seen == ["generated"] * 3  # the first epoch ran piecewise, then it tiered up
    assert auto.module.train.signatures  # compiled once
    reference = symbp.compile(spec, kernel="generated")
    history = reference.fit(X, T, epochs=3, batch_size=8)
    assert_same(auto.params, reference.params)
    assert history.n_steps == 24


def test_networks_it_does_not_take_run_the_generated_kernel() -> None:
    small = symbp.load(_spec(layers=[3, 4, 1], activations=["sigmoid", "sigmoid"], loss="bce"))
    assert not takes(small)  # 12 weights: the generated loops are unrolled
    assert symbp.compile(small, kernel="piecewise").kernel == "generated"
    assert takes(symbp.load(_spec()))


def test_builtin_pieces_cover_the_benchmark_networks(monkeypatch, tmp_path) -> None:
    """W2 (tanh/softmax/CE/SGD) and W3's (relu on every core) pieces ship built in: no
    piece module is rendered into the compile cache for them."""
    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path))
    for raw, dtype in (
        (_spec(layers=[64, 64, 10]), "float32"),
        (_spec(layers=[784, 256, 256, 10], activations=["relu", "relu", "softmax"]), "float64"),
        (
            _spec(
                optimizer={"name": "adam", "learning_rate": 0.01}, activations=["relu", "softmax"]
            ),
            "float64",
        ),
    ):
        plan = make_plan(symbp.load(raw), dtype)
        builtin = pieces._builtin(dtype)
        assert all(p.key in builtin for p in pieces.plan_pieces(plan).values())
    assert not list(tmp_path.rglob("pieces_*.py"))


def test_piece_names_are_their_text_hash() -> None:
    """Equal formulas give one piece: layer 1's and layer 2's tanh are the same."""
    raw = _spec(layers=[12, 16, 12, 7], activations=["tanh", "tanh", "softmax"])
    plan = make_plan(symbp.load(raw), "float64")
    found = pieces.plan_pieces(plan)
    assert found["activate", 1] == found["activate", 2]
    assert found["activate", 1].text.startswith("@njit(**JIT)\ndef activate_")
    assert found["normalise", 3].name != found["activate", 1].name


def test_the_kernel_mode_is_checked_and_kept_by_pickling() -> None:
    with pytest.raises(SpecError, match="kernel"):
        symbp.compile(_spec(), kernel="fastest")
    trainer = symbp.compile(_spec(), kernel="piecewise")
    twin = pickle.loads(pickle.dumps(trainer))
    assert twin.kernel == "piecewise"
    assert KernelChoice(twin.spec, twin.module, "float64", "generated").name == "generated"
