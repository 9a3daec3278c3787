"""Textbook verification: check the numbers a text prints and explain the mismatches.

A verification file is an ordinary spec with concrete numbers plus ``claims``,
what the text printed::

    claims:
      - {of: "a[2][0]", step: 0, printed: 0.521}     # ŷ after the forward pass
      - {of: "w²₁₁", step: 1, printed: "0.50"}       # textbook notation; string keeps "0"
      - {of: loss, step: 0, printed: 0.941, note: "Equation 3"}

Quantity names are those of ``symbp eval --json`` (0-based, ``a[0]`` is the
input, ``z[i]``/``delta[i]`` belong to layer ``i+1``), or textbook notation
(:mod:`.quantities`); ``step`` counts the updates applied. A claim is

- ``confirmed`` when the exact value rounds to the printed number at the printed
  precision (or lies within the claim's ``tolerance``),
- ``truncated`` when it only truncates to it (accepted, reported),
- ``consistent`` when it only truncates to it, or misses it, but the author model
  (:mod:`.author`, inferred from all claims of the file) explains it: rounding
  carried on from the text's own printed values (:mod:`.carried`), or a
  truncating author,
- a ``mismatch`` otherwise (graded ``mismatch explained`` where a convention
  reproduces it, else ``mismatch unexplained``).

For every claim not confirmed, :mod:`.conventions` searches the usual conventions
(loss scaling, log base, step off by one, learning rate, biases updated or not,
sequential updates, transposed indices, sign, the step η·g printed as a gradient,
online/minibatch/full-batch updates, an epoch loss summed instead of averaged,
float32/float64 arithmetic, sigmoid/tanh, rounded or unrounded starting
parameters, a sum combined with another loss scaling, and rounding carried on
from the text's own printed values) and reports which reproduce the printed number,
ranked by the evidence of the whole file (:mod:`.evidence`): the first is the cause
that explains the text, the others are alternatives.

``verify(spec)`` returns a :class:`Report` (``passed``, ``render("text"|"md"|"html")``,
``summary()``, ``marks()``); ``symbp verify FILE`` exits 0 when every claim
passes, 1 when any is a mismatch, 2 on bad input.

Without a claims file, :func:`.scan.scan` (``symbp check TEXT --spec SPEC``) finds every
decimal number of a text and names the quantity of the trajectory each one is.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .claims import MAX_STEP, Claim, parse_claims
from .compare import CONFIRMED, CONSISTENT, MISMATCH, TRUNCATED, Printed, judge, parse_printed
from .conventions import ConventionSearch, Finding
from .core import verify
from .quantities import Quantity, parse_quantity
from .report import ClaimResult, Report

__all__ = [
    "CONFIRMED",
    "CONSISTENT",
    "MAX_STEP",
    "MISMATCH",
    "TRUNCATED",
    "Claim",
    "ClaimResult",
    "ConventionSearch",
    "Finding",
    "Printed",
    "Quantity",
    "Report",
    "judge",
    "parse_claims",
    "parse_printed",
    "parse_quantity",
    "verify",
]


class _VerifyStage(types.ModuleType):
    """The stage's package, callable as its main function: ``symbp.verify(path)``.

    ``import symbp.verify`` binds the name ``symbp.verify`` to this package, so the
    package itself is what ``symbp.verify(...)`` calls.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Report:
        return verify(*args, **kwargs)


sys.modules[__name__].__class__ = _VerifyStage
