"""``check``'s runs: a number printed between two neighbours of one run is read as the
quantity between them.

Texts print quantities in runs: the hidden outputs ``a¹₁ … a¹₄`` of one step, one
after another. When a number sits between two numbers identified as neighbours of
such a run, ``a[l][k−1]`` before it and ``a[l][k+1]`` after it (same kind, layer,
step and example), and ``a[l][k]`` at that step rounds or truncates to it, the number
is ``a[l][k]``, even where some other quantity (a parameter several updates later, say)
happens to round to it: the run is the stronger evidence. The other matches stay
listed after it. (Koech's Figure 2 prints 0.845, 0.132, 0.354, 0.377: 0.132 is
``a[1][1] = 0.13285`` truncated, between ``a[1][0]`` and ``a[1][2]``, not the weight
``W[0][0][1]`` that happens to round to it five updates later.)

At least one of the two neighbours must be a match (confirmed or truncated), not only
a near miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .compare import CONFIRMED, TRUNCATED, judge
from .quantities import Quantity

#: ``(quantity, step, example, time)``: :attr:`.scan.Entry.key`.
Key = tuple[Quantity, int, "int | None", "int | None"]


def _gap(before: Any, after: Any) -> Key | None:
    """The key of the quantity between two neighbours of a run, else ``None``."""
    if before is None or after is None:
        return None
    q0, q1 = before.quantity, after.quantity
    if (q0.kind, before.step, before.example, before.time) != (
        q1.kind,
        after.step,
        after.example,
        after.time,
    ):
        return None
    if not q0.indices or q0.indices[:-1] != q1.indices[:-1]:
        return None
    if q1.indices[-1] != q0.indices[-1] + 2:
        return None
    middle = Quantity(q0.kind, (*q0.indices[:-1], q0.indices[-1] + 1))
    return middle, before.step, before.example, before.time


def fill_runs(results: list[Any], lookup: Mapping[Key, Any], listed: int) -> list[Any]:
    """``results`` (:class:`~.scan.NumberResult`) with the numbers inside runs read as
    the run's quantity; ``lookup`` maps ``(quantity, step, example, time)`` to its
    catalogue entry; ``listed`` is the most matches a number lists."""
    out = list(results)
    for i in range(1, len(out) - 1):
        before, after = out[i - 1], out[i + 1]
        if not (before.matches or after.matches):
            continue
        key = _gap(before.identified, after.identified)
        entry = lookup.get(key) if key is not None else None
        number = out[i]
        if entry is None or number.identified == entry:
            continue
        verdict = judge(entry.value, number.printed)
        if verdict not in (CONFIRMED, TRUNCATED):
            continue
        others = tuple(m for m in number.matches if m != entry)
        out[i] = replace(
            number,
            verdict=verdict,
            matches=((entry, *others))[:listed],
            match_count=len(others) + 1,
            nearest=None,
            convention=None if verdict == CONFIRMED else "truncated, not rounded",
            cause=None,
            explained=False,
        )
    return out


__all__ = ["fill_runs"]
