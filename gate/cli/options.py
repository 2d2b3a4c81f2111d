"""What the command line asked for, as typed options: made once from the parsed arguments.

`parser.py` is argparse; everything after it (the commands, the output files, the publishers)
reads these frozen dataclasses and never the argparse namespace. The conversion is the one place
that knows the namespace's attribute names.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from gate.cli.compare_options import CompareRequest, compare_request
from gate.cli.scan_options import scan_request

if TYPE_CHECKING:
    from gate.scanners.run import ScanRequest

PROG = "container-gate"
"""The program's name in help and messages."""


DEFAULT_MAX_REPORT_SIZE = 2_000_000_000
"""`--max-report-size`: 2 GB. Reading a Trivy report file takes 1.3 to 1.7 times its size
in memory, other reports 2 to 3 times (docs/performance.md), and no real scan comes near: 100k
findings are about 350 MB."""

_SIZE_UNITS = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([kmg]?)b?", re.IGNORECASE)


def parse_byte_size(text: str) -> int:
    """`2000000`, `500M`, `1.5G` or `2GB` (powers of 1000) as a number of bytes, at least 1.
    Nothing else: no exponent, no `inf`, no digits of other scripts, no spaces."""
    found = _SIZE.fullmatch(text)
    size = int(Decimal(found[1]) * _SIZE_UNITS[found[2].lower()]) if found else 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"expected a size such as 500M or 2G, got {text!r}")
    return size


class Command(enum.Enum):
    """The command to run."""

    CHECK = "check"
    SCAN = "scan"
    POLICY_VALIDATE = "policy validate"
    EXPLAIN = "explain"
    COMPARE = "compare"
    COMPLETION = "completion"
    DATA_FETCH = "data fetch"


class OutputFormat(enum.Enum):
    """An output file flag (`--json PATH`, ...), in the order the files are written."""

    JSON = "json"
    MARKDOWN = "markdown"
    GITLAB = "gitlab"
    JUNIT = "junit"
    SARIF = "sarif"


@dataclass(frozen=True)
class PolicyOptions:
    """Which policy applies, and how (`check`, `scan`, `explain`; `compare` and `policy validate`
    take some of it)."""

    path: Path | None = None
    """`--policy FILE`; None: the shipped default policy."""
    advisory: bool = False
    """`--advisory`: never fail, whatever the policy's mode."""
    as_of: dt.datetime | None = None
    """`--as-of DATE`, at noon UTC; None: the time of the run."""
    image_name: str | None = None
    """`--image-name REF`: the image the reports describe, for allowlist `image:` globs."""


@dataclass(frozen=True)
class OutputOptions:
    """The output files and what they need besides the evaluation (`check`, `scan`)."""

    files: Mapping[OutputFormat, str] = field(default_factory=dict)
    """The requested output files, in `OutputFormat` order."""
    sarif_location: str | None = None
    """`--sarif-location PATH`: the file SARIF results point at without a Dockerfile line (without
    it, `Dockerfile`); None when not given, so that annotations name no file the run was not told of."""
    sarif_category: str | None = None
    """`--sarif-category ID`."""
    default_branch_image: str | None = None
    """`--default-branch-image REF`, for the GitLab report."""
    quiet: bool = False
    """`--quiet`: print only the verdict line."""


@dataclass(frozen=True)
class PublishOptions:
    """Where the verdict is published (`check`, `scan`)."""

    ci: str = "none"
    """`--ci auto|github|gitlab|none`."""
    comment: bool = False
    """`--comment`: create or update the pull-request comment / merge-request note."""


@dataclass(frozen=True)
class EnrichmentOptions:
    """A baseline and VEX in, OpenVEX out (`check`, `scan`)."""

    baseline: Path | None = None
    """`--baseline FILE`: an earlier decision report."""
    baseline_required: bool = False
    """`--baseline-required`: a baseline that cannot be read is an error, not a warning."""
    vex: tuple[Path, ...] = ()
    """`--vex FILE`, each time given."""
    openvex: str | None = None
    """`--openvex PATH`: where to write the decisions as OpenVEX."""
    baseline_branch: str | None = None
    """`--baseline-branch BRANCH`: the branch whose last pipeline made the baseline."""


@dataclass(frozen=True)
class ExploitOptions:
    """The exploitability data files of a run (`check`, `scan`, `compare`)."""

    kev: Path | None = None
    """`--kev FILE`; None: the policy's `exploit_data.kev`, else a Grype report's own fields."""
    epss: Path | None = None
    """`--epss FILE`; None: the policy's `exploit_data.epss`, else a Grype report's own fields."""


@dataclass(frozen=True)
class FetchOptions:
    """`data fetch`: where to store the data, and where to download it from."""

    out: Path
    """`--out DIR`."""
    kev_url: str | None = None
    """`--kev-url URL`; None: CISA's feed."""
    epss_url: str | None = None
    """`--epss-url URL`; None: FIRST's current daily file."""
    if_older_than: float | None = None
    """`--if-older-than HOURS`: skip the download when the last fetch is younger."""
    timeout: float = 60.0
    """`--timeout SECONDS`."""
    retries: int = 3
    """`--retries N`."""


@dataclass(frozen=True)
class Options:
    """One run of the command line."""

    command: Command
    """What to do."""
    started_at: dt.datetime
    """When the run started (timezone-aware): the one clock read besides `--as-of`."""
    verbose: bool = False
    """`--verbose`: tracebacks, scanner output and what was published."""
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    """The policy to apply."""
    outputs: OutputOptions = field(default_factory=OutputOptions)
    """The output files."""
    publish: PublishOptions = field(default_factory=PublishOptions)
    """The CI platform."""
    reports: tuple[Path, ...] = ()
    """`check REPORT...`, `explain --report REPORT`."""
    scan: ScanRequest | None = None
    """`scan IMAGE` and its scan options."""
    policy_files: tuple[Path, ...] = ()
    """`policy validate FILE...`."""
    vulnerability: str | None = None
    """`explain VULN_ID`."""
    compare: CompareRequest | None = None
    """`compare REF...` and its scan options and outputs."""
    shell: str | None = None
    """`completion SHELL`."""
    enrichment: EnrichmentOptions = field(default_factory=EnrichmentOptions)
    """A baseline and VEX in, OpenVEX out."""
    exploit: ExploitOptions = field(default_factory=ExploitOptions)
    """`--kev`, `--epss`."""
    fetch: FetchOptions | None = None
    """`data fetch` and its options."""
    max_report_size: int = DEFAULT_MAX_REPORT_SIZE
    """`--max-report-size`: the largest report file `check` and `explain` read, in bytes."""

    @property
    def dockerfile(self) -> Path | None:
        """`scan --dockerfile PATH`."""
        return self.scan.dockerfile if self.scan else None

    @property
    def image(self) -> str | None:
        """The image reference the user gave: `--image-name`, else `scan IMAGE`; None when neither
        names one. An empty one (`scan "$IMAGE"` with the variable unset) names no image: the
        comment or note of every image of the job must then say the gate could not decide."""
        for given in (self.policy.image_name, self.scan.reference if self.scan else None):
            if given and given.strip():
                return given
        return None


def options_from(args: argparse.Namespace, env: Mapping[str, str], now: dt.datetime) -> Options:
    """The typed options of parsed arguments, the process environment (for the scanners) and the
    time the run started."""
    command: Command = args.run
    policy = PolicyOptions()
    if command is Command.COMPARE:
        policy = PolicyOptions(args.policy, as_of=args.as_of)
    elif command is Command.POLICY_VALIDATE:
        policy = PolicyOptions(as_of=args.as_of)
    elif command not in (Command.COMPLETION, Command.DATA_FETCH):
        policy = PolicyOptions(args.policy, args.advisory, args.as_of, args.image_name)
    outputs = OutputOptions()
    publish = PublishOptions()
    if command in (Command.CHECK, Command.SCAN):
        files = {kind: getattr(args, kind.value) for kind in OutputFormat if getattr(args, kind.value)}
        outputs = OutputOptions(
            files, args.sarif_location, args.sarif_category, args.default_branch_image, args.quiet
        )
        publish = PublishOptions(args.ci, args.comment)
    return Options(
        command=command,
        started_at=now,
        verbose=args.verbose,
        policy=policy,
        outputs=outputs,
        publish=publish,
        reports=tuple(args.reports) if command in (Command.CHECK, Command.EXPLAIN) else (),
        scan=scan_request(args, env, now) if command is Command.SCAN else None,
        policy_files=tuple(args.files) if command is Command.POLICY_VALIDATE else (),
        vulnerability=args.vulnerability if command is Command.EXPLAIN else None,
        compare=compare_request(args, env, now) if command is Command.COMPARE else None,
        shell=args.shell if command is Command.COMPLETION else None,
        enrichment=EnrichmentOptions(
            args.baseline,
            args.baseline_required,
            tuple(args.vex),
            args.openvex if command is not Command.EXPLAIN else None,
            args.baseline_branch,
        )
        if command in (Command.CHECK, Command.SCAN, Command.EXPLAIN)
        else EnrichmentOptions(),
        exploit=ExploitOptions(args.kev, args.epss)
        if command in (Command.CHECK, Command.SCAN, Command.COMPARE, Command.EXPLAIN)
        else ExploitOptions(),
        fetch=FetchOptions(
            args.out, args.kev_url, args.epss_url, args.if_older_than, args.timeout, args.retries
        )
        if command is Command.DATA_FETCH
        else None,
        max_report_size=args.max_report_size
        if command in (Command.CHECK, Command.EXPLAIN)
        else DEFAULT_MAX_REPORT_SIZE,
    )
