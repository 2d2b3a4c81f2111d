"""The real Trivy, offline, on the test images: exactly the expected findings, in the right layers.

Every image source the gate supports is covered: a `docker save` archive written by the engine,
the engine's socket, the loopback registry, and the engine-less archives of `make demo`. Where
`unshare -n` works, scans run in an empty network namespace, proving they need no network.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from testbed.engine import Engine
from testbed.expected import APP_LAYERS, BASE_LAYERS, ExpectedFinding, load_expected
from testbed.images import ArchiveImages
from testbed.trivy import network_namespace_works, scan_image
from tests.support.fixtures import TestbedImages

EXPECTED = load_expected()
NO_NETWORK = network_namespace_works()


def archive_diff_ids(path: Path) -> list[str]:
    """`rootfs.diff_ids` of a docker-archive's image, read from its config."""
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    return list(config["rootfs"]["diff_ids"])


def reported(report: dict[str, Any], diff_ids: list[str]) -> list[dict[str, Any]]:
    """Every finding of the report, with the index of its layer in the image's diff ids."""
    out = []
    for result in report.get("Results", []):
        for vuln in result.get("Vulnerabilities") or []:
            diff_id = (vuln.get("Layer") or {}).get("DiffID")
            assert diff_id in diff_ids, f"{vuln['VulnerabilityID']}: layer {diff_id} is not in the image"
            out.append({**vuln, "_type": result["Type"], "_layer": diff_ids.index(diff_id)})
    return out


def assert_exact(image: str, report: dict[str, Any], diff_ids: list[str]) -> None:
    """The report holds exactly the expected findings, with their fix data, and no control."""
    assert len(diff_ids) == (BASE_LAYERS if image == "base" else APP_LAYERS)
    assert report["Metadata"]["OS"]["Family"] == "debian"
    assert report["Metadata"]["OS"]["Name"] == "12.0"
    found = reported(report, diff_ids)
    keys = Counter((v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v["_layer"]) for v in found)
    duplicated = [k for k, n in keys.items() if n > 1]
    assert not duplicated, f"reported more than once: {duplicated}"
    expected = {e.key: e for e in EXPECTED.for_image(image)}
    missing = sorted(set(expected) - set(keys))
    unexpected = sorted(set(keys) - set(expected))
    assert (missing, unexpected) == ([], []), f"missing {missing[:10]}, unexpected {unexpected[:10]}"
    for vuln in found:
        want: ExpectedFinding = expected[
            (vuln["VulnerabilityID"], vuln["PkgName"], vuln["InstalledVersion"], vuln["_layer"])
        ]
        assert vuln["_type"] == want.type
        assert vuln.get("FixedVersion") == want.fixed
        assert vuln["Status"] == (want.status or "fixed")
        assert vuln["Severity"] != "UNKNOWN", f"{vuln['VulnerabilityID']} lost its severity"
    for control in EXPECTED.controls:
        hits = [
            v
            for v in found
            if v["VulnerabilityID"] == control.id
            and v["PkgName"] in control.packages
            and (control.fixed is None or v.get("FixedVersion") == control.fixed)
        ]
        assert not hits, f"negative control {control.id} ({control.why}) was reported: {hits[0]['PkgName']}"


@pytest.mark.parametrize("image", ["base", "app"])
def test_engine_saved_archive(
    image: str, trivy_bin: Path, trivy_db: Path, built_images: TestbedImages
) -> None:
    archive = built_images.base_archive if image == "base" else built_images.app_archive
    report = scan_image(trivy_bin, trivy_db, ["--input", str(archive)], no_network=NO_NETWORK)
    assert_exact(image, report, archive_diff_ids(archive))


@pytest.mark.parametrize("image", ["base", "app"])
def test_engine_socket(
    image: str, trivy_bin: Path, trivy_db: Path, built_images: TestbedImages, docker_engine: Engine
) -> None:
    ref = built_images.engine.base if image == "base" else built_images.engine.app
    target = ["--image-src", "docker", "--docker-host", docker_engine.host, ref]
    report = scan_image(trivy_bin, trivy_db, target, no_network=NO_NETWORK)
    diff_ids = docker_engine.client.images.get(ref).attrs["RootFS"]["Layers"]
    assert_exact(image, report, diff_ids)


def test_registry(
    trivy_bin: Path, trivy_db: Path, built_images: TestbedImages, docker_engine: Engine
) -> None:
    # The registry listens on the host's loopback, so this scan cannot run in an empty namespace.
    target = ["--image-src", "remote", "--insecure", built_images.registry_app]
    report = scan_image(trivy_bin, trivy_db, target)
    assert report["ArtifactName"] == built_images.registry_app
    assert report["Metadata"]["RepoDigests"], "a pushed image has a repo digest"
    diff_ids = docker_engine.client.images.get(built_images.engine.app).attrs["RootFS"]["Layers"]
    assert_exact("app", report, diff_ids)


@pytest.mark.parametrize("image", ["base", "app"])
def test_engineless_archive(
    image: str, trivy_bin: Path, trivy_db: Path, engineless_archives: ArchiveImages
) -> None:
    archive = engineless_archives.base if image == "base" else engineless_archives.app
    report = scan_image(trivy_bin, trivy_db, ["--input", str(archive)], no_network=NO_NETWORK)
    assert_exact(image, report, archive_diff_ids(archive))


def test_base_layers_are_the_apps_first_layers(built_images: TestbedImages, docker_engine: Engine) -> None:
    images = docker_engine.client.images
    base = images.get(built_images.engine.base).attrs["RootFS"]["Layers"]
    app = images.get(built_images.engine.app).attrs["RootFS"]["Layers"]
    assert app[: len(base)] == base
    assert len(base) == BASE_LAYERS
    labels = images.get(built_images.engine.app).attrs["Config"]["Labels"]
    assert labels == {"org.opencontainers.image.base.name": built_images.engine.base}


@pytest.mark.skipif(os.geteuid() != 0, reason="unshare -n needs root")
def test_scans_run_without_network_where_root() -> None:
    # Under root (as in CI), the empty-namespace scans above must really have been used.
    assert NO_NETWORK, "unshare -n failed as root: install util-linux"
