"""Every convention an exercise's answers depend on, in the words a student reads.

:func:`conventions` reads them off the spec's records, never off a list of
names: each activation record with its options (leaky ReLU's ``alpha``), the
loss record with its scaling and logarithm, the optimiser record with its
learning rate, every hyper-parameter it holds (defaults included), weight
decay, the schedule record with its constants and the update rule in words,
the batch plan (full batch or minibatches, epochs) and the frozen parameters.
Each :class:`Convention` carries the spec field it comes from (``key``) and its
sentence; the sheet, the key and every quiz item print all of them.

Numbers are written as a teacher writes them: exact decimals (``0.01``), powers
of ten as ``10⁻⁸``. Option names print as their textbook symbols
(:data:`OPTION_SYMBOLS`: ``alpha`` is ``α``, ``momentum`` is ``μ``); a record
option without a symbol here is an error, so a new option cannot be left off a
sheet silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from ..ops.batches import plan_of
from ..spec import Spec

#: Textbook symbols of the records' options (activation, loss, optimiser, schedule).
OPTION_SYMBOLS: dict[str, str] = {
    "alpha": "α",
    "momentum": "μ",
    "beta1": "β₁",
    "beta2": "β₂",
    "eps": "ε",
    "eta_minus": "η⁻",
    "eta_plus": "η⁺",
    "step_min": "Δmin",
    "step_max": "Δmax",
    "gamma": "γ",
    "step_size": "s",
    "log_base": "base",
}
#: Words for an option beside its symbol (``step size s = 2``); others print the symbol only.
OPTION_WORDS: dict[str, str] = {
    "momentum": "momentum",
    "eps": "epsilon",
    "step_size": "step size",
    "alpha": "slope for negative inputs",
    "gamma": "factor",
}
#: Activations in words (by record name; a formula activation prints its formula).
ACTIVATION_WORDS: dict[str, str] = {
    "sigmoid": "the logistic sigmoid σ(z) = 1 / (1 + exp(−z))",
    "tanh": "tanh",
    "relu": "ReLU, max(0, z), with derivative 0 at z = 0",
    "leaky_relu": "leaky ReLU, z for z > 0 and α z otherwise",
    "identity": "the identity (linear output)",
    "softmax": "softmax, a_j = exp(z_j) / Σ_k exp(z_k) over the layer",
}
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Convention:
    """One convention: ``key`` names the spec field it comes from, ``text`` the sentence."""

    key: str
    text: str


def number(value: Any) -> str:
    """``value`` as a teacher writes it: ``0.5``, ``-2``, ``10⁻⁸``, ``0.333333`` (6 digits)."""
    v = Fraction(str(value)) if isinstance(value, sp.Basic) else Fraction(value)
    if v == 0:
        return "0"
    n, d = abs(v.numerator), v.denominator
    if n == 1 and d > 1000 and 10 ** (len(str(d)) - 1) == d:
        return ("−" if v < 0 else "") + "10" + f"-{len(str(d)) - 1}".translate(_SUP)
    for places in range(7):
        if (v * 10**places).denominator == 1:
            text = f"{float(v):.{places}f}" if places else str(v.numerator // v.denominator)
            return text.replace("-", "−")
    return f"{float(v):.6g}".replace("-", "−")


def option(name: str, value: Any) -> str:
    """``μ = 0.9``, ``step size s = 2`` (:data:`OPTION_SYMBOLS`; ``KeyError`` if unknown)."""
    symbol = OPTION_SYMBOLS[name]
    words = OPTION_WORDS.get(name)
    return f"{words + ' ' if words else ''}{symbol} = {number(value)}"


def _activations(spec: Spec) -> Convention:
    def words(act: Any) -> str:
        if act.source is not None:
            return f"f(z) = {act.source}"
        text = ACTIVATION_WORDS.get(act.name, act.name.replace("_", " "))
        opts = ", ".join(option(k, v) for k, v in sorted(act.params.items()))
        return f"{text} ({opts})" if opts else text

    texts = [words(a) for a in spec.activations]
    if len(set(texts)) == 1:
        body = f"{texts[0]}, in every layer"
    else:
        body = "; ".join(f"layer {l + 1}: {t}" for l, t in enumerate(texts))
    return Convention("activations", f"Activation: {body}.")


def _loss(spec: Spec) -> Convention:
    loss = spec.loss
    m = len(spec.examples)
    name = loss.scaling
    if loss.source is not None:
        name = f"ℓ(y, t) = {loss.source}, {loss.scaling}"
    logs = ""
    if loss.term.has(sp.log):
        base = loss.params.get("log_base")
        logs = f", with the logarithm to base {base}" if base else ", with the natural logarithm ln"
    over = "the one example (so E = L)" if m == 1 else f"the {m} examples"
    return Convention(
        "loss",
        f"Loss of one example L: {name}{logs}; the cost E is the mean "
        f"of the per-example losses over {over}, and every gradient is of E.",
    )


def _optimizer(spec: Spec) -> Convention:
    opt = spec.optimizer
    rate = "initial learning rate η₀" if opt.schedule.rule else "learning rate η"
    parts = [f"{rate} = {number(opt.learning_rate)}"]
    parts += [option(k, v) for k, v in opt.options.items()]
    if opt.weight_decay != 0:
        parts.append(f"L2 weight decay λ = {number(opt.weight_decay)}")
    return Convention("optimizer", f"Optimiser: {opt.optimizer.label}, {', '.join(parts)}.")


def _rule(spec: Spec) -> Convention:
    opt = spec.optimizer
    g = "g = ∂E/∂θ + λ θ (weight decay added)" if opt.weight_decay != 0 else "g = ∂E/∂θ"
    return Convention(
        "optimizer.rule",
        f"Update rule, for every parameter θ with gradient {g}: {opt.optimizer.rule}.",
    )


def _schedule(spec: Spec) -> Convention | None:
    opt = spec.optimizer
    if not opt.schedule.rule:
        return None
    consts = ", ".join(option(k, v) for k, v in opt.schedule_options.items())
    per = plan_of(spec).per_epoch
    epoch = "one update" if per == 1 else f"{per} updates"
    return Convention(
        "optimizer.schedule",
        f"Learning-rate schedule ({opt.schedule.name}): {opt.schedule.rule}, with "
        f"η₀ = {number(opt.learning_rate)}, {consts}; epochs count from 0 and one epoch is "
        f"{epoch}.",
    )


def _batches(spec: Spec) -> Convention:
    plan = plan_of(spec)
    m = len(spec.examples)
    if plan.batch >= m:
        text = "one example" if m == 1 else f"all {m} examples"
        body = f"each update is one full-batch step over {text}"
    else:
        order = "shuffled each epoch (symbp's seeded shuffle)" if plan.shuffle else "in order"
        body = f"each update is one step over a minibatch of {plan.batch} examples, taken {order}"
    words = {"W": "the weights", "b": "the biases"}
    frozen = [f"{words[kind]} of layer {l + 1}" for kind, l in sorted(spec.frozen)]
    kept = f"; {', '.join(frozen)} stay fixed (never updated)" if frozen else ""
    examples = ""
    if m > 1:
        examples = "; a question on z, a or δ is about the example it names"
    return Convention("training", f"Steps: {body}{kept}{examples}.")


def conventions(spec: Spec) -> tuple[Convention, ...]:
    """Every convention the answers of ``spec``'s exercises depend on (module docstring)."""
    items = [_loss(spec), _activations(spec), _optimizer(spec), _rule(spec)]
    schedule = _schedule(spec)
    if schedule is not None:
        items.append(schedule)
    items.append(_batches(spec))
    return tuple(items)
