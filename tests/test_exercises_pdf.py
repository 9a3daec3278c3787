"""``symbp exercises`` with PDFs: the sheets never print the answers, the keys do.

One run of the issue's command (2-2-1 sigmoid, 4 students, seed 11, three questions)
per session; its PDFs are read back with ``pdftotext``.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_exercises import ASKS, SPEC

from symbp.cli import main

pytestmark = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="TeX Live (pdflatex) and poppler-utils (pdftotext) are needed for PDF tests",
)


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8").replace("\u2212", "-")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pdf")
    spec = base / "ex.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = base / "out"
    args = ["exercises", str(spec), "--count", "4", "--seed", "11", *ASKS, "-o", str(out)]
    assert main(args) == 0
    return spec, out


def _answers(out: Path) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    with (out / "answers.csv").open() as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["student"], []).append(row)
    return rows


def test_every_pdf_is_written(run: tuple[Path, Path]) -> None:
    _, out = run
    for rel in ["sheets.pdf", "key.pdf"] + [
        f"{kind}/s0{i}.pdf" for kind in ("sheets", "key") for i in range(1, 5)
    ]:
        assert (out / rel).read_bytes().startswith(b"%PDF"), rel


def test_the_sheets_do_not_print_the_answers(run: tuple[Path, Path]) -> None:
    _, out = run
    answers = _answers(out)
    combined = _text(out / "sheets.pdf")
    assert combined.count("\f") == 4  # one page per student
    for student, rows in answers.items():
        text = _text(out / "sheets" / f"{student}.pdf")
        code = re.search(rf"sheet code ({student}/11/[0-9a-f]{{4}})", text)
        assert code, text[:300]
        assert "Q1." in text and "Q3." in text and "4 decimal places" in text
        assert "one half of the sum of squared errors" in text and "learning rate η = 0.5" in text
        assert "Update rule" in text and "tolerance ±0.000" in text
        for row in rows:
            for number in (row["printed"], row["printed"].lstrip("-"), row["value"][:7]):
                assert number not in text and number not in combined, (student, number)


def test_the_keys_box_the_answers_and_carry_the_worked_solution(run: tuple[Path, Path]) -> None:
    _, out = run
    answers = _answers(out)
    combined = _text(out / "key.pdf")
    for student, rows in answers.items():
        text = _text(out / "key" / f"{student}.pdf")
        assert "Answer key: " in text and student in text
        assert "The backward pass" in text  # the derivation document follows (handout style)
        assert "Marking rubric" in text and "(4 marks)" in text  # ŷ, δ²₁ (1 each), answer (2)
        assert "confirmed" not in text and "grad_W" not in text  # student-facing words only
        for row in rows:
            assert row["printed"] in text and row["printed"] in combined
    assert combined.count("Answer key:") == 4


def test_regenerate_rebuilds_the_same_pdfs(run: tuple[Path, Path], tmp_path: Path) -> None:
    spec, out = run
    code = re.search(r"sheet code (\S+)\)", (out / "variants" / "s02.yaml").read_text())
    assert code
    target = tmp_path / "again"
    assert main(["exercises", str(spec), "--regenerate", code.group(1), *ASKS,
                 "-o", str(target)]) == 0  # fmt: skip
    for rel in ("sheets/s02.pdf", "key/s02.pdf", "variants/s02.yaml"):
        assert (target / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_roster_names_are_typeset_literally(tmp_path: Path) -> None:
    spec = tmp_path / "ex.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text('id,name\nst-1,"O\'Brien & \\input{x} $5 #1 %"\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["exercises", str(spec), "--students", str(roster), "--ask", "loss", "-o", str(out)]
    assert main(args) == 0
    text = _text(out / "sheets.pdf").replace("\u2019", "'")  # the font's apostrophe
    assert "O'Brien & \\input{x} $5 #1 %" in text and "st-1" in text
    assert (out / "key.pdf").exists() and (out / "key" / "st-1.pdf").exists()
