"""PDF documents: every shipped example compiles with pdflatex and says the textbook numbers.

Each example is compiled once per session (module-scoped fixture); its text is
read back with ``pdftotext``. Seed 000: (2)(0.1) + (3)(0.5) + (4)(0.9) = 5.3,
5.3 + (-2) = 3.3, sigmoid gives 0.96. Seed 001: ŷ = 0.521, 0.648, 0.758,
0.836, 0.881, 0.908, 0.925 over six updates, 21 trainable parameters.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from symbp.cli import main
from symbp.render import write_document
from symbp.render.pdf import TexFailed, TexMissing, build_pdf, first_error

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

pytestmark = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="TeX Live (pdflatex) and poppler-utils (pdftotext) are needed for PDF tests",
)


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _flat(text: str) -> str:
    """pdftotext output with the typographic minus as '-' and whitespace collapsed."""
    return " ".join(text.replace("\u2212", "-").split())


@pytest.fixture(scope="module")
def pdfs(shipped_pdfs: dict[str, tuple[Path, str]]) -> dict[str, Path]:
    """Every shipped example (full style, six updates), compiled once per session."""
    return {spec.stem: shipped_pdfs[spec.stem][0] for spec in EXAMPLES}


@pytest.mark.parametrize("stem", [p.stem for p in EXAMPLES])
def test_every_shipped_example_compiles(pdfs: dict[str, Path], stem: str) -> None:
    pdf = pdfs[stem]
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _flat(_text(pdf))
    assert "The network" in text and "The backward pass" in text


def test_seed000_forward_numbers_in_pdf(pdfs: dict[str, Path]) -> None:
    text = _flat(_text(pdfs["seed000_forward"]))
    # The weighted sum term by term, the bias added, the sigmoid applied.
    assert "(2) (0.1) + (3) (0.5) + (4) (0.9)" in text or "(2)(0.1) + (3)(0.5)" in text
    assert "5.3 + (-2)" in text
    assert "= 3.3" in text
    assert re.search(r"= 0\.96\d", text)


def test_seed001_trajectory_and_parameter_count_in_pdf(pdfs: dict[str, Path]) -> None:
    text = _flat(_text(pdfs["koech_3_4_1"]))
    for value in ("0.521", "0.648", "0.758", "0.836", "0.881", "0.908", "0.925"):
        assert value in text, value
    assert "= 21 parameters" in text
    assert "of which 21 are trainable" in text
    # Figure 2's hidden outputs and the first output-layer gradient chain.
    for value in ("0.845", "0.132", "0.354", "0.377"):
        assert value in text
    trajectory = text[text.index("Training over 6 steps") :]
    rows = re.findall(r"\b([0-6]) (\d\.\d+) (0\.\d{3})\b", trajectory)
    assert [r[2] for r in rows] == ["0.521", "0.648", "0.758", "0.836", "0.881", "0.908", "0.925"]


def test_pdf_is_reproducible(tmp_path: Path) -> None:
    spec = ROOT / "examples" / "seed000_forward.yaml"
    a = write_document(spec, format="pdf", out=tmp_path / "a.pdf").read_bytes()
    b = write_document(spec, format="pdf", out=tmp_path / "b.pdf").read_bytes()
    assert a == b
    assert b"CreationDate" not in a


def test_spec_text_appears_literally_and_is_never_run(tmp_path: Path) -> None:
    spec = {
        "name": r"\input{/etc/passwd}",
        "title": r"<script>alert(1)</script> \write18{touch pwned} 100% $x$ #1 a_b ^ ~ {}",
        "source": "Ünïcödé — “quoted” ✓ 日本",
        "layers": [2, 1],
        "params": {"W": [[[0.5, -0.25]]]},
        "example": {"x": [1, 2], "t": [1]},
    }
    pdf = write_document(spec, format="pdf", out=tmp_path / "evil.pdf")
    text = _flat(_text(pdf))
    assert r"\input{/etc/passwd}" in text
    assert r"<script>alert(1)</script> \write18{touch pwned} 100% $x$ #1 a_b ^ ~ {}" in text
    assert "root:x:0:0" not in text
    assert "Ünïcödé — “quoted” [U+2713] [U+65E5][U+672C]" in text
    assert not (tmp_path / "pwned").exists()


def test_shell_escape_is_off(tmp_path: Path) -> None:
    marker = tmp_path / "shell-escape-ran"
    source = (
        "\\documentclass{article}\\begin{document}"
        f"\\immediate\\write18{{touch {marker}}}hello\\end{{document}}\n"
    )
    pdf = build_pdf(source, tmp_path / "x.pdf")
    assert pdf.exists()
    assert not marker.exists()


def test_latex_error_is_one_line_with_line_and_log(tmp_path: Path) -> None:
    source = (
        "\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedcommand\n\\end{document}\n"
    )
    with pytest.raises(TexFailed) as info:
        build_pdf(source, tmp_path / "broken.pdf")
    message = str(info.value)
    assert "\n" not in message
    assert f"{tmp_path / 'broken.tex'}:4" in message
    assert "Undefined control sequence" in message
    assert str(tmp_path / "broken.log") in message
    assert (tmp_path / "broken.log").exists()
    assert not (tmp_path / "broken.pdf").exists()


def test_first_error_reads_tex_logs() -> None:
    log = "This is pdfTeX\n! Missing $ inserted.\n<inserted text>\n l.12 x^2\n"
    assert first_error(log) == (None, "Missing $ inserted.")
    log = "junk\n! Undefined control sequence.\nl.7 \\foo\n"
    assert first_error(log) == (7, "Undefined control sequence.")
    assert first_error("./document.tex:31: Emergency stop.\n") == (31, "Emergency stop.")


def test_missing_engine_writes_tex_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    spec = ROOT / "examples" / "seed000_forward.yaml"
    with pytest.raises(TexMissing, match="TeX Live"):
        write_document(spec, format="pdf", out=tmp_path / "a.pdf")
    assert (tmp_path / "a.tex").read_text().startswith("% Generated by symbp")
    assert not (tmp_path / "a.pdf").exists()
    code = main(["doc", str(spec), "--format", "pdf", "-o", str(tmp_path / "b.pdf")])
    err = capsys.readouterr().err
    assert code != 0
    assert len(err.strip().splitlines()) == 1
    assert "apt-get install texlive-latex-base" in err and str(tmp_path / "b.tex") in err
    assert (tmp_path / "b.tex").exists()
    # The text formats need no engine.
    assert main(["doc", str(spec), "--format", "tex", "-o", str(tmp_path / "c.tex")]) == 0
