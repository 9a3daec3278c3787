"""The code base stays ruff clean (the rules are in pyproject.toml)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_is_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_modules_have_no_dead_code() -> None:
    """Every shipped generated module passes ruff's F rules (pyflakes: F841, a local
    assigned and never read, and F811, a definition shadowed before use, among them)
    and its I rules (imports in isort's order): the template emits no dead locals and
    defines each function once. Also checked on modules rendered with every layer on
    all cores (the parallel path)."""
    import tempfile

    import symbp
    from symbp.codegen import emit

    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    modules = sorted((ROOT / "generated").glob("*.py"))
    assert len(modules) >= 10
    modules += sorted((ROOT / "symbp" / "codegen" / "builtin").glob("pieces_*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("tanh_softmax_momentum_2_3_2", "adam_softsign_2_2_1", "midsize_12_8_3"):
            spec = symbp.load(ROOT / "examples" / f"{name}.yaml")
            for dtype in ("float64", "float32"):
                text = emit.render(spec, dtype, parallel_min_weights=1)
                path = Path(tmp) / f"parallel_{name}_{dtype}.py"
                path.write_text(text)
                modules.append(path)
        result = subprocess.run(
            [ruff, "check", "--no-cache", "--isolated", "--select", "F,I", *map(str, modules)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    assert result.returncode == 0, result.stdout + result.stderr
