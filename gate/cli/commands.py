"""Each command, from typed options to an exit code: `check`, `scan`, `compare`, `policy validate`,
`explain`, `completion` and `data fetch` (in `gate.cli.data_fetch`).

This is where the clock is read (`--as-of`, else now) and the policy and reports are loaded;
`evaluate` itself stays pure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gate._input_file import STANDARD_INPUT
from gate.cli.enrichment import read_baseline, read_vex, with_warning, write_openvex
from gate.cli.exploit import read_exploit_data
from gate.cli.options import DEFAULT_MAX_REPORT_SIZE, PROG, Command, Options, OutputFormat
from gate.cli.outputs import (
    STDOUT,
    check_publishing,
    policy_file_clash,
    print_report_text,
    publish,
    show_notices,
    summary_width,
    watched,
    write_outputs,
)
from gate.cli.policy_files import named_by, standard_input_clash
from gate.cli.run_by import registry_ca_file, run_wording
from gate.cli.scan_options import names_a_file, with_variable_build_args
from gate.cli.wording import report_warnings_in_run_words
from gate.enrich.grype_exploit import MatchExploitData
from gate.errors import ExitCode, GateError, ImageError, UsageError
from gate.image.base_image import BaseCheck
from gate.merge import another_image, merge_reports
from gate.model import ImageInfo, ScanReport
from gate.policy.advice import entry_named, with_policy_warnings
from gate.policy.advice_run import far_expiry_warnings
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.inputs import EvaluationInputs
from gate.policy.load import load_default_policy, load_policy, validate_policy_file
from gate.policy.model import Mode, OnStale, Policy
from gate.render.terminal import CommandPart, render_terminal
from gate.run_wording import COMMAND_LINE_WORDS, RunWording
from gate.scanners.ingest import load_report
from gate.untrusted import terminal_safe

if TYPE_CHECKING:
    from gate.enrich.vex_model import VexStatement


def read_policy(options: Options) -> Policy:
    """The policy the command line asks for, with --advisory applied; an output that is one of
    the files it names is refused before anything is written."""
    path = options.policy.path
    policy = load_policy(path) if path is not None else _default_beside(load_default_policy(), run_wording())
    policy_file_clash(options, policy)
    standard_input_clash(options, policy)
    if options.policy.advisory and policy.mode is not Mode.ADVISORY:
        policy = replace(policy, mode=Mode.ADVISORY)
    return _revived_by_as_of(policy, options)


def _revived_by_as_of(policy: Policy, options: Options) -> Policy:
    """The policy, warning of each allowlist entry that has expired by the day of the run but not
    by an earlier `--as-of`: it still applies in this run, and without a word the outputs would
    show its findings allowlisted as if the entry were current. `--as-of` is for looking ahead."""
    as_of = options.policy.as_of
    if as_of is None:
        return policy
    today = options.started_at.astimezone(dt.UTC).date()
    day = as_of.astimezone(dt.UTC).date()
    revived = [e for e in policy.allowlist if e.expires is not None and day <= e.expires < today]
    if not revived:
        return policy
    warnings = tuple(
        f"{policy.source}: {entry_named(entry)} expired on "
        f"{entry.expires}, yet applies in this run: --as-of {day} is before today ({today}, UTC); "
        "without --as-of it allowlists nothing"
        for entry in revived
    )
    return replace(policy, warnings=(*policy.warnings, *warnings))


POLICY_NAMES = (".container-gate.yaml", ".container-gate.yml", "container-gate.yaml")
"""The names the docs give a policy file: a run without --policy reads none of them. Not
`container-gate.yml`: the GitLab CI template's name, a file a repository may hold for that."""


def _default_beside(policy: Policy, wording: RunWording) -> Policy:
    """The shipped default, warning of a policy file in the working directory: the gate looks
    for none (the same verdict wherever it runs), and one written and left there would otherwise
    be taken for the policy that decided, its exceptions silently unused."""
    here = [name for name in POLICY_NAMES if Path(name).is_file()]
    if not here:
        return policy
    said = " and ".join(here)
    warning = f"{said} {'is' if len(here) == 1 else 'are'} in the working directory but not read: {_how_to_give(here[0], wording)}"
    return replace(policy, warnings=(*policy.warnings, warning))


def _how_to_give(name: str, wording: RunWording) -> str:
    """How the user of this run gives the policy file `name`: the GitHub Action's and the GitLab
    CI templates' users set an input or a variable, never --policy."""
    if wording.inputs is None:
        return f"without --policy the shipped default applies (give it with --policy {name})"
    return f"without {wording.option('policy')} the shipped default applies (set it to {name})"


def evaluation_time(options: Options) -> dt.datetime:
    """`--as-of`, or now: the one clock read of a run."""
    as_of = options.policy.as_of
    return as_of if as_of is not None else dt.datetime.now(dt.UTC)


def with_image_name(report: ScanReport, options: Options, policy: Policy) -> ScanReport:
    """Apply `--image-name` to a report, and carry the policy's warnings into it
    (`with_policy_warnings`)."""
    report = with_policy_warnings(report, policy)
    name = options.policy.image_name
    if not name:
        return report
    image = replace(report.image, reference=name) if report.image else ImageInfo(reference=name)
    return replace(report, image=image)


def finish(evaluation: Evaluation, options: Options) -> ExitCode:
    """Write outputs, publish, print the summary, and return the exit code for the verdict.

    An output that cannot be written makes the run exit 2 (never a pass), but the verdict is
    known: the other outputs, the platform and the terminal still get it.
    """
    failures, notices = write_outputs(evaluation, options)
    openvex_failure = write_openvex(evaluation, options, notices)
    if openvex_failure is not None:
        failures.append(openvex_failure)
    platform_failure: GateError | None = None
    try:
        publish(evaluation, options, failures[0] if failures else None)
    except GateError as exc:
        platform_failure = exc
    json_path = options.outputs.files.get(OutputFormat.JSON)
    # With an output on standard output (`--json -`, `--openvex -`), the summary goes to standard error.
    on_stdout = (*options.outputs.files.values(), options.enrichment.openvex)
    stream = sys.stderr if STDOUT in on_stdout else None
    summary = render_terminal(
        evaluation,
        "the JSON report on standard output" if json_path == STDOUT else json_path,
        run_wording().json_report,
        summary_width(stream or sys.stdout),
        explain=explain_command(options),
    )
    print_report_text(summary.splitlines()[0] + "\n" if options.outputs.quiet else summary, stream)
    show_notices(notices)
    for failure in [*failures, *([platform_failure] if platform_failure else [])]:
        print(f"{PROG}: error: {terminal_safe(failure.diagnostics())}", file=sys.stderr)
    if platform_failure is not None:
        return platform_failure.exit_code
    if failures:
        return ExitCode.USAGE
    return ExitCode.PASS if evaluation.passed else ExitCode.FAIL


def explain_command(options: Options) -> list[CommandPart] | None:
    """`container-gate explain ID --report trivy.json --policy policy.yaml`: the command that says
    why one of this run's findings blocks, with the run's report (a scan's: its --json file) and
    every input that decides as it did; None when no report can be read again (standard input, a
    scan without --json) or the run is not on a command line (a CI job's user types no command
    there, and its paths are the job's)."""
    import shlex  # only for a summary with findings that block

    if run_wording() is not COMMAND_LINE_WORDS:
        return None
    if options.command is Command.CHECK:
        reports = [str(path) for path in options.reports if path != STANDARD_INPUT]
    else:
        json_path = options.outputs.files.get(OutputFormat.JSON)
        reports = [json_path] if json_path and json_path != STDOUT else []
    if not reports:
        return None
    as_of = options.policy.as_of
    given = [
        *(("--report", report, "REPORT") for report in reports),
        ("--policy", options.policy.path, "FILE"),
        ("--as-of", as_of and as_of.date().isoformat(), "DATE"),
        ("--image-name", options.policy.image_name, "REF"),
        ("--baseline", options.enrichment.baseline, "FILE"),
        *(("--vex", path, "FILE") for path in options.enrichment.vex),
        ("--kev", options.exploit.kev, "FILE"),
        ("--epss", options.exploit.epss, "FILE"),
        # A limit raised for a large report is needed to read it again.
        (
            "--max-report-size",
            size if (size := options.max_report_size) != DEFAULT_MAX_REPORT_SIZE else None,
            "SIZE",
        ),
    ]
    parts = [CommandPart(f"{PROG} explain ID", f"{PROG} explain ID")]
    for option, value, stand_in in given:
        if not value:
            continue
        text = str(value)
        if terminal_safe(text) != text:
            # A newline, a tab, an escape or a bidi control is shown as something else (a blank,
            # `\x1b`), which names another file, or none: the stand-in says what goes there.
            parts.append(CommandPart(f"{option} {stand_in}", f"{option} {stand_in}"))
            continue
        # After a blank, a value that starts with `-` is read as an option (`--report -x.json`:
        # "expected one argument"); joined by `=`, it is the option's value.
        joint = "=" if text.startswith("-") else " "
        parts.append(CommandPart(f"{option}{joint}{shlex.quote(text)}", f"{option} {stand_in}"))
    if options.policy.advisory:
        parts.append(CommandPart("--advisory", "--advisory"))
    return parts


def cmd_check(options: Options) -> ExitCode:
    """`container-gate check`."""
    check_publishing(options)
    return finish(_evaluate_reports(options), options)


def _evaluate_reports(options: Options) -> Evaluation:
    """The reports of `check` and `explain`, read and judged with every input the run names."""
    policy = read_policy(options)
    if STANDARD_INPUT in options.reports and sys.stdin is not None and sys.stdin.isatty():
        # Nothing is piped in: without a word, the run would seem to hang. A closed standard
        # input (`<&-`) is no stream at all: reading it says so.
        print(f"{PROG}: reading the report from standard input (end with Ctrl-D)...", file=sys.stderr)
    grype: list[MatchExploitData] = []
    # A decision report read back keeps its run's base image check: judged again under this
    # policy, it plans and says what that run did (the first one, of several such reports).
    base: list[BaseCheck] = []
    with _reading_progress(options):
        reports = [
            load_report(
                path,
                lenient_severity=policy.lenient_severity,
                exploit=grype,
                max_bytes=options.max_report_size,
                base=base,
            )
            for path in options.reports
        ]
    report = with_warning(merge_reports(reports), another_image(reports))
    report = replace(report, warnings=report_warnings_in_run_words(report.warnings))
    report = with_image_name(report, options, policy)
    baseline, baseline_warning = read_baseline(options)
    vex = read_vex(options, policy)
    report = with_warning(report, baseline_warning, of_the_run=True)
    exploit = read_exploit_data(options.exploit.kev, options.exploit.epss, policy, report.findings, grype)
    inputs = EvaluationInputs(
        base_check=base[0] if base else None,
        baseline=baseline,
        vex=vex,
        exploit=exploit,
        wording=run_wording(),
    )
    return evaluate(report, policy, evaluation_time(options), inputs)


LARGE_REPORTS = 10_000_000
"""Bytes of reports from which reading them takes a second or more (docs/performance.md: about
3 s for 35 MB): `check` says on a terminal that it is reading them."""


def _reading_progress(options: Options) -> contextlib.AbstractContextManager[None]:
    """ "reading report.json (4 s)" on standard error while large reports are read, when it is a
    terminal and --quiet is not given; nothing otherwise."""
    if not watched(quiet=options.outputs.quiet):
        return contextlib.nullcontext()
    files = [path for path in options.reports if path != STANDARD_INPUT]
    try:
        size = sum(path.stat().st_size for path in files)
    except OSError:  # reading it says what is wrong
        return contextlib.nullcontext()
    if size < LARGE_REPORTS:
        return contextlib.nullcontext()
    from gate.cli.progress import scanning

    names = ", ".join(path.name for path in files)
    return scanning(names, sys.stderr, doing="reading", said_when_done=False)


def cmd_scan(options: Options) -> ExitCode:
    """`container-gate scan`."""
    assert options.scan is not None  # noqa: S101 - options_from makes one for `scan`
    for what, given in (("IMAGE", options.scan.reference), ("--base-image", options.scan.base_image)):
        if given is not None and not given.strip():
            # Most often a CI variable that expanded to nothing (`scan "$IMAGE"`).
            raise UsageError(
                f"{what} is empty: give an image reference, docker-archive:PATH or oci-archive:PATH "
                "(is the CI variable that should hold it set?)"
            )
        if given is not None and names_a_file(given):
            raise UsageError(
                f"{what} {given}: a file here, not an image reference: gate a scanner's report with "
                f"`container-gate check {given}`, scan an image archive as docker-archive:{given} or "
                f"oci-archive:{given}"
            )
    check_publishing(options)
    # The build arguments of CONTAINER_GATE_BUILD_ARGS, checked before anything is read.
    options = replace(options, scan=with_variable_build_args(options.scan))
    assert options.scan is not None  # noqa: S101 - as above
    # The policy is read first: a broken one fails in a moment, not after a long scan.
    policy = read_policy(options)
    # So are the baseline and the VEX files: a VEX file that is no VEX document fails before the scan.
    baseline, baseline_warning = read_baseline(options)
    vex = read_vex(options, policy)
    request = options.scan
    # A GitLab instance's own CA signs its registry's certificate as it does its API's.
    request = replace(request, options=replace(request.options, registry_ca_file=registry_ca_file()))
    if policy.lenient_severity:
        request = replace(request, options=replace(request.options, lenient_severity=True))
    # Imported here, as for `compare` and `data fetch`: image resolution, the scanners' processes
    # and the registry client are a third of the start-up that `check` would otherwise pay.
    from gate.cli.progress import scanning
    from gate.scanners.options import BaseCheckMode, unused_options
    from gate.scanners.run import scan

    grype: list[MatchExploitData] = []
    # A scan takes seconds to minutes (a first DB download, a pull): a person at a terminal sees
    # that it runs; a CI log or a redirected stream, and --quiet, get nothing more.
    shown = watched(quiet=options.outputs.quiet)
    with scanning(request.reference, sys.stderr) if shown else contextlib.nullcontext():
        report = scan(request, exploit=grype)
    base = None
    if request.check_base is not BaseCheckMode.OFF:
        # Imported here: the registry client is for scans that ask for the check.
        from gate.scanners.base_scan import check_base

        # The current base is scanned with the same options, the policy's lenient_severity included.
        # Its registry reads and that scan (a pull of the current base) take as long as the first.
        named = report.image.base_image if report.image is not None else None
        what = f"the base image {named}" if named else "the base image"
        with (
            scanning(what, sys.stderr, doing="checking", said_when_done=False)
            if shown
            else contextlib.nullcontext()
        ):
            report, base = check_base(report, request.scanner, request.options)
        required = request.check_base is BaseCheckMode.REQUIRED
        fails_stale = policy.base_image.on_stale is OnStale.FAIL and policy.mode is Mode.ENFORCE
        if not base.checked and not base.no_base and required and fails_stale:
            # The policy fails a stale base, and whether it is stale is unknown: no verdict. (An
            # image built FROM scratch has no base to be stale: its check's warning is enough.)
            raise ImageError(
                f"the base image check could not run, and the policy fails a stale base "
                f"(base_image.on_stale: fail): {base.reason}",
                hint=f"fix the cause, or {best_effort(request.options.wording)} to make it a warning",
            )
    report = with_warning(with_image_name(report, options, policy), baseline_warning, of_the_run=True)
    for unused in unused_options(request.scanner, request.options):
        report = with_warning(report, unused, of_the_run=True)
    exploit = read_exploit_data(options.exploit.kev, options.exploit.epss, policy, report.findings, grype)
    inputs = EvaluationInputs(
        base_check=base, baseline=baseline, vex=vex, exploit=exploit, wording=run_wording()
    )
    return finish(evaluate(report, policy, evaluation_time(options), inputs), options)


def best_effort(wording: RunWording) -> str:
    """The request to make a base image check that cannot run a warning, as the run's user
    sets `--check-base`."""
    if wording.inputs is None:
        return "pass --check-base=best-effort"
    return wording.setting("check-base", "best-effort")


def cmd_policy_validate(options: Options) -> ExitCode:
    """`container-gate policy validate`: every problem of every file, then one exit code."""
    bad = 0
    for path in options.policy_files:
        problems = validate_policy_file(path)
        policy = None if problems else load_policy(path)
        named_problems, named_warnings = _named_files(policy)
        problems = problems or named_problems
        for problem in problems:
            print(terminal_safe(problem))
        if problems or policy is None:
            bad += 1
            continue
        print(f"{terminal_safe(str(path))}: valid policy (version 1)")
        today = evaluation_time(options).date()
        expired = _expired_entries(policy, today)
        far = far_expiry_warnings(policy, today)
        for warning in (*policy.warnings, *named_warnings, *expired, *far):
            print(f"warning: {terminal_safe(warning)}")
    return ExitCode.USAGE if bad else ExitCode.PASS


def _expired_entries(policy: Policy, today: dt.date) -> list[str]:
    """The allowlist entries that no longer apply today: valid, but every run reports them, and
    under `fail_on_expired: true` each one fails the gate."""
    consequence = (
        "every run fails while it is in the file (fail_on_expired: true)"
        if policy.fail_on_expired
        else "it no longer allowlists anything"
    )
    return [
        f"{policy.source}: {entry_named(entry)}: expired on {entry.expires}: {consequence}"
        for entry in policy.allowlist
        if entry.is_expired(today)
    ]


def _named_files(policy: Policy | None) -> tuple[list[str], list[str]]:
    """What makes the files a valid policy names (`vex:`, `exploit_data:`) unusable, as every run
    with the policy would stop on them; and the warnings every run would give about them (a
    CycloneDX VEX document's BOM-Links into another BOM, which are not followed)."""
    if policy is None:
        return [], []
    from gate.enrich.load import load_exploit_data  # only policies that name files read them
    from gate.enrich.vex import load_vex
    from gate.policy.enrichment import unfollowed_warnings

    problems: list[str] = []
    statements: list[VexStatement] = []
    for vex in policy.vex:
        try:
            with named_by(policy, "vex"):
                statements += load_vex(vex)
        except GateError as exc:
            problems.append(exc.diagnostics())
    data = policy.exploit_data
    for key, kev, epss in (("kev", data.kev, None), ("epss", None, data.epss)):
        if kev is None and epss is None:
            continue
        try:
            with named_by(policy, f"exploit_data.{key}"):
                load_exploit_data(kev, epss, ())
        except GateError as exc:
            problems.append(exc.diagnostics())
    return problems, unfollowed_warnings(statements)


def cmd_explain(options: Options) -> ExitCode:
    """`container-gate explain`."""
    assert options.vulnerability is not None  # noqa: S101 - options_from takes it for `explain`
    if names_a_file(options.vulnerability):
        # `explain report.json --report CVE-...`: the arguments swapped, or the id left out.
        raise UsageError(
            f"VULN_ID {options.vulnerability}: a file here, not a vulnerability id: give the id first "
            f"and the report with --report (container-gate explain CVE-... --report {options.vulnerability})"
        )
    evaluation = _evaluate_reports(options)
    from gate.render.explain import explain  # see cmd_scan

    # Fitted to the terminal as check's summary is; a pipe, a file or a CI log gets its fixed width.
    text, found = explain(evaluation, options.vulnerability, summary_width(sys.stdout))
    print_report_text(text)
    return ExitCode.PASS if found else ExitCode.FAIL


def cmd_compare(options: Options) -> ExitCode:
    """`container-gate compare`."""
    assert options.compare is not None  # noqa: S101 - options_from makes one for `compare`
    for item in options.compare.items:
        if item.image is not None and names_a_file(item.image):
            raise UsageError(
                f"REF {item.image}: a file here, not an image reference: give a scanner's report as "
                f"NAME={item.image}, an image archive as docker-archive:{item.image} or "
                f"oci-archive:{item.image}"
            )
    # The policy is read first: a broken one fails in a moment, not after the scans.
    policy = read_policy(options)
    request = options.compare
    if policy.lenient_severity:
        request = replace(request, options=replace(request.options, lenient_severity=True))
    files = (options.exploit.kev, options.exploit.epss)
    from gate.cli.compare import run_compare  # see cmd_scan

    return run_compare(request, policy, evaluation_time(options), exploit_files=files)


def cmd_data_fetch(options: Options) -> ExitCode:
    """`container-gate data fetch`: the one command that downloads (see gate/cli/data_fetch.py)."""
    from gate.cli.data_fetch import cmd_data_fetch as fetch  # see cmd_scan

    return fetch(options)


def cmd_completion(options: Options) -> ExitCode:
    """`container-gate completion SHELL`: shtab writes it from the parser itself, so it never lags
    behind an option."""
    import shtab  # only this command needs it

    from gate.cli.parser import build_parser

    assert options.shell is not None  # noqa: S101 - options_from takes it for `completion`
    sys.stdout.write(shtab.complete(build_parser(), shell=options.shell))
    return ExitCode.PASS


COMMANDS: dict[Command, Callable[[Options], ExitCode]] = {
    Command.CHECK: cmd_check,
    Command.SCAN: cmd_scan,
    Command.POLICY_VALIDATE: cmd_policy_validate,
    Command.EXPLAIN: cmd_explain,
    Command.COMPARE: cmd_compare,
    Command.COMPLETION: cmd_completion,
    Command.DATA_FETCH: cmd_data_fetch,
}
"""What runs each command."""
