"""Exercises of a recurrent network: per-student BPTT problems, answered by the exact engine.

A recurrent net (:mod:`symbp.spec.recurrent`: one recurrent layer, dense layers applied to
``h_t`` at every step) is drawn and answered here, through the engine ``verify`` uses for
it (:func:`symbp.symbolic.recurrent_run.run_recurrent`):

- **Questions** (:mod:`.recurrent_questions`) name quantities as ``eval --json`` and ``verify`` do
  (:func:`symbp.verify.recurrent.parse_recurrent_quantity`), a quantity of one time step
  with ``at t=T`` (``t`` from 1): ``h[0][1] at t=2``, ``c[0][0] at t=3``,
  ``gate_f[0][1] at t=1``, ``delta_h[0][0] at t=1`` (``∂E/∂h_t``), ``loss at t=2``
  (``L_t``); of the whole sequence: ``loss`` (``E``), ``grad_W[0][0][1]``,
  ``grad_U[0][1][0]``, ``grad_b[1][0]`` (sums over the steps), an updated parameter
  ``U[0][0][1]@1`` (a parameter defaults to step 1, everything else to step 0:
  ``NAME@STEP at t=T``). The input ``a[0]``, the initial states ``h0``/``c0`` and the
  parameters at step 0 are printed on the sheet, so they are not questions. Without
  ``--ask`` (:func:`default_asks`): the hidden state ``h[0][0]`` at every step (and for a
  cell with more states, ``c[0][0]`` at every step and every gate at step 1), the loss of
  every step with a target and ``E``, ``∂E/∂h_t`` at every step, the first weight of the
  recurrent layer's ``grad_W``, ``grad_U``, ``grad_b`` and the head's ``grad_W``,
  ``grad_b`` (its last layer), and the first ``W[0]`` and ``U[0]`` weights after one update.
  A question whose answer is 0 for every draw (:func:`_always_zero`: a step the last
  step's loss never reaches under ``output: last_step``) is refused in one line.
- **Variants** (:class:`RecurrentDrawer`): each student's stream (:mod:`.draw`) gives,
  layer by layer, ``W``, ``U`` (drawn from the ``exercise.W`` range) and ``b``, then each
  example's inputs (``x_t`` step by step) and targets, as the ``exercise:`` block's ranges
  say; the initial states are the spec's (zeros unless given). A draw is kept when no sum
  ``W x_t + U h_{t-1} + b`` of any gate row, and no dense ``z``, at any step reached
  exceeds ``max_abs_z``, no answer rounds to 0 at the printed decimals and the numbers
  differ from every earlier student's; otherwise the next draw is tried.
- **Tolerance**: the least one (:attr:`~symbp.spec.exercise.ExerciseSpec.quiz_tolerance`);
  the sheet asks for every digit of the values on the way, as for conv nets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..spec import Spec
from ..spec.exercise import ExerciseSpec
from ..symbolic.recurrent_run import RecurrentStep, run_recurrent
from .draw import Stream
from .drawer import RecordDrawer
from .questions import Question
from .recurrent_questions import (
    PARAMETERS,
    TimedQuestion,
    base_kind,
    default_asks,
    parse_ask,
    parse_asks,
)
from .roster import Student
from .variants import variant_fields


def _zeros(shape: Sequence[int]) -> Any:
    return 0 if not shape else [_zeros(shape[1:]) for _ in range(shape[0])]


class RecurrentDrawer(RecordDrawer):
    """Draws and checks the variants of one recurrent spec (module docstring)."""

    SATURATED = "a sum W x_t + U h_(t-1) + b or a dense z exceeded |z| > {limit:g}"

    def __init__(
        self,
        spec: Spec,
        settings: ExerciseSpec,
        questions: Sequence[TimedQuestion],
        asks: Sequence[str],
    ) -> None:
        super().__init__(spec, settings, questions, asks)
        rec = spec.recurrence
        assert rec is not None
        self.rec = rec
        shape: tuple[int, ...] = tuple(spec.input_shape)
        self.param_shapes = []
        for layer in spec.network:
            self.param_shapes.append(layer.parameter_shapes(shape))
            shape = layer.output_shape(shape)
        self.out = shape[0]

    def is_parameter(self, q: Question) -> bool:
        return base_kind(q.quantity) in PARAMETERS

    def step_value(self, steps: Sequence[RecurrentStep], q: Question) -> Any:
        assert isinstance(q, TimedQuestion)
        return steps[q.step].quantities(q.time)[q.quantity.name]

    def claim_fields(self, q: Question) -> dict[str, Any]:
        assert isinstance(q, TimedQuestion)
        return {} if q.time is None else {"time": q.time}

    def draw(self, stream: Stream) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """One draw: ``W``, ``U``, ``b`` (``None`` where a layer has none) and the examples
        (``x`` one list per step, ``t`` one per step or one for the last)."""
        s, spec, rec = self.settings, self.spec, self.rec
        given = {"W": spec.W, "U": rec.U, "b": spec.b}
        ranges = {"W": s.W, "U": s.W, "b": s.b}
        drawn: dict[str, list[Any]] = {"W": [], "U": [], "b": []}
        for l, shapes in enumerate(self.param_shapes):
            for name in ("W", "U", "b"):
                if name not in shapes:
                    drawn[name].append(None)
                    continue
                values = given[name]
                base = values[l] if values is not None else _zeros(shapes[name])
                drawn[name].append(self._array(stream, ranges[name], base))
        T, F = rec.steps, spec.input_shape[0]
        per = self.out if rec.output == "every_step" else 0
        examples = []
        for ex in spec.examples or [None]:
            flat_x = list(ex.x) if ex else [0] * (T * F)
            flat_t = list(ex.t) if ex else [0] * (T * self.out if per else self.out)
            x = [self._array(stream, s.x, flat_x[t * F : (t + 1) * F]) for t in range(T)]
            ts = [self._array(stream, s.t, v) for v in flat_t]
            t_field = [ts[t * per : (t + 1) * per] for t in range(T)] if per else ts
            examples.append({"x": x, "t": t_field})
        return drawn["W"], drawn["U"], drawn["b"], examples

    def variant_data(self, student: Student, *drawn: Any) -> dict[str, Any]:
        """The variant spec's fields: the spec's own, the drawn numbers (``W``, ``U``,
        ``b``, the examples), its initial states."""
        W, U, b, examples = drawn
        data = variant_fields(self.spec, student, W, b, examples)
        given = self.spec.data.get("params")
        params: dict[str, Any] = {"W": W, "U": U, "b": b}
        if isinstance(given, dict):
            params.update({k: v for k, v in given.items() if k in ("h0", "c0")})
        data["params"] = params
        return data

    def run(self, spec: Spec) -> Sequence[RecurrentStep]:
        return run_recurrent(spec, self.last).steps

    def saturated(self, steps: Sequence[RecurrentStep]) -> bool:
        limit = float(self.settings.max_abs_z)
        for step in steps:
            W: Any = step.params["W"][0]
            U: Any = step.params["U"][0]
            b: Any = step.params["b"][0]
            for result in step.evaluation.examples:
                prev = [float(v) for v in step.initial["h"]]
                for row in result.times:
                    x = [float(v) for v in row["a[0]"]]
                    for r in range(len(W)):
                        z = sum(float(w) * v for w, v in zip(W[r], x, strict=True))
                        z += sum(float(u) * v for u, v in zip(U[r], prev, strict=True))
                        if abs(z + float(b[r])) > limit:
                            return True
                    heads = [row[k] for k in row if k.startswith("z[") and k != "z[0]"]
                    if any(abs(float(v)) > limit for z in heads for v in z):
                        return True
                    prev = [float(v) for v in row["h[0]"]]
        return False


__all__ = [
    "RecurrentDrawer",
    "TimedQuestion",
    "base_kind",
    "default_asks",
    "parse_ask",
    "parse_asks",
]
