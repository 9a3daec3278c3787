"""The files of an exercise set of a network of layer records (conv, pool, flatten …).

The same files as for dense nets (:mod:`.output`), from the variants of :mod:`.conv`:

- ``variants/ID.yaml``: each student's spec whose claims are the answers
  (``symbp verify variants/ID.yaml`` confirms them);
- ``answers.csv`` (:func:`.quiz.answers_csv`, the dense columns), ``moodle.xml`` and
  ``gift.txt``: one numerical question per student and question, whose text states the
  student's layers, numbers and conventions (:mod:`.conv_quiz`);
- ``sheets/ID.pdf``, ``key/ID.pdf``, ``sheets.pdf`` and ``key.pdf``
  (``templates/conv_exercise_sheet.tex.j2``): the sheet lists the layers, the numbers as
  small matrices (each input map, each kernel ``W[l][o][c]``, each dense matrix, the
  biases and targets), the conventions and the questions; the key boxes the answers and
  appends the conv document of the student's variant (:func:`solution_pdf`; conv
  documents take no marks yet, so the asked numbers are not marked there).

The conventions (:func:`conventions`) are the records' (loss, optimiser, update rule,
batches: :mod:`.conventions`), the layers as the spec writes them, and for each kind of
layer the network holds, its convention (:data:`KIND_CONVENTIONS`): convolution is
cross-correlation with the kernel not flipped and padding zeros, max pooling's ties go to
the first maximum (average pooling shares ``1/size²``), flatten orders by (channel, row,
column); and the 0-based names. Dense nets' Moodle "calculated" questions and the
teacher's report are not made for these nets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..render.escape import Tex
from ..render.templating import render
from ..spec import Spec
from .conv import default_asks, parse_asks
from .conventions import conventions as record_conventions
from .plan import ExerciseSet
from .progress import SILENT, TYPESETTING, Progress
from .quiz import answers_csv
from .variants import Answer, Variant
from .yamltext import decimal_text, dump

#: Each layer kind's convention, in the words a student reads (by the record's ``kind``).
KIND_CONVENTIONS: dict[str, str] = {
    "conv": (
        "Convolution is cross-correlation, as PyTorch's conv2d computes it: "
        "z[l][o][i][j] = b[l][o] + Σ_c Σ_u Σ_v W[l][o][c][u][v] · a[l][c][s·i+u−p][s·j+v−p] "
        "with stride s and padding p; the kernel is not flipped. Padding surrounds each input "
        "map with p rows and columns of zeros."
    ),
    "pool": (
        "Max pooling takes each window's maximum; where several values of a window tie, the "
        "first in reading order (top row first, left to right) is the maximum, and the "
        "window's delta goes to that position alone. Average pooling takes the window's mean "
        "and gives every position of the window 1/size² of its delta."
    ),
    "flatten": (
        "Flatten orders the values by (channel, row, column), as PyTorch's flatten does: "
        "a[c][i][j] becomes entry (c·H + i)·W + j."
    ),
}
#: How the sheet names the quantities (the names of ``symbp eval --json``).
NAMES = (
    "Names and indices count from 0, as symbp eval names them: W[l][o][c][u][v] is the kernel "
    "weight of layer l from input channel c to output channel o at kernel row u, column v "
    "(W[l][j][k] of a dense layer: into neuron j from k); a[l] is the input of layer l "
    "(a[0] = x) and a[l+1] its output, z[l] its values before the activation, "
    "delta[l] = ∂L/∂z[l], grad_W[l] = ∂E/∂W[l], grad_b[l] = ∂E/∂b[l], grad_x = ∂E/∂x; "
    "a feature map's value is a[l][c][i][j] (channel c, row i, column j)."
)
_WORDS = {
    "z": "the value before the activation of layer {l} at this position",
    "delta": "∂L/∂z of layer {l} at this position (the delta routed back to it)",
    "grad_W": "the gradient of the cost E with respect to this weight",
    "grad_b": "the gradient of the cost E with respect to this bias",
    "grad_x": "the gradient of the cost E with respect to this input value",
    "W": "this weight",
    "b": "this bias",
    "loss": "the cost E over the examples",
}


def conventions(spec: Spec) -> tuple[str, ...]:
    """The conventions of ``spec``'s answers (see the module docstring)."""
    kept = [c.text for c in record_conventions(spec) if c.key != "activations"]
    kinds = dict.fromkeys(layer.kind for layer in spec.network)
    return (*kept, *(KIND_CONVENTIONS[k] for k in kinds if k in KIND_CONVENTIONS), NAMES)


def _entry_text(entry: Any) -> str:
    if isinstance(entry, dict):
        return ", ".join(k if v is None else f"{k}: {_entry_text(v)}" for k, v in entry.items())
    if isinstance(entry, list | tuple):
        return "[" + ", ".join(_entry_text(v) for v in entry) + "]"
    return str(entry)


def layer_lines(spec: Spec) -> tuple[str, ...]:
    """Each layer as the spec writes it (``conv: 2, kernel: [2, 2], …``)."""
    return tuple(_entry_text(layer.to_entry()) for layer in spec.network)


def describe(answer: Answer, spec: Spec) -> str:
    """What the question asks, in words."""
    q = answer.question
    kind, indices = q.quantity.kind, q.quantity.indices
    L = len(spec.network)
    if kind == "a":
        l = indices[0]
        text = "the network's output" if l == L else f"this value of the output of layer {l - 1}"
    else:
        text = _WORDS[kind].format(l=indices[0] if indices else 0)
    if kind in ("a", "z", "delta") and len(spec.examples) > 1:
        text += " for the first example"
    if q.step == 0:
        return f"{text}, for the given parameters"
    return f"{text}, after {q.step} update{'s' if q.step != 1 else ''}"


def _matrices(name: str, value: Any) -> list[tuple[str, Any]]:
    """``value`` split into its last two axes (a vector stays one row), with names."""
    if not isinstance(value, list):
        return [(name, [[value]])]
    if not isinstance(value[0], list):
        return [(name, [value])]
    if not isinstance(value[0][0], list):
        return [(name, value)]
    out = []
    for k, part in enumerate(value):
        out += _matrices(f"{name}[{k}]", part)
    return out


def _tex_value(value: Any) -> str:
    """A drawn number as the spec holds it (a short exact decimal), in math mode."""
    text = _plain(value)
    return "-" + text[1:] if text.startswith("-") else text


def _tex_matrix(name: str, rows: Any) -> Tex:
    body = r" \\ ".join(" & ".join(_tex_value(v) for v in row) for row in rows)
    label = name.replace("_", r"\_")
    return Tex(rf"\texttt{{{label}}} = \begin{{bmatrix}} {body} \end{{bmatrix}}")


def numbers(variant: Variant) -> tuple[tuple[str, tuple[Tex, ...]], ...]:
    """The student's numbers as small matrices, by group."""
    params = variant.data["params"]
    rows: list[tuple[str, tuple[Tex, ...]]] = []
    for l, (w, b) in enumerate(zip(params["W"], params["b"], strict=True)):
        if w is None and b is None:
            continue
        parts = [_tex_matrix(n, m) for n, m in _matrices(f"W[{l}]", w)]
        parts += [_tex_matrix(n, m) for n, m in _matrices(f"b[{l}]", b)]
        rows.append((f"layer {l}", tuple(parts)))
    examples = variant.data.get("examples") or [variant.data["example"]]
    for e, ex in enumerate(examples):
        parts = [_tex_matrix(n, m) for n, m in _matrices("x", ex["x"])]
        parts += [_tex_matrix("t", [ex["t"]])]
        rows.append((f"example {e}" if len(examples) > 1 else "the example", tuple(parts)))
    return tuple(rows)


@dataclass(frozen=True)
class QuestionView:
    label: str
    name: str
    text: str
    printed: Tex
    full: Tex
    tolerance: str


@dataclass(frozen=True)
class ConvSheet:
    """One student's page of ``conv_exercise_sheet.tex.j2``."""

    title: str
    student: str
    name: str | None
    code: str
    input: str
    layers: tuple[str, ...]
    numbers: tuple[tuple[str, tuple[Tex, ...]], ...]
    conventions: tuple[str, ...]
    decimals: int
    questions: tuple[QuestionView, ...]
    solution: Tex | None = None


def sheet(exercises: ExerciseSet, variant: Variant, solution: str | None = None) -> ConvSheet:
    spec, base, d = variant.spec, exercises.spec, exercises.settings.answer_decimals
    views = tuple(
        QuestionView(
            a.question.label,
            a.question.name,
            describe(a, spec),
            Tex(a.printed),
            Tex(a.full),
            f"tolerance ±{a.tolerance_text}",
        )
        for a in variant.answers
    )
    return ConvSheet(
        title=base.title or base.name,
        student=variant.student.id,
        name=variant.student.name,
        code=variant.code.text,
        input=" x ".join(str(n) for n in spec.input_shape),
        layers=layer_lines(spec),
        numbers=numbers(variant),
        conventions=conventions(spec),
        decimals=d,
        questions=views,
        solution=Tex(solution) if solution else None,  # a file name symbp chose
    )


def sheet_tex(
    exercises: ExerciseSet,
    variants: Sequence[Variant],
    *,
    key: bool = False,
    solutions: Sequence[str] | None = None,
) -> str:
    """The LaTeX of the sheets (with ``key``: the keys' first pages) of ``variants``."""
    return render(
        "tex",
        "conv_exercise_sheet.tex.j2",
        sheets=[
            sheet(exercises, v, solutions[i] if solutions else None) for i, v in enumerate(variants)
        ],
        key=key,
        spec_file=exercises.spec_file,
        spec_hash=exercises.spec.hash,
        seed=exercises.seed,
    )


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return decimal_text(value) if not isinstance(value, int) else str(value)


def variant_yaml(exercises: ExerciseSet, variant: Variant) -> str:
    """``variants/ID.yaml``: a spec whose claims are the student's answers."""
    spec = exercises.spec
    given = exercises.settings.ask or tuple(default_asks(spec))
    default = tuple(q.ask for q in parse_asks(list(given), spec))
    asks = "" if default == exercises.asks else "".join(f" --ask '{a}'" for a in exercises.asks)
    header = [
        f"Exercise variant for student {variant.student.id} (sheet code {variant.code.text}),",
        f"made by symbp exercises from {exercises.spec_file}.",
        f"Check it: symbp verify variants/{variant.student.id}.yaml",
        f"Rebuild: symbp exercises {exercises.spec_file} --regenerate {variant.code.text}{asks}",
    ]
    return dump(variant.data, header)


def text_outputs(exercises: ExerciseSet, *, quiz: bool = True) -> dict[str, str]:
    """The deterministic files by relative path (``quiz=False``: the variant specs only)."""
    out = {f"variants/{v.student.id}.yaml": variant_yaml(exercises, v) for v in exercises.variants}
    if quiz:
        from .conv_quiz import gift, moodle_xml

        out["answers.csv"] = answers_csv(exercises)
        out["moodle.xml"] = moodle_xml(exercises)
        out["gift.txt"] = gift(exercises)
    return out


def solution_pdf(exercises: ExerciseSet, variant: Variant, engine: str | None = None) -> bytes:
    """The conv document of ``variant`` (:data:`.sheets.KEY_STYLE`) as PDF bytes; conv
    documents take no marks yet, so the asked numbers are not marked in it."""
    import tempfile
    from pathlib import Path

    from ..render.document import write_document
    from .sheets import KEY_STYLE

    steps = max(1, *(a.question.step for a in variant.answers))
    digits = min(max(3, exercises.settings.answer_decimals), 15)
    with tempfile.TemporaryDirectory(prefix="symbp-key-") as tmp:
        path = write_document(
            variant.spec,
            format="pdf",
            steps=steps,
            out=Path(tmp) / "solution.pdf",
            digits=digits,
            engine=engine,
            style=KEY_STYLE,
        )
        return path.read_bytes()


def pdf_outputs(
    exercises: ExerciseSet,
    engine: str | None = None,
    *,
    combined: bool = True,
    progress: Progress = SILENT,
) -> dict[str, bytes]:
    """``sheets/ID.pdf`` and ``key/ID.pdf``, and with ``combined`` ``sheets.pdf`` and
    ``key.pdf`` (as :func:`.sheets.pdf_outputs` for dense nets)."""
    from .sheets import _part_number, _pdf, bundle_tex

    out: dict[str, bytes] = {}
    keys: list[bytes] = []
    progress.stage(TYPESETTING, len(exercises.variants) + (1 if combined else 0))
    for v in exercises.variants:
        out[f"sheets/{v.student.id}.pdf"] = _pdf(sheet_tex(exercises, [v]), None, engine)
        solution = solution_pdf(exercises, v, engine)
        source = sheet_tex(exercises, [v], key=True, solutions=["part1.pdf"])
        keys.append(_pdf(source, {"part1.pdf": solution}, engine))
        out[f"key/{v.student.id}.pdf"] = keys[-1]
        progress.advance()
    if not combined:
        return out
    out["sheets.pdf"] = _pdf(sheet_tex(exercises, exercises.variants), None, engine)
    parts = {f"part{i + 1}.pdf": data for i, data in enumerate(keys)}
    out["key.pdf"] = _pdf(bundle_tex(exercises, sorted(parts, key=_part_number)), parts, engine)
    progress.advance()
    return out
