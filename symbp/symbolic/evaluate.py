"""Evaluation of a spec's worked example from the layer-generic formulas.

The formulas of :mod:`.generic` are evaluated with the spec's numbers, in one of
three arithmetics:

- ``exact`` (the default): values stay rational where the operations allow it
  (identity, ReLU, polynomial losses) and are otherwise kept with
  :data:`PRECISION` significant digits; they are rounded only for display;
- ``float64`` / ``float32``: IEEE arithmetic in that format, with the compiled
  trainer's operation order (sums accumulated in index order from zero, the
  output δ scaled by ``1/m`` before it is back-propagated, the loss summed in
  float64), for texts computed with NumPy, PyTorch or keras.

The schedule is the spec's ``training`` (:mod:`symbp.ops.batches`, the kernels'
too): a *step* is one update on one batch of rows, in the compiled trainer's row
order; without ``training`` (or ``batch_size``) every step is a full-batch step
over all examples, one epoch per step. Updates apply the spec's optimiser
program (:mod:`symbp.ops.optimizers`) to the gradient of the batch-mean loss
``E = (1/m) Σ_e L_e``; the learning-rate schedule sees the epoch. Frozen
parameters are never updated.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..errors import TooLargeError, TrainingDiverged
from ..ops.batches import plan_of
from ..spec import Spec
from ..spec.output_range import first_loss_hint
from .generic import GenericModel, derive_generic
from .instantiate import PRECISION, numeric
from .records import Evaluation, ExampleValues, Matrix, Number, Rows, Step, Vector
from .reference import example_values, finite, flatten
from .updates import Updater

__all__ = [
    "ARITHMETIC",
    "MAX_EXACT_PARAMS",
    "Evaluation",
    "ExampleValues",
    "Step",
    "evaluate",
    "initial_parameters",
]

#: Exact evaluation is for worked examples; above this, use the compiled trainer.
MAX_EXACT_PARAMS = 5000
#: The arithmetics :func:`evaluate` offers.
ARITHMETIC = ("exact", "float64", "float32")


def initial_parameters(spec: Spec) -> tuple[tuple[Matrix, ...], tuple[Vector, ...]]:
    """The spec's starting parameters: given exactly, or drawn by its initialiser."""
    if spec.W is not None and spec.b is not None:
        return spec.W, spec.b
    if spec.init is None:
        raise TooLargeError("the spec has no params and no init: give params (W, b) or init")
    from ..ops.initializers import draw_weights

    drawn = draw_weights(
        spec.init.name, spec.init.options, spec.layers, spec.init.seed, legacy=spec.init.legacy
    )
    W = tuple(tuple(tuple(sp.Float(float(v), PRECISION) for v in row) for row in m) for m in drawn)
    b = tuple(tuple(sp.Integer(0) for _ in range(n)) for n in spec.layers[1:])
    return W, b


def evaluate(
    spec: Spec,
    steps: int = 0,
    model: GenericModel | None = None,
    *,
    epochs: int | None = None,
    arithmetic: str = "exact",
    fast: bool | None = None,
) -> Evaluation:
    """Evaluate ``spec``'s worked example for ``steps`` updates (or ``epochs`` epochs).

    Returns ``steps + 1`` :class:`Step` records (``epochs * steps_per_epoch + 1``
    with ``epochs``). ``arithmetic`` is ``exact``, ``float64`` or ``float32``;
    Exact evaluation of a batch of at least :data:`~.vectorised.FAST_ROWS` rows, or of
    more than :data:`~.vectorised.FAST_STEPS` steps, takes the vectorised runner
    (60-digit numbers in arrays, :mod:`.vectorised`), smaller ones the reference (one
    SymPy number at a time, rational where it can be); ``fast=True`` or ``False``
    chooses. The float arithmetics are always vectorised. Raises
    :class:`~symbp.errors.TrainingDiverged` naming the step when a value stops being
    finite.
    """
    if not spec.examples:
        raise TooLargeError(
            "the spec has no example: add example: {x: [...], t: [...]}", field="example"
        )
    if spec.n_params > MAX_EXACT_PARAMS:
        raise TooLargeError(
            f"exact evaluation is for worked examples (at most {MAX_EXACT_PARAMS} parameters, "
            f"this net has {spec.n_params}); train it with `symbp compile` / `symbp train`"
        )
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {', '.join(ARITHMETIC)}, found {arithmetic!r}")
    plan = plan_of(spec)
    if epochs is not None:
        if epochs < 0:
            raise ValueError("epochs must be >= 0")
        steps = epochs * plan.per_epoch
    if steps < 0:
        raise ValueError("steps must be >= 0")
    model = model or derive_generic(spec)
    runner = _runner(spec, model, arithmetic, fast, plan.batch, steps)
    W, b = runner.start(*initial_parameters(spec))
    records: list[Step] = []
    losses: list[Number] = []
    for index, (epoch, rows) in enumerate(plan.steps(steps + 1)):
        try:
            known, loss, grad_W, grad_b, grad_x = runner.batch(W, b, rows)
        except OverflowError:  # mpmath: a value too large even for its exponent range
            raise TrainingDiverged(
                f"a value overflowed at step {index} (last finite loss: {_last_loss(records)})"
            ) from None
        if not all(finite(v) for v in flatten(loss, grad_W, grad_b)):
            hint = None
            if index == 0:  # before any update: maybe outputs the loss cannot take
                hint = first_loss_hint(spec.activations[-1], spec.loss, spec.layers[-1])
            raise TrainingDiverged(
                f"the loss or a gradient is not a finite real number at step {index}"
                f" (last finite loss: {_last_loss(records)})" + (f"; {hint}" if hint else "")
            )
        lr = runner.rate(epoch)
        new_W, new_b = runner.apply(index, epoch, W, b, grad_W, grad_b)
        step = Step(
            index=index,
            W=W,
            b=b,
            examples=Rows(len(spec.examples), known, runner.one(W, b)),
            loss=loss,
            grad_W=grad_W,
            grad_b=grad_b,
            learning_rate=lr,
            grad_x=grad_x,
            update_W=runner.minus(new_W, W),
            update_b=runner.minus(new_b, b),
            rows=rows,
            epoch=epoch,
            epoch_loss=_epoch_loss(losses, index, plan.per_epoch, runner),
        )
        records.append(step)
        losses.append(loss)
        W, b = new_W, new_b
    return Evaluation(spec, model, tuple(records), plan, arithmetic)


def _epoch_loss(losses: list[Number], index: int, per_epoch: int, runner: object) -> Number | None:
    """The mean step loss of the latest (or running) epoch before step ``index``."""
    if index == 0:
        return None
    done = index % per_epoch or per_epoch
    return runner.mean(losses[index - done : index])  # type: ignore[attr-defined]


def _runner(
    spec: Spec, model: GenericModel, arithmetic: str, fast: bool | None, batch: int, steps: int
):  # type: ignore[no-untyped-def]
    from .vectorised import FAST_ROWS, FAST_STEPS, VectorisedRunner

    auto_reference = batch < FAST_ROWS and steps <= FAST_STEPS
    if arithmetic == "exact" and (fast is False or (fast is None and auto_reference)):
        return ReferenceRunner(spec, model)
    runner = VectorisedRunner(spec, model, arithmetic)
    if runner.supported:
        return runner
    if arithmetic != "exact":
        raise TooLargeError(
            f"{arithmetic} arithmetic cannot evaluate this spec's activations or loss"
            " (a formula without a numeric form); use the exact arithmetic"
        )
    return ReferenceRunner(spec, model)


class ReferenceRunner:
    """Exact steps one SymPy number at a time (:mod:`.reference`)."""

    def __init__(self, spec: Spec, model: GenericModel) -> None:
        self.spec = spec
        self.model = model
        self.updater = Updater(spec)

    def start(self, W: tuple[Matrix, ...], b: tuple[Vector, ...]):  # type: ignore[no-untyped-def]
        return W, b

    def one(self, W: tuple[Matrix, ...], b: tuple[Vector, ...]):  # type: ignore[no-untyped-def]
        def compute(row: int) -> ExampleValues:
            ex = self.spec.examples[row]
            return example_values(self.spec, self.model, W, b, ex.x, ex.t)

        return compute

    def batch(self, W: tuple[Matrix, ...], b: tuple[Vector, ...], rows: tuple[int, ...]):  # type: ignore[no-untyped-def]
        compute = self.one(W, b)
        known = {r: compute(r) for r in rows}
        batch = [known[r] for r in rows]
        return (
            known,
            self.mean([e.loss for e in batch]),
            _mean_tree([e.grad_W for e in batch], self.mean),
            _mean_tree([e.grad_b for e in batch], self.mean),
            _mean_tree([e.grad_x for e in batch], self.mean),
        )

    def mean(self, values: Sequence[sp.Expr]) -> sp.Expr:
        return numeric(sp.Add(*values) / len(values))

    def rate(self, epoch: int) -> sp.Expr:
        return self.updater.rate(epoch)

    def apply(self, index, epoch, W, b, grad_W, grad_b):  # type: ignore[no-untyped-def]
        return self.updater.apply(index, W, b, grad_W, grad_b, epoch=epoch)

    def minus(self, new, old):  # type: ignore[no-untyped-def]
        if isinstance(new, tuple):
            return tuple(self.minus(n, o) for n, o in zip(new, old, strict=True))
        return numeric(new - old)


def _mean_tree(items: list, mean) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """The element-wise ``mean`` of equally shaped nested tuples."""
    if isinstance(items[0], tuple):
        return tuple(_mean_tree(list(parts), mean) for parts in zip(*items, strict=True))
    return mean(items)


def _last_loss(records: Sequence[Step]) -> str:
    return f"{float(records[-1].loss):.6g}" if records else "none"
