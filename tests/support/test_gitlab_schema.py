"""GitLab container-scanning schema 15.0.7 checks, on the real reports of tests/data/corpus/gitlab."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from tests.support.gitlab_schema import container_scanning_validator, validate_container_scanning_report
from tests.support.repo_paths import TEST_DATA

CORPUS = TEST_DATA / "corpus" / "gitlab"
FIVE_VULNS = (
    CORPUS
    / "DefectDojo-django-DefectDojo__gitlab_container_scan__gl-container-scanning-report-5-vuln_v15.json"
)
NO_VULNS = (
    CORPUS / "DefectDojo-django-DefectDojo__gitlab_container_scan__gl-container-scanning-report-0-vuln.json"
)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_validator_uses_the_draft_the_schema_declares() -> None:
    assert isinstance(container_scanning_validator(), Draft7Validator)


def test_the_corpus_holds_the_two_reports() -> None:
    assert sorted(CORPUS.glob("*.json")) == sorted([FIVE_VULNS, NO_VULNS])


@pytest.mark.parametrize("path", [FIVE_VULNS, NO_VULNS], ids=["5-vuln_v15", "0-vuln"])
def test_corpus_reports_lack_only_scan_analyzer(path: Path) -> None:
    # Both reports were written by GitLab's Trivy-based analyzer 0.16.0 in 2021 and declare
    # "version": "3.0.0"; schema 15.0.7 requires scan.analyzer, which that analyzer did not write.
    assert validate_container_scanning_report(load(path)) == ["$.scan: 'analyzer' is a required property"]


def test_the_five_vulnerability_report_validates_once_it_names_its_analyzer() -> None:
    report = load(FIVE_VULNS)
    report["scan"]["analyzer"] = copy.deepcopy(report["scan"]["scanner"])
    assert len(report["vulnerabilities"]) == 5
    assert validate_container_scanning_report(report) == []


def test_a_broken_report_gets_one_message_per_problem_with_its_path() -> None:
    report = load(FIVE_VULNS)
    report["scan"]["analyzer"] = copy.deepcopy(report["scan"]["scanner"])
    report["version"] = "15.0"
    report["vulnerabilities"][1]["severity"] = "Severe"
    del report["vulnerabilities"][3]["identifiers"]
    report["scan"]["start_time"] = "2021-06-01 21:20:59"
    assert validate_container_scanning_report(report) == [
        "$.scan.start_time: '2021-06-01 21:20:59' does not match '^\\\\d{4}-\\\\d{2}-\\\\d{2}T\\\\d{2}:\\\\d{2}:\\\\d{2}$'",
        "$.version: '15.0' does not match '^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$'",
        "$.vulnerabilities[1].severity: 'Severe' is not one of ['Info', 'Unknown', 'Low', 'Medium', 'High', 'Critical']",
        "$.vulnerabilities[3]: 'identifiers' is a required property",
    ]


def test_a_document_that_is_not_a_report_is_invalid() -> None:
    assert validate_container_scanning_report([]) == ["$: [] is not of type 'object'"]
