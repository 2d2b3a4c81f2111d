"""The JSON decision report (`--json`): the contract of docs/architecture.md, field for field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.model import Severity, VendorStatus
from gate.policy.evaluation import Disposition, EntryState
from gate.policy.model import AllowlistEntry, Policy
from gate.render import json as json_renderer
from gate.render.json import SCHEMA, render_error_json, render_json
from tests.support.corpus import corpus_evaluation, corpus_file, corpus_reports
from tests.support.factories import evaluation_of, finding

# docs/architecture.md, "JSON decision report": the fields every consumer may rely on.
TOP_LEVEL = {"schema", "verdict", "counts", "findings", "rules"}
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
