"""The variant specs the convention search evaluates (:mod:`.conventions`).

Each :class:`Variant` is the spec with one convention changed, built from
``spec.data`` and evaluated exactly over the claimed steps: the starting
parameters (unrounded from ``init``, or rounded to 2-4 decimals), the loss
scaling or logarithm, the learning rate, biases updated or fixed, gradients
summed over the examples, sequential layer updates, sigmoid/tanh swapped.
``needs_update`` marks variants that change nothing before the first update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import sympy as sp

from ..errors import SymbpError
from ..ops.batches import plan_of
from ..spec import Spec
from ..symbolic.evaluate import Step, evaluate, initial_parameters
from ..symbolic.generic import GenericModel
from . import sequential
from .claims import MAX_STEP

_SQUARED = {
    "half_sse": "½·SSE (half the sum of squared errors)",
    "sse": "SSE (the sum of squared errors, no ½)",
    "mse": "MSE (the mean of squared errors over the outputs)",
}
_SWAP = {"sigmoid": "tanh", "tanh": "sigmoid"}


@dataclass(frozen=True)
class Variant:
    """One convention as a spec variant: ``build()`` evaluates it (steps 0..horizon).

    ``at(step, epoch)`` maps a claim's step (and epoch, where it gave one) to the
    variant's step; ``None`` (the default) means the same step. A schedule variant
    has other steps per epoch, so only epoch claims (and step 0) carry over.
    """

    key: str
    label: str
    needs_update: bool
    build: Callable[[], tuple[Step, ...]]
    at: Callable[[int, int | None], int | None] | None = None


class Search(Protocol):
    """What the variant builders use of :class:`~.conventions.ConventionSearch`."""

    spec: Spec
    model: GenericModel
    horizon: int
    epochs: int

    def variant_spec(self, **changes: Any) -> Spec: ...

    def run(self, spec: Spec, *, same_formulas: bool = True) -> tuple[Step, ...]: ...


def _build(
    search: Search, *, same_formulas: bool = True, **changes: Any
) -> Callable[[], tuple[Step, ...]]:
    """A variant's ``build``: runs ``search.variant_spec(**changes)`` when called.

    The changes are bound now (a loop's current values), the evaluation is deferred.
    """
    return lambda: search.run(search.variant_spec(**changes), same_formulas=same_formulas)


def variants(search: Search) -> Iterator[Variant]:
    spec = search.spec
    yield from _param_variants(search)
    yield from _loss_variants(search)
    lr = spec.optimizer.learning_rate
    if lr != 1:
        opt = {**dict(spec.data.get("optimizer") or {}), "learning_rate": 1}
        yield Variant(
            "lr1",
            f"the learning rate not applied (η = 1 instead of {_num(lr)})",
            True,
            lambda: search.run(search.variant_spec(optimizer=opt)),
        )
    yield from _frozen_variants(search)
    m = len(spec.examples)
    if m > 1:
        opt_m = {**dict(spec.data.get("optimizer") or {}), "learning_rate": Fraction(str(lr)) * m}
        yield Variant(
            "summed",
            f"gradients summed over the {m} examples instead of averaged",
            True,
            lambda: search.run(search.variant_spec(optimizer=opt_m)),
        )
    if sequential.applies(spec):
        yield Variant(
            "sequential",
            "hidden-layer gradients back-propagated through the already-updated weights above",
            False,  # changes the hidden gradients already at step 0
            lambda: sequential.sequential_steps(spec, search.model, search.horizon),
        )
    yield from _schedule_variants(search)
    yield from _arithmetic_variants(search)
    yield from _activation_variants(search)


#: The float formats a text's training loop may have computed in (NumPy, PyTorch, Keras).
ARITHMETICS = {
    "float64": "float64 arithmetic (IEEE double precision, the kernels' operation order)",
    "float32": "float32 arithmetic (IEEE single precision, as Keras and PyTorch default to)",
}


def _arithmetic_variants(search: Search) -> Iterator[Variant]:
    for name, text in ARITHMETICS.items():
        yield Variant(
            f"arith-{name}",
            f"computed in {text} instead of exactly",
            False,
            lambda name=name: (
                evaluate(  # type: ignore[misc]
                    search.spec, search.horizon, model=search.model, arithmetic=name
                ).steps
            ),
        )


def _schedule_variants(search: Search) -> Iterator[Variant]:
    """Online, minibatch and full-batch updates: a text's loop may update per example."""
    spec = search.spec
    m = len(spec.examples)
    if m < 2:
        return
    base = plan_of(spec)
    training = {k: v for k, v in dict(spec.data.get("training") or {}).items()}
    current = (
        "full-batch updates"
        if base.batch >= m
        else ("online updates (one per example)" if base.batch == 1 else f"batches of {base.batch}")
    )
    options = []
    if base.batch < m:
        full = {k: v for k, v in training.items() if k not in ("batch_size", "drop_last")}
        options.append(("schedule-full", "full-batch updates (one per epoch, all examples)", full))
    if base.batch != 1:
        online = {**training, "batch_size": 1, "shuffle": False}
        options.append(
            ("schedule-online", "online updates (one per example, rows in order)", online)
        )
    for key, text, changed in options:
        variant = search.variant_spec(training=changed or None)
        per_epoch = plan_of(variant).per_epoch

        def at(step: int, epoch: int | None, per_epoch: int = per_epoch) -> int | None:
            if epoch is not None:
                return epoch * per_epoch
            return 0 if step == 0 else None

        yield Variant(
            key,
            f"{text} instead of {current}",
            True,
            lambda variant=variant, per_epoch=per_epoch: (
                evaluate(  # type: ignore[misc]
                    variant, min(MAX_STEP, search.epochs * per_epoch), model=search.model
                ).steps
            ),
            at,
        )


def _num(value: Any) -> str:
    r = sp.Rational(value)
    return str(r) if r.q == 1 else str(float(r))


def _param_variants(search: Search) -> Iterator[Variant]:
    spec = search.spec
    if spec.W is not None and spec.init is not None:
        init = spec.init
        desc = f"{init.name}, seed {init.seed}" + (", legacy" if init.legacy else "")
        yield Variant(
            "params-unrounded",
            f"the unrounded parameters from init ({desc}) instead of the printed params",
            False,
            lambda: search.run(search.variant_spec(params=None)),
        )
    try:
        W, b = initial_parameters(spec)
    except SymbpError:
        return
    for d in (2, 3, 4):
        rW = [[[_round(v, d) for v in row] for row in m] for m in W]
        rb = [[_round(v, d) for v in vec] for vec in b]
        if _exactly(W, b, rW, rb):
            continue
        yield Variant(
            f"params-round{d}",
            f"the parameters rounded to {d} decimals (as a figure prints them)",
            False,
            _build(search, params={"W": rW, "b": rb}),
        )


def _flat(item: Any) -> list[Any]:
    if isinstance(item, (tuple, list)):
        return [v for part in item for v in _flat(part)]
    return [item]


def _exactly(W: Any, b: Any, rW: Any, rb: Any) -> bool:
    values = _flat(W) + _flat(b)
    rounded = _flat(rW) + _flat(rb)
    return all(
        Fraction(int(sp.Rational(v).p), int(sp.Rational(v).q)) == r
        for v, r in zip(values, rounded, strict=True)
    )


def _round(value: Any, decimals: int) -> Fraction:
    r = sp.Rational(value)
    return Fraction(round(Fraction(int(r.p), int(r.q)) * 10**decimals), 10**decimals)


def _loss_variants(search: Search) -> Iterator[Variant]:
    loss = search.spec.loss
    if loss.name in _SQUARED:
        for name, text in _SQUARED.items():
            if name != loss.name:
                yield Variant(
                    f"loss-{name}",
                    f"loss {text} instead of {loss.name}",
                    False,
                    _build(search, same_formulas=False, loss=name),
                )
    if loss.name in ("bce", "cross_entropy"):
        base = loss.params.get("log_base", "e")
        for other in ("e", 2, 10):
            if other != base:
                yield Variant(
                    f"loss-log{other}",
                    f"the logarithm to base {_base(other)} instead of {_base(base)}",
                    False,
                    _build(
                        search, same_formulas=False, loss={"name": loss.name, "log_base": other}
                    ),
                )


def _base(base: object) -> str:
    return "e (ln)" if base in ("e", None) else str(base)


def _frozen_variants(search: Search) -> Iterator[Variant]:
    spec = search.spec
    depth = spec.depth
    raw = [str(f) for f in (spec.data.get("frozen") or [])]
    b_frozen = {l for l in range(depth) if ("b", l) in spec.frozen}
    if len(b_frozen) == depth:
        kept = [f for f in raw if not f.replace(" ", "").startswith("b")]
        yield Variant(
            "bias-updated",
            "the biases updated too (the spec keeps them fixed)",
            True,
            lambda: search.run(search.variant_spec(frozen=kept or None)),
        )
    elif not b_frozen:
        yield Variant(
            "bias-fixed",
            "the biases kept fixed (not updated)",
            True,
            lambda: search.run(search.variant_spec(frozen=[*raw, "b"])),
        )


def _activation_variants(search: Search) -> Iterator[Variant]:
    spec = search.spec
    data = spec.data.get("activations", "sigmoid")
    items = list(data) if isinstance(data, list) else [data] * spec.depth
    swappable = [l for l, a in enumerate(spec.activations) if a.name in _SWAP]
    if not swappable:
        return
    groups = [(swappable, "in every layer")] if len(swappable) > 1 else []
    groups += [([l], f"in layer {l + 1}") for l in swappable]
    for layers, where in groups:
        new = list(items)
        names = set()
        for l in layers:
            names.add(spec.activations[l].name)
            new[l] = _SWAP[spec.activations[l].name]
        old = "/".join(sorted(names))
        label = f"{'/'.join(sorted(_SWAP[n] for n in names))} instead of {old} {where}"
        yield Variant(
            f"act-{'-'.join(map(str, layers))}",
            label,
            False,
            _build(search, same_formulas=False, activations=new),
        )
