"""The SARIF output for GitHub code scanning: valid for both judges on every corpus report, and right.

Validity has two independent judges (tests/support/sarif_tools.py): the OASIS schema, and Microsoft's
SARIF Multitool with the GitHub ingestion rules. `github_problems` checks what GitHub requires and the
schema does not (non-empty texts of at most 1024 characters, a security severity in range, locations
with a start line, unique fingerprints, the category's form).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]  # cmark-gfm bindings ship no type information
import pytest

from gate.cli import main as cli
from gate.enrich.baseline import BaselineState
from gate.errors import GateError, UsageError
from gate.model import Cvss, ImageInfo, Layer, LayerOrigin, ScannerInfo, Severity, VendorStatus
from gate.policy.evaluation import Disposition, Evaluation
from gate.policy.model import AllowlistEntry, FailOn, Mode, Policy
from gate.render.sarif import (
    FINGERPRINT_KEY,
    SECURITY_SEVERITY,
    SarifLimits,
    SarifOptions,
    finding_fingerprint,
    gzip_size,
    render_sarif,
    repo_uri,
    sarif_output,
)
from gate.run_wording import ACTION_WORDS
from tests.support.corpus import corpus_evaluation, corpus_file, corpus_reports
from tests.support.factories import NOW, evaluation_of, finding, package
from tests.support.sarif_tools import (
    MultitoolReport,
    run_multitool_validate,
    run_multitool_validate_many,
    validate_sarif_schema,
)

OPTIONS = SarifOptions(tool_version="1.4.2", information_uri="https://example.com/container-gate")
"""Fixed tool version and home page, so golden files do not change with a release."""
TEXT_LIMIT = 1024
LEVELS = {"error", "warning", "note"}
LEFT_OUT = re.compile(r"^(\d+) results left out to fit GitHub's limits: ")


def render(evaluation: Evaluation, options: SarifOptions = OPTIONS) -> dict[str, Any]:
    """The SARIF log as parsed JSON, after asserting both the schema and GitHub's rules hold."""
    doc: dict[str, Any] = json.loads(render_sarif(evaluation, options))
    assert validate_sarif_schema(doc) == []
    assert github_problems(doc) == []
    return doc


def github_problems(doc: dict[str, Any]) -> list[str]:
    """What GitHub code scanning requires beyond the schema (github-code-scanning.md)."""
    problems: list[str] = []

    def text_ok(where: str, text: object) -> None:
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: empty")
        elif len(text) > TEXT_LIMIT:
            problems.append(f"{where}: {len(text)} characters")

    if doc.get("$schema") != "https://json.schemastore.org/sarif-2.1.0.json" or doc.get("version") != "2.1.0":
        problems.append("$schema or version")
    if len(doc["runs"]) != 1:
        return [*problems, f"{len(doc['runs'])} runs"]
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    if driver["name"] != "container-gate" or not isinstance(driver.get("rules"), list):
        problems.append("driver name or rules")
    category = run["automationDetails"]["id"]
    if not category.endswith("/") or "//" in category:
        problems.append(f"category {category!r}")
    if run["invocations"][0]["executionSuccessful"] is not True:
        problems.append("executionSuccessful")
    rule_ids = [r["id"] for r in driver["rules"]]
    if len(set(rule_ids)) != len(rule_ids):
        problems.append("duplicate rule ids")
    for i, rule in enumerate(driver["rules"]):
        at = f"rules[{i}]"
        text_ok(f"{at}.shortDescription", rule["shortDescription"]["text"])
        text_ok(f"{at}.fullDescription", rule["fullDescription"]["text"])
        if not rule["help"]["text"].strip() or not rule["help"]["markdown"].strip():
            problems.append(f"{at}.help")
        if len(rule.get("name", "")) > 255 or rule.get("name") == rule["id"]:
            problems.append(f"{at}.name")
        if rule["defaultConfiguration"]["level"] not in LEVELS:
            problems.append(f"{at}.defaultConfiguration.level")
        props = rule["properties"]
        if not 0 < len(props["tags"]) <= 10:
            problems.append(f"{at}.tags")
        score = props.get("security-severity")
        if score is not None and not (isinstance(score, str) and 0.0 < float(score) <= 10.0):
            problems.append(f"{at}.security-severity {score!r}")
    fingerprints = []
    for i, result in enumerate(run["results"]):
        at = f"results[{i}]"
        text_ok(f"{at}.message", result["message"]["text"])
        if rule_ids[result["ruleIndex"]] != result["ruleId"]:
            problems.append(f"{at}.ruleIndex")
        if result["level"] not in LEVELS:
            problems.append(f"{at}.level")
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        if re.match(r"[a-z][a-z0-9+.-]*:|/", uri, re.IGNORECASE) or "\\" in uri:
            problems.append(f"{at}: uri {uri!r} is not repository-relative")
        if not isinstance(physical["region"].get("startLine"), int) or physical["region"]["startLine"] < 1:
            problems.append(f"{at}: startLine")
        prints = result["partialFingerprints"]
        if (
            not prints.get(FINGERPRINT_KEY)
            or prints.get("primaryLocationLineHash") != prints[FINGERPRINT_KEY]
        ):
            problems.append(f"{at}.partialFingerprints")
        fingerprints.append(prints.get(FINGERPRINT_KEY))
    if len(set(fingerprints)) != len(fingerprints):
        problems.append("fingerprints are not unique")
    return problems


def results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["runs"][0]["results"])


def rules(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}


def notifications(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["runs"][0]["invocations"][0].get("toolExecutionNotifications", []))


# --- every corpus report -------------------------------------------------------------------------


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_corpus_report_meets_the_schema_and_githubs_rules(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    doc = render(evaluation)

    run = doc["runs"][0]
    assert run["automationDetails"]["id"].startswith("container-gate/")
    # Every finding is accounted for: one result each (no corpus report has two versions at a place).
    assert len(run["results"]) == len(evaluation.decisions)
    assert run["properties"]["counts"] == evaluation.counts.as_dict()
    for decision, result in zip(evaluation.decisions, run["results"], strict=True):
        f = decision.finding
        assert result["ruleId"] == f.vulnerability_id
        assert result["properties"]["disposition"] == decision.disposition.value
        assert result["properties"]["installedVersion"] == f.package.version
        accepted = decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED)
        if accepted:
            assert result["suppressions"] == [
                {"kind": "external", "status": "accepted", "justification": decision.reason}
            ]
        else:
            # SARIF 2.1.0 §3.27.23: empty, not absent, is "not suppressed".
            assert result["suppressions"] == []


@pytest.fixture(scope="module")
def corpus_multitool(tmp_path_factory: pytest.TempPathFactory) -> dict[str, MultitoolReport]:
    """The Multitool's verdict on the SARIF of every corpus report, one file each, in one run."""
    work = tmp_path_factory.mktemp("sarif-corpus")
    paths = {}
    for report in corpus_reports():
        paths[report.name] = work / f"{report.name}.sarif"
        paths[report.name].write_text(render_sarif(corpus_evaluation(report), OPTIONS), encoding="utf-8")
    for report in BASELINE_REPORTS:
        paths[f"{report.name}+baseline"] = work / f"{report.name}+baseline.sarif"
        paths[f"{report.name}+baseline"].write_text(
            render_sarif(with_baseline(report), OPTIONS), encoding="utf-8"
        )
    return dict(zip(paths, run_multitool_validate_many(list(paths.values())), strict=True))


BASELINE_REPORTS = corpus_reports()[:6]


def with_baseline(report: Path) -> Evaluation:
    """The corpus report's evaluation with its decisions in turn new, unchanged and worse."""
    evaluation = corpus_evaluation(report)
    states = list(BaselineState)
    decisions = tuple(replace(d, baseline=states[i % 3]) for i, d in enumerate(evaluation.decisions))
    return replace(evaluation, decisions=decisions)


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_corpus_report_passes_the_multitool(path: Path, corpus_multitool: dict[str, MultitoolReport]) -> None:
    verdict = corpus_multitool[path.name]
    assert verdict.errors == [], [str(f) for f in verdict.errors]
    assert verdict.warnings == [], [str(f) for f in verdict.warnings]


@pytest.mark.parametrize("path", BASELINE_REPORTS, ids=lambda p: p.name)
def test_baseline_states_pass_the_multitool(path: Path, corpus_multitool: dict[str, MultitoolReport]) -> None:
    states = {
        result.get("baselineState")
        for result in results(json.loads(render_sarif(with_baseline(path), OPTIONS)))
    }
    assert states <= {"new", "unchanged", "updated"}
    assert len(states) == min(3, len(corpus_evaluation(path).decisions))
    verdict = corpus_multitool[f"{path.name}+baseline"]
    assert verdict.errors == [], [str(f) for f in verdict.errors]
    assert verdict.warnings == [], [str(f) for f in verdict.warnings]


def test_corpus_shows_suppressions_of_both_kinds() -> None:
    kinds: set[str] = set()
    for path in corpus_reports():
        for result in results(render(corpus_evaluation(path))):
            if result["suppressions"]:
                kinds.add(result["properties"]["disposition"])
    assert kinds == {"allowlisted", "ignored"}


@pytest.mark.parametrize(
    ("name", "golden_name"),
    [
        ("aquasecurity-trivy__alpine-310.json.golden", "sarif-trivy-alpine-310.sarif"),
        ("anchore-grype__keycloak-test.json", "sarif-grype-keycloak-test.sarif"),
        (
            "snyk-snyk-to-html__test-report-container-with-app-vulns.json",
            "sarif-snyk-container-app-vulns.sarif",
        ),
    ],
)
def test_golden(name: str, golden_name: str, golden: Callable[[str, str], None]) -> None:
    path = next(p for p in corpus_reports() if p.name == name)
    golden(golden_name, render_sarif(corpus_evaluation(path), OPTIONS))


# --- rules ---------------------------------------------------------------------------------------


def test_rule_texts_help_and_tags() -> None:
    f = finding(
        "CVE-2024-0001",
        aliases=("GHSA-abcd-efgh-ijkl", "DSA-5600-1"),
        title="openssl: a flaw",
        description="First paragraph.\n\nSecond paragraph.",
        primary_url="https://avd.aquasec.com/nvd/cve-2024-0001",
    )
    doc = render(evaluation_of(f, replace(f, package=package("libssl3", "3.0.2-1"))))
    rule = rules(doc)["CVE-2024-0001"]
    assert rule["name"] == "OsPackageVulnerability"
    assert rule["shortDescription"]["text"] == "openssl: a flaw"
    assert rule["fullDescription"]["text"] == "First paragraph. Second paragraph."
    assert rule["helpUri"] == "https://avd.aquasec.com/nvd/cve-2024-0001"
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"] == {
        "tags": ["security", "vulnerability", "high", "debian"],
        "security-severity": "8.0",
    }
    help_text = rule["help"]["text"]
    assert "- openssl 3.0.2-1: fixed in 3.0.13-1 (blocking)" in help_text
    assert "- libssl3 3.0.2-1: fixed in 3.0.13-1 (blocking)" in help_text
    assert "More information: https://avd.aquasec.com/nvd/cve-2024-0001" in help_text
    markdown = rule["help"]["markdown"]
    assert "| `openssl` | - | `3.0.2-1` | `3.0.13-1` | blocking |" in markdown
    assert "[GHSA\\-abcd\\-efgh\\-ijkl](https://github.com/advisories/GHSA-abcd-efgh-ijkl)" in markdown
    assert "DSA\\-5600\\-1" in markdown


def test_rule_without_title_or_description_still_has_every_required_text() -> None:
    rule = rules(render(evaluation_of(finding("CVE-2024-0002"))))["CVE-2024-0002"]
    assert rule["shortDescription"]["text"] == "CVE-2024-0002"
    assert rule["fullDescription"]["text"] == "CVE-2024-0002"
    assert "helpUri" not in rule


def test_long_texts_are_cut_cleanly_to_githubs_limit() -> None:
    words = " ".join(f"word{i}" for i in range(600))
    rule = rules(render(evaluation_of(finding(title=words, description=words))))["CVE-2024-0001"]
    for key in ("shortDescription", "fullDescription"):
        text = rule[key]["text"]
        assert len(text) <= TEXT_LIMIT
        assert text.endswith("…")
        assert re.fullmatch(r"word\d+", text[:-1].split(" ")[-1])  # cut between words
        assert words.startswith(text[:-1])


@pytest.mark.parametrize(
    ("severity", "cvss", "expected"),
    [
        (Severity.CRITICAL, None, "9.5"),
        (Severity.HIGH, None, "8.0"),
        (Severity.MEDIUM, None, "5.5"),
        (Severity.LOW, None, "2.0"),
        (Severity.UNKNOWN, None, None),
        (Severity.LOW, 9.8, "9.8"),  # the CVSS score wins over the severity table
        (Severity.UNKNOWN, 7.25, "7.2"),
        (Severity.HIGH, 0.0, "8.0"),  # a score of 0 is no assessment
        (Severity.MEDIUM, 11.0, "5.5"),  # out of range: ignored
    ],
)
def test_security_severity(severity: Severity, cvss: float | None, expected: str | None) -> None:
    f = replace(finding(severity=severity), cvss=Cvss(cvss) if cvss is not None else None)
    props = rules(render(evaluation_of(f)))["CVE-2024-0001"]["properties"]
    assert props.get("security-severity") == expected
    assert props["tags"][2] == severity.name.lower()


def github_band(score: float) -> Severity:
    """GitHub's reading of a security severity (github-code-scanning.md)."""
    if score > 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW


def test_security_severity_table_sits_inside_githubs_bands() -> None:
    assert {s: github_band(float(v)) for s, v in SECURITY_SEVERITY.items()} == {
        s: s for s in Severity if s is not Severity.UNKNOWN
    }


def test_rule_keeps_at_most_ten_tags() -> None:
    fs = [finding(pkg=f"p{i}", path=f"app/{i}") for i in range(12)]
    fs = [replace(f, package=replace(f.package, type=f"type{i}")) for i, f in enumerate(fs)]
    tags = rules(render(evaluation_of(*fs)))["CVE-2024-0001"]["properties"]["tags"]
    assert len(tags) == 10
    assert tags[:4] == ["security", "vulnerability", "high", "type0"]


# --- results -------------------------------------------------------------------------------------


def test_the_layer_s_history_text_ends_without_blanks_in_the_message() -> None:
    # Before the full stop: "Installed by layer 3, own layer: RUN apk add zlib ." read oddly.
    layer = Layer(
        diff_id="sha256:" + "a" * 64, index=3, created_by="RUN apk add zlib  ", origin=LayerOrigin.OWN
    )
    f = replace(finding(pkg="zlib", version="1.2", fixed=("1.3",)), layer=layer)
    (result,) = results(render(evaluation_of(f)))
    assert result["message"]["text"].endswith("Installed by layer 3, own layer: RUN apk add zlib.")


def test_message_first_sentence_carries_the_verdict() -> None:
    layer = Layer(
        diff_id="sha256:" + "a" * 64,
        index=3,
        created_by="RUN apt-get install -y openssl",
        origin=LayerOrigin.OWN,
    )
    f = replace(finding(pkg="openssl", version="3.0.2", fixed=("3.0.13",)), layer=layer)
    (result,) = results(render(evaluation_of(f)))
    text = result["message"]["text"]
    assert text.startswith(
        "CVE-2024-0001 in openssl 3.0.2 (fixed in 3.0.13): HIGH, blocking: "
        "HIGH is at or above the blocking severity HIGH. "
    )
    assert "Installed by layer 3, own layer: RUN apt-get install -y openssl." in text
    props = result["properties"]
    assert props["layer"] == {
        "index": 3,
        "diffId": "sha256:" + "a" * 64,
        "origin": "own",
        "createdBy": "RUN apt-get install -y openssl",
    }
    assert (props["package"], props["installedVersion"], props["fixedVersions"]) == (
        "openssl",
        "3.0.2",
        ["3.0.13"],
    )


@pytest.mark.parametrize(
    ("severity", "policy", "disposition", "level"),
    [
        (Severity.HIGH, Policy(source="p"), "blocking", "error"),
        (Severity.MEDIUM, Policy(source="p"), "informational", "warning"),
        (Severity.LOW, Policy(source="p"), "informational", "note"),
        (Severity.UNKNOWN, Policy(source="p"), "informational", "note"),
        (Severity.HIGH, Policy(source="p", mode=Mode.ADVISORY), "informational", "warning"),
        (
            Severity.LOW,
            Policy(source="p", fail_on=FailOn(severity=Severity.LOW), mode=Mode.ADVISORY),
            "informational",
            "warning",
        ),
        (
            Severity.CRITICAL,
            Policy(source="p", ignore_statuses=frozenset({VendorStatus.FIXED})),
            "ignored",
            "note",
        ),
        (
            Severity.CRITICAL,
            Policy(source="p", allowlist=(AllowlistEntry(0, "CVE-2024-0001", "not shipped"),)),
            "allowlisted",
            "note",
        ),
    ],
)
def test_level_follows_the_disposition(
    severity: Severity, policy: Policy, disposition: str, level: str
) -> None:
    (result,) = results(render(evaluation_of(finding(severity=severity), policy=policy)))
    assert result["properties"]["disposition"] == disposition
    assert result["level"] == level


def test_suppressions_carry_the_reason_and_blocking_results_have_none() -> None:
    policy = Policy(
        source="p",
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}),
        allowlist=(AllowlistEntry(0, "CVE-2024-0001", "minizip is not shipped", package="zlib1g"),),
    )
    doc = render(
        evaluation_of(
            finding("CVE-2024-0001", pkg="zlib1g"),
            finding("CVE-2024-0002", status=VendorStatus.WILL_NOT_FIX, fixed=()),
            finding("CVE-2024-0003"),
            policy=policy,
        )
    )
    allowlisted, ignored, blocking = results(doc)
    assert allowlisted["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "allowlisted by allowlist[0]: minizip is not shipped",
        }
    ]
    assert ignored["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "vendor status will_not_fix is in ignore_statuses",
        }
    ]
    assert "no fixed version, vendor status will_not_fix" in ignored["message"]["text"]
    assert blocking["suppressions"] == []  # decided: not suppressed (absent would be "unknown")
    assert blocking["level"] == "error"


def test_location_is_the_dockerfile_line_when_known_else_the_location_file() -> None:
    from_line = Layer(diff_id="sha256:" + "b" * 64, index=0, origin=LayerOrigin.BASE, dockerfile_line=1)
    run_line = Layer(diff_id="sha256:" + "c" * 64, index=4, origin=LayerOrigin.OWN, dockerfile_line=12)
    evaluation = evaluation_of(
        replace(finding("CVE-2024-0001"), layer=from_line),
        replace(finding("CVE-2024-0002"), layer=run_line),
        finding("CVE-2024-0003"),
    )
    options = replace(OPTIONS, location_uri=".\\deploy\\image.yaml", dockerfile_uri="./docker/app.Dockerfile")
    places = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"],
        )
        for r in results(render(evaluation, options))
    ]
    assert places == [
        ("docker/app.Dockerfile", {"startLine": 1}),
        ("docker/app.Dockerfile", {"startLine": 12}),
        ("deploy/image.yaml", {"startLine": 1}),
    ]
    default = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(render(evaluation))
    ]
    assert default == ["Dockerfile", "Dockerfile", "Dockerfile"]


@pytest.mark.parametrize(
    ("path", "uri"),
    [("Dockerfile", "Dockerfile"), ("./a/b c.Dockerfile", "a/b%20c.Dockerfile"), ("a\\b#1", "a/b%231")],
)
def test_repo_uri_is_a_relative_uri(path: str, uri: str) -> None:
    assert repo_uri(path) == uri


@pytest.mark.parametrize(
    "path", ["/work/Dockerfile", "file:///work/Dockerfile", "C:\\x\\Dockerfile", "../Dockerfile", "", "a//b"]
)
def test_location_options_must_be_repository_relative(path: str) -> None:
    with pytest.raises(UsageError, match="relative to the repository root"):
        SarifOptions(location_uri=path)
    with pytest.raises(UsageError, match="dockerfile_uri"):
        SarifOptions(dockerfile_uri=path)


def test_two_installed_versions_at_one_place_make_one_result() -> None:
    policy = Policy(source="p", allowlist=(AllowlistEntry(0, "CVE-2024-0001", "old kernel", version="1.0"),))
    doc = render(evaluation_of(finding(version="1.0"), finding(version="2.0"), policy=policy))
    (result,) = results(doc)
    assert result["properties"]["installedVersion"] == "2.0"  # the blocking one is shown
    assert result["properties"]["otherInstalledVersions"] == ["1.0"]
    assert "Also installed here: 1.0 (fixed in 3.0.13-1), allowlisted." in result["message"]["text"]


# --- fingerprints --------------------------------------------------------------------------------


def fingerprint_of(evaluation: Evaluation) -> str:
    (result,) = results(render(evaluation))
    value: str = result["partialFingerprints"][FINGERPRINT_KEY]
    return value


def test_fingerprint_survives_version_layer_and_time_changes() -> None:
    base = replace(
        finding(path="usr/lib/python3/dist-packages/x"), layer=Layer(diff_id="sha256:" + "1" * 64, index=2)
    )
    before = fingerprint_of(evaluation_of(base))
    rebuilt = replace(
        base,
        package=replace(base.package, version="3.0.9-1"),
        fixed_versions=("3.0.14-1",),
        layer=Layer(diff_id="sha256:" + "2" * 64, digest="sha256:" + "3" * 64, index=5, dockerfile_line=9),
        cvss=Cvss(7.5),
    )
    later = NOW.replace(year=2027)
    image = ImageInfo("ghcr.io/acme/app:2.0", digest="sha256:" + "4" * 64)
    assert fingerprint_of(evaluation_of(rebuilt, now=later, image=image)) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda f: replace(f, vulnerability_id="CVE-2024-9999"),
        lambda f: replace(f, package=replace(f.package, name="libssl3")),
        lambda f: replace(f, package=replace(f.package, path="opt/other/x")),
    ],
    ids=["vulnerability", "package", "path"],
)
def test_fingerprint_differs_for_another_vulnerability_package_or_path(change: Callable[[Any], Any]) -> None:
    base = finding(path="usr/lib/python3/dist-packages/x")
    assert fingerprint_of(evaluation_of(change(base))) != fingerprint_of(evaluation_of(base))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("app/WEB-INF/lib/spring-beans-5.3.15.jar", "app/WEB-INF/lib/spring-beans-5.3.16.jar"),
        (
            "var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec",
            "var/lib/gems/2.5.0/specifications/activesupport-6.0.2.2.gemspec",
        ),
        (
            "usr/lib/python3.11/site-packages/x-1.2.dist-info/METADATA",
            "usr/lib/python3.11/site-packages/x-1.3.dist-info/METADATA",
        ),
    ],
    ids=["jar", "gemspec", "dist-info"],
)
def test_fingerprint_survives_an_upgrade_that_renames_the_packages_file(before: str, after: str) -> None:
    # The next build installs another version that still has the vulnerability: the jar's (or
    # gemspec's, or dist-info's) name changes with it, the alert must not.
    old = finding(path=before)
    new = replace(old, package=replace(old.package, version="3.0.9-1", path=after))
    assert fingerprint_of(evaluation_of(new)) == fingerprint_of(evaluation_of(old))


def test_copies_whose_paths_differ_only_in_versions_are_results_of_their_own() -> None:
    # python3.11's and python3.12's site-packages each hold a copy: two alerts, not one.
    copies = [finding(path=f"usr/lib/python3.{minor}/site-packages/x/METADATA") for minor in (11, 12)]
    doc = render(evaluation_of(*copies))
    found = {r["properties"]["packagePath"]: r["partialFingerprints"][FINGERPRINT_KEY] for r in results(doc)}
    assert sorted(found) == [c.package.path for c in copies]
    assert len(set(found.values())) == 2
    assert all("otherInstalledVersions" not in r["properties"] for r in results(doc))


def test_a_path_without_versions_keeps_the_fingerprint_of_its_exact_path() -> None:
    plain = finding(path="app/node_modules/lodash/package.json")
    assert finding_fingerprint(plain) == finding_fingerprint(plain, exact_path=True)


def test_os_package_fingerprint_follows_the_ecosystem_not_the_scanners_word() -> None:
    trivy = replace(finding(), package=package("zlib1g", "1.2"))
    grype = replace(finding(), package=package("zlib1g", "1.2", type="deb", purl="pkg:deb/debian/zlib1g@1.2"))
    gem = replace(finding(), package=package("zlib1g", "1.2", type="gemspec"))
    assert fingerprint_of(evaluation_of(trivy)) == fingerprint_of(evaluation_of(grype))
    assert fingerprint_of(evaluation_of(gem)) != fingerprint_of(evaluation_of(trivy))


# --- category ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "sources", "category"),
    [
        (
            ImageInfo("ghcr.io/acme/app:1.2@sha256:" + "a" * 64, os="linux", architecture="amd64"),
            (),
            "container-gate/ghcr.io/acme/app/linux-amd64/",
        ),
        (
            ImageInfo("localhost:5000/team/App:latest", os="linux", architecture="arm/v7"),
            (),
            "container-gate/localhost-5000/team/app/linux-arm-v7/",
        ),
        (ImageInfo("docker.io/library/python:3.12-slim"), (), "container-gate/python/unknown/"),
        (
            ImageInfo("docker-archive:out/app image.tar.gz", os="linux", architecture="arm64"),
            (),
            "container-gate/app-image/linux-arm64/",
        ),
        (ImageInfo("testdata/alpine-310.tar.gz"), (), "container-gate/alpine-310/unknown/"),
        (None, ("reports/trivy-app.json",), "container-gate/trivy-app/unknown/"),
        (None, (), "container-gate/unnamed/unknown/"),
    ],
)
def test_default_category(image: ImageInfo | None, sources: tuple[str, ...], category: str) -> None:
    evaluation = evaluation_of(finding(), image=image)
    evaluation = replace(evaluation, report=replace(evaluation.report, sources=sources))
    assert render(evaluation)["runs"][0]["automationDetails"]["id"] == category


def test_category_option_overrides_and_ends_with_a_slash() -> None:
    doc = render(evaluation_of(finding()), replace(OPTIONS, category="my-app/amd64"))
    assert doc["runs"][0]["automationDetails"]["id"] == "my-app/amd64/"


def test_tool_and_scanners() -> None:
    scanners = (
        ScannerInfo("trivy", "0.50.1"),
        ScannerInfo("grype", "0.74.0"),
        ScannerInfo("trivy", "0.50.1"),
    )
    tool = render(evaluation_of(finding(), scanners=scanners))["runs"][0]["tool"]
    assert {k: v for k, v in tool["driver"].items() if k != "rules"} == {
        "name": "container-gate",
        "informationUri": "https://example.com/container-gate",
        "semanticVersion": "1.4.2",
        "version": "1.4.2",
    }
    assert [(e["name"], e["version"]) for e in tool["extensions"]] == [
        ("trivy", "0.50.1"),
        ("grype", "0.74.0"),
    ]


# --- limits --------------------------------------------------------------------------------------


def mixed_evaluation() -> Evaluation:
    """2 blocking (CRITICAL, HIGH), 3 informational (MEDIUM, LOW, UNKNOWN), 1 allowlisted HIGH."""
    policy = Policy(source="p", allowlist=(AllowlistEntry(0, "CVE-2024-0006", "accepted"),))
    severities = [
        Severity.LOW,
        Severity.CRITICAL,
        Severity.UNKNOWN,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.HIGH,
    ]
    # Descriptions that do not compress away, so each result weighs in the gzip size.
    texts = [" ".join(hashlib.sha256(f"{i}-{j}".encode()).hexdigest() for j in range(12)) for i in range(6)]
    return evaluation_of(
        *(
            finding(f"CVE-2024-{i + 1:04d}", severity=s, description=texts[i])
            for i, s in enumerate(severities)
        ),
        policy=policy,
    )


def kept_ids(doc: dict[str, Any]) -> list[str]:
    return [r["ruleId"] for r in results(doc)]


def left_out_count(doc: dict[str, Any]) -> int:
    (note,) = notifications(doc)
    assert note["level"] == "warning"
    match = LEFT_OUT.match(note["message"]["text"])
    assert match, note
    return int(match.group(1))


def test_within_limits_nothing_is_left_out_and_no_notification() -> None:
    doc = render(mixed_evaluation())
    assert len(results(doc)) == 6
    assert notifications(doc) == []
    assert doc["runs"][0]["invocations"] == [{"executionSuccessful": True}]


@pytest.mark.parametrize(
    ("limits", "kept"),
    [
        # Allowlisted first, then the lowest severities of the informational ones; blocking last.
        (
            SarifLimits(max_results=5),
            ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004", "CVE-2024-0005"],
        ),
        (SarifLimits(max_results=3), ["CVE-2024-0002", "CVE-2024-0004", "CVE-2024-0005"]),
        (SarifLimits(max_results=1), ["CVE-2024-0002"]),
        (SarifLimits(max_rules=2), ["CVE-2024-0002", "CVE-2024-0005"]),
    ],
)
def test_result_and_rule_limits_leave_out_the_least_important(limits: SarifLimits, kept: list[str]) -> None:
    doc = render(mixed_evaluation(), replace(OPTIONS, limits=limits))
    assert kept_ids(doc) == kept
    assert sorted(rules(doc)) == kept  # no rule is left without a result
    assert left_out_count(doc) == 6 - len(kept)
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_a_run_keeps_no_more_results_than_github_takes_and_blocking_ones_last_to_go() -> None:
    # GitHub rejects more than 25,000 results per run and takes only the top 5,000 of those,
    # "prioritized by severity": past 5,000, CRITICAL findings the policy ignores (no fix yet)
    # would push a blocking HIGH out of code scanning. The gate keeps 5,000 itself, in its order.
    policy = Policy(source="p", fail_on=FailOn(fixable_only=True))
    findings = [
        finding(
            f"CVE-2023-{i:05d}",
            pkg=f"lib{i}",
            severity=Severity.CRITICAL,
            cvss=9.8,
            fixed=(),
            status=VendorStatus.AFFECTED,
        )
        for i in range(5000)
    ]
    blocking = finding("CVE-2024-0001", pkg="app", severity=Severity.HIGH, cvss=7.5)
    output = sarif_output(evaluation_of(*findings, blocking, policy=policy), OPTIONS)
    doc = json.loads(b"".join(output))
    assert len(results(doc)) == 5000
    assert "CVE-2024-0001" in kept_ids(doc)
    assert (output.left_out, output.results) == (1, 5001)
    assert "at most 5000 results per run" in (output.notice() or "")


def test_the_output_tells_how_many_results_it_left_out_and_why() -> None:
    evaluation = mixed_evaluation()
    assert sarif_output(evaluation, OPTIONS).notice() is None
    limits = SarifLimits(max_results=3)
    output = sarif_output(evaluation, replace(OPTIONS, limits=limits))
    assert b"".join(output) == render_sarif(evaluation, replace(OPTIONS, limits=limits)).encode()
    assert (output.left_out, output.results) == (3, 6)
    assert output.notice() == (
        "3 of 6 results left out to fit GitHub's limits (at most 3 results per run), blocking "
        "results last; the JSON report lists every finding"
    )
    gzip_limit = gzip_size(render_sarif(evaluation, OPTIONS)) - 1
    squeezed = sarif_output(evaluation, replace(OPTIONS, limits=SarifLimits(max_gzip_bytes=gzip_limit)))
    assert squeezed.left_out == 6 - len(results(json.loads(b"".join(squeezed))))
    assert squeezed.left_out > 0
    assert "bytes gzip-compressed" in (squeezed.notice() or "")


def test_gzip_limit_leaves_out_non_blocking_results_first() -> None:
    full = render_sarif(mixed_evaluation(), OPTIONS)
    limit = gzip_size(full) - 1
    text = render_sarif(mixed_evaluation(), replace(OPTIONS, limits=SarifLimits(max_gzip_bytes=limit)))
    assert len(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)) <= limit
    doc = render(mixed_evaluation(), replace(OPTIONS, limits=SarifLimits(max_gzip_bytes=limit)))
    assert "CVE-2024-0002" in kept_ids(doc)
    assert "CVE-2024-0005" in kept_ids(doc)
    assert "CVE-2024-0006" not in kept_ids(doc)  # the allowlisted one goes first
    assert left_out_count(doc) == 6 - len(results(doc))
    assert "bytes gzip-compressed" in notifications(doc)[0]["message"]["text"]


def test_gzip_limit_drops_blocking_results_only_after_every_other() -> None:
    evaluation = mixed_evaluation()
    # What two results and a notification weigh, plus a little for the notification's other words.
    limit = gzip_size(render_sarif(evaluation, replace(OPTIONS, limits=SarifLimits(max_results=2)))) + 40
    doc = render(evaluation, replace(OPTIONS, limits=SarifLimits(max_gzip_bytes=limit)))
    assert kept_ids(doc) == ["CVE-2024-0002", "CVE-2024-0005"]
    assert left_out_count(doc) == 4


def test_gzip_limit_below_an_empty_run_is_an_error() -> None:
    with pytest.raises(GateError, match="does not fit"):
        render_sarif(mixed_evaluation(), replace(OPTIONS, limits=SarifLimits(max_gzip_bytes=200)))


def test_left_out_output_passes_the_multitool(tmp_path: Path) -> None:
    path = tmp_path / "left-out.sarif"
    path.write_text(render_sarif(mixed_evaluation(), replace(OPTIONS, limits=SarifLimits(max_results=2))))
    verdict = run_multitool_validate(path)
    assert verdict.errors == [], [str(f) for f in verdict.errors]
    assert verdict.warnings == [], [str(f) for f in verdict.warnings]


def test_a_rule_of_an_id_and_title_of_whitespace_still_has_its_descriptions(tmp_path: Path) -> None:
    # GitHub refuses a rule without a short and a full description (the Multitool's GH2012).
    blank = finding(" \n", title=" ", description="\t")
    doc = render(evaluation_of(blank))
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == rule["fullDescription"]["text"] == "' \\n'"
    path = tmp_path / "blank.sarif"
    path.write_text(json.dumps(doc), encoding="utf-8")
    verdict = run_multitool_validate(path)
    assert verdict.errors == [], [str(f) for f in verdict.errors]


# --- untrusted text ------------------------------------------------------------------------------

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def hostile_evaluation() -> Evaluation:
    f = finding(
        "CVE-2024-0001",
        pkg=HOSTILE_NAME,
        version="[x](http://evil)",
        path="@admin/<script>alert(1)</script>",
        title="[click](http://evil) @admin <img src=x onerror=alert(1)>",
        description="| a | b |\n# heading @admin/team ![i](http://evil/i.png)",
        aliases=("[x](javascript:alert(1))",),
        primary_url="javascript:alert(1)",
    )
    return evaluation_of(f)


def test_the_help_links_to_the_reports_url_even_where_it_holds_an_entity() -> None:
    url = "https://tracker.example/show?id=1&amp;b=2&c=3"
    doc = render(evaluation_of(finding(primary_url=url)))
    rule = rules(doc)["CVE-2024-0001"]
    html: str = cmarkgfm.github_flavored_markdown_to_html(rule["help"]["markdown"])
    # Every link to it: the id's in the title and the URL's under "Links".
    assert (
        re.findall(r'href="([^"]*tracker[^"]*)"', html)
        == ["https://tracker.example/show?id=1&amp;amp;b=2&amp;c=3"] * 2
    )
    assert rule["helpUri"] == url


@pytest.mark.parametrize(
    ("url", "own_server"),
    [
        ("https://github.com/octo-org/app/issues/7", None),
        ("https://github.com/octo-org/app/pull/8/files", None),
        ("https://gitlab.example.com/group/app/-/merge_requests/3", None),
        ("https://git.example.com/octo-org/app/issues/9", "https://git.example.com"),
    ],
)
def test_the_help_names_an_issue_or_pull_request_url_without_linking_it(
    url: str, own_server: str | None
) -> None:
    # As the comments (comment_link_url): a link there is a reference the issue collects.
    doc = render(evaluation_of(finding(primary_url=url)), replace(OPTIONS, own_server=own_server))
    rule = rules(doc)["CVE-2024-0001"]
    html: str = cmarkgfm.github_flavored_markdown_to_html(rule["help"]["markdown"])
    assert "href" not in html
    assert "<strong>CVE-2024-0001</strong>" in html
    assert url.rsplit("/", 1)[1] in html.rsplit("Links:", 1)[1]  # named under "Links"
    assert f"More information: {url}" in rule["help"]["text"]


def test_the_help_links_a_url_of_another_server_s_issue_path() -> None:
    # Only the run's own server's pages are references; another server's are plain pages.
    url = "https://git.example.com/octo-org/app/issues/9"
    doc = render(evaluation_of(finding(primary_url=url)), replace(OPTIONS, own_server="https://ghe.example"))
    html: str = cmarkgfm.github_flavored_markdown_to_html(rules(doc)["CVE-2024-0001"]["help"]["markdown"])
    assert re.findall(r'href="([^"]*)"', html) == [url, url]


def test_sarif_in_a_github_actions_run_knows_its_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--sarif` in a GitHub Enterprise Server run: its own issue pages are references there too.
    ghe = "https://ghe.example.com"
    doc = json.loads(corpus_file("trivy", "debian-buster.json.golden").read_text(encoding="utf-8"))
    for vuln in doc["Results"][0]["Vulnerabilities"]:
        vuln["PrimaryURL"] = f"{ghe}/octo-org/app/issues/7"
    report, sarif = tmp_path / "report.json", tmp_path / "out.sarif"
    report.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", ghe)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    cli.main(["check", str(report), "--ci", "none", "-q", "--sarif", str(sarif)])
    for rule in rules(json.loads(sarif.read_text(encoding="utf-8"))).values():
        assert "/issues/7)" not in rule["help"]["markdown"]


def test_hostile_text_is_inert_in_help_markdown() -> None:
    rule = rules(render(hostile_evaluation()))["CVE-2024-0001"]
    html: str = cmarkgfm.github_flavored_markdown_to_html(rule["help"]["markdown"])
    assert "<img" not in html
    assert "<script" not in html
    assert "href" not in html  # no link at all: the primary URL is not http(s), the rest is text
    outside_code = re.sub(r"<code>.*?</code>", "", html)
    assert "@admin" not in outside_code
    assert "@\u200badmin" in outside_code
    assert "<h1" not in html
    assert "helpUri" not in rule


def test_hostile_text_makes_no_embedded_link_in_plain_text() -> None:
    doc = render(hostile_evaluation())
    text = results(doc)[0]["message"]["text"]
    assert "[x\\](http://evil)" in text  # SARIF §3.11.6 embedded link broken
    assert "](" not in text.replace("\\](", "")
    assert "](" not in rules(doc)["CVE-2024-0001"]["shortDescription"]["text"].replace("\\](", "")


def test_control_characters_never_reach_the_texts() -> None:
    f = finding(pkg="evil\x1b[31mred\u202e", title="t\x07itle", description="a\x00b")
    doc = render(evaluation_of(f))
    rule = rules(doc)["CVE-2024-0001"]
    texts = [results(doc)[0]["message"]["text"], rule["shortDescription"]["text"], rule["help"]["text"]]
    texts += [rule["fullDescription"]["text"], rule["help"]["markdown"]]
    for text in texts:
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text), text
    assert "evil\\x1b[31mred\\u202e" in texts[0]  # shown, not interpreted


def test_a_fix_without_a_version_named_is_not_called_no_fixed_version() -> None:
    # Snyk: an upgrade of what pulls qs in fixes it. It blocks as fixable and its action clears it.
    qs = finding("CVE-2014-7191", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=())
    (result,) = results(render(evaluation_of(qs)))
    text = result["message"]["text"]
    assert text.startswith("CVE-2014-7191 in qs 0.4.2 (a fix exists, no version named): HIGH, blocking")
    assert "no fixed version" not in text


def test_the_note_on_left_out_results_names_the_json_report_as_the_run_asks_for_it() -> None:
    limits = SarifLimits(max_results=3)
    (note,) = notifications(render(mixed_evaluation(), replace(OPTIONS, limits=limits)))
    assert note["message"]["text"].endswith(" The JSON report (--json) lists every finding.")
    action = replace(OPTIONS, limits=limits, json_hint=ACTION_WORDS.json_report)
    (note,) = notifications(render(mixed_evaluation(), action))
    assert note["message"]["text"].endswith(" The JSON report (the action's json input) lists every finding.")
