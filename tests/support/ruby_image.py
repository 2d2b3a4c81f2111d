"""An image and a Trivy DB made from a REAL Grype report, so Trivy and Grype can agree on findings.

The Grype stand-in replays `anchore-grype__chainguard-ruby-test.json` (Grype 0.61.1 on
cgr.dev/chainguard/ruby:latest-3.0). This module writes an engine-less docker-archive declaring
the packages that report matched (Wolfi's `ruby-3.0` in the apk database, the `uri` gem's
gemspec at the same path) and a Trivy DB holding the advisories the report cites (the Wolfi
secdb fix, the GitHub advisory range). The real Trivy then reports the same vulnerabilities in
the same packages, and `--scanner both` has real agreement to mark.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.advisories import Advisory, Cvss, DataSource, Fixture, Vulnerability
from testbed.dockerfile import ImageState, layer_tar
from testbed.images import write_docker_archive
from testbed.trivydb import build_trivy_db
from tests.support.standins import CHAINGUARD_RUBY

RUBYGEMS_BUCKET = "rubygems::GitHub Security Advisory Rubygems"


@dataclass(frozen=True)
class RubyImage:
    """The archive and the Trivy cache."""

    archive: Path
    """docker-archive declaring ruby-3.0 3.0.4-r1 (apk) and uri 0.10.1 (gem)."""
    cache_dir: Path
    """Trivy cache with the report's advisories."""
    report: dict[str, Any]
    """The Grype report the stand-in replays."""


def _advisories(report: dict[str, Any]) -> Fixture:
    advisories: list[Advisory] = []
    vulnerabilities: dict[str, Vulnerability] = {}
    for match in report["matches"]:
        vuln, artifact = match["vulnerability"], match["artifact"]
        related = [rel["id"] for rel in match.get("relatedVulnerabilities", [])]
        cve = vuln["id"] if vuln["id"].startswith("CVE-") else related[0]
        fixed = vuln["fix"]["versions"]
        source = f"{CHAINGUARD_RUBY.name}: {vuln['id']} on {artifact['name']}"
        if vuln["namespace"].startswith("wolfi:"):
            advisories.append(Advisory("wolfi", artifact["name"], cve, source, fixed=fixed[0]))
        elif vuln["namespace"] == "github:language:ruby":
            found = match["matchDetails"][0]["found"]["versionConstraint"]  # "=0.10.1 (unknown)"
            vulnerable = "= " + found.split()[0].lstrip("=")
            advisories.append(
                Advisory(
                    RUBYGEMS_BUCKET,
                    artifact["name"],
                    cve,
                    source,
                    vendor_ids=(vuln["id"],),
                    vulnerable=(vulnerable,),
                    patched=tuple(fixed),
                )
            )
        for entry in vuln.get("cvss") or []:
            vulnerabilities[cve] = Vulnerability(
                cve,
                title=f"{cve} in {artifact['name']}",
                severity=vuln["severity"].upper(),
                severity_source="nvd",
                source=source,
                cvss={"nvd": Cvss(entry["vector"], entry["metrics"]["baseScore"])},
            )
    data_sources = {
        "wolfi": DataSource("wolfi", "Wolfi Secdb", "https://packages.wolfi.dev"),
        RUBYGEMS_BUCKET: DataSource(
            "ghsa", "GitHub Security Advisory Rubygems", "https://github.com/advisories"
        ),
    }
    return Fixture(data_sources=data_sources, advisories=tuple(advisories), vulnerabilities=vulnerabilities)


def _files(report: dict[str, Any]) -> dict[str, bytes]:
    distro = report["distro"]
    files = {
        "etc/os-release": f'ID={distro["name"]}\nNAME="Wolfi"\nVERSION_ID="{distro["version"]}"\n'.encode()
    }
    for match in report["matches"]:
        artifact = match["artifact"]
        path = artifact["locations"][0]["path"].lstrip("/")
        if artifact["type"] == "apk":
            stanza = f"P:{artifact['name']}\nV:{artifact['version']}\nA:aarch64\no:{artifact['name']}\n\n"
            files[path] = files.get(path, b"") + stanza.encode()
        elif artifact["type"] == "gem":
            files[path] = (
                f'Gem::Specification.new do |s|\n  s.name = "{artifact["name"]}".freeze\n'
                f'  s.version = "{artifact["version"]}"\nend\n'
            ).encode()
    return files


def build_ruby_image(directory: Path) -> RubyImage:
    """Writes `directory/ruby.tar` and `directory/trivy-cache` (a DB built an hour ago)."""
    report = json.loads(CHAINGUARD_RUBY.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    state = ImageState(layers=[layer_tar(_files(report), {})], history=[{"created_by": "apko"}])
    archive = directory / "ruby.tar"
    write_docker_archive(state, "container-gate-testbed/ruby:3.0", archive)
    updated = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    cache = build_trivy_db(
        directory / "trivy-cache", advisories=_advisories(report), updated_at=updated
    ).cache_dir
    return RubyImage(archive=archive, cache_dir=cache, report=report)
