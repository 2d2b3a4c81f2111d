"""The list of findings itself: null, misspelled, or another scanner's, never read as a clean image.

Every report here is a real corpus report (the running example unless said otherwise) with its list
of findings nulled, renamed or moved; each of them used to pass the gate as an image without
findings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.scanners._json import decode_report
from gate.scanners.trivy import parse_trivy
from tests.support.corpus import corpus_json

NULL = "expected an array, got null (a scanner leaves an empty list of findings out or writes [])"
MISSPELLED = (
    "unknown key (did you mean {!r}?): a misspelled list of findings would read as an image without findings"
)
FOREIGN = (
    "{} list of findings does not belong here (expected {!r}); give each scanner's report as it wrote it"
)


def trivy(**top: object) -> Any:
    doc = corpus_json("trivy", "alpine-39-high-critical.json.golden")
    results = doc.pop("Results")
    return {**doc, **{key: results if value is ... else value for key, value in top.items()}}


def trivy_result(**members: object) -> Any:
    doc = corpus_json("trivy", "alpine-39-high-critical.json.golden")
    result = doc["Results"][0]
    vulns = result.pop("Vulnerabilities")
    result.update({key: vulns if value is ... else value for key, value in members.items()})
    return doc


def grype(**top: object) -> Any:
    doc = corpus_json("grype", "keycloak-test.json")
    matches = doc.pop("matches")
    return {**doc, "matches": [], **{key: matches if value is ... else value for key, value in top.items()}}


def snyk(**members: object) -> Any:
    doc = corpus_json("snyk", "snyk-to-html__test-report-container-with-app-vulns.json")
    vulns = doc.pop("vulnerabilities")
    doc["vulnerabilities"] = []
    doc.update({key: vulns if value is ... else value for key, value in members.items()})
    return doc


CASES = [
    pytest.param(trivy(Results=None), "Results", NULL, id="trivy-results-null"),
    pytest.param(trivy(results=...), "results", MISSPELLED.format("Results"), id="trivy-results-lower-case"),
    pytest.param(trivy(Result=...), "Result", MISSPELLED.format("Results"), id="trivy-result-singular"),
    pytest.param(
        trivy_result(Vulnerabilities=None),
        "Results[0].Vulnerabilities",
        NULL,
        id="trivy-vulnerabilities-null",
    ),
    pytest.param(
        trivy_result(Vulnerabilites=...),
        "Results[0].Vulnerabilites",
        MISSPELLED.format("Vulnerabilities"),
        id="trivy-vulnerabilities-misspelled",
    ),
    pytest.param(
        trivy_result(vulnerabilities=...),
        "Results[0].vulnerabilities",
        FOREIGN.format("Snyk's", "Vulnerabilities"),
        id="trivy-vulnerabilities-lower-case",
    ),
    pytest.param(
        # The example: a Grype list of matches in a report that says it is Trivy's.
        {"SchemaVersion": 2, "matches": corpus_json("grype", "keycloak-test.json")["matches"]},
        "matches",
        FOREIGN.format("Grype's", "Results"),
        id="grype-matches-in-a-trivy-report",
    ),
    pytest.param(grype(matches=None), "matches", NULL, id="grype-matches-null"),
    pytest.param(grype(Matches=...), "Matches", MISSPELLED.format("matches"), id="grype-matches-capitalized"),
    pytest.param(
        grype(Results=trivy(Results=...)["Results"]),
        "Results",
        FOREIGN.format("Trivy's", "matches"),
        id="trivy-results-in-a-grype-report",
    ),
    pytest.param(grype(ignoredMatches=None), "ignoredMatches", NULL, id="grype-ignored-matches-null"),
    pytest.param(snyk(vulnerabilities=None), "vulnerabilities", NULL, id="snyk-vulnerabilities-null"),
    pytest.param(
        snyk(Vulnerabilities=...),
        "Vulnerabilities",
        MISSPELLED.format("vulnerabilities"),
        id="snyk-capitalized",
    ),
    pytest.param(snyk(applications=None), "applications", NULL, id="snyk-applications-null"),
    pytest.param(
        # `matches` makes it read as Grype's, which then refuses the Snyk list beside it.
        snyk(matches=corpus_json("grype", "keycloak-test.json")["matches"]),
        "vulnerabilities",
        FOREIGN.format("Snyk's", "matches"),
        id="grype-matches-in-a-snyk-report",
    ),
]


@pytest.mark.parametrize(("doc", "path", "problem"), CASES)
def test_a_list_of_findings_that_cannot_be_read_is_exit_2_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any, path: str, problem: str
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    code = cli.main(["check", str(report), "--ci", "none"])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    assert err == f"container-gate: error: {report}: {path}: {problem}\n"


def test_an_absent_list_is_an_image_without_packages_and_every_output_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real Trivy report without `Results` (Trivy skipped the image's files): allowed, as Trivy
    # writes it for an image without packages, but nothing was checked, and the outputs say so.
    doc = corpus_json("trivy", "alpine-39-skip.json.golden")
    assert "Results" not in doc
    report = tmp_path / "report.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    outputs = {kind: tmp_path / f"out.{kind}" for kind in ("json", "markdown", "gitlab", "sarif")}
    argv = ["check", str(report), "--ci", "none"]
    for kind, path in outputs.items():
        argv += [f"--{kind}", str(path)]
    code = cli.main(argv)
    out, _ = capsys.readouterr()
    assert code == ExitCode.PASS
    said = f"{report}: the report lists no packages (no Results)"
    assert f"warning:  {said}" in out.splitlines()
    assert json.loads(outputs["json"].read_text())["warnings"] == [said]
    assert "the report lists no packages" in outputs["markdown"].read_text()
    assert said in json.dumps(json.loads(outputs["gitlab"].read_text())["scan"]["messages"])
    assert said in json.dumps(json.loads(outputs["sarif"].read_text())["runs"][0]["properties"])


def test_an_empty_list_of_matches_is_a_clean_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(grype()), encoding="utf-8")
    assert cli.main(["check", str(report), "--ci", "none"]) == ExitCode.PASS
    capsys.readouterr()


def test_secrets_and_failed_misconfiguration_checks_are_told_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `trivy image` looks for secrets by default: a report of only a secret and a failed
    # Dockerfile check said "0 findings, PASS" and nothing else. They are no vulnerabilities and
    # stay out of the findings, but every output says they are there.
    doc = corpus_json("trivy", "debian-buster.json.golden")
    target = doc["Results"][0]["Target"]
    doc["Results"] = [
        {"Target": target, "Class": "secret", "Secrets": [
            {"RuleID": "aws-access-key-id", "Category": "AWS", "Severity": "CRITICAL",
             "Title": "AWS Access Key ID", "StartLine": 1, "EndLine": 1, "Match": "AKIA****"}]},
        {"Target": "Dockerfile", "Class": "config", "Type": "dockerfile",
         "MisconfSummary": {"Successes": 1, "Failures": 1}, "Misconfigurations": [
            {"ID": "DS002", "Title": "Image user should not be 'root'", "Severity": "HIGH", "Status": "FAIL"},
            {"ID": "DS005", "Title": "ADD instead of COPY", "Severity": "LOW", "Status": "PASS"}]},
    ]  # fmt: skip
    report = tmp_path / "report.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    out_json = tmp_path / "out.json"
    assert cli.main(["check", str(report), "--ci", "none", "--json", str(out_json)]) == ExitCode.PASS
    said = (
        f"{report}: the report also holds 1 secret and 1 failed misconfiguration check, which the "
        "gate does not judge (it gates vulnerabilities): see them in Trivy's own output"
    )
    assert f"warning:  {said}" in capsys.readouterr().out.splitlines()
    decision = json.loads(out_json.read_text())
    assert (decision["findings"], decision["warnings"]) == ([], [said])
    # The strict reader says the same as the typed one.
    assert parse_trivy(decode_report(report.read_bytes, str(report)), str(report)).warnings == (said,)
