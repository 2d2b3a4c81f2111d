"""`container-gate scan IMAGE`: find the image, run the chosen scanners on it, attribute findings to layers.

The command line turns its options into a `ScanRequest` and calls `scan`; the result is a
`ScanReport` that the policy evaluates like any report read from a file. Nothing here reads the
environment or the clock: both arrive in the request. With both scanners, the reports are merged
(`gate.merge.merge_reports`) and each finding names the scanners that reported it
(`Finding.scanners`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gate.enrich.grype_exploit import MatchExploitData
from gate.image.source import SourceKind
from gate.merge import merge_reports
from gate.model import ScanReport
from gate.scanners._process import stopped_when_interrupted
from gate.scanners.options import BaseCheckMode as BaseCheckMode  # `scan` callers name it here too
from gate.scanners.options import ScannerChoice, ScanOptions

if TYPE_CHECKING:
    from gate.image.resolve import ImageTarget


@dataclass(frozen=True)
class ScanRequest:
    """Everything `scan` needs."""

    reference: str
    """The image, in any form `gate.image.resolve.resolve_image` reads (`name:tag`, `docker-archive:PATH`, ...)."""
    scanner: ScannerChoice
    """Which scanners run."""
    options: ScanOptions
    """How they run (DB, timeout, binaries, environment, clock)."""
    platform: str | None = None
    """`--platform os/arch[/variant]`, for multi-platform images."""
    base_image: str | None = None
    """`--base-image REF`: the image the scanned one is built FROM, to tell base layers from own ones."""
    dockerfile: Path | None = None
    """`--dockerfile PATH`: the Dockerfile it was built from, to map own layers to its lines."""
    build_args: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """`--build-arg NAME=VALUE`: the values the build gave the Dockerfile's ARGs (`FROM ${BASE}`),
    in the order given (a later value of a name wins, as with docker build). Left out of the repr:
    a build argument can hold a secret."""
    check_base: BaseCheckMode = BaseCheckMode.OFF
    """`--check-base`: also check the base image against what its tag points to now."""


def scan(request: ScanRequest, *, exploit: list[MatchExploitData] | None = None) -> ScanReport:
    """Resolves the image, scans it, and returns the report with each finding's layer attributed.

    The image is resolved first: a wrong reference or an unreachable engine fails before any
    scanner starts (and before a DB download). `exploit`, when given, receives the KEV and EPSS
    data Grype's report carries (see `run_scanners`).
    """
    return scan_target(request, exploit=exploit)[1]


def scan_target(
    request: ScanRequest, *, exploit: list[MatchExploitData] | None = None
) -> tuple[ImageTarget, ScanReport]:
    """`scan`, with the resolved image: where it was read from, and its size as the source says."""
    # Imported here, not at the top: the engine SDK and the registry client take a few tenths of
    # a second to import, which `check`, `policy validate` and `--help` should not pay.
    from gate.image.layers import attribute_layers
    from gate.image.resolve import resolve_image

    target = resolve_image(
        request.reference,
        platform=request.platform,
        base_image=request.base_image,
        dockerfile=request.dockerfile,
        build_args=dict(request.build_args),
        base_may_have_moved=request.check_base is not BaseCheckMode.OFF,
        environ=request.options.env,
        wording=request.options.wording,
        ca_file=request.options.registry_ca_file,
    )
    report = run_scanners(target, request.scanner, request.options, exploit=exploit)
    report = replace(report, warnings=target.warnings + report.warnings)
    return target, attribute_layers(report, target.info)


def run_scanners(
    target: ImageTarget,
    choice: ScannerChoice,
    options: ScanOptions,
    *,
    exploit: list[MatchExploitData] | None = None,
) -> ScanReport:
    """Scans `target` with the chosen scanners; with both, runs them at once and merges the reports.

    Where the two disagree on a severity, a fix or a status, the worst case stands (see
    `gate.merge.combine`); each finding's `scanners` says who reported it and its `assessments`
    what each said. `exploit`, when given, receives the KEV and EPSS data of Grype's report (its
    `knownExploited` and `epss`, Grype 0.88 and later); Trivy's has none.
    """
    # Imported here for the reason `scan` gives: the runners import the image subsystem.
    from gate.scanners.grype_runner import GRYPE
    from gate.scanners.interface import run_scanner
    from gate.scanners.trivy_runner import TRIVY

    if choice is ScannerChoice.GRYPE:
        return run_scanner(GRYPE, target, options, exploit=exploit)
    with _for_trivy(target) as trivy_target:
        if choice is ScannerChoice.TRIVY:
            return run_scanner(TRIVY, trivy_target, options)
        with (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="scanner") as pool,
            stopped_when_interrupted(),
        ):
            trivy = pool.submit(run_scanner, TRIVY, trivy_target, options)
            grype = pool.submit(run_scanner, GRYPE, target, options, exploit=exploit)
            # Both are awaited before either error is raised, so no scanner is left running.
            trivy_error, grype_error = trivy.exception(), grype.exception()
    if trivy_error is not None:
        raise trivy_error
    if grype_error is not None:
        raise grype_error
    return merge_reports([trivy.result(), grype.result()])


@contextlib.contextmanager
def _for_trivy(target: ImageTarget) -> Iterator[ImageTarget]:
    """The target as Trivy scans it: an OCI archive's image unpacked alone into a private
    directory for the scan (Trivy opens OCI layouts only as directories); any other unchanged."""
    if target.kind is not SourceKind.OCI_ARCHIVE or target.archive_path is None or not target.manifest_digest:
        yield target
        return
    from gate.image.oci_layout import oci_layout

    label = f"oci-archive:{target.archive_path}"
    with oci_layout(target.archive_path, target.manifest_digest, label) as layout:
        yield replace(target, layout_dir=layout)
