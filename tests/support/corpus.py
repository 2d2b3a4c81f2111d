"""The corpus of real scanner reports in the repository (tests/data/corpus), located from the repo root,
every report of it evaluated the same way for the renderer tests, the one finding of a report with
an id in a package (`only`), and a report with one finding moved onto another vulnerability and
package (`retarget`)."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from gate.model import Finding, ScanReport, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.model import AllowlistEntry, Policy
from gate.scanners.ingest import load_report
from tests.support.factories import NOW
from tests.support.repo_paths import PROJECT_ROOT, TEST_DATA

REPORT_KINDS = ("trivy", "grype", "snyk")
"""Corpus directories holding scanner reports the gate reads."""


def corpus_dir() -> Path:
    """`tests/data/corpus` of the checkout (each file's origin: tests/data/PROVENANCE.md)."""
    path = TEST_DATA / "corpus"
    if not path.is_dir():
        raise FileNotFoundError(f"the report corpus is missing: expected {path}")
    return path


def corpus_files(kind: str) -> list[Path]:
    """Every file of one corpus directory (`trivy`, `grype`, `snyk`, `gitlab`, ...), sorted by name."""
    files = sorted(path for path in (corpus_dir() / kind).iterdir() if path.is_file())
    if not files:
        raise FileNotFoundError(f"no files in {corpus_dir() / kind}")
    return files


def corpus_file(kind: str, suffix: str) -> Path:
    """The one file of a corpus directory whose name ends with `suffix`."""
    matches = [path for path in corpus_files(kind) if path.name.endswith(suffix)]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} files in corpus/{kind} end with {suffix!r}")
    return matches[0]


def corpus_json(kind: str, suffix: str) -> Any:
    """The decoded JSON of `corpus_file(kind, suffix)`, a fresh copy each time (tests may edit it)."""
    return json.loads(corpus_file(kind, suffix).read_text(encoding="utf-8"))


SNYK_APP = "container-app-vulns__results.json"
"""Snyk's report of an image with an npm application: `qs`, `mime` and `connect` come through
`express@2.5.11`, `qs` and `mime` also through `express > connect`."""


def snyk_app_without_connect_paths(name: str = SNYK_APP) -> Any:
    """`SNYK_APP` (or its other ungrouped form, `name`) decoded, without its entries of paths
    through `express > connect` (whose `upgradePath` keeps `express`): `express`'s upgrade is then
    named on every path to `qs`, `mime` and `connect`."""
    doc = corpus_json("snyk", name)
    # One list of projects, the image's first; or the image's project holding its `applications`.
    for project in doc[1:] if isinstance(doc, list) else doc["applications"]:
        project["vulnerabilities"] = [v for v in project["vulnerabilities"] if len(v["from"]) < 4]
    return doc


def corpus_reports() -> list[Path]:
    """Every Trivy, Grype and Snyk report of the corpus, sorted by kind then name."""
    return [path for kind in REPORT_KINDS for path in corpus_files(kind)]


def corpus_policy(report: ScanReport) -> Policy:
    """Ignore will_not_fix and end_of_life; allowlist the first finding's vulnerability in its package,
    so that each disposition shows up somewhere in the corpus."""
    allowlist: tuple[AllowlistEntry, ...] = ()
    if report.findings:
        first = report.findings[0]
        allowlist = (
            AllowlistEntry(
                index=0,
                vulnerability=first.vulnerability_id,
                package=first.package.name,
                reason="not reachable in this image",
            ),
        )
    return Policy(
        source="tests/corpus-policy.yaml",
        ignore_statuses=frozenset({VendorStatus.WILL_NOT_FIX, VendorStatus.END_OF_LIFE}),
        allowlist=allowlist,
    )


def corpus_report(path: Path) -> ScanReport:
    """A corpus report read with `load_report`, its warnings naming it by its path in the
    repository (`tests/data/corpus/...`), as they do in every clone: golden files keep them."""
    report = load_report(path)
    if not path.is_absolute() or not path.is_relative_to(PROJECT_ROOT):
        return report
    shown = path.relative_to(PROJECT_ROOT).as_posix()
    return replace(report, warnings=tuple(warning.replace(str(path), shown) for warning in report.warnings))


def corpus_evaluation(path: Path) -> Evaluation:
    """One corpus report read with `corpus_report` and evaluated under `corpus_policy` at `NOW`."""
    report = corpus_report(path)
    return evaluate(report, corpus_policy(report), NOW)


@cache
def longest_corpus_id() -> str:
    """The longest id, its own or an alias, of any finding of any corpus report. Snyk's run longest:
    a Snyk finding with no CVE to report it under goes by its own id (`SNYK-...`), which every
    renderer must show whole."""
    ids = (
        vid
        for path in corpus_reports()
        for f in load_report(path).findings
        for vid in (f.vulnerability_id, *f.aliases)
    )
    return max(ids, key=len)


def only(report: ScanReport, vuln_id: str, package: str) -> Finding:
    """The one finding of `report` with this id in this package."""
    found = [f for f in report.findings if f.vulnerability_id == vuln_id and f.package.name == package]
    assert len(found) == 1, found
    return found[0]


def retarget(
    tmp_path: Path,
    name: str,
    package: str,
    *,
    vulnerability: str,
    new_name: str,
    version: str,
    purl: str,
    artifact: str | None = None,
) -> Path:
    """The corpus Trivy report `name` with its finding in `package` moved onto another
    vulnerability and package (and the image renamed to `artifact`)."""
    doc: dict[str, Any] = json.loads(corpus_file("trivy", name).read_text(encoding="utf-8"))
    moved = 0
    for result in doc["Results"]:
        for vuln in result.get("Vulnerabilities") or []:
            if vuln["PkgName"] == package and not moved:
                vuln.update(VulnerabilityID=vulnerability, PkgName=new_name, InstalledVersion=version)
                vuln["PkgIdentifier"] = {"PURL": purl}
                moved += 1
    assert moved == 1
    if artifact is not None:
        doc["ArtifactName"] = artifact
    path = tmp_path / f"report-{vulnerability}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def debian_bash(tmp_path: Path) -> Path:
    """debian-buster's bash finding moved onto CVE-2022-3715 in bash 5.0-4, the image `debian:buster`."""
    return retarget(
        tmp_path,
        "debian-buster.json.golden",
        "bash",
        vulnerability="CVE-2022-3715",
        new_name="bash",
        version="5.0-4",
        purl="pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10.1",
        artifact="debian:buster",
    )
