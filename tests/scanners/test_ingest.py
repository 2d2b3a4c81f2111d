"""Report files: format detection over the whole corpus, and every unreadable input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from gate.errors import ExitCode, ReportError
from gate.scanners.ingest import load_report, parse_report_bytes
from tests.support.corpus import REPORT_KINDS, corpus_file, corpus_files, corpus_json
from tests.support.repo_paths import PROJECT_ROOT

REPORTS = [(kind, path) for kind in REPORT_KINDS for path in corpus_files(kind)]
OTHER_DOCUMENTS = [path for kind in ("gitlab", "vex", "sarif-in") for path in corpus_files(kind)]
UNKNOWN = "not a Trivy (SchemaVersion 2), Grype (matches) or Snyk container (vulnerabilities) report"


@pytest.mark.parametrize(("kind", "path"), REPORTS, ids=[path.name for _, path in REPORTS])
def test_every_corpus_report_is_detected_and_read(kind: str, path: Path) -> None:
    report = load_report(path)
    assert [info.name for info in report.scanners] == [kind]
    assert report.scanners[0].source == str(path)
    assert report.sources == (str(path),)
    assert all(finding.scanners == (kind,) for finding in report.findings)
    assert len({finding.key for finding in report.findings}) == len(report.findings)


@pytest.mark.parametrize("path", OTHER_DOCUMENTS, ids=[path.name for path in OTHER_DOCUMENTS])
def test_other_security_documents_are_not_taken_for_reports(path: Path) -> None:
    with pytest.raises(ReportError) as caught:
        load_report(path)
    assert caught.value.message == f"{path}: {UNKNOWN}"
    assert caught.value.hint is not None
    assert "give the scanner's JSON output" in caught.value.hint


def write(tmp_path: Path, content: str | bytes, name: str = "app.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def read_error(path: Path) -> str:
    with pytest.raises(ReportError) as caught:
        load_report(path)
    assert caught.value.exit_code == ExitCode.USAGE
    message = caught.value.diagnostics()
    assert "\n" not in message
    return message


def corpus_text(kind: str, suffix: str) -> str:
    return corpus_file(kind, suffix).read_text(encoding="utf-8")


def trivy_without_schema_version() -> str:
    # Trivy before 0.20 wrote the results as a bare array.
    return json.dumps(corpus_json("trivy", "alpine-310.json.golden")["Results"])


def trivy_schema_1() -> str:
    doc = corpus_json("trivy", "alpine-310.json.golden")
    doc["SchemaVersion"] = 1
    return json.dumps(doc)


def grype_with_bad_fix() -> str:
    doc = corpus_json("grype", "keycloak-test.json")
    doc["matches"][4]["vulnerability"]["fix"]["versions"] = [None]
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("this is not JSON", "not valid JSON (expecting value at line 1, column 1)"),
        (
            '{"matches": [],}',
            "not valid JSON (expecting property name enclosed in double quotes at line 1, column 16)",
        ),
        ("", "empty file, expected a JSON report"),
        (" \n\t\n", "empty file, expected a JSON report"),
        ('{"matches": [NaN]}', "not valid JSON (NaN is not a JSON number)"),
        (b'{"matches": [\xff]}', "not valid JSON (not UTF-8 text: byte 13 is invalid)"),
        ('{"results": []}', UNKNOWN),
        ("[]", UNKNOWN),
        ('"trivy"', UNKNOWN),
        (
            trivy_without_schema_version(),
            "a Trivy report without SchemaVersion (written by Trivy before 0.20) is not supported "
            "(supported: SchemaVersion 2)",
        ),
        (
            trivy_schema_1(),
            "SchemaVersion: Trivy report schema version 1 is not supported "
            "(supported: 2, as written by Trivy 0.20 and later)",
        ),
        (grype_with_bad_fix(), "matches[4].vulnerability.fix.versions[0]: expected a string, got null"),
    ],
    ids=[
        "not-json",
        "trailing-comma",
        "empty",
        "blank",
        "nan",
        "not-utf8",
        "unknown-object",
        "empty-array",
        "json-string",
        "trivy-before-schema-2",
        "trivy-schema-1",
        "wrong-nested-type",
    ],
)
def test_unreadable_reports_give_one_line_naming_the_file(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    path = write(tmp_path, content)
    assert read_error(path) == f"{path}: {problem}"


@pytest.mark.parametrize("kind", REPORT_KINDS)
def test_a_report_cut_in_half_is_reported_as_truncated(tmp_path: Path, kind: str) -> None:
    text = corpus_files(kind)[-1].read_text(encoding="utf-8")
    cut = text[: len(text) // 2]
    path = write(tmp_path, cut)

    lines = cut.rstrip().splitlines()
    where = f"line {len(lines)}, column {len(lines[-1]) + 1}"
    assert read_error(path) == f"{path}: not valid JSON (ends early at {where}: the file looks truncated)"


def test_a_report_cut_inside_a_string_is_reported_as_truncated(tmp_path: Path) -> None:
    text = corpus_text("trivy", "alpine-310.json.golden")
    cut = text[: text.index('"Title"') + 12]
    path = write(tmp_path, cut)
    assert read_error(path).endswith("the file looks truncated)")


def test_a_missing_file_and_a_directory_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    assert read_error(missing) == f"{missing}: no such report file"
    assert read_error(tmp_path) == f"{tmp_path}: is a directory, not a report file"


def test_a_report_in_memory_is_read_like_a_file() -> None:
    raw = corpus_file("trivy", "centos-7.json.golden").read_bytes()
    report = parse_report_bytes(raw, "trivy image centos:7")
    assert report.sources == ("trivy image centos:7",)
    assert report.findings == load_report(corpus_file("trivy", "centos-7.json.golden")).findings
    with pytest.raises(ReportError) as caught:
        parse_report_bytes(raw[:100], "trivy image centos:7")
    assert caught.value.diagnostics().startswith("trivy image centos:7: not valid JSON (ends early at line")


def test_a_sarif_log_is_named_as_such() -> None:
    path = corpus_file("sarif-in", "alpine-310.sarif.golden")
    with pytest.raises(ReportError) as caught:
        load_report(path)
    assert caught.value.diagnostics() == (
        f"{path}: {UNKNOWN} (this is a SARIF log; give the scanner's JSON output: "
        "trivy --format json, grype -o json, snyk --json)"
    )


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes(),
            f"{UNKNOWN} (this is CISA's KEV catalog: give it with --kev, and the scanner's JSON report as REPORT)",
        ),
        (
            corpus_file("epss", "epss_scores-2026-09-29.excerpt.csv").read_bytes(),
            "not valid JSON (expecting value at line 1, column 1) (this is FIRST's EPSS scores: give it "
            "with --epss, and the scanner's JSON report as REPORT)",
        ),
        (
            # As `data fetch` stores them, and --epss reads them: not to be gunzipped.
            corpus_file("epss", "epss_scores-2026-09-29.excerpt.csv.gz").read_bytes(),
            "not valid JSON (not UTF-8 text: byte 1 is invalid) (this is FIRST's EPSS scores: give it "
            "with --epss, and the scanner's JSON report as REPORT)",
        ),
        (
            gzip.compress(corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()),
            "not valid JSON (not UTF-8 text: byte 1 is invalid) (this is CISA's KEV catalog: give it "
            "with --kev, and the scanner's JSON report as REPORT)",
        ),
        (
            gzip.compress(corpus_file("trivy", "alpine-310.json.golden").read_bytes()),
            "not valid JSON (not UTF-8 text: byte 1 is invalid) (this file is gzip-compressed: "
            "decompress it first (gunzip); reports are read as JSON text)",
        ),
        (
            b'{"schema": "container-gate/exploit-data/v1", "fetched_at": "2026-12-01T00:00:00Z"}',
            f"{UNKNOWN} (this is the record `data fetch` writes: give the kev.json beside it with --kev "
            "and the epss.csv.gz with --epss)",
        ),
        (
            b'{"ok": false, "error": "Failed to get docker image: app:1", "path": "app:1"}',
            f"{UNKNOWN} (this is Snyk's error output: Failed to get docker image: app:1)",
        ),
        (
            corpus_file("trivy", "alpine-310.json.golden").read_text(encoding="utf-8").encode("utf-16"),
            "not valid JSON (not UTF-8 text: byte 0 is invalid) (this file is UTF-16 text, as Windows "
            "PowerShell's > writes it: have the scanner write the file itself (trivy --output, grype "
            "--file, snyk --json-file-output) or convert it to UTF-8)",
        ),
        (
            b"\xef\xbb\xbf# yaml-language-server: $schema=./schema.json\r\nversion: 1\r\nfail_on:\r\n  severity: HIGH\r\n",
            "not valid JSON (expecting value at line 1, column 1) (this is a container-gate policy: give it "
            "with --policy, and the scanner's JSON report as REPORT)",
        ),
    ],
    ids=["kev", "epss", "epss-gzip", "kev-gzip", "gzip", "data-fetch-record", "snyk-error", "utf-16", "policy"],
)  # fmt: skip
def test_a_file_of_another_kind_is_named_as_such(content: bytes, said: str, tmp_path: Path) -> None:
    path = write(tmp_path, content)
    assert read_error(path) == f"{path}: {said}"


GRYPE_TABLE_HINT = (
    "not valid JSON (expecting value at line 1, column 1) (this is Grype's table output; write the "
    "report with `grype IMAGE -o json --file report.json`)"
)


@pytest.mark.parametrize(
    "table",
    [
        # Grype's `-o table` (its default), as its presenter's snapshots show it, old and new.
        "NAME       INSTALLED  FIXED-IN          TYPE  VULNERABILITY  SEVERITY \n"
        "package-1  1.0.1                        deb   CVE-1999-0001  Low       \n",
        "NAME       INSTALLED  FIXED IN  TYPE  VULNERABILITY   SEVERITY  EPSS        RISK\n"
        "libssl3    3.0.8-r0   3.0.8-r1  apk   CVE-2023-0464   High      0.2% (44th)  0.1\n",
        "No vulnerabilities found\n",
    ],
    ids=["fixed-in", "fixed-in-epss-risk", "nothing-found"],
)
def test_grypes_table_output_is_named_as_such(table: str, tmp_path: Path) -> None:
    path = write(tmp_path, table, "grype.txt")
    assert read_error(path) == f"{path}: {GRYPE_TABLE_HINT}"


@pytest.mark.parametrize(
    ("sbom", "what"),
    [
        (
            {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []},
            "a CycloneDX document",
        ),
        (
            {
                "spdxVersion": "SPDX-2.3",
                "dataLicense": "CC0-1.0",
                "SPDXID": "SPDXRef-DOCUMENT",
                "packages": [],
            },
            "an SPDX document",
        ),
        (
            # `syft app:1 -o json`: Syft's own format, its required members.
            {
                "artifacts": [],
                "artifactRelationships": [],
                "source": {"type": "image"},
                "distro": {"name": "debian"},
                "descriptor": {"name": "syft", "version": "1.18.1"},
                "schema": {"version": "16.0.20"},
            },
            "a Syft SBOM",
        ),
    ],
    ids=["cyclonedx", "spdx", "syft"],
)
def test_an_sbom_is_named_as_such(sbom: dict[str, object], what: str, tmp_path: Path) -> None:
    """`syft app:1 -o spdx-json`, `trivy image --format cyclonedx`: a list of packages, no verdict."""
    path = write(tmp_path, json.dumps(sbom), "sbom.json")
    assert read_error(path) == (
        f"{path}: {UNKNOWN} (this is {what}; give the scanner's JSON output: trivy --format json, "
        "grype -o json, snyk --json)"
    )


@pytest.mark.parametrize(
    "name", ["markdown-trivy-debian-buster.md", "markdown-grype-keycloak-test.md"], ids=["fail", "pass"]
)
def test_the_gates_pull_request_comment_saved_is_named_as_its_markdown(name: str, tmp_path: Path) -> None:
    # The comment's body starts with its hidden marker line, then the summary's heading.
    body = (PROJECT_ROOT / "tests" / "render" / "golden" / name).read_text(encoding="utf-8")
    assert body.startswith("<!-- container-gate comment v1 ")
    path = write(tmp_path, body, "comment.md")
    assert read_error(path) == (
        f"{path}: not valid JSON (expecting value at line 1, column 1) (this is container-gate's Markdown "
        "summary: give the decision report check or scan writes with --json, or the scanner's JSON report)"
    )


TRIVY_CONFIG = (
    "this is a Trivy configuration (trivy.yaml), not a report: it says how Trivy scans, for trivy --config;"
    " give the scanner's JSON report as REPORT"
)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("# trivy.yaml\nseverity:\n  - HIGH\nvulnerability:\n  type: os\n", TRIVY_CONFIG),
        (
            "output: json\nfail-on-severity: high\nonly-fixed: true\n",
            "this is a Grype configuration (.grype.yaml), not a report: it says how Grype scans, for grype"
            " --config; give the scanner's JSON report as REPORT",
        ),
        (
            "quiet: true\n",
            "this is a Trivy or Grype configuration, not a report: it says how a scanner scans, for trivy"
            " --config or grype --config; give the scanner's JSON report as REPORT",
        ),
        ("severity: HIGH\nsome text that is no key\n", None),
        ("fail_on:\n  severity: HIGH\n", None),
    ],
    ids=["trivy", "grype", "either", "not-yaml", "policy-words"],
)
def test_a_scanners_configuration_given_as_a_report_is_named(
    text: str, what: str | None, tmp_path: Path
) -> None:
    # `check trivy.yaml`: it said "not valid JSON" alone, as the policy reader no longer does.
    path = write(tmp_path, text, "config.yaml")
    said = read_error(path)
    assert said.startswith(f"{path}: not valid JSON (expecting value at line 1, column 1)")
    assert said.endswith(f"({what})") if what else "(this is" not in said


@pytest.mark.parametrize("path", corpus_files("ignore-files"), ids=lambda path: path.name)
def test_a_scanners_ignore_file_given_as_a_report_is_named(path: Path) -> None:
    # `check .trivyignore`: someone moving exceptions to the gate. It was "not valid JSON" alone.
    said = read_error(path)
    assert said.startswith(f"{path}: not valid JSON (expecting value at line 1, column 1)")
    if path.name.endswith("trivy.yaml"):
        # Trivy's configuration: no ignore rules of its own, but named all the same.
        assert said.endswith(f"({TRIVY_CONFIG})")
        return
    what = (
        "a Grype configuration (.grype.yaml)" if "grype" in path.name else "a Trivy ignore file (.trivyignore"
    )
    assert f"(this is {what}" in said
    assert said.endswith(
        "the gate reads no scanner's ignore rules; write each as an allowlist entry of the policy (--policy),"
        " with a reason and an expiry date, and give the scanner's JSON report as REPORT)"
    )
