"""The short code printed on each sheet, from which ``--regenerate`` rebuilds it.

A code is ``ID/SEED/CHECK`` (``s03/11/7f3a``), or ``ID/SEED+SKIP/CHECK`` for
the rare student whose first valid draw equalled an earlier student's and who
took the next one instead. ``CHECK`` is four hex digits of the SHA-256 of the
spec's hash, the questions, the ID, the seed and the skip: a mistyped code, or
one made from another spec or other questions, is refused instead of quietly
giving another student's sheet.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DataError, quote
from .roster import ID_PATTERN

_CODE = re.compile(r"^(?P<id>[^/]+)/(?P<seed>\d+)(?:\+(?P<skip>\d+))?/(?P<check>[0-9a-f]{4})\Z")


@dataclass(frozen=True)
class Code:
    """A parsed code: the student, the seed, the skip and the check digits."""

    student: str
    seed: int
    skip: int
    check: str

    @property
    def text(self) -> str:
        skip = f"+{self.skip}" if self.skip else ""
        return f"{self.student}/{self.seed}{skip}/{self.check}"


def check_digits(spec_hash: str, asks: Sequence[str], student: str, seed: int, skip: int) -> str:
    """The four hex check digits of a code."""
    text = "\n".join([spec_hash, *asks, student, str(seed), str(skip)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:4]


def make_code(spec_hash: str, asks: Sequence[str], student: str, seed: int, skip: int) -> Code:
    """The code of ``student``'s sheet."""
    return Code(student, seed, skip, check_digits(spec_hash, asks, student, seed, skip))


def parse_code(text: str, spec_hash: str, asks: Sequence[str]) -> Code:
    """The :class:`Code` in ``text``, checked against the spec and questions."""
    match = _CODE.match(text.strip())
    if not match or not ID_PATTERN.match(match.group("id")):
        raise DataError(
            "regenerate: expected a sheet code such as s03/11/7f3a (ID/SEED/CHECK), "
            f"found {quote(text)}"
        )
    code = Code(
        match.group("id"),
        int(match.group("seed")),
        int(match.group("skip") or 0),
        match.group("check"),
    )
    expected = check_digits(spec_hash, asks, code.student, code.seed, code.skip)
    if code.check != expected:
        raise DataError(
            f"regenerate: code {code.text} does not belong to this spec and these questions "
            "(mistyped, or made from another spec or other --ask values)"
        )
    return code
