"""The numbers of a run, passed to a generated kernel at run time, and the structure key.

A generated module holds a network's *structure*: its sizes, activations, loss,
optimiser kind, schedule kind, frozen parameters and dtype. The *numbers* of the
optimiser (the base learning rate ``lr0``, ``weight_decay``, the optimiser's own
hyperparameters such as ``momentum`` or ``beta1``) and of the schedule (``gamma``,
``step_size``) are arguments: ``train(net, batches, hyper, log)`` takes ``hyper``, a
tuple of float64 in the order of the module's ``HYPER`` names. So a grid over
learning rates, momenta or decays compiles one module, and the compile cache is
keyed by :func:`structure_key`: two specs that differ only in these numbers, their
name, seeds, starting parameters, examples or training options share a module.

Conventions: a number enters the kernel as the float64 nearest to the spec's exact
value (``float(Fraction)``, correctly rounded); a float32 kernel casts the per-step
factors computed from them to float32, as it cast the literals it used to print.
Weight decay is always an argument (``0`` gives the plain update, bit for bit: the
decay term adds an exact zero).

The activations' numeric options (leaky ReLU's ``alpha``) are run-time numbers too
(:func:`activation_slots`): ``alpha_l`` is layer ``l``'s, after the optimiser's and
the schedule's numbers in ``HYPER`` (and after ``clip_norm``), by layer, then by option
name. The kernel's blocks read them as ``act_alpha`` (:func:`activation_local`), bound
to layer ``l``'s value in the kernel's dtype before each of that layer's blocks, so a
block's text names no layer (the piecewise kernel's pieces are shared by every layer).
A recurrent network keeps them compiled in (its kernel is not written for them yet):
there they are part of the structure key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..ops.optimizers import LR0
from ..spec import Spec
from .printer import scalar_symbol

#: The kernel's name of the base learning rate and of the weight decay.
LR0_NAME = "lr0"
WEIGHT_DECAY_NAME = "weight_decay"
#: The kernel's name of the clipping threshold (after the optimiser's and schedule's
#: numbers in ``HYPER``, with ``clip_norm`` only).
CLIP_NAME = "clip_norm"
#: The symbol the optimiser program is given for the weight decay.
WEIGHT_DECAY = sp.Symbol("lambda_wd", nonnegative=True)


@dataclass(frozen=True)
class HyperSlot:
    """One run-time number: its name in ``HYPER``, the symbol it replaces in the
    optimiser's or schedule's formulas, the kernel's local variable, and what it is."""

    name: str
    symbol: sp.Symbol
    local: sp.Symbol
    meaning: str


def slots(spec: Spec) -> tuple[HyperSlot, ...]:
    """The run-time numbers of ``spec``'s kernel, in ``HYPER`` order: ``lr0``,
    ``weight_decay``, the optimiser's hyperparameters (the record's order), then the
    schedule's options (the record's order)."""
    opt = spec.optimizer
    record = opt.optimizer
    out = [
        HyperSlot(LR0_NAME, LR0, scalar_symbol(f"h_{LR0_NAME}"), "base learning rate"),
        HyperSlot(
            WEIGHT_DECAY_NAME,
            WEIGHT_DECAY,
            scalar_symbol(f"h_{WEIGHT_DECAY_NAME}"),
            "L2 weight decay",
        ),
    ]
    for name in record.hyperparameters:
        out.append(
            HyperSlot(
                name, record.symbol(name), scalar_symbol(f"h_{name}"), f"{record.name} {name}"
            )
        )
    for name in opt.schedule.hyperparameters:
        out.append(
            HyperSlot(
                name,
                sp.Symbol(name, positive=True),
                scalar_symbol(f"h_{name}"),
                f"{opt.schedule.name} schedule {name}",
            )
        )
    if opt.clip_norm is not None:  # a recurrent net's clipping (the clip_norm option)
        out.append(
            HyperSlot(
                CLIP_NAME,
                sp.Symbol(CLIP_NAME, positive=True),
                scalar_symbol("h_clip"),
                "clipping norm",
            )
        )
    return tuple(out)


def activation_local(option: str) -> sp.Symbol:
    """The symbol a kernel block reads for its layer's activation option ``option``
    (``act_alpha``): the same name in every layer's block."""
    return scalar_symbol(f"act_{option}")


def run_time_numbers(spec: Spec) -> bool:
    """Whether ``spec``'s kernel takes its activations' numbers at run time (every
    network but a recurrent one)."""
    return spec.recurrence is None


def activation_slots(spec: Spec) -> tuple[HyperSlot, ...]:
    """The activations' numbers of ``spec``'s kernel: ``<option>_<l>`` for each numeric
    option of layer ``l``'s activation (``alpha_1``), by layer, then by option name."""
    if not run_time_numbers(spec):
        return ()
    out = []
    for l, activation in enumerate(spec.activations, start=1):
        for option in sorted(activation.params):
            out.append(
                HyperSlot(
                    f"{option}_{l}",
                    activation_local(option),
                    scalar_symbol(f"h_{option}_{l}"),
                    f"layer {l} {activation.name} {option}",
                )
            )
    return tuple(out)


def all_slots(spec: Spec) -> tuple[HyperSlot, ...]:
    """Every run-time number of ``spec``'s kernel, in ``HYPER`` order: :func:`slots`
    (the update's), then :func:`activation_slots`."""
    return slots(spec) + activation_slots(spec)


def exact_values(spec: Spec) -> tuple[sp.Rational, ...]:
    """The spec's exact value of every slot, in ``HYPER`` order."""
    opt = spec.optimizer
    given = {
        LR0_NAME: opt.learning_rate,
        WEIGHT_DECAY_NAME: opt.weight_decay,
        **{name: opt.options[name] for name in opt.optimizer.hyperparameters},
        **dict(opt.schedule_options),
        CLIP_NAME: opt.clip_norm,
    }
    for l, activation in enumerate(spec.activations, start=1):
        for option, value in activation.params.items():
            given[f"{option}_{l}"] = value
    return tuple(sp.Rational(given[s.name]) for s in all_slots(spec))


def values(spec: Spec) -> tuple[float, ...]:
    """The ``hyper`` argument of ``spec``'s kernel: each exact value as the nearest float64."""
    return tuple(float(v) for v in exact_values(spec))


def structure_key(spec: Spec) -> str:
    """SHA-256 (16 hex digits) of what a generated module compiles in: the sizes, each
    activation's kind (its numeric options are run-time numbers, except in a recurrent
    network), the loss (with its options), the optimiser and schedule kinds and the
    frozen parameters; not the numbers (:func:`values`), the name, the seeds, the
    starting parameters, the examples or the training options."""
    from ..spec.dump import _activation, _loss, canonical

    def kind(activation: Any) -> Any:
        if activation.params and run_time_numbers(spec):
            return {"name": activation.name, "run_time": sorted(activation.params)}
        return _activation(activation)

    def entry(layer: Any) -> dict[str, Any]:
        out = layer.to_entry()
        if "activation" in out and hasattr(layer, "activation"):
            out["activation"] = kind(layer.activation)
        return out

    data = {
        "layers": list(spec.layers),
        "activations": [kind(a) for a in spec.activations],
        "loss": _loss(spec.loss),
        "optimizer": spec.optimizer.name,
        "schedule": spec.optimizer.schedule.name,
        "frozen": sorted(f"{kind}[{layer}]" for kind, layer in spec.frozen),
    }
    if not spec.dense_only:  # feature maps: the input's shape and every layer's entry
        data["input"] = list(spec.input_shape)
        data["network"] = [entry(layer) for layer in spec.network]
    rec = spec.recurrence
    if rec is not None:  # sequences: what the recurrent kernel compiles in
        data["recurrence"] = [rec.steps, rec.output, rec.bptt, spec.optimizer.clip_norm is not None]
    text = json.dumps(canonical(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
