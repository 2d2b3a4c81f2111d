"""The decision report's members for a baseline and VEX statements: a finding's `baseline` and
`vex`, the top-level `baseline`, and the VEX statements among the `rules`. Written only when the
run was given a baseline or VEX, so a report without them stays as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.enrich.baseline import BaselineComparison, BaselineFinding, BaselineState
from gate.enrich.vex_model import VexStatement, format_time
from gate.policy.evaluation import Decision, Evaluation, VexEntryReport


def _vex(statement: VexStatement | None) -> dict[str, Any] | None:
    if statement is None:
        return None
    return {
        "rule": statement.rule,
        "status": statement.status.value,
        "justification": statement.justification,
        "impact_statement": statement.impact_statement,
        "action_statement": statement.action_statement,
        "author": statement.author,
        "timestamp": format_time(statement.timestamp) if statement.timestamp else None,
        "statements": [part.rule for part in statement.statements],
    }


def finding_extras(evaluation: Evaluation) -> Callable[[Decision], dict[str, Any]] | None:
    """What each finding of `evaluation` carries besides the members every report has, or None
    when there is nothing to add."""
    baseline = evaluation.baseline is not None
    vex = bool(evaluation.vex_entries)
    if not baseline and not vex:
        return None

    def extras(decision: Decision) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if baseline:
            out["baseline"] = decision.baseline.value if decision.baseline else None
        if vex:
            out["vex"] = _vex(decision.vex)
            gap = decision.vex_gap
            if gap is not None:
                # Only on a finding VEX leaves open, which no VEX rule decided: the rule rows
                # say it of each statement, the finding says it of itself.
                out["vex_gap"] = {
                    "cleared": list(gap.cleared),
                    "not_cleared": list(gap.not_cleared),
                    "statements": [statement.rule for statement in gap.clearing],
                }
        return out

    return extras


def vex_rule(report: VexEntryReport) -> dict[str, Any]:
    """A VEX statement in `rules`, beside the allowlist entries."""
    s = report.statement
    return {
        "source": "vex",
        "file": s.source,
        "index": s.index,
        "rule": s.rule,
        "location": s.location,
        "format": s.format.value,
        "vulnerability": s.vulnerability_id,
        "aliases": list(s.aliases),
        "status": s.status.value,
        "justification": s.justification,
        "reason": s.reason,
        "author": s.author,
        "timestamp": format_time(s.timestamp) if s.timestamp else None,
        "state": report.state.value,
        "matched": report.matched,
        "left_open": report.left_open,
        "not_cleared": list(report.not_cleared),
    }


def _fixed(item: BaselineFinding) -> dict[str, Any]:
    return {
        "vulnerability_id": item.vulnerability_id,
        "aliases": list(item.aliases),
        "package": item.package,
        "package_type": item.package_type,
        "path": item.path,
        "installed_version": item.installed_version,
        "severity": item.severity.name,
    }


def baseline_summary(comparison: BaselineComparison) -> dict[str, Any]:
    """The top-level `baseline`: where it came from, the counts, and what is fixed since."""
    baseline = comparison.baseline
    # `branch` only when the baseline was fetched from one: reports without it keep their shape.
    branch = {} if baseline.branch is None else {"branch": baseline.branch}
    return {
        "source": baseline.source,
        **branch,
        "created": baseline.created,
        "counts": {
            "new": comparison.count(BaselineState.NEW),
            "unchanged": comparison.count(BaselineState.UNCHANGED),
            "worse": comparison.count(BaselineState.WORSE),
            "fixed": len(comparison.fixed),
        },
        "fixed": [_fixed(item) for item in comparison.fixed],
    }


def policy_extras(evaluation: Evaluation) -> dict[str, Any]:
    """The policy's `baseline` (with a baseline) and `vex` (with the policy's VEX files)."""
    policy = evaluation.policy
    extras: dict[str, Any] = {}
    if evaluation.baseline is not None:
        extras["baseline"] = {
            "fail_on": sorted(policy.baseline.fail_on),
            "max_age_days": policy.baseline.max_age_days,
        }
    if policy.vex:
        extras["vex"] = [str(path) for path in policy.vex]
    return extras
