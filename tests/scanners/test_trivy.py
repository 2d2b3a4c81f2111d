"""Trivy JSON reports: every real report of the corpus, field by field on chosen entries, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ReportError
from gate.model import Cvss, ScanReport, Severity, VendorStatus
from gate.scanners.ingest import load_report
from gate.scanners.trivy import LIST_ALL_PKGS, parse_trivy
from tests.support.corpus import corpus_file, corpus_files, corpus_json, only

TRIVY_FILES = corpus_files("trivy")


def parse(suffix: str, doc: Any | None = None) -> ScanReport:
    return parse_trivy(doc if doc is not None else corpus_json("trivy", suffix), "report.json")


def file_entries(doc: Any) -> set[tuple[str, str, str, str]]:
    """(vulnerability, package, version, path) of every entry, by walking the file itself."""
    entries = set()
    for result in doc.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            path = "" if result["Class"] == "os-pkgs" else vuln.get("PkgPath") or result["Target"]
            entries.add(
                (vuln["VulnerabilityID"], vuln["PkgName"], vuln["InstalledVersion"], path.lstrip("/"))
            )
    return entries


@pytest.mark.parametrize("path", TRIVY_FILES, ids=[p.name for p in TRIVY_FILES])
def test_every_corpus_report_gives_one_finding_per_distinct_entry(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    report = parse_trivy(doc, path.name)

    entries = file_entries(doc)
    assert len(report.findings) == len(entries)
    # Each entry is there under its own id (primary or alias), package, version and path.
    found = {(i, f.package.name, f.package.version, f.package.path) for f in report.findings for i in f.ids}
    assert entries <= found
    assert all(f.scanners == ("trivy",) for f in report.findings)
    assert report.sources == (path.name,)
    assert report.scanners[0].name == "trivy"
    assert report.scanners[0].version == doc["Trivy"]["Version"]


def test_os_package_entry_keeps_fix_purl_and_layer_with_its_instruction() -> None:
    report = parse("alpine-310.json.golden")
    finding = only(report, "CVE-2019-1549", "libcrypto1.1")

    assert finding.package.version == "1.1.1c-r0"
    assert finding.package.type == "alpine"
    assert finding.package.path == ""
    assert finding.package.purl == "pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2"
    assert finding.fixed_versions == ("1.1.1d-r0",)
    assert finding.status is VendorStatus.FIXED
    assert finding.primary_url == "https://avd.aquasec.com/nvd/cve-2019-1549"
    assert finding.layer is not None
    assert finding.layer.diff_id == "sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0"
    assert finding.layer.digest == "sha256:9d48c3bd43c520dc2784e868a780e976b207cbf493eaff8c6596eb871cbd9609"
    assert finding.layer.index == 0
    assert finding.layer.created_by is not None
    assert finding.layer.created_by.startswith("/bin/sh -c #(nop) ADD file:fe64057fbb83dccb")


def test_vendor_ids_become_aliases_and_the_severity_source_cvss_wins() -> None:
    report = parse("centos-7.json.golden")
    finding = only(report, "CVE-2018-0734", "openssl-libs")

    assert finding.aliases == ("RHSA-2019:2304",)
    assert finding.package.version == "1:1.0.2k-16.el7"
    assert finding.fixed_versions == ("1:1.0.2k-19.el7",)
    # nvd and redhat both have a CVSS v3 score (5.9 and 5.1); SeveritySource is redhat.
    assert finding.cvss == Cvss(5.1, "CVSS:3.0/AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", "redhat")
    assert finding.severity is Severity.LOW  # redhat says low, nvd medium: the report says LOW


def test_source_package_name_is_kept() -> None:
    # The corpus' Trivy reports predate `SrcName`; current Trivy writes it for OS packages.
    doc = corpus_json("trivy", "centos-7.json.golden")
    for vuln in doc["Results"][0]["Vulnerabilities"]:
        vuln["SrcName"] = "openssl" if vuln["PkgName"] == "openssl-libs" else vuln["PkgName"]
    assert only(parse("", doc), "CVE-2018-0734", "openssl-libs").package.source_name == "openssl"


def with_packages(doc: Any, *packages: dict[str, Any]) -> Any:
    """The report with a `Packages` list in its OS result, as `--list-all-pkgs` writes it."""
    doc["Results"][0]["Packages"] = list(packages)
    return doc


def test_source_packages_are_joined_by_package_id() -> None:
    # As Trivy lists a Debian package (`trivy image --list-all-pkgs`): the source's version in
    # parts, put together as Trivy compares it (epoch:version-release).
    doc = with_packages(
        corpus_json("trivy", "debian-buster.json.golden"),
        {"ID": "bash@5.0-4", "Name": "bash", "Version": "5.0", "Release": "4",
         "SrcName": "bash", "SrcVersion": "5.0", "SrcRelease": "4"},
        {"ID": "libidn2-0@2.0.5-1", "Name": "libidn2-0", "Version": "2.0.5", "Release": "1",
         "SrcName": "libidn2", "SrcVersion": "2.0.5", "SrcRelease": "1", "SrcEpoch": 1,
         "Licenses": ["GPL-3.0"], "Layer": {"DiffID": "sha256:00"}},
        {"Name": "not-vulnerable", "Version": "1.0"},
    )  # fmt: skip
    report = parse("", doc)
    idn = only(report, "CVE-2019-18224", "libidn2-0")
    assert (idn.package.source_name, idn.package.source_version) == ("libidn2", "1:2.0.5-1")
    bash = only(report, "CVE-2019-18276", "bash")
    assert (bash.package.source_name, bash.package.source_version) == ("bash", "5.0-4")


def test_a_package_list_without_the_finding_leaves_its_source_unknown() -> None:
    doc = with_packages(
        corpus_json("trivy", "debian-buster.json.golden"), {"ID": "zlib1g@1", "SrcName": "zlib"}
    )
    finding = only(parse("", doc), "CVE-2019-18224", "libidn2-0")
    assert (finding.package.source_name, finding.package.source_version) == (None, None)


def test_language_results_are_not_given_a_source_package() -> None:
    doc = corpus_json("trivy", "npm.json.golden")
    assert doc["Results"][0]["Packages"]  # the corpus report lists its packages
    assert all(f.package.source_name is None for f in parse("", doc).findings)


def test_nvd_cvss_is_chosen_when_the_severity_source_scored_nothing() -> None:
    # SeveritySource amazon has no CVSS; nvd (9.8) comes before redhat (5.7), and v3 before nvd's v2.
    finding = only(parse("amazon-2.json.golden"), "CVE-2019-5481", "curl")
    assert finding.cvss == Cvss(9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "nvd")


def test_ghsa_cvss_is_chosen_when_ghsa_is_the_severity_source() -> None:
    finding = only(
        parse("spring4shell-jre11.json.golden"), "CVE-2022-22965", "org.springframework:spring-beans"
    )
    assert finding.cvss is not None
    assert finding.cvss.source == "ghsa"
    assert finding.cvss.score == 9.8


def test_cvss_prefers_the_newest_version_over_the_preferred_source() -> None:
    doc = corpus_json("trivy", "amazon-2.json.golden")
    vuln = doc["Results"][0]["Vulnerabilities"][0]
    vuln["CVSS"]["redhat"]["V40Score"] = 6.3
    vuln["CVSS"]["redhat"]["V40Vector"] = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"
    finding = only(parse("", doc), vuln["VulnerabilityID"], vuln["PkgName"])
    assert finding.cvss == Cvss(6.3, vuln["CVSS"]["redhat"]["V40Vector"], "redhat")


def test_language_package_path_is_pkgpath_or_else_the_lockfile() -> None:
    jar = only(parse("spring4shell-jre8.json.golden"), "CVE-2022-22965", "org.springframework:spring-beans")
    assert jar.package.path == "usr/local/tomcat/webapps/helloworld.war/WEB-INF/lib/spring-beans-5.3.15.jar"
    assert jar.package.type == "jar"

    report = parse("gomod-vex.json.golden")
    paths = sorted(f.package.path for f in report.findings if f.vulnerability_id == "GMS-2022-20")
    # One advisory in one module version, found through three go.mod files: three findings.
    assert paths == ["go.mod", "submod/go.mod", "submod2/go.mod"]


def test_fixed_versions_are_split_and_version_ranges_stay_whole() -> None:
    gem = only(parse("fluentd-gems.json.golden"), "CVE-2020-8165", "activesupport")
    assert gem.fixed_versions == ("6.0.3.1", "5.2.4.3")

    crate = only(parse("busybox-with-lockfile.json.golden"), "CVE-2021-38193", "ammonia")
    assert crate.fixed_versions == (">= 3.1.0", ">= 2.1.3, < 3.0.0")
    assert crate.package.path == "Cargo.lock"
    assert crate.cvss == Cvss(6.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "nvd")
    assert crate.layer is not None
    assert crate.layer.index == 1


@pytest.mark.parametrize(
    ("suffix", "vuln_id", "package", "status"),
    [
        ("centos-7.json.golden", "CVE-2019-18276", "bash", VendorStatus.WILL_NOT_FIX),
        ("debian-stretch.json.golden", "CVE-2019-18276", "bash", VendorStatus.END_OF_LIFE),
        ("debian-buster.json.golden", "CVE-2019-18276", "bash", VendorStatus.AFFECTED),
        ("debian-buster.json.golden", "CVE-2019-18224", "libidn2-0", VendorStatus.FIXED),
    ],
)
def test_status_is_read_as_given(suffix: str, vuln_id: str, package: str, status: VendorStatus) -> None:
    finding = only(parse(suffix), vuln_id, package)
    assert finding.status is status
    assert finding.fixable is (status is VendorStatus.FIXED)


@pytest.mark.parametrize(
    ("fixed_version", "status"), [("2.0.5-1+deb10u1", VendorStatus.FIXED), (None, VendorStatus.AFFECTED)]
)
def test_absent_status_follows_the_fixed_version(fixed_version: str | None, status: VendorStatus) -> None:
    doc = corpus_json("trivy", "debian-buster.json.golden")
    vuln = next(v for v in doc["Results"][0]["Vulnerabilities"] if v["PkgName"] == "libidn2-0")
    del vuln["Status"]
    vuln.pop("FixedVersion")
    if fixed_version:
        vuln["FixedVersion"] = fixed_version
    assert only(parse("", doc), "CVE-2019-18224", "libidn2-0").status is status


def test_image_info_comes_from_metadata() -> None:
    image = parse("aquasecurity-trivy-action__test-data-with-trivy-yaml-cfg__report.json").image
    assert image is not None
    assert image.reference == "alpine:3.10"
    assert image.digest == "sha256:451eee8bedcb2f029756dc3e9d73bab0e7943c1ac55cff3a4861c52a0fdd3e98"
    assert image.image_id == "sha256:e7b300aee9f9bf3433d32bc9305bfdd22183beb59d933b48d77ab56ba53a197a"
    assert image.distro == "alpine 3.10.9"
    assert image.platform == "linux/amd64"
    assert image.size == 5842432
    assert [layer.diff_id for layer in image.layers] == [
        "sha256:9fb3aa2f8b8023a4bebbf92aa567caf88e38e969ada9f0ac12643b2847391635"
    ]


def test_image_labels_and_layer_instructions_skip_empty_history_entries() -> None:
    ubi = parse("ubi-7.json.golden").image
    assert ubi is not None
    assert ("name", "ubi7") in ubi.labels
    assert list(ubi.labels) == sorted(ubi.labels)

    busybox = parse("busybox-with-lockfile.json.golden").image
    assert busybox is not None
    # Three history entries, one of them empty_layer (CMD): two layers.
    assert [layer.created_by for layer in busybox.layers] == [
        "/bin/sh -c #(nop) ADD file:39f6523fbc03f554a59461a34850d68c31cd5822e5a6fddf2d0ea198ed9a11c4 in / ",
        "/bin/sh -c #(nop) COPY file:343df0159abcc51b06b4e56bfd4c06d2003b88947ed93b0cec6214ae5985669e in . ",
    ]
    assert busybox.distro is None


def test_the_package_count_is_the_listed_packages_and_unknown_without_a_list() -> None:
    # Written with --list-all-pkgs: every result lists its packages, vulnerable or not.
    listed = parse("pip.json.golden")
    assert listed.package_count == 7
    assert len({f.package.name for f in listed.findings}) < 7
    # Written without it: the report does not say how many packages the image has.
    assert parse("alpine-310.json.golden").package_count is None


def package_list_warnings(report: ScanReport) -> list[str]:
    return [warning for warning in report.warnings if "without its package list" in warning]


def test_a_report_without_its_package_list_says_once_that_os_packages_are_not_grouped() -> None:
    # Trivy's own golden, written without --list-all-pkgs: e2fsprogs, e2fslibs, libcomerr2 and
    # libss2 are all built from e2fsprogs, which nothing in the report says.
    doc = corpus_json("trivy", "debian-stretch.json.golden")
    assert "Packages" not in doc["Results"][0]
    assert package_list_warnings(parse("", doc)) == [
        "report.json: without its package list, the report's 5 vulnerable OS packages cannot be "
        "grouped by the source package they are built from (as libc6 and libc-bin are from glibc), "
        f"so each is an upgrade of its own: {LIST_ALL_PKGS}"
    ]
    # Two OS results are one warning, counting their packages once.
    doc["Results"].append(doc["Results"][0])
    (twice,) = package_list_warnings(parse("", doc))
    assert "the report's 5 vulnerable OS packages" in twice
    # The typed reader of a file says the same as the strict one.
    (read,) = package_list_warnings(load_report(corpus_file("trivy", "debian-stretch.json.golden")))
    assert read.endswith(f"5 vulnerable OS packages {twice.split('5 vulnerable OS packages ', 1)[1]}")


def test_a_report_with_its_package_list_says_nothing_of_it() -> None:
    doc = with_packages(
        corpus_json("trivy", "debian-buster.json.golden"), {"ID": "bash@5.0-4", "SrcName": "bash"}
    )
    assert package_list_warnings(parse("", doc)) == []
    assert package_list_warnings(parse("pip.json.golden")) == []  # language packages, listed


def test_one_vulnerable_os_package_or_none_needs_no_package_list() -> None:
    # One package is its own upgrade whatever its source; language packages have no source.
    doc = corpus_json("trivy", "debian-buster.json.golden")
    assert package_list_warnings(parse("", doc))  # bash and libidn2-0
    result = doc["Results"][0]
    result["Vulnerabilities"] = [v for v in result["Vulnerabilities"] if v["PkgName"] == "bash"]
    assert package_list_warnings(parse("", doc)) == []
    # Trivy's gomod golden: two vulnerable Go modules, no package list.
    languages = corpus_json("trivy", "gomod-vex.json.golden")
    assert all("Packages" not in lang for lang in languages["Results"])
    assert len({f.package.name for f in parse("", languages).findings}) >= 2
    assert package_list_warnings(parse("", languages)) == []


def test_the_image_creation_time_is_read_as_written() -> None:
    image = parse("alpine-310.json.golden").image
    assert image is not None
    assert image.created == "2019-08-20T20:19:55.211423266Z"


def test_reports_of_no_image_have_no_image_info() -> None:
    assert parse("npm.json.golden").image is None  # a repository scan
    assert parse("amazonlinux2-gp2-x86-vm.json.golden").image is None
    skipped = parse("alpine-39-skip.json.golden")
    assert skipped.findings == ()
    assert skipped.image is not None
    assert skipped.image.distro is None  # Trivy's OS family "none"


def test_ids_without_cve_stay_primary() -> None:
    report = parse("opensuse-leap-151.json.golden")
    assert {f.vulnerability_id for f in report.findings} == {"openSUSE-SU-2020:0062-1"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d.update(SchemaVersion=1),
            "report.json: SchemaVersion: Trivy report schema version 1 is not supported "
            "(supported: 2, as written by Trivy 0.20 and later)",
        ),
        (
            lambda d: d.update(SchemaVersion="2"),
            "report.json: SchemaVersion: expected an integer, got a string",
        ),
        (
            lambda d: d["Results"][1]["Vulnerabilities"][0].update(PkgName=None),
            "report.json: Results[1].Vulnerabilities[0].PkgName: expected a non-empty string, got null",
        ),
        (
            lambda d: d["Results"][0]["Vulnerabilities"][0]["CVSS"]["nvd"].update(V3Score="9.8"),
            "report.json: Results[0].Vulnerabilities[0].CVSS.nvd.V3Score: expected a number, got a string",
        ),
        (
            lambda d: d["Results"][0]["Vulnerabilities"][0].update(VendorIDs=[7]),
            "report.json: Results[0].Vulnerabilities[0].VendorIDs[0]: expected a string, got a number",
        ),
        (
            lambda d: d["Results"][0].update(Vulnerabilities={}),
            "report.json: Results[0].Vulnerabilities: expected an array, got an object",
        ),
        (
            lambda d: with_packages(
                d, {"ID": "openssl-libs@1:1.0.2k-16.el7", "SrcName": "openssl", "SrcEpoch": "1"}
            ),
            "report.json: Results[0].Packages[0].SrcEpoch: expected an integer, got a string",
        ),
        (
            lambda d: d["Metadata"]["ImageConfig"]["config"]["Labels"].update({"io.k8s.description": True}),
            'report.json: Metadata.ImageConfig.config.Labels["io.k8s.description"]: expected a string, '
            "got a boolean",
        ),
    ],
)
def test_wrong_types_name_the_key_path(edit: Any, message: str) -> None:
    doc = corpus_json("trivy", "ubi-7-comprehensive.json.golden")
    edit(doc)
    with pytest.raises(ReportError) as caught:
        parse_trivy(doc, "report.json")
    assert caught.value.diagnostics() == message


# Members whose checks `_read_result` and `_cvss_scores` make inline for the values they pass as
# they are: every other value must still reach the general check and its error.
INLINED_STRINGS = (
    "PkgPath",
    "SrcName",
    "FixedVersion",
    "Status",
    "SeveritySource",
    "Title",
    "Description",
    "PrimaryURL",
)


def first_vuln(doc: Any) -> Any:
    return doc["Results"][0]["Vulnerabilities"][0]


@pytest.mark.parametrize("member", INLINED_STRINGS)
@pytest.mark.parametrize(
    ("value", "kind"),
    [(7, "a number"), (7.5, "a number"), (True, "a boolean"), ([], "an array"), ({}, "an object")],
)
def test_inlined_string_members_refuse_other_types(member: str, value: object, kind: str) -> None:
    doc = corpus_json("trivy", "ubi-7-comprehensive.json.golden")
    first_vuln(doc)[member] = value
    with pytest.raises(ReportError) as caught:
        parse_trivy(doc, "report.json")
    assert caught.value.diagnostics() == (
        f"report.json: Results[0].Vulnerabilities[0].{member}: expected a string, got {kind}"
    )


@pytest.mark.parametrize("member", INLINED_STRINGS)
@pytest.mark.parametrize("value", ["", None])
def test_inlined_string_members_read_empty_and_null_as_absent(member: str, value: object) -> None:
    given = corpus_json("trivy", "ubi-7-comprehensive.json.golden")
    first_vuln(given)[member] = value
    absent = corpus_json("trivy", "ubi-7-comprehensive.json.golden")
    first_vuln(absent).pop(member, None)
    assert parse_trivy(given, "report.json") == parse_trivy(absent, "report.json")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (7, "CVSS.nvd: expected an object, got a number"),
        ({"V3Score": 10.5}, "CVSS.nvd.V3Score: expected a CVSS score from 0.0 to 10.0, got 10.5"),
        ({"V3Score": -1}, "CVSS.nvd.V3Score: expected a CVSS score from 0.0 to 10.0, got -1"),
        ({"V3Score": float("nan")}, "CVSS.nvd.V3Score: expected a CVSS score from 0.0 to 10.0, got NaN"),
        ({"V3Score": True}, "CVSS.nvd.V3Score: expected a number, got a boolean"),
        ({"V2Score": 5.0, "V2Vector": 5}, "CVSS.nvd.V2Vector: expected a string, got a number"),
        ({"V40Score": 5.0, "V40Vector": []}, "CVSS.nvd.V40Vector: expected a string, got an array"),
    ],
)
def test_cvss_values_outside_the_inline_checks_name_the_key_path(scores: object, message: str) -> None:
    doc = corpus_json("trivy", "ubi-7-comprehensive.json.golden")
    first_vuln(doc)["CVSS"] = {"nvd": scores}
    with pytest.raises(ReportError) as caught:
        parse_trivy(doc, "report.json")
    assert caught.value.diagnostics() == f"report.json: Results[0].Vulnerabilities[0].{message}"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"V3Score": 7, "V3Vector": ""}, Cvss(score=7.0, vector=None, source="nvd")),
        ({"V3Score": 0, "V3Vector": None}, Cvss(score=0.0, vector=None, source="nvd")),
        ({"V2Score": 10, "V2Vector": "AV:N"}, Cvss(score=10.0, vector="AV:N", source="nvd")),
        ({"V2Score": 4.3, "V3Score": None, "V40Score": 9.1}, Cvss(score=9.1, vector=None, source="nvd")),
    ],
)
def test_cvss_integer_scores_and_empty_vectors_read_as_before(scores: object, expected: Cvss) -> None:
    doc = corpus_json("trivy", "ubi-7-comprehensive.json.golden")
    vuln = first_vuln(doc)
    vuln["CVSS"] = {"nvd": scores}
    finding = only(parse_trivy(doc, "report.json"), vuln["VulnerabilityID"], vuln["PkgName"])
    assert finding.cvss == expected
    assert type(finding.cvss.score) is float
