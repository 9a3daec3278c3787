"""The ``symbp`` command: parse arguments, call the Python API, map errors to exit codes.

Exit codes: 0 success, 1 a check failed (a claim in ``verify``, divergence in
training), 2 bad input (spec, data, arguments). Errors print one line, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import SymbpError
from .escape import json_text, terminal_text

#: The largest value of a count option (--steps, --epochs, --digits ...).
MAX_COUNT = 10**9
#: --digits: more significant digits than exact evaluation keeps are never shown.
MAX_DIGITS = 60


def _positive_int(text: str, maximum: int = MAX_COUNT) -> int:
    try:
        value = int(text) if len(text) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text[:30]!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, found {value}")
    if value > maximum:
        raise argparse.ArgumentTypeError(f"expected a number <= {maximum}, found {value}")
    return value


def _seed(text: str) -> int:
    """A seed: a whole number from 0 to 2^32 - 1 (:data:`symbp.limits.MAX_SEED`)."""
    return _positive_int(text, 2**32 - 1)


def _digits(text: str) -> int:
    return _positive_int(text, MAX_DIGITS)


def _seconds(text: str) -> float:
    try:
        value = float(text) if len(text) <= 20 else math.nan
    except ValueError:
        value = math.nan
    if not 0 <= value <= 10**6:
        raise argparse.ArgumentTypeError(
            f"expected seconds from 0 (no limit) to 1000000, found {text[:30]!r}"
        )
    return value


def _time_limit(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--time-limit",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="stop the derivation and exact evaluation after this long (default 30; 0: none)",
    )


def _common() -> argparse.ArgumentParser:
    """Options every command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the command's result (no progress, paths or summaries)",
    )
    return common


#: ``-o -``: the result goes to standard output.
STDOUT = Path("-")


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="symbp",
        description="Symbolic backpropagation: derive, document, verify and compile small "
        "neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"symbp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        parents=[common], name="derive", help="print the derivation (forward, loss, every gradient)"
    )
    p.add_argument(
        "spec", type=Path, help="network spec: a YAML file, a shipped example's name or - (stdin)"
    )
    p.add_argument("--latex", action="store_true", help="print raw LaTeX instead of Unicode")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument(
        "--generic",
        action="store_true",
        help="layer-generic formulas only (no per-parameter chains)",
    )
    _time_limit(p)
    p.set_defaults(handler=_derive)

    p = sub.add_parser(
        parents=[common], name="eval", help="evaluate the spec's worked example exactly"
    )
    p.add_argument("spec", type=Path)
    count = p.add_mutually_exclusive_group()
    count.add_argument("--steps", type=_positive_int, default=1, help="updates (default 1)")
    count.add_argument(
        "--epochs", type=_positive_int, help="whole epochs of the spec's training schedule"
    )
    p.add_argument(
        "--arithmetic",
        choices=("exact", "float64", "float32"),
        default="exact",
        help="exact (default), or IEEE float64/float32 as NumPy or a float trainer computes",
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--digits", type=_digits, default=6, help="significant digits shown")
    _time_limit(p)
    p.set_defaults(handler=_eval)

    p = sub.add_parser(
        parents=[common], name="compile", help="generate the Numba trainer module for a spec"
    )
    p.add_argument("spec", type=Path)
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        help="output directory (default: the per-user cache; -: print the module)",
    )
    p.add_argument("--dtype", choices=("float64", "float32"), default=None)
    _time_limit(p)
    p.set_defaults(handler=_compile)

    p = sub.add_parser(
        parents=[common],
        name="doc",
        help="write the derivation document (pdf, tex, html, md); "
        "a spec with claims gets each claimed number marked with its verdict",
    )
    p.add_argument("spec", type=Path)
    p.add_argument(
        "--format",
        choices=DOC_FORMATS,
        default=None,
        help="pdf, tex, html or md (default: from the -o suffix, else pdf)",
    )
    p.add_argument(
        "--style",
        choices=("full", "handout", "cloze"),
        default="full",
        help="full: every step (the answer key, default); handout: diagram, forward pass, "
        "loss, one weight per layer worked, the tables and the trajectory; cloze: the "
        "handout with numbers blanked (exercise.ask's, else every Nth), its key beside it",
    )
    p.add_argument(
        "--blank-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="cloze: blank every Nth computed number (default 3; the spec's exercise.ask wins)",
    )
    p.add_argument(
        "--chains",
        action="store_true",
        help="write each gradient of a small net as its chain of factors "
        "(default: through the worked error signals δ)",
    )
    p.add_argument(
        "--no-marks", action="store_true", help="do not mark the verdicts on the spec's claims"
    )
    p.add_argument("--steps", type=_positive_int, default=1, help="updates worked (default 1)")
    p.add_argument("--digits", type=_digits, default=3, help="significant digits shown")
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        help="output file (default: ./<name>.<format>; -: standard output)",
    )
    _time_limit(p)
    p.set_defaults(handler=_doc)

    p = sub.add_parser(
        parents=[common], name="verify", help="check the numbers a text prints against exact values"
    )
    p.add_argument("spec", type=Path, help="spec with concrete numbers and claims")
    p.add_argument(
        "--format",
        choices=("text", "md", "html"),
        default=None,
        help="report format (default: from the -o suffix .md/.html, else text)",
    )
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument(
        "-o", "--out", type=Path, default=None, help="write the report here (-: standard output)"
    )
    p.add_argument(
        "--against",
        choices=("torch",),
        default=None,
        help="also recompute gradients with an independent autodiff",
    )
    _time_limit(p)
    p.set_defaults(handler=_verify)

    p = sub.add_parser(
        parents=[common],
        name="check",
        help="find every decimal number of a text (md, html, tex, txt) and name the "
        "quantity of the spec's exact trajectory it is; no claims file needed",
    )
    p.add_argument("text", type=Path, help="the text: .md, .html, .tex or plain text")
    p.add_argument("--spec", type=Path, required=True, help="spec of the text's network (YAML)")
    p.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help="steps evaluated (default: the spec's training epochs, else 6; at most 50)",
    )
    p.add_argument(
        "-o", "--out", type=Path, default=None, help="write the annotated copy (HTML) here"
    )
    p.add_argument("--json", action="store_true", help="print the numbers' verdicts as JSON")
    p.add_argument("--all", action="store_true", help="list the unmatched numbers too")
    _time_limit(p)
    p.set_defaults(handler=_check)

    p = sub.add_parser(
        parents=[common], name="train", help="train a compiled network on a data set"
    )
    p.add_argument("spec", type=Path)
    p.add_argument(
        "--data", required=True, help="digits, iris, breast_cancer, wine, FILE.csv or FILE.npz"
    )
    p.add_argument("--target", default=None, help="CSV: name of the target column")
    p.add_argument("--epochs", type=_positive_int, default=None)
    p.add_argument("--batch-size", type=_positive_int, default=None)
    p.add_argument(
        "--standardize", action="store_true", help="scale features to mean 0, std 1 (train split)"
    )
    p.add_argument(
        "--one-hot",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="encode class labels one unit per class (default: when the output layer has >1 unit)",
    )
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--test-fraction", type=float, default=0.15)
    p.add_argument(
        "--early-stopping",
        type=_positive_int,
        default=None,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a lower validation loss; keep the best epoch",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed of the train/validation/test split")
    p.add_argument(
        "--classes",
        action="store_true",
        help="a whole-number target column holds class labels (one output unit per class)",
    )
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        metavar="RUN",
        help="start from a run directory's (or a params.npz's) parameters; the optimiser "
        "state and the schedule resume where that run stopped",
    )
    p.add_argument("--json", action="store_true", help="print the run's metrics as JSON")
    p.add_argument(
        "-o", "--out", type=Path, default=None, help="run directory (default: runs/SPEC-DATA)"
    )
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        parents=[common],
        name="exercises",
        help="per-student exercise sheets, answer keys and a quiz from one spec",
    )
    p.add_argument("spec", type=Path, help="network spec (YAML), optionally with exercise:")
    p.add_argument("--count", type=_positive_int, default=None, help="students s01... (default 30)")
    p.add_argument("--seed", type=_seed, default=None, help="seed of the draws (default 0)")
    p.add_argument(
        "--ask",
        action="append",
        default=None,
        metavar="QUANTITY",
        help="a question: a verify quantity name, QUANTITY@STEP for a step (repeatable)",
    )
    p.add_argument("--students", type=Path, default=None, help="roster CSV with an id column")
    p.add_argument(
        "--regenerate",
        metavar="CODE",
        default=None,
        help="rebuild one student's sheet and key from the code on the sheet",
    )
    p.add_argument("--no-pdf", action="store_true", help="skip the sheets and keys (no TeX)")
    p.add_argument("-o", "--out", type=Path, required=True, help="output directory")
    _time_limit(p)
    p.set_defaults(handler=_exercises)

    p = sub.add_parser(
        parents=[common], name="demo", help="the main job on the embedded 3-4-1 example and digits"
    )
    p.add_argument("-o", "--out", type=Path, default=Path("symbp-demo"), help="output directory")
    p.set_defaults(handler=_demo)

    p = sub.add_parser(
        parents=[common],
        name="export-spec",
        help="write the spec of a trained network (a run directory or saved trainer), "
        "its params the trained ones",
    )
    p.add_argument("run", type=Path, help="run directory or .npz written by symbp train/save")
    p.add_argument(
        "-o", "--out", type=Path, required=True, help="the spec to write (YAML; -: stdout)"
    )
    p.set_defaults(handler=_export_spec)

    p = sub.add_parser(
        parents=[common],
        name="export-onnx",
        help="write a trained network with its preprocessing and labels as ONNX (needs onnx)",
    )
    p.add_argument("run", type=Path, help="run directory or .npz written by symbp train/save")
    p.add_argument(
        "-o", "--out", type=Path, required=True, help="the .onnx file to write (-: stdout)"
    )
    p.set_defaults(handler=_export_onnx)

    p = sub.add_parser(
        parents=[common],
        name="examples",
        help="list the shipped example specs, print one's path or copy them to a folder",
    )
    p.add_argument("name", nargs="?", default=None, help="an example's name (e.g. koech_3_4_1)")
    p.add_argument("--path", action="store_true", help="print the example's file path")
    p.add_argument("-o", "--out", type=Path, default=None, help="copy the example(s) here")
    p.set_defaults(handler=_examples)
    return parser


DOC_FORMATS = ("pdf", "tex", "html", "md")
_DOC_SUFFIXES = {".pdf": "pdf", ".tex": "tex", ".html": "html", ".htm": "html", ".md": "md"}


def _say(args: argparse.Namespace, text: str) -> None:
    """An informational line (a path written, a summary): not with ``--quiet``."""
    if not args.quiet:
        print(terminal_text(text))


def _note(args: argparse.Namespace, spec: Any) -> None:
    """The spec's one-line notes on standard error (soft targets), not with ``--quiet``."""
    from .ops.losses import soft_targets_note

    note = soft_targets_note(spec.loss, [ex.t for ex in spec.examples])
    if note and not getattr(args, "quiet", False):
        print(terminal_text(note), file=sys.stderr)


def _report(text: str) -> None:
    """A report of several lines on standard output, no control character raw."""
    sys.stdout.write(terminal_text(text, lines=True))


def _write_json(payload: object) -> None:
    sys.stdout.write(json_text(json.dumps(payload, indent=1, ensure_ascii=False)) + "\n")


def _no_stdout(args: argparse.Namespace, what: str) -> None:
    if args.out == STDOUT:
        raise SymbpError(f"{what} is a folder; -o - (standard output) does not apply", field="-o")


def _derive(args: argparse.Namespace) -> int:
    from .api import derive, load
    from .symbolic.derivation import Derivation

    derivation = derive(load(args.spec), explicit=False if args.generic else None)
    if not isinstance(derivation, Derivation):  # a network of layer records (conv, pool …)
        if args.latex:
            from .symbolic.recurrent_run import RecurrentDerivation

            recurrent = isinstance(derivation, RecurrentDerivation)
            what = "recurrent" if recurrent else "conv/pool/flatten"
            raise SymbpError(f"--latex of {what} layers is not available yet")
        _write_json(derivation.to_json()) if args.json else _report(derivation.text())
        return 0
    if args.json:
        from .render.text import derivation_json

        _write_json(derivation_json(derivation))
        return 0
    from .render.text import derivation_text

    _report(derivation_text(derivation, as_latex=args.latex))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .api import evaluate, load
    from .render.text import evaluation_text
    from .symbolic.records import Evaluation
    from .symbolic.recurrent_run import RecurrentRun

    spec = load(args.spec)
    _note(args, spec)
    evaluation = evaluate(spec, steps=args.steps, epochs=args.epochs, arithmetic=args.arithmetic)
    if args.json:
        _write_json(evaluation.to_json())
    elif isinstance(evaluation, RecurrentRun):  # per time step, then the sums over time
        from .render.recurrent_text import recurrent_text

        _report(recurrent_text(evaluation, digits=args.digits))
    elif not isinstance(evaluation, Evaluation):  # a network of layer records (conv, pool …)
        from .render.network_text import run_text

        _report(run_text(evaluation, digits=args.digits))
    else:
        _report(evaluation_text(evaluation, digits=args.digits))
    return 0


def _compile(args: argparse.Namespace) -> int:
    if args.out == STDOUT:
        from .api import load
        from .codegen import render

        spec = load(args.spec)
        sys.stdout.write(render(spec, args.dtype or spec.dtype))
        return 0
    from .codegen import write_module

    path = write_module(args.spec, out_dir=args.out, dtype=args.dtype)
    _say(args, str(path))
    return 0


def _doc_format(args: argparse.Namespace) -> str:
    """``--format``, else the ``-o`` suffix's, else pdf; a contradiction is an error."""
    implied = None
    if args.out is not None and args.out != STDOUT and args.out.suffix:
        implied = _DOC_SUFFIXES.get(args.out.suffix.lower())
        if implied is None and args.format is None:
            raise SymbpError(
                f"cannot tell the format from the suffix {args.out.suffix!r}; expected "
                ".pdf, .tex, .html or .md, or give --format",
                field="-o",
            )
    if args.format is not None and implied is not None and implied != args.format:
        raise SymbpError(
            f"{args.out.name} is a .{implied} name but --format is {args.format}", field="-o"
        )
    return args.format or implied or "pdf"


def _doc(args: argparse.Namespace) -> int:
    from .api import load

    fmt = _doc_format(args)
    _note(args, load(args.spec))
    options = {
        "format": fmt,
        "steps": args.steps,
        "digits": args.digits,
        "style": args.style,
        "chains": args.chains,
        "marks": {} if args.no_marks else None,
    }
    if args.blank_every is not None:
        options["blank_every"] = args.blank_every
    if args.out == STDOUT:
        import tempfile

        from .api import document

        with tempfile.TemporaryDirectory(prefix="symbp-doc-") as tmp:
            path = document(args.spec, out=Path(tmp) / f"document.{fmt}", **options)  # type: ignore[arg-type]
            data = path.read_bytes()
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    from .api import document

    path = document(args.spec, out=args.out, **options)  # type: ignore[arg-type]
    _say(args, str(path))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .verify import verify

    report = verify(args.spec, against=args.against)
    if args.json:
        text = json_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False)) + "\n"
    else:
        suffix = {".md": "md", ".html": "html", ".htm": "html"}
        to_file = args.out is not None and args.out != STDOUT
        fmt = args.format or (suffix.get(args.out.suffix.lower()) if to_file else None) or "text"
        text = report.render(fmt)
    if args.out is not None and args.out != STDOUT:
        from .fileio import write_atomic

        write_atomic(args.out, text)
        _say(args, f"report written to {args.out}")
        _say(args, report.summary())
    else:
        _report(text)
    return 0 if report.passed else 1


def _check(args: argparse.Namespace) -> int:
    from .api import load
    from .verify.scan import format_of, read_text, scan

    if args.out == STDOUT:
        raise SymbpError("give the annotated copy a file name (.html)", field="-o")
    text = read_text(args.text)
    fmt = format_of(args.text)
    report = scan(load(args.spec), text, format=fmt, steps=args.steps, source=str(args.text))
    if args.out is not None:
        from .fileio import write_atomic

        write_atomic(args.out, report.annotated_html(text))
    if args.json:
        _write_json(report.to_json())
    else:
        _report(report.to_text(all=args.all) if not args.quiet else "")
        if args.quiet:
            _report(terminal_text(report.summary()) + "\n")
    if args.out is not None:
        _say(args, f"annotated copy written to {args.out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .train.cli import run_train

    _no_stdout(args, "the run directory")
    return run_train(args)


def _exercises(args: argparse.Namespace) -> int:
    from .exercises import make_exercises, regenerate_sheet
    from .exercises.progress import progress_bar

    _no_stdout(args, "the exercises' output")
    pdf = not args.no_pdf
    if args.regenerate is not None and (
        args.count is not None or args.seed is not None or args.students is not None
    ):
        raise SymbpError(
            "regenerate: the code gives the student and the seed; "
            "leave out --count, --seed and --students"
        )
    with progress_bar(enabled=not args.quiet) as bar:  # on a terminal's stderr only
        if args.regenerate is not None:
            done = regenerate_sheet(
                args.spec, args.regenerate, args.out, ask=args.ask, pdf=pdf, progress=bar
            )
        else:
            done = make_exercises(
                args.spec,
                args.out,
                count=args.count,
                seed=args.seed,
                ask=args.ask,
                students=args.students,
                pdf=pdf,
                progress=bar,
            )
    n = len(done.variants)
    _say(
        args,
        f"wrote {args.out}: {n} variant{'s' if n != 1 else ''}, "
        f"{len(done.questions)} question{'s' if len(done.questions) != 1 else ''} each"
        + ("" if pdf else " (no PDFs)"),
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .train.demo import run_demo

    _no_stdout(args, "the demo's output")
    return run_demo(args.out, progress=not args.quiet, quiet=args.quiet)


def _export_spec(args: argparse.Namespace) -> int:
    from .codegen.export import trained_spec_yaml

    text = trained_spec_yaml(args.run)
    if args.out == STDOUT:
        sys.stdout.write(text)
        return 0
    from .fileio import write_atomic

    write_atomic(args.out, text)
    _say(args, str(args.out))
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from .codegen.onnxgraph import export_onnx

    if args.out == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(export_onnx(args.run))
        return 0
    _say(args, str(export_onnx(args.run, args.out)))
    return 0


def _examples(args: argparse.Namespace) -> int:
    from .shipped import copy_examples, example_path, listing

    if args.name is None and args.path:
        raise SymbpError("--path needs an example's name", field="--path")
    if args.out is not None:
        _no_stdout(args, "the examples' folder")
        for path in copy_examples(args.out, args.name):
            _say(args, str(path))
        return 0
    if args.name is not None:
        path = example_path(args.name)
        sys.stdout.write(str(path) + "\n" if args.path else path.read_text(encoding="utf-8"))
        return 0
    sys.stdout.write(listing())
    return 0


def _run(args: argparse.Namespace) -> int:
    """The command's handler, under its time budget where it has ``--time-limit``."""
    if getattr(args, "time_limit", None) is None:
        return int(args.handler(args))
    from .budget import time_limit

    with time_limit(args.time_limit):
        return int(args.handler(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symbp`` console script."""
    for stream in (sys.stdout, sys.stderr):  # never a traceback for an unprintable character
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    from .outputs.signals import Terminated, terminate_as_exception

    try:
        with terminate_as_exception():  # SIGTERM cleans up: temporary folders, the TeX engine
            return _run(args)
    except Terminated as stop:
        print(f"symbp {args.command}: stopped by {stop}", file=sys.stderr)
        return stop.exit_code
    except SymbpError as err:
        print(f"symbp {args.command}: error: {terminal_text(err)}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # unwritable, missing, disk full ...: one line, exit 2
        if isinstance(err, BrokenPipeError):
            return 0
        from .fileio import os_error_text

        print(f"symbp {args.command}: error: {terminal_text(os_error_text(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"symbp {args.command}: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # the budget's signal, when it lands outside its block
        from .budget import Expired

        if not isinstance(exc, Expired):
            raise
        print(f"symbp {args.command}: error: stopped after the time limit", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
