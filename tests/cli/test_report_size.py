"""`--max-report-size`: a report file larger than the limit is refused (exit 2) before it is read."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import threading
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.cli.options import DEFAULT_MAX_REPORT_SIZE, parse_byte_size
from gate.cli.parser import build_parser
from gate.errors import ExitCode
from gate.scanners import ingest
from tests.support.corpus import corpus_file

BUSTER = corpus_file("trivy", "debian-buster.json.golden")


def _never_read(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("the report was read")


def test_a_report_over_the_limit_is_exit_2_naming_the_file_and_is_never_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "decode_report", _never_read)
    monkeypatch.setattr(Path, "read_bytes", _never_read)
    size = BUSTER.stat().st_size
    out_json = tmp_path / "decision.json"
    argv = ["check", str(BUSTER), "--max-report-size", str(size - 1), "--json", str(out_json), "--ci", "none"]
    code = cli.main(argv)
    _out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert err.splitlines() == [
        f"container-gate: error: {BUSTER}: the report is {size:,} bytes, more than --max-report-size "
        f"({size - 1:,} bytes); not read (raise --max-report-size to read it)"
    ]
    # Like any unreadable report: the JSON output says the gate could not decide.
    assert json.loads(out_json.read_text(encoding="utf-8"))["verdict"] == "error"


def test_a_report_at_the_limit_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    size = BUSTER.stat().st_size
    code = cli.main(["check", str(BUSTER), "--max-report-size", str(size), "--ci", "none", "-q"])
    assert code == ExitCode.FAIL  # the report's fixable CRITICAL, as without the option
    assert "error" not in capsys.readouterr().err


def test_explain_takes_the_limit_too(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["explain", "CVE-2019-18224", "--report", str(BUSTER), "--max-report-size", "1k"])
    assert code == ExitCode.USAGE
    assert "more than --max-report-size (1,000 bytes)" in capsys.readouterr().err


def test_a_pipe_has_no_size_beforehand_and_is_refused_once_past_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    data = BUSTER.read_bytes()

    def feed() -> None:
        # BrokenPipeError: the gate stopped reading at the limit, as it should.
        with fifo.open("wb") as out, contextlib.suppress(BrokenPipeError):
            out.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        code = cli.main(["check", str(fifo), "--max-report-size", "2k", "--ci", "none"])
    finally:
        writer.join(timeout=10)
    assert code == ExitCode.USAGE
    assert (
        f"{fifo}: the report is larger, more than --max-report-size (2,000 bytes)" in capsys.readouterr().err
    )


def test_the_default_is_2_gb_and_the_help_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    check = build_parser().parse_args(["check", "report.json"])
    assert check.max_report_size == DEFAULT_MAX_REPORT_SIZE == 2_000_000_000
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "--max-report-size SIZE refuse a report file larger than this (exit 2) before reading it" in help_text
    )
    assert "default 2G" in help_text


def test_compare_says_what_it_does_with_a_larger_report(capsys: pytest.CaptureFixture[str]) -> None:
    # Not exit 2 as for check: compare marks the row ERROR and goes on (exit 3).
    assert cli.main(["compare", f"buster={BUSTER}", "--max-report-size", "1k"]) == ExitCode.ERROR
    capsys.readouterr()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["compare", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "--max-report-size SIZE refuse a report file larger than this (its row is ERROR, exit 3) "
        "before reading it" in help_text
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [("1", 1), ("2000", 2000), ("1k", 1000), ("500M", 500_000_000), ("2G", 2_000_000_000), ("2gb", 2_000_000_000),
     ("1.5G", 1_500_000_000)],
)  # fmt: skip
def test_sizes(text: str, size: int) -> None:
    assert parse_byte_size(text) == size


@pytest.mark.parametrize(
    "text",
    ["", "0", "-1", "G", "2T", "1e", "two", "0.1", "inf", "nan", "1e3", "1e400", "1_000", " 5M", "5 M", "5MiB",
     "\uff12\uff10k"],
)  # fmt: skip
def test_bad_sizes_are_usage_errors(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected a size such as 500M or 2G"):
        parse_byte_size(text)
