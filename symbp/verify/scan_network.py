"""``check`` of a text against a network of layer records (conv, pool, flatten …).

:func:`.scan.scan` reads the text's decimal numbers as for dense nets; for a network
that is not dense-only the catalogue of quantities comes from the exact run of
:func:`symbp.symbolic.network_run.run_network` (:func:`network_catalogue`), named as
``eval --json`` and ``verify`` name them (``W[0][1][0][1][0]``, ``a[1][0][2][3]``,
``grad_x[0][1][1]``, ``update_W[…]``, ``m_W[…]`` …), in the identification order of
dense nets: per step the output and the loss, then ``a``, ``z``, ``delta``, the
gradients, ``grad_x``, the parameters, the updates, the optimiser's states and the rate.

A number that is not confirmed or truncated is then tried against the classic slips of
conv texts (:data:`symbp.symbolic.network_variants.VARIANTS`: the kernel not rotated in
the input gradient, a true convolution, sum pooling, the max-pool gradient sent to the
whole window; :func:`explain_slips`): each slip is the derived formulas with one change,
run through the same exact evaluator over the same steps. Where a slip's value of some
quantity rounds or truncates to the number, and that quantity's true value differs from
the slip's, the number is a near miss **explained** by that slip: its verdict is
``near``, its identification the true quantity, its ``cause`` the slip's key and its
convention the slip's label. The first slip (in :data:`VARIANTS`' order) that explains a
number is taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..symbolic.network_plan import plan_network
from ..symbolic.network_run import NetworkRun, NetworkStep, run_network
from ..symbolic.network_variants import VARIANTS, applicable, variant
from .compare import exact
from .quantities import Quantity
from .scan_slips import Slip, capped, explained, leaves

if TYPE_CHECKING:
    from ..spec import Spec
    from .scan import Entry, NumberResult

#: The kinds in the catalogue's order after the output (``a[L]``) and ``loss``; the
#: optimiser's states (``m_W``, ``v_b`` …) come between the updates and the rate.
_ORDER = ("a", "z", "delta", "grad_W", "grad_b", "grad_x", "W", "b", "update_W", "update_b")
_FORWARD = ("a", "z", "delta")
#: The kinds of one example besides the forward values (else of the batch).
_PER_EXAMPLE = ("loss", "grad_W", "grad_b", "grad_x")


def _step_entries(
    step: NetworkStep, depth: int, examples: int, states: tuple[str, ...]
) -> Iterator[Entry]:
    from .scan import Entry

    several = examples > 1
    picks: list[int | None] = [None] + (list(range(examples)) if several else [])
    arrays = {e: step.arrays(e) for e in picks}
    k = step.step

    def values(kind: str, example: int | None) -> Iterator[Entry]:
        if kind in _FORWARD and example is None and several:
            return  # forward values belong to an example
        if kind not in (*_FORWARD, *_PER_EXAMPLE) and example is not None:
            return  # parameters, updates, states and the rate are the batch's
        source = arrays[example]
        if kind in ("loss", "learning_rate"):
            yield Entry(Quantity(kind, ()), k, example, exact(source[kind]))
        elif kind == "grad_x":  # one example's: grad_x[e][c][i][j], as dense nets name it
            for idx, v in leaves((), source["grad_x"]):
                q = Quantity("grad_x", idx if example is None else (example, *idx))
                yield Entry(q, k, None, exact(v))
        else:
            count = len(step.W) + (1 if kind == "a" else 0)
            for l in range(count):
                for idx, v in leaves((l,), source.get(f"{kind}[{l}]")):
                    yield Entry(Quantity(kind, idx), k, example, exact(v))

    for example in picks:  # the output first, then the loss
        for entry in values("a", example):
            if entry.quantity.indices[0] == depth:
                yield entry
    for example in picks:
        yield from values("loss", example)
    for kind in (*_ORDER, *states, "learning_rate"):
        for example in picks:
            for entry in values(kind, example):
                if kind == "a" and entry.quantity.indices[0] == depth:
                    continue
                yield entry


def network_catalogue(
    run: NetworkRun, spec: Spec, max_examples: int, max_entries: int
) -> list[Entry]:
    """Every quantity value of every step of ``run`` (see the module docstring)."""
    examples = min(len(spec.examples), max_examples)
    states = tuple(name for name, _ in run.steps[0].states) if run.steps else ()
    depth = len(spec.network)
    return capped(run.steps, lambda step: _step_entries(step, depth, examples, states), max_entries)


def explain_slips(
    results: list[NumberResult],
    spec: Spec,
    steps: int,
    entries: list[Entry],
    max_examples: int,
    max_entries: int,
) -> list[NumberResult]:
    """``results`` with the numbers that a classic conv slip reproduces explained (see the
    module docstring)."""

    def slips() -> Iterator[Slip]:
        plans = plan_network(spec.input_shape, spec.network)
        for key in applicable(plans):

            def slipped(key: str = key) -> list[Entry]:
                run = run_network(spec, steps, variant=variant(key), plans=plans)
                return network_catalogue(run, spec, max_examples, max_entries)

            yield key, VARIANTS[key][0], slipped

    return explained(results, entries, slips())


__all__ = ["explain_slips", "network_catalogue"]
