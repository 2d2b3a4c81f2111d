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
