"""The GitLab container-scanning report: valid against schema 15.0.7 for every corpus report, and right.

Validation uses GitLab's own schema file (tests/data/schemas) through tests/support/gitlab_schema.py;
`test_validator_rejects_*` show that the validator really rejects broken reports, so a green
corpus test means something.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.model import Cvss, Finding, ImageInfo, Layer, LayerOrigin, ScannerInfo, Severity, VendorStatus
from gate.policy.evaluation import Disposition, Evaluation
from gate.policy.model import AllowlistEntry, FailOn, Mode, Policy
from gate.render import gitlab
from gate.render._gitlab_ids import identifier_type
from gate.render._gitlab_remediations import DockerfileText
from gate.render.gitlab import (
    SCHEMA_VERSION,
    SEVERITIES,
    UNKNOWN_IMAGE,
    UNKNOWN_OS,
    GitLabReportOptions,
    render_gitlab,
    render_gitlab_error,
    vulnerability_uuid,
)
from gate.run_wording import GITLAB_WORDS
from tests.support import factories
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.factories import evaluation_of, finding
from tests.support.gitlab_schema import SCHEMA_PATH, validate_container_scanning_report
from tests.support.markdown_html import HtmlFacts, inert_problems, to_html

START = dt.datetime(2026, 3, 14, 15, 9, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)
OPTIONS = GitLabReportOptions(start_time=START, end_time=END)
LEFT_OUT = re.compile(r"^(\d+) findings? left out: ")


def render(evaluation: Evaluation, options: GitLabReportOptions = OPTIONS) -> dict[str, Any]:
    """The report as parsed JSON, after asserting it validates."""
    doc: dict[str, Any] = json.loads(render_gitlab(evaluation, options))
    assert validate_container_scanning_report(doc) == []
    return doc


def messages(doc: dict[str, Any], level: str | None = None) -> list[str]:
    return [m["value"] for m in doc["scan"]["messages"] if level is None or m["level"] == level]


# --- every corpus report -------------------------------------------------------------------------


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_corpus_report_validates_and_accounts_for_every_finding(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    doc = json.loads(render_gitlab(evaluation, OPTIONS))

    assert validate_container_scanning_report(doc) == []
    assert doc["version"] == SCHEMA_VERSION
    reported = [
        d for d in evaluation.decisions if d.disposition in (Disposition.BLOCKING, Disposition.INFORMATIONAL)
    ]
    vulns = doc["vulnerabilities"]
    assert (
        len(vulns) == evaluation.counts[Disposition.BLOCKING] + evaluation.counts[Disposition.INFORMATIONAL]
    )
    assert len({v["id"] for v in vulns}) == len(vulns)
    # What GitLab keeps one vulnerability per (the image is the report's): none is merged away.
    tracked = {(v["identifiers"][0]["value"], v["location"]["dependency"]["package"]["name"]) for v in vulns}
    assert len(tracked) == len(vulns)
    for decision, vuln in zip(reported, vulns, strict=True):
        f = decision.finding
        values = [i["value"] for i in vuln["identifiers"]]
        assert values[0] == f.vulnerability_id
        assert set(f.ids) <= set(values)
        assert vuln["location"]["dependency"]["version"] == f.package.version
        assert vuln["location"]["dependency"]["package"]["name"] in (
            f.package.name,
            f"{f.package.name} ({f.package.path})",
            f"{f.package.name} {f.package.version} ({f.package.path})",
        )
        assert vuln["severity"] == SEVERITIES[f.severity]

    left_out = evaluation.counts[Disposition.ALLOWLISTED] + evaluation.counts[Disposition.IGNORED]
    counted = [int(m.group(1)) for m in map(LEFT_OUT.match, messages(doc, "info")) if m]
    assert counted == ([left_out] if left_out else [])


def test_corpus_exercises_every_disposition() -> None:
    totals = dict.fromkeys(Disposition, 0)
    for path in corpus_reports():
        evaluation = corpus_evaluation(path)
        for disposition in Disposition:
            totals[disposition] += evaluation.counts[disposition]
    assert all(totals.values()), totals


@pytest.mark.parametrize(
    "name",
    [
        "aquasecurity-trivy__debian-buster.json.golden",
        "anchore-grype__chainguard-ruby-test.json",
    ],
)
def test_golden(name: str, golden: Callable[[str, str], None]) -> None:
    path = next(p for p in corpus_reports() if p.name == name)
    golden(
        f"gitlab-{path.parent.name}-{name.split('__', 1)[1].split('.json')[0]}.json",
        render_gitlab(corpus_evaluation(path), OPTIONS),
    )


# --- the validator works -------------------------------------------------------------------------


def test_schema_version_matches_the_schema_file() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["self"]["version"] == SCHEMA_VERSION


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


def _drop(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return apply


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (_set(("scan", "start_time"), "2026-03-14T15:09:00+00:00"), "$.scan.start_time"),
        (_set(("scan", "status"), "passed"), "$.scan.status"),
        (_drop(("scan", "analyzer")), "$.scan"),
        (_set(("version",), "15.0"), "$.version"),
        (_set(("vulnerabilities", 0, "severity"), "HIGH"), "$.vulnerabilities[0].severity"),
        (_set(("vulnerabilities", 0, "identifiers"), []), "$.vulnerabilities[0].identifiers"),
        (_set(("vulnerabilities", 0, "name"), "x" * 256), "$.vulnerabilities[0].name"),
        (_drop(("vulnerabilities", 0, "location", "operating_system")), "$.vulnerabilities[0].location"),
        (
            _set(("vulnerabilities", 0, "links"), [{"url": "javascript:alert(1)"}]),
            "$.vulnerabilities[0].links[0].url",
        ),
    ],
)
def test_validator_rejects_a_broken_report(breakage: Callable[[dict[str, Any]], None], where: str) -> None:
    doc = render(evaluation_of(finding(primary_url="https://example.org/CVE-2024-0001")))
    broken = copy.deepcopy(doc)
    breakage(broken)
    errors = validate_container_scanning_report(broken)
    assert any(e.startswith(where) for e in errors), errors


# --- fields --------------------------------------------------------------------------------------


def test_vulnerability_fields() -> None:
    f = finding(
        "CVE-2024-0001",
        pkg="openssl",
        version="3.0.2-1",
        fixed=("3.0.13-1",),
        aliases=("GHSA-abcd-efgh-ijkl", "RHSA-2024:0001", "DLA-3700-1", "USN-6000-1", "ELSA-2024-0001"),
        title="openssl: a flaw",
        description="First paragraph.\n\nSecond paragraph.",
        primary_url="https://avd.aquasec.com/nvd/cve-2024-0001",
    )
    doc = render(evaluation_of(f, image=ImageInfo("ghcr.io/acme/app:1.2", distro="debian 12.5")))
    (vuln,) = doc["vulnerabilities"]
    assert vuln["name"] == "openssl: a flaw"
    assert vuln["severity"] == "High"
    assert vuln["solution"] == (
        "Upgrade `openssl` `3.0.2-1` → `3.0.13-1`, which fixes every finding of the package: "
        "`apt-get update && apt-get install -y --only-upgrade openssl` (action `deb:openssl`)"
    )
    assert vuln["description"] == "First paragraph\\.\n\nSecond paragraph\\."
    assert vuln["links"] == [{"url": "https://avd.aquasec.com/nvd/cve-2024-0001"}]
    assert vuln["location"] == {
        "dependency": {"package": {"name": "openssl"}, "version": "3.0.2-1"},
        "operating_system": "debian 12.5",
        "image": "ghcr.io/acme/app:1.2",
    }
    assert vuln["identifiers"] == [
        {
            "type": "cve",
            "name": "CVE-2024-0001",
            "value": "CVE-2024-0001",
            "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-0001",
        },
        {
            "type": "ghsa",
            "name": "GHSA-abcd-efgh-ijkl",
            "value": "GHSA-abcd-efgh-ijkl",
            "url": "https://github.com/advisories/GHSA-abcd-efgh-ijkl",
        },
        {
            "type": "rhsa",
            "name": "RHSA-2024:0001",
            "value": "RHSA-2024:0001",
            "url": "https://access.redhat.com/errata/RHSA-2024:0001",
        },
        {
            "type": "dla",
            "name": "DLA-3700-1",
            "value": "DLA-3700-1",
            "url": "https://security-tracker.debian.org/tracker/DLA-3700-1",
        },
        {
            "type": "usn",
            "name": "USN-6000-1",
            "value": "USN-6000-1",
            "url": "https://ubuntu.com/security/notices/USN-6000-1",
        },
        {
            "type": "elsa",
            "name": "ELSA-2024-0001",
            "value": "ELSA-2024-0001",
            "url": "https://linux.oracle.com/errata/ELSA-2024-0001.html",
        },
    ]
    assert vuln["details"]["policy_decision"]["value"].startswith("blocking: HIGH is at or above")


def test_each_description_is_its_own_text_when_descriptions_repeat() -> None:
    # Descriptions are escaped once per text (a cache): findings sharing one get the same text,
    # and every other finding its own, whatever came before it.
    texts = ["Shared @first.", "Other #2.", "Shared @first.", "Long " + "x" * 9_000, "Other #2."]
    findings = [finding(f"CVE-2024-{i:04}", description=text) for i, text in enumerate(texts)]
    doc = render(evaluation_of(*findings))
    assert [v["description"] for v in doc["vulnerabilities"]] == [
        "Shared \\@\u200bfirst\\.",
        "Other \\#\u200b2\\.",
        "Shared \\@\u200bfirst\\.",
        "Long " + "x" * 9_000,
        "Other \\#\u200b2\\.",
    ]


@pytest.mark.parametrize(
    ("vuln_id", "kind", "url"),
    [
        ("CVE-2024-1234", "cve", "https://nvd.nist.gov/vuln/detail/CVE-2024-1234"),
        ("GHSA-xxxx-yyyy-zzzz", "ghsa", "https://github.com/advisories/GHSA-xxxx-yyyy-zzzz"),
        ("SNYK-DEBIAN12-ZLIB-6008963", "snyk", "https://security.snyk.io/vuln/SNYK-DEBIAN12-ZLIB-6008963"),
        ("GO-2024-2687", "go", "https://pkg.go.dev/vuln/GO-2024-2687"),
        ("TEMP-0841856-B18BAF", "temp", None),
        ("ALAS2-2024-2500", "alas2", None),
        ("12345", "other", None),
        # An id that would change the URL it is put into gets no URL at all.
        ("GHSA-x/../../evil", "ghsa", None),
        ("CVE-2024-1 https://evil.example", "cve", None),
    ],
)
def test_identifier_types(vuln_id: str, kind: str, url: str | None) -> None:
    assert identifier_type(vuln_id) == (kind, url)


def test_primary_url_is_the_link_of_a_primary_id_without_a_known_url_only() -> None:
    f = finding(
        "TEMP-0841856-B18BAF",
        aliases=("XYZ-1",),
        primary_url="https://security-tracker.debian.org/tracker/TEMP-0841856-B18BAF",
    )
    (vuln,) = render(evaluation_of(f))["vulnerabilities"]
    assert vuln["identifiers"][0]["url"] == "https://security-tracker.debian.org/tracker/TEMP-0841856-B18BAF"
    assert "url" not in vuln["identifiers"][1]


def test_chunks_are_the_report_with_a_notice_of_what_gitlab_cannot_track() -> None:
    evaluation = evaluation_of(finding(), image=ImageInfo("registry.example.com/app:1"))
    chunks = gitlab.GitLabChunks(evaluation, OPTIONS)
    assert b"".join(chunks).decode() == render_gitlab(evaluation, OPTIONS)
    assert chunks.notice() is None
    unknown = gitlab.GitLabChunks(evaluation_of(finding()), replace(OPTIONS, default_branch_image="app"))
    assert unknown.notice() == (
        f"no image reference is known: location.image is {UNKNOWN_IMAGE!r}; pass --image-name so GitLab "
        "can track these vulnerabilities; default branch image 'app' ignored: expected NAME:TAG of at "
        "most 255 characters"
    )


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_vocabulary(severity: Severity) -> None:
    policy = Policy(source="p", fail_on=FailOn(severity=Severity.CRITICAL))
    (vuln,) = render(evaluation_of(finding(severity=severity), policy=policy))["vulnerabilities"]
    assert vuln["severity"] == {0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 4: "Critical"}[int(severity)]


def test_no_solution_without_a_fixed_version() -> None:
    (vuln,) = render(evaluation_of(finding(fixed=(), status=VendorStatus.AFFECTED)))["vulnerabilities"]
    assert "solution" not in vuln


def test_solution_when_a_fix_exists_without_a_version() -> None:
    # Snyk's `isUpgradable` without `fixedIn`: a fix exists, so GitLab must not show "no solution".
    fixable = finding(pkg="expat", fixed=(), status=VendorStatus.FIXED)
    (vuln,) = render(evaluation_of(fixable))["vulnerabilities"]
    assert vuln["solution"] == f"Upgrade `expat` to {gitlab.NO_VERSION_NAMED}"


def test_several_fixed_versions() -> None:
    (vuln,) = render(evaluation_of(finding(pkg="logback-core", fixed=("1.5.13", "1.3.15"))))[
        "vulnerabilities"
    ]
    assert vuln["solution"] == "Upgrade `logback-core` to `1.5.13` or `1.3.15`"


def test_id_is_stable_across_versions_and_differs_by_package_and_path() -> None:
    def vuln_id(vid: str = "CVE-2024-0001", **kwargs: Any) -> str:
        (vuln,) = render(evaluation_of(finding(vid, **kwargs)))["vulnerabilities"]
        value: str = vuln["id"]
        return value

    base = vuln_id(version="1.0")
    assert uuid.UUID(base).version == 5
    assert vuln_id(version="2.0") == base
    assert vuln_id(version="1.0", path="app/lib/a.jar") != base
    assert vuln_id(version="1.0", pkg="libssl3") != base
    assert vuln_id("CVE-2024-0002", version="1.0") != base


@pytest.mark.parametrize(
    ("vid", "pkg", "path", "extra"),
    [
        ("CVE-2024-0001", "openssl", "", ()),
        ("GHSA-abcd-efgh-ijkl", "requests", "app/venv/requests-2.0.dist-info/METADATA", ("2.0",)),
        ("CVE-2024-\u00e9", "p\u00e2quet-\u20ac", "opt/\U0001f600/lib.jar", ()),
        ("", "", "", ("",)),
    ],
)
def test_id_is_the_uuid5_of_the_id_package_and_path(
    vid: str, pkg: str, path: str, extra: tuple[str, ...]
) -> None:
    # The id is written without the uuid module's objects; it must stay uuid5's exact text.
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "container-gate:gitlab-container-scanning:vulnerability")
    expected = str(uuid.uuid5(namespace, "\x1f".join((vid, pkg, path, *extra))))
    assert vulnerability_uuid(finding(vid, pkg=pkg, path=path), *extra) == expected


def test_two_versions_at_one_path_get_distinct_ids_and_the_first_keeps_its_own() -> None:
    alone = render(evaluation_of(finding(version="1.0")))["vulnerabilities"][0]["id"]
    both = render(evaluation_of(finding(version="1.0"), finding(version="1.1")))["vulnerabilities"]
    assert both[0]["id"] == alone
    assert both[1]["id"] != alone


def test_findings_gitlab_would_merge_get_their_path_or_version_in_the_package_name() -> None:
    # GitLab keeps one vulnerability per identifier, image and package name.
    def lodash(version: str, path: str) -> Finding:
        return finding("CVE-2020-8203", pkg="lodash", version=version, type="npm", path=path)

    app, tool = lodash("4.17.1", "app/package-lock.json"), lodash("4.17.1", "tool/package-lock.json")
    app2, tool2 = lodash("4.17.2", "app/package-lock.json"), lodash("4.17.2", "tool/package-lock.json")
    other = finding(
        "CVE-2021-23337", pkg="lodash", version="4.17.1", type="npm", path="tool/package-lock.json"
    )
    vulns = render(evaluation_of(app, tool, app2, tool2, other))["vulnerabilities"]
    assert [v["location"]["dependency"]["package"]["name"] for v in vulns] == [
        "lodash",
        "lodash (tool/package-lock.json)",
        "lodash (app/package-lock.json)",
        "lodash 4.17.2 (tool/package-lock.json)",
        "lodash",
    ]
    versions = [v["location"]["dependency"]["version"] for v in vulns]
    assert versions == ["4.17.1", "4.17.1", "4.17.2", "4.17.2", "4.17.1"]
    # A finding alone keeps its name, as every finding did before.
    (alone,) = render(evaluation_of(tool))["vulnerabilities"]
    assert alone["location"]["dependency"]["package"]["name"] == "lodash"


def test_untrusted_text_is_cut_and_made_inert() -> None:
    hostile = "[click](https://evil.example) @maintainer ![x](https://evil.example/p.png) <script>#1 ~bug"
    f = finding(title="T" * 400 + "\x1b[31m", description=hostile + "\n\n" + "d" * 1_100_000)
    doc = render(evaluation_of(f))
    (vuln,) = doc["vulnerabilities"]
    assert len(vuln["name"]) == 255
    assert "\x1b" not in vuln["name"]
    description = vuln["description"]
    assert len(description) <= 1_048_576
    assert description.startswith("\\[click\\]\\(https\\:")
    assert "@\u200bmaintainer" in description
    for live in ("](", "<script>", "![", " #1", " ~bug"):
        assert live not in description


def test_an_id_of_whitespace_or_controls_still_gets_a_name() -> None:
    # Schema 15.0.7: an identifier's `name` is non-empty; GitLab rejects the whole report otherwise.
    (vuln,) = render(evaluation_of(finding(aliases=("\t", "\x1b\n"))))["vulnerabilities"]
    # Shown as text, and escaped as Markdown: they are no advisory's id.
    assert [(i["name"], i["value"]) for i in vuln["identifiers"][1:]] == [
        (r"\'\\t\'", "\t"),
        (r"\\x1b", "\x1b\n"),
    ]


def test_cvss_vectors_only_when_the_schema_accepts_them() -> None:
    def vectors(vector: str, source: str = "nvd") -> object:
        f = replace(finding(), cvss=Cvss(7.5, vector, source))
        return render(evaluation_of(f))["vulnerabilities"][0].get("cvss_vectors")

    v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert vectors(v3) == [{"vendor": "NVD", "vector": v3}]
    assert vectors("AV:N/AC:L/Au:N/C:P/I:P/A:P", "redhat") == [
        {"vendor": "Red Hat", "vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}
    ]
    assert vectors("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") is None
    assert vectors(v3 + "\n") is None


def test_layer_details() -> None:
    layer = Layer(
        diff_id="sha256:" + "a" * 64,
        created_by="RUN apt-get install -y openssl",
        origin=LayerOrigin.BASE,
        dockerfile_line=3,
    )
    f = replace(finding(), layer=layer)
    image = ImageInfo("app:1", base_image="debian:12")
    details = render(evaluation_of(f, image=image))["vulnerabilities"][0]["details"]
    assert details["layer_origin"]["value"] == "base image (debian:12)"
    assert details["layer_created_by"] == {
        "name": "Layer created by",
        "type": "code",
        "value": "RUN apt-get install -y openssl",
    }
    assert details["dockerfile_line"]["value"] == 3


# --- scan ----------------------------------------------------------------------------------------


def test_times_are_utc_without_offset() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    options = GitLabReportOptions(
        start_time=dt.datetime(2026, 3, 14, 17, 0, 0, 999_999, tzinfo=plus_two),
        end_time=dt.datetime(2026, 3, 14, 17, 0, 5, tzinfo=plus_two),
    )
    scan = render(evaluation_of(finding()), options)["scan"]
    assert (scan["start_time"], scan["end_time"]) == ("2026-03-14T15:00:00", "2026-03-14T15:00:05")


def test_times_must_be_aware_and_ordered() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        GitLabReportOptions(start_time=dt.datetime(2026, 1, 1), end_time=END)
    with pytest.raises(ValueError, match="before start_time"):
        GitLabReportOptions(start_time=END, end_time=START)


def test_scan_fields() -> None:
    options = GitLabReportOptions(
        START, END, analyzer_version="1.2.3", analyzer_url="https://example.org/gate"
    )
    scan = render(evaluation_of(finding()), options)["scan"]
    assert scan["type"] == "container_scanning"
    assert scan["status"] == "success"
    assert scan["analyzer"] == {
        "id": "container-gate",
        "name": "container-gate",
        "version": "1.2.3",
        "vendor": {"name": "container-gate"},
        "url": "https://example.org/gate",
    }
    assert scan["scanner"] == {
        "id": "trivy",
        "name": "Trivy",
        "version": "0.50.1",
        "vendor": {"name": "Aqua Security"},
        "url": "https://github.com/aquasecurity/trivy",
    }


def test_merged_scanners_are_all_named() -> None:
    scanners = (ScannerInfo("trivy", "0.50.1"), ScannerInfo("grype", None))
    scanner = render(evaluation_of(finding(), scanners=scanners))["scan"]["scanner"]
    assert scanner == {
        "id": "trivy+grype",
        "name": "Trivy + Grype",
        "version": "trivy 0.50.1, grype unknown",
        "vendor": {"name": "Aqua Security, Anchore"},
    }


def test_left_out_findings_are_counted_with_their_reasons() -> None:
    policy = Policy(
        source="policy.yaml",
        fail_on=FailOn(fixable_only=True),
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX, VendorStatus.END_OF_LIFE}),
        allowlist=(
            AllowlistEntry(0, "CVE-2024-0001", "not shipped"),
            AllowlistEntry(1, "CVE-2024-0002", "not reachable"),
        ),
    )
    doc = render(
        evaluation_of(
            finding("CVE-2024-0001"),
            finding("CVE-2024-0001", pkg="libssl3"),
            finding("CVE-2024-0002"),
            finding("CVE-2024-0003", status=VendorStatus.WILL_NOT_FIX),
            finding("CVE-2024-0004", status=VendorStatus.END_OF_LIFE),
            finding("CVE-2024-0005", fixed=(), status=VendorStatus.AFFECTED),
            finding("CVE-2024-0006"),
            policy=policy,
        )
    )
    assert len(doc["vulnerabilities"]) == 1
    assert (
        "6 findings left out: 3 allowlisted by the policy (allowlist[0]: 2, allowlist[1]: 1), 3 ignored "
        "(no fixed version under fail_on.fixable_only: 1, vendor status end_of_life: 1, "
        "vendor status will_not_fix: 1); the JSON report (--json) lists each with its reason"
    ) in messages(doc, "info")


def test_in_the_gitlab_templates_the_left_out_findings_point_to_the_jobs_artifact() -> None:
    policy = Policy(source="policy.yaml", allowlist=(AllowlistEntry(0, "CVE-2024-0001", "not shipped"),))
    evaluation = evaluation_of(finding("CVE-2024-0001"), finding("CVE-2024-0002"), policy=policy)
    options = GitLabReportOptions(START, END, json_hint=GITLAB_WORDS.json_report)
    (left_out,) = [m for m in messages(render(evaluation, options), "info") if "left out" in m]
    assert left_out == (
        "1 finding left out: 1 allowlisted by the policy (allowlist[0]: 1); the JSON report (the job's "
        "container-gate.json artifact) lists each with its reason"
    )


def test_verdict_policy_failures_and_warnings_are_messages() -> None:
    policy = Policy(
        source="policy.yaml",
        fail_on_expired=True,
        allowlist=(AllowlistEntry(0, "CVE-2020-0001", "old", expires=dt.date(2025, 1, 1)),),
    )
    evaluation = evaluation_of(
        finding(severity=Severity.LOW),
        policy=policy,
        image=ImageInfo("app:1"),
        warnings=("the vulnerability DB is 9 days old\x1b[2J",),
    )
    doc = render(evaluation)
    assert messages(doc, "info")[0] == (
        "container-gate verdict: fail under policy policy.yaml; 0 blocking and 1 informational finding(s) reported"
    )
    assert messages(doc, "warn") == [
        evaluation.policy_failures[0],
        "the vulnerability DB is 9 days old\\x1b[2J",
    ]


def test_advisory_mode_says_what_would_block() -> None:
    doc = render(evaluation_of(finding(), policy=Policy(source="p", mode=Mode.ADVISORY)))
    assert messages(doc, "info")[0].endswith("; the policy is advisory: 1 finding(s) would block")


def test_image_fallbacks() -> None:
    with_option = render(
        evaluation_of(finding()), GitLabReportOptions(START, END, image="registry.example/app:abc")
    )
    assert with_option["vulnerabilities"][0]["location"]["image"] == "registry.example/app:abc"
    assert with_option["vulnerabilities"][0]["location"]["operating_system"] == UNKNOWN_OS

    from_report = render(
        evaluation_of(finding(), image=ImageInfo("ghcr.io/acme/app:1")),
        GitLabReportOptions(START, END, image="other:1"),
    )
    assert from_report["vulnerabilities"][0]["location"]["image"] == "ghcr.io/acme/app:1"

    nothing = render(evaluation_of(finding()))
    assert nothing["vulnerabilities"][0]["location"]["image"] == UNKNOWN_IMAGE
    assert any("--image-name" in m for m in messages(nothing, "warn"))


def test_default_branch_image() -> None:
    good = GitLabReportOptions(START, END, default_branch_image="registry.example:5000/group/app:main")
    location = render(evaluation_of(finding()), good)["vulnerabilities"][0]["location"]
    assert location["default_branch_image"] == "registry.example:5000/group/app:main"

    bad = GitLabReportOptions(START, END, default_branch_image="app with spaces:main")
    doc = render(evaluation_of(finding()), bad)
    assert "default_branch_image" not in doc["vulnerabilities"][0]["location"]
    assert any("default branch image" in m for m in messages(doc, "warn"))


def test_hostile_report_still_validates() -> None:
    f = finding(
        "CVE-2024-0001\n",
        pkg="\x00pkg\u202e<&>",
        version="",
        path="\n",
        aliases=("", "GHSA-\x1b"),
        title="\n",
        description="\x00",
        primary_url="https://example.org/\nx",
    )
    render(evaluation_of(f, image=ImageInfo(" \n", distro="\x1b")))


def strings(value: object) -> Iterator[str]:
    """Every string of a decoded JSON document, keys and values."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_no_nul_character_reaches_what_gitlab_stores() -> None:
    # GitLab's database refuses U+0000 in a text or JSON column: one in an identifier or a location
    # would keep the whole report from being ingested.
    f = finding("CVE-2024-0001\x00", pkg="open\x00ssl", version="3.0\x00.2-1", aliases=("GHSA-\x00",))
    image = ImageInfo("registry.example/app\x00:1", distro="debian\x00 12")
    doc = render(evaluation_of(f, image=image, scanners=(ScannerInfo("trivy", "0.50\x00"),)))
    assert not [text for text in strings(doc) if "\x00" in text]
    (vuln,) = doc["vulnerabilities"]
    assert [i["value"] for i in vuln["identifiers"]] == ["CVE-2024-0001", "GHSA-"]
    assert vuln["location"]["dependency"] == {"package": {"name": "openssl"}, "version": "3.0.2-1"}
    assert vuln["location"]["image"] == "registry.example/app:1"
    assert doc["scan"]["scanner"]["version"] == "0.50"
    # The id is what it always was: the scanner's id, package and path, NUL and all.
    assert vuln["id"] == vulnerability_uuid(f)


def test_error_report_is_a_failed_scan() -> None:
    doc = json.loads(render_gitlab_error("report.json: not valid JSON", 2, OPTIONS))
    assert validate_container_scanning_report(doc) == []
    assert doc["scan"]["status"] == "failure"
    assert doc["vulnerabilities"] == []
    assert doc["scan"]["messages"] == [
        {
            "level": "fatal",
            "value": "container-gate could not decide (exit code 2): report.json: not valid JSON",
        }
    ]


# --- remediations --------------------------------------------------------------------------------

APP_DOCKERFILE = (
    "FROM debian:12\n"
    "COPY app/ /app/\n"
    "RUN apt-get update \\\n"
    "    && apt-get install -y libcurl4 \\\n"
    "    && rm -rf /var/lib/apt/lists/*\n"
    "USER app\n"
    'CMD ["/app/run"]\n'
)


def curl_evaluation(line: int = 3) -> Evaluation:
    own = Layer(index=2, created_by="RUN apt-get ...", origin=LayerOrigin.OWN, dockerfile_line=line)
    base = Layer(index=0, created_by="ADD rootfs", origin=LayerOrigin.BASE, dockerfile_line=1)
    return evaluation_of(
        finding("CVE-2023-38545", pkg="libcurl4", version="7.88.1-10", source_name="curl",
                fixed=("7.88.1-10+deb12u4",), layer=own),
        finding("CVE-2023-46219", pkg="libcurl4", version="7.88.1-10", source_name="curl",
                fixed=("7.88.1-10+deb12u5",), severity=Severity.MEDIUM, layer=own),
        finding("CVE-2023-4911", pkg="libc6", version="2.36-9", fixed=("2.36-9+deb12u3",), layer=base),
        image=ImageInfo("app:1", base_image="debian:12"),
    )  # fmt: skip


def applied(tmp_path: Path, path: str, text: str, diff: str) -> str:
    """The file after `git apply` of the decoded diff (checked first with `git apply --check`)."""
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_bytes(text.encode())
    patch = tmp_path / "fix.patch"
    patch.write_bytes(base64.b64decode(diff))
    for args in (["--check"], []):
        done = subprocess.run(
            ["git", "apply", *args, str(patch)], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    return (tmp_path / path).read_bytes().decode()


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_an_own_layer_upgrade_becomes_a_patch_that_git_applies(tmp_path: Path, newline: str) -> None:
    text = APP_DOCKERFILE.replace("\n", newline)
    options = replace(OPTIONS, dockerfile=DockerfileText("docker/Dockerfile", text))
    evaluation = curl_evaluation()
    doc = render(evaluation, options)
    (remediation,) = doc["remediations"]
    curl_ids = [
        v["id"]
        for v in doc["vulnerabilities"]
        if v["location"]["dependency"]["package"]["name"] == "libcurl4"
    ]
    assert [fix["id"] for fix in remediation["fixes"]] == curl_ids
    assert remediation["summary"] == (
        "Upgrade curl (libcurl4) 7.88.1-10 → 7.88.1-10+deb12u5: add `RUN apt-get update && apt-get install -y "
        "--only-upgrade libcurl4 && rm -rf /var/lib/apt/lists/*` after Dockerfile line 5"
    )
    patched = applied(tmp_path, "docker/Dockerfile", text, remediation["diff"]).split(newline)
    # After the whole RUN (three lines with its continuations), before the USER switch.
    assert (
        patched[5]
        == "RUN apt-get update && apt-get install -y --only-upgrade libcurl4 && rm -rf /var/lib/apt/lists/*"
    )
    assert patched[4] == "    && rm -rf /var/lib/apt/lists/*"
    assert patched[6] == "USER app"


def test_a_patch_names_its_own_vulnerability_where_another_shares_its_name() -> None:
    # An npm package of the same name and vulnerability, listed first: its id is the plain one,
    # and the Debian package's (told apart by its version) is the one the patch fixes.
    own = Layer(index=2, created_by="RUN apt-get ...", origin=LayerOrigin.OWN, dockerfile_line=3)
    evaluation = evaluation_of(
        finding("CVE-2023-38545", pkg="libcurl4", version="7.0.0", type="npm", fixed=("8.0.0",)),
        finding("CVE-2023-38545", pkg="libcurl4", version="7.88.1-10", fixed=("7.88.1-10+deb12u4",), layer=own),
    )  # fmt: skip
    doc = render(evaluation, replace(OPTIONS, dockerfile=DockerfileText("Dockerfile", APP_DOCKERFILE)))
    ids = {v["details"]["package_type"]["value"]: v["id"] for v in doc["vulnerabilities"]}
    assert len(set(ids.values())) == 2
    (remediation,) = doc["remediations"]
    assert remediation["fixes"] == [{"id": ids["debian"]}]


def test_a_patch_to_a_dockerfile_that_ends_without_a_newline(tmp_path: Path) -> None:
    text = "FROM alpine:3.19\nRUN apk add libssl3\nCMD sh"
    own = Layer(index=1, created_by="RUN apk add libssl3", origin=LayerOrigin.OWN, dockerfile_line=2)
    evaluation = evaluation_of(
        finding(
            "CVE-2024-0001", pkg="libssl3", version="3.1.4-r0", type="alpine", fixed=("3.1.4-r1",), layer=own
        )
    )
    doc = render(evaluation, replace(OPTIONS, dockerfile=DockerfileText("Dockerfile", text)))
    (remediation,) = doc["remediations"]
    assert applied(tmp_path, "Dockerfile", text, remediation["diff"]) == (
        "FROM alpine:3.19\nRUN apk add libssl3\nRUN apk upgrade --no-cache libssl3\nCMD sh"
    )


@pytest.mark.parametrize(
    ("dockerfile", "line"),
    [
        (None, 3),  # no Dockerfile given
        (DockerfileText("docker/Docker file", APP_DOCKERFILE), 3),  # a path git would quote
        (DockerfileText("Dockerfile", APP_DOCKERFILE), 2),  # a COPY brought it: nothing to upgrade
        (DockerfileText("Dockerfile", APP_DOCKERFILE), 9),  # the line is not in this Dockerfile
        (DockerfileText("Dockerfile", "not a Dockerfile\n"), 3),
    ],
)
def test_no_patch_where_it_is_not_certain(dockerfile: DockerfileText | None, line: int) -> None:
    doc = render(curl_evaluation(line), replace(OPTIONS, dockerfile=dockerfile))
    assert doc["remediations"] == []
    # The base refresh and the other upgrades still say what to do.
    solutions = {
        v["location"]["dependency"]["package"]["name"]: v["solution"] for v in doc["vulnerabilities"]
    }
    assert solutions["libc6"].startswith("Rebuild on a refreshed base image `debian:12`")


class _Forgetful(dict[Any, Any]):
    """A cache that never finds what it was given."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default


def _shared_parts_evaluation() -> Evaluation:
    base, own = factories.layer(LayerOrigin.BASE), factories.layer(LayerOrigin.OWN, 3)
    safe, unsafe = "https://example.com/a", "https://example.com/a b"
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    evaluation = evaluation_of(
        finding("CVE-2024-0001", pkg="a", layer=base, cvss=9.8, primary_url=safe, aliases=("GHSA-x",)),
        finding("CVE-2024-0001", pkg="b", layer=base, cvss=9.8, primary_url=unsafe, aliases=("GHSA-x",)),
        replace(
            finding("CVE-2024-0001", pkg="c", layer=own, primary_url=safe), cvss=Cvss(9.8, vector, "nvd")
        ),
        replace(finding("CVE-2024-0001", pkg="f", primary_url=safe), cvss=Cvss(9.1, vector, "ghsa")),
        replace(finding("CVE-2024-0004", pkg="g", primary_url=safe), cvss=Cvss(9.8, vector, "nvd")),
        finding("CVE-2024-0002", pkg="a", layer=own, severity=Severity.LOW, primary_url=safe),
        finding("CVE-2024-0002", pkg="d", layer=replace(own, created_by="RUN x\n\x1b[31m"), fixed=()),
        finding("CVE-2024-0003", pkg="e", severity=Severity.MEDIUM, cvss=5.0),
        finding("TEMP-0001", pkg="h", primary_url=safe),
        finding("TEMP-0001", pkg="i", primary_url=unsafe),
        finding("TEMP-0001", pkg="j", primary_url="https://example.com/b"),
        image=ImageInfo(reference="registry.example/app:1", base_image="debian:12"),
    )
    # The same reason and rule object under another disposition.
    first = evaluation.decisions[0]
    other = Disposition.INFORMATIONAL if first.disposition is Disposition.BLOCKING else Disposition.BLOCKING
    again = replace(first, finding=replace(first.finding, package=replace(first.finding.package, name="k")))
    return replace(evaluation, decisions=(*evaluation.decisions, replace(again, disposition=other)))


@pytest.mark.parametrize(
    "evaluation",
    [_shared_parts_evaluation(), *(corpus_evaluation(p) for p in corpus_reports()[:12])],
    ids=lambda e: e.report.sources[0] if e.report.sources else "-",
)
def test_parts_made_once_per_report_are_the_parts_made_for_each_finding(
    evaluation: Evaluation, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = GitLabReportOptions(start_time=START, end_time=END)
    once = render_gitlab(evaluation, options)

    class Unshared(gitlab._Shared):
        def __init__(self, evaluation: Evaluation) -> None:
            super().__init__(evaluation)
            self.decisions = _Forgetful()
            self.layers = _Forgetful()
            self.identifiers = _Forgetful()
            self.vectors = _Forgetful()
            self.fixes = _Forgetful()
            self.scores = _Forgetful()
            self.scanners = _Forgetful()
            self.names = _Forgetful()
            self.links = _Forgetful()

    monkeypatch.setattr(gitlab, "_Shared", Unshared)
    assert render_gitlab(evaluation, options) == once


# GitLab links these after rendering Markdown, outside code: merge requests, labels,
# milestones, snippets and epics, besides GitHub's mentions and issue references.
GITLAB_REFERENCE = re.compile(r"(?<![\w\\])[!~%$&][\w\"]")


@pytest.mark.parametrize(
    ("pkg", "version", "fixed", "pkg_type"),
    [
        ("@babel/traverse", "7.22.0", "7.23.2", "npm"),  # a real npm scope: `@babel` is a group name
        ("evil<img src=x onerror=alert(1)>", "1.0", "2.0", "debian"),
        ("[click](https://evil.example/x) #1 !2 ~bug %v1 $3 &4", "1.0", "2.0 @root", "debian"),
    ],
)
def test_the_solution_is_inert_in_the_issue_gitlab_creates_from_it(
    pkg: str, version: str, fixed: str, pkg_type: str
) -> None:
    # GitLab pastes `solution` into the Markdown description of an issue created from the
    # vulnerability: no name from the report may mention, reference, link or add HTML there.
    for status in (VendorStatus.FIXED, VendorStatus.AFFECTED):
        found = finding(pkg=pkg, version=version, fixed=(fixed,), type=pkg_type, status=status)
        (vuln,) = render(evaluation_of(found))["vulnerabilities"]
        html = to_html(f"### Solution:\n\n{vuln['solution']}\n")
        assert inert_problems(html, allowed_links=set()) == [], vuln["solution"]
        text = "\n".join(HtmlFacts(html).free_text)
        assert GITLAB_REFERENCE.search(text) is None, text
        assert pkg.split("<")[0] in vuln["solution"]  # named as it is, in a code span


@pytest.mark.parametrize(
    "vuln_id",
    ["CVE-2024-1](https://evil.example) @root <b>x</b>", "@npm/evil", "x" * 300 + " #1", " \t "],
)
def test_an_identifier_is_inert_in_the_issue_gitlab_creates_from_it(vuln_id: str) -> None:
    # The issue's "Identifiers" list is `* [name](url)` per identifier, in Markdown.
    found = finding(vuln_id, primary_url="https://avd.aquasec.com/nvd/cve-2024-1")
    doc = render(evaluation_of(found))
    assert validate_container_scanning_report(doc) == []
    (vuln,) = doc["vulnerabilities"]
    (identifier,) = vuln["identifiers"]
    assert identifier["value"] == vuln_id  # GitLab tells identifiers apart by the id itself
    assert 0 < len(identifier["name"]) <= 255
    html = to_html(f"* [{identifier['name']}]({identifier['url']})\n")
    assert inert_problems(html, allowed_links={identifier["url"]}) == [], identifier["name"]
    assert GITLAB_REFERENCE.search("\n".join(HtmlFacts(html).free_text)) is None


def test_an_advisory_id_is_named_as_it_is() -> None:
    for vuln_id in ("CVE-2024-0001", "GHSA-abcd-efgh-ijkl", "RHSA-2024:0001", "pyup.io-38834"):
        (vuln,) = render(evaluation_of(finding(vuln_id)))["vulnerabilities"]
        assert vuln["identifiers"][0]["name"] == vuln_id


def test_a_solution_too_long_for_the_schema_is_not_cut_inside_a_code_span() -> None:
    # Many long fixed versions: the solution exceeds the schema's maxLength. A cut inside a code
    # span would leave its fence open, and the rest (`@root`, `#1`, a link) would be Markdown.
    fixed = tuple(f"{n}.0-[x](https://evil.example) @root #1 {'y' * 400}" for n in range(20))
    base = Layer(index=0, created_by="ADD rootfs", origin=LayerOrigin.BASE, dockerfile_line=1)
    found = finding(pkg="@babel/traverse", version="0.1", fixed=fixed, type="npm", layer=base)
    doc = render(evaluation_of(found, image=ImageInfo("app:1", base_image="debian:12")))
    assert validate_container_scanning_report(doc) == []
    (vuln,) = doc["vulnerabilities"]
    assert len(vuln["solution"]) <= gitlab.SOLUTION_LIMIT
    html = to_html(f"### Solution:\n\n{vuln['solution']}\n")
    assert inert_problems(html, allowed_links=set()) == [], vuln["solution"]
    text = "\n".join(HtmlFacts(html).free_text)
    assert GITLAB_REFERENCE.search(text) is None, text
    assert re.search(r"(?<![\w\\\u200b])@root", text) is None, text
    assert "traverse" in vuln["solution"]
