"""Builders of the gate's objects for tests: one set, shared by every test module.

Each builder makes the common case with one call (a fixable HIGH in an OS package, found by
Trivy) and takes keywords for what a test is about. `evaluation_of` runs the real `evaluate`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gate.model import (
    Cvss,
    Finding,
    ImageInfo,
    Layer,
    LayerOrigin,
    Package,
    ScannerInfo,
    ScanReport,
    Severity,
    VendorStatus,
)
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.model import AllowlistEntry, Policy

NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)
"""The evaluation time of every test evaluation that names no other."""

TRIVY = ScannerInfo("trivy", "0.50.1")
"""The scanner of a hand-made report."""


def package(
    name: str = "openssl",
    version: str = "3.0.2-1",
    *,
    type: str = "debian",
    path: str = "",
    purl: str | None = None,
    source_name: str | None = None,
    source_version: str | None = None,
) -> Package:
    """An installed package (an OS package unless `type` or `path` say otherwise)."""
    return Package(
        name=name,
        version=version,
        type=type,
        purl=purl,
        path=path,
        source_name=source_name,
        source_version=source_version,
    )


def layer(
    origin: LayerOrigin | None = LayerOrigin.OWN, line: int | None = None, *, index: int | None = None
) -> Layer:
    """The layer of a finding: base image or own (None: the base image is unknown), and the
    Dockerfile line of its instruction."""
    if index is None:
        index = 0 if origin is LayerOrigin.BASE else 1
    return Layer(diff_id=f"sha256:{index:064x}", index=index, origin=origin, dockerfile_line=line)


def finding(
    vid: str = "CVE-2024-0001",
    *,
    pkg: str = "openssl",
    version: str = "3.0.2-1",
    path: str = "",
    purl: str | None = None,
    type: str = "debian",
    source_name: str | None = None,
    source_version: str | None = None,
    severity: Severity = Severity.HIGH,
    fixed: tuple[str, ...] = ("3.0.13-1",),
    status: VendorStatus = VendorStatus.FIXED,
    aliases: tuple[str, ...] = (),
    cvss: float | None = None,
    title: str | None = None,
    description: str | None = None,
    primary_url: str | None = None,
    layer: Layer | None = None,
    scanners: tuple[str, ...] = ("trivy",),
) -> Finding:
    """A finding with test defaults: a fixable HIGH in a Debian package, found by Trivy."""
    return Finding(
        vulnerability_id=vid,
        package=package(
            pkg,
            version,
            type=type,
            path=path,
            purl=purl,
            source_name=source_name,
            source_version=source_version,
        ),
        severity=severity,
        aliases=aliases,
        fixed_versions=fixed,
        status=status,
        cvss=Cvss(cvss) if cvss is not None else None,
        title=title,
        description=description,
        primary_url=primary_url,
        layer=layer,
        scanners=scanners,
    )


def entry(index: int = 0, vulnerability: str = "CVE-2024-0001", **fields: Any) -> AllowlistEntry:
    """An allowlist entry at `index` with a reason (`reason N` unless given) and any other fields."""
    fields.setdefault("reason", f"reason {index}")
    return AllowlistEntry(index=index, vulnerability=vulnerability, **fields)


def report(
    *findings: Finding,
    image: ImageInfo | None = None,
    scanners: tuple[ScannerInfo, ...] = (TRIVY,),
    sources: tuple[str, ...] = ("report.json",),
    warnings: tuple[str, ...] = (),
) -> ScanReport:
    """A report of these findings, as if read from `report.json`."""
    return ScanReport(findings=findings, scanners=scanners, image=image, sources=sources, warnings=warnings)


def evaluation_of(
    *findings: Finding,
    policy: Policy | None = None,
    image: ImageInfo | None = None,
    scanners: tuple[ScannerInfo, ...] = (TRIVY,),
    now: dt.datetime = NOW,
    warnings: tuple[str, ...] = (),
) -> Evaluation:
    """The evaluation of a hand-made report (default policy: block HIGH and above)."""
    made = report(*findings, image=image, scanners=scanners, warnings=warnings)
    return evaluate(made, policy or Policy(source="policy.yaml"), now)
