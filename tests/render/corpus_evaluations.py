"""Evaluations the renderer tests share: every corpus report, and small hand-made ones.

Every Trivy, Grype and Snyk report of tests/data/corpus is read with `load_report` and evaluated
under `corpus_policy`: an allowlist entry for the report's first finding, `ignore_statuses` and the
default blocking severity, so each disposition shows up somewhere in the corpus.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gate.model import Finding, ImageInfo, Package, ScannerInfo, ScanReport, Severity, VendorStatus
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.model import AllowlistEntry, Policy
from gate.scanners.ingest import load_report
from tests.support.repo_paths import TEST_DATA

NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)
"""The evaluation time of every test evaluation."""

CORPUS_KINDS = ("trivy", "grype", "snyk")
"""The corpus directories holding scanner reports the gate reads."""


def corpus_reports() -> list[Path]:
    """Every Trivy, Grype and Snyk report of the corpus, sorted."""
    paths = [
        p for kind in CORPUS_KINDS for p in sorted((TEST_DATA / "corpus" / kind).iterdir()) if p.is_file()
    ]
    assert paths, f"no corpus reports under {TEST_DATA / 'corpus'}"
    return paths


def corpus_policy(report: ScanReport) -> Policy:
    """Ignore will_not_fix and end_of_life; allowlist the first finding's vulnerability in its package."""
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


def corpus_evaluation(path: Path) -> Evaluation:
    """One corpus report evaluated under `corpus_policy`."""
    report = load_report(path)
    return evaluate(report, corpus_policy(report), NOW)


def finding(
    vid: str = "CVE-2024-0001",
    *,
    pkg: str = "openssl",
    version: str = "3.0.2-1",
    path: str = "",
    severity: Severity = Severity.HIGH,
    fixed: tuple[str, ...] = ("3.0.13-1",),
    status: VendorStatus = VendorStatus.FIXED,
    aliases: tuple[str, ...] = (),
    title: str | None = None,
    description: str | None = None,
    primary_url: str | None = None,
) -> Finding:
    """A finding with test defaults: a fixable HIGH in an OS package."""
    return Finding(
        vulnerability_id=vid,
        package=Package(name=pkg, version=version, type="debian", path=path),
        severity=severity,
        aliases=aliases,
        fixed_versions=fixed,
        status=status,
        title=title,
        description=description,
        primary_url=primary_url,
        scanners=("trivy",),
    )


def evaluation_of(
    *findings: Finding,
    policy: Policy | None = None,
    image: ImageInfo | None = None,
    scanners: tuple[ScannerInfo, ...] = (ScannerInfo("trivy", "0.50.1"),),
    now: dt.datetime = NOW,
    warnings: tuple[str, ...] = (),
) -> Evaluation:
    """The evaluation of a hand-made report (default policy: block HIGH and above)."""
    report = ScanReport(
        findings=tuple(findings), scanners=scanners, image=image, sources=("report.json",), warnings=warnings
    )
    return evaluate(report, policy or Policy(source="policy.yaml"), now)
