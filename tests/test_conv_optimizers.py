"""The exact evaluator's updates of conv nets = ``torch.optim`` in float64, for every
optimiser record (SGD with weight decay, momentum, Nesterov, Adam, Rprop), a schedule,
mini-batches and frozen parameters; the optimiser states are named by the record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conv_cases import flat, grid

import symbp
from symbp.cli import main
from symbp.symbolic.network_run import run_network

SHAPE = (2, 4, 4)
W0 = [grid((2, 2, 3, 3), 41), None, None, grid((1, 8), 42)]
B0 = [grid((2,), 43), None, None, grid((1,), 44)]
XS = [grid(SHAPE, 45), grid(SHAPE, 46)]
TS = [[1], [0]]


def _spec(optimizer: dict[str, Any], **extra: Any) -> Any:
    return symbp.load(
        {
            "name": "conv-opt",
            "input": list(SHAPE),
            "layers": [
                {"conv": 2, "kernel": 3, "stride": 1, "padding": 1, "activation": "tanh"},
                {"pool": "avg", "size": 2},
                "flatten",
                {"dense": 1, "activation": "sigmoid"},
            ],
            "loss": "bce",
            "optimizer": optimizer,
            "params": {"W": W0, "b": B0},
            "examples": [{"x": x, "t": t} for x, t in zip(XS, TS, strict=True)],
            **extra,
        }
    )


def _torch_run(steps: int, cls: str, kwargs: dict[str, Any], batches: list[list[int]]) -> Any:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    F = torch.nn.functional

    def t(v: Any) -> Any:
        return torch.tensor(_floats(v), dtype=torch.float64)

    w0, w3 = t(W0[0]).requires_grad_(), t(W0[3]).requires_grad_()
    b0, b3 = t(B0[0]).requires_grad_(), t(B0[3]).requires_grad_()
    params = [w0, w3, b0, b3]
    opt = getattr(torch.optim, cls)(params, **kwargs)
    xs, ts = t(XS), t(TS)
    losses = []
    for step in range(steps):
        rows = batches[step % len(batches)]
        opt.zero_grad()
        h = torch.tanh(F.conv2d(xs[rows], w0, b0, padding=1))
        y = torch.sigmoid(torch.flatten(F.avg_pool2d(h, 2), 1) @ w3.T + b3)
        tt = ts[rows]
        loss = -(tt * torch.log(y) + (1 - tt) * torch.log(1 - y)).sum(dim=1).mean()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses, params, opt


def _floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value)


OPTIMIZERS = {
    "sgd": ({"name": "sgd", "learning_rate": 0.5, "weight_decay": 0.01}, "SGD", {"lr": 0.5}),
    "momentum": ({"name": "momentum", "learning_rate": 0.3}, "SGD", {"lr": 0.3, "momentum": 0.9}),
    "nesterov": (
        {"name": "nesterov", "learning_rate": 0.3, "momentum": 0.8},
        "SGD",
        {"lr": 0.3, "momentum": 0.8, "nesterov": True},
    ),
    "adam": (
        {"name": "adam", "learning_rate": 0.05, "weight_decay": 0.01},
        "Adam",
        {"lr": 0.05},
    ),
    "rprop": ({"name": "rprop", "learning_rate": 0.01}, "Rprop", {"lr": 0.01}),
}


@pytest.mark.extras
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_conv_updates_equal_torch_optim(name: str) -> None:
    options, cls, kwargs = OPTIMIZERS[name]
    if "weight_decay" in options:
        kwargs = {**kwargs, "weight_decay": options["weight_decay"]}
    run = run_network(_spec(options), 3)
    losses, params, _ = _torch_run(4, cls, kwargs, [[0, 1]])
    assert [float(s.evaluation.loss) for s in run.steps] == pytest.approx(losses, rel=1e-12)
    last = run.steps[-1]
    got_W, got_b = [], []
    for value, update in zip(last.W, last.update_W, strict=True):
        if value is not None:
            got_W.append(
                [float(v) + float(d) for v, d in zip(flat(value), flat(update), strict=True)]
            )
    for value, update in zip(last.b, last.update_b, strict=True):
        if value is not None:
            got_b.append(
                [float(v) + float(d) for v, d in zip(flat(value), flat(update), strict=True)]
            )
    want = [p.detach().reshape(-1).tolist() for p in params]
    for got, expected in zip([*got_W, *got_b], want, strict=True):
        assert got == pytest.approx(expected, rel=1e-11, abs=1e-13)


@pytest.mark.extras
def test_adam_states_are_named_and_equal_torch_s() -> None:
    options, cls, kwargs = OPTIMIZERS["adam"]
    spec = _spec(options)
    run = run_network(spec, 1)
    _, _, opt = _torch_run(2, cls, {**kwargs, "weight_decay": 0.01}, [[0, 1]])
    step = run.steps[1]
    names = dict(step.states)
    assert sorted(names) == ["m_W", "m_b", "v_W", "v_b"]
    assert names["m_W"][1] is None and names["m_b"][2] is None
    kernel = opt.param_groups[0]["params"][0]
    torch_m = opt.state[kernel]["exp_avg"].reshape(-1).tolist()
    torch_v = opt.state[kernel]["exp_avg_sq"].reshape(-1).tolist()
    assert [float(v) for v in flat(names["m_W"][0])] == pytest.approx(torch_m, rel=1e-12)
    assert [float(v) for v in flat(names["v_W"][0])] == pytest.approx(torch_v, rel=1e-12)
    q = step.quantities()
    assert q["m_W[0][1][0][2][2]"] == names["m_W"][0][1][0][2][2]
    assert q["update_b[3][0]"] == step.update_b[3][0]


@pytest.mark.extras
def test_mini_batches_and_a_schedule_follow_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    options = {
        "name": "momentum",
        "learning_rate": 0.4,
        "schedule": {"name": "exponential", "gamma": 0.5},
    }
    spec = _spec(options, training={"epochs": 2, "batch_size": 1, "shuffle": False})
    run = run_network(spec, 3)
    assert [s.rows for s in run.steps] == [(0,), (1,), (0,), (1,)]
    assert [float(s.learning_rate) for s in run.steps] == [0.4, 0.4, 0.2, 0.2]
    # torch: the same momentum with the rate halved after each epoch of two batches
    losses = _torch_schedule(torch)
    assert [float(s.evaluation.loss) for s in run.steps] == pytest.approx(losses, rel=1e-12)


def _torch_schedule(torch: Any) -> list[float]:
    F = torch.nn.functional

    def t(v: Any) -> Any:
        return torch.tensor(_floats(v), dtype=torch.float64)

    params = [t(W0[0]), t(W0[3]), t(B0[0]), t(B0[3])]
    for p in params:
        p.requires_grad_()
    w0, w3, b0, b3 = params
    opt = torch.optim.SGD(params, lr=0.4, momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    xs, ts = t(XS), t(TS)
    losses = []
    for step in range(4):
        rows = [step % 2]
        opt.zero_grad()
        h = torch.tanh(F.conv2d(xs[rows], w0, b0, padding=1))
        y = torch.sigmoid(torch.flatten(F.avg_pool2d(h, 2), 1) @ w3.T + b3)
        tt = ts[rows]
        loss = -(tt * torch.log(y) + (1 - tt) * torch.log(1 - y)).sum(dim=1).mean()
        losses.append(loss.item())
        loss.backward()
        opt.step()
        if step % 2 == 1:
            sched.step()
    return losses


def test_frozen_kernel_stays_and_keeps_no_state() -> None:
    spec = _spec({"name": "adam", "learning_rate": 0.05}, frozen=["W[0]"])
    run = run_network(spec, 2)
    assert [float(v) for v in flat(run.steps[2].W[0])] == [float(v) for v in flat(W0[0])]
    assert all(float(v) == 0 for v in flat(run.steps[0].update_W[0]))
    assert dict(run.steps[0].states)["m_W"][0] is None
    assert any(float(v) != 0 for v in flat(run.steps[0].update_b[0]))


def test_eval_json_names_the_optimiser_states(tmp_path: Any, capsys: Any) -> None:
    path = tmp_path / "conv.yaml"
    path.write_text(
        (
            "input: [1, 3, 3]\n"
            "layers: [{conv: 1, kernel: 2, activation: identity}, flatten, "
            "{dense: 1, activation: identity}]\n"
            "loss: mse\noptimizer: {name: momentum, learning_rate: 0.5, momentum: 0.5}\n"
            "params: {W: [[[[[1, 0], [0, 1]]]], null, [[1, 1, 1, 1]]], b: [[0], null, [0]]}\n"
            "example: {x: [[[1, 0, 0], [0, 1, 0], [0, 0, 0]]], t: [0]}\n"
        ),
        encoding="utf-8",
    )
    assert main(["eval", str(path), "--steps", "1", "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    # after one momentum update from v = 0 the state is v = g
    state = steps[0]["optimizer_state"]
    assert sorted(state) == ["v_W", "v_b"]
    assert state["v_b"][2] == steps[0]["grad_b"][2]
    assert state["v_W"][0] == steps[0]["grad_W"][0]
    # the second update: v ← 0.5 v + g, Δθ = −0.5 v
    v1 = [
        0.5 * a + g for a, g in zip(flat(state["v_W"][2]), flat(steps[1]["grad_W"][2]), strict=True)
    ]
    assert flat(steps[1]["optimizer_state"]["v_W"][2]) == pytest.approx(v1, rel=1e-14)
    assert flat(steps[1]["update_W"][2]) == pytest.approx([-0.5 * v for v in v1], rel=1e-14)


def _adam_yaml(tmp_path: Any, claims: list[dict[str, Any]]) -> Any:
    import yaml
    from conv_numpy import CONV_YAML

    data = yaml.safe_load(CONV_YAML)
    data["optimizer"] = {"name": "adam", "learning_rate": 0.1}
    data["claims"] = claims
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_verify_confirms_claims_on_states_and_updates(tmp_path: Any, capsys: Any) -> None:
    import yaml
    from conv_numpy import CONV_YAML

    data = yaml.safe_load(CONV_YAML)
    data["optimizer"] = {"name": "adam", "learning_rate": 0.1}
    run = run_network(symbp.load(data), 1)
    m = dict(run.steps[0].states)["m_W"][0][1][0][1][0]
    v = dict(run.steps[1].states)["v_b"][0][1]
    update = run.steps[1].update_b[3][0]
    claims = [
        {"of": "m_W[0][1][0][1][0]", "step": 0, "printed": repr(float(m))},
        {"of": "v_b[0][1]", "step": 1, "printed": repr(float(v))},
        {"of": "update_b[3][0]", "step": 1, "printed": repr(float(update))},
        {"of": "update_b[3][0]", "step": 1, "printed": repr(-float(update))},
    ]
    # Adam's first moment after one update is (1 − β₁)·g
    assert m == pytest.approx(0.1 * float(run.steps[0].evaluation.grad_W[0][1][0][1][0]), rel=1e-15)
    assert main(["verify", str(_adam_yaml(tmp_path, claims)), "--json"]) == 1
    verdicts = [r["verdict"] for r in json.loads(capsys.readouterr().out)["claims"]]
    assert verdicts == ["confirmed", "confirmed", "confirmed", "mismatch"]


def test_verify_refuses_a_state_the_optimiser_has_not(tmp_path: Any, capsys: Any) -> None:
    path = _adam_yaml(tmp_path, [{"of": "s_W[0][0][0][0][0]", "printed": "0.5"}])
    assert main(["verify", str(path)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert len(out.err.splitlines()) == 1
    assert "unknown quantity 's_W[0][0][0][0][0]'" in out.err
    assert "update_W, update_b, learning_rate, m_W, v_W with one index per axis" in out.err
