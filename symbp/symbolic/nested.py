"""Nested lists of exact values, as the runs of networks of layer records hold them
(:mod:`.network_run`, :mod:`.recurrent_run`, :mod:`.network`): copies, floats for JSON,
the flat names of their entries, and a batch's row of an example.

Conventions: ``None`` stands for a layer without the parameter and is kept as ``None``;
an entry's name is its array's name with one ``[k]`` per level (``W[0][1][2]``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import DataError

#: Nested lists of SymPy numbers (``None`` where a layer has none).
Nested = Any


def lists(value: Any) -> Nested:
    """``value`` with every tuple made a list (a fresh copy of the nesting)."""
    if value is None:
        return None
    if isinstance(value, tuple | list):
        return [lists(v) for v in value]
    return value


def floats(value: Nested) -> Any:
    """``value`` with every number as a Python float (``eval --json``)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [floats(v) for v in value]
    return float(value)


def names(prefix: str, value: Nested) -> Iterator[tuple[str, Any]]:
    """Every entry of ``value`` with its name: ``prefix`` and its indices."""
    if isinstance(value, list | tuple):
        for k, part in enumerate(value):
            yield from names(f"{prefix}[{k}]", part)
    else:
        yield prefix, value


def batch_row(rows: Sequence[int], example: int | None, step: int) -> int:
    """The row of the 0-based ``example`` in the batch ``rows`` of update step ``step``
    (``None``: the first row); an example outside the batch is refused in one line."""
    if example is None:
        return 0
    if example not in rows:
        raise DataError(f"example {example} is not in the batch of step {step}")
    return rows.index(example)


__all__ = ["Nested", "batch_row", "floats", "lists", "names"]
