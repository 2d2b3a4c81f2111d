"""The command line's arguments: argparse, with the help texts the README quotes.

Only the parsing lives here; `options.options_from` turns the result into typed options once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from gate._input_file import STANDARD_INPUT
from gate.cli.compare_options import add_compare_arguments, add_compare_outputs
from gate.cli.options import DEFAULT_MAX_REPORT_SIZE, PROG, Command, parse_byte_size
from gate.cli.scan_options import (
    GivenOnce,
    add_scan_arguments,
    given_directory,
    given_path,
    output_path,
)
from gate.errors import ExitCode
from gate.platforms.select import CI_CHOICES
from gate.untrusted import terminal_safe


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "output files (any combination, written whatever the verdict; a PATH of - is standard output, "
        "and the terminal summary then goes to standard error)"
    )
    once = GivenOnce
    group.add_argument(
        "--json",
        metavar="PATH",
        type=output_path,
        action=once,
        help="the JSON decision report (container-gate/decision/v1)",
    )
    group.add_argument(
        "--markdown",
        metavar="PATH",
        type=output_path,
        action=once,
        help="the Markdown summary (PR comment, job summary)",
    )
    group.add_argument(
        "--gitlab",
        metavar="PATH",
        type=output_path,
        action=once,
        help="GitLab container-scanning report (security report format 15.0.7)",
    )
    group.add_argument(
        "--junit",
        metavar="PATH",
        type=output_path,
        action=once,
        help="JUnit XML: a test case per finding, failing for blocking ones",
    )
    group.add_argument(
        "--sarif", metavar="PATH", type=output_path, action=once, help="SARIF 2.1.0 for GitHub code scanning"
    )
    group.add_argument(
        "--sarif-location",
        metavar="PATH",
        help="the repository file SARIF results point at when no --dockerfile line is known "
        "(default: the --dockerfile, else Dockerfile)",
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


def _add_baseline_and_vex_options(parser: argparse.ArgumentParser, *, openvex: bool = True) -> None:
    group = parser.add_argument_group("baseline and VEX")
    group.add_argument(
        "--baseline",
        metavar="FILE",
        type=given_path,
        action=GivenOnce,
        help="an earlier decision report (--json, typically the default branch's): only findings "
        "that are new or worse than in it may block (policy key baseline.fail_on); a missing or "
        "unreadable baseline is a warning and the full policy applies",
    )
    group.add_argument(
        "--baseline-branch",
        metavar="BRANCH",
        help="the branch whose last successful pipeline wrote the --baseline report (the GitLab "
        "templates' baseline-ref fetch gives it): the outputs say the baseline is that branch's, "
        "not the name of the job's copy (default: the outputs name the file)",
    )
    group.add_argument(
        "--baseline-required",
        action="store_true",
        help="a missing, unreadable or foreign --baseline is an error (exit 2), not a warning",
    )
    group.add_argument(
        "--vex",
        metavar="FILE",
        type=given_path,
        action="append",
        default=[],
        help="a VEX document (OpenVEX 0.2.0, CSAF VEX or CycloneDX VEX): a not_affected or fixed "
        "statement allowlists the findings it is about (repeatable; also the policy key vex)",
    )
    if not openvex:
        return
    group.add_argument(
        "--openvex",
        metavar="PATH",
        type=output_path,
        action=GivenOnce,
        help="write the run's decisions (allowlist entries and VEX statements that matched) as an "
        "OpenVEX 0.2.0 document, for trivy --vex, grype --vex and vexctl (- for standard output: the "
        "terminal summary then goes to standard error)",
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
        "when the run belongs to one and a token can write it: GITHUB_TOKEN on GitHub, GITLAB_TOKEN "
        "with the api scope on GitLab, where CI_JOB_TOKEN cannot write notes)",
    )


def _add_policy_options(
    parser: argparse.ArgumentParser,
    advisory: str = "never fail: report what would block, exit 0 (overrides the policy's mode)",
    image_name_default: str = "the reference the report itself names",
) -> None:
    """`--policy`, `--advisory` (`advisory`: its help), `--as-of`, `--image-name`
    (`image_name_default`: what it is without)."""
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--policy",
        metavar="FILE",
        type=given_path,
        action=GivenOnce,
        help="the policy file (default: the shipped policies/default.yaml: block fixable HIGH and CRITICAL)",
    )
    group.add_argument(
        "--advisory",
        action="store_true",
        help=advisory,
    )
    group.add_argument(
        "--as-of",
        metavar="DATE",
        type=_parse_date,
        help="judge allowlist expiry as of this date (YYYY-MM-DD) instead of today, "
        "to see what will expire before it does; the age of the KEV and EPSS data is judged by "
        "the same clock",
    )
    group.add_argument(
        "--image-name",
        metavar="REF",
        help="the image's reference for allowlist `image:` globs and in every output, such as the "
        f"tag an archive was pushed under (default: {image_name_default})",
    )


def _add_exploit_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "exploitability data (`container-gate data fetch --out DIR` downloads both; "
        "default: the policy's exploit_data, else a Grype report's own fields)"
    )
    group.add_argument(
        "--kev",
        metavar="FILE",
        type=given_path,
        action=GivenOnce,
        help="CISA's Known Exploited Vulnerabilities catalog (JSON, or .gz), for fail_on.known_exploited "
        "and the KEV mark of findings",
    )
    group.add_argument(
        "--epss",
        metavar="FILE",
        type=given_path,
        action=GivenOnce,
        help="FIRST's daily EPSS scores (CSV, or .csv.gz), for fail_on.epss and the EPSS score of findings",
    )


def _add_data_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], verbose: list[argparse.ArgumentParser]
) -> None:
    data = sub.add_parser(
        "data",
        epilog=_examples("data"),
        help="download the data the gate can use besides the scanners'",
        description="Download the data the gate can use besides the scanners' (CISA's KEV catalog "
        "and FIRST's EPSS scores, for --kev and --epss). Exit codes are the action's: 0 on "
        "success, 2 for a usage error (no action, or an unknown one), 3 when a download fails.",
    )
    data_sub = data.add_subparsers(title="actions", dest="data_command", metavar="ACTION", required=True)
    fetch = data_sub.add_parser(
        "fetch",
        parents=[_verbose_after_the_command(_VERBOSE_TRACEBACK)],
        epilog=_examples("data fetch"),
        help="download CISA's KEV catalog and FIRST's EPSS scores into a directory",
        description="Download CISA's Known Exploited Vulnerabilities catalog and FIRST's EPSS scores, "
        "check them with the gate's own readers, and store them atomically in DIR as kev.json and "
        "epss.csv.gz (kev.json.gz or epss.csv when the source serves the other form), with "
        "DIR/exploit-data.json recording their source, sha256, size, versions and when they were fetched. The only command that downloads. A failed fetch leaves the files "
        "already in DIR untouched. Exit 0 on success, 2 for a usage error, 3 when a download fails.",
    )
    fetch.add_argument(
        "--out",
        metavar="DIR",
        type=given_directory,
        action=GivenOnce,
        required=True,
        help="the directory to store the files in",
    )
    fetch.add_argument(
        "--kev-url", metavar="URL", help="where to download the KEV catalog (default: CISA's feed)"
    )
    fetch.add_argument(
        "--epss-url",
        metavar="URL",
        help="where to download the EPSS scores (default: FIRST's current daily file)",
    )
    fetch.add_argument(
        "--if-older-than",
        metavar="HOURS",
        type=_hours,
        help="download only when DIR/exploit-data.json is missing or records a fetch at least this "
        "many hours old (a CI cache restored from an earlier day is refreshed, today's is kept; "
        "default: always download)",
    )
    fetch.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=60.0,
        help="per connection and read (default: 60)",
    )
    fetch.add_argument(
        "--retries",
        metavar="N",
        type=_retries,
        default=3,
        help="further attempts per file after a transient failure (no answer, 5xx, 429, a truncated "
        "body), waiting 1 s, then 2 s, 4 s, ... (default: 3)",
    )
    fetch.set_defaults(run=Command.DATA_FETCH)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0 (at most 3600), got {text!r}")
    return seconds


def _retries(text: str) -> int:
    if not text.isdigit() or int(text) > 10:
        raise argparse.ArgumentTypeError(f"expected a number of retries from 0 to 10, got {text!r}")
    return int(text)


def _hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not hours >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of hours (0 or more), got {text!r}")
    return hours


def _add_report_size_option(parser: argparse.ArgumentParser, refused: str = "exit 2") -> None:
    """`--max-report-size`; `refused` says what a larger report does to the command."""
    parser.add_argument(
        "--max-report-size",
        metavar="SIZE",
        type=parse_byte_size,
        default=DEFAULT_MAX_REPORT_SIZE,
        help=f"refuse a report file larger than this ({refused}) before reading it: bytes, or with a "
        "k, M or G suffix (powers of 1000); default 2G. Reading a Trivy report file takes 1.3 to 1.7 "
        "times its size in memory, other reports 2 to 3 times",
    )


def _report_path(text: str) -> Path:
    """A report's path; `-` is standard input, as `-` is standard output for the output files."""
    return STANDARD_INPUT if text == "-" else given_path(text)


def _vulnerability_id(text: str) -> str:
    """A vulnerability id to explain, without the spaces around it; empty is a usage error (most
    often a CI variable that expanded to nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a vulnerability id such as CVE-2024-3094, got nothing")
    return text.strip()


def _parse_date(text: str) -> dt.datetime:
    # `date.fromisoformat` also takes `20270201` and week dates (`2027W051`): only YYYY-MM-DD here.
    try:
        day = dt.datetime.strptime(text, "%Y-%m-%d").date() if _DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Version(argparse.Action):
    """`--version`: the gate's version, then the scanners a scan would run and their DBs."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            help="show the version of the gate, its scanners and their DBs (looked for in "
            "$CONTAINER_GATE_CACHE_DIR when set, which should be scan's --cache-dir, else in each "
            "scanner's own cache), and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        from gate.cli.version import version_text  # runs the scanners: only when asked

        sys.stdout.write(version_text(os.environ))
        parser.exit()


_VERBOSE = (
    "show the traceback of an error, a failed scanner's error output (scan, compare), and what "
    "the CI platform was told or why not (check, scan)"
)
"""The top-level `--verbose`, before any command: what it shows depends on the command."""
_VERBOSE_SCANNER = "show tracebacks and scanner output on errors"
"""`--verbose` of `compare`, which runs scanners and publishes nothing."""
_VERBOSE_SCAN = "show tracebacks and scanner output on errors, and what the CI platform was told (or why not)"
"""`--verbose` of `scan`, which runs scanners and publishes its verdict."""
_VERBOSE_TRACEBACK = "show the traceback of an error"
"""`--verbose` of a command that runs no scanner: a traceback is all it adds."""
_VERBOSE_PUBLISHED = "show the traceback of an error, and what the CI platform was told (or why not)"
"""`--verbose` of `check`, which runs no scanner but publishes its verdict."""


def _verbose_after_the_command(help_text: str) -> argparse.ArgumentParser:
    """`-v` also after the command (`container-gate check -v ...`), where people put it."""
    parent = argparse.ArgumentParser(add_help=False)
    # The default is SUPPRESS: not given after the command, the value before it stands.
    parent.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help=help_text,
    )
    return parent


class CommandLineError(SystemExit):
    """A usage error found while the command line was parsed: exit 2, and what was wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(ExitCode.USAGE)
        self.message = message


EXAMPLES: dict[str, tuple[str, ...]] = {
    "check": (
        "container-gate check report.json",
        "container-gate check report.json --policy .container-gate.yaml --json gate.json --sarif gate.sarif",
        "container-gate check trivy.json grype.json --as-of 2027-02-01",
        "trivy image --format json alpine:3.19 | container-gate check -",
    ),
    "scan": (
        "container-gate scan ghcr.io/acme/app:1.2 --dockerfile Dockerfile --json gate.json --sarif gate.sarif",
        "container-gate scan docker-archive:app.tar --policy .container-gate.yaml",
        "container-gate scan app:dev --scanner both --check-base",
    ),
    "compare": (
        "container-gate compare python:3.12 python:3.12-slim python:3.12-alpine --markdown compare.md",
        "container-gate compare before=report-1.json after=report-2.json",
    ),
    "explain": (
        "container-gate explain CVE-2023-45853 --report report.json --policy .container-gate.yaml",
        "container-gate explain CVE-2023-45853 --report gate.json",
    ),
    "policy": ("container-gate policy validate .container-gate.yaml",),
    "policy validate": ("container-gate policy validate .container-gate.yaml",),
    "data": ("container-gate data fetch --out exploit-data --if-older-than 20",),
    "data fetch": (
        "container-gate data fetch --out exploit-data --if-older-than 20",
        "container-gate check report.json --kev exploit-data/kev.json --epss exploit-data/epss.csv.gz",
    ),
    "completion": ("source <(container-gate completion bash)",),
}
"""The examples each command's --help ends with, a group's (`policy`, `data`) too
(tests/cli/test_main.py parses every one)."""

_EXAMPLES_HEAD = "examples:"


def _examples(command: str) -> str:
    return "\n".join([_EXAMPLES_HEAD, *(f"  $ {line}" for line in EXAMPLES[command])])


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's, but the examples keep their lines (commands are not reflowed)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(_EXAMPLES_HEAD):
            return "".join(indent + line + "\n" for line in text.splitlines()).rstrip("\n")
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' too), but a usage error is said in one line, the
    usage being in `--help`, and kept for the error outputs (gate/cli/main.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def _parse_known_args(self, arg_strings: list[str], *args: Any, **kwargs: Any) -> Any:
        self._given = list(arg_strings)
        return super()._parse_known_args(arg_strings, *args, **kwargs)

    def error(self, message: str) -> NoReturn:
        if message.startswith("the following arguments are required"):
            # argparse stops at a missing argument before it says which options it did not know:
            # `explain CVE-... --reprt r.json` said only that --report is required.
            unknown = [word for word in getattr(self, "_given", ()) if self._unknown_option(word)]
            if unknown:
                message = f"{message}; {unrecognized(unknown, self)}"
        # argparse quotes most values it refuses (repr), but not the words it did not recognize.
        print(f"{self.prog}: error: {terminal_safe(message)} (see '{self.prog} --help')", file=sys.stderr)
        raise CommandLineError(message)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # A misspelt command (`chek`) or choice (`--scanner trivi`) is named with the one meant,
        # as a misspelt option is (gate/cli/main.py) and a policy's misspelt key or value is.
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            meant = closest_choice(value, action.choices)
            if meant is None:
                raise
            raise argparse.ArgumentError(action, f"{exc.message} (did you mean {meant!r}?)") from exc

    def _unknown_option(self, word: str) -> bool:
        """Whether `word` is an option this parser does not know (not a value such as `-` or `-1`)."""
        if not word.startswith("-") or word == "-" or self._negative_number_matcher.match(word):
            return False
        option = word.partition("=")[0]
        if self.allow_abbrev and option.startswith("--"):
            return not any(known.startswith(option) for known in self._option_string_actions)
        return option not in self._option_string_actions


def unrecognized(unknown: Sequence[str], command: argparse.ArgumentParser) -> str:
    """`unrecognized arguments: --polcy p.yaml (did you mean --policy?)`: the words a command did
    not know, each option with the closest of the command's own options when one is close (none
    for an option of another command or tool). An option's value given with `=` is left out, as
    it may be a secret (`--build-args=NPM_TOKEN=...`, a misspelt --build-arg), and the error also
    goes to the CI log, the error outputs and the pull-request comment."""
    import difflib  # only for a command line with a word it does not know

    shown = []
    for word in unknown:
        option, equals, _value = word.partition("=")
        shown.append(f"{option}=(value not shown)" if equals and option.startswith("-") else word)
    options = [name for action in command._actions for name in action.option_strings if name.startswith("--")]
    meant = [
        close[0]
        for word in unknown
        if word.startswith("--")
        and (close := difflib.get_close_matches(word.partition("=")[0], options, n=1, cutoff=0.75))
    ]
    said = f" (did you mean {' and '.join(dict.fromkeys(meant))}?)" if meant else ""
    return f"unrecognized arguments: {' '.join(shown)}{said}"


def closest_choice(value: object, choices: object) -> str | None:
    """The choice a misspelt `value` meant (`chek`: `check`, `Trivy`: `trivy`), or None when none
    is close or the choices are not words."""
    import difflib  # only for a command line with a word it does not know

    if not isinstance(value, str) or not isinstance(choices, Iterable):
        return None
    words = [choice for choice in choices if isinstance(choice, str)]
    by_folded = {word.casefold(): word for word in words}
    close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.75)
    return by_folded[close[0]] if close else None


def command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the (sub)command `args` ran, whose `--help` lists its options: an error in
    them points there, not to the list of commands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return command_parser(chosen, args)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with help texts that the README quotes."""
    parser: argparse.ArgumentParser = _Parser(
        prog=PROG,
        description="A gate for container images in CI: scan an image or read a scanner's report, "
        "apply a policy, and publish the verdict with a reason for every finding.",
        epilog="Exit codes: 0 pass, 1 fail (blocking findings or a failing policy rule), "
        "2 usage error, invalid policy or unreadable report, 3 scanner, image or platform error.",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    verbose = [_verbose_after_the_command(_VERBOSE_SCANNER)]

    check = sub.add_parser(
        "check",
        parents=[_verbose_after_the_command(_VERBOSE_PUBLISHED)],
        epilog=_examples("check"),
        help="gate existing scanner reports (Trivy, Grype or Snyk JSON): a local dry-run of a policy",
        description="Gate one image's existing scanner reports. Several reports (one image scanned by "
        "several tools) are merged: the same vulnerability in the same package is one finding. Exit 0 "
        "pass, 1 fail (a blocking finding or a failing policy rule), 2 for a usage error or a policy, "
        "report or other input file that cannot be read, 3 for a CI platform error.",
    )
    check.add_argument(
        "reports",
        nargs="+",
        metavar="REPORT",
        type=_report_path,
        help="a Trivy, Grype or Snyk JSON report, or the gate's own decision report (--json) of an "
        "earlier run, judged again under this run's policy (- for standard input)",
    )
    _add_report_size_option(check)
    _add_policy_options(check)
    _add_exploit_options(check)
    _add_output_options(check)
    _add_baseline_and_vex_options(check)
    _add_ci_options(check)
    check.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    check.set_defaults(run=Command.CHECK)

    scan_cmd = sub.add_parser(
        "scan",
        parents=[_verbose_after_the_command(_VERBOSE_SCAN)],
        epilog=_examples("scan"),
        help="scan an image with Trivy (or Grype, or both), then gate it",
        description="Scan one image with Trivy (default), Grype or both, attribute each finding to the "
        "layer that installed it, and gate the result. Exit 0 pass, 1 fail (a blocking finding or a "
        "failing policy rule), 2 for a usage error or a policy or input file that cannot be read, 3 "
        "for any scanner or image problem, never a pass.",
    )
    add_scan_arguments(scan_cmd)
    _add_policy_options(scan_cmd, image_name_default="IMAGE as given")
    _add_exploit_options(scan_cmd)
    _add_output_options(scan_cmd)
    _add_baseline_and_vex_options(scan_cmd)
    _add_ci_options(scan_cmd)
    scan_cmd.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    scan_cmd.set_defaults(run=Command.SCAN)

    compare = sub.add_parser(
        "compare",
        parents=verbose,
        epilog=_examples("compare"),
        help="scan several images (or read their reports) and compare them side by side under one policy",
        description="Scan several images with the same scanner, DB and policy, or read reports already "
        "written (NAME=REPORT.json), and print one row per image: verdict, blocking findings, the "
        "actions that clear them, known-exploited findings (with KEV data), then findings by "
        "severity, fixable, base and own layers, packages, platform, size, creation date. "
        "Rows are counted, not matched finding by finding: what is new, worse or fixed in a later "
        "report of one image is what `check LATER.json --baseline EARLIER-DECISION.json` says. "
        "Compare informs, it does not gate: it exits 0 whatever the verdicts, 3 when an image "
        "could not be scanned or read (its row says why), and 2 for a usage error, an invalid policy, "
        "a VEX, KEV or EPSS file that cannot be read, or an output file it cannot write.",
    )
    add_compare_arguments(compare)
    _add_report_size_option(compare, refused="its row is ERROR, exit 3")
    compare_policy = compare.add_argument_group("policy")
    compare_policy.add_argument(
        "--policy",
        metavar="FILE",
        type=given_path,
        action=GivenOnce,
        help="the policy applied to every image (default: the shipped policies/default.yaml)",
    )
    compare_policy.add_argument(
        "--as-of",
        metavar="DATE",
        type=_parse_date,
        help="judge allowlist expiry as of this date (YYYY-MM-DD) instead of today; the age of "
        "the KEV and EPSS data is judged by the same clock",
    )
    # Enrichment data (exploit catalogues, exploit scores) joins here, as for check and scan.
    compare_policy.add_argument(
        "--vex",
        metavar="FILE",
        type=given_path,
        action="append",
        default=[],
        help="a VEX document whose not_affected and fixed statements allowlist findings in every "
        "image (repeatable; also the policy key vex)",
    )
    _add_exploit_options(compare)
    add_compare_outputs(compare)
    compare.set_defaults(run=Command.COMPARE)

    policy = sub.add_parser(
        "policy",
        epilog=_examples("policy"),
        help="work with policy files",
        description="Work with policy files (the policy format: docs/policy.md, policies/schema.json). "
        "Exit codes are the action's: 0 when every file is valid, 2 when one is not or cannot be "
        "read, or for a usage error (no action, or an unknown one).",
    )
    policy_sub = policy.add_subparsers(
        title="actions", dest="policy_command", metavar="ACTION", required=True
    )
    validate = policy_sub.add_parser(
        "validate",
        parents=[_verbose_after_the_command(_VERBOSE_TRACEBACK)],
        epilog=_examples("policy validate"),
        help="check policy files; print every problem with its line",
        description="Check policy files against the policy format (policies/schema.json) and print "
        "every problem of every file with its line, and a warning for each allowlist entry that "
        "has expired or expires more than a year ahead. Exit 0 when all are valid (warnings or not), "
        "2 otherwise.",
    )
    validate.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        type=given_path,
        help="a policy file (YAML); give several to check them all in one run",
    )
    # check, scan, explain and compare judge expiry as of --as-of: a policy checked for a release
    # day is checked by the same clock.
    validate.add_argument(
        "--as-of",
        metavar="DATE",
        type=_parse_date,
        help="judge expiry as of this date (YYYY-MM-DD) instead of today: warn of the allowlist "
        "entries expired by then, to see what will expire before it does, and of those expiring more "
        "than a year after it",
    )
    validate.set_defaults(run=Command.POLICY_VALIDATE)

    exp = sub.add_parser(
        "explain",
        parents=[_verbose_after_the_command(_VERBOSE_TRACEBACK)],
        epilog=_examples("explain"),
        help="show which findings have a vulnerability id, and which rule decided each, and why",
        description="Explain what the policy made of one vulnerability: every finding with that id "
        "(or alias), its disposition and reason, and every allowlist entry naming it with why it "
        "did or did not apply. It reads what `check` reads (the policy's vex: and exploit_data:, "
        "--vex, --kev, --epss, --baseline), so it says what `check` decided. Exit 0 when a finding "
        "has the id, 1 when none has (with --advisory too), 2 when the id is empty or a report, the "
        "policy or one of those files cannot be read.",
    )
    exp.add_argument(
        "vulnerability",
        metavar="VULN_ID",
        type=_vulnerability_id,
        help="a CVE, GHSA or other id, or an alias of one",
    )
    exp.add_argument(
        "--report",
        dest="reports",
        action="append",
        required=True,
        type=_report_path,
        metavar="REPORT",
        help="a Trivy, Grype or Snyk JSON report of the image, or the gate's own decision report "
        "(--json) of an earlier run (repeatable: several are merged; - for standard input)",
    )
    _add_report_size_option(exp)
    _add_policy_options(
        exp,
        advisory="explain as an advisory policy decides: findings that would block are informational "
        "(overrides the policy's mode; the exit code is still 1 when no finding has the id)",
    )
    _add_exploit_options(exp)
    _add_baseline_and_vex_options(exp, openvex=False)
    exp.set_defaults(run=Command.EXPLAIN)

    _add_data_command(sub, verbose)

    completion = sub.add_parser(
        "completion",
        parents=[_verbose_after_the_command(_VERBOSE_TRACEBACK)],
        epilog=_examples("completion"),
        help="print a shell completion script (bash or zsh)",
        description="Print the completion script of container-gate for a shell, made from this very "
        "command line (shtab). bash: `source <(container-gate completion bash)`; zsh: write it as "
        "`_container-gate` in a directory of $fpath. Exit 0, or 2 for a usage error (a shell other "
        "than bash or zsh).",
    )
    completion.add_argument(
        "shell",
        choices=("bash", "zsh"),
        # Named in the usage line as in the errors, which say the choices: `argument SHELL: invalid
        # choice: 'fish' (choose from 'bash', 'zsh')`, not `argument shell` beside `{bash,zsh}`.
        metavar="SHELL",
        help="the shell the script is for: bash or zsh (no other is supported)",
    )
    completion.set_defaults(run=Command.COMPLETION)
    return parser
