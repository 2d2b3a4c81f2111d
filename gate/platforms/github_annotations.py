"""Annotations in the GitHub Actions log and on the pull request's files: `::error` and `::warning`.

GitHub shows at most 10 error and 10 warning annotations of a step (and 50 of a job), so the gate
makes one per action (`Evaluation.plan`), on the Dockerfile line that installed its packages,
naming the action and how many findings it clears and listing them; the findings that block
without a fix get one of their own. What does not fit goes into the last one. An action without a
Dockerfile line is annotated without a line on the file `--sarif-location` names, else on the
`--dockerfile`, else on no file: never on a file the run was not told of (SARIF's own default,
`Dockerfile`, may not exist). Blocking findings are errors; findings that would block
but do not (advisory policy, a budget) are warnings, as are the scanners' warnings and expired
allowlist entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.model import Finding
from gate.platforms.github_commands import workflow_command
from gate.policy.actions import Action
from gate.policy.evaluation import Decision, Disposition, EntryState, Evaluation
from gate.render.remediation import what_to_do
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
    """The file for findings without a line (`--sarif-location`, else the `--dockerfile`), if any."""


def finding_line(finding: Finding) -> str:
    """`CVE-X (CRITICAL) in openssl 3.0.2-1, fixed in 3.0.13-1`, one line of untrusted text made safe."""
    f = finding
    if f.fixed_versions:
        fix = f"fixed in {', '.join(f.fixed_versions)}"
    else:
        fix = "a fix exists, no version named" if f.fixable else "no fix"
    where = f" at {f.package.path}" if f.package.path else ""
    text = f"{f.vulnerability_id} ({f.severity.name}) in {f.package.name} {f.package.version}{where}, {fix}"
    return terminal_safe(text, 300)


def _group(
    decisions: Sequence[Decision], evaluation: Evaluation
) -> list[tuple[Action | None, list[Decision]]]:
    """Decisions by the action that clears them, in the plan's order; those without a fix last."""
    plan = evaluation.plan
    by_action: dict[str | None, list[Decision]] = {}
    for d in decisions:
        by_action.setdefault(plan.action_ids.get(d.finding.key), []).append(d)
    for group in by_action.values():
        group.sort(key=lambda d: (-d.finding.severity, d.finding.vulnerability_id, d.finding.package.name))
    groups: list[tuple[Action | None, list[Decision]]] = [
        (action, by_action[action.id]) for action in plan.actions if action.id in by_action
    ]
    if None in by_action:
        groups.append((None, by_action[None]))
    return groups


def _annotation(level: str, verb: str, action: Action | None, group: Sequence[Decision], files: Files) -> str:
    worst = group[0].finding.severity.name
    if action is None:
        title = f"container-gate: {len(group)} finding(s) {verb} without a fix yet ({worst})"
    else:
        title = f"container-gate: {what_to_do(action, '->')}: clears {len(group)} finding(s) that {verb} ({worst})"
    lines = [finding_line(d.finding) for d in group[:FINDINGS_PER_ANNOTATION]]
    if action is not None and action.command:
        lines.insert(0, f"$ {action.command}")
    if len(group) > FINDINGS_PER_ANNOTATION:
        lines.append(f"and {len(group) - FINDINGS_PER_ANNOTATION} more (see the job summary)")
    line = _line(action, group, files)
    file = files.dockerfile if line is not None else files.fallback
    return workflow_command(level, "\n".join(lines), file=file, line=line, title=title)


def _line(action: Action | None, group: Sequence[Decision], files: Files) -> int | None:
    """The Dockerfile line of the action (or, without a fix, of the findings' layers when they
    share one), when there is a Dockerfile to point at."""
    if files.dockerfile is None:
        return None
    if action is not None:
        return action.dockerfile_line
    lines = {d.finding.layer.dockerfile_line if d.finding.layer else None for d in group}
    return lines.pop() if len(lines) == 1 else None


def _level(
    level: str, verb: str, decisions: Sequence[Decision], evaluation: Evaluation, files: Files, room: int
) -> list[str]:
    groups = _group(decisions, evaluation)
    if len(groups) > room:
        # The rest in one annotation without an action: nothing is dropped silently.
        rest = [d for _action, group in groups[room - 1 :] for d in group]
        rest.sort(key=lambda d: -d.finding.severity)
        made = [_annotation(level, verb, action, group, files) for action, group in groups[: room - 1]]
        worst = rest[0].finding.severity.name
        actions = sum(1 for action, _group in groups[room - 1 :] if action is not None)
        unfixed = " and those without a fix" if groups[-1][0] is None else ""
        title = f"container-gate: {actions} more actions{unfixed}: {len(rest)} finding(s) {verb} ({worst})"
        lines = [finding_line(d.finding) for d in rest[:FINDINGS_PER_ANNOTATION]]
        if len(rest) > FINDINGS_PER_ANNOTATION:
            lines.append(f"and {len(rest) - FINDINGS_PER_ANNOTATION} more (see the job summary)")
        return [*made, workflow_command(level, "\n".join(lines), file=files.fallback, title=title)]
    return [_annotation(level, verb, action, group, files) for action, group in groups]


def verdict_annotations(evaluation: Evaluation, files: Files, *, reserved_warnings: int = 0) -> list[str]:
    """The workflow commands for a verdict, errors first; `reserved_warnings` of the step's warning
    annotations are left for the publisher's own (a comment it could not write), which GitHub
    would otherwise not show past the tenth."""
    failures = [
        workflow_command("error", terminal_safe(failure, 500), title="container-gate: policy failure")
        for failure in evaluation.policy_failures[:MAX_PER_LEVEL]
    ]
    blocking = [d for d in evaluation.decisions if d.disposition is Disposition.BLOCKING]
    errors = failures
    room = MAX_PER_LEVEL - len(failures)
    if blocking and room > 0:
        errors += _level("error", "block", blocking, evaluation, files, room)

    warning_room = max(MAX_PER_LEVEL - reserved_warnings, 0)
    warnings = [
        workflow_command("warning", terminal_safe(text, 500), title="container-gate: warning")
        for text in evaluation.warnings[: min(3, warning_room)]
    ]
    for item in evaluation.entries:
        if item.state is EntryState.EXPIRED and len(warnings) < min(MAX_PER_LEVEL // 2, warning_room):
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
    room = warning_room - len(warnings)
    if tolerated and room > 0:
        warnings += _level("warning", "would block", tolerated, evaluation, files, room)
    return errors + warnings


def error_annotation(message: str, exit_code: int, at: tuple[str, int] | None = None) -> str:
    """The one annotation of a run that could not decide, on the file and line `at` when the
    error is in a file of the repository (a policy file)."""
    file, line = at if at is not None else (None, None)
    return workflow_command(
        "error",
        terminal_safe(message, 1000),
        file=file,
        line=line,
        title=f"container-gate could not decide (exit code {exit_code})",
    )
