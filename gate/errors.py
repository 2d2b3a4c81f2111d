"""One error base class for everything the gate reports to its user.

`main()` catches `GateError` once, prints `diagnostics()` as one line, and exits with
`exit_code`. Anything else that escapes is a bug: it is reported as an internal error
with exit 3 (never 0), and `--verbose` shows the traceback for both.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_ERROR = 3


class GateError(Exception):
    """An error the user can act on."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        """What to do about it, appended to the one-line message."""
        self.detail = detail
        """Longer context (a scanner's stderr tail), shown only with --verbose."""

    def diagnostics(self) -> str:
        """The one-line text for the user."""
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(GateError):
    """The command line is wrong."""

    exit_code = EXIT_USAGE


class ReportError(GateError):
    """An input report cannot be read or understood."""

    exit_code = EXIT_USAGE


class PolicyError(GateError):
    """A policy file is invalid; carries every problem found, each with its location."""

    exit_code = EXIT_USAGE

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        first = problems[0] if problems else "invalid policy"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")


class ScannerError(GateError):
    """The scanner is missing, crashed, timed out, or its database is unusable."""

    exit_code = EXIT_ERROR


class ImageError(GateError):
    """The image cannot be found or read, or the engine is unreachable."""

    exit_code = EXIT_ERROR


class PlatformError(GateError):
    """The CI platform could not be read or written."""

    exit_code = EXIT_ERROR
