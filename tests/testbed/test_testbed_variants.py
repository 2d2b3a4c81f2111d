"""Remediation variants of the demo app: applied for real, scanned with the real Trivy offline.

Each variant must report exactly what the advisories say (derive_refresh.variant_findings), and
compared with the demo app it must have lost exactly the (id, package) pairs whose fixed version
the upgrade reaches (removed_by_variant), no more and no fewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from testbed.advisories import load_fixture
from testbed.derive_refresh import removed_by_variant, variant_findings
from testbed.engine import Engine
from testbed.images import ImageBuildError
from testbed.trivy import network_namespace_works, scan_image
from testbed.variants import AppVariant, build_app_variant
from tests.support.fixtures import TestbedImages

FIXTURE = load_fixture()
NO_NETWORK = network_namespace_works()

# One variant per kind of action on the demo image, with real later versions.
ACTIONS: dict[str, dict[str, Mapping[str, str]]] = {
    "refreshed base": {
        "base_upgrades": {
            "libc6": "2.36-9+deb12u4",
            "libc-bin": "2.36-9+deb12u4",
            "libssl3": "3.0.11-1~deb12u2",
            "openssl": "3.0.11-1~deb12u2",
        }
    },
    "own layer's libcurl4": {"own_upgrades": {"libcurl4": "7.88.1-10+deb12u5"}},
    "language packages": {"python": {"Flask": "2.3.2"}, "npm": {"lodash": "4.17.21"}},
}


def build(engine: Engine, upgrades: Mapping[str, Mapping[str, str]]) -> AppVariant:
    return build_app_variant(
        engine.client,
        base_upgrades=upgrades.get("base_upgrades"),
        own_upgrades=upgrades.get("own_upgrades"),
        python=upgrades.get("python"),
        npm=upgrades.get("npm"),
    )


def scan(trivy: Path, db: Path, engine: Engine, ref: str) -> list[dict[str, Any]]:
    target = ["--image-src", "docker", "--docker-host", engine.host, ref]
    report = scan_image(trivy, db, target, no_network=NO_NETWORK)
    diff_ids = engine.client.images.get(ref).attrs["RootFS"]["Layers"]
    return [
        {**v, "_layer": diff_ids.index(v["Layer"]["DiffID"])}
        for r in report.get("Results", [])
        for v in r.get("Vulnerabilities") or []
    ]


@pytest.fixture(scope="module")
def demo_findings(
    trivy_bin: Path, trivy_db: Path, docker_engine: Engine, built_images: TestbedImages
) -> set[tuple[str, str]]:
    """(id, package) of the demo app's findings, scanned once."""
    return {
        (v["VulnerabilityID"], v["PkgName"])
        for v in scan(trivy_bin, trivy_db, docker_engine, built_images.engine.app)
    }


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_applied_action_removes_exactly_its_findings(
    action: str,
    trivy_bin: Path,
    trivy_db: Path,
    docker_engine: Engine,
    demo_findings: set[tuple[str, str]],
) -> None:
    upgrades = ACTIONS[action]
    variant = build(docker_engine, upgrades)
    found = scan(trivy_bin, trivy_db, docker_engine, variant.ref)
    got = {(v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v["_layer"]) for v in found}
    want = {(f["id"], f["package"], f["version"], f["layer"]) for f in variant_findings(FIXTURE, **upgrades)}
    assert (sorted(want - got), sorted(got - want)) == ([], [])
    removed = demo_findings - {(v["VulnerabilityID"], v["PkgName"]) for v in found}
    expected_removed = removed_by_variant(FIXTURE, **upgrades)
    assert sorted(removed) == sorted(expected_removed)
    assert removed, "each action must clear something"
    labels = docker_engine.client.images.get(variant.ref).attrs["Config"]["Labels"]
    assert labels == {"org.opencontainers.image.base.name": variant.base_ref}


def test_the_expected_removals_follow_the_fixed_versions() -> None:
    glibc = removed_by_variant(
        FIXTURE, base_upgrades={"libc6": "2.36-9+deb12u3", "libc-bin": "2.36-9+deb12u3"}
    )
    # deb12u3 reaches the fixes of deb12u1..u3 but not CVE-2023-6246 (deb12u4) nor the unfixed one.
    assert sorted(i for i, p in glibc if p == "libc6") == [
        "CVE-2023-0687",
        "CVE-2023-4527",
        "CVE-2023-4806",
        "CVE-2023-4911",
        "CVE-2023-5156",
    ]
    flask = removed_by_variant(FIXTURE, python={"Flask": "2.2.5"})
    assert sorted(flask) == [("CVE-2019-1010083", "Flask"), ("CVE-2023-30861", "Flask")]
    lodash = removed_by_variant(FIXTURE, npm={"lodash": "4.17.20"})
    assert sorted(lodash) == [("CVE-2019-10744", "lodash"), ("CVE-2020-8203", "lodash")]  # not 4.17.21's


@pytest.mark.parametrize(
    ("upgrades", "message"),
    [
        ({"base_upgrades": {"libfoo1": "1.0-1"}}, r"dpkg status has no package \[.libfoo1.\]"),
        ({"own_upgrades": {"libc6": "2.36-9+deb12u4"}}, "own layer installs no Debian package 'libc6'"),
        ({"python": {"Django": "4.2"}}, "no Python package 'Django'"),
        ({"npm": {"express": "4.19.2"}}, "no npm package 'express'"),
    ],
)
def test_an_upgrade_of_a_package_the_app_lacks_is_refused(
    upgrades: dict[str, Mapping[str, str]], message: str, docker_engine: Engine
) -> None:
    with pytest.raises(ImageBuildError, match=message):
        build(docker_engine, upgrades)
