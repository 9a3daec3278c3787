"""``derive`` and ``eval`` of a spec whose network is not dense-only (conv, pool, flatten …).

:func:`derive_network` gives a :class:`NetworkDerivation`: each layer's forward in index
form and the backward :mod:`.shifted` derived from it (the lines of
:func:`.shifted_text.network_lines`), then the loss and the output layer's ``δ``.

:func:`run_network` gives a :class:`NetworkRun`: ``steps + 1`` exact evaluations
(:func:`.network.evaluate_network`, rationals or :data:`~.instantiate.PRECISION`
digits) with the spec's updates between them, as ``eval`` does for dense nets: one
update per batch of the spec's ``training`` schedule (:func:`symbp.ops.batches.plan_of`:
full batch without one, mini-batches, shuffling), the learning rate of the spec's
schedule at the batch's epoch, the gradients those of ``E``, the mean loss over the
batch, updated by the spec's optimiser (:mod:`.nested_updates`: every optimiser record,
weight decay, frozen parameters, as the dense engine applies them).

Names are those of ``eval --json`` (:meth:`NetworkStep.quantities`), ``l`` 0-based: the
layer ``l`` of the spec's list produces ``a[l+1]`` and has ``W[l]``, ``b[l]``, ``z[l]``,
``delta[l]``, ``grad_W[l]``, ``grad_b[l]``; a conv kernel is ``W[l][o][c][u][v]``, a
feature map ``a[l][c][i][j]``, the input gradient ``grad_x[c][i][j]``, ``loss`` the mean
loss ``E`` of the step's batch, ``update_W[l]…``/``update_b[l]…`` the change the step's
update makes, and the optimiser's states after it by the record's names (``m_W[l]…``,
``v_b[l]…`` for Adam). A layer without parameters has ``null`` for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

from ..errors import SpecError
from ..layers.base import Layer, Shape
from ..ops.batches import plan_of
from ..ops.losses import Loss
from ..ops.symbols import A, T, X, Y
from .nested import Nested, batch_row, floats, lists, names
from .network import NetworkEvaluation, evaluate_network
from .network_plan import Plan, plan_network
from .shifted import derive_layer
from .shifted_text import network_lines, recognise, text

if TYPE_CHECKING:
    from ..spec import Spec

#: A transformation of the network's plans (a variant of the derived formulas).
Variant = Callable[[list[Plan]], list[Plan]]


@dataclass(frozen=True)
class NetworkDerivation:
    """What ``symbp derive`` prints for a network of layer records.

    ``lines``: every layer's forward and derived backward
    (:func:`.shifted_text.network_lines`, textbook layers 1, 2, …);
    ``loss_lines``: the loss of one example and the output layer's ``δ``;
    ``layers``: the same per layer for ``--json``.
    """

    input_shape: Shape
    network: tuple[Layer, ...]
    lines: tuple[str, ...]
    loss_lines: tuple[str, ...]
    layers: tuple[dict[str, Any], ...]

    def text(self) -> str:
        """The lines, one per line, after a line on the numbering."""
        head = (
            "layers numbered from 1 as textbooks do: w^1, b^1, z^1, a^1 are eval's "
            "W[0], b[0], z[0], a[1]; a^0 is the input x"
        )
        return "\n".join((head, *self.lines, *self.loss_lines)) + "\n"

    def to_json(self) -> dict[str, Any]:
        """``{"input": [C, H, W], "layers": [...], "loss": ..., "output_delta": ...}``."""
        return {
            "input": list(self.input_shape),
            "layers": list(self.layers),
            "loss": self.loss_lines[0].removeprefix("loss: "),
            "output_delta": self.loss_lines[1].removeprefix("output delta: "),
        }

    def __str__(self) -> str:
        return self.text()


def _output_lines(loss: Loss, last: Layer, l: int, n: int) -> tuple[str, str]:
    """The loss of one example in ``a^L`` and ``t``, and ``δ^L = ∂L/∂z^L``."""
    out, z = f"a^{l}", f"z^{l}"
    j = sp.Symbol("j", integer=True, nonnegative=True)
    y_j, t_j, z_j = (sp.IndexedBase(name, real=True)[j] for name in (out, "t", z))
    term = loss.term.xreplace({Y: y_j, T: t_j})
    scale = loss.output_scale(n)
    sum_text = f"Σ_{{j}} {text(term)}" if n > 1 else text(term.xreplace({j: 0}))
    loss_text = f"loss: L = {'' if scale == 1 else f'({scale})·'}{sum_text}"
    if n > 1:
        loss_text += f"    (j = 0..{n - 1}; {loss.scaling})"
    act = last.activation
    if act is None or not act.elementwise:
        how = f"through {act.name}, " if act is not None else ""
        return loss_text, f"output delta: δ^{l}[j] = ∂L/∂{z}[j] ({how}differentiated by SymPy)"
    local = loss.derivative.xreplace({Y: y_j, T: t_j})
    if act.derivative_from_output is not None:
        slope = act.derivative_from_output.xreplace({A: y_j})
    else:
        slope = act.derivative.xreplace({X: z_j})
    delta = sp.simplify(scale * local * slope)
    return loss_text, (
        f"output delta: δ^{l}[j] = ∂L/∂{out}[j] · {act.name}'({z}[j]) = {text(delta)}"
    )


def derive_network(spec: Spec) -> NetworkDerivation:
    """The derivation of ``spec.network`` (see :class:`NetworkDerivation`)."""
    network = tuple(spec.network)
    layers = []
    for l, layer in enumerate(network, start=1):
        d = derive_layer(layer, l)
        grads = {}
        for name, form in d.gradients.items():
            grads[name] = {"formula": text(form.rhs), "is": recognise(d, name)}
        layers.append(
            {
                "layer": l - 1,
                "kind": layer.kind,
                "forward": text(d.forward.equation),
                "activation": None if layer.activation is None else layer.activation.name,
                "gradients": grads,
            }
        )
    loss_lines = _output_lines(spec.loss, network[-1], len(network), spec.layers[-1])
    return NetworkDerivation(
        tuple(spec.input_shape), network, tuple(network_lines(network)), loss_lines, tuple(layers)
    )


# -- eval


def _x(spec: Spec, flat: Sequence[Any]) -> Nested:
    """An example's ``x`` (flattened by (c, i, j)) shaped as the input."""
    shape = spec.input_shape
    values = list(flat)

    def nest(offset: int, dims: Shape) -> Nested:
        if len(dims) == 1:
            return values[offset : offset + dims[0]]
        step = 1
        for n in dims[1:]:
            step *= n
        return [nest(offset + k * step, dims[1:]) for k in range(dims[0])]

    return nest(0, shape)


@dataclass(frozen=True)
class NetworkStep:
    """One record of :func:`run_network`: the parameters before update ``step + 1``, the
    step's batch (``rows``, 0-based examples) and its exact evaluation."""

    step: int
    epoch: int
    rows: tuple[int, ...]
    W: tuple[Nested | None, ...]
    b: tuple[Nested | None, ...]
    evaluation: NetworkEvaluation
    learning_rate: sp.Expr
    #: The change the update after this step makes (``None`` for a layer without any).
    update_W: tuple[Nested | None, ...] = ()
    update_b: tuple[Nested | None, ...] = ()
    #: The optimiser's states after that update, by name (``m_W``, ``v_b``; see
    #: :mod:`.nested_updates`); empty for plain SGD.
    states: tuple[tuple[str, Nested], ...] = ()

    def _row(self, example: int | None) -> int:
        return batch_row(self.rows, example, self.step)

    def arrays(self, example: int | None = None) -> dict[str, Nested]:
        """Every quantity as nested lists, by its name without indices' last levels:
        ``W[0]``, ``a[1]``, ``grad_x`` …, ``loss``, ``update_W[0]``, the optimiser's states
        (``m_W[0]``), ``learning_rate``. Forward values are of ``example`` (default
        the batch's first); ``loss`` and the gradients of ``example``, else the batch mean."""
        ev = self.evaluation
        one = ev.examples[self._row(example)]
        source = one if example is not None else ev
        out: dict[str, Nested] = {}
        for name, values in (("W", self.W), ("b", self.b)):
            for l, v in enumerate(values):
                out[f"{name}[{l}]"] = v
        for name, values in (("z", one.z), ("a", one.a), ("delta", one.delta)):
            for l, v in enumerate(values):
                out[f"{name}[{l}]"] = v
        for name, values in (("grad_W", source.grad_W), ("grad_b", source.grad_b)):
            for l, v in enumerate(values):
                out[f"{name}[{l}]"] = v
        out["grad_x"] = source.grad_x
        out["loss"] = source.loss
        for name, values in (("update_W", self.update_W), ("update_b", self.update_b)):
            for l, v in enumerate(values):  # the batch's, whichever example is asked
                out[f"{name}[{l}]"] = v
        for name, values in self.states:
            for l, v in enumerate(values):
                out[f"{name}[{l}]"] = v
        out["learning_rate"] = self.learning_rate
        return out

    def quantities(self, example: int | None = None) -> dict[str, Any]:
        """Every single value by its canonical name (``grad_W[0][1][0][1][0]``, ``loss``)."""
        out: dict[str, Any] = {}
        for prefix, value in self.arrays(example).items():
            if value is not None:
                out.update(names(prefix, value))
        return out

    def updates(self) -> tuple[list[Nested | None], list[Nested | None]]:
        """The changes ``Δθ`` the update after this step makes to ``W`` and ``b`` (``None``
        for a layer without any; ``−η ∂E/∂θ`` for plain SGD)."""
        return list(self.update_W), list(self.update_b)

    def to_json(self) -> dict[str, Any]:
        """The step as ``eval --json`` writes it (the names of dense nets' steps)."""
        ev = self.evaluation
        first = ev.examples[0]
        update_W, update_b = self.updates()
        return {
            "step": self.step,
            "epoch": self.epoch,
            "rows": list(self.rows),
            "W": floats(self.W),
            "b": floats(self.b),
            "z": floats(first.z),
            "a": floats(first.a),
            "delta": floats(first.delta),
            "loss": float(ev.loss),
            "grad_W": floats(ev.grad_W),
            "grad_b": floats(ev.grad_b),
            "grad_x": floats(ev.grad_x),
            "update_W": floats(update_W),
            "update_b": floats(update_b),
            "learning_rate": float(self.learning_rate),
            "epoch_loss": None,
            **({"optimizer_state": {k: floats(v) for k, v in self.states}} if self.states else {}),
        }


@dataclass(frozen=True)
class NetworkRun:
    """The exact trajectory of a network: ``steps[k]`` after ``k`` updates."""

    steps: tuple[NetworkStep, ...]
    arithmetic: str = "exact"

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps], "arithmetic": self.arithmetic}


def run_network(
    spec: Spec,
    steps: int = 0,
    *,
    epochs: int | None = None,
    variant: Variant | None = None,
    plans: Sequence[Plan] | None = None,
) -> NetworkRun:
    """``steps + 1`` exact evaluations of ``spec`` with its updates between them (see the
    module docstring); ``epochs`` counts whole epochs instead. ``variant`` transforms the
    derived formulas (the convention search of :mod:`symbp.verify.network`). ``plans``
    are :func:`.network_plan.plan_network`'s of ``spec``'s network, derived once by a
    caller that runs many specs of one network (the exercises' draws)."""
    if (spec.W is None or spec.b is None) and spec.init is None:
        raise SpecError(
            "exact evaluation of conv/pool/flatten layers needs params: W and b, or init",
            field="params",
            file=spec.path,
        )
    if not spec.examples:
        raise SpecError(
            "exact evaluation needs an example: x and t", field="example", file=spec.path
        )
    from .nested_updates import NestedUpdater

    batches = plan_of(spec)
    if epochs is not None:
        steps = epochs * batches.per_epoch
    updater = NestedUpdater(spec)
    derived = list(plans) if plans is not None else plan_network(spec.input_shape, spec.network)
    if variant is not None:
        derived = variant(derived)
    examples = [(_x(spec, e.x), list(e.t)) for e in spec.examples]
    if spec.W is not None and spec.b is not None:
        W, b = lists(spec.W), lists(spec.b)
    else:
        from .network_init import initial_network_parameters

        W, b = initial_network_parameters(spec)
    out: list[NetworkStep] = []
    for step, (epoch, rows) in enumerate(batches.steps(steps + 1)):
        ev = evaluate_network(
            spec.input_shape,
            spec.network,
            spec.loss,
            W,
            b,
            [examples[r] for r in rows],
            plans=derived,
        )
        grads = {
            f"grad_{name}[{l}]": g
            for name, gs in (("W", ev.grad_W), ("b", ev.grad_b))
            for l, g in enumerate(gs)
        }
        update = updater.apply({"W": list(W), "b": list(b)}, grads, step, epoch)
        record = NetworkStep(
            step,
            epoch,
            tuple(rows),
            tuple(W),
            tuple(b),
            ev,
            updater.rate(epoch),
            update_W=tuple(update.deltas["W"]),
            update_b=tuple(update.deltas["b"]),
            states=tuple(update.states.items()),
        )
        out.append(record)
        if step == steps:
            break
        W, b = update.params["W"], update.params["b"]
    return NetworkRun(tuple(out))
