"""The cloze handout (``symbp doc --style cloze``): the handout with chosen numbers blanked.

A *slot* is a number the handout computes: the value a worked line ends in (a row
whose right-hand side is one number) or a table cell of a computed quantity (not the
training data, not a parameter before training), unless the same number was already
printed in the clear above it. Slots are taken in the order the document shows them,
and blanked

- where the spec's ``exercise.ask`` names quantities (``a[2][0]``, ``loss``,
  ``grad_W[1][0][0]``, ``W[0][0][0]@1``; parameters default to step 1 as in
  ``symbp exercises``): the table cells of those quantities, and every worked line
  that ends in the same printed number;
- else every ``every``-th slot (the 1st, the ``every + 1``-th, …).

Blank ``n`` prints as a numbered line ``___(n)``; a later worked line that uses the
blanked number as an operand shows ``[n]`` there instead, so no blank is given
away further down. The key (``key=True``) is the same document with each blank
filled in and boxed, numbered alike: the sheet and its key come from one pass
over one document model, so they always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..errors import SymbpError
from .blocks import Aligned, Cell, Row, Table
from .escape import Tex
from .model import Document, LayerSection, Part, Worked

#: Without ``exercise.ask``, every this-many-th computed number is blanked.
CLOZE_EVERY = 3
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?: \\times 10\^\{-?\d+\})?")
_ASK = re.compile(r"^(?P<name>[^@\s]+)\s*(?:@\s*(?P<step>\d+))?$")
#: Tables whose cells are the data the handout gives (never blanked).
_GIVEN_TABLES = ("inputs",)


def _is_number(text: str) -> bool:
    """A printed decimal number: a whole number (0, 1, a target, an index) is never a
    slot, so a blank's ``[n]`` never lands in ``\\frac{1}{2}`` or a subscript."""
    text = text.strip()
    return "." in text and _NUMBER.fullmatch(text) is not None


def _given(cell: Cell) -> bool:
    """The training data and the parameters before training are given, never asked."""
    name = cell.name
    return name.startswith("a[0]") or (name.startswith(("W[", "b[")) and cell.step == 0)


def parse_ask(asks: Sequence[str]) -> set[tuple[str, int]]:
    """``exercise.ask`` entries as ``(name, step)``; one line naming the entry if bad."""
    out = set()
    for n, text in enumerate(asks):
        match = _ASK.match(text.strip())
        if match is None:
            raise SymbpError(
                f"exercise.ask[{n}]: expected QUANTITY or QUANTITY@STEP, found {text!r}"
            )
        name = match.group("name").replace(" ", "")
        default = 1 if name.startswith(("W[", "b[")) else 0
        step = int(match.group("step")) if match.group("step") else default
        out.add((name, step))
    return out


@dataclass
class _Pass:
    """One walk over the document: which slots are blanked and how they print."""

    every: int
    asked: set[tuple[str, int]]
    key: bool
    count: int = 0
    #: The printed number of each blank, by its number (1-based).
    blanks: dict[int, str] = field(default_factory=dict)
    #: Printed numbers blanked so far -> blank number (for operands further down).
    seen: dict[str, int] = field(default_factory=dict)
    #: With ``asked``: the printed numbers of the asked cells (found in a first pass).
    asked_numbers: set[str] = field(default_factory=set)
    #: Computed numbers already printed in the clear: blanking them later gives nothing.
    shown: set[str] = field(default_factory=set)

    def _slot(self, text: str, cell: Cell | None) -> Tex | None:
        """What a computed number prints as: a reference to its blank, a new blank, or
        ``None`` (itself)."""
        shown = self.reference(text)
        if shown is None and text not in self.shown:
            if self._choose(text, cell):
                return self.blank(text)
            self.shown.add(text)
        return shown

    def _choose(self, text: str, cell: Cell | None) -> bool:
        self.count += 1
        if self.asked:
            if cell is not None and cell.name:
                return (cell.name, cell.step) in self.asked
            return text in self.asked_numbers
        return (self.count - 1) % self.every == 0

    def blank(self, text: str) -> Tex:
        """A new blank for ``text`` (``key``: the number, boxed)."""
        number = len(self.blanks) + 1
        self.blanks[number] = text
        self.seen[text] = number
        if self.key:
            return Tex(rf"\boxed{{{text}}}_{{({number})}}")
        return Tex(rf"\underline{{\qquad\qquad\qquad}}_{{({number})}}")

    def reference(self, text: str) -> Tex | None:
        """A number blanked above, shown again: ``[n]`` on the sheet, itself in the key."""
        if text not in self.seen:
            return None
        return Tex(text) if self.key else Tex(rf"\left[{self.seen[text]}\right]")

    def operands(self, text: str) -> Tex:
        """``text`` with the numbers blanked above shown as ``[n]`` (the sheet only)."""
        if self.key or not self.seen:
            return Tex(text)
        for number_text, n in sorted(self.seen.items(), key=lambda kv: -len(kv[0])):
            pattern = rf"(?<![\d.]){re.escape(number_text)}(?![\d])"
            text = re.sub(pattern, rf"\\left[{n}\\right]", text)
        return Tex(text)

    def row(self, row: Row) -> Row:
        text = row.rhs.strip()
        if not _is_number(text):
            return replace(row, rhs=self.operands(row.rhs))
        shown = self._slot(text, None)
        return row if shown is None else replace(row, rhs=shown)

    def aligned(self, block: Aligned) -> Aligned:
        return Aligned(tuple(self.row(r) for r in block.rows))

    def cell(self, cell: Cell) -> Cell:
        text = str(cell.content).strip()
        if not isinstance(cell.content, Tex) or _given(cell) or not _is_number(text):
            return cell
        shown = self._slot(text, cell)
        return cell if shown is None else replace(cell, content=shown)

    def table(self, table: Table | None) -> Table | None:
        if table is None or table.key in _GIVEN_TABLES:
            return table
        return replace(table, rows=tuple(tuple(self.cell(c) for c in row) for row in table.rows))

    def items(self, items: tuple[Worked, ...]) -> tuple[Worked, ...]:
        return tuple(replace(i, body=self.aligned(i.body)) for i in items)

    def sections(self, sections: tuple[LayerSection, ...]) -> tuple[LayerSection, ...]:
        return tuple(
            replace(s, items=self.items(s.items), table=self.table(s.table)) for s in sections
        )

    def parts(self, parts: tuple[Part, ...]) -> tuple[Part, ...]:
        return tuple(replace(p, sections=self.sections(p.sections)) for p in parts)

    def document(self, doc: Document) -> Document:
        # In the order the templates show the sections.
        forward = self.sections(doc.forward_worked)
        loss = self.items(doc.loss_worked)
        backward = self.sections(doc.backward_worked)
        after_backward = self.parts(doc.after_backward)
        update = self.sections(doc.update_worked)
        after_update = self.parts(doc.after_update)
        trajectory = self.table(doc.trajectory)
        return replace(
            doc,
            forward_worked=forward,
            loss_worked=loss,
            backward_worked=backward,
            after_backward=after_backward,
            update_worked=update,
            after_update=after_update,
            trajectory=trajectory,
        )


def _asked_numbers(doc: Document, asked: set[tuple[str, int]]) -> set[str]:
    """The printed numbers of the table cells the asked quantities name."""
    found: set[str] = set()
    tables = [s.table for s in (*doc.forward_worked, *doc.backward_worked, *doc.update_worked)]
    tables += [s.table for p in (*doc.after_backward, *doc.after_update) for s in p.sections]
    tables.append(doc.trajectory)
    for table in tables:
        for row in table.rows if table is not None else ():
            for c in row:
                if c.name and (c.name, c.step) in asked:
                    found.add(str(c.content).strip())
    return found


def cloze(
    doc: Document, *, every: int = CLOZE_EVERY, ask: Sequence[str] = (), key: bool = False
) -> tuple[Document, dict[int, str]]:
    """``doc`` (a handout) with its chosen numbers blanked (``key``: filled in, boxed),
    and the printed number of each blank by its number."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise SymbpError(f"blank_every: expected a whole number >= 1, found {every!r}")
    asked = parse_ask(ask)
    walk = _Pass(every, asked, key)
    if asked:
        walk.asked_numbers = _asked_numbers(doc, asked)
        if not walk.asked_numbers:
            names = ", ".join(sorted(f"{n}@{s}" for n, s in asked))
            raise SymbpError(
                f"exercise.ask: none of {names} is a number of the handout; "
                "name quantities its tables show (a, z, delta, grad_W, grad_b, W@1, b@1, loss)"
            )
    out = walk.document(doc)
    out.cloze = "key" if key else "sheet"
    return out, walk.blanks


__all__ = ["CLOZE_EVERY", "cloze", "parse_ask"]
