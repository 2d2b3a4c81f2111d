"""The command line: the only place that reads the clock, the environment and files.

Exit codes (docs/architecture.md): 0 pass, 1 fail, 2 usage / invalid policy / unreadable report,
3 scanner, image or platform error. An error never becomes a pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import secrets
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from gate import __version__
from gate._collector import collector_paused
from gate.errors import ExitCode, GateError, PolicyError, UsageError
from gate.explain import explain
from gate.merge import merge_reports
from gate.model import ImageInfo, ScanReport
from gate.platforms.interface import PublishContext
from gate.platforms.select import CI_CHOICES, select_publisher
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.load import load_default_policy, load_policy, validate_policy_file
from gate.policy.model import Mode, Policy
from gate.render.gitlab import GitLabReportOptions, render_gitlab, render_gitlab_error
from gate.render.json import render_error_json, render_json
from gate.render.junit import render_junit, render_junit_error
from gate.render.markdown import render_markdown, render_markdown_error
from gate.render.terminal import render_terminal
from gate.render.text import terminal_safe
from gate.scan import add_scan_arguments, scan_request
from gate.scanners.ingest import load_report
from gate.scanners.run import scan

PROG = "container-gate"

Renderer = Callable[[Evaluation, argparse.Namespace], str]


def _gitlab_options(args: argparse.Namespace) -> GitLabReportOptions:
    return GitLabReportOptions(
        start_time=args.started_at,
        end_time=dt.datetime.now(dt.UTC),
        image=getattr(args, "image_name", None) or os.environ.get("CS_IMAGE"),
        default_branch_image=args.default_branch_image or os.environ.get("CS_DEFAULT_BRANCH_IMAGE"),
    )


def repo_relative(path: str) -> str:
    """A path as a URI relative to the repository root (the workspace in CI, else the current
    directory), as code scanning needs for locations."""
    root = Path(os.environ.get("GITHUB_WORKSPACE") or os.environ.get("CI_PROJECT_DIR") or Path.cwd())
    target = Path(path)
    if target.is_absolute():
        try:
            target = target.resolve().relative_to(root.resolve())
        except ValueError:
            raise UsageError(
                f"{path}: not inside the repository {root}; give a path relative to it"
            ) from None
    return target.as_posix()


def _render_sarif(evaluation: Evaluation, args: argparse.Namespace) -> str:
    # Imported here: sarif-om and attrs cost ~40 ms at start-up, paid only when SARIF is asked for.
    from gate.render.sarif import SarifOptions, render_sarif

    dockerfile = getattr(args, "dockerfile", None)
    options = SarifOptions(
        location_uri=repo_relative(args.sarif_location),
        dockerfile_uri=repo_relative(str(dockerfile)) if dockerfile else None,
        category=args.sarif_category,
    )
    return render_sarif(evaluation, options)


# Output flag -> (renderer for a verdict, renderer for "could not decide" or None).
# Every requested file is written whatever the verdict; on an error the ones that can
# carry an error are written too, so no stale pass from an earlier run is left behind.
OUTPUTS: dict[str, tuple[Renderer, Callable[[str, int, argparse.Namespace], str] | None]] = {
    "json": (lambda ev, _a: render_json(ev), lambda msg, code, _a: render_error_json(msg, code)),
    "markdown": (lambda ev, _a: render_markdown(ev), lambda msg, code, _a: render_markdown_error(msg, code)),
    "gitlab": (
        lambda ev, a: render_gitlab(ev, _gitlab_options(a)),
        lambda msg, code, a: render_gitlab_error(msg, code, _gitlab_options(a)),
    ),
    "junit": (lambda ev, _a: render_junit(ev), lambda msg, code, _a: render_junit_error(msg, code)),
    # No SARIF on an error: an upload of an empty run would close every open alert, so the
    # file is removed instead and the upload step fails visibly.
    "sarif": (_render_sarif, None),
}


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output files (any combination, written whatever the verdict)")
    group.add_argument("--json", metavar="PATH", help="the JSON decision report (container-gate/decision/v1)")
    group.add_argument("--markdown", metavar="PATH", help="the Markdown summary (PR comment, job summary)")
    group.add_argument(
        "--gitlab", metavar="PATH", help="GitLab container-scanning report (security report format 15.0.7)"
    )
    group.add_argument(
        "--junit", metavar="PATH", help="JUnit XML: a test case per finding, failing for blocking ones"
    )
    group.add_argument("--sarif", metavar="PATH", help="SARIF 2.1.0 for GitHub code scanning")
    group.add_argument(
        "--sarif-location",
        metavar="PATH",
        default="Dockerfile",
        help="the repository file SARIF results point at when no --dockerfile line is known "
        "(default: Dockerfile)",
    )
    group.add_argument(
        "--sarif-category",
        metavar="ID",
        help="the code-scanning category (default: container-gate/<image>/<platform>/, one per image and platform)",
    )
    group.add_argument(
        "--default-branch-image",
        metavar="REF",
        help="for --gitlab: the image the default branch builds, so GitLab can match findings across "
        "branches (default: $CS_DEFAULT_BRANCH_IMAGE)",
    )


def _add_ci_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("CI platform")
    group.add_argument(
        "--ci",
        choices=CI_CHOICES,
        default="auto",
        help="where to publish: auto (GitHub Actions or GitLab CI, detected from their variables; "
        "nothing elsewhere), github, gitlab, or none (default: auto)",
    )
    group.add_argument(
        "--comment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="create or update the pull-request comment / merge-request note (default: on, "
        "when the run belongs to one and a token can write it)",
    )


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--policy",
        metavar="FILE",
        type=Path,
        help="the policy file (default: the shipped policies/default.yaml: block fixable HIGH and CRITICAL)",
    )
    group.add_argument(
        "--advisory",
        action="store_true",
        help="never fail: report what would block, exit 0 (overrides the policy's mode)",
    )
    group.add_argument(
        "--as-of",
        metavar="DATE",
        type=_parse_date,
        help="judge allowlist expiry as of this date (YYYY-MM-DD) instead of today, "
        "to see what will expire before it does",
    )
    group.add_argument(
        "--image-name",
        metavar="REF",
        help="the image reference the reports describe, for allowlist `image:` globs "
        "(default: the reference the report itself names)",
    )


def _parse_date(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with help texts that the README quotes."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A gate for container images in CI: scan an image or read a scanner's report, "
        "apply a policy, and publish the verdict with a reason for every finding.",
        epilog="Exit codes: 0 pass, 1 fail (blocking findings or a failing policy rule), "
        "2 usage error, invalid policy or unreadable report, 3 scanner, image or platform error.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show tracebacks and scanner output on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser(
        "check",
        help="gate existing scanner reports (Trivy, Grype or Snyk JSON): a local dry-run of a policy",
        description="Gate one image's existing scanner reports. Several reports (one image scanned by "
        "several tools) are merged: the same vulnerability in the same package is one finding.",
    )
    check.add_argument(
        "reports", nargs="+", metavar="REPORT", type=Path, help="Trivy, Grype or Snyk JSON report"
    )
    _add_policy_options(check)
    _add_output_options(check)
    _add_ci_options(check)
    check.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    check.set_defaults(func=cmd_check)

    scan_cmd = sub.add_parser(
        "scan",
        help="scan an image with Trivy (or Grype, or both), then gate it",
        description="Scan one image with Trivy (default), Grype or both, attribute each finding to the "
        "layer that installed it, and gate the result. Any scanner or image problem is exit 3, never a pass.",
    )
    add_scan_arguments(scan_cmd)
    _add_policy_options(scan_cmd)
    _add_output_options(scan_cmd)
    _add_ci_options(scan_cmd)
    scan_cmd.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    scan_cmd.set_defaults(func=cmd_scan)

    policy = sub.add_parser("policy", help="work with policy files")
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    validate = policy_sub.add_parser(
        "validate",
        help="check policy files; print every problem with its line",
        description="Check policy files against the policy format (policies/schema.json) and print "
        "every problem of every file with its line. Exit 0 when all are valid, 2 otherwise.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", type=Path, help="a policy file (YAML)")
    validate.set_defaults(func=cmd_policy_validate)

    exp = sub.add_parser(
        "explain",
        help="show which findings have a vulnerability id, and which rule decided each, and why",
        description="Explain what the policy made of one vulnerability: every finding with that id "
        "(or alias), its disposition and reason, and every allowlist entry naming it with why it "
        "did or did not apply. Exit 0 when a finding has the id, 1 when none has.",
    )
    exp.add_argument("vulnerability", metavar="VULN_ID", help="a CVE, GHSA or other id, or an alias of one")
    exp.add_argument(
        "--report",
        dest="reports",
        action="append",
        required=True,
        type=Path,
        metavar="REPORT",
        help="a Trivy, Grype or Snyk JSON report of the image (repeatable: several are merged)",
    )
    _add_policy_options(exp)
    exp.set_defaults(func=cmd_explain)
    return parser


def read_policy(args: argparse.Namespace) -> Policy:
    """The policy the command line asks for, with --advisory applied."""
    policy = load_policy(args.policy) if args.policy is not None else load_default_policy()
    if args.advisory and policy.mode is not Mode.ADVISORY:
        policy = replace(policy, mode=Mode.ADVISORY)
    return policy


def evaluation_time(args: argparse.Namespace) -> dt.datetime:
    """`--as-of`, or now: the one clock read of a run."""
    as_of: dt.datetime | None = args.as_of
    return as_of if as_of is not None else dt.datetime.now(dt.UTC)


def with_image_name(report: ScanReport, args: argparse.Namespace) -> ScanReport:
    """Apply `--image-name` to a report."""
    name: str | None = args.image_name
    if not name:
        return report
    image = replace(report.image, reference=name) if report.image else ImageInfo(reference=name)
    return replace(report, image=image)


def write_text(path: str, text: str) -> None:
    """Write an output file, creating its directory; a failure is a usage error naming the path."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write output file: {exc.strerror or exc}") from exc


def write_outputs(evaluation: Evaluation, args: argparse.Namespace) -> list[GateError]:
    """Write every requested output; return the failures, so one bad path loses no other file."""
    failures: list[GateError] = []
    for name, (render, _error) in OUTPUTS.items():
        path = getattr(args, name, None)
        if path:
            try:
                write_text(path, render(evaluation, args))
            except GateError as exc:
                failures.append(exc)
    return failures


def write_error_outputs(args: argparse.Namespace, message: str, exit_code: int) -> None:
    """On an error, write the outputs that can say so; never let one failure hide another."""
    for name, (_render, error) in OUTPUTS.items():
        path = getattr(args, name, None)
        if not path:
            continue
        try:
            if error is not None:
                write_text(path, error(message, exit_code, args))
            else:
                Path(path).unlink(missing_ok=True)
        except GateError as exc:
            print(f"{PROG}: error: {exc.diagnostics()}", file=sys.stderr)
        except OSError as exc:
            print(f"{PROG}: error: {path}: cannot remove stale output: {exc.strerror}", file=sys.stderr)


def _in_repository(path: object) -> str | None:
    """`repo_relative`, or None for a path outside the repository: annotations need a file in
    the repository, and a file elsewhere is no reason to fail a run (SARIF says so itself)."""
    try:
        return repo_relative(str(path)) if path else None
    except UsageError:
        return None


def publish_context(args: argparse.Namespace, *, error: bool = False) -> PublishContext:
    """What the platform publisher gets from this run; with `error`, only the output files
    that were written to say the gate could not decide."""
    written = [name for name, (_render, on_error) in OUTPUTS.items() if not error or on_error is not None]
    return PublishContext(
        env=dict(os.environ),
        outputs={name: getattr(args, name) for name in written if getattr(args, name, None)},
        comment=getattr(args, "comment", False),
        dockerfile=_in_repository(getattr(args, "dockerfile", None)),
        image=getattr(args, "image_name", None) or getattr(args, "image", None),
        location=_in_repository(getattr(args, "sarif_location", None)),
        verbose=args.verbose,
    )


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"{PROG}: warning: {terminal_safe(line)}", file=sys.stderr)


def publish(evaluation: Evaluation, args: argparse.Namespace) -> None:
    """Publish to the CI platform, if any; permission problems come back as warnings."""
    publisher = select_publisher(getattr(args, "ci", "none"), os.environ)
    _warn(publisher.publish(evaluation, publish_context(args)))


def publish_error(args: argparse.Namespace, message: str, exit_code: int) -> None:
    """Tell the CI platform the gate could not decide; a failure here must not hide the first."""
    try:
        publisher = select_publisher(getattr(args, "ci", "none"), os.environ)
        _warn(publisher.publish_error(message, exit_code, publish_context(args, error=True)))
    except GateError as exc:
        print(f"{PROG}: error: {terminal_safe(exc.diagnostics())}", file=sys.stderr)


def finish(evaluation: Evaluation, args: argparse.Namespace) -> int:
    """Write outputs, publish, print the summary, and return the exit code for the verdict.

    An output that cannot be written makes the run exit 2 (never a pass), but the verdict is
    known: the other outputs, the platform and the terminal still get it.
    """
    failures = write_outputs(evaluation, args)
    platform_failure: GateError | None = None
    try:
        publish(evaluation, args)
    except GateError as exc:
        platform_failure = exc
    summary = render_terminal(evaluation)
    print_report_text(summary.splitlines()[0] + "\n" if getattr(args, "quiet", False) else summary)
    for failure in [*failures, *([platform_failure] if platform_failure else [])]:
        print(f"{PROG}: error: {terminal_safe(failure.diagnostics())}", file=sys.stderr)
    if platform_failure is not None:
        return platform_failure.exit_code
    if failures:
        return ExitCode.USAGE
    return ExitCode.PASS if evaluation.passed else ExitCode.FAIL


def print_report_text(text: str, stream: TextIO | None = None) -> None:
    """Print text that carries report content (to stdout unless `stream` says otherwise).

    On GitHub Actions a line starting with `::` (on stdout or stderr) is a workflow command, so
    a hostile vulnerability id at the start of a table row could set outputs or mask values.
    Commands are switched off around the text with a one-time token, as GitHub documents for
    printing untrusted content (`::stop-commands::`).
    """
    out = stream or sys.stdout
    if os.environ.get("GITHUB_ACTIONS") == "true":
        token = secrets.token_hex(16)
        out.write(f"::stop-commands::{token}\n{text}::{token}::\n")
    else:
        out.write(text)
    out.flush()


def _print_verbose_details(detail: str | None) -> None:
    """The traceback and a scanner's standard error, for --verbose. Both can quote an image's
    file names or a report's text: each line is made terminal-safe and workflow commands are off."""
    text = traceback.format_exc() + (detail + "\n" if detail else "")
    print_report_text("".join(terminal_safe(line) + "\n" for line in text.splitlines()), sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """`container-gate check`."""
    policy = read_policy(args)
    report = merge_reports([load_report(path) for path in args.reports])
    report = with_image_name(report, args)
    return finish(evaluate(report, policy, evaluation_time(args)), args)


def cmd_scan(args: argparse.Namespace) -> int:
    """`container-gate scan`."""
    # The policy is read first: a broken one fails in a moment, not after a long scan.
    policy = read_policy(args)
    report = with_image_name(scan(scan_request(args, dict(os.environ), args.started_at)), args)
    return finish(evaluate(report, policy, evaluation_time(args)), args)


def cmd_policy_validate(args: argparse.Namespace) -> int:
    """`container-gate policy validate`: every problem of every file, then one exit code."""
    bad = 0
    for path in args.files:
        problems = validate_policy_file(path)
        if problems:
            bad += 1
            for problem in problems:
                print(terminal_safe(problem))
        else:
            print(f"{terminal_safe(str(path))}: valid policy (version 1)")
    return ExitCode.USAGE if bad else ExitCode.PASS


def cmd_explain(args: argparse.Namespace) -> int:
    """`container-gate explain`."""
    policy = read_policy(args)
    report = with_image_name(merge_reports([load_report(path) for path in args.reports]), args)
    evaluation = evaluate(report, policy, evaluation_time(args))
    text, found = explain(evaluation, args.vulnerability)
    print_report_text(text)
    return ExitCode.PASS if found else ExitCode.FAIL


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started_at = dt.datetime.now(dt.UTC)
    # A cancelled CI job sends SIGTERM: handled like Ctrl-C, so a running scanner's process
    # group is stopped and the gate exits 130 instead of vanishing and leaving it behind.
    # (Signal handlers can only be set from the main thread; tests may call main elsewhere.)
    if threading.current_thread() is not threading.main_thread():
        return _run(args)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    """One command, with every error turned into its exit code and error outputs."""
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        # One short run that builds millions of objects and no reference cycles: see gate/_collector.py.
        with collector_paused():
            return func(args)
    except GateError as exc:
        if args.verbose:
            _print_verbose_details(exc.detail)
        message = exc.diagnostics()
        if isinstance(exc, PolicyError):
            for problem in exc.problems:
                print(f"{PROG}: error: {terminal_safe(problem)}", file=sys.stderr)
        else:
            print(f"{PROG}: error: {terminal_safe(message)}", file=sys.stderr)
        write_error_outputs(args, message, exc.exit_code)
        publish_error(args, message, exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # an unexpected failure must never look like a pass
        if args.verbose:
            _print_verbose_details(None)
        message = f"internal error: {type(exc).__name__}: {exc}"
        hint = "" if args.verbose else " (run with --verbose for the traceback)"
        print(f"{PROG}: {terminal_safe(message)}{hint}", file=sys.stderr)
        write_error_outputs(args, message, ExitCode.ERROR)
        publish_error(args, message, ExitCode.ERROR)
        return ExitCode.ERROR


def run() -> None:
    """Console-script entry point."""
    # A CI log with LANG=C must not turn a package title with non-ASCII text into a crash.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    sys.exit(main())
