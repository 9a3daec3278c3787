"""The estimators' 2-D view of a recurrent network's data (scikit-learn takes rows).

A sequence of ``steps`` inputs of ``features`` values is one row of ``steps·features``
values, step by step (``X.reshape(n, -1)`` of ``(n, steps, features)``); the targets of
``output: every_step`` are one row of ``steps·outputs`` values, those of ``last_step`` a
row of ``outputs``. The generated trainer (:mod:`symbp.codegen.recurrent_trainer`) takes
these rows as they are. For any other network the columns are ``layers[0]`` and
``layers[-1]``.
"""

from __future__ import annotations

from ..spec import Spec


def sample_shape(spec: Spec) -> tuple[int, ...]:
    """The shape of one example's input as an array: ``(steps, features)`` for a
    recurrent net, ``(C, H, W)`` for a conv net, ``(d,)`` for a dense one."""
    rec = spec.recurrence
    return tuple(spec.input_shape) if rec is None else (rec.steps, spec.input_shape[0])


def columns_in(spec: Spec) -> int:
    """The number of values of one example's input row."""
    rec = spec.recurrence
    return spec.layers[0] if rec is None else rec.steps * spec.input_shape[0]


def columns_out(spec: Spec) -> int:
    """The number of values of one example's target (and prediction) row."""
    rec = spec.recurrence
    if rec is None or rec.output != "every_step":
        return spec.layers[-1]
    return rec.steps * spec.layers[-1]
