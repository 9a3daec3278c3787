"""PyTorch float64 references for recurrent specs (``nn.RNN``, ``nn.GRU``, ``nn.LSTM``).

:func:`torch_reference` builds the spec's network in PyTorch with the spec's parameters
(``weight_ih`` = ``W``, ``weight_hh`` = ``U``, the biases as :mod:`symbp.layers.cells`
maps them), runs the example step by step (one-step calls of the module, so that a state
can be detached: BPTT(k) detaches ``s_{t-k}`` in the graph of ``L_t``) and returns the
hidden states, cell states, the loss ``E`` and every gradient, as float64 NumPy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import symbp


def _tensor(torch: Any, value: Any) -> Any:
    return torch.tensor(np.array(value, dtype=object).astype(float), dtype=torch.float64)


def torch_reference(spec: symbp.Spec, bptt: int | None = None) -> dict[str, Any]:
    """The PyTorch values of ``spec``'s first example (see the module docstring)."""
    import torch

    rec = spec.recurrence
    assert rec is not None
    layer = spec.network[0]
    n, F, T = layer.size, spec.input_shape[0], rec.steps
    cls = {"elman": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[layer.cell.name]
    kwargs: dict[str, Any] = {}
    if layer.cell.name == "elman":
        kwargs["nonlinearity"] = layer.activation.name
    rnn = cls(F, n, dtype=torch.float64, **kwargs)
    b = _tensor(torch, spec.b[0])
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(_tensor(torch, spec.W[0]))
        rnn.weight_hh_l0.copy_(_tensor(torch, rec.U[0]))
        if layer.cell.name == "gru":  # b = [r, z, n (input), hn (recurrent)]
            rnn.bias_ih_l0.copy_(b[: 3 * n])
            rnn.bias_hh_l0.copy_(torch.cat([torch.zeros(2 * n, dtype=torch.float64), b[3 * n :]]))
        else:
            rnn.bias_ih_l0.copy_(b)
            rnn.bias_hh_l0.zero_()
    head = []
    for l in range(1, len(spec.network)):
        W = _tensor(torch, spec.W[l]).requires_grad_()
        bl = _tensor(torch, spec.b[l]).requires_grad_()
        head.append((W, bl, spec.network[l].activation.name))
    e = spec.examples[0]
    x = _tensor(torch, e.x).reshape(T, F)
    out = spec.layers[-1]
    t = _tensor(torch, e.t).reshape(T if rec.output == "every_step" else 1, out)
    lstm = layer.cell.name == "lstm"
    h0 = _tensor(torch, rec.initial[0]["h"]).reshape(1, 1, n)
    c0 = _tensor(torch, rec.initial[0]["c"]).reshape(1, 1, n) if lstm else None
    acts = {"identity": lambda v: v, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

    def run(last: int, cut: int | None) -> tuple[Any, list[Any], list[Any]]:
        """States up to step ``last`` (1-based), the state after step ``cut`` detached."""
        state: Any = (h0, c0) if lstm else h0
        hs, cs = [], []
        if cut == 0:
            state = tuple(s.detach() for s in state) if lstm else state.detach()
        for step in range(1, last + 1):
            _, state = rnn(x[step - 1].reshape(1, 1, F), state)
            hs.append(state[0] if lstm else state)
            if lstm:
                cs.append(state[1])
            if cut == step:
                state = tuple(s.detach() for s in state) if lstm else state.detach()
        return state, hs, cs

    def loss_at(h: Any, target: Any) -> Any:
        y = h.reshape(n)
        for W, bl, act in head:
            y = acts[act](W @ y + bl)
        return 0.5 * ((y - target) ** 2).sum()

    steps_with_loss = range(1, T + 1) if rec.output == "every_step" else [T]
    total = 0.0
    for step in steps_with_loss:
        cut = None if bptt is None else step - bptt
        _, hs, _ = run(step, cut if cut is not None and cut >= 0 else None)
        target = t[step - 1] if rec.output == "every_step" else t[0]
        L = loss_at(hs[-1], target)
        L.backward()
        total += float(L.detach())
    _, hs, cs = run(T, None)
    result = {
        "loss": total,
        "h": [h.detach().reshape(n).numpy() for h in hs],
        "c": [c.detach().reshape(n).numpy() for c in cs],
        "grad_W[0]": rnn.weight_ih_l0.grad.numpy(),
        "grad_U[0]": rnn.weight_hh_l0.grad.numpy(),
    }
    gb = rnn.bias_ih_l0.grad.numpy()
    if layer.cell.name == "gru":
        result["grad_b[0]"] = np.concatenate([gb, rnn.bias_hh_l0.grad.numpy()[2 * n :]])
    else:
        result["grad_b[0]"] = gb
    for l, (W, bl, _) in enumerate(head, start=1):
        result[f"grad_W[{l}]"] = W.grad.numpy()
        result[f"grad_b[{l}]"] = bl.grad.numpy()
    return result


def torch_train(
    spec: symbp.Spec,
    updates: int,
    optimizer: Any,
    clip_norm: float | None = None,
    gamma: float | None = None,
) -> list[dict[str, Any]]:
    """The parameters of ``spec`` (Elman or LSTM, full BPTT, one example, ``every_step``)
    after 0..``updates`` steps of ``optimizer(params, lr)`` (a ``torch.optim`` factory),
    the gradients clipped by ``clip_grad_norm_`` when ``clip_norm`` is given; the frozen
    arrays of ``spec.frozen`` get no gradient; ``gamma``: ``ExponentialLR`` stepped after
    each update (one update per epoch). Each record also holds the optimiser's
    state per parameter (``state["W[0]"]`` the ``torch.optim`` state dict of W[0])."""
    import torch

    rec = spec.recurrence
    assert rec is not None and rec.output == "every_step"
    layer = spec.network[0]
    n, F, T = layer.size, spec.input_shape[0], rec.steps
    lstm = layer.cell.name == "lstm"
    kwargs: dict[str, Any] = {} if lstm else {"nonlinearity": layer.activation.name}
    rnn = (torch.nn.LSTM if lstm else torch.nn.RNN)(F, n, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(_tensor(torch, spec.W[0]))
        rnn.weight_hh_l0.copy_(_tensor(torch, rec.U[0]))
        rnn.bias_ih_l0.copy_(_tensor(torch, spec.b[0]))
        rnn.bias_hh_l0.zero_()
    rnn.bias_hh_l0.requires_grad_(False)
    params = {"W[0]": rnn.weight_ih_l0, "U[0]": rnn.weight_hh_l0, "b[0]": rnn.bias_ih_l0}
    for l in range(1, len(spec.network)):
        params[f"W[{l}]"] = _tensor(torch, spec.W[l]).requires_grad_()
        params[f"b[{l}]"] = _tensor(torch, spec.b[l]).requires_grad_()
    for kind, l in spec.frozen:
        params[f"{kind}[{l}]"].requires_grad_(False)
    trained = {k: p for k, p in params.items() if p.requires_grad}
    opt = optimizer(list(trained.values()), float(spec.optimizer.learning_rate))
    sched = None if gamma is None else torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
    e = spec.examples[0]
    x = _tensor(torch, e.x).reshape(T, 1, F)
    t = _tensor(torch, e.t).reshape(T, spec.layers[-1])
    acts = {"identity": lambda v: v, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

    def record() -> dict[str, Any]:
        out = {k: p.detach().numpy().copy() for k, p in params.items()}
        out["state"] = {
            k: {s: v.detach().numpy().copy() for s, v in opt.state[p].items() if v.dim()}
            for k, p in trained.items()
            if p in opt.state
        }
        return out

    history = [record()]
    for _ in range(updates):
        opt.zero_grad()
        hs, _ = rnn(x)
        y = hs.reshape(T, n)
        for l in range(1, len(spec.network)):
            y = acts[spec.network[l].activation.name](y @ params[f"W[{l}]"].T + params[f"b[{l}]"])
        loss = 0.5 * ((y - t) ** 2).sum()
        loss.backward()
        if clip_norm is not None:
            history[-1]["norm"] = float(
                torch.nn.utils.clip_grad_norm_(list(trained.values()), clip_norm)
            )
        opt.step()
        if sched is not None:
            sched.step()
        history.append(record())
    return history
