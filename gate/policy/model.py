"""The policy, as typed objects. Built only by `gate.policy.load`; nothing downstream re-checks it."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from gate.model import Severity, VendorStatus


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

    def budget_for(self, severity: Severity) -> int | None:
        """The tolerated count for a severity, or None when it has no budget."""
        for sev, count in self.budgets:
            if sev is severity:
                return count
        return None


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
    line: int | None = None
    """The line of the entry in the policy file, for messages."""

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
    budgets no image reaches): `policy validate` and every output of a run show them."""
    lenient_severity: bool = False
    """True: a severity word the scanner does not use reads as a missing severity instead of
    making the report unreadable."""
