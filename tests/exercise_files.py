"""Helpers of the tests of ``symbp exercises`` on networks of layer records (conv and
recurrent nets): the CLI's exit code and printed text, the files a set writes, and the
text of its PDFs (pdftotext). The assertions stay in the tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from symbp.cli import main

#: Skips a test that typesets sheets and keys (TeX Live and poppler-utils are extras).
needs_tex = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="TeX Live (pdflatex) and poppler-utils (pdftotext) are needed for PDF tests",
)


def exercises_cli(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """``symbp exercises ARGS``: its exit code, standard output and standard error."""
    code = main(["exercises", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def text_file_names(count: int) -> list[str]:
    """The text files of a set of ``count`` (< 10) numbered students, sorted."""
    students = [f"variants/s{n:02d}.yaml" for n in range(1, count + 1)]
    return ["answers.csv", "gift.txt", "moodle.xml", *students]


def pdf_names(out: Path) -> list[str]:
    """The PDF files under the folder ``out``, relative and sorted."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.pdf") if p.is_file())


def pdf_text(path: Path) -> str:
    """The text of the PDF ``path`` as ``pdftotext -layout`` lays it out."""
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
