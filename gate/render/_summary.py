"""What several renderers work out the same way, so that they cannot disagree.

The terminal and Markdown summaries list findings in one order and say which of the scanners that
ran found each finding; they and the SARIF texts explain a missing fix by the vendor's status. (The
counts per disposition and severity are the evaluation's own: `Evaluation.counts`.) Each renderer
keeps its own words and layout; only the facts are computed here.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Sequence

from gate.enrich.baseline import BaselineState
from gate.enrich.vex_model import open_note
from gate.image.base_image import parse_created
from gate.model import Finding, VendorStatus
from gate.policy.base_status import BaseImageStatus
from gate.policy.evaluation import Decision, Disposition, Evaluation, RuleKind
from gate.policy.model import Policy
from gate.render._exploit import short_exploit_reason, summary_count

# Statuses that say why no fix exists. `affected` and `unknown` say nothing more than "no fix",
# and `fixed` without a fixed version is the scanner's contradiction, not a reason.
_NO_FIX_REASONS = frozenset(
    {
        VendorStatus.WILL_NOT_FIX,
        VendorStatus.FIX_DEFERRED,
        VendorStatus.END_OF_LIFE,
        VendorStatus.UNDER_INVESTIGATION,
        VendorStatus.NOT_AFFECTED,
    }
)


def no_fix_reason(finding: Finding) -> str | None:
    """The vendor status that explains why a finding without a fixed version has none, else None."""
    if finding.fixed_versions or finding.status not in _NO_FIX_REASONS:
        return None
    return finding.status.value


def listing_order(decision: Decision) -> tuple[bool, int, str, str]:
    """Sort key of a findings list: those CISA lists as known exploited first (a list cut short
    must not leave out the finding the verdict line and the first action name), then the most
    severe, then by vulnerability id and package."""
    f = decision.finding
    return (decision.kev is None, -f.severity, f.vulnerability_id, f.package.name)


def first_listed(decisions: Iterable[Decision], count: int | None = None) -> list[Decision]:
    """The first `count` decisions in `listing_order` (all when None), without sorting the rest:
    a report can have 100,000 findings of which a summary shows a hundred."""
    if count is None:
        return sorted(decisions, key=listing_order)
    return heapq.nsmallest(count, decisions, key=listing_order)


def why_it_fails(evaluation: Evaluation) -> str:
    """`2 blocking finding(s) and 1 policy failure(s)`: what fails a verdict that is not a pass."""
    parts = []
    if evaluation.counts[Disposition.BLOCKING]:
        parts.append(
            f"{evaluation.counts[Disposition.BLOCKING]} blocking finding(s){summary_count(evaluation)}"
        )
    if evaluation.policy_failures:
        parts.append(f"{len(evaluation.policy_failures)} policy failure(s)")
    return " and ".join(parts)


_DECIDED_BY = {
    Disposition.ALLOWLISTED: (RuleKind.VEX, "by VEX"),
    # Not "already in the baseline": beside "2 informational", "1 already in the baseline" reads as
    # if the other one were not, while it counts those the baseline kept from blocking.
    Disposition.INFORMATIONAL: (RuleKind.BASELINE, "let through by the baseline"),
}
"""The part of a disposition's count that an input besides the policy decided, and its words: they
follow the count in both forms, `(5 let through by the baseline)` and, in advisory mode,
`(1 would block; 5 let through by the baseline)`."""


def count_detail(evaluation: Evaluation, disposition: Disposition) -> str:
    """` (2 by VEX)` after the allowlisted count, ` (5 let through by the baseline)` after the
    informational one (findings that would block but were there before): empty when there are none."""
    words = count_words(evaluation, disposition)
    return f" ({words})" if words else ""


def count_words(evaluation: Evaluation, disposition: Disposition) -> str:
    """What `count_detail` puts in brackets (`5 let through by the baseline`), or empty."""
    if disposition not in _DECIDED_BY or not evaluation.counts[disposition]:
        return ""
    kind, words = _DECIDED_BY[disposition]
    count = evaluation.counts.by_rule.get((disposition, kind), 0)
    if kind is RuleKind.BASELINE and count:
        # A finding the image adds is informational by `baseline.fail_on` too when the policy
        # leaves out `new`: it is not "already in the baseline". (Only asked of a run with some:
        # without a baseline, no pass over every finding.)
        count -= sum(
            1
            for d in evaluation.decisions
            if d.disposition is disposition and d.rule.kind is kind and d.baseline is BaselineState.NEW
        )
    return f"{count} {words}" if count else ""


def found_by(finding: Finding, ran: Sequence[str]) -> tuple[list[str], bool]:
    """Which of the scanners that ran reported the finding, and whether that is fewer than all."""
    found = [name for name in ran if name in finding.scanners]
    if not found:  # a report that names no scanner run: say what the finding itself says
        return list(finding.scanners), False
    return found, len(found) < len(ran)


def agreement(evaluation: Evaluation, ran: Sequence[str]) -> tuple[int, list[tuple[str, int]]]:
    """How many findings every scanner that ran reported, and for each scanner how many it alone did."""
    agreed = 0
    alone = dict.fromkeys(ran, 0)
    for decision in evaluation.decisions:
        scanners = decision.finding.scanners
        if all(name in scanners for name in ran):
            agreed += 1
        if len(scanners) == 1 and scanners[0] in alone:
            alone[scanners[0]] += 1
    return agreed, list(alone.items())


def short_reason(decision: Decision, policy: Policy) -> str:
    """Why the policy decided so, in as few words as a table needs: a severity threshold said by
    the threshold alone (`at or above the blocking severity HIGH`: the finding's severity is
    shown beside it), any other reason in full. Plain text, from the policy and the reason."""
    rule = decision.rule
    # What made it worse than in the baseline is kept: the pull request did not add it. So is
    # what a VEX statement that does not clear it says (`affected`, `under_investigation`), and
    # which statement says it: the reader must not take the finding for one nobody looked at.
    worse = decision.worse + open_note(decision.vex)
    exploit_reason = short_exploit_reason(decision, policy)
    if exploit_reason is not None:
        return f"{exploit_reason}{worse}"
    if rule.kind is RuleKind.SEVERITY and not decision.tolerated:
        origin = decision.finding.layer.origin if decision.finding.layer is not None else None
        threshold = policy.fail_on_for(origin).severity.name
        whose = "the base image's" if rule.base_image else "the"
        side = "at or above" if decision.disposition is Disposition.BLOCKING else "below"
        return f"{side} {whose} blocking severity {threshold}{worse}"
    return decision.reason


def base_image_line(status: BaseImageStatus, code: Callable[[str], str], text: Callable[[str], str]) -> str:
    """The one line about the base image check, in the renderer's own escaping: `code` shows the
    base image's name, `text` any other report text.

    `base \\`debian:12\\` is 47 days behind its tag (built 2024-01-10, tag now 2024-02-26); rebuilding
    on it removes 29 findings (13 blocking; 1 CRITICAL, 12 HIGH, 15 MEDIUM, 1 LOW)`.
    """
    check = status.check
    name = code(check.name) if check.name else "image"
    if not check.checked:
        return f"base {name} not checked: {text(check.reason or 'unknown reason')}"
    used = _date(check.used.created if check.used else None)
    if not check.changed:
        return (
            f"base {name} is current: its tag still points to the image this one was built on (built {used})"
        )
    now = _date(check.current.created if check.current else None)
    days = status.behind_days
    behind = "behind its tag" if days is None else f"{days} day{'' if days == 1 else 's'} behind its tag"
    removes = status.removes
    severities = ", ".join(f"{n} {severity.name}" for severity, n in removes.by_severity.items())
    detail = f" ({removes.blocking} blocking; {severities})" if removes.findings else ""
    plural = "" if removes.findings == 1 else "s"
    return (
        f"{'stale ' if status.stale else ''}base {name} is {behind} (built {used}, tag now {now}); "
        f"rebuilding on it removes {removes.findings} finding{plural}{detail}"
    )


def _date(created: str | None) -> str:
    when = parse_created(created)
    return when.astimezone(dt.UTC).date().isoformat() if when else "on an unknown date"
