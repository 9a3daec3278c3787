"""``check`` with verify's engine: near misses explained by the convention search.

:func:`.scan.scan` finds a text's numbers in the spec's exact trajectory. A number
that only comes *near* a quantity (a few units of its last digit, or 1 %) is no
identification by itself: in a text that prints many numbers, something is always
near. This module reads the text's numbers as verify reads a claims file:

- every confirmed or truncated number becomes a claim of the quantity it was
  identified with, every near miss a claim of its nearest quantity;
- the convention search (:class:`~.conventions.ConventionSearch`, with carried
  rounding from the text's own confirmed numbers, :mod:`.carried`) runs on the near
  misses (at most :data:`MAX_SEARCHED`), the author model (:mod:`.author`) is
  inferred, and the causes are ranked by evidence over the whole text
  (:mod:`.evidence`);
- a near miss is **explained** (an identification, with its cause) only where its
  cause is consistent with the text's other numbers: it contradicts none of the
  confirmed ones, and either explains two or more of the text's numbers or is
  plausible by itself (carried rounding, a sign, a dropped factor:
  prior at least :data:`~.evidence.USUAL`). Other near misses stay ``near``, and
  are not identifications.

:func:`precision` compares the identifications with a claims file's: how many of
the identified numbers that a claim gives name the claim's quantity and step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..spec import Spec
from ..symbolic.records import Evaluation
from .author import infer
from .carried import MAX_PARAMS
from .claims import Claim, parse_claims
from .compare import CONFIRMED, MISMATCH, TRUNCATED
from .conventions import ConventionSearch
from .evidence import USUAL, rank, weigh
from .report import ClaimResult

#: Near misses searched per text (the first ones, in text order).
MAX_SEARCHED = 40
NEAR = "near"
OTHER_SIGN = "the other sign"


def _claim(index: int, result: Any, entry: Any) -> Claim:
    return Claim(
        index,
        result.found.text,
        entry.quantity.name,
        entry.quantity,
        entry.step,
        result.printed,
        None,
        entry.example,
        None,
    )


def refine(results: list[Any], evaluation: Evaluation) -> list[Any]:
    """``results`` (:class:`~.scan.NumberResult`) with near misses explained where they can be."""
    spec = evaluation.spec
    near = [
        i
        for i, r in enumerate(results)
        if r.verdict == NEAR and r.nearest is not None and r.convention != OTHER_SIGN
    ][:MAX_SEARCHED]
    if not near or spec.n_params > MAX_PARAMS:
        return results
    claims, verdicts = [], {}
    for i, r in enumerate(results):
        if r.matches and r.verdict in (CONFIRMED, TRUNCATED):
            claims.append(_claim(i, r, r.matches[0]))
            verdicts[i] = r.verdict
    for i in near:
        claims.append(_claim(i, results[i], results[i].nearest))
        verdicts[i] = MISMATCH
    claims.sort(key=lambda c: c.index)
    search = ConventionSearch(spec, evaluation.model, evaluation.steps, tuple(claims), verdicts)
    claim_results = []
    for claim in claims:
        verdict = verdicts[claim.index]
        findings = search.explain(claim) if verdict == MISMATCH else ()
        value = claim.quantity.value(evaluation.steps[claim.step], claim.example)
        claim_results.append(ClaimResult(claim, value, verdict, findings))
    author = infer(claim_results)
    evidence = weigh(claim_results, search, author)
    out = list(results)
    for r in rank(claim_results, search, author, evidence):
        if r.verdict != MISMATCH or not r.findings:
            continue
        top = r.findings[0]
        ev = evidence[top.cause]
        consistent = ev.contradicts == 0 and (ev.explains >= 2 or ev.prior >= USUAL)
        if top.verdict == CONFIRMED and consistent:
            i = r.claim.index
            out[i] = replace(out[i], convention=top.label, cause=top.cause, explained=True)
    return out


#: The kinds whose values belong to an example (``example: None`` is the first one); a
#: recurrent net's per-step kinds carry their layer (``h[0]``), read without it.
_FORWARD = ("a", "z", "delta", "h", "c", "delta_h", "delta_c")


def _normal(kind: str, example: int | None) -> int | None:
    base = kind.split("[")[0]
    forward = base in _FORWARD or base.startswith("gate_")
    return (example or 0) if forward else example


def precision(results: list[Any], spec: Spec, parse: Any = None) -> dict[str, Any] | None:
    """How many identified numbers name what the spec's claims say (``None``: no claims).

    ``claimed``: the text's numbers that some claim prints (same digits);
    ``identified``: those the check identified (confirmed, truncated or an explained
    near miss); ``right``: those whose identification (quantity, step, example) is a
    claim's with those digits; ``precision``: right / identified. ``parse`` reads the
    claims' names (:func:`.network.parse_network_quantity` for conv nets,
    :func:`.recurrent.parse_recurrent_quantity` for recurrent ones, whose claims and
    identifications name the time step too).
    """
    if not spec.claims:
        return None
    truth: dict[str, set[tuple[str, int, int | None, int | None]]] = {}
    for c in parse_claims(spec) if parse is None else parse_claims(spec, parse):
        q = c.quantity
        named = (q.name, c.step, _normal(q.kind, c.example), c.time)
        truth.setdefault(c.printed.text, set()).add(named)
    claimed = identified = right = 0
    for r in results:
        text = r.found.text.replace("−", "-")
        if text not in truth:
            continue
        claimed += 1
        entry = r.matches[0] if r.matches else (r.nearest if r.explained else None)
        if entry is None:
            continue
        identified += 1
        q = entry.quantity
        right += (q.name, entry.step, _normal(q.kind, entry.example), entry.time) in truth[text]
    return {
        "claimed": claimed,
        "identified": identified,
        "right": right,
        "precision": right / identified if identified else None,
    }


__all__ = ["MAX_SEARCHED", "precision", "refine"]
