"""An input file's bytes, read with one error per way the read can fail.

A file the user names (a VEX document, a baseline, a scanner report) that cannot be read is a
`ReportError` (exit 2) naming it and saying why in words: missing, a directory, or the system's
reason. This module is core: it imports nothing of the gate but `errors`, so every stage that
reads a file the user gave may use it.
"""

from __future__ import annotations

from pathlib import Path

from gate.errors import ReportError


def read_input(path: Path, kind: str, *, read_as: str | None = None) -> bytes:
    """The bytes of `path`, a `kind` file (`VEX`, `baseline`); `read_as` is how the failure to
    read it names it (`the baseline`; default: `the <kind> file`)."""
    name = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReportError(f"{name}: no such {kind} file") from None
    except IsADirectoryError:
        raise ReportError(f"{name}: is a directory, not a {kind} file") from None
    except OSError as exc:
        what = read_as or f"the {kind} file"
        raise ReportError(f"{name}: cannot read {what} ({exc.strerror or exc})") from None
