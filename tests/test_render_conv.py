"""Documents of conv networks (``symbp doc`` of a conv/pool/flatten/dense spec).

The numbers the tests look for are computed here independently, with NumPy loops in
float64 (the conv, relu, max-pool, flatten, dense-sigmoid forward and the hand-written
backward of this one net), never read from symbp's output.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_render_typography import (
    doubled_parentheses,
    html_prose,
    math_of,
    md_prose,
    raw_markup,
    tex_prose,
    zero_terms,
)

from symbp.errors import SymbpError
from symbp.render.document import render_document, write_document
from symbp.yamlio import read_yaml

SPEC = Path(__file__).resolve().parent / "data" / "conv_1x5x5.yaml"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _fmt(value: float) -> str:
    """Three significant digits, as the documents show them."""
    text = f"{value:.3g}"
    return "0" if text == "-0" else text


def _net() -> dict[str, np.ndarray]:
    """Forward and backward of the example by NumPy loops (float64)."""
    data, _ = read_yaml(SPEC)
    x = np.array(data["example"]["x"], dtype=float)
    t = float(data["example"]["t"][0])
    k = np.array(data["params"]["W"][0], dtype=float)  # [o][c][u][v]
    bk = np.array(data["params"]["b"][0], dtype=float)
    wd = np.array(data["params"]["W"][3], dtype=float)
    bd = np.array(data["params"]["b"][3], dtype=float)
    z1 = np.zeros((2, 4, 4))
    for o in range(2):
        for i in range(4):
            for j in range(4):
                z1[o, i, j] = bk[o] + sum(
                    k[o, 0, u, v] * x[0, i + u, j + v] for u in range(2) for v in range(2)
                )
    a1 = np.maximum(z1, 0)
    a2 = np.zeros((2, 2, 2))
    arg = {}
    for o in range(2):
        for i in range(2):
            for j in range(2):
                cells = [(a1[o, 2 * i + u, 2 * j + v], u, v) for u in range(2) for v in range(2)]
                best = cells[0]
                for cell in cells[1:]:
                    if cell[0] > best[0]:
                        best = cell
                a2[o, i, j] = best[0]
                arg[o, i, j] = (2 * i + best[1], 2 * j + best[2])
    flat = a2.reshape(-1)
    z4 = wd @ flat + bd
    a4 = 1 / (1 + np.exp(-z4))
    d4 = a4 - t  # sigmoid + binary cross-entropy
    d_flat = wd.T @ d4
    d_a1 = np.zeros_like(a1)
    for (o, i, j), (r, q) in arg.items():
        d_a1[o, r, q] = d_flat.reshape(2, 2, 2)[o, i, j]
    d1 = d_a1 * (z1 > 0)
    grad_k = np.zeros_like(k)
    for o in range(2):
        for u in range(2):
            for v in range(2):
                grad_k[o, 0, u, v] = sum(
                    d1[o, i, j] * x[0, i + u, j + v] for i in range(4) for j in range(4)
                )
    grad_x = np.zeros_like(x)
    for o in range(2):
        for i in range(4):
            for j in range(4):
                for u in range(2):
                    for v in range(2):
                        grad_x[0, i + u, j + v] += d1[o, i, j] * k[o, 0, u, v]
    return {"x": x, "k": k, "d1": d1, "grad_k": grad_k, "grad_x": grad_x, "z1": z1}


def _kernel_gradient_sequence(net: dict[str, np.ndarray]) -> list[str]:
    """``∂L/∂w[0,0,0,0] = Σ_{i,j} δ[0,i,j] x[0,i,j]``: each δ, each x, then the value."""
    seq = []
    for i in range(4):
        for j in range(4):
            if net["d1"][0, i, j] != 0 and net["x"][0, i, j] != 0:  # zero terms left out
                seq += [_fmt(net["d1"][0, i, j]), _fmt(net["x"][0, i, j])]
    assert len(seq) == 8  # four of the sixteen terms are not zero
    return [*seq, _fmt(net["grad_k"][0, 0, 0, 0])]


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def _contains(seq: list[str], sub: list[str]) -> bool:
    n = len(sub)
    return any(seq[i : i + n] == sub for i in range(len(seq) - n + 1))


def _html_numbers(text: str) -> list[str]:
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\u2212", "-")
    return _numbers(re.sub(r"-\s+(?=\d)", "-", plain))


@pytest.fixture(scope="module")
def net() -> dict[str, np.ndarray]:
    return _net()


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("pdflatex") is None or shutil.which("pdftotext") is None:
        pytest.skip("TeX Live (pdflatex) and poppler-utils (pdftotext) are needed for PDF tests")
    out = tmp_path_factory.mktemp("conv") / "conv.pdf"
    written = write_document(SPEC, format="pdf", out=out)
    assert written == out and out.read_bytes().startswith(b"%PDF")
    result = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    )
    pages = []
    for page in result.stdout.replace("\u2212", "-").split("\f"):
        lines = page.rstrip().splitlines()
        if lines and lines[-1].strip().isdigit():  # the page number at its foot
            lines.pop()
        pages.append("\n".join(lines))
    return "\n".join(pages)


def test_pdf_shows_the_rotated_kernel_beside_the_kernel(
    pdf_text: str, net: dict[str, np.ndarray]
) -> None:
    lines = [[v for v in _numbers(line) if v != "180"] for line in pdf_text.splitlines()]
    for o in range(2):
        kernel = net["k"][o, 0]
        rotated = np.rot90(kernel, 2)
        assert not np.array_equal(kernel, rotated)
        for r in range(2):
            row = [_fmt(v) for v in kernel[r]] + [_fmt(v) for v in rotated[r]]
            # The line may begin with w's superscript (its layer), set beside the first row.
            assert any(line[-len(row) :] == row for line in lines), (o, r, row)


def test_pdf_works_the_kernel_gradient_with_its_numbers(
    pdf_text: str, net: dict[str, np.ndarray]
) -> None:
    _, _, worked = pdf_text.partition("correlation it is")
    assert worked
    assert _contains(_numbers(worked), _kernel_gradient_sequence(net))


def test_pdf_shows_the_input_gradient(pdf_text: str, net: dict[str, np.ndarray]) -> None:
    """Every value of ∂L/∂x is printed after its heading, as often as it occurs (pdftotext
    may set a matrix row's cells on two lines, so the rows are not compared in order)."""
    from collections import Counter

    numbers = Counter(_numbers(pdf_text.partition("The whole input gradient")[2]))
    wanted = Counter(_fmt(v) for row in net["grad_x"][0] for v in row)
    assert all(numbers[v] >= n for v, n in wanted.items()), (wanted, numbers)


def test_html_and_markdown_show_the_same_numbers(net: dict[str, np.ndarray]) -> None:
    gradient = _kernel_gradient_sequence(net)
    md = render_document(SPEC, format="md")
    page = render_document(SPEC, format="html")
    for numbers in (_numbers(md.replace("\u2212", "-")), _html_numbers(page)):
        assert _contains(numbers, gradient)
        for o in range(2):
            kernel = net["k"][o, 0]
            seq = [_fmt(v) for v in kernel.reshape(-1)] + ["180"]
            seq += [_fmt(v) for v in np.rot90(kernel, 2).reshape(-1)]
            assert _contains(numbers, seq)
    assert "<script" not in page


def test_forward_worked_position_and_handout(net: dict[str, np.ndarray]) -> None:
    """One output position term by term in both styles; the backward only in the key."""
    terms = []
    for u in range(2):
        for v in range(2):
            if net["k"][0, 0, u, v] != 0 and net["x"][0, u, v] != 0:
                terms += [_fmt(net["k"][0, 0, u, v]), _fmt(net["x"][0, u, v])]
    assert len(terms) == 6
    forward = [*terms, _fmt(net["z1"][0, 0, 0])]  # the bias is 0: left out
    full = render_document(SPEC, format="md", style="full")
    handout = render_document(SPEC, format="md", style="handout")
    for text in (full, handout):
        assert _contains(_numbers(text), forward)
    assert _contains(_numbers(full), _kernel_gradient_sequence(net))
    assert not _contains(_numbers(handout), _kernel_gradient_sequence(net))
    assert "correlation it is" in full and "correlation it is" not in handout
    assert "Handout" in handout and "Handout" not in full


@pytest.mark.parametrize("style", ["cloze"])
def test_unsupported_style_is_refused_in_one_line(style: str, tmp_path: Path) -> None:
    out = tmp_path / "conv.md"
    with pytest.raises(SymbpError, match="cloze sheets in documents of conv/pool/flatten"):
        write_document(SPEC, format="md", style=style, out=out)
    assert not out.exists()


def test_symbp_doc_writes_a_conv_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from symbp.cli import main

    out = tmp_path / "conv.md"
    assert main(["doc", str(SPEC), "--format", "md", "-o", str(out)]) == 0
    capsys.readouterr()
    assert out.read_text(encoding="utf-8") == render_document(SPEC, format="md")


@pytest.mark.parametrize("style", ["full", "handout"])
def test_conv_documents_pass_the_typography_checks(style: str) -> None:
    """The checks of ``tests/test_render_typography.py`` on the conv documents: no raw
    markup in prose, no zero terms or doubled parentheses, the page width of the HTML."""
    prose = {"tex": tex_prose, "html": html_prose, "md": md_prose}
    for kind in ("tex", "html", "md"):
        source = render_document(SPEC, format=kind, style=style)
        assert raw_markup(prose[kind](source), kind) == []
        if kind != "html":
            math = math_of(source, kind)
            assert zero_terms(math) + doubled_parentheses(math) == []
    page = render_document(SPEC, format="html", style=style)
    assert "max-width: 52rem" in page and "overflow-x: auto" in page


def _wide_spec() -> dict[str, object]:
    """8×8 input, 8 kernels 3×3 with padding 1: more channels than are shown as matrices."""
    kernels = [
        [[[((o + 3 * u + v) % 5 - 2) / 2 for v in range(3)] for u in range(3)]] for o in range(8)
    ]
    dense = [[((k % 7) - 3) / 10 for k in range(128)]]
    return {
        "name": "conv-8x8",
        "input": [1, 8, 8],
        "layers": [
            {"conv": 8, "kernel": 3, "stride": 1, "padding": 1, "activation": "relu"},
            {"pool": "max", "size": 2},
            "flatten",
            {"dense": 1, "activation": "sigmoid"},
        ],
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "params": {"W": [kernels, None, None, dense], "b": [[0.1] * 8, None, None, [0.1]]},
        "example": {"x": [[[(i * j) % 4 for j in range(8)] for i in range(8)]], "t": [1]},
    }


@pytest.mark.parametrize("style", ["full", "handout"])
def test_an_8x8_8_channel_document_stays_on_the_page(style: str, tmp_path: Path) -> None:
    if shutil.which("pdflatex") is None:
        pytest.skip("TeX Live (pdflatex) is needed to typeset the document")
    source = render_document(_wide_spec(), format="tex", style=style)
    assert "8$\\times$8 in summary" in source  # 8 channels: the summary table
    (tmp_path / "wide.tex").write_text(source, encoding="utf-8")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "wide.tex"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    log = (tmp_path / "wide.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\hbox" not in log
