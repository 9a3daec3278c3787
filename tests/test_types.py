"""Static types: ``mypy symbp`` (configured in pyproject.toml) reports no errors, and the
user-facing entry points are typed rather than ``Any``.

mypy runs in a subprocess from the repository root with the checkout's own
``pyproject.toml``; its cache lives in a temporary folder so parallel workers and
the checkout never share one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is not installed (pip install symbp[test])")

ROOT = Path(__file__).resolve().parent.parent

#: A user's script: what mypy infers for the public API (``reveal_type`` notes).
USER_SCRIPT = """\
import symbp

reveal_type(symbp.compile)
reveal_type(symbp.document)
reveal_type(symbp.compile("spec.yaml").fit)
symbp.document("spec.yaml", fromat="html")  # a misspelt option
"""


def _mypy(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    config = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache)]
    return subprocess.run(
        [sys.executable, "-m", "mypy", *config, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture(scope="module")
def package_check(cache: Path) -> subprocess.CompletedProcess[str]:
    return _mypy(cache)  # the packages named in [tool.mypy]


@pytest.fixture(scope="module")
def user_check(
    cache: Path,
    package_check: subprocess.CompletedProcess[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """mypy's output on :data:`USER_SCRIPT` (run after the package check: warm cache)."""
    script = tmp_path_factory.mktemp("user") / "user_script.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    result = _mypy(cache, str(script))
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def revealed(user_check: str) -> list[str]:
    """The revealed types of :data:`USER_SCRIPT`, in order."""
    types = re.findall(r'note: Revealed type is "(.*)"', user_check)
    assert len(types) == 3, user_check
    return types


def test_mypy_reports_no_errors(package_check: subprocess.CompletedProcess[str]) -> None:
    output = package_check.stdout + package_check.stderr
    assert package_check.returncode == 0, output
    assert "Success: no issues found" in output, output


def test_document_is_typed_for_users(revealed: list[str]) -> None:
    document = revealed[1]
    assert document != "Any"
    assert "spec: symbp.spec.model.Spec | str | pathlib.Path" in document
    assert document.endswith("-> pathlib.Path")


def test_compile_is_typed_for_users(revealed: list[str]) -> None:
    compile_, _, fit = revealed
    assert compile_ != "Any" and compile_.endswith("-> symbp.codegen.trainer.Trainer")
    assert fit != "Any"


def test_document_options_are_checked(user_check: str) -> None:
    assert 'Unexpected keyword argument "fromat"' in user_check, user_check
