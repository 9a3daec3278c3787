"""Errors symbp reports to its users.

Every error a user can cause (a bad spec, a bad formula, bad data) is a
:class:`SymbpError`. Its ``str`` is one line: where (file, line, field) and what
was expected. The CLI prints that line and exits with code 2, never a traceback.

A message that shows a value the user gave quotes it with :func:`quote`: at most
:data:`QUOTE_LIMIT` characters of it, so a 100 kB name or number never fills the
terminal; :class:`SymbpError` also cuts any message longer than
:data:`MAX_MESSAGE` characters, as a last guard.
"""

from __future__ import annotations

import reprlib
from fractions import Fraction

#: The most characters of a user's value an error message quotes.
QUOTE_LIMIT = 80
#: The longest message a :class:`SymbpError` keeps (the middle of a longer one is cut).
MAX_MESSAGE = 1000


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters.

    A longer text keeps its start and end and says how long it was
    (``'aaaa…zz' (100000 characters)``); a list or mapping shows its first items; an
    integer too long for ``repr`` is named by its size. Control characters are
    escaped as ``repr`` escapes them, so the result is one line.
    """
    if isinstance(value, str) and len(value) > limit:
        head = repr(value[: max(limit * 2 // 3, 1)])[:-1]
        tail = repr(value[-max(limit // 6, 1) :])[1:]
        return f"{head}…{tail} ({len(value)} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of about {value.bit_length() * 30103 // 100000 + 1} digits"
    if isinstance(value, Fraction):  # as the spec wrote it (1.5), not Fraction(3, 2)
        try:
            return quote(float(value), limit) if value.denominator > 1 else quote(int(value), limit)
        except OverflowError:
            return "a number beyond the float64 range"
    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = limit
    short.maxlevel, short.maxlist, short.maxdict, short.maxtuple = 3, 8, 6, 8
    try:
        text = short.repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= limit + 2 else f"{text[:limit]}…"


class SymbpError(Exception):
    """An error caused by user input; ``str(err)`` is a one-line message."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        message = " ".join(str(message).split())
        if len(message) > MAX_MESSAGE:
            cut = len(message) - MAX_MESSAGE
            message = (
                f"{message[: MAX_MESSAGE // 2]} […{cut} characters…] {message[-MAX_MESSAGE // 2 :]}"
            )
        self.message = message
        self.field = field
        self.file = file
        self.line = line
        super().__init__(self.__str__())

    def located(self, *, file: str | None = None, line: int | None = None) -> SymbpError:
        """Return a copy that also names ``file`` and ``line`` (where not known yet)."""
        return type(self)(
            self.message,
            field=self.field,
            file=self.file or file,
            line=self.line if self.line is not None else line,
        )

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class SpecError(SymbpError):
    """The network spec is invalid."""


class FormulaError(SpecError):
    """A custom formula is not plain arithmetic over the allowed names."""


class TooLargeError(SymbpError):
    """The requested view would not scale to this network."""


class TimeLimitExceeded(SymbpError):
    """The derivation or exact evaluation ran past its time budget (:mod:`symbp.budget`)."""


class DataError(SymbpError, ValueError):
    """Training data or claims do not fit the spec.

    Also a :class:`ValueError`, so scikit-learn (and code written for it) treats
    bad data the way it treats its own data errors.
    """


class TrainingDiverged(SymbpError):
    """The loss became NaN or infinite during training."""

    exit_code = 1
