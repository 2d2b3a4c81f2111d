"""What the policy makes of the base image check (`scan --check-base`): stale or not, and what a
rebuild on the base image's current tag removes, counted once with the decisions.

Pure: the check's result (`gate.image.base_check.BaseCheck`) arrives as data from the command
line, and this reads nothing else. A base is stale when the tag points to other layers for the
image's platform and is more than `max_age_days` whole days newer than the base the image was
built on, or newer by a number of days nobody can tell (`behind_days` None). A check that could
not run is never stale and removes nothing: it changes no verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gate.image.base_image import BaseCheck
from gate.model import Finding, Severity

DEFAULT_MAX_AGE_DAYS = 0
"""Without a policy that says otherwise, any whole day behind its tag makes a base stale."""


@dataclass(frozen=True)
class RebuildRemoves:
    """The image's findings that rebuilding on the base image's current tag removes."""

    findings: int = 0
    """How many."""
    blocking: int = 0
    """How many of them block."""
    by_severity: Mapping[Severity, int] = field(default_factory=lambda: MappingProxyType({}))
    """Per severity, highest first, only the severities present."""


@dataclass(frozen=True)
class BaseImageStatus:
    """The base image check, judged: the check itself, whether the base is stale, what a rebuild removes."""

    check: BaseCheck
    """What the check found out (or why it could not run)."""
    stale: bool
    """True when the tag moved on by more than `max_age_days` whole days."""
    max_age_days: int
    """The age past which a base is stale."""
    removes: RebuildRemoves
    """What a rebuild on the current tag removes."""

    @property
    def behind_days(self) -> int | None:
        """Whole days the base is behind its tag, when the check ran."""
        return self.check.behind_days if self.check.checked else None


def rebuild_removes(check: BaseCheck | None) -> frozenset[tuple[str, str, str, str]] | None:
    """The keys of the findings a rebuild on the base's current tag removes, when a check found
    out (for the remediation plan's base-refresh action); None when it was not asked for or could not run."""
    if check is None or not check.checked:
        return None
    return frozenset(finding.key for finding in check.removed)


def stale_failure(status: BaseImageStatus) -> str:
    """The policy failure of a stale base image under `base_image.on_stale: fail`."""
    check = status.check
    days = status.behind_days
    behind = f"{days} days" if days is not None else "an unknown number of days"
    return (
        f"the base image {check.name} is {behind} behind its tag, more than base_image.max_age_days "
        f"({status.max_age_days}), and base_image.on_stale is fail: rebuild the image on the current tag"
    )


def judge_base(
    check: BaseCheck, decided: Iterable[tuple[Finding, bool]], max_age_days: int = DEFAULT_MAX_AGE_DAYS
) -> BaseImageStatus:
    """The status of `check`; `decided` is every finding of the evaluation and whether it blocks."""
    removed = {finding.key for finding in check.removed} if check.checked else set()
    gone = [(finding, blocks) for finding, blocks in decided if finding.key in removed]
    tally = Counter(finding.severity for finding, _ in gone)
    removes = RebuildRemoves(
        findings=len(gone),
        blocking=sum(1 for _, blocks in gone if blocks),
        by_severity=MappingProxyType({s: tally[s] for s in reversed(Severity) if tally[s]}),
    )
    behind = check.behind_days if check.checked else None
    # A tag that moved on by an unknown number of days (an undated config) may be any
    # age: stale, so that `on_stale: fail` never passes a base it cannot date.
    stale = check.checked and check.changed and (behind is None or behind > max_age_days)
    return BaseImageStatus(check=check, stale=stale, max_age_days=max_age_days, removes=removes)
