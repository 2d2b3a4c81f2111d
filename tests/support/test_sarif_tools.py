"""The SARIF judges work: real scanner SARIF passes, broken SARIF is reported with its location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.repo_paths import TEST_DATA
from tests.support.sarif_tools import (
    run_multitool_validate,
    run_multitool_validate_many,
    validate_sarif_schema,
)

CORPUS = TEST_DATA / "corpus" / "sarif-in"
TRIVY_SARIF = CORPUS / "aquasecurity-trivy__alpine-310.sarif.golden"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def broken_trivy_sarif() -> Any:
    doc = load(TRIVY_SARIF)
    del doc["runs"][0]["tool"]["driver"]["name"]
    doc["runs"][0]["results"][0]["level"] = "fatal"
    return doc


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_scanner_sarif_matches_the_schema(path: Path) -> None:
    assert validate_sarif_schema(load(path)) == []


def test_schema_reports_each_break_with_its_path() -> None:
    problems = validate_sarif_schema(broken_trivy_sarif())
    assert len(problems) == 2
    assert problems[0].startswith("$.runs[0].results[0].level: 'fatal' is not one of")
    assert problems[1] == "$.runs[0].tool.driver: 'name' is a required property"


def test_multitool_accepts_trivy_sarif() -> None:
    report = run_multitool_validate(TRIVY_SARIF)  # a .golden name: copied to .sarif, not skipped
    assert report.errors == []
    # Trivy's test build says version "dev": the SARIF SDK asks for a numeric version.
    assert [f.rule_id for f in report.warnings] == ["SARIF2005"]
    assert "'dev'" in report.warnings[0].message


def test_multitool_reports_schema_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.sarif"
    path.write_text(json.dumps(broken_trivy_sarif(), indent=2), encoding="utf-8")
    errors = run_multitool_validate(path).errors
    assert sorted(f.rule_id for f in errors) == ["JSON1002", "JSON1019"]
    missing = next(f for f in errors if f.rule_id == "JSON1002")
    assert missing.message == "runs[0].tool.driver: The required property 'name' is missing."
    assert missing.line is not None


def test_multitool_github_rules_catch_what_code_scanning_rejects(tmp_path: Path) -> None:
    doc = load(TRIVY_SARIF)
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    del location["region"]
    location["artifactLocation"] = {"uri": "file:///var/lib/image/etc/os-release"}
    path = tmp_path / "absolute.sarif"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    github = {f.rule_id for f in run_multitool_validate(path).errors}
    assert {"GH1003", "GH1006"} <= github
    plain = {f.rule_id for f in run_multitool_validate(path, github_rules=False).errors}
    assert not any(rule.startswith("GH") for rule in plain)


def test_one_multitool_run_tells_each_file_s_findings_apart(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sarif"
    broken.write_text(json.dumps(broken_trivy_sarif(), indent=2), encoding="utf-8")
    good, bad, good_again = run_multitool_validate_many([TRIVY_SARIF, broken, TRIVY_SARIF])
    assert good.errors == good_again.errors == []
    assert [f.rule_id for f in good.warnings] == [f.rule_id for f in good_again.warnings] == ["SARIF2005"]
    assert sorted(f.rule_id for f in bad.errors) == ["JSON1002", "JSON1019"]
