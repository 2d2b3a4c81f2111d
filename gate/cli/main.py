"""The command line's entry point: parse once, run one command, turn every error into its exit code.

The command line is the only place that reads the clock, the environment and files. Exit codes
(docs/architecture.md): 0 pass, 1 fail, 2 usage / invalid policy / unreadable report, 3 scanner,
image or platform error. An error never becomes a pass: `GateError` is caught once, here, and
anything else is an internal error (exit 3); `--verbose` shows the traceback of both.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, cast

from gate._collector import collector_paused
from gate._input_file import STANDARD_INPUT, reads_standard_input
from gate.cli.commands import COMMANDS
from gate.cli.compare_options import repeated_row
from gate.cli.options import PROG, Options, OutputFormat, options_from
from gate.cli.outputs import (
    STDOUT,
    OutputIsInput,
    print_report_text,
    publish_error,
    remove_stale,
    remove_stale_outputs,
    write_error_outputs,
)
from gate.cli.parser import CommandLineError, build_parser, command_parser, unrecognized
from gate.cli.scan_options import GivenOnce, is_platform, too_long
from gate.cli.wording import in_run_words
from gate.errors import ExitCode, GateError, PolicyError
from gate.platforms.select import CI_CHOICES
from gate.untrusted import terminal_safe


def _print_verbose_details(detail: str | None) -> None:
    """The traceback and a scanner's standard error, for --verbose. Both can quote an image's
    file names or a report's text: each line is made terminal-safe and workflow commands are off."""
    text = traceback.format_exc() + (detail + "\n" if detail else "")
    print_report_text("".join(terminal_safe(line) + "\n" for line in text.splitlines()), sys.stderr)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    with _inert_on_github():
        return _main(argv)


def _inert_on_github() -> contextlib.AbstractContextManager[None]:
    """`_inert_log` on GitHub Actions: around a command, and around the error outputs the action's
    entry point writes for a bad input (`report_error`, `report_interrupted`), whose lines can name
    an input's value too (an output path that cannot be written)."""
    return _inert_log() if os.environ.get("GITHUB_ACTIONS") == "true" else contextlib.nullcontext()


@contextlib.contextmanager
def _inert_log() -> Iterator[None]:
    """On GitHub Actions, standard output and error through `InertLog`: a report's text or a path
    in an error, a warning or a usage error cannot start a workflow command (`##[add-mask]`,
    `::set-output`); the gate's own commands go past it (`write_own`)."""
    from gate.platforms.github_commands import InertLog

    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, InertLog):
        sys.stdout = cast(TextIO, InertLog(sys.stdout))
    if not isinstance(sys.stderr, InertLog):
        sys.stderr = cast(TextIO, InertLog(sys.stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            command = command_parser(parser, args)
            command.error(unrecognized(unknown, command))
    except CommandLineError as exc:
        _error_outputs_despite(sys.argv[1:] if argv is None else list(argv), exc.message)
        raise
    try:
        _check_outputs(parser, args)
    except CommandLineError:
        _remove_stale_beside_a_clash(args)
        raise
    options = options_from(args, os.environ, dt.datetime.now(dt.UTC))
    # A cancelled CI job sends SIGTERM: handled like Ctrl-C, so a running scanner's process
    # group is stopped and the gate exits 130 instead of vanishing and leaving it behind.
    # (Signal handlers can only be set from the main thread; tests may call main elsewhere.)
    if threading.current_thread() is not threading.main_thread():
        return _run(options)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(options)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_outputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The usage errors of a parsed command line: outputs that cannot all be written as asked."""
    to_stdout = _to_stdout(args)
    if len(to_stdout) > 1:
        command_parser(parser, args).error(
            f"only one output can go to standard output ('-'), got {' and '.join(to_stdout)}"
        )
    clash = output_clash(args) or repeated_row(args) or standard_input_twice(args)
    if clash:
        command_parser(parser, args).error(clash)


@dataclass(frozen=True)
class UsageProblem:
    """A command line the gate refuses, found before anything runs."""

    message: str
    """The one-line reason, as the gate says it (it names the options)."""
    outputs_usable: bool
    """Whether the output files it names can still take the error outputs (not when they are the
    problem: two outputs to one file, or an output that is one of the run's inputs)."""


def usage_problem(argv: Sequence[str]) -> UsageProblem | None:
    """The usage error `main(argv)` would stop at, or None; nothing is printed or written. The
    GitHub Action's entry point asks first, so that a value an input cannot take is reported
    like any other bad input (step outputs, job summary, annotation)."""
    parser = build_parser()
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            args = parser.parse_args(argv)
    except CommandLineError as exc:
        return UsageProblem(exc.message, outputs_usable=True)
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            _check_outputs(parser, args)
    except CommandLineError as exc:
        return UsageProblem(exc.message, outputs_usable=False)
    return None


def _error_outputs_despite(argv: list[str], message: str) -> None:
    """The error outputs of a command line that could not be parsed, so that a passing `--json` or
    `--sarif` of an earlier run does not stay behind (docs/architecture.md), and the error told to
    the CI platform (step outputs, job summary, the comment or note), so that none keeps showing
    an earlier verdict. The command line is read again with every value taken as written, for its
    outputs and CI options only; no file is written when it does not name them plainly, or names
    one of its inputs as an output."""
    loose = build_parser()
    _take_values_as_written(loose)
    quiet = io.StringIO()
    # A value missing at the end (`--policy` as the last word) stops the reading: try without it.
    for words in (argv, argv[:-1]):
        try:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                args, _unknown = loose.parse_known_args(words)
            break
        except SystemExit:
            continue
    else:
        return
    command = getattr(args, "command", None)
    if output_clash(args):
        _remove_stale_beside_a_clash(args)
        return
    if command == "compare":
        # No error form for compare's documents: an earlier table is removed, not left standing.
        for path in (getattr(args, "json", None), getattr(args, "markdown", None)):
            remove_stale(path)
    if command not in ("check", "scan"):
        return
    named = [(f"--{kind.value}", getattr(args, kind.value, None)) for kind in OutputFormat]
    named.append(("--openvex", getattr(args, "openvex", None)))
    # An output whose name is too long for the system (the error itself, perhaps) cannot be written.
    named = [(flag, path) for flag, path in named if not (path and too_long(path))]
    outputs = [] if len(_to_stdout(args)) > 1 or output_clash(args) else [(f, p) for f, p in named if p]
    positional = [str(report) for report in args.reports] if command == "check" else [args.image]
    # A missing or empty REPORT or IMAGE (an unset variable in `scan $IMAGE`), or a REPORT whose
    # name is too long, may be the error itself: a stand-in takes its place, as only the outputs
    # and the CI options are read here.
    positional = [word for word in positional if word and not (command == "check" and too_long(word))] or [
        "-" if command == "check" else ""
    ]
    # An unknown --ci (the error itself, perhaps) is read as the default, auto.
    ci = getattr(args, "ci", None)
    ci = ci if ci in CI_CHOICES else "auto"
    publishing = ["--ci", ci, *([] if getattr(args, "comment", True) is not False else ["--no-comment"])]
    if getattr(args, "image_name", None):
        publishing.append(f"--image-name={args.image_name}")
    # The platform a scan was for picks its comment or note among the job's other platforms',
    # as it does when a scan could not decide later; one that is itself wrong names none.
    platform = getattr(args, "platform", None) if command == "scan" else None
    if isinstance(platform, str) and is_platform(platform):
        publishing.append(f"--platform={platform}")
    plain = [command, *publishing, *(word for output in outputs for word in output), "--", *positional]
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            options = options_from(build_parser().parse_args(plain), os.environ, dt.datetime.now(dt.UTC))
    except SystemExit:
        return
    write_error_outputs(options, message, ExitCode.USAGE)
    publish_error(options, message, ExitCode.USAGE)


def _to_stdout(args: argparse.Namespace) -> list[str]:
    """The output flags of `args` that go to standard output (`-`), `--openvex` included."""
    flags = [*(kind.value for kind in OutputFormat), "openvex"]
    return [f"--{flag}" for flag in flags if getattr(args, flag, None) == STDOUT]


def _take_values_as_written(parser: argparse.ArgumentParser) -> None:
    """No conversion, no choices and nothing required, in `parser` and its subcommands: not even
    the positional arguments."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _take_values_as_written(sub)
        elif not action.option_strings:
            if action.dest in ("reports", "image"):  # read as text below; compare's REFs stay typed
                action.type = None
            action.nargs = {None: "?", "+": "*"}.get(action.nargs, action.nargs)  # type: ignore[arg-type]
        elif action.option_strings:
            action.type, action.choices, action.required = None, None, False
            if isinstance(action, GivenOnce):
                action.lenient = True


_ARCHIVE_PREFIXES = ("docker-archive:", "oci-archive:")


def _outputs_of(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """The output files `args` names, by flag (compare's --json and --markdown among them)."""
    outputs = [(f"--{kind.value}", getattr(args, kind.value, None)) for kind in OutputFormat]
    outputs.append(("--openvex", getattr(args, "openvex", None)))
    return outputs


def _remove_stale_beside_a_clash(args: argparse.Namespace) -> None:
    """A run refused for `output_clash` writes nothing, not even the error documents (one would
    replace an input, or the other output): an earlier run's file at every other output path is
    removed, so that no pass of an earlier run stays for a later step to publish."""
    if not output_clash(args):
        return
    kept = _untouchable(args)
    for _flag, path in _outputs_of(args):
        if path and path != STDOUT and _real(path) not in kept:
            remove_stale(path)


def _untouchable(args: argparse.Namespace) -> set[str]:
    """The real paths a run refused for `output_clash` must leave alone: the files it reads and
    the files two of its outputs name."""
    inputs = {_real(path) for _flag, path in _inputs_of(args) if path}
    seen: set[str] = set()
    shared: set[str] = set()
    for _flag, path in _outputs_of(args):
        if path and path != STDOUT:
            real = _real(path)
            (shared if real in seen else seen).add(real)
    return inputs | shared


def output_clash(args: argparse.Namespace) -> str | None:
    """Why the output files of `args` cannot be written, or None: an output that is also one of
    the files the run reads would be overwritten by the run (even by its error outputs), and two
    outputs to one file would leave only the last."""
    outputs = _outputs_of(args)
    read = {_real(path): flag for flag, path in _inputs_of(args) if path}
    written: dict[str, str] = {}
    for flag, path in outputs:
        if not path or path == STDOUT:
            continue
        real = _real(path)
        if real in read:
            return f"{flag} {path}: the same file as {read[real]}, which this run reads; an output never replaces an input"
        if real in written:
            return f"{flag} {path}: the same file as {written[real]}; give each output a file of its own"
        written[real] = flag
    return None


def standard_input_twice(args: argparse.Namespace) -> str | None:
    """Why the files `args` reads cannot all be read, or None: two of them reading standard input
    (`-`, `/dev/stdin`, `/dev/fd/0`), which holds one file: the second would find it empty, or a
    baseline read after the report is no baseline (a warning, and the gate went on without one)."""
    piped = [
        (flag, "-" if Path(path) == STANDARD_INPUT and flag in {"REPORT", "REF"} else str(path))
        for flag, path in _inputs_of(args)
        if path and reads_standard_input(Path(path))
    ]
    if len(piped) < 2:
        return None
    (first, first_path), (second, second_path) = piped[:2]
    return (
        f"standard input holds one file, and {first} {first_path} and {second} {second_path} both read "
        "it: give the others their files"
    )


def _inputs_of(args: argparse.Namespace) -> list[tuple[str, str | os.PathLike[str] | None]]:
    """The files `args` names for the run to read, by flag."""
    image = getattr(args, "image", None)
    inputs: list[tuple[str, str | os.PathLike[str] | None]] = [
        ("REPORT", report) for report in getattr(args, "reports", None) or ()
    ]
    inputs += [(flag, getattr(args, name, None)) for flag, name in _INPUT_FLAGS]
    inputs += [("--vex", vex) for vex in getattr(args, "vex", None) or ()]
    images = [image, *(item.image for item in getattr(args, "refs", None) or ())]  # `compare REF...`
    inputs += [("REF", item.report) for item in getattr(args, "refs", None) or ()]
    inputs += [
        ("IMAGE", i.partition(":")[2])
        for i in images
        if isinstance(i, str) and i.startswith(_ARCHIVE_PREFIXES)
    ]
    return inputs


_INPUT_FLAGS = (
    ("--policy", "policy"),
    ("--baseline", "baseline"),
    ("--kev", "kev"),
    ("--epss", "epss"),
    ("--dockerfile", "dockerfile"),
)
"""The files a run reads, by flag and argparse destination."""


def _real(path: str | os.PathLike[str]) -> str:
    """The path with symbolic links and `..` resolved, so two spellings of one file compare equal."""
    return os.path.realpath(path)


def _run(options: Options) -> ExitCode:
    """One command, with every error turned into its exit code and error outputs."""
    try:
        # One short run that builds millions of objects and no reference cycles: see gate/_collector.py.
        with collector_paused():
            return COMMANDS[options.command](options)
    except GateError as exc:
        if options.verbose:
            _print_verbose_details(exc.detail)
        # The readers' hints speak of options; the Action's and GitLab's users set inputs.
        message = in_run_words(exc.diagnostics())
        if isinstance(exc, PolicyError):
            for problem in exc.problems:
                print(f"{PROG}: error: {terminal_safe(in_run_words(problem))}", file=sys.stderr)
        else:
            print(f"{PROG}: error: {terminal_safe(message)}", file=sys.stderr)
        if isinstance(exc, OutputIsInput):
            # Refused as a clash on the command line is: its error documents would replace an
            # input. An earlier run's file at every other output path is removed, as there.
            remove_stale_outputs(options, exc.inputs)
            return exc.exit_code
        write_error_outputs(options, message, exc.exit_code)
        at = (exc.path, exc.line) if isinstance(exc, PolicyError) and exc.line is not None else None
        publish_error(options, message, exc.exit_code, at)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        # A step that runs after a cancelled job (`if: always()`) must not read an earlier run's
        # verdict as this one's; the platform is not told, as a cancelled job is seen as such.
        write_error_outputs(options, INTERRUPTED, ExitCode.INTERRUPTED)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader of standard output stopped early (`| head`): what was left unwritten cannot
        # reach it, and the interpreter's own flush at exit must not fail on it again.
        _close_stdout()
        message = "standard output was closed before the output written there was complete"
        print(f"{PROG}: error: {message}", file=sys.stderr)
        write_error_outputs(options, message, ExitCode.ERROR)
        return ExitCode.ERROR
    except Exception as exc:  # an unexpected failure must never look like a pass
        if options.verbose:
            _print_verbose_details(None)
        message = f"internal error: {type(exc).__name__}: {exc}"
        hint = "" if options.verbose else " (run with --verbose for the traceback)"
        print(f"{PROG}: {terminal_safe(message)}{hint}", file=sys.stderr)
        write_error_outputs(options, message, ExitCode.ERROR)
        publish_error(options, message, ExitCode.ERROR)
        return ExitCode.ERROR


def _close_stdout() -> None:
    """Standard output sent to /dev/null from here on: writing to a closed pipe fails every time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (a test's captured output): nothing to close
        pass


def report_error(argv: Sequence[str], message: str, exit_code: ExitCode) -> None:
    """Write the error outputs `argv` names and tell the CI platform, for an error found before
    a command could run (the GitHub Action's entry point: an input it cannot use). `argv` is a
    command line of the gate that names the output files and the CI options."""
    with _inert_on_github():
        options = options_from(build_parser().parse_args(argv), os.environ, dt.datetime.now(dt.UTC))
        write_error_outputs(options, message, exit_code)
        publish_error(options, message, exit_code)


INTERRUPTED = "interrupted before a verdict"
"""The error the outputs of an interrupted run (Ctrl-C, a cancelled job's SIGTERM) say."""


def report_interrupted(argv: Sequence[str]) -> None:
    """Write the error outputs `argv` names for a run interrupted before its command ran (the
    GitHub Action's entry point, cancelled while `data fetch` ran before the gate), as an
    interrupted command writes them; the platform is not told, as a cancelled job is seen as such."""
    with _inert_on_github():
        options = options_from(build_parser().parse_args(argv), os.environ, dt.datetime.now(dt.UTC))
        write_error_outputs(options, INTERRUPTED, ExitCode.INTERRUPTED)


def run() -> None:
    """The command line as a program: `container-gate` and `python -m gate` run it through
    gate/__main__.py, which catches a Ctrl-C while this module imports."""
    # A CI log with LANG=C must not turn a package title with non-ASCII text into a crash.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    sys.exit(main())
