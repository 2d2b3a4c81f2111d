"""One error base class for everything the gate reports to its user.

`main()` catches `GateError` once, prints `diagnostics()` as one line, and exits with
`exit_code`. Anything else that escapes is a bug: it is reported as an internal error
with exit 3 (never 0), and `--verbose` shows the traceback for both.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit codes of the command line (docs/architecture.md, "Exit codes"): a contract.

    An error never turns into a pass: a gate that cannot decide exits 2 or 3, never 0.
    """

    PASS = 0
    """No blocking finding."""
    FAIL = 1
    """At least one blocking finding, or a policy rule that fails the gate."""
    USAGE = 2
    """A usage error, an invalid policy file, or an input report that cannot be read or understood."""
    ERROR = 3
    """A scanner, image or platform error."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C or a cancelled CI job (128 + SIGINT, as shells report it)."""


class GateError(Exception):
    """An error the user can act on."""

    exit_code: ExitCode = ExitCode.ERROR

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

    exit_code = ExitCode.USAGE


class ReportError(GateError):
    """An input report cannot be read or understood."""

    exit_code = ExitCode.USAGE


class PolicyError(GateError):
    """A policy file is invalid; carries every problem found, each with its location."""

    exit_code = ExitCode.USAGE

    def __init__(self, path: str, problems: list[str], *, line: int | None = None) -> None:
        self.path = path
        self.problems = problems
        self.line = line
        """The line of the first problem in the file `path`, when it has one (not for a file
        that cannot be read): where a CI annotation points."""
        first = problems[0] if problems else "invalid policy"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")


class ScannerError(GateError):
    """The scanner is missing, crashed, timed out, or its database is unusable."""

    exit_code = ExitCode.ERROR


class ImageError(GateError):
    """The image cannot be found or read, or the engine is unreachable."""

    exit_code = ExitCode.ERROR


class PlatformError(GateError):
    """The CI platform could not be read or written."""

    exit_code = ExitCode.ERROR
