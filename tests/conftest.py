"""Shared pytest fixtures (small and generic; any test module may use them).

- ``repo_root`` / ``examples_dir``: paths of the checkout and its ``examples/``;
- ``write_spec``: writes YAML text (or a dict, dumped as YAML) to a file under
  ``tmp_path`` and returns its path;
- ``rng``: a ``random.Random`` seeded per test (reproducible).

Expensive set-up runs once per session, not once on each xdist worker: under
``--dist loadgroup`` (``pyproject.toml``'s addopts) the tests of one xdist group run on
one worker, and :func:`pytest_collection_modifyitems` groups

- the tests of files that compile the same generated modules (:data:`SHARED_MODULES`),
  so each module is compiled once (the worker's loaded module, or Numba's cache of it)
  instead of on both workers at the same time;
- the tests that use the shipped documents (:data:`SHARED_FIXTURES`: rendered, and
  compiled by pdflatex, once);
- the tests of one file that use a module-scoped fixture of that file (a trained run,
  a demo, a mypy run, an exercises set), so the fixture is built once.

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


#: test file -> xdist group: the files whose tests compile the same modules (the small
#: recurrent nets of ``recurrent_cases.py``, the conv nets of ``conv_kernel_cases.py``,
#: the demo's sine RNN).
SHARED_MODULES = {
    "test_train_demo.py": "demo",
    "test_train_demo_rnn.py": "demo",
    "test_recurrent_kernel.py": "recurrent-cases",
    "test_recurrent_kernel_torch.py": "recurrent-cases",
    "test_recurrent_trainer_api.py": "recurrent-cases",
    "test_conv_init.py": "conv-cases",
    "test_conv_kernel.py": "conv-cases",
    "test_conv_kernel_api.py": "conv-cases",
    "test_conv_kernel_pool_route.py": "conv-cases",
    "test_conv_kernel_torch.py": "conv-cases",
}


#: session fixture -> xdist group: the expensive ones (every shipped document rendered;
#: every shipped TeX document compiled by pdflatex).
SHARED_FIXTURES = {"shipped_pdfs": "shipped-documents", "shipped_documents": "shipped-documents"}


def _group(item: pytest.Item) -> str | None:
    """The xdist group of ``item`` (None: any worker may run it)."""
    group = SHARED_MODULES.get(item.path.name)
    if group is not None:
        return group
    names = getattr(item, "fixturenames", ())
    for name in names:
        if name in SHARED_FIXTURES:
            return SHARED_FIXTURES[name]
    info = getattr(item, "_fixtureinfo", None)
    for name in names:
        defs = info.name2fixturedefs.get(name, ()) if info is not None else ()
        # a module-scoped fixture of the test files (not a plugin's: their baseid is "")
        if any(d.scope == "module" and d.baseid for d in defs):
            return f"module:{item.path.name}"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that share expensive set-up with their xdist group."""
    for item in items:
        group = _group(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))


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
