"""Optimisers and learning-rate schedules, as element-wise update formulas.

An optimiser's update is a straight-line program over scalars: a list of
assignments ``target := expression`` run in order, for every parameter element.
Expressions are written in :data:`THETA` (the parameter), :data:`G` (its
gradient of the batch-mean loss ``E``, weight decay already added), :data:`LR`
(the learning rate for this update, after the schedule), :data:`K` (the number
of this update, 1-based), the optimiser's state symbols and its
hyperparameter symbols. The exact evaluator substitutes numbers into these
formulas and the kernel generator prints them; both read this one table.

The formulas follow PyTorch's ``torch.optim`` so results can be cross-checked:
``momentum`` keeps ``v := μ v + g`` and steps ``θ := θ − η v``; ``nesterov``
steps ``θ := θ − η (g + μ v)``; ``adam`` uses bias-corrected moments;
``rprop`` is PyTorch's Rprop (sign-based steps, initial step = learning rate).

L2 weight decay (``weight_decay: λ``) replaces ``g`` with ``g + λ θ`` before
the update, for every optimiser. Schedules give the learning rate of epoch
``EPOCH`` (0-based) from the base rate: ``constant``, ``exponential``
(``η₀ γ^epoch``) and ``step`` (``η₀ γ^⌊epoch / step_size⌋``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

THETA = sp.Symbol("theta", real=True)
G = sp.Symbol("g", real=True)
LR = sp.Symbol("eta", positive=True)
K = sp.Symbol("k", positive=True, integer=True)
EPOCH = sp.Symbol("epoch", nonnegative=True, integer=True)
LR0 = sp.Symbol("eta_0", positive=True)

Assignment = tuple[sp.Symbol, sp.Expr]


def _h(name: str) -> sp.Symbol:
    """The symbol of hyperparameter ``name``."""
    return sp.Symbol(name, positive=True)


def _s(name: str) -> sp.Symbol:
    """The symbol of state variable ``name``."""
    return sp.Symbol(name, real=True)


@dataclass(frozen=True)
class Optimizer:
    """One optimiser.

    ``hyperparameters`` maps each option to its default; ``state`` names the
    per-parameter state arrays with their initial value (a formula in ``LR``
    and the hyperparameters); ``program`` is the update, a sequence of
    assignments to state symbols, temporaries and finally :data:`THETA`.
    """

    name: str
    label: str
    hyperparameters: Mapping[str, Fraction]
    state: Mapping[str, sp.Expr]
    program: tuple[Assignment, ...]
    #: The update in words for students (Unicode, textbook symbols; exercise sheets).
    rule: str = ""

    def symbol(self, name: str) -> sp.Symbol:
        """The symbol of a hyperparameter or state variable of this optimiser."""
        return _h(name) if name in self.hyperparameters else _s(name)


def _sgd() -> Optimizer:
    return Optimizer(
        "sgd", "gradient descent", {}, {}, ((THETA, THETA - LR * G),), rule="θ ← θ − η g"
    )


def _momentum() -> Optimizer:
    mu, v = _h("momentum"), _s("v")
    return Optimizer(
        "momentum",
        "gradient descent with momentum",
        {"momentum": Fraction(9, 10)},
        {"v": sp.Integer(0)},
        ((v, mu * v + G), (THETA, THETA - LR * v)),
        rule="v ← μ v + g, then θ ← θ − η v (v starts at 0)",
    )


def _nesterov() -> Optimizer:
    mu, v = _h("momentum"), _s("v")
    return Optimizer(
        "nesterov",
        "Nesterov momentum",
        {"momentum": Fraction(9, 10)},
        {"v": sp.Integer(0)},
        ((v, mu * v + G), (THETA, THETA - LR * (G + mu * v))),
        rule="v ← μ v + g, then θ ← θ − η (g + μ v) (v starts at 0)",
    )


def _adam() -> Optimizer:
    b1, b2, eps = _h("beta1"), _h("beta2"), _h("eps")
    m, v, m_hat, v_hat = _s("m"), _s("v"), _s("m_hat"), _s("v_hat")
    return Optimizer(
        "adam",
        "Adam",
        {"beta1": Fraction(9, 10), "beta2": Fraction(999, 1000), "eps": Fraction(1, 10**8)},
        {"m": sp.Integer(0), "v": sp.Integer(0)},
        (
            (m, b1 * m + (1 - b1) * G),
            (v, b2 * v + (1 - b2) * G**2),
            (m_hat, m / (1 - b1**K)),  # bias corrections (temporaries, not state)
            (v_hat, v / (1 - b2**K)),
            (THETA, THETA - LR * m_hat / (sp.sqrt(v_hat) + eps)),
        ),
        rule=(
            "m ← β₁ m + (1 − β₁) g and v ← β₂ v + (1 − β₂) g², then"
            " θ ← θ − η (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)"
            " (m and v start at 0; t counts the updates from 1)"
        ),
    )


def _rprop() -> Optimizer:
    eta_minus, eta_plus = _h("eta_minus"), _h("eta_plus")
    step_min, step_max = _h("step_min"), _h("step_max")
    step, prev, same, g_used = _s("step"), _s("prev"), _s("same_sign"), _s("g_used")
    return Optimizer(
        "rprop",
        "Rprop",
        {
            "eta_minus": Fraction(1, 2),
            "eta_plus": Fraction(6, 5),
            "step_min": Fraction(1, 10**6),
            "step_max": Fraction(50),
        },
        {"step": LR, "prev": sp.Integer(0)},
        (
            (same, G * prev),
            (
                step,
                sp.Piecewise(  # clamped in every case, as PyTorch (also the first step)
                    (sp.Min(sp.Max(step * eta_plus, step_min), step_max), same > 0),
                    (sp.Min(sp.Max(step * eta_minus, step_min), step_max), same < 0),
                    (sp.Min(sp.Max(step, step_min), step_max), True),
                ),
            ),
            (g_used, sp.Piecewise((0, same < 0), (G, True))),
            (THETA, THETA - sp.sign(g_used) * step),
            (prev, g_used),
        ),
        rule=(
            "each parameter's step size Δ starts at η; it is multiplied by η⁺ when g keeps"
            " its sign and by η⁻ when g changes sign (then kept within [Δmin, Δmax]), and"
            " θ ← θ − sign(g) Δ; after a change of sign g counts as 0 for that update"
        ),
    )


#: Optimisers by spec name.
OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "sgd": _sgd,
    "gd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adam": _adam,
    "rprop": _rprop,
}


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``rate`` is η as a formula in ``LR0`` and ``EPOCH``."""

    name: str
    hyperparameters: Mapping[str, Fraction | None]
    rate: sp.Expr
    #: η in words for students (Unicode; exercise sheets); empty for a constant rate.
    rule: str = ""


def _constant() -> Schedule:
    return Schedule("constant", {}, LR0)


def _exponential() -> Schedule:
    return Schedule(
        "exponential", {"gamma": None}, LR0 * _h("gamma") ** EPOCH, rule="η = η₀ γ^epoch"
    )


def _step() -> Schedule:
    return Schedule(
        "step",
        {"gamma": None, "step_size": None},
        LR0 * _h("gamma") ** sp.floor(EPOCH / _h("step_size")),
        rule="η = η₀ γ^⌊epoch / s⌋ (the rate drops by the factor γ every s epochs)",
    )


#: Schedules by spec name; a ``None`` default means the option is required.
SCHEDULES: dict[str, Callable[[], Schedule]] = {
    "constant": _constant,
    "exponential": _exponential,
    "step": _step,
}


def with_weight_decay(program: tuple[Assignment, ...], decay: sp.Expr) -> tuple[Assignment, ...]:
    """The program with ``g`` replaced by ``g + decay·θ`` (L2 weight decay)."""
    if decay == 0:
        return program
    return tuple((target, expr.xreplace({G: G + decay * THETA})) for target, expr in program)
