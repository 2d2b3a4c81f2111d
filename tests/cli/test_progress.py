"""The terminal progress of `scan` and `compare` (gate/cli/progress.py)."""

from __future__ import annotations

import io
import os
from dataclasses import replace

import pytest

import gate.scanners.base_scan
import gate.scanners.run
from gate.cli import main as cli
from gate.cli.progress import TerminalProgress
from gate.errors import ExitCode
from gate.image.base_image import BaseCheck
from gate.model import ScanReport
from gate.scanners.batch import Progress
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file

BUSTER = corpus_file("trivy", "debian-buster.json.golden")


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


class _Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_base_image_check_shows_its_progress_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --check-base reads the registry and scans the current base (a pull): as long as the scan.
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")
    report = load_report(BUSTER)
    assert report.image is not None
    report = replace(report, image=replace(report.image, base_image="debian:12"))
    monkeypatch.setattr(gate.scanners.run, "scan", lambda *_a, **_k: report)
    shown_during: list[str] = []

    def check_base(scanned: ScanReport, *_args: object) -> tuple[ScanReport, BaseCheck]:
        shown_during.append(terminal.getvalue())
        return scanned, BaseCheck(checked=False, name="debian:12", reason="registry down")

    monkeypatch.setattr(gate.scanners.base_scan, "check_base", check_base)
    argv = ["scan", "docker-archive:app.tar", "--check-base=best-effort", "--ci", "none"]
    assert cli.main(argv) == ExitCode.FAIL
    assert shown_during[0].endswith("\r\x1b[Kchecking the base image debian:12 (0 s)"), shown_during
    assert terminal.getvalue().endswith("\r\x1b[K")  # cleared before the summary
    terminal.seek(0)
    terminal.truncate()
    assert cli.main([*argv, "--quiet"]) == ExitCode.FAIL
    assert "checking" not in terminal.getvalue()
    capsys.readouterr()
