"""``symbp train SPEC --data SOURCE``: the command's glue (logic lives in the modules).

A spec with open sizes (``layers: [null, 32, null]``) is sized from the data, and a
target column of whole numbers trains a multiclass net when the spec's output is
softmax or ``--classes`` is given (:func:`~symbp.train.prepare.spec_for_data`).

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
from ..escape import terminal_text
from ..fileio import check_writable_dir
from ..outputs import OutputFolder, confined, path_part
from ..outputs.folder import Manifest
from .data import load_data
from .metrics import score_name
from .prepare import prepare, spec_for_data
from .rundir import run_files
from .runner import RunResult, train


def default_run_dir(spec_name: str, data: str, root: Path = Path("runs")) -> Path:
    """``runs/<spec>-<data>``, or ``…-2``, ``…-3`` when that exists already; created here
    (empty), so two runs started at once never pick the same folder.

    The spec's ``name:`` and the data source are text from a file: only letters,
    digits, ``.``, ``_`` and ``-`` of them are kept (:func:`symbp.outputs.path_part`),
    so ``name: ../escape`` trains into ``runs/escape-…``, never outside ``root``.
    """
    stem = f"{path_part(spec_name)}-{path_part(Path(data).stem, fallback='data')}"
    root.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = confined(root / (stem if n == 1 else f"{stem}-{n}"), root, field="name")
        try:
            path.mkdir()
        except FileExistsError:
            n += 1
            continue
        return path


def report(result: RunResult, out: Path) -> str:
    """The lines printed after a run: summary, then where each file went."""
    lines = [result.summary(), f"run directory: {out}"]
    lines += [f"  {path.name}" for path in result.files]
    return "\n".join(map(terminal_text, lines)) + "\n"


def _open(source: str | Path) -> bool:
    """Whether the spec at ``source`` leaves its input or output size open (``null``)."""
    from ..spec.sizing import open_sizes, spec_source

    return any(open_sizes(spec_source(source)[0]))


def _note_incomplete(manifest: Manifest | None, out: Path) -> None:
    if manifest is not None and not manifest.complete:
        print(
            f"symbp train: note: {out} holds an incomplete run (the symbp {manifest.command} "
            "that wrote it was stopped before the end); this run replaces it",
            file=sys.stderr,
        )


def run_train(args: argparse.Namespace) -> int:
    """Handle ``symbp train``; returns the exit code."""
    from ..spec import load as load_spec

    for name in ("epochs", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SymbpError(
                f"expected a positive number, found {value}", field="--" + name.replace("_", "-")
            )
    if not _open(args.spec):  # a bad spec before the data is read
        loaded = load_spec(args.spec)
        if loaded.recurrence is not None and args.standardize:  # sequences: no preprocessing yet
            raise SymbpError(
                "standardising is not available for recurrent networks yet; "
                "give the sequences already scaled",
                field="--standardize",
            )
    dataset = load_data(args.data, target=args.target)
    # --classes (parsed by symbp.cli where present): whole-number targets are class labels
    spec, dataset = spec_for_data(
        args.spec, dataset, classes=bool(getattr(args, "classes", False)), one_hot=args.one_hot
    )
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
    if args.out is not None:  # a locked or foreign folder is refused before compiling
        folder = OutputFolder(args.out, "train")
        manifest = folder.check(run_files(score_name(prepared.task), sensitivity=spec.dense_only))
        folder.check_unlocked()
        _note_incomplete(manifest, args.out)
    from ..codegen import compile as compile_spec

    trainer = compile_spec(spec)
    if getattr(args, "init_from", None) is not None:
        from ..codegen.persist import init_from

        init_from(trainer, args.init_from)  # a bad file is refused before any folder is made
    out = args.out if args.out is not None else default_run_dir(spec.name, args.data)
    check_writable_dir(out)  # before training, not after it
    quiet = bool(getattr(args, "quiet", False))
    result = train(
        spec,
        prepared,
        trainer=trainer,
        out_dir=out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping=args.early_stopping,
        progress=not quiet,
    )
    if getattr(args, "json", False):
        from .rundir import json_text
        from .runner import payload

        files = [p.name for p in result.files]
        sys.stdout.write(json_text({**payload(result), "run_dir": str(out), "files": files}))
    elif not quiet:
        sys.stdout.write(report(result, out))
    if result.interrupted:
        print(
            f"symbp train: interrupted; saved the parameters and metrics of epoch "
            f"{result.epochs_run} (the last completed) to {terminal_text(out)}",
            file=sys.stderr,
        )
        return 130
    return 0
