"""What the number scans of every kind of net share (dense: :mod:`.scan`, layer records:
:mod:`.scan_network`, recurrent: :mod:`.scan_recurrent`): the capped catalogue of a
run's values, the nested values as leaves, and the explaining of a number by a slip.

Conventions: a catalogue lists the steps' entries in order and refuses, in one line
naming ``--steps``, a run of more than ``max_entries`` values; a number not confirmed is
explained by a slip when the slipped run's value that changed (against the true run,
matched by :attr:`.scan.Entry.key`) within the printed number's last unit is confirmed
or truncated by it: the number becomes ``NEAR`` the true value, with the slip's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import SymbpError
from .compare import CONFIRMED, TRUNCATED, judge

if TYPE_CHECKING:
    from .scan import Entry, NumberResult

S = TypeVar("S")


def leaves(prefix: tuple[int, ...], value: Any) -> Iterator[tuple[tuple[int, ...], Any]]:
    """Every number of the nested lists ``value`` with its indices after ``prefix``
    (``None`` parts left out)."""
    if isinstance(value, list | tuple):
        for k, part in enumerate(value):
            yield from leaves((*prefix, k), part)
    elif value is not None:
        yield prefix, value


def capped(
    steps: Sequence[S], entries_of: Callable[[S], Iterable[Entry]], max_entries: int
) -> list[Entry]:
    """The entries of every step of a run (``entries_of(step)``), in order; more than
    ``max_entries`` are refused in one line."""
    entries: list[Entry] = []
    for step in steps:
        for entry in entries_of(step):
            entries.append(entry)
            if len(entries) > max_entries:
                raise SymbpError(
                    f"more than {max_entries} quantity values over {len(steps) - 1} "
                    "steps; give fewer --steps",
                    field="--steps",
                )
    return entries


def explain(
    out: list[NumberResult],
    open_: list[int],
    truth: dict[Any, Entry],
    slipped: Iterable[Entry],
    label: str,
    cause: str,
) -> None:
    """Mark each number of ``out`` (of the indices ``open_``) that the slip ``cause``
    (called ``label``) reproduces as explained, and take it out of ``open_``; ``truth``
    holds the true run's entries by :attr:`.scan.Entry.key`."""
    from .scan import NEAR, _Index

    changed = [e for e in slipped if (t := truth.get(e.key)) is not None and t.value != e.value]
    index = _Index(changed)
    for i in list(open_):
        printed = out[i].printed
        reach = printed.unit
        hits = [
            changed[j]
            for j in index.within(printed.value - reach, printed.value + reach)
            if judge(changed[j].value, printed) in (CONFIRMED, TRUNCATED)
        ]
        if not hits:
            continue
        out[i] = replace(
            out[i],
            verdict=NEAR,
            nearest=truth[hits[0].key],
            convention=label,
            cause=cause,
            explained=True,
        )
        open_.remove(i)


#: A slip to try: its key (the cause), its label and its run's catalogue, made when tried.
Slip = tuple[str, str, Callable[[], list["Entry"]]]


def explained(
    results: list[NumberResult], entries: list[Entry], slips: Iterable[Slip]
) -> list[NumberResult]:
    """``results`` with the numbers that a slip of ``slips`` reproduces explained (tried in
    order until every number is confirmed or explained; ``entries``: the true run's)."""
    open_ = [i for i, r in enumerate(results) if r.verdict not in (CONFIRMED, TRUNCATED)]
    if not open_:
        return results
    truth = {e.key: e for e in entries}
    out = list(results)
    for cause, label, slipped in slips:
        if not open_:
            break
        explain(out, open_, truth, slipped(), label, cause)
    return out


__all__ = ["Slip", "capped", "explain", "explained", "leaves"]
