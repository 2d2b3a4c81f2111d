"""The `scan` command's image, scanner and DB options, and the `ScanRequest` they make."""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gate._input_file import STANDARD_INPUT_ONLY_FOR_REPORTS
from gate.build_args import VARIABLE as BUILD_ARGS_VARIABLE
from gate.build_args import parse_build_arg, split_build_args
from gate.cli.run_by import run_wording
from gate.errors import UsageError
from gate.scanners.options import (
    DEFAULT_MAX_DB_AGE,
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    BaseCheckMode,
    ScannerChoice,
    ScanOptions,
    parse_max_age,
)

if TYPE_CHECKING:
    from gate.scanners.run import ScanRequest

_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


def is_platform(text: str) -> bool:
    """Whether `--platform` takes `text` (OS/ARCH[/VARIANT])."""
    return _PLATFORM.fullmatch(text) is not None


def _platform(text: str) -> str:
    if not is_platform(text):
        raise argparse.ArgumentTypeError(
            f"expected OS/ARCH such as linux/amd64 or linux/arm64/v8, got {text!r}"
        )
    return text


def _max_age(text: str) -> dt.timedelta:
    try:
        return parse_max_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _build_arg(text: str) -> tuple[str, str]:
    parsed = parse_build_arg(text)
    if parsed is None:
        # What was given is not quoted: a build argument can hold a secret (a package index's
        # token), and this message also goes to the CI log, the error outputs and the summary.
        raise argparse.ArgumentTypeError(
            "expected NAME=VALUE, such as BASE=python:3.12-slim, NAME of letters, digits and _ "
            "(what was given is not shown: a build argument can hold a secret)"
        )
    return parsed


def _seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds above 0 and at most {MAX_TIMEOUT:g}, got {text!r}"
        )
    return value


_TRANSPORTS = ("docker-archive:", "oci-archive:", "docker-daemon:", "docker://")


# What a report, an archive or another file the gate reads is named, and an image is not; `.txt`
# is a scanner's table output saved (`trivy image app:1 > report.txt`).
_FILE_SUFFIXES = (".json", ".sarif", ".xml", ".csv", ".gz", ".tgz", ".tar", ".yaml", ".yml", ".txt")


def names_a_file(reference: str) -> bool:
    """Whether an image reference without a transport prefix is a report or an archive here,
    given where an image goes (`compare a.json b.json`), which would otherwise be looked for in
    the engine and then pulled from Docker Hub (`docker.io/library/a.json`). A file named as the
    image is (`myapp`, a program the build made beside its Dockerfile) does not count: the name
    must end as such files do."""
    return (
        not reference.startswith(_TRANSPORTS)
        and reference.lower().endswith(_FILE_SUFFIXES)
        and os.path.isfile(reference)  # False for a name too long, where Path.is_file raises
    )


def too_long(text: str) -> bool:
    """Whether the system refuses `text` as a path for its length (a name of more than 255 bytes
    on most systems)."""
    try:
        os.stat(text)
    except OSError as exc:
        return exc.errno == errno.ENAMETOOLONG
    except ValueError:  # a NUL character: never in a command line
        return False
    return False


def refuse_too_long(text: str) -> None:
    """A usage error for a path `too_long`, said once here: otherwise each place that looks at
    the file raised it as an internal error."""
    if too_long(text):
        raise argparse.ArgumentTypeError(
            f"{text}: file name too long (a name in a path is at most 255 bytes on most systems)"
        )


def given_path(text: str) -> Path:
    """A file the run reads; empty is a usage error (most often a CI variable that expanded to
    nothing), where Path("") would be the working directory, and so is `-`, which people give
    for standard input (`--policy -` was read as a missing file named `-`)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "expected a file, got nothing (is the CI variable that should hold it set?)"
        )
    if text == "-":
        raise argparse.ArgumentTypeError(f"expected a file path, got -: {STANDARD_INPUT_ONLY_FOR_REPORTS}")
    refuse_too_long(text)
    return Path(text)


def given_directory(text: str) -> Path:
    """A directory the run reads and writes; empty is a usage error (most often a CI variable that
    expanded to nothing), where Path("") would be the working directory: a scanner's DB cache
    there fills the checkout with its files."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "expected a directory, got nothing (is the CI variable that should hold it set?)"
        )
    refuse_too_long(text)
    return Path(text)


_STANDARD_OUTPUT_FILES = frozenset({"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})
"""The names of standard output as a file: taken for `-`, so that the terminal summary goes to
standard error rather than into the document (`--json /dev/stdout | jq`)."""


def output_path(text: str) -> str:
    """A file the run writes (`-`: standard output); empty is a usage error, where it wrote nothing
    without a word."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "expected a file to write (or - for standard output), got nothing "
            "(is the CI variable that should hold it set?)"
        )
    refuse_too_long(text)
    return "-" if text in _STANDARD_OUTPUT_FILES else text


class GivenOnce(argparse.Action):
    """Store the option's value; a second, different one is a usage error. argparse keeps the
    last: `--policy strict.yaml --policy advisory.yaml` passed under the advisory policy without a
    word, and `--json a.json --json b.json` left an earlier a.json standing."""

    lenient = False
    """Take the last value without a word (the command line read again for its error outputs)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        given = getattr(namespace, self.dest, None)
        if given is not None and given != values and not self.lenient:
            parser.error(f"{option_string} given twice ({given}, then {values}): give it once")
        setattr(namespace, self.dest, values)


def add_platform_argument(group: argparse._ArgumentGroup, more: str = "") -> None:
    """`--platform OS/ARCH`; `more` ends its help text, inside its parenthesis."""
    group.add_argument(
        "--platform",
        metavar="OS/ARCH",
        type=_platform,
        help="the platform to scan in a multi-platform image, with its variant when it has one, such "
        "as linux/arm64 or linux/arm/v7 (default: the only one, else this "
        f"machine's, as docker pull picks{more})",
    )


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    """The `scan` command's image, scanner and DB options."""
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="name:tag (the local engine if it has it, else its registry), docker-daemon:REF (engine only), "
        "docker://REF (registry only), docker-archive:PATH or oci-archive:PATH",
    )
    image = parser.add_argument_group("image")
    add_platform_argument(image)
    image.add_argument(
        "--base-image",
        metavar="REF",
        help="the image IMAGE is built FROM (same forms as IMAGE): "
        "its layers are the base, the rest are your own (default: the image's "
        "org.opencontainers.image.base.name label, else the FROM of --dockerfile)",
    )
    image.add_argument(
        "--dockerfile",
        metavar="PATH",
        type=given_path,
        action=GivenOnce,
        help="the Dockerfile IMAGE was built from, to point findings at its lines",
    )
    image.add_argument(
        "--build-arg",
        metavar="NAME=VALUE",
        type=_build_arg,
        action="append",
        default=[],
        help="a build argument IMAGE was built with, as docker build --build-arg (repeatable): fills the "
        "--dockerfile's ARGs, such as the one of FROM ${BASE} (default: the ARGs' own defaults); "
        f"${BUILD_ARGS_VARIABLE} gives more, one NAME=VALUE per line, before these",
    )
    # Two spellings of one choice: argparse matches a whole `--check-base=best-effort` before it
    # splits at `=`, so `--check-base IMAGE` never takes IMAGE as the option's value.
    check = image.add_mutually_exclusive_group()
    check.add_argument(
        "--check-base",
        dest="check_base",
        action="store_const",
        const=BaseCheckMode.REQUIRED,
        default=BaseCheckMode.OFF,
        help="also check the base image against what its tag points to now, over the registry: how many "
        "days behind it is, and which findings rebuilding on it removes (a check that cannot run is "
        "a warning; an error where the policy fails a stale base)",
    )
    check.add_argument(
        "--check-base=best-effort",
        dest="check_base",
        action="store_const",
        const=BaseCheckMode.BEST_EFFORT,
        help="the same, but a check that cannot run is only ever a warning",
    )
    add_scanner_arguments(parser)


def add_scanner_arguments(parser: argparse.ArgumentParser) -> None:
    """The scanner and DB options that `scan` and `compare` share."""
    scanners = parser.add_argument_group("scanners and vulnerability DB")
    scanners.add_argument(
        "--scanner",
        choices=[c.value for c in ScannerChoice],
        default="trivy",
        help="trivy (default), grype, or both: findings are merged and each says which scanners found it",
    )
    scanners.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=given_directory,
        action=GivenOnce,
        help="the scanners' DB cache (Grype's in DIR/grype); cache it between CI jobs (default: each "
        "scanner's own, ~/.cache/trivy and ~/.cache/grype)",
    )
    scanners.add_argument(
        "--skip-db-update",
        action="store_true",
        help="never download a DB: use the one in --cache-dir (air-gapped runs; a missing DB is an error)",
    )
    scanners.add_argument(
        "--db-repository",
        metavar="REPO",
        action="append",
        default=[],
        help="OCI repository Trivy downloads its DB from, such as mirror.gcr.io/aquasec/trivy-db:2 "
        "(repeatable, tried in order: mirrors; default: Trivy's own)",
    )
    scanners.add_argument(
        "--grype-db-url",
        metavar="URL",
        help="where Grype looks for DB updates (a mirror; default: Grype's own)",
    )
    scanners.add_argument(
        "--trivy-server",
        metavar="URL",
        help="scan as the client of a Trivy server, which owns the DB, such as http://trivy:4954 "
        "(default: none, Trivy runs here)",
    )
    scanners.add_argument(
        "--scan-timeout",
        metavar="S",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds each scanner may take (default: {DEFAULT_TIMEOUT:g}, at most {MAX_TIMEOUT:g})",
    )
    scanners.add_argument(
        "--max-db-age",
        metavar="AGE",
        type=_max_age,
        default=DEFAULT_MAX_DB_AGE,
        help="warn when a DB is older than this, in days (d) or hours (h), such as 5d or 36h (default: 5d)",
    )
    scanners.add_argument(
        "--max-db-age-strict", action="store_true", help="an older DB is an error (exit 3), not a warning"
    )
    scanners.add_argument(
        "--trivy-bin",
        metavar="PATH",
        help="the Trivy binary (default: $TRIVY_BIN, else trivy on PATH or beside this Python)",
    )
    scanners.add_argument(
        "--grype-bin",
        metavar="PATH",
        help="the Grype binary (default: $GRYPE_BIN, else grype on PATH or beside this Python)",
    )


def scan_options(args: argparse.Namespace, env: Mapping[str, str], now: dt.datetime) -> ScanOptions:
    """How the scanners run, from the parsed scanner and DB options."""
    return ScanOptions(
        env=env,
        now=now,
        cache_dir=args.cache_dir,
        skip_db_update=args.skip_db_update,
        db_repositories=tuple(args.db_repository),
        trivy_server=args.trivy_server,
        grype_db_url=args.grype_db_url,
        timeout=args.scan_timeout,
        max_db_age=args.max_db_age,
        max_db_age_strict=args.max_db_age_strict,
        trivy_bin=args.trivy_bin,
        grype_bin=args.grype_bin,
        wording=run_wording(),
    )


def scan_request(args: argparse.Namespace, env: Mapping[str, str], now: dt.datetime) -> ScanRequest:
    """The request for parsed `scan` arguments, the process environment and the current time."""
    # Imported here: the module that runs scans is for `scan` (see gate/cli/commands.py).
    from gate.scanners.run import ScanRequest

    return ScanRequest(
        reference=args.image,
        scanner=ScannerChoice(args.scanner),
        options=scan_options(args, env, now),
        platform=args.platform,
        base_image=args.base_image,
        dockerfile=args.dockerfile,
        build_args=tuple(args.build_arg),
        check_base=args.check_base,
    )


def with_variable_build_args(request: ScanRequest) -> ScanRequest:
    """`request` with the build arguments of CONTAINER_GATE_BUILD_ARGS in its environment (one
    NAME=VALUE per line, as the GitHub Action's `build-args`) before those of `--build-arg`, so
    a `--build-arg` of the same name wins, as a later one does with docker build. The variable
    keeps the values off the command line, where `ps` shows them. UsageError, naming the
    variable and the line's number but never a value, for a line that is not NAME=VALUE, or
    for build arguments without `--dockerfile`."""
    lines = _variable_lines(request.options.env.get(BUILD_ARGS_VARIABLE, ""))
    from_variable = tuple(parsed for line in lines if (parsed := parse_build_arg(line)) is not None)
    if request.dockerfile is None:
        if request.build_args:
            raise UsageError("--build-arg needs --dockerfile PATH: it fills the ARGs of that Dockerfile")
        if from_variable:
            raise UsageError(
                f"{BUILD_ARGS_VARIABLE} (build arguments) needs --dockerfile PATH: they fill the ARGs "
                "of that Dockerfile"
            )
    return replace(request, build_args=(*from_variable, *request.build_args))


def _variable_lines(text: str) -> list[str]:
    try:
        return split_build_args(BUILD_ARGS_VARIABLE, text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
