"""The "sequential update" convention: hidden gradients through already-updated weights.

Texts are supposed to compute every gradient at the same parameters and then
update them all (what symbp does). Some code updates the output layer first and
then back-propagates through its *new* weights to get the hidden layers'
gradients. This module evaluates that variant with the spec's own derived
formulas: the forward pass and the output layer's δ are the usual ones; for each
layer below, ``δ^l`` is the spec's layer-``l`` δ formula instantiated with the
already-updated ``w^{l+1}``.

Only plain SGD (``θ ← θ − η·g``, no weight decay) is modelled here.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..spec import Spec
from ..symbolic import notation as nt
from ..symbolic.evaluate import ExampleValues, Step, evaluate, initial_parameters
from ..symbolic.generic import GenericModel
from ..symbolic.instantiate import Env, numeric
from ..symbolic.updates import Updater

Vector = tuple[sp.Expr, ...]
Matrix = tuple[Vector, ...]


def applies_sgd(spec: Spec) -> bool:
    """Whether ``spec`` updates by plain SGD, ``θ ← θ − η·g`` (no weight decay)."""
    opt = spec.optimizer
    return opt.name == "sgd" and opt.weight_decay == 0


def applies(spec: Spec) -> bool:
    """Whether the variant is modelled for ``spec`` (plain SGD and a hidden layer)."""
    return applies_sgd(spec) and spec.depth >= 2


def sequential_steps(spec: Spec, model: GenericModel, steps: int) -> tuple[Step, ...]:
    """``steps + 1`` records like :func:`~symbp.symbolic.evaluate.evaluate`, sequential updates."""
    W, b = initial_parameters(spec)
    updater = Updater(spec)
    records = []
    for index in range(steps + 1):
        step = evaluate(dataclasses.replace(spec, W=W, b=b), 0, model=model).steps[0]
        step = _sequential_backward(spec, model, step, updater.rate(index))
        records.append(step)
        if index < steps:
            W, b = updater.apply(index, W, b, step.grad_W, step.grad_b)
    return tuple(records)


def _minus(theta: Matrix, lr: sp.Expr, grad: Matrix) -> Matrix:
    return tuple(
        tuple(numeric(t - lr * g) for t, g in zip(tr, gr, strict=True))
        for tr, gr in zip(theta, grad, strict=True)
    )


def _mean(items: list[Matrix] | list[Vector]) -> tuple:  # type: ignore[type-arg]
    m = len(items)

    def avg(*values: object) -> object:
        if isinstance(values[0], tuple):
            return tuple(avg(*parts) for parts in zip(*values, strict=True))
        return numeric(sp.Add(*values) / m)  # type: ignore[arg-type]

    return avg(*items)  # type: ignore[return-value]


def _sequential_backward(spec: Spec, model: GenericModel, step: Step, lr: sp.Expr) -> Step:
    L = spec.depth
    sizes = {nt.size(l): sp.Integer(n) for l, n in enumerate(spec.layers)}
    deltas = [list(e.delta) for e in step.examples]
    ex_gW = [list(e.grad_W) for e in step.examples]
    ex_gb = [list(e.grad_b) for e in step.examples]
    grad_W, grad_b = list(step.grad_W), list(step.grad_b)
    upper = step.W[L - 1]
    if ("W", L - 1) not in spec.frozen:
        upper = _minus(step.W[L - 1], lr, step.grad_W[L - 1])
    for l in range(L - 1, 0, -1):  # textbook layer l; its weights are W[l - 1]
        formulas = model.layer(l)
        for e, ex in enumerate(step.examples):
            env = Env(
                {
                    nt.preactivation(l): ex.z[l - 1],
                    nt.activation(l): ex.a[l],
                    nt.activation(l - 1): ex.a[l - 1],
                    nt.delta(l + 1): deltas[e][l],
                    nt.weight(l + 1): upper,
                },
                dict(sizes),
            )
            new_delta = []
            for j in range(spec.layers[l]):
                env.scalars[nt.j] = sp.Integer(j)
                new_delta.append(env.value(formulas.delta.rhs))
            deltas[e][l - 1] = tuple(new_delta)
            env.arrays[nt.delta(l)] = deltas[e][l - 1]
            rows, biases = [], []
            for j in range(spec.layers[l]):
                env.scalars[nt.j] = sp.Integer(j)
                row = []
                for k in range(spec.layers[l - 1]):
                    env.scalars[nt.k] = sp.Integer(k)
                    row.append(env.value(formulas.grad_W.rhs))
                rows.append(tuple(row))
                biases.append(env.value(formulas.grad_b.rhs))
            ex_gW[e][l - 1], ex_gb[e][l - 1] = tuple(rows), tuple(biases)
        grad_W[l - 1] = _mean([g[l - 1] for g in ex_gW])
        grad_b[l - 1] = _mean([g[l - 1] for g in ex_gb])
        if ("W", l - 1) not in spec.frozen:
            upper = _minus(step.W[l - 1], lr, grad_W[l - 1])
        else:
            upper = step.W[l - 1]
    examples = tuple(
        ExampleValues(ex.z, ex.a, tuple(deltas[e]), ex.loss, tuple(ex_gW[e]), tuple(ex_gb[e]))
        for e, ex in enumerate(step.examples)
    )
    return dataclasses.replace(
        step, examples=examples, grad_W=tuple(grad_W), grad_b=tuple(grad_b), learning_rate=lr
    )
