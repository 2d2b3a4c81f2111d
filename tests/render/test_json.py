"""The JSON decision report (`--json`): the contract of docs/architecture.md, field for field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.model import (
    Assessment,
    Cvss,
    DirectUpgrade,
    Finding,
    ImageInfo,
    Layer,
    LayerOrigin,
    Severity,
    VendorStatus,
)
from gate.policy.actions import Action, ActionKind, FindingKey, PackageFix, Step
from gate.policy.evaluation import Decision, Disposition, EntryState
from gate.policy.model import AllowlistEntry, Policy
from gate.render import json as json_renderer
from gate.render._exploit import finding_fields
from gate.render.json import SCHEMA, render_error_json, render_json
from tests.support.corpus import corpus_evaluation, corpus_file, corpus_reports
from tests.support.factories import evaluation_of, finding, layer

# docs/architecture.md, "JSON decision report": the fields every consumer may rely on.
TOP_LEVEL = {"schema", "verdict", "counts", "findings", "rules", "actions", "no_fix"}
ACTION_FIELDS = {
    "id", "kind", "package", "packages", "origin", "installed_version", "target_version", "dockerfile_line",
    "findings", "blocking", "counts_by_severity", "command", "steps", "estimated",
}  # fmt: skip
FINDING_FIELDS = [
    "vulnerability_id",
    "aliases",
    "package",
    "installed_version",
    "fixed_versions",
    "severity",
    "status",
    "disposition",
    "reason",
    "rule",
]
RULE_FIELDS = {"index", "vulnerability", "package", "reason", "expires", "state"}


def test_golden(golden: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_renderer, "__version__", "1.4.2")  # golden files outlive a release
    # Read by a path relative to the corpus, which the report names: the checkout's place varies.
    report = corpus_file("trivy", "debian-buster.json.golden")
    monkeypatch.chdir(report.parent.parent)
    evaluation = corpus_evaluation(report.relative_to(report.parent.parent))
    golden("json-trivy-debian-buster.json", render_json(evaluation))


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_every_corpus_report_meets_the_contract(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    doc: dict[str, Any] = json.loads(render_json(evaluation))
    assert set(doc) >= TOP_LEVEL
    assert doc["schema"] == SCHEMA == "container-gate/decision/v1"
    assert doc["verdict"] == ("pass" if evaluation.passed else "fail")
    assert list(doc["counts"]) == ["blocking", "allowlisted", "ignored", "informational"]
    # Every finding of the input exactly once, in the report's order, with one disposition.
    assert len(doc["findings"]) == len(evaluation.decisions)
    assert sum(doc["counts"].values()) == len(doc["findings"])
    for item, decision in zip(doc["findings"], evaluation.decisions, strict=True):
        assert list(item)[: len(FINDING_FIELDS)] == FINDING_FIELDS
        assert item["vulnerability_id"] == decision.finding.vulnerability_id
        assert item["package"] == decision.finding.package.name
        assert item["disposition"] in {d.value for d in Disposition}
        assert item["severity"] in {s.name for s in Severity}
    for disposition, count in doc["counts"].items():
        assert count == sum(1 for f in doc["findings"] if f["disposition"] == disposition)
    assert len(doc["rules"]) == len(evaluation.policy.allowlist)
    for rule in doc["rules"]:
        assert set(rule) >= RULE_FIELDS
        assert rule["state"] in {s.value for s in EntryState}
    assert_actions_name_their_findings(doc)


def assert_actions_name_their_findings(doc: dict[str, Any]) -> None:
    """Every finding with a fix is in the one action its `action` names, every other in `no_fix`."""
    findings = doc["findings"]
    listed = [i for action in doc["actions"] for i in action["findings"]] + doc["no_fix"]["findings"]
    assert sorted(listed) == list(range(len(findings)))
    for action in doc["actions"]:
        assert set(action) >= ACTION_FIELDS
        assert action["kind"] in ("base_refresh", "package_upgrade")
        assert all(findings[i]["action"] == action["id"] for i in action["findings"])
        assert all(findings[i]["fixed_versions"] for i in action["findings"])
        assert action["blocking"] == sum(findings[i]["disposition"] == "blocking" for i in action["findings"])
        assert sum(action["counts_by_severity"].values()) == len(action["findings"])
        assert all(isinstance(n, int) for n in action["counts_by_severity"].values())  # flat
        if action["steps"]:
            assert sorted(i for step in action["steps"] for i in step["findings"]) == action["findings"]
    assert all(
        findings[i]["action"] is None and not findings[i]["fixed_versions"] for i in doc["no_fix"]["findings"]
    )
    blocking = [action["blocking"] for action in doc["actions"]]
    assert blocking == sorted(blocking, reverse=True)


def test_the_actions_of_an_image_with_a_base() -> None:
    base, own = layer(LayerOrigin.BASE, 1), layer(LayerOrigin.OWN, 4)
    evaluation = evaluation_of(
        finding("CVE-2024-0001", pkg="libc6", version="2.36-9", source_name="glibc", fixed=("2.36-9+deb12u3",), layer=base),
        finding("CVE-2024-0002", pkg="libc-bin", version="2.36-9", source_name="glibc", fixed=("2.36-9+deb12u4",), layer=base),
        finding("CVE-2024-0003", pkg="zlib1g", fixed=(), status=VendorStatus.AFFECTED, layer=base),
        finding("CVE-2024-0004", pkg="lodash", version="4.17.11", type="node-pkg",
                path="app/node_modules/lodash/package.json", fixed=("4.17.21",), layer=own),
        image=ImageInfo("app:1", base_image="debian:12"),
    )  # fmt: skip
    doc = json.loads(render_json(evaluation))
    assert_actions_name_their_findings(doc)
    refresh, lodash = doc["actions"]
    assert refresh == {
        "id": "base-refresh", "kind": "base_refresh", "package": "debian:12", "packages": ["libc-bin", "libc6"],
        "origin": "base", "ecosystem": None, "path": "", "installed_version": None, "target_version": None,
        "dockerfile_line": 1, "blocking": 2, "would_block": 2, "counts_by_severity": {"HIGH": 2},
        "blocking_by_severity": {"HIGH": 2}, "command": None, "findings": [0, 1],
        "steps": [
            {"package": "glibc", "packages": ["libc-bin", "libc6"], "ecosystem": "deb",
             "installed_version": "2.36-9", "target_version": "2.36-9+deb12u4", "findings": [0, 1],
             "blocking": 2, "command": "apt-get update && apt-get install -y --only-upgrade libc-bin libc6"},
        ],
        "estimated": True, "base_findings": 3,
    }  # fmt: skip
    assert (lodash["id"], lodash["target_version"], lodash["command"]) == (
        "npm:lodash@app/node_modules/lodash",
        "4.17.21",
        "npm install lodash@4.17.21",
    )
    assert lodash["base_findings"] is None
    assert doc["no_fix"] == {
        "blocking": 1,
        "would_block": 1,
        "counts_by_severity": {"HIGH": 1},
        "findings": [2],
    }
    assert [f["action"] for f in doc["findings"]] == ["base-refresh", "base-refresh", None, lodash["id"]]


def test_rules_and_finding_fields() -> None:
    policy = Policy(
        source="p.yaml",
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX}),
        allowlist=(
            AllowlistEntry(0, "CVE-2024-0002", "not shipped", package="zlib1g", expires=dt.date(2027, 1, 31)),
            AllowlistEntry(1, "CVE-1999-0001", "matches nothing"),
            AllowlistEntry(2, "CVE-2024-0001", "too old", expires=dt.date(2020, 1, 1), line=7),
        ),
    )
    evaluation = evaluation_of(
        finding("CVE-2024-0001", aliases=("GHSA-abcd-efgh-ijkl",)),
        finding("CVE-2024-0002", pkg="zlib1g"),
        finding("CVE-2024-0003", status=VendorStatus.WILL_NOT_FIX, fixed=()),
        policy=policy,
    )
    doc = json.loads(render_json(evaluation))
    assert doc["verdict"] == "fail"
    assert doc["counts"] == {"blocking": 1, "allowlisted": 1, "ignored": 1, "informational": 0}
    first = doc["findings"][0]
    assert {k: first[k] for k in FINDING_FIELDS} == {
        "vulnerability_id": "CVE-2024-0001",
        "aliases": ["GHSA-abcd-efgh-ijkl"],
        "package": "openssl",
        "installed_version": "3.0.2-1",
        "fixed_versions": ["3.0.13-1"],
        "severity": "HIGH",
        "status": "fixed",
        "disposition": "blocking",
        "reason": "HIGH is at or above the blocking severity HIGH",
        "rule": "fail_on.severity",
    }
    assert [f["rule"] for f in doc["findings"]] == ["fail_on.severity", "allowlist[0]", "ignore_statuses"]
    assert [(r["index"], r["state"], r["expires"], r["matched"], r["would_match"]) for r in doc["rules"]] == [
        (0, "used", "2027-01-31", 1, 0),
        (1, "unused", None, 0, 0),
        (2, "expired", "2020-01-01", 0, 1),
    ]
    assert doc["rules"][0]["package"] == "zlib1g"


def test_a_pass_and_an_empty_report() -> None:
    doc = json.loads(render_json(evaluation_of()))
    assert doc["verdict"] == "pass"
    assert doc["findings"] == []
    assert doc["counts"] == {"blocking": 0, "allowlisted": 0, "ignored": 0, "informational": 0}


def test_untrusted_text_stays_inside_its_string() -> None:
    # Findings are written one per line: a newline or quote in report text must stay escaped.
    hostile = 'x"\n  "verdict": "pass",\n\u2028\x00'
    doc = json.loads(render_json(evaluation_of(finding(pkg=hostile, title=hostile), finding(pkg="b"))))
    assert doc["verdict"] == "fail"
    assert [f["package"] for f in doc["findings"]] == [hostile, "b"]


def test_error_document() -> None:
    doc = json.loads(render_error_json("report.json: not valid JSON", 2))
    assert doc["schema"] == SCHEMA
    assert doc["verdict"] == "error"
    assert doc["error"] == {"message": "report.json: not valid JSON", "exit_code": 2}
    assert "findings" not in doc


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", 'é"\\\n\t\x00\u2028', "CVE-2024-1"]
)
_OPTIONAL_TEXT = st.none() | _TEXT
# Few vectors and sources, so that findings of one report share them, and 7 and 7.0 meet.
_CVSS_TEXT = st.sampled_from([None, "CVSS:3.1/AV:N", "nvd"])
_SCORE = st.none() | st.sampled_from([7.5, 7.0, 0.0, -0.0, 10.0, 1e-05]) | st.integers(0, 10)


@st.composite
def _findings(draw: st.DrawFn) -> Finding:
    shared_layer = layer(LayerOrigin.BASE, 3)
    made = finding(
        draw(st.sampled_from(["CVE-2024-0001", "CVE-2024-0002"])) + draw(_TEXT),
        pkg=draw(_TEXT) or "p",
        version=draw(_TEXT),
        path=draw(_TEXT),
        purl=draw(_OPTIONAL_TEXT),
        type=draw(_TEXT),
        source_name=draw(_OPTIONAL_TEXT),
        severity=draw(st.sampled_from(Severity)),
        fixed=tuple(draw(st.lists(_TEXT, max_size=3))),
        status=draw(st.sampled_from(VendorStatus)),
        aliases=tuple(draw(st.lists(_TEXT, max_size=2))),
        title=draw(_OPTIONAL_TEXT),
        primary_url=draw(_OPTIONAL_TEXT),
        layer=draw(
            st.sampled_from([None, shared_layer, Layer(created_by='RUN é"x', origin=LayerOrigin.OWN)])
        ),
        scanners=tuple(draw(st.lists(st.sampled_from(["trivy", "grype"]), max_size=2))),
    )
    score = draw(_SCORE)
    cvss = None if score is None else Cvss(score, draw(_CVSS_TEXT), draw(_CVSS_TEXT))
    said = tuple(
        Assessment(
            draw(_TEXT), draw(_OPTIONAL_TEXT), draw(st.sampled_from(Severity)), VendorStatus.FIXED, ("1",)
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    upgrades = tuple(
        DirectUpgrade(draw(_TEXT) or "d", draw(_TEXT), draw(_TEXT) or "2")
        for _ in range(draw(st.integers(0, 2)))
    )
    return replace(
        made,
        cvss=cvss,
        assessments=said,
        direct_upgrades=upgrades,
        no_direct_upgrade=not upgrades and draw(st.booleans()),
    )


def _reference_row(
    decision: Decision, action_ids: Mapping[FindingKey, str], with_data: bool
) -> dict[str, Any]:
    """A finding's row as a dict of its members, in docs/report-format.md's order, then its
    exploitability fields: what `_FindingRows.text` writes as text."""
    f = decision.finding
    row: dict[str, Any] = {
        "vulnerability_id": f.vulnerability_id,
        "aliases": list(f.aliases),
        "package": f.package.name,
        "installed_version": f.package.version,
        "fixed_versions": list(f.fixed_versions),
        "severity": f.severity.name,
        "status": f.status.value,
        "disposition": decision.disposition.value,
        "reason": decision.reason,
        "rule": str(decision.rule),
        "would_block": decision.would_block,
        "package_type": f.package.type,
        "purl": f.package.purl,
        "path": f.package.path,
        "source_package": f.package.source_name,
        "cvss": {"score": f.cvss.score, "vector": f.cvss.vector, "source": f.cvss.source} if f.cvss else None,
        "title": f.title,
        "primary_url": f.primary_url,
        "layer": json_renderer._layer(f.layer),
        "scanners": list(f.scanners),
        "action": action_ids.get(f.key),
        "assessments": [
            {
                "scanner": said.scanner,
                "source": said.source,
                "severity": said.severity.name,
                "status": said.status.value,
                "fixed_versions": list(said.fixed_versions),
            }
            for said in f.assessments
        ],
    }
    # Added later: only a finding that has them writes them.
    if f.direct_upgrades:
        row["direct_upgrades"] = [
            {"package": u.name, "installed_version": u.version, "target_version": u.target}
            for u in f.direct_upgrades
        ]
    if f.no_direct_upgrade:
        row["no_direct_upgrade"] = True
    return row | finding_fields(decision, with_data)


def _reference_action(
    a: Action, positions: Mapping[str | None, list[int]], by_key: Mapping[FindingKey, list[int]]
) -> dict[str, Any]:
    """An action's row as a dict of its members, in docs/report-format.md's order: what
    `_action_text` writes as text."""
    row = {
        "id": a.id,
        "kind": a.kind.value,
        "package": a.package,
        "packages": list(a.packages),
        "origin": a.origin.value if a.origin else None,
        "ecosystem": a.ecosystem,
        "path": a.path,
        "installed_version": a.installed_version,
        "target_version": a.target_version,
        "dockerfile_line": a.dockerfile_line,
        "blocking": a.blocking,
        "would_block": a.would_block,
        "counts_by_severity": {severity.name: n for severity, n in a.counts_by_severity.items()},
        "blocking_by_severity": {severity.name: n for severity, n in a.blocking_by_severity.items()},
        "command": a.command,
        "findings": positions.get(a.id, []),
        "steps": [json_renderer._step(s, by_key) for s in a.steps],
        "estimated": a.estimated,
        "base_findings": a.base_findings if a.kind is ActionKind.BASE_REFRESH else None,
    }
    # Added later: only an action that has them writes them.
    if a.fixes:
        row["fixes"] = [
            {
                "package": f.package,
                "installed_version": f.installed_version,
                "target_version": f.target_version,
            }
            for f in a.fixes
        ]
    if a.no_direct_upgrade:
        row["no_direct_upgrade"] = True
    return row


def _extras(_decision: object) -> dict[str, Any]:
    return {"baseline": "new", "vex": {"status": "é"}}


@settings(max_examples=300, deadline=None)
@given(findings=st.lists(_findings(), min_size=1, max_size=6), with_data=st.booleans())
def test_a_finding_row_is_what_the_encoder_writes_of_its_members(
    findings: list[Finding], with_data: bool
) -> None:
    policy = Policy(
        source="policy.yaml", allowlist=(AllowlistEntry(index=0, vulnerability="CVE-2024-0002", reason="r"),)
    )
    evaluation = evaluation_of(*findings, policy=policy)
    action_ids = evaluation.plan.action_ids
    rows = json_renderer._FindingRows()
    for decision in evaluation.decisions * 2:  # the second time from what was kept
        members = _reference_row(decision, action_ids, with_data)
        expected = json_renderer._ONE_LINE.encode(members)
        action_id = action_ids.get(decision.finding.key)
        assert rows.text(decision, with_data, None, action_id) == expected
        assert rows.text(decision, with_data, _extras, action_id) == json_renderer._ONE_LINE.encode(
            members | _extras(decision)
        )


def test_rows_that_share_a_cvss_block_keep_each_score_as_written() -> None:
    scores: list[float] = [7.0, 7, 0.0, -0.0, 7.0, -0.0]
    findings = [
        replace(finding(f"CVE-2024-{n:04}"), cvss=Cvss(score, "CVSS:3.1/AV:N", "nvd"))
        for n, score in enumerate(scores)
    ]
    doc = json.loads(render_json(evaluation_of(*findings)))
    written = [row["cvss"]["score"] for row in doc["findings"]]
    assert [(type(s), str(s)) for s in written] == [(type(s), str(s)) for s in scores]


_KEYS = [("CVE-2024-0001", "p", "1", ""), ("CVE-2024-0002", 'é"', "2", "a\\b")]
_COUNTS = st.dictionaries(st.sampled_from(Severity), st.integers(0, 10**6), max_size=5)


@st.composite
def _actions(draw: st.DrawFn) -> Action:
    kind = draw(st.sampled_from(ActionKind))
    steps = tuple(
        Step(
            draw(_TEXT),
            tuple(draw(st.lists(_TEXT, max_size=2))),
            draw(_TEXT),
            draw(_TEXT),
            draw(_OPTIONAL_TEXT),
            tuple(draw(st.lists(st.sampled_from(_KEYS), max_size=3))),
            draw(st.integers(0, 5)),
            draw(_OPTIONAL_TEXT),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return Action(
        id=draw(st.sampled_from(["base-refresh", "deb:openssl"])) + draw(_TEXT),
        kind=kind,
        package=draw(_TEXT),
        packages=tuple(draw(st.lists(_TEXT, max_size=3))),
        origin=draw(st.none() | st.sampled_from(LayerOrigin)),
        ecosystem=draw(_OPTIONAL_TEXT),
        path=draw(_TEXT),
        installed_version=draw(_OPTIONAL_TEXT),
        target_version=draw(_OPTIONAL_TEXT),
        dockerfile_line=draw(st.none() | st.integers(0, 10**6)),
        findings=(),
        blocking=draw(st.integers(0, 10**6)),
        would_block=draw(st.integers(0, 10**6)),
        counts_by_severity=draw(_COUNTS),
        blocking_by_severity=draw(_COUNTS),
        command=draw(_OPTIONAL_TEXT),
        steps=steps,
        estimated=draw(st.booleans()),
        base_findings=draw(st.integers(0, 10**6)),
        fixes=tuple(
            PackageFix(draw(_TEXT), draw(_TEXT), draw(_OPTIONAL_TEXT)) for _ in range(draw(st.integers(0, 2)))
        ),
        no_direct_upgrade=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(
    action=_actions(),
    positions=st.dictionaries(
        st.none() | st.sampled_from(["base-refresh", "deb:openssl"]),
        st.lists(st.integers(0, 10**6), max_size=4),
    ),
)
def test_an_action_row_is_what_the_encoder_writes_of_its_members(
    action: Action, positions: dict[str | None, list[int]]
) -> None:
    by_key = {_KEYS[0]: [3, 1], _KEYS[1]: [0]}
    expected = json_renderer._ONE_LINE.encode(_reference_action(action, positions, by_key))
    assert json_renderer._action_text(action, positions, by_key) == expected


@pytest.mark.parametrize(
    ("scanner", "name"),
    [("trivy", "debian-buster.json.golden"), ("snyk", "container-app-vulns__results.json")],
)
def test_the_actions_of_a_corpus_report_are_written_as_the_encoder_writes_them(
    scanner: str, name: str
) -> None:
    evaluation = corpus_evaluation(corpus_file(scanner, name))
    positions, by_key = json_renderer._positions(evaluation)
    doc = json.loads(render_json(evaluation))
    assert evaluation.plan.actions
    assert doc["actions"] == [_reference_action(a, positions, by_key) for a in evaluation.plan.actions]
    for action in evaluation.plan.actions:
        expected = json_renderer._ONE_LINE.encode(_reference_action(action, positions, by_key))
        assert json_renderer._action_text(action, positions, by_key) == expected
