"""Kernels against an independent autodiff: ``torch.autograd`` and ``torch.optim``.

Skipped only when torch is not installed (CI installs ``torch==2.13.0``). The same
network, parameters and data go through PyTorch in float64; gradients must agree to
1e-12 (relative to the largest), and a few full-batch steps of each optimiser must
give the same losses and parameters.
"""

from __future__ import annotations

import math
from typing import Any

import catalog
import numpy as np
import pytest

import symbp
from symbp.codegen import Trainer, compile
from symbp.codegen.check import examples_arrays, relative_error

pytestmark = pytest.mark.extras
torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")


def _activation(act: Any) -> Any:
    name = act.name
    if name == "sigmoid":
        return torch.sigmoid
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return torch.relu
    if name == "leaky_relu":
        return lambda z: torch.nn.functional.leaky_relu(z, float(act.params["alpha"]))
    if name == "identity":
        return lambda z: z
    if name == "softmax":
        return lambda z: torch.softmax(z, dim=1)
    return None


def _loss(loss: Any) -> Any:
    base = loss.params.get("log_base", "e")
    scale = 1.0 if base == "e" else 1.0 / math.log(float(base))
    terms = {
        "half_sse": lambda y, t: 0.5 * (y - t) ** 2,
        "sse": lambda y, t: (y - t) ** 2,
        "mse": lambda y, t: (y - t) ** 2,
        "mae": lambda y, t: (y - t).abs(),
        "bce": lambda y, t: -scale * (t * torch.log(y) + (1 - t) * torch.log(1 - y)),
        "cross_entropy": lambda y, t: -scale * t * torch.log(y),
        "hinge": lambda y, t: torch.clamp(1 - t * y, min=0),
    }
    term = terms.get(loss.name)
    if term is None:
        return None
    reduce = (lambda v: v.mean(dim=1)) if loss.reduction == "mean" else (lambda v: v.sum(dim=1))
    return lambda y, t: reduce(term(y, t)).mean()


def torch_net(spec: symbp.Spec, trainer: Trainer) -> tuple[list[Any], Any]:
    acts = [_activation(a) for a in spec.activations]
    loss = _loss(spec.loss)
    if any(a is None for a in acts) or loss is None:
        pytest.skip("custom formulas have no torch spelling here")
    W, b = trainer.params
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in (*W, *b)]

    def E(X: Any, T: Any) -> Any:
        a = X
        for l, act in enumerate(acts):
            a = act(a @ params[l].T + params[len(acts) + l])
        return loss(a, T)

    return params, E


def _registry_only(name: str) -> bool:
    entry = catalog.spec(name)
    used = [*catalog.activation_names(entry), catalog.loss_name(entry)]
    return "formula" not in used and "schedule" not in name


TORCH_NAMES = [n for n in catalog.names() if _registry_only(n)]


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_gradients_equal_torch_autograd(name: str) -> None:
    spec = symbp.load(catalog.spec(name))
    trainer = compile(spec)
    X, T = examples_arrays(spec)
    params, E = torch_net(spec, trainer)
    value = E(torch.tensor(X), torch.tensor(T))
    value.backward()
    gW, gb = trainer.gradients(X, T)
    expected = [p.grad.numpy() for p in params]
    assert relative_error([*gW, *gb], expected) <= 1e-12
    assert trainer.loss(X, T) == pytest.approx(value.item(), rel=1e-12)


def test_larger_network_equals_torch() -> None:
    spec = symbp.load(
        {
            "layers": [20, 32, 16, 5],
            "activations": ["relu", "tanh", "softmax"],
            "loss": "cross_entropy",
            "init": {"name": "he_normal", "seed": 2},
        }
    )
    trainer = compile(spec)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 20))
    T = np.eye(5)[rng.integers(0, 5, 300)]
    params, E = torch_net(spec, trainer)
    E(torch.tensor(X), torch.tensor(T)).backward()
    gW, gb = trainer.gradients(X, T)
    assert relative_error([*gW, *gb], [p.grad.numpy() for p in params]) <= 1e-12


OPTIMIZERS = {
    "sgd": ({"name": "sgd", "learning_rate": 0.3, "weight_decay": 0.01}, "SGD", {"lr": 0.3}),
    "momentum": ({"name": "momentum", "learning_rate": 0.1}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    "nesterov": (
        {"name": "nesterov", "learning_rate": 0.1, "momentum": 0.8},
        "SGD",
        {"lr": 0.1, "momentum": 0.8, "nesterov": True},
    ),
    "adam": (
        {"name": "adam", "learning_rate": 0.05, "weight_decay": 0.01},
        "Adam",
        {"lr": 0.05},
    ),
    "rprop": ({"name": "rprop", "learning_rate": 0.01}, "Rprop", {"lr": 0.01}),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimiser_steps_equal_torch_optim(name: str) -> None:
    options, cls, kwargs = OPTIMIZERS[name]
    spec = symbp.load(
        {
            "layers": [3, 4, 2],
            "activations": ["tanh", "sigmoid"],
            "loss": "bce",
            "optimizer": options,
            "init": {"name": "xavier_normal", "seed": 1},
        }
    )
    trainer = compile(spec)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(12, 3))
    T = rng.uniform(0, 1, size=(12, 2))
    params, E = torch_net(spec, trainer)
    if "weight_decay" in options:
        kwargs = {**kwargs, "weight_decay": float(options["weight_decay"])}
    optimizer = getattr(torch.optim, cls)(params, **kwargs)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        value = E(torch.tensor(X), torch.tensor(T))
        value.backward()
        optimizer.step()
        losses.append(value.item())
    history = trainer.fit(X, T, epochs=5, batch_size=12, shuffle=False)
    np.testing.assert_allclose(history.step_losses, losses, rtol=1e-12)
    W, b = trainer.params
    expected = [p.detach().numpy() for p in params]
    assert relative_error([*W, *b], expected) <= 1e-11
