"""The JUnit XML report (`--junit`): the gate's decisions as test results any CI system shows.

One `<testsuite>` per image, one `<testcase>` per finding: a blocking finding is a `<failure>`,
an allowlisted or ignored one is `<skipped>`, an informational one passes. A policy failure that is
not a finding (an expired allowlist entry under `fail_on_expired`) is a failing test case too, so
the report fails exactly when the gate does.

Readers this is written for:
- GitLab (`artifacts:reports:junit`, lib/gitlab/ci/parsers/test/junit.rb) reads
  testsuites/testsuite/testcase and shows the *text content* of `<failure>`, `<error>` or
  `<skipped>`: its XML-to-hash conversion drops the attributes of an element that has text. So
  every such element carries its message both as the `message` attribute (Jenkins, Azure DevOps
  and most others show that) and as its text.
- Jenkins' JUnit schema (xunit-plugin junit-10.xsd), which the tests validate against: it has no
  `skipped` attribute on `<testsuites>`, so the totals there are tests, failures and errors.
A suite without findings gets one passing test case: several CI systems treat a report with no
test case as a broken report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from gate.model import Finding
from gate.policy.evaluation import Decision, Disposition, Evaluation
from gate.untrusted import shorten

NAME_LIMIT = 300
"""Longest test case name; longer package paths are cut (CI tables show names on one line)."""
MESSAGE_LIMIT = 2_000
"""Longest `message` attribute."""

# XML 1.0 (section 2.2, Char) forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF; C1
# controls are allowed but discouraged, and the bidirectional overrides can make a name read
# differently from what it is. All of them are removed from report text.
_NOT_XML_SAFE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u202a-\u202e\u2066-\u2069]"
)


def xml_text(text: str | None, limit: int | None = None) -> str:
    """Untrusted text that XML 1.0 can carry, without characters that would hide what it says."""
    if not text:
        return ""
    clean = _NOT_XML_SAFE.sub("", text)
    return shorten(clean, limit) if limit else clean


def _line(text: str | None, limit: int | None = None) -> str:
    """`xml_text` on one line: attribute values and names."""
    flat = " ".join(xml_text(text).split())
    return shorten(flat, limit) if limit else flat


def case_name(finding: Finding) -> str:
    """`CVE-X in pkg (path)`: readable in a CI test table, and without the installed version, so
    that an upgrade that still fails is the same test failing again, not a new one (CI systems
    track a test's history by its name). The version is in the message and the body."""
    pkg = finding.package
    where = f" ({pkg.path})" if pkg.path else ""
    return _line(f"{finding.vulnerability_id} in {pkg.name}{where}", NAME_LIMIT)


def _fix(finding: Finding) -> str:
    if finding.fixed_versions:
        return "upgrade to " + " or ".join(finding.fixed_versions)
    return f"no fixed version (vendor status {finding.status.value})"


def message(decision: Decision) -> str:
    """The one-line message: `HIGH, blocking: <reason>; upgrade to 1.2.3`."""
    f = decision.finding
    if decision.disposition is Disposition.BLOCKING:
        text = f"{f.severity.name}, blocking: {decision.reason}; {_fix(f)}"
    else:
        text = f"{f.severity.name}, {decision.disposition.value}: {decision.reason}"
    return _line(text, MESSAGE_LIMIT)


def _body(decision: Decision, msg: str) -> str:
    """The element text: the message (`message(decision)`) and the facts a reader needs to act on it."""
    f = decision.finding
    lines = [
        "",
        f"vulnerability: {', '.join(f.ids)}",
        f"package: {f.package.name} {f.package.version}" + (f" ({f.package.type})" if f.package.type else ""),
    ]
    if f.package.path:
        lines.append(f"path: {f.package.path}")
    lines.append(f"fixed versions: {', '.join(f.fixed_versions) or 'none known'}")
    lines.append(f"vendor status: {f.status.value}")
    if f.cvss is not None:
        lines.append(f"CVSS: {f.cvss.score:g}" + (f" {f.cvss.vector}" if f.cvss.vector else ""))
    if f.layer is not None and (f.layer.created_by or f.layer.origin):
        origin = f"{f.layer.origin.value} " if f.layer.origin else ""
        lines.append(f"layer: {origin}{f.layer.created_by or ''}".rstrip())
    if f.title:
        lines.append(f"title: {f.title}")
    if f.primary_url:
        lines.append(f"more: {f.primary_url}")
    lines.append(f"rule: {decision.rule}")
    return "\n".join([msg, *(_line(line, MESSAGE_LIMIT) for line in lines)]) + "\n"


def _add_result(case: ET.Element, tag: str, kind: str, msg: str, body: str) -> None:
    element = ET.SubElement(case, tag, {"message": msg, "type": kind})
    element.text = body


def _suite_name(evaluation: Evaluation) -> str:
    report = evaluation.report
    if report.image is not None and report.image.reference:
        return _line(report.image.reference, NAME_LIMIT) or "container-gate"
    if report.sources:
        return _line(", ".join(report.sources), NAME_LIMIT) or "container-gate"
    return "container-gate"


def _suite(evaluation: Evaluation) -> tuple[ET.Element, dict[str, int]]:
    suite = ET.Element("testsuite", {"name": _suite_name(evaluation)})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", evaluation.verdict),
        ("policy", evaluation.policy.source),
        ("mode", evaluation.policy.mode.value),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _line(value, MESSAGE_LIMIT)})
    for warning in evaluation.report.warnings:
        ET.SubElement(props, "property", {"name": "warning", "value": _line(warning, MESSAGE_LIMIT)})
    # What applying the policy needs said (a rule the data could not back, stale data) is a warning too.
    for warning in evaluation.policy_warnings:
        ET.SubElement(props, "property", {"name": "warning", "value": _line(warning, MESSAGE_LIMIT)})

    for decision in evaluation.decisions:
        f = decision.finding
        case = ET.SubElement(
            suite, "testcase", {"classname": _line(f.package.name, NAME_LIMIT), "name": case_name(f)}
        )
        counts["tests"] += 1
        msg = message(decision)
        if decision.disposition is Disposition.BLOCKING:
            counts["failures"] += 1
            _add_result(case, "failure", "blocking", msg, _body(decision, msg))
        elif decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED):
            counts["skipped"] += 1
            _add_result(case, "skipped", decision.disposition.value, msg, _body(decision, msg))
        else:
            out = ET.SubElement(case, "system-out")
            out.text = _body(decision, msg)

    for failure in evaluation.policy_failures:
        name = _line(f"policy: {failure}", NAME_LIMIT)
        case = ET.SubElement(suite, "testcase", {"classname": "policy", "name": name})
        counts["tests"] += 1
        counts["failures"] += 1
        text = _line(failure, MESSAGE_LIMIT)
        _add_result(case, "failure", "policy", text, text + "\n")

    if not counts["tests"]:
        ET.SubElement(suite, "testcase", {"classname": "container-gate", "name": "no findings"})
        counts["tests"] += 1

    for key, count in counts.items():
        suite.set(key, str(count))
    suite.set("time", "0")
    return suite, counts


def _document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_junit_suites(evaluations: Sequence[Evaluation]) -> str:
    """One `<testsuite>` per evaluation (per image), inside one `<testsuites>`."""
    root = ET.Element("testsuites", {"name": "container-gate"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for evaluation in evaluations:
        suite, counts = _suite(evaluation)
        root.append(suite)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    return _document(root)


def render_junit(evaluation: Evaluation) -> str:
    """The JUnit XML report for one image's evaluation."""
    return render_junit_suites([evaluation])


def render_junit_error(message_text: str, exit_code: int) -> str:
    """The report when the gate could not decide: one test case in error, never a pass."""
    root = ET.Element("testsuites", {"name": "container-gate", "tests": "1", "failures": "0", "errors": "1"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "container-gate", "tests": "1", "failures": "0", "errors": "1", "skipped": "0", "time": "0"},
    )
    case = ET.SubElement(suite, "testcase", {"classname": "container-gate", "name": "gate decision"})
    text = _line(f"container-gate could not decide (exit code {exit_code}): {message_text}", MESSAGE_LIMIT)
    _add_result(case, "error", "error", text, text + "\n")
    return _document(root)
