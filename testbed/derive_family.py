"""The image family's expected findings, derived from advisories.yaml and the images' packages.

The family mirrors the comparison that motivates the project (python:3.9 358 findings, slim 69,
alpine 0, distroless 37, scratch 0): `full`, `slim`, `distroless`, `alpine` and `scratch` in
testbed/images/. No Trivy and no gate involved: Debian versions are ordered by dpkg, Alpine's by
apk's rules (testbed/packages.py).

    python -m testbed.derive_expected --write   # rewrites expected_family.yaml too

`load_family_expected()` reads the committed file; tests/testbed/ checks it equals this derivation
and that the real Trivy reports exactly it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testbed.advisories import Advisory, Fixture, FixtureError
from testbed.expected import Control, ExpectedFinding, parse_control, parse_finding
from testbed.images import IMAGES_DIR
from testbed.packages import Installed, apk_lt, dpkg_lt, read_apk_installed, read_dpkg_status

FAMILY_FILE = Path(__file__).with_name("expected_family.yaml")
FAMILY = ("full", "slim", "distroless", "alpine", "scratch")
"""The images, in the order of the comparison: most findings first."""
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")

HEADER = """\
# The exact findings Trivy must report on the image family (testbed/images/{full,slim,distroless,
# alpine,scratch}) with the DB built from advisories.yaml.
#
# Written by `python -m testbed.derive_expected --write` from advisories.yaml and each image's
# declared packages (dpkg status, status.d/ or the apk database; Debian versions ordered by dpkg,
# Alpine's by apk's rules). Every image is FROM scratch with one layer (index 0).
# `os` is the DB bucket its advisories come from (null: no OS, nothing to match). `packages` counts
# the declared packages. `counts_by_severity` counts `findings` by the severity Trivy shows.
# `controls` are advisories on packages the image has that must produce no finding (same rule as
# expected.yaml). The comparison's ordering holds: full > slim > distroless > alpine >= scratch.
"""


@dataclass(frozen=True)
class FamilyImage:
    """What one image of the family must give."""

    name: str
    """`full`, `slim`, `distroless`, `alpine` or `scratch`."""
    os: str | None
    """DB bucket of its OS (`debian 12`, `alpine 3.10`), or None without an OS."""
    packages: int
    """Number of packages the image declares."""
    findings: tuple[ExpectedFinding, ...]
    """Every finding, with its severity."""
    counts_by_severity: Mapping[str, int]
    """Findings per severity, all five keys."""
    controls: tuple[Control, ...]
    """Advisories that must not match this image."""


def image_os(rootfs: Path) -> tuple[str | None, str | None]:
    """(DB bucket, Trivy result type) of an image's rootfs, from its os-release."""
    path = rootfs / "etc/os-release"
    if not path.is_file():
        return None, None
    fields = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    family, version = fields["ID"].strip('"'), fields["VERSION_ID"].strip('"')
    if family == "debian":
        return f"debian {version.split('.')[0]}", "debian"
    if family == "alpine":
        return f"alpine {'.'.join(version.split('.')[:2])}", "alpine"
    raise FixtureError(f"{path}: OS {family!r} is not one the test bed derives findings for")


def image_packages(rootfs: Path) -> list[Installed]:
    """The OS packages an image's rootfs declares (none for scratch)."""
    if (rootfs / "lib/apk/db/installed").is_file():
        return read_apk_installed(rootfs)
    if (rootfs / "var/lib/dpkg").is_dir():
        return read_dpkg_status(rootfs)
    return []


def os_findings(
    fixture: Fixture, bucket: str, kind: str, packages: Iterable[Installed], layer: int
) -> list[dict[str, Any]]:
    """Findings of OS packages: the source's advisories whose fixed version is above the installed
    source version, and the unfixed ones. Reported on the binary name and its own version."""
    lt: Callable[[str, str], bool] = dpkg_lt if kind == "debian" else apk_lt
    by_source: dict[str, list[Advisory]] = {}
    for adv in fixture.advisories:
        if adv.bucket == bucket:
            by_source.setdefault(adv.package, []).append(adv)
    out: list[dict[str, Any]] = []
    for pkg in packages:
        for adv in by_source.get(pkg.source, []):
            if adv.fixed is not None and not lt(pkg.source_version, adv.fixed):
                continue
            finding: dict[str, Any] = {"id": adv.id, "package": pkg.name, "version": pkg.version}
            finding.update({"fixed": adv.fixed} if adv.fixed else {"status": adv.status})
            severity = fixture.vulnerabilities[adv.id].severity
            out.append({**finding, "type": kind, "layer": layer, "severity": severity})
    return out


def controls_for(fixture: Fixture, packages: Iterable[Installed]) -> list[dict[str, Any]]:
    """The negative controls on source packages the image has (in any bucket)."""
    binaries: dict[str, list[str]] = {}
    for pkg in packages:
        binaries.setdefault(pkg.source, []).append(pkg.name)
    out = []
    for adv in fixture.advisories:
        if adv.control and adv.package in binaries and "::" not in adv.bucket:
            entry: dict[str, Any] = {"id": adv.id, "packages": binaries[adv.package], "bucket": adv.bucket}
            if adv.fixed:
                entry["fixed"] = adv.fixed
            out.append({**entry, "why": adv.control})
    return out


def counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Findings per severity, with every severity present."""
    seen = Counter(str(f["severity"]) for f in findings)
    return {sev: seen.get(sev, 0) for sev in SEVERITIES}


def derive_image(fixture: Fixture, name: str) -> dict[str, Any]:
    """The expected entry of one family image."""
    rootfs = IMAGES_DIR / name / "rootfs"
    bucket, kind = image_os(rootfs)
    packages = image_packages(rootfs)
    findings = os_findings(fixture, bucket, kind, packages, 0) if bucket and kind else []
    return {
        "os": bucket,
        "packages": len(packages),
        "counts_by_severity": counts(findings),
        "findings": findings,
        "controls": controls_for(fixture, packages),
    }


def _flow(item: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(item), default_flow_style=True, width=1000, sort_keys=False).strip()


def derive_family(fixture: Fixture) -> str:
    """The text of expected_family.yaml."""
    text = HEADER + "images:\n"
    for name in FAMILY:
        entry = derive_image(fixture, name)
        text += f"  {name}:\n    os: {yaml.safe_dump(entry['os']).split(chr(10))[0]}\n"
        text += f"    packages: {entry['packages']}\n"
        text += f"    counts_by_severity: {_flow(entry['counts_by_severity'])}\n"
        for key in ("findings", "controls"):
            text += f"    {key}:{'' if entry[key] else ' []'}\n"
            text += "".join(f"      - {_flow(item)}\n" for item in entry[key])
    return text


def load_family_expected(path: Path = FAMILY_FILE) -> dict[str, FamilyImage]:
    """Reads expected_family.yaml; raises FixtureError with the file and key path."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or set(raw) != {"images"} or list(raw["images"]) != list(FAMILY):
        raise FixtureError(f"{path}: expected `images` with {', '.join(FAMILY)} in that order")
    out = {}
    for name, entry in raw["images"].items():
        where = f"{path}: images.{name}"
        if set(entry) != {"os", "packages", "counts_by_severity", "findings", "controls"}:
            raise FixtureError(f"{where}: expected os, packages, counts_by_severity, findings, controls")
        out[name] = FamilyImage(
            name=name,
            os=entry["os"],
            packages=int(entry["packages"]),
            findings=tuple(
                parse_finding(f"{where}.findings[{i}]", f) for i, f in enumerate(entry["findings"])
            ),
            counts_by_severity=dict(entry["counts_by_severity"]),
            controls=tuple(
                parse_control(f"{where}.controls[{i}]", c) for i, c in enumerate(entry["controls"])
            ),
        )
    return out
