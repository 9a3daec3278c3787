"""``--against torch``: recompute the forward values and gradients with PyTorch autograd.

An independent reference for the exact values: at every claimed step the
network runs in float64 PyTorch at the exact parameters of that step, with the
spec's activation and loss formulas turned into torch functions by
``sympy.lambdify`` (softmax is ``torch.softmax``), and ``E.backward()`` gives
the gradients. Differentiation is torch's, not symbp's. Agreement means every
gradient entry at the claimed steps is within ``1e-9·(1 + |exact|)``.

The parameters themselves (``W``, ``b`` after updates) are symbp's, so claims
about them get no torch value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp

from ..errors import DataError
from ..ops.symbols import T, X, Y
from ..spec import Spec
from ..symbolic.evaluate import Step
from .report import ClaimResult

RTOL = 1e-9


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise DataError(
            "--against torch needs PyTorch: pip install 'symbp[torch]'", field="against"
        ) from None
    return torch


def torch_function(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable[..., Any]:
    """``expr`` of ``args`` as a torch function (``sympy.lambdify``; constants at 30 digits)."""
    torch = _torch()
    expr = expr.rewrite(sp.Piecewise) if expr.has(sp.Max, sp.Min) else expr
    expr = expr.replace(lambda e: e.is_number and not e.is_Number, lambda e: e.evalf(30))
    fn = sp.lambdify(args, expr, modules="torch")

    def call(*values: Any) -> Any:
        out = fn(*values)
        return out if torch.is_tensor(out) else torch.full_like(values[0], float(out))

    return call


def _f(item: Any) -> Any:
    return [_f(v) for v in item] if isinstance(item, tuple) else float(item)


def torch_check(
    spec: Spec, steps: Sequence[Step], results: Sequence[ClaimResult]
) -> tuple[list[ClaimResult], str, bool]:
    """Torch values for the claims, a one-line summary, and whether torch agrees."""
    torch = _torch()
    acts = [
        None if not a.elementwise else torch_function(a.formula, (X,)) for a in spec.activations
    ]
    term = torch_function(spec.loss.term, (Y, T))
    wanted = sorted({r.claim.step for r in results} | {0})
    values: dict[int, dict[str, Any]] = {}
    worst, count = 0.0, 0
    for s in wanted:
        values[s] = _run(torch, spec, steps[s], acts, term)
        for kind in ("grad_W", "grad_b"):
            for got, want in zip(
                _flatten(values[s][kind]), _flatten(_f(getattr(steps[s], kind))), strict=True
            ):
                worst = max(worst, abs(got - want) / (1 + abs(want)))
                count += 1
    out = []
    for r in results:
        q = r.claim.quantity
        tv = None
        if not q.is_parameter and q.kind != "learning_rate":
            tv = _lookup(values[r.claim.step], q.kind, q.indices, r.claim.example)
        out.append(dataclasses.replace(r, torch_value=tv))
    ok = worst <= RTOL
    summary = (
        f"PyTorch {torch.__version__} autograd (float64) at steps {', '.join(map(str, wanted))}: "
        f"{count} gradient entries, largest difference {worst:.1e} (relative to 1 + |exact|)"
        f" — {'agrees' if ok else 'DISAGREES'}"
    )
    return out, summary, ok


def _flatten(item: Any) -> list[float]:
    if isinstance(item, list):
        return [v for part in item for v in _flatten(part)]
    return [item]


def _lookup(
    values: dict[str, Any], kind: str, indices: tuple[int, ...], example: int | None
) -> Any:
    if kind == "loss":
        return values["loss"] if example is None else values["examples"][example]["loss"]
    if kind in ("a", "z", "delta"):
        item = values["examples"][example or 0][kind]
    elif example is not None:
        item = values["examples"][example][kind]
    else:
        item = values[kind]
    for i in indices:
        item = item[i]
    return float(item)


def _run(torch: Any, spec: Spec, step: Step, acts: list[Any], term: Any) -> dict[str, Any]:
    def tensor(v: Any, grad: bool = False) -> Any:
        return torch.tensor(_f(v), dtype=torch.float64, requires_grad=grad)

    W = [tensor(w, True) for w in step.W]
    b = [tensor(v, True) for v in step.b]
    per_example, losses = [], []
    for ex in spec.examples:
        a, zs, acts_out = tensor(ex.x), [], []
        acts_out.append(a)
        for l, act in enumerate(acts):
            z = W[l] @ a + b[l]
            zs.append(z)
            a = torch.softmax(z, 0) if act is None else act(z)
            acts_out.append(a)
        t = tensor(ex.t)
        terms = term(a, t)
        loss = terms.sum() if spec.loss.reduction == "sum" else terms.mean()
        grads = torch.autograd.grad(loss, [*zs, *W, *b], retain_graph=True)
        L = len(zs)
        per_example.append(
            {
                "loss": loss.item(),
                "a": [v.detach().tolist() for v in acts_out],
                "z": [v.detach().tolist() for v in zs],
                "delta": [g.tolist() for g in grads[:L]],
                "grad_W": [g.tolist() for g in grads[L : 2 * L]],
                "grad_b": [g.tolist() for g in grads[2 * L :]],
            }
        )
        losses.append(loss)
    E = torch.stack(losses).mean()
    gW = torch.autograd.grad(E, [*W, *b])
    L = len(W)
    return {
        "loss": E.item(),
        "examples": per_example,
        "grad_W": [g.tolist() for g in gW[:L]],
        "grad_b": [g.tolist() for g in gW[L:]],
    }
