"""Check a text directly: find its decimal numbers and name the quantity each one is.

``symbp check TEXT --spec SPEC`` needs no claims file. It reads the text (Markdown,
HTML, LaTeX or plain text, told apart by the file's suffix), finds every *decimal*
number in it and matches each against every quantity of the spec's exact
trajectory (:mod:`.quantities`: ``loss``, ``a``, ``z``, ``delta``, ``W``, ``b``, the
gradients, the updates, ``learning_rate``, ``epoch_loss``) at every step evaluated,
for the mean and, with several examples, for each example.

Conventions:

- A *decimal number* has a point and digits on both sides (``0.521``, ``-2.0``,
  ``1.2e-05``); integers (years, counts, section numbers without a point) are not
  checked, nor a point-separated run such as ``1.2.3``. A leading ``-`` or ``−`` is
  the number's sign unless a letter, digit or closing bracket stands before it
  (``5.3-2.0`` is ``5.3`` and ``2.0``).
- HTML: only text nodes count (tags, attributes, comments and the text of
  ``<script>``, ``<style>``, ``<title>`` and ``<textarea>`` are skipped); LaTeX:
  comments (``%`` to the end of the line) are skipped.
- A number's verdict (the rule of :func:`.compare.judge`): ``confirmed`` when some
  quantity rounds to it at its printed precision, ``truncated`` when one only
  truncates to it, ``near`` when one lies within :data:`NEAR_UNITS` units of its last
  printed digit or within :data:`NEAR_RELATIVE` of its size (or when its negation
  is confirmed: the other sign), ``unmatched`` otherwise.
- Identification: every match is listed (a parameter at step ``k+1`` is the same
  number as after update ``k``); the first is the number's identification. A
  text's run of numbers is read as one quantity over steps, so the first is, in
  order of preference: a quantity equal to the number exactly (a given
  parameter, the rate), the previous number's quantity at the next step, that
  quantity at any step, and else the first in the catalogue's order: earliest
  step first, then the output and the loss, the other forward values, the
  gradients, the parameters, the updates, the rate. A number between two neighbours
  of a run (``a[1][0]``, it, ``a[1][2]``) is the quantity between them where that
  rounds or truncates to it (:mod:`.scan_runs`). Only the :data:`MAX_LISTED`
  first matches are listed (``match_count`` counts them all).
- Steps evaluated: ``steps`` when given, else the spec's ``training`` epochs × steps
  per epoch when it has ``training:``, else :data:`DEFAULT_STEPS`; at most
  :data:`MAX_STEPS`.

Bounded input: a text of more than :data:`MAX_TEXT_BYTES` bytes or with more than
:data:`MAX_NUMBERS` decimal numbers is refused, and so is a catalogue of more than
:data:`MAX_ENTRIES` values (ask for fewer ``--steps``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..errors import SymbpError, quote
from ..escape import html_escape, terminal_text
from ..spec import Spec
from ..symbolic.records import Evaluation, Step
from .compare import CONFIRMED, TRUNCATED, Printed, exact, format_decimal, judge, parse_printed
from .quantities import Quantity
from .scan_runs import fill_runs
from .scan_search import precision, refine
from .scan_slips import capped

#: The largest text ``check`` reads (2 MiB).
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: The most decimal numbers one text may hold.
MAX_NUMBERS = 20_000
#: Steps evaluated when the spec has no ``training:`` and ``steps`` is not given.
DEFAULT_STEPS = 6
#: The most steps ``check`` evaluates.
MAX_STEPS = 50
#: The most quantity values (over all steps and examples) the catalogue may hold.
MAX_ENTRIES = 500_000
#: Examples whose own values enter the catalogue (the first ones of the spec).
MAX_EXAMPLES = 20
#: A near-miss lies within this many units of the number's last printed digit ...
NEAR_UNITS = 3
#: ... or within this fraction of the quantity's size.
NEAR_RELATIVE = Fraction(1, 100)
#: Matches listed per number (the count of all is kept).
MAX_LISTED = 10

NEAR = "near"
UNMATCHED = "unmatched"
VERDICTS = (CONFIRMED, TRUNCATED, NEAR, UNMATCHED)
FORMATS = ("md", "html", "tex", "text")
_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".tex": "tex"}

_NUMBER = re.compile(
    r"(?<![\w.])(?:(?<![\w)\]])(?P<sign>[-−]))?"
    r"(?P<digits>\d+\.\d+(?:[eE][-+]?\d+)?)(?!\d|\.\d)"
)
#: HTML elements whose text is not checked (code, or text a ``<mark>`` cannot go into).
_SKIPPED = frozenset({"script", "style", "title", "textarea"})
_LATEX_COMMENT = re.compile(r"(?<!\\)%[^\n]*")


def format_of(path: str | Path) -> str:
    """``md``, ``html``, ``tex`` or ``text``, from ``path``'s suffix."""
    return _SUFFIXES.get(Path(path).suffix.lower(), "text")


@dataclass(frozen=True)
class Found:
    """A decimal number in the text: as written, its offsets, 1-based line and column."""

    text: str
    start: int
    end: int
    line: int
    column: int


class _TextNodes(HTMLParser):
    """The text nodes of an HTML page as ``(offset, text)`` into the original page."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.nodes: list[tuple[int, str]] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIPPED:
            self.skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        line, col = self.getpos()
        offset = self.starts[line - 1] + col
        if self.source[offset : offset + len(data)] == data:
            self.nodes.append((offset, data))


def _segments(text: str, fmt: str) -> Iterator[tuple[int, str]]:
    """The parts of ``text`` numbers are looked for in, as ``(offset, part)``."""
    if fmt == "html":
        parser = _TextNodes(text)
        parser.feed(text)
        parser.close()
        yield from parser.nodes
    elif fmt == "tex":
        yield 0, _LATEX_COMMENT.sub(lambda m: " " * len(m.group()), text)
    else:
        yield 0, text


def find_numbers(text: str, format: str = "text") -> list[Found]:
    """Every decimal number of ``text`` (see the module's conventions), in text order.

    ``format`` is one of :data:`FORMATS`. More than :data:`MAX_NUMBERS` numbers
    raise :class:`~symbp.errors.SymbpError`.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, found {quote(format)}")
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found: list[Found] = []
    for offset, part in _segments(text, format):
        for m in _NUMBER.finditer(part):
            start, end = offset + m.start(), offset + m.end()
            line = bisect.bisect_right(starts, start)
            found.append(Found(m.group(), start, end, line, start - starts[line - 1] + 1))
            if len(found) > MAX_NUMBERS:
                raise SymbpError(
                    f"the text holds more than {MAX_NUMBERS} decimal numbers, the most check reads"
                )
    found.sort(key=lambda f: f.start)
    return found


@dataclass(frozen=True)
class Entry:
    """One value of the trajectory: quantity, step, example (``None``: the mean or shared)
    and, for a recurrent net's per-step quantity, its time step (from 1)."""

    quantity: Quantity
    step: int
    example: int | None
    value: Fraction
    time: int | None = None

    @property
    def key(self) -> tuple[Quantity, int, int | None, int | None]:
        """What names the value: ``(quantity, step, example, time)``."""
        return self.quantity, self.step, self.example, self.time

    @property
    def label(self) -> str:
        """``a[2][0] at step 1`` (with ``, example 2`` where the example is named;
        ``h[0][1] at t=2, step 0`` for a recurrent net's per-step quantity)."""
        where = (
            f" at step {self.step}" if self.time is None else f" at t={self.time}, step {self.step}"
        )
        if self.example is not None:
            where += f", example {self.example}"
        return self.quantity.name + where

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "quantity": self.quantity.name,
            "step": self.step,
            "example": self.example,
        }
        if self.time is not None:
            out["time"] = self.time
        out["exact"] = float(self.value)
        return out


def _indices(shape: Any, prefix: tuple[int, ...] = ()) -> Iterator[tuple[int, ...]]:
    if isinstance(shape, tuple):
        for i, item in enumerate(shape):
            yield from _indices(item, (*prefix, i))
    else:
        yield prefix


#: The catalogue's order of kinds after the output (``a[L]``) and ``loss``.
_ORDER = (
    "a",
    "z",
    "delta",
    "grad_W",
    "grad_b",
    "grad_x",
    "W",
    "b",
    "update_W",
    "update_b",
    "learning_rate",
    "epoch_loss",
)


def _step_entries(step: Step, depth: int, examples: int) -> Iterator[Entry]:
    k = step.index
    several = examples > 1
    picks: list[int | None] = [None] + (list(range(examples)) if several else [])

    def values(kind: str, example: int | None) -> Iterator[Entry]:
        if kind in ("a", "z", "delta"):
            if example is None and several:
                return  # forward values belong to an example
            source: Any = getattr(step.examples[example or 0], kind)
        elif kind in ("loss", "learning_rate", "epoch_loss"):
            if example is not None and kind != "loss":
                return
            scalar = Quantity(kind, ()).value(step, example)
            if scalar is not None:
                yield Entry(Quantity(kind, ()), k, example, exact(scalar))
            return
        elif kind in ("W", "b", "update_W", "update_b"):
            if example is not None:
                return
            source = getattr(step, kind)
        else:  # the gradients: of E, or of one example
            source = getattr(step if example is None else step.examples[example], kind)
        for idx in _indices(tuple(source)):
            q = Quantity(kind, idx if kind != "grad_x" or example is None else (example, *idx))
            item = source
            for i in idx:
                item = item[i]
            yield Entry(q, k, example if kind != "grad_x" else None, exact(item))

    for example in picks:  # the output first, then the loss
        for entry in values("a", example):
            if entry.quantity.indices[0] == depth:
                yield entry
    for example in picks:
        yield from values("loss", example)
    for kind in _ORDER:
        for example in picks:
            for entry in values(kind, example):
                if kind == "a" and entry.quantity.indices[0] == depth:
                    continue
                yield entry


def catalogue(evaluation: Evaluation) -> list[Entry]:
    """Every quantity value of every step, in the identification order (module doc)."""
    spec = evaluation.spec
    examples = min(len(spec.examples), MAX_EXAMPLES)
    steps = evaluation.steps
    return capped(steps, lambda step: _step_entries(step, spec.depth, examples), MAX_ENTRIES)


@dataclass(frozen=True)
class NumberResult:
    """One number of the text, its verdict, what it is and how near it comes."""

    found: Found
    printed: Printed
    verdict: str
    matches: tuple[Entry, ...] = ()
    match_count: int = 0
    nearest: Entry | None = None
    convention: str | None = None
    #: The cause of an explained near miss (:mod:`.scan_search`), else ``None``.
    cause: str | None = None
    #: A near miss that the convention search explains consistently: an identification.
    explained: bool = False

    @property
    def identified(self) -> Entry | None:
        """The quantity the number is taken to be (the first match), else the nearest."""
        return self.matches[0] if self.matches else self.nearest

    @property
    def title(self) -> str:
        """One line: quantity, step, verdict and the exact value (the HTML tooltip)."""
        entry = self.identified
        if entry is None:
            return f"{self.found.text}: unmatched (no quantity within 1% or 3 units)"
        shown = format_decimal(entry.value, max(self.printed.decimals + 3, 6))
        text = f"{entry.label}: {self.verdict} (exact {shown})"
        if self.convention:
            text += f"; {self.convention}"
        if self.match_count > 1:
            text += f"; {self.match_count - 1} more match{'es' if self.match_count > 2 else ''}"
        return text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.found.text,
            "line": self.found.line,
            "column": self.found.column,
            "verdict": self.verdict,
        }
        entry = self.identified
        if entry is not None:
            out.update(entry.to_json())
        out["convention"] = self.convention
        out["cause"] = self.cause
        out["explained"] = self.explained
        out["matches"] = [m.to_json() for m in self.matches]
        out["match_count"] = self.match_count
        return out


@dataclass
class ScanReport:
    """The numbers of one text checked against one spec's trajectory."""

    spec: Spec
    steps: int
    format: str
    results: list[NumberResult] = field(default_factory=list)
    source: str | None = None
    #: With a claims file as the spec: how many identifications the claims confirm
    #: (:func:`.scan_search.precision`).
    precision: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        """How many numbers got each verdict."""
        out = dict.fromkeys(VERDICTS, 0)
        for r in self.results:
            out[r.verdict] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{len(self.results)} decimal numbers: {c[CONFIRMED]} confirmed, "
            f"{c[TRUNCATED]} truncated, {c[NEAR]} near{self._explained()}, "
            f"{c[UNMATCHED]} unmatched "
            f"(steps 0..{self.steps} of {self.spec.name})"
        )

    def _explained(self) -> str:
        n = sum(1 for r in self.results if r.explained)
        return f" ({n} explained)" if n else ""

    def to_text(self, *, all: bool = False) -> str:
        """One line per identified or near number (``all``: the unmatched ones too)."""
        lines = [f"symbp check: {self.source or 'text'} against {self.spec.name}"]
        for r in self.results:
            if r.verdict == UNMATCHED and not all:
                continue
            where = f"{r.found.line}:{r.found.column}"
            lines.append(f"  {where:>8}  {r.found.text:>12}  {r.title}")
        lines.append(self.summary())
        return "\n".join(map(terminal_text, lines)) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.name,
            "text": self.source,
            "format": self.format,
            "steps": self.steps,
            "counts": self.counts(),
            "precision": self.precision,
            "numbers": [r.to_json() for r in self.results],
        }

    def annotated_html(self, text: str) -> str:
        """The text with every number marked (``<mark class=VERDICT title=...>``).

        HTML input keeps its markup (the marks go into its text nodes); other
        formats are escaped into a ``<pre>`` page. The same input gives the same bytes.
        """
        pieces: list[str] = []
        at = 0
        escape = self.format != "html"
        for r in self.results:
            before = text[at : r.found.start]
            pieces.append(html_escape(before) if escape else before)
            pieces.append(
                f'<mark class="{r.verdict}" title="{html_escape(r.title)}">'
                f"{html_escape(r.found.text)}</mark>"
            )
            at = r.found.end
        rest = text[at:]
        pieces.append(html_escape(rest) if escape else rest)
        body = "".join(pieces)
        style = (
            "<style>mark.confirmed{background:#c8f0c8}mark.truncated{background:#e0f0a0}"
            "mark.near{background:#ffe08a}mark.unmatched{background:#eee}</style>"
        )
        if not escape:
            head = re.search(r"<head\b[^>]*>", body, re.IGNORECASE)
            if head:
                return body[: head.end()] + style + body[head.end() :]
            return style + body
        title = html_escape(f"{self.source or 'text'} checked against {self.spec.name}")
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{title}</title>{style}</head><body>\n<h1>{title}</h1>\n"
            f"<p>{html_escape(self.summary())}</p>\n"
            f'<pre style="white-space:pre-wrap">{body}</pre>\n</body></html>\n'
        )


class _Index:
    """The catalogue sorted by value, for the entries near a number."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        order = sorted(range(len(entries)), key=lambda i: (entries[i].value, i))
        self.entries = entries
        self.order = order
        self.keys = [entries[i].value for i in order]

    def within(self, low: Fraction, high: Fraction) -> list[int]:
        """Positions (catalogue order) of the entries with ``low <= value <= high``."""
        lo = bisect.bisect_left(self.keys, low)
        hi = bisect.bisect_right(self.keys, high)
        return sorted(self.order[lo:hi])


def _window(p: Fraction, printed: Printed) -> tuple[Fraction, Fraction]:
    reach = max(NEAR_UNITS * printed.unit, abs(p) * NEAR_RELATIVE / (1 - NEAR_RELATIVE))
    return p - reach, p + reach


def _is_near(value: Fraction, printed: Printed) -> bool:
    gap = abs(value - printed.value)
    return gap <= NEAR_UNITS * printed.unit or gap <= abs(value) * NEAR_RELATIVE


def _check_one(found: Found, index: _Index) -> NumberResult:
    try:
        printed = parse_printed(found.text)
    except ValueError:  # beyond the number limits (a million digits): no quantity is
        return NumberResult(  # that, and reading it exactly would not end
            found, Printed("0", Fraction(0), 0), UNMATCHED, convention="outside the number limits"
        )
    entries = index.entries
    low, high = _window(printed.value, printed)
    candidates = [entries[i] for i in index.within(low, high)]
    confirmed = [e for e in candidates if judge(e.value, printed) == CONFIRMED]
    truncated = [e for e in candidates if judge(e.value, printed) == TRUNCATED]
    matches = confirmed or truncated
    if matches:
        return NumberResult(
            found,
            printed,
            CONFIRMED if confirmed else TRUNCATED,
            tuple(matches),
            len(matches),
            convention=None if confirmed else "truncated, not rounded",
        )
    flipped = Printed(printed.text, -printed.value, printed.decimals)
    low, high = _window(flipped.value, flipped)
    other_sign = [
        entries[i]
        for i in index.within(low, high)
        if judge(entries[i].value, flipped) in (CONFIRMED, TRUNCATED)
    ]
    if other_sign and printed.value != 0:
        return NumberResult(
            found, printed, NEAR, nearest=other_sign[0], convention="the other sign"
        )
    near = [e for e in candidates if _is_near(e.value, printed)]
    if not near:
        return NumberResult(found, printed, UNMATCHED)
    best = min(near, key=lambda e: abs(e.value - printed.value))  # first of the closest
    gap = abs(best.value - printed.value)
    units = gap / printed.unit
    if units <= NEAR_UNITS:
        n = int(units) + (units != int(units))
        convention = f"within {n} unit{'s' if n != 1 else ''} of the last printed digit"
    else:
        convention = f"within {float(gap / abs(best.value)):.2%} of the exact value"
    return NumberResult(found, printed, NEAR, nearest=best, convention=convention)


def default_steps(spec: Spec) -> int:
    """Steps ``check`` evaluates without ``steps``: see the module's conventions."""
    if "training" in spec.data and spec.examples:  # without examples evaluate says so
        from ..ops.batches import plan_of

        return min(spec.training.epochs * plan_of(spec).per_epoch, MAX_STEPS)
    return DEFAULT_STEPS


def scan(
    spec: Spec,
    text: str,
    *,
    format: str = "text",
    steps: int | None = None,
    source: str | None = None,
) -> ScanReport:
    """Check every decimal number of ``text`` against ``spec``'s exact trajectory."""
    from ..symbolic.evaluate import evaluate

    if steps is None:
        steps = default_steps(spec)
    if steps > MAX_STEPS:
        raise SymbpError(
            f"check evaluates at most {MAX_STEPS} steps, found {steps}", field="--steps"
        )
    try:
        found = find_numbers(text, format)
    except SymbpError as err:
        raise err.located(file=source) from None
    if spec.recurrence is not None:  # per-step quantities with a time step
        from ..symbolic.recurrent_run import run_recurrent
        from .scan_recurrent import recurrent_catalogue

        index = _Index(
            recurrent_catalogue(run_recurrent(spec, steps), spec, MAX_EXAMPLES, MAX_ENTRIES)
        )
    elif spec.dense_only:
        evaluation = evaluate(spec, steps)
        index = _Index(catalogue(evaluation))
    else:  # a network of layer records (conv, pool, flatten …)
        from ..symbolic.network_run import run_network
        from .scan_network import network_catalogue

        run = run_network(spec, steps)
        index = _Index(network_catalogue(run, spec, MAX_EXAMPLES, MAX_ENTRIES))
    report = ScanReport(spec, steps, format, source=source)
    previous: Entry | None = None
    for number in (_check_one(f, index) for f in found):
        number = _prefer(number, previous)
        report.results.append(number)
        if number.matches:
            previous = number.matches[0]
    lookup = {e.key: e for e in index.entries}
    report.results = fill_runs(report.results, lookup, MAX_LISTED)
    if spec.recurrence is not None:
        from . import scan_recurrent
        from .recurrent import parse_recurrent_quantity

        report.results = scan_recurrent.explain_slips(
            report.results, spec, steps, list(index.entries), MAX_EXAMPLES, MAX_ENTRIES
        )
        report.precision = precision(report.results, spec, parse_recurrent_quantity)
    elif spec.dense_only:
        report.results = refine(report.results, evaluation)
        report.precision = precision(report.results, spec)
    else:
        from .network import parse_network_quantity
        from .scan_network import explain_slips

        report.results = explain_slips(
            report.results, spec, steps, list(index.entries), MAX_EXAMPLES, MAX_ENTRIES
        )
        report.precision = precision(report.results, spec, parse_network_quantity)
    return report


def _prefer(number: NumberResult, previous: Entry | None) -> NumberResult:
    """``number`` with its matches ordered by the identification rule (module doc)."""
    if len(number.matches) < 2:
        return number

    def rank(entry: Entry) -> int:
        if entry.value == number.printed.value:
            return 0
        same = previous is not None and entry.quantity == previous.quantity
        if same and previous is not None and entry.step == previous.step + 1:
            return 1
        in_time = (  # a run over a recurrent net's time steps
            previous is not None
            and previous.time is not None
            and (entry.step, entry.time) == (previous.step, previous.time + 1)
        )
        if same and in_time:
            return 1
        return 2 if same else 3

    ordered = sorted(number.matches, key=rank)  # stable: catalogue order within a rank
    return replace(number, matches=tuple(ordered[:MAX_LISTED]))


def read_text(path: str | Path) -> str:
    """The text of ``path`` (UTF-8; at most :data:`MAX_TEXT_BYTES`), one-line errors."""
    from ..fileio import read_limited

    data = read_limited(path, MAX_TEXT_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SymbpError(
            f"cannot read the text: not UTF-8 (byte {err.start})", file=str(path)
        ) from None
