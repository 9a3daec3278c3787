"""Optimisers, weight decay, schedules and frozen parameters in the exact evaluator.

Three updates of a small sigmoid net are compared with

- a straightforward float64 numpy implementation of PyTorch's update formulas,
  written here (forward, backward and the optimisers), to 1e-12;
- ``torch.optim`` itself on the same net, where torch is installed.
"""

from __future__ import annotations

import itertools
import math

import catalog
import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.symbolic.evaluate import evaluate

STEPS = 3
TOL = 1e-12

#: optimizer dicts applied to the catalogue's sigmoid 2-2-1 net with two examples.
VARIANTS: dict[str, dict] = {
    "sgd": {"name": "sgd", "learning_rate": 0.5},
    "sgd_weight_decay": catalog.spec("sgd_weight_decay")["optimizer"],
    "momentum": catalog.spec("momentum")["optimizer"],
    "momentum_weight_decay": {**catalog.spec("momentum")["optimizer"], "weight_decay": 0.05},
    "nesterov": catalog.spec("nesterov")["optimizer"],
    "adam": catalog.spec("adam")["optimizer"],
    "adam_defaults": {"name": "adam", "learning_rate": 0.05},
    "rprop": catalog.spec("rprop")["optimizer"],
    "rprop_sign_flips": {"name": "rprop", "learning_rate": 4, "step_max": 5},
    "rprop_rate_above_step_max": {"name": "rprop", "learning_rate": 8, "step_max": 5},
    "rprop_weight_decay": {"name": "rprop", "learning_rate": 0.1, "weight_decay": 0.1},
    "exponential": catalog.spec("schedule_exponential")["optimizer"],
    "step": catalog.spec("schedule_step")["optimizer"],
}
DEFAULTS = {
    "sgd": {},
    "gd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "rprop": {"eta_minus": 0.5, "eta_plus": 1.2, "step_min": 1e-6, "step_max": 50.0},
}


def _spec_dict(optimizer: dict, frozen: list[str] | None = None) -> dict:
    spec = catalog.spec("sigmoid_half_sse")
    spec.pop("example")
    spec["examples"] = [{"x": [0.5, -1.5], "t": [0.9]}, {"x": [-1, 0.25], "t": [0.2]}]
    spec["optimizer"] = optimizer
    if frozen:
        spec["frozen"] = frozen
    return spec


# --- the independent float implementation ---------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _gradients(Ws, bs, examples):
    """Mean over examples of ∂(½ Σ (a − t)²)/∂θ for an all-sigmoid net."""
    gW = [np.zeros_like(W) for W in Ws]
    gb = [np.zeros_like(b) for b in bs]
    for x, t in examples:
        acts = [x]
        for W, b in zip(Ws, bs, strict=True):
            acts.append(_sigmoid(W @ acts[-1] + b))
        delta = (acts[-1] - t) * acts[-1] * (1 - acts[-1])
        for l in range(len(Ws) - 1, -1, -1):
            gW[l] += np.outer(delta, acts[l]) / len(examples)
            gb[l] += delta / len(examples)
            if l:
                delta = (Ws[l].T @ delta) * acts[l] * (1 - acts[l])
    return gW, gb


class _NumpyOptimizer:
    """PyTorch's update rules (torch.optim docs), one state dict per parameter array."""

    def __init__(self, opt: dict) -> None:
        self.name = opt["name"]
        self.lr0 = float(opt["learning_rate"])
        self.wd = float(opt.get("weight_decay", 0))
        self.h = {
            **DEFAULTS[self.name],
            **{k: float(v) for k, v in opt.items() if k in DEFAULTS[self.name]},
        }
        schedule = opt.get("schedule", "constant")
        self.schedule = schedule if isinstance(schedule, dict) else {"name": schedule}
        self.state: dict[int, dict] = {}
        self.k = 0

    def lr(self, epoch: int) -> float:
        s = self.schedule
        if s["name"] == "exponential":
            return self.lr0 * s["gamma"] ** epoch
        if s["name"] == "step":
            return self.lr0 * s["gamma"] ** (epoch // s["step_size"])
        return self.lr0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        lr, h = self.lr(self.k), self.h
        self.k += 1
        out = []
        for n, (p, g) in enumerate(zip(params, grads, strict=True)):
            g = g + self.wd * p
            st = self.state.setdefault(n, {})
            if self.name in ("sgd", "gd"):
                p = p - lr * g
            elif self.name in ("momentum", "nesterov"):
                st["buf"] = g.copy() if "buf" not in st else h["momentum"] * st["buf"] + g
                step = g + h["momentum"] * st["buf"] if self.name == "nesterov" else st["buf"]
                p = p - lr * step
            elif self.name == "adam":
                b1, b2 = h["beta1"], h["beta2"]
                st["m"] = b1 * st.get("m", 0) + (1 - b1) * g
                st["v"] = b2 * st.get("v", 0) + (1 - b2) * g * g
                bc1, bc2 = 1 - b1**self.k, 1 - b2**self.k
                p = p - (lr / bc1) * st["m"] / (np.sqrt(st["v"]) / math.sqrt(bc2) + h["eps"])
            elif self.name == "rprop":
                prev = st.get("prev", np.zeros_like(g))
                size = st.get("size", np.full_like(g, lr))
                sign = np.sign(g * prev)
                factor = np.where(sign > 0, h["eta_plus"], np.where(sign < 0, h["eta_minus"], 1))
                size = np.clip(size * factor, h["step_min"], h["step_max"])
                g = np.where(sign < 0, 0.0, g)
                p = p - np.sign(g) * size
                st["prev"], st["size"] = g, size
            out.append(p)
        return out


def _numpy_run(spec: symbp.Spec, optimizer: dict, frozen=frozenset()):
    Ws = [np.array(W, dtype=float) for W in spec.W]
    bs = [np.array(b, dtype=float) for b in spec.b]
    examples = [(np.array(e.x, dtype=float), np.array(e.t, dtype=float)) for e in spec.examples]
    opt = _NumpyOptimizer(optimizer)
    L = len(Ws)
    history = [(Ws, bs)]
    for _ in range(STEPS):
        gW, gb = _gradients(Ws, bs, examples)
        new = opt.step([*Ws, *bs], [*gW, *gb])
        Ws = [Ws[l] if ("W", l) in frozen else new[l] for l in range(L)]
        bs = [bs[l] if ("b", l) in frozen else new[L + l] for l in range(L)]
        history.append((Ws, bs))
    return history


def _assert_params_close(step, Ws, bs, what: str) -> None:
    for l, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        np.testing.assert_allclose(
            np.array(step.W[l], dtype=float), W, rtol=TOL, atol=TOL, err_msg=f"{what} W[{l}]"
        )
        np.testing.assert_allclose(
            np.array(step.b[l], dtype=float), b, rtol=TOL, atol=TOL, err_msg=f"{what} b[{l}]"
        )


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[symbp.Spec, object]]:
    out = {}
    for name, optimizer in VARIANTS.items():
        spec = symbp.load(_spec_dict(optimizer))
        out[name] = (spec, evaluate(spec, STEPS))
    return out


@pytest.mark.parametrize("name", list(VARIANTS))
def test_optimizer_matches_numpy(runs, name: str) -> None:
    spec, ev = runs[name]
    history = _numpy_run(spec, VARIANTS[name])
    assert len(ev.steps) == STEPS + 1
    for n, (step, (Ws, bs)) in enumerate(zip(ev.steps, history, strict=True)):
        _assert_params_close(step, Ws, bs, f"{name} step {n}")
    # the parameters did move, and differently from plain SGD (except for sgd itself)
    moved = float(np.abs(np.array(ev.steps[-1].W[1], float) - np.array(spec.W[1], float)).max())
    assert moved > 1e-3


def test_optimizers_differ_from_each_other(runs) -> None:
    finals = {n: float(ev.steps[-1].W[0][0][0]) for n, (_, ev) in runs.items()}
    assert len({round(v, 10) for v in finals.values()}) == len(finals)


def test_rprop_variant_really_flips_signs(runs) -> None:
    _spec, ev = runs["rprop_sign_flips"]
    grads = [float(step.grad_W[1][0][0]) for step in ev.steps[:STEPS]]
    assert any(g1 * g2 < 0 for g1, g2 in itertools.pairwise(grads))


@pytest.mark.parametrize(
    ("name", "rates"),
    [
        ("exponential", ["1", "1/2", "1/4", "1/8"]),
        ("step", ["1", "1", "1/2", "1/2"]),
        ("sgd", ["1/2"] * 4),
    ],
)
def test_schedule_learning_rates(runs, name: str, rates: list[str]) -> None:
    """Exact rates, one epoch per full-batch step: η₀γ^k and η₀γ^⌊k/2⌋."""
    _, ev = runs[name]
    assert [step.learning_rate for step in ev.steps] == [sp.Rational(r) for r in rates]


def test_frozen_parameters_never_move() -> None:
    optimizer = {"name": "momentum", "learning_rate": 0.5, "weight_decay": 0.1}
    spec = symbp.load(_spec_dict(optimizer, frozen=["W[0]", "b[1]"]))
    assert spec.frozen == {("W", 0), ("b", 1)}
    assert spec.n_trainable == 2 + 2  # W[1] (1x2) and b[0] (2)
    ev = evaluate(spec, STEPS)
    for step in ev.steps:
        assert step.W[0] == spec.W[0] and step.b[1] == spec.b[1]
    assert ev.steps[-1].W[1] != spec.W[1] and ev.steps[-1].b[0] != spec.b[0]
    # gradients of frozen parameters are still reported
    assert any(v != 0 for row in ev.steps[1].grad_W[0] for v in row)
    history = _numpy_run(spec, optimizer, frozen=spec.frozen)
    for n, (step, (Ws, bs)) in enumerate(zip(ev.steps, history, strict=True)):
        _assert_params_close(step, Ws, bs, f"frozen step {n}")


def test_sgd_steps_stay_exact_on_rational_nets() -> None:
    spec = symbp.load(
        {
            **catalog.spec("identity_half_sse"),
            "optimizer": {"name": "momentum", "learning_rate": 0.25, "weight_decay": 0.5},
        }
    )
    ev = evaluate(spec, STEPS)
    assert all(v.is_Rational for step in ev.steps for row in step.W[0] for v in row)


# --- torch.optim ---------------------------------------------------------------------

TORCH_VARIANTS = [n for n in VARIANTS if n != "rprop_weight_decay"]  # torch Rprop has none


def _torch_optimizer(torch, params, opt: dict):
    name, lr = opt["name"], float(opt["learning_rate"])
    h = {**DEFAULTS[name], **{k: float(v) for k, v in opt.items() if k in DEFAULTS[name]}}
    wd = float(opt.get("weight_decay", 0))
    if name in ("sgd", "gd"):
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(
            params, lr=lr, momentum=h["momentum"], nesterov=name == "nesterov", weight_decay=wd
        )
    if name == "adam":
        return torch.optim.Adam(
            params, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=wd
        )
    assert wd == 0
    return torch.optim.Rprop(
        params,
        lr=lr,
        etas=(h["eta_minus"], h["eta_plus"]),
        step_sizes=(h["step_min"], h["step_max"]),
    )


@pytest.mark.extras
@pytest.mark.parametrize("name", TORCH_VARIANTS)
def test_optimizer_matches_torch(runs, name: str) -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    spec, ev = runs[name]
    opt_spec = VARIANTS[name]
    Ws = [torch.tensor(np.array(W, dtype=float), requires_grad=True) for W in spec.W]
    bs = [torch.tensor(np.array(b, dtype=float), requires_grad=True) for b in spec.b]
    optimizer = _torch_optimizer(torch, [*Ws, *bs], opt_spec)
    schedule = opt_spec.get("schedule")
    scheduler = None
    if isinstance(schedule, dict) and schedule["name"] == "exponential":
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=schedule["gamma"])
    elif isinstance(schedule, dict) and schedule["name"] == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=schedule["step_size"], gamma=schedule["gamma"]
        )
    xs = [torch.tensor(np.array(e.x, dtype=float)) for e in spec.examples]
    ts = [torch.tensor(np.array(e.t, dtype=float)) for e in spec.examples]
    for n in range(STEPS + 1):
        with torch.no_grad():
            _assert_params_close(
                ev.steps[n],
                [W.numpy() for W in Ws],
                [b.numpy() for b in bs],
                f"torch {name} step {n}",
            )
        if n == STEPS:
            break
        optimizer.zero_grad()
        losses = []
        for x, t in zip(xs, ts, strict=True):
            a = x
            for W, b in zip(Ws, bs, strict=True):
                a = torch.sigmoid(W @ a + b)
            losses.append(0.5 * ((a - t) ** 2).sum())
        loss = torch.stack(losses).mean()
        assert loss.item() == pytest.approx(float(ev.steps[n].loss), rel=TOL)
        loss.backward()
        for l, W in enumerate(Ws):
            np.testing.assert_allclose(
                W.grad.numpy(), np.array(ev.steps[n].grad_W[l], float), rtol=TOL, atol=TOL
            )
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
