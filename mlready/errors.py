"""The mlready error hierarchy and the one table of exit codes.

Every error a user can cause is an :class:`MlreadyError` subclass that carries its exit code, so the
command layer only has to catch one type. Messages say what failed, the offending value or path, and
what to do next.
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "CheckFailed",
    "DataError",
    "InternalError",
    "MlreadyError",
    "NotFoundError",
    "SpecError",
    "UsageError",
]

#: code -> meaning; the single source for docs/exit-codes.md and the CLI's help.
EXIT_CODES: dict[int, str] = {
    0: "ran, everything passed",
    1: "ran, a check failed: invalid data, drift, gate not met, readiness under the bar",
    2: "usage error: an unknown command or option, or a bad option value",
    3: "project spec missing or invalid",
    4: "input data or artifact missing (a model, version, alias or run not found), unreadable, "
    "ill-shaped or failing its integrity check",
    5: "unexpected internal error (--debug shows the traceback)",
    130: "interrupted",
}


class MlreadyError(Exception):
    """Base class of every error mlready reports to a user."""

    exit_code: int = 5

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class CheckFailed(MlreadyError):
    """The step ran, and a check it makes did not pass (exit 1)."""

    exit_code = 1


class UsageError(MlreadyError):
    """An option or argument cannot be used as given (exit 2)."""

    exit_code = 2


class SpecError(MlreadyError):
    """The project spec is missing or invalid (exit 3)."""

    exit_code = 3


class DataError(MlreadyError):
    """Input data or an artifact is missing, unreadable, ill-shaped or tampered with (exit 4)."""

    exit_code = 4


class NotFoundError(DataError):
    """A model, version, alias or run that a command looks for is not there (exit 4): an
    artifact missing, not a usage error, whether it was named or is the default one."""


class InternalError(MlreadyError):
    """A bug in mlready: something that should not happen did (exit 5)."""

    exit_code = 5
