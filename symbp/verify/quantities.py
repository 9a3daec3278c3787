"""Names of the quantities a claim can be about, and their values at a step.

The canonical names are those of ``symbp eval --json`` (0-based)::

    loss                 E, the mean loss over the examples (or one example's, see below)
    learning_rate        the rate the next update uses
    a[l][j]              output of neuron j of layer l; a[0] is the input, a[L] the output ŷ
    z[i][j], delta[i][j] weighted input / δ = ∂L/∂z of neuron j of layer i+1 (z[0] is layer 1)
    W[l][j][k]           weight into neuron j of layer l+1 from neuron k of layer l
    b[l][j]              bias of neuron j of layer l+1
    grad_W[l][j][k]      ∂E/∂W[l][j][k];  grad_b[l][j]: ∂E/∂b[l][j]
    grad_x[j]            ∂E/∂x_j, the input gradient (batch mean); grad_x[i][j]: example i's
    update_W[l][j][k]    the change Δ applied to W[l][j][k] by the update after the step
                         (update_b[l][j] likewise)
    epoch_loss           the mean over an epoch's steps of each step's loss before its update
                         (claim it with ``epoch: e``: epoch e, 1-based)

``y``, ``yhat``, ``y_hat``, ``y_pred``, ``output`` and ``ŷ`` (optionally ``[j]``) stand for
``a[L][j]``; ``E`` and
``cost`` for ``loss``. Textbook notation is 1-based, layer first::

    w^2_11, w²₁₁, w^{2}_{1,12}   →  W[1][0][0], W[1][0][0], W[1][0][11]
    b^1_2, b¹₂                   →  b[0][1]
    a^1_3, z^2_1, δ^2_1          →  a[1][2], z[1][0], delta[1][0]
    ∂E/∂w^2_11, dE/db^1_2        →  grad_W[1][0][0], grad_b[0][1]
    x_2                          →  a[0][1]

Two-digit textbook subscripts need a comma (``w^2_{1,12}``). The spec's ``names:``
(:mod:`symbp.spec.names`) are accepted too: with ``names: {w5: W[1][0][0]}``, ``w5``
is ``W[1][0][0]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import quote
from ..spec import Spec
from ..symbolic.evaluate import Step

#: Number of indices each canonical quantity takes.
ARITY = {
    "loss": 0,
    "learning_rate": 0,
    "a": 2,
    "z": 2,
    "delta": 2,
    "W": 3,
    "b": 2,
    "grad_W": 3,
    "grad_b": 2,
    "grad_x": 1,
    "update_W": 3,
    "update_b": 2,
    "epoch_loss": 0,
}
PARAMETERS = ("W", "b")
GRADIENTS = ("grad_W", "grad_b", "delta")

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_CANONICAL = re.compile(r"^([A-Za-z_]+)((?:\[\d+\])*)\Z")
_TEXTBOOK = re.compile(
    r"^(?:(?P<grad>[∂d][EL]/[∂d]))?(?P<kind>w|b|a|z|delta)\^\{?(?P<layer>\d+)\}?"
    r"_\{?(?P<idx>[\d,]+)\}?\Z"
)
_INPUT = re.compile(r"^x_\{?(\d+)\}?\Z")


@dataclass(frozen=True)
class Quantity:
    """One claimable quantity: ``kind`` (a key of :data:`ARITY`) and 0-based ``indices``."""

    kind: str
    indices: tuple[int, ...]

    @property
    def name(self) -> str:
        """The canonical (``eval --json``) name, e.g. ``grad_W[1][0][2]``."""
        return self.kind + "".join(f"[{i}]" for i in self.indices)

    @property
    def is_parameter(self) -> bool:
        return self.kind in PARAMETERS

    def transposed(self) -> Quantity | None:
        """The weight (or its gradient) with ``j`` and ``k`` swapped, if that differs."""
        if self.kind in ("W", "grad_W") and self.indices[1] != self.indices[2]:
            l, j, k = self.indices
            return Quantity(self.kind, (l, k, j))
        return None

    def value(self, step: Step, example: int | None = None) -> Any:
        """This quantity at ``step``; ``example`` picks one example's loss/gradient.

        Forward values (``a``, ``z``, ``delta``) are of example ``example or 0``;
        ``loss`` and the gradients are of ``E`` (the mean) unless ``example`` is given.
        """
        e = example or 0
        item: Any
        if self.kind == "loss":
            return step.loss if example is None else step.examples[e].loss
        if self.kind == "learning_rate":
            return step.learning_rate
        if self.kind == "epoch_loss":
            return step.epoch_loss
        if self.kind == "grad_x" and len(self.indices) == 2:
            return step.examples[self.indices[0]].grad_x[self.indices[1]]
        if self.kind in ("update_W", "update_b"):
            item = getattr(step, self.kind)
            for i in self.indices:
                item = item[i]
            return item
        if self.kind in ("a", "z", "delta"):
            item = getattr(step.examples[e], self.kind)
        elif self.kind in PARAMETERS:
            item = getattr(step, self.kind)
        else:
            item = getattr(step if example is None else step.examples[e], self.kind)
        for i in self.indices:
            item = item[i]
        return item


def _normalise(text: str) -> str:
    out = []
    mode = ""
    for ch in text.replace(" ", "").replace("δ", "delta").replace("ŷ", "yhat"):
        if ch in "⁰¹²³⁴⁵⁶⁷⁸⁹":
            out.append(("" if mode == "^" else "^") + ch.translate(_SUPERSCRIPTS))
            mode = "^"
        elif ch in "₀₁₂₃₄₅₆₇₈₉":
            out.append(("" if mode == "_" else "_") + ch.translate(_SUBSCRIPTS))
            mode = "_"
        else:
            out.append(ch)
            mode = ""
    return "".join(out)


def parse_quantity(text: object, spec: Spec) -> Quantity:
    """The :class:`Quantity` that ``text`` names in ``spec``'s network.

    Raises ``ValueError`` with a one-line reason (unknown name, wrong number of
    indices, an index out of range for the network's layers).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"'of' must name a quantity such as a[2][0], found {quote(text)}")
    named = dict(spec.names).get(text.strip())  # the text's own name (spec ``names:``)
    raw = _normalise(named or text.strip())
    L = spec.depth
    textbook = _TEXTBOOK.match(raw)
    if textbook:
        return _check(_from_textbook(textbook, raw), spec)
    inp = _INPUT.match(raw)
    if inp:
        return _check(Quantity("a", (0, _one_based(int(inp.group(1)), raw))), spec)
    match = _CANONICAL.match(raw)
    if not match:
        raise ValueError(f"cannot read quantity {quote(text)}; {_expected()}")
    kind = match.group(1)
    indices = tuple(int(i) for i in re.findall(r"\d+", match.group(2)))
    if kind in ("E", "cost"):
        kind = "loss"
    if kind in ("y", "yhat", "y_hat", "y_pred", "output"):
        if not indices and spec.layers[-1] != 1:
            raise ValueError(
                f"{quote(text)}: the network has {spec.layers[-1]} outputs; "
                f"write {kind}[j] or a[{L}][j]"
            )
        kind, indices = "a", (L, *(indices or (0,)))
    if kind not in ARITY:
        raise ValueError(f"unknown quantity {quote(kind)}; {_expected()}")
    if kind == "grad_x" and len(indices) == 2:  # grad_x[i][j]: example i's own ∂L/∂x_j
        if indices[0] >= len(spec.examples):
            raise ValueError(f"{quote(text)}: example {indices[0]} does not exist")
        return _check(Quantity(kind, indices), spec)
    if len(indices) != ARITY[kind]:
        raise ValueError(
            f"{kind} takes {ARITY[kind]} index{'es' if ARITY[kind] != 1 else ''}, "
            f"found {len(indices)} in {quote(text)}"
        )
    return _check(Quantity(kind, indices), spec)


def _expected() -> str:
    return (
        "expected loss, learning_rate, a[l][j], z[i][j], delta[i][j], W[l][j][k], b[l][j], "
        "grad_W[l][j][k], grad_b[l][j], grad_x[j], update_W[l][j][k], update_b[l][j], "
        "epoch_loss, y[j], or textbook w^l_jk, b^l_j, dE/dw^l_jk"
    )


def _one_based(n: int, text: str) -> int:
    if n < 1:
        raise ValueError(f"textbook indices are 1-based, found 0 in {quote(text)}")
    return n - 1


def _from_textbook(match: re.Match[str], text: str) -> Quantity:
    kind, layer, idx = match.group("kind"), int(match.group("layer")), match.group("idx")
    if "," in idx:
        parts = [int(p) for p in idx.split(",") if p]
    elif kind == "w" and len(idx) == 2:
        parts = [int(idx[0]), int(idx[1])]
    else:
        parts = [int(idx)]
    want = 2 if kind == "w" else 1
    if len(parts) != want:
        raise ValueError(
            f"{quote(text)}: {kind}^l takes {want} subscript{'s' if want > 1 else ''}; "
            "separate two-digit ones with a comma, e.g. w^2_{1,12}"
        )
    sub = tuple(_one_based(p, text) for p in parts)
    if match.group("grad") and kind not in ("w", "b"):
        raise ValueError(f"{quote(text)}: only dE/dw and dE/db are gradients symbp reports")
    if kind == "a":
        return Quantity("a", (layer, *sub))
    l = _one_based(layer, text)
    if match.group("grad"):
        return Quantity("grad_W" if kind == "w" else "grad_b", (l, *sub))
    return Quantity({"w": "W", "b": "b", "z": "z", "delta": "delta"}[kind], (l, *sub))


def _check(q: Quantity, spec: Spec) -> Quantity:
    layers, L = spec.layers, spec.depth
    if not q.indices:
        return q
    first = q.indices[0]
    if q.kind == "grad_x":
        if q.indices[-1] >= layers[0]:
            raise ValueError(
                f"{q.name}: index {q.indices[-1]} is out of range; there are {layers[0]} inputs"
            )
        return q
    if q.kind == "a":
        if first > L:
            raise ValueError(f"{q.name}: layer {first} does not exist; a has layers 0..{L}")
        bounds = [(q.indices[1], layers[first], f"neurons of layer {first}")]
    else:
        if first >= L:
            what = "layer" if q.kind in ("z", "delta") else "weight layer"
            raise ValueError(
                f"{q.name}: {what} index {first} does not exist; {q.kind} has 0..{L - 1}"
                + (f" ({q.kind}[i] is layer i+1)" if q.kind in ("z", "delta") else "")
            )
        bounds = [(q.indices[1], layers[first + 1], f"neurons of layer {first + 1}")]
        if len(q.indices) == 3:
            bounds.append((q.indices[2], layers[first], f"neurons of layer {first}"))
    for value, size, what in bounds:
        if value >= size:
            raise ValueError(f"{q.name}: index {value} is out of range; there are {size} {what}")
    return q
