"""Typography of every shipped document, in every format and style.

(The spec's own text, such as its ``source:`` line, is printed literally by design and
is not checked.)

Each shipped document (``docs/<stem>[_handout].<tex|html|md>`` as the code renders it
now, the conv and recurrent examples' included) must have

- no raw ``_``, ``^`` or ``Σ`` in its prose (math belongs in math; code and file names
  in code spans are fine);
- no tautology ``f(x) = f(x)`` and no step repeated in an aligned derivation;
- no zero terms such as ``(-0)``, ``-0 · ln(0.374)`` or ``(1 - 1)``, and no doubled
  parentheses ``((-0.2))``;
- in LaTeX, a ``\\needspace`` before every heading and every short table, and after
  compiling (once per session, :func:`shipped_pdfs`), no overfull box over 1 pt.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

#: The largest overfull box (pt) a shipped PDF may have.
MAX_OVERFULL_PT = 1.0

# --- prose: the text outside math and code ---------------------------------------

_TEX_MATH = re.compile(
    r"\\begin\{(align\*|aligned|tikzpicture)\}.*?\\end\{\1\}|\$\$.*?\$\$|\$[^$]*\$",
    re.S,
)
_TEX_TEXT = re.compile(r"\\text\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEX_CODE = re.compile(r"\\texttt\{(?:[^{}]|\{[^{}]*\})*\}")


def tex_prose(source: str) -> str:
    """The LaTeX source's prose: no comments, math or ``\\texttt``; ``\\text{}`` kept."""
    body = source[source.index(r"\begin{document}") :]
    body = "\n".join(
        line
        for line in body.splitlines()
        if not line.lstrip().startswith("%") and not line.startswith(r"\textbf{Source.}")
    )
    texts = " ".join(m.group(1) for m in _TEX_TEXT.finditer(body))
    prose = _TEX_MATH.sub(" ", body)
    prose = re.sub(r"\\begin\{longtable\}\{[^\n]*", " ", prose)  # column specs
    return _TEX_CODE.sub(" ", prose) + " " + texts


def html_prose(source: str) -> str:
    """The HTML's text outside ``<math>`` (but with its ``<mtext>``), code, SVG and styles."""
    texts = " ".join(re.findall(r"<mtext>(.*?)</mtext>", source, re.S))
    prose = re.sub(
        r"<(math|code|svg|style|title)\b.*?</\1>|<!--.*?-->|<p><strong>Source\..*?</p>",
        " ",
        source,
        flags=re.S,
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", prose) + " " + texts)


def md_prose(source: str) -> str:
    """The Markdown's text outside math, code spans, HTML and comments, unescaped."""
    texts = " ".join(m.group(1) for m in _TEX_TEXT.finditer(source))
    prose = re.sub(
        r"<!--.*?-->|<svg\b.*?</svg>|<sup\b.*?</sup>|^\*\*Source\.\*\*.*?$",
        " ",
        source,
        flags=re.S | re.M,
    )
    prose = re.sub(r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$|`+[^`]*`+", " ", prose, flags=re.S)
    return re.sub(r"\\(.)", r"\1", prose) + " " + texts


def raw_markup(prose: str, kind: str) -> list[str]:
    """Pieces of ``prose`` that show math markup as text."""
    if kind == "tex":
        pattern = r".{0,30}(?:\\_|\\textasciicircum|\$\\Sigma\$|Σ).{0,30}"
    else:
        pattern = r".{0,30}[_^Σ].{0,30}"
    return re.findall(pattern, prose)


# --- aligned derivations -----------------------------------------------------------

_ALIGNED = re.compile(r"\\begin\{(align\*|aligned)\}(.*?)\\end\{\1\}", re.S)
_SIZING = re.compile(r"\\left|\\right|\\displaystyle|[{}\s]")


def _plain(tex: str) -> str:
    return _SIZING.sub("", tex)


_MATRIX = re.compile(r"\\begin\{pmatrix\}.*?\\end\{pmatrix\}", re.S)


def tautologies(source: str) -> list[str]:
    """``lhs = rhs`` rows whose right side reads as their left side or the step before."""
    found = []
    for match in _ALIGNED.finditer(source):
        lhs = previous = None
        # A matrix's rows end in \\ too: those are not rows of the derivation.
        body = _MATRIX.sub(lambda m: m.group(0).replace("\\\\", ";"), match.group(2))
        for row in body.split(r"\\"):
            row = row.split("&&")[0].strip()
            if "&" not in row:
                continue
            left, right = row.split("&", 1)
            if not right.lstrip().startswith("="):
                continue  # a continuation row (+ …) or another relation
            right = right.lstrip()[1:]
            if left.strip():
                lhs, previous = left, None
            if lhs is not None and (_plain(right) == _plain(lhs) or _plain(right) == previous):
                found.append(f"{lhs.strip()} = {right.strip()}")
            previous = _plain(right)
    return found


def math_of(source: str, kind: str) -> str:
    """All the math of a LaTeX or Markdown document (HTML carries the same as MathML)."""
    if kind == "tex":
        return " ".join(m.group(0) for m in _TEX_MATH.finditer(source))
    return " ".join(re.findall(r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$", source, re.S))


_NEGATIVE_ZERO = re.compile(r"(?<![\d.])-\s*0(?![\d.])")
_ZERO_FACTOR = re.compile(r"(?<![\d.])0\s*\\cdot")
_SAME_DIFFERENCE = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*-\s*\1\s*\)")
_DOUBLED = re.compile(r"\(\(([^()]*)\)\)")


def zero_terms(math: str) -> list[str]:
    """``-0``, a zero times something, ``(1 - 1)``: terms that are zero with the numbers."""
    plain = re.sub(r"\\left|\\right", "", math)
    return [
        m.group(0)
        for pattern in (_NEGATIVE_ZERO, _ZERO_FACTOR, _SAME_DIFFERENCE)
        for m in pattern.finditer(plain)
    ]


def doubled_parentheses(math: str) -> list[str]:
    return [m.group(0) for m in _DOUBLED.finditer(_plain(math))]


# --- the checks on every shipped document ------------------------------------------


def _kind(rel: str) -> str:
    return rel.rsplit(".", 1)[1]


def test_the_checks_catch_what_issue_13_found() -> None:
    """The helpers find each problem of the issue's list (and pass the fixed forms)."""
    assert raw_markup(html_prose("<p>assuming Σ_i t_i = 1</p>"), "html")
    assert raw_markup(md_prose("assuming Σ\\_i t\\_i = 1"), "md")
    assert raw_markup(tex_prose(r"\begin{document}(assuming $\Sigma$\_i t\_i = 1)"), "tex")
    assert not raw_markup(tex_prose(r"\begin{document}spec \texttt{a\_b.yaml} $x_i^2$"), "tex")
    assert not raw_markup(md_prose("spec `a_b.yaml` and $x_i^2$"), "md")
    aligned = "\\begin{align*}\n\\tanh\\left(x\\right) &= \\tanh{\\left(x \\right)}\n\\end{align*}"
    assert tautologies(aligned) == [r"\tanh\left(x\right) = \tanh{\left(x \right)}"]
    assert not tautologies("\\begin{align*}\ny &= a \\\\\n &= b\n\\end{align*}")
    assert tautologies("\\begin{align*}\ny &= a + b \\\\\n &= a+b\n\\end{align*}")
    assert zero_terms(r"- 0 \cdot \ln{\left(0.374 \right)}")
    assert zero_terms(r"\left(-0\right)") and zero_terms(r"\frac{1 - 1}{2} + (1 - 1)")
    assert not zero_terms(r"0.5 \cdot 0.0881 - 0.5 \cdot \left(-0.405\right) + 10")
    assert doubled_parentheses(r"\tanh{\left(\left(-0.2\right) \right)}")
    assert not doubled_parentheses(r"\left(\left(y - t\right)^{2}\right)")
    assert not doubled_parentheses(r"\tanh{\left(-0.2 \right)}")


def test_no_raw_markup_in_prose(shipped_documents: dict[str, str]) -> None:
    prose = {"tex": tex_prose, "html": html_prose, "md": md_prose}
    bad = {
        rel: found
        for rel, source in shipped_documents.items()
        if (found := raw_markup(prose[_kind(rel)](source), _kind(rel)))
    }
    assert not bad, bad


def test_no_tautologies_or_repeated_steps(shipped_documents: dict[str, str]) -> None:
    bad = {
        rel: found
        for rel, source in shipped_documents.items()
        if _kind(rel) in ("tex", "md") and (found := tautologies(source))
    }
    assert not bad, bad


def test_no_zero_terms_or_doubled_parentheses(shipped_documents: dict[str, str]) -> None:
    bad = {}
    for rel, source in shipped_documents.items():
        if _kind(rel) == "html":
            continue  # the same math as the Markdown, as MathML
        math = math_of(source, _kind(rel))
        found = zero_terms(math) + doubled_parentheses(math)
        if found:
            bad[rel] = found
    assert not bad, bad


def test_headings_and_short_tables_are_kept_with_what_follows(
    shipped_documents: dict[str, str],
) -> None:
    """``\\needspace`` before each run of headings and before every table of <= 30 rows."""
    for rel, source in shipped_documents.items():
        if _kind(rel) != "tex":
            continue
        lines = source[source.index(r"\begin{document}") :].splitlines()
        for n, line in enumerate(lines):
            if re.match(r"\\(sub)*section\*?\{", line) or line.startswith(r"\begin{longtable}"):
                before = [x for x in lines[max(0, n - 6) : n] if x.strip()]
                gap = "".join(before[-4:])
                assert r"\needspace" in gap, f"{rel}: no \\needspace before {line!r}"


def test_no_overfull_boxes(shipped_pdfs: dict[str, tuple[Path, str]]) -> None:
    from symbp.render.pdf import overfull_boxes

    bad = {}
    for stem, (_pdf, log) in shipped_pdfs.items():
        boxes = [box for box in overfull_boxes(log) if box[0] > MAX_OVERFULL_PT]
        if boxes:
            bad[stem] = boxes
    assert not bad, bad


def test_the_conv_documents_are_checked_and_compiled(
    shipped_documents: dict[str, str], shipped_pdfs: dict[str, tuple[Path, str]]
) -> None:
    """The shipped conv examples (the 8x8, 8-channel digits net included) are among the
    documents checked above and the PDFs compiled for the overfull-box check, with their
    feature-map diagram."""
    for stem in ("conv_1x5x5", "conv_stride2_pad1", "digits_conv_8x8"):
        for name in (stem, f"{stem}_handout"):
            assert r"\begin{tikzpicture}" in shipped_documents[f"docs/{name}.tex"]
            assert f"docs/{name}.html" in shipped_documents
            assert f"docs/{name}.md" in shipped_documents
            assert shipped_pdfs[name][0].read_bytes().startswith(b"%PDF")


def test_the_recurrent_documents_are_checked_and_compiled(
    shipped_documents: dict[str, str], shipped_pdfs: dict[str, tuple[Path, str]]
) -> None:
    """The shipped recurrent examples (issue 29: the 3-step Elman net, the 2-step LSTM, the
    truncated one) are among the documents checked above and the PDFs compiled for the
    overfull-box check, with the network unrolled over time."""
    for stem in ("elman_3step", "lstm_2step_1unit", "elman_bptt2"):
        for name in (stem, f"{stem}_handout"):
            assert r"\begin{tikzpicture}" in shipped_documents[f"docs/{name}.tex"]
            assert '<svg class="diagram unrolled"' in shipped_documents[f"docs/{name}.html"]
            assert '<svg class="diagram unrolled"' in shipped_documents[f"docs/{name}.md"]
            assert shipped_pdfs[name][0].read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("kind", ["tex", "html", "md"])
def test_every_format_and_style_is_checked(shipped_documents: dict[str, str], kind: str) -> None:
    """The checks above see both styles of every shipped example."""
    stems = {Path(rel).stem for rel in shipped_documents if rel.endswith(f".{kind}")}
    assert stems and all(f"{s}_handout" in stems for s in stems if not s.endswith("_handout"))


def test_html_scrolls_wide_blocks_inside_the_page(shipped_documents: dict[str, str]) -> None:
    """The page is at most 52rem wide and every wide block (derivation, table, diagram)
    scrolls or shrinks inside it, so a 1280-px window never scrolls sideways."""
    for rel, source in shipped_documents.items():
        if _kind(rel) != "html":
            continue
        style = source[source.index("<style>") : source.index("</style>")]
        assert "max-width: 52rem" in style, rel
        for selector in (".aligned {", "table {"):
            rule = style[style.index(selector) :].split("}", 1)[0]
            assert "overflow-x: auto" in rule, (rel, selector)
        assert "max-width:100%" in style.replace(" ", ""), rel  # the SVG diagrams


# --- long tables (issue 31, item 4) ----------------------------------------------

_LONGTABLE = re.compile(r"\\begin\{longtable\}.*?\\end\{longtable\}", re.S)


def longtable_faults(source: str) -> list[str]:
    """Long tables that could print a caption twice, leave a header-only ghost on a new
    page (the closing rule not tied to the last row) or split although short."""
    faults = []
    for table in _LONGTABLE.findall(source):
        name = re.search(r"\\caption\*\{([^}]*)\}", table) or re.search(r"\n(.*)\\\\", table)
        label = name.group(1) if name else table[:60]
        head, _, body = table.partition(r"\endlastfoot")
        if not body:
            faults.append(f"{label}: no \\endlastfoot (its closing rule can stand alone)")
            continue
        if r"\caption" in head and (
            r"\endfirsthead" not in head or r"\caption" in head.split(r"\endfirsthead")[1]
        ):
            faults.append(f"{label}: the caption is repeated on every page")
        if r"\bottomrule" in body:
            faults.append(f"{label}: a closing rule after the rows")
        rows = [r for r in body.split("\n") if r.strip() and not r.startswith(r"\end")]
        if len(rows) <= 30 and not all(r.rstrip().endswith("\\\\*") for r in rows):
            faults.append(f"{label}: a short table that may break across pages")
    return faults


def test_the_table_check_catches_what_issue_31_found() -> None:
    old = (
        "\\begin{longtable}{lr}\n\\caption*{The layers}\\\\\n\\toprule\na & b \\\\\n\\midrule\n"
        "\\endhead\n1 & 2 \\\\\n\\bottomrule\n\\end{longtable}"
    )
    assert longtable_faults(old) == [
        "The layers: no \\endlastfoot (its closing rule can stand alone)"
    ]
    new = (
        "\\begin{longtable}{lr}\n\\caption*{The layers}\\\\*\n\\toprule\na & b \\\\\n\\midrule\n"
        "\\endfirsthead\n\\toprule\na & b \\\\\n\\endhead\n\\bottomrule\n\\endlastfoot\n"
        "1 & 2 \\\\*\n\\end{longtable}"
    )
    assert longtable_faults(new) == []
    assert longtable_faults(new.replace("\\endfirsthead\n", "")) == [
        "The layers: the caption is repeated on every page"
    ]
    assert longtable_faults(new.replace("2 \\\\*", "2 \\\\")) == [
        "The layers: a short table that may break across pages"
    ]


def test_long_tables_have_one_caption_no_ghost_and_short_ones_stay_whole(
    shipped_documents: dict[str, str],
) -> None:
    seen = 0
    bad = {}
    for rel, source in shipped_documents.items():
        if _kind(rel) != "tex":
            continue
        seen += source.count(r"\begin{longtable}")
        if found := longtable_faults(source):
            bad[rel] = found
    assert seen > 100
    assert not bad, bad


def test_each_caption_is_printed_once(
    shipped_documents: dict[str, str], shipped_pdfs: dict[str, tuple[Path, str]]
) -> None:
    """In the compiled PDFs a table's caption appears as often as the source has it:
    a table running onto a new page says "(continued)" instead."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDFs")
    bad = {}
    for rel, source in shipped_documents.items():
        if _kind(rel) != "tex":
            continue
        pdf, _log = shipped_pdfs[Path(rel).stem]
        text = " ".join(
            subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout.split()
        )
        captions = [c for c in re.findall(r"\\caption\*\{([^}$\\]*)\}", source)]
        for caption in set(captions):
            if text.count(caption) > captions.count(caption):
                bad.setdefault(rel, []).append(caption)
    assert not bad, bad
