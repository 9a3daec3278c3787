"""Layer-generic derivation: the delta recursion in index form.

For every layer ``l = 1..L`` (sizes kept symbolic, ``n_l``), SymPy takes the layer's
forward map in index form from its record (:meth:`symbp.layers.Layer.forward`; dense:)

    z^l_j = Σ_k w^l_{jk} a^{l-1}_k + b^l_j,        a^l_j = f_l(z^l_j)

and differentiates with respect to a generic element: ``∂z^l_j/∂w^l_{pq}``
gives ``KroneckerDelta``s, which :func:`sympy.concrete.delta.deltasummation`
collapses into the textbook rules

    δ^L_j = ∂L/∂z^L_j                                  (from the loss, below)
    δ^l_k = (Σ_j δ^{l+1}_j w^{l+1}_{jk}) f_l'(z^l_k)    (hidden layers)
    ∂L/∂w^l_{jk} = δ^l_j a^{l-1}_k,    ∂L/∂b^l_j = δ^l_j.

``L`` is the loss of one example; over ``m`` examples ``E = (1/m) Σ L`` and every
gradient is the mean of the per-example gradients. The cost of a derivation does
not depend on the layer widths (they stay symbols), so a 784-512-512-10 network
derives as fast as 3-4-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.concrete.delta import deltasummation

from ..budget import check as check_budget
from ..ops.activations import Activation
from ..ops.losses import Loss
from ..ops.symbols import A, T, Y
from ..spec import Spec
from . import notation as nt

_p, _q = sp.symbols("p q", integer=True, nonnegative=True)


@dataclass(frozen=True)
class LayerFormulas:
    """The formulas of layer ``l`` (1-based) in index form.

    ``delta`` is exact (used for evaluation); ``delta_textbook`` writes
    ``f(z^l_j)`` as ``a^l_j`` and applies the stated ``assumptions`` (e.g.
    one-hot targets, ``Σ_i t_i = 1``, for softmax with cross-entropy).
    """

    layer: int
    activation: Activation
    z: sp.Eq
    a: sp.Eq
    delta: sp.Eq
    delta_textbook: sp.Eq
    grad_W: sp.Eq
    grad_b: sp.Eq
    assumptions: tuple[str, ...] = ()
    #: The output layer's textbook δ before the ``assumptions`` are applied (else ``None``).
    delta_general: sp.Expr | None = None

    @property
    def is_output(self) -> bool:
        return self.delta.rhs.has(nt.TARGET)


@dataclass(frozen=True)
class GenericModel:
    """The layer-generic derivation of a spec: one :class:`LayerFormulas` per layer."""

    spec: Spec
    layers: tuple[LayerFormulas, ...]
    loss: sp.Eq
    cost: sp.Eq
    loss_term: sp.Expr
    loss_derivative: sp.Expr
    output_chain: sp.Expr | None
    #: ``∂L/∂x_k = Σ_i δ^1_i w^1_{ik}``: the input gradient (sensitivity) of one example.
    grad_input: sp.Eq | None = None

    def layer(self, l: int) -> LayerFormulas:
        """The formulas of layer ``l`` (1-based, as in the textbook)."""
        return self.layers[l - 1]


def collapse(expr: sp.Expr) -> sp.Expr:
    """Expand and collapse every ``Sum`` of ``KroneckerDelta`` terms (no simplify)."""
    expr = sp.expand(expr)

    def one(s: sp.Sum) -> sp.Expr:
        body = collapse(s.function)
        if not body.has(sp.KroneckerDelta):
            return sp.Sum(body, *s.limits)
        terms = sp.Add.make_args(sp.expand(body))
        return sp.Add(
            *(deltasummation(_delta_outside(t), s.limits[0], no_piecewise=True) for t in terms)
        )

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def _delta_outside(term: sp.Expr) -> sp.Expr:
    """``Piecewise((δ·A, c), (δ·B, True))`` as ``δ·Piecewise((A, c), (B, True))``.

    SymPy folds a piecewise derivative (leaky ReLU's) and the ``KroneckerDelta``
    into one ``Piecewise``, where ``deltasummation`` cannot see the delta.
    """
    if not isinstance(term, sp.Piecewise):
        return term
    # A zero branch is δ·0 for any δ, so it does not restrict the common factor.
    branches = [sp.Mul.make_args(sp.factor_terms(branch)) for branch, _ in term.args]
    deltas = [
        {f for f in factors if isinstance(f, sp.KroneckerDelta)}
        for factors in branches
        if factors != (sp.Integer(0),)
    ]
    common = set.intersection(*deltas) if deltas else set()
    if not common:
        return term
    rest = [sp.Mul(*(f for f in factors if f not in common)) for factors in branches]
    conditions = [cond for _, cond in term.args]
    return sp.Mul(*common) * sp.Piecewise(*zip(rest, conditions, strict=True))


def pull_out(expr: sp.Expr) -> sp.Expr:
    """Move the factors of each ``Sum`` body that do not involve its index in front."""

    def one(s: sp.Sum) -> sp.Expr:
        index = s.limits[0][0]
        terms = []
        for term in sp.Add.make_args(s.function):
            factors = sp.Mul.make_args(sp.factor_terms(term))
            inside = [f for f in factors if f.has(index)]
            outside = [f for f in factors if not f.has(index)]
            terms.append(sp.Mul(*outside) * sp.Sum(sp.Mul(*inside), *s.limits))
        return sp.Add(*terms)

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def _shorter(*candidates: sp.Expr) -> sp.Expr:
    """The candidate with the fewest operations (the first on ties)."""
    return min(candidates, key=lambda e: sp.count_ops(e, visual=False))


def _activated(activation: Activation, l: int, index: sp.Symbol) -> sp.Expr:
    """``a^l_index`` as a formula in ``z^l`` (normalised over the layer where the record is)."""
    return activation.layer_value(nt.preactivation(l), index, nt.k, nt.size(l))


def _as_activations(expr: sp.Expr, activation: Activation, l: int) -> sp.Expr:
    """Write ``f(z^l_x)`` (a normalised activation's ``g(z^l_x)/Σ``) as ``a^l_x``."""
    z, a = nt.preactivation(l), nt.activation(l)
    if activation.elementwise:
        if activation(_p) == _p:  # the identity: f(z_x) is z_x itself
            return expr.replace(
                lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: a[e.indices]
            )
        return expr.replace(
            lambda e: (
                isinstance(e, sp.Function)
                and len(e.args) == 1
                and isinstance(e.args[0], sp.Indexed)
                and e.args[0].base == z
                and e.func == activation.function
            ),
            lambda e: a[e.args[0].indices],
        )
    norm = sp.Dummy("S", positive=True)
    out = sp.expand(activation.in_outputs(expr, z, a, norm), log=False)
    if out.has(norm):  # the normaliser did not cancel: put it back
        out = out.xreplace({norm: activation.normaliser(z, nt.k, nt.size(l))})
    return out


def _loss_expr(loss: Loss, activation: Activation, L: int) -> sp.Expr:
    i, n = nt.i, nt.size(L)
    term = loss.term.xreplace({Y: _activated(activation, L, i), T: nt.TARGET[i]})
    total = sp.Sum(term, (i, 0, n - 1))
    return total / n if loss.reduction == "mean" else total


def _output_delta(spec: Spec, L: int) -> tuple[sp.Expr, sp.Expr, tuple[str, ...], sp.Expr]:
    """Exact δ^L_p, its textbook form with the assumptions used, and the form before them."""
    activation = spec.activations[-1]
    exact = collapse(sp.diff(_loss_expr(spec.loss, activation, L), nt.preactivation(L)[_p]))
    textbook = pull_out(_as_activations(exact, activation, L))
    chain = _output_chain(spec.loss, activation, L)
    if chain is not None:
        chain = chain.xreplace({nt.j: _p})
        textbook = _shorter(chain, sp.factor(chain), textbook)
    assumptions: tuple[str, ...] = ()
    general = textbook
    target_sum = sp.Sum(nt.TARGET[nt.i], (nt.i, 0, nt.size(L) - 1))
    if textbook.has(target_sum):
        textbook = sp.expand(textbook.xreplace({target_sum: sp.Integer(1)}))
        assumptions = ("the targets of an example sum to 1 (one-hot targets)",)
    return exact, textbook, assumptions, general


def _rename(expr: sp.Expr, mapping: dict[sp.Symbol, sp.Symbol]) -> sp.Expr:
    return expr.xreplace(mapping)


def derive_generic(spec: Spec) -> GenericModel:
    """Derive the layer-generic formulas of ``spec`` (cost independent of widths)."""
    L = spec.depth
    j, k = nt.j, nt.k
    formulas: dict[int, LayerFormulas] = {}
    for l in range(L, 0, -1):
        check_budget()
        activation = spec.activations[l - 1]
        w, b, z, a = nt.weight(l), nt.bias(l), nt.preactivation(l), nt.activation(l)
        z_rhs = spec.network[l - 1].forward(l).rhs
        a_rhs = _activated(activation, l, j)
        assumptions: tuple[str, ...] = ()
        general: sp.Expr | None = None
        if l == L:
            exact, textbook, assumptions, general = _output_delta(spec, L)
        else:
            # δ^l_p = Σ_i δ^{l+1}_i ∂z^{l+1}_i/∂z^l_p, with a^l = f(z^l) for an opaque f:
            # the collapse then leaves f'(z^l_p) outside the sum, whatever f' is.
            d_next = nt.delta(l + 1)
            f = sp.Function("f", real=True)
            z_next = _reading(spec.network[l].forward(l + 1).rhs.xreplace({j: nt.i}), a, z, f)
            local = collapse(sp.diff(z_next, z[_p]))
            generic = pull_out(sp.Sum(d_next[nt.i] * local, (nt.i, 0, nt.size(l + 1) - 1)))
            f_prime = sp.Derivative(f(z[_p]), z[_p])
            exact = generic.xreplace({f_prime: activation.derivative_at(z[_p])})
            if activation.derivative_from_output is not None:
                shown = activation.derivative_from_output.xreplace({A: a[_p]})
            else:
                shown = activation.derivative_at(z[_p])
            textbook = generic.xreplace({f_prime: shown})
            textbook = _as_activations(textbook, activation, l)
        delta_j = {_p: j}
        # ∂z^l_j/∂w^l_{pq} collapses to KroneckerDelta(j, p) a^{l-1}_q; summed against δ^l_j.
        dz_dw = collapse(sp.diff(z_rhs, w[_p, _q]))
        grad_w = collapse(sp.Sum(nt.delta(l)[j] * dz_dw, (j, 0, nt.size(l) - 1)))
        dz_db = collapse(sp.diff(z_rhs, b[_p]))
        grad_b = collapse(sp.Sum(nt.delta(l)[j] * dz_db, (j, 0, nt.size(l) - 1)))
        names = {_p: j, _q: k}
        formulas[l] = LayerFormulas(
            layer=l,
            activation=activation,
            z=sp.Eq(z[j], z_rhs, evaluate=False),
            a=sp.Eq(a[j], a_rhs, evaluate=False),
            delta=sp.Eq(nt.delta(l)[j], _rename(exact, delta_j), evaluate=False),
            delta_textbook=sp.Eq(nt.delta(l)[j], _rename(textbook, delta_j), evaluate=False),
            grad_W=sp.Eq(sp.Derivative(nt.LOSS, w[j, k]), _rename(grad_w, names), evaluate=False),
            grad_b=sp.Eq(sp.Derivative(nt.LOSS, b[j]), _rename(grad_b, names), evaluate=False),
            assumptions=assumptions,
            delta_general=None if general is None else _rename(general, delta_j),
        )
    out = spec.activations[-1]
    return GenericModel(
        spec=spec,
        layers=tuple(formulas[l] for l in range(1, L + 1)),
        loss=sp.Eq(nt.LOSS, _loss_display(spec.loss, L), evaluate=False),
        cost=sp.Eq(
            nt.COST,
            sp.Sum(nt.LOSS_E, (nt.EXAMPLE, 1, nt.N_EXAMPLES)) / nt.N_EXAMPLES,
            evaluate=False,
        ),
        loss_term=spec.loss.term,
        loss_derivative=spec.loss.derivative,
        output_chain=_output_chain(spec.loss, out, L),
        grad_input=_input_gradient(spec),
    )


def _reading(rhs: sp.Expr, a: sp.IndexedBase, z: sp.IndexedBase, f: type[sp.Function]) -> sp.Expr:
    """A forward map ``rhs`` that reads ``a[x]``, reading ``f(z[x])`` instead."""
    return rhs.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == a, lambda e: f(z[e.indices])
    )


def _input_gradient(spec: Spec) -> sp.Eq:
    """``∂L/∂a^0_k``: ``∂z^1_i/∂a^0_p`` collapsed and summed against ``δ^1_i``."""
    k, i = nt.k, nt.i
    z1 = spec.network[0].forward(1).rhs.xreplace({nt.j: i})
    local = collapse(sp.diff(z1, nt.activation(0)[_p]))
    rhs = pull_out(sp.Sum(nt.delta(1)[i] * local, (i, 0, nt.size(1) - 1))).xreplace({_p: k})
    return sp.Eq(sp.Derivative(nt.LOSS, nt.activation(0)[k]), rhs, evaluate=False)


def _loss_display(loss: Loss, L: int) -> sp.Expr:
    """``L`` in terms of the outputs ``a^L_i`` and targets ``t_i``."""
    i, n = nt.i, nt.size(L)
    total = sp.Sum(loss.term.xreplace({Y: nt.activation(L)[i], T: nt.TARGET[i]}), (i, 0, n - 1))
    return total / n if loss.reduction == "mean" else total


def _output_chain(loss: Loss, activation: Activation, L: int) -> sp.Expr | None:
    """``∂L/∂a^L_j · f'(z^L_j)`` before simplification (element-wise outputs only)."""
    if not activation.elementwise:
        return None
    a_j, z_j = nt.activation(L)[nt.j], nt.preactivation(L)[nt.j]
    scale = 1 / nt.size(L) if loss.reduction == "mean" else sp.Integer(1)
    dloss = loss.derivative.xreplace({Y: a_j, T: nt.TARGET[nt.j]})
    if activation.derivative_from_output is not None:
        dact = activation.derivative_from_output.xreplace({A: a_j})
    else:
        dact = activation.derivative_at(z_j)
    return (
        sp.Mul(scale, dloss, dact, evaluate=False)
        if scale != 1
        else sp.Mul(dloss, dact, evaluate=False)
    )
