"""The marking rubric of a key: which intermediate values earn partial credit.

For each question, :func:`rubric` lists the values a student writes down on the
way to the answer, in the order they are worked, each with its exact value from
the variant's evaluation, and the answer last:

- a forward value (``a``, ``z``) of layer ``l``: the outputs of the layers before it;
- the loss: the network outputs, then ``E``;
- an error term ``δ`` of layer ``l``: the outputs, then the ``δ`` of every layer
  from the output layer down to ``l + 1``;
- a gradient of a weight or bias of layer ``l``: the outputs, the ``δ`` of the
  layers down to ``l`` (the one neuron's), and for a weight the activation it
  multiplies; with several examples each example's ``∂L/∂θ`` before the mean;
- a weight or bias after ``s`` updates: its gradient (and the learning rate, when a
  schedule changes it) at each update, and the value after each update before ``s``;
- a quantity after ``s > 0`` updates (other than a parameter): the updated
  parameters of the layers it depends on are too many to list, so the rubric gives
  the outputs after the updates, then the answer;
- the loss of an epoch: the loss of each of its updates.

Each intermediate earns :data:`STEP_MARKS`, the answer :data:`ANSWER_MARKS`. The
values come from the exact engine (the same evaluation as the answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..ops.batches import plan_of
from ..spec import Spec
from ..symbolic.records import Step
from ..verify.compare import exact, format_decimal
from ..verify.quantities import Quantity
from .questions import Question, symbol_tex, symbol_text

#: Marks for each intermediate value of the rubric, and for the answer.
STEP_MARKS = 1
ANSWER_MARKS = 2


@dataclass(frozen=True)
class RubricItem:
    """One value that earns marks: its textbook symbol (Unicode and LaTeX math), the
    step (updates applied before it), the value at the sheet's decimals, the marks."""

    symbol: str
    tex: str
    step: int
    value: str
    marks: int
    note: str = ""


def _item(spec: Spec, q: Quantity, steps: Sequence[Step], step: int, decimals: int,
          example: int | None = None) -> RubricItem:  # fmt: skip
    value = exact(q.value(steps[step], example))
    symbol, tex = symbol_text(q, spec), symbol_tex(q, spec)
    note = ""
    if example is not None:  # one example's ∂L/∂θ, before the mean over the examples
        symbol, note = symbol.replace("∂E", "∂L"), f"example {example + 1}"
        tex = tex.replace(r"\partial E", r"\partial L")
    return RubricItem(symbol, tex, step, format_decimal(value, decimals), STEP_MARKS, note)


def _outputs(spec: Spec) -> list[Quantity]:
    return [Quantity("a", (spec.depth, j)) for j in range(spec.layers[-1])]


def _deltas(spec: Spec, down_to: int, neuron: int | None) -> list[Quantity]:
    """``δ`` of the layers from the output down to layer ``down_to`` (0-based delta index);
    only neuron ``neuron`` of the last one when given."""
    out = []
    for li in range(spec.depth - 1, down_to - 1, -1):
        js = [neuron] if li == down_to and neuron is not None else range(spec.layers[li + 1])
        out += [Quantity("delta", (li, j)) for j in js]
    return out


def _path(spec: Spec, q: Quantity) -> list[Quantity]:
    """The intermediates of a step-0 style computation of ``q`` (module docstring)."""
    if q.kind in ("a", "z"):
        layer = q.indices[0] if q.kind == "a" else q.indices[0] + 1
        return [Quantity("a", (m, j)) for m in range(1, layer) for j in range(spec.layers[m])]
    if q.kind == "loss":
        return _outputs(spec)
    if q.kind == "delta":
        li, j = q.indices
        return _outputs(spec) + _deltas(spec, li + 1, None)
    if q.kind in ("grad_W", "grad_b"):
        li, j = q.indices[0], q.indices[1]
        path = _outputs(spec) + _deltas(spec, li, j)
        if q.kind == "grad_W" and li > 0:
            path.append(Quantity("a", (li, q.indices[2])))
        return path
    return []


def rubric(
    spec: Spec, question: Question, steps: Sequence[Step], decimals: int
) -> tuple[RubricItem, ...]:
    """The rubric of ``question`` for the variant whose evaluation is ``steps``."""
    q, s = question.quantity, question.step
    items: list[RubricItem] = []
    m = len(spec.examples)
    if q.kind == "epoch_loss":  # the question's step ends the epoch
        first = s - plan_of(spec).per_epoch
        items += [_item(spec, Quantity("loss", ()), steps, k, decimals) for k in range(first, s)]
    elif q.is_parameter:
        grad = Quantity(f"grad_{q.kind}", q.indices)
        for k in range(s):
            items.append(_item(spec, grad, steps, k, decimals))
            if k > 0 and steps[k].learning_rate != steps[k - 1].learning_rate:
                items.append(_item(spec, Quantity("learning_rate", ()), steps, k, decimals))
            if k + 1 < s:
                items.append(_item(spec, q, steps, k + 1, decimals))
    elif s > 0:
        items += [_item(spec, o, steps, s, decimals) for o in _outputs(spec) if o != q]
    else:
        path = [p for p in _path(spec, q) if p != q]
        if q.kind in ("grad_W", "grad_b") and m > 1:
            path += [q]  # each example's gradient, then the mean (the answer)
        for p in path:
            if p.kind in ("grad_W", "grad_b"):
                items += [_item(spec, p, steps, s, decimals, e) for e in range(m)]
            else:
                items.append(_item(spec, p, steps, s, decimals))
    answer = exact(q.value(steps[s]))
    items.append(
        RubricItem(symbol_text(q, spec), symbol_tex(q, spec), s,
                   format_decimal(answer, decimals), ANSWER_MARKS, "the answer")
    )  # fmt: skip
    return tuple(items)


def total(items: Sequence[RubricItem]) -> int:
    """The marks of a question."""
    return sum(i.marks for i in items)
