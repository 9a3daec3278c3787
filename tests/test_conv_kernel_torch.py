"""The generated conv trainer against PyTorch float64 autograd (``conv2d``,
``max_pool2d``, ``avg_pool2d``, ``flatten``, ``linear``): gradients for stride 1 and 2,
padding 0 and 1, several channels; the issue's done-when (a conv net with stride 2 and
padding 1 follows PyTorch's loss trajectory to 1e-10 over 20 steps); ``state_dict``,
``load_state_dict`` and ``to_torch`` in ``Conv2d``'s layout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conv_kernel_cases import CASES, inputs, spec_of

import symbp
from symbp.errors import DataError

pytestmark = pytest.mark.extras
torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
F = torch.nn.functional

IDS = [case[0] for case in CASES]
_ACT = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda v: v,
    "leaky_relu": lambda v: F.leaky_relu(v, 0.01),
    "softmax": lambda v: torch.softmax(v, dim=1),
}


def _loss(name: str, y: Any, t: Any) -> Any:
    if name == "bce":
        return -(t * torch.log(y) + (1 - t) * torch.log(1 - y)).sum(dim=1).mean()
    if name == "cross_entropy":
        return -(t * torch.log(y)).sum(dim=1).mean()
    return ((y - t) ** 2).mean(dim=1).mean()  # mse: the mean over the outputs


def _forward(entries: list[Any], params: list[Any], x: Any) -> Any:
    h = x
    for entry, (w, b) in zip(entries, params, strict=True):
        if entry == "flatten":
            h = torch.flatten(h, 1)
            continue
        if "pool" in entry:
            pool = F.max_pool2d if entry["pool"] == "max" else F.avg_pool2d
            h = pool(h, entry["size"], entry.get("stride", entry["size"]))
            continue
        if "conv" in entry:
            h = F.conv2d(h, w, b, stride=entry["stride"], padding=entry["padding"])
        else:
            h = F.linear(h, w, b)
        h = _ACT[entry["activation"]](h)
    return h


def _torch_params(trainer: Any) -> list[Any]:
    W, b = trainer.params
    return [
        (None, None)
        if w is None
        else (
            torch.tensor(w, dtype=torch.float64, requires_grad=True),
            torch.tensor(v, dtype=torch.float64, requires_grad=True),
        )
        for w, v in zip(W, b, strict=True)
    ]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_gradients_equal_torch_autograd(case: Any) -> None:
    data = spec_of(case)
    trainer = symbp.compile(data)
    X, T = inputs(data)
    params = _torch_params(trainer)
    loss = _loss(data["loss"], _forward(data["layers"], params, torch.tensor(X)), torch.tensor(T))
    loss.backward()
    assert trainer.loss(X, T) == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
    grad_W, grad_b = trainer.gradients(X, T)
    for (w, b), gw, gb in zip(params, grad_W, grad_b, strict=True):
        if w is None:
            assert gw is None and gb is None
            continue
        np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_stride_2_padding_1_follows_torch_for_20_steps() -> None:
    """Issue 28's done-when: 20 SGD steps (minibatches of 2, in order) trained by the
    generated kernel follow PyTorch's float64 loss trajectory to 1e-10."""
    data = spec_of(CASES[1], n_examples=4, optimizer={"name": "sgd", "learning_rate": 0.5})
    data["layers"][0] = {"conv": 3, "kernel": 3, "stride": 2, "padding": 1, "activation": "relu"}
    data["layers"][1] = {"pool": "max", "size": 3}
    trainer = symbp.compile(data)
    X, T = inputs(data)
    params = _torch_params(trainer)
    flat = [p for pair in params for p in pair if p is not None]
    opt = torch.optim.SGD(flat, lr=0.5)
    want = []
    for step in range(20):
        rows = slice(2 * (step % 2), 2 * (step % 2) + 2)
        opt.zero_grad()
        y = _forward(data["layers"], params, torch.tensor(X[rows]))
        loss = _loss(data["loss"], y, torch.tensor(T[rows]))
        loss.backward()
        opt.step()
        want.append(loss.item())
    history = trainer.fit(X, T, epochs=10, batch_size=2, shuffle=False)
    assert len(history.step_losses) == 20
    np.testing.assert_allclose(history.step_losses, want, rtol=1e-10, atol=1e-12)
    assert history.step_losses[-1] < history.step_losses[1]  # it learns
    for (w, b), gw, gb in zip(params, *trainer.params, strict=True):
        if w is not None:
            np.testing.assert_allclose(gw, w.detach().numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(gb, b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_state_dict_is_conv2d_layout_and_to_torch_predicts_the_same() -> None:
    data = spec_of(CASES[0])
    trainer = symbp.compile(data)
    X, T = inputs(data)
    trainer.fit(X, T, epochs=3, batch_size=2, shuffle=False)
    state = trainer.state_dict()
    assert sorted(state) == ["0.bias", "0.weight", "4.bias", "4.weight"]
    assert state["0.weight"].shape == (2, 1, 2, 2) and state["0.bias"].shape == (2,)
    assert state["4.weight"].shape == (1, 8)
    model = symbp.to_torch(trainer)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Sigmoid"]
    with torch.no_grad():
        out = model(torch.tensor(X)).numpy()
    np.testing.assert_allclose(out, trainer.predict(X), rtol=1e-13)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key])
    # load_state_dict takes torch tensors back (a fresh trainer gets the trained numbers)
    fresh = symbp.compile(data)
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(fresh.predict(X), trainer.predict(X))
    with pytest.raises(DataError, match=r"Conv2d/Linear layers: missing 4\.bias"):
        fresh.load_state_dict({k: v for k, v in state.items() if k != "4.bias"})


def test_a_dense_tail_on_every_core_equals_torch() -> None:
    """A dense layer after the maps large enough to run its products on every core
    (128 x 144 weights, over PARALLEL_MIN_WEIGHTS) gives PyTorch's gradients too."""
    case = (
        "wide-tail",
        [2, 8, 8],
        [
            {"conv": 8, "kernel": 3, "stride": 1, "padding": 1, "activation": "tanh"},
            {"pool": "avg", "size": 2},
            "flatten",
            {"dense": 144, "activation": "relu"},
            {"dense": 3, "activation": "softmax"},
        ],
        "cross_entropy",
        3,
    )
    data = spec_of(case, n_examples=5)
    trainer = symbp.compile(data)
    assert "activate_4(" in trainer.module_path.read_text(encoding="utf-8")
    X, T = inputs(data)
    params = _torch_params(trainer)
    loss = _loss(data["loss"], _forward(data["layers"], params, torch.tensor(X)), torch.tensor(T))
    loss.backward()
    grad_W, grad_b = trainer.gradients(X, T)
    for (w, b), gw, gb in zip(params, grad_W, grad_b, strict=True):
        if w is not None:
            np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-10, atol=1e-12)
