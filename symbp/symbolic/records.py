"""The records of an evaluated worked example: examples, steps, the whole run.

A *step* is one update (see :mod:`symbp.ops.batches` for the schedule): ``Step``
``k`` holds the parameters after ``k`` updates and everything they give for the
rows of the batch that update ``k + 1`` uses. Every index is 0-based.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, overload

import sympy as sp

from ..ops.batches import BatchPlan
from ..spec import Spec
from .generic import GenericModel

Number: TypeAlias = sp.Expr
Vector: TypeAlias = tuple[Number, ...]
Matrix: TypeAlias = tuple[Vector, ...]


@dataclass(frozen=True)
class ExampleValues:
    """Forward and backward values of one example (row) at one step (0-based lists).

    ``z[l-1]`` and ``delta[l-1]`` belong to layer ``l``; ``a[0]`` is the input and
    ``a[L]`` the output; ``grad_W``/``grad_b`` are this example's ``∂L/∂θ`` and
    ``grad_x`` its ``∂L/∂x`` (one value per input).
    """

    z: tuple[Vector, ...]
    a: tuple[Vector, ...]
    delta: tuple[Vector, ...]
    loss: Number
    grad_W: tuple[Matrix, ...]
    grad_b: tuple[Vector, ...]
    grad_x: Vector = ()


class Rows(Sequence[ExampleValues]):
    """The values of every row of the data at one step's parameters, computed on demand.

    ``rows[i]`` is example ``i`` of the spec (not the i-th row of the batch); the
    batch's rows are filled in when the step is evaluated, any other row the first
    time it is asked for.
    """

    def __init__(self, n: int, known: dict[int, ExampleValues], compute: Callable[[int], Any]):
        self._n = n
        self._known = dict(known)
        self._compute = compute

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> ExampleValues: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[ExampleValues, ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._n)))
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        if index not in self._known:
            self._known[index] = self._compute(index)
        return self._known[index]

    def __iter__(self) -> Iterator[ExampleValues]:
        return (self[i] for i in range(self._n))

    def __repr__(self) -> str:
        return f"Rows({self._n} examples, {len(self._known)} evaluated)"


@dataclass(frozen=True)
class Step:
    """Parameters after ``index`` updates, and everything they give.

    ``rows`` are the examples (0-based) of the batch update ``index + 1`` uses, in
    use order; ``loss``, ``grad_W``, ``grad_b`` and ``grad_x`` are of ``E``, the mean
    over those rows (with full-batch training: over all examples); ``examples[i]``
    holds example ``i``'s own values at these parameters (any ``i``).
    ``learning_rate`` is the rate update ``index + 1`` uses; ``update_W``/``update_b``
    the change ``Δθ`` it applies (``θ_{index+1} − θ_index``). ``epoch`` is the
    0-based epoch of update ``index + 1``; ``epoch_loss`` the mean of the step
    losses of the latest epoch before this step (the whole of epoch ``e`` when
    ``index`` is ``e`` epochs of steps; the steps so far of the running epoch in
    the middle of one; ``None`` at step 0).
    """

    index: int
    W: tuple[Matrix, ...]
    b: tuple[Vector, ...]
    examples: Sequence[ExampleValues]
    loss: Number
    grad_W: tuple[Matrix, ...]
    grad_b: tuple[Vector, ...]
    learning_rate: Number
    grad_x: Vector = ()
    update_W: tuple[Matrix, ...] = ()
    update_b: tuple[Vector, ...] = ()
    rows: tuple[int, ...] = ()
    epoch: int = 0
    epoch_loss: Number | None = field(default=None)

    @property
    def z(self) -> tuple[Vector, ...]:
        """``z`` of the first example."""
        return self.examples[0].z

    @property
    def a(self) -> tuple[Vector, ...]:
        """``a`` of the first example (input first)."""
        return self.examples[0].a

    @property
    def output(self) -> Vector:
        """The network output ŷ of the first example."""
        return self.examples[0].a[-1]

    @property
    def batch(self) -> tuple[ExampleValues, ...]:
        """The values of the rows of this step's batch, in use order."""
        return tuple(self.examples[r] for r in self.rows)


@dataclass(frozen=True)
class Evaluation:
    """A worked example: ``steps[k]`` holds the parameters after ``k`` updates.

    ``plan`` is the schedule (rows per step, steps per epoch); ``arithmetic`` is
    ``exact``, ``float64`` or ``float32``.
    """

    spec: Spec
    model: GenericModel
    steps: tuple[Step, ...]
    plan: BatchPlan | None = None
    arithmetic: str = "exact"

    @property
    def per_epoch(self) -> int:
        """Steps (updates) per epoch."""
        return self.plan.per_epoch if self.plan is not None else 1

    def at_epoch(self, epoch: int) -> Step:
        """The step after ``epoch`` whole epochs (``epoch * per_epoch`` updates)."""
        return self.steps[epoch * self.per_epoch]

    @property
    def epoch_losses(self) -> tuple[Number, ...]:
        """The loss of every whole epoch evaluated (``epoch_losses[e - 1]`` is epoch e's)."""
        p = self.per_epoch
        return tuple(
            self.steps[e * p].epoch_loss  # type: ignore[misc]
            for e in range(1, (len(self.steps) - 1) // p + 1)
        )

    def __repr__(self) -> str:
        """One line: the spec, the updates, the arithmetic and the loss at both ends."""
        first, last = self.steps[0], self.steps[-1]
        layers = "-".join(str(n) for n in self.spec.layers)
        return (
            f"Evaluation({self.spec.name!r}, layers={layers}, updates={len(self.steps) - 1}, "
            f"arithmetic={self.arithmetic}, loss {float(first.loss):.6g} at step 0"
            + (f" -> {float(last.loss):.6g} at step {last.index})" if last is not first else ")")
        )

    def _repr_html_(self) -> str:
        """The trajectory as an HTML table in Jupyter (:func:`symbp.render.jupyter`)."""
        from ..render.jupyter import evaluation_html  # symbolic imports no rendering

        return evaluation_html(self)

    def to_json(self) -> dict[str, Any]:
        """The ``symbp eval --json`` shape: 0-based nested lists of floats."""
        out: dict[str, Any] = {"steps": [step_json(s) for s in self.steps]}
        if self.plan is not None and not self.plan.is_full_batch:
            out["schedule"] = {
                "batch": self.plan.batch,
                "steps_per_epoch": self.per_epoch,
                "shuffle": self.plan.shuffle,
                "seed": self.plan.seed,
                "drop_last": self.plan.drop_last,
            }
        out["arithmetic"] = self.arithmetic
        return out


def _f(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_f(v) for v in value]
    return float(value)


def step_json(step: Step) -> dict[str, Any]:
    """One step as ``symbp eval --json`` writes it."""
    out: dict[str, Any] = {
        "step": step.index,
        "epoch": step.epoch,
        "rows": list(step.rows),
        "W": _f(step.W),
        "b": _f(step.b),
        "z": _f(step.z),
        "a": _f(step.a),
        "delta": _f(step.examples[0].delta),
        "loss": float(step.loss),
        "grad_W": _f(step.grad_W),
        "grad_b": _f(step.grad_b),
        "grad_x": _f(step.grad_x),
        "update_W": _f(step.update_W),
        "update_b": _f(step.update_b),
        "learning_rate": float(step.learning_rate),
        "epoch_loss": None if step.epoch_loss is None else float(step.epoch_loss),
    }
    if len(step.examples) > 1:
        out["examples"] = [
            {"z": _f(e.z), "a": _f(e.a), "loss": float(e.loss), "grad_x": _f(e.grad_x)}
            for e in step.examples
        ]
    return out
