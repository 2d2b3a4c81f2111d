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
  and most others show that) and as its text. It keeps one test case per class name and name in
  a job, whatever `<testsuite>` holds it (lib/gitlab/ci/reports/test_case.rb: the suite there is
  the job's), so no two findings of a report share both (`case_name`).
- Jenkins' JUnit schema (xunit-plugin junit-10.xsd), whose elements and attributes the tests check
  every report against (`assert_jenkins_schema` in tests/render/test_junit.py): it has no
  `skipped` attribute on `<testsuites>`, so the totals there are tests, failures and errors.
A suite without findings gets one passing test case: several CI systems treat a report with no
test case as a broken report.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence

from gate.model import Finding, Layer, Severity, VendorStatus
from gate.policy.actions import Action, ActionKind, Plan
from gate.policy.evaluation import Decision, Disposition, Evaluation, RuleRef
from gate.policy.exploit_rules import kev_text
from gate.render._delta import delta_line
from gate.render._summary import base_image_line
from gate.render.remediation import what_to_do
from gate.untrusted import advisory_url, invisible_shown, safe_url, shorten

NAME_LIMIT = 300
"""Longest test case name; longer package paths are cut (CI tables show names on one line)."""
MESSAGE_LIMIT = 2_000
"""Longest `message` attribute."""

# XML 1.0 (section 2.2, Char) forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF; C1
# controls are allowed but discouraged, and the bidirectional overrides can make a name read
# differently from what it is. All of them are removed from report text. An invisible character
# (a zero-width space, a soft hyphen) is shown as its code instead, as in every other output:
# removed or kept, `req\u200buests` would read as `requests`.
_NOT_XML_SAFE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u202a-\u202e\u2066-\u2069]"
)


def xml_text(text: str | None, limit: int | None = None) -> str:
    """Untrusted text that XML 1.0 can carry, without characters that would hide what it says."""
    if not text:
        return ""
    # Printable ASCII (most text) has nothing to remove: no regex pass for it.
    clean = text if text.isascii() and text.isprintable() else invisible_shown(_NOT_XML_SAFE.sub("", text))
    return shorten(clean, limit) if limit else clean


def _line(text: str | None, limit: int | None = None) -> str:
    """`xml_text` on one line: attribute values and names."""
    if (
        text
        and text.isascii()
        and text.isprintable()
        and "  " not in text
        and text[0] != " "
        and text[-1] != " "
    ):
        # Printable ASCII breaks only at spaces, and single spaces inside are kept as they are:
        # the text is its own line (most lines of a report, ten per finding).
        flat = text
    else:
        flat = " ".join(xml_text(text).split())
    return shorten(flat, limit) if limit else flat


def case_name(finding: Finding, with_version: bool = False) -> str:
    """`CVE-X in pkg (path)`: readable in a CI test table, and without the installed version, so
    that an upgrade that still fails is the same test failing again, not a new one (CI systems
    track a test's history by its name). The version is in the message and the body, and in the
    name only `with_version`: when two installed versions at one place have the vulnerability, as
    two test cases of one name would be one (GitLab keeps one test case per class name and name in
    a job)."""
    pkg = finding.package
    version = f" {pkg.version}" if with_version and pkg.version else ""
    where = f" ({pkg.path})" if pkg.path else ""
    return _name(f"{finding.vulnerability_id} in {pkg.name}{version}{where}")


_DIGEST_LENGTH = 8
"""Hex digits of the digest that ends a name too long to be shown whole."""


def _name(text: str) -> str:
    """`text` on one line as a test case name; a longer one keeps its start and its end (a path's
    file name), and ends with a digest of the whole, so that two long names that differ only in the
    part cut out stay two names, the same from one run to the next."""
    flat = _line(text)
    if len(flat) <= NAME_LIMIT:
        return flat
    digest = hashlib.sha256(flat.encode("utf-8")).hexdigest()[:_DIGEST_LENGTH]
    keep = NAME_LIMIT - len(digest) - 4  # "…" and " [", "]"
    head = keep // 2
    return f"{flat[:head]}…{flat[len(flat) - (keep - head) :]} [{digest}]"


def _fix(finding: Finding) -> str:
    if finding.fixed_versions:
        return "upgrade to " + " or ".join(finding.fixed_versions)
    if finding.fixable:
        return "a fix exists, no version named"
    return f"no fixed version (vendor status {finding.status.value})"


def _remedy(finding: Finding, action: Action | None) -> str:
    """What clears a blocking finding: the action that does, in the words of the other outputs'
    "What to do" (the terminal's and Markdown's actions, GitLab's solution) with its id, `what to
    do: Upgrade libidn2-0 2.0.5-1 → 2.0.5-1+deb10u1 (action deb:libidn2-0)`; without one, the
    finding's own fix (`_fix`)."""
    if action is None or (action.kind is ActionKind.PACKAGE_UPGRADE and action.target_version is None):
        return _fix(finding)
    text = f"what to do: {what_to_do(action)} (action {action.id})"
    if action.kind is ActionKind.BASE_REFRESH and finding.fixable:
        return f"{text}; to patch the image instead, {_fix(finding)}"
    return text


def message(decision: Decision, plan: Plan | None = None) -> str:
    """The one-line message: `HIGH, blocking: <reason>; upgrade to 1.2.3`, or for a blocking
    finding that an action of `plan` clears, that action (`_remedy`)."""
    return _message(decision, _Words(plan))


class _Words:
    """The words many test cases share, made once per report: an enum's `name` and `value` and a
    rule's text are each a call in Python, a few of them per test case.

    Keyed by identity: enum members live as long as the process, and a rule is kept with its
    text, so its identity is not taken by another object.
    """

    def __init__(self, plan: Plan | None = None) -> None:
        self.plan = plan
        self.names: dict[int, str] = {}
        self.values: dict[int, str] = {}
        self.rules: dict[int, tuple[RuleRef, str]] = {}
        self.messages: dict[tuple[object, ...], tuple[str, str]] = {}
        self.tails: dict[tuple[object, ...], tuple[Layer | None, RuleRef, str]] = {}
        self.id_lines: dict[tuple[str, tuple[str, ...]], str] = {}
        self.classnames: dict[str, str] = {}
        self.kinds: dict[int, str] = {}

    def name(self, member: Severity) -> str:
        text = self.names.get(id(member))
        if text is None:
            text = self.names[id(member)] = member.name
        return text

    def value(self, member: Disposition | VendorStatus) -> str:
        text = self.values.get(id(member))
        if text is None:
            text = self.values[id(member)] = member.value
        return text

    def message(self, decision: Decision) -> tuple[str, str]:
        """`_message(decision)` escaped as an attribute and as element text, made once for the
        findings that share what it is made of (a report has a few hundred distinct messages)."""
        f = decision.finding
        action = self.action(decision)
        key = (
            id(f.severity),
            id(decision.disposition),
            decision.reason,
            f.fixed_versions,
            id(f.status),
            None if action is None else action.id,
        )
        cached = self.messages.get(key)
        if cached is None:
            msg = _message(decision, self)
            cached = self.messages[key] = (escape_attribute(msg), escape_text(msg))
        return cached

    def action(self, decision: Decision) -> Action | None:
        """The action that clears a blocking finding (None for the others: only a failure says it)."""
        if self.plan is None or decision.disposition is not Disposition.BLOCKING:
            return None
        return self.plan.action_of(decision.finding)

    def id_line(self, finding: Finding) -> str:
        """The body's `vulnerability:` line, escaped as element text: the findings of one
        vulnerability share it."""
        key = (finding.vulnerability_id, finding.aliases)
        line = self.id_lines.get(key)
        if line is None:
            line = self.id_lines[key] = escape_text(
                _line(f"vulnerability: {', '.join(finding.ids)}", MESSAGE_LIMIT)
            )
        return line

    def classname(self, package_name: str) -> str:
        """A test case's `classname` escaped as an attribute: the package's name."""
        text = self.classnames.get(package_name)
        if text is None:
            text = self.classnames[package_name] = escape_attribute(_line(package_name, NAME_LIMIT))
        return text

    def kind(self, disposition: Disposition) -> str:
        """The `type` of a skipped test case, escaped as an attribute."""
        text = self.kinds.get(id(disposition))
        if text is None:
            text = self.kinds[id(disposition)] = escape_attribute(self.value(disposition))
        return text

    def facts(self, decision: Decision) -> str:
        """`_facts(decision)` escaped as element text, made once for the findings that share what
        it is made of: a report's findings of one vulnerability share their fixed versions, CVSS
        score, layer, title, link and rule, most of them."""
        f = decision.finding
        if decision.kev is not None or decision.epss is not None:
            return escape_text(_facts(decision, self))
        cvss = f.cvss
        if cvss is not None and not cvss.score:
            return escape_text(_facts(decision, self))  # 0.0 and -0.0 are one key and two texts
        key = (
            f.fixed_versions,
            id(f.status),
            None if cvss is None else (cvss.score, cvss.vector),
            id(f.layer),
            f.title,
            f.primary_url,
            f.vulnerability_id,
            id(decision.rule),
        )
        cached = self.tails.get(key)
        # The layer and the rule are kept with the text, so their identities are not taken by others.
        if cached is None or cached[0] is not f.layer or cached[1] is not decision.rule:
            cached = self.tails[key] = (f.layer, decision.rule, escape_text(_facts(decision, self)))
        return cached[2]

    def rule(self, rule: RuleRef) -> str:
        cached = self.rules.get(id(rule))
        if cached is None or cached[0] is not rule:
            cached = self.rules[id(rule)] = (rule, str(rule))
        return cached[1]


def _message(decision: Decision, words: _Words) -> str:
    f = decision.finding
    if decision.disposition is Disposition.BLOCKING:
        text = f"{words.name(f.severity)}, blocking: {decision.reason}; {_remedy(f, words.action(decision))}"
    else:
        text = f"{words.name(f.severity)}, {words.value(decision.disposition)}: {decision.reason}"
    return _line(text, MESSAGE_LIMIT)


def _body(decision: Decision, msg: str, words: _Words) -> str:
    """The element text, escaped: the message (`message(decision)`, escaped) and the facts a
    reader needs to act on it.

    `body_lines` makes each line one line on its own, and escaping replaces each character on its
    own, so the lines are made and escaped apart: the lines many findings share (the message, the
    ids, the facts after the package's lines) once for all of them (`_Words`).
    """
    f = decision.finding
    pkg = f.package
    line = f"package: {pkg.name} {pkg.version}" + (f" ({pkg.type})" if pkg.type else "")
    lines = body_lines([line, f"path: {pkg.path}"]) if pkg.path else _line(line, MESSAGE_LIMIT)
    return f"{msg}\n\n{words.id_line(f)}\n{escape_text(lines)}\n{words.facts(decision)}\n"


def _facts(decision: Decision, words: _Words) -> str:
    """The body's lines after the package's: `body_lines` of them."""
    f = decision.finding
    lines = [
        f"fixed versions: {', '.join(f.fixed_versions) or 'none known'}",
        f"vendor status: {words.value(f.status)}",
    ]
    if f.cvss is not None:
        lines.append(f"CVSS: {f.cvss.score:g}" + (f" {f.cvss.vector}" if f.cvss.vector else ""))
    lines += _exploit_lines(decision)
    if f.layer is not None and (f.layer.created_by or f.layer.origin):
        origin = f"{f.layer.origin.value} " if f.layer.origin else ""
        lines.append(f"layer: {origin}{f.layer.created_by or ''}".rstrip())
    if f.title:
        lines.append(f"title: {f.title}")
    # A CI page may make the URL a link: only a plain http(s) one, as in Markdown and SARIF.
    url = safe_url(f.primary_url) or advisory_url(f.vulnerability_id)
    if url:
        lines.append(f"more: {url}")
    lines.append(f"rule: {words.rule(decision.rule)}")
    return body_lines(lines)


def _exploit_lines(decision: Decision) -> list[str]:
    """The finding's KEV listing and EPSS score, whatever decided it: `known exploited: in CISA KEV
    since 2023-11-21 (federal due date 2023-12-12)`, `EPSS: 0.81422 (percentile 0.9963, 2026-09-29)`."""
    lines: list[str] = []
    if decision.kev is not None:
        due = decision.kev.due_date
        lines.append(
            f"known exploited: {kev_text(decision.kev)}" + (f" (federal due date {due})" if due else "")
        )
    if decision.epss is not None:
        day = decision.epss.date
        lines.append(
            f"EPSS: {decision.epss.score:g} (percentile {decision.epss.percentile:g}"
            + (f", {day})" if day else ")")
        )
    return lines


def body_lines(lines: list[str]) -> str:
    """The lines, each made one line by `_line` (at `MESSAGE_LIMIT`), joined by newlines.

    Most bodies are printable ASCII with single spaces inside lines, shorter than the limit in
    all: `_line` leaves each line as it is, and that is checked on the joined text at once instead
    of line by line (a tenth of the JUnit report's time at 100k findings).
    """
    text = "\n".join(lines)
    if (
        len(text) <= MESSAGE_LIMIT
        and text.isascii()
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and text.count("\n") == len(lines) - 1
        and text.replace("\n", "").isprintable()
    ):
        return text
    return "\n".join(_line(line, MESSAGE_LIMIT) for line in lines)


def _add_result(case: ET.Element, tag: str, kind: str, msg: str, body: str) -> None:
    element = ET.SubElement(case, tag, {"message": msg, "type": kind})
    element.text = body


def _suite_name(evaluation: Evaluation) -> str:
    report = evaluation.report
    if report.image is not None and report.image.reference:
        return _line(report.image.reference, NAME_LIMIT) or "container-gate"
    # A decision report read back names the suite as its run did, not after itself: a test's
    # history is kept under its suite's name where a CI system files tests by suite.
    if report.named_after:
        return _line(", ".join(report.named_after), NAME_LIMIT) or "container-gate"
    if report.sources:
        return _line(", ".join(report.sources), NAME_LIMIT) or "container-gate"
    return "container-gate"


def _places_of_several_versions(decisions: Sequence[Decision]) -> set[tuple[str, str, str]]:
    """(vulnerability, package, path) of the findings that differ from another only in the version."""
    places = Counter(
        (d.finding.vulnerability_id, d.finding.package.name, d.finding.package.path) for d in decisions
    )
    return {place for place, count in places.items() if count > 1}


def _testcase(decision: Decision, several_versions: set[tuple[str, str, str]], words: _Words) -> str:
    """The `<testcase>` of one finding, as `_xml` writes it at the test cases' level."""
    f = decision.finding
    # Most reports have no place with several versions: no key to make then.
    with_version = (
        bool(several_versions) and (f.vulnerability_id, f.package.name, f.package.path) in several_versions
    )
    name = escape_attribute(case_name(f, with_version))
    attribute, text = words.message(decision)
    disposition = decision.disposition
    if disposition is Disposition.BLOCKING:
        result = f'<failure message="{attribute}" type="blocking">{_body(decision, text, words)}</failure>'
    elif disposition is Disposition.ALLOWLISTED or disposition is Disposition.IGNORED:
        kind = words.kind(disposition)
        result = f'<skipped message="{attribute}" type="{kind}">{_body(decision, text, words)}</skipped>'
    else:
        result = f"<system-out>{_body(decision, text, words)}</system-out>"
    # `_case_xml`, with the class name (the package's name) escaped once per name.
    return f'<testcase classname="{words.classname(f.package.name)}" name="{name}">{_CASE_INDENT}{result}{_CASE_END}'


def _policy_cases(evaluation: Evaluation) -> list[str]:
    """A failing `<testcase>` per policy failure that is not a finding."""
    cases = []
    for failure in evaluation.policy_failures:
        name = _name(f"policy: {failure}")
        text = _line(failure, MESSAGE_LIMIT)
        cases.append(_case_xml("policy", name, _result_xml("failure", "policy", text, text + "\n")))
    return cases


# A test case is written as text, as `ET.indent` and `ET.tostring` would write its element at the
# test cases' level: building and serializing 100k elements took 3 s of a 100k-finding run.
# The escaping is ElementTree's (xml/etree/ElementTree.py `_escape_attrib`, `_escape_cdata`);
# tests/render/test_streams.py compares both on hostile text.
_ATTRIBUTE_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                      ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))  # fmt: skip
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def escape_attribute(text: str) -> str:
    """An attribute value as ElementTree escapes it."""
    for char, entity in _ATTRIBUTE_ESCAPES:
        if char in text:
            text = text.replace(char, entity)
    return text


def escape_text(text: str) -> str:
    """Element text as ElementTree escapes it."""
    for char, entity in _TEXT_ESCAPES:
        if char in text:
            text = text.replace(char, entity)
    return text


def _result_xml(tag: str, kind: str, msg: str, body: str) -> str:
    # The message both as the attribute and as the text: see the module docstring (GitLab).
    return _result_text(tag, escape_attribute(kind), escape_attribute(msg), body)


def _result_text(tag: str, kind_attribute: str, msg_attribute: str, body: str) -> str:
    """`_result_xml` of a kind and a message escaped already."""
    return f'<{tag} message="{msg_attribute}" type="{kind_attribute}">{escape_text(body)}</{tag}>'


def _case_xml(classname: str, name: str, result: str) -> str:
    indent = "\n" + "  " * (_CASE_LEVEL + 1)
    return (
        f'<testcase classname="{escape_attribute(classname)}" name="{escape_attribute(name)}">'
        f"{indent}{result}\n{'  ' * _CASE_LEVEL}</testcase>"
    )


def _counts(evaluation: Evaluation) -> dict[str, int]:
    """The suite's totals, known before its test cases are written."""
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for decision in evaluation.decisions:
        counts["tests"] += 1
        if decision.disposition is Disposition.BLOCKING:
            counts["failures"] += 1
        elif decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED):
            counts["skipped"] += 1
    counts["tests"] += len(evaluation.policy_failures)
    counts["failures"] += len(evaluation.policy_failures)
    return counts


# The document is written as `ET.indent` (two spaces) and `ET.tostring` would write the whole tree,
# a test case at a time: the tree of 100k test cases took as much memory as the report itself.
_CASE_LEVEL = 2
"""Nesting of a test case: testsuites > testsuite > testcase."""
_CASE_INDENT = "\n" + "  " * (_CASE_LEVEL + 1)
_CASE_END = f"\n{'  ' * _CASE_LEVEL}</testcase>"
_BATCH = 500
"""Test cases written into one chunk."""


def _xml(element: ET.Element, level: int) -> str:
    ET.indent(element, space="  ", level=level)
    return ET.tostring(element, encoding="unicode")


def _start_tag(tag: str, attributes: dict[str, str]) -> str:
    """`<tag a="..">` with ElementTree's own attribute escaping."""
    empty = ET.tostring(ET.Element(tag, attributes), encoding="unicode")
    return empty.removesuffix(" />") + ">"


def _suite_chunks(evaluation: Evaluation, counts: dict[str, int]) -> Iterator[str]:
    """One `<testsuite>`, indented at level 1, without the whitespace that follows it."""
    attributes = {"name": _suite_name(evaluation), **{k: str(n) for k, n in counts.items()}, "time": "0"}
    if not counts["tests"]:
        attributes["tests"] = "1"
    props = ET.Element("properties")
    for name, value in (
        ("verdict", evaluation.verdict),
        ("policy", evaluation.policy.source),
        ("mode", evaluation.policy.mode.value),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _line(value, MESSAGE_LIMIT)})
    delta = delta_line(evaluation, lambda source: f"`{source}`")
    if delta:
        # With `--baseline`: the same line as the terminal and Markdown summaries, new and worse first.
        ET.SubElement(props, "property", {"name": "baseline", "value": _line(delta, MESSAGE_LIMIT)})
    if evaluation.base_image is not None:
        # With `scan --check-base`: the same line as the terminal and Markdown summaries.
        line = base_image_line(evaluation.base_image, lambda name: f"`{name}`", str)
        ET.SubElement(props, "property", {"name": "base_image", "value": _line(line, MESSAGE_LIMIT)})
    for warning in evaluation.report.warnings:
        ET.SubElement(props, "property", {"name": "warning", "value": _line(warning, MESSAGE_LIMIT)})
    # What applying the policy needs said (a rule the data could not back, stale data) is a warning too.
    for warning in evaluation.policy_warnings:
        ET.SubElement(props, "property", {"name": "warning", "value": _line(warning, MESSAGE_LIMIT)})
    between = "\n" + "  " * _CASE_LEVEL
    parts = [_start_tag("testsuite", attributes), between, _xml(props, _CASE_LEVEL)]
    several_versions = _places_of_several_versions(evaluation.decisions)
    words = _Words(evaluation.plan)
    cases: Iterator[str] = itertools.chain(
        (_testcase(decision, several_versions, words) for decision in evaluation.decisions),
        _policy_cases(evaluation),
    )
    if not counts["tests"]:
        # Several CI systems take a report without a test case for a broken one.
        cases = iter(['<testcase classname="container-gate" name="no findings" />'])
    for n, case in enumerate(cases, 1):
        parts += [between, case]
        if n % _BATCH == 0:
            yield "".join(parts)
            parts = []
    parts.append("\n  </testsuite>")
    yield "".join(parts)


def junit_suites_chunks(evaluations: Sequence[Evaluation]) -> Iterator[bytes]:
    """One `<testsuite>` per evaluation (per image), inside one `<testsuites>`, as UTF-8 chunks:
    the file is written as it is made, never held whole."""
    counts = [_counts(evaluation) for evaluation in evaluations]
    totals = {
        key: sum(max(c[key], 1) if key == "tests" else c[key] for c in counts)
        for key in ("tests", "failures", "errors")
    }
    root = {"name": "container-gate", **{k: str(n) for k, n in totals.items()}, "time": "0"}
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + _start_tag("testsuites", root)
    if not evaluations:
        yield (head.removesuffix(">") + " />\n").encode("utf-8")
        return
    yield head.encode("utf-8")
    for evaluation, suite_counts in zip(evaluations, counts, strict=True):
        yield b"\n  "
        for chunk in _suite_chunks(evaluation, suite_counts):
            yield chunk.encode("utf-8")
    yield b"\n</testsuites>\n"


def render_junit_suites(evaluations: Sequence[Evaluation]) -> str:
    """One `<testsuite>` per evaluation (per image), inside one `<testsuites>`."""
    return b"".join(junit_suites_chunks(evaluations)).decode("utf-8")


def junit_chunks(evaluation: Evaluation) -> Iterator[bytes]:
    """The JUnit XML report for one image's evaluation, as UTF-8 chunks."""
    return junit_suites_chunks([evaluation])


def render_junit(evaluation: Evaluation) -> str:
    """The JUnit XML report for one image's evaluation."""
    return render_junit_suites([evaluation])


def _document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


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
