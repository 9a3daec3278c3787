"""The report: table contents, the three formats, marks, summary, ``-o``, escaping."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

import symbp
from symbp.cli import main
from symbp.verify import Report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPEC: dict[str, Any] = {
    "name": "neuron",
    "title": "One <b>neuron</b> & a | pipe",
    "layers": [2, 1],
    "activations": "sigmoid",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "params": {"W": [[[0.5, -0.4]]], "b": [[0.1]]},
    "example": {"x": [1, 2], "t": [1]},
    "claims": [
        {"of": "y", "printed": 0.4502},
        {"of": "loss", "printed": 0.1511},
        {"of": "w^1_12", "step": 1, "printed": -0.3728},
        {"of": "dE/dw^1_12", "printed": 0.9, "note": "<script>alert(1)</script>"},
    ],
}


@pytest.fixture(scope="module")
def report() -> Report:
    return symbp.verify(SPEC)


def test_rows_marks_and_summary(report: Report) -> None:
    assert report.rows()[0] == ["0", "y (a[1][0])", "0", "0.4502", "0.4501660", "confirmed", ""]
    # ½(1 − 0.4502)² = 0.15114: the text's loss is that of its own rounded output, and
    # the author rounds (0.4502 for 0.45017): consistent, not "truncated"
    assert report.rows()[1][3:6] == ["0.1511", "0.1511587", "consistent"]
    assert report.rows()[1][6] == (
        "rounding carried on: from the printed a[1][0] = 0.4502 (claim #0);"
        " the author rounds elsewhere (2 printed numbers)"
    )
    assert report.results[1].grade == "consistent"
    assert report.results[3].grade == "mismatch unexplained"
    assert (
        report.author
        == "the author rounds (2 printed numbers show it); prints 4 decimals ×3, 1 decimals ×1"
    )
    alone = symbp.verify({**SPEC, "claims": [{"of": "loss", "printed": 0.1511}]})
    assert alone.rows()[0][6] == "truncated, not rounded (rounding gives 0.1512)"
    assert report.verdicts() == [
        ("a[1][0]", 0, "confirmed"),
        ("loss", 0, "consistent"),
        ("W[0][0][1]", 1, "confirmed"),
        ("grad_W[0][0][1]", 0, "mismatch"),
    ]
    marks = report.marks()  # what write_document(marks=) takes, with the causes
    assert marks[("a[1][0]", 0)] == "confirmed"
    assert marks[("loss", 0)] == (
        "consistent: rounding carried on: from the printed a[1][0] = 0.4502 (claim #0);"
        " the author rounds elsewhere (2 printed numbers)"
    )
    assert marks[("grad_W[0][0][1]", 0)].startswith("mismatch: ")
    assert not report.passed
    assert report.summary() == (
        "neuron: 4 claims: 2 confirmed, 1 consistent, 0 truncated, 1 mismatch (0 explained) — FAIL"
    )
    assert "\n" not in report.summary()


def test_text(report: Report) -> None:
    text = report.render("text")
    lines = text.splitlines()
    assert lines[0] == "symbp verify: One <b>neuron</b> & a | pipe"
    header = next(line for line in lines if line.startswith("#"))
    assert header.split() == ["#", "quantity", "step", "printed", "computed", "verdict",
                              "explanation"]  # fmt: skip
    assert text.rstrip().endswith("— FAIL")


def test_markdown_escapes_pipes_and_html(report: Report) -> None:
    """Markdown is escaped as ``symbp doc`` escapes it: no raw HTML, no live ``|`` or ``_``."""
    md = report.render("md")
    assert md.startswith("# symbp verify: One &lt;b&gt;neuron&lt;/b&gt; &amp; a \\| pipe\n")
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 4  # header and one row per claim
    assert all(line.count(" | ") == 6 for line in table)
    assert "| 3 | dE/dw^1\\_12 (grad\\_W\\[0\\]\\[0\\]\\[1\\]) | 0 | 0.9 |" in md
    assert "  - note: &lt;script&gt;alert(1)&lt;/script&gt;\n" in md
    assert "<" not in md


def test_html_is_escaped(report: Report) -> None:
    page = report.render("html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "One &lt;b&gt;neuron&lt;/b&gt; &amp; a | pipe" in page
    rows = re.findall(r'<tr class="(\w+)">', page)
    assert rows == ["confirmed", "consistent", "confirmed", "mismatch"]
    assert html.escape(report.summary()) in page


def test_unknown_format(report: Report) -> None:
    with pytest.raises(ValueError, match="format must be one of text, md, html"):
        report.render("pdf")


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_cli_writes_the_report(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"report.{fmt}"
    code = main(["verify", str(EXAMPLES / "seed000_forward_claims.yaml"), "--format", fmt,
                 "-o", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"report written to {out}",
        "seed000-forward-claims: 2 claims: 2 confirmed, 0 truncated, 0 mismatch — PASS",
    ]
    text = out.read_text(encoding="utf-8")
    assert ("<table>" in text) == (fmt == "html")
    assert "| 1 | a\\[1\\]\\[0\\] | 0 | 0.96 | 0.964429 | confirmed |  |" in text or fmt == "html"


def test_marks_for_the_derivation_document() -> None:
    """Marked numbers in the document: ✓ confirmed, ? truncated, ✗ mismatch (worst wins)."""
    from symbp.render.document import render_document

    path = EXAMPLES / "koech_3_4_1_figure_claims.yaml"
    marks = symbp.verify(path).mark_map()
    assert marks[("a[2][0]", 0)] == "mismatch"  # 0.521 confirmed, 0.52088767 not
    assert marks[("a[2][0]", 3)] == "truncated"
    assert marks[("a[1][2]", 0)] == "confirmed"
    md = render_document(path, format="md", steps=3, marks=marks)
    for verdict in ("confirmed", "mismatch", "truncated"):
        assert f'<sup title="{verdict}">' in md


def test_cli_format_follows_the_output_suffix(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["verify", str(EXAMPLES / "seed000_forward_claims.yaml"), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    out = tmp_path / "r.md"
    assert main(["verify", str(EXAMPLES / "seed000_forward_claims.yaml"), "-o", str(out),
                 "--format", "text"]) == 0  # fmt: skip
    assert out.read_text(encoding="utf-8").startswith("symbp verify: ")
