"""Jupyter display: derivations and evaluations that show themselves as math.

:func:`show` wraps a :class:`~symbp.symbolic.derivation.Derivation` (or an
:class:`~symbp.symbolic.evaluate.Evaluation`) in a small object with
``_repr_latex_`` (the layer-generic equations as one ``aligned`` block; the
trajectory table for an evaluation) and ``_repr_html_`` (the same as MathML,
offline). :mod:`symbp.symbolic` itself imports nothing from rendering;
``symbp.derive`` returns :class:`ShownDerivation`, a thin subclass that adds
the two methods.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..symbolic.derivation import Derivation
from ..symbolic.evaluate import Evaluation
from . import steps
from .blocks import Aligned, Row
from .escape import Tex, html_escape
from .mathtex import tex, tex_number


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
