"""A baseline and VEX in, OpenVEX out: the files of `--baseline`, `--vex`, the policy's `vex:` and
`--openvex`, read and written at the boundary so that evaluation stays pure.

A baseline that cannot be read is never a silent pass: the run says so in every output (a
warning on the report) and the full policy applies; with `--baseline-required` it is exit 2. A VEX
file that cannot be read or is no VEX document is always exit 2: its statements would change
dispositions, and a gate that cannot read them cannot decide.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gate.cli.options import PROG, Command, Options
from gate.cli.outputs import STDOUT, remove_earlier_output, write_text
from gate.cli.policy_files import named_by
from gate.cli.run_by import run_wording
from gate.cli.wording import in_run_words
from gate.enrich.vex_model import VexStatement
from gate.errors import GateError, ReportError, UsageError
from gate.model import ScanReport
from gate.policy.evaluation import Evaluation
from gate.policy.model import Policy
from gate.untrusted import terminal_safe

if TYPE_CHECKING:
    from gate.enrich.baseline import Baseline

# The readers of baseline and VEX files are imported by the runs that give such a file: the VEX
# formats' readers alone are a few percent of every other run's start-up.


def read_baseline(options: Options) -> tuple[Baseline | None, str | None]:
    """The baseline asked for, or (None, the warning every output carries) when it cannot be read.
    Raises `ReportError` (exit 2) instead under `--baseline-required`."""
    path = options.enrichment.baseline
    if path is None:
        if options.enrichment.baseline_required:
            raise UsageError("--baseline-required needs --baseline FILE")
        return None, None
    from gate.enrich.baseline import BASELINE_NOT_USED
    from gate.scanners.baseline_file import load_baseline

    try:
        # The bound of a report: `scan` has no --max-report-size, and keeps its default.
        hint = None if options.command is Command.SCAN else "raise --max-report-size to read it"
        baseline = load_baseline(path, max_bytes=options.max_report_size, too_large_hint=hint)
        return replace(baseline, branch=options.enrichment.baseline_branch), None
    except ReportError as exc:
        if options.enrichment.baseline_required:
            raise ReportError(
                f"{exc.diagnostics()} (--baseline-required: no verdict without the baseline)"
            ) from None
        # A warning, not an error: put into the run's words here, as main() does for errors.
        return None, BASELINE_NOT_USED + in_run_words(exc.diagnostics())


def read_vex(options: Options, policy: Policy) -> tuple[VexStatement, ...]:
    """Every statement of `--vex` (in the order given), then of the policy's `vex:`."""
    return read_vex_files(options.enrichment.vex, policy)


def read_vex_files(given: Sequence[Path], policy: Policy) -> tuple[VexStatement, ...]:
    """Every statement of the `given` VEX files (in order), then of the policy's `vex:`.

    A file named more than once (the same file once its path is resolved: `--vex a.json` twice,
    or on the command line and in the policy) is read once, where it is first named: its
    statements counted twice would be listed twice in `rules` and counted twice as used. Naming
    the policy's file on the command line too is a common set-up, so it is no warning."""
    if not (given or policy.vex):
        return ()
    from gate.enrich.vex import load_vex

    seen: set[str] = set()

    def first_time(path: Path) -> bool:
        # realpath, not Path.resolve: a symlink loop is left for the reading to report.
        key = os.path.realpath(path)
        if key in seen:
            return False
        seen.add(key)
        return True

    statements: list[VexStatement] = []
    for path in given:
        if first_time(path):
            statements += load_vex(path)
    with named_by(policy, "vex"):
        for path in policy.vex:
            if first_time(path):
                statements += load_vex(path)
    return tuple(statements)


def with_warning(report: ScanReport, warning: str | None, *, of_the_run: bool = False) -> ScanReport:
    """The report with one more warning, which every output shows. `of_the_run`: the warning is
    about the run's own inputs (a baseline, an option), not about what the reports said, so a
    run that reads the decision report back does not take it for one of the reports' own."""
    if warning is None:
        return report
    run_warnings = (*report.run_warnings, warning) if of_the_run else report.run_warnings
    return replace(report, warnings=(*report.warnings, warning), run_warnings=run_warnings)


def write_openvex(evaluation: Evaluation, options: Options, notices: list[str]) -> GateError | None:
    """Write `--openvex PATH`; the failure to write it, if any (a usage error, exit 2). What the
    written file cannot do is added to `notices`, shown after the summary."""
    path = options.enrichment.openvex
    if path is None:
        return None
    from gate.enrich.purls import oci_purl
    from gate.render.openvex import image_products, render_openvex_decisions  # only runs that ask for it

    text = render_openvex_decisions(evaluation)
    if text is None:
        try:
            removed = " (the earlier file there is removed)" if remove_earlier_output(path) else ""
        except GateError as exc:
            return exc
        where = "standard output" if path == STDOUT else terminal_safe(path)
        print(
            f"{PROG}: warning: {where} not written{removed}: no allowlist entry or VEX "
            "statement decided a finding with a package URL, and an OpenVEX document needs one statement",
            file=sys.stderr,
        )
        return None
    try:
        write_text(path, text)
    except GateError as exc:
        return exc
    image = evaluation.report.image
    if image is not None and oci_purl(image) is None:
        # Trivy names the image it scans by its pkg:oci purl, which needs a registry digest, and
        # Grype by its repository digests and tags: an image ID or an archive path is neither.
        where = "standard output" if path == STDOUT else path
        why = (
            "the image has no registry digest (an archive, or an image not pushed)"
            if image.digest is None
            else "the image's reference names no registry repository"
        )
        notices.append(
            f"{where}: {why}, so its statements name it by {', '.join(image_products(image))}: "
            f"container-gate matches them when given them back with {run_wording().option('vex')}, but "
            "Trivy and Grype --vex match an image by its registry digest (Grype also by a tag), not "
            "by an image ID or an archive path"
        )
    return None
