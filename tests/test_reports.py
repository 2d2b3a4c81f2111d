"""Report files: format detection over the whole corpus, every unreadable input, and merging."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ExitCode, ReportError
from gate.merge import merge_reports
from gate.model import ScanReport, VendorStatus
from gate.scanners.grype import parse_grype
from gate.scanners.ingest import load_report, parse_report_bytes
from gate.scanners.trivy import parse_trivy
from tests.support.corpus import REPORT_KINDS, corpus_file, corpus_files, corpus_json

REPORTS = [(kind, path) for kind in REPORT_KINDS for path in corpus_files(kind)]
OTHER_DOCUMENTS = [path for kind in ("gitlab", "vex", "sarif-in") for path in corpus_files(kind)]
UNKNOWN = "not a Trivy (SchemaVersion 2), Grype (matches) or Snyk container (vulnerabilities) report"


@pytest.mark.parametrize(("kind", "path"), REPORTS, ids=[path.name for _, path in REPORTS])
def test_every_corpus_report_is_detected_and_read(kind: str, path: Path) -> None:
    report = load_report(path)
    assert [info.name for info in report.scanners] == [kind]
    assert report.scanners[0].source == str(path)
    assert report.sources == (str(path),)
    assert all(finding.scanners == (kind,) for finding in report.findings)
    assert len({finding.key for finding in report.findings}) == len(report.findings)


@pytest.mark.parametrize("path", OTHER_DOCUMENTS, ids=[path.name for path in OTHER_DOCUMENTS])
def test_other_security_documents_are_not_taken_for_reports(path: Path) -> None:
    with pytest.raises(ReportError) as caught:
        load_report(path)
    assert caught.value.message == f"{path}: {UNKNOWN}"
    assert caught.value.hint is not None
    assert "give the scanner's JSON output" in caught.value.hint


def write(tmp_path: Path, content: str | bytes, name: str = "app.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def read_error(path: Path) -> str:
    with pytest.raises(ReportError) as caught:
        load_report(path)
    assert caught.value.exit_code == ExitCode.USAGE
    message = caught.value.diagnostics()
    assert "\n" not in message
    return message


def corpus_text(kind: str, suffix: str) -> str:
    return corpus_file(kind, suffix).read_text(encoding="utf-8")


def trivy_without_schema_version() -> str:
    # Trivy before 0.20 wrote the results as a bare array.
    return json.dumps(corpus_json("trivy", "alpine-310.json.golden")["Results"])


def trivy_schema_1() -> str:
    doc = corpus_json("trivy", "alpine-310.json.golden")
    doc["SchemaVersion"] = 1
    return json.dumps(doc)


def grype_with_bad_fix() -> str:
    doc = corpus_json("grype", "keycloak-test.json")
    doc["matches"][4]["vulnerability"]["fix"]["versions"] = [None]
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("this is not JSON", "not valid JSON (expecting value at line 1, column 1)"),
        (
            '{"matches": [],}',
            "not valid JSON (expecting property name enclosed in double quotes at line 1, column 16)",
        ),
        ("", "empty file, expected a JSON report"),
        (" \n\t\n", "empty file, expected a JSON report"),
        ('{"matches": [NaN]}', "not valid JSON (NaN is not a JSON number)"),
        (b'{"matches": [\xff]}', "not valid JSON (not UTF-8 text: byte 13 is invalid)"),
        ('{"results": []}', UNKNOWN),
        ("[]", UNKNOWN),
        ('"trivy"', UNKNOWN),
        (
            trivy_without_schema_version(),
            "a Trivy report without SchemaVersion (written by Trivy before 0.20) is not supported "
            "(supported: SchemaVersion 2)",
        ),
        (
            trivy_schema_1(),
            "SchemaVersion: Trivy report schema version 1 is not supported "
            "(supported: 2, as written by Trivy 0.20 and later)",
        ),
        (grype_with_bad_fix(), "matches[4].vulnerability.fix.versions[0]: expected a string, got null"),
    ],
    ids=[
        "not-json",
        "trailing-comma",
        "empty",
        "blank",
        "nan",
        "not-utf8",
        "unknown-object",
        "empty-array",
        "json-string",
        "trivy-before-schema-2",
        "trivy-schema-1",
        "wrong-nested-type",
    ],
)
def test_unreadable_reports_give_one_line_naming_the_file(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    path = write(tmp_path, content)
    assert read_error(path) == f"{path}: {problem}"


@pytest.mark.parametrize("kind", REPORT_KINDS)
def test_a_report_cut_in_half_is_reported_as_truncated(tmp_path: Path, kind: str) -> None:
    text = corpus_files(kind)[-1].read_text(encoding="utf-8")
    cut = text[: len(text) // 2]
    path = write(tmp_path, cut)

    lines = cut.rstrip().splitlines()
    where = f"line {len(lines)}, column {len(lines[-1]) + 1}"
    assert read_error(path) == f"{path}: not valid JSON (ends early at {where}: the file looks truncated)"


def test_a_report_cut_inside_a_string_is_reported_as_truncated(tmp_path: Path) -> None:
    text = corpus_text("trivy", "alpine-310.json.golden")
    cut = text[: text.index('"Title"') + 12]
    path = write(tmp_path, cut)
    assert read_error(path).endswith("the file looks truncated)")


def test_a_missing_file_and_a_directory_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    assert read_error(missing) == f"{missing}: no such report file"
    assert read_error(tmp_path) == f"{tmp_path}: is a directory, not a report file"


def test_a_report_in_memory_is_read_like_a_file() -> None:
    raw = corpus_file("trivy", "centos-7.json.golden").read_bytes()
    report = parse_report_bytes(raw, "trivy image centos:7")
    assert report.sources == ("trivy image centos:7",)
    assert report.findings == load_report(corpus_file("trivy", "centos-7.json.golden")).findings
    with pytest.raises(ReportError) as caught:
        parse_report_bytes(raw[:100], "trivy image centos:7")
    assert caught.value.diagnostics().startswith("trivy image centos:7: not valid JSON (ends early at line")


def test_a_sarif_log_is_named_as_such() -> None:
    path = corpus_file("sarif-in", "alpine-310.sarif.golden")
    with pytest.raises(ReportError) as caught:
        load_report(path)
    assert caught.value.diagnostics() == (
        f"{path}: {UNKNOWN} (this is a SARIF log; give the scanner's JSON output: "
        "trivy --format json, grype -o json, snyk --json)"
    )


# Merging


def trivy_report(entries: list[dict[str, Any]], result_class: str, pkg_type: str, target: str) -> ScanReport:
    """A Trivy report of one result holding `entries`, in the frame of a real report."""
    doc = corpus_json("trivy", "fluentd-gems.json.golden")
    doc["Results"] = [{"Target": target, "Class": result_class, "Type": pkg_type, "Vulnerabilities": entries}]
    return parse_trivy(doc, "trivy.json")


def real_trivy_entry(suffix: str, vuln_id: str, package: str) -> dict[str, Any]:
    doc = corpus_json("trivy", suffix)
    entries = [v for r in doc["Results"] for v in r.get("Vulnerabilities") or []]
    return copy.deepcopy(
        next(v for v in entries if v["VulnerabilityID"] == vuln_id and v["PkgName"] == package)
    )


def test_the_same_report_twice_merges_into_itself() -> None:
    report = load_report(corpus_file("snyk", "container-app-vulns__results.json"))
    merged = merge_reports([report, report])
    assert merged.findings == report.findings
    assert merged.scanners == report.scanners
    assert merged.sources == report.sources
    assert merged.image == report.image


def test_trivy_ghsa_and_grype_cve_of_one_package_merge_into_one_cve_finding() -> None:
    # Trivy names the advisory by its GHSA id; Grype names it by the CVE and lists the GHSA as related.
    entry = real_trivy_entry("fluentd-gems.json.golden", "CVE-2020-8165", "activesupport")
    entry.update(
        VulnerabilityID="GHSA-hv5j-3h9f-99c2",
        PkgName="uri",
        InstalledVersion="0.10.1",
        FixedVersion="0.10.2",
        PkgPath="usr/lib/ruby/gems/3.0.0/specifications/default/uri-0.10.1.gemspec",
        PkgIdentifier={"PURL": "pkg:gem/uri@0.10.1"},
    )
    trivy = trivy_report([entry], "lang-pkgs", "gemspec", "Ruby")
    grype = parse_grype(corpus_json("grype", "chainguard-ruby-test.json"), "grype.json")

    merged = merge_reports([trivy, grype])

    uri = [f for f in merged.findings if f.package.name == "uri"]
    assert len(uri) == 1
    assert uri[0].vulnerability_id == "CVE-2023-28755"
    assert uri[0].aliases == ("GHSA-hv5j-3h9f-99c2",)
    assert uri[0].scanners == ("trivy", "grype")
    assert uri[0].package.type == "gemspec"  # the first report's fields stand
    assert uri[0].title == entry["Title"]
    assert len(merged.findings) == len(trivy.findings) + len(grype.findings) - 1
    assert [info.name for info in merged.scanners] == ["trivy", "grype"]
    assert merged.sources == ("trivy.json", "grype.json")
    assert merged.image == trivy.image


def test_the_first_report_wins_and_later_ones_fill_what_it_lacks() -> None:
    # The same Red Hat package and CVE, as Trivy would report it (without SrcName or CVSS) and as Grype did.
    entry = real_trivy_entry("centos-7.json.golden", "CVE-2019-18276", "bash")
    entry.update(VulnerabilityID="CVE-2020-12413", PkgName="nspr", InstalledVersion="4.34.0-17.el9_1")
    del entry["CVSS"]
    trivy = trivy_report([entry], "os-pkgs", "redhat", "keycloak (redhat 9.1)")
    grype = parse_grype(corpus_json("grype", "keycloak-test.json"), "grype.json")

    trivy_first = next(f for f in merge_reports([trivy, grype]).findings if f.package.name == "nspr")
    assert trivy_first.scanners == ("trivy", "grype")
    assert trivy_first.severity == trivy.findings[0].severity
    assert trivy_first.layer == trivy.findings[0].layer
    assert trivy_first.package.type == "redhat"
    assert trivy_first.package.source_name == "nss"  # filled from Grype
    assert trivy_first.cvss is not None
    assert trivy_first.cvss.source == "redhat"  # filled from Grype

    grype_first = next(f for f in merge_reports([grype, trivy]).findings if f.package.name == "nspr")
    assert grype_first.scanners == ("grype", "trivy")
    assert grype_first.package.type == "rpm"
    assert grype_first.status is VendorStatus.WILL_NOT_FIX
    assert grype_first.title == entry["Title"]  # Grype has none


def test_two_cves_sharing_a_vendor_advisory_stay_two_findings() -> None:
    one = trivy_report(
        [real_trivy_entry("centos-7.json.golden", "CVE-2019-1559", "openssl-libs")], "os-pkgs", "centos", "c"
    )
    two = trivy_report(
        [real_trivy_entry("centos-7.json.golden", "CVE-2018-0734", "openssl-libs")], "os-pkgs", "centos", "c"
    )
    assert one.findings[0].aliases == two.findings[0].aliases == ("RHSA-2019:2304",)

    merged = merge_reports([one, two])
    assert [f.vulnerability_id for f in merged.findings] == ["CVE-2019-1559", "CVE-2018-0734"]


def test_findings_a_report_keeps_apart_are_never_merged_together() -> None:
    grype = parse_grype(corpus_json("grype", "chainguard-ruby-test.json"), "grype.json")
    entry = real_trivy_entry("fluentd-gems.json.golden", "CVE-2020-8165", "activesupport")
    entry.update(
        PkgName="uri",
        InstalledVersion="0.10.1",
        PkgPath="usr/lib/ruby/gems/3.0.0/specifications/default/uri-0.10.1.gemspec",
    )
    as_cve = dict(entry, VulnerabilityID="CVE-2023-28755")
    as_ghsa = dict(entry, VulnerabilityID="GHSA-hv5j-3h9f-99c2")
    trivy = trivy_report([as_cve, as_ghsa], "lang-pkgs", "gemspec", "Ruby")
    assert len(trivy.findings) == 2

    merged = merge_reports([grype, trivy])

    uri = [f for f in merged.findings if f.package.name == "uri"]
    assert [f.vulnerability_id for f in uri] == ["CVE-2023-28755", "GHSA-hv5j-3h9f-99c2"]
    assert uri[0].scanners == ("grype", "trivy")
    assert uri[1].scanners == ("trivy",)


def test_different_paths_or_versions_do_not_merge() -> None:
    grype = parse_grype(corpus_json("grype", "chainguard-ruby-test.json"), "grype.json")
    doc = corpus_json("grype", "chainguard-ruby-test.json")
    for match in doc["matches"]:
        match["artifact"]["version"] += ".1"
    other = parse_grype(doc, "other.json")
    assert len(merge_reports([grype, other]).findings) == len(grype.findings) + len(other.findings)


def test_the_warnings_of_every_report_are_kept_once() -> None:
    trivy = replace(load_report(corpus_file("trivy", "alpine-310.json.golden")), warnings=("old DB", "a"))
    grype = replace(load_report(corpus_file("grype", "keycloak-test.json")), warnings=("b", "old DB"))
    assert merge_reports([trivy, grype]).warnings == ("old DB", "a", "b")


def test_merging_needs_a_report() -> None:
    with pytest.raises(ValueError, match="at least one report"):
        merge_reports([])
    report = load_report(corpus_file("grype", "keycloak-test.json"))
    assert merge_reports([report]) is report
