"""``verify(spec)``: evaluate the worked example exactly and judge every claim."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sympy as sp

from ..budget import time_limit as budget
from ..errors import DataError, quote
from ..ops.losses import soft_targets_note
from ..spec import Spec, load
from ..symbolic.evaluate import evaluate
from ..symbolic.generic import derive_generic
from .author import infer
from .carried import CAUSE as CARRIED
from .carried import ROUNDS
from .claims import parse_claims
from .compare import CONFIRMED, judge
from .conventions import ConventionSearch
from .evidence import rank
from .report import ClaimResult, Report

AGAINST = ("torch",)


def verify(
    spec: str | Path | Mapping[str, Any] | Spec,
    *,
    against: str | None = None,
    time_limit: float | None = None,
) -> Report:
    """Check the numbers a text printed (``spec.claims``) against exact values.

    ``spec`` is a path, a dict or a :class:`~symbp.spec.Spec` with concrete
    numbers (``params`` or ``init``, and an example) and ``claims``. Each claim
    is confirmed (the exact value rounds to the printed one), truncated (it only
    truncates to it) or a mismatch; for every claim not confirmed the usual
    conventions are searched (:mod:`symbp.verify.conventions`). ``against="torch"``
    recomputes the values and gradients with PyTorch autograd as an independent
    reference (needs the ``torch`` extra).

    Loading, evaluating and the convention search stop with
    :class:`~symbp.errors.TimeLimitExceeded` after ``time_limit`` seconds
    (``None``: the running budget, else :data:`symbp.budget.DEFAULT_TIME_LIMIT`,
    30 s as ``symbp verify``; ``0``: no limit).

    Raises :class:`~symbp.errors.SpecError` naming the claim for a claim that
    cannot be checked, :class:`~symbp.errors.DataError` when there are no claims.
    """
    if against is not None and against not in AGAINST:
        raise DataError(f"against must be one of {', '.join(AGAINST)}, found {quote(against)}")
    with budget(time_limit):
        return _verify(load(spec), against)


def _verify(spec: Spec, against: str | None) -> Report:
    if spec.recurrence is not None:  # claims on per-step quantities (``time:``)
        from .recurrent import verify_recurrent

        return verify_recurrent(spec, against)
    if not spec.dense_only:  # conv, pool, flatten …: claims on the records' quantities
        from .network import verify_network

        return verify_network(spec, against)
    claims = parse_claims(spec)
    if not claims:
        raise DataError(
            "the spec has no claims; add claims: [{of: a[2][0], step: 0, printed: 0.521}]",
            field="claims",
            file=spec.path,
        )
    model = derive_generic(spec)
    steps = evaluate(spec, max(c.step for c in claims), model=model).steps
    values = [c.quantity.value(steps[c.step], c.example) for c in claims]
    verdicts = {
        c.index: judge(v, c.printed, c.tolerance) for c, v in zip(claims, values, strict=True)
    }
    search = ConventionSearch(spec, model, steps, claims, verdicts)
    for _ in range(ROUNDS):
        results = []
        for claim, value in zip(claims, values, strict=True):
            verdict = verdicts[claim.index]
            findings = () if verdict == CONFIRMED else search.explain(claim)
            results.append(ClaimResult(claim, value, verdict, findings))
        carried = [r.claim for r in results if _carried(r)]
        if not search.carried.admit(carried):
            break
    author = infer(results)
    results = [author.regrade(r) for r in rank(results, search, author)]
    independent, ok = None, True
    if against == "torch":
        from .against import torch_check

        results, independent, ok = torch_check(spec, steps, results)
    return Report(
        name=spec.name,
        title=spec.title,
        source=spec.source,
        path=spec.path,
        conventions=conventions_text(spec),
        results=tuple(results),
        against=against,
        independent=independent,
        independent_ok=ok,
        author=author.describe(),
        notes=tuple(n for n in [soft_targets_note(spec.loss, [e.t for e in spec.examples])] if n),
    )


def _carried(result: ClaimResult) -> bool:
    """Whether carried rounding reproduces ``result``'s printed number (rounds to it)."""
    return any(f.cause == CARRIED and f.verdict == CONFIRMED for f in result.findings)


def conventions_text(spec: Spec) -> str:
    """The conventions the exact values use, in one line."""
    acts = [a.name if a.source is None else f"f(x) = {a.source}" for a in spec.activations]
    act_text = acts[0] if len(set(acts)) == 1 else ", ".join(acts)
    lr = sp.Rational(spec.optimizer.learning_rate)
    lr_text = str(lr) if lr.q == 1 else f"{float(lr):g}"
    frozen = sorted(f"{kind}[{l}]" for kind, l in spec.frozen)
    m = len(spec.examples)
    parts = [
        f"loss {spec.loss.key}: {spec.loss.scaling}",
        f"activation {act_text}",
        f"{spec.optimizer.name}, learning rate {lr_text}",
        f"fixed: {', '.join(frozen)}" if frozen else "all parameters updated",
        f"E = mean over {m} example{'s' if m != 1 else ''}",
    ]
    return "; ".join(parts)
