"""What every scanner run shares: the `scan` command's scanner and DB options, and the DB age rule.

The options arrive validated; nothing here reads the environment or the clock: the CLI passes
both in (`ScanOptions.env`, `ScanOptions.now`).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gate.errors import ScannerError
from gate.run_wording import COMMAND_LINE_WORDS, RunWording

DEFAULT_TIMEOUT = 600.0
"""Seconds a scan may take by default (`--scan-timeout`)."""
MAX_TIMEOUT = 86400.0
"""The longest `--scan-timeout`: a day. Waits much longer overflow the OS's timers."""
DEFAULT_MAX_DB_AGE = dt.timedelta(days=5)
"""A DB older than this draws a warning (`--max-db-age`); Trivy publishes its DB every 6 hours and
Grype daily, and Grype itself refuses a DB older than 5 days by default."""

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([dh])$")


class ScannerChoice(enum.Enum):
    """Which scanners `scan` runs (`--scanner`)."""

    TRIVY = "trivy"
    GRYPE = "grype"
    BOTH = "both"


@dataclass(frozen=True)
class ScanOptions:
    """How to run the scanners: the `scan` command's scanner and DB options."""

    env: Mapping[str, str] = field(repr=False)
    """The environment the scanners run in (the gate's own, passed in by the CLI). Left out of the
    repr: it holds tokens, and the build arguments of CONTAINER_GATE_BUILD_ARGS."""
    now: dt.datetime
    """The time the DB age is measured against (timezone-aware)."""
    cache_dir: Path | None = None
    """`--cache-dir`: where the scanners keep their DBs (Grype's goes to `<dir>/grype`)."""
    skip_db_update: bool = False
    """`--skip-db-update`: use the DB in the cache as it is; never download (air-gapped runs)."""
    db_repositories: tuple[str, ...] = ()
    """`--db-repository`: OCI repositories Trivy downloads its DB from, in order (mirrors)."""
    trivy_server: str | None = None
    """`--trivy-server`: a Trivy server URL; Trivy runs as its client and the server owns the DB."""
    grype_db_url: str | None = None
    """`--grype-db-url`: where Grype looks for DB updates (a mirror of its listing)."""
    timeout: float = DEFAULT_TIMEOUT
    """`--scan-timeout`: seconds each scanner may take."""
    max_db_age: dt.timedelta = DEFAULT_MAX_DB_AGE
    """`--max-db-age`: a DB built longer ago than this is a warning."""
    max_db_age_strict: bool = False
    """`--max-db-age-strict`: an old DB is an error instead (exit 3)."""
    trivy_bin: str | None = None
    """`--trivy-bin`: the Trivy binary to run."""
    grype_bin: str | None = None
    """`--grype-bin`: the Grype binary to run."""
    lenient_severity: bool = False
    """The policy's `lenient_severity`: a severity word the scanner does not write reads as a
    missing severity instead of failing the scan."""
    wording: RunWording = COMMAND_LINE_WORDS
    """How the run's user sets these options, for the warnings and errors that name them (the
    command line's options, the action's inputs or the GitLab templates'), and gives a registry's
    credentials, for the errors of a registry that refuses the image or the base image
    (`docker login`, the action's inputs, the GitLab job's Docker config)."""
    registry_ca_file: str | None = None
    """A file of CA certificates the registry reads trust besides the usual ones, the gate's own,
    Trivy's (`--cacert`) and Grype's (`GRYPE_REGISTRY_CA_CERT`): the command line gives a GitLab job's CI_SERVER_TLS_CA_FILE, the CA
    of its GitLab instance, which signs its registry's and Dependency Proxy's certificates too."""


def unused_options(choice: ScannerChoice, options: ScanOptions) -> tuple[str, ...]:
    """Warnings for the DB options of a scanner that `choice` does not run: a mirror or server
    given for it is not used, and the scan takes the other scanner's DB from where it always does."""
    unused: list[tuple[str, str]] = []
    if choice is ScannerChoice.GRYPE:
        if options.db_repositories:
            unused.append(("db-repository", "Trivy"))
        if options.trivy_server:
            unused.append(("trivy-server", "Trivy"))
    if choice is ScannerChoice.TRIVY and options.grype_db_url:
        unused.append(("grype-db-url", "Grype"))
    words = options.wording
    return tuple(
        f"{words.option(option)} is for {scanner}, which {words.option('scanner', choice.value)} "
        "does not run: not used"
        for option, scanner in unused
    )


def parse_max_age(text: str) -> dt.timedelta:
    """`5d`, `36h`, `0.5d` -> a timedelta; ValueError with what is expected otherwise."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"expected a duration such as 5d or 36h, got {text!r}")
    amount = float(match[1])
    try:
        return dt.timedelta(days=amount) if match[2] == "d" else dt.timedelta(hours=amount)
    except OverflowError:  # timedelta stops at 999,999,999 days
        raise ValueError(f"expected a duration such as 5d or 36h, got {text!r}, which is too long") from None


def _age_text(age: dt.timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


def db_age_warnings(
    scanner: str, updated_at: str | None, options: ScanOptions, update_hint: str
) -> tuple[str, ...]:
    """A warning when `scanner`'s DB is older than `--max-db-age`, or an error with `--max-db-age-strict`.

    `updated_at` is the DB's build time (RFC 3339) as the scanner reported it, None when unknown.
    """
    if updated_at is None:
        message = f"{scanner} did not say when its vulnerability DB was built, so its age is unknown"
        if options.max_db_age_strict:
            raise ScannerError(
                message, hint=f"{options.wording.option('max-db-age-strict')} needs a known DB age"
            )
        return (message,)
    try:
        built = dt.datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
    except ValueError:
        raise ScannerError(f"{scanner} reported an unreadable DB build time: {updated_at!r}") from None
    if built.tzinfo is None:
        built = built.replace(tzinfo=dt.UTC)
    age = options.now - built
    if age <= options.max_db_age:
        return ()
    message = (
        f"{scanner}'s vulnerability DB is {_age_text(age)} old (built {updated_at}), "
        f"older than {options.wording.option('max-db-age', _age_text(options.max_db_age))}"
    )
    if options.max_db_age_strict:
        raise ScannerError(message, hint=update_hint)
    return (f"{message}; {update_hint}",)


class BaseCheckMode(enum.Enum):
    """Whether `scan` checks the base image against its tag (`--check-base`)."""

    OFF = "off"
    """No check."""
    REQUIRED = "required"
    """`--check-base`: a check that cannot run is a warning, and an error where the policy makes a
    stale base fail the gate (`base_image.on_stale: fail`)."""
    BEST_EFFORT = "best-effort"
    """`--check-base=best-effort`: a check that cannot run is only ever a warning."""


DEFAULT_JOBS = 2
"""Scans at a time (`--jobs`): each scanner already uses several cores of its own."""


@dataclass(frozen=True)
class BatchItem:
    """One image of a comparison."""

    name: str
    """How its row names it: the image reference as given, or NAME of `NAME=REPORT.json`."""
    image: str | None = None
    """The image to scan, in any form `scan` reads."""
    report: Path | None = None
    """A report a scanner already wrote about it (Trivy, Grype or Snyk JSON)."""


def offline_cache(wording: RunWording) -> str:
    """The request to scan with the DB fetched beforehand into the cache directory DIR, without
    downloading, in the words of the run: its inputs, or `--cache-dir DIR --skip-db-update`."""
    return f"{wording.setting('cache-dir', 'DIR')} and {wording.passing('skip-db-update')}"
