"""Shared pytest fixtures (small and generic; any test module may use them).

- ``repo_root`` / ``examples_dir``: paths of the checkout and its ``examples/``;
- ``write_spec``: writes YAML text (or a dict, dumped as YAML) to a file under
  ``tmp_path`` and returns its path;
- ``rng``: a ``random.Random`` seeded per test (reproducible).

``tests/`` is on ``sys.path`` so tests can ``import catalog`` (the catalogue of
small specs in ``tests/catalog.py``).
"""

from __future__ import annotations

import random
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

ROOT = TESTS.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return ROOT / "examples"


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """``write_spec(text_or_dict, name="spec.yaml") -> Path`` under the test's tmp_path."""

    def write(content: str | dict[str, Any], name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A ``random.Random`` seeded from the test's node id."""
    return random.Random(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(scope="session")
def shipped_documents() -> dict[str, str]:
    """Every shipped document (``docs/<stem>[_handout].<tex|html|md>``) as the code renders it."""
    from symbp.regenerate import example_specs
    from symbp.render import shipped_outputs

    return {k: v for k, v in shipped_outputs(example_specs(ROOT)).items() if isinstance(v, str)}


@pytest.fixture(scope="session")
def shipped_pdfs(
    shipped_documents: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, str]]:
    """Every shipped LaTeX document compiled once per session: ``stem -> (pdf, TeX log)``.

    Skips when pdflatex is not installed. Two documents compile at a time.
    """
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from symbp.render.pdf import build_pdf

    if shutil.which("pdflatex") is None:
        pytest.skip("TeX Live (pdflatex) is needed to compile the shipped documents")
    out = tmp_path_factory.mktemp("shipped-pdfs")

    def compile_one(rel: str) -> tuple[str, tuple[Path, str]]:
        stem = Path(rel).stem
        log = out / f"{stem}.log"
        pdf = build_pdf(shipped_documents[rel], out / f"{stem}.pdf", log_out=log)
        return stem, (pdf, log.read_text(encoding="utf-8", errors="replace"))

    sources = sorted(rel for rel in shipped_documents if rel.endswith(".tex"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(compile_one, sources))
