"""``verify`` of a spec with a recurrent layer: claims on per-step quantities (``time:``).

Claims name quantities as ``eval --json`` does (:mod:`symbp.symbolic.recurrent_eval`),
``l`` 0-based, one index per axis:

- of the whole sequence (no ``time``): ``W[l]…``, ``U[0]…``, ``b[l]…``, ``h0[0][j]``
  (``c0[0][j]``), the gradients ``grad_W[l]…``, ``grad_U[0]…``, ``grad_b[l]…`` (sums over
  time), ``loss`` (``E``), the step's update ``update_W[l]…``, ``update_U[0]…``,
  ``update_b[l]…`` and the optimiser's states after it (``v_U[0]…``, ``m_W[l]…``),
  with ``clip_norm`` the step's ``grad_norm`` and ``clip_scale``;
- of one time step ``t`` (``time: t``, from 1): the cell's quantities ``h[0][j]``,
  ``c[0][j]``, ``z[0][j]`` (Elman), the gates ``gate_i[0][j]`` …, ``a[l][j]`` (``a[0]``:
  ``x_t``, ``a[1]``: ``h_t``), the dense layers' ``z[l][j]``, ``delta[l][j]``,
  ``delta_h[0][j]`` (``∂E/∂h_t``), ``delta_c[0][j]``, the loss ``L_t`` and each
  gradient's term of step ``t``.

Verdicts are those of every network (:func:`.compare.judge`); ``against="torch"`` adds
PyTorch autograd's values as an independent reference (:mod:`.against_recurrent`). For a
claim that is not confirmed the convention search evaluates the usual slips of BPTT
texts over the same steps (:data:`SLIPS`): the gradient of the last step's loss only,
the recurrent term left out of ``∂E/∂h_t``, the loss averaged over the steps instead of
summed, and, under ``bptt: k``, the full-BPTT gradient (the truncation not applied); one
that reproduces the printed number explains it and is named.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from ..errors import DataError, SpecError, quote
from ..layers import Recurrent
from ..layers.base import Shape
from ..spec import Spec
from ..symbolic.recurrent_eval import Convention
from ..symbolic.recurrent_run import RecurrentRun, run_recurrent
from .claims import Claim, parse_claims
from .compare import CONFIRMED, TRUNCATED, judge
from .conventions import Finding
from .quantities import Quantity
from .report import ClaimResult, Report

_NAME = re.compile(r"^\s*([A-Za-z_0-9]+?)\s*((?:\[\s*\d+\s*\]\s*)*)\Z")

#: The slips the convention search tries: ``key: (label, change of the convention)``;
#: ``full`` only under truncation.
SLIPS: dict[str, tuple[str, Callable[[Convention], Convention]]] = {
    "last-step-only": (
        "the gradient of the last step's loss only",
        lambda c: dataclasses.replace(c, weights="last"),
    ),
    "no-recurrent-term": (
        "the recurrent term left out of ∂E/∂h_t (each step's own loss only)",
        lambda c: dataclasses.replace(c, recurrent=False),
    ),
    "mean-over-steps": (
        "the loss averaged over the steps instead of summed",
        lambda c: dataclasses.replace(c, weights="mean"),
    ),
    "full-bptt": (
        "the full-BPTT gradient: the spec truncates (bptt: k), the text does not",
        lambda c: dataclasses.replace(c, bptt=None),
    ),
}


def quantity_shapes(spec: Spec) -> tuple[dict[str, Shape], dict[str, Shape]]:
    """The shapes of the whole sequence's and of one step's quantities, by name
    (``W[0]``, ``grad_U[0]``, ``loss`` …; ``h[0]``, ``gate_i[0]``, ``loss`` …)."""
    rec = spec.recurrence
    assert rec is not None
    layer = spec.network[0]
    whole: dict[str, Shape] = {"loss": ()}
    step: dict[str, Shape] = {"loss": ()}
    if spec.optimizer.clip_norm is not None:  # the step's clipping, scalars
        whole.update({"grad_norm": (), "clip_scale": ()})
    shape: Shape = spec.input_shape
    for l, record in enumerate(spec.network):
        for name, s in record.parameter_shapes(shape).items():
            whole[f"{name}[{l}]"] = s
            whole[f"grad_{name}[{l}]"] = s
            whole[f"update_{name}[{l}]"] = s
            for state in spec.optimizer.optimizer.state:
                whole[f"{state}_{name}[{l}]"] = s
            step[f"grad_{name}[{l}]"] = s
        step[f"a[{l}]"] = shape
        shape = record.output_shape(shape)
        if l > 0:
            step[f"z[{l}]"] = shape
            step[f"delta[{l}]"] = shape
    step[f"a[{len(spec.network)}]"] = shape
    n = layer.output_shape(spec.input_shape)
    assert isinstance(layer, Recurrent)
    cell = layer.cell
    for name in cell.unit(layer.unit_activation):
        step[f"{name}[0]"] = n
    for state in cell.states:
        whole[f"{state}0[0]"] = n
        step[f"delta_{state}[0]"] = n
    return whole, step


def parse_recurrent_quantity(of: Any, spec: Spec) -> Quantity:
    """A claim's ``of`` for ``spec``'s recurrent network (see the module docstring)."""
    whole, step = quantity_shapes(spec)
    known = sorted({k.split("[")[0] for k in (*whole, *step)})
    match = _NAME.match(of) if isinstance(of, str) and len(of) <= 200 else None
    if match is None:
        raise ValueError(
            f"unknown quantity {quote(of)}; expected one of {', '.join(known)} with one index "
            "per axis, e.g. h[0][1] (with time: 2), grad_U[0][1][0], loss"
        )
    kind = match.group(1)
    indices = tuple(int(n) for n in re.findall(r"\d+", match.group(2)))
    if kind not in known:
        raise ValueError(f"unknown quantity {quote(of)}; expected one of {', '.join(known)}")
    if whole.get(kind, step.get(kind)) != ():
        if not indices:
            raise ValueError(f"{kind} needs its layer first: {kind}[l]…")
        head = f"{kind}[{indices[0]}]"
        indices = indices[1:]
    else:
        head = kind
    shape = whole.get(head, step.get(head))
    if shape is None:
        layers = sorted(k for k in (*whole, *step) if k.startswith(kind + "["))
        raise ValueError(f"{head} does not exist; the network has {', '.join(layers)}")
    axes = "".join(f"[0..{n - 1}]" for n in shape)
    if len(indices) != len(shape):
        raise ValueError(
            f"{head} has shape {list(shape)}: give {len(shape)} index(es) after it "
            f"({head}{axes}), found {len(indices)}"
        )
    for d, (i, n) in enumerate(zip(indices, shape, strict=True)):
        if i >= n:
            raise ValueError(f"{head}: index {d + 1} is {i}, outside 0..{n - 1} ({head}{axes})")
    return Quantity(head, indices)


def _check_time(claim: Claim, spec: Spec) -> None:
    """A per-step quantity needs ``time``; a parameter or initial state takes none."""
    whole, step = quantity_shapes(spec)
    head = claim.quantity.kind
    message = None
    if claim.time is None and head not in whole:
        message = f"{head} is a quantity of one time step: give time: 1 to {spec.recurrence.steps}"  # type: ignore[union-attr]
    elif claim.time is not None and head not in step:
        message = f"{head} is not a quantity of one time step: remove time"
    if message is not None:
        line = spec.line_of("claims", claim.index, "time") or spec.line_of("claims", claim.index)
        raise SpecError(
            f"{claim.text}: {message}", field=f"claims[{claim.index}]", file=spec.path, line=line
        )


class _Values:
    """The exact values of the claims' quantities in a run."""

    def __init__(self, run: RecurrentRun) -> None:
        self.run = run
        self.cache: dict[tuple[int, int | None, int | None], dict[str, Any]] = {}

    def of(self, claim: Claim) -> Any:
        key = (claim.step, claim.time, claim.example)
        if key not in self.cache:
            self.cache[key] = self.run.steps[claim.step].quantities(claim.time, claim.example)
        return self.cache[key][claim.quantity.name]


def verify_recurrent(spec: Spec, against: str | None = None) -> Report:
    """The report on ``spec``'s claims (see the module docstring)."""
    from .core import conventions_text

    if against is not None:  # before the exact run: a cell torch cannot compute is refused
        from .against import _torch
        from .against_recurrent import check_torch_cell

        _torch()
        check_torch_cell(spec)
    claims = parse_claims(spec, parse_recurrent_quantity)
    if not claims:
        raise DataError(
            "the spec has no claims; add claims: [{of: h[0][1], time: 2, printed: 0.12}]",
            field="claims",
            file=spec.path,
        )
    for claim in claims:
        _check_time(claim, spec)
    last = max(c.step for c in claims)
    run = run_recurrent(spec, last)
    exact = _Values(run)
    try:
        values = [exact.of(c) for c in claims]
    except DataError as err:
        raise err.located(file=spec.path) from None
    rec = spec.recurrence
    assert rec is not None
    keys = [k for k in SLIPS if k != "full-bptt" or rec.bptt is not None]
    slipped_runs: dict[str, _Values] = {}
    results = []
    for claim, value in zip(claims, values, strict=True):
        verdict = judge(value, claim.printed, claim.tolerance)
        findings: list[Finding] = []
        if verdict != CONFIRMED:
            for key in keys:
                if key not in slipped_runs:
                    slipped_runs[key] = _Values(run_recurrent(spec, last, convention=SLIPS[key][1]))
                slipped = slipped_runs[key].of(claim)
                how = judge(slipped, claim.printed, claim.tolerance)
                if how in (CONFIRMED, TRUNCATED):
                    findings.append(Finding(SLIPS[key][0], slipped, how, cause=key))
        results.append(ClaimResult(claim, value, verdict, tuple(findings)))
    independent, ok = None, True
    if against is not None:
        from .against_recurrent import torch_check_recurrent

        results, independent, ok = torch_check_recurrent(spec, run, results)
    layer = spec.network[0]
    assert isinstance(layer, Recurrent)
    truncation = "full BPTT" if rec.bptt is None else f"BPTT({rec.bptt})"
    head = f"{layer.kind} {layer.cell.name}, {rec.steps} steps, {rec.output}, {truncation}"
    return Report(
        name=spec.name,
        title=spec.title,
        source=spec.source,
        path=spec.path,
        conventions=_conventions(head, conventions_text(spec), spec),
        results=tuple(results),
        against=against,
        independent=independent,
        independent_ok=ok,
    )


def _conventions(head: str, dense_text: str, spec: Spec) -> str:
    """The dense nets' conventions line, the layers named instead of the activations."""
    layers = ", ".join(
        layer.kind if layer.activation is None else f"{layer.kind} {layer.activation.name}"
        for layer in spec.network
    )
    parts = [
        f"layers {layers}" if p.startswith("activation") else p for p in dense_text.split("; ")
    ]
    return "; ".join([head, *parts])
