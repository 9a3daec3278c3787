"""Derivation documents: ``symbp doc`` and ``symbp.document``.

:func:`write_document` renders a spec's derivation to LaTeX, PDF, HTML or
Markdown; :func:`render_document` returns the text of the three text formats;
:func:`shipped_outputs` gives the committed ``docs/`` files of the shipped
examples (``python -m symbp.regenerate``). Output is deterministic: no dates,
no absolute paths, only the spec's file name and hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import SymbpError
from ..fileio import write_atomic
from ..spec import Spec, load
from .blocks import Marks
from .cloze import CLOZE_EVERY, cloze
from .conv_document import TEMPLATES as CONV_TEMPLATES
from .conv_document import build_conv, render_conv
from .escape import safe_filename
from .mathtex import DIGITS
from .model import build
from .pdf import build_pdf
from .recurrent_document import TEMPLATES as RECURRENT_TEMPLATES
from .recurrent_document import build_recurrent, render_recurrent
from .styles import STYLES, apply_style, check_style
from .templating import render

FORMATS = ("pdf", "tex", "html", "md")
__all__ = [
    "FORMATS",
    "STYLES",
    "cloze_key_path",
    "render_document",
    "shipped_outputs",
    "write_document",
]
_TEMPLATES = {"tex": "document.tex.j2", "html": "document.html.j2", "md": "document.md.j2"}
#: The committed documents show this many updates (seed 001's trajectory: 0.521 ... 0.925).
SHIPPED_STEPS = 6
#: The committed documents' formats.
SHIPPED_FORMATS = ("tex", "html", "md")
#: The committed documents' styles and the suffix of their file names.
SHIPPED_STYLES = {"full": "", "handout": "_handout"}

SpecLike = Spec | str | Path | Mapping[str, Any]
MarksLike = Mapping[tuple[str, int], str]


def _check(format: str, steps: int, digits: int, style: str = "full") -> None:
    check_style(style)
    if format not in FORMATS:
        raise SymbpError(f"format: expected one of {', '.join(FORMATS)}, found {format!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise SymbpError(f"steps: expected a whole number >= 0, found {steps!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise SymbpError(f"digits: expected a whole number from 1 to 15, found {digits!r}")


def render_document(
    spec: SpecLike,
    *,
    format: str = "tex",
    steps: int = 1,
    digits: int = DIGITS,
    marks: MarksLike | None = None,
    style: str = "full",
    chains: bool = False,
    blank_every: int = CLOZE_EVERY,
    key: bool = False,
) -> str:
    """The document of ``spec`` as text: ``format`` is ``tex``, ``html`` or ``md``.

    ``style`` is ``full`` (every section: the answer key), ``handout``
    (:mod:`symbp.render.styles`) or ``cloze`` (the handout with the numbers the spec's
    ``exercise.ask`` names, else every ``blank_every``-th computed number, blanked;
    ``key=True``: its key, the blanks filled in; :mod:`symbp.render.cloze`); all come
    from the same document model. ``chains=True`` writes small nets' gradients as
    chains of factors (:func:`symbp.render.model.build`).
    """
    _check(format, steps, digits, style)
    if format == "pdf":
        raise SymbpError("format: pdf is binary; use write_document(..., format='pdf')")
    loaded = load(spec)
    if loaded.recurrence is not None:
        return render_recurrent(
            loaded,
            format=format,
            steps=steps,
            digits=digits,
            style=style,
            marks=marks,
            chains=chains,
        )
    if not loaded.dense_only:
        return render_conv(
            loaded,
            format=format,
            steps=steps,
            digits=digits,
            style=style,
            marks=marks,
            chains=chains,
        )
    document = build(
        loaded, steps=steps, digits=digits, marks=Marks.from_mapping(marks), chains=chains
    )
    styled = apply_style(document, style)
    if style == "cloze":
        ask = loaded.exercise.ask if loaded.exercise is not None else ()
        styled, _ = cloze(styled, every=blank_every, ask=ask, key=key)
    return render(format, _TEMPLATES[format], doc=styled)


def write_document(
    spec: SpecLike,
    *,
    format: str = "pdf",
    steps: int = 1,
    out: str | Path | None = None,
    digits: int = DIGITS,
    marks: MarksLike | None = None,
    engine: str | None = None,
    style: str = "full",
    chains: bool = False,
    blank_every: int = CLOZE_EVERY,
) -> Path:
    """Write the derivation document of ``spec`` and return its path.

    ``style="cloze"`` writes the cloze handout to ``out`` and its key beside it,
    ``<out's stem>_key<out's suffix>`` (:func:`cloze_key_path`).

    ``spec`` is a YAML path, a dict or a :class:`~symbp.spec.Spec`; ``steps``
    updates are worked and tabled; numbers are shown to ``digits`` significant
    digits. ``out`` defaults to ``<spec name>.<format>`` in the current folder.
    ``marks`` maps ``(name, step)`` in the ``symbp eval --json`` naming (e.g.
    ``("a[2][0]", 1)``, ``("grad_W[1][0][0]", 0)``, ``("loss", 0)``) to a
    verdict such as ``"confirmed"``; each marked number gets ✓ (confirmed),
    ✗ (not confirmed) or ? next to it, and all are listed at the end
    (:meth:`symbp.verify.Report.marks` gives them for a spec's claims).
    ``style`` is ``full`` (the answer key) or ``handout`` (diagram, forward
    pass, loss, one weight per layer worked, the tables and the trajectory).
    ``chains=True`` writes small nets' gradients as chains of factors.

    ``format="pdf"`` runs ``engine`` (default ``pdflatex`` on ``PATH``) with
    shell escape off; without one it writes the ``.tex`` beside ``out`` and
    raises :class:`~symbp.render.pdf.TexMissing` (exit code 2 from the CLI).
    Files are written atomically.
    """
    _check(format, steps, digits, style)
    loaded = load(spec)
    if out is None:
        target = Path.cwd() / f"{safe_filename(loaded.name)}.{format}"
        written = [target] + ([cloze_key_path(target)] if style == "cloze" else [])
        for path in written:
            if not _replaceable(path, format):
                raise SymbpError(
                    f"{path.name} exists and symbp did not write it; "
                    "name the output with -o (out=) to write elsewhere or to replace it",
                    field="--out",
                )
    else:
        target = Path(out)
    kw = {"steps": steps, "digits": digits, "marks": marks, "style": style, "chains": chains}
    if style == "cloze":
        kw["blank_every"] = blank_every
        key_kw = {**kw, "key": True}
        if format == "pdf":
            key_source = render_document(loaded, format="tex", **key_kw)  # type: ignore[arg-type]
            source = render_document(loaded, format="tex", **kw)  # type: ignore[arg-type]
            build_pdf(key_source, cloze_key_path(target), engine=engine)
            return build_pdf(source, target, engine=engine)
        key_text = render_document(loaded, format=format, **key_kw)  # type: ignore[arg-type]
        text = render_document(loaded, format=format, **kw)  # type: ignore[arg-type]
        write_atomic(cloze_key_path(target), key_text)
        return write_atomic(target, text)
    if format == "pdf":
        source = render_document(loaded, format="tex", **kw)  # type: ignore[arg-type]
        return build_pdf(source, target, engine=engine)
    text = render_document(loaded, format=format, **kw)  # type: ignore[arg-type]
    return write_atomic(target, text)


def cloze_key_path(sheet: Path) -> Path:
    """Where the key of a cloze handout written to ``sheet`` goes: ``name_key.pdf``."""
    return sheet.with_name(f"{sheet.stem}_key{sheet.suffix}")


#: What marks a document as symbp's: the header of the text formats, the PDF's creator.
_PDF_MARK = rb"/Creator(\376\377\000s\000y\000m\000b\000p)"  # UTF-16 "symbp", escaped
_TEXT_MARK = b"Generated by symbp"


def _replaceable(target: Path, format: str) -> bool:
    """Whether the default output ``target`` (a name the user did not give) may be
    written: it does not exist, or it is a document symbp wrote (its header, or for a
    PDF its creator, near the file's start or end)."""
    try:
        with open(target, "rb") as f:
            if format != "pdf":
                return _TEXT_MARK in f.read(512)
            f.seek(max(0, target.stat().st_size - 16384))
            return _PDF_MARK in f.read()
    except FileNotFoundError:
        return True
    except OSError:
        return False


def shipped_outputs(spec_paths: list[Path]) -> dict[str, str | bytes]:
    """``docs/<stem>.<tex|html|md>`` (full) and ``docs/<stem>_handout.*`` for every example."""
    out: dict[str, str | bytes] = {}
    for path in spec_paths:
        spec = load(path)
        if not spec.dense_only:
            recurrent = spec.recurrence is not None
            build_layers = build_recurrent if recurrent else build_conv
            templates = RECURRENT_TEMPLATES if recurrent else CONV_TEMPLATES
            for style, suffix in SHIPPED_STYLES.items():
                conv = build_layers(spec, steps=SHIPPED_STEPS, style=style)
                for format in SHIPPED_FORMATS:
                    out[f"docs/{Path(path).stem}{suffix}.{format}"] = render(
                        format, templates[format], doc=conv
                    )
            continue
        document = build(spec, steps=SHIPPED_STEPS)
        for style, suffix in SHIPPED_STYLES.items():
            styled = apply_style(document, style)
            for format in SHIPPED_FORMATS:
                out[f"docs/{Path(path).stem}{suffix}.{format}"] = render(
                    format, _TEMPLATES[format], doc=styled
                )
    return out
