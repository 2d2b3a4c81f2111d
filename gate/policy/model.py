"""The policy, as typed objects. Built only by `gate.policy.load`; nothing downstream re-checks it."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from pathlib import Path

from gate.model import LayerOrigin, Severity, VendorStatus


class Mode(enum.Enum):
    """Whether the policy can fail the gate."""

    ENFORCE = "enforce"
    ADVISORY = "advisory"
    """Never fails: findings that would block are reported as informational, and the outputs say so."""


@dataclass(frozen=True)
class FailOn:
    """What makes a finding block."""

    severity: Severity = Severity.HIGH
    """Findings at or above this severity block."""
    fixable_only: bool = False
    """True: a finding without a fixed version never blocks (it is ignored, with that reason)."""
    cvss_score: float | None = None
    """Also block any finding whose CVSS score is at or above this, whatever its severity."""
    budgets: tuple[tuple[Severity, int], ...] = ()
    """Per severity, how many blocking findings are tolerated before any of them fails the gate."""
    known_exploited: bool = False
    """True: a finding CISA's KEV catalog lists blocks whatever its severity, fixed version or not."""
    epss: float | None = None
    """Also block any finding whose EPSS score is at or above this (0 to 1), whatever its severity;
    `fixable_only` applies. A finding without a score never meets it."""

    def budget_for(self, severity: Severity) -> int | None:
        """The tolerated count for a severity, or None when it has no budget."""
        for sev, count in self.budgets:
            if sev is severity:
                return count
        return None


class OnStale(enum.Enum):
    """What a stale base image does to the gate (`base_image.on_stale`), with `scan --check-base`."""

    WARN = "warn"
    """Said in every output; the verdict is the findings'."""
    FAIL = "fail"
    """A policy failure (exit 1), like an expired allowlist entry under `fail_on_expired`; a base
    that could not be checked is then an error (exit 3), unless `--check-base=best-effort`."""


@dataclass(frozen=True)
class BaseImagePolicy:
    """What applies to the findings of the base image's layers (`base_image:` in the file)."""

    fail_on: FailOn | None = None
    """The threshold for findings in the base image's layers, instead of the top-level `fail_on`;
    None: the top-level one applies to them too. Budgets are the top-level ones in any case."""
    max_age_days: int = 0
    """With `scan --check-base`: a base more than this many whole days behind its tag is stale
    (0: any day behind)."""
    on_stale: OnStale = OnStale.WARN
    """What a stale base does: a warning, or a policy failure."""


BASELINE_STATES = ("new", "unchanged", "worse")
"""The states a finding can have beside a baseline, as the policy file spells them."""


@dataclass(frozen=True)
class BaselinePolicy:
    """What applies when a run is given a baseline (`baseline:` in the file)."""

    fail_on: frozenset[str] = frozenset({"new", "worse"})
    """The baseline states (`BASELINE_STATES`) whose findings may block; a finding in another
    state is informational, with the reason "already in the baseline of <date>" (a new or worse
    one says so, and that this list leaves its state out)."""
    max_age_days: int = 30
    """A baseline made more than this many whole days before the run is a warning."""


@dataclass(frozen=True)
class AllowlistEntry:
    """An accepted, explained exception. It matches a finding only when every field it sets matches."""

    index: int
    """Position in the policy's `allowlist` (0-based), used to name the entry: `allowlist[3]`."""
    vulnerability: str
    """A vulnerability id or any alias of it (case-insensitive)."""
    reason: str
    """Why this is accepted; shown wherever the finding is."""
    package: str | None = None
    """A package name, or a package URL when it starts with `pkg:`."""
    version: str | None = None
    """The exact installed version."""
    path: str | None = None
    """A glob on the package path (`**` crosses directories, `*` does not)."""
    image: str | None = None
    """A glob on the image reference (`*` matches any run of characters, `/` included)."""
    expires: dt.date | None = None
    """The last day the entry applies; from the next day on it is expired and reported."""
    origin: LayerOrigin | None = None
    """Only findings in the base image's layers, or only those in the image's own."""
    line: int | None = None
    """The line of the entry in the policy file, for messages."""
    justification: str | None = None
    """Why the finding does not apply, as one of OpenVEX's five labels (`--openvex` writes it)."""

    @property
    def name(self) -> str:
        """How messages refer to this entry."""
        return f"allowlist[{self.index}]"

    def is_expired(self, today: dt.date) -> bool:
        """True once `today` is after `expires`."""
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Policy:
    """A loaded policy file (version 1)."""

    source: str
    """The file it was read from, or `<default>`."""
    fail_on: FailOn = field(default_factory=FailOn)
    """Blocking thresholds."""
    ignore_statuses: frozenset[VendorStatus] = frozenset()
    """Vendor statuses whose findings are ignored."""
    allowlist: tuple[AllowlistEntry, ...] = ()
    """Accepted exceptions."""
    fail_on_expired: bool = False
    """True: an expired allowlist entry still in the file fails the gate."""
    mode: Mode = Mode.ENFORCE
    """`advisory` never fails the gate (an extension of version 1)."""
    warnings: tuple[str, ...] = ()
    """How this valid policy cannot block fixable findings (advisory mode, ignoring fixed findings,
    budgets no image reaches), and allowlist entries that repeat an earlier one: `policy validate`
    and every output of a run show them."""
    lenient_severity: bool = False
    """True: a severity word the scanner does not use reads as a missing severity instead of
    making the report unreadable."""
    base_image: BaseImagePolicy = field(default_factory=BaseImagePolicy)
    """What applies to the findings of the base image's layers."""
    baseline: BaselinePolicy = field(default_factory=BaselinePolicy)
    """What a baseline (`--baseline FILE`) changes."""
    vex: tuple[Path, ...] = ()
    """VEX files whose statements apply, like `--vex` (relative paths are resolved against the
    policy file's directory when it is read from a file)."""
    exploit_data: ExploitDataPolicy = field(default_factory=lambda: ExploitDataPolicy())
    """Where the KEV catalog and the EPSS scores are, and how old they may be."""
    ignore_suspects: frozenset[SuspectKind] = frozenset()
    """Kinds of suspect findings that are ignored (`ignore_suspects: [arch]`)."""

    def fail_on_for(self, origin: LayerOrigin | None) -> FailOn:
        """The threshold for a finding of this origin: `base_image.fail_on` for the base image's
        layers when the policy sets it, else `fail_on` (also when the origin is unknown)."""
        if origin is LayerOrigin.BASE and self.base_image.fail_on is not None:
            return self.base_image.fail_on
        return self.fail_on


class SuspectKind(enum.Enum):
    """Why a finding may not apply to the image at all (`ignore_suspects`)."""

    ARCH = "arch"
    """Its text limits it to a CPU architecture other than the image's."""


@dataclass(frozen=True)
class ExploitDataPolicy:
    """The policy's `exploit_data:`: the KEV and EPSS files, and how old they may be."""

    kev: Path | None = None
    """The CISA KEV catalog (JSON, plain or gzip), resolved against the policy file's directory;
    `--kev` takes precedence."""
    epss: Path | None = None
    """The FIRST EPSS scores (CSV, plain or gzip), resolved like `kev`; `--epss` takes precedence."""
    max_age_days: int = 7
    """KEV `dateReleased` / EPSS `score_date` older than this many whole days: stale."""
    on_stale: OnStale = OnStale.WARN
    """What stale data does: a warning in every output, or a policy failure (exit 1)."""
