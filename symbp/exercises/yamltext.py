"""A small, fixed YAML writer for the variant specs (byte-identical whatever PyYAML does).

Only what a spec holds is written: mappings, lists, strings, whole numbers,
booleans, ``null`` and exact decimals (:class:`fractions.Fraction` with a
terminating expansion, written in full: ``-0.7``, ``0.35``). Top-level fields
go one per line; a mapping that does not fit on a line is written one level
deep, and a list of mappings one item per line. Strings are always
double-quoted with YAML escapes, so no text can change the structure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from ..escape import visible_controls

WIDTH = 96
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def decimal_text(value: Fraction) -> str:
    """``value`` as an exact decimal; ``ValueError`` if its expansion does not terminate."""
    den, places = value.denominator, 0
    while den % 10 == 0:
        den //= 10
        places += 1
    while den % 2 == 0 or den % 5 == 0:
        den = den // 2 if den % 2 == 0 else den // 5
        places += 1
    if den != 1:
        raise ValueError(f"{value} is not a terminating decimal")
    if places == 0:
        return str(value.numerator)
    scaled = abs(value.numerator) * 10**places // value.denominator
    whole, frac = divmod(scaled, 10**places)
    text = f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")
    return ("-" if value < 0 else "") + text


def quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif not ch.isprintable() or ch in "\u2028\u2029\ufeff":
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(key: object) -> str:
    text = str(key)
    return text if _PLAIN_KEY.match(text) else quote(text)


def flow(value: Any) -> str:
    """``value`` in YAML flow style on one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Fraction):
        return decimal_text(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a spec")


def dump(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """``data`` as a YAML document, with ``header`` lines as comments on top."""
    # a header line never ends its comment, nor holds what YAML refuses to read:
    # line breaks become spaces, other controls their escapes (symbp.escape)
    lines = [f"# {visible_controls(h)}" if h else "#" for h in header]
    for key, value in data.items():
        one = f"{_key(key)}: {flow(value)}"
        if isinstance(value, Mapping) and value and len(one) > WIDTH:
            lines.append(f"{_key(key)}:")
            lines.extend(f"  {_key(k)}: {flow(v)}" for k, v in value.items())
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, Mapping) for v in value)
            and (len(one) > WIDTH or len(value) > 1)
        ):
            lines.append(f"{_key(key)}:")
            lines.extend(f"  - {flow(v)}" for v in value)
        else:
            lines.append(one)
    return "\n".join(lines) + "\n"
