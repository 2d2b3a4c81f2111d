"""The terminal summary: what a person reads after a local dry-run or in a CI log.

Verdict first, then counts, then the blocking findings as a table, then the allowlist
entries that need attention. Plain text only: CI logs do not all understand colour, and
every piece of report text goes through `terminal_safe` so no escape sequence reaches the
terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.model import Finding
from gate.policy.evaluation import Counts, Decision, Disposition, EntryState, Evaluation
from gate.policy.model import Mode
from gate.render._summary import agreement, first_listed, found_by, why_it_fails
from gate.untrusted import terminal_safe

MAX_ROWS = 50
"""Blocking rows printed before the rest is summarized (the JSON report keeps them all)."""


def fix_text(finding: Finding) -> str:
    """`installed -> fixed`, or `installed (no fix)`."""
    if finding.fixed_versions:
        return f"{finding.package.version} -> {', '.join(finding.fixed_versions)}"
    if finding.fixable:
        return f"{finding.package.version} (a fix exists; no version named)"
    return f"{finding.package.version} (no fix)"


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    # The last column (the reason) is not padded: it may be long and is read, not aligned.
    widths[-1] = 0

    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _headline(evaluation: Evaluation, counts: Counts) -> str:
    if evaluation.policy.mode is Mode.ADVISORY:
        return (
            f"ADVISORY MODE: this gate never fails. {counts.would_block} finding(s) would block "
            "under an enforcing policy."
        )
    if evaluation.passed:
        return "PASS: no blocking findings."
    return f"FAIL: {why_it_fails(evaluation)}."


def _severity_line(evaluation: Evaluation) -> list[str]:
    lines = []
    for disp, row in evaluation.counts.by_severity.items():
        cells = [f"{sev.name} {n}" for sev, n in row.items() if n]
        if cells:
            lines.append(f"  {disp.value:<13} " + ", ".join(cells))
    return lines


def _found_by(finding: Finding, ran: Sequence[str]) -> str:
    """`trivy+grype`, or `grype only`, among the scanners that ran."""
    found, only = found_by(finding, ran)
    return terminal_safe("+".join(found) + (" only" if only else ""), 40)


def _agreement_line(evaluation: Evaluation, ran: Sequence[str]) -> list[str]:
    """Where several scanners ran: how many findings all of them reported, and each alone."""
    if len(ran) < 2 or not evaluation.decisions:
        return []
    agreed, alone = agreement(evaluation, ran)
    only = ", ".join(f"{count} only by {name}" for name, count in alone)
    return [
        terminal_safe(
            f"agreement: {agreed} of {len(evaluation.decisions)} findings reported by all scanners; {only}"
        )
    ]


def _blocking_rows(decisions: Sequence[Decision], ran: Sequence[str]) -> list[list[str]]:
    rows = []
    for d in first_listed(decisions, MAX_ROWS):
        f = d.finding
        where = ""
        if f.layer is not None and f.layer.origin is not None:
            where = f.layer.origin.value
        found_cell = [_found_by(f, ran)] if len(ran) > 1 else []
        rows.append(
            [
                terminal_safe(f.vulnerability_id, 40),
                terminal_safe(f.package.name, 40),
                terminal_safe(fix_text(f), 60),
                f.severity.name,
                where,
                *found_cell,
                terminal_safe(d.reason),
            ]
        )
    return rows


def render_terminal(evaluation: Evaluation) -> str:
    """The summary as plain text, ending with a newline."""
    report = evaluation.report
    counts = evaluation.counts
    out = [f"container-gate: {_headline(evaluation, counts)}"]
    if report.image is not None:
        img = report.image
        extra = ", ".join(x for x in (img.platform, img.distro, img.digest or img.image_id) if x)
        out.append(
            f"image:    {terminal_safe(img.reference)}" + (f" ({terminal_safe(extra)})" if extra else "")
        )
    elif report.sources:
        out.append("reports:  " + ", ".join(terminal_safe(s) for s in report.sources))
    if report.scanners:
        names = []
        for s in report.scanners:
            text = s.name + (f" {s.version}" if s.version else "")
            if s.db_updated_at:
                text += f" (DB {s.db_updated_at})"
            names.append(terminal_safe(text))
        out.append("scanners: " + ", ".join(dict.fromkeys(names)))
    out.append(f"policy:   {terminal_safe(evaluation.policy.source)}")
    out.append(
        f"findings: {len(evaluation.decisions)} total: {counts[Disposition.BLOCKING]} blocking, "
        f"{counts[Disposition.ALLOWLISTED]} allowlisted, {counts[Disposition.IGNORED]} ignored, "
        f"{counts[Disposition.INFORMATIONAL]} informational"
    )
    out.extend(_severity_line(evaluation))
    ran = list(dict.fromkeys(s.name for s in report.scanners))
    out.extend(_agreement_line(evaluation, ran))
    for warning in report.warnings:
        out.append(f"warning:  {terminal_safe(warning)}")

    blocking = [d for d in evaluation.decisions if d.disposition is Disposition.BLOCKING]
    if not blocking and evaluation.policy.mode is Mode.ADVISORY:
        # An allowlisted or ignored finding at the threshold would not block an enforcing policy either.
        blocking = [d for d in evaluation.decisions if d.tolerated]
        title = "Findings that would block"
    else:
        title = "Blocking findings"
    if blocking:
        out += ["", f"{title} ({len(blocking)}):"]
        found_column = ["FOUND BY"] if len(ran) > 1 else []
        header = ["ID", "PACKAGE", "INSTALLED -> FIXED", "SEVERITY", "LAYER", *found_column, "WHY"]
        out += _table(_blocking_rows(blocking, ran), header)
        if len(blocking) > MAX_ROWS:
            out.append(f"  ... and {len(blocking) - MAX_ROWS} more (all are in the --json report)")

    if evaluation.policy_failures:
        out += ["", "Policy failures:"]
        out += [f"  - {terminal_safe(text)}" for text in evaluation.policy_failures]

    expired = [e for e in evaluation.entries if e.state is EntryState.EXPIRED]
    unused = [e for e in evaluation.entries if e.state is EntryState.UNUSED]
    if expired:
        out += ["", "Expired allowlist entries (no longer applied):"]
        for item in expired:
            e = item.entry
            hides = f"; it would match {item.would_match} finding(s)" if item.would_match else ""
            out.append(
                f"  - {e.name} {terminal_safe(e.vulnerability)} expired on "
                f"{e.expires.isoformat() if e.expires else '?'}{hides}: {terminal_safe(e.reason, 100)}"
            )
    if unused:
        out += ["", "Unused allowlist entries (matched no finding; remove them or fix their fields):"]
        for item in unused:
            e = item.entry
            out.append(f"  - {e.name} {terminal_safe(e.vulnerability)}: {terminal_safe(e.reason, 100)}")
    return "\n".join(out) + "\n"
