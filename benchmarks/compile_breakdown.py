"""Where a cold compile of a generated trainer goes (issue 27 item 2, issue 28 item 8):
render, Numba's type inference, LLVM, the rest of Numba's passes, and the first call.

:func:`cold_breakdown` runs :data:`SCRIPT` in new processes with an empty symbp cache
(and, with ``fresh_numba``, an empty Numba cache each time; otherwise one Numba cache,
empty at the start, that keeps symbp's runtime helpers after the first run) and returns
the best of ``tries`` of each part. In the new process, after the imports (timed apart):

- ``render``: ``symbp.compile(spec)``: derive, plan, render, write and import the module
  (no Numba compile happens there: the kernels compile on their first call);
- the first ``fit`` on one row (``compile`` + ``first_call``), with Numba's own events
  recorded (:mod:`numba.core.event`): ``type_inference`` (the type-inference passes),
  ``llvm`` (time holding Numba's LLVM lock: LLVM's optimisation passes and machine code),
  ``numba_other`` (every other pass: bytecode, SSA, inlining, rewrites, lowering to LLVM
  IR), each counted once (a callee compiled while its caller is being typed counts as
  the callee's); ``compile`` is their sum (time in Numba's compiler lock) and
  ``first_call`` the rest of the first ``fit`` (running it, and the Python around it);
- ``total``: render + compile + first call (the cold compile of the issues).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Run as ``python -c SCRIPT SPEC_SOURCE DTYPE``; prints one JSON line.
SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import symbp, symbp.codegen
from numba.core import event
t1 = time.perf_counter()
spec = json.loads(sys.argv[1])
dtype = sys.argv[2]
trainer = symbp.compile(spec, dtype=dtype, kernel=sys.argv[3])
t2 = time.perf_counter()
n_in = int(np.prod(spec["input"])) if "input" in spec else spec["layers"][0]
last = spec["layers"][-1]
n_out = last["dense"] if isinstance(last, dict) else last
X = np.zeros((1, n_in), dtype)
T = np.eye(n_out, dtype=dtype)[:1]
with event.install_recorder("numba:run_pass") as passes, event.install_recorder(
    "numba:llvm_lock"
) as llvm:
    t3 = time.perf_counter()
    trainer.fit(X, T, epochs=1, batch_size=1)
    t4 = time.perf_counter()
events = sorted(
    [(ts, ev.is_start, ev.kind, ev.data) for ts, ev in passes.buffer + llvm.buffer],
    key=lambda item: (item[0], not item[1]),
)
parts = {"type_inference": 0.0, "llvm": 0.0, "numba_other": 0.0}
stack = []
for ts, start, kind, data in events:
    if start:
        stack.append([ts, 0.0, kind, data])
        continue
    began, inner, kind, data = stack.pop()
    took = ts - began
    if stack:
        stack[-1][1] += took
    if kind == "numba:llvm_lock":
        part = "llvm"
    elif "type_inference" in str(data.get("name", "")):
        part = "type_inference"
    else:
        part = "numba_other"
    parts[part] += took - inner
compile_s = sum(parts.values())
out = {"import": t1 - t0, "render": t2 - t1, **parts, "compile": compile_s}
out["first_call"] = (t4 - t3) - compile_s
out["total"] = (t2 - t1) + (t4 - t3)
print(json.dumps(out))
"""

PARTS = ("render", "type_inference", "llvm", "numba_other", "first_call", "total")


def cold_breakdown(
    spec: dict,
    dtype: str = "float64",
    tries: int = 3,
    fresh_numba: bool = False,
    kernel: str = "auto",
) -> dict[str, float]:
    """The best of ``tries`` new processes of each part of :data:`SCRIPT` for ``spec``
    (a spec dict, as ``symbp.compile`` takes it) in ``dtype``, each with an empty symbp
    cache; ``first_ever``: the run before them when the Numba cache is shared (it also
    compiles the runtime helpers and the built-in pieces it uses), left out of the best.

    ``kernel`` is ``symbp.compile``'s: ``"auto"`` (a new dense network starts on the
    piecewise kernel, whose pieces are compiled once, like the runtime helpers) or
    ``"generated"`` (the network's own kernel, compiled for it)."""
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as top:
        runs = tries if fresh_numba else tries + 1
        for i in range(runs):
            numba_dir = Path(top, f"numba{i}" if fresh_numba else "numba")
            env = {
                **os.environ,
                "SYMBP_CACHE_DIR": str(Path(top, f"symbp{i}")),
                "NUMBA_CACHE_DIR": str(numba_dir),
            }
            done = subprocess.run(
                [sys.executable, "-c", SCRIPT, json.dumps(spec), dtype, kernel],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise RuntimeError(done.stderr.strip().splitlines()[-1])
            data = json.loads(done.stdout.strip().splitlines()[-1])
            if not fresh_numba and i == 0:
                best["first_ever"] = data["total"]
                continue
            for key, value in data.items():
                best[key] = min(best.get(key, float("inf")), value)
    return best


def breakdown_line(parts: dict[str, float]) -> str:
    """One line: total, then render, type inference, LLVM, other Numba passes, first
    call (seconds, each the best of the tries: they need not add up to the total)."""
    return (
        f"{parts['total']:.2f} s = render {parts['render']:.2f} + Numba type inference "
        f"{parts['type_inference']:.2f} + LLVM {parts['llvm']:.2f} + other Numba passes "
        f"{parts['numba_other']:.2f} + first call {parts['first_call']:.2f} (best of each)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    from conv_workload import SPEC

    for kernel in ("generated", "auto"):  # auto: a new conv net starts piecewise
        for fresh in (True, False):
            got = cold_breakdown(SPEC, tries=1, fresh_numba=fresh, kernel=kernel)
            print(f"digits conv {kernel}, fresh Numba cache {fresh}: {breakdown_line(got)}")
