"""The JUnit XML report: parsed back with ElementTree, counts, messages, hostile text, readers' needs."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.model import Cvss, Finding, ImageInfo, Layer, LayerOrigin, ScanReport, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Disposition, Evaluation
from gate.policy.model import AllowlistEntry, Policy
from gate.render import junit
from gate.render.junit import (
    MESSAGE_LIMIT,
    NAME_LIMIT,
    _line,
    body_lines,
    render_junit,
    render_junit_error,
    render_junit_suites,
)
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.factories import NOW, evaluation_of, finding

RESULT_TAGS = ("failure", "error", "skipped")


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    # The renderer's own output; expat resolves no external entity.
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314


def outcome(case: ET.Element) -> str:
    found = [child.tag for child in case if child.tag in RESULT_TAGS]
    assert len(found) <= 1, found
    return found[0] if found else "passed"


def assert_counts_match_cases(root: ET.Element) -> None:
    """Every count attribute equals what the test cases say, per suite and in total."""
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        outcomes = [outcome(c) for c in cases]
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == outcomes.count("failure")
        assert int(suite.get("errors", "-1")) == outcomes.count("error")
        assert int(suite.get("skipped", "-1")) == outcomes.count("skipped")
        totals["tests"] += len(cases)
        totals["failures"] += outcomes.count("failure")
        totals["errors"] += outcomes.count("error")
    assert {k: int(root.get(k, "-1")) for k in totals} == totals


def assert_gitlab_readable(root: ET.Element) -> None:
    """GitLab's parser shows only the text content of failure/error/skipped (it drops attributes)."""
    assert root.tag == "testsuites"
    for case in root.iter("testcase"):
        assert case.get("name")
        for child in case:
            if child.tag in RESULT_TAGS:
                assert (child.text or "").strip(), f"{child.tag} of {case.get('name')} has no text"
                assert child.get("message")


# Jenkins' JUnit schema (jenkinsci/xunit-plugin junit-10.xsd): the elements each element may hold,
# and the attributes it may and must carry. `time` follows its SUREFIRE_TIME pattern.
_JENKINS_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
}
_JENKINS_ATTRIBUTES = {
    "testsuites": ({"name", "time", "tests", "failures", "errors"}, set()),
    "testsuite": (
        {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id",
         "package", "file", "log", "url"},
        {"name", "tests", "failures", "errors"},
    ),
    "properties": (set(), set()),
    "property": ({"name", "value"}, {"name", "value"}),
    "testcase": ({"name", "time", "classname", "group"}, {"name"}),
    "failure": ({"type", "message"}, set()),
    "error": ({"type", "message"}, set()),
    "skipped": ({"type", "message"}, set()),
    "system-out": (set(), set()),
    "system-err": (set(), set()),
}  # fmt: skip
_SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")


def assert_jenkins_schema(root: ET.Element) -> None:
    """The document is one Jenkins' JUnit schema accepts."""
    assert root.tag == "testsuites"
    for element in root.iter():
        allowed, required = _JENKINS_ATTRIBUTES[element.tag]
        assert set(element.attrib) <= allowed, (element.tag, element.attrib)
        assert required <= set(element.attrib), (element.tag, element.attrib)
        assert {child.tag for child in element} <= _JENKINS_CHILDREN.get(element.tag, set()), element.tag
        if element.tag in ("testsuites", "testsuite") and "time" in element.attrib:
            assert _SUREFIRE_TIME.fullmatch(element.attrib["time"])


# --- every corpus report -------------------------------------------------------------------------


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_corpus_report(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    root = parse(render_junit(evaluation))
    assert_counts_match_cases(root)
    assert_gitlab_readable(root)
    assert_jenkins_schema(root)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    expected = {
        Disposition.BLOCKING: "failure",
        Disposition.ALLOWLISTED: "skipped",
        Disposition.IGNORED: "skipped",
        Disposition.INFORMATIONAL: "passed",
    }
    if evaluation.decisions:
        assert [outcome(c) for c in cases] == [expected[d.disposition] for d in evaluation.decisions]
        assert [c.get("classname") for c in cases] == [d.finding.package.name for d in evaluation.decisions]
    else:
        assert [(c.get("name"), outcome(c)) for c in cases] == [("no findings", "passed")]
    assert int(suite.get("failures", "-1")) == evaluation.counts[Disposition.BLOCKING]
    assert (
        int(suite.get("skipped", "-1"))
        == evaluation.counts[Disposition.ALLOWLISTED] + evaluation.counts[Disposition.IGNORED]
    )


def test_golden(golden: Callable[[str, str], None]) -> None:
    path = next(p for p in corpus_reports() if p.name == "aquasecurity-trivy__debian-buster.json.golden")
    golden("junit-trivy-debian-buster.xml", render_junit(corpus_evaluation(path)))


# --- cases and messages --------------------------------------------------------------------------


def test_cases_and_messages() -> None:
    policy = Policy(
        source="policy.yaml",
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}),
        allowlist=(AllowlistEntry(0, "CVE-2024-0002", "minizip is not shipped"),),
    )
    evaluation = evaluation_of(
        finding("CVE-2024-0001", pkg="openssl", version="3.0.2-1", fixed=("3.0.13-1",)),
        finding("CVE-2024-0002", pkg="zlib1g", version="1:1.2.13"),
        finding("CVE-2024-0003", pkg="tar", status=VendorStatus.WILL_NOT_FIX, fixed=()),
        finding(
            "CVE-2024-0004", pkg="jackson", version="2.9.0", path="app/lib/jackson.jar", severity=Severity.LOW
        ),
        finding(
            "CVE-2024-0005", pkg="curl", fixed=(), status=VendorStatus.AFFECTED, severity=Severity.CRITICAL
        ),
        policy=policy,
        image=ImageInfo("ghcr.io/acme/app:1.2"),
    )
    root = parse(render_junit(evaluation))
    assert_counts_match_cases(root)
    assert_gitlab_readable(root)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "ghcr.io/acme/app:1.2"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"), suite.get("errors")) == (
        "5",
        "2",
        "2",
        "0",
    )
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == [
        "CVE-2024-0001 in openssl",
        "CVE-2024-0002 in zlib1g",
        "CVE-2024-0003 in tar",
        "CVE-2024-0004 in jackson (app/lib/jackson.jar)",
        "CVE-2024-0005 in curl",
    ]

    failure = cases["CVE-2024-0001 in openssl"].find("failure")
    assert failure is not None
    # The action that clears it, in the words of the terminal, Markdown and GitLab outputs.
    assert failure.get("message") == (
        "HIGH, blocking: HIGH is at or above the blocking severity HIGH; "
        "what to do: Upgrade openssl 3.0.2-1 → 3.0.13-1 (action deb:openssl)"
    )
    assert failure.get("type") == "blocking"
    assert (failure.text or "").startswith(failure.get("message", "") + "\n")
    assert "fixed versions: 3.0.13-1" in (failure.text or "")

    unfixed = cases["CVE-2024-0005 in curl"].find("failure")
    assert unfixed is not None
    assert unfixed.get("message", "").endswith("; no fixed version (vendor status affected)")

    allowlisted = cases["CVE-2024-0002 in zlib1g"].find("skipped")
    assert allowlisted is not None
    assert (
        allowlisted.get("message") == "HIGH, allowlisted: allowlisted by allowlist[0]: minizip is not shipped"
    )

    ignored = cases["CVE-2024-0003 in tar"].find("skipped")
    assert ignored is not None
    assert ignored.get("message") == "HIGH, ignored: vendor status will_not_fix is in ignore_statuses"

    passing = cases["CVE-2024-0004 in jackson (app/lib/jackson.jar)"]
    assert outcome(passing) == "passed"
    out = passing.find("system-out")
    assert out is not None
    assert (out.text or "").startswith("LOW, informational: LOW is below the blocking severity HIGH\n")


def test_policy_failures_are_failing_cases() -> None:
    policy = Policy(
        source="policy.yaml",
        fail_on_expired=True,
        allowlist=(AllowlistEntry(0, "CVE-2020-0001", "old", expires=dt.date(2025, 1, 1)),),
    )
    evaluation = evaluation_of(finding(severity=Severity.LOW), policy=policy)
    assert not evaluation.passed
    root = parse(render_junit(evaluation))
    assert_counts_match_cases(root)
    (suite,) = root.findall("testsuite")
    assert suite.get("failures") == "1"
    (case,) = [c for c in suite.findall("testcase") if c.get("classname") == "policy"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "policy"
    assert failure.get("message") == evaluation.policy_failures[0]


def test_a_report_fails_exactly_when_the_gate_does() -> None:
    for path in corpus_reports():
        evaluation = corpus_evaluation(path)
        root = parse(render_junit(evaluation))
        assert (root.get("failures") != "0") == (not evaluation.passed), path.name


def test_suite_name_falls_back_to_the_report_files() -> None:
    report = ScanReport(findings=(), sources=("a.json", "b.json"))
    root = parse(render_junit(evaluate(report, Policy(source="p"), NOW)))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "a.json, b.json"
    assert [(c.get("classname"), c.get("name"), outcome(c)) for c in suite.findall("testcase")] == [
        ("container-gate", "no findings", "passed")
    ]


def test_a_decision_report_read_back_names_the_suite_as_its_run_did() -> None:
    report = ScanReport(findings=(), sources=("gate.json",), named_after=("app-scan.json",))
    (suite,) = parse(render_junit(evaluate(report, Policy(source="p"), NOW))).findall("testsuite")
    assert suite.get("name") == "app-scan.json"
    # An image still names it.
    imaged = replace(report, image=ImageInfo("app:1"))
    (suite,) = parse(render_junit(evaluate(imaged, Policy(source="p"), NOW))).findall("testsuite")
    assert suite.get("name") == "app:1"


def test_one_suite_per_image() -> None:
    evaluations: list[Evaluation] = [
        evaluation_of(finding(), image=ImageInfo("app:1")),
        evaluation_of(finding(severity=Severity.LOW), image=ImageInfo("worker:1")),
    ]
    root = parse(render_junit_suites(evaluations))
    assert [s.get("name") for s in root.findall("testsuite")] == ["app:1", "worker:1"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    assert_counts_match_cases(root)
    assert_jenkins_schema(root)


def test_hostile_text_survives_as_text() -> None:
    name = "pkg<&>\"'x]]>"
    f = finding(
        "CVE-2024-0001",
        pkg=name + "\x00\x1b[31m\x0b\ufffe\ud800\u202e\u200b\u00ad\U000e0041\u2028\u2029",
        version="1.0]]>",
        path="app/<lib>/\x07a.jar",
        title="<![CDATA[ x ]]>\x01",
    )
    text = render_junit(evaluation_of(f, image=ImageInfo("img]]>\x00:1")))
    root = parse(text)
    assert_jenkins_schema(root)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "img]]>:1"
    (case,) = suite.findall("testcase")
    # Invisible characters are shown as their code, not hidden: the name cannot pass for another.
    shown = name + "[31m\\u200b\\xad\\U000e0041\\u2028\\u2029"
    assert case.get("classname") == shown
    assert case.get("name") == f"CVE-2024-0001 in {shown} (app/<lib>/a.jar)"
    failure = case.find("failure")
    assert failure is not None
    assert "title: <![CDATA[ x ]]>\n" in (failure.text or "")
    for bad in (
        "\x00",
        "\x1b",
        "\x0b",
        "\x07",
        "\x01",
        "\ufffe",
        "\u202e",
        "\u200b",
        "\u00ad",
        "\u2028",
        "\u2029",
    ):
        assert bad not in text
    text.encode("utf-8")  # no lone surrogate left


@pytest.mark.parametrize(
    ("vid", "url", "shown"),
    [
        ("CVE-2024-0001", "https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("CVE-2024-0001", "javascript:alert(1)", "https://nvd.nist.gov/vuln/detail/CVE-2024-0001"),
        ("CVE-2024-0001", "https://example.com/<script>", "https://nvd.nist.gov/vuln/detail/CVE-2024-0001"),
        ("DLA-1234-1", "data:text/html,x", None),
    ],
)
def test_only_a_plain_http_url_is_shown(vid: str, url: str, shown: str | None) -> None:
    # A CI page may make the URL a link, as Markdown and SARIF would: the advisory's own page
    # stands in for any other, or nothing.
    (case,) = parse(render_junit(evaluation_of(finding(vid, primary_url=url)))).iter("testcase")
    failure = case.find("failure")
    assert failure is not None
    more = [line for line in (failure.text or "").splitlines() if line.startswith("more: ")]
    assert more == ([f"more: {shown}"] if shown else [])


def test_error_report() -> None:
    root = parse(render_junit_error("report.json: not valid JSON", 2))
    assert_counts_match_cases(root)
    assert_gitlab_readable(root)
    assert_jenkins_schema(root)
    (case,) = root.iter("testcase")
    error = case.find("error")
    assert error is not None
    assert (
        error.get("message") == "container-gate could not decide (exit code 2): report.json: not valid JSON"
    )


def test_an_upgrade_that_still_fails_stays_the_same_test() -> None:
    # CI systems follow a test by its name: the installed version must not be part of it.
    before = render_junit(evaluation_of(finding("CVE-2024-0001", pkg="openssl", version="3.0.2-1")))
    after = render_junit(evaluation_of(finding("CVE-2024-0001", pkg="openssl", version="3.0.2-2")))
    names = [[case.get("name") for case in parse(text).iter("testcase")] for text in (before, after)]
    assert names[0] == names[1] == ["CVE-2024-0001 in openssl"]


def gitlab_keys(text: str) -> list[tuple[str, str]]:
    """What GitLab keeps one test case per in a job (lib/gitlab/ci/reports/test_case.rb): class name
    and name; its suite is the job's, whatever `<testsuite>` holds the test case."""
    return [(case.get("classname", ""), case.get("name", "")) for case in parse(text).iter("testcase")]


def test_two_versions_at_one_place_are_two_test_cases() -> None:
    # A lockfile with two copies of lodash: one name for both would leave GitLab showing one.
    old = finding("CVE-2020-8203", pkg="lodash", version="4.17.1", type="npm", path="package-lock.json")
    new = finding("CVE-2020-8203", pkg="lodash", version="4.17.2", type="npm", path="package-lock.json")
    other = finding("CVE-2021-23337", pkg="lodash", version="4.17.1", type="npm", path="package-lock.json")
    keys = gitlab_keys(render_junit(evaluation_of(old, new, other)))
    assert len(set(keys)) == 3
    assert [name for _, name in keys] == [
        "CVE-2020-8203 in lodash 4.17.1 (package-lock.json)",
        "CVE-2020-8203 in lodash 4.17.2 (package-lock.json)",
        "CVE-2021-23337 in lodash (package-lock.json)",
    ]


def test_long_names_that_differ_only_where_they_are_cut_stay_apart() -> None:
    deep = "lib/" * 100
    one = finding("CVE-2022-22965", pkg="spring-beans", type="jar", path=f"{deep}one/spring-beans.jar")
    two = finding("CVE-2022-22965", pkg="spring-beans", type="jar", path=f"{deep}two/spring-beans.jar")
    text = render_junit(evaluation_of(one, two))
    names = [name for _, name in gitlab_keys(text)]
    assert len(set(names)) == 2
    assert all(len(name) <= NAME_LIMIT for name in names)
    # The start and the end of the name are kept: the id, and the jar and its folder.
    assert all(name.startswith("CVE-2022-22965 in spring-beans (lib/") for name in names)
    assert re.fullmatch(r".*….*/one/spring-beans\.jar\) \[[0-9a-f]{8}\]", names[0])
    # The same finding gets the same name in every run.
    assert names == [name for _, name in gitlab_keys(render_junit(evaluation_of(one, two)))]


# Lines as bodies have them (printable ASCII, a few long ones) and as hostile reports make them:
# runs of spaces, spaces at either end, newlines inside a line, control and non-ASCII characters.
_LINE = (
    st.text(alphabet="ab: ,.", max_size=12)
    | st.text(alphabet=st.sampled_from([*"ab ", "\n", "\t", "\x0b", "\u00e9", "\u202e"]), max_size=6)
    | st.builds(lambda n: "x" * n, st.integers(MESSAGE_LIMIT - 3, MESSAGE_LIMIT + 3))
)


@given(st.lists(_LINE, max_size=4), st.booleans())
@settings(max_examples=400)
def test_body_lines_are_each_line_made_one_line(lines: list[str], first_empty: bool) -> None:
    lines = ["", *lines] if first_empty else lines
    assert body_lines(lines) == "\n".join(_line(line, MESSAGE_LIMIT) for line in lines)


def test_a_fix_without_a_version_named_is_not_called_no_fixed_version() -> None:
    # Snyk: an upgrade of what pulls qs in fixes it. It blocks as fixable and its action clears it.
    qs = finding("CVE-2014-7191", pkg="qs", version="0.4.2", type="npm", path="package.json", fixed=())
    failure = parse(render_junit(evaluation_of(qs))).find(".//failure")
    assert failure is not None
    assert failure.get("message", "").endswith("; a fix exists, no version named")


_LAYERS = (
    None,
    Layer(origin=LayerOrigin.BASE, created_by="FROM debian"),
    Layer(origin=LayerOrigin.OWN, created_by="RUN  apt-get install <x>"),
    Layer(origin=None, created_by=None),
)
# Each fact a test case's text is made of, and a few values of it.
_FACTS: dict[str, st.SearchStrategy[Any]] = {
    "vulnerability_id": st.sampled_from(["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc", "OTHER-1"]),
    "severity": st.sampled_from(Severity),
    "fixed_versions": st.sampled_from([(), ("1.1",), ("1.1", "2.1")]),
    "status": st.sampled_from(VendorStatus),
    "title": st.sampled_from([None, "Overflow in parser", "Overflow  in  parser", "é <b>&"]),
    "primary_url": st.sampled_from([None, "https://example.com/a", "javascript:alert(1)"]),
    "layer": st.sampled_from(_LAYERS),
    "cvss": st.sampled_from([None, 7, 7.0, 7.5, 0.0, -0.0]).flatmap(
        lambda score: st.sampled_from([None, "CVSS:3.1/AV:N"]).map(
            lambda vector: None if score is None else Cvss(score, vector)
        )
    ),
}


@st.composite
def _similar_findings(draw: st.DrawFn) -> list[Finding]:
    """Findings of other packages that differ from a first one in one fact each, so that they
    share all the others with it."""
    first = replace(finding(), **{name: draw(values) for name, values in _FACTS.items()})
    found = [first]
    for n in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(sorted(_FACTS)))
        changed = replace(first, **{name: draw(_FACTS[name])})
        found.append(replace(changed, package=replace(first.package, name=f"pkg{n}")))
    return found


@settings(max_examples=300, deadline=None)
@given(findings=_similar_findings(), allowlisted=st.booleans())
def test_a_test_case_made_with_words_shared_across_the_report_is_the_one_made_alone(
    findings: list[Finding], allowlisted: bool
) -> None:
    entries = (
        (AllowlistEntry(index=0, vulnerability="CVE-2024-0001", reason="accepted", package="pkg0"),)
        if allowlisted
        else ()
    )
    evaluation = evaluation_of(*findings, policy=Policy(source="policy.yaml", allowlist=entries))
    several = junit._places_of_several_versions(evaluation.decisions)
    shared = junit._Words()
    for decision in evaluation.decisions:
        assert junit._testcase(decision, several, shared) == junit._testcase(
            decision, several, junit._Words()
        )


def test_test_cases_that_share_their_facts_keep_each_cvss_score_as_written() -> None:
    first = replace(finding("CVE-2024-0001", pkg="a"), cvss=Cvss(0.0, None))
    second = replace(first, cvss=Cvss(-0.0, None), package=replace(first.package, name="b"))
    cases = parse(render_junit(evaluation_of(first, second))).iter("testcase")
    assert [line for case in cases for line in "".join(case.itertext()).splitlines() if "CVSS" in line] == [
        "CVSS: 0",
        "CVSS: -0",
    ]


def test_a_failure_names_the_action_that_clears_it_escaped() -> None:
    own = Layer(index=2, created_by="RUN apt-get ...", origin=LayerOrigin.OWN, dockerfile_line=3)
    base = Layer(index=0, created_by="ADD rootfs", origin=LayerOrigin.BASE, dockerfile_line=1)
    evaluation = evaluation_of(
        finding("CVE-2024-0001", pkg='lib<x>&"y"', version="1.0", fixed=("1.1",), layer=own),
        finding("CVE-2023-4911", pkg="libc6", version="2.36-9", fixed=("2.36-9+deb12u3",), layer=base),
        image=ImageInfo("app:1", base_image="debian:12"),
    )
    text = render_junit(evaluation)
    assert (
        'what to do: Upgrade lib&lt;x&gt;&amp;&quot;y&quot; 1.0 → 1.1 (action deb:lib&lt;x&gt;&amp;&quot;y&quot;)"'
        in text
    )
    cases = {c.get("classname"): c for c in parse(text).iter("testcase")}
    failures = {name: case.find("failure") for name, case in cases.items()}
    assert all(failure is not None for failure in failures.values())
    messages = {name: failure.get("message", "") for name, failure in failures.items() if failure is not None}
    assert messages['lib<x>&"y"'].endswith(
        '; what to do: Upgrade lib<x>&"y" 1.0 → 1.1 (action deb:lib<x>&"y")'
    )
    assert "; what to do: Rebuild on a refreshed base image debian:12 (action " in messages["libc6"]
    assert messages["libc6"].endswith("; to patch the image instead, upgrade to 2.36-9+deb12u3")
    # GitLab shows the element's text, which begins with the message.
    assert all((f.text or "").startswith(messages[n] + "\n") for n, f in failures.items() if f is not None)
