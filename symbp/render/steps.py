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

    For softmax, whose derivative couples the whole layer, ``steps`` is its
    Jacobian and ``note`` says how it enters the output delta.
    """

    title: str
    layers: tuple[int, ...]
    steps: Aligned | None
    definition: Aligned
    note: str | None = None

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
    title = act.title if act.source is None else f"custom formula {act.source}"
    if not act.elementwise:
        # Softmax couples the layer: its Jacobian, then δ^L below sums over the outputs.
        l = layers[-1]
        definition = Aligned.chain(tex(nt.activation(l)[nt.j]), tex(_softmax_rhs(generic, l)))
        return DerivativeSteps(title, layers, softmax_jacobian(l), definition, SOFTMAX_NOTE)
    fx = _call(act.label, "x")
    shown = tex(act.formula)
    if same_math(shown, fx):  # tanh(x) = tanh(x) says nothing: write it out
        shown = tex(act.formula.rewrite(sp.exp))
    definition = Aligned.chain(fx, shown)
    raw = sp.diff(act.formula, X)
    rhs: list[Tex | tuple[Tex, str]] = [
        Tex(rf"\frac{{d}}{{dx}} \left({tex(act.formula)}\right)"),
    ]
    if act.derivative_shortest == act.derivative:
        rhs += [tex(raw), tex(act.derivative)]
    else:  # sympy.diff's form (``x sign(x)`` for |x|) is only a detour here
        rhs.append((tex(act.derivative_shortest), "simplified"))
    if act.derivative_from_output is not None and act.derivative_from_output != act.derivative:
        rhs.append((tex(act.derivative_from_output), "with a = f(x), the neuron's output"))
    steps = Aligned.chain(Tex(rf"{act.label}'\left(x\right)"), *rhs)
    return DerivativeSteps(title, layers, steps, definition)


SOFTMAX_NOTE = (
    "Softmax couples the outputs of its layer: every output depends on every weighted "
    "input, so its derivative is a matrix, the Jacobian above (by the quotient rule): "
    "on its diagonal each output times one minus itself, off it minus the product of "
    "two outputs. The delta with two indices there is the Kronecker delta, not an error "
    "signal. The output error below sums over the Jacobian."
)
#: What the softmax Jacobian's δ_ij is (the text says it where the formula is used).
KRONECKER_NOTE = "Kronecker delta: 1 if i = j, else 0"


def softmax_jacobian(l: int) -> Aligned:
    """``∂a^l_i/∂z^l_j = a^l_i (δ_ij − a^l_j)`` by the quotient rule, in three steps.

    With ``S = Σ_k e^{z_k}``: ``∂e^{z_i}/∂z_j = δ_ij e^{z_i}`` and ``∂S/∂z_j = e^{z_j}``,
    so ``∂a_i/∂z_j = (δ_ij e^{z_i} S − e^{z_i} e^{z_j}) / S² = a_i δ_ij − a_i a_j``
    (the explicit model differentiates the same function with SymPy, and a test
    compares the two).
    """
    a_i, a_j = tex(nt.activation(l)[nt.i]), tex(nt.activation(l)[nt.j])
    z_i, z_j = tex(nt.preactivation(l)[nt.i]), tex(nt.preactivation(l)[nt.j])
    z_k = tex(nt.preactivation(l)[nt.k])
    norm = rf"\sum_{{k=1}}^{{n_{{{l}}}}} e^{{{z_k}}}"
    lhs = Tex(rf"\frac{{\partial {a_i}}}{{\partial {z_j}}}")
    return Aligned.chain(
        lhs,
        Tex(
            rf"\frac{{\delta_{{ij}} e^{{{z_i}}} {norm} - e^{{{z_i}}} e^{{{z_j}}}}}"
            rf"{{\left({norm}\right)^{{2}}}}"
        ),
        (Tex(rf"{a_i} \delta_{{ij}} - {a_i} {a_j}"), KRONECKER_NOTE),
        Tex(rf"{a_i} \left(\delta_{{ij}} - {a_j}\right)"),
    )


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
    title = loss.title if loss.source is None else f"custom formula {loss.source}"
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
    elif not spec.activations[-1].elementwise:
        rhs += _softmax_chain(generic)
    note = "; ".join(f"assuming {a}" for a in layer.assumptions) or None
    final = tex(layer.delta_textbook.rhs)
    rhs.append((final, note) if note else final)
    return Aligned.chain(lhs, *rhs)


def _softmax_chain(generic: GenericModel) -> list[Tex | tuple[Tex, str]]:
    """``δ^L_j = Σ_i ∂L/∂a_i · ∂a_i/∂z_j``: every output depends on ``z_j`` through the sum."""
    spec = generic.spec
    L = spec.depth
    a, z, t = nt.activation(L), nt.preactivation(L), nt.TARGET
    i, j = nt.i, nt.j
    scale = 1 / nt.size(L) if spec.loss.reduction == "mean" else sp.Integer(1)
    d_loss = spec.loss.derivative.xreplace({Y: a[i], T: t[i]})
    d_loss = sp.Mul(scale, d_loss, evaluate=False) if scale != 1 else d_loss
    n = rf"n_{{{L}}}"
    steps: list[Tex | tuple[Tex, str]] = [
        (
            Tex(
                rf"\sum_{{i=1}}^{{{n}}} \frac{{\partial L}}{{\partial {tex(a[i])}}}"
                rf" \cdot \frac{{\partial {tex(a[i])}}}{{\partial {tex(z[j])}}}"
            ),
            "softmax makes every output depend on every z",
        ),
        Tex(
            rf"\sum_{{i=1}}^{{{n}}} \left({tex(d_loss)}\right) {tex(a[i])}"
            rf" \left(\delta_{{ij}} - {tex(a[j])}\right)"
        ),
    ]
    general = generic.layer(L).delta_general
    if general is not None and general != generic.layer(L).delta_textbook.rhs:
        steps.append(tex(general))
    return steps


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
