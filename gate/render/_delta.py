"""The delta every summary leads with when the run had a baseline: `3 new · 1 worse · 12 fixed
since <source>`, the baseline's file shown as each output shows untrusted text."""

from __future__ import annotations

from collections.abc import Callable

from gate.policy.evaluation import Evaluation


def delta_line(evaluation: Evaluation, code: Callable[[str], str]) -> str:
    """The delta, or "" without a baseline; `code` renders the source (escaped for the output)."""
    comparison = evaluation.baseline
    if comparison is None:
        return ""
    baseline = comparison.baseline
    return f"{comparison.delta_line()} since {code(baseline.source)} (baseline of {baseline.created_date})"


def vex_line(evaluation: Evaluation) -> list[str]:
    """`vex:      21 statements from 1 file: 1 used, 20 unused (the JSON report's rules list them)`,
    or nothing when no VEX was given."""
    entries = evaluation.vex_entries
    if not entries:
        return []
    files = len({e.statement.source for e in entries})
    used = sum(1 for e in entries if e.matched)
    return [
        f"vex:      {len(entries)} statement(s) from {files} file(s): {used} used, "
        f"{len(entries) - used} unused (the JSON report's rules list them)"
    ]
