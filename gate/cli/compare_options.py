"""The `compare` command's arguments, and the `CompareRequest` they make."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gate._input_file import STANDARD_INPUT, reads_standard_input
from gate.cli.scan_options import (
    GivenOnce,
    add_platform_argument,
    add_scanner_arguments,
    output_path,
    refuse_too_long,
    scan_options,
)
from gate.scanners.options import (
    DEFAULT_JOBS,
    DEFAULT_MAX_DB_AGE,
    DEFAULT_TIMEOUT,
    BatchItem,
    ScannerChoice,
    ScanOptions,
)

MAX_JOBS = 64
"""The most scans `--jobs` runs at once."""


@dataclass(frozen=True)
class CompareRequest:
    """What `compare` was asked to do."""

    items: tuple[BatchItem, ...]
    """The images and reports, in the order given."""
    scanner: ScannerChoice
    """Which scanners run on the images."""
    options: ScanOptions
    """How they run (DB, timeout, binaries, environment, clock)."""
    platform: str | None = None
    """`--platform`: the platform of every multi-platform image."""
    jobs: int = DEFAULT_JOBS
    """`--jobs`: scans at a time."""
    json: str | None = None
    """`--json PATH`: the `container-gate/compare/v1` document."""
    markdown: str | None = None
    """`--markdown PATH`: the table as Markdown."""
    vex: tuple[Path, ...] = ()
    """`--vex FILE`, each time given: statements that apply to every image."""
    max_report_size: int | None = None
    """`--max-report-size`: the largest `NAME=REPORT.json` file read, in bytes (None: any)."""


def compare_ref(text: str) -> BatchItem:
    """`NAME=REPORT.json` (a report a scanner already wrote), else an image reference.

    Image references never hold `=`; archive paths may, so `docker-archive:`/`oci-archive:` are
    always images.
    """
    if "=" not in text or text.startswith(("docker-archive:", "oci-archive:")):
        if not text.strip():
            raise argparse.ArgumentTypeError("expected an image reference or NAME=REPORT.json, got ''")
        return BatchItem(name=text, image=text)
    name, _, path = text.partition("=")
    if not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=REPORT.json (a name for the row, then a scanner's JSON report), got {text!r}"
        )
    if path == "-":
        return BatchItem(name=name, report=STANDARD_INPUT)  # as `check -` reads it
    refuse_too_long(path)
    return BatchItem(name=name, report=Path(path))


def unused_platform(request: CompareRequest) -> str | None:
    """A warning when `--platform` is given beside reports: a report is read as its scanner wrote
    it, for whichever platform that was, so the option is not used for those rows."""
    reports = [item.name for item in request.items if item.report is not None]
    if request.platform is None or not reports:
        return None
    rows = ", ".join(reports[:3]) + (f" and {len(reports) - 3} more" if len(reports) > 3 else "")
    return f"--platform is for the images compare scans, not the reports it reads ({rows}): not used for them"


def unused_scan_options(request: CompareRequest) -> str | None:
    """A warning when scanner or DB options are given and every row is a report: no scanner runs,
    so they are not used (an option left at its default cannot be told from one not given)."""
    if any(item.image is not None for item in request.items):
        return None
    options = request.options
    given = [
        flag
        for flag, set_ in (
            ("--scanner", request.scanner is not ScannerChoice.TRIVY),
            ("--cache-dir", options.cache_dir is not None),
            ("--skip-db-update", options.skip_db_update),
            ("--db-repository", bool(options.db_repositories)),
            ("--trivy-server", options.trivy_server is not None),
            ("--grype-db-url", options.grype_db_url is not None),
            ("--scan-timeout", options.timeout != DEFAULT_TIMEOUT),
            ("--max-db-age", options.max_db_age != DEFAULT_MAX_DB_AGE),
            ("--max-db-age-strict", options.max_db_age_strict),
            ("--trivy-bin", options.trivy_bin is not None),
            ("--grype-bin", options.grype_bin is not None),
            ("--jobs", request.jobs != DEFAULT_JOBS),
        )
        if set_
    ]
    if not given:
        return None
    verb = "is" if len(given) == 1 else "are"
    return (
        f"{', '.join(given)} {verb} for the images compare scans, and every row is a report it reads "
        "(NAME=REPORT.json): not used"
    )


def repeated_row(args: argparse.Namespace) -> str | None:
    """Why `compare`'s rows could not be told apart or read, or None: two of them with one name,
    or two reading standard input (a pipe is read once)."""
    seen: set[str] = set()
    piped = [
        item.name
        for item in getattr(args, "refs", None) or ()
        if item.report is not None and reads_standard_input(item.report)
    ]
    if len(piped) > 1:
        return (
            f"standard input holds one report, and rows {piped[0]!r} and {piped[1]!r} both read it "
            "(NAME=-): give the others their files"
        )
    for item in getattr(args, "refs", None) or ():
        if item.name in seen:
            return (
                f"two rows are named {item.name!r}: give each image or report once, and each "
                "NAME=REPORT.json a name of its own"
            )
        seen.add(item.name)
    return None


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_JOBS}, got {text!r}")
    return value


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    """The `compare` command's references, scan options and outputs."""
    parser.add_argument(
        "refs",
        nargs="+",
        metavar="REF",
        type=compare_ref,
        help="an image, in any form scan takes (name:tag, docker://REF, docker-daemon:REF, "
        "docker-archive:PATH, oci-archive:PATH), or NAME=REPORT.json: a Trivy, Grype or Snyk report "
        "already written, or the gate's own decision report (--json), shown as NAME (NAME ends at "
        "the first =); NAME=- reads it from standard input",
    )
    images = parser.add_argument_group("images")
    add_platform_argument(images, "; not used for NAME=REPORT.json: a report is read as it was written")
    images.add_argument(
        "--jobs",
        metavar="N",
        type=_jobs,
        default=DEFAULT_JOBS,
        help=f"images scanned at once (1 to {MAX_JOBS}), sharing one DB cache (default: {DEFAULT_JOBS})",
    )
    add_scanner_arguments(parser)


def add_compare_outputs(parser: argparse.ArgumentParser) -> None:
    """`compare`'s output files."""
    outputs = parser.add_argument_group(
        "output files (the table is printed either way; a PATH of - is standard output, and the table "
        "then goes to standard error)"
    )
    outputs.add_argument(
        "--json",
        metavar="PATH",
        type=output_path,
        action=GivenOnce,
        help="the comparison as JSON (container-gate/compare/v1)",
    )
    outputs.add_argument(
        "--markdown",
        metavar="PATH",
        type=output_path,
        action=GivenOnce,
        help="the comparison as a Markdown table",
    )


def compare_request(args: argparse.Namespace, env: Mapping[str, str], now: dt.datetime) -> CompareRequest:
    """The request for parsed `compare` arguments, the process environment and the current time."""
    return CompareRequest(
        items=tuple(args.refs),
        scanner=ScannerChoice(args.scanner),
        options=scan_options(args, env, now),
        platform=args.platform,
        jobs=args.jobs,
        json=args.json,
        markdown=args.markdown,
        vex=tuple(args.vex),
        max_report_size=args.max_report_size,
    )
