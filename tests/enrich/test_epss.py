"""The EPSS reader: the real excerpt (plain and gzip) with its quirks, a file without its comment line,
and bad files, each error naming the file and the line."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gate.enrich.epss import read_epss
from gate.enrich.exploit import DataKind, EpssScore
from gate.errors import ExitCode, ReportError
from tests.support.corpus import corpus_file

EXCERPT = corpus_file("epss", "excerpt.csv")
EXCERPT_GZ = corpus_file("epss", "excerpt.csv.gz")
SCORED = date(2026, 9, 29)
COMMENT, COLUMNS, *ROWS = EXCERPT.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("path", [EXCERPT, EXCERPT_GZ], ids=["csv", "csv.gz"])
def test_the_real_excerpt_reads_with_its_date_and_quirks(path: Path) -> None:
    scores = read_epss(path)
    assert scores.model_version == "v2026.06.15"
    assert scores.score_date == datetime(2026, 9, 29, 12, 0, 22, tzinfo=UTC)
    assert scores.rows == len(scores.scores) == 17
    assert scores.warnings == ()
    assert scores.scores["CVE-2023-4911"] == EpssScore("CVE-2023-4911", 0.81422, 0.9963, SCORED)
    # The real file writes this percentile in scientific notation.
    assert "CVE-2023-20914,0.0006,6e-05" in ROWS
    assert scores.scores["CVE-2023-20914"] == EpssScore("CVE-2023-20914", 0.0006, 0.00006, SCORED)
    raw = path.read_bytes()
    assert scores.source.kind is DataKind.EPSS
    assert (scores.source.sha256, scores.source.size) == (hashlib.sha256(raw).hexdigest(), len(raw))


def test_rows_out_of_cve_order_are_all_read() -> None:
    ids = [row.split(",")[0] for row in ROWS]
    assert ids != sorted(ids)  # the excerpt keeps the real file's order
    assert list(read_epss(EXCERPT).scores) == ids


def test_only_wanted_cves_are_kept_and_an_unscored_cve_is_absent() -> None:
    scores = read_epss(EXCERPT_GZ, frozenset({"CVE-2023-4863", "CVE-2099-0001"}))
    assert list(scores.scores) == ["CVE-2023-4863"]
    assert scores.rows == 17
    assert "CVE-2099-0001" not in scores.scores


def test_a_file_without_its_comment_line_reads_with_an_unknown_date_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "mirror.csv"
    path.write_text("\n".join([COLUMNS, *ROWS]) + "\n", encoding="utf-8")
    scores = read_epss(path)
    assert (scores.model_version, scores.score_date) == (None, None)
    assert scores.scores["CVE-2023-4911"] == EpssScore("CVE-2023-4911", 0.81422, 0.9963, None)
    assert scores.warnings == (
        f"{path.name} has no '#model_version:...,score_date:...' line: the EPSS score date is unknown, "
        "so its age cannot be checked",
    )


def test_windows_line_ends_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(("\r\n".join([COMMENT, COLUMNS, *ROWS]) + "\r\n").encode())
    assert read_epss(path).scores == read_epss(EXCERPT).scores


@pytest.mark.parametrize(
    "cut",
    [
        "CVE-2023-20914,0.0006,6e-05",  # the whole row, only its line end gone
        "CVE-2023-20914,0.0006,6",  # 6e-05 cut to 6: out of range, said as the row's problem
        "CVE-2023-20914,0.0,0.",  # 0.0006 cut to 0.0, the percentile to "0."
    ],
)
@pytest.mark.parametrize("packed", [False, True], ids=["csv", "csv.gz"])
def test_a_file_cut_short_in_its_last_row_is_an_exit_2_error_naming_the_file_and_line(
    tmp_path: Path, cut: str, packed: bool
) -> None:
    # A copy or a download that stopped inside a row: the numbers left may still be numbers, and
    # a score cut from 0.93 to 0.9 (or to 0.) decides `fail_on.epss` on a value FIRST never gave.
    text = ("\n".join([COMMENT, COLUMNS, *ROWS[:-1], cut])).encode()
    path = tmp_path / ("epss.csv.gz" if packed else "epss.csv")
    path.write_bytes(gzip.compress(text) if packed else text)
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    assert caught.value.exit_code == ExitCode.USAGE
    where = f"{path}: line {len(ROWS) + 2}: "
    if cut.endswith(",6"):
        assert caught.value.diagnostics() == f'{where}percentile: expected a number from 0 to 1, got "6"'
        return
    assert caught.value.diagnostics() == (
        f"{where}the file ends inside a row, {json.dumps(cut)}, without a line end: it may be cut short "
        "(every row of FIRST's file ends with one); fetch it again, or, for a file written by hand that "
        "is whole, end its last line"
    )


BAD_ROWS = [
    (
        "two fields",
        "CVE-2023-0001,0.5",
        'expected 3 fields (cve,epss,percentile), got 2: "CVE-2023-0001,0.5"',
    ),
    (
        "four fields",
        "CVE-2023-0001,0.5,0.5,0.5",
        'expected 3 fields (cve,epss,percentile), got 4: "CVE-2023-0001,0.5,0.5,0.5"',
    ),
    ("quoted", '"CVE-2023-0001",0.5,0.5', 'expected a CVE id (CVE-YYYY-NNNN), got "\\"CVE-2023-0001\\""'),
    ("lower case id", "cve-2023-0001,0.5,0.5", 'expected a CVE id (CVE-YYYY-NNNN), got "cve-2023-0001"'),
    ("not a number", "CVE-2023-0001,high,0.5", 'epss: expected a number, got "high"'),
    ("half a number", "CVE-2023-0001,1e,0.5", 'epss: expected a number, got "1e"'),
    ("a score above 1", "CVE-2023-0001,1.5,0.5", 'epss: expected a number from 0 to 1, got "1.5"'),
    (
        "a negative percentile",
        "CVE-2023-0001,0.5,-0.1",
        'percentile: expected a number from 0 to 1, got "-0.1"',
    ),
    (
        "above 1 in scientific notation",
        "CVE-2023-0001,0.5,2e+00",
        'percentile: expected a number from 0 to 1, got "2e+00"',
    ),
    ("nan", "CVE-2023-0001,nan,0.5", 'epss: expected a number from 0 to 1, got "nan"'),
    ("spaces", "CVE-2023-0001, 0.5,0.5", 'epss: expected a plain decimal number, got " 0.5"'),
    ("a blank line", "", 'expected 3 fields (cve,epss,percentile), got 1: ""'),
]


@pytest.mark.parametrize(
    ("row", "problem"), [case[1:] for case in BAD_ROWS], ids=[case[0] for case in BAD_ROWS]
)
def test_a_bad_row_is_an_exit_2_error_naming_the_file_and_line(
    tmp_path: Path, row: str, problem: str
) -> None:
    path = tmp_path / "epss.csv"
    path.write_text("\n".join([COMMENT, COLUMNS, *ROWS[:5], row, *ROWS[5:]]) + "\n", encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.diagnostics() == f"{path}: line 8: {problem}"


BAD_FILES = [
    ("empty", b"", "empty: expected the EPSS CSV (a '#model_version:...' line, then 'cve,epss,percentile')"),
    (
        "no rows",
        f"{COMMENT}\n{COLUMNS}\n".encode(),
        "no scores: expected rows after the column line 'cve,epss,percentile'",
    ),
    (
        "only the comment",
        f"{COMMENT}\n".encode(),
        "expected the column line 'cve,epss,percentile' after the comment line",
    ),
    (
        "other columns",
        f"{COMMENT}\ncve,score\n".encode(),
        "line 2: expected the column line 'cve,epss,percentile', got \"cve,score\"",
    ),
    (
        "a comment without a date",
        b"#model_version:v2026.06.15\ncve,epss,percentile\nCVE-1999-0001,0.1,0.1\n",
        "line 1: expected '#model_version:VERSION,score_date:YYYY-MM-DDTHH:MM:SSZ', got a comment line "
        "without a score_date that is a time",
    ),
    (
        "an HTML page",
        b"<html><head><title>404 Not Found</title></head></html>\n",
        "line 1: expected the column line 'cve,epss,percentile', got markup (an HTML page, such as a "
        "server's error page?): not an EPSS scores file",
    ),
    (
        "a duplicate",
        f"{COMMENT}\n{COLUMNS}\n{ROWS[0]}\n{ROWS[1]}\n{ROWS[0]}\n".encode(),
        "line 5: CVE-1999-0001 is listed twice",
    ),
    (
        "not UTF-8",
        f"{COMMENT}\n{COLUMNS}\n{ROWS[0]}\n".encode() + b"CVE-1999-\xff002,0.1,0.1\n",
        "line 4: not UTF-8 text",
    ),
]


@pytest.mark.parametrize(
    ("content", "problem"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES]
)
def test_a_bad_file_is_an_exit_2_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "epss.csv"
    path.write_bytes(content)
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    assert caught.value.diagnostics() == f"{path}: {problem}"


PLANTED = "ghp_0123456789abcdefABCDEF0123456789abcd"
"""A token in the first line of a file that is not an EPSS file."""
NOT_EPSS_FILES = [
    (
        "a netrc",
        f"machine github.com login x-access-token password {PLANTED}\n",
        "that is not CSV of those columns",
    ),
    ("a Docker config", f'{{"auths": {{"ghcr.io": {{"auth": "{PLANTED}"}}}}}}\n', "JSON"),
    ("an environment", f"GITHUB_TOKEN={PLANTED}\0HOME=/root\0", "that is not CSV of those columns"),
    ("a script", f"#!/bin/sh\nexport TOKEN={PLANTED}\n", "a comment line without model_version"),
    ("a date line", f"#model_version:{PLANTED}\nTOKEN={PLANTED}\n", "a comment line without a score_date"),
    ("after a good comment", f"{COMMENT}\nTOKEN={PLANTED}\n", "line 2: expected the column line"),
]


@pytest.mark.parametrize(
    ("content", "said"), [case[1:] for case in NOT_EPSS_FILES], ids=[case[0] for case in NOT_EPSS_FILES]
)
def test_a_line_before_the_column_line_is_described_never_quoted(
    tmp_path: Path, content: str, said: str
) -> None:
    # The policy can name any file as its EPSS data; its error must not publish the file's text.
    path = tmp_path / "named-by-the-policy"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    message = caught.value.diagnostics()
    assert said in message
    assert PLANTED[:8] not in message


def test_a_truncated_gzip_file_is_an_error(tmp_path: Path) -> None:
    rows = [f"CVE-2024-{number:05d},0.00043,0.1187" for number in range(1000)]
    packed = gzip.compress(("\n".join([COMMENT, COLUMNS, *rows]) + "\n").encode())
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(packed[: len(packed) - 20])
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    assert caught.value.diagnostics().startswith(f"{path}: truncated or corrupt gzip data (")


def test_a_gzip_bomb_is_refused_at_the_bound_after_decompression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", 64 * 1024)
    rows = [f"CVE-2024-{number:05d},0.00043,0.1187" for number in range(10_000)]
    packed = gzip.compress(("\n".join([COMMENT, COLUMNS, *rows]) + "\n").encode())
    assert len(packed) < 64 * 1024  # under the bound as stored, over it inflated
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(packed)
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    assert caught.value.diagnostics() == (
        f"{path}: larger than 65536 bytes (after decompression); not an EPSS scores file"
    )


def test_an_endless_file_is_refused_at_the_bound() -> None:
    # Read for real: the bound (256 MiB) is counted while the file is hashed, with little memory.
    with pytest.raises(ReportError) as caught:
        read_epss(Path("/dev/zero"))
    assert caught.value.diagnostics() == "/dev/zero: larger than 256 MiB; not an EPSS scores file"
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_line_without_an_end_is_refused_at_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(gzip.compress(bytes(2**20)))
    with pytest.raises(ReportError) as caught:
        read_epss(path)
    assert caught.value.diagnostics() == (
        f"{path}: line 1: a line longer than 4096 characters; not an EPSS scores file"
    )
