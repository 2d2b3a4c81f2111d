"""What an evaluation hands to the renderers and platforms: typed decisions, rules and counts.

The types only; `gate.policy.evaluate` is the algorithm that makes them. Renderers read the rule
that decided a finding from a `RuleRef` (never by parsing its text), take the counts from
`Evaluation.counts` (counted once, when the evaluation is made), and ask a `Decision` whether it
blocks or would block: those rules live here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from gate.enrich.baseline import BaselineComparison, BaselineState
from gate.enrich.exploit import EpssScore, ExploitData, KevEntry
from gate.enrich.vex_model import VexGap, VexStatement
from gate.model import Finding, ScanReport, Severity
from gate.policy.actions import Plan
from gate.policy.base_status import BaseImageStatus
from gate.policy.model import AllowlistEntry, Policy, SuspectKind


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


class RuleKind(enum.Enum):
    """Which part of the policy decided a finding; the value is how the policy file spells it."""

    ALLOWLIST = "allowlist"
    IGNORE_STATUSES = "ignore_statuses"
    FIXABLE_ONLY = "fail_on.fixable_only"
    SEVERITY = "fail_on.severity"
    CVSS_SCORE = "fail_on.cvss_score"
    BUDGET = "fail_on.budgets"
    VEX = "vex"
    BASELINE = "baseline.fail_on"
    KNOWN_EXPLOITED = "fail_on.known_exploited"
    EPSS = "fail_on.epss"
    IGNORE_SUSPECTS = "ignore_suspects"


@dataclass(frozen=True)
class RuleRef:
    """The rule that decided a finding. `str()` is its key path in the policy file, as every output
    names it: `allowlist[2]`, `ignore_statuses`, `fail_on.severity`, `fail_on.budgets.HIGH`,
    `base_image.fail_on.severity`."""

    kind: RuleKind
    """Which part of the policy."""
    index: int | None = None
    """For an allowlist entry: its position in the policy's `allowlist`."""
    severity: Severity | None = None
    """For a budget: the severity whose budget it is."""
    base_image: bool = False
    """For a threshold (`fail_on.severity`, `.cvss_score`, `.fixable_only`): the one under
    `base_image:`, which the findings of the base image's layers follow."""
    vex: str | None = None
    """For a VEX statement: its name, `vex:<file>#<index>`."""

    @classmethod
    def allowlist(cls, entry: AllowlistEntry) -> RuleRef:
        """The rule of an allowlist entry."""
        return cls(RuleKind.ALLOWLIST, index=entry.index)

    @classmethod
    def budget(cls, severity: Severity) -> RuleRef:
        """The budget of a severity."""
        return cls(RuleKind.BUDGET, severity=severity)

    @classmethod
    def vex_statement(cls, statement: VexStatement) -> RuleRef:
        """The rule of a VEX statement."""
        return cls(RuleKind.VEX, vex=statement.rule)

    def __str__(self) -> str:
        if self.kind is RuleKind.VEX and self.vex is not None:
            return self.vex
        if self.kind is RuleKind.ALLOWLIST:
            return f"allowlist[{self.index}]"
        if self.kind is RuleKind.BUDGET and self.severity is not None:
            return f"fail_on.budgets.{self.severity.name}"
        return f"base_image.{self.kind.value}" if self.base_image else str(self.kind.value)


@dataclass(frozen=True, slots=True)
class Suspect:
    """A suspicion that a finding does not apply to the image, with its reason."""

    kind: SuspectKind
    """What kind of suspicion (`arch`)."""
    reason: str
    """Why, in words: "the description limits it to PowerPC; the image is linux/amd64"."""


@dataclass(frozen=True)
class Decision:
    """The policy's decision about one finding."""

    finding: Finding
    """The finding decided on."""
    disposition: Disposition
    """Its one disposition."""
    reason: str
    """Why, in words a reader of the PR comment understands."""
    rule: RuleRef
    """Which part of the policy decided."""
    would_block: bool = False
    """True when the finding meets the blocking threshold, whatever became of it (allowlisted,
    ignored, advisory, budget)."""
    baseline: BaselineState | None = None
    """What the finding is beside the baseline (`--baseline`); None without one."""
    worse: str = ""
    """For a blocking finding worse than in the baseline, the end of `reason` that says since when
    and what changed (`; worse than in the baseline of 2026-12-01 (LOW then)`), which the short
    reasons of the tables keep; empty otherwise."""
    vex: VexStatement | None = None
    """The VEX statement that speaks for the finding (the latest that applies), whatever its
    status; None when none does or no VEX was given."""
    vex_gap: VexGap | None = None
    """For a finding that stands for several CVEs (Grype's GHSA finding): the statements that clear
    some of them while no statement clears the others, which keeps VEX from clearing it; None
    otherwise."""
    kev: KevEntry | None = None
    """The finding's entry in CISA's KEV catalog, when the run had KEV data and it is listed."""
    epss: EpssScore | None = None
    """The finding's EPSS score (the highest of its ids), when the run had EPSS data that scores it."""
    suspect: Suspect | None = None
    """Why the finding may not apply to the image at all (an architecture suspect), if it may not."""

    @property
    def tolerated(self) -> bool:
        """Meets the blocking threshold, but only advisory mode or a budget let it through. A
        finding already in the baseline cannot block: it is not tolerated, it is out of scope."""
        return (
            self.would_block
            and self.disposition is Disposition.INFORMATIONAL
            and self.rule.kind is not RuleKind.BASELINE
        )

    @property
    def blocks_when_enforced(self) -> bool:
        """Blocks, or would under an enforcing policy without budgets. Allowlisted and ignored
        findings never do, even when they meet the threshold."""
        return self.disposition is Disposition.BLOCKING or self.tolerated


def counted(decision: Decision, blocking_only: bool) -> bool:
    """Whether what the actions clear counts `decision`: with `blocking_only` (some finding of the
    run blocks), only when it blocks; else when it would under an enforcing policy (advisory
    mode, budgets). The summaries count so, and the known-exploited ranking of the plan ranks so."""
    if blocking_only:
        return decision.disposition is Disposition.BLOCKING
    return decision.blocks_when_enforced


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
class VexEntryReport:
    """One VEX statement and what it did, listed in the decision report's `rules` beside the
    allowlist entries."""

    statement: VexStatement
    """The statement as read."""
    matched: int
    """How many findings it spoke for (it was the latest statement that applied to them)."""
    left_open: int = 0
    """How many findings it clears some CVEs of, while no statement clears their other CVEs, so
    that VEX leaves them open (`Decision.vex_gap`): it is needed, and statements are missing."""
    not_cleared: tuple[str, ...] = ()
    """The CVEs of those findings that no statement clears (sorted, each once)."""

    @property
    def state(self) -> EntryState:
        """Used when it spoke for a finding, else unused (`left_open` says when it is needed all
        the same)."""
        return EntryState.USED if self.matched else EntryState.UNUSED


@dataclass(frozen=True)
class Counts:
    """Findings per disposition and per severity, counted once per evaluation."""

    by_disposition: Mapping[Disposition, int]
    """Findings per disposition, every disposition present, in `Disposition` order."""
    by_severity: Mapping[Disposition, Mapping[Severity, int]]
    """For each disposition, findings per severity, every severity present, highest first."""
    would_block: int
    """Findings that block, or would but for advisory mode or a budget (`blocks_when_enforced`)."""
    by_rule: Mapping[tuple[Disposition, RuleKind], int]
    """Findings per disposition and kind of the rule that decided it (the allowlisted ones VEX
    decided, the informational ones the baseline let through); absent pairs count 0."""

    @classmethod
    def of(cls, decisions: tuple[Decision, ...]) -> Counts:
        """The counts of these decisions."""
        tally = Counter((d.disposition, d.finding.severity) for d in decisions)
        by_severity = {
            disposition: {severity: tally[(disposition, severity)] for severity in reversed(Severity)}
            for disposition in Disposition
        }
        return cls(
            by_disposition={disposition: sum(row.values()) for disposition, row in by_severity.items()},
            by_severity=by_severity,
            would_block=sum(1 for d in decisions if d.blocks_when_enforced),
            by_rule=Counter((d.disposition, d.rule.kind) for d in decisions),
        )

    def __getitem__(self, disposition: Disposition) -> int:
        return self.by_disposition[disposition]

    def as_dict(self) -> dict[str, int]:
        """`{"blocking": n, "allowlisted": n, "ignored": n, "informational": n}`."""
        return {disposition.value: n for disposition, n in self.by_disposition.items()}

    def severity_table(self) -> dict[str, dict[str, int]]:
        """`{"blocking": {"CRITICAL": n, ..., "UNKNOWN": n}, ...}`."""
        return {
            disposition.value: {severity.name: n for severity, n in row.items()}
            for disposition, row in self.by_severity.items()
        }


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
    plan: Plan
    """The actions that clear the findings (`gate.policy.plan`), made with the decisions."""
    policy_warnings: tuple[str, ...] = ()
    """What applying the policy needs said once, and is no finding (a threshold for the base
    image that some findings could not follow, their origin being unknown)."""
    base_image: BaseImageStatus | None = None
    """The base image check (`scan --check-base`), judged; None when it was not asked for."""
    baseline: BaselineComparison | None = None
    """The findings beside the baseline (`--baseline`); None without one."""
    vex_entries: tuple[VexEntryReport, ...] = ()
    """One report per VEX statement given, in the order given."""
    exploit: ExploitData | None = None
    """The KEV and EPSS data the run used (files or the scanner's own fields); None without any."""
    counts: Counts = field(init=False, compare=False)
    """The decisions counted, once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", Counts.of(self.decisions))

    @property
    def warnings(self) -> tuple[str, ...]:
        """Everything the outputs warn about: the report's warnings, then the policy's."""
        return self.report.warnings + self.policy_warnings

    @property
    def report_warnings(self) -> tuple[str, ...]:
        """Those of `warnings` that the reports read (or the scan) said: neither the policy's nor
        those the run said about its own inputs, which a run reading the decision report back
        judges again."""
        run = set(self.report.run_warnings)
        return tuple(warning for warning in self.report.warnings if warning not in run)

    @property
    def passed(self) -> bool:
        """True when nothing blocks and no policy rule fails the gate."""
        return not self.policy_failures and not self.counts[Disposition.BLOCKING]

    @property
    def verdict(self) -> str:
        """`pass` or `fail`."""
        return "pass" if self.passed else "fail"

    def allowlist_entry(self, decision: Decision) -> AllowlistEntry | None:
        """The allowlist entry that decided `decision`, if one did."""
        index = decision.rule.index
        if decision.rule.kind is not RuleKind.ALLOWLIST or index is None:
            return None
        entries = self.policy.allowlist
        # An entry's index is its position in a loaded policy; a policy built in code may differ.
        if index < len(entries) and entries[index].index == index:
            return entries[index]
        return next((entry for entry in entries if entry.index == index), None)
