"""What refreshing the base image, or upgrading a package, must remove: derived from the advisories.

Two uses, neither involving Trivy or the gate:
- the base-refresh scenario (testbed/base_refresh.py): `base:12` is pushed, the app is built on it,
  then a newer `base:12` is pushed with the upgrades below. `derive_refresh()` writes
  expected_base_refresh.yaml: the day gap, and exactly which of the app's base-layer findings
  (id, package) the newer base no longer has;
- remediation variants (testbed/variants.py): `variant_findings()` gives every finding of the app
  built with given upgrades, so a test can compare a real scan before and after.

A finding is removed when its package's upgraded (source) version is not below the advisory's
fixed version (dpkg's order), when its package is gone, or, for language packages, when the new
version is outside every vulnerable range.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from testbed.advisories import Fixture, FixtureError
from testbed.derive_expected import APP_RUN_LAYER, LANGUAGE_PACKAGES, app_run_stanza, in_range
from testbed.derive_family import counts, os_findings
from testbed.images import IMAGES_DIR
from testbed.packages import parse_dpkg_stanzas

REFRESH_FILE = Path(__file__).with_name("expected_base_refresh.yaml")

OLD_CREATED = "2024-01-10T00:00:00Z"
"""Config `created` of the `base:12` the app is built on."""
NEW_CREATED = "2024-02-26T13:00:00Z"
"""Config `created` of the newer `base:12`: 47 days and 13 hours later (whole days: 47)."""
BASE_UPGRADES = {
    "libc6": "2.36-9+deb12u3",
    "libc-bin": "2.36-9+deb12u3",
    "libssl3": "3.0.11-1~deb12u2",
    "openssl": "3.0.11-1~deb12u2",
    "libxml2": "2.9.14+dfsg-1.3~deb12u2",
    "tar": "1.34+dfsg-1.2+deb12u1",
    "libsystemd0": "252.21-1~deb12u1",
    "libudev1": "252.21-1~deb12u1",
}
"""Binary package -> its version in the newer `base:12` (real Debian 12 updates; the source's
every binary is upgraded together, as apt does)."""
BASE_DROPPED = ("wget",)
"""Packages the newer base no longer installs: their findings are gone too."""
BASE_ADDED = ("liblzma5",)
"""Packages only the newer base has (stanzas from the `slim` image): their findings are new,
never "removed", and rebuilding adds them."""

HEADER = """\
# The base-refresh scenario's expected outcome (testbed/base_refresh.py builds it in the test bed's
# registry). Written by `python -m testbed.derive_expected --write` from advisories.yaml, the base
# image's dpkg status and the upgrades in testbed/derive_refresh.py; no scanner involved.
#
# stale: `base:12` (created `used_created`) is pushed, `app-stale:1` is built FROM it with the labels
#   org.opencontainers.image.base.name/.base.digest, then a newer `base:12` (created
#   `current_created`; `upgrades`, `dropped` and `added` packages) is pushed to the same tag.
#   `behind_days` is the whole days between the two `created`, rounded down. `removed` lists the
#   app's base-layer findings (id, package) the newer base does not have; `kept` counts the others.
# unchanged: the same tag pushed again with the same manifest: nothing behind, nothing removed.
# multi_platform: an index (linux/arm64 metadata-only + linux/amd64); the second push changes only
#   the arm64 image, so the index digest changes while the amd64 manifest stays byte-identical.
"""


@dataclass(frozen=True)
class RefreshExpected:
    """One case of expected_base_refresh.yaml."""

    base: str
    """Repository and tag of the base, without the registry (`container-gate-testbed/base:12`)."""
    app: str
    """Repository and tag of the app built on it."""
    behind_days: int
    """Whole days from the used base's `created` to the current one's."""
    removed: tuple[tuple[str, str], ...]
    """(id, package) of the app's base-layer findings the current base does not have."""
    removed_by_severity: Mapping[str, int]
    """`removed` per severity."""
    kept: int
    """The app's base-layer findings the current base still has."""


def base_status_text() -> str:
    """The committed base image's dpkg status."""
    return (IMAGES_DIR / "base/rootfs/var/lib/dpkg/status").read_text()


def _stanzas(text: str) -> dict[str, str]:
    """Package name -> stanza (without its trailing newline), in file order."""
    out = {}
    for stanza in text.strip().split("\n\n"):
        name = re.match(r"Package: (\S+)", stanza)
        if name is None:
            raise FixtureError(f"a dpkg stanza without a Package field: {stanza[:60]!r}")
        out[name[1]] = stanza
    return out


def upgraded_status(
    text: str, upgrades: Mapping[str, str], dropped: tuple[str, ...] = (), added: tuple[str, ...] = ()
) -> str:
    """A dpkg status with the named packages at new versions, `dropped` ones removed and `added`
    stanzas appended; the text keeps its layout (a blank line after each stanza, if it had one)."""
    stanzas = _stanzas(text)
    missing = (set(upgrades) | set(dropped)) - set(stanzas)
    if missing:
        raise FixtureError(f"the dpkg status has no package {sorted(missing)}")
    for name, version in upgrades.items():
        # A `Source: name (version)` would keep the old source version: refuse, never guess.
        if re.search(r"(?m)^Source: \S+ \(", stanzas[name]):
            raise FixtureError(f"{name}: a Source with its own version cannot be upgraded here")
        stanzas[name] = re.sub(r"(?m)^Version: .*$", f"Version: {version}", stanzas[name])
    kept = [stanza for name, stanza in stanzas.items() if name not in dropped] + list(added)
    return "\n\n".join(kept) + text[len(text.rstrip("\n")) :]


def newer_base_status() -> str:
    """The dpkg status of the newer `base:12`."""
    slim = _stanzas((IMAGES_DIR / "slim/rootfs/var/lib/dpkg/status").read_text())
    added = tuple(slim[name] for name in BASE_ADDED)
    return upgraded_status(base_status_text(), BASE_UPGRADES, BASE_DROPPED, added)


def whole_days(earlier: str, later: str) -> int:
    """Whole days between two RFC 3339 times, rounded down."""
    delta = datetime.fromisoformat(later) - datetime.fromisoformat(earlier)
    return delta.days


def _removed(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    remaining = {(f["id"], f["package"]) for f in after}
    return [f for f in before if (f["id"], f["package"]) not in remaining]


def derive_refresh(fixture: Fixture) -> str:
    """The text of expected_base_refresh.yaml."""
    before = os_findings(fixture, "debian 12", "debian", parse_dpkg_stanzas(base_status_text()), 0)
    after = os_findings(fixture, "debian 12", "debian", parse_dpkg_stanzas(newer_base_status()), 0)
    removed = _removed(before, after)
    cases: dict[str, dict[str, Any]] = {
        "stale": {
            "base": "container-gate-testbed/base:12",
            "app": "container-gate-testbed/app-stale:1",
            "used_created": OLD_CREATED,
            "current_created": NEW_CREATED,
            "behind_days": whole_days(OLD_CREATED, NEW_CREATED),
            "upgrades": dict(BASE_UPGRADES),
            "dropped": list(BASE_DROPPED),
            "added": list(BASE_ADDED),
            "removed_by_severity": counts(removed),
            "kept": len(before) - len(removed),
            "removed": [{k: f[k] for k in ("id", "package", "severity")} for f in removed],
        },
        "unchanged": {
            "base": "container-gate-testbed/base-unchanged:12",
            "app": "container-gate-testbed/app-unchanged:1",
            "used_created": OLD_CREATED,
            "current_created": OLD_CREATED,
            "behind_days": 0,
            "removed_by_severity": counts([]),
            "kept": len(before),
            "removed": [],
        },
        "multi_platform": {
            "base": "container-gate-testbed/base-multi:12",
            "app": "container-gate-testbed/app-multi:1",
            "used_created": OLD_CREATED,
            "current_created": OLD_CREATED,
            "behind_days": 0,
            "removed_by_severity": counts([]),
            "kept": len(before),
            "removed": [],
        },
    }
    return HEADER + yaml.safe_dump(cases, sort_keys=False, width=110, default_flow_style=None)


def variant_findings(
    fixture: Fixture,
    base_upgrades: Mapping[str, str] | None = None,
    own_upgrades: Mapping[str, str] | None = None,
    python: Mapping[str, str] | None = None,
    npm: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every finding of the app image built with these upgrades (see testbed/variants.py): the
    base's at layer 0, then Flask (1), lodash (2) and the own layer's Debian package (3).
    Keys of `python`/`npm` are the names Trivy reports (`Flask`, `lodash`)."""
    base = parse_dpkg_stanzas(upgraded_status(base_status_text(), base_upgrades or {}))
    own = parse_dpkg_stanzas(upgraded_status(app_run_stanza(), own_upgrades or {}))
    bumped = {**(python or {}), **(npm or {})}
    unknown = set(bumped) - {reported for _, _, reported, *_ in LANGUAGE_PACKAGES}
    if unknown:
        raise FixtureError(f"the app has no language package {sorted(unknown)}")
    out = os_findings(fixture, "debian 12", "debian", base, 0)
    for prefix, name, reported, version, kind, layer in LANGUAGE_PACKAGES:
        installed = bumped.get(reported, version)
        for adv in fixture.advisories:
            if not (adv.bucket.startswith(prefix) and adv.package == name):
                continue
            if any(in_range(installed, spec) for spec in adv.vulnerable):
                finding = {"id": adv.id, "package": reported, "version": installed}
                finding["fixed"] = ", ".join(adv.patched)
                severity = fixture.vulnerabilities[adv.id].severity
                out.append({**finding, "type": kind, "layer": layer, "severity": severity})
    return out + os_findings(fixture, "debian 12", "debian", own, APP_RUN_LAYER)


def removed_by_variant(
    fixture: Fixture,
    base_upgrades: Mapping[str, str] | None = None,
    own_upgrades: Mapping[str, str] | None = None,
    python: Mapping[str, str] | None = None,
    npm: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """(id, package) of the app's findings that the variant with these upgrades no longer has."""
    before = variant_findings(fixture)
    after = variant_findings(fixture, base_upgrades, own_upgrades, python, npm)
    return [(f["id"], f["package"]) for f in _removed(before, after)]


def load_refresh_expected(path: Path = REFRESH_FILE) -> dict[str, RefreshExpected]:
    """Reads expected_base_refresh.yaml (the three cases)."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or set(raw) != {"stale", "unchanged", "multi_platform"}:
        raise FixtureError(f"{path}: expected the cases stale, unchanged, multi_platform")
    return {
        name: RefreshExpected(
            base=case["base"],
            app=case["app"],
            behind_days=int(case["behind_days"]),
            removed=tuple((r["id"], r["package"]) for r in case["removed"]),
            removed_by_severity=dict(case["removed_by_severity"]),
            kept=int(case["kept"]),
        )
        for name, case in raw.items()
    }
