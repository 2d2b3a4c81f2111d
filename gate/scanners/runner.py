"""Running the scanners the user chose on one image.

`run_scanners` runs Trivy, Grype or both on an `ImageTarget` and returns one `ScanReport`; with
both, the reports are merged (`gate.reports.merge_reports`) and each finding names the scanners
that reported it (`Finding.scanners`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from gate.image.resolve import ImageTarget
from gate.model import ScanReport
from gate.reports import merge_reports
from gate.scanners._process import stopped_when_interrupted
from gate.scanners.grype_runner import run_grype
from gate.scanners.options import ScannerChoice, ScanOptions
from gate.scanners.trivy_runner import run_trivy


def run_scanners(target: ImageTarget, choice: ScannerChoice, options: ScanOptions) -> ScanReport:
    """Scans `target` with the chosen scanners; with both, runs them at once and merges the reports.

    Trivy's report comes first in a merge, so where the two disagree on a field (severity, for
    one) Trivy's judgment stands; each finding's `scanners` says who reported it.
    """
    if choice is ScannerChoice.TRIVY:
        return run_trivy(target, options)
    if choice is ScannerChoice.GRYPE:
        return run_grype(target, options)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="scanner") as pool, stopped_when_interrupted():
        trivy = pool.submit(run_trivy, target, options)
        grype = pool.submit(run_grype, target, options)
        # Both are awaited before either error is raised, so no scanner is left running.
        trivy_error, grype_error = trivy.exception(), grype.exception()
    if trivy_error is not None:
        raise trivy_error
    if grype_error is not None:
        raise grype_error
    return merge_reports([trivy.result(), grype.result()])
