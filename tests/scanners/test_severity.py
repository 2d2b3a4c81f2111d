"""Severity words: a closed vocabulary per scanner, and a missing severity taken from CVSS or vendors.

The running example is a real Trivy report with two fixable CRITICAL findings (exit 1 under the
default policy). However its severity is spelled, it must never pass: a word Trivy does not write
is an unreadable report (exit 2, with the key path), unless the policy sets `lenient_severity`;
a missing one is taken from the finding's CVSS scores and vendor severities.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode, ReportError
from gate.model import ScanReport, Severity
from gate.scanners._findings import cvss_severity
from gate.scanners.grype import parse_grype
from gate.scanners.snyk import parse_snyk
from gate.scanners.trivy import LIST_ALL_PKGS, parse_trivy
from tests.support.corpus import corpus_json

RUNNING_EXAMPLE = "alpine-39-high-critical.json.golden"
"""Two fixable CRITICAL findings (musl and musl-utils, CVE-2019-14697, CVSS 3 score 9.8)."""

NOT_TRIVY_WORDS = ["CRIT", "CRITICAL\u200b", "Important", "4", "", " CRITICAL", "Kritisch"]
"""Severity words Trivy never writes."""


def example(severity: object = ..., *, cvss: bool = True, vendor: bool = True) -> Any:
    """The running example with every finding's `Severity` set (`...`: removed), and optionally
    without its CVSS scores and vendor severities."""
    doc = corpus_json("trivy", RUNNING_EXAMPLE)
    for result in doc["Results"]:
        for vuln in result["Vulnerabilities"]:
            if severity is ...:
                del vuln["Severity"]
            else:
                vuln["Severity"] = severity
            if not cvss:
                del vuln["CVSS"]
            if not vendor:
                del vuln["VendorSeverity"]
    return doc


def severity_warnings(report: ScanReport) -> tuple[str, ...]:
    """The report's warnings but the one of a Trivy report without its package list, which the
    running example is (tests/scanners/test_trivy.py)."""
    return tuple(warning for warning in report.warnings if not warning.endswith(LIST_ALL_PKGS))


def check(
    tmp_path: Path, doc: object, capsys: pytest.CaptureFixture[str], *policy: str
) -> tuple[int, str, str]:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    argv = ["check", str(report), "--ci", "none"]
    if policy:
        path = tmp_path / "policy.yaml"
        path.write_text("\n".join(["version: 1", *policy]) + "\n", encoding="utf-8")
        argv += ["--policy", str(path)]
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_running_example_fails_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(tmp_path, corpus_json("trivy", RUNNING_EXAMPLE), capsys)
    assert code == ExitCode.FAIL
    assert out.startswith("container-gate: FAIL: 2 blocking finding(s); 2 actions clear them.")


@pytest.mark.parametrize("word", NOT_TRIVY_WORDS, ids=repr)
def test_a_word_trivy_does_not_write_is_an_unreadable_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    code, out, err = check(tmp_path, example(word), capsys)
    assert code == ExitCode.USAGE
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(
        f"container-gate: error: {tmp_path / 'report.json'}: Results[0].Vulnerabilities[0].Severity: "
        "expected a Trivy severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL), got "
    )
    # The word is shown escaped, so an invisible character in it is visible.
    assert json.dumps(word) in line
    assert "lenient_severity: true" in line


@pytest.mark.parametrize("word", [*NOT_TRIVY_WORDS, 4, None, ...], ids=repr)
def test_the_running_example_never_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], word: object
) -> None:
    """Under the default policy and under `lenient_severity`, whatever the severity says."""
    code, _, _ = check(tmp_path, example(word), capsys)
    assert code != ExitCode.PASS
    code, out, _ = check(tmp_path, example(word), capsys, "lenient_severity: true")
    if word == 4:  # a number where a word is due is a wrong type, lenient or not
        assert code == ExitCode.USAGE
    else:
        assert code == ExitCode.FAIL, out
        assert out.startswith("container-gate: FAIL: 2 blocking finding(s); 2 actions clear them.")


def test_lenient_severity_counts_the_words_it_read_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check(tmp_path, example("CRIT"), capsys, "lenient_severity: true")
    assert code == ExitCode.FAIL
    assert (
        f'warning:  {tmp_path / "report.json"}: 2 severity value(s) Trivy does not use ("CRIT") '
        "read as a missing severity (lenient_severity)"
    ) in out


@pytest.mark.parametrize("word", [..., None, "UNKNOWN"], ids=["absent", "null", "UNKNOWN"])
def test_a_missing_severity_is_the_highest_of_cvss_and_vendor_severities(word: object) -> None:
    report = parse_trivy(example(word), "report.json")
    assert [f.severity for f in report.findings] == [Severity.CRITICAL, Severity.CRITICAL]
    assert severity_warnings(report) == (
        "report.json: 2 finding(s) have no severity of their own and take the highest of their "
        "CVSS-derived and vendor severities",
    )
    # The vendor severity alone (nvd: 4) is enough, and so is the CVSS score alone (9.8).
    assert {f.severity for f in parse_trivy(example(word, cvss=False), "r").findings} == {Severity.CRITICAL}
    assert {f.severity for f in parse_trivy(example(word, vendor=False), "r").findings} == {Severity.CRITICAL}


def test_a_finding_with_no_severity_at_all_is_unknown_and_the_outputs_say_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = example(..., cvss=False, vendor=False)
    report = parse_trivy(doc, "report.json")
    assert {f.severity for f in report.findings} == {Severity.UNKNOWN}
    assert severity_warnings(report) == (
        "report.json: 2 finding(s) have no severity at all (none given, no CVSS score, no vendor "
        "severity) and count as UNKNOWN",
    )
    code, out, _ = check(tmp_path, doc, capsys, "fail_on: {severity: UNKNOWN}")
    assert code == ExitCode.FAIL
    assert "2 finding(s) have no severity at all" in out


def test_a_vendor_severity_outside_trivy_db_numbers_is_refused() -> None:
    doc = example(...)
    doc["Results"][0]["Vulnerabilities"][0]["VendorSeverity"] = {"nvd": 7}
    with pytest.raises(ReportError) as caught:
        parse_trivy(doc, "report.json")
    assert caught.value.message == (
        "report.json: Results[0].Vulnerabilities[0].VendorSeverity.nvd: expected a trivy-db "
        "severity number from 0 (UNKNOWN) to 4 (CRITICAL), got a number"
    )


def test_trivy_words_are_read_in_any_case() -> None:
    report = parse_trivy(example("critical"), "report.json")
    assert {f.severity for f in report.findings} == {Severity.CRITICAL}
    assert severity_warnings(report) == ()


# --- Grype -------------------------------------------------------------------------------------------

GRYPE = "keycloak-test.json"
"""A real Grype report whose first match is Low, with a CVSS 3.1 score of 5.9 and a related NVD
record rated Medium."""


def grype_doc(severity: object = ...) -> Any:
    doc = corpus_json("grype", GRYPE)
    vuln = doc["matches"][0]["vulnerability"]
    if severity is ...:
        del vuln["severity"]
    else:
        vuln["severity"] = severity
    return doc


def test_grype_words_and_their_case() -> None:
    first = parse_grype(corpus_json("grype", GRYPE), "g.json").findings[0]
    assert first.severity is Severity.LOW
    assert parse_grype(grype_doc("Critical"), "g.json").findings[0].severity is Severity.CRITICAL
    assert parse_grype(grype_doc("Negligible"), "g.json").findings[0].severity is Severity.LOW
    assert parse_grype(grype_doc("CRITICAL"), "g.json").findings[0].severity is Severity.CRITICAL


@pytest.mark.parametrize("word", ["Crit", "Important", "4", "", "Moderate"], ids=repr)
def test_a_word_grype_does_not_write_is_refused(word: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_grype(grype_doc(word), "g.json")
    assert caught.value.message.startswith(
        "g.json: matches[0].vulnerability.severity: expected a Grype severity (Unknown, Negligible, "
        f"Low, Medium, High, Critical), got {json.dumps(word)}"
    )
    report = parse_grype(grype_doc(word), "g.json", lenient_severity=True)
    assert report.findings[0].severity is Severity.MEDIUM  # from its CVSS score and the NVD's word


def test_a_missing_grype_severity_takes_the_related_records_and_cvss() -> None:
    doc = grype_doc()
    doc["matches"][0]["vulnerability"]["cvss"] = []
    # Its real related record (the NVD's), rated High here and without scores of its own.
    related = doc["matches"][0]["relatedVulnerabilities"]
    doc["matches"][0]["relatedVulnerabilities"] = [{**related[0], "severity": "High", "cvss": []}]
    report = parse_grype(doc, "g.json")
    assert report.findings[0].severity is Severity.HIGH
    doc["matches"][0]["relatedVulnerabilities"] = []
    report = parse_grype(doc, "g.json")
    assert report.findings[0].severity is Severity.UNKNOWN
    assert "g.json: 1 finding(s) have no severity at all" in report.warnings[0]


# --- Snyk --------------------------------------------------------------------------------------------

SNYK = "snyk-to-html__test-report-container-with-app-vulns.json"
"""A real Snyk report whose first entry is critical (zlib, CVSS 9.8, nvdSeverity critical)."""


def snyk_doc(**changes: object) -> Any:
    doc = corpus_json("snyk", SNYK)
    vuln = doc["vulnerabilities"][0]
    for key, value in changes.items():
        if value is ...:
            vuln.pop(key, None)
        else:
            vuln[key] = value
    return doc


@pytest.mark.parametrize("word", ["CRIT", "Important", "4", "", "moderate"], ids=repr)
def test_a_word_snyk_does_not_write_is_refused(word: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_snyk(snyk_doc(severity=word), "s.json")
    assert caught.value.message.startswith(
        "s.json: vulnerabilities[0].severity: expected a Snyk severity (low, medium, high, critical), "
        f"got {json.dumps(word)}"
    )


def test_snyk_takes_the_higher_of_its_two_words_then_nvd_and_cvss() -> None:
    assert parse_snyk(snyk_doc(severity="high"), "s.json").findings[0].severity is Severity.CRITICAL
    gone = snyk_doc(severity=..., severityWithCritical=...)
    assert parse_snyk(gone, "s.json").findings[0].severity is Severity.CRITICAL
    bare = snyk_doc(severity=None, severityWithCritical=..., nvdSeverity=..., cvssDetails=..., cvssScore=...)
    report = parse_snyk(bare, "s.json")
    assert report.findings[0].severity is Severity.UNKNOWN
    assert report.warnings == (
        "s.json: 1 finding(s) have no severity at all (none given, no CVSS score, no vendor severity) "
        "and count as UNKNOWN",
    )


# --- CVSS ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("major", "score", "expected"),
    [
        (3, 0.0, None),
        (3, 0.1, Severity.LOW),
        (3, 3.9, Severity.LOW),
        (3, 4.0, Severity.MEDIUM),
        (3, 6.9, Severity.MEDIUM),
        (3, 7.0, Severity.HIGH),
        (3, 8.9, Severity.HIGH),
        (3, 9.0, Severity.CRITICAL),
        (4, 10.0, Severity.CRITICAL),
        (0, 9.8, Severity.CRITICAL),
        (2, 0.0, Severity.LOW),
        (2, 6.9, Severity.MEDIUM),
        (2, 10.0, Severity.HIGH),
    ],
)
def test_cvss_scores_are_rated_by_the_nvd_ranges(major: int, score: float, expected: Severity | None) -> None:
    assert cvss_severity(major, score) is expected


def test_compare_reads_reports_under_the_policys_lenient_severity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compare NAME=REPORT.json` reads a report as `check` does under the same policy."""
    report, out = tmp_path / "report.json", tmp_path / "compare.json"
    report.write_text(json.dumps(example("CRIT")), encoding="utf-8")
    rows = {}
    for lenient in ("false", "true"):
        policy = tmp_path / f"{lenient}.yaml"
        policy.write_text(f"version: 1\nlenient_severity: {lenient}\n", encoding="utf-8")
        code = cli.main(["compare", f"crit={report}", "--policy", str(policy), "--json", str(out)])
        capsys.readouterr()
        (rows[lenient],) = json.loads(out.read_text(encoding="utf-8"))["images"]
        assert code == (ExitCode.PASS if lenient == "true" else ExitCode.ERROR)
    assert "expected a Trivy severity" in rows["false"]["error"]
    assert (rows["true"]["error"], rows["true"]["blocking"], rows["true"]["verdict"]) == (None, 2, "fail")
