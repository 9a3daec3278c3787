"""The verification report: one row per claim, rendered as text, Markdown or HTML.

Columns: the claim's number, the quantity (as the claim wrote it, with the
canonical name where that differs), the step, the printed value, the exact value
with three more decimals than printed, the verdict and, for a claim that is not
confirmed, the first convention that reproduces the printed number. A details
section lists every reproducing convention and the claim's note.

Every cell and heading is escaped for its format by :mod:`symbp.escape`:
:func:`~symbp.escape.terminal_text` for text, :func:`~symbp.escape.md_escape`
for Markdown (as ``symbp doc`` does), :func:`~symbp.escape.html_escape` for HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..escape import html_escape, md_escape, terminal_text
from .claims import Claim
from .compare import (
    CONFIRMED,
    CONSISTENT,
    MISMATCH,
    TRUNCATED,
    exact,
    format_decimal,
    shown_digits,
)
from .conventions import Finding

FORMATS = ("text", "md", "html")


@dataclass(frozen=True)
class ClaimResult:
    """One claim, its exact value, its verdict and the conventions that explain it."""

    claim: Claim
    computed: Any
    verdict: str
    findings: tuple[Finding, ...] = ()
    torch_value: float | None = None
    #: Why the author model calls it ``consistent`` (:mod:`.author`), else ``None``.
    habit: str | None = None
    #: How many of the file's claims the first finding's cause explains (:mod:`.evidence`).
    support: int = 0

    @property
    def grade(self) -> str:
        """``confirmed``, ``consistent``, ``truncated``, ``mismatch explained`` or
        ``mismatch unexplained``."""
        if self.verdict == MISMATCH:
            return "mismatch explained" if self.findings else "mismatch unexplained"
        return self.verdict

    @property
    def name(self) -> str:
        """The canonical (``eval --json``) name of the claimed quantity."""
        return self.claim.quantity.name

    @property
    def quantity_text(self) -> str:
        of = self.claim.of
        text = of if of.replace(" ", "") == self.name else f"{of} ({self.name})"
        return text if self.claim.time is None else f"{text} at time {self.claim.time}"

    @property
    def computed_text(self) -> str:
        return format_decimal(self.computed, shown_digits(self.claim.printed))

    @property
    def explanation(self) -> str:
        """A short reason: the first reproducing convention, or why none was found."""
        if self.verdict == CONFIRMED:
            return ""
        if self.verdict == CONSISTENT:
            cause = self.findings[0].label if self.findings else ""
            return "; ".join(part for part in (cause, self.habit, self._support) if part)
        if self.findings:
            first = self.findings[0]
            how = "" if first.verdict == CONFIRMED else " (truncated)"
            prefix = "or: " if self.verdict == TRUNCATED else ""
            support = f"; {self._support}" if self._support else ""
            return f"{prefix}{first.label}{how}{support}"
        if self.verdict == TRUNCATED:
            rounded = format_decimal(self.computed, self.claim.printed.decimals)
            return f"truncated, not rounded (rounding gives {rounded})"
        gap = abs(self.claim.printed.value - exact(self.computed)) / self.claim.printed.unit
        if gap <= 3:
            return (
                "no listed convention; off by a few units in the last printed digit "
                "(rounding carried from intermediate values?)"
            )
        return "no listed convention reproduces it"

    @property
    def _support(self) -> str:
        """``the cause of 4 of the text's claims`` where the cause explains several."""
        n = self.support
        return f"the cause of {n} of the text's claims" if n > 1 else ""

    def details(self) -> list[str]:
        """Lines for the details section (every reproducing convention, the note).

        The first is the claim's cause; the others are alternatives, which reproduce
        the number too but explain less of the text (:mod:`.evidence`).
        """
        out = []
        digits = shown_digits(self.claim.printed)
        for i, f in enumerate(self.findings):
            how = "rounds" if f.verdict == CONFIRMED else "truncates"
            alternative = "alternative: " if i else ""
            out.append(
                f"{alternative}{f.label}: {format_decimal(f.value, digits)} {how} to "
                f"{self.claim.printed.text}"
            )
        if self.claim.note:
            out.append(f"note: {self.claim.note}")
        return out


@dataclass(frozen=True)
class Report:
    """What ``symbp verify`` found (see :func:`symbp.verify.verify`).

    ``passed`` is true when no claim is a mismatch (truncated values pass but are
    reported) and the optional independent check agreed.
    """

    name: str
    title: str | None
    source: str | None
    path: str | None
    conventions: str
    results: tuple[ClaimResult, ...]
    against: str | None = None
    independent: str | None = None
    independent_ok: bool = True
    #: How the author writes numbers (:func:`symbp.verify.author.infer`), one line.
    author: str | None = None
    #: One-line notes on the worked example (soft targets: :mod:`symbp.ops.losses`).
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.independent_ok and all(r.verdict != MISMATCH for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {CONFIRMED: 0, CONSISTENT: 0, TRUNCATED: 0, MISMATCH: 0}
        for r in self.results:
            out[r.verdict] += 1
        return out

    def explained(self) -> int:
        """How many mismatches a convention explains (the text's misprints, found)."""
        return sum(1 for r in self.results if r.verdict == MISMATCH and r.findings)

    def tally(self) -> str:
        """The counts: ``name: 13 claims: 12 confirmed, 0 truncated, 1 mismatch (1 explained)``."""
        c = self.counts()
        parts = [f"{c[CONFIRMED]} confirmed"]
        if c[CONSISTENT]:
            parts.append(f"{c[CONSISTENT]} consistent")
        parts.append(f"{c[TRUNCATED]} truncated")
        parts.append(
            f"{c[MISMATCH]} mismatch" + (f" ({self.explained()} explained)" if c[MISMATCH] else "")
        )
        extra = (
            f"; {self.against}: {'agrees' if self.independent_ok else 'DISAGREES'}"
            if self.against
            else ""
        )
        return f"{self.name}: {len(self.results)} claims: {', '.join(parts)}{extra}"

    def summary(self) -> str:
        """One line: the counts (:meth:`tally`) and PASS or FAIL."""
        return f"{self.tally()} — {'PASS' if self.passed else 'FAIL'}"

    def to_json(self) -> dict[str, Any]:
        """The verdicts for scripts (``symbp verify --json``).

        Per claim: the quantity as written (``of``) and its canonical name, the step,
        the printed text, the exact value (``computed``: 20 significant digits as
        text, and as a float), the verdict, the explanation, how many of the file's
        claims its cause explains (``support``) and every reproducing convention,
        the cause first (``label``, ``cause``, its value rounded as printed, its verdict).
        """
        claims = []
        for r in self.results:
            digits = shown_digits(r.claim.printed)
            claims.append(
                {
                    "of": r.claim.of,
                    "quantity": r.name,
                    "step": r.claim.step,
                    "example": r.claim.example,
                    **({} if r.claim.time is None else {"time": r.claim.time}),
                    "printed": r.claim.printed.text,
                    "computed": format_decimal(r.computed, 20),
                    "computed_float": float(exact(r.computed)),
                    "verdict": r.verdict,
                    "grade": r.grade,
                    "explanation": r.explanation,
                    "support": r.support,
                    "conventions": [
                        {
                            "label": f.label,
                            "cause": f.cause,
                            "value": format_decimal(f.value, digits),
                            "verdict": f.verdict,
                        }
                        for f in r.findings
                    ],
                    "torch": r.torch_value,
                    "note": r.claim.note,
                }
            )
        return {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "conventions": self.conventions,
            "author": self.author,
            "notes": list(self.notes),
            "passed": self.passed,
            "counts": self.counts(),
            "summary": self.summary(),
            "claims": claims,
        }

    def verdicts(self) -> list[tuple[str, int, str]]:
        """Per claim ``(canonical quantity name, step, verdict)``.

        For example ``("a[2][0]", 1, "confirmed")``; names are those of ``eval --json``
        whatever notation the claim used, verdicts ``confirmed|truncated|mismatch``.
        """
        return [(r.name, r.claim.step, r.verdict) for r in self.results]

    def marks(self) -> dict[tuple[str, int], str]:
        """What ``write_document(marks=)`` takes: ``{(name, step): verdict and cause}``.

        ``"confirmed"``, ``"truncated: …"`` or ``"mismatch: …"`` with the
        explanation of :attr:`ClaimResult.explanation` (the convention that
        reproduces the printed number), e.g. ``("loss", 0): "mismatch: log base 2
        instead of ln"``. Where several claims name one number, the worst wins.
        """
        rank = {CONFIRMED: 0, CONSISTENT: 1, TRUNCATED: 1, MISMATCH: 2}
        worst: dict[tuple[str, int], ClaimResult] = {}
        for r in self.results:
            key = (r.name, r.claim.step)
            if key not in worst or rank[r.verdict] >= rank[worst[key].verdict]:
                worst[key] = r
        return {
            key: r.verdict + (f": {r.explanation.removeprefix('or: ')}" if r.explanation else "")
            for key, r in worst.items()
        }

    @property
    def header(self) -> list[str]:
        """The table's column names (a ``torch`` column with ``against="torch"``)."""
        torch = [self.against] if self.against else []
        return ["#", "quantity", "step", "printed", "computed", *torch, "verdict", "explanation"]

    def mark_map(self) -> dict[tuple[str, int], str]:
        """``{(name, step): verdict}``: :meth:`marks` with the verdict words only.

        Where several claims name the same number (printed at different precisions),
        the worst verdict wins: mismatch, then truncated, then confirmed.
        """
        rank = {CONFIRMED: 0, CONSISTENT: 1, TRUNCATED: 1, MISMATCH: 2}
        out: dict[tuple[str, int], str] = {}
        for name, step, verdict in self.verdicts():
            if rank[verdict] >= rank[out.get((name, step), CONFIRMED)]:
                out[(name, step)] = verdict
        return out

    def rows(self) -> list[list[str]]:
        """The table body as text cells."""
        out = []
        for r in self.results:
            torch = []
            if self.against:
                digits = shown_digits(r.claim.printed)
                tv = r.torch_value
                torch = ["—" if tv is None else format_decimal(Fraction(tv), digits)]
            out.append(
                [
                    str(r.claim.index),
                    r.quantity_text,
                    str(r.claim.step),
                    r.claim.printed.text,
                    r.computed_text,
                    *torch,
                    r.verdict,
                    r.explanation,
                ]
            )
        return out

    def __repr__(self) -> str:
        """One line: the spec's name, the claim counts and PASS or FAIL (:meth:`summary`)."""
        return f"<Report {self.summary()}>"

    def _repr_html_(self) -> str:
        """The report's HTML table for Jupyter: a fragment, its styles scoped to it."""
        return _html_fragment(self)

    def render(self, format: str = "text") -> str:
        """The report as ``text``, ``md`` or ``html``."""
        if format == "text":
            return _text(self)
        if format == "md":
            return _markdown(self)
        if format == "html":
            return _html(self)
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, found {format!r}")


def _heading(report: Report) -> list[str]:
    lines = [f"symbp verify: {report.title or report.name}"]
    if report.source:
        lines.append(f"source: {report.source}")
    if report.path:
        lines.append(f"spec: {report.path}")
    lines.append(f"conventions: {report.conventions}")
    if report.author:
        lines.append(f"author model: {report.author}")
    lines += list(report.notes)
    return lines


def _details(report: Report) -> list[tuple[ClaimResult, list[str]]]:
    return [(r, r.details()) for r in report.results if r.verdict != CONFIRMED]


def _text(report: Report) -> str:
    header = report.header
    rows = [[terminal_text(c) for c in row] for row in [header, *report.rows()]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        return "  ".join([*cells, row[-1]]).rstrip()

    out = [*map(terminal_text, _heading(report)), "", line(rows[0])]
    out += [line(["-" * w for w in widths] + ["-" * 11])]
    out += [line(r) for r in rows[1:]]
    details = _details(report)
    if details:
        out += ["", "details:"]
        for r, lines in details:
            out.append(terminal_text(f"  #{r.claim.index} {r.quantity_text}, step {r.claim.step}:"))
            out += [terminal_text(f"    - {d}") for d in lines]
    if report.independent:
        out += ["", terminal_text(f"independent check: {report.independent}")]
    out += ["", terminal_text(report.summary()), ""]
    return "\n".join(out)


def _markdown(report: Report) -> str:
    head = _heading(report)
    out = [f"# {md_escape(head[0])}", ""]
    out += [f"- {md_escape(h)}" for h in head[1:]]
    header = report.header
    out += ["", "| " + " | ".join(map(md_escape, header)) + " |", "|" + "---|" * len(header)]
    for row in report.rows():
        out.append("| " + " | ".join(md_escape(c) for c in row) + " |")
    details = _details(report)
    if details:
        out += ["", "## Details", ""]
        for r, lines in details:
            out.append(f"- **#{r.claim.index} {md_escape(r.quantity_text)}, step {r.claim.step}**")
            out += [f"  - {md_escape(d)}" for d in lines]
    if report.independent:
        out += ["", f"Independent check: {md_escape(report.independent)}"]
    out += ["", f"**{md_escape(report.summary())}**", ""]
    return "\n".join(out)


_CSS = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    ".confirmed{background:#e6f4ea}.consistent{background:#eef6e0}"
    ".truncated{background:#fff4d6}.mismatch{background:#fde2e1}"
)


def _html(report: Report) -> str:
    e = html_escape
    head = _heading(report)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(head[0])}</title><style>{_CSS}</style></head><body>",
        *_html_body(report),
        "</body></html>",
    ]
    return "\n".join(out) + "\n"


#: :data:`_CSS` for a fragment inside a notebook: every rule scoped to the report's div.
_SCOPED_CSS = (
    ".symbp-verify table{border-collapse:collapse}"
    ".symbp-verify td,.symbp-verify th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    ".symbp-verify .confirmed{background:#e6f4ea}.symbp-verify .truncated{background:#fff4d6}"
    ".symbp-verify .mismatch{background:#fde2e1}"
)


def _html_fragment(report: Report) -> str:
    """The report's body in a ``<div class="symbp-verify">`` with its scoped styles."""
    body = "\n".join(_html_body(report))
    return f'<div class="symbp-verify"><style>{_SCOPED_CSS}</style>\n{body}\n</div>'


def _html_body(report: Report) -> list[str]:
    """The lines of the report's HTML between ``<body>`` and ``</body>`` (text escaped)."""
    e = html_escape
    head = _heading(report)
    out = [
        f"<h1>{e(head[0])}</h1>",
        "<ul>" + "".join(f"<li>{e(h)}</li>" for h in head[1:]) + "</ul>",
        "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in report.header) + "</tr></thead>",
        "<tbody>",
    ]
    for r, row in zip(report.results, report.rows(), strict=True):
        cells = "".join(f"<td>{e(c)}</td>" for c in row)
        out.append(f'<tr class="{e(r.verdict)}">{cells}</tr>')
    out.append("</tbody></table>")
    details = _details(report)
    if details:
        out.append("<h2>Details</h2><ul>")
        for r, lines in details:
            items = "".join(f"<li>{e(d)}</li>" for d in lines)
            title = f"#{r.claim.index} {r.quantity_text}, step {r.claim.step}"
            out.append(f"<li><strong>{e(title)}</strong><ul>{items}</ul></li>")
        out.append("</ul>")
    if report.independent:
        out.append(f"<p>Independent check: {e(report.independent)}</p>")
    out.append(f"<p><strong>{e(report.summary())}</strong></p>")
    return out
