"""``check`` of a text against a recurrent network: per-step quantities with a time step.

:func:`.scan.scan` reads the text's decimal numbers as for every net; for a spec with a
recurrent layer the catalogue comes from the exact run of
:func:`symbp.symbolic.recurrent_run.run_recurrent` (:func:`recurrent_catalogue`), named
as ``eval --json`` and ``verify`` name them, a per-step quantity with its time step
(:attr:`.scan.Entry.time`, from 1: ``h[0][1] at t=2, step 0``). Identification order,
per update step: for each time step ``t`` the output ``a[L]`` and the loss ``L_t``, then
the cell's values (``h``, ``c``, the gates, ``z``), the other forward values (``a``:
``x_t``, ``h_t`` again, the dense layers' ``z``), ``∂E/∂h_t`` (``delta_h``),
``∂E/∂c_t``, the dense deltas and each gradient's term of step ``t``; then over the
sequence: ``E`` (``loss``), the gradients (sums over the steps), the parameters ``W``,
``U``, ``b``, the initial states, the updates and the optimiser's states. With several
examples the forward values are each example's and the loss and gradients both the
batch mean's and each example's, as for dense nets.

A number that is not confirmed or truncated is then tried against the usual slips of
BPTT texts (:data:`symbp.verify.recurrent.SLIPS`, the same as ``verify``'s: the last
step's loss only, the recurrent term left out of ``∂E/∂h_t``, the loss averaged over the
steps, and under ``bptt: k`` the full-BPTT gradient; :func:`explain_slips`): each slip
is the exact run with that convention. Where a slip's value of some quantity rounds or
truncates to the number and that quantity's true value differs from the slip's, the
number is a near miss **explained** by that slip (verdict ``near``, identified as the
true quantity, ``cause`` the slip's key, ``convention`` its label); the first slip in
:data:`~symbp.verify.recurrent.SLIPS`' order that explains a number is taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from ..symbolic.recurrent_run import RecurrentRun, RecurrentStep, run_recurrent
from .compare import exact
from .quantities import Quantity
from .recurrent import SLIPS
from .scan_slips import capped, explained, leaves

if TYPE_CHECKING:
    from ..spec import Spec
    from .scan import Entry, NumberResult

#: The order of one time step's kinds after the output and the loss (by name without
#: the layer: ``h``, ``gate_i`` …, then the other forward values, then the backward).
_CELL_FIRST = ("h", "c")
_BACKWARD = ("delta_h", "delta_c", "delta", "grad_W", "grad_U", "grad_b")
#: The kinds of the whole sequence, in order after ``loss``.
_WHOLE = ("grad_W", "grad_U", "grad_b", "W", "U", "b", "h0", "c0", "update_W", "update_U",
          "update_b")  # fmt: skip
_PER_EXAMPLE = ("loss", "grad_W", "grad_U", "grad_b")


def _kind(name: str) -> str:
    return name.split("[")[0]


def _ordered(names: list[str], depth: int) -> list[str]:
    """One time step's array names in the identification order (module docstring)."""
    output = f"a[{depth}]"

    def rank(name: str) -> tuple[int, int]:
        kind = _kind(name)
        if name == output:
            return (0, 0)
        if kind == "loss":
            return (1, 0)
        if kind in _CELL_FIRST:
            return (2, _CELL_FIRST.index(kind))
        if kind.startswith("gate_"):
            return (3, 0)
        if kind in _BACKWARD:
            return (6, _BACKWARD.index(kind))
        if kind == "z" and name == "z[0]":
            return (4, 0)
        return (5, 0)

    return sorted(names, key=rank)  # stable: the run's order within a rank


def _whole_rank(name: str) -> int:
    kind = _kind(name)
    if kind == "loss":
        return 0
    return 1 + (_WHOLE.index(kind) if kind in _WHOLE else len(_WHOLE))


def _step_entries(step: RecurrentStep, depth: int, examples: int) -> Iterator[Entry]:
    from .scan import Entry

    several = examples > 1
    picks: list[int | None] = [None] + (list(range(examples)) if several else [])
    k = step.step
    steps = len(step.evaluation.times)
    for t in range(1, steps + 1):
        for example in picks:
            arrays = step.arrays(t, example)
            for name in _ordered(list(arrays), depth):
                kind = _kind(name)
                mean_like = kind == "loss" or kind.startswith("grad_")
                if example is None and several and not mean_like:
                    continue  # forward values belong to an example
                yield from _entries(Entry, name, arrays[name], k, example, t)
    for example in picks:
        arrays = step.arrays(None, example)
        for name in sorted(arrays, key=_whole_rank):
            if example is not None and _kind(name) not in _PER_EXAMPLE:
                continue  # parameters, updates and states are the batch's
            yield from _entries(Entry, name, arrays[name], k, example, None)


def _entries(
    make: Any, name: str, value: Any, step: int, example: int | None, time: int | None
) -> Iterator[Entry]:
    if value is None:
        return
    if "[" not in name:  # loss, grad_norm, clip_scale: scalars
        yield make(Quantity(name, ()), step, example, exact(value), time)
        return
    for idx, v in leaves((), value):
        yield make(Quantity(name, idx), step, example, exact(v), time)


def recurrent_catalogue(
    run: RecurrentRun, spec: Spec, max_examples: int, max_entries: int
) -> list[Entry]:
    """Every quantity value of every step and time step of ``run`` (module docstring)."""
    examples = min(len(spec.examples), max_examples)
    depth = len(spec.network)
    return capped(run.steps, lambda step: _step_entries(step, depth, examples), max_entries)


def explain_slips(
    results: list[NumberResult],
    spec: Spec,
    steps: int,
    entries: list[Entry],
    max_examples: int,
    max_entries: int,
) -> list[NumberResult]:
    """``results`` with the numbers that a usual BPTT slip reproduces explained (see the
    module docstring)."""
    rec = spec.recurrence
    if rec is None:
        return results

    def slipped(change: Any) -> list[Entry]:
        run = run_recurrent(spec, steps, convention=change)
        return recurrent_catalogue(run, spec, max_examples, max_entries)

    slips = (
        (key, label, partial(slipped, change))
        for key, (label, change) in SLIPS.items()
        if not (key == "full-bptt" and rec.bptt is None)
    )
    return explained(results, entries, slips)


__all__ = ["explain_slips", "recurrent_catalogue"]
