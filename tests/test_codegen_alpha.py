"""An activation's numbers (leaky ReLU's alpha) are run-time numbers of the kernel.

A grid over alpha (alone, and with the learning rate) compiles one module: the cache
holds one entry, and every fit equals, bit for bit, the fit of a module written for
that spec alone (``symbp compile -o``, whose DEFAULTS are the spec's numbers). The
kernels still follow the exact evaluator for an alpha other than the default, in the
dense layers, the output layer and a conv layer.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conv_kernel_cases import assert_matches_exact, inputs, spec_of
from test_codegen_crosscheck import assert_follows_evaluator, with_example

import symbp
from symbp.codegen import hyper
from symbp.codegen.loader import import_module

BASE: dict[str, Any] = {
    "name": "alpha grid",
    "layers": [4, 5, 3],
    "activations": [{"name": "leaky_relu", "alpha": 0.01}, "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 0},
}


def _spec(alpha: float, lr: float = 0.1, base: dict[str, Any] = BASE) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data["activations"][0]["alpha"] = alpha
    data["optimizer"]["learning_rate"] = lr
    return data


def _data(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, n_in))
    T = np.eye(n_out)[rng.integers(0, n_out, size=40)]
    return X, T


def _fit(trainer: symbp.codegen.Trainer) -> tuple[bytes, bytes, bytes]:
    X, T = _data(trainer.spec.layers[0], trainer.spec.layers[-1])
    history = trainer.fit(X, T, epochs=3, batch_size=8, shuffle=True, seed=1)
    W, b = trainer.params
    flat = np.concatenate([w.ravel() for w in [*W, *b]])
    return history.step_losses.tobytes(), flat.tobytes(), trainer.predict(X).tobytes()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "kernels"


#: A network whose layers are not small (products, layers on every core in the
#: piecewise kernel's sense), leaky in a hidden layer and in the output layer.
WIDE: dict[str, Any] = {
    "name": "alpha grid wide",
    "layers": [12, 16, 9],
    "activations": [{"name": "leaky_relu", "alpha": 0.01}, {"name": "leaky_relu", "alpha": 0.75}],
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 0},
}


@pytest.mark.parametrize("base", [BASE, WIDE], ids=["small", "wide"])
def test_a_grid_over_alpha_and_the_learning_rate_compiles_one_module(
    base: dict[str, Any], cache: Path, tmp_path: Path
) -> None:
    grid = [_spec(alpha, lr, base) for alpha in (0.01, 0.1, 0.3) for lr in (0.05, 0.2)]
    trainers = [symbp.compile(spec, kernel="generated") for spec in grid]
    results = [_fit(tr) for tr in trainers]
    assert len(list(cache.glob("*.py"))) == 1
    assert len({id(tr.module) for tr in trainers}) == 1
    assert len(trainers[0].module.train.signatures) == 1
    # alpha reached the kernel: six trajectories, six sets of outputs
    assert len({r[0] for r in results}) == len({r[2] for r in results}) == len(grid)
    for index in (0, 3, 4):
        alone = symbp.compile(grid[index], out_dir=tmp_path / f"alone{index}", kernel="generated")
        assert alone.module is not trainers[0].module
        assert alone.module.DEFAULTS[alone.module.HYPER.index("alpha_1")] == float(
            grid[index]["activations"][0]["alpha"]
        )
        assert _fit(alone) == results[index]


def test_the_structure_key_names_the_activation_not_its_alpha() -> None:
    keys = {hyper.structure_key(symbp.load(_spec(alpha))) for alpha in (0.01, 0.2, 1.5)}
    assert len(keys) == 1
    relu = copy.deepcopy(BASE)
    relu["activations"][0] = "relu"
    assert hyper.structure_key(symbp.load(relu)) not in keys
    spec = symbp.load(_spec(0.25, 0.05))
    assert hyper.values(spec) == (0.05, 0.0, 0.25)
    assert [s.name for s in hyper.all_slots(spec)] == ["lr0", "weight_decay", "alpha_1"]


def test_the_modules_state_their_alpha(cache: Path, tmp_path: Path) -> None:
    spec = symbp.load(_spec(0.25, base=WIDE))
    trainer = symbp.compile(spec, kernel="generated")
    cached = trainer.module_path.read_text()
    assert "0.25" not in cached and "0.75" not in cached  # the cache's: no numbers
    assert trainer.module.HYPER == ("lr0", "weight_decay", "alpha_1", "alpha_2")
    assert trainer.module.DEFAULTS is None
    X = _data(12, 9)[0]
    out = np.empty((len(X), 9))
    with pytest.raises(ValueError, match="pass hyper"):
        trainer.module.predict(trainer._params, trainer.module.workspace(), X, out)
    path = symbp.codegen.write_module(spec, out_dir=tmp_path / "out")
    text = path.read_text()
    module = import_module(path)
    assert module.DEFAULTS == (0.1, 0.0, 0.25, 0.75)
    assert "alpha_1 is the layer 1 leaky_relu alpha" in text
    assert "act_alpha = h_alpha_2  # layer 2's leaky_relu alpha" in text
    assert "else (act_alpha*z)" in text
    # without hyper, predict runs with the module's own numbers (its DEFAULTS)
    module.predict(trainer._params, module.workspace(), X, out)
    assert np.array_equal(out, trainer.predict(X))


@pytest.mark.parametrize(
    "activations",
    [
        [{"name": "leaky_relu", "alpha": 0.3}, {"name": "leaky_relu", "alpha": 0.7}, "sigmoid"],
        [{"name": "leaky_relu", "alpha": 2}, "tanh", {"name": "leaky_relu", "alpha": 0.3}],
    ],
    ids=["hidden", "output"],
)
def test_the_kernel_follows_the_exact_evaluator_for_any_alpha(activations: list) -> None:
    spec = with_example(
        symbp.load(
            {
                "layers": [3, 4, 3, 2],
                "activations": activations,
                "loss": "half_sse",
                "optimizer": {"name": "momentum", "learning_rate": 0.3, "momentum": 0.5},
                "init": {"name": "xavier_uniform", "seed": 4},
            }
        )
    )
    assert_follows_evaluator(symbp.compile(spec, kernel="generated"), spec)


def test_a_conv_layers_alpha_is_a_run_time_number(cache: Path) -> None:
    """A leaky conv layer: one module for two alphas, each equal to the exact gradients."""
    from symbp.symbolic.network_run import run_network

    grads = []
    modules = set()
    for alpha in (0.1, 0.4):
        entries: list[Any] = [
            {
                "conv": 2,
                "kernel": 2,
                "stride": 1,
                "padding": 0,
                "activation": {"name": "leaky_relu", "alpha": alpha},
            },
            "flatten",
            {"dense": 2, "activation": "identity"},
        ]
        raw = spec_of(("leaky-conv", [1, 3, 3], entries, "half_sse", 2))
        spec = symbp.load(raw)
        trainer = symbp.compile(spec, kernel="generated")
        modules.add(id(trainer.module))
        X, T = inputs(raw)
        gW, gb = trainer.gradients(X, T)
        exact = run_network(spec).steps[0].evaluation
        assert_matches_exact(gW + gb, exact.grad_W + exact.grad_b)
        grads.append(gW[0].copy())
    assert len(modules) == 1
    assert not np.array_equal(grads[0], grads[1])


def test_a_recurrent_network_keeps_alpha_compiled_in(cache: Path) -> None:
    """The recurrent kernel reads no activation numbers at run time (not written for it):
    alpha stays in its blocks and its structure key, and the kernel follows the exact
    evaluator for an alpha other than the default."""

    def elman(alpha: float) -> dict[str, Any]:
        return {
            "name": "leaky elman",
            "input": {"steps": 3, "features": 1},
            "layers": [
                {"recurrent": 2, "cell": "elman", "activation": "tanh"},
                {"dense": 2, "activation": {"name": "leaky_relu", "alpha": alpha}},
            ],
            "output": "every_step",
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "init": {"name": "xavier_uniform", "seed": 2},
        }

    specs = [symbp.load(elman(alpha)) for alpha in (0.2, 0.4)]
    assert hyper.structure_key(specs[0]) != hyper.structure_key(specs[1])
    assert hyper.activation_slots(specs[0]) == ()
    trainer = symbp.compile(specs[0])
    assert "alpha" not in " ".join(trainer.module.HYPER)
    X = np.array([[[1.0], [-0.5], [2.0]], [[-1.0], [0.25], [-2.0]]])
    T = np.array([[[0.5, -0.2], [-0.3, 0.1], [0.2, 0.4]], [[-0.5, 0.2], [0.3, -0.1], [0.1, 0.0]]])
    out = [symbp.compile(spec).predict(X) for spec in specs]
    assert not np.array_equal(out[0], out[1])
    trainer.fit(X, T, epochs=2, batch_size=2)
    assert np.isfinite(trainer.loss(X, T))
