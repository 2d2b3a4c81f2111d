"""The pure heart of the gate: a report and a policy in, a disposition for every finding out.

`evaluate` reads no file, no clock and no environment: `now` is an argument, so expiry is
testable and the same inputs always give the same verdict, on a laptop as in CI.

How one finding's disposition is decided, first match wins:
1. an allowlist entry that has not expired and whose every field matches -> allowlisted;
2. its vendor status is in `ignore_statuses` -> ignored;
3. it would block (severity at or above `fail_on.severity`, or CVSS at or above
   `fail_on.cvss_score`) but has no fixed version while `fail_on.fixable_only` -> ignored;
4. it would block -> blocking, unless the policy is advisory, or its severity has a budget that
   the whole report stays within -> informational, with the reason;
5. anything else -> informational (below the threshold).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from dataclasses import dataclass

from gate.model import Finding, ScanReport, Severity
from gate.policy.match import AllowlistIndex
from gate.policy.model import AllowlistEntry, Mode, Policy


class Disposition(enum.Enum):
    """What the policy made of a finding. Every finding gets exactly one."""

    BLOCKING = "blocking"
    ALLOWLISTED = "allowlisted"
    IGNORED = "ignored"
    INFORMATIONAL = "informational"


class EntryState(enum.Enum):
    """What became of an allowlist entry in this evaluation."""

    USED = "used"
    UNUSED = "unused"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Decision:
    """The policy's decision about one finding."""

    finding: Finding
    """The finding decided on."""
    disposition: Disposition
    """Its one disposition."""
    reason: str
    """Why, in words a reader of the PR comment understands."""
    rule: str
    """Which part of the policy decided: `allowlist[2]`, `ignore_statuses`, `fail_on.severity`, ..."""
    would_block: bool = False
    """True when the finding meets the blocking threshold, whatever became of it (advisory, budget)."""


@dataclass(frozen=True)
class EntryReport:
    """One allowlist entry and what it did."""

    entry: AllowlistEntry
    """The entry as written."""
    state: EntryState
    """Used, unused or expired."""
    matched: int
    """How many findings it allowlisted (0 when expired: an expired entry never applies)."""
    would_match: int = 0
    """For an expired entry: how many findings it would still match (so people see what it hid)."""


@dataclass(frozen=True)
class Evaluation:
    """The outcome of applying a policy to a report."""

    report: ScanReport
    """The report evaluated."""
    policy: Policy
    """The policy applied."""
    now: dt.datetime
    """The moment the evaluation was made for (expiry is judged against its date, in UTC)."""
    decisions: tuple[Decision, ...]
    """One decision per finding, in the report's order."""
    entries: tuple[EntryReport, ...]
    """One report per allowlist entry, in the policy's order."""
    policy_failures: tuple[str, ...]
    """Reasons the gate fails that are not findings (an expired entry under `fail_on_expired`)."""

    @property
    def passed(self) -> bool:
        """True when nothing blocks and no policy rule fails the gate."""
        return not self.policy_failures and not any(
            d.disposition is Disposition.BLOCKING for d in self.decisions
        )

    @property
    def verdict(self) -> str:
        """`pass` or `fail`."""
        return "pass" if self.passed else "fail"

    def count(self, disposition: Disposition) -> int:
        """How many findings got this disposition."""
        return sum(1 for d in self.decisions if d.disposition is disposition)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per disposition, every disposition present."""
        tally = Counter(d.disposition for d in self.decisions)
        return {disp.value: tally.get(disp, 0) for disp in Disposition}

    @property
    def would_block(self) -> int:
        """Findings that block, or would but for advisory mode or a budget: what an enforcing policy
        without budgets blocks. Allowlisted and ignored findings never count, even when they meet
        the threshold (their `Decision.would_block`)."""
        return sum(
            1
            for d in self.decisions
            if d.would_block and d.disposition in (Disposition.BLOCKING, Disposition.INFORMATIONAL)
        )


def _threshold_reason(finding: Finding, policy: Policy) -> tuple[str, str] | None:
    """(reason, rule) when the finding meets a blocking threshold, else None."""
    fail_on = policy.fail_on
    if finding.severity >= fail_on.severity:
        return (
            f"{finding.severity.name} is at or above the blocking severity {fail_on.severity.name}",
            "fail_on.severity",
        )
    if (
        fail_on.cvss_score is not None
        and finding.cvss is not None
        and finding.cvss.score >= fail_on.cvss_score
    ):
        return (
            f"CVSS {finding.cvss.score:g} is at or above the blocking score {fail_on.cvss_score:g}",
            "fail_on.cvss_score",
        )
    return None


def _expiry_text(entry: AllowlistEntry) -> str:
    return f" (until {entry.expires.isoformat()})" if entry.expires else ""


def evaluate(report: ScanReport, policy: Policy, now: dt.datetime) -> Evaluation:
    """Decide every finding of `report` under `policy` as of `now`. Pure."""
    today = now.astimezone(dt.UTC).date() if now.tzinfo else now.date()
    image = report.image.reference if report.image else None
    active = AllowlistIndex([e for e in policy.allowlist if not e.is_expired(today)])
    expired = [e for e in policy.allowlist if e.is_expired(today)]
    expired_index = AllowlistIndex(expired)

    # First pass: allowlist, filters and thresholds; budgets need the totals, so blocking
    # candidates are only counted here and decided in the second pass.
    staged: list[tuple[Finding, Disposition, str, str, bool]] = []
    used: Counter[int] = Counter()
    hidden: Counter[int] = Counter()
    candidates: Counter[Severity] = Counter()
    for finding in report.findings:
        for gone in expired_index.matching(finding, image):
            hidden[gone.index] += 1
        threshold = _threshold_reason(finding, policy)
        would_block = threshold is not None
        entry = active.first_match(finding, image)
        if entry is not None:
            used[entry.index] += 1
            reason = f"allowlisted by {entry.name}{_expiry_text(entry)}: {entry.reason}"
            staged.append((finding, Disposition.ALLOWLISTED, reason, entry.name, would_block))
        elif finding.status in policy.ignore_statuses:
            reason = f"vendor status {finding.status.value} is in ignore_statuses"
            staged.append((finding, Disposition.IGNORED, reason, "ignore_statuses", would_block))
        elif threshold is not None and policy.fail_on.fixable_only and not finding.fixable:
            reason = f"{threshold[0]}, but no fixed version exists and fail_on.fixable_only is set"
            staged.append((finding, Disposition.IGNORED, reason, "fail_on.fixable_only", would_block))
        elif threshold is not None:
            candidates[finding.severity] += 1
            staged.append((finding, Disposition.BLOCKING, threshold[0], threshold[1], would_block))
        else:
            reason = f"{finding.severity.name} is below the blocking severity {policy.fail_on.severity.name}"
            staged.append((finding, Disposition.INFORMATIONAL, reason, "fail_on.severity", would_block))

    decisions = tuple(_settle(item, policy, candidates) for item in staged)

    entries: list[EntryReport] = []
    for entry in policy.allowlist:
        if entry.is_expired(today):
            entries.append(EntryReport(entry, EntryState.EXPIRED, 0, would_match=hidden[entry.index]))
        elif used[entry.index]:
            entries.append(EntryReport(entry, EntryState.USED, used[entry.index]))
        else:
            entries.append(EntryReport(entry, EntryState.UNUSED, 0))

    failures: list[str] = []
    if policy.fail_on_expired and policy.mode is Mode.ENFORCE:
        for entry in expired:
            assert entry.expires is not None  # noqa: S101 - expired implies a date
            failures.append(
                f"{entry.name} ({entry.vulnerability}) expired on {entry.expires.isoformat()} "
                "and fail_on_expired is set: renew it with a new date or remove it"
            )

    return Evaluation(
        report=report,
        policy=policy,
        now=now,
        decisions=decisions,
        entries=tuple(entries),
        policy_failures=tuple(failures),
    )


def _settle(
    item: tuple[Finding, Disposition, str, str, bool], policy: Policy, candidates: Counter[Severity]
) -> Decision:
    """Turn a staged decision into the final one, applying budgets and advisory mode."""
    finding, disposition, reason, rule, would_block = item
    if disposition is Disposition.BLOCKING:
        budget = policy.fail_on.budget_for(finding.severity)
        total = candidates[finding.severity]
        if policy.mode is Mode.ADVISORY:
            return Decision(
                finding,
                Disposition.INFORMATIONAL,
                f"would block ({reason}); the policy is advisory",
                rule,
                True,
            )
        if budget is not None and total <= budget:
            return Decision(
                finding,
                Disposition.INFORMATIONAL,
                f"{reason}; tolerated: {total} {finding.severity.name} finding(s) within the budget of {budget}",
                f"fail_on.budgets.{finding.severity.name}",
                True,
            )
        if budget is not None:
            reason = f"{reason}; {total} {finding.severity.name} findings exceed the budget of {budget}"
            rule = f"fail_on.budgets.{finding.severity.name}"
    return Decision(finding, disposition, reason, rule, would_block)
