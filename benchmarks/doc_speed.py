"""Benchmark: derivation documents to PDF (issue 4's speed targets).

    python benchmarks/doc_speed.py [--repeat N]

1. the 3-4-1 worked example (seed 001) with 5 updates to PDF: target < 15 s;
2. a 784-256-10 net (layer-generic only: no worked numbers) to PDF: target < 30 s.

Each case runs the whole path of ``symbp doc`` (load, derive, evaluate exactly,
render, pdflatex until cross-references settle) in a fresh temporary folder and
reports the best and the median of ``--repeat`` runs. Exits 1 if a best time
misses its target, 2 if pdflatex is not installed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbp.render import write_document  # noqa: E402

MNIST = {
    "name": "mnist-784-256-10",
    "title": "A 784-256-10 classifier (layer-generic derivation)",
    "layers": [784, 256, 10],
    "activations": ["relu", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
}
CASES = [
    ("3-4-1 worked example, 5 steps", ROOT / "examples" / "koech_3_4_1.yaml", 5, 15.0),
    ("784-256-10, layer-generic", MNIST, 1, 30.0),
]


def _time(spec: object, steps: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        pdf = write_document(spec, format="pdf", steps=steps, out=Path(tmp) / "doc.pdf")
        elapsed = time.perf_counter() - start
        return elapsed, pdf.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("pdflatex") is None:
        print("pdflatex not found: install TeX Live to run this benchmark", file=sys.stderr)
        return 2
    failed = False
    print(f"{'case':<34} {'best s':>8} {'median s':>9} {'target s':>9} {'PDF KiB':>8}  result")
    for name, spec, steps, target in CASES:
        runs = [_time(spec, steps) for _ in range(max(args.repeat, 1))]
        times = [t for t, _ in runs]
        best, median = min(times), statistics.median(times)
        ok = best < target
        failed |= not ok
        size = runs[0][1] / 1024
        verdict = "ok" if ok else "TOO SLOW"
        print(f"{name:<34} {best:>8.2f} {median:>9.2f} {target:>9.1f} {size:>8.0f}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
