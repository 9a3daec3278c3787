"""Step-by-step derivatives of the activations and the loss, for the backward pass.

Each step is a formula the operator records (:mod:`symbp.ops`) or the
layer-generic model (:mod:`symbp.symbolic.generic`) already hold:

    f(x) = formula                         (the activation record)
    f'(x) = d/dx [formula] = sympy.diff     (differentiated here, no simplify)
          = textbook form                   (the record's ``derivative``)
          = in the output a = f(x)          (``derivative_from_output``)

and for the loss ``ℓ(y, t) → ∂ℓ/∂y`` (the record's ``derivative``), then the
output delta ``δ^L_j = ∂L/∂a^L_j · f'(z^L_j)`` as the generic model writes it
(``output_chain``, then ``delta_textbook``). Custom formulas go the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..ops.activations import Activation
from ..ops.symbols import T, X, Y
from ..symbolic import notation as nt
from ..symbolic.generic import GenericModel
from .blocks import Aligned, same_math
from .escape import Tex
from .mathtex import tex


@dataclass(frozen=True)
class DerivativeSteps:
    """How one activation or the loss is differentiated; ``title`` is text.

    ``steps`` is ``None`` for softmax, whose derivative couples the whole layer
    and is taken inside the output delta.
    """

    title: str
    layers: tuple[int, ...]
    steps: Aligned | None
    definition: Aligned

    @property
    def combined(self) -> Aligned:
        """The definition followed by the derivative, as one aligned block."""
        return Aligned(self.definition.rows + (self.steps.rows if self.steps else ()))


def _call(label: str, *args: str) -> Tex:
    return Tex(rf"{label}\left({', '.join(args)}\right)")


def activation_steps(generic: GenericModel) -> list[DerivativeSteps]:
    """One entry per distinct activation of the spec (layers that share it listed)."""
    spec = generic.spec
    seen: dict[str, list[int]] = {}
    first: dict[str, Activation] = {}
    for l, act in enumerate(spec.activations, start=1):
        seen.setdefault(act.key, []).append(l)
        first.setdefault(act.key, act)
    return [_one_activation(generic, first[key], tuple(layers)) for key, layers in seen.items()]


def _softmax_rhs(generic: GenericModel, l: int) -> sp.Expr:
    return generic.layer(l).a.rhs


def _one_activation(
    generic: GenericModel, act: Activation, layers: tuple[int, ...]
) -> DerivativeSteps:
    title = act.name.replace("_", " ") if act.source is None else f"custom formula {act.source}"
    if not act.elementwise:
        # Softmax couples the layer: its derivative enters through δ^L below.
        l = layers[-1]
        definition = Aligned.chain(tex(nt.activation(l)[nt.j]), tex(_softmax_rhs(generic, l)))
        return DerivativeSteps(title, layers, None, definition)
    fx = _call(act.label, "x")
    shown = tex(act.formula)
    if same_math(shown, fx):  # tanh(x) = tanh(x) says nothing: write it out
        shown = tex(act.formula.rewrite(sp.exp))
    definition = Aligned.chain(fx, shown)
    raw = sp.diff(act.formula, X)
    rhs: list[Tex | tuple[Tex, str]] = [
        Tex(rf"\frac{{d}}{{dx}} \left({tex(act.formula)}\right)"),
        tex(raw),
        tex(act.derivative),
    ]
    if act.derivative_from_output is not None and act.derivative_from_output != act.derivative:
        rhs.append((tex(act.derivative_from_output), "with a = f(x), the neuron's output"))
    steps = Aligned.chain(Tex(rf"{act.label}'\left(x\right)"), *rhs)
    return DerivativeSteps(title, layers, steps, definition)


def loss_steps(generic: GenericModel) -> DerivativeSteps:
    """``ℓ(y, t)`` and ``∂ℓ/∂y`` from the loss record."""
    loss = generic.spec.loss
    ell = Tex(r"\ell\left(y, t\right)")
    definition = Aligned.chain(ell, tex(loss.term))
    steps = Aligned.chain(
        Tex(r"\frac{\partial \ell}{\partial y}"),
        Tex(rf"\frac{{\partial}}{{\partial y}} \left({tex(loss.term)}\right)"),
        tex(loss.derivative),
    )
    title = loss.name.replace("_", " ") if loss.source is None else f"custom formula {loss.source}"
    return DerivativeSteps(title, (), steps, definition)


def output_delta(generic: GenericModel) -> Aligned:
    """``δ^L_j = ∂L/∂z^L_j``: chain rule, product of the two derivatives, textbook form."""
    spec = generic.spec
    L = spec.depth
    layer = generic.layer(L)
    delta, a, z = nt.delta(L)[nt.j], nt.activation(L)[nt.j], nt.preactivation(L)[nt.j]
    lhs = tex(delta)
    by_chain = Tex(
        rf"\frac{{\partial L}}{{\partial {tex(z)}}}"
        if not spec.activations[-1].elementwise
        else rf"\frac{{\partial L}}{{\partial {tex(a)}}} \cdot \frac{{\partial {tex(a)}}}"
        rf"{{\partial {tex(z)}}}"
    )
    rhs: list[Tex | tuple[Tex, str]] = [by_chain]
    if generic.output_chain is not None:
        rhs.append(tex(generic.output_chain))
    note = "; ".join(f"assuming {a}" for a in layer.assumptions) or None
    final = tex(layer.delta_textbook.rhs)
    rhs.append((final, note) if note else final)
    return Aligned.chain(lhs, *rhs)


def loss_in_output(generic: GenericModel) -> Aligned:
    """``∂L/∂a^L_j``: the reduction's factor times ``∂ℓ/∂y`` at ``(a^L_j, t_j)``."""
    spec = generic.spec
    L = spec.depth
    a, t = nt.activation(L)[nt.j], nt.TARGET[nt.j]
    scale = 1 / nt.size(L) if spec.loss.reduction == "mean" else sp.Integer(1)
    value = spec.loss.derivative.xreplace({Y: a, T: t})
    shown = sp.Mul(scale, value, evaluate=False) if scale != 1 else value
    return Aligned.chain(Tex(rf"\frac{{\partial L}}{{\partial {tex(a)}}}"), tex(shown))


__all__ = ["DerivativeSteps", "activation_steps", "loss_in_output", "loss_steps"]
