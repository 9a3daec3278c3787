"""``symbp train SPEC --data SOURCE``: the command's glue (logic lives in the modules).

Everything is checked before anything is written: the spec, the data source,
the fit of the data to the spec (features, classes, target domain) and the
split fractions. Bad input is a one-line :class:`~symbp.errors.SymbpError`
(exit 2); divergence exits 1; Ctrl-C saves the last completed epoch and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import SymbpError
from .data import load_data
from .prepare import prepare
from .runner import RunResult, train


def default_run_dir(spec_name: str, data: str, root: Path = Path("runs")) -> Path:
    """``runs/<spec>-<data>``, or ``…-2``, ``…-3`` when that exists already."""
    stem = f"{spec_name}-{Path(data).stem}"
    path = root / stem
    n = 2
    while path.exists():
        path = root / f"{stem}-{n}"
        n += 1
    return path


def report(result: RunResult, out: Path) -> str:
    """The lines printed after a run: summary, then where each file went."""
    lines = [result.summary(), f"run directory: {out}"]
    lines += [f"  {path.name}" for path in result.files]
    return "\n".join(lines) + "\n"


def run_train(args: argparse.Namespace) -> int:
    """Handle ``symbp train``; returns the exit code."""
    from ..spec import load as load_spec

    for name in ("epochs", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SymbpError(
                f"expected a positive number, found {value}", field="--" + name.replace("_", "-")
            )
    spec = load_spec(args.spec)
    dataset = load_data(args.data, target=args.target)
    prepared = prepare(
        dataset,
        spec,
        one_hot=args.one_hot,
        standardize=args.standardize,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )
    if args.early_stopping is not None and args.early_stopping < 1:
        raise SymbpError("expected a patience of at least 1 epoch", field="--early-stopping")
    from ..codegen import compile as compile_spec

    trainer = compile_spec(spec)
    out = args.out if args.out is not None else default_run_dir(spec.name, args.data)
    result = train(
        spec,
        prepared,
        trainer=trainer,
        out_dir=out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping=args.early_stopping,
    )
    sys.stdout.write(report(result, out))
    if result.interrupted:
        print(
            f"symbp train: interrupted; saved the parameters and metrics of epoch "
            f"{result.epochs_run} (the last completed) to {out}",
            file=sys.stderr,
        )
        return 130
    return 0
