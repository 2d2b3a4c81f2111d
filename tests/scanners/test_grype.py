"""Grype JSON reports: every real report of the corpus, field by field on chosen matches, and bad input."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ReportError
from gate.merge import merge_reports
from gate.model import Cvss, ScanReport, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Disposition
from gate.policy.model import AllowlistEntry, Policy
from gate.scanners.grype import parse_grype
from tests.support.corpus import corpus_files, corpus_json, only
from tests.support.factories import NOW

GRYPE_FILES = corpus_files("grype")

OS_TYPES = {"apk", "deb", "rpm"}

# Grype reports one vulnerability in one package twice when two matchers find it: as the GitHub
# advisory (GHSA, whose related record is the CVE) and as the CVE itself (NVD CPE match). The CVE is
# the primary id of both, so they are one finding: the file's two entries, the gate's one.
SAME_VULNERABILITY_TWICE = {
    "anchore-grype__ghsa-test.json": [("GHSA-cfh5-3ghh-wfjx", "CVE-2014-3577", "httpclient")],
    "anchore-grype__chainguard-ruby-test.json": [("GHSA-hv5j-3h9f-99c2", "CVE-2023-28755", "uri")],
}


def parse(suffix: str, doc: Any | None = None) -> ScanReport:
    return parse_grype(doc if doc is not None else corpus_json("grype", suffix), "grype.json")


def file_entries(doc: Any) -> set[tuple[str, str, str, str]]:
    """(vulnerability, package, version, path) of every match, by walking the file itself."""
    entries = set()
    for match in doc["matches"]:
        artifact = match["artifact"]
        path = "" if artifact["type"] in OS_TYPES else artifact["locations"][0]["path"].lstrip("/")
        entries.add((match["vulnerability"]["id"], artifact["name"], artifact["version"], path))
    return entries


@pytest.mark.parametrize("path", GRYPE_FILES, ids=[p.name for p in GRYPE_FILES])
def test_every_corpus_report_gives_one_finding_per_distinct_match(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    report = parse_grype(doc, path.name)

    entries = file_entries(doc)
    twice = SAME_VULNERABILITY_TWICE.get(path.name, [])
    assert len(report.findings) == len(entries) - len(twice)
    found = {(i, f.package.name, f.package.version, f.package.path) for f in report.findings for i in f.ids}
    assert entries <= found
    for ghsa, cve, package in twice:
        merged = only(report, cve, package)
        assert ghsa in merged.aliases
    assert all(f.scanners == ("grype",) for f in report.findings)
    assert report.scanners[0].name == "grype"


@pytest.mark.parametrize("cve_first", [False, True])
def test_an_advisory_naming_several_cves_and_a_match_of_one_of_them_are_one_finding(cve_first: bool) -> None:
    # The real report, its GitHub advisory edited to name a second CVE first (advisories that
    # fix several CVEs do): the advisory's primary id is then that CVE, and Grype's own match of
    # CVE-2014-3577 in the same package is still the same vulnerability, as when the two matches
    # come in two reports.
    doc = corpus_json("grype", "ghsa-test.json")
    advisory, cve = doc["matches"]
    advisory["relatedVulnerabilities"].insert(
        0, {**advisory["relatedVulnerabilities"][0], "id": "CVE-1999-0003"}
    )
    if cve_first:
        doc["matches"] = [cve, advisory]
    report = parse("", doc)
    assert [(f.vulnerability_id, f.aliases, f.fixed_versions) for f in report.findings] == [
        ("CVE-1999-0003", ("GHSA-cfh5-3ghh-wfjx", "CVE-2014-3577"), ("4.3.5",))
    ]
    assert report.findings[0].status is VendorStatus.FIXED
    apart = [parse("", {**doc, "matches": [match]}) for match in doc["matches"]]
    assert len(merge_reports(apart).findings) == 1


def test_os_package_match_keeps_status_source_package_cvss_and_layer() -> None:
    report = parse("keycloak-test.json")
    finding = only(report, "CVE-2020-12413", "nspr")

    assert finding.package.version == "4.34.0-17.el9_1"
    assert finding.package.type == "rpm"
    assert finding.package.path == ""  # the rpm database is not where the package lives
    assert finding.package.source_name == "nss"
    assert finding.package.source_version == "3.79.0-17.el9_1"
    assert finding.package.purl is not None
    assert finding.package.purl.startswith("pkg:rpm/rhel/nspr@4.34.0-17.el9_1")
    assert finding.aliases == ()  # the related record is the same CVE
    assert finding.status is VendorStatus.WILL_NOT_FIX
    assert finding.fixed_versions == ()
    assert finding.severity is Severity.LOW
    # The matched Red Hat record and the related NVD record both score 3.1: the matched one wins.
    assert finding.cvss == Cvss(5.9, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", "redhat")
    assert finding.primary_url == "https://access.redhat.com/security/cve/CVE-2020-12413"
    assert finding.description is not None
    assert finding.description.startswith("A flaw was found in Mozilla nss.")
    assert finding.layer is not None
    assert finding.layer.diff_id == "sha256:798d91f89858e63627a98d3a196c9ee4d0899259c0f64b68b1e0260a67c9cd2b"
    assert finding.layer.index == 1
    assert finding.layer.created_by == "COPY /tmp/null/rootfs/ / # buildkit"


def test_a_debian_package_is_in_the_layer_that_installed_it_not_the_last_that_changed_the_database() -> None:
    # Syft lists a package's primary evidence first (file.Locations), and for a Debian package that
    # is /var/lib/dpkg/status from the last layer that changed it, whatever package that layer
    # installed; its own files follow, from the layer that installed it. The real report's image
    # with a Debian package of its first layer, located as Grype 0.87 and later write it.
    doc = corpus_json("grype", "ghsa-test.json")
    first, _, last = (layer["digest"] for layer in doc["source"]["target"]["layers"])

    def at(path: str, layer: str, evidence: str) -> dict[str, Any]:
        return {"path": path, "layerID": layer, "accessPath": path, "annotations": {"evidence": evidence}}

    match = doc["matches"][1]
    match["artifact"].update(
        name="login",
        version="1:4.13+dfsg1-1",
        type="deb",
        purl="pkg:deb/debian/login@1:4.13%2Bdfsg1-1?arch=amd64&distro=debian-12",
        locations=[
            at("/var/lib/dpkg/status", last, "primary"),
            at("/usr/share/doc/login/copyright", first, "supporting"),
            at("/var/lib/dpkg/info/login.md5sums", first, "supporting"),
        ],
    )
    finding = only(parse_grype(doc, "grype.json"), "CVE-2014-3577", "login")
    assert finding.layer is not None
    assert (finding.layer.diff_id, finding.layer.index) == (first, 0)
    # A package whose only location is the database keeps that layer.
    match["artifact"]["locations"] = [at("/var/lib/dpkg/status", last, "primary")]
    finding = only(parse_grype(doc, "grype.json"), "CVE-2014-3577", "login")
    assert finding.layer is not None
    assert finding.layer.index == 2


def test_a_debian_package_is_not_put_in_the_layer_of_a_doc_directory_its_own_links_to() -> None:
    # Debian links the doc directory of a package to another package's of the same source
    # (dh_installdocs --link-doc: /usr/share/doc/libstdc++6 -> gcc-12-base). Syft follows the link
    # to read the copyright, and the location is that file's, in the layer that installed the
    # other package (the base image's), with the path asked for as `accessPath`. A package the
    # image's own layer installed stays in that layer.
    doc = corpus_json("grype", "ghsa-test.json")
    first, _, last = (layer["digest"] for layer in doc["source"]["target"]["layers"])
    match = doc["matches"][1]
    match["artifact"].update(
        name="libstdc++6",
        version="12.2.0-14",
        type="deb",
        purl="pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12",
        locations=[
            {"path": "/var/lib/dpkg/status", "layerID": last, "accessPath": "/var/lib/dpkg/status"},
            {
                "path": "/usr/share/doc/gcc-12-base/copyright",
                "layerID": first,
                "accessPath": "/usr/share/doc/libstdc++6/copyright",
            },
            {
                "path": "/var/lib/dpkg/info/libstdc++6:amd64.md5sums",
                "layerID": last,
                "accessPath": "/var/lib/dpkg/info/libstdc++6:amd64.md5sums",
            },
        ],
    )
    finding = only(parse_grype(doc, "grype.json"), "CVE-2014-3577", "libstdc++6")
    assert finding.layer is not None
    assert finding.layer.index == 2


def test_ghsa_and_cve_matches_of_one_package_are_one_finding_with_the_fix_of_either() -> None:
    report = parse("chainguard-ruby-test.json")
    uri = only(report, "CVE-2023-28755", "uri")

    assert uri.aliases == ("GHSA-hv5j-3h9f-99c2",)
    assert uri.package.path == "usr/lib/ruby/gems/3.0.0/specifications/default/uri-0.10.1.gemspec"
    assert uri.package.type == "gem"
    # The CVE match (first in the file) knows no fix; the GHSA match does.
    assert uri.fixed_versions == ("0.10.2",)
    assert uri.status is VendorStatus.FIXED
    assert uri.cvss == Cvss(7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "nvd")
    assert uri.primary_url == "https://nvd.nist.gov/vuln/detail/CVE-2023-28755"

    ruby = only(report, "CVE-2023-28755", "ruby-3.0")
    assert ruby.package.path == ""
    assert ruby.fixed_versions == ("3.0.6-r0",)


def test_a_ghsa_match_takes_the_related_cve_as_primary_and_its_cvss() -> None:
    finding = only(parse("ghsa-test.json"), "CVE-2014-3577", "httpclient")
    assert finding.aliases == ("GHSA-cfh5-3ghh-wfjx",)
    assert finding.package.path == "TwilioNotifier.hpi"
    assert finding.fixed_versions == ("4.3.5",)
    assert finding.severity is Severity.MEDIUM
    assert finding.cvss == Cvss(5.8, "AV:N/AC:M/Au:N/C:P/I:P/A:N", "nvd")  # "nvd@nist.gov" in the file
    assert finding.primary_url == "https://github.com/advisories/GHSA-cfh5-3ghh-wfjx"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("fixed", VendorStatus.FIXED),
        ("not-fixed", VendorStatus.AFFECTED),
        ("wont-fix", VendorStatus.WILL_NOT_FIX),
        ("unknown", VendorStatus.UNKNOWN),
        ("", VendorStatus.UNKNOWN),
    ],
)
def test_fix_state_maps_to_vendor_status(state: str, status: VendorStatus) -> None:
    doc = corpus_json("grype", "keycloak-test.json")
    doc["matches"][0]["vulnerability"]["fix"]["state"] = state
    assert only(parse("", doc), "CVE-2020-12413", "nspr").status is status


@pytest.mark.parametrize(
    ("state", "status"), [("not-fixed", VendorStatus.AFFECTED), ("wont-fix", VendorStatus.WILL_NOT_FIX)]
)
def test_versions_listed_beside_a_state_without_a_fix_are_no_fix(state: str, status: VendorStatus) -> None:
    # Grype's fix state says whether the package has a fix; versions listed beside "not-fixed"
    # must not become an upgrade the gate proposes.
    doc = corpus_json("grype", "keycloak-test.json")
    doc["matches"][0]["vulnerability"]["fix"] = {"versions": ["4.35.0"], "state": state}
    finding = only(parse("", doc), "CVE-2020-12413", "nspr")
    assert finding.status is status
    assert finding.fixed_versions == ()
    assert not finding.fixable


def test_negligible_severity_is_low() -> None:
    doc = corpus_json("grype", "TestJsonImgsPresenter.golden")
    doc["matches"][1]["vulnerability"]["severity"] = "Negligible"
    assert only(parse("", doc), "CVE-1999-0002", "package-2").severity is Severity.LOW


@pytest.mark.parametrize("scheme", ["docker:", "registry:", "podman:", "containerd:"])
def test_a_source_scheme_of_the_grype_command_is_not_part_of_the_image_reference(scheme: str) -> None:
    # `grype docker:REF` scans REF and writes `docker:REF` as its userInput: an `image` glob of the
    # policy names REF, and must allowlist the finding.
    doc = corpus_json("grype", "chainguard-ruby-test.json")
    doc["source"]["target"]["userInput"] = f"{scheme}cgr.dev/chainguard/ruby:latest-3.0"
    report = parse("", doc)
    assert report.image is not None
    assert report.image.reference == "cgr.dev/chainguard/ruby:latest-3.0"
    allow = AllowlistEntry(
        index=0, vulnerability="CVE-2023-28755", reason="not reachable", image="cgr.dev/chainguard/*"
    )
    evaluation = evaluate(report, Policy(source="policy.yaml", allowlist=(allow,)), NOW)
    dispositions = {d.finding.package.name: d.disposition for d in evaluation.decisions}
    assert dispositions["uri"] is Disposition.ALLOWLISTED


def test_an_archive_scheme_stays_in_the_image_reference_as_the_gate_writes_it() -> None:
    doc = corpus_json("grype", "chainguard-ruby-test.json")
    doc["source"]["target"]["userInput"] = "docker-archive:/tmp/ruby.tar"
    report = parse("", doc)
    assert report.image is not None
    assert report.image.reference == "docker-archive:/tmp/ruby.tar"


def test_image_info_comes_from_the_source_and_its_image_config() -> None:
    report = parse("keycloak-test.json")
    image = report.image
    assert image is not None
    assert image.reference.startswith("docker.io/keycloak/keycloak:21.0.2@sha256:347a0d74")
    assert image.image_id == "sha256:8cf8fd2be2ded92962d52adff75ad06a4c30f69c66facbdf223364c6c9e33b8c"
    assert image.distro == "redhat 9.1"
    assert image.platform == "linux/amd64"
    assert image.size == 433836339
    assert len(image.layers) == 4
    assert image.layers[3].created_by is not None
    assert image.layers[3].created_by.startswith('RUN /bin/sh -c echo "keycloak:x:0:root"')
    assert ("org.opencontainers.image.version", "21.0.2") in image.labels

    chainguard = parse("chainguard-ruby-test.json").image
    assert chainguard is not None
    assert chainguard.digest == "sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978"
    assert chainguard.platform == "linux/arm64"
    assert chainguard.distro == "wolfi 20221118"


def test_scanner_version_and_database_build_time() -> None:
    scanner = parse("keycloak-test.json").scanners[0]
    assert scanner.version == "0.66.0"
    assert scanner.db_updated_at == "2023-09-01T01:26:55Z"
    assert scanner.source == "grype.json"
    # Grype's own test builds print no version.
    assert parse("TestJsonImgsPresenter.golden").scanners[0].version is None


def test_database_build_time_of_schema_v6() -> None:
    doc = corpus_json("grype", "keycloak-test.json")
    doc["descriptor"]["db"] = {
        "status": {"schemaVersion": "v6.0.2", "built": "2025-01-29T01:31:43Z", "valid": True}
    }
    assert parse("", doc).scanners[0].db_updated_at == "2025-01-29T01:31:43Z"


def test_non_image_sources_have_no_image_info() -> None:
    assert parse("TestJsonDirsPresenter.golden").image is None
    empty = parse("TestEmptyJsonPresenter.golden")
    assert empty.image is None
    assert empty.findings == ()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("matches"), "grype.json: matches: missing (a Grype JSON report has it)"),
        # `{"matches": []}` written by anything but Grype would otherwise pass as a clean scan.
        (
            lambda d: d.pop("descriptor"),
            "grype.json: descriptor: missing or not an object (a Grype JSON report names the tool and its DB there)",
        ),
        (
            lambda d: d.update(descriptor=None),
            "grype.json: descriptor: missing or not an object (a Grype JSON report names the tool and its DB there)",
        ),
        (
            lambda d: d["matches"][1]["vulnerability"]["fix"].update(versions="1.2"),
            "grype.json: matches[1].vulnerability.fix.versions: expected an array, got a string",
        ),
        (
            lambda d: d["matches"][2]["artifact"].update(name=""),
            "grype.json: matches[2].artifact.name: expected a non-empty string, got an empty string",
        ),
        (
            lambda d: d["matches"][0]["relatedVulnerabilities"][0]["cvss"][0].update(version=3.1),
            "grype.json: matches[0].relatedVulnerabilities[0].cvss[0].version: expected a string, got a number",
        ),
        (
            lambda d: d["matches"][0]["artifact"]["locations"].append("/x"),
            "grype.json: matches[0].artifact.locations[1]: expected an object, got a string",
        ),
        (
            lambda d: d["source"]["target"].update(config="not base64!"),
            "grype.json: source.target.config: expected a base64-encoded image config (JSON)",
        ),
        (
            lambda d: d["source"]["target"].update(
                config=base64.b64encode(json.dumps({"history": [{"created_by": 1}]}).encode()).decode()
            ),
            "grype.json: source.target.config.history[0].created_by: expected a string, got a number",
        ),
    ],
)
def test_wrong_types_name_the_key_path(edit: Any, message: str) -> None:
    doc = corpus_json("grype", "keycloak-test.json")
    edit(doc)
    with pytest.raises(ReportError) as caught:
        parse_grype(doc, "grype.json")
    assert caught.value.diagnostics() == message


def test_matches_grype_itself_ignored_are_counted_and_warned_in_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real report with two of its matches moved to `ignoredMatches`, which is how Grype writes
    # the matches its own ignore rules (a .grype.yaml) suppressed.
    doc = corpus_json("grype", "keycloak-test.json")
    doc["ignoredMatches"] = [
        {**doc["matches"].pop(), "appliedIgnoreRules": [{"vulnerability": "CVE-2020-12413"}]}
        for _ in range(2)
    ]
    report, out, warnings = checked(doc, tmp_path, capsys)
    warning = (
        f"{report}: Grype's own configuration (a .grype.yaml ignore list) suppressed 2 match(es); they "
        "are not in this verdict: state exceptions in the gate's policy allowlist instead"
    )
    assert f"warning:  {warning}" in out.splitlines()
    assert warnings == [warning]


def test_matches_grypes_kernel_headers_default_suppressed_name_that_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without `match-upstream-kernel-headers: true`, Grype moves its matches of kernel headers
    # packages through the kernel into `ignoredMatches` with rules of its own (root.go
    # `ignoreLinuxKernelHeaders`), written as here: no .grype.yaml of the user's is involved.
    doc = corpus_json("grype", "keycloak-test.json")
    rule = {
        "namespace": "",
        "package": {"name": "kernel-headers", "language": "", "type": "rpm", "upstream-name": "kernel"},
        "match-type": "exact-indirect-match",
    }
    headers = doc["matches"].pop()
    headers["artifact"].update(name="kernel-headers", upstreams=[{"name": "kernel"}])
    own = doc["matches"].pop()
    doc["ignoredMatches"] = [
        {**headers, "appliedIgnoreRules": [rule]},
        {**own, "appliedIgnoreRules": [{"namespace": "", "vulnerability": "CVE-2020-12413"}]},
    ]
    report, _, warnings = checked(doc, tmp_path, capsys)
    assert warnings == [
        f"{report}: Grype's default `match-upstream-kernel-headers: false` suppressed 1 match(es) of "
        "kernel headers packages (kernel-headers), which it matched through the kernel they are built "
        "from; they are not in this verdict: run Grype with `match-upstream-kernel-headers: true` to "
        "have the policy judge them, as Trivy reports them",
        f"{report}: Grype's own configuration (a .grype.yaml ignore list) suppressed 1 match(es); they "
        "are not in this verdict: state exceptions in the gate's policy allowlist instead",
    ]
    # Set to true, rules of that shape are the user's own.
    doc["descriptor"]["configuration"]["match-upstream-kernel-headers"] = True
    report, _, warnings = checked(doc, tmp_path, capsys)
    assert [warning.partition(": ")[2] for warning in warnings] == [
        "Grype's own configuration (a .grype.yaml ignore list) suppressed 2 match(es); they are not in "
        "this verdict: state exceptions in the gate's policy allowlist instead"
    ]


@pytest.mark.parametrize("odd", [{"type": ["rpm"]}, {"upstream-name": {"name": "kernel"}}])
def test_matches_ignore_rule_of_another_shape_is_counted_as_the_users_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], odd: dict[str, Any]
) -> None:
    # A rule's package type or upstream of another shape than Grype writes (a list, an object) is
    # no default rule of Grype's: it is counted as the configuration's own, and the report read.
    package = {"name": "kernel-headers", "type": "rpm", "upstream-name": "kernel", **odd}
    rule = {"namespace": "", "package": package, "match-type": "exact-indirect-match"}
    report, warnings = suppressed([rule], tmp_path, capsys)
    assert warnings == [
        f"{report}: Grype's own configuration (a .grype.yaml ignore list) suppressed 1 match(es); they "
        "are not in this verdict: state exceptions in the gate's policy allowlist instead"
    ]


def test_matches_grypes_vex_documents_suppressed_say_to_give_them_to_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `grype --vex FILE`: a match a not_affected or fixed statement covers goes to `ignoredMatches`
    # with the rule grype/vex/openvex `matchingRule` makes of the statement, and the configuration
    # names the documents. No .grype.yaml ignore list is involved.
    rule = {
        "vulnerability": "CVE-2020-12413",
        "namespace": "vex",
        "vex-status": "not_affected",
        "vex-justification": "vulnerable_code_not_in_execute_path",
    }
    documents = {"vex-documents": ["vex/app.openvex.json"]}
    report, warnings = suppressed([rule], tmp_path, capsys, **documents)
    assert warnings == [
        f"{report}: Grype's VEX documents (vex/app.openvex.json) suppressed 1 match(es) they state not "
        "affected or fixed; they are not in this verdict: list the documents in the gate's policy "
        "(`vex`) instead, where each finding they cover is allowlisted with its statement"
    ]


def test_matches_that_only_fixed_suppressed_name_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype's only-fixed is a set of ignore rules on the fix state: the matches it suppressed are
    # in `ignoredMatches`, and the configuration it ran with says it was set.
    report, warnings = suppressed([{"fix-state": "wont-fix"}], tmp_path, capsys, **{"only-fixed": True})
    assert warnings == [
        f"{report}: Grype's own configuration (only-fixed: true) suppressed 1 match(es); they are not "
        "in this verdict: state exceptions in the gate's policy allowlist instead"
    ]


def test_matches_that_ignore_states_suppressed_name_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `grype --ignore-states wont-fix` adds an ignore rule per state, and the configuration it ran
    # with writes the option as `ignore-wontfix`.
    rule = {"namespace": "", "fix-state": "wont-fix"}
    report, warnings = suppressed([rule], tmp_path, capsys, **{"ignore-wontfix": "wont-fix"})
    assert warnings == [
        f"{report}: Grype's own configuration (--ignore-states wont-fix) suppressed 1 match(es); they "
        "are not in this verdict: state exceptions in the gate's policy allowlist instead"
    ]


def test_packages_grype_excluded_are_a_warning_in_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype's `exclude` drops the packages at those paths before matching: nothing in the report
    # counts them, and only the configuration it ran with says so.
    doc = corpus_json("grype", "keycloak-test.json")
    doc["descriptor"]["configuration"]["exclude"] = ["/usr/lib/**", "**/*.jar", "/opt/a", "/opt/b"]
    report, out, warnings = checked(doc, tmp_path, capsys)
    warning = (
        f"{report}: Grype ran with `exclude` in its configuration (/usr/lib/**, **/*.jar, /opt/a and 1 "
        "more): the packages at those paths were not scanned, and the report says nothing of their "
        "findings; run Grype without it, and state exceptions in the gate's policy allowlist instead"
    )
    assert f"warning:  {warning}" in out.splitlines()
    assert warnings == [warning]


def suppressed(
    rules: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], **configuration: Any
) -> tuple[Path, list[str]]:
    """`checked` of the keycloak report with one of its matches moved to `ignoredMatches` under
    `rules`, Grype having run with `configuration` (`only-fixed=True`): its file and warnings."""
    doc = corpus_json("grype", "keycloak-test.json")
    doc["descriptor"]["configuration"].update(configuration)
    doc["ignoredMatches"] = [{**doc["matches"].pop(), "appliedIgnoreRules": rules}]
    report, _, warnings = checked(doc, tmp_path, capsys)
    return report, warnings


def checked(
    doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str, list[str]]:
    """`check` of the Grype report `doc` passing: its file, the terminal and the JSON report's warnings."""
    report = tmp_path / "grype.json"
    report.write_text(json.dumps(doc))
    out_json = tmp_path / "gate.json"
    code = cli.main(["check", str(report), "--json", str(out_json), "--ci", "none"])
    out, _ = capsys.readouterr()
    assert code == 0
    return report, out, json.loads(out_json.read_text())["warnings"]


def eol_alerts(doc: dict[str, Any], count: int) -> None:
    """`alertsByPackage` as Grype 0.106 and later write it (grype/presenter/models/alert.go and
    document.go at the commit the corpus comes from): per package, its `distro-eol` alert."""
    doc["alertsByPackage"] = [
        {
            "package": {key: match["artifact"][key] for key in ("id", "name", "version", "type", "purl")},
            "alerts": [
                {
                    "type": "distro-eol",
                    "message": "Package is from end-of-life distro: redhat 9.1",
                    "metadata": {"name": "redhat", "version": "9.1"},
                }
            ],
        }
        for match in doc["matches"][:count]
    ]


def test_packages_of_an_end_of_life_distribution_are_warned_in_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype says it only on its terminal: in the report, the findings it may have missed are absent.
    doc = corpus_json("grype", "keycloak-test.json")
    eol_alerts(doc, 3)
    report, out, warnings = checked(doc, tmp_path, capsys)
    warning = (
        f"{report}: Grype says 3 package(s) come from an end-of-life distribution (redhat 9.1): its "
        "vulnerability data for them may be incomplete or outdated, so findings may be missing from "
        "this verdict; move the image to a supported release"
    )
    assert f"warning:  {warning}" in out.splitlines()
    assert warnings == [warning]


def test_alerts_of_another_kind_or_shape() -> None:
    doc = corpus_json("grype", "keycloak-test.json")
    eol_alerts(doc, 2)
    doc["alertsByPackage"][1]["alerts"] = [{"type": "distro-disabled", "message": "m"}]
    assert parse("", doc).warnings[1] == (
        "grype.json: Grype raised a 'distro-disabled' alert about 1 package(s); findings about them "
        "may be missing from this verdict"
    )
    doc["alertsByPackage"][0]["alerts"] = "distro-eol"
    with pytest.raises(
        ReportError, match=r"grype.json: alertsByPackage\[0\]\.alerts: expected an array, got a string"
    ):
        parse("", doc)


def test_ignored_matches_of_the_wrong_shape_are_refused() -> None:
    doc = corpus_json("grype", "keycloak-test.json")
    doc["ignoredMatches"] = ["CVE-2020-12413"]
    with pytest.raises(
        ReportError, match=r"grype.json: ignoredMatches\[0\]: expected an object, got a string"
    ):
        parse("", doc)


_KERNEL_RULE = {
    "namespace": "",
    "package": {"name": "kernel-headers", "language": "", "type": "rpm", "upstream-name": "kernel"},
    "match-type": "exact-indirect-match",
}


@pytest.mark.parametrize(
    "rules",
    [
        [{**_KERNEL_RULE, "match-type": "exact-direct-match"}],
        [{**_KERNEL_RULE, "vulnerability": "CVE-2020-12413"}],
        [_KERNEL_RULE, {"namespace": "", "vulnerability": "CVE-2020-12413"}],
        [],
    ],
    ids=["direct-match", "one-vulnerability", "beside-a-rule-of-the-users", "no-rule"],
)
def test_a_match_not_suppressed_by_grypes_kernel_headers_rules_alone_is_the_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rules: list[dict[str, Any]]
) -> None:
    # Grype's default rules match through the kernel (`exact-indirect-match`), for any
    # vulnerability; a rule of another kind, or another rule beside them, is the configuration's.
    doc = corpus_json("grype", "keycloak-test.json")
    headers = doc["matches"].pop()
    headers["artifact"].update(name="kernel-headers", upstreams=[{"name": "kernel"}])
    doc["ignoredMatches"] = [{**headers, "appliedIgnoreRules": rules}]
    report, _, warnings = checked(doc, tmp_path, capsys)
    assert warnings == [
        f"{report}: Grype's own configuration (a .grype.yaml ignore list) suppressed 1 match(es); they "
        "are not in this verdict: state exceptions in the gate's policy allowlist instead"
    ]


def test_matches_of_debian_kernel_headers_name_grypes_default_and_at_most_three_packages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Grype's rule for Debian's headers packages names their upstream as the pattern `linux.*`.
    doc = corpus_json("grype", "keycloak-test.json")
    rule = {
        "namespace": "",
        "package": {"name": "linux(-.*)?-headers-.*", "type": "deb", "upstream-name": "linux.*"},
        "match-type": "exact-indirect-match",
    }
    template = doc["matches"].pop()
    names = ["linux-headers-6.1.0-1", "linux-headers-6.1.0-2", "linux-headers-6.1.0-3", "linux-libc-dev"]
    doc["ignoredMatches"] = []
    for name in names:
        match = json.loads(json.dumps(template))
        match["artifact"].update(name=name, upstreams=[{"name": "linux"}])
        doc["ignoredMatches"].append({**match, "appliedIgnoreRules": [rule]})
    report, _, warnings = checked(doc, tmp_path, capsys)
    assert warnings == [
        f"{report}: Grype's default `match-upstream-kernel-headers: false` suppressed 4 match(es) of "
        "kernel headers packages (linux-headers-6.1.0-1, linux-headers-6.1.0-2, linux-headers-6.1.0-3 "
        "and more), which it matched through the kernel they are built from; they are not in this "
        "verdict: run Grype with `match-upstream-kernel-headers: true` to have the policy judge them, "
        "as Trivy reports them"
    ]


@pytest.mark.parametrize(
    "rule",
    [
        {"vulnerability": "CVE-2020-12413", "namespace": "vex"},
        {"vulnerability": "CVE-2020-12413", "vex-status": "fixed"},
    ],
    ids=["namespace", "status"],
)
def test_a_match_suppressed_by_a_vex_rule_is_told_by_its_namespace_or_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: dict[str, Any]
) -> None:
    _, warnings = suppressed([rule], tmp_path, capsys)
    assert [warning.partition(": ")[2].partition(" suppressed")[0] for warning in warnings] == [
        "Grype's VEX documents"
    ]


def test_a_package_found_only_through_links_is_in_the_layer_of_those_files() -> None:
    # With nothing else to go by, the files reached through a link still say a layer.
    doc = corpus_json("grype", "ghsa-test.json")
    first = doc["source"]["target"]["layers"][0]["digest"]
    match = doc["matches"][1]
    match["artifact"].update(
        name="libstdc++6",
        version="12.2.0-14",
        type="deb",
        purl="pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12",
        locations=[
            {
                "path": "/usr/share/doc/gcc-12-base/copyright",
                "layerID": first,
                "accessPath": "/usr/share/doc/libstdc++6/copyright",
            },
        ],
    )
    finding = only(parse_grype(doc, "grype.json"), "CVE-2014-3577", "libstdc++6")
    assert finding.layer is not None
    assert finding.layer.index == 0
