"""The base image check on the test bed's base-refresh scenario: the real registry, the real Trivy.

testbed/expected_base_refresh.yaml is derived from the advisories and the images, not from the
gate: the check must find the same day gap and exactly the same removed findings. The controls
(the same tag pushed again; a multi-platform tag where only arm64 changed) must not be stale, and
every way the check can fail gives `checked: false` with its reason, never an exception.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from gate.image.base_image import BaseCheck
from gate.image.resolve import BASE_DIGEST_LABEL
from gate.model import ImageInfo, LayerOrigin, ScanReport
from gate.run_wording import ACTION_WORDS
from gate.scanners.base_scan import check_base, removed_findings
from gate.scanners.options import ScannerChoice, ScanOptions
from gate.scanners.run import ScanRequest, scan
from testbed.base_refresh import BaseRefreshScenario, RefreshCase
from testbed.derive_family import SEVERITIES
from testbed.derive_refresh import load_refresh_expected
from testbed.engine import Engine
from testbed.expected import BASE_LAYERS
from tests.support.factories import finding
from tests.support.registry_tools import free_port

EXPECTED = load_refresh_expected()
CASES = ("stale", "unchanged", "multi_platform")


def options(trivy_bin: Path, cache: Path, home: Path, **changes: object) -> ScanOptions:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    base = ScanOptions(
        env=env,
        now=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        cache_dir=cache,
        skip_db_update=True,
        trivy_bin=str(trivy_bin),
        max_db_age=dt.timedelta(days=100000),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def scanned(
    base_refresh: BaseRefreshScenario,
    trivy_bin: Path,
    trivy_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[ScanReport, BaseCheck]]:
    """Each case's app scanned from the registry, then checked."""
    home = tmp_path_factory.mktemp("home")
    opts = options(trivy_bin, trivy_db, home)
    out = {}
    for case in CASES:
        app: RefreshCase = getattr(base_refresh, case)
        report = scan(ScanRequest(f"docker://{app.app}", ScannerChoice.TRIVY, opts))
        out[case] = check_base(report, ScannerChoice.TRIVY, opts)
    return out


@pytest.mark.parametrize("case", CASES)
def test_the_check_finds_the_base_used_and_the_tag_now(
    case: str, scanned: dict[str, tuple[ScanReport, BaseCheck]], base_refresh: BaseRefreshScenario
) -> None:
    scenario: RefreshCase = getattr(base_refresh, case)
    report, check = scanned[case]
    assert check.checked, check.reason
    assert check.reason is None
    assert check.name == scenario.base
    assert check.used is not None
    assert check.current is not None
    # Platform manifests, never the index the multi-platform tag points to.
    assert check.used.digest == scenario.used_manifest
    assert check.current.digest == scenario.current_manifest
    assert (check.used.created, check.current.created) == (scenario.used_created, scenario.current_created)
    assert check.behind_days == EXPECTED[case].behind_days
    assert check.changed is (case == "stale")
    assert report.warnings == ()


@pytest.mark.parametrize("case", CASES)
def test_the_check_removes_exactly_the_derived_findings(
    case: str, scanned: dict[str, tuple[ScanReport, BaseCheck]]
) -> None:
    report, check = scanned[case]
    removed = sorted((f.vulnerability_id, f.package.name) for f in check.removed)
    assert removed == sorted(EXPECTED[case].removed)
    by_severity = Counter(f.severity.name for f in check.removed)
    assert {s: by_severity.get(s, 0) for s in SEVERITIES} == dict(EXPECTED[case].removed_by_severity)
    in_base = [f for f in report.findings if f.layer is not None and f.layer.origin is LayerOrigin.BASE]
    assert len(in_base) - len(removed) == EXPECTED[case].kept
    assert all(
        f.layer is not None and f.layer.index is not None and f.layer.index < BASE_LAYERS for f in in_base
    )


def test_the_stale_gap_is_rounded_down(scanned: dict[str, tuple[ScanReport, BaseCheck]]) -> None:
    _, check = scanned["stale"]
    assert check.used is not None
    assert check.current is not None
    assert (check.used.created, check.current.created) == ("2024-01-10T00:00:00Z", "2024-02-26T13:00:00Z")
    assert check.behind_days == 47  # 47 days 13 hours


# --- failure modes: checked false, with the reason and a warning -----------------------------------


def with_base(report: ScanReport, base: str | None, *, digest_label: bool = True) -> ScanReport:
    """The report as if the image named another base (labels as an image built on it would carry)."""
    assert report.image is not None
    labels = {k: v for k, v in report.image.labels if digest_label or k != BASE_DIGEST_LABEL}
    if base is not None:
        labels["org.opencontainers.image.base.name"] = base
    else:
        labels.pop("org.opencontainers.image.base.name", None)
    image: ImageInfo = replace(
        report.image, base_image=base, labels=tuple(sorted(labels.items())), base_layer_count=None
    )
    return replace(report, image=image)


@pytest.fixture(scope="module")
def stale_report(scanned: dict[str, tuple[ScanReport, BaseCheck]]) -> ScanReport:
    return scanned["stale"][0]


def failed(report: ScanReport, opts: ScanOptions) -> tuple[ScanReport, BaseCheck]:
    checked, check = check_base(report, ScannerChoice.TRIVY, opts)
    assert not check.checked
    assert check.reason
    assert check.removed == ()
    assert checked.warnings[-1] == f"base image check: {check.reason}"
    assert checked.findings == report.findings
    return checked, check


def test_registry_down(stale_report: ScanReport, trivy_bin: Path, trivy_db: Path, tmp_path: Path) -> None:
    port = free_port()
    _, check = failed(
        with_base(stale_report, f"127.0.0.1:{port}/base:12"), options(trivy_bin, trivy_db, tmp_path)
    )
    assert check.name == f"127.0.0.1:{port}/base:12"
    assert check.reason == (
        f"cannot reach registry 127.0.0.1:{port} (connection refused) "
        "(check the name, the network, and that plain HTTP is only expected on localhost)"
    )


def test_tag_gone(
    stale_report: ScanReport,
    base_refresh: BaseRefreshScenario,
    trivy_bin: Path,
    trivy_db: Path,
    tmp_path: Path,
) -> None:
    gone = f"{base_refresh.registry}/container-gate-testbed/base:11"
    _, check = failed(with_base(stale_report, gone), options(trivy_bin, trivy_db, tmp_path))
    assert check.reason == (
        f"the tag {gone} was not found in the registry: registry {base_refresh.registry} has no "
        "container-gate-testbed/base:11 (HTTP 404, MANIFEST_UNKNOWN) (check the name's spelling; a tag "
        "deleted or renamed since the build is not found either)"
    )


def test_base_not_identifiable(
    stale_report: ScanReport,
    base_refresh: BaseRefreshScenario,
    trivy_bin: Path,
    trivy_db: Path,
    tmp_path: Path,
) -> None:
    opts = options(trivy_bin, trivy_db, tmp_path)
    # The tag moved on and nothing names the digest the image was built on.
    base = base_refresh.stale.base
    _, check = failed(with_base(stale_report, base, digest_label=False), opts)
    assert check.reason == (
        f"cannot tell which {base} {stale_report.image.reference if stale_report.image else ''} was built on: "
        "its layers do not start with those of the tag now, and no digest names the one it was "
        f"(label the image {BASE_DIGEST_LABEL} at build time, or give --base-image NAME:TAG@DIGEST)"
    )
    # No base image known at all.
    _, check = failed(with_base(stale_report, None), opts)
    assert check.name is None
    assert check.reason == (
        f"the base image of {stale_report.image.reference if stale_report.image else ''} is not known "
        "(give --base-image NAME:TAG, or label the image org.opencontainers.image.base.name)"
    )
    _, check = failed(with_base(stale_report, "scratch"), opts)
    assert check.reason is not None
    assert check.reason.endswith("is built FROM scratch: it has no base image to check")


def test_the_current_base_cannot_be_scanned(
    stale_report: ScanReport, trivy_bin: Path, tmp_path: Path, base_refresh: BaseRefreshScenario
) -> None:
    # The same scanner, but no DB to judge the current base by: the check says so, it does not fail.
    _, check = failed(stale_report, options(trivy_bin, tmp_path / "empty-cache", tmp_path))
    assert check.used is not None
    assert check.current is not None
    assert check.behind_days == 47
    assert check.reason is not None
    assert check.reason.startswith(
        f"the current {base_refresh.stale.base} ({base_refresh.stale.current_manifest}) could not be scanned: "
        "Trivy has no vulnerability DB"
    )


# --- which findings a rebuild removes ----------------------------------------------------------------


def test_removed_findings_match_on_ids_with_aliases_package_and_path_not_version() -> None:
    image = [
        finding("CVE-2024-1", pkg="libssl3", version="3.0.9-1"),
        finding("CVE-2024-2", pkg="libssl3", version="3.0.9-1"),
        finding(
            "GHSA-aaaa-bbbb-cccc", pkg="pip", version="23.0.1", path="usr/lib/pip-23.0.1.dist-info/METADATA"
        ),
        finding("CVE-2024-4", pkg="pip", version="23.0.1", path="usr/lib/pip-23.0.1.dist-info/METADATA"),
        finding("CVE-2024-5", pkg="zlib1g", version="1:1.2.13"),
    ]
    current = [
        # Still there in a newer version: the version is not compared.
        finding("CVE-2024-1", pkg="libssl3", version="3.0.11-1"),
        # Another scanner's id for the same vulnerability, in an upgraded but still vulnerable pip.
        finding(
            "CVE-2024-3",
            aliases=("ghsa-aaaa-bbbb-cccc",),
            pkg="pip",
            version="23.1",
            path="usr/lib/pip-23.1.dist-info/METADATA",
        ),
        # The same id in another package or at another path is another finding.
        finding("CVE-2024-4", pkg="pip", version="23.1", path="opt/venv/pip-23.1.dist-info/METADATA"),
        finding("CVE-2024-5", pkg="zlib1g-dev", version="1:1.2.13"),
    ]
    removed = removed_findings(image, current)
    assert [(f.vulnerability_id, f.package.name) for f in removed] == [
        ("CVE-2024-2", "libssl3"),
        ("CVE-2024-4", "pip"),
        ("CVE-2024-5", "zlib1g"),
    ]
    assert removed_findings(image, []) == tuple(image)
    assert removed_findings([], current) == ()


def test_an_archive_whose_labels_name_its_base_gets_its_base_layers_from_the_check(
    base_refresh: BaseRefreshScenario, docker_engine: Engine, trivy_bin: Path, trivy_db: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "app-stale.tar"
    with archive.open("wb") as out:
        for chunk in docker_engine.client.images.get(base_refresh.stale.app).save(named=True):
            out.write(chunk)
    opts = options(trivy_bin, trivy_db, tmp_path)
    report = scan(ScanRequest(f"docker-archive:{archive}", ScannerChoice.TRIVY, opts))
    # An archive is scanned offline: nothing looked its base up, so no layer is known to be the base's.
    assert report.image is not None
    assert report.image.base_layer_count is None
    assert {f.layer.origin for f in report.findings if f.layer} == {None}
    checked, check = check_base(report, ScannerChoice.TRIVY, opts)
    assert check.checked, check.reason
    assert len(check.removed) == len(EXPECTED["stale"].removed)
    assert checked.image is not None
    assert checked.image.base_layer_count == BASE_LAYERS
    assert checked.image.base_image == base_refresh.stale.base
    origins = Counter(f.layer.origin for f in checked.findings if f.layer)
    assert origins[LayerOrigin.BASE] == len(EXPECTED["stale"].removed) + EXPECTED["stale"].kept
    assert origins[LayerOrigin.OWN] > 0


def test_in_the_action_a_base_that_cannot_be_checked_names_its_input() -> None:
    # The scan options carry the run's words to the check's warning: the action's users set inputs.
    report = ScanReport(findings=(), image=ImageInfo(reference="app"))
    options = ScanOptions(env={}, now=dt.datetime(2026, 12, 7, tzinfo=dt.UTC), wording=ACTION_WORDS)
    checked, check = check_base(report, ScannerChoice.TRIVY, options)
    assert not check.checked
    assert checked.warnings == (
        "base image check: the base image of app is not known (set the action's `base-image` input "
        "to NAME:TAG, or label the image org.opencontainers.image.base.name)",
    )
