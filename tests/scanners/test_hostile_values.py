"""Values JSON allows but the gate cannot use: CVSS scores off the scale, infinities, lone
surrogates, integers too long to read. Each is an input error (exit 2) naming its key path, never
an internal error (exit 3) and never `Infinity` in an output.

The reports are the running example (a real Trivy report) with one value replaced in its text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from tests.support.corpus import corpus_file

RUNNING_EXAMPLE = corpus_file("trivy", "alpine-39-high-critical.json.golden")
SCORE = "Results[0].Vulnerabilities[0].CVSS.nvd.V3Score"


def edited(old: str, new: str) -> str:
    text = json.dumps(json.loads(RUNNING_EXAMPLE.read_text(encoding="utf-8")))
    assert old in text
    return text.replace(old, new, 1)


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    report = tmp_path / "report.json"
    report.write_text(text, encoding="utf-8")
    code = cli.main(["check", str(report), "--ci", "none", "--json", str(tmp_path / "out.json")])
    out, err = capsys.readouterr()
    assert out == "" if code == ExitCode.USAGE else out.startswith("container-gate: FAIL")
    return code, err.replace(f"{report}: ", "")


@pytest.mark.parametrize(
    ("score", "problem"),
    [
        ("1e999", "infinity (an exponent too large for a number, such as 1e999)"),
        ("-1e999", "-infinity (an exponent too large for a number, such as 1e999)"),
        ("10.1", "10.1"),
        ("11", "11"),
        ("-1", "-1"),
        ("9" * 4000, "a number of 4000 digits"),
    ],
    ids=["1e999", "-1e999", "10.1", "11", "-1", "4000-digits"],
)
def test_a_cvss_score_off_the_scale_is_exit_2_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], score: str, problem: str
) -> None:
    code, err = check(tmp_path, edited('"V3Score": 9.8', f'"V3Score": {score}'), capsys)
    assert code == ExitCode.USAGE
    assert err == f"container-gate: error: {SCORE}: expected a CVSS score from 0.0 to 10.0, got {problem}\n"


def test_the_edges_of_the_scale_are_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(tmp_path, edited('"V3Score": 9.8', '"V3Score": 10'), capsys)[0] == ExitCode.FAIL
    assert check(tmp_path, edited('"V3Score": 9.8', '"V3Score": 0.0'), capsys)[0] == ExitCode.FAIL


@pytest.mark.parametrize(
    ("old", "new", "path", "problem"),
    [
        (
            '"PkgName": "musl"',
            '"PkgName": "musl", "Title": "x87 \\ud800 stack"',
            "Results[0].Vulnerabilities[0].Title",
            'holds a lone UTF-16 surrogate ("\\ud800")',
        ),
        (
            '"PkgName": "musl-utils"',
            '"PkgName": "musl-utils\\udfff"',
            "Results[0].Vulnerabilities[1].PkgName",
            'holds a lone UTF-16 surrogate ("\\udfff")',
        ),
        (
            '"CVSS": {"nvd"',
            '"CVSS": {"\\udc00nvd"',
            'Results[0].Vulnerabilities[0].CVSS["\\udc00nvd"]',
            'this key holds a lone UTF-16 surrogate ("\\udc00")',
        ),
    ],
    ids=["title", "package", "cvss-source-key"],
)
def test_a_lone_surrogate_is_exit_2_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, path: str, problem: str
) -> None:
    code, err = check(tmp_path, edited(old, new), capsys)
    assert code == ExitCode.USAGE
    assert err.startswith(f"container-gate: error: {path}: {problem}, which is not text")
    assert json.loads((tmp_path / "out.json").read_text())["verdict"] == "error"


def test_a_surrogate_pair_is_one_character_and_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edited('"PkgName": "musl"', '"PkgName": "musl", "Title": "x87 \\ud83d\\ude00 stack"')
    assert check(tmp_path, text, capsys)[0] == ExitCode.FAIL
    assert json.loads((tmp_path / "out.json").read_text())["findings"][0]["title"] == "x87 \U0001f600 stack"


def test_an_integer_of_more_than_4300_digits_is_exit_2_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, edited('"Size": 5796352', '"Size": ' + "9" * 5000), capsys)
    assert code == ExitCode.USAGE
    assert err == (
        "container-gate: error: Metadata.Size: expected a number, got an integer of 5000 digits "
        "(at most 4300 are read)\n"
    )


DEEP = "[" * 100_000 + "]" * 100_000
"""Arrays nested far deeper than Python's decoder recurses."""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"Size": 5796352', f'"Size": {DEEP}'),
        # Locating a repeated key or a long integer decodes the text again, and meets the nesting
        # there, after the first decoding stopped at the value it refused.
        ('"Size": 5796352', f'"Size": 1, "Size": 2, "Deep": {DEEP}'),
        ('"Size": 5796352', '"Size": ' + "9" * 5000 + f', "Deep": {DEEP}'),
    ],
    ids=["deep", "a-repeated-key-then-deep", "a-long-integer-then-deep"],
)
def test_nesting_too_deep_is_exit_2_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str
) -> None:
    code, err = check(tmp_path, edited(old, new), capsys)
    assert code == ExitCode.USAGE
    assert err == "container-gate: error: not valid JSON (nested too deeply to read)\n"


def test_a_syntax_error_after_a_repeated_key_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(tmp_path, edited('"Size": 5796352', '"Size": 1, "Size": 2, "Bad": [1 2]'), capsys)
    assert code == ExitCode.USAGE
    assert err.startswith("container-gate: error: not valid JSON (expecting ',' delimiter at line 1, column ")


def test_a_lone_surrogate_in_a_snyk_id_is_exit_2_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The id goes into the advisory's URL, percent-encoded, before the report is checked for
    # lone surrogates.
    text = corpus_file("snyk", "fail-on-docker-fixable__vulns.json").read_text(encoding="utf-8")
    text = text.replace('"id": "SNYK-LINUX-EXPAT-450908"', '"id": "\\udfffSNYK-LINUX-EXPAT-450908"')
    code, err = check(tmp_path, text, capsys)
    assert code == ExitCode.USAGE
    assert err.startswith(
        'container-gate: error: vulnerabilities[0].id: holds a lone UTF-16 surrogate ("\\udfff"), which is not text'
    )
