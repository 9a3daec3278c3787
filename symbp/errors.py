"""Errors symbp reports to its users.

Every error a user can cause (a bad spec, a bad formula, bad data) is a
:class:`SymbpError`. Its ``str`` is one line: where (file, line, field) and what
was expected. The CLI prints that line and exits with code 2, never a traceback.
"""

from __future__ import annotations


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
        self.message = " ".join(str(message).split())
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
