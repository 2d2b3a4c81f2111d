"""Several images scanned at once for `compare`, each one's failure kept as its own result.

Every item is an image to scan (any form `scan` takes) or a report a scanner already wrote. The
scans share one scanner DB cache: when the DB may be downloaded, images are scanned one at a time
until one scan succeeds (it fetched or refreshed the DB), and the rest then run `jobs` at a time
with that DB as it is, so concurrent scans never race to update one cache, and every image is
judged by the same advisories. Results keep the order of the items, whatever order the scans end in.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import GateError
from gate.image.base_image import BaseCheck
from gate.image.source import SourceKind
from gate.model import ScanReport
from gate.scanners._process import stopped_when_interrupted
from gate.scanners.ingest import load_report
from gate.scanners.options import DEFAULT_JOBS as DEFAULT_JOBS  # the command line reads them here too
from gate.scanners.options import BatchItem as BatchItem
from gate.scanners.options import ScannerChoice, ScanOptions
from gate.scanners.run import ScanRequest, scan_target

_COMPRESSED = (SourceKind.REGISTRY, SourceKind.OCI_ARCHIVE)
"""Sources whose manifest gives each layer's stored (compressed) size; the engine knows only
the unpacked size and a `docker save` tarball holds uncompressed layers."""


@dataclass(frozen=True)
class BatchResult:
    """What became of one item."""

    item: BatchItem
    """The item."""
    report: ScanReport | None = None
    """Its scan or its report read, unless that failed."""
    error: GateError | None = None
    """Why it could not be scanned or read."""
    compressed_size: int | None = None
    """The layers' stored size in bytes, from the image's manifest, when it has one."""
    exploit: tuple[MatchExploitData, ...] = ()
    """The KEV and EPSS data its Grype report carries (`knownExploited`, `epss`), match by match;
    empty for another scanner's report or a Grype report without them."""
    base_check: BaseCheck | None = None
    """The base image check a decision report read back keeps (`scan --check-base`), which the
    policy judges again as `check` does; None for any other item."""


class Progress(enum.Enum):
    """What a progress callback is told about an item."""

    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


ProgressCallback = Callable[[int, Progress], None]
"""Told (index of the item, what happened); called from the scanning threads."""


def scan_batch(
    items: Sequence[BatchItem],
    scanner: ScannerChoice,
    options: ScanOptions,
    *,
    platform: str | None = None,
    jobs: int = DEFAULT_JOBS,
    progress: ProgressCallback | None = None,
    max_report_size: int | None = None,
) -> tuple[BatchResult, ...]:
    """Scans or reads every item, `jobs` at a time; one result per item, in the items' order.
    A report file larger than `max_report_size` bytes is that item's error, not read."""
    tell = progress or (lambda _index, _what: None)
    results: list[BatchResult | None] = [None] * len(items)
    stopping = threading.Event()

    def run(index: int, opts: ScanOptions) -> BatchResult:
        if stopping.is_set():
            raise KeyboardInterrupt
        tell(index, Progress.STARTED)
        result = _one(items[index], scanner, opts, platform, max_report_size)
        tell(index, Progress.FAILED if result.error else Progress.DONE)
        return result

    images = [i for i, item in enumerate(items) if item.image is not None]
    for i, item in enumerate(items):
        if item.image is None:
            results[i] = run(i, options)
    queue = list(images)
    if not options.skip_db_update and not options.trivy_server:
        while queue:
            index = queue.pop(0)
            first = results[index] = run(index, options)
            if first.error is None:
                options = replace(options, skip_db_update=True)
                break
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="compare") as pool:
        futures = {index: pool.submit(run, index, options) for index in queue}
        with stopped_when_interrupted():
            try:
                wait(futures.values())
            except KeyboardInterrupt:
                # Nothing new starts; then the scanners still running are stopped.
                stopping.set()
                for future in futures.values():
                    future.cancel()
                raise
    for index, future in futures.items():
        results[index] = future.result()
    return tuple(r for r in results if r is not None)


def _one(
    item: BatchItem,
    scanner: ScannerChoice,
    options: ScanOptions,
    platform: str | None,
    max_report_size: int | None,
) -> BatchResult:
    exploit: list[MatchExploitData] = []
    base: list[BaseCheck] = []
    try:
        if item.report is not None:
            report = load_report(
                item.report,
                lenient_severity=options.lenient_severity,
                exploit=exploit,
                max_bytes=max_report_size,
                base=base,
            )
            check = base[0] if base else None
            return BatchResult(item, report=report, exploit=tuple(exploit), base_check=check)
        assert item.image is not None  # noqa: S101 - an item is an image or a report
        request = ScanRequest(item.image, scanner, options, platform=platform)
        target, report = scan_target(request, exploit=exploit)
    except GateError as exc:
        return BatchResult(item, error=exc)
    size = target.info.size if target.kind in _COMPRESSED else None
    return BatchResult(item, report=report, compressed_size=size, exploit=tuple(exploit))
