"""A finding's identity across runs, and what makes it worse (gate/enrich/baseline.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.enrich.baseline import (
    Baseline,
    BaselineFinding,
    BaselineState,
    compare,
    is_worse,
    normalized_path,
)
from gate.model import Finding, Package, Severity
from gate.scanners.baseline_file import load_baseline
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
            "usr/lib/python3.12/site-packages/requests-2.32.3.dist-info/METADATA",
        ),
        (
            "usr/lib/python2.7/site-packages/setuptools-0.9.8-py2.7.egg-info/PKG-INFO",
            "usr/lib/python2.7/site-packages/setuptools-1.0-py2.7.egg-info/PKG-INFO",
        ),
        ("app/WEB-INF/lib/spring-beans-5.3.15.jar", "app/WEB-INF/lib/spring-beans-5.3.18.jar"),
        ("opt/app/lib/foo-1.0-SNAPSHOT.jar", "opt/app/lib/foo-1.1.jar"),
        (
            "/var/lib/gems/2.5.0/specifications/x-6.0.2.1.gemspec",
            "var/lib/gems/2.5.0/specifications/x-6.0.3.gemspec",
        ),
    ],
)
def test_version_like_parts_of_a_path_do_not_count(before: str, after: str) -> None:
    assert normalized_path(before) == normalized_path(after)


def test_other_parts_of_a_path_count() -> None:
    assert normalized_path("app/node_modules/lodash/package.json") != normalized_path(
        "app/node_modules/lodash-es/package.json"
    )
    assert normalized_path("site-packages/requests-2.31.0.dist-info") != normalized_path(
        "site-packages/urllib3-2.31.0.dist-info"
    )


def finding(
    vuln: str = "CVE-2024-0001",
    *aliases: str,
    name: str = "zlib",
    version: str = "1.0",
    severity: Severity = Severity.HIGH,
    fixed: tuple[str, ...] = (),
    path: str = "",
    type_: str = "debian",
) -> Finding:
    return Finding(
        vuln,
        Package(name, version, type=type_, path=path),
        severity=severity,
        aliases=aliases,
        fixed_versions=fixed,
    )


def before(
    vuln: str = "CVE-2024-0001",
    *aliases: str,
    name: str = "zlib",
    severity: Severity = Severity.HIGH,
    fixable: bool = False,
    kev: bool | None = None,
    path: str = "",
    type_: str = "debian",
) -> BaselineFinding:
    return BaselineFinding(vuln, aliases, name, type_, path, "0.9", severity, fixable, kev)


def baseline(*items: BaselineFinding, platform: str | None = "linux/amd64") -> Baseline:
    return Baseline("b.json", "2026-11-01T12:00:00+00:00", platform, items)


def test_worse_means_a_higher_severity_a_new_fix_or_newly_known_exploited() -> None:
    assert not is_worse(before(), finding())
    assert is_worse(before(severity=Severity.MEDIUM), finding())
    assert not is_worse(before(severity=Severity.CRITICAL), finding())
    assert is_worse(before(), finding(fixed=("1.1",)))
    assert not is_worse(before(fixable=True), finding(fixed=("1.1",)))
    # Known exploitation compares only when both runs know it.
    assert is_worse(before(kev=False), finding(), known_exploited=True)
    assert not is_worse(before(kev=None), finding(), known_exploited=True)
    assert not is_worse(before(kev=True), finding(), known_exploited=True)


def test_states_and_fixed() -> None:
    old = baseline(before(), before("CVE-2024-0002"), before("CVE-2024-0003", severity=Severity.LOW))
    result = compare(
        old,
        [finding(version="1.1"), finding("CVE-2024-0003"), finding("CVE-2024-0009")],
        "linux/amd64",
    )
    assert result.states == (BaselineState.UNCHANGED, BaselineState.WORSE, BaselineState.NEW)
    assert [f.vulnerability_id for f in result.fixed] == ["CVE-2024-0002"]
    assert result.delta_line() == "1 new · 1 worse · 1 fixed · 1 unchanged"


def test_kev_flags_of_this_run_make_a_finding_worse() -> None:
    old = baseline(before(kev=False))
    result = compare(old, [finding()], None, known_exploited={"CVE-2024-0001": True})
    assert result.states == (BaselineState.WORSE,)


def test_a_shared_advisory_does_not_join_two_cves() -> None:
    # Red Hat's RHSA-2019:2304 fixes both CVEs in openssl-libs (tests/data/corpus/trivy centos-7).
    old = baseline(before("CVE-2019-1559", "RHSA-2019:2304", name="openssl-libs"))
    result = compare(old, [finding("CVE-2018-0734", "RHSA-2019:2304", name="openssl-libs")], None)
    assert result.states == (BaselineState.NEW,)


def test_a_ghsa_only_finding_matches_a_baseline_finding_that_had_its_cve_too() -> None:
    old = baseline(before("CVE-2014-3577", "GHSA-cfh5-3ghh-wfjx", name="httpclient", type_="java-archive"))
    result = compare(old, [finding("GHSA-cfh5-3ghh-wfjx", name="httpclient", type_="java-archive")], None)
    assert result.states == (BaselineState.UNCHANGED,)


def test_package_type_name_and_platform_are_part_of_the_identity() -> None:
    old = baseline(before())
    assert compare(old, [finding(name="zlib1g")], None).states == (BaselineState.NEW,)
    assert compare(old, [finding(type_="alpine")], None).states == (BaselineState.NEW,)
    assert compare(old, [finding()], "linux/arm64").states == (BaselineState.NEW,)
    # A platform only one side knows does not split findings.
    assert compare(old, [finding()], None).states == (BaselineState.UNCHANGED,)
    assert compare(baseline(before(), platform=None), [finding()], "linux/arm64").states == (
        BaselineState.UNCHANGED,
    )


def test_a_baseline_report_with_exploit_data_carries_each_findings_kev_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gate.json"
    main(["check", str(corpus_file("trivy", "alpine-39.json.golden")), "--json", str(out), "--ci", "none"])
    capsys.readouterr()
    report = json.loads(out.read_text())
    assert load_baseline(out).findings[0].known_exploited is None  # no exploit data in that run
    report["exploit_data"] = {"kev_listed": 1}
    report["findings"][0]["kev"] = {"date_added": "2024-01-01"}
    for finding in report["findings"][1:]:
        finding["kev"] = None
    out.write_text(json.dumps(report))
    baseline = load_baseline(out)
    assert [f.known_exploited for f in baseline.findings] == [True] + [False] * (len(baseline.findings) - 1)
    assert baseline.created == report["evaluated_at"]
    assert baseline.platform == "linux/amd64"


@pytest.mark.parametrize(
    ("then", "now"),
    [
        ("alpine", "apk"),
        ("debian", "deb"),
        ("ubuntu", "deb"),
        ("python-pkg", "python"),
        ("jar", "java-archive"),
    ],
)
def test_one_ecosystem_named_by_two_scanners_is_one_package_type(then: str, now: str) -> None:
    # A baseline made with Trivy (OS result types) and a run with Grype (syft types), or back.
    assert compare(baseline(before(type_=then)), [finding(type_=now)], None).states == (
        BaselineState.UNCHANGED,
    )
    assert compare(baseline(before(type_=now)), [finding(type_=then)], None).states == (
        BaselineState.UNCHANGED,
    )


def test_a_type_the_gate_does_not_know_still_counts_as_it_is() -> None:
    assert compare(baseline(before(type_="nix")), [finding(type_="nix")], None).states == (
        BaselineState.UNCHANGED,
    )
    assert compare(baseline(before(type_="nix")), [finding(type_="unknown")], None).states == (
        BaselineState.NEW,
    )


@pytest.mark.parametrize("other", ["debian", "deb", "alpine", "apk", "redhat", "rpm", "debian:10"])
def test_snyks_linux_is_a_distribution_package_of_any_type(other: str) -> None:
    # Snyk's container reports without a project packageManager call every package `linux`.
    assert compare(baseline(before(type_=other)), [finding(type_="linux")], None).states == (
        BaselineState.UNCHANGED,
    )
    assert compare(baseline(before(type_="linux")), [finding(type_=other)], None).states == (
        BaselineState.UNCHANGED,
    )
    assert compare(baseline(before(type_="linux")), [finding(type_="pip")], None).states == (
        BaselineState.NEW,
    )
    assert compare(baseline(before(type_="linux", name="zlib1g")), [finding(type_=other)], None).states == (
        BaselineState.NEW,
    )


def test_a_snyk_vulnerabilitys_distribution_and_release_is_that_distributions_type() -> None:
    # A Snyk vulnerability's own packageManager names the release (`debian:10`, `alpine:3.12`).
    assert compare(baseline(before(type_="debian:10")), [finding(type_="deb")], None).states == (
        BaselineState.UNCHANGED,
    )
    assert compare(baseline(before(type_="alpine:3.12")), [finding(type_="deb")], None).states == (
        BaselineState.NEW,
    )


def test_a_trivy_baseline_serves_a_snyk_run_of_the_same_image() -> None:
    # The corpus Snyk report of an Alpine image names its packages `linux`; the baseline holds
    # the same findings as Trivy names them (type `alpine`).
    snyk = load_report(corpus_file("snyk", "test-acceptance-fail-on-docker-fixable__vulns.json"))
    assert {f.package.type for f in snyk.findings} == {"linux"}
    trivy = [
        before(
            f.vulnerability_id,
            *f.aliases,
            name=f.package.name,
            type_="alpine",
            severity=f.severity,
            fixable=f.fixable,
        )
        for f in snyk.findings
    ]
    result = compare(baseline(*trivy), snyk.findings, None)
    assert result.states == (BaselineState.UNCHANGED,) * len(snyk.findings)
    assert result.fixed == ()


PY311 = "usr/lib/python3.11/site-packages/werkzeug-0.11.dist-info/METADATA"
PY312 = "usr/lib/python3.12/site-packages/werkzeug-0.11.1.dist-info/METADATA"


def test_two_copies_of_a_package_are_two_baseline_findings() -> None:
    old = baseline(
        before(name="werkzeug", type_="python-pkg", path=PY311),
        before(name="werkzeug", type_="python-pkg", path=PY312),
    )
    now = [
        finding(name="werkzeug", type_="python-pkg", path=PY311),
        finding(name="werkzeug", type_="python-pkg", path=PY312),
    ]
    for findings in (now, now[::-1]):
        result = compare(old, findings, None)
        assert result.states == (BaselineState.UNCHANGED, BaselineState.UNCHANGED)
        assert result.fixed == ()


def test_a_copy_added_since_is_new_whatever_the_order() -> None:
    old = baseline(before(name="werkzeug", type_="python-pkg", path=PY311))
    added = finding(name="werkzeug", type_="python-pkg", path=PY312)
    kept = finding(name="werkzeug", type_="python-pkg", path=PY311)
    assert compare(old, [kept, added], None).states == (BaselineState.UNCHANGED, BaselineState.NEW)
    assert compare(old, [added, kept], None).states == (BaselineState.NEW, BaselineState.UNCHANGED)
    # Alone, the copy at the other path is the baseline's, moved.
    assert compare(old, [added], None).states == (BaselineState.UNCHANGED,)


def test_thousands_of_copies_of_one_package_each_keep_their_own() -> None:
    # app0 ... app2999 differ only in a number: one identity, 3,000 baseline findings of it.
    paths = [f"app{i}/node_modules/lodash/package.json" for i in range(3000)]
    old = baseline(*(before(name="lodash", type_="npm", path=p) for p in paths))
    now = [finding(name="lodash", type_="npm", path=p) for p in reversed(paths)]
    now.append(finding(name="lodash", type_="npm", path="app3000/node_modules/lodash/package.json"))
    result = compare(old, now, None)
    assert result.states == (BaselineState.UNCHANGED,) * 3000 + (BaselineState.NEW,)
    assert result.fixed == ()


def test_a_java_package_is_its_artifact_id_whatever_the_scanner() -> None:
    # Trivy names it groupId:artifactId, Grype by the artifactId (tests/data/corpus/grype ghsa-test).
    trivy = before(
        "CVE-2014-3577", name="org.apache.httpcomponents:httpclient", type_="jar", path="TwilioNotifier.hpi"
    )
    grype = finding(
        "GHSA-cfh5-3ghh-wfjx",
        "CVE-2014-3577",
        name="httpclient",
        type_="java-archive",
        path="TwilioNotifier.hpi",
    )
    assert compare(baseline(trivy), [grype], None).states == (BaselineState.UNCHANGED,)
    other = finding("CVE-2014-3577", name="httpcore", type_="java-archive", path="TwilioNotifier.hpi")
    assert compare(baseline(trivy), [other], None).states == (BaselineState.NEW,)
    # Only Java names are cut at a colon.
    assert compare(baseline(before(name="a:zlib")), [finding(name="zlib")], None).states == (
        BaselineState.NEW,
    )


def test_a_java_library_is_placed_at_its_outermost_archive_whatever_the_scanner() -> None:
    """Trivy places spring-beans at the jar inside the war, Grype at the war itself."""
    trivy = load_report(corpus_file("trivy", "spring4shell-jre11.json.golden"))
    (spring,) = trivy.findings
    assert (
        spring.package.path == "usr/local/tomcat/webapps/helloworld.war/WEB-INF/lib/spring-beans-5.3.15.jar"
    )
    old = baseline(
        BaselineFinding(
            spring.vulnerability_id,
            spring.aliases,
            spring.package.name,
            spring.package.type,
            spring.package.path,
            spring.package.version,
            spring.severity,
            spring.fixable,
        ),
        platform=None,
    )
    grype = finding(
        "GHSA-36p3-wjmg-h94x",
        "CVE-2022-22965",
        name="spring-beans",
        type_="java-archive",
        path="/usr/local/tomcat/webapps/helloworld.war",
        severity=spring.severity,
        fixed=("5.3.18",),
    )
    result = compare(old, [grype], None)
    assert (result.states, result.fixed) == ((BaselineState.UNCHANGED,), ())
    # Another war is another place.
    elsewhere = finding(
        "CVE-2022-22965", name="spring-beans", type_="java-archive", path="usr/local/tomcat/webapps/other.war"
    )
    assert compare(old, [elsewhere], None).states == (BaselineState.NEW,)
