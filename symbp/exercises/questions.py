"""The questions of an exercise: which quantity, at which step, and how a sheet words it.

A question is asked as ``NAME`` or ``NAME@STEP`` with the quantity names of
``symbp verify`` (:mod:`symbp.verify.quantities`): ``a[2][0]``, ``delta[1][0]``,
``grad_W[1][0][0]``, ``loss``, textbook ``w^2_11`` ... ``STEP`` counts the
updates applied before the quantity is taken: it defaults to 0 (the given
parameters), and to 1 for a weight or bias (``W[1][0][0]`` asks the weight after
one update; at step 0 it is printed on the sheet, so it is not a question).

Without ``--ask`` (and no ``exercise.ask``) an exercise asks the forward output
``a[L][0]``, the loss, one output-layer gradient ``grad_W[L-1][0][0]``, one
hidden-layer gradient ``grad_W[0][0][0]`` (nets with a hidden layer) and one
updated weight (the first weight of the first weight layer that is trained).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import DataError, quote
from ..ops.batches import plan_of
from ..spec import Spec
from ..verify.claims import MAX_STEP
from ..verify.quantities import Quantity, parse_quantity

_ASK = re.compile(r"^(?P<name>[^@]+?)\s*(?:@\s*(?P<step>\S+))?\Z")
_SUP = str.maketrans("0123456789,", "⁰¹²³⁴⁵⁶⁷⁸⁹˒")
_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


def whole_number(text: str) -> bool:
    """Whether ``text`` is a short run of ASCII digits (``int`` reads it; ``²`` is not one)."""
    return text.isascii() and text.isdigit() and len(text) <= 9


@dataclass(frozen=True)
class Question:
    """Question ``number`` (1-based): ``quantity`` after ``step`` updates."""

    number: int
    quantity: Quantity
    step: int

    @property
    def label(self) -> str:
        return f"Q{self.number}"

    @property
    def name(self) -> str:
        """The ``symbp verify`` name of the quantity (``grad_W[1][0][0]``)."""
        return self.quantity.name

    @property
    def key(self) -> tuple[Any, ...]:
        """What two questions asking the same thing share: the quantity and the step."""
        return (self.quantity, self.step)

    @property
    def ask(self) -> str:
        """The canonical ``--ask`` text: ``a[2][0]``, ``W[0][0][0]@1``."""
        default = 1 if self.quantity.is_parameter else 0
        return self.name if self.step == default else f"{self.name}@{self.step}"


def asked_step(raw: str | None, name: str, parameter: bool, frozen: bool, where: str) -> int:
    """The update step a question asks (``raw``: the text after ``@``, ``None`` where there
    is none): by default 1 for a parameter (printed on the sheet at step 0), else 0. A
    frozen parameter (never updated) and a parameter at step 0 are refused; ``name`` is
    the quantity's, ``where`` the field's."""
    step = 1 if parameter else 0
    if raw is not None:
        if not whole_number(raw) or int(raw) > MAX_STEP:
            raise DataError(
                f"{where}: expected a step from 0 to {MAX_STEP} after '@', found {quote(raw)}"
            )
        step = int(raw)
    if parameter and frozen:
        raise DataError(
            f"{where}: {name} is frozen (never updated), so it is printed on the "
            "sheet; ask another quantity"
        )
    if parameter and step == 0:
        raise DataError(
            f"{where}: {name} at step 0 is printed on the sheet; ask it after an "
            f"update, e.g. {name}@1"
        )
    return step


def parse_ask(text: str, spec: Spec, number: int, where: str = "ask") -> Question:
    """The question ``text`` asks of ``spec``'s network; :class:`DataError` naming ``where``."""
    match = _ASK.match(text.strip())
    if not match:
        raise DataError(f"{where}: expected QUANTITY or QUANTITY@STEP, found {quote(text)}")
    try:
        quantity = parse_quantity(match.group("name"), spec)
    except ValueError as err:
        raise DataError(f"{where}: {err}") from None
    if quantity.kind in ("grad_x", "update_W", "update_b"):
        raise DataError(f"{where}: {quantity.name} is not asked on sheets; ask another quantity")
    if quantity.kind == "epoch_loss":
        return _epoch_question(match.group("step"), spec, number, where, quantity)
    if quantity.kind == "a" and quantity.indices[0] == 0:
        raise DataError(f"{where}: {quantity.name} is an input, printed on the sheet; ask another")
    parameter = quantity.is_parameter
    frozen = parameter and (quantity.kind, quantity.indices[0]) in spec.frozen
    step = asked_step(match.group("step"), quantity.name, parameter, frozen, where)
    return Question(number, quantity, step)


def _epoch_question(
    raw: str | None, spec: Spec, number: int, where: str, quantity: Quantity
) -> Question:
    """``epoch_loss@E``: the loss of epoch ``E`` (1-based, default 1) of the spec's schedule."""
    per_epoch = plan_of(spec).per_epoch
    epoch = 1
    if raw is not None:
        if not whole_number(raw) or not 1 <= int(raw) * per_epoch <= MAX_STEP:
            raise DataError(
                f"{where}: expected an epoch from 1 to {MAX_STEP // per_epoch} after '@',"
                f" found {quote(raw)}"
            )
        epoch = int(raw)
    return Question(number, quantity, epoch * per_epoch)


def default_asks(spec: Spec) -> list[str]:
    """The questions asked when none are given (see the module docstring)."""
    L = spec.depth
    asks = [f"a[{L}][0]", "loss", f"grad_W[{L - 1}][0][0]"]
    if L >= 2:
        asks.append("grad_W[0][0][0]")
    trained = [l for l in range(L) if ("W", l) not in spec.frozen]
    if trained:
        asks.append(f"W[{trained[0]}][0][0]@1")
    return asks


#: A question of any net (:class:`Question`, a recurrent net's ``TimedQuestion``).
Q = TypeVar("Q", bound=Question)


def parse_all(
    asks: Sequence[str], spec: Spec, where: str, parse: Callable[[str, Spec, int, str], Q]
) -> tuple[Q, ...]:
    """Every question of ``asks`` read by ``parse`` (a net's ``parse_ask``), numbered from 1;
    duplicates (the same :attr:`Question.key`) refused."""
    if not asks:
        raise DataError(f"{where}: expected at least one quantity to ask")
    out: list[Q] = []
    for i, text in enumerate(asks):
        q = parse(text, spec, i + 1, f"{where}[{i}]" if where != "ask" else where)
        if any(p.key == q.key for p in out):
            raise DataError(f"{where}: {q.ask} is asked twice")
        out.append(q)
    return tuple(out)


def parse_asks(asks: Sequence[str], spec: Spec, where: str = "ask") -> tuple[Question, ...]:
    """Every question of ``asks`` (duplicates refused), numbered from 1."""
    return parse_all(asks, spec, where, parse_ask)


def _indices(q: Quantity) -> tuple[int, str]:
    """The textbook layer (1-based, as documents print it) and subscript of ``q``."""
    if q.kind == "a":
        layer, rest = q.indices[0], q.indices[1:]
    else:
        layer, rest = q.indices[0] + 1, q.indices[1:]
    sep = "," if any(i >= 9 for i in rest) else ""
    return layer, sep.join(str(i + 1) for i in rest)


def symbol_tex(q: Quantity, spec: Spec) -> str:
    """The textbook symbol of ``q`` in LaTeX math (``\\partial E/\\partial w^{2}_{11}``)."""
    if q.kind == "loss":
        return "E"
    if q.kind == "epoch_loss":
        return r"E_{\text{epoch}}"
    if q.kind == "learning_rate":
        return r"\eta"
    layer, sub = _indices(q)
    if q.kind == "a" and layer == spec.depth:
        return r"\hat{y}" if spec.layers[-1] == 1 else rf"\hat{{y}}_{{{sub}}}"
    base = {"a": "a", "z": "z", "delta": r"\delta", "W": "w", "b": "b"}
    if q.kind in ("grad_W", "grad_b"):
        letter = "w" if q.kind == "grad_W" else "b"
        return rf"\partial E/\partial {letter}^{{{layer}}}_{{{sub}}}"
    return rf"{base[q.kind]}^{{{layer}}}_{{{sub}}}"


def symbol_text(q: Quantity, spec: Spec) -> str:
    """The textbook symbol of ``q`` in Unicode (``∂E/∂w²₁₁``)."""
    if q.kind == "loss":
        return "E"
    if q.kind == "epoch_loss":
        return "E_epoch"
    if q.kind == "learning_rate":
        return "η"
    layer, sub = _indices(q)
    if q.kind == "a" and layer == spec.depth:
        return "ŷ" if spec.layers[-1] == 1 else "ŷ" + sub.translate(_SUB)
    letter = {"a": "a", "z": "z", "delta": "δ", "W": "w", "b": "b", "grad_W": "w", "grad_b": "b"}
    symbol = letter[q.kind] + str(layer).translate(_SUP) + sub.translate(_SUB)
    return f"∂E/∂{symbol}" if q.kind in ("grad_W", "grad_b") else symbol


def describe(q: Question, spec: Spec) -> str:
    """What the question asks, in words, without its symbol (``the weighted input ...``)."""
    kind = q.quantity.kind
    if kind == "epoch_loss":
        epoch = q.step // plan_of(spec).per_epoch
        return (
            f"the loss of epoch {epoch}: the mean over its updates of each update's cost,"
            " taken before that update"
        )
    layer = _indices(q.quantity)[0] if q.quantity.indices else 0
    words = {
        "loss": "the cost over the examples",
        "learning_rate": "the learning rate of the next update",
        "z": f"the weighted input of this neuron of layer {layer}",
        "delta": f"the error term ∂L/∂z of this neuron of layer {layer}",
        "grad_W": "the gradient of the cost with respect to this weight",
        "grad_b": "the gradient of the cost with respect to this bias",
        "W": "this weight",
        "b": "this bias",
    }
    if kind == "a":
        text = "the network output" if layer == spec.depth else "the output of this neuron"
    else:
        text = words[kind]
    if kind in ("a", "z", "delta") and len(spec.examples) > 1:
        text += " for the first example"
    if q.step == 0:
        return f"{text}, for the given parameters"
    return f"{text}, after {q.step} update{'s' if q.step != 1 else ''}"
