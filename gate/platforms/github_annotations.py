"""Annotations in the GitHub Actions log and on the pull request's files: `::error` and `::warning`.

GitHub shows at most 10 error and 10 warning annotations of a step (and 50 of a job), so the gate
makes one per Dockerfile line, listing that line's findings, the most severe line first; what
does not fit goes into the last one. A finding without a Dockerfile line is annotated on the file
SARIF results point at (`--sarif-location`, or the Dockerfile) without a line, or on no file.
Blocking findings are errors; findings that would block but do not (advisory policy, a budget)
are warnings, as are the scanners' warnings and expired allowlist entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.model import Finding
from gate.platforms.github_commands import workflow_command
from gate.policy.evaluation import Decision, Disposition, EntryState, Evaluation
from gate.untrusted import terminal_safe

MAX_PER_LEVEL = 10
"""Annotations of one level GitHub shows for a step."""
FINDINGS_PER_ANNOTATION = 20
"""Findings listed in one annotation before the rest is counted."""


@dataclass(frozen=True)
class Files:
    """Where in the repository annotations point."""

    dockerfile: str | None
    """The Dockerfile (`--dockerfile`), repository-relative, for findings with a line."""
    fallback: str | None
    """The file for findings without a line (`--sarif-location`, else the Dockerfile)."""


def finding_line(finding: Finding) -> str:
    """`CVE-X (CRITICAL) in openssl 3.0.2-1, fixed in 3.0.13-1`, one line of untrusted text made safe."""
    f = finding
    fix = f"fixed in {', '.join(f.fixed_versions)}" if f.fixed_versions else "no fix"
    where = f" at {f.package.path}" if f.package.path else ""
    text = f"{f.vulnerability_id} ({f.severity.name}) in {f.package.name} {f.package.version}{where}, {fix}"
    return terminal_safe(text, 300)


def _group(decisions: Sequence[Decision], files: Files) -> list[tuple[int | None, list[Decision]]]:
    """Decisions by Dockerfile line (None: no line), the most severe line first."""
    by_line: dict[int | None, list[Decision]] = {}
    for d in decisions:
        layer = d.finding.layer
        line = layer.dockerfile_line if layer is not None and files.dockerfile else None
        by_line.setdefault(line, []).append(d)
    for group in by_line.values():
        group.sort(key=lambda d: (-d.finding.severity, d.finding.vulnerability_id, d.finding.package.name))
    return sorted(
        by_line.items(), key=lambda item: (-item[1][0].finding.severity, item[0] is None, item[0] or 0)
    )


def _annotation(level: str, verb: str, line: int | None, group: Sequence[Decision], files: Files) -> str:
    worst = group[0].finding.severity.name
    title = f"container-gate: {len(group)} finding(s) {verb} ({worst})"
    lines = [finding_line(d.finding) for d in group[:FINDINGS_PER_ANNOTATION]]
    if len(group) > FINDINGS_PER_ANNOTATION:
        lines.append(f"and {len(group) - FINDINGS_PER_ANNOTATION} more (see the job summary)")
    file = files.dockerfile if line is not None else files.fallback
    return workflow_command(level, "\n".join(lines), file=file, line=line, title=title)


def _level(level: str, verb: str, decisions: Sequence[Decision], files: Files, room: int) -> list[str]:
    groups = _group(decisions, files)
    if len(groups) > room:
        # The rest in one annotation without a line: nothing is dropped silently.
        rest = [d for _line, group in groups[room - 1 :] for d in group]
        rest.sort(key=lambda d: -d.finding.severity)
        groups = [*groups[: room - 1], (None, rest)]
    return [_annotation(level, verb, line, group, files) for line, group in groups]


def verdict_annotations(evaluation: Evaluation, files: Files) -> list[str]:
    """The workflow commands for a verdict, errors first."""
    failures = [
        workflow_command("error", terminal_safe(failure, 500), title="container-gate: policy failure")
        for failure in evaluation.policy_failures[:MAX_PER_LEVEL]
    ]
    blocking = [d for d in evaluation.decisions if d.disposition is Disposition.BLOCKING]
    errors = failures
    room = MAX_PER_LEVEL - len(failures)
    if blocking and room > 0:
        errors += _level("error", "block", blocking, files, room)

    warnings = [
        workflow_command("warning", terminal_safe(text, 500), title="container-gate: scanner warning")
        for text in evaluation.warnings[:3]
    ]
    for item in evaluation.entries:
        if item.state is EntryState.EXPIRED and len(warnings) < MAX_PER_LEVEL // 2:
            e = item.entry
            policy_file = evaluation.policy.source if e.line else None
            warnings.append(
                workflow_command(
                    "warning",
                    f"{e.name} ({terminal_safe(e.vulnerability, 100)}) expired on {e.expires}; "
                    "renew it with a new date or remove it",
                    file=policy_file,
                    line=e.line,
                    title="container-gate: expired allowlist entry",
                )
            )
    tolerated = [d for d in evaluation.decisions if d.tolerated]
    room = MAX_PER_LEVEL - len(warnings)
    if tolerated and room > 0:
        warnings += _level("warning", "would block", tolerated, files, room)
    return errors + warnings


def error_annotation(message: str, exit_code: int) -> str:
    """The one annotation of a run that could not decide."""
    return workflow_command(
        "error",
        terminal_safe(message, 1000),
        title=f"container-gate could not decide (exit code {exit_code})",
    )
