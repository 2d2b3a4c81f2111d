"""What a run leaves behind: the output files, the terminal text, and what the CI platform is told.

Every requested file is written whatever the verdict; on an error the ones that can carry an error
are written too, so no stale pass from an earlier run is left behind. Renderers return text; the
files are written here, the only place besides the report and policy readers that touches them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import itertools
import os
import stat
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, TextIO, runtime_checkable

from gate._part_files import open_part, remove_abandoned_parts
from gate.cli.options import PROG, Options, OutputFormat
from gate.cli.run_by import run_wording
from gate.errors import GateError, UsageError
from gate.platforms.interface import PublishContext, Published
from gate.platforms.select import run_server, select_publisher
from gate.policy.evaluation import Evaluation
from gate.policy.model import Policy
from gate.render.terminal import WIDTH, fitted_width
from gate.untrusted import terminal_safe

if TYPE_CHECKING:
    from gate.render._gitlab_remediations import DockerfileText
    from gate.render.gitlab import GitLabReportOptions

Render = Callable[[Evaluation, Options], "str | Iterable[bytes]"]
"""A verdict's text for one output file: whole, or, for the outputs that grow with the report,
as UTF-8 chunks that are written as they are made (never held whole: docs/performance.md)."""
RenderError = Callable[[str, int, Options], str]
"""The text of one output file when the gate could not decide."""


@runtime_checkable
class _Noticed(Protocol):
    """Chunks of an output that may leave part of the verdict out (SARIF, at GitHub's limits)."""

    def __iter__(self) -> Iterator[bytes]: ...

    def notice(self) -> str | None:
        """One line on what the output leaves out, else None."""
        ...


def repo_relative(path: str) -> str:
    """A path as a URI relative to the repository root (the workspace in CI, else the current
    directory), as code scanning needs for locations.

    A relative path is relative to the current directory when that is a folder of the
    repository, as `--dockerfile` is read from there: a job that runs in `services/api` points
    at `services/api/Dockerfile`, not at the root's. From a directory outside the repository, it
    is taken as relative to the root.
    """
    root = Path(os.environ.get("GITHUB_WORKSPACE") or os.environ.get("CI_PROJECT_DIR") or Path.cwd())
    target = Path(path)
    if not target.is_absolute():
        folder = _folder_in(Path.cwd().resolve(), root.resolve())
        if folder is None:  # the usual case: run at the root, the path is already the URI's
            return target.as_posix()
        target = root / folder / target
    try:
        return target.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{path}: not inside the repository {root}, where the SARIF output's locations must "
            "point (code scanning shows files of the repository); give a path relative to it"
        ) from None


def _folder_in(here: Path, root: Path) -> Path | None:
    """`here` relative to `root` when it is a folder below it, else None (the root or outside)."""
    if here == root or not here.is_relative_to(root):
        return None
    return here.relative_to(root)


# Each renderer is imported when its output is asked for: together they are a tenth of the
# command's start-up, and most runs ask for one or two of them.


def _gitlab_options(options: Options) -> GitLabReportOptions:
    from gate.render.gitlab import GitLabReportOptions

    return GitLabReportOptions(
        start_time=options.started_at,
        end_time=dt.datetime.now(dt.UTC),
        image=options.policy.image_name or os.environ.get("CS_IMAGE"),
        default_branch_image=options.outputs.default_branch_image
        or os.environ.get("CS_DEFAULT_BRANCH_IMAGE"),
        dockerfile=_dockerfile_text(options),
        json_hint=run_wording().json_report,
    )


def _dockerfile_text(options: Options) -> DockerfileText | None:
    """The Dockerfile for the report's patches, when it is in the repository and readable: the
    patches name it by its path there. Without it the report has no patches, nothing else changes."""
    from gate.render._gitlab_remediations import DockerfileText

    path = _in_repository(options.dockerfile)
    if path is None or options.dockerfile is None:
        return None
    try:
        return DockerfileText(path, options.dockerfile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _render_json(evaluation: Evaluation, _options: Options) -> Iterable[bytes]:
    from gate.render.json import json_chunks

    return json_chunks(evaluation)


def _json_error(message: str, exit_code: int, _options: Options) -> str:
    from gate.render.json import render_error_json

    return render_error_json(message, exit_code)


def _render_markdown(evaluation: Evaluation, _options: Options) -> str:
    from gate.render.markdown import render_markdown

    return render_markdown(evaluation, json_hint=run_wording().json_report, own_server=run_server(os.environ))


def _markdown_error(message: str, exit_code: int, _options: Options) -> str:
    from gate.render.markdown import render_markdown_error

    return render_markdown_error(message, exit_code)


def _render_gitlab(evaluation: Evaluation, options: Options) -> Iterable[bytes]:
    from gate.render.gitlab import GitLabChunks

    return GitLabChunks(evaluation, _gitlab_options(options))


def _gitlab_error(message: str, exit_code: int, options: Options) -> str:
    from gate.render.gitlab import render_gitlab_error

    return render_gitlab_error(message, exit_code, _gitlab_options(options))


def _render_junit(evaluation: Evaluation, _options: Options) -> Iterable[bytes]:
    from gate.render.junit import junit_chunks

    return junit_chunks(evaluation)


def _junit_error(message: str, exit_code: int, _options: Options) -> str:
    from gate.render.junit import render_junit_error

    return render_junit_error(message, exit_code)


def _render_sarif(evaluation: Evaluation, options: Options) -> Iterable[bytes]:
    from gate.render.sarif import SarifOptions, sarif_output

    dockerfile = repo_relative(str(options.dockerfile)) if options.dockerfile else None
    # Code scanning needs a file for every result: the one named, else the Dockerfile the run read
    # (a result without its line goes on line 1 of it), else `Dockerfile`.
    named = options.outputs.sarif_location
    location = repo_relative(named) if named else dockerfile or repo_relative("Dockerfile")
    sarif = SarifOptions(
        location_uri=location,
        dockerfile_uri=dockerfile,
        category=options.outputs.sarif_category,
        json_hint=run_wording().json_report,
        own_server=run_server(os.environ),
    )
    return sarif_output(evaluation, sarif)


RENDERERS: dict[OutputFormat, tuple[Render, RenderError | None]] = {
    OutputFormat.JSON: (_render_json, _json_error),
    OutputFormat.MARKDOWN: (_render_markdown, _markdown_error),
    OutputFormat.GITLAB: (_render_gitlab, _gitlab_error),
    OutputFormat.JUNIT: (_render_junit, _junit_error),
    # No SARIF on an error: an upload of an empty run would close every open alert, so the
    # file is removed instead and the upload step fails visibly.
    OutputFormat.SARIF: (_render_sarif, None),
}
"""Per output: the renderer of a verdict, and the one of "could not decide" (None: remove the file)."""


STDOUT = "-"
"""An output path that means standard output (`--json -`); the terminal summary then goes to
standard error, so that standard output holds the one document."""


_WRITE_BUFFER = 1 << 20


def write_text(path: str, text: str | Iterable[bytes]) -> None:
    """Write an output file, creating its directory; a failure is a usage error naming the path.

    `text` is the whole text, or its UTF-8 chunks, written one at a time. The file appears whole
    or not at all (a device or a named pipe is written in place). A chunk that cannot be made (an
    error raised while rendering) leaves no half-written file: the file is removed.
    """
    chunks = iter((text.encode("utf-8"),) if isinstance(text, str) else text)
    # The first chunk before the file is opened: most rendering errors leave the file untouched.
    first = next(chunks, b"")
    if path == STDOUT:
        from gate.platforms.github_commands import write_own

        for chunk in itertools.chain((first,), chunks):
            # Each chunk is whole characters; a stand-in stdout (tests) may have no byte buffer.
            # The document's bytes are its format's (`--json - | jq`): written as they are.
            write_own(sys.stdout, chunk.decode("utf-8"))
        sys.stdout.flush()
        return
    target = Path(path)
    if target.name in ("", ".."):
        # `.`, `/`, `..`, `out/..`: a directory, and no name to write a file beside it under (a
        # rename over `..` fails as "Device or resource busy", after making `out`).
        raise UsageError(f"{path}: cannot write output file: Is a directory")
    if read_only(target):
        # The rename below would replace it whatever its mode, as writing it in place would not.
        raise UsageError(f"{path}: cannot write output file: {READ_ONLY}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if _device_or_pipe(target):
            with target.open("wb", buffering=_WRITE_BUFFER) as handle:
                _write_chunks(handle, first, chunks, target)
            return
        # Written beside the file under another name, then renamed over it: a reader (a later
        # step, an upload) sees the earlier file or the whole new one, never part of it, and a
        # symbolic link at `path` (one a checked-out pull request may plant) is replaced, not
        # followed to a file elsewhere.
        remove_abandoned_parts(target)
        part, descriptor = open_part(target)
        # A megabyte of buffer: the chunks are small, and the default 8 KB buffer took half of
        # the writing's time in system calls (docs/performance.md).
        with open(descriptor, "wb", buffering=_WRITE_BUFFER) as out:
            try:
                _write_chunks(out, first, chunks, target)
                out.flush()
                # Renamed while this run still holds the lock: another run never takes it for
                # the file of a killed run.
                os.replace(part, target)
            except BaseException:
                part.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    out.close()  # it flushes what is left: on a full disk that fails again
                raise
    except (FileExistsError, NotADirectoryError) as exc:
        # `--json report.json/gate.json`: the system says "File exists" or "Not a directory".
        above = next((str(p) for p in reversed(target.parents) if p.exists() and not p.is_dir()), None)
        why = f"{above} is a file, not a directory" if above else exc.strerror or str(exc)
        raise UsageError(f"{path}: cannot write output file: {why}") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot write output file: {exc.strerror or exc}") from exc


READ_ONLY = "the file is read-only (make it writable, or remove it)"


def read_only(target: Path) -> bool:
    """Whether `target` is a regular file made read-only (`chmod a-w`: no write permission for
    anyone), which root, whom modes do not stop, leaves alone too. The gate neither replaces nor
    removes it: its user kept it from being changed. A file that only this process may not write
    (another user's, left by an earlier job run as root) is replaced as any output is, when its
    directory allows it, and a read-only file system is said as such by the write."""
    try:
        found = os.lstat(target)
    except OSError:
        return False
    if not stat.S_ISREG(found.st_mode):
        return False  # a symbolic link is replaced, not followed
    return not found.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def _device_or_pipe(target: Path) -> bool:
    """Whether `target` is (or links to) something other than a file or a directory, such as
    /dev/null, /dev/stdout or a named pipe: written in place, as the user asked for a stream."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _write_chunks(handle: BinaryIO, first: bytes, chunks: Iterator[bytes], target: Path) -> None:
    """The chunks into `handle`; a chunk that cannot be made (an error raised while rendering)
    also removes the earlier file at `target`, so no stale output outlives this run."""
    try:
        handle.write(first)
        for chunk in chunks:
            handle.write(chunk)
    except GateError:
        handle.close()
        if not _device_or_pipe(target):  # never a device or a named pipe written in place
            target.unlink(missing_ok=True)
        raise


def write_outputs(evaluation: Evaluation, options: Options) -> tuple[list[GateError], list[str]]:
    """Write every requested output; return the failures, so one bad path loses no other file,
    and the notices of outputs that leave part of the verdict out (`path: what`). An output that
    fails leaves no file of an earlier run behind: the run exits 2, and a later step (a SARIF
    upload) must not publish the earlier verdict."""
    failures: list[GateError] = []
    notices: list[str] = []
    for kind, path in options.outputs.files.items():
        render, _error = RENDERERS[kind]
        try:
            text = render(evaluation, options)
            write_text(path, text)
        except GateError as exc:
            failures.append(exc)
            if not Path(path).is_dir() and not read_only(Path(path)):
                remove_stale(path)
            continue
        notice = text.notice() if isinstance(text, _Noticed) else None
        if notice:
            notices.append(f"{'standard output' if path == STDOUT else path}: {notice}")
    return failures, notices


def write_error_outputs(options: Options, message: str, exit_code: int) -> None:
    """On an error, write the outputs that can say so; never let one failure hide another."""
    for kind, path in options.outputs.files.items():
        _render, error = RENDERERS[kind]
        if error is None:
            remove_stale(path)
            continue
        try:
            write_text(path, error(message, exit_code, options))
        except GateError as exc:
            print(f"{PROG}: error: {terminal_safe(exc.diagnostics())}", file=sys.stderr)
        except OSError as exc:
            print(
                f"{PROG}: error: {terminal_safe(path)}: cannot write the error output: {exc.strerror}",
                file=sys.stderr,
            )
    # An earlier run's decisions must not outlive this one: trivy --vex or grype --vex reading
    # them would still treat findings as not affected that this policy no longer allowlists.
    remove_stale(options.enrichment.openvex)
    if options.compare is not None:
        # compare's documents have no error form: an earlier table must not pass for this run's.
        remove_stale(options.compare.json)
        remove_stale(options.compare.markdown)


class OutputIsInput(UsageError):
    """An output file that is one of the files the policy names: nothing may be written to it,
    not even the error documents. `inputs`: the real paths of the files the policy names."""

    def __init__(self, message: str, inputs: Collection[str]) -> None:
        super().__init__(message)
        self.inputs = frozenset(inputs)


def remove_stale_outputs(options: Options, kept: Collection[str]) -> None:
    """Remove an earlier run's file at every output path of `options` but those whose real path
    is in `kept` (the inputs): a run refused before it wrote anything leaves no pass behind."""
    for _flag, path in _written(options):
        if path and path != STDOUT and os.path.realpath(path) not in kept:
            remove_stale(path)


def policy_file_clash(options: Options, policy: Policy) -> None:
    """Refuse an output that is a file the policy names (`vex:`, `exploit_data:`), once the policy
    is read and before anything is written: the run would replace what it reads, as the command
    line's own inputs are refused for (gate/cli/main.py)."""
    named = [(f"vex[{index}]", path) for index, path in enumerate(policy.vex)]
    named += [
        (f"exploit_data.{key}", path)
        for key, path in (("kev", policy.exploit_data.kev), ("epss", policy.exploit_data.epss))
        if path is not None
    ]
    read = {os.path.realpath(path): (key, path) for key, path in named}
    for flag, path in _written(options):
        if path and path != STDOUT and os.path.realpath(path) in read:
            key, source = read[os.path.realpath(path)]
            raise OutputIsInput(
                f"{flag} {path}: the same file as the policy's {key} ({source}), which this run "
                "reads; an output never replaces an input",
                read,
            )


def _written(options: Options) -> list[tuple[str, str | None]]:
    """Every output file of a run, by the flag that names it."""
    outputs: list[tuple[str, str | None]] = [
        (f"--{kind.value}", path) for kind, path in options.outputs.files.items()
    ]
    outputs.append(("--openvex", options.enrichment.openvex))
    if options.compare is not None:
        outputs += [("--json", options.compare.json), ("--markdown", options.compare.markdown)]
    return outputs


def remove_earlier_output(path: str) -> bool:
    """Remove the file an earlier run wrote at an output's path, when this run writes none there;
    whether there was one. A path that cannot hold the output (a directory) or whose file cannot
    be removed is a usage error naming it, as an output that cannot be written is."""
    if path == STDOUT:
        return False
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path}: cannot write output file: {os.strerror(errno.EISDIR)}")
    if _device_or_pipe(target):
        return False  # /dev/null, a named pipe: no earlier output there, and never removed
    if read_only(target):
        raise UsageError(f"{path}: cannot remove the earlier output file: {READ_ONLY}")
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UsageError(f"{path}: cannot remove the earlier output file: {exc.strerror or exc}") from exc
    return True


def remove_stale(path: str | None) -> bool:
    """Remove an output file an earlier run may have left, when this run writes none there;
    whether there was one. A failure is told on standard error, never raised."""
    if not path or path == STDOUT:
        return False
    if _device_or_pipe(Path(path)):
        # /dev/null, a named pipe: no earlier output there, and removing it (the gate often runs
        # as root in CI) would break the system for every later step.
        return False
    if read_only(Path(path)):
        print(
            f"{PROG}: error: {terminal_safe(path)}: cannot remove stale output: {READ_ONLY}", file=sys.stderr
        )
        return False
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        if not os.path.lexists(path):
            # A read-only file system refuses even to remove what is not there (EROFS before
            # ENOENT): nothing stale, and the output's own error says why it was not written.
            return False
        print(
            f"{PROG}: error: {terminal_safe(path)}: cannot remove stale output: {exc.strerror}",
            file=sys.stderr,
        )
        return False
    return True


def summary_width(stream: TextIO) -> int:
    """The columns the terminal summary fits in when written to `stream`: a terminal's width
    (within the renderer's bounds), else exactly `WIDTH`, so a CI log, a file or a pipe reads the
    same wherever it was made."""
    columns = terminal_columns(stream)
    return fitted_width(columns) if columns is not None else WIDTH


def terminal_columns(stream: TextIO) -> int | None:
    """The width of the terminal `stream` writes to, or None: not a terminal, or one that reports
    no size (0 columns, as a serial console may).

    Measured as `shutil.get_terminal_size` does (a positive `COLUMNS` first, else the terminal's
    own size), but of `stream` itself: with an output on standard output the summary goes to
    standard error, and `shutil` would ask standard output, a pipe then."""
    try:
        if not stream.isatty():
            return None
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a stream without a file, or a closed one
        return None
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(descriptor).columns
        except OSError:
            return None
    return columns if columns > 0 else None


def print_report_text(text: str, stream: TextIO | None = None) -> None:
    """Print text that carries report content (to stdout unless `stream` says otherwise).

    On GitHub Actions a line starting with `::` (on stdout or stderr) is a workflow command, so
    a hostile vulnerability id at the start of a table row could set outputs or mask values.
    Commands are switched off around the text with a one-time token, as GitHub documents for
    printing untrusted content (`::stop-commands::`).
    """
    out = stream or sys.stdout
    if os.environ.get("GITHUB_ACTIONS") == "true":
        import secrets  # only here: hmac and hashlib are a few ms of every start-up

        from gate.platforms.github_commands import write_own

        token = secrets.token_hex(16)
        # The runner resumes commands only on a line that is exactly `::TOKEN::`: without a line
        # end before it, every later line of the step (the gate's annotations too) is ignored.
        end = "" if not text or text.endswith("\n") else "\n"
        write_own(out, f"::stop-commands::{token}\n{text}{end}::{token}::\n")
    else:
        out.write(text)
    out.flush()


def _in_repository(path: object) -> str | None:
    """`repo_relative`, or None for a path outside the repository: annotations need a file in
    the repository, and a file elsewhere is no reason to fail a run (SARIF says so itself)."""
    try:
        return repo_relative(str(path)) if path else None
    except UsageError:
        return None


def publish_context(
    options: Options,
    *,
    error: bool = False,
    failure: GateError | None = None,
    error_at: tuple[str, int] | None = None,
) -> PublishContext:
    """What the platform publisher gets from this run; with `error`, only the output files
    that were written to say the gate could not decide, and where the error is (`error_at`, a
    file and line, kept when the file is in the repository); `failure`, the error the run exits
    with although the verdict is known."""
    in_repository = _in_repository(error_at[0]) if error_at is not None else None
    return PublishContext(
        env=dict(os.environ),
        # The files written: one that could not be written (a directory, a failed render) is
        # not named, as the action's `*-file` outputs promise ("empty when none was").
        outputs={
            kind.value: path
            for kind, path in options.outputs.files.items()
            if (not error or RENDERERS[kind][1] is not None) and path != STDOUT and Path(path).is_file()
        },
        comment=options.publish.comment,
        dockerfile=_in_repository(options.dockerfile),
        image=options.image,
        platform=options.scan.platform if options.scan else None,
        location=_in_repository(options.outputs.sarif_location),
        error_at=(in_repository, error_at[1]) if in_repository and error_at is not None else None,
        failure=failure,
        wording=run_wording(),
    )


def show_notices(notices: Iterable[str]) -> None:
    """What the outputs leave out, on standard error (standard output may hold a document)."""
    for notice in notices:
        print(f"{PROG}: warning: {terminal_safe(notice)}", file=sys.stderr)


def show_published(platform: str, published: Published, options: Options, *, log_notes: bool = False) -> None:
    """What a publisher did: its workflow commands on standard output (where the runner reads
    them), what it did for --verbose (and, with `log_notes`, in a GitHub Actions log), and its
    warnings: on GitHub Actions as `::warning::` annotations, elsewhere on standard error."""
    if published.log:
        from gate.platforms.github_commands import write_own

        write_own(sys.stdout, "".join(f"{line}\n" for line in published.log))
        sys.stdout.flush()
    on_github = platform == "github" and os.environ.get("GITHUB_ACTIONS") == "true"
    # In a workflow's log the notes of a verdict say where the comment went, or why there is none
    # (a push, a schedule, a merge queue): the step has no --verbose to ask for them. An error
    # stays the one line that says what is wrong, and --quiet keeps the verdict line alone.
    if options.verbose or (on_github and log_notes and not options.outputs.quiet):
        for note in published.notes:
            print(f"{PROG}: {platform}: {terminal_safe(note)}", file=sys.stderr)
    if on_github:
        from gate.platforms.github_commands import workflow_command, write_own

        # A warning on stderr is one log line among hundreds; as a workflow command it is an
        # annotation on the run's summary page, where a missing comment is noticed.
        write_own(
            sys.stdout,
            "".join(f"{workflow_command('warning', warning)}\n" for warning in published.warnings),
        )
        sys.stdout.flush()
        return
    for warning in published.warnings:
        print(f"{PROG}: warning: {terminal_safe(warning)}", file=sys.stderr)


def watched(*, quiet: bool = False) -> bool:
    """Whether progress is shown on standard error: a person's terminal (not a CI log or a
    redirected stream), one that understands the status line's redrawing (not `TERM=dumb`),
    and no --quiet."""
    return not quiet and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def check_publishing(options: Options) -> None:
    """Stop, before anything is read or scanned, at a CI setting the publisher could not use: on
    GitHub Actions, a CONTAINER_GATE_PULL_REQUEST that is no pull request's number (exit 2)."""
    if select_publisher(options.publish.ci, os.environ).name != "github":
        return
    from gate.platforms.github_event import pull_request_variable

    _number, problem = pull_request_variable(os.environ)
    if problem is not None:
        raise UsageError(problem)


def publish(evaluation: Evaluation, options: Options, failure: GateError | None = None) -> None:
    """Publish to the CI platform, if any, with the error the run exits with although the verdict is
    known (`failure`); a broken CI environment is raised once the rest is shown."""
    publisher = select_publisher(options.publish.ci, os.environ)
    published = publisher.publish(evaluation, publish_context(options, failure=failure))
    show_published(
        publisher.name, published, options, log_notes=failure is None and published.failure is None
    )
    if published.failure is not None:
        raise published.failure


def publish_error(options: Options, message: str, exit_code: int, at: tuple[str, int] | None = None) -> None:
    """Tell the CI platform the gate could not decide, and where the error is (`at`: a file and
    line); a failure here must not hide the first."""
    publisher = select_publisher(options.publish.ci, os.environ)
    published = publisher.publish_error(message, exit_code, publish_context(options, error=True, error_at=at))
    show_published(publisher.name, published, options)
    if published.failure is not None:
        print(f"{PROG}: error: {terminal_safe(published.failure.diagnostics())}", file=sys.stderr)
