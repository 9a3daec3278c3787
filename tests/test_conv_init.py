"""A conv net's starting parameters drawn by the spec's ``init:``: every kernel in the
record's shape, scaled by PyTorch's fans for it, from one seeded stream that is the dense
nets' own for dense layers; biases zero; the exact run starts from them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import symbp
from symbp.cli import main
from symbp.ops.initializers import draw_arrays, draw_weights
from symbp.symbolic.network_run import run_network

SPEC = Path(__file__).parent / "data" / "conv_1x5x5.yaml"


def _init_spec(init: dict[str, Any]) -> Any:
    data = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    del data["params"]
    data["init"] = init
    return symbp.load(data)


def test_xavier_uniform_kernels_use_the_record_s_fans_and_shape() -> None:
    run = run_network(_init_spec({"name": "xavier_uniform", "seed": 3}), 0)
    step = run.steps[0]
    rng = np.random.default_rng(3)
    # conv 2 filters 2x2 on 1 channel: fan_in 1·2·2 = 4, fan_out 2·2·2 = 8 (PyTorch's)
    kernel = rng.uniform(-math.sqrt(6 / 12), math.sqrt(6 / 12), size=(2, 1, 2, 2))
    dense = rng.uniform(-math.sqrt(6 / 9), math.sqrt(6 / 9), size=(1, 8))
    assert np.asarray(step.W[0], dtype=float).tolist() == kernel.tolist()
    assert np.asarray(step.W[3], dtype=float).tolist() == dense.tolist()
    assert step.W[1] is None and step.W[2] is None
    assert [float(v) for v in step.b[0]] == [0.0, 0.0] and [float(v) for v in step.b[3]] == [0.0]


@pytest.mark.extras
def test_the_fans_are_pytorch_s() -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    spec = _init_spec({"name": "he_normal", "seed": 1})
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(2, 1, 2, 2))
    assert spec.network[0].fan(tuple(spec.input_shape)) == (fan_in, fan_out)
    step = run_network(spec, 0).steps[0]
    want = np.random.default_rng(1).standard_normal(size=(2, 1, 2, 2)) * math.sqrt(2 / fan_in)
    assert np.asarray(step.W[0], dtype=float).tolist() == want.tolist()


def test_dense_layers_draw_the_dense_stream() -> None:
    fans = [(3, 4, (4, 3)), (4, 2, (2, 4))]
    arrays = draw_arrays("he_uniform", {}, fans, 7)
    dense = draw_weights("he_uniform", {}, (3, 4, 2), 7)
    assert [a.tolist() for a in arrays] == [d.tolist() for d in dense]


def test_eval_of_an_init_drawn_conv_net(tmp_path: Path, capsys: Any) -> None:
    data = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    del data["params"]
    data["init"] = {"name": "uniform", "low": -0.5, "high": 0.5, "seed": 0}
    path = tmp_path / "init.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["eval", str(path), "--steps", "1", "--json"]) == 0
    import json

    steps = json.loads(capsys.readouterr().out)["steps"]
    want = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2, 1, 2, 2))
    assert steps[0]["W"][0] == want.tolist()
    after = np.asarray(steps[0]["W"][0]) - 0.1 * np.asarray(steps[0]["grad_W"][0])
    assert np.asarray(steps[1]["W"][0]) == pytest.approx(after, rel=1e-14)


@pytest.mark.parametrize(
    "init",
    [{"name": "xavier_uniform", "seed": 3}, {"name": "he_normal", "seed": 11}],
    ids=["xavier_uniform", "he_normal"],
)
def test_the_trainer_starts_where_the_exact_run_starts(init: dict[str, Any]) -> None:
    spec = _init_spec(init)
    exact = run_network(spec, 0).steps[0]
    W, b = symbp.compile(spec).initial_params()
    for l in range(len(spec.network)):
        if exact.W[l] is None:
            assert W[l] is None and b[l] is None
            continue
        assert np.asarray(exact.W[l], dtype=float).tolist() == np.asarray(W[l]).tolist()
        assert np.asarray(exact.b[l], dtype=float).tolist() == np.asarray(b[l]).tolist()
