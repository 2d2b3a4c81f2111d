"""Builds a Trivy vulnerability DB (schema 2) from the test bed's real advisories.

Layout (trivy-db pkg/db, pkg/vulnsrc; testbed/README.md):
- `<os bucket>` ("debian 12") -> source package -> id -> {"FixedVersion"} or {"Status": n};
- `<eco>::<source>` ("pip::GitHub Security Advisory Pip") -> package -> id ->
  {"VendorIDs", "VulnerableVersions", "PatchedVersions"};
- "vulnerability" -> id -> {"Title", "Severity", "VendorSeverity", "CVSS", ...};
- "data-source" -> root bucket name -> {"ID", "Name", "URL"}.
Trivy then reads `<cache>/db/trivy.db` and `<cache>/db/metadata.json` as if it had downloaded them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from testbed.advisories import SEVERITIES, STATUSES, Advisory, Fixture, Vulnerability, load_fixture
from testbed.bbolt import Tree, write_bbolt

SCHEMA_VERSION = 2
"""The only DB schema Trivy 0.5x-0.7x accepts (1 and 3 are refused)."""
DEFAULT_UPDATED_AT = datetime(2026, 11, 1, tzinfo=UTC)
"""A fixed build time, so that reports made from the DB are reproducible."""


@dataclass(frozen=True)
class TrivyDbInfo:
    """What was written."""

    cache_dir: Path
    """The directory to pass as `trivy --cache-dir`."""
    db_path: Path
    """`<cache>/db/trivy.db`."""
    metadata: dict[str, Any]
    """The content of `<cache>/db/metadata.json`."""
    advisories: int
    """Number of advisories written (negative controls included)."""
    size: int
    """Size of trivy.db in bytes."""


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _advisory_value(adv: Advisory) -> dict[str, Any]:
    if "::" in adv.bucket:
        value: dict[str, Any] = {"VulnerableVersions": list(adv.vulnerable)}
        if adv.vendor_ids:
            value["VendorIDs"] = list(adv.vendor_ids)
        if adv.patched:
            value["PatchedVersions"] = list(adv.patched)
        return value
    if adv.fixed is not None:
        return {"FixedVersion": adv.fixed}
    # trivy-db stores an unfixed advisory's status as an integer (types.Advisory MarshalJSON).
    return {"Status": STATUSES[adv.status or "affected"]}


def _vulnerability_value(vuln: Vulnerability) -> dict[str, Any]:
    value: dict[str, Any] = {"Title": vuln.title, "Severity": vuln.severity}
    if vuln.description:
        value["Description"] = vuln.description
    if vuln.vendor_severity:
        value["VendorSeverity"] = {src: SEVERITIES[sev] for src, sev in vuln.vendor_severity.items()}
    if vuln.cvss:
        value["CVSS"] = {src: {"V3Vector": c.vector, "V3Score": c.score} for src, c in vuln.cvss.items()}
    if vuln.cwe:
        value["CweIDs"] = list(vuln.cwe)
    if vuln.references:
        value["References"] = list(vuln.references)
    if vuln.published:
        value["PublishedDate"] = f"{vuln.published}T00:00:00Z"
    return value


def db_tree(fixture: Fixture) -> Tree:
    """The bucket tree Trivy expects, from the fixture."""
    tree: dict[bytes, Any] = {}
    for adv in fixture.advisories:
        packages = tree.setdefault(adv.bucket.encode(), {})
        packages.setdefault(adv.package.encode(), {})[adv.id.encode()] = _json(_advisory_value(adv))
    tree[b"vulnerability"] = {
        vid.encode(): _json(_vulnerability_value(v)) for vid, v in fixture.vulnerabilities.items()
    }
    tree[b"data-source"] = {
        bucket.encode(): _json({"ID": ds.id, "Name": ds.name, "URL": ds.url})
        for bucket, ds in fixture.data_sources.items()
    }
    return tree


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_trivy_db(
    cache_dir: Path,
    advisories: Fixture | None = None,
    updated_at: datetime = DEFAULT_UPDATED_AT,
    downloaded_at: datetime | None = None,
    next_update: datetime | None = None,
) -> TrivyDbInfo:
    """Writes `<cache_dir>/db/trivy.db` and `metadata.json`; returns what was written.

    `updated_at` is what Trivy reports as the DB's age (pass an old date to test a stale DB).
    `next_update` defaults to far in the future: then even a run without `--skip-db-update`
    does not try to download (Trivy downloads when NextUpdate has passed).
    """
    fixture = advisories if advisories is not None else load_fixture()
    db_dir = cache_dir / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    size = write_bbolt(db_dir / "trivy.db", db_tree(fixture))
    metadata = {
        "Version": SCHEMA_VERSION,
        "NextUpdate": _rfc3339(next_update or updated_at + timedelta(days=365 * 100)),
        "UpdatedAt": _rfc3339(updated_at),
        "DownloadedAt": _rfc3339(downloaded_at or updated_at),
    }
    (db_dir / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return TrivyDbInfo(
        cache_dir=cache_dir,
        db_path=db_dir / "trivy.db",
        metadata=metadata,
        advisories=len(fixture.advisories),
        size=size,
    )
