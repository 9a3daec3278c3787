"""Causes ranked by evidence: the explanation that explains the text as a whole.

The convention search (:mod:`.conventions`) lists, per claim, every convention
that reproduces the printed number. Several may: a rounding of the parameters
can happen to match one number of a text computed in float32. A *cause* (a
finding's :attr:`~.conventions.Finding.cause`: a convention, an arithmetic, the
author's carried rounding, a dropped factor, a sign) is scored over the whole
file:

- **explains**: how many of the file's claims it reproduces (rounds to);
- **contradicts**: for a cause that changes the whole computation (a variant
  spec), how many claims the exact values confirm and it does not reproduce;
- **prior**: how plausible it is before looking (a model of authors,
  :func:`prior`): float32 where the text prints 7 to 9 significant digits or
  names a framework that computes in float32 (Keras, PyTorch, TensorFlow, JAX),
  float64 where it prints 10 or more or names NumPy, carried rounding where the
  author rounds what they print, a dropped factor or a sign (the usual slips),
  and, less likely, rounded parameters, transposed indices, a swapped activation.

``score = (explains − contradicts) × prior``; each claim's findings are ordered
by their cause's score (ties: rounding before truncation, then the search's
order), so the first, the claim's explanation, is the cause that explains the
text, and a coincidental single-claim match is shown after it, as an alternative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from ..spec import Spec
from .carried import CAUSE as CARRIED
from .claims import Claim
from .compare import CONFIRMED

if TYPE_CHECKING:
    from .author import AuthorModel
    from .conventions import ConventionSearch
    from .report import ClaimResult

#: Words that name a framework computing in float32 by default.
FLOAT32_WORDS = re.compile(r"\b(keras|pytorch|torch|tensorflow|jax|float32)\b", re.IGNORECASE)
#: Words that name float64 arithmetic.
FLOAT64_WORDS = re.compile(r"\b(numpy|float64|double precision)\b", re.IGNORECASE)

LIKELY, USUAL, LESS, UNLIKELY = Fraction(1), Fraction(4, 5), Fraction(1, 2), Fraction(2, 5)
#: A priori plausibility of the causes that do not depend on the text's profile.
PRIORS: dict[str, Fraction] = {
    "params-unrounded": Fraction(9, 10),
    "summed-examples": USUAL,
    "summed-epoch": USUAL,
    "lr1": USUAL,
    "sign": USUAL,
    "eta-g": USUAL,
    "step-before": USUAL,
    "step-after": USUAL,
    "sequential": USUAL,
    "bias-updated": USUAL,
    "bias-fixed": USUAL,
    "transposed": LESS,
}


@dataclass(frozen=True)
class Profile:
    """What the text shows of its arithmetic: the longest printed number, framework names."""

    digits: int
    float32_named: bool
    float64_named: bool


@dataclass(frozen=True)
class Evidence:
    """One cause's score over the file."""

    cause: str
    explains: int
    contradicts: int
    prior: Fraction

    @property
    def score(self) -> Fraction:
        return (self.explains - self.contradicts) * self.prior


def profile(spec: Spec, claims: Sequence[Claim]) -> Profile:
    """The text's :class:`Profile` (explicit tolerances do not count as printed digits)."""
    digits = max((c.printed.significant for c in claims if c.tolerance is None), default=0)
    words = " ".join([spec.title or "", spec.source or "", *(c.note or "" for c in claims)])
    return Profile(digits, bool(FLOAT32_WORDS.search(words)), bool(FLOAT64_WORDS.search(words)))


def prior(cause: str, text: Profile, author: AuthorModel) -> Fraction:
    """How plausible ``cause`` is for this text before counting (module docstring)."""
    if cause == "arith-float32":
        return LIKELY if text.float32_named or 7 <= text.digits <= 9 else UNLIKELY
    if cause == "arith-float64":
        return LIKELY if text.float64_named or text.digits >= 10 else UNLIKELY
    if cause == CARRIED:
        return LIKELY if author.habit != "unknown" else USUAL
    if cause in PRIORS:
        return PRIORS[cause]
    if cause.startswith(("loss-", "summed-")):
        return USUAL  # a dropped or added factor: ½, 1/n, the sum, the log's base
    if cause.startswith("params-round"):
        return LESS
    if cause.startswith("schedule-"):
        return USUAL
    return UNLIKELY  # an activation swapped, anything else


def weigh(
    results: Sequence[ClaimResult], search: ConventionSearch, author: AuthorModel
) -> dict[str, Evidence]:
    """Every cause found for some claim of ``results``, with its evidence."""
    text = profile(search.spec, [r.claim for r in results])
    explains: dict[str, int] = {}
    for r in results:
        for cause in {f.cause for f in r.findings if f.verdict == CONFIRMED}:
            explains[cause] = explains.get(cause, 0) + 1
    causes = {f.cause for r in results for f in r.findings}
    out = {}
    for cause in sorted(causes):
        contradicts = 0
        if explains.get(cause) and search.is_variant(cause):
            for r in results:
                if r.verdict != CONFIRMED:
                    continue
                value = search.variant_value(cause, r.claim)
                if value is not None and search.judge(cause, value, r.claim) != CONFIRMED:
                    contradicts += 1
        out[cause] = Evidence(
            cause, explains.get(cause, 0), contradicts, prior(cause, text, author)
        )
    return out


def rank(
    results: Sequence[ClaimResult],
    search: ConventionSearch,
    author: AuthorModel,
    evidence: dict[str, Evidence] | None = None,
) -> list[ClaimResult]:
    """``results`` with each claim's findings ordered by their cause's evidence.

    ``evidence`` is :func:`weigh`'s (computed here when not given).
    """
    evidence = evidence if evidence is not None else weigh(results, search, author)
    out = []
    for r in results:
        if not r.findings:
            out.append(r)
            continue
        order = sorted(
            range(len(r.findings)),
            key=lambda i: (
                -evidence[r.findings[i].cause].score,
                r.findings[i].verdict != CONFIRMED,
                i,
            ),
        )
        findings = tuple(r.findings[i] for i in order)
        top = evidence[findings[0].cause]
        out.append(replace(r, findings=findings, support=top.explains))
    return out


__all__ = [
    "LESS",
    "LIKELY",
    "UNLIKELY",
    "USUAL",
    "Evidence",
    "Profile",
    "prior",
    "profile",
    "rank",
    "weigh",
]
