"""Duplicate keys in a report: refused with the key path, since readers disagree on which one counts.

Python's json (like orjson and msgspec) keeps the last of two equal keys silently, so the running
example with `"Severity": "CRITICAL", "Severity": "LOW"` used to pass. The reports here are real
corpus reports with one member repeated in their text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode, ReportError
from gate.scanners.ingest import load_report, parse_report_bytes
from tests.support.corpus import corpus_file

RUNNING_EXAMPLE = corpus_file("trivy", "alpine-39-high-critical.json.golden")


def repeated(path: Path, member: str, again: str, *, count: int = 1) -> str:
    """The text of a corpus report with `member` (as written, `"Key": value`) followed by `again`."""
    text = path.read_text(encoding="utf-8")
    assert member in text
    return text.replace(member, f"{member}, {again}", count)


@pytest.mark.parametrize(
    ("kind", "suffix", "member", "again", "where"),
    [
        (
            "trivy",
            "alpine-39-high-critical.json.golden",
            '"Severity": "CRITICAL"',
            '"Severity": "LOW"',
            'Results[0].Vulnerabilities[0]: duplicate key "Severity"',
        ),
        (
            "trivy",
            "alpine-39-high-critical.json.golden",
            '"FixedVersion": "1.1.20-r5"',
            '"FixedVersion": ""',
            'Results[0].Vulnerabilities[0]: duplicate key "FixedVersion"',
        ),
        (
            "grype",
            "keycloak-test.json",
            '"severity": "Low"',
            '"severity": "Negligible"',
            'matches[0].vulnerability: duplicate key "severity"',
        ),
        (
            "snyk",
            "snyk-to-html__test-report-container-with-app-vulns.json",
            '"severity": "critical"',
            '"severity": "low"',
            'vulnerabilities[0]: duplicate key "severity"',
        ),
    ],
    ids=["trivy-severity", "trivy-fix", "grype-severity", "snyk-severity"],
)
def test_a_repeated_member_of_a_finding_is_refused_with_its_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    suffix: str,
    member: str,
    again: str,
    where: str,
) -> None:
    report = tmp_path / "report.json"
    report.write_text(repeated(corpus_file(kind, suffix), member, again), encoding="utf-8")
    code = cli.main(["check", str(report), "--ci", "none"])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    assert err == (
        f"container-gate: error: {report}: {where} (readers disagree on which one counts; a report "
        "must give each member once)\n"
    )


def test_the_running_example_with_a_milder_repeat_never_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    text = repeated(RUNNING_EXAMPLE, '"Severity": "CRITICAL"', '"Severity": "LOW"', count=2)
    report.write_text(text, encoding="utf-8")
    assert cli.main(["check", str(report), "--ci", "none"]) == ExitCode.USAGE
    capsys.readouterr()


def test_a_repeated_top_level_list_is_refused() -> None:
    # A second, empty `Results` would hide every finding of the first.
    text = RUNNING_EXAMPLE.read_text(encoding="utf-8").rstrip()
    assert text.endswith("}")
    with pytest.raises(ReportError) as caught:
        parse_report_bytes((text[:-1] + ', "Results": []}').encode(), "report.json")
    assert caught.value.message.startswith('report.json: top level: duplicate key "Results"')


def test_a_repeat_after_non_ascii_text_is_found_at_its_path(tmp_path: Path) -> None:
    doc = json.loads(RUNNING_EXAMPLE.read_text(encoding="utf-8"))
    doc["Results"][0]["Vulnerabilities"][1]["Title"] = "musl: «x87» stack imbalance"
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    text = text.replace('"Severity": "CRITICAL"', '"Severity": "CRITICAL", "Severity": "LOW"')
    report = tmp_path / "report.json"
    report.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        load_report(report)
    assert caught.value.message.startswith(
        f'{report}: Results[0].Vulnerabilities[0]: duplicate key "Severity"'
    )


def test_a_scanner_output_with_a_repeat_is_refused_too() -> None:
    raw = repeated(RUNNING_EXAMPLE, '"Status": "fixed"', '"Status": "will_not_fix"').encode()
    with pytest.raises(ReportError, match=r'Vulnerabilities\[0\]: duplicate key "Status"'):
        parse_report_bytes(raw, "trivy's report on alpine:3.9")


def test_equal_keys_in_different_objects_are_fine() -> None:
    assert load_report(RUNNING_EXAMPLE).findings
