"""``symbp eval``'s text for a network of layer records (a :class:`NetworkRun`).

Per step: the batch, then every array by its ``eval --json`` name, one line per row of
its last axis (``a[1][0][2] = [...]`` is row 2 of feature map 0 of ``a[1]``), each value
to ``digits`` significant digits; the parameters, the forward values and ``δ`` of the
batch's first example, the mean loss and gradients of the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sympy as sp

from ..symbolic.network_run import NetworkRun
from .maps import as_number


def _number(value: Any, digits: int) -> str:
    value = as_number(value)
    if value.is_Integer:
        return str(value)
    return f"{float(value):.{max(digits, 1)}g}" if digits <= 15 else str(sp.N(value, digits))


def _rows(name: str, value: Any, digits: int) -> Iterator[str]:
    if value is None:
        yield f"{name} = null"
    elif isinstance(value, list | tuple) and value and isinstance(value[0], list | tuple):
        for k, part in enumerate(value):
            yield from _rows(f"{name}[{k}]", part, digits)
    elif isinstance(value, list | tuple):
        yield f"{name} = [{', '.join(_number(v, digits) for v in value)}]"
    else:
        yield f"{name} = {_number(value, digits)}"


def run_text(run: NetworkRun, digits: int = 6) -> str:
    """The text of ``run`` (see the module docstring)."""
    lines: list[str] = []
    for step in run.steps:
        rows = ", ".join(map(str, step.rows))
        lines.append(
            f"── step {step.step}: parameters after {step.step} update(s); epoch "
            f"{step.epoch}, examples {rows}, learning rate {_number(step.learning_rate, digits)}"
        )
        for name, value in step.arrays().items():
            lines.extend(_rows(name, value, digits))
    return "\n".join(lines) + "\n"
