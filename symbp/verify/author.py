"""The author model: how one text writes its numbers, judged over all its claims.

Like statcheck, verify reads a text's numbers as a whole before it calls one of
them wrong. From every claim of a file it infers

- whether the author **rounds** or **truncates**: a confirmed number whose
  truncation would have printed differently is evidence of rounding; a number
  that truncates but does not round to the exact value is evidence of truncation;
- how many decimals the author usually prints;

and then judges each claim under that model:

- a number that only truncates to its exact value, or misses it, is *consistent*
  when the cause that explains it (ranked by evidence, :mod:`.evidence`) is
  rounding carried on from the text's own printed values (:mod:`.carried`; the
  report names them), not "truncated" or a mismatch;
- a truncated number from an author who truncates (at least
  :data:`MIN_EVIDENCE` truncations and no sign of rounding) is *consistent* with
  that habit.

Grades (:attr:`symbp.verify.report.ClaimResult.grade`): ``confirmed``,
``consistent`` (explained by the author's habit), ``mismatch explained`` (a
listed convention reproduces it), ``mismatch unexplained``; truncated numbers
the model does not explain keep the grade ``truncated``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .carried import CAUSE as CARRIED
from .compare import CONFIRMED, CONSISTENT, MISMATCH, TRUNCATED, exact

if TYPE_CHECKING:
    from .report import ClaimResult

#: Truncated numbers it takes (with no rounded one) to call an author a truncator.
MIN_EVIDENCE = 2


@dataclass(frozen=True)
class AuthorModel:
    """How the text writes numbers: evidence counts and the usual decimals."""

    rounded: int
    truncated: int
    decimals: tuple[tuple[int, int], ...]

    @property
    def habit(self) -> str:
        """``rounds``, ``truncates`` or ``unknown`` (no evidence either way)."""
        if self.truncated >= MIN_EVIDENCE and self.rounded == 0:
            return "truncates"
        if self.rounded > 0:
            return "rounds"
        return "unknown"

    @property
    def usual_decimals(self) -> int | None:
        return self.decimals[0][0] if self.decimals else None

    def describe(self) -> str:
        """One line for the report."""
        habit = {
            "rounds": f"rounds ({_numbers(self.rounded)} show it)",
            "truncates": f"truncates ({_numbers(self.truncated)}, none rounded)",
            "unknown": "",
        }[self.habit]
        if not habit:
            habit = "shows no evidence of rounding or of truncation"
        shown = ", ".join(f"{d} decimals ×{n}" for d, n in self.decimals[:3])
        return f"the author {habit}; prints {shown}" if shown else f"the author {habit}"

    def regrade(self, result: ClaimResult) -> ClaimResult:
        """``result`` judged under this model (see the module docstring).

        ``result.findings`` are ranked by evidence (:mod:`.evidence`): a truncated
        number or a mismatch whose cause is rounding carried on from the text's own
        printed values (and that rounds to the printed number) is consistent.
        """
        if result.verdict not in (TRUNCATED, MISMATCH):
            return result
        top = result.findings[0] if result.findings else None
        if top is not None and top.cause == CARRIED and top.verdict == CONFIRMED:
            habit = {
                "rounds": f"the author rounds elsewhere ({_numbers(self.rounded)})",
                "truncates": f"the author truncates elsewhere ({_numbers(self.truncated)})",
            }.get(self.habit)
            return replace(result, verdict=CONSISTENT, habit=habit)
        if result.verdict == TRUNCATED and self.habit == "truncates":
            habit = "truncated, as the author does elsewhere"
            return replace(result, verdict=CONSISTENT, habit=habit)
        return result


def _numbers(n: int) -> str:
    return f"{n} printed number{'s' if n != 1 else ''}"


def infer(results: tuple[ClaimResult, ...] | list[ClaimResult]) -> AuthorModel:
    """The author model of one file's claims (explicit tolerances are not evidence)."""
    rounded = truncated = 0
    decimals: Counter[int] = Counter()
    for r in results:
        printed = r.claim.printed
        if r.claim.tolerance is not None:
            continue
        decimals[printed.decimals] += 1
        if r.verdict == TRUNCATED:
            truncated += 1
        elif r.verdict == CONFIRMED and printed.decimals > 0:
            v, unit = exact(r.computed), printed.unit
            cut = abs(v) - abs(v) % unit
            if abs(abs(v) - cut) >= unit / 2:  # truncating would have printed another digit
                rounded += 1
    ordered = tuple(sorted(decimals.items(), key=lambda kv: (-kv[1], kv[0])))
    return AuthorModel(rounded, truncated, ordered)


__all__ = ["AuthorModel", "infer"]
