"""Snyk container reports: every real report of the corpus, field by field on chosen entries, bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ReportError
from gate.model import Cvss, DirectUpgrade, ScanReport, Severity, VendorStatus
from gate.scanners.snyk import parse_snyk
from tests.support.corpus import corpus_files, corpus_json, only, snyk_app_without_connect_paths

SNYK_FILES = corpus_files("snyk")


def parse(suffix: str, doc: Any | None = None) -> ScanReport:
    return parse_snyk(doc if doc is not None else corpus_json("snyk", suffix), "snyk.json")


def projects(doc: Any) -> list[Any]:
    return doc if isinstance(doc, list) else [doc, *doc.get("applications", [])]


def file_entries(doc: Any) -> set[tuple[str, str, str, int]]:
    """(vulnerability, package, version, project) of every entry, by walking the file itself.

    Snyk repeats an entry once per dependency path; `--group-issues` output lists several names.
    """
    entries: set[tuple[str, str, str, int]] = set()
    for index, project in enumerate(projects(doc)):
        for vuln in project["vulnerabilities"]:
            names = vuln["name"] if isinstance(vuln["name"], list) else [vuln["name"]]
            entries.update((vuln["id"], name, vuln["version"], index) for name in names)
    return entries


@pytest.mark.parametrize("path", SNYK_FILES, ids=[p.name for p in SNYK_FILES])
def test_every_corpus_report_gives_one_finding_per_distinct_entry(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    report = parse_snyk(doc, path.name)

    assert len(report.findings) == len(file_entries(doc))
    snyk_ids = {vuln["id"] for project in projects(doc) for vuln in project["vulnerabilities"]}
    assert snyk_ids == {i for f in report.findings for i in f.ids if i in snyk_ids}
    assert all(f.scanners == ("snyk",) for f in report.findings)
    assert report.scanners[0].name == "snyk"


def test_one_finding_per_package_however_many_dependency_paths() -> None:
    doc = corpus_json("snyk", "fail-on-docker-no-fixable__vulns.json")
    report = parse("", doc)
    assert len(doc["vulnerabilities"]) == 135
    assert len(report.findings) == 80


def test_os_entry_is_the_binary_package_with_its_source_and_cve_primary() -> None:
    finding = only(parse("fail-on-docker-no-fixable__vulns.json"), "CVE-2019-1010022", "libc6")

    assert finding.package.source_name == "glibc"
    assert finding.package.version == "2.28-10"
    assert finding.package.path == ""
    assert finding.aliases[0] == "SNYK-LINUX-GLIBC-452129"
    assert "SNYK-DEBIAN10-GLIBC-453375" not in finding.aliases  # another vulnerability's id
    assert "SNYK-DEBIAN10-GLIBC-452228" in finding.aliases  # ALTERNATIVE ids of this one
    assert "CWE-119" not in finding.aliases
    assert finding.severity is Severity.HIGH
    assert finding.cvss == Cvss(9.8, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "snyk")
    assert finding.fixed_versions == ()
    assert finding.status is VendorStatus.AFFECTED
    assert finding.primary_url == "https://security.snyk.io/vuln/SNYK-LINUX-GLIBC-452129"


def test_nearest_fixed_version_makes_an_os_entry_fixed() -> None:
    finding = only(parse("fail-on-docker-fixable__vulns.json"), "CVE-2019-14697", "musl")
    assert finding.fixed_versions == ("1.1.19-r11",)
    assert finding.status is VendorStatus.FIXED
    assert finding.title is not None


def test_application_entries_carry_their_target_file_and_all_their_ids() -> None:
    report = parse("container-app-vulns__results.json")

    qs = only(report, "CVE-2014-7191", "qs")
    assert qs.aliases == (
        "npm:qs:20140806",
        "SNYK-JS-QS-10019",
        "GHSA-jjv7-qpx3-h62q",
        "GHSA-gqgv-6jq5-jjj9",
        "NSP-29",
    )
    assert qs.package.path == "package.json"
    assert qs.package.type == "npm"
    assert qs.package.source_name is None
    assert qs.fixed_versions == ("1.0.0",)
    assert qs.severity is Severity.HIGH

    # Without a CVE, Snyk's own id stays primary.
    connect = only(report, "npm:connect:20120107", "connect")
    assert connect.aliases == ("SNYK-JS-CONNECT-10382",)
    assert connect.fixed_versions == ("2.0.0",)

    # Two advisories sharing a GHSA alias (GHSA-gqgv-6jq5-jjj9) stay two findings.
    assert {f.vulnerability_id for f in report.findings if f.package.name == "qs"} == {
        "CVE-2014-7191",
        "CVE-2014-10064",
        "CVE-2017-1000048",
    }


def test_grouped_and_ungrouped_output_give_the_same_findings() -> None:
    grouped = parse("resultJsonDataGrouped.json")
    ungrouped = parse("resultJsonDataNonGrouped.json")
    assert {f.key for f in grouped.findings} == {f.key for f in ungrouped.findings}
    busybox = {f.package.name for f in grouped.findings if f.vulnerability_id == "CVE-2021-28831"}
    assert busybox == {"busybox", "ssl_client"}


def test_a_package_pulled_in_through_a_direct_dependency_names_its_upgrade() -> None:
    """`qs@0.4.2` comes through `express@2.5.11`, and `upgradePath` says `express@3.0.0` fixes it
    (the report without its paths through `connect`). `express` itself is a direct dependency."""
    report = parse("", snyk_app_without_connect_paths())
    by_key = {(f.vulnerability_id, f.package.name): f for f in report.findings}
    express_3 = DirectUpgrade(name="express", version="2.5.11", target="3.0.0")
    for vid in ("CVE-2014-7191", "CVE-2014-10064", "CVE-2017-1000048"):
        qs = by_key[(vid, "qs")]
        assert qs.direct_upgrades == (express_3,)
        assert not qs.no_direct_upgrade
        assert qs.fixed_versions  # what it fixes stays the package's own
    assert by_key[("CVE-2017-16138", "mime")].direct_upgrades == (express_3,)
    assert by_key[("CVE-2013-7370", "connect")].direct_upgrades == (
        DirectUpgrade(name="express", version="2.5.11", target="3.3.2"),
    )
    assert by_key[("CVE-2014-6393", "express")].direct_upgrades == ()
    # OS packages have no dependency path to read.
    assert all(not f.direct_upgrades for f in report.findings if not f.package.path)


def test_a_path_no_upgrade_of_its_direct_dependency_fixes_leaves_the_package_its_own() -> None:
    """The whole report: `qs` and `mime` also come through `express > connect`, whose
    `upgradePath` keeps `express@2.5.11` (Snyk's "fixed below": relock, or upgrade the package).
    Upgrading `express` is not said to fix that path, so no direct upgrade is given; `connect`
    comes through `express` alone and keeps its."""
    report = parse("container-app-vulns__results.json")
    by_key = {(f.vulnerability_id, f.package.name): f for f in report.findings}
    for key in (("CVE-2014-7191", "qs"), ("CVE-2017-1000048", "qs"), ("CVE-2017-16138", "mime")):
        assert by_key[key].direct_upgrades == ()
        assert not by_key[key].no_direct_upgrade
    assert by_key[("CVE-2013-7370", "connect")].direct_upgrades == (
        DirectUpgrade(name="express", version="2.5.11", target="3.3.2"),
    )


def test_a_path_through_a_direct_dependency_no_upgrade_fixes_leaves_the_package_its_own() -> None:
    """`qs` also through `body-parser@1.0.0`, which Snyk cannot upgrade to a fix: upgrading
    `express` would leave `qs@0.4.2` installed through `body-parser`."""
    doc = snyk_app_without_connect_paths()
    vulns = doc[1]["vulnerabilities"]
    for vuln in [v for v in vulns if v["packageName"] == "qs"]:
        other = copy.deepcopy(vuln)
        other.update(
            {
                "from": [vuln["from"][0], "body-parser@1.0.0", "qs@0.4.2"],
                "upgradePath": [],
                "isUpgradable": False,
            }
        )
        vulns.append(other)
    qs = [f for f in parse("", doc).findings if f.package.name == "qs"]
    assert len(qs) == 3
    assert all(f.direct_upgrades == () and not f.no_direct_upgrade for f in qs)


def test_grouped_and_ungrouped_output_name_the_same_direct_upgrades() -> None:
    """`--group-issues` gives the `upgradePath` of the first path only: a later path has no upgrade
    named, as the ungrouped entry of the path through `connect` names none."""
    grouped, ungrouped = (
        {f.key: f.direct_upgrades for f in parse(name).findings}
        for name in ("resultJsonDataGrouped.json", "resultJsonDataNonGrouped.json")
    )
    assert grouped == ungrouped
    assert any(grouped.values())


def test_grouped_output_pairs_the_upgrade_path_with_its_first_dependency_path() -> None:
    """`--group-issues` lists several paths under one `upgradePath`, that of the first: for `qs`
    it is the path through `connect`, which keeps `express`; `connect`'s own names `express@3.0.0`."""
    report = parse("resultJsonDataGrouped.json")
    by_key = {(f.vulnerability_id, f.package.name): f for f in report.findings}
    assert by_key[("CVE-2014-7191", "qs")].direct_upgrades == ()
    assert by_key[("npm:connect:20120107", "connect")].direct_upgrades == (
        DirectUpgrade(name="express", version="2.5.11", target="3.0.0"),
    )


def _not_upgradable(doc: Any) -> Any:
    """The corpus's `qs` entries as Snyk writes an entry no direct upgrade fixes (its "Issues with
    no direct upgrade or patch"): `isUpgradable` false and an empty `upgradePath`."""
    for vuln in projects(doc)[1]["vulnerabilities"]:
        if vuln["packageName"] == "qs":
            vuln.update(isUpgradable=False, upgradePath=[])
    return doc


def test_a_transitive_package_snyk_cannot_upgrade_says_so() -> None:
    report = parse("", _not_upgradable(corpus_json("snyk", "container-app-vulns__results.json")))
    qs = [f for f in report.findings if f.package.name == "qs"]
    assert qs
    assert all(f.no_direct_upgrade and not f.direct_upgrades for f in qs)
    assert all(f.fixable for f in qs)  # `fixedIn` still names the package's fixed versions
    # A direct dependency Snyk cannot upgrade (the Go module of snyk-to-html) is no such case.
    go = parse("snyk-to-html__test-report-container-with-app-vulns.json")
    assert not any(f.no_direct_upgrade for f in go.findings)


def test_vulnerabilities_snyk_itself_ignored_are_counted_and_warned_in_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real report with its expat entries (two vulnerabilities, each through three dependency
    # paths) moved to `filtered.ignore`, which is how Snyk writes what a .snyk file ignores
    # (snyk/policy lib/filter): they are no longer in `vulnerabilities`.
    doc = corpus_json("snyk", "fail-on-docker-fixable__vulns.json")
    doc["filtered"]["ignore"] = [v for v in doc["vulnerabilities"] if v["packageName"] == "expat"]
    doc["vulnerabilities"] = [v for v in doc["vulnerabilities"] if v["packageName"] != "expat"]
    report = tmp_path / "snyk.json"
    report.write_text(json.dumps(doc))
    out_json = tmp_path / "gate.json"
    code = cli.main(["check", str(report), "--json", str(out_json), "--ci", "none"])
    out, _ = capsys.readouterr()
    assert code == 1  # musl still blocks
    warning = (
        f"{report}: Snyk's own policy (a .snyk file) ignored 2 vulnerability(ies); they are not in "
        "this verdict: state exceptions in the gate's policy allowlist instead"
    )
    assert f"warning:  {warning}" in out.splitlines()
    assert json.loads(out_json.read_text())["warnings"] == [warning]


@pytest.mark.parametrize(
    "suffix",
    [
        "fail-on-docker-no-fixable__vulns.json",  # one source package, several binary packages
        "container-app-vulns__results.json",  # the image and its applications, grouped by project
        "container-app-vulns__resultJsonDataGrouped.json",  # `name` a list of binary packages
    ],
)
def test_vulnerabilities_snyk_itself_ignored_are_counted_as_their_findings_would_be(suffix: str) -> None:
    # Every vulnerability of a real report moved to `filtered.ignore`: the warning counts as many
    # as the findings the gate reads from the report as it was, one per binary package (`apt`
    # and `libapt-pkg5.0` of the source package `apt`) and per application.
    doc = corpus_json("snyk", suffix)
    findings = len(parse("", corpus_json("snyk", suffix)).findings)
    for project in doc if isinstance(doc, list) else [doc, *doc.get("applications", [])]:
        project["filtered"] = {"ignore": project["vulnerabilities"], "patch": []}
        project["vulnerabilities"] = []
    (warning,) = parse("", doc).warnings
    assert f"ignored {findings} vulnerability(ies)" in warning


def test_patched_vulnerabilities_are_warned_and_a_wrong_shape_refused() -> None:
    doc = corpus_json("snyk", "fail-on-docker-fixable__vulns.json")
    doc["filtered"]["patch"] = doc["vulnerabilities"][:1]
    assert parse("", doc).warnings == (
        "snyk.json: Snyk's own policy (a .snyk file) patched 1 vulnerability(ies); they are not in "
        "this verdict: state exceptions in the gate's policy allowlist instead",
    )
    doc["filtered"]["ignore"] = ["SNYK-LINUX-EXPAT-450908"]
    with pytest.raises(
        ReportError, match=r"snyk.json: filtered\.ignore\[0\]: expected an object, got a string"
    ):
        parse("", doc)


def test_image_info_and_critical_severity() -> None:
    report = parse("snyk-to-html__test-report-container-with-app-vulns.json")
    assert report.image is not None
    assert report.image.reference == "vulnerable:latest"
    assert report.image.platform == "linux/amd64"
    assert report.image.base_image == "python:3.11.0b3-slim-buster"

    zlib = only(report, "CVE-2022-37434", "zlib1g")
    assert zlib.severity is Severity.CRITICAL
    assert zlib.package.source_name == "zlib"
    assert zlib.package.type == "deb"

    gobin = only(report, "CVE-2020-9283", "golang.org/x/crypto/ssh")
    assert gobin.package.path == "bin/gobin"
    assert gobin.aliases == ("SNYK-GOLANG-GOLANGORGXCRYPTOSSH-551923", "GHSA-ffhg-7mh4-33c4")


def test_reports_without_an_image_reference_have_no_image_info() -> None:
    assert parse("fail-on-docker-fixable__vulns.json").image is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["vulnerabilities"][0]["identifiers"]["CVE"].insert(0, {}),
            "snyk.json: vulnerabilities[0].identifiers.CVE[0]: expected a string or an integer, got an object",
        ),
        (
            lambda d: d["applications"][0]["vulnerabilities"][0].update(name=5),
            "snyk.json: applications[0].vulnerabilities[0].name: expected a non-empty string or array of "
            "strings, got a number",
        ),
        (
            lambda d: d["applications"][0]["vulnerabilities"][0].update(cvssScore="high"),
            "snyk.json: applications[0].vulnerabilities[0].cvssScore: expected a number, got a string",
        ),
        (
            lambda d: d["vulnerabilities"][0].pop("packageName"),
            "snyk.json: vulnerabilities[0].packageName: missing (expected a non-empty string)",
        ),
        (
            lambda d: d["applications"][0]["vulnerabilities"][0].update({"from": ["app@1", 7]}),
            "snyk.json: applications[0].vulnerabilities[0].from[1]: expected a package@version, got a number",
        ),
        (
            lambda d: d["applications"][0]["vulnerabilities"][0].update({"from": [["app@1", None]]}),
            "snyk.json: applications[0].vulnerabilities[0].from[0][1]: expected a package@version, got null",
        ),
        (
            lambda d: d["applications"][0]["vulnerabilities"][0].update({"from": [["app@1"], "x@1"]}),
            "snyk.json: applications[0].vulnerabilities[0].from[1]: expected a list of package@version, "
            "got a string",
        ),
        (
            lambda d: d["applications"][0].pop("vulnerabilities"),
            "snyk.json: applications[0].vulnerabilities: missing (every Snyk project has it)",
        ),
    ],
)
def test_wrong_types_name_the_key_path(edit: Any, message: str) -> None:
    doc = corpus_json("snyk", "resultJsonDataNonGrouped.json")
    edit(doc)
    with pytest.raises(ReportError) as caught:
        parse_snyk(doc, "snyk.json")
    assert caught.value.diagnostics() == message


def test_an_empty_project_array_is_an_error() -> None:
    with pytest.raises(ReportError) as caught:
        parse_snyk([], "snyk.json")
    assert (
        caught.value.diagnostics()
        == "snyk.json: top level: expected at least one Snyk project, got an empty array"
    )


def test_a_package_gets_the_purl_its_manager_name_and_version_make() -> None:
    from gate.scanners.snyk import _purl

    assert _purl("alpine:3.12", "busybox", "1.31.1-r21", app=False) == "pkg:apk/alpine/busybox@1.31.1-r21"
    assert _purl("ubuntu:20.04", "libc6", "2.31-0ubuntu9", app=False) == "pkg:deb/ubuntu/libc6@2.31-0ubuntu9"
    assert _purl("maven", "org.apache.logging.log4j:log4j-core", "2.14.1", app=True) == (
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    )
    assert _purl("npm", "@babel/core", "7.0.0", app=True) == "pkg:npm/%40babel/core@7.0.0"
    assert _purl("pip", "PyYAML", "5.3", app=True) == "pkg:pypi/pyyaml@5.3"
    # No distribution, an RPM one, a Go package, a Maven name without its group, no version: none.
    assert _purl("linux", "expat", "2.2.5-r0", app=False) is None
    assert _purl("rhel:8", "openssl-libs", "1:1.1.1k-5.el8_5", app=False) is None
    assert _purl("golang", "golang.org/x/crypto/ssh", "#c2843e01d9a2", app=True) is None
    assert _purl("maven", "log4j-core", "2.14.1", app=True) is None
    assert _purl("npm", "connect", "", app=True) is None


def _qs_entries(doc: Any) -> list[Any]:
    return [v for v in projects(doc)[1]["vulnerabilities"] if v["packageName"] == "qs"]


def test_a_package_one_step_below_its_direct_dependency_snyk_cannot_upgrade_says_so() -> None:
    """`qs` through `express > qs` alone, the shortest path that is not a direct dependency."""
    report = parse("", _not_upgradable(snyk_app_without_connect_paths()))
    qs = [f for f in report.findings if f.package.name == "qs"]
    assert qs
    assert all(f.no_direct_upgrade for f in qs)


def test_a_package_that_is_also_a_direct_dependency_is_no_case_of_no_direct_upgrade() -> None:
    """`qs` is also in the project's own manifest: the developer upgrades it there, whatever
    pulls it in too."""
    doc = _not_upgradable(corpus_json("snyk", "container-app-vulns__results.json"))
    for vuln in _qs_entries(doc)[:3]:
        direct = copy.deepcopy(vuln)
        direct["from"] = [vuln["from"][0], "qs@0.4.2"]
        projects(doc)[1]["vulnerabilities"].append(direct)
    qs = [f for f in parse("", doc).findings if f.package.name == "qs"]
    assert qs
    assert not any(f.no_direct_upgrade for f in qs)


def test_an_upgrade_path_of_another_package_than_the_paths_direct_dependency_names_no_upgrade() -> None:
    """`upgradePath`'s second step is the upgrade of the path's direct dependency: one naming
    another package (a report edited by hand, or paths and upgrades out of step) is no upgrade of
    `express`."""
    doc = snyk_app_without_connect_paths()
    for vuln in _qs_entries(doc):
        vuln["upgradePath"] = [False, "body-parser@3.0.0", "qs@6.0.4"]
    qs = [f for f in parse("", doc).findings if f.package.name == "qs"]
    assert qs
    assert all(f.direct_upgrades == () for f in qs)


def test_a_grouped_entry_whose_later_path_goes_through_another_package_names_no_upgrade() -> None:
    """Grouped, `upgradePath` is the first path's: `express@3.0.0` does not fix the later path
    through `body-parser`, which still installs `qs@0.4.2`."""
    doc = snyk_app_without_connect_paths()
    for vuln in _qs_entries(doc):
        vuln["from"] = [vuln["from"], [vuln["from"][0], "body-parser@1.0.0", "qs@0.4.2"]]
    qs = [f for f in parse("", doc).findings if f.package.name == "qs"]
    assert qs
    assert all(f.direct_upgrades == () for f in qs)


def test_an_entry_snyk_says_is_upgradable_is_no_case_of_no_direct_upgrade() -> None:
    """`isUpgradable` true says an upgrade fixes it, even where `upgradePath` names no step."""
    doc = snyk_app_without_connect_paths()
    for vuln in _qs_entries(doc):
        vuln.update(isUpgradable=True, upgradePath=[])
    qs = [f for f in parse("", doc).findings if f.package.name == "qs"]
    assert qs
    assert not any(f.no_direct_upgrade for f in qs)


def test_an_entry_repeated_names_its_upgrade_once() -> None:
    """Snyk repeats an entry for each path; the same path's upgrade twice is one upgrade."""
    doc = snyk_app_without_connect_paths()
    vulns = projects(doc)[1]["vulnerabilities"]
    vulns.extend(copy.deepcopy(_qs_entries(doc)))
    qs = [f for f in parse("", doc).findings if f.package.name == "qs"]
    assert qs
    assert all(f.direct_upgrades == (DirectUpgrade("express", "2.5.11", "3.0.0"),) for f in qs)
