"""The base-refresh scenario, checked against the registry and the real Trivy, never the gate.

expected_base_refresh.yaml says what a correct stale-base check must find; these tests prove the
scenario really is that: the day gap in the configs, the labels and layers of the apps, the
multi-platform control's byte-identical amd64 manifest, and, with real scans, exactly which of the
app's base-layer findings the newer base no longer has.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from testbed.advisories import load_fixture
from testbed.base_refresh import BASE_LABEL_DIGEST, BASE_LABEL_NAME, BaseRefreshScenario, RefreshCase
from testbed.derive_family import SEVERITIES
from testbed.derive_refresh import REFRESH_FILE, derive_refresh, load_refresh_expected
from testbed.engine import Engine
from testbed.expected import BASE_LAYERS
from testbed.registry import OCI_INDEX, RegistryClient, sha256
from testbed.trivy import network_namespace_works, scan_image

EXPECTED = load_refresh_expected()
NO_NETWORK = network_namespace_works()


def split(ref: str) -> tuple[str, str, str]:
    """(registry, repository, tag or digest) of `127.0.0.1:PORT/repo:tag` or `...@sha256:...`."""
    registry, _, rest = ref.partition("/")
    repo, _sep, reference = rest.partition("@") if "@" in rest else rest.rpartition(":")
    return registry, repo, reference


def config_of(reg: RegistryClient, repo: str, digest: str) -> dict[str, Any]:
    manifest = json.loads(reg.get_manifest(repo, digest)[0])
    config: dict[str, Any] = json.loads(reg.get_blob(repo, manifest["config"]["digest"]))
    return config


def keys(
    report: dict[str, Any], layers: int | None = None, diff_ids: list[str] | None = None
) -> set[tuple[str, str]]:
    """(id, package) of a report's findings; only those in the first `layers` layers when given."""
    out = set()
    for result in report.get("Results", []):
        for vuln in result.get("Vulnerabilities") or []:
            if layers is None or (diff_ids and diff_ids.index(vuln["Layer"]["DiffID"]) < layers):
                out.add((vuln["VulnerabilityID"], vuln["PkgName"]))
    return out


def severities(report: dict[str, Any], wanted: set[tuple[str, str]]) -> dict[str, int]:
    seen = {
        (v["VulnerabilityID"], v["PkgName"]): v["Severity"]
        for r in report.get("Results", [])
        for v in r.get("Vulnerabilities") or []
    }
    return {s: sum(1 for k in wanted if seen[k] == s) for s in SEVERITIES}


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="the derivation compares versions with dpkg")
def test_expected_base_refresh_is_the_derivation_from_the_advisories() -> None:
    assert REFRESH_FILE.read_text() == derive_refresh(load_fixture()), (
        "expected_base_refresh.yaml is stale: run python -m testbed.derive_expected --write"
    )


def test_the_expected_gap_rounds_down_and_some_findings_stay() -> None:
    stale = EXPECTED["stale"]
    assert stale.behind_days == 47
    assert stale.removed
    assert stale.kept > 0
    assert sum(stale.removed_by_severity.values()) == len(stale.removed)
    assert ("CVE-2023-6246", "libc6") not in stale.removed  # fixed in deb12u4, the newer base has deb12u3
    assert ("CVE-2023-4911", "libc6") in stale.removed
    assert ("CVE-2024-38428", "wget") in stale.removed  # the newer base no longer installs wget
    assert EXPECTED["unchanged"].removed == EXPECTED["multi_platform"].removed == ()


@pytest.mark.parametrize("case", ["stale", "unchanged", "multi_platform"])
def test_the_app_is_built_on_the_base_its_labels_name(
    case: str, base_refresh: BaseRefreshScenario, docker_engine: Engine
) -> None:
    scenario: RefreshCase = getattr(base_refresh, case)
    registry, repo, _ = split(scenario.base)
    reg = RegistryClient(registry)
    app = docker_engine.client.images.get(scenario.app).attrs
    labels = app["Config"]["Labels"]
    assert labels[BASE_LABEL_NAME] == scenario.base
    assert labels[BASE_LABEL_DIGEST] == scenario.label_digest
    assert split(scenario.app)[1] == EXPECTED[case].app.rsplit(":", 1)[0]
    assert split(scenario.base)[1:] == tuple(EXPECTED[case].base.rsplit(":", 1))
    used = config_of(reg, repo, scenario.used_manifest)
    current = config_of(reg, repo, scenario.current_manifest)
    assert app["RootFS"]["Layers"][:BASE_LAYERS] == used["rootfs"]["diff_ids"]
    gap = datetime.fromisoformat(current["created"]) - datetime.fromisoformat(used["created"])
    assert gap.days == EXPECTED[case].behind_days
    assert (used["created"], current["created"]) == (scenario.used_created, scenario.current_created)
    # What the tag resolves to now.
    assert reg.get_manifest(repo, "12")[2] == scenario.current_digest
    if case == "stale":
        assert gap.seconds > 0, "the gap is not whole days, so rounding down is tested"
        assert scenario.current_digest != scenario.label_digest
        assert app["RootFS"]["Layers"][:BASE_LAYERS] != current["rootfs"]["diff_ids"]
    else:
        assert scenario.current_manifest == scenario.used_manifest


def test_only_the_other_platform_changed_in_the_multi_platform_base(
    base_refresh: BaseRefreshScenario,
) -> None:
    scenario = base_refresh.multi_platform
    registry, repo, _ = split(scenario.base)
    reg = RegistryClient(registry)
    before, media, digest = reg.get_manifest(repo, scenario.label_digest)
    after, _, _ = reg.get_manifest(repo, "12")
    assert media == OCI_INDEX
    assert digest == scenario.label_digest != scenario.current_digest
    platforms = [
        {(m["platform"]["architecture"], m["digest"]) for m in json.loads(index)["manifests"]}
        for index in (before, after)
    ]
    assert platforms[0] == {("arm64", base_refresh.arm64_before), ("amd64", scenario.used_manifest)}
    assert platforms[1] == {("arm64", base_refresh.arm64_after), ("amd64", scenario.used_manifest)}
    assert base_refresh.arm64_before != base_refresh.arm64_after
    # The amd64 manifest is byte-identical: fetched by its digest, it hashes to that digest.
    body = reg.get_manifest(repo, scenario.used_manifest)[0]
    assert sha256(body) == scenario.used_manifest
    # A check that compared the arm64 images (or the index) would wrongly see a newer base.
    arm_before = config_of(reg, repo, base_refresh.arm64_before)
    arm_after = config_of(reg, repo, base_refresh.arm64_after)
    assert (arm_before["architecture"], arm_after["architecture"]) == ("arm64", "arm64")
    gap = datetime.fromisoformat(arm_after["created"]) - datetime.fromisoformat(arm_before["created"])
    assert gap.days == EXPECTED["stale"].behind_days


@pytest.mark.parametrize("case", ["stale", "unchanged", "multi_platform"])
def test_the_current_base_removes_exactly_the_expected_findings(
    case: str, base_refresh: BaseRefreshScenario, trivy_bin: Path, trivy_db: Path, docker_engine: Engine
) -> None:
    scenario: RefreshCase = getattr(base_refresh, case)
    app_target = ["--image-src", "docker", "--docker-host", docker_engine.host, scenario.app]
    app_report = scan_image(trivy_bin, trivy_db, app_target, no_network=NO_NETWORK)
    diff_ids = docker_engine.client.images.get(scenario.app).attrs["RootFS"]["Layers"]
    registry, repo, _ = split(scenario.base)
    # The registry listens on the host's loopback: this scan cannot run in an empty namespace.
    current = f"{registry}/{repo}@{scenario.current_manifest}"
    base_report = scan_image(trivy_bin, trivy_db, ["--image-src", "remote", "--insecure", current])
    from_base = keys(app_report, BASE_LAYERS, diff_ids)
    removed = from_base - keys(base_report)
    assert sorted(removed) == sorted(EXPECTED[case].removed)
    assert len(from_base) - len(removed) == EXPECTED[case].kept
    assert severities(app_report, removed) == dict(EXPECTED[case].removed_by_severity)
    if case == "stale":
        # The newer base has findings the old one did not (liblzma5 was added): not "removed".
        assert keys(base_report) - from_base == {("CVE-2026-34743", "liblzma5")}
