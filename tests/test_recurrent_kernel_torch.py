"""The generated recurrent trainer against PyTorch float64 autograd (``nn.RNN``, ``nn.GRU``,
``nn.LSTM`` loaded from the trainer's own ``state_dict``): 20 SGD steps of loss
trajectory to 1e-10, gradients of every cell, truncation reproduced with ``detach``; and
the reference mode (``NUMBA_DISABLE_JIT=1``) equal to the compiled kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recurrent_cases import arrays, case_data, case_spec

import symbp

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.extras


def _torch_model(trainer: Any) -> tuple[Any, Any]:
    """``(rnn, head)`` in float64 with the trainer's parameters (its state_dict)."""
    torch = pytest.importorskip("torch", reason="PyTorch is the independent reference")
    spec = trainer.spec
    layer = spec.network[0]
    F, n = spec.input_shape[0], layer.size
    if layer.cell.name == "elman":
        rnn = torch.nn.RNN(F, n, nonlinearity=layer.activation.name, batch_first=True)
    else:
        rnn = getattr(torch.nn, layer.cell.torch)(F, n, batch_first=True)
    mods: list[Any] = []
    width = n
    acts = {"identity": torch.nn.Identity, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}
    for dense in spec.network[1:]:
        mods += [torch.nn.Linear(width, dense.size), acts[dense.activation.name]()]
        width = dense.size
    head = torch.nn.Sequential(*mods)
    rnn, head = rnn.double(), head.double()
    state = trainer.state_dict()
    with torch.no_grad():
        for key, value in state.items():
            owner, name = key.split(".", 1)
            target = (rnn if owner == "rnn" else head).get_parameter(name)
            target.copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
    return rnn, head


def _torch_loss(rnn: Any, head: Any, X: np.ndarray, T: np.ndarray, every: bool) -> Any:
    import torch

    hs, _ = rnn(torch.from_numpy(X))
    y = head(hs if every else hs[:, -1, :])
    per_sequence = 0.5 * ((y - torch.from_numpy(T)) ** 2).reshape(X.shape[0], -1).sum(dim=1)
    return per_sequence.mean()


@pytest.mark.parametrize(
    "source", ["elman-tanh-every-full", "lstm-every-full-clip", "elman_3step", "lstm_3step"]
)
def test_twenty_sgd_steps_follow_pytorch_to_1e_10(source: str) -> None:
    """Three sequences of the test cases, and the issue's own Elman (2 inputs, 3 tanh,
    dense 1, 3 steps) and LSTM (1 input, 2 hidden, dense 1, 3 steps) specs."""
    torch = pytest.importorskip("torch", reason="PyTorch is the independent reference")
    if source in ("elman_3step", "lstm_3step"):
        import yaml

        data = yaml.safe_load((ROOT / "tests" / "data" / f"{source}.yaml").read_text())
    else:
        data = case_data(source)
    data["optimizer"] = {"name": "sgd", "learning_rate": 0.1}
    spec = symbp.load(data)
    trainer = symbp.compile(spec, dtype="float64")
    X, T = arrays(spec)
    rnn, head = _torch_model(trainer)
    rnn.bias_hh_l0.requires_grad_(False)  # symbp's one bias is bias_ih (bias_hh stays 0)
    params = [p for p in (*rnn.parameters(), *head.parameters()) if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.1)
    expected = []
    for _ in range(20):
        opt.zero_grad()
        loss = _torch_loss(rnn, head, X, T, every=True)
        loss.backward()
        expected.append(float(loss.detach()))
        opt.step()
    history = trainer.fit(X, T, epochs=20, batch_size=len(X))
    np.testing.assert_allclose(history.step_losses, expected, rtol=0, atol=1e-10)
    after, _ = _torch_model(trainer)
    np.testing.assert_allclose(
        rnn.weight_hh_l0.detach().numpy(), after.weight_hh_l0.detach().numpy(), atol=1e-10
    )


@pytest.mark.parametrize(
    ("case", "relu_last"), [("gru-every-full", False), ("elman-relu-every-bptt2", True)]
)
def test_gradients_equal_pytorch_autograd(case: str, relu_last: bool) -> None:
    data = case_data(case)
    if relu_last:  # the Elman relu cell, full BPTT, the loss of the last step only
        data["training"]["bptt"] = "full"
        data["output"] = "last_step"
        data["examples"] = [{"x": e["x"], "t": e["t"][-1]} for e in data["examples"]]
    spec = symbp.load(data)
    trainer = symbp.compile(spec, dtype="float64")
    X, T = arrays(spec)
    rnn, head = _torch_model(trainer)
    _torch_loss(rnn, head, X, T, every=spec.recurrence.output == "every_step").backward()
    W, U, b = trainer.gradients(X, T)
    np.testing.assert_allclose(W[0], rnn.weight_ih_l0.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(U[0], rnn.weight_hh_l0.grad.numpy(), rtol=0, atol=1e-12)
    n = spec.network[0].size
    gb = rnn.bias_ih_l0.grad.numpy()
    if spec.network[0].cell.name == "gru":  # b_hn is bias_hh[n]
        gb = np.concatenate([gb, rnn.bias_hh_l0.grad.numpy()[2 * n :]])
    np.testing.assert_allclose(b[0], gb, rtol=0, atol=1e-12)
    linears = [m for m in head if hasattr(m, "weight")]
    for l, lin in enumerate(linears, start=1):
        np.testing.assert_allclose(W[l], lin.weight.grad.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(b[l], lin.bias.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["elman-relu-every-bptt2", "lstm-last-bptt2"])
def test_truncated_gradients_equal_pytorch_with_detach(case: str) -> None:
    pytest.importorskip("torch", reason="PyTorch is the independent reference")
    from recurrent_torch import torch_reference

    spec = case_spec(case)
    trainer = symbp.compile(spec, dtype="float64")
    X, T = arrays(spec)
    ref = torch_reference(spec, bptt=spec.recurrence.bptt)
    W, U, b = trainer.gradients(X[:1], T[:1])  # torch_reference runs the first example
    np.testing.assert_allclose(W[0], ref["grad_W[0]"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(U[0], ref["grad_U[0]"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b[0], ref["grad_b[0]"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(W[1], ref["grad_W[1]"], rtol=0, atol=1e-12)
    assert trainer.loss(X[:1], T[:1]) == pytest.approx(ref["loss"], abs=1e-12)


_RUN = """
import json, sys
import numpy as np
import symbp
sys.path.insert(0, "tests")
from recurrent_cases import arrays, case_spec
spec = case_spec(sys.argv[1])
trainer = symbp.compile(spec, dtype="float64")
X, T = arrays(spec)
grads = trainer.gradients(X, T)
history = trainer.fit(X, T)
out = {
    "grads": [[None if a is None else a.tolist() for a in part] for part in grads],
    "losses": history.step_losses.tolist(),
    "predict": trainer.predict(X).tolist(),
}
print(json.dumps(out))
"""


def _run(case: str, reference: bool) -> dict[str, Any]:
    env = dict(os.environ)
    if reference:
        env["NUMBA_DISABLE_JIT"] = "1"
    else:
        env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run(
        [sys.executable, "-c", _RUN, case],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", ["lstm-every-full-clip", "elman-relu-every-bptt2"])
def test_reference_mode_equals_the_compiled_kernel(case: str) -> None:
    compiled, reference = _run(case, False), _run(case, True)
    np.testing.assert_allclose(reference["losses"], compiled["losses"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(reference["predict"], compiled["predict"], rtol=0, atol=1e-13)
    for a, b in zip(reference["grads"], compiled["grads"], strict=True):
        for u, v in zip(a, b, strict=True):
            assert (u is None) == (v is None)
            if u is not None:
                np.testing.assert_allclose(u, v, rtol=0, atol=1e-13)
