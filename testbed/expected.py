"""Loads `expected.yaml`: the exact findings Trivy must report on the test bed's images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testbed.advisories import FixtureError

EXPECTED_FILE = Path(__file__).with_name("expected.yaml")
BASE_LAYERS = 1
"""Layers of the base image; the app's layers at index >= this are its own."""
APP_LAYERS = 4
"""Layers of the app image."""


@dataclass(frozen=True, order=True)
class ExpectedFinding:
    """One finding as Trivy must report it."""

    id: str
    """VulnerabilityID."""
    package: str
    """PkgName (binary package name for Debian)."""
    version: str
    """InstalledVersion."""
    layer: int
    """Index of the finding's layer in the image's `rootfs.diff_ids`."""
    type: str
    """Trivy's result type: `debian`, `python-pkg`, `node-pkg`."""
    fixed: str | None = None
    """FixedVersion, when fixed."""
    status: str | None = None
    """Status of an unfixed finding (`will_not_fix`, `affected`, ...)."""
    severity: str | None = None
    """The severity Trivy shows, where the expected file gives it (the image family's does)."""

    @property
    def key(self) -> tuple[str, str, str, int]:
        """What a report is compared on: (id, package, installed version, layer index)."""
        return (self.id, self.package, self.version, self.layer)


@dataclass(frozen=True)
class Control:
    """An advisory in the DB that must produce no finding."""

    id: str
    """Vulnerability id."""
    packages: tuple[str, ...]
    """Names Trivy would report the finding on."""
    bucket: str
    """The DB bucket holding the advisory."""
    why: str
    """Why it must not match."""
    fixed: str | None = None
    """Its fixed version, when the id also has a legitimate finding on the same package."""


@dataclass(frozen=True)
class Expected:
    """Everything expected.yaml says."""

    base_findings: tuple[ExpectedFinding, ...]
    """Findings of the base image (and of the app, as inherited ones)."""
    own_findings: tuple[ExpectedFinding, ...]
    """Findings of the app image's own layers."""
    controls: tuple[Control, ...]
    """Negative controls."""

    def for_image(self, image: str) -> tuple[ExpectedFinding, ...]:
        """The findings of `base` or `app`."""
        if image == "base":
            return self.base_findings
        if image == "app":
            return self.base_findings + self.own_findings
        raise KeyError(image)


def parse_finding(where: str, raw: Any) -> ExpectedFinding:
    """One finding of an expected file; raises FixtureError naming `where` on a bad entry."""
    if not isinstance(raw, dict) or not {"id", "package", "version", "layer", "type"} <= set(raw):
        raise FixtureError(f"{where}: expected id, package, version, layer, type; got {raw!r}")
    unknown = set(raw) - {"id", "package", "version", "layer", "type", "fixed", "status", "severity"}
    if unknown:
        raise FixtureError(f"{where}: unknown keys {sorted(unknown)}")
    return ExpectedFinding(
        id=str(raw["id"]),
        package=str(raw["package"]),
        version=str(raw["version"]),
        layer=int(raw["layer"]),
        type=str(raw["type"]),
        fixed=None if raw.get("fixed") is None else str(raw["fixed"]),
        status=None if raw.get("status") is None else str(raw["status"]),
        severity=None if raw.get("severity") is None else str(raw["severity"]),
    )


def parse_control(where: str, raw: Any) -> Control:
    """One negative control of an expected file; raises FixtureError naming `where`."""
    if not isinstance(raw, dict) or not {"id", "packages", "bucket", "why"} <= set(raw):
        raise FixtureError(f"{where}: expected id, packages, bucket, why")
    return Control(
        id=raw["id"],
        packages=tuple(raw["packages"]),
        bucket=raw["bucket"],
        why=raw["why"],
        fixed=raw.get("fixed"),
    )


def load_expected(path: Path = EXPECTED_FILE) -> Expected:
    """Reads expected.yaml, raising FixtureError with the file and key path on a bad entry."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or set(raw) != {"base_findings", "own_findings", "controls"}:
        raise FixtureError(f"{path}: expected keys base_findings, own_findings, controls")
    controls = [parse_control(f"{path}: controls[{i}]", c) for i, c in enumerate(raw["controls"])]
    return Expected(
        base_findings=tuple(
            parse_finding(f"{path}: base_findings[{i}]", f) for i, f in enumerate(raw["base_findings"])
        ),
        own_findings=tuple(
            parse_finding(f"{path}: own_findings[{i}]", f) for i, f in enumerate(raw["own_findings"])
        ),
        controls=tuple(controls),
    )
