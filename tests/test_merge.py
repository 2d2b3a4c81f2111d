"""Merging the reports of several scanners or files about one image (`gate.merge`)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.merge import another_image, combine, merge_reports
from gate.model import DirectUpgrade, ScanReport, Severity, VendorStatus
from gate.scanners.grype import parse_grype
from gate.scanners.ingest import load_report
from gate.scanners.trivy import parse_trivy
from tests.support.corpus import corpus_file, corpus_json
from tests.support.factories import finding


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


def java_entry(path: str) -> dict[str, Any]:
    """Trivy's real entry for a Java library, moved to the library of Grype's real ghsa-test.json:
    Trivy names it `groupId:artifactId` at the innermost archive's path; Grype names it `httpclient`
    at the outermost archive, `/TwilioNotifier.hpi`; both give the same package URL."""
    entry = real_trivy_entry(
        "spring4shell-jre11.json.golden", "CVE-2022-22965", "org.springframework:spring-beans"
    )
    entry.update(
        VulnerabilityID="CVE-2014-3577",
        PkgName="org.apache.httpcomponents:httpclient",
        InstalledVersion="4.1.1",
        FixedVersion="4.3.5",
        PkgPath=path,
        PkgIdentifier={"PURL": "pkg:maven/org.apache.httpcomponents/httpclient@4.1.1"},
    )
    return entry


def test_trivy_and_grype_findings_of_one_java_library_merge() -> None:
    trivy = trivy_report(
        [java_entry("TwilioNotifier.hpi/WEB-INF/lib/sdk-3.0.jar")], "lang-pkgs", "jar", "Java"
    )
    grype = parse_grype(corpus_json("grype", "ghsa-test.json"), "grype.json")
    merged = merge_reports([trivy, grype])
    assert [(f.vulnerability_id, f.package.name, f.scanners) for f in merged.findings] == [
        ("CVE-2014-3577", "org.apache.httpcomponents:httpclient", ("trivy", "grype"))
    ]
    assert merged.findings[0].aliases == ("GHSA-cfh5-3ghh-wfjx",)
    # In either order, the merged finding is at the inner jar, as Trivy names it: an allowlist
    # entry's `path` or `package` decides the same whichever report comes first.
    for order in ([trivy, grype], [grype, trivy]):
        (finding,) = merge_reports(order).findings
        assert (finding.package.name, finding.package.path) == (
            "org.apache.httpcomponents:httpclient",
            "TwilioNotifier.hpi/WEB-INF/lib/sdk-3.0.jar",
        )


def test_trivy_and_grype_findings_of_the_go_standard_library_merge() -> None:
    # Trivy writes a Go binary's standard library as `v1.20.4` (its gobinary parser's
    # parseStdlibVersion), Grype (Syft) as `go1.20.4`: one package at one path.
    entry = real_trivy_entry("gomod-vex.json.golden", "CVE-2021-38561", "golang.org/x/text")
    entry.update(
        VulnerabilityID="CVE-2023-29403",
        PkgName="stdlib",
        InstalledVersion="v1.20.4",
        FixedVersion="1.19.10, 1.20.5",
        PkgIdentifier={"PURL": "pkg:golang/stdlib@v1.20.4"},
    )
    trivy = trivy_report([entry], "lang-pkgs", "gobinary", "usr/local/bin/app")
    doc = corpus_json("grype", "ghsa-test.json")
    match = doc["matches"][1]
    match["vulnerability"].update(
        id="CVE-2023-29403", fix={"versions": ["1.19.10", "1.20.5"], "state": "fixed"}
    )
    match["artifact"].update(
        name="stdlib",
        version="go1.20.4",
        type="go-module",
        purl="pkg:golang/stdlib@1.20.4",
        locations=[{"path": "/usr/local/bin/app"}],
    )
    doc["matches"] = [match]
    grype = parse_grype(doc, "grype.json")
    assert [f.package.path for f in (*trivy.findings, *grype.findings)] == ["usr/local/bin/app"] * 2
    for order in ([trivy, grype], [grype, trivy]):
        assert [(f.vulnerability_id, f.scanners) for f in merge_reports(order).findings] == [
            ("CVE-2023-29403", tuple(report.scanners[0].name for report in order))
        ]


def test_one_java_library_in_two_archives_stays_two_findings() -> None:
    trivy = trivy_report([java_entry("other.hpi/WEB-INF/lib/sdk-3.0.jar")], "lang-pkgs", "jar", "Java")
    grype = parse_grype(corpus_json("grype", "ghsa-test.json"), "grype.json")
    merged = merge_reports([trivy, grype])
    assert [f.scanners for f in merged.findings] == [("trivy",), ("grype",)]


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


def test_the_manifest_digest_of_a_later_report_of_the_same_image_is_kept() -> None:
    # Trivy writes no manifest digest, Grype does: merged Trivy first, the image was Trivy's
    # alone, and a VEX statement naming the image by that digest applied only with Grype first.
    grype = load_report(corpus_file("grype", "chainguard-ruby-test.json"))
    trivy = load_report(corpus_file("trivy", "debian-buster.json.golden"))
    assert grype.image is not None
    assert trivy.image is not None
    assert grype.image.manifest_digest is not None
    assert trivy.image.manifest_digest is None
    image = replace(trivy.image, image_id=grype.image.image_id)
    same = replace(trivy, image=image)
    merged = merge_reports([same, grype]).image
    assert merged == replace(image, manifest_digest=grype.image.manifest_digest, digest=grype.image.digest)
    assert merge_reports([grype, same]).image == grype.image
    # Another config digest is another image, or another platform's: its manifest is not ours.
    assert merge_reports([trivy, grype]).image == trivy.image
    # So may be a report of the same repository digest (a multi-platform index's) without one.
    index = replace(trivy.image, image_id=None, digest=grype.image.digest)
    assert merge_reports([replace(trivy, image=index), grype]).image == index


def test_what_the_first_report_lacks_of_the_image_a_later_one_of_it_gives() -> None:
    # Each field one scanner leaves empty (repository digest, platform, distribution, build date,
    # size, layers) comes from a later report of the same config digest; a value the first report
    # has stays, whatever the later one says.
    grype = load_report(corpus_file("grype", "chainguard-ruby-test.json"))
    assert grype.image is not None
    bare = replace(
        grype.image,
        reference="app.tar",
        digest=None,
        manifest_digest=None,
        os=None,
        architecture=None,
        distro=None,
        size=None,
        layers=(),
        created=None,
    )
    first = replace(grype, image=bare)
    assert merge_reports([first, grype]).image == replace(grype.image, reference="app.tar")
    # Known in the first report: kept, not the later report's.
    own = replace(
        bare, os="windows", architecture="amd64", distro="alpine 3.19", created="2024-01-01T00:00:00Z"
    )
    merged = merge_reports([replace(grype, image=own), grype]).image
    assert merged is not None
    assert (merged.os, merged.architecture, merged.distro, merged.created) == (
        "windows",
        "amd64",
        "alpine 3.19",
        "2024-01-01T00:00:00Z",
    )
    assert (merged.digest, merged.size, merged.layers) == (
        grype.image.digest,
        grype.image.size,
        grype.image.layers,
    )
    # Another config digest is another image, or another platform's: nothing of it is taken.
    other = replace(bare, image_id="sha256:" + "0" * 64)
    assert merge_reports([replace(grype, image=other), grype]).image == other


def test_reports_of_another_image_are_told() -> None:
    buster = load_report(corpus_file("trivy", "debian-buster.json.golden"))
    alpine = load_report(corpus_file("trivy", "alpine-310.json.golden"))
    snyk = load_report(corpus_file("snyk", "snyk-cli__test-acceptance-fail-on-docker-fixable__vulns.json"))
    assert buster.image is not None
    assert alpine.image is not None
    assert another_image([buster, alpine]) == (
        f"{alpine.sources[0]} is a report of another image ({alpine.image.image_id}) than "
        f"{buster.sources[0]} ({buster.image.image_id}): they are judged as one image, "
        f"{buster.image.reference}; gate each image's reports on their own"
    )
    # One image twice, a report that names no digest, no image at all: nothing to tell.
    assert another_image([buster, buster]) is None
    assert another_image([buster, snyk]) is None
    assert another_image([replace(buster, image=None), alpine]) is None
    # Without the config digests, the repository digests tell.
    pulled = replace(buster, image=replace(buster.image, image_id=None, digest="sha256:" + "1" * 64))
    other = replace(alpine, image=replace(alpine.image, image_id=None, digest="sha256:" + "2" * 64))
    assert another_image([pulled, replace(pulled, sources=("again.json",))]) is None
    assert f"({'sha256:' + '2' * 64}) than" in (another_image([pulled, other]) or "")


def test_merging_needs_a_report() -> None:
    with pytest.raises(ValueError, match="at least one report"):
        merge_reports([])
    report = load_report(corpus_file("grype", "keycloak-test.json"))
    assert merge_reports([report]) is report


# --- the worst case, whatever the order ------------------------------------------------------------

RUNNING_EXAMPLE = "alpine-39-high-critical.json.golden"
"""Two fixable CRITICAL findings (musl and musl-utils, CVE-2019-14697, fixed in 1.1.20-r5)."""


def milder_example() -> Any:
    """The running example as a milder scanner run might have said it: LOW, won't fix, no fix,
    CVSS 2 (the real one says 9.8)."""
    doc = corpus_json("trivy", RUNNING_EXAMPLE)
    for vuln in doc["Results"][0]["Vulnerabilities"]:
        vuln.update(Severity="LOW", Status="will_not_fix")
        vuln["CVSS"] = {"nvd": {"V3Vector": "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "V3Score": 2.0}}
        del vuln["FixedVersion"]
    return doc


def test_merging_takes_the_worst_case_whatever_the_order() -> None:
    real = parse_trivy(corpus_json("trivy", RUNNING_EXAMPLE), "real.json")
    milder = parse_trivy(milder_example(), "milder.json")
    for order in ([milder, real], [real, milder]):
        merged = merge_reports(order)
        assert [(f.severity, f.status, f.fixed_versions) for f in merged.findings] == [
            (Severity.CRITICAL, VendorStatus.FIXED, ("1.1.20-r5",))
        ] * 2
        # The higher score too: a `fail_on.cvss_score` rule reads it.
        assert [f.cvss.score if f.cvss else None for f in merged.findings] == [9.8, 9.8]
        said = {(a.source, a.severity, a.status, a.fixed_versions) for a in merged.findings[0].assessments}
        assert said == {
            ("real.json", Severity.CRITICAL, VendorStatus.FIXED, ("1.1.20-r5",)),
            ("milder.json", Severity.LOW, VendorStatus.WILL_NOT_FIX, ()),
        }


def test_the_least_ignorable_status_stands_and_fixed_versions_are_the_union() -> None:
    keycloak = corpus_json("grype", "keycloak-test.json")  # nspr CVE-2020-12413: Low, wont-fix
    grype = parse_grype(keycloak, "grype.json")
    entry = real_trivy_entry("centos-7.json.golden", "CVE-2019-18276", "bash")
    entry.update(VulnerabilityID="CVE-2020-12413", PkgName="nspr", InstalledVersion="4.34.0-17.el9_1")
    entry.update(Severity="MEDIUM", Status="affected")
    trivy = trivy_report([entry], "os-pkgs", "redhat", "keycloak (redhat 9.1)")
    for order in ([grype, trivy], [trivy, grype]):
        nspr = next(f for f in merge_reports(order).findings if f.package.name == "nspr")
        assert (nspr.severity, nspr.status, nspr.fixed_versions) == (
            Severity.MEDIUM,
            VendorStatus.AFFECTED,
            (),
        )
    keycloak["matches"][0]["vulnerability"]["fix"] = {"versions": ["4.35.0-1.el9_2"], "state": "fixed"}
    entry["FixedVersion"], entry["Status"] = "4.34.0-18.el9_1", "fixed"
    fixed_by_both = merge_reports(
        [parse_grype(keycloak, "g"), trivy_report([entry], "os-pkgs", "redhat", "k")]
    )
    nspr = next(f for f in fixed_by_both.findings if f.package.name == "nspr")
    assert (nspr.status, nspr.fixed_versions) == (VendorStatus.FIXED, ("4.35.0-1.el9_2", "4.34.0-18.el9_1"))


def test_the_order_of_reports_never_decides_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real, milder = tmp_path / "real.json", tmp_path / "milder.json"
    real.write_text(json.dumps(corpus_json("trivy", RUNNING_EXAMPLE)))
    milder.write_text(json.dumps(milder_example()))
    for order in ([milder, real], [real, milder]):
        assert cli.main(["check", *map(str, order), "--ci", "none"]) == ExitCode.FAIL
        out, _ = capsys.readouterr()
        assert out.startswith("container-gate: FAIL: 2 blocking finding(s); 2 actions clear them.")


def test_explain_says_which_scanner_said_what(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real, milder = tmp_path / "real.json", tmp_path / "milder.json"
    real.write_text(json.dumps(corpus_json("trivy", RUNNING_EXAMPLE)))
    milder.write_text(json.dumps(milder_example()))
    code = cli.main(["explain", "CVE-2019-14697", "--report", str(milder), "--report", str(real)])
    out, _ = capsys.readouterr()
    assert code == ExitCode.PASS
    # The words, whatever lines explain wrapped the temporary directory's long names on.
    assert (
        "severity: CRITICAL (CVSS 9.8, nvd); vendor status fixed "
        "merged from: the worst case of what each report said: "
        f"- trivy ({milder}): LOW, status will_not_fix, no fixed version "
        f"- trivy ({real}): CRITICAL, status fixed, fixed in 1.1.20-r5 "
    ) in " ".join(out.split()) + " "


def test_a_merged_report_is_named_after_what_its_first_report_is() -> None:
    # A decision report read back first names the SARIF category after the file its run read, as
    # it does alone; a scanner's report first names it after itself, whatever comes later.
    read_back = ScanReport(findings=(), sources=("gate.json",), named_after=("app-scan.json",))
    other = ScanReport(findings=(), sources=("grype.json",))
    assert merge_reports([read_back, other]).named_after == ("app-scan.json", "grype.json")
    # The first names the SARIF category; the JUnit suite is named after every one, as each
    # report's own run was.
    assert merge_reports([other, read_back]).named_after == ("grype.json", "app-scan.json")
    assert merge_reports([other, other]).named_after == ()


def test_what_snyk_says_of_direct_dependencies_survives_a_merge_in_either_order() -> None:
    """A Trivy finding says nothing of the direct dependency that pulls a package in; Snyk's says
    which upgrade of it fixes the finding: the merged finding keeps it, first or later."""
    trivy = finding(
        "CVE-2014-7191", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=("1.0.0",)
    )
    snyk = replace(trivy, scanners=("snyk",), direct_upgrades=(DirectUpgrade("express", "2.5.11", "3.0.0"),))
    stuck = replace(trivy, scanners=("snyk",), no_direct_upgrade=True)
    for first, later in ((trivy, snyk), (snyk, trivy)):
        assert combine(first, later).direct_upgrades == snyk.direct_upgrades
    for first, later in ((trivy, stuck), (stuck, trivy)):
        assert combine(first, later).no_direct_upgrade
