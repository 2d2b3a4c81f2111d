"""The delta every summary leads with when the run had a baseline: `3 new · 1 worse · 12 fixed
since <source>`, the baseline's file (or the branch whose last pipeline made it) shown as each
output shows untrusted text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gate.policy.evaluation import Evaluation
from gate.render.remediation import plural
from gate.untrusted import terminal_safe


def delta_line(evaluation: Evaluation, code: Callable[[str], str]) -> str:
    """The delta, or "" without a baseline; `code` renders the source or the branch (escaped for
    the output)."""
    comparison = evaluation.baseline
    if comparison is None:
        return ""
    baseline = comparison.baseline
    # A fetched baseline's file is the job's local copy: what it is, is the branch's last report.
    since = (
        f"the last successful pipeline of {code(baseline.branch)}"
        if baseline.branch is not None
        else code(baseline.source)
    )
    return f"{comparison.delta_line()} since {since} (baseline of {baseline.created_date})"


_SHOWN_CVES = 5
"""The most CVEs a line names that no statement clears; the JSON report's rules name them all."""


@dataclass(frozen=True)
class VexCounts:
    """What became of the VEX statements of a run, counted once."""

    statements: int
    """Statements given."""
    files: int
    """Files they came from."""
    used: int
    """Statements that spoke for a finding."""
    partial: int
    """Unused statements that clear some CVEs of a finding whose other CVEs no statement clears:
    needed all the same."""

    @property
    def unused(self) -> int:
        """Statements that spoke for no finding and are not needed for part of one."""
        return self.statements - self.used - self.partial

    def words(self) -> str:
        """`21 statement(s) from 1 file(s): 1 used, 20 unused`."""
        some = f", {self.partial} clearing only part of an advisory" if self.partial else ""
        return (
            f"{self.statements} statement(s) from {self.files} file(s): {self.used} used{some}, "
            f"{self.unused} unused"
        )


def vex_counts(evaluation: Evaluation) -> VexCounts | None:
    """The run's VEX statements counted, or None when no VEX was given."""
    entries = evaluation.vex_entries
    if not entries:
        return None
    used = sum(1 for e in entries if e.matched)
    return VexCounts(
        statements=len(entries),
        files=len({e.statement.source for e in entries}),
        used=used,
        partial=sum(1 for e in entries if not e.matched and e.left_open),
    )


def vex_line(evaluation: Evaluation) -> list[str]:
    """`vex:      21 statements from 1 file: 1 used, 20 unused (the JSON report's rules list them)`,
    or nothing when no VEX was given. A statement that clears some CVEs of an advisory whose other
    CVEs no statement clears is not counted unused (it is needed): a second line says which CVEs
    leave those findings open."""
    counts = vex_counts(evaluation)
    if counts is None:
        return []
    lines = [f"vex:      {counts.words()} (the JSON report's rules list them)"]
    gap = vex_gap_line(evaluation, terminal_safe)
    if gap:
        lines.append(f"vex:      {gap}")
    return lines


def vex_gap_line(evaluation: Evaluation, code: Callable[[str], str]) -> str:
    """`VEX leaves 1 finding open: no statement clears CVE-2014-9999 (the statements about its
    other CVEs are needed all the same)`, or "" when statements that clear some CVEs of a finding
    standing for several leave none open; `code` renders a CVE id (escaped for the output)."""
    gaps = [d.vex_gap for d in evaluation.decisions if d.vex_gap is not None]
    if not gaps:
        return ""
    cves = sorted({cve for gap in gaps for cve in gap.not_cleared})
    named = ", ".join(code(cve) for cve in cves[:_SHOWN_CVES])
    more = f" and {len(cves) - _SHOWN_CVES} more" if len(cves) > _SHOWN_CVES else ""
    whose = "its" if len(gaps) == 1 else "their"
    return (
        f"VEX leaves {plural(len(gaps), 'finding')} open: no statement clears {named}{more} "
        f"(the statements about {whose} other CVEs are needed all the same)"
    )
