"""The terminal summary's width: a terminal's own (within bounds), exactly 100 columns elsewhere."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.cli.outputs import summary_width
from gate.render.terminal import WIDTH
from tests.support.corpus import corpus_file
from tests.support.tty import shown, terminal

# A real Trivy scan whose one action reads `Upgrade org.springframework:spring-beans 5.3.15 ->
# 5.3.18`: a row of 80 columns.
SPRING = corpus_file("trivy", "spring4shell-jre11.json.golden")
ROW = "  1  1       CRITICAL  Upgrade org.springframework:spring-beans 5.3.15 -> 5.3.18"
WHAT = ROW.index("Upgrade")


def what_to_do(lines: list[str]) -> str:
    """The first action's WHAT TO DO, with the lines it goes on to below its row."""
    start = next(n for n, line in enumerate(lines) if line.startswith(ROW[:WHAT]))
    cell = [lines[start][WHAT:].split("  ")[0]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * WHAT) or not line.strip():
            break
        cell.append(line.strip())
    return " ".join(cell)


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.mark.parametrize(("columns", "width"), [(70, 70), (100, 100), (140, 140), (40, 60), (300, 160)])
def test_a_terminal_is_measured_within_bounds(columns: int, width: int) -> None:
    with terminal(columns) as (_controller, stream):
        assert summary_width(stream) == width


def test_columns_wins_over_the_terminals_size_as_shutil_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with terminal(70) as (_controller, stream):
        monkeypatch.setenv("COLUMNS", "120")
        assert summary_width(stream) == 120
        for ignored in ("", "0", "-3", "wide"):
            monkeypatch.setenv("COLUMNS", ignored)
            assert summary_width(stream) == 70


def test_anything_but_a_terminal_is_exactly_100_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "70")
    assert summary_width(io.StringIO()) == WIDTH == 100
    with (tmp_path / "summary.txt").open("w", encoding="utf-8") as file:
        assert summary_width(file) == WIDTH
    read, write = os.pipe()
    with os.fdopen(read, "rb"), os.fdopen(write, "w", encoding="utf-8") as pipe:
        assert summary_width(pipe) == WIDTH
    with terminal(0) as (_controller, stream):  # a terminal that reports no size
        monkeypatch.delenv("COLUMNS")
        assert summary_width(stream) == WIDTH


def test_check_fits_its_summary_to_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", str(SPRING), "--ci", "none"]) == 1
    piped = capsys.readouterr().out.splitlines()
    assert ROW in piped  # not a terminal: 100 columns, room for all 80
    for columns in (60, 72):
        with terminal(columns) as (controller, stream):
            monkeypatch.setattr(sys, "stdout", stream)
            assert cli.main(["check", str(SPRING), "--ci", "none"]) == 1
            stream.flush()
            lines = shown(controller)
        # What to do is whole, going on to the next lines at its column rather than cut.
        assert what_to_do(lines) == ROW[WHAT:]
        table = lines[lines.index("What to do, most useful first:") + 1 :][:2]
        assert all(len(line) <= columns for line in table)
        # The findings that block too, and everything below the head.
        assert "  ACTION  ID" in "\n".join(lines)
        assert all(len(line) <= columns for line in lines[lines.index("") : -1])
        # Only the tables change: the rest reads as it does anywhere else.
        assert lines[0] == piped[0]
        assert lines[-1] == piped[-1]


def test_with_an_output_on_standard_output_the_summary_fits_standard_errors_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with terminal(64) as (controller, stream):
        monkeypatch.setattr(sys, "stderr", stream)
        assert cli.main(["check", str(SPRING), "--ci", "none", "--json", "-"]) == 1
        stream.flush()
        lines = shown(controller)
    assert what_to_do(lines) == ROW[WHAT:]
    assert capsys.readouterr().out.startswith("{")


def test_explain_fits_the_terminal_as_check_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its lines ran as long as their text: a Snyk finding's aliases to 475 columns.
    snyk = corpus_file("snyk", "docker-fixable__vulns.json")
    argv = ["explain", "CVE-2018-20843", "--report", str(snyk)]
    assert cli.main(argv) == 0
    piped = capsys.readouterr().out.splitlines()
    assert 72 < max(len(line) for line in piped) <= WIDTH  # not a terminal: 100 columns
    for columns in (60, 72):
        with terminal(columns) as (controller, stream):
            monkeypatch.setattr(sys, "stdout", stream)
            assert cli.main(argv) == 0
            stream.flush()
            lines = shown(controller)
        assert all(len(line) <= columns for line in lines)
        assert " ".join(" ".join(lines).split()) == " ".join(" ".join(piped).split())
