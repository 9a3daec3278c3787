"""What the documents of networks of layer records share (conv nets': :mod:`.conv_document`,
recurrent nets': :mod:`.recurrent_document`): the document record in a style, the
updates table, the parameters' textbook names and the refusal of what is not built yet.

Conventions: a parameter's spec name ``W[l][…]`` is printed ``w^{l+1}_{…}`` (layers
from 1 as textbooks number them, the indices 0-based as in the maps); the ``handout``
style leaves out every piece marked ``full_only`` (and a section left empty).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import SpecError
from ..spec import Spec
from .blocks import Cell, Table
from .conv_pieces import MAX_ROWS, ConvDocument, Piece, Section
from .escape import Tex
from .mathtex import number_tex, plain_number


def document(spec: Spec, title: str, sections: Sequence[Section], style: str) -> ConvDocument:
    """The document of ``spec`` (``title`` where the spec gives none) in ``style``."""
    return ConvDocument(
        name=spec.name,
        title=spec.title or title,
        source=spec.source,
        description=spec.description,
        spec_file=Path(spec.path).name if spec.path else None,
        spec_hash=spec.hash,
        version=__version__,
        style=style,
        sections=tuple(
            Section(s.title, kept)
            for s in sections
            if (kept := tuple(p for p in s.pieces if style == "full" or not p.full_only))
        ),
    )


def textbook(name: str) -> Tex:
    """A parameter's spec name (``W[0][1][0][2][2]``, ``U[0][1][2]``) in the textbook's
    notation (``w^{1}_{1,0,2,2}``, ``u^{1}_{1,2}``)."""
    base, _, rest = name.partition("[")
    layer, _, idx = rest.partition("]")
    indices = idx.replace("][", ",").strip("[]")
    return Tex(rf"{base.lower()}^{{{int(layer) + 1}}}_{{{indices}}}")


def updates_table(
    steps: Sequence[Any], kinds: tuple[str, ...], caption: Callable[[str], str], digits: int
) -> Piece:
    """Each parameter of ``kinds`` (``("W", "b")``) before the first update of the run's
    ``steps``, its gradient ``∂E/∂θ`` and after it (the first
    :data:`~.conv_pieces.MAX_ROWS`); ``caption(lr)`` is the table's caption (``lr``: the
    learning rate's text), told how many were left out."""
    before, after = steps[0].quantities(), steps[1].quantities()
    lr = plain_number(steps[0].learning_rate, digits)
    params = [k for k in before if k.startswith(tuple(f"{kind}[" for kind in kinds))]
    rows = tuple(
        (
            Cell(textbook(name)),
            Cell(number_tex(before[name], digits)),
            Cell(number_tex(before["grad_" + name], digits)),
            Cell(number_tex(after[name], digits)),
        )
        for name in params[:MAX_ROWS]
    )
    more = f" (the first {MAX_ROWS} of {len(params)} parameters)" if len(params) > MAX_ROWS else ""
    return Piece(
        "table",
        Table(
            "updates",
            caption(lr) + more,
            ("parameter", "before", "∂E/∂θ", "after"),
            rows,
            align="lrrr",
        ),
    )


def refuse_unbuilt(spec: Spec, style: str, marks: object, chains: bool, kinds: str) -> None:
    """Refuse in one line (:class:`SpecError`, exit code 2 from the CLI) a cloze sheet,
    verdict marks and gradient chains, not built yet for documents of ``kinds`` layers."""
    for asked, what in ((style == "cloze", "cloze sheets"), (bool(marks), "verdict marks"),
                        (chains, "gradient chains")):  # fmt: skip
        if asked:
            raise SpecError(
                f"{what} in documents of {kinds} layers are not available yet; "
                "the full and handout styles are",
                file=spec.path,
            )


__all__ = ["document", "refuse_unbuilt", "textbook", "updates_table"]
