"""Search the usual conventions for one that reproduces a printed number.

When the spec's exact value does not round to what a text printed, the text
probably used another convention. Each candidate is either a *variant spec*
(built from ``spec.data`` with one change, loaded and evaluated exactly) or a
*look-up* in the spec's own evaluation (another step, another index, the other
sign). Candidates, in the order they are reported:

- the parameters: the unrounded ones drawn by ``init`` when the spec prints
  rounded ``params`` (give both), or the parameters rounded to 2, 3 or 4 decimals;
- the loss scaling (½·SSE, SSE, MSE) and, for cross-entropy, the logarithm (ln,
  log₂, log₁₀);
- rounding carried on, as hand calculations do: the quantity recomputed from the
  text's own printed values upstream of it (:mod:`.carried`: a loss from the
  printed outputs, ``z[2]`` from the printed ``a[1]``, a δ from a printed output,
  an updated weight from a printed gradient, …);
- the step off by one (a parameter's value before or after the update);
- the learning rate not applied; biases updated or kept fixed; gradients summed
  instead of averaged over several examples; hidden gradients back-propagated
  through the already-updated weights above (:mod:`.sequential`);
- the weight's indices transposed; the gradient's sign flipped;
- sigmoid and tanh swapped (in every layer, or in one).

Variant evaluations are cached and made only when a claim needs them. A
convention whose value equals the spec's own is never reported (it explains
nothing). Several conventions can coincide (with two examples, summing ½·SSE over
them equals averaging SSE); all that reproduce the number are listed, those that
round to it before those that only truncate to it, each with its ``cause`` (what
it says about the text as a whole), by which :mod:`.evidence` ranks them over the
file. A value computed in float arithmetic is judged with its format's noise
(:func:`~.compare.float_slack`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..errors import SymbpError
from ..ops.batches import plan_of
from ..spec import Spec
from ..spec.loader import build
from ..symbolic.evaluate import Step, evaluate
from ..symbolic.generic import GenericModel
from .carried import CAUSE as CARRIED_CAUSE
from .carried import Carried
from .claims import MAX_STEP, Claim
from .compare import CONFIRMED, MISMATCH, float_slack, judge
from .quantities import GRADIENTS, Quantity
from .variants import Variant, variants


@dataclass(frozen=True)
class Finding:
    """A convention under which the printed number is reproduced.

    ``verdict`` is ``confirmed`` (the value rounds to the printed one) or
    ``truncated`` (it only truncates to it).
    """

    label: str
    value: Any
    verdict: str
    #: What the finding says about the text as a whole (:mod:`.evidence` counts and
    #: ranks by it): a variant's key, ``carried``, ``summed-examples``, ``sign``, …
    cause: str = ""


class ConventionSearch:
    """Explains claims that ``evaluation`` (the spec's own values) does not confirm."""

    def __init__(
        self,
        spec: Spec,
        model: GenericModel,
        steps: tuple[Step, ...],
        claims: tuple[Claim, ...] = (),
        verdicts: Mapping[int, str] | None = None,
    ) -> None:
        self.spec = spec
        self.claims = claims
        self.model = model
        self.steps = steps
        self.horizon = len(steps) - 1
        per_epoch = plan_of(spec).per_epoch
        #: Whole epochs that cover the claims (schedule variants run this many).
        self.epochs = max([c.epoch or 0 for c in claims] + [-(-self.horizon // per_epoch)])
        self._cache: dict[str, tuple[Step, ...] | None] = {}
        self._variants = list(variants(self))
        self.carried = Carried(spec, model, steps, claims, verdicts or {})

    def explain(self, claim: Claim) -> tuple[Finding, ...]:
        """Every candidate that reproduces ``claim.printed``; rounding matches first."""
        found = []
        base = claim.quantity.value(self.steps[claim.step], claim.example)
        for cause, label, get in self._candidates(claim):
            value = self.value_of(get)
            if value is None or value == base:
                continue
            verdict = self.judge(cause, value, claim)
            if verdict != MISMATCH:
                found.append(Finding(label, value, verdict, cause))
        return tuple(sorted(found, key=lambda f: f.verdict != CONFIRMED))

    @staticmethod
    def value_of(get: Callable[[], Any]) -> Any:
        """``get()``, or ``None`` where the convention cannot be evaluated."""
        try:
            value = get()
        except (SymbpError, ArithmeticError, ValueError, TypeError):
            return None
        return value if value is not None and getattr(value, "is_real", False) else None

    @staticmethod
    def judge(cause: str, value: Any, claim: Claim) -> str:
        """The verdict of ``value`` under ``cause`` (float causes with their noise)."""
        slack = float_slack(value, cause.removeprefix("arith-"))
        return judge(value, claim.printed, claim.tolerance, slack)

    def variant_value(self, cause: str, claim: Claim) -> Any:
        """``claim``'s quantity under the variant ``cause`` (``None``: none, or no value)."""
        for variant in self._variants:
            if _cause(variant) == cause:
                get = self._from_variant(
                    variant, claim.quantity, claim.step, claim.example, claim.epoch
                )
                return self.value_of(get)
        return None

    def is_variant(self, cause: str) -> bool:
        """Whether ``cause`` changes the whole computation (a variant spec)."""
        return any(_cause(v) == cause for v in self._variants)

    # -- evaluations ---------------------------------------------------------

    def evaluated(self, key: str, build: Callable[[], tuple[Step, ...]]) -> tuple[Step, ...] | None:
        """The steps of variant ``key`` (built once; ``None`` where it cannot be evaluated)."""
        if key not in self._cache:
            try:
                self._cache[key] = build()
            except (SymbpError, ArithmeticError, ValueError, TypeError):
                self._cache[key] = None
        return self._cache[key]

    def variant_spec(self, **changes: Any) -> Spec:
        """``spec.data`` with ``changes`` (``None`` removes a field), loaded.

        The output's values are not checked against the loss (a sigmoid -> tanh swap
        at a BCE output is a slip a text can make; it is evaluated where it has a value).
        """
        data = {k: v for k, v in self.spec.data.items() if k != "claims"}
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return build(data, check_outputs=False)

    def run(self, spec: Spec, *, same_formulas: bool = True) -> tuple[Step, ...]:
        """Evaluate ``spec`` over the claims' steps (re-deriving where formulas change)."""
        model = self.model if same_formulas else None
        return evaluate(spec, self.horizon, model=model).steps

    def _extended(self) -> tuple[Step, ...] | None:
        if self.horizon >= MAX_STEP:
            return self.steps
        return self.evaluated(
            "base+1", lambda: evaluate(self.spec, self.horizon + 1, model=self.model).steps
        )

    # -- candidates ----------------------------------------------------------

    def _candidates(self, claim: Claim) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        """Every candidate as ``(cause, label, get)``, in the order they are reported."""
        q, s, e = claim.quantity, claim.step, claim.example
        params = [v for v in self._variants if v.key.startswith("params")]
        others = [v for v in self._variants if not v.key.startswith("params")]
        for variant in params + [v for v in others if v.key.startswith("loss")]:
            yield _cause(variant), variant.label, self._from_variant(variant, q, s, e, claim.epoch)
        for label, value in self.carried.candidates(claim):
            yield CARRIED_CAUSE, label, _constant(value)
        yield from self._step_candidates(q, s, e)
        for variant in others:
            if variant.key.startswith("loss") or (variant.needs_update and s == 0):
                continue
            if variant.key.startswith("arith") and claim.printed.significant < 6:
                continue  # float rounding shows only in long printed numbers
            if not variant.key.startswith("act"):
                get = self._from_variant(variant, q, s, e, claim.epoch)
                yield _cause(variant), variant.label, get
        yield from self._lookup_candidates(claim)
        yield from self._combined_candidates(claim)
        for variant in others:
            if variant.key.startswith("act"):
                get = self._from_variant(variant, q, s, e, claim.epoch)
                yield _cause(variant), variant.label, get

    def _from_variant(
        self, variant: Variant, q: Quantity, s: int, e: int | None, epoch: int | None = None
    ) -> Callable[[], Any]:
        def get() -> Any:
            at = s if variant.at is None else variant.at(s, epoch)
            if at is None:
                return None
            steps = self.evaluated(variant.key, variant.build)
            return None if steps is None or at >= len(steps) else q.value(steps[at], e)

        return get

    def _step_candidates(
        self, q: Quantity, s: int, e: int | None
    ) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        if s >= 1:
            label = (
                f"the value before update {s} (step {s - 1})"
                if q.is_parameter
                else f"step {s - 1} instead of {s} (one update fewer)"
            )
            yield "step-before", label, lambda: q.value(self.steps[s - 1], e)
        if q.kind not in ("learning_rate",) and s < MAX_STEP:
            label = (
                f"the value after update {s + 1} (step {s + 1})"
                if q.is_parameter
                else f"step {s + 1} instead of {s} (one update more)"
            )

            def after() -> Any:
                steps = self._extended()
                return None if steps is None or len(steps) <= s + 1 else q.value(steps[s + 1], e)

            yield "step-after", label, after

    def _lookup_candidates(self, claim: Claim) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        q, s, e = claim.quantity, claim.step, claim.example
        step = self.steps[s]
        m = len(self.spec.examples)
        if q.kind in ("loss", "grad_W", "grad_b") and e is None and m > 1:
            what = "" if q.kind == "loss" else "the gradient of the loss "
            yield (
                SUMMED,
                f"{what}summed over the {m} examples instead of averaged",
                lambda: sp.Integer(m) * q.value(step),
            )
        t = q.transposed()
        if t is not None and _in_range(t, self.spec):
            yield (
                "transposed",
                f"weight indices transposed: {t.name} (row = input neuron, column = output)",
                lambda: t.value(step, e),
            )
        if q.kind in GRADIENTS:
            yield "sign", "the opposite sign (error taken as t − y)", lambda: -q.value(step, e)
        if q.kind in ("grad_W", "grad_b"):
            lr = step.learning_rate
            rate = _short(lr)
            yield (
                "eta-g",
                f"the step η·g: the gradient times the learning rate η = {rate}"
                " (printed where the gradient is named)",
                lambda: lr * q.value(step, e),
            )
            yield (
                "eta-g",
                f"the update −η·g: the gradient times minus the learning rate η = {rate}",
                lambda: -lr * q.value(step, e),
            )
        if q.kind in ("update_W", "update_b"):
            yield (
                "sign",
                "the opposite sign (the step η·g rather than the change −η·g)",
                (lambda: -q.value(step, e)),
            )
        if q.kind == "epoch_loss":
            n = self._epoch_steps(s)
            if n > 1:
                yield (
                    "summed-epoch",
                    f"summed over the epoch's {n} steps instead of averaged",
                    lambda: n * q.value(step, e),
                )

    def _epoch_steps(self, s: int) -> int:
        """Steps in the (latest) epoch that ``epoch_loss`` at step ``s`` averages."""
        per_epoch = plan_of(self.spec).per_epoch
        return s % per_epoch or per_epoch

    def _combined_candidates(self, claim: Claim) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        """A loss printed under another scaling than training used, alone or with a sum.

        Training loops often print ``Σ (y − t)²`` over an epoch while they train on
        ``½(y − t)²``: summed over its steps (or examples) and without the ½. The
        other scalings (SSE, MSE, another logarithm) are constant factors of the
        spec's loss, read off the variants' losses at step 0 (same outputs), so the
        trajectory stays the spec's.
        """
        q, s, e = claim.quantity, claim.step, claim.example
        if q.kind == "epoch_loss":
            count, what, summed = self._epoch_steps(s), "the epoch's steps", "summed-epoch"
        elif q.kind == "loss":
            count, what = (len(self.spec.examples), "the examples") if e is None else (1, "")
            summed = SUMMED
        else:
            return
        base = self.steps[claim.step]
        loss0 = Quantity("loss", ()).value(self.steps[0], e)
        for variant in self._variants:
            if not variant.key.startswith("loss-"):
                continue
            ratio = _ratio(self._from_variant(variant, Quantity("loss", ()), 0, e), loss0)
            printed_as = variant.label.split(" instead of ")[0]
            yield (
                _cause(variant),
                f"the {printed_as} printed while training used the spec's",
                _times(1, _scaled(ratio, q, base, e)),
            )
            if count > 1:
                yield (
                    f"{summed}+{_cause(variant)}",
                    f"summed over {what} ({count}) instead of averaged, and the {printed_as}"
                    " printed while training used the spec's",
                    _times(count, _scaled(ratio, q, base, e)),
                )


#: The cause of a sum over the examples where the spec averages (gradients, loss, updates).
SUMMED = "summed-examples"


def _cause(variant: Variant) -> str:
    """The cause a variant stands for (gradients summed share it with summed lookups)."""
    return SUMMED if variant.key == "summed" else variant.key


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _ratio(get: Callable[[], Any], base: Any) -> Callable[[], Any]:
    def value() -> Any:
        v = get()
        return None if v is None or base == 0 else v / base

    return value


def _scaled(ratio: Callable[[], Any], q: Quantity, step: Step, e: int | None) -> Callable[[], Any]:
    """``ratio() ×`` the spec's own value of ``q`` (``None`` where the ratio is unknown)."""

    def value() -> Any:
        r = ratio()
        return None if r is None else r * q.value(step, e)

    return value


def _times(count: int, get: Callable[[], Any]) -> Callable[[], Any]:
    """``count ×`` what ``get`` returns (``None`` stays ``None``)."""

    def value() -> Any:
        v = get()
        return None if v is None else count * v

    return value


def _short(value: Any) -> str:
    r = sp.Rational(value)
    return str(r) if r.q == 1 else f"{float(r):g}"


def _in_range(q: Quantity, spec: Spec) -> bool:
    l, j, k = q.indices
    return j < spec.layers[l + 1] and k < spec.layers[l]
