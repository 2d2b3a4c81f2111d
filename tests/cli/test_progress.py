"""The terminal progress of `scan` and `compare` (gate/cli/progress.py)."""

from __future__ import annotations

import io
import os

import pytest

from gate.cli.progress import TerminalProgress
from gate.scanners.batch import Progress


def test_the_status_line_never_wraps_on_a_narrow_terminal() -> None:
    # A wrapped status line is only cleared on its last row: each redraw would leave one behind.
    names = [f"docker-archive:some/rather/long/directory/name/app-{n}.tar" for n in range(3)]
    stream = io.StringIO()
    progress = TerminalProgress(names, stream, clock=lambda: 0.0, columns=lambda: 60)
    progress(0, Progress.STARTED)
    progress(1, Progress.STARTED)
    status = stream.getvalue().split("\r\x1b[K")[-1]
    assert status.startswith("[0/3 done] scanning docker-archive:some/rather")
    assert len(status) == 59
    assert status.endswith("…")
    # A wide terminal shows the whole status.
    wide = io.StringIO()
    progress = TerminalProgress(names, wide, clock=lambda: 0.0, columns=lambda: 200)
    progress(0, Progress.STARTED)
    assert wide.getvalue().split("\r\x1b[K")[-1].endswith(" (0 s)")


def test_a_terminal_that_does_not_know_its_width_gets_the_usual_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "get_terminal_size", lambda _fd=0: os.terminal_size((0, 0)))
    monkeypatch.setenv("COLUMNS", "90")

    class Unsized(io.StringIO):
        def fileno(self) -> int:
            return 2

    progress = TerminalProgress(["docker-archive:" + "x" * 200], Unsized(), clock=lambda: 0.0)
    assert progress.columns() == 90
