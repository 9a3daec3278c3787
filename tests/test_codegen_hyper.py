"""Numbers are arguments, structure is code: one compiled module per network structure.

A grid over learning rates, momenta, decays or schedule constants compiles one module
(the compile cache keys modules by structure); the fits' results equal, bit for bit,
those of modules compiled separately for each spec; the module ``symbp compile -o``
writes still states the spec's numbers.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import symbp
from symbp.codegen import hyper
from symbp.codegen.loader import import_module

BASE: dict[str, Any] = {
    "name": "grid",
    "layers": [4, 5, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "momentum", "learning_rate": 0.1, "momentum": 0.9},
    "init": {"name": "xavier_uniform", "seed": 0},
}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 4))
    T = np.eye(3)[rng.integers(0, 3, size=40)]
    return X, T


def _spec(**optimizer: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["optimizer"].update(optimizer)
    return data


def _fit(trainer: symbp.codegen.Trainer) -> tuple[np.ndarray, np.ndarray]:
    X, T = _data()
    history = trainer.fit(X, T, epochs=3, batch_size=8, shuffle=True, seed=1)
    W, b = trainer.params
    flat = np.concatenate([w.ravel() for w in [*W, *b]])
    return history.step_losses, flat


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "kernels"


def test_a_grid_over_the_optimisers_numbers_compiles_one_module(
    cache: Path, tmp_path: Path
) -> None:
    grid = [
        _spec(learning_rate=lr, momentum=mu)
        for lr in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
        for mu in (0.5, 0.9)
    ]
    trainers = [symbp.compile(spec) for spec in grid]
    results = [_fit(tr) for tr in trainers]
    # one module file in the cache, one module object, one compiled training kernel
    assert len(list(cache.glob("*.py"))) == 1
    modules = {id(tr._module) for tr in trainers}
    assert len(modules) == 1
    assert len(trainers[0]._module.train.signatures) == 1
    # the numbers did reach the kernel: twelve different trajectories
    assert len({r[0].tobytes() for r in results}) == len(grid)
    # bit for bit what a module compiled for the spec alone gives (symbp compile -o)
    for index in (0, 7):
        alone = symbp.compile(grid[index], out_dir=tmp_path / f"alone{index}")
        assert alone._module is not trainers[0]._module
        losses, params = _fit(alone)
        assert losses.tobytes() == results[index][0].tobytes()
        assert params.tobytes() == results[index][1].tobytes()


def test_the_cache_key_is_the_structure(cache: Path) -> None:
    a = symbp.compile(_spec())
    # name, seeds, starting values, schedule constants, decay: the same module
    other = copy.deepcopy(BASE)
    other["name"] = "another name"
    other["init"]["seed"] = 5
    other["optimizer"].update(
        weight_decay=0.01, schedule={"name": "step", "gamma": 0.5, "step_size": 2}
    )
    schedule_a = symbp.compile(other)
    other2 = copy.deepcopy(other)
    other2["optimizer"]["schedule"] = {"name": "step", "gamma": 0.1, "step_size": 3}
    schedule_b = symbp.compile(other2)
    assert schedule_a._module is schedule_b._module
    assert hyper.structure_key(schedule_a.spec) == hyper.structure_key(schedule_b.spec)
    # the schedule's kind, the optimiser's kind, an activation, the sizes: new modules
    assert schedule_a._module is not a._module
    assert symbp.compile(_spec(name="nesterov"))._module is not a._module
    relu = copy.deepcopy(BASE)
    relu["activations"] = ["relu", "softmax"]
    wider = copy.deepcopy(BASE)
    wider["layers"] = [4, 6, 3]
    keys = {hyper.structure_key(symbp.load(d)) for d in (BASE, relu, wider)}
    assert len(keys) == 3
    assert len(list(cache.glob("*.py"))) == 3


def test_the_schedules_constants_reach_the_kernel(cache: Path) -> None:
    data = copy.deepcopy(BASE)
    data["optimizer"] = {
        "name": "sgd",
        "learning_rate": 0.5,
        "schedule": {"name": "step", "gamma": 0.5, "step_size": 2},
    }
    trainer = symbp.compile(data)
    module = trainer._module
    rates = [module.learning_rate(e, trainer._hyper) for e in range(5)]
    assert rates == [0.5, 0.5, 0.25, 0.25, 0.125]
    data["optimizer"]["schedule"] = {"name": "step", "gamma": 0.1, "step_size": 1}
    other = symbp.compile(data)
    assert other._module is module
    assert [module.learning_rate(e, other._hyper) for e in range(3)] == [0.5, 0.05, 0.5 * 0.1**2]


def test_the_modules_state_what_they_hold(cache: Path, tmp_path: Path) -> None:
    spec = symbp.load(_spec(learning_rate=0.05, momentum=0.5, weight_decay=0.001))
    assert hyper.values(spec) == (0.05, 0.001, 0.5)
    trainer = symbp.compile(spec)
    cached = trainer._path.read_text()
    # the cache's module names its structure, neither the spec's name nor its numbers
    assert "'grid'" not in cached and "0.05" not in cached
    assert f'STRUCTURE_KEY = "{hyper.structure_key(spec)}"' in cached
    assert trainer._module.DEFAULTS is None
    assert trainer._module.HYPER == ("lr0", "weight_decay", "momentum")
    # symbp compile -o: the spec's numbers, as the defaults the module documents
    path = symbp.codegen.write_module(spec, out_dir=tmp_path / "out")
    module = import_module(path)
    assert module.DEFAULTS == (0.05, 0.001, 0.5)
    assert module.SPEC_NAME == "grid"
    assert "h_momentum*state_v" in path.read_text()
