"""Each JUnit test case, made of lines escaped apart and shared across the report, is the one the
plain code makes for each finding alone (kept here as it was before: the body made whole, then
escaped), on every corpus report and on drawn hostile findings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.model import Cvss, Finding, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.actions import Plan
from gate.policy.evaluation import Decision, Disposition, Evaluation
from gate.policy.model import AllowlistEntry, Policy
from gate.render import junit
from gate.render.junit import (
    MESSAGE_LIMIT,
    NAME_LIMIT,
    _facts,
    _line,
    _message,
    body_lines,
    case_name,
    escape_attribute,
    escape_text,
)
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.factories import evaluation_of, finding


def _plain_testcase(decision: Decision, several_versions: set[tuple[str, str, str]], plan: Plan) -> str:
    f = decision.finding
    with_version = (f.vulnerability_id, f.package.name, f.package.path) in several_versions
    name = case_name(f, with_version)
    words = junit._Words(plan)
    msg = _message(decision, words)
    lines = [
        "",
        f"vulnerability: {', '.join(f.ids)}",
        f"package: {f.package.name} {f.package.version}" + (f" ({f.package.type})" if f.package.type else ""),
    ]
    if f.package.path:
        lines.append(f"path: {f.package.path}")
    body = f"{msg}\n{body_lines(lines)}\n{_facts(decision, words)}\n"
    if decision.disposition is Disposition.BLOCKING:
        result = f'<failure message="{escape_attribute(msg)}" type="blocking">{escape_text(body)}</failure>'
    elif decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED):
        kind = escape_attribute(decision.disposition.value)
        result = f'<skipped message="{escape_attribute(msg)}" type="{kind}">{escape_text(body)}</skipped>'
    else:
        result = f"<system-out>{escape_text(body)}</system-out>"
    classname = _line(f.package.name, NAME_LIMIT)
    return (
        f'<testcase classname="{escape_attribute(classname)}" name="{escape_attribute(name)}">'
        f"\n      {result}\n    </testcase>"
    )


def assert_each_test_case_as_made_alone(evaluation: Evaluation) -> None:
    several = junit._places_of_several_versions(evaluation.decisions)
    words = junit._Words(evaluation.plan)
    made = [junit._testcase(decision, several, words) for decision in evaluation.decisions]
    assert made == [_plain_testcase(decision, several, evaluation.plan) for decision in evaluation.decisions]


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_each_test_case_of_a_corpus_report_is_the_one_made_alone(path: Any) -> None:
    assert_each_test_case_as_made_alone(corpus_evaluation(path))


_HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "a",
        "a b",
        "a  b",
        " a",
        "a ",
        "a\nb",
        "a\n b",
        "\x1b[31m",
        "\u202eevil",
        "\u00e9\u4e00",
        "&<>\"'\t\r",
        "x" * (MESSAGE_LIMIT + 1),
        "y" * (NAME_LIMIT + 5),
        "\ufffe\ud800",
    ]
)
_LAYERS = [
    None,
    Layer(origin=LayerOrigin.BASE, created_by="FROM debian"),
    Layer(origin=LayerOrigin.OWN, created_by="RUN  apt-get install <x>"),
    Layer(origin=None, created_by=None),
]


@st.composite
def _findings(draw: st.DrawFn) -> list[Finding]:
    found = []
    for n in range(draw(st.integers(1, 8))):
        base = finding(
            draw(st.sampled_from(["CVE-2024-0001", "CVE-2024-0002", "GHSA-aaaa-bbbb-cccc", "x & y"])),
            pkg=draw(st.sampled_from(["a", "b", f"p{n}"])) + draw(_HOSTILE),
            version=draw(st.sampled_from(["1.0", "2.0", "1 <0>"])),
            path=draw(_HOSTILE),
            type=draw(st.sampled_from(["debian", "npm", "", "a&b"])),
            severity=draw(st.sampled_from(Severity)),
            fixed=draw(st.sampled_from([(), ("1.1",), ("1.1", "<2>")])),
            status=draw(st.sampled_from(VendorStatus)),
            aliases=draw(st.sampled_from([(), ("GHSA-x",), ("", " a  b")])),
            title=draw(st.none() | _HOSTILE),
            primary_url=draw(st.sampled_from([None, "https://example.com/a", "javascript:alert(1)"])),
            layer=draw(st.sampled_from(_LAYERS)),
        )
        cvss = draw(st.sampled_from([None, 7, 7.0, 0.0, -0.0]))
        found.append(
            replace(base, cvss=None if cvss is None else Cvss(cvss, draw(st.sampled_from([None, "V"]))))
        )
    return found


@settings(max_examples=300, deadline=None)
@given(found=_findings(), allowlisted=st.booleans())
def test_each_drawn_test_case_is_the_one_made_alone(found: list[Finding], allowlisted: bool) -> None:
    entries = (
        (AllowlistEntry(index=0, vulnerability="CVE-2024-0001", reason="accepted <&>"),)
        if allowlisted
        else ()
    )
    assert_each_test_case_as_made_alone(
        evaluation_of(*found, policy=Policy(source="policy.yaml", allowlist=entries))
    )
