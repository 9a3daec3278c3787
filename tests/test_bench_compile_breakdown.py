"""``benchmarks/compile_breakdown.py`` splits a cold compile into parts that add up: in
a new process with empty caches, a small dense network's parts (type inference, LLVM,
the other Numba passes) sum to its compile time, every part is positive, and render,
compile and first call make up the total. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
SPEC = {
    "name": "tiny",
    "layers": [2, 2, 1],
    "activations": "sigmoid",
    "loss": "bce",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
}


@pytest.fixture(scope="module")
def breakdown():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCH))
    try:
        import compile_breakdown
    finally:
        sys.path.remove(str(BENCH))
    return compile_breakdown


def test_parts_of_a_fresh_compile_add_up(breakdown) -> None:  # type: ignore[no-untyped-def]
    parts = breakdown.cold_breakdown(SPEC, "float64", tries=1, fresh_numba=True)
    assert set(breakdown.PARTS) <= set(parts)
    for name in ("render", "type_inference", "llvm", "numba_other", "compile"):
        assert parts[name] > 0, name
    inner = parts["type_inference"] + parts["llvm"] + parts["numba_other"]
    assert inner == pytest.approx(parts["compile"], rel=1e-9)
    whole = parts["render"] + parts["compile"] + parts["first_call"]
    assert whole == pytest.approx(parts["total"], rel=1e-9)
    line = breakdown.breakdown_line(parts)
    assert line.startswith(f"{parts['total']:.2f} s = render {parts['render']:.2f} + ")
