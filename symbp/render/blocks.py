"""The building blocks of a document model: aligned derivations and tables.

Blocks hold math as :class:`~symbp.render.escape.Tex` (trusted LaTeX from the
printers) and prose as plain ``str`` (escaped by every template). Templates
decide the layout: ``align*`` and ``booktabs`` in LaTeX, CSS grids and tables
with MathML in HTML, ``aligned`` and pipe tables in Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import SymbpError
from .escape import Tex

_SIZING = re.compile(r"\\left|\\right|\\displaystyle|[{}\s]")


def same_math(a: str, b: str) -> bool:
    """Whether two LaTeX formulas read the same (``\\tanh{\\left(x \\right)}`` = ``\\tanh(x)``)."""
    return _SIZING.sub("", a) == _SIZING.sub("", b)


_NUMBER = re.compile(r"\(?-?(?:\d+(?:\.\d+)?(?:\\times10\^-?\d+)?|10\^-?\d+)\)?")


def only_number(text: str) -> bool:
    """Whether ``text`` is one number, parenthesised or not (``\\left(-0.257\\right)``).

    Such a step before the value says nothing (``= (-0.257) = -0.257``): it is dropped.
    """
    return _NUMBER.fullmatch(_SIZING.sub("", text)) is not None


@dataclass(frozen=True)
class Row:
    """One line of an aligned derivation: ``lhs rel rhs``, with an optional note (text)."""

    lhs: Tex | None
    rhs: Tex
    note: str | None = None
    rel: Tex = Tex("=")  # noqa: RUF009 - an immutable str


@dataclass(frozen=True)
class Aligned:
    """A derivation written as lines aligned at their relation signs."""

    rows: tuple[Row, ...]

    @staticmethod
    def chain(lhs: Tex, *rhs: Tex | tuple[Tex, str], rel: str = "=") -> Aligned:
        """``lhs = rhs₁ = rhs₂ …``; a right-hand side that reads as the one before it
        (or as ``lhs``) is dropped.

        Each item is a ``Tex`` or ``(Tex, note)``. A step that is only a number is
        kept only as the last (``= (-0.257) = -0.257`` is one step too many).
        """
        rows: list[Row] = []
        last: str = lhs
        for n, item in enumerate(rhs):
            expr, note = item if isinstance(item, tuple) else (item, None)
            if same_math(expr, last):  # no tautology f(x) = f(x), no repeated step
                continue
            if n < len(rhs) - 1 and only_number(expr) and note is None:
                continue
            rows.append(Row(lhs if not rows else None, Tex(expr), note, Tex(rel)))
            last = expr
        return Aligned(tuple(rows))


@dataclass(frozen=True)
class Mark:
    """A verdict on one number (from ``symbp verify``): ``kind`` is ok, bad or other,
    or answer (an exercise key's asked number: boxed, with ✓)."""

    name: str
    step: int
    verdict: str
    kind: str

    @property
    def symbol(self) -> str:
        return {"ok": "✓", "answer": "✓", "bad": "✗"}.get(self.kind, "?")


@dataclass(frozen=True)
class Cell:
    """A table cell: math (``Tex``) or text (``str``), with an optional verdict mark."""

    content: Tex | str
    mark: Mark | None = None
    #: ``change`` marks the first cell of a row of changes Δθ (a handout leaves those out).
    kind: str = ""
    #: The number's name and step in the ``symbp eval --json`` naming (``""``: none),
    #: so that a cloze (:mod:`.cloze`) can blank the numbers an exercise asks for.
    name: str = ""
    step: int = -1


@dataclass(frozen=True)
class Table:
    """A table with a caption (text), a header row and body rows of cells."""

    key: str
    caption: str
    header: tuple[Tex | str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    align: str = ""

    @property
    def columns(self) -> str:
        """The LaTeX column spec (``l`` first, ``r`` for the rest unless given)."""
        return self.align or "l" + "r" * (len(self.header) - 1)


_OK = ("confirm", "ok", "pass", "match", "agree", "true", "correct", "yes", "verified")
_BAD = (
    "refute", "wrong", "fail", "mismatch", "differ", "disagree", "false", "incorrect",
    "unconfirmed", "not", "no", "off",
)  # fmt: skip


def _kind(verdict: str) -> str:
    """``ok`` (✓), ``bad`` (✗) or ``other`` (?) from the verdict's first word; ``answer``
    (boxed ✓) for a number that answers an exercise's question (``"answer to Q1"``; also
    ``"confirmed answer to Q1"``)."""
    words = verdict.strip().lower().replace("-", " ").split()
    first = words[0] if words else ""
    if first == "answer":
        return "answer"
    if first in _BAD or first.startswith(_BAD[:9]):
        return "bad"
    if first.startswith(_OK) and "answer" in words:
        return "answer"
    if first.startswith(_OK):
        return "ok"
    return "other"


@dataclass
class Marks:
    """Verdicts on numbers, by ``(name, step)`` in the ``symbp eval --json`` naming.

    Names are 0-based as in the spec: ``"a[2][0]"`` (layer 2's first activation,
    ``a[0]`` is the input), ``"z[1][0]"`` (layer 2's weighted input: ``z[l-1]``
    belongs to layer ``l``), ``"delta[...]"`` (as ``z``), ``"W[l][j][k]"``,
    ``"b[l][j]"``, ``"grad_W[l][j][k]"``, ``"grad_b[l][j]"``, ``"loss"``,
    ``"learning_rate"``. ``used`` records which marks landed in a table cell.
    """

    items: dict[tuple[str, int], Mark] = field(default_factory=dict)
    used: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def from_mapping(cls, marks: Mapping[tuple[str, int], str] | None) -> Marks:
        items: dict[tuple[str, int], Mark] = {}
        for key, verdict in (marks or {}).items():
            if (
                not isinstance(key, tuple)
                or len(key) != 2
                or not isinstance(key[0], str)
                or not isinstance(key[1], int)
            ):
                raise SymbpError(
                    f"marks: expected keys (name, step) such as ('a[2][0]', 0), found {key!r}"
                )
            items[key] = Mark(key[0].replace(" ", ""), key[1], str(verdict), _kind(str(verdict)))
        return cls(items)

    def cell(self, content: Tex | str, name: str, step: int) -> Cell:
        """A cell holding ``content``, marked if a verdict was given for ``(name, step)``."""
        mark = self.items.get((name, step))
        if mark is not None:
            self.used.add((name, step))
        return Cell(content, mark, name=name, step=step)

    def legend(self) -> list[Mark]:
        """Every verdict mark, sorted by step and name (for the list under the tables).

        An exercise key's answers (kind ``answer``) are boxed in the tables and listed
        on the key's first page, so the list of checked numbers leaves them out."""
        keys = sorted(self.items, key=lambda k: (k[1], k[0]))
        return [self.items[k] for k in keys if self.items[k].kind != "answer"]

    def unplaced(self) -> list[Mark]:
        """Marks whose number no table shows."""
        return [m for m in self.legend() if (m.name, m.step) not in self.used]
