"""Exercises of a network of layer records (conv, pool, flatten …): questions and variants.

The dense path (:mod:`.questions`, :mod:`.variants`) reads dense matrices; a network of
layer records is drawn and answered here, through the same exact engine ``verify`` uses
for it (:func:`symbp.symbolic.network_run.run_network`):

- **Questions** name the quantities as ``eval --json`` and ``verify`` do
  (:func:`symbp.verify.network.parse_network_quantity`): a feature-map value
  ``a[1][0][1][2]`` or ``z[0][0][1][2]``, a pooled value ``a[2][0][0][1]``, a routed delta
  ``delta[0][1][2][3]``, ``grad_W[0][o][c][u][v]``, ``grad_b[0][o]``, ``grad_x[c][i][j]``,
  an updated kernel weight ``W[0][o][c][u][v]@1`` (a parameter defaults to step 1, anything
  else to step 0), ``loss``. The input ``a[0]`` and a parameter at step 0 are printed on the
  sheet, so they are not questions. Without ``--ask`` (:func:`default_asks`): the first
  layer's ``z`` at its first position, the output of the first layer without parameters
  that keeps a map (a pooled value), the output, the loss, the first kernel weight's and
  bias's gradients, the input gradient at the input's centre and the first kernel weight
  after one update. Which layer is which is read off the records (their parameter and
  output shapes), never off their kind's name.
- **Variants** (:class:`NetDrawer`): each student's stream (:mod:`.draw`) gives every
  weight (layer by layer, in the order of the nested lists: ``[o][c][u][v]`` for a kernel),
  every bias, then each example's input map (``[c][i][j]``) and targets, as the
  ``exercise:`` block's ranges say (a fixed kind keeps the spec's numbers). A draw is kept
  when no pre-activation ``z`` of any layer, example and step reached exceeds
  ``max_abs_z``, no answer rounds to 0 at the printed decimals and the numbers differ
  from every earlier student's; otherwise the next draw is tried, as for dense nets.
- **Tolerance.** The careful student's interval bounds (:mod:`.tolerance`) are worked out
  for dense nets only: a conv answer's tolerance is the least one
  (:attr:`~symbp.spec.exercise.ExerciseSpec.quiz_tolerance`), and the sheet asks for
  every digit of the values on the way (the answer is marked unbounded).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from ..spec import Spec
from ..spec.exercise import ExerciseSpec
from ..symbolic.network_plan import plan_network, shapes_of
from ..symbolic.network_run import NetworkStep, run_network
from ..verify.compare import exact
from ..verify.network import parse_network_quantity
from ..verify.quantities import Quantity
from .draw import Stream
from .drawer import RecordDrawer
from .questions import Question, asked_step, parse_all
from .roster import Student
from .variants import variant_fields

#: The kinds a sheet asks (the others are printed on it, or are the batch's bookkeeping).
ASKED = ("a", "z", "delta", "W", "b", "grad_W", "grad_b", "grad_x", "loss")


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [v for part in value for v in _leaves(part)]
    return [] if value is None else [value]


def _zeros(shape: Sequence[int]) -> Any:
    if not shape:
        return 0
    return [_zeros(shape[1:]) for _ in range(shape[0])]


def _nest(flat: list[Any], shape: Sequence[int]) -> Any:
    if len(shape) <= 1:
        return list(flat)
    step = math.prod(shape[1:])
    return [_nest(flat[n * step : (n + 1) * step], shape[1:]) for n in range(shape[0])]


def parse_ask(text: str, spec: Spec, number: int, where: str = "ask") -> Question:
    """The question ``text`` (``NAME`` or ``NAME@STEP``) asks of ``spec``'s network."""
    name, _, raw = (text.strip().partition("@")) if isinstance(text, str) else ("", "", "")
    try:
        quantity = parse_network_quantity(name.strip(), spec)
    except ValueError as err:
        raise DataError(f"{where}: {err}") from None
    if quantity.kind not in ASKED:
        raise DataError(f"{where}: {quantity.name} is not asked on sheets; ask another quantity")
    if quantity.kind == "a" and quantity.indices[0] == 0:
        raise DataError(f"{where}: {quantity.name} is an input, printed on the sheet; ask another")
    parameter = quantity.is_parameter
    frozen = parameter and (quantity.kind, quantity.indices[0]) in spec.frozen
    step = asked_step(raw.strip() if raw else None, quantity.name, parameter, frozen, where)
    return Question(number, quantity, step)


def parse_asks(asks: Sequence[str], spec: Spec, where: str = "ask") -> tuple[Question, ...]:
    """Every question of ``asks`` (duplicates refused), numbered from 1."""
    return parse_all(asks, spec, where, parse_ask)


def default_asks(spec: Spec) -> list[str]:
    """The questions asked when none are given (see the module docstring)."""
    shapes = shapes_of(spec.input_shape, spec.network)
    first = "".join("[0]" for _ in shapes[1])
    asks = [f"z[0]{first}"]
    for l, layer in enumerate(spec.network):
        if l > 0 and not layer.parameter_shapes(shapes[l]) and len(shapes[l + 1]) > 1:
            asks.append(f"a[{l + 1}]" + "".join("[0]" for _ in shapes[l + 1]))
            break
    L = len(spec.network)
    asks += [f"a[{L}][0]", "loss"]
    trained = [
        l
        for l, layer in enumerate(spec.network)
        if "W" in layer.parameter_shapes(shapes[l]) and ("W", l) not in spec.frozen
    ]
    for l in trained[:1]:
        w = spec.network[l].parameter_shapes(shapes[l])["W"]
        asks += [f"grad_W[{l}]" + "[0]" * len(w), f"grad_b[{l}][0]"]
    centre = [shapes[0][0] // 2] if len(shapes[0]) == 1 else [0, *(n // 2 for n in shapes[0][1:])]
    asks.append("grad_x" + "".join(f"[{i}]" for i in centre))
    for l in trained[:1]:
        w = spec.network[l].parameter_shapes(shapes[l])["W"]
        asks.append(f"W[{l}]" + "[0]" * len(w) + "@1")
    return asks


class NetDrawer(RecordDrawer):
    """Draws and checks the variants of one spec of layer records (module docstring)."""

    def __init__(
        self, spec: Spec, settings: ExerciseSpec, questions: Sequence[Question], asks: Sequence[str]
    ) -> None:
        super().__init__(spec, settings, questions, asks)
        shapes = shapes_of(spec.input_shape, spec.network)
        self.param_shapes = [
            layer.parameter_shapes(shapes[l]) for l, layer in enumerate(spec.network)
        ]
        self.input_shape, self.out = tuple(spec.input_shape), shapes[-1][0]
        #: Every variant has this network: its formulas are derived once.
        self.plans = plan_network(spec.input_shape, spec.network)

    def draw(self, stream: Stream) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
        """One draw: ``W`` and ``b`` (nested as the spec's, ``None`` where a layer has
        none) and the examples (``x`` shaped as the input)."""
        s = self.settings
        W: list[Any] = []
        b: list[Any] = []
        for l, shapes in enumerate(self.param_shapes):
            for name, into, r in (("W", W, s.W), ("b", b, s.b)):
                if name not in shapes:
                    into.append(None)
                    continue
                given = getattr(self.spec, name)
                base = given[l] if given is not None else _zeros(shapes[name])
                into.append(self._array(stream, r, base))
        examples = []
        size = math.prod(self.input_shape)
        for ex in self.spec.examples or [None]:
            flat_x = list(ex.x) if ex else [0] * size
            x = [self._array(stream, s.x, v) for v in flat_x]
            t = [self._array(stream, s.t, v) for v in (ex.t if ex else [0] * self.out)]
            examples.append({"x": _nest(x, self.input_shape), "t": t})
        return W, b, examples

    def variant_data(self, student: Student, *drawn: Any) -> dict[str, Any]:
        """The variant spec's fields (``drawn``: ``W``, ``b``, the examples)."""
        W, b, examples = drawn
        return variant_fields(self.spec, student, W, b, examples)

    def run(self, spec: Spec) -> Sequence[NetworkStep]:
        return run_network(spec, self.last, plans=self.plans).steps

    def saturated(self, steps: Sequence[NetworkStep]) -> bool:
        limit = self.settings.max_abs_z
        return any(
            abs(exact(z)) > limit
            for step in steps
            for ex in step.evaluation.examples
            for z in _leaves(list(ex.z))
        )


__all__ = ["ASKED", "NetDrawer", "Quantity", "default_asks", "parse_asks"]
