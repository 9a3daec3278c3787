"""The spec's optional ``names:``: a text's own names for the quantities.

So that a document reproduces a textbook's notation, a spec may name any
quantity the way the text does::

    names:
      w5: W[1][0][0]         # Mazur's w5 is the weight into output 1 from hidden 1
      out_h1: a[1][0]
      E_total: loss

A name is a letter followed by letters and digits, with at most one ``_``
starting its subscript (``w5``, ``out_h1``, ``E_total``; at most
:data:`MAX_LENGTH` characters): nothing else can reach LaTeX, HTML or
Markdown. The quantity is a canonical ``symbp eval --json`` name (0-based):
``W[l][j][k]``, ``b[l][j]``, ``a[l][j]``, ``z[l][j]``, ``delta[l][j]``,
``grad_W[l][j][k]``, ``grad_b[l][j]`` or ``loss``, within the network's sizes.
Each quantity gets at most one name. Claims may use the names (``of: w5``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import quote

#: The whitelist pattern of a text's name.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)?\Z")
MAX_LENGTH = 24
_QUANTITY = re.compile(r"^(W|b|a|z|delta|grad_W|grad_b|loss)((?:\[\d+\])*)\Z")
_ARITY = {"W": 3, "b": 2, "a": 2, "z": 2, "delta": 2, "grad_W": 3, "grad_b": 2, "loss": 0}


def _in_range(kind: str, idx: Sequence[int], layers: Sequence[int]) -> bool:
    """Whether the 0-based indices of ``kind`` exist in a net of ``layers``."""
    if not idx:
        return True
    depth = len(layers) - 1
    if kind == "a":
        return idx[0] <= depth and idx[1] < layers[idx[0]]
    if idx[0] >= depth or idx[1] >= layers[idx[0] + 1]:
        return False
    return len(idx) < 3 or idx[2] < layers[idx[0]]


def build_names(raw: Any, layers: Sequence[int], ctx: Any) -> tuple[tuple[str, str], ...]:
    """``((text name, canonical quantity), …)`` from the spec's ``names`` mapping, validated.

    ``ctx`` is the loader's :class:`~symbp.spec.fields.FieldContext` (errors name the field).
    """
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ctx.error(("names",), f"expected a mapping of name: quantity, found {quote(raw)}")
    out: dict[str, str] = {}
    for name, quantity in raw.items():
        path = ("names", str(name))
        if not isinstance(name, str) or len(name) > MAX_LENGTH or not NAME.match(name):
            raise ctx.error(
                path,
                f"a name is a letter, then letters or digits, with at most one _ before its "
                f"subscript (w5, out_h1, E_total; at most {MAX_LENGTH} characters), "
                f"found {quote(name)}",
            )
        text = str(quantity).replace(" ", "") if isinstance(quantity, str) else None
        match = _QUANTITY.match(text or "")
        if match is None:
            raise ctx.error(
                path,
                "expected a quantity such as W[1][0][0], b[0][1], a[1][0], z[1][0], "
                f"delta[1][0], grad_W[1][0][0], grad_b[0][1] or loss, found {quote(quantity)}",
            )
        kind = match.group(1)
        idx = [int(i) for i in re.findall(r"\d+", match.group(2))]
        if len(idx) != _ARITY[kind]:
            raise ctx.error(path, f"{kind} takes {_ARITY[kind]} indices, found {quote(text)}")
        if not _in_range(kind, idx, layers):
            raise ctx.error(path, f"{text} does not exist in a net of sizes {list(layers)}")
        if text in out.values():
            raise ctx.error(path, f"{text} is named twice")
        out[name] = text  # type: ignore[assignment]
    return tuple(out.items())


__all__ = ["MAX_LENGTH", "NAME", "build_names"]
