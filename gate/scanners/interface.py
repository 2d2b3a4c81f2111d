"""What a scanner the gate runs must provide, and the one skeleton every scan follows.

A `Scanner` knows its own binary, command line, environment, failure messages and report format;
`run_scanner` does the rest the same way for each: find the binary, ask for its version and DB
(beside the scan when that only reads the cache), run the scan in a clean directory with a
timeout, turn a non-zero exit into the scanner's own error, parse the output it printed (output
that is not a usable report is an error, never an empty pass), and record the version, the DB's
build time and the warnings. Every failure is a `GateError` with one line (exit 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import GateError
from gate.image.resolve import ImageTarget
from gate.model import ScanReport
from gate.scanners._process import Completed, parse_output, run, stopped_when_interrupted
from gate.scanners.options import ScanOptions


@dataclass(frozen=True)
class Readiness:
    """What a scanner said about itself before its scan's result is looked at."""

    version: str
    """Its version, already checked against the oldest the gate supports."""
    db: Mapping[str, Any] | None
    """What it says about its vulnerability DB in the cache; None when it has none."""


class Scanner(Protocol):
    """One scanner binary the gate runs on an image (`trivy_runner.TRIVY`, `grype_runner.GRYPE`)."""

    name: str
    """How messages name it: `Trivy`, `Grype`."""
    check_beside_scan: bool
    """True when the version and DB queries only read the cache, so they run beside the scan."""
    grace: float
    """Seconds past `--scan-timeout` before the run is killed, for a scanner that enforces the
    timeout itself and says so better than a kill can."""
    files: Mapping[str, str]
    """Files (name -> text) written into the scan's empty working directory: a configuration of
    the gate's own that its command line names, in place of the user's."""

    def binary(self, options: ScanOptions) -> Path:
        """The binary to run (a flag, a variable, PATH, or beside Python), or a ScannerError."""
        ...

    def readiness(self, binary: Path, options: ScanOptions) -> Readiness:
        """Its version (a ScannerError when it is too old) and its DB state."""
        ...

    def check_ready(self, ready: Readiness, options: ScanOptions) -> None:
        """Raises when the scan cannot be trusted whatever it prints (no DB and no download)."""
        ...

    def command(self, binary: Path, target: ImageTarget, options: ScanOptions) -> list[str]:
        """The full command line of the scan."""
        ...

    def environment(self, target: ImageTarget, options: ScanOptions) -> dict[str, str]:
        """The environment the scan runs in."""
        ...

    def failure(self, done: Completed, target: ImageTarget, options: ScanOptions) -> GateError:
        """The error for a scan that exited non-zero, from what it printed."""
        ...

    def parse(
        self, data: object, name: str, options: ScanOptions, exploit: list[MatchExploitData] | None
    ) -> ScanReport:
        """The report in the decoded JSON it printed (with the policy's `lenient_severity`);
        `exploit`, when given, receives the KEV and EPSS data the report carries, if its format has
        any (Grype's `knownExploited` and `epss`; see `gate.scanners.grype.parse_grype`)."""
        ...

    def db_state(
        self, binary: Path, data: object, report: ScanReport, ready: Readiness, options: ScanOptions
    ) -> tuple[str | None, tuple[str, ...]]:
        """When the DB the scan used was built (None when unknown), and the warnings about the run."""
        ...


def run_scanner(
    scanner: Scanner,
    target: ImageTarget,
    options: ScanOptions,
    *,
    exploit: list[MatchExploitData] | None = None,
) -> ScanReport:
    """Scans `target` with `scanner`; the report's scanner info carries the version and DB build time.

    `exploit`, when given, receives the KEV and EPSS data of the report the scanner printed (Grype's
    own fields), which the command line turns into the run's exploit data when no file is given."""
    binary = scanner.binary(options)
    argv = scanner.command(binary, target, options)
    env = scanner.environment(target, options)

    def scan() -> Completed:
        return run(
            argv,
            timeout=options.timeout,
            env=env,
            what=scanner.name,
            timeout_hint=f"raise {options.wording.option('scan-timeout')}",
            grace=scanner.grace,
            files=scanner.files,
        )

    if scanner.check_beside_scan:
        # A scanner too old for the gate fails its scan on the flags anyway, and an empty cache
        # fails it the same way as it does here: the queries' verdict is checked first.
        with (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix=scanner.name.lower()) as pool,
            stopped_when_interrupted(),
        ):
            asked = pool.submit(scanner.readiness, binary, options)
            scanned = pool.submit(scan)
            ready = asked.result()
            scanner.check_ready(ready, options)
            done = scanned.result()
    else:
        ready = scanner.readiness(binary, options)
        scanner.check_ready(ready, options)
        done = scan()
    if done.returncode != 0:
        raise scanner.failure(done, target, options)
    data, report = parse_output(
        scanner.name, done, target.reference, lambda out, name: scanner.parse(out, name, options, exploit)
    )
    built, warnings = scanner.db_state(binary, data, report, ready, options)
    info = replace(report.scanners[0], version=ready.version, db_updated_at=built, source=None)
    image = replace(report.image, reference=target.reference) if report.image else None
    return replace(
        report,
        scanners=(info,),
        image=image,
        sources=(target.reference,),
        warnings=report.warnings + warnings,
    )
