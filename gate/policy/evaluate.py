"""The pure heart of the gate: a report and a policy in, a disposition for every finding out.

The types it returns are in `gate.policy.evaluation`.

`evaluate` reads no file, no clock and no environment: `now` is an argument, so expiry is
testable and the same inputs always give the same verdict, on a laptop as in CI.

How one finding's disposition is decided, first match wins:
1. an allowlist entry that has not expired and whose every field matches -> allowlisted (when a
   KEV or EPSS rule would have blocked it, the reason says the entry won over that rule);
2. the latest VEX statement that applies to it says `not_affected` or `fixed` -> allowlisted,
   rule `vex:<file>#<index>` (`affected` and `under_investigation` are only said in the reason);
   for a finding of an advisory that stands for several CVEs, the latest statement about each
   CVE, and when those are several, each must clear it (the rule is the latest one's);
3. its vendor status is in `ignore_statuses` -> ignored;
4. it is an architecture suspect of a kind in `ignore_suspects` -> ignored (never a finding CISA's
   KEV catalog lists);
5. CISA's KEV catalog lists it while `fail_on.known_exploited` -> blocking whatever its severity
   and fix ("in CISA KEV since ..."), unless the policy is advisory; no budget tolerates it;
   with a baseline, a finding whose state there is not in `baseline.fail_on` is informational
   ("already in the baseline of ...") instead;
6. it would block (severity at or above `fail_on.severity`, CVSS at or above
   `fail_on.cvss_score`, or EPSS at or above `fail_on.epss`) but has no fixed version newer than
   the installed one (`gate.policy.plan.has_usable_fix`) while `fail_on.fixable_only` -> ignored;
7. it would block, but a baseline was given and its state there (`new`, `unchanged`, `worse`)
   is not in `baseline.fail_on` -> informational, "already in the baseline of <date>" (or
   "new since ..." / "worse than in the baseline of ...", and that `baseline.fail_on` does not
   list that state);
8. it would block -> blocking, unless the policy is advisory, or its severity has a budget that
   the whole report stays within -> informational, with the reason;
9. anything else -> informational (below the threshold).

KEV and EPSS data come in `EvaluationInputs.exploit` (`gate.policy.exploit_rules` has the rules);
every decision carries the finding's KEV entry, EPSS score and architecture suspicion when the
run looked for them. A `known_exploited` or `epss` rule without data to apply is a warning.

The threshold of a finding in the base image's layers is `base_image.fail_on` when the policy
sets one; every other finding, and one whose origin is unknown (no base image is known), follows
`fail_on`, and the evaluation warns once when that happened. Budgets are counted over all findings.
Then `gate.policy.plan` groups the findings into the actions that clear them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gate.enrich.baseline import BaselineComparison, BaselineState, compare, worse_since
from gate.enrich.exploit import EpssScore, KevEntry
from gate.enrich.vex_model import VexGap, VexStatement
from gate.model import Finding, LayerOrigin, ScanReport, Severity
from gate.policy.advice import alias_breadth_warnings, pathless_warnings
from gate.policy.advice_run import far_expiry_warnings, package_spelling_warnings
from gate.policy.base_status import judge_base, rebuild_removes, stale_failure
from gate.policy.enrichment import (
    baseline_warnings,
    snyk_vex_warnings,
    unfollowed_warnings,
    vex_reports,
    vex_warnings,
    with_enrichment,
)
from gate.policy.evaluation import (
    Decision,
    Disposition,
    EntryReport,
    EntryState,
    Evaluation,
    RuleKind,
    RuleRef,
    Suspect,
)
from gate.policy.exploit_rules import (
    data_warnings,
    epss_reason,
    known_exploited_reason,
    suspect_of,
    wants_suspects,
)
from gate.policy.inputs import NO_INPUTS, EvaluationInputs
from gate.policy.match import AllowlistIndex
from gate.policy.model import AllowlistEntry, FailOn, Mode, OnStale, Policy
from gate.policy.plan import has_usable_fix, plan_decisions

_IGNORE_STATUSES = RuleRef(RuleKind.IGNORE_STATUSES)
_IGNORE_SUSPECTS = RuleRef(RuleKind.IGNORE_SUSPECTS)

_Extra = tuple[KevEntry | None, EpssScore | None, Suspect | None]
"""What a decision carries besides its verdict: the KEV entry, EPSS score and suspicion."""
_NO_EXTRA: _Extra = (None, None, None)


@dataclass(frozen=True)
class _Threshold:
    """The threshold one finding is judged by, and how the reasons name it."""

    fail_on: FailOn
    """`fail_on`, or `base_image.fail_on` for a finding in the base image's layers."""
    base_image: bool
    """True for `base_image.fail_on`."""
    rules: Mapping[RuleKind, RuleRef] = field(init=False, repr=False, compare=False)
    """Its rule of each kind, made once: most of a large report's decisions name one of them."""

    def __post_init__(self) -> None:
        rules = {kind: RuleRef(kind, base_image=self.base_image) for kind in RuleKind}
        object.__setattr__(self, "rules", rules)

    def rule(self, kind: RuleKind) -> RuleRef:
        return self.rules[kind]

    @property
    def whose(self) -> str:
        return "the base image's " if self.base_image else "the "


def _thresholds(policy: Policy) -> dict[LayerOrigin | None, _Threshold]:
    top = _Threshold(policy.fail_on, False)
    base = policy.base_image.fail_on
    return {
        None: top,
        LayerOrigin.OWN: top,
        LayerOrigin.BASE: _Threshold(base, True) if base is not None else top,
    }


def _threshold_reason(finding: Finding, threshold: _Threshold) -> tuple[str, RuleRef] | None:
    """(reason, rule) when the finding meets a blocking threshold, else None."""
    fail_on = threshold.fail_on
    if finding.severity >= fail_on.severity:
        return (
            f"{finding.severity.name} is at or above {threshold.whose}blocking severity {fail_on.severity.name}",
            threshold.rule(RuleKind.SEVERITY),
        )
    if (
        fail_on.cvss_score is not None
        and finding.cvss is not None
        and finding.cvss.score >= fail_on.cvss_score
    ):
        return (
            f"CVSS {finding.cvss.score:g} is at or above {threshold.whose}blocking score {fail_on.cvss_score:g}",
            threshold.rule(RuleKind.CVSS_SCORE),
        )
    return None


def _origin(finding: Finding) -> LayerOrigin | None:
    return finding.layer.origin if finding.layer is not None else None


def _expiry_text(entry: AllowlistEntry) -> str:
    return f" (until {entry.expires.isoformat()})" if entry.expires else ""


def evaluate(
    report: ScanReport, policy: Policy, now: dt.datetime, inputs: EvaluationInputs = NO_INPUTS
) -> Evaluation:
    """Decide every finding of `report` under `policy` as of `now`. Pure.

    `inputs` carries the data read at the boundary beside the report and the policy (the base
    image check, and so on); see `gate.policy.inputs`.
    """
    base_check = inputs.base_check
    exploit = inputs.exploit
    suspects = wants_suspects(policy, exploit)
    today = now.astimezone(dt.UTC).date() if now.tzinfo else now.date()
    image = report.image.reference if report.image else None
    active = AllowlistIndex([e for e in policy.allowlist if not e.is_expired(today)])
    expired = [e for e in policy.allowlist if e.is_expired(today)]
    expired_index = AllowlistIndex(expired)

    # First pass: allowlist, filters and thresholds; budgets need the totals, so blocking
    # candidates are only counted here and decided in the second pass.
    staged: list[tuple[Finding, Disposition, str, RuleRef, bool]] = []
    comparison = _compare(report, inputs)
    states = comparison.states if comparison is not None else ()
    worse = [""] * len(report.findings)  # `_worse` of each finding, kept on its decision
    vex_index = None
    if inputs.vex:
        from gate.enrich.vex import VexIndex  # with the VEX readers: only for runs that give VEX

        vex_index = VexIndex(inputs.vex, report.image)
    spoke: list[VexStatement | None] = []
    gaps: list[VexGap | None] = []
    extras: list[_Extra] = []
    used: Counter[int] = Counter()
    through_alias: dict[int, set[str]] = {}
    pathless: dict[int, set[str]] = {}
    hidden: Counter[int] = Counter()
    candidates: Counter[Severity] = Counter()
    thresholds = _thresholds(policy)
    # The reason and rule of each allowlist entry, made once however many findings it allows.
    by_entry: dict[int, tuple[str, RuleRef]] = {}
    unknown_origin = 0
    for position, finding in enumerate(report.findings):
        statement = None
        if vex_index is not None:
            statement, gap = vex_index.decide_with_gap(finding)
            spoke.append(statement)
            gaps.append(gap)
        for gone in expired_index.matching(finding, image):
            hidden[gone.index] += 1
        origin = _origin(finding)
        unknown_origin += origin is None
        judged_by = thresholds[origin]
        threshold = _threshold_reason(finding, judged_by)
        extra = _NO_EXTRA
        exploited: str | None = None
        if exploit is not None or suspects:
            kev = exploit.kev_for(finding) if exploit is not None else None
            epss = exploit.epss_for(finding) if exploit is not None else None
            suspect = suspect_of(finding, report.image, kev) if suspects else None
            extra = (kev, epss, suspect)
            exploited = known_exploited_reason(judged_by.fail_on, kev)
            if threshold is None:
                by_epss = epss_reason(judged_by.fail_on, epss)
                threshold = (by_epss, judged_by.rule(RuleKind.EPSS)) if by_epss else None
        extras.append(extra)
        would_block = threshold is not None or exploited is not None
        # What an allowlist entry or a VEX statement overrules is said in its reason.
        overruled = exploited or (threshold[0] if threshold and threshold[1].kind is RuleKind.EPSS else None)
        entry = active.first_match(finding, image)
        if entry is not None:
            used[entry.index] += 1
            if finding.aliases and (
                entry.vulnerability[:4].upper() == "CVE-"
                or finding.vulnerability_id.casefold() != entry.vulnerability.casefold()
            ):
                # A CVE, or an alias of the finding: the CVEs it clears may be more than the one it names.
                through_alias.setdefault(entry.index, set()).update(
                    i.upper() for i in finding.ids if i.upper().startswith("CVE-")
                )
            if entry.path is not None and not finding.package.path:
                # A glob that matches the empty text (`*`, `**`) matched a package without a path.
                pathless.setdefault(entry.index, set()).add(finding.package.name)
            allowed = by_entry.get(entry.index)
            if allowed is None:
                reason = f"allowlisted by {entry.name}{_expiry_text(entry)}: {entry.reason}"
                allowed = by_entry[entry.index] = (reason, RuleRef.allowlist(entry))
            reason = allowed[0]
            if overruled:
                reason += f" (the allowlist entry wins over {overruled})"
            staged.append((finding, Disposition.ALLOWLISTED, reason, allowed[1], would_block))
        elif statement is not None and statement.status.clears:
            rule = RuleRef.vex_statement(statement)
            reason = statement.reason
            if overruled:
                reason += f" (the VEX statement wins over {overruled})"
            staged.append((finding, Disposition.ALLOWLISTED, reason, rule, would_block))
        elif finding.status in policy.ignore_statuses:
            reason = f"vendor status {finding.status.value} is in ignore_statuses"
            staged.append((finding, Disposition.IGNORED, reason, _IGNORE_STATUSES, would_block))
        elif extra[2] is not None and extra[2].kind in policy.ignore_suspects:
            reason = f"suspect ({extra[2].kind.value}): {extra[2].reason}; {extra[2].kind.value} is in ignore_suspects"
            staged.append((finding, Disposition.IGNORED, reason, _IGNORE_SUSPECTS, would_block))
        elif exploited is not None and _in_baseline(states, position, policy):
            assert comparison is not None  # noqa: S101 - states come from it
            staged.append(
                _already_known(finding, comparison, position, extra[0] is not None, exploited, would_block)
            )
        elif exploited is not None:
            worse[position] = _worse(comparison, position, finding, extra[0] is not None)
            staged.append(
                (
                    finding,
                    Disposition.BLOCKING,
                    exploited + worse[position],
                    judged_by.rule(RuleKind.KNOWN_EXPLOITED),
                    would_block,
                )
            )
        elif threshold is not None and judged_by.fail_on.fixable_only and not has_usable_fix(finding):
            rule = judged_by.rule(RuleKind.FIXABLE_ONLY)
            # A listed fix no newer than the installed version (an older branch's, a feed behind
            # a backport) clears nothing: not a fix, as the plan and `explain` say.
            none = (
                "its listed fix is no newer than the installed version"
                if finding.fixable
                else "no fixed version exists"
            )
            reason = f"{threshold[0]}, but {none} and {rule} is set"
            staged.append((finding, Disposition.IGNORED, reason, rule, would_block))
        elif threshold is not None and _in_baseline(states, position, policy):
            assert comparison is not None  # noqa: S101 - states come from it
            staged.append(
                _already_known(finding, comparison, position, extra[0] is not None, threshold[0], would_block)
            )
        elif threshold is not None:
            candidates[finding.severity] += 1
            worse[position] = _worse(comparison, position, finding, extra[0] is not None)
            staged.append(
                (finding, Disposition.BLOCKING, threshold[0] + worse[position], threshold[1], would_block)
            )
        else:
            reason = (
                f"{finding.severity.name} is below {judged_by.whose}blocking severity "
                f"{judged_by.fail_on.severity.name}"
            )
            staged.append(
                (finding, Disposition.INFORMATIONAL, reason, judged_by.rule(RuleKind.SEVERITY), would_block)
            )

    decisions = tuple(
        _settle(item, policy, candidates, extra) for item, extra in zip(staged, extras, strict=True)
    )
    if states or spoke:
        decisions = with_enrichment(decisions, states, spoke, gaps, worse)

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

    base_image = None
    if base_check is not None:
        decided = ((d.finding, d.disposition is Disposition.BLOCKING) for d in decisions)
        base_image = judge_base(base_check, decided, policy.base_image.max_age_days)
        if base_image.stale and policy.base_image.on_stale is OnStale.FAIL and policy.mode is Mode.ENFORCE:
            failures.append(stale_failure(base_image))

    warnings, data_failures = data_warnings(policy, exploit, now, inputs.wording)
    failures += data_failures
    if comparison is not None:
        warnings += baseline_warnings(comparison.baseline, report, policy, now, inputs.wording)
    if spoke:
        warnings += vex_warnings(spoke, now, inputs.wording)
        warnings += snyk_vex_warnings(report)
    warnings += unfollowed_warnings(inputs.vex)
    warnings += alias_breadth_warnings(policy, through_alias)
    warnings += pathless_warnings(policy, pathless)
    warnings += package_spelling_warnings(policy, report.findings)
    warnings += far_expiry_warnings(policy, today)
    if policy.base_image.fail_on is not None and unknown_origin:
        warnings.append(
            f"{unknown_origin} finding(s) of unknown origin were judged by fail_on, not by "
            f"base_image.fail_on: the base image is not known ({inputs.wording.base_image_sources()})"
        )

    return Evaluation(
        report=report,
        policy=policy,
        now=now,
        decisions=decisions,
        entries=tuple(entries),
        policy_failures=tuple(failures),
        plan=plan_decisions(decisions, report.image, rebuild_removes(base_check)),
        # A decision report of an earlier release, read back (`explain --report gate.json`), may
        # already carry them: it has no `report_warnings` to tell them apart.
        policy_warnings=tuple(w for w in warnings if w not in report.warnings),
        base_image=base_image,
        baseline=comparison,
        vex_entries=vex_reports(inputs.vex, spoke, gaps),
        exploit=exploit,
    )


def _compare(report: ScanReport, inputs: EvaluationInputs) -> BaselineComparison | None:
    if inputs.baseline is None:
        return None
    platform = report.image.platform if report.image else None
    # Known-exploitation joins the comparison when the run has KEV data: a finding listed now
    # and not in the baseline's run is worse.
    kev = inputs.exploit.kev if inputs.exploit is not None else None
    listed = None if kev is None else dict.fromkeys(kev, True)
    return compare(inputs.baseline, report.findings, platform, known_exploited=listed)


def _in_baseline(states: Sequence[BaselineState], position: int, policy: Policy) -> bool:
    """True when a baseline was given and the finding's state there may not block."""
    return bool(states) and states[position].value not in policy.baseline.fail_on


def _worse(comparison: BaselineComparison | None, position: int, finding: Finding, listed: bool) -> str:
    """What a blocking reason adds for a finding worse than in the baseline, what made it worse (a
    pull request that changed nothing of it is blocked by it, and must see why); "" otherwise."""
    if comparison is None or comparison.states[position] is not BaselineState.WORSE:
        return ""
    return f"; {_worse_since(comparison, position, finding, listed)}"


def _worse_since(comparison: BaselineComparison, position: int, finding: Finding, listed: bool) -> str:
    """`worse than in the baseline of 2026-12-01 (LOW then)`: since when, and what made it worse."""
    before = comparison.matched[position]
    why = worse_since(before, finding, listed) if before is not None else ""
    since = f" ({why})" if why else ""
    return f"worse than in the baseline of {comparison.baseline.created_date}{since}"


def _already_known(
    finding: Finding,
    comparison: BaselineComparison,
    position: int,
    listed: bool,
    why: str,
    would_block: bool,
) -> tuple[Finding, Disposition, str, RuleRef, bool]:
    """The staged decision of a finding that would block but whose baseline state may not: one
    already in the baseline, or one the image adds or made worse when `baseline.fail_on` leaves
    out `new` or `worse` (neither is plainly "already in the baseline")."""
    date = comparison.baseline.created_date
    state = comparison.states[position]
    if state is BaselineState.NEW:
        reason = f"new since the baseline of {date}, but baseline.fail_on does not list new ({why})"
    elif state is BaselineState.WORSE:
        since = _worse_since(comparison, position, finding, listed)
        reason = f"{since}, but baseline.fail_on does not list worse ({why})"
    else:
        reason = f"already in the baseline of {date} ({why})"
    return (finding, Disposition.INFORMATIONAL, reason, RuleRef(RuleKind.BASELINE), would_block)


def _settle(
    item: tuple[Finding, Disposition, str, RuleRef, bool],
    policy: Policy,
    candidates: Counter[Severity],
    extra: _Extra = (None, None, None),
) -> Decision:
    """Turn a staged decision into the final one, applying budgets and advisory mode."""
    finding, disposition, reason, rule, would_block = item
    kev, epss, suspect = extra
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
                kev=kev,
                epss=epss,
                suspect=suspect,
            )
        if rule.kind is RuleKind.KNOWN_EXPLOITED:
            budget = None  # a known-exploited finding blocks: no budget tolerates it
        if budget is not None and total <= budget:
            return Decision(
                finding,
                Disposition.INFORMATIONAL,
                f"{reason}; tolerated: {total} {finding.severity.name} finding(s) within the budget of {budget}",
                RuleRef.budget(finding.severity),
                True,
                kev=kev,
                epss=epss,
                suspect=suspect,
            )
        if budget is not None:
            reason = f"{reason}; {total} {finding.severity.name} findings exceed the budget of {budget}"
            rule = RuleRef.budget(finding.severity)
    return Decision(finding, disposition, reason, rule, would_block, kev=kev, epss=epss, suspect=suspect)
