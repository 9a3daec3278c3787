"""Issue 17's hostile inputs, each run as ``symbp derive`` and ``symbp eval`` subprocesses.

Every case must end within 10 s of CPU time and 1 GiB of address space (enforced by
``RLIMIT_CPU`` and ``RLIMIT_AS`` on the child, with a wall-clock timeout as a backstop
for a machine under load) with exit 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CPU_S = 10
MEMORY = 2**30
WALL_S = 60

SPEC = """name: hostile
layers: [2, 2, 1]
activations: {act}
loss: {loss}
optimizer: {{name: sgd, learning_rate: 0.5}}
params:
  W: [[[{w}, 0.2], [0.3, 0.4]], [[0.5, 0.6]]]
example: {{x: [1, 2], t: [1]}}
"""


def _chain(depth: int, inner: str) -> str:
    return "tanh(" * depth + inner + ")" * depth


def _yaml(act: str = "sigmoid", loss: str = "half_sse", w: str = "0.1") -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        path = folder / "spec.yaml"
        path.write_text(SPEC.format(act=act, loss=loss, w=w), encoding="utf-8")
        return str(path)

    return make


def _big(folder: Path) -> str:
    path = folder / "big.yaml"
    with open(path, "w", encoding="utf-8") as f:
        f.write("name: big\nlayers: [2, 1]\ndescription: ")
        f.write("a" * (50 * 2**20))
        f.write("\n")
    return str(path)


def _fifo(folder: Path) -> str:
    path = folder / "spec.fifo"
    os.mkfifo(path)
    return str(path)


#: name -> (makes the spec path, a piece of the one line expected)
CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "tanh39_activation": (
        _yaml(act=f'{{formula: "{_chain(39, "x")}"}}'),
        "activations.formula: more than 6 function calls nested",
    ),
    "tanh12_loss": (
        _yaml(loss=f'{{formula: "{_chain(12, "y-t")}"}}'),
        "loss.formula: more than 6 function calls nested",
    ),
    "1e999999999_param": (_yaml(w="1e999999999"), "params.W[0][0][0]: decimal 1e999999999"),
    "1e-999999999_param": (_yaml(w="1e-999999999"), "params.W[0][0][0]: decimal 1e-999999999"),
    "math_italic_x": (
        _yaml(act='{formula: "2*\U0001d465"}'),
        "character U+1D465 (MATHEMATICAL ITALIC SMALL X) at position 3 looks like 'x' (NFKC)",
    ),
    "lone_surrogate": (
        _yaml(act='{formula: "x+\\uD800"}'),
        "activations.formula: the text holds U+D800 at position 3, a lone surrogate",
    ),
    "5000_digit_integer": (
        _yaml(act=f'{{formula: "x*{"9" * 5000}"}}'),
        "activations.formula: the formula is longer than 400 characters",
    ),
    "50MB_spec": (_big, "the file is larger than 10485760 bytes"),
    "dev_zero": (
        lambda folder: "/dev/zero",
        "/dev/zero: cannot read file: it is a character device",
    ),
    "fifo": (_fifo, "cannot read file: it is a pipe (FIFO), not a regular file"),
}


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_symbp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m symbp.cli ARGS`` under the CPU and memory caps (shared with the
    property test's subprocess sample)."""
    return subprocess.run(
        [sys.executable, "-m", "symbp.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=WALL_S,
        preexec_fn=_limits,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {}
    for name, (make, _) in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        out[name] = make(folder)
    return out


@pytest.mark.parametrize("command", ["derive", "eval"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_ends_in_one_line_exit_2(
    case: str, command: str, made: dict[str, str], tmp_path: Path
) -> None:
    result = run_symbp(command, made[case], cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr[-2000:]
    assert result.stderr.startswith(f"symbp {command}: error: ")
    assert CASES[case][1] in result.stderr
    assert result.stdout == ""
