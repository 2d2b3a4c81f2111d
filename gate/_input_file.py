"""An input file's bytes, read with one error per way the read can fail, and the size bound of
the data files.

A file the user names (a VEX document, a baseline, a scanner report) that cannot be read is a
`ReportError` (exit 2) naming it and saying why in words: missing, a directory, or the system's
reason. This module is core: it imports nothing of the gate but `errors`, so every stage that
reads a file the user gave may use it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from gate.errors import ReportError

MAX_DATA_BYTES = 256 * 2**20
"""The most content a VEX document or an exploit-data file (`--kev`, `--epss`) may hold, counted
after decompression (256 MiB).

These files are small: CISA's KEV catalog is about 1.5 MB, FIRST's EPSS scores about 12 MB
uncompressed, a VEX document a statement per vulnerability and product. They are read whole (KEV,
VEX) or decompressed as they are streamed (EPSS), so a path such as `/dev/zero`, a file that never
ends, or a gzip bomb (a few MB that inflate to many GB) would take all the memory or all the time
of the run. The bound is checked while reading, a chunk at a time, never after an unbounded read:
twenty times the largest real file, far below the memory of a CI runner. Scanner reports have
their own, larger bound (`--max-report-size`)."""

_CHUNK = 1 << 20
"""Bytes read at a time while counting."""

STANDARD_INPUT = Path("/dev/stdin")
"""A report named `-`: standard input as a file (a pipe is read once and kept, see
gate/scanners/ingest.py)."""


_STANDARD_INPUT_NAMES = frozenset(Path(name) for name in ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"))
"""The paths Linux and macOS give standard input by, besides `-`."""


def reads_standard_input(path: Path) -> bool:
    """Whether reading `path` reads standard input: `-` or one of the paths it goes by. A pipe
    holds one file and is read once; a second reader of it finds it empty."""
    return path in _STANDARD_INPUT_NAMES


STANDARD_INPUT_ONLY_FOR_REPORTS = (
    "standard input (-) is read only for a report (check's REPORT, explain's --report, compare's NAME=-); "
    "give ./- for a file named -"
)
"""Why `-` is refused where a file path goes (an option, a file a policy names): it named a file
`-`, which was then missing."""


def shown_name(path: Path) -> str:
    """A file as messages name it: the path as given, or `standard input` for `-`. A file named
    `-` in the working directory is given as `./-`, which `Path` shortens to `-`: a message naming
    `-` would read as standard input, so it says `./-` again."""
    if path == STANDARD_INPUT:
        return "standard input"
    return "./-" if path == _DASH else str(path)


_DASH = Path("-")
"""`./-` once `Path` has read it."""


def size_words(limit: int) -> str:
    """A byte count as the size errors say it: `256 MiB`, or the bytes when not whole MiB."""
    return f"{limit >> 20} MiB" if limit and limit % 2**20 == 0 else f"{limit} bytes"


def too_large(name: str, what: str, *, decompressed: bool = False) -> ReportError:
    """The error for a file holding more than `MAX_DATA_BYTES`, `what` the file should be."""
    after = " (after decompression)" if decompressed else ""
    return ReportError(f"{name}: larger than {size_words(MAX_DATA_BYTES)}{after}; not {what}")


class _Capped(io.RawIOBase):
    """A stream that raises `error()` as soon as more than `MAX_DATA_BYTES` have come through it."""

    def __init__(self, inner: BinaryIO, error: ReportError) -> None:
        super().__init__()
        self._inner = inner
        self._error = error
        self._left = MAX_DATA_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        # One byte past the limit is asked for, so that a file of exactly the limit reads.
        data = self._inner.read(min(len(buffer), _CHUNK, self._left + 1))
        if len(data) > self._left:
            raise self._error
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def capped(inner: BinaryIO, error: ReportError) -> io.BufferedReader:
    """`inner`, read through a count that raises `error` past `MAX_DATA_BYTES` (see there)."""
    return io.BufferedReader(_Capped(inner, error), buffer_size=_CHUNK)


def read_input(
    path: Path,
    kind: str,
    *,
    read_as: str | None = None,
    bounded: str | None = None,
    at_most: int | None = None,
) -> bytes:
    """The bytes of `path`, a `kind` file (`VEX`, `baseline`); `read_as` is how the failure to
    read it names it (`the baseline`; default: `the <kind> file`). With `bounded`, what the file
    should be (`a VEX document`), a file larger than `MAX_DATA_BYTES` is refused as it is read.
    With `at_most`, no more than `at_most + 1` bytes are read: one more than that says to the
    caller that the file is larger."""
    name = shown_name(path)
    try:
        if bounded is None and at_most is not None:
            with path.open("rb") as handle:
                return handle.read(at_most + 1)
        if bounded is None:
            return path.read_bytes()
        with path.open("rb") as handle:
            return capped(handle, too_large(name, bounded)).read()
    except FileNotFoundError:
        raise ReportError(f"{name}: no such {kind} file") from None
    except IsADirectoryError:
        raise ReportError(f"{name}: is a directory, not a {kind} file") from None
    except OSError as exc:
        what = read_as or f"the {kind} file"
        raise ReportError(f"{name}: cannot read {what} ({exc.strerror or exc})") from None
