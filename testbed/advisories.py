"""Loads `advisories.yaml` into typed records, strictly: a wrong key is an error, never a silent skip.

A misspelt field would otherwise drop an advisory from the DB, and the tests that expect its
finding would fail far from the cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ADVISORIES_FILE = Path(__file__).with_name("advisories.yaml")

# trivy-db types.Status (pkg/types/types.go): the integer stored in an advisory's "Status".
STATUSES = {
    "unknown": 0,
    "not_affected": 1,
    "affected": 2,
    "fixed": 3,
    "under_investigation": 4,
    "will_not_fix": 5,
    "fix_deferred": 6,
    "end_of_life": 7,
}
# trivy-db types.Severity: VendorSeverity values are these integers.
SEVERITIES = {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


class FixtureError(ValueError):
    """advisories.yaml does not have the expected shape; the message names the key path."""


@dataclass(frozen=True)
class DataSource:
    """Where a root bucket's advisories come from (trivy-db's "data-source" bucket)."""

    id: str
    """Trivy's source id (`debian`, `ghsa`), also the key of vendor severities."""
    name: str
    """Human name, e.g. `Debian Security Tracker`."""
    url: str
    """The source's address."""


@dataclass(frozen=True)
class Advisory:
    """One (bucket, package, vulnerability) entry of the DB."""

    bucket: str
    """Root bucket: `debian 12`, `pip::GitHub Security Advisory Pip`, ..."""
    package: str
    """Source package (OS) or lower-cased ecosystem name (`flask`)."""
    id: str
    """Vulnerability id, usually a CVE."""
    source: str
    """Where this triple was taken from."""
    fixed: str | None = None
    """Fixed version (OS advisories)."""
    status: str | None = None
    """Vendor status of an unfixed OS advisory (Trivy's words)."""
    vendor_ids: tuple[str, ...] = ()
    """Other ids of the same advisory (GHSA ids)."""
    vulnerable: tuple[str, ...] = ()
    """Vulnerable version ranges (language ecosystems), e.g. `< 2.2.5`."""
    patched: tuple[str, ...] = ()
    """Patched versions (language ecosystems)."""
    control: str | None = None
    """Set on a negative control: why it must not match the test images."""


@dataclass(frozen=True)
class Cvss:
    """One CVSS v3 assessment."""

    vector: str
    """The vector string."""
    score: float
    """The base score."""


@dataclass(frozen=True)
class Vulnerability:
    """What Trivy shows about one id (the "vulnerability" bucket)."""

    id: str
    """The vulnerability id."""
    title: str
    """One-line title."""
    severity: str
    """UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL."""
    severity_source: str
    """Who rated it, or `fixture` when the tests chose it."""
    source: str
    """Where the rest of the entry comes from."""
    description: str | None = None
    """Longer text."""
    vendor_severity: Mapping[str, str] | None = None
    """Per-source severities (`ghsa: HIGH`)."""
    cvss: Mapping[str, Cvss] | None = None
    """Per-source CVSS (`redhat`, `ghsa`)."""
    cwe: tuple[str, ...] = ()
    """CWE ids."""
    references: tuple[str, ...] = ()
    """Reference URLs."""
    published: str | None = None
    """Publication date (YYYY-MM-DD)."""


@dataclass(frozen=True)
class Fixture:
    """The whole advisories.yaml."""

    data_sources: Mapping[str, DataSource]
    """Root bucket name -> its data source."""
    advisories: tuple[Advisory, ...]
    """Every advisory, negative controls included."""
    vulnerabilities: Mapping[str, Vulnerability]
    """Vulnerability id -> details."""


def safe_load_fast(text: str) -> Any:
    """yaml.safe_load, with the C safe loader when PyYAML has it (the fixture is ~2,500 lines)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - both loaders are the safe ones


def _fields(where: str, raw: Any, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise FixtureError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = set(raw) - required - optional
    missing = required - set(raw)
    if unknown or missing:
        raise FixtureError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return raw


def _advisory(where: str, raw: Any) -> Advisory:
    opt = {"fixed", "status", "vendor_ids", "vulnerable", "patched", "control"}
    f = _fields(where, raw, {"bucket", "package", "id", "source"}, opt)
    if f.get("status") is not None and f["status"] not in STATUSES:
        raise FixtureError(f"{where}.status: {f['status']!r}, expected one of {sorted(STATUSES)}")
    if f["bucket"].split("::")[0] in ("pip", "npm") and not f.get("vulnerable"):
        raise FixtureError(f"{where}: a language advisory needs `vulnerable` ranges")
    if "::" not in f["bucket"] and (f.get("fixed") is None) == (f.get("status") is None):
        raise FixtureError(f"{where}: an OS advisory needs exactly one of `fixed` and `status`")

    def text(key: str) -> str | None:
        return None if f.get(key) is None else str(f[key])

    def texts(key: str) -> tuple[str, ...]:
        return tuple(str(x) for x in f.get(key) or ())

    return Advisory(
        bucket=str(f["bucket"]),
        package=str(f["package"]),
        id=str(f["id"]),
        source=str(f["source"]),
        fixed=text("fixed"),
        status=text("status"),
        vendor_ids=texts("vendor_ids"),
        vulnerable=texts("vulnerable"),
        patched=texts("patched"),
        control=text("control"),
    )


def _vulnerability(where: str, vid: str, raw: Any) -> Vulnerability:
    opt = {"description", "vendor_severity", "cvss", "cwe", "references", "published"}
    f = _fields(where, raw, {"title", "severity", "severity_source", "source"}, opt)
    for key, sev in [
        ("severity", f["severity"]),
        *(("vendor_severity", s) for s in (f.get("vendor_severity") or {}).values()),
    ]:
        if sev not in SEVERITIES:
            raise FixtureError(f"{where}.{key}: {sev!r}, expected one of {list(SEVERITIES)}")
    if f["severity_source"] == "fixture" and f.get("cvss"):
        raise FixtureError(f"{where}: a fixture severity must not carry a CVSS (it would look real)")
    cvss = {
        src: Cvss(**_fields(f"{where}.cvss.{src}", c, {"vector", "score"}, set()))
        for src, c in (f.get("cvss") or {}).items()
    }
    return Vulnerability(
        id=vid,
        title=f["title"],
        severity=f["severity"],
        severity_source=f["severity_source"],
        source=f["source"],
        description=f.get("description"),
        vendor_severity=f.get("vendor_severity"),
        cvss=cvss or None,
        cwe=tuple(f.get("cwe") or ()),
        references=tuple(f.get("references") or ()),
        published=str(f["published"]) if f.get("published") else None,
    )


def load_fixture(path: Path = ADVISORIES_FILE) -> Fixture:
    """Reads and checks advisories.yaml; raises FixtureError naming the file and key path."""
    raw = safe_load_fast(path.read_text())
    top = _fields(str(path), raw, {"data_sources", "advisories", "vulnerabilities"}, set())
    sources = {
        name: DataSource(**_fields(f"{path}: data_sources.{name}", ds, {"id", "name", "url"}, set()))
        for name, ds in top["data_sources"].items()
    }
    advisories = tuple(_advisory(f"{path}: advisories[{i}]", a) for i, a in enumerate(top["advisories"]))
    vulns = {
        vid: _vulnerability(f"{path}: vulnerabilities.{vid}", vid, v)
        for vid, v in top["vulnerabilities"].items()
    }
    for i, a in enumerate(advisories):
        if a.bucket not in sources:
            raise FixtureError(f"{path}: advisories[{i}].bucket {a.bucket!r} has no data_sources entry")
        if a.id not in vulns:
            raise FixtureError(f"{path}: advisories[{i}].id {a.id!r} has no vulnerabilities entry")
    return Fixture(data_sources=sources, advisories=advisories, vulnerabilities=vulns)
