"""How the exercises of a network of layer records (conv, pool, flatten …) are worded.

The files are those of every network of layer records (:mod:`.map_sheet`), from the
variants of :mod:`.conv`; this module gives their words (:data:`CONV`):

- ``variants/ID.yaml``: each student's spec whose claims are the answers
  (``symbp verify variants/ID.yaml`` confirms them);
- ``answers.csv`` (:func:`.quiz.answers_csv`, the dense columns), ``moodle.xml`` and
  ``gift.txt``: one numerical question per student and question, whose text states the
  student's layers, numbers and conventions (:mod:`.map_quiz`);
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

from ..render.escape import Tex
from ..spec import Spec
from .conv import default_asks, parse_asks
from .conventions import conventions as record_conventions
from .map_sheet import Numbers, SheetKind, matrices, plain, tex_matrix
from .plan import ExerciseSet
from .variants import Answer, Variant

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


def numbers(variant: Variant) -> Numbers:
    """The student's numbers as small matrices, by group."""
    params = variant.data["params"]
    rows: list[tuple[str, tuple[Tex, ...]]] = []
    for l, (w, b) in enumerate(zip(params["W"], params["b"], strict=True)):
        if w is None and b is None:
            continue
        parts = [tex_matrix(n, m) for n, m in matrices(f"W[{l}]", w)]
        parts += [tex_matrix(n, m) for n, m in matrices(f"b[{l}]", b)]
        rows.append((f"layer {l}", tuple(parts)))
    examples = variant.data.get("examples") or [variant.data["example"]]
    for e, ex in enumerate(examples):
        parts = [tex_matrix(n, m) for n, m in matrices("x", ex["x"])]
        parts += [tex_matrix("t", [ex["t"]])]
        rows.append((f"example {e}" if len(examples) > 1 else "the example", tuple(parts)))
    return tuple(rows)


def solution_pdf(exercises: ExerciseSet, variant: Variant, engine: str | None = None) -> bytes:
    """The conv document of ``variant`` (:data:`.sheets.KEY_STYLE`) as PDF bytes; conv
    documents take no marks yet, so the asked numbers are not marked in it."""
    from .sheets import solution_pdf as document

    return document(exercises, variant, engine, marked=False)


def numbers_text(variant: Variant) -> list[str]:
    """The student's numbers as lines of text (the quiz's): each layer's ``W`` and ``b``,
    then each example's ``x`` and ``t``."""
    params = variant.data["params"]
    lines = []
    for l, (w, b) in enumerate(zip(params["W"], params["b"], strict=True)):
        if w is not None:
            lines.append(f"W[{l}] = {plain(w)}, b[{l}] = {plain(b)}")
    for e, ex in enumerate(variant.data.get("examples") or [variant.data["example"]]):
        lines.append(f"example {e}: x = {plain(ex['x'])}, t = {plain(ex['t'])}")
    return lines


def shape(spec: Spec) -> str:
    """The input's shape: ``1 x 5 x 5``."""
    return " x ".join(str(n) for n in spec.input_shape)


#: How the exercises of a conv net (any network of layer records but a recurrent one) are
#: worded (:mod:`.map_sheet`).
CONV = SheetKind(  # the fields' order
    describe, conventions, numbers, numbers_text, shape, default_asks, parse_asks, solution_pdf
)
