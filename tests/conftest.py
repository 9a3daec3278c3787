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
