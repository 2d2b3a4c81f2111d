"""The sarif-om serializer: the schema's property names only, defaults left out unless they carry meaning."""

from __future__ import annotations

import enum
import inspect
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import attr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.enrich.baseline import BaselineState
from gate.model import Cvss, Finding, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.actions import Action
from gate.policy.evaluation import Decision, Disposition, Evaluation
from gate.policy.model import AllowlistEntry, Policy
from gate.render import _sarif_results as build
from gate.render import _sarif_text as words
from gate.render._exploit import sarif_properties
from gate.render._markdown_cells import table_header, table_row
from gate.render._sarif_om import Suppression, om, to_json
from gate.untrusted import comment_link_url, md_code, md_escape, safe_url, terminal_safe
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.factories import evaluation_of, finding
from tests.support.sarif_tools import SARIF_SCHEMA


def schema_properties() -> dict[str, set[str]]:
    """For each sarif-om class name, the property names of its definition in the OASIS schema."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    out = {"SarifLog": set(schema["properties"])}
    for name, definition in schema["definitions"].items():
        out[name[0].upper() + name[1:]] = set(definition.get("properties", {}))
    return out


def test_every_sarif_om_name_is_a_schema_property_except_the_known_rtm4_one() -> None:
    schema = schema_properties()
    mismatches = {}
    for name, cls in inspect.getmembers(om, attr.has):
        names = {f.metadata["schema_property_name"] for f in attr.fields(cls)}
        if names - schema[name]:
            mismatches[name] = names - schema[name]
    # sarif-om 1.0.4 follows 2.1.0-rtm.4, where a suppression had `state`; our `Suppression` adds `status`.
    assert mismatches == {"Suppression": {"state"}}
    assert {f.metadata["schema_property_name"] for f in attr.fields(Suppression)} - schema["Suppression"] == {
        "state"
    }


def test_suppression_writes_the_final_schemas_status() -> None:
    written = to_json(Suppression(kind="external", status="accepted", justification="why"))
    assert written == {"kind": "external", "justification": "why", "status": "accepted"}


def test_none_and_meaningless_defaults_are_left_out() -> None:
    run = om.Run(tool=om.Tool(driver=om.ToolComponent(name="t", rules=[])), results=[])
    # `language: en-US`, `newlineSequences`, `contents` are sarif-om defaults nobody set.
    assert to_json(run) == {"tool": {"driver": {"name": "t", "rules": []}}, "results": []}
    region = om.Region(start_line=3)
    assert to_json(region) == {"startLine": 3}  # no charOffset/byteOffset -1 sentinels
    config = om.ReportingConfiguration(level="warning")
    assert to_json(config) == {"level": "warning"}  # no enabled: true, no rank: -1.0


def test_level_and_kind_are_written_even_when_equal_to_sarif_oms_default() -> None:
    # SARIF §3.27.10: an absent result level comes from the rule's configuration, not "warning".
    result = om.Result(message=om.Message(text="m."), level="warning", kind="fail", rule_index=0)
    assert to_json(result) == {"message": {"text": "m."}, "kind": "fail", "level": "warning", "ruleIndex": 0}
    note = om.Notification(message=om.Message(text="n."), level="warning")
    assert to_json(note) == {"message": {"text": "n."}, "level": "warning"}


def test_property_bags_keep_their_keys_and_drop_none() -> None:
    bag = {"security-severity": "8.0", "tags": ["a"], "absent": None, "nested": {"x": None, "y": 1}}
    assert to_json(om.ReportingDescriptor(id="R1", properties=bag)) == {
        "id": "R1",
        "properties": {"security-severity": "8.0", "tags": ["a"], "nested": {"y": 1}},
    }


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Color.RED, TypeError),
        (float("nan"), ValueError),
        ({1: "x"}, TypeError),
        (object(), TypeError),
    ],
)
def test_values_that_are_not_json_are_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_json(om.Message(text="x", properties={"value": value}))


def test_a_field_without_a_schema_name_is_refused() -> None:
    @attr.s
    class Stray:
        python_name: str = attr.ib(default="x")

    with pytest.raises(TypeError, match="names no SARIF schema property"):
        to_json(Stray())


# --- results --------------------------------------------------------------------------------------
# `build.Results` writes a run's results as JSON values, the words and values many results share
# made once per run; these make each result alone, with the text functions as they were before.


def _plain_before(text: str | None, limit: int = words.GITHUB_TEXT_LIMIT) -> str:
    """`words.plain` as it was before plain ASCII text skipped its split, join and regex pass."""
    flat = terminal_safe(" ".join((text or "").split()))
    if "](" in flat:
        flat = words._LINK_CLOSE.sub(lambda m: m.group(1) * 2 + "\\]", flat)
    return words.cut(flat, limit)


# Any text; text of the characters `plain` changes or looks for; and printable ASCII alone, the
# text its short cut takes (runs of spaces and spaces at either end are still flattened).
_PLAIN_TEXT = (
    st.text(st.characters(codec="utf-8"))
    | st.text(st.sampled_from(" a.](\\\t\n\x1b\x7fé\u200b"))
    | st.text(st.sampled_from(" a.]("))
)


@settings(max_examples=500, deadline=None)
@given(text=st.none() | _PLAIN_TEXT, limit=st.sampled_from([words.GITHUB_TEXT_LIMIT, 5, 12]))
def test_plain_is_what_it_was_before_its_short_cut(text: str | None, limit: int) -> None:
    assert words.plain(text, limit) == _plain_before(text, limit)


def _result_message(decision: Decision, others: Sequence[Decision], action: Action | None) -> str:
    """`words.message` as it was (`result_message`) before the words results share were made once per run."""
    f = decision.finding
    head = (
        f"{f.vulnerability_id} in {f.package.name} {f.package.version} ({words.fix_words(f)}): "
        f"{f.severity.name}, {decision.disposition.value}: {words.cut(' '.join(decision.reason.split()), 300)}"
    )
    tail = [words.action_words(action)]
    if f.package.path:
        tail.append(f"Found at {f.package.path}")
    layer = words.layer_words(f)
    if layer:
        tail.append(f"Installed by {layer}")
    for other in others:
        tail.append(
            f"Also installed here: {other.finding.package.version} "
            f"({words.fix_words(other.finding)}), {other.disposition.value}"
        )
    text = ". ".join(s.rstrip(".") for s in [head, *tail]) + "."
    return _plain_before(text, words.MESSAGE_LIMIT)


def _properties_as_a_bag(item: build.Item, image: str | None) -> dict[str, object]:
    """A result's properties as `build.result_properties` made them before it wrote JSON values:
    every member, None where there is no value, for `to_json` to leave out."""
    decision, f = item.decision, item.decision.finding
    layer = f.layer
    properties: dict[str, object] = {
        "package": f.package.name,
        "packageType": f.package.type or None,
        "packagePath": f.package.path or None,
        "purl": f.package.purl,
        "installedVersion": f.package.version,
        "fixedVersions": list(f.fixed_versions),
        "severity": f.severity.name,
        "vendorStatus": f.status.value,
        "disposition": decision.disposition.value,
        "policyRule": str(decision.rule),
        "cvss": {"score": f.cvss.score, "vector": f.cvss.vector, "source": f.cvss.source} if f.cvss else None,
        "layer": {
            "index": layer.index,
            "diffId": layer.diff_id,
            "origin": layer.origin.value if layer.origin else None,
            "createdBy": layer.created_by,
            "dockerfileLine": layer.dockerfile_line,
        }
        if layer is not None
        else None,
        "image": image,
        "scanners": list(f.scanners),
        "otherInstalledVersions": [o.finding.package.version for o in item.others] or None,
        "action": item.action.id if item.action is not None else None,
    }
    properties.update(sarif_properties(decision))
    return properties


_SARIF_BASELINE = {
    BaselineState.NEW: "new",
    BaselineState.WORSE: "updated",
    BaselineState.UNCHANGED: "unchanged",
}


def _result_of_objects(
    item: build.Item, rule_index: int, uri: str, dockerfile_uri: str, image: str | None
) -> Any:
    """A result as sarif-om objects, the way `build.result` made it before it wrote JSON values."""
    decision, f = item.decision, item.decision.finding
    line = f.layer.dockerfile_line if f.layer and f.layer.dockerfile_line else None
    location = om.Location(
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=dockerfile_uri if line else uri),
            region=om.Region(start_line=line or 1),
        )
    )
    suppressions: list[Suppression] = []
    if decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED):
        justification = _plain_before(decision.reason)
        suppressions = [Suppression(kind="external", status="accepted", justification=justification)]
    properties = _properties_as_a_bag(item, image)
    fingerprints = {build.FINGERPRINT_KEY: item.fingerprint, "primaryLocationLineHash": item.fingerprint}
    states = {"new": 0, "updated": 1, "unchanged": 2}
    shown = [_SARIF_BASELINE[d.baseline] for d in (decision, *item.others) if d.baseline is not None]
    return om.Result(
        baseline_state=min(shown, key=states.__getitem__) if shown else None,
        rule_id=f.vulnerability_id,
        rule_index=rule_index,
        kind="fail",
        level=build.result_level(decision),
        message=om.Message(text=_result_message(decision, item.others, item.action)),
        locations=[location],
        partial_fingerprints=fingerprints,
        suppressions=suppressions,
        properties=properties,
    )


def _assert_results_as_objects_would_be(evaluation: Evaluation) -> None:
    items = build.items(evaluation.decisions, evaluation.plan)
    for where in (
        ("Dockerfile", "Dockerfile", None),
        ("a/b", "docker/app.Dockerfile", "ghcr.io/acme/app:1"),
    ):
        # One `Results` for the run, as the SARIF output makes them, and `result` alone.
        run = build.Results(*where)
        for index, item in enumerate(items):
            # Key order matters: the text is compared, not the values.
            expected = json.dumps(to_json(_result_of_objects(item, index, *where)))
            assert json.dumps(run.result(item, index)) == expected
            assert json.dumps(build.result(item, index, *where)) == expected


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_results_are_written_as_sarif_oms_objects_would_be(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    # corpus_policy allowlists a finding of every report: the suppression is written too.
    assert (
        any(d.disposition is Disposition.ALLOWLISTED for d in evaluation.decisions)
        or not evaluation.decisions
    )
    _assert_results_as_objects_would_be(evaluation)


@pytest.mark.parametrize("path", corpus_reports()[:12], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_results_with_a_baseline_are_written_as_sarif_oms_objects_would_be(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    states = list(BaselineState)
    # Each decision in turn new, unchanged and worse, as `--baseline` marks them.
    decisions = tuple(replace(d, baseline=states[i % 3]) for i, d in enumerate(evaluation.decisions))
    _assert_results_as_objects_would_be(replace(evaluation, decisions=decisions))


def test_a_result_of_several_installed_versions_is_as_new_as_its_newest() -> None:
    one = finding("CVE-2024-0001", pkg="openssl", version="1.1", type="rpm")
    two = replace(one, package=replace(one.package, version="1.2"))
    evaluation = evaluation_of(one, two)
    for shown, other, expected in [
        (BaselineState.UNCHANGED, BaselineState.NEW, "new"),
        (BaselineState.WORSE, BaselineState.UNCHANGED, "updated"),
        (BaselineState.UNCHANGED, BaselineState.UNCHANGED, "unchanged"),
        (BaselineState.NEW, BaselineState.WORSE, "new"),
    ]:
        decisions = [
            replace(evaluation.decisions[0], baseline=shown),
            replace(evaluation.decisions[1], baseline=other),
        ]
        (item,) = build.items(decisions)
        assert len(item.others) == 1
        assert build.baseline_state(item) == expected
        written = build.result(item, 0, "Dockerfile", "Dockerfile", None)
        assert isinstance(written, dict)
        assert written["baselineState"] == expected


# --- rules ----------------------------------------------------------------------------------------
# `build.rule` writes a rule's JSON values and its texts in one pass; these make them as it did
# before, one text at a time and as sarif-om objects for `to_json`.


def _help_text(vuln_id: str, decisions: Sequence[Decision], severity: Severity, score: str | None) -> str:
    first = decisions[0].finding
    lines = [_plain_before(f"{vuln_id}: {first.title}" if first.title else vuln_id)]
    lines.append(f"Severity: {severity.name}" + (f", security severity {score}" if score else ""))
    lines.append("")
    for d in decisions[: words.HELP_PACKAGE_ROWS]:
        f = d.finding
        where = f" at {f.package.path}" if f.package.path else ""
        lines.append(
            _plain_before(
                f"- {f.package.name} {f.package.version}{where}: {words.fix_words(f)} ({d.disposition.value})"
            )
        )
    if len(decisions) > words.HELP_PACKAGE_ROWS:
        lines.append(f"- and {len(decisions) - words.HELP_PACKAGE_ROWS} more package(s)")
    lines.append("")
    if first.description:
        lines += [_plain_before(first.description, 3000), ""]
    url = safe_url(first.primary_url)
    if url:
        lines.append(f"More information: {url}")
    if first.aliases:
        lines.append(_plain_before("Also known as: " + ", ".join(first.aliases)))
    return "\n".join(lines).strip() + "\n"


def _help_markdown(vuln_id: str, decisions: Sequence[Decision], severity: Severity, score: str | None) -> str:
    first = decisions[0].finding
    url = safe_url(first.primary_url)
    link = comment_link_url(url)
    title = f"[{md_escape(vuln_id, 100)}]({link})" if link else md_escape(vuln_id, 100)
    parts = [f"**{title}**: {md_escape(first.title, 300)}" if first.title else f"**{title}**", ""]
    parts.append(f"Severity **{severity.name}**" + (f", security severity {score}" if score else ""))
    parts += ["", table_header(["Package", "Path", "Installed", "Fixed in", "Disposition"])]
    for d in decisions[: words.HELP_PACKAGE_ROWS]:
        f = d.finding
        fixed = (
            md_code(", ".join(f.fixed_versions), 100) if f.fixed_versions else md_escape(words.fix_words(f))
        )
        cells = [md_code(f.package.name, 100), md_code(f.package.path, 150), md_code(f.package.version, 100)]
        parts.append(table_row([*cells, fixed, d.disposition.value]))
    if len(decisions) > words.HELP_PACKAGE_ROWS:
        parts.append(f"\n_and {len(decisions) - words.HELP_PACKAGE_ROWS} more package(s)_")
    if first.description:
        parts += ["", md_escape(first.description, 3000)]
    links = [f"[{md_escape(url)}]({url})" if link else md_escape(url)] if url else []
    links += words._alias_links(first.aliases)
    if links:
        parts += ["", "**Links:** " + " · ".join(links)]
    return "\n".join(parts).strip() + "\n"


def _tags(decisions: Sequence[Decision], severity: Severity, limit: int) -> list[str]:
    tags = ["security", "vulnerability", severity.name.lower()]
    for package_type in dict.fromkeys(d.finding.package.type for d in decisions):
        kind = words.segments(package_type.replace("/", "-"))
        if kind:
            tags.append(kind[0][:40])
    return list(dict.fromkeys(tags))[:limit]


def _rule_of_objects(vuln_id: str, decisions: Sequence[Decision], max_tags: int) -> Any:
    findings = [d.finding for d in decisions]
    first = next((f for f in findings if f.title), findings[0])
    described = next((f for f in findings if f.description), first)
    severity = max(f.severity for f in findings)
    score = build.security_severity(findings, severity)
    ordered = sorted(decisions, key=lambda d: d.finding is not first)
    properties: dict[str, object] = {"tags": _tags(decisions, severity, max_tags), "security-severity": score}
    return om.ReportingDescriptor(
        id=vuln_id,
        name=build._rule_name(findings),
        short_description=om.MultiformatMessageString(text=words.short_description(first)),
        full_description=om.MultiformatMessageString(text=words.full_description(described)),
        help=om.MultiformatMessageString(
            text=_help_text(vuln_id, ordered, severity, score),
            markdown=_help_markdown(vuln_id, ordered, severity, score),
        ),
        help_uri=safe_url(first.primary_url),
        default_configuration=om.ReportingConfiguration(level=build.RULE_LEVEL[severity]),
        properties=properties,
    )


def _assert_rules_as_objects_would_be(decisions: Sequence[Decision], max_tags: int = 10) -> None:
    by_rule: dict[str, list[Decision]] = {}
    for item in build.items(decisions):
        by_rule.setdefault(item.rule_id, []).extend((item.decision, *item.others))
    for vuln_id, found in by_rule.items():
        expected = to_json(_rule_of_objects(vuln_id, found, max_tags))
        # Key order matters: the text is compared, not the values.
        assert json.dumps(build.rule(vuln_id, found, max_tags)) == json.dumps(expected)


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rules_are_written_as_sarif_oms_objects_would_be(path: Path) -> None:
    _assert_rules_as_objects_would_be(corpus_evaluation(path).decisions)


_TEXT = st.text(st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    [
        "",
        " ",
        "a  b",
        "x](y)",
        "\\](",
        "`|`",
        "@me #1",
        "é\u202e\n\t\x00",
        "Debian",
        "debian",
        "a/b",
        "///",
        "-",
    ]
)
_OPTIONAL_TEXT = st.none() | _TEXT


@st.composite
def _rule_findings(draw: st.DrawFn) -> Finding:
    made = finding(
        draw(st.sampled_from(["CVE-2024-0001", "CVE-2024-0002", " "])),
        pkg=draw(_TEXT) or "p",
        version=draw(_TEXT),
        path=draw(_TEXT),
        type=draw(_TEXT),
        severity=draw(st.sampled_from(Severity)),
        fixed=tuple(draw(st.lists(_TEXT, max_size=2))),
        status=draw(st.sampled_from(VendorStatus)),
        aliases=tuple(
            draw(st.lists(st.sampled_from(["GHSA-abcd-efgh-ijkl", "CVE-2023-0001", "x]("]), max_size=2))
        ),
        title=draw(_OPTIONAL_TEXT),
        description=draw(st.none() | _TEXT | st.sampled_from(["d " * 600, "[a](b) " * 500])),
        primary_url=draw(
            st.none()
            | st.sampled_from(["https://example.com/a", "javascript:x", "https://github.com/o/r/issues/1"])
        ),
    )
    score = draw(st.none() | st.sampled_from([0.0, 7.5, 10.0, 11.0]))
    return replace(made, cvss=None if score is None else Cvss(score))


@settings(max_examples=300, deadline=None)
@given(findings=st.lists(_rule_findings(), min_size=1, max_size=8), rows=st.sampled_from([2, 50]))
def test_rules_of_hostile_findings_are_written_as_sarif_oms_objects_would_be(
    findings: list[Finding], rows: int
) -> None:
    # Fewer rows than findings lists the rest as a count, in both helps.
    with mock.patch.object(words, "HELP_PACKAGE_ROWS", rows):
        _assert_rules_as_objects_would_be(evaluation_of(*findings).decisions, max_tags=4)


_SHARED_LAYERS = (
    Layer(diff_id="sha256:0", index=0, origin=LayerOrigin.BASE, created_by="/bin/sh -c #(nop) ADD x](y) /"),
    Layer(index=3, origin=LayerOrigin.OWN, created_by="RUN  pip install \x1b[31m.", dockerfile_line=7),
    Layer(diff_id="sha256:2", dockerfile_line=1),
    Layer(),
)


@st.composite
def _result_findings(draw: st.DrawFn) -> Finding:
    # Few ids, packages and paths, so that places hold several versions and copies differ in paths.
    made = finding(
        draw(st.sampled_from(["CVE-2024-0001", "CVE-2024-0002", "GHSA-x](y)"])),
        pkg=draw(st.sampled_from(["openssl", "a  b", "é\u202e"]) | _TEXT) or "p",
        version=draw(st.sampled_from(["1.0", "2.0 ", "x]("]) | _TEXT),
        path=draw(st.sampled_from(["", "app/x-1.2.jar", "app/x-1.3.jar"]) | _TEXT),
        type=draw(st.sampled_from(["debian", "jar"])),
        severity=draw(st.sampled_from(Severity)),
        fixed=tuple(draw(st.lists(_TEXT, max_size=2))),
        status=draw(st.sampled_from(VendorStatus)),
        scanners=tuple(draw(st.lists(st.sampled_from(["trivy", "grype"]), min_size=1, max_size=2))),
    )
    # Layers and CVSS blocks as a report shares them (one object for many findings) and as equal
    # copies; scores that are one key and two texts (7 and 7.0, 0.0 and -0.0).
    shared = draw(st.sampled_from(_SHARED_LAYERS))
    layer = draw(
        st.sampled_from([None, shared, replace(shared)]) | st.builds(Layer, created_by=_OPTIONAL_TEXT)
    )
    score = draw(st.sampled_from([None, 0.0, -0.0, 7, 7.0, 7.5, 10.0]))
    vector = draw(st.sampled_from([None, "CVSS:3.1/AV:N"]))
    return replace(
        made, layer=layer, cvss=None if score is None else Cvss(score, vector, draw(_OPTIONAL_TEXT))
    )


@settings(max_examples=300, deadline=None)
@given(
    findings=st.lists(_result_findings(), min_size=1, max_size=10),
    reasons=st.lists(_TEXT.filter(str.strip), min_size=2, max_size=2),
)
def test_results_of_hostile_findings_are_written_as_sarif_oms_objects_would_be(
    findings: list[Finding], reasons: list[str]
) -> None:
    # Allowlisted and ignored findings carry a suppression with the policy's reason.
    policy = Policy(
        source="policy.yaml",
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}),
        allowlist=(
            AllowlistEntry(index=0, vulnerability="CVE-2024-0002", reason=reasons[0]),
            AllowlistEntry(index=1, vulnerability="GHSA-x](y)", package="openssl", reason=reasons[1]),
        ),
    )
    _assert_results_as_objects_would_be(evaluation_of(*findings, policy=policy))
