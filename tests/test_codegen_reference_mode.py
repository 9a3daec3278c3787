"""The generated trainers run as plain Python under ``NUMBA_DISABLE_JIT=1``.

Every shipped example is trained for a few epochs, in float64 and float32, once with
the compiled kernels and once in the reference mode (:mod:`symbp.codegen.purepython`
in place of the intrinsics), each in a process of its own; the parameters and
predictions must agree to 1e-12 relative in float64 (the reference mode rounds
``fma`` twice) and 1e-5 in float32.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symbp.codegen import purepython
from symbp.spec import load
from symbp.stages import trainer_takes

RUNNER = Path(__file__).with_name("refmode_run.py")


def _run(tmp_path: Path, name: str, **env: str) -> dict[str, np.ndarray]:
    out = tmp_path / f"{name}.npz"
    # the session's caches (symbp's and Numba's): the modules other tests compiled load
    environment = {**os.environ, **env}
    subprocess.run(
        [sys.executable, str(RUNNER), str(out)],
        check=True,
        env=environment,
        timeout=600,
        cwd=tmp_path,
    )
    with np.load(out) as data:
        return dict(data)


@pytest.fixture(scope="module")
def both_modes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("refmode")
    return _run(tmp, "jit"), _run(tmp, "python", NUMBA_DISABLE_JIT="1")


def test_every_shipped_example_runs_in_both_modes(both_modes: tuple[dict, dict]) -> None:
    jit, python = both_modes
    examples = {key.split("/")[0] for key in jit}
    shipped = {
        p.stem for p in (RUNNER.parents[1] / "examples").glob("*.yaml") if trainer_takes(load(p))
    }
    assert examples == shipped
    assert jit.keys() == python.keys()


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 1e-5)])
def test_reference_mode_matches_compiled(
    both_modes: tuple[dict, dict], dtype: str, rtol: float
) -> None:
    jit, python = both_modes
    for key in jit:
        if f"/{dtype}" not in key:
            continue
        scale = np.maximum(np.abs(jit[key]), 1.0)
        worst = float(np.max(np.abs(python[key] - jit[key]) / scale))
        assert worst <= rtol, f"{key}: {worst:.3g}"


def test_pure_intrinsics_do_what_the_compiled_ones_do() -> None:
    A = np.arange(24, dtype=np.float64).reshape(2, 12)
    L = purepython.lanes(A)
    assert L * 64 in (128, 256, 512)
    assert purepython.vload_n(A, 1, 2, 3).tolist() == [14.0, 15.0, 16.0] + [0.0] * (L - 3)
    acc = purepython.vfma(2.0, purepython.vload_n(A, 0, 0, 2), purepython.vzero(A))
    assert acc[:2].tolist() == [0.0, 2.0]
    purepython.vput_n(A, 0, 0, acc, 0.5, 1.0, 2)  # A = 0.5·acc + 1·A on two lanes
    assert A[0, :3].tolist() == [0.0, 2.0, 2.0]
    flat = np.arange(10.0)
    view = purepython.matrix(flat, 2, 2, 3)
    view[1, 2] = -1.0
    assert view.shape == (2, 3) and flat[7] == -1.0
    with pytest.raises(ValueError, match="too short"):
        purepython.vector(flat, 8, 3)
    assert purepython.i64_as_f64(4607182418800017408) == 1.0
    assert purepython.i32_as_f32(1065353216) == np.float32(1.0)
