"""The image family: the real Trivy, offline, reports exactly the derived findings on each image.

Built by the engine (scanned through its socket) and without one (docker-archives), each image
must give exactly expected_family.yaml's findings, severities and counts, none of its controls,
and the comparison's ordering full > slim > distroless > alpine >= scratch.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from testbed.advisories import load_fixture
from testbed.derive_family import FAMILY, FAMILY_FILE, SEVERITIES, derive_family, load_family_expected
from testbed.dockerfile import apply_dockerfile
from testbed.engine import Engine
from testbed.family import BuiltFamily, FamilyArchives, family_context
from testbed.trivy import network_namespace_works, scan_image

EXPECTED = load_family_expected()
NO_NETWORK = network_namespace_works()
OS_NAMES = {"full": "12.0", "slim": "12.0", "distroless": "12.0", "alpine": "3.10.2", "scratch": None}


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding of a report, with its result's type."""
    return [
        {**v, "_type": r["Type"]} for r in report.get("Results", []) for v in r.get("Vulnerabilities") or []
    ]


def assert_family_image(name: str, report: dict[str, Any], diff_ids: list[str]) -> None:
    """Exactly the expected findings (key, fix, status, severity, layer), and no control."""
    expected = EXPECTED[name]
    assert len(diff_ids) == 1
    os_info = report["Metadata"].get("OS")
    assert (os_info or {}).get("Name") == OS_NAMES[name]
    found = findings(report)
    for vuln in found:
        assert vuln["Layer"]["DiffID"] == diff_ids[0]
    keys = Counter((v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], 0) for v in found)
    assert [k for k, n in keys.items() if n > 1] == []
    want = {f.key: f for f in expected.findings}
    assert (sorted(set(want) - set(keys)), sorted(set(keys) - set(want))) == ([], [])
    for vuln in found:
        finding = want[(vuln["VulnerabilityID"], vuln["PkgName"], vuln["InstalledVersion"], 0)]
        assert (vuln["_type"], vuln.get("FixedVersion"), vuln["Status"], vuln["Severity"]) == (
            finding.type,
            finding.fixed,
            finding.status or "fixed",
            finding.severity,
        )
    by_severity = Counter(v["Severity"] for v in found)
    assert {s: by_severity.get(s, 0) for s in SEVERITIES} == dict(expected.counts_by_severity)
    for control in expected.controls:
        hits = [
            v["PkgName"]
            for v in found
            if v["VulnerabilityID"] == control.id
            and v["PkgName"] in control.packages
            and (control.fixed is None or v.get("FixedVersion") == control.fixed)
        ]
        assert hits == [], f"control {control.id} ({control.why}) was reported on {hits}"


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="the derivation compares versions with dpkg")
def test_expected_family_is_the_derivation_from_the_advisories() -> None:
    assert FAMILY_FILE.read_text() == derive_family(load_fixture()), (
        "expected_family.yaml is stale: run python -m testbed.derive_expected --write"
    )


def test_the_family_keeps_the_comparisons_ordering() -> None:
    totals = {name: sum(image.counts_by_severity.values()) for name, image in EXPECTED.items()}
    assert all(totals[name] == len(EXPECTED[name].findings) for name in FAMILY)
    assert totals["full"] > totals["slim"] > totals["distroless"] > totals["alpine"] >= totals["scratch"]
    assert totals["alpine"] > 0, "the alpine bucket must be proven read by at least one finding"
    assert totals["scratch"] == 0
    assert EXPECTED["full"].packages > EXPECTED["slim"].packages > EXPECTED["distroless"].packages
    assert EXPECTED["alpine"].os == "alpine 3.10"
    assert any(c.bucket == "alpine 3.9" for c in EXPECTED["alpine"].controls)
    # The same CVE on many binaries of one source is what makes a full image's count explode.
    per_source = Counter(f.id for f in EXPECTED["full"].findings)
    assert per_source["CVE-2023-0687"] == 4  # libc6, libc-bin, libc6-dev, libc-dev-bin


@pytest.mark.parametrize("name", FAMILY)
def test_engine_built_family_image(
    name: str, trivy_bin: Path, trivy_db: Path, family_images: BuiltFamily, docker_engine: Engine
) -> None:
    ref = family_images.refs[name]
    target = ["--image-src", "docker", "--docker-host", docker_engine.host, ref]
    report = scan_image(trivy_bin, trivy_db, target, no_network=NO_NETWORK)
    assert_family_image(name, report, docker_engine.client.images.get(ref).attrs["RootFS"]["Layers"])


@pytest.mark.parametrize("name", FAMILY)
def test_engineless_family_image(
    name: str, trivy_bin: Path, trivy_db: Path, family_archives: FamilyArchives
) -> None:
    archive = family_archives.paths[name]
    report = scan_image(trivy_bin, trivy_db, ["--input", str(archive)], no_network=NO_NETWORK)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    assert_family_image(name, report, config["rootfs"]["diff_ids"])


def test_distroless_and_scratch_carry_no_shell_and_scratch_no_package_data(tmp_path: Path) -> None:
    files = {}
    for name in ("distroless", "scratch", "alpine"):
        context = family_context(name, tmp_path)
        files[name] = set(apply_dockerfile(context / "Dockerfile", context, None, {}).files)
    assert not any(f.startswith(("bin/", "usr/bin/", "sbin/")) for f in files["distroless"])
    assert sorted(f for f in files["distroless"] if "dpkg" in f) == [
        f"var/lib/dpkg/status.d/{p}"
        for p in ("base-files", "ca-certificates", "libc6", "libssl3", "netbase", "tzdata")
    ]
    assert files["scratch"] == {"bin/busybox"}
    assert files["alpine"] == {"etc/alpine-release", "etc/os-release", "lib/apk/db/installed"}
