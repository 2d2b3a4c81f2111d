"""`container-gate compare`: several images under one policy, one row each.

Compare informs, it does not gate: the exit code is 0 whatever the verdicts, and 3 when any image
could not be scanned or read (its row says why; the others are still compared). A VEX, KEV or
EPSS file that cannot be read, and an output file that cannot be written, are exit 2, as for the
other commands.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gate._input_file import STANDARD_INPUT
from gate.cli.compare_options import CompareRequest, unused_platform, unused_scan_options
from gate.cli.enrichment import read_vex_files
from gate.cli.exploit import load_exploit_files, with_grype_data
from gate.cli.options import PROG
from gate.cli.outputs import (
    STDOUT,
    print_report_text,
    show_notices,
    summary_width,
    terminal_columns,
    watched,
    write_text,
)
from gate.cli.progress import TerminalProgress
from gate.cli.run_by import registry_ca_file
from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import ExitCode, GateError
from gate.policy.advice import with_policy_warnings
from gate.policy.evaluate import evaluate
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import Policy
from gate.render.compare import (
    ComparedImage,
    render_compare_json,
    render_compare_markdown,
    render_compare_terminal,
)
from gate.render.terminal import MIN_WIDTH
from gate.scanners.batch import scan_batch
from gate.untrusted import terminal_safe


def run_compare(
    request: CompareRequest,
    policy: Policy,
    now: dt.datetime,
    *,
    exploit_files: tuple[Path | None, Path | None] = (None, None),
) -> ExitCode:
    """Scans or reads every image, evaluates each under `policy` as of `now`, and shows the table.

    `exploit_files` are the command line's KEV and EPSS files (either may be None, and then the
    policy's `exploit_data` file of that kind is read): read once, after the scans, keeping the
    CVEs of every image's findings. An image scanned or read from a Grype report also
    has that report's own `knownExploited` and `epss`, used for each kind no file gives."""
    # Read before the scans: a VEX file that is no VEX document fails in a moment (exit 2).
    statements = read_vex_files(request.vex, policy)
    show_notices(filter(None, [unused_platform(request), unused_scan_options(request)]))
    names = [item.name for item in request.items]
    piped = any(item.report == STANDARD_INPUT for item in request.items)
    if piped and sys.stdin is not None and sys.stdin.isatty():
        # Nothing is piped in: without a word, the run would seem to hang (as for `check -`). A
        # closed standard input (`<&-`) is no stream at all: reading it says so.
        print(f"{PROG}: reading the report from standard input (end with Ctrl-D)...", file=sys.stderr)
    # Progress is for a person at a terminal; a CI log or a redirected stream gets only the table.
    progress = TerminalProgress(names, sys.stderr) if watched() else None
    with progress or contextlib.nullcontext():
        results = scan_batch(
            request.items,
            request.scanner,
            replace(request.options, registry_ca_file=registry_ca_file()),
            platform=request.platform,
            jobs=request.jobs,
            progress=progress,
            max_report_size=request.max_report_size,
        )
    kev, epss = exploit_files
    reports = [result.report for result in results if result.report is not None]
    exploit = load_exploit_files(kev, epss, policy, (f for report in reports for f in report.findings))
    inputs = EvaluationInputs(vex=statements, exploit=exploit)
    images = [
        ComparedImage(
            reference=result.item.name,
            evaluation=(
                evaluate(
                    # The policy's own warnings, as check says them of each image's report.
                    with_policy_warnings(result.report, policy),
                    policy,
                    now,
                    replace(with_grype(inputs, result.exploit), base_check=result.base_check),
                )
                if result.report is not None
                else None
            ),
            size_bytes=result.compressed_size,
            error=result.error.diagnostics() if result.error is not None else None,
        )
        for result in results
    ]
    failures: list[GateError] = []
    for path, render in ((request.json, render_compare_json), (request.markdown, render_compare_markdown)):
        if path is None:
            continue
        try:
            write_text(path, render(images, policy.source, policy.mode))
        except GateError as exc:
            failures.append(exc)
    # With an output on standard output (`--json -`), the table goes to standard error.
    stream = sys.stderr if STDOUT in (request.json, request.markdown) else None
    # On a terminal the table fits its width; a CI log, a file or a pipe gets every column. The
    # whole width: the summary's upper bound (`summary_width`) is for prose, and a table cut to
    # it would leave out columns a wider terminal has room for.
    shown_on = stream or sys.stdout
    width = None
    if shown_on.isatty():
        columns = terminal_columns(shown_on)
        width = max(columns, MIN_WIDTH) if columns is not None else summary_width(shown_on)
    print_report_text(render_compare_terminal(images, policy.source, width, policy.mode), stream)
    for failure in failures:
        print(f"{PROG}: error: {terminal_safe(failure.diagnostics())}", file=sys.stderr)
    if failures:
        return ExitCode.USAGE
    return ExitCode.ERROR if any(image.error is not None for image in images) else ExitCode.PASS


def with_grype(inputs: EvaluationInputs, grype: Sequence[MatchExploitData]) -> EvaluationInputs:
    """One image's inputs: the run's, with the KEV and EPSS data its Grype report carries for each
    kind no file gives."""
    return replace(inputs, exploit=with_grype_data(inputs.exploit, grype)) if grype else inputs
