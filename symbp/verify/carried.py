"""Rounding carried on: a claimed quantity recomputed from the text's own printed values.

A hand calculation rounds what it prints and goes on from the rounded numbers:
``z[2]`` from the printed ``a[1]``, a cost from the printed outputs of several
examples, an output error ``O(1 − O)(T − O)`` from the printed ``O``, an updated
weight from the printed gradient. This module is that one mechanism, for every
quantity and every layer the model derives:

- the *printed values* it may use are the claims that the exact values confirm
  (or that only truncate to them): the text's own numbers, right at their
  precision, and then those that carried rounding itself explains (:meth:`Carried.admit`,
  up to :data:`ROUNDS` rounds); a printed value that is a mismatch is never carried;
- for a claimed quantity at step ``s`` the *upstream* printed values are those of
  the same step that the computation reaches it through (parameters, then
  ``z`` and ``a`` layer by layer, the example's loss, the mean loss, ``δ`` from the
  output down, the example's gradients, their mean), and the parameters and
  gradients of step ``s − 1`` (an update, plain SGD only);
- the exact evaluator (the model's own index-form formulas, :mod:`.instantiate`;
  δ in its textbook form, from the activations, as a hand calculation reads them)
  runs again with printed values substituted for the exact ones, in every
  combination of the upstream groups (a group: one kind of one layer at one step
  and example) up to :data:`MAX_GROUPS_ALL` groups, else all of them, each alone
  and all but one;
- the first combination that reproduces the printed number (all of them first: a
  hand calculation carries on whatever it printed, then the smallest) is kept,
  less every printed value whose substitution does not change the result, and
  the explanation names those (``from the printed a[1][0] = 0.474 (claim #3)``).

Bounded: networks of at most :data:`MAX_PARAMS` parameters and batches of at most
:data:`MAX_ROWS` rows (beyond, no carried rounding is searched).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Any

import sympy as sp

from ..budget import check as check_budget
from ..spec import Spec
from ..symbolic import notation as nt
from ..symbolic.evaluate import Step
from ..symbolic.generic import GenericModel
from ..symbolic.instantiate import PRECISION, Env, numeric
from . import sequential
from .claims import Claim
from .compare import CONFIRMED, CONSISTENT, MISMATCH, TRUNCATED, exact, judge
from .quantities import Quantity

#: The cause every carried finding shares (:mod:`.evidence`).
CAUSE = "carried"
LABEL = "rounding carried on"
#: Networks above this many parameters are not searched for carried rounding (hand
#: calculations are small; each combination re-runs an exact pass per example).
MAX_PARAMS = 100
#: Steps whose batch has more rows than this are not searched.
MAX_ROWS = 8
#: Up to this many upstream groups every combination is tried.
MAX_GROUPS_ALL = 4
#: Rounds of admitting carried claims as printed values (a chain of that many links).
ROUNDS = 3
#: Kinds a printed value can be carried from or to.
KINDS = ("W", "b", "z", "a", "loss", "delta", "grad_W", "grad_b", "update_W", "update_b")
_EXAMPLE_KINDS = ("z", "a", "delta")
#: What an update reads at the step before: the parameters and the mean gradients.
_UPDATED = ("W", "b", "grad_W", "grad_b")


@dataclass(frozen=True, order=True)
class Key:
    """One value of the computation: kind, 0-based indices, step and example.

    ``example`` is the row for per-example values (``a``, ``z``, ``delta``, and an
    example's loss or gradients), ``None`` for the batch mean and the parameters.
    """

    kind: str
    indices: tuple[int, ...]
    step: int
    example: int | None


class Carried:
    """Recomputes claims from the text's printed values (see the module docstring)."""

    def __init__(
        self,
        spec: Spec,
        model: GenericModel,
        steps: tuple[Step, ...],
        claims: tuple[Claim, ...],
        verdicts: Mapping[int, str],
    ) -> None:
        self.spec = spec
        self.model = model
        self.steps = steps
        self.depth = spec.depth
        self.sgd = sequential.applies_sgd(spec)
        self.enabled = spec.n_params <= MAX_PARAMS
        self.printed: dict[Key, Claim] = {}
        for claim in claims:
            key = self.key(claim)
            right = verdicts.get(claim.index) in (CONFIRMED, TRUNCATED, CONSISTENT)
            if key is not None and right and key not in self.printed:
                self.printed[key] = claim
        self._passes: dict[tuple[int, int, frozenset[Key]], dict[Key, sp.Expr]] = {}

    def admit(self, claims: list[Claim]) -> bool:
        """Add ``claims`` (explained by carried rounding) to the printed values carried on.

        A hand calculation carries on its carried numbers too: ``a[2]`` from the
        printed ``a[1]``, then ``z[3]`` from the printed ``a[2]``. Returns whether any
        was new.
        """
        new = False
        for claim in claims:
            key = self.key(claim)
            if key is not None and key not in self.printed:
                self.printed[key] = claim
                new = True
        return new

    # -- keys ------------------------------------------------------------------

    def key(self, claim: Claim) -> Key | None:
        """The claim's value as a :class:`Key` (``None`` for kinds not carried)."""
        q, s = claim.quantity, claim.step
        if q.kind not in KINDS or s >= len(self.steps):
            return None
        example = claim.example
        if q.kind in _EXAMPLE_KINDS:
            example = example or 0
        elif q.kind in ("loss", "grad_W", "grad_b"):
            rows = self.steps[s].rows or tuple(range(len(self.spec.examples)))
            if example is None and len(rows) == 1:
                example = rows[0]  # the mean over one row is that row's own value
        else:
            example = None
        return Key(q.kind, q.indices, s, example)

    def _order(self, key: Key) -> int:
        """Where ``key`` is computed within its step (smaller: earlier)."""
        L = self.depth
        kind, idx = key.kind, key.indices
        if kind in ("W", "b"):
            return 0
        if kind == "z":
            return 1 + 2 * idx[0]
        if kind == "a":
            return 2 * idx[0]
        if kind == "loss":
            return 2 * L + (1 if key.example is not None else 2)
        if kind == "delta":
            return 2 * L + 3 + (L - 1 - idx[0])
        if kind in ("grad_W", "grad_b"):
            return 3 * L + (3 if key.example is not None else 4)
        return 3 * L + 5  # the updates

    def upstream(self, target: Key) -> list[Key]:
        """The printed values ``target`` may have been computed from."""
        out = []
        for key in self.printed:
            if key == target:
                continue
            if key.step == target.step:
                given = key.kind == "a" and key.indices[0] == 0  # the input, never carried
                if given or self._order(key) >= self._order(target):
                    continue
                if target.example is not None and key.example not in (None, target.example):
                    continue
                mean = key.kind in ("loss", "grad_W", "grad_b") and key.example is None
                if mean and target.example is not None:
                    continue  # a mean is not upstream of one example's values
                out.append(key)
            elif key.step == target.step - 1 and self.sgd and key.kind in _UPDATED:
                if key.example is not None:
                    continue
                out.append(key)  # a parameter or a mean gradient before the update
        return sorted(out)

    # -- the search --------------------------------------------------------------

    def candidates(self, claim: Claim) -> Iterator[tuple[str, Any]]:
        """At most one ``(label, value)``: the carried value that reproduces the claim."""
        target = self.key(claim)
        if target is None or not self.enabled:
            return
        rows = self.steps[target.step].rows
        if target.example is None and len(rows) > MAX_ROWS:
            return
        ups = self.upstream(target)
        if not ups:
            return
        groups: dict[tuple[Any, ...], list[Key]] = {}
        for key in ups:
            layer = key.indices[0] if key.indices else -1
            groups.setdefault((key.step, key.kind, layer, key.example), []).append(key)
        parts = list(groups.values())
        subsets: list[tuple[int, ...]] = [tuple(range(len(parts)))]
        if len(parts) <= MAX_GROUPS_ALL:
            for size in range(1, len(parts)):
                subsets += list(combinations(range(len(parts)), size))
        else:
            subsets += [(i,) for i in range(len(parts))]
            subsets += [tuple(j for j in range(len(parts)) if j != i) for i in range(len(parts))]
        found: tuple[frozenset[Key], Any, str] | None = None
        for subset in subsets:
            used = frozenset(k for i in subset for k in parts[i])
            value = self._safe_value(target, used)
            if value is None:
                continue
            verdict = judge(value, claim.printed, claim.tolerance)
            if verdict == CONFIRMED:
                found = (used, value, verdict)
                break
            if verdict != MISMATCH and found is None:
                found = (used, value, verdict)
        if found is None:
            return
        used, value, _ = found
        base = exact(value)
        for key in sorted(used):
            fewer = used - {key}
            other = self._safe_value(target, fewer)
            if other is not None and exact(other) == base:
                used = fewer
        if not used:
            return
        yield self.label(target, used), value

    def label(self, target: Key, used: frozenset[Key]) -> str:
        """``rounding carried on: from the printed a[1][0] = 0.474 (claim #3), …``."""
        several = len(self.spec.examples) > 1
        names = []
        for key in sorted(used, key=lambda k: (k.step, self._order(k), k)):
            claim = self.printed[key]
            name = Quantity(key.kind, key.indices).name
            if several and key.example is not None:
                name += f" of example {key.example}"
            if key.step != target.step:
                name += f" at step {key.step}"
            names.append(f"{name} = {claim.printed.text} (claim #{claim.index})")
        return f"{LABEL}: from the printed {', '.join(names)}"

    # -- re-evaluation -------------------------------------------------------------

    def _safe_value(self, target: Key, used: frozenset[Key]) -> Any:
        try:
            return self.value(target, used)
        except (ArithmeticError, ValueError, TypeError, KeyError, IndexError):
            return None

    def _printed(self, key: Key) -> sp.Expr:
        value: Fraction = self.printed[key].printed.value
        return sp.Rational(value.numerator, value.denominator)

    def value(self, target: Key, used: frozenset[Key]) -> Any:
        """``target`` recomputed with the printed values of ``used`` substituted."""
        s, kind, idx = target.step, target.kind, target.indices
        if kind in ("W", "b"):
            return self._parameter(kind, idx, s, used)
        if kind in ("update_W", "update_b"):
            if not self.sgd:
                return None
            grad = self._mean("grad_" + kind[len("update_") :], idx, s, used)
            return numeric(-self.steps[s].learning_rate * grad)
        if target.example is None:
            return self._mean(kind, idx, s, used)
        return self._pass(s, target.example, used)[target]

    def _mean(self, kind: str, idx: tuple[int, ...], s: int, used: frozenset[Key]) -> sp.Expr:
        mean = Key(kind, idx, s, None)
        if mean in used:
            return self._printed(mean)
        rows = self.steps[s].rows or tuple(range(len(self.spec.examples)))
        if len(rows) == 1:
            return self._pass(s, rows[0], used)[Key(kind, idx, s, rows[0])]
        values = [self._pass(s, r, used)[Key(kind, idx, s, r)] for r in rows]
        return numeric(sp.Add(*values) / len(values))

    def _parameter(self, kind: str, idx: tuple[int, ...], s: int, used: frozenset[Key]) -> Any:
        key = Key(kind, idx, s, None)
        if key in used:
            return self._printed(key)
        exact_value = Quantity(kind, idx).value(self.steps[s])
        if s == 0 or not self.sgd or (kind, idx[0]) in self.spec.frozen:
            return exact_value
        before, grad = Key(kind, idx, s - 1, None), Key("grad_" + kind, idx, s - 1, None)
        if before not in used and grad not in used:
            return exact_value
        prev = self.steps[s - 1]
        old = self._printed(before) if before in used else Quantity(kind, idx).value(prev)
        g = self._printed(grad) if grad in used else Quantity("grad_" + kind, idx).value(prev)
        return numeric(old - prev.learning_rate * g)

    def _params(self, s: int, used: frozenset[Key]) -> tuple[Any, Any]:
        step = self.steps[s]
        touched = {(k.kind, k.indices[0]) for k in used if k.kind in ("W", "b", "grad_W", "grad_b")}
        W = tuple(
            tuple(
                tuple(self._parameter("W", (l, j, k), s, used) for k in range(len(row)))
                for j, row in enumerate(m)
            )
            if {("W", l), ("grad_W", l)} & touched
            else m
            for l, m in enumerate(step.W)
        )
        b = tuple(
            tuple(self._parameter("b", (l, j), s, used) for j in range(len(v)))
            if {("b", l), ("grad_b", l)} & touched
            else v
            for l, v in enumerate(step.b)
        )
        return W, b

    def _pass(self, s: int, e: int, used: frozenset[Key]) -> dict[Key, sp.Expr]:
        """Every value of example ``e`` at step ``s``, printed values of ``used`` substituted."""
        cache = (s, e, used)
        if cache in self._passes:
            return self._passes[cache]
        spec, model, L = self.spec, self.model, self.depth
        W, b = self._params(s, used)
        ex = spec.examples[e]
        out: dict[Key, sp.Expr] = {}

        def put(kind: str, idx: tuple[int, ...], value: sp.Expr) -> sp.Expr:
            key = Key(kind, idx, s, e)
            value = self._printed(key) if key in used else value
            out[key] = value
            return value

        arrays: dict[sp.IndexedBase, Any] = {nt.activation(0): ex.x, nt.TARGET: ex.t}
        scalars: dict[sp.Symbol, Any] = {
            nt.size(l): sp.Integer(n) for l, n in enumerate(spec.layers)
        }
        for l in range(1, L + 1):
            arrays[nt.weight(l)] = W[l - 1]
            arrays[nt.bias(l)] = b[l - 1]
        env = Env(arrays, scalars, PRECISION)

        def each(kind: str, layer: int, expr: sp.Expr, n: int) -> tuple[sp.Expr, ...]:
            check_budget()  # the time budget, where no signal can interrupt (threads)
            values = []
            for j in range(n):
                env.scalars[nt.j] = sp.Integer(j)
                values.append(put(kind, (layer, j), env.value(expr)))
            return tuple(values)

        for l in range(1, L + 1):
            formulas = model.layer(l)
            env.arrays[nt.preactivation(l)] = each("z", l - 1, formulas.z.rhs, spec.layers[l])
            env.arrays[nt.activation(l)] = each("a", l, formulas.a.rhs, spec.layers[l])
        put("loss", (), env.value(model.loss.rhs))
        for l in range(L, 0, -1):
            delta = _textbook_delta(model, l)
            env.arrays[nt.delta(l)] = each("delta", l - 1, delta, spec.layers[l])
        for l in range(1, L + 1):
            formulas = model.layer(l)
            for j in range(spec.layers[l]):
                env.scalars[nt.j] = sp.Integer(j)
                for k in range(spec.layers[l - 1]):
                    env.scalars[nt.k] = sp.Integer(k)
                    put("grad_W", (l - 1, j, k), env.value(formulas.grad_W.rhs))
                put("grad_b", (l - 1, j), env.value(formulas.grad_b.rhs))
        self._passes[cache] = out
        return out


def _textbook_delta(model: GenericModel, l: int) -> sp.Expr:
    """Layer ``l``'s δ as a hand calculation writes it: in the activations (``a(1 − a)``).

    The textbook form reads the printed ``a`` where the exact form recomputes ``f(z)``;
    where it rests on an assumption (one-hot targets) the general form is used.
    """
    formulas = model.layer(l)
    if not formulas.assumptions:
        return formulas.delta_textbook.rhs
    return formulas.delta_general if formulas.delta_general is not None else formulas.delta.rhs


__all__ = ["CAUSE", "Carried", "Key"]
