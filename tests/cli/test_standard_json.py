"""No output file ever holds non-standard JSON (`NaN`, `Infinity`), whatever the report said.

Every JSON output (`--json`, `--gitlab`, `--sarif`, and the error versions of the first two) of
every corpus report and of hostile reports is read back with a JSON reader that refuses the
constants Python's own encoder writes for non-finite numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from tests.support.corpus import corpus_file, corpus_reports

JSON_OUTPUTS = ("json", "gitlab", "sarif")
OTHER_OUTPUTS = ("markdown", "junit")


def _refuse(constant: str) -> Any:
    raise ValueError(f"non-standard JSON constant {constant}")


def read_standard_json(path: Path) -> Any:
    """The file's JSON, read the way a strict reader does (RFC 8259 has no NaN or Infinity)."""
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse)


def check_every_output(report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    argv = ["check", str(report), "--ci", "none"]
    for kind in (*JSON_OUTPUTS, *OTHER_OUTPUTS):
        argv += [f"--{kind}", str(tmp_path / f"out.{kind}")]
    code = cli.main(argv)
    _, err = capsys.readouterr()
    assert "internal error" not in err
    for kind in JSON_OUTPUTS:
        path = tmp_path / f"out.{kind}"
        if kind == "sarif" and code >= ExitCode.USAGE:
            assert not path.exists()  # no SARIF on an error: an empty upload would close alerts
            continue
        read_standard_json(path)
    return code, err


REPORTS = corpus_reports()


@pytest.mark.parametrize("report", REPORTS, ids=[path.name for path in REPORTS])
def test_every_output_of_every_corpus_report_is_standard_json(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = check_every_output(report, tmp_path, capsys)
    assert code in (ExitCode.PASS, ExitCode.FAIL)


RUNNING_EXAMPLE = corpus_file("trivy", "alpine-39-high-critical.json.golden")
GRYPE = corpus_file("grype", "keycloak-test.json")
SNYK = corpus_file("snyk", "snyk-to-html__test-report-container-with-app-vulns.json")

HOSTILE = [
    # (report, text in it, replacement, expected exit code)
    (RUNNING_EXAMPLE, '"V3Score": 9.8', '"V3Score": 1e999', ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"V3Score": 9.8', '"V3Score": -1e999', ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"V3Score": 9.8', '"V3Score": NaN', ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"V3Score": 9.8', '"V3Score": Infinity', ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"V3Score": 9.8', '"V3Score": 12', ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"V2Score": 7.5', '"V2Score": ' + "1" * 400, ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"Size": 5796352', '"Size": ' + "9" * 5000, ExitCode.USAGE),
    (RUNNING_EXAMPLE, '"Size": 5796352', '"Size": 1e999', ExitCode.USAGE),
    # A member the gate never reads may say anything: it reaches no output.
    (RUNNING_EXAMPLE, '"CweIDs": ["CWE-787"]', '"CweIDs": [1e999, -1e999]', ExitCode.FAIL),
    (RUNNING_EXAMPLE, '"PkgName": "musl"', '"PkgName": "musl", "Title": "\\ud800"', ExitCode.USAGE),
    (GRYPE, '"baseScore": 5.9', '"baseScore": 1e999', ExitCode.USAGE),
    (SNYK, '"cvssScore": 9.8', '"cvssScore": 1e999', ExitCode.USAGE),
    # Snyk's `cvssDetails` are read only for an entry without a severity of its own.
    (SNYK, '"cvssV3BaseScore": 9.8', '"cvssV3BaseScore": -1e999', ExitCode.FAIL),
]


@pytest.mark.parametrize(
    ("source", "old", "new", "expected"), HOSTILE, ids=[f"{new[:30]}" for _, _, new, _ in HOSTILE]
)
def test_every_output_of_a_hostile_report_is_standard_json(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    source: Path,
    old: str,
    new: str,
    expected: ExitCode,
) -> None:
    text = json.dumps(json.loads(source.read_text(encoding="utf-8")))
    assert old in text
    report = tmp_path / "report.json"
    report.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, err = check_every_output(report, tmp_path, capsys)
    assert code == expected, err
