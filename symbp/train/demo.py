"""``symbp demo``: the main job on the embedded examples, no arguments, no network.

1. Seed 001's 3-4-1 worked example (``koech_3_4_1.yaml``, package data of
   ``symbp.examples``): derive it, verify the example's claims
   (``koech_3_4_1_claims.yaml``), write the derivation document with six worked
   updates and the verdicts marked (HTML always, PDF when TeX is installed),
   compile its trainer and train it on the article's one example, next to the
   exact and the printed trajectory ``ŷ = 0.521, 0.648, …, 0.925``.
2. ``digits_64_64_10.yaml`` on scikit-learn's digits: standardised pixels,
   one-hot targets, the seeded 70/15/15 split, with the progress bar, metrics,
   plots and diagnostics of :func:`symbp.train.runner.train`.
3. The digits conv net of :mod:`.demo_conv` (conv, max-pool, flatten, dense) on a
   stratified 80/20 split, trained by the generated conv kernel.
4. The Elman net of :mod:`.demo_rnn` predicting a noisy sine, trained by the generated
   recurrent trainer, its predictions plotted against the series (skipped, with the
   reason, while the generated trainer does not take recurrent nets).
5. A summary of what was written where, with the digits test accuracies.

Every output goes under ``out_dir``. Exit code 0 when every step succeeded, digits
reached :data:`TARGET_ACCURACY`, the conv net
:data:`~.demo_conv.CONV_TARGET_ACCURACY` and the sine RNN (when trained)
:data:`~.demo_rnn.RNN_TARGET_MSE`, else 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from rich.console import Console

from ..errors import SymbpError
from ..escape import rich_markup
from ..fileio import check_writable_dir, write_atomic
from ..outputs import OutputFolder
from ..spec import Spec
from ..verify.compare import MISMATCH
from ..verify.report import Report

WORKED_EXAMPLE = "koech_3_4_1.yaml"
DIGITS_SPEC = "digits_64_64_10.yaml"
TARGET_ACCURACY = 0.95
#: ŷ after 0..6 updates as seed 001 prints it.
ARTICLE_TRAJECTORY = (0.521, 0.648, 0.758, 0.836, 0.881, 0.908, 0.925)


def claims_name(spec_name: str) -> str | None:
    """The shipped claims file for an example (``<stem>*claims*.yaml``), if any."""
    stem = spec_name.removesuffix(".yaml")
    names = sorted(
        entry.name
        for entry in resources.files("symbp.examples").iterdir()
        if entry.name.startswith(stem) and "claims" in entry.name and entry.name.endswith(".yaml")
    )
    return names[0] if names else None


def tex_available() -> bool:
    """Whether a PDF can be built here (the document renderer's TeX engine is on PATH)."""
    from ..render.pdf import find_engine

    return find_engine() is not None


@dataclass
class DemoLog:
    """What the demo did: ``(step, outcome, path)`` rows, and whether all went well."""

    rows: list[tuple[str, str, Path | None]] = field(default_factory=list)
    ok: bool = True

    def add(self, step: str, outcome: str, path: Path | None = None, ok: bool = True) -> None:
        self.rows.append((step, outcome, path))
        self.ok = self.ok and ok


def _worked_example(out: Path, log: DemoLog, console: Console) -> None:
    from ..api import load
    from ..render import write_document
    from ..render.styles import DEMO_STYLE
    from ..render.text import derivation_text
    from ..symbolic.derivation import derive as derive_dense

    spec = load(WORKED_EXAMPLE.removesuffix(".yaml"))  # by name: no install path in outputs
    console.print(f"[bold]1. {rich_markup(spec.title or spec.name)}[/bold]")
    path = write_atomic(out / "derivation.txt", derivation_text(derive_dense(spec)))
    log.add("derive 3-4-1", "forward pass, loss, every gradient", path)
    marks = _verify(spec, out, log)
    formats = ["html", "pdf"] if tex_available() else ["html"]
    for fmt in formats:
        try:
            path = write_document(
                spec,
                format=fmt,
                steps=len(ARTICLE_TRAJECTORY) - 1,
                out=out / f"koech_3_4_1.{fmt}",
                marks=marks,
                style=DEMO_STYLE,
            )
            log.add(
                f"document ({fmt})",
                f"derivation ({DEMO_STYLE}), 6 worked updates, claims marked",
                path,
            )
        except SymbpError as err:
            log.add(f"document ({fmt})", f"failed: {err}", None, ok=False)
    if not tex_available():
        log.add("document (pdf)", "skipped: no TeX engine (pdflatex) on PATH")
    _train_worked_example(spec, out, log)


def _train_worked_example(spec: Spec, out: Path, log: DemoLog) -> None:
    """Compile the 3-4-1 trainer, take the article's six updates, compare ŷ."""
    from ..codegen import compile as compile_spec
    from ..codegen import write_module
    from ..symbolic.evaluate import evaluate

    trainer = compile_spec(spec)  # from the per-user kernel cache after the first run
    path = write_module(spec, out_dir=out)
    log.add("compile 3-4-1", "generated Numba trainer module (source)", path)
    x = np.array([[float(v) for v in ex.x] for ex in spec.examples])
    t = np.array([[float(v) for v in ex.t] for ex in spec.examples])
    kernel = [float(trainer.predict(x)[0, 0])]

    def record(_epoch: int, tr: object, _history: object) -> None:
        kernel.append(float(tr.predict(x)[0, 0]))  # type: ignore[attr-defined]

    steps = len(ARTICLE_TRAJECTORY) - 1
    trainer.fit(x, t, epochs=steps, batch_size=1, shuffle=False, callback=record)
    exact = [float(s.examples[0].a[-1][0]) for s in evaluate(spec, steps=steps).steps]
    gap = max(abs(k - e) for k, e in zip(kernel, exact, strict=True))
    lines = ["update,yhat_kernel,yhat_exact,yhat_article"]
    lines += [
        f"{i},{k!r},{e!r},{a}"
        for i, (k, e, a) in enumerate(zip(kernel, exact, ARTICLE_TRAJECTORY, strict=True))
    ]
    path = write_atomic(out / "training.csv", "\n".join(lines) + "\n")
    shown = " ".join(f"{v:.3f}" for v in kernel)
    matches = (
        all(round(k, 3) == a for k, a in zip(kernel, ARTICLE_TRAJECTORY, strict=True))
        and gap < 1e-9
    )
    log.add(
        "train 3-4-1",
        f"ŷ = {shown} (article: {' '.join(map(str, ARTICLE_TRAJECTORY))}; "
        f"max |kernel − exact| = {gap:.1e})",
        path,
        ok=matches,
    )


#: Spec fields that do not change the network or its numbers.
_LABELS = frozenset({"name", "title", "description", "source", "claims", "names"})


def _same_network(a: Spec, b: Spec) -> bool:
    """Whether two specs describe the same network with the same starting numbers."""
    return _network_data(a) == _network_data(b)


def _network_data(spec: Spec) -> dict[str, object]:
    return {k: v for k, v in spec.data.items() if k not in _LABELS}


def _verify(spec: Spec, out: Path, log: DemoLog) -> dict[tuple[str, int], str] | None:
    """Verify the example's claims; the verdicts, to mark in the document (same network)."""
    from ..api import load
    from ..verify import verify

    name = claims_name(WORKED_EXAMPLE)
    if name is None:
        log.add("verify claims", "no claims file ships with the example", None, ok=False)
        return None
    claims = name.removesuffix(".yaml")  # by name: the report names no install path
    report = verify(claims)
    same = _same_network(spec, load(claims))
    path = write_atomic(out / "verify.md", report.render("md"))
    outcome, ok = verify_outcome(report)
    log.add("verify claims", outcome, path, ok=ok)
    return report.marks() if same else None


def verify_outcome(report: Report) -> tuple[str, bool]:
    """The demo's line for the verification of the example's claims, and whether it is fine.

    The shipped claims hold a misprint on purpose: a mismatch that a convention explains
    is a finding about the text (``misprint found (explained)``), not a failure; a
    mismatch nothing explains is one.
    """
    mismatches = report.counts()[MISMATCH]
    if report.passed:
        return f"{report.tally()} — all claims hold", True
    unexplained = mismatches - report.explained()
    if unexplained == 0 and report.independent_ok:
        found = "misprint found" if mismatches == 1 else f"{mismatches} misprints found"
        return f"{report.tally()} — {found} (explained); see the report", True
    return f"{report.summary()}; {unexplained} mismatch(es) not explained (see the report)", False


def _digits(out: Path, log: DemoLog, console: Console, progress: bool) -> float:
    from ..api import load
    from .data import load_data
    from .prepare import prepare
    from .runner import train

    spec = load(DIGITS_SPEC.removesuffix(".yaml"))  # by name: no install path in metrics.json
    console.print(f"[bold]2. {rich_markup(spec.title or spec.name)}[/bold]")
    data = prepare(load_data("digits"), spec, standardize=True, one_hot=True, seed=0)
    result = train(spec, data, out_dir=out, progress=progress, console=console)
    accuracy = result.test_score
    log.add(
        "train digits",
        result.summary(),
        out,
        ok=accuracy >= TARGET_ACCURACY,
    )
    return accuracy


def _digits_conv(out: Path, log: DemoLog, console: Console, progress: bool) -> float:
    from .demo_conv import CONV_TARGET_ACCURACY, DIGITS_CONV, train_digits_conv

    console.print(f"[bold]3. {rich_markup(DIGITS_CONV['title'])}[/bold]")
    accuracy, summary = train_digits_conv(out, progress=progress, console=console)
    log.add("train digits conv", summary, out, ok=accuracy >= CONV_TARGET_ACCURACY)
    return accuracy


def _sine_rnn(out: Path, log: DemoLog, console: Console, progress: bool) -> float | None:
    """Step 4: the sine RNN's test MSE (the generated recurrent trainer)."""
    from .demo_rnn import RNN_FILES, RNN_TARGET_MSE, SINE_RNN, train_sine_rnn

    console.print(f"[bold]4. {rich_markup(SINE_RNN['title'])}[/bold]")
    mse, summary = train_sine_rnn(out, progress=progress, console=console)
    log.add("train sine RNN", summary, out / RNN_FILES[0], ok=mse <= RNN_TARGET_MSE)
    return mse


def run_demo(
    out_dir: str | Path = "symbp-demo", *, progress: bool = True, quiet: bool = False
) -> int:
    """Run the demo into ``out_dir``; print the summary; return the exit code.

    ``quiet`` keeps the step-by-step lines off standard error (the summary stays).
    """
    out = Path(out_dir)
    folder = OutputFolder(out, "demo").begin(demo_files())  # refused here if not symbp's
    try:
        check_writable_dir(out)
        console = Console(stderr=True, highlight=False, quiet=quiet)
        start = time.perf_counter()
        log = DemoLog()
        _worked_example(out / "koech_3_4_1", log, console)
        accuracy = _digits(out / "digits", log, console, progress)
        conv_accuracy = _digits_conv(out / "digits_conv", log, console, progress)
        rnn_mse = _sine_rnn(out / "sine_rnn", log, console, progress)
        seconds = time.perf_counter() - start
        summary = _summary(log, out, accuracy, seconds, conv_accuracy, rnn_mse)
        write_atomic(out / "summary.txt", summary)
        folder.finish()
    finally:
        folder.close()
    print(summary, end="")
    return 0 if log.ok else 1


def demo_files() -> list[str]:
    """The files the demo writes besides ``digits/`` (a run folder with its own manifest),
    relative to its folder (:mod:`symbp.outputs.folder`)."""
    from ..codegen.loader import safe_stem
    from ..spec import load as load_spec
    from .demo_rnn import RNN_FILES

    stem = Path(WORKED_EXAMPLE).stem
    module = f"{safe_stem(load_spec(stem).name)}.py"  # the shipped example, by name
    names = ["derivation.txt", "verify.md", "training.csv", module]
    names += [f"{stem}.{suffix}" for suffix in ("html", "pdf", "tex", "log")]
    rnn = [f"sine_rnn/{name}" for name in RNN_FILES]
    return ["summary.txt", *(f"{stem}/{name}" for name in names), *rnn]


def _summary(
    log: DemoLog,
    out: Path,
    accuracy: float,
    seconds: float,
    conv_accuracy: float | None = None,
    rnn_mse: float | None = None,
) -> str:
    from .demo_conv import CONV_TARGET_ACCURACY
    from .demo_rnn import RNN_TARGET_MSE

    lines = [f"symbp demo: wrote everything under {out}/ in {seconds:.1f} s", ""]
    width = max(len(step) for step, _, _ in log.rows)
    for step, outcome, path in log.rows:
        lines.append(f"  {step:<{width}}  {outcome}")
        if path is not None:
            lines.append(f"  {'':<{width}}  -> {path}")
    verdict = "reached" if accuracy >= TARGET_ACCURACY else "MISSED"
    lines += [
        "",
        f"digits test accuracy: {accuracy:.4f} ({verdict} the {TARGET_ACCURACY:.0%} target)",
    ]
    if conv_accuracy is not None:
        verdict = "reached" if conv_accuracy >= CONV_TARGET_ACCURACY else "MISSED"
        lines.append(
            f"digits conv net test accuracy: {conv_accuracy:.4f} ({verdict} the "
            f"{CONV_TARGET_ACCURACY:.0%} target)"
        )
    if rnn_mse is not None:
        verdict = "reached" if rnn_mse <= RNN_TARGET_MSE else "MISSED"
        lines.append(f"sine RNN test MSE: {rnn_mse:.4f} ({verdict} the {RNN_TARGET_MSE} target)")
    lines += [
        "all steps succeeded" if log.ok else "some steps FAILED (see above)",
    ]
    return "\n".join(lines) + "\n"
