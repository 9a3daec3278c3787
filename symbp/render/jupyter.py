"""Jupyter display: derivations and evaluations that show themselves as math.

:func:`show` wraps a :class:`~symbp.symbolic.derivation.Derivation` (or an
:class:`~symbp.symbolic.evaluate.Evaluation`) in a small object with
``_repr_latex_`` (the layer-generic equations as one ``aligned`` block; the
trajectory table for an evaluation) and ``_repr_html_`` (the same as MathML,
offline). :mod:`symbp.symbolic` itself imports nothing from rendering;
``symbp.derive`` returns :class:`ShownDerivation`, a thin subclass that adds
the two methods.

The plain records show themselves too, as small HTML tables and a one-line
``repr``: :class:`~symbp.symbolic.evaluate.Evaluation` (its ``_repr_html_`` calls
:func:`evaluation_html`), and, through the functions here, the spec
(:func:`spec_repr`, :func:`spec_repr_html`) and a training run
(:func:`run_result_repr`, :func:`run_result_repr_html`). Every text that comes
from a spec or a data set is escaped; numbers are shown to :data:`DIGITS`
significant digits and tables to :data:`MAX_ROWS` rows (the first ones and the
last).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from ..symbolic.derivation import Derivation
from ..symbolic.evaluate import Evaluation
from . import steps
from .blocks import Aligned, Row
from .escape import Tex, html_escape
from .mathtex import plain_number, tex, tex_number

if TYPE_CHECKING:
    from ..spec import Spec
    from ..train.runner import RunResult


def _equations(derivation: Derivation) -> list[Row]:
    generic = derivation.generic
    rows: list[Row] = []
    for f in generic.layers:
        rows += [Row(tex(f.z.lhs), tex(f.z.rhs)), Row(tex(f.a.lhs), tex(f.a.rhs))]
    rows += [Row(tex(generic.loss.lhs), tex(generic.loss.rhs))]
    rows += list(steps.output_delta(generic).rows[-1:])
    rows[-1] = Row(tex(generic.layers[-1].delta.lhs), rows[-1].rhs, rows[-1].note)
    for f in reversed(generic.layers[:-1]):
        rows.append(Row(tex(f.delta_textbook.lhs), tex(f.delta_textbook.rhs)))
    for f in reversed(generic.layers):
        rows += [
            Row(tex(f.grad_W.lhs), tex(f.grad_W.rhs)),
            Row(tex(f.grad_b.lhs), tex(f.grad_b.rhs)),
        ]
    return rows


def _latex_aligned(block: Aligned) -> str:
    lines = [
        f"{row.lhs or ''} &{row.rel or ''} {row.rhs}"
        + (rf" && \text{{({row.note})}}" if row.note else "")
        for row in block.rows
    ]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"


def _html_aligned(block: Aligned, title: str) -> str:
    from .templating import mathml

    rows = "".join(
        "<tr>"
        f'<td style="text-align:right">{mathml(row.lhs, True) if row.lhs else ""}</td>'
        f"<td>{mathml(row.rel, True) if row.rel else ''}</td>"
        f'<td style="text-align:left">{mathml(row.rhs, True)}</td>'
        f'<td style="text-align:left">{html_escape(row.note or "")}</td>'
        "</tr>"
        for row in block.rows
    )
    return f"<div><p><strong>{html_escape(title)}</strong></p><table>{rows}</table></div>"


class _Shows:
    """Mixin: the Jupyter display methods over :meth:`_block` and :meth:`_title`."""

    def _block(self) -> Aligned:  # pragma: no cover - overridden
        raise NotImplementedError

    def _title(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _repr_latex_(self) -> str:
        return _latex_aligned(self._block())

    def _repr_html_(self) -> str:
        return _html_aligned(self._block(), self._title())


class ShownDerivation(_Shows, Derivation):
    """A :class:`Derivation` that shows its layer-generic equations in Jupyter."""

    def _block(self) -> Aligned:
        return Aligned(tuple(_equations(self)))

    def _title(self) -> str:
        spec = self.spec
        layers = "-".join(str(n) for n in spec.layers)
        return f"{spec.name} ({layers}): forward pass, loss and backward pass"


class ShownEvaluation(_Shows, Evaluation):
    """An :class:`Evaluation` that shows its loss and outputs per step in Jupyter."""

    def _block(self) -> Aligned:
        rows = []
        for step in self.steps:
            outputs = ", ".join(tex_number(v, 6) for v in step.output)
            rows.append(
                Row(
                    Tex(rf"\text{{step {step.index}: }} E"),
                    Tex(rf"{tex_number(step.loss, 6)},\quad \hat{{y}} = \left({outputs}\right)"),
                )
            )
        return Aligned(tuple(rows))

    def _title(self) -> str:
        return f"{self.spec.name}: the worked example over {len(self.steps) - 1} update(s)"


def show(obj: Derivation | Evaluation) -> Any:
    """``obj`` as an object that displays itself in Jupyter (LaTeX and HTML)."""
    if isinstance(obj, (ShownDerivation, ShownEvaluation)):
        return obj
    if isinstance(obj, Derivation):
        return ShownDerivation(**{f.name: getattr(obj, f.name) for f in fields(obj)})
    if isinstance(obj, Evaluation):
        return ShownEvaluation(**{f.name: getattr(obj, f.name) for f in fields(obj)})
    raise TypeError(f"show() takes a Derivation or an Evaluation, found {type(obj).__name__}")


#: Significant digits of the numbers in the HTML tables and the ``repr`` lines.
DIGITS = 6
#: The most rows a table shows: the first ``MAX_ROWS - 1``, an ellipsis, the last.
MAX_ROWS = 12
#: The tables' styles, scoped to the ``symbp-repr`` div each display sits in.
_STYLE = (
    "<style>.symbp-repr table{border-collapse:collapse}"
    ".symbp-repr th,.symbp-repr td{padding:0.15em 0.6em;border-bottom:1px solid #ddd;"
    "text-align:left}.symbp-repr td.num{text-align:right}</style>"
)


def _div(kind: str, *parts: str) -> str:
    """The display of a ``kind`` record: the parts in a ``symbp-repr`` div with the styles."""
    return f'<div class="symbp-repr symbp-{kind}">{_STYLE}{"".join(parts)}</div>'


def _num(value: Any) -> str:
    """A number as the tables show it (``—`` for ``None`` and NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return plain_number(value, DIGITS)


def _vector(values: Iterable[Any]) -> str:
    return "(" + ", ".join(_num(v) for v in values) + ")"


def _clipped(items: Sequence[Any]) -> list[Any | None]:
    """``items`` with the middle left out (as ``None``) beyond :data:`MAX_ROWS`."""
    if len(items) <= MAX_ROWS:
        return list(items)
    return [*items[: MAX_ROWS - 2], None, items[-1]]


def _table(header: Sequence[str], rows: Sequence[Sequence[object] | None]) -> str:
    """An HTML table of plain-text cells (escaped); a ``None`` row is an ellipsis.

    The first column is a label, the others are numbers (right-aligned).
    """
    head = "".join(f"<th>{html_escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "<td>…</td>" * len(header) + "</tr>"
        if row is None
        else "<tr>"
        + "".join(
            ('<td class="num">' if i else "<td>") + f"{html_escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fields(pairs: Iterable[tuple[str, object]]) -> str:
    """A two-column table: field name (a header cell) and value, both escaped."""
    body = "".join(
        f"<tr><th>{html_escape(k)}</th><td>{html_escape(str(v))}</td></tr>" for k, v in pairs
    )
    return f"<table><tbody>{body}</tbody></table>"


def _layers(spec: Spec) -> str:
    if spec.recurrence is not None:  # the sizes alone would hide the cell
        from ..spec.recurrent import describe

        return describe(spec)
    return "-".join(str(n) for n in spec.layers)


def _activations(spec: Spec) -> str:
    return ", ".join(a.name for a in spec.activations)


def _optimiser(spec: Spec) -> str:
    opt = spec.optimizer
    text = f"{opt.name} (learning rate {_num(opt.learning_rate)}"
    if opt.weight_decay:
        text += f", weight decay {_num(opt.weight_decay)}"
    if opt.schedule.name != "constant":
        text += f", {opt.schedule.name} schedule"
    return text + ")"


# --- Spec ----------------------------------------------------------------------------


def spec_repr(spec: Spec) -> str:
    """``Spec('xor', layers=2-2-1, activations=(sigmoid, sigmoid), loss=mse, optimiser=sgd
    lr=0.5)``: one line, for :meth:`Spec.__repr__` (the full record is ``spec.data``)."""
    if spec.recurrence is not None:  # the layers' text names the cell and activations
        return (
            f"Spec({spec.name!r}, {_layers(spec)}, loss={spec.loss.name}, "
            f"optimiser={spec.optimizer.name} lr={_num(spec.optimizer.learning_rate)})"
        )
    return (
        f"Spec({spec.name!r}, layers={_layers(spec)}, activations=({_activations(spec)}), "
        f"loss={spec.loss.name}, optimiser={spec.optimizer.name} "
        f"lr={_num(spec.optimizer.learning_rate)})"
    )


def spec_repr_html(spec: Spec) -> str:
    """The spec as a small HTML table (for :meth:`Spec._repr_html_`); user text escaped."""
    training = spec.training
    batch = "whole data set" if training.batch_size is None else str(training.batch_size)
    pairs: list[tuple[str, object]] = [("name", spec.name)]
    if spec.title:
        pairs.append(("title", spec.title))
    pairs += [
        ("layers", f"{_layers(spec)} ({spec.n_params} parameters)"),
        ("activations", _activations(spec)),
        ("loss", f"{spec.loss.name} ({spec.loss.reduction} over the examples)"),
        ("optimiser", _optimiser(spec)),
        ("training", f"{training.epochs} epoch(s), batch {batch}"),
        ("parameters", "given" if spec.W is not None else "drawn by the init"),
        ("examples", len(spec.examples)),
    ]
    if spec.recurrence is not None:  # the layers' row names the cell and activations
        pairs = [p for p in pairs if p[0] != "activations"]
    if spec.claims:
        pairs.append(("claims", len(spec.claims)))
    if spec.source:
        pairs.append(("source", spec.source))
    return _div("spec", _fields(pairs))


# --- Evaluation -------------------------------------------------------------------------


def evaluation_html(evaluation: Evaluation) -> str:
    """A worked example as an HTML table: per step the epoch, the batch's rows, the loss
    ``E`` of the batch and the output ŷ of example 0 (for :meth:`Evaluation._repr_html_`)."""
    spec = evaluation.spec
    plan = evaluation.plan
    batched = plan is not None and not plan.is_full_batch
    updates = len(evaluation.steps) - 1
    title = (
        f"{spec.name} ({_layers(spec)}): worked example, {updates} update(s), "
        f"{evaluation.arithmetic} arithmetic"
    )
    if plan is not None and batched:
        title += f", batch {plan.batch}, {plan.per_epoch} step(s) per epoch"
        if plan.shuffle:
            title += f", shuffled (seed {plan.seed})"
    header = ["step", "epoch", *(["rows"] if batched else []), "E", "ŷ (example 0)"]
    rows: list[list[object] | None] = []
    for step in _clipped(evaluation.steps):
        if step is None:
            rows.append(None)
            continue
        used = [" ".join(str(r) for r in step.rows)] if batched else []
        rows.append([step.index, step.epoch, *used, _num(step.loss), _vector(step.output)])
    return _div("evaluation", f"<p><strong>{html_escape(title)}</strong></p>", _table(header, rows))


# --- Training runs ----------------------------------------------------------------------


def run_result_repr(result: RunResult) -> str:
    """``RunResult('digits', data='digits.csv', epochs=30/30, test accuracy=0.9630)``."""
    text = (
        f"RunResult({result.spec.name!r}, data={result.data.name!r}, "
        f"epochs={result.epochs_run}/{result.epochs_planned}"
    )
    if len(result.data.test):
        text += f", test {result.score_name}={_num(result.test_score)}"
    if result.stopped_early:
        text += f", kept epoch {result.best_epoch}"
    if result.interrupted:
        text += ", interrupted"
    return text + ")"


def run_result_repr_html(result: RunResult) -> str:
    """A run as HTML: its summary line, the test metrics, and the loss and score per
    epoch (epoch 0 is before training); for :meth:`RunResult._repr_html_`."""
    score = result.score_name
    pairs: list[tuple[str, object]] = [
        ("spec", f"{result.spec.name} ({_layers(result.spec)})"),
        ("data", result.data.name),
        (
            "epochs",
            f"{result.epochs_run} of {result.epochs_planned}, "
            f"{result.iterations_per_epoch} iteration(s) of batch {result.batch_size} each",
        ),
    ]
    if result.stopped_early:
        pairs.append(("early stopping", f"kept epoch {result.best_epoch}"))
    if result.interrupted:
        pairs.append(("interrupted", f"kept epoch {result.epochs_run}"))
    for name, value in result.test.items():
        if name == "confusion_matrix":  # rows: true class, columns: predicted
            value = "; ".join(" ".join(str(v) for v in row) for row in value) or "-"
            pairs.append(("test confusion matrix (rows: true class)", value))
        else:
            pairs.append((f"test {name.replace('_', ' ')}", _num(value)))
    pairs.append(("seconds", f"{result.seconds:.2f}"))
    if result.run_dir is not None:
        pairs.append(("run directory", str(result.run_dir)))
    columns = ["train_loss", f"train_{score}", "val_loss", f"val_{score}"]
    header = ["epoch", "train loss", f"train {score}", "val loss", f"val {score}"]
    rows: list[list[object] | None] = [
        None if row is None else [int(row["epoch"]), *(_num(row.get(c)) for c in columns)]
        for row in _clipped(result.rows)
    ]
    summary = f"<p><strong>{html_escape(result.summary())}</strong></p>"
    return _div("run", summary, _fields(pairs), "<p></p>", _table(header, rows))
