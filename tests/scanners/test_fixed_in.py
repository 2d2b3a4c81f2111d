"""Every member through which a supported scanner version has said "fixed in", each read from a
report of that shape.

A missed fix is a fail-open: under the default policy (`fixable_only: true`) a finding without a
fixed version is ignored. The old-shape reports here are REAL corpus reports RESHAPED into the
shape an older scanner wrote (each helper says which members moved where, after the scanner's own
presenter code of that version), plus Grype 0.7's own presenter test output, copied unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.model import Finding, ScanReport, Severity, VendorStatus
from gate.scanners.grype import parse_grype
from gate.scanners.snyk import parse_snyk
from tests.support.corpus import corpus_file, corpus_json

CHAINGUARD = "chainguard-ruby-test.json"
"""Grype 0.61: ruby-3.0 (CVE-2023-28755, High, fixed in 3.0.6-r0) and uri (GHSA-hv5j-3h9f-99c2,
High, fixed in 0.10.2; and the same CVE by CPE, without a fix)."""


def fixes(report: ScanReport) -> dict[tuple[str, str], tuple[tuple[str, ...], VendorStatus]]:
    return {(f.vulnerability_id, f.package.name): (f.fixed_versions, f.status) for f in report.findings}


def gate_check(tmp_path: Path, doc: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """The exit code of `check` under the default policy, and each finding's disposition."""
    report, decision = tmp_path / "report.json", tmp_path / "gate.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    code = cli.main(["check", str(report), "--ci", "none", "--json", str(decision)])
    capsys.readouterr()
    findings = json.loads(decision.read_text())["findings"]
    return code, {f"{f['vulnerability_id']} {f['package']}": f["disposition"] for f in findings}


# --- Grype ---------------------------------------------------------------------------------------------

EXPECTED_GRYPE = {
    ("CVE-2023-28755", "ruby-3.0"): (("3.0.6-r0",), VendorStatus.FIXED),
    ("CVE-2023-28755", "uri"): (("0.10.2",), VendorStatus.FIXED),
}


def grype_before_0_13() -> Any:
    """RESHAPED: the Grype 0.61 report as Grype 0.12 and earlier wrote it (presenter/models/
    vulnerability.go at v0.12.1): one `fixedInVersion` instead of `fix`, no fix state, `links`
    for `urls`, `cvssV2`/`cvssV3` objects for the `cvss` list, no related records, no namespace."""
    doc = corpus_json("grype", CHAINGUARD)
    for match in doc["matches"]:
        vuln = match["vulnerability"]
        fix = vuln.pop("fix")
        if fix["versions"]:
            vuln["fixedInVersion"] = fix["versions"][0]
        for cvss in vuln.pop("cvss"):
            major = cvss["version"][0]
            vuln[f"cvssV{major}"] = {"baseScore": cvss["metrics"]["baseScore"], "vector": cvss["vector"]}
        vuln["links"] = vuln.pop("urls")
        for gone in ("dataSource", "namespace", "advisories"):
            vuln.pop(gone, None)
        match.pop("relatedVulnerabilities")
        match["matchDetails"] = match["matchDetails"][0]
    doc["descriptor"] = {"name": "grype", "version": "0.12.1"}
    return doc


def grype_fix_available() -> Any:
    """RESHAPED: the fixes only in `fix.available` (Grype 0.99 and later list each fix there with
    the date it was published), `fix.versions` left empty."""
    doc = corpus_json("grype", CHAINGUARD)
    for match in doc["matches"]:
        fix = match["vulnerability"]["fix"]
        fix["available"] = [{"version": v, "date": "2023-03-28", "kind": "advisory"} for v in fix["versions"]]
        fix["versions"] = []
    return doc


def test_grype_fix_versions_as_written_today() -> None:
    report = parse_grype(corpus_json("grype", CHAINGUARD), "grype.json")
    assert fixes(report).items() >= EXPECTED_GRYPE.items()


def test_grype_fixed_in_version_of_grype_before_0_13() -> None:
    report = parse_grype(grype_before_0_13(), "grype.json")
    # Without related records the GHSA of uri does not meet its CVE: it stays its own finding.
    assert (
        fixes(report).items()
        >= {
            ("CVE-2023-28755", "ruby-3.0"): (("3.0.6-r0",), VendorStatus.FIXED),
            ("GHSA-hv5j-3h9f-99c2", "uri"): (("0.10.2",), VendorStatus.FIXED),
        }.items()
    )


def test_the_default_policy_blocks_the_fixes_an_old_grype_report_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Read without `fixedInVersion`, both HIGH findings were "ignored: no fixed version exists".
    code, dispositions = gate_check(tmp_path, grype_before_0_13(), capsys)
    assert code == ExitCode.FAIL
    assert dispositions["CVE-2023-28755 ruby-3.0"] == dispositions["GHSA-hv5j-3h9f-99c2 uri"] == "blocking"


def test_grype_fix_available_of_grype_0_99() -> None:
    report = parse_grype(grype_fix_available(), "grype.json")
    assert fixes(report).items() >= EXPECTED_GRYPE.items()


def test_grype_fix_available_as_one_object_of_grype_0_98_names_no_version() -> None:
    doc = corpus_json("grype", CHAINGUARD)
    doc["matches"][0]["vulnerability"]["fix"]["available"] = {"date": "2023-03-28", "kind": "advisory"}
    assert fixes(parse_grype(doc, "grype.json")).items() >= EXPECTED_GRYPE.items()


def test_grype_0_7_presenter_output_as_grype_wrote_it() -> None:
    # Copied unchanged from Grype 0.7.0's JSON presenter test (tests/data/PROVENANCE.md).
    path = corpus_file("grype", "TestJsonImgsPresenter-v0.7.0.golden")
    report = parse_grype(json.loads(path.read_text(encoding="utf-8")), "grype.json")
    by_id = {f.vulnerability_id: f for f in report.findings}
    assert by_id["CVE-1999-0001"].fixed_versions == ("the-next-version",)
    assert by_id["CVE-1999-0001"].status is VendorStatus.FIXED
    assert by_id["CVE-1999-0003"].fixed_versions == ("the-other-next-version",)
    assert by_id["CVE-1999-0002"].fixed_versions == ()
    assert by_id["CVE-1999-0002"].status is VendorStatus.UNKNOWN
    # Its only scores are the old per-version objects, and it has no severity words at all.
    assert (by_id["CVE-1999-0001"].cvss and by_id["CVE-1999-0001"].cvss.score) == 4.0
    assert by_id["CVE-1999-0001"].severity is Severity.MEDIUM
    assert by_id["CVE-1999-0002"].severity is Severity.LOW  # CVSS v2 1.0


# --- Snyk ----------------------------------------------------------------------------------------------

APP_VULNS = "container-app-vulns__results.json"
"""A Snyk container report with an npm application: connect, express, mime, qs (fixedIn)."""


def snyk_fixes(doc: Any) -> dict[tuple[str, str], tuple[tuple[str, ...], VendorStatus]]:
    return fixes(parse_snyk(doc, "snyk.json"))


def snyk_legacy() -> Any:
    """RESHAPED: the report as legacy Snyk CLIs wrote it (src/lib/snyk-test/legacy.ts): issue data
    without `fixedIn`, application entries without `nearestFixedInVersion`, and the fix told by
    `upgradePath` and `isUpgradable`."""
    doc = corpus_json("snyk", APP_VULNS)
    for index, project in enumerate(snyk_projects(doc)):
        for vuln in project["vulnerabilities"]:
            vuln.pop("fixedIn", None)
            if index:
                vuln.pop("nearestFixedInVersion", None)
    return doc


def snyk_projects(doc: Any) -> list[Any]:
    """The OS project and the application projects of a Snyk container report."""
    return list(doc) if isinstance(doc, list) else [doc, *doc.get("applications", [])]


def test_snyk_fixed_in_as_written_today() -> None:
    found = snyk_fixes(corpus_json("snyk", APP_VULNS))
    assert found[("npm:connect:20120107", "connect")] == (("2.0.0",), VendorStatus.FIXED)
    assert found[("CVE-2014-7191", "qs")] == (("1.0.0",), VendorStatus.FIXED)


def test_snyk_nearest_fixed_in_version_of_container_projects() -> None:
    found = snyk_fixes(corpus_json("snyk", "fail-on-docker-fixable__vulns.json"))
    assert {fixed for fixed, _ in found.values()} >= {("2.2.7-r0",), ("2.2.7-r1",)}


def test_snyk_upgrade_path_of_legacy_clis() -> None:
    found = snyk_fixes(snyk_legacy())
    # connect's own step in its upgrade path names the version it is upgraded to.
    assert found[("npm:connect:20120107", "connect")] == (("2.6.0",), VendorStatus.FIXED)
    # qs is fixed by upgrading express, which drops it: a fix exists, no qs version is named.
    qs: Finding = next(
        f for f in parse_snyk(snyk_legacy(), "s").findings if f.vulnerability_id == "CVE-2014-7191"
    )
    assert (qs.fixed_versions, qs.status, qs.fixable) == ((), VendorStatus.FIXED, True)


def test_snyk_is_upgradable_alone_is_a_fix() -> None:
    doc = snyk_legacy()
    for project in snyk_projects(doc):
        for vuln in project["vulnerabilities"]:
            vuln["upgradePath"] = []
    found = snyk_fixes(doc)
    assert found[("CVE-2014-7191", "qs")] == ((), VendorStatus.FIXED)


def test_the_default_policy_blocks_what_a_legacy_snyk_report_says_an_upgrade_fixes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, dispositions = gate_check(tmp_path, snyk_legacy(), capsys)
    assert code == ExitCode.FAIL
    assert dispositions["CVE-2014-7191 qs"] == "blocking"  # HIGH, fixed by upgrading express
