"""``verify`` of a spec whose network has layers other than dense (conv, pool, flatten …).

Claims name the quantities as ``eval --json`` does (:mod:`symbp.symbolic.network_run`),
``l`` 0-based, one index per axis of the quantity's shape:

- ``W[l][o][c][u][v]`` (a conv kernel), ``W[l][j][k]`` (a dense layer), ``b[l][o]``;
- ``z[l]…``, ``delta[l]…`` (the output of layer ``l``: ``[c][i][j]`` for feature maps),
  ``a[l]…`` (``a[0]`` is the input ``x``);
- ``grad_W[l]…``, ``grad_b[l]…``, ``grad_x[c][i][j]`` (``∂E/∂x``), ``loss``;
- ``update_W[l]…``, ``update_b[l]…`` (the change the update after the step makes),
  ``learning_rate``, and the optimiser's states after that update by the record's names,
  shaped as the parameter (``m_W[l]…``, ``v_b[l]…`` for Adam, ``v_W[l]…`` for momentum).

A name the network does not have (a layer without parameters, too few or too many
indices, an index out of range) is refused with one line naming the claim and the shape.
Verdicts are those of dense nets (:func:`.compare.judge`: confirmed, truncated,
mismatch; exit 1 on a mismatch). For a claim that is not confirmed, the convention
search evaluates the classic slips of conv texts
(:data:`symbp.symbolic.network_variants.VARIANTS`: the kernel not rotated in the input
gradient, a true convolution for the forward, sum pooling for average pooling, the
max-pool gradient sent to the whole window), each a variant of the derived formulas run
through the exact evaluator over the same steps; a variant that reproduces the printed
number explains it and is named.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import DataError, quote
from ..layers.base import Shape
from ..spec import Spec
from ..symbolic.network_plan import plan_network, shapes_of
from ..symbolic.network_run import NetworkRun, run_network
from ..symbolic.network_variants import VARIANTS, applicable, variant
from .claims import Claim, parse_claims
from .compare import CONFIRMED, TRUNCATED, judge
from .conventions import Finding
from .quantities import Quantity
from .report import ClaimResult, Report

_NAME = re.compile(r"^\s*([A-Za-z_]+)\s*((?:\[\s*\d+\s*\]\s*)*)\Z")
#: The quantities a claim may name, and whether each is of a layer (``[l]`` first).
KINDS = {
    "W": True,
    "b": True,
    "z": True,
    "a": True,
    "delta": True,
    "grad_W": True,
    "grad_b": True,
    "grad_x": False,
    "loss": False,
    "update_W": True,
    "update_b": True,
    "learning_rate": False,
}


def _kind_of(kind: str, spec: Spec) -> str | None:
    """``kind`` itself where it is one of :data:`KINDS`; ``m_W`` → ``m_W`` where ``m`` is a
    state of the spec's optimiser record (its arrays shaped as ``W``); else ``None``."""
    if kind in KINDS:
        return kind
    state, _, param = kind.rpartition("_")
    if param in ("W", "b") and state in spec.optimizer.optimizer.state:
        return kind
    return None


def _shape(kind: str, l: int | None, spec: Spec) -> Shape:
    """The shape of ``kind[l]`` (``ValueError``: the layer has none)."""
    shapes = shapes_of(spec.input_shape, spec.network)
    if kind in ("loss", "learning_rate"):
        return ()
    if kind == "grad_x":
        return shapes[0]
    assert l is not None
    count = len(spec.network) + (1 if kind == "a" else 0)
    if l >= count:
        raise ValueError(
            f"{kind}[{l}] does not exist: the network has {kind}[0] to {kind}[{count - 1}]"
        )
    if kind == "a":
        return shapes[l]
    if kind in ("z", "delta"):
        return shapes[l + 1]
    layer = spec.network[l]
    params = layer.parameter_shapes(shapes[l])
    name = kind.rpartition("_")[2]  # grad_W, update_W, m_W: shaped as W
    if name not in params:
        raise ValueError(f"layer {l} ({layer.kind}) has no parameters: {kind}[{l}] is null")
    return params[name]


def parse_network_quantity(of: Any, spec: Spec) -> Quantity:
    """A claim's ``of`` for ``spec``'s network (see the module docstring)."""
    match = _NAME.match(of) if isinstance(of, str) and len(of) <= 200 else None
    if match is None or _kind_of(match.group(1), spec) is None:
        states = [f"{s}_W" for s in spec.optimizer.optimizer.state]
        raise ValueError(
            f"unknown quantity {quote(of)}; expected one of {', '.join([*KINDS, *states])} "
            "with one index per axis, e.g. W[0][1][0][1][0], a[1][0][2][3], grad_x[0][1][1], "
            "loss"
        )
    kind = match.group(1)
    indices = tuple(int(n) for n in re.findall(r"\d+", match.group(2)))
    l = None
    if KINDS.get(kind, True):
        if not indices:
            raise ValueError(f"{kind} needs its layer first: {kind}[l]…")
        l, indices = indices[0], indices[1:]
    shape = _shape(kind, l, spec)
    head = kind if l is None else f"{kind}[{l}]"
    axes = "".join(f"[0..{n - 1}]" for n in shape)
    if len(indices) != len(shape):
        raise ValueError(
            f"{head} has shape {list(shape)}: give {len(shape)} "
            f"ind{'ex' if len(shape) == 1 else 'ices'} after it ({head}{axes}), "
            f"found {len(indices)}"
        )
    for d, (i, n) in enumerate(zip(indices, shape, strict=True)):
        if i >= n:
            raise ValueError(f"{head}: index {d + 1} is {i}, outside 0..{n - 1} ({head}{axes})")
    return Quantity(kind, (() if l is None else (l,)) + indices)


class _Values:
    """The exact values of the claims' quantities in a run (one dict per step and example)."""

    def __init__(self, run: NetworkRun) -> None:
        self.run = run
        self.cache: dict[tuple[int, int | None], dict[str, Any]] = {}

    def of(self, claim: Claim) -> Any:
        key = (claim.step, claim.example)
        if key not in self.cache:
            step = self.run.steps[claim.step]
            self.cache[key] = step.quantities(claim.example)
        return self.cache[key][claim.quantity.name]


def verify_network(spec: Spec, against: str | None = None) -> Report:
    """The report on ``spec``'s claims (see the module docstring)."""
    from .core import conventions_text

    if against is not None:
        raise DataError(
            f"--against {against} of conv/pool/flatten layers is not available yet; "
            "verify without it",
            field="--against",
        )
    claims = parse_claims(spec, parse_network_quantity)
    if not claims:
        raise DataError(
            "the spec has no claims; add claims: [{of: grad_x[0][1][1], step: 0, printed: 0.12}]",
            field="claims",
            file=spec.path,
        )
    last = max(c.step for c in claims)
    exact = _Values(run_network(spec, last))
    try:
        values = [exact.of(c) for c in claims]
    except DataError as err:
        raise err.located(file=spec.path) from None
    verdicts = [judge(v, c.printed, c.tolerance) for c, v in zip(claims, values, strict=True)]
    variants: dict[str, _Values] = {}
    keys: list[str] | None = None
    plans = None
    results = []
    for claim, value, verdict in zip(claims, values, verdicts, strict=True):
        findings: list[Finding] = []
        if verdict != CONFIRMED:
            if keys is None:
                plans = plan_network(spec.input_shape, spec.network)
                keys = applicable(plans)
            for key in keys:
                if key not in variants:
                    run = run_network(spec, last, variant=variant(key), plans=plans)
                    variants[key] = _Values(run)
                slipped = variants[key].of(claim)
                how = judge(slipped, claim.printed, claim.tolerance)
                if how in (CONFIRMED, TRUNCATED):
                    findings.append(Finding(VARIANTS[key][0], slipped, how, cause=key))
        results.append(ClaimResult(claim, value, verdict, tuple(findings)))
    return Report(
        name=spec.name,
        title=spec.title,
        source=spec.source,
        path=spec.path,
        conventions=_conventions(conventions_text(spec), spec),
        results=tuple(results),
    )


def _conventions(dense_text: str, spec: Spec) -> str:
    """The dense nets' conventions line with the layers named instead of the activations."""
    layers = ", ".join(
        layer.kind if layer.activation is None else f"{layer.kind} {layer.activation.name}"
        for layer in spec.network
    )
    parts = dense_text.split("; ")
    return "; ".join(f"layers {layers}" if p.startswith("activation") else p for p in parts)
