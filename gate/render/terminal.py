"""The terminal summary: what a person reads after a local dry-run or in a CI log.

The verdict first, with how many actions clear what blocks; then the image, scanners, policy and
counts; then the actions as a table (with the command of each where it is certain); then the
findings that block, numbered by the action that clears them; then the allowlist entries that
need attention; and the verdict again as the last line, so it is what a CI log shows when it is
cut. Everything below the head fits the width asked for (100 columns unless the command line
measured a terminal), counted as a terminal counts columns: the tables' columns give way, lists
and sentences go on to the next line. The head's lines are never cut: the verdict is what a CI
log is searched for, and a digest cut short is no digest. The image's line goes on to the next
lines at spaces, under the reference, the reference and digest each whole. Plain text only: CI logs
do not all understand colour, and every piece of report text goes through `terminal_safe` so no
escape sequence reaches the terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from gate.model import Finding
from gate.policy.actions import Action
from gate.policy.evaluation import Counts, Decision, Disposition, EntryState, Evaluation, RuleKind
from gate.policy.exploit_rules import KEV_NAME
from gate.policy.model import Mode
from gate.render._columns import display_width, fit, table, wrap
from gate.render._delta import delta_line, vex_line
from gate.render._exploit import marks, summary_count, terminal_cleared_kev, terminal_suspects
from gate.render._summary import (
    agreement,
    base_image_line,
    count_detail,
    first_listed,
    found_by,
    short_reason,
    why_it_fails,
)
from gate.render.remediation import (
    base_unknown,
    base_unknown_words,
    cleared,
    cleared_by_severity,
    clearing_actions,
    clearing_decisions,
    counts_blocking_only,
    estimate_words,
    known_exploited,
    lead,
    listing_a_stale_fix,
    needs_attention,
    pinned_words,
    plural,
    what_to_do,
)
from gate.run_wording import COMMAND_LINE_WORDS, JsonReportHint
from gate.untrusted import terminal_safe

WIDTH = 100
"""Columns the tables fit in when the summary does not go to a terminal (a CI log, a file, a pipe)."""
MIN_WIDTH = 60
"""The narrowest a terminal's width is taken as: below it the tables' columns have no room left."""
MAX_WIDTH = 160
"""The widest a terminal's width is taken as: beyond it rows are too long to read across."""
MAX_ACTIONS = 10
"""Actions listed before the rest is counted."""
MAX_ROWS = 20
"""Findings that block listed before the rest is counted."""
MAX_REASONS = 3
"""Distinct reasons why findings block, said once above their table, before the rest is counted."""
ID_LIMIT = 200
"""Characters of a finding's id kept in its cell: far beyond any real id (the longest Snyk ids are
under 40), so only a hostile report's id is cut, and further only where the terminal has no room."""
LEAST_ID = 16
"""Columns an id too long for the terminal is cut to, once every other column has given way."""
MAX_PACKAGES = 3
"""The packages named after an allowlist entry that cleared findings in more."""


def fix_text(finding: Finding) -> str:
    """`installed -> fixed`, or `installed (no fix)`."""
    if finding.fixed_versions:
        return f"{finding.package.version} -> {', '.join(finding.fixed_versions)}"
    if finding.fixable:
        return f"{finding.package.version} (a fix exists; no version named)"
    return f"{finding.package.version} (no fix)"


def fitted_width(columns: int) -> int:
    """The width the tables fit in on a terminal `columns` wide, within MIN_WIDTH..MAX_WIDTH."""
    return min(max(columns, MIN_WIDTH), MAX_WIDTH)


def _headline(evaluation: Evaluation, counts: Counts) -> str:
    if evaluation.policy.mode is Mode.ADVISORY:
        text = (
            f"ADVISORY MODE: this gate never fails. {counts.would_block} finding(s) would block "
            f"under an enforcing policy{summary_count(evaluation, enforced=True)}"
        )
    elif evaluation.passed:
        return "container-gate: PASS: no blocking findings."
    else:
        text = f"FAIL: {why_it_fails(evaluation)}"
    facts = lead(evaluation)
    if facts.actions:
        does = "clears" if facts.actions == 1 else "clear"
        them = "it" if facts.blocking == 1 else "them"
        if facts.without_fix:
            them = f"{facts.blocking - facts.without_fix} of {them}, {facts.without_fix} without a fix yet"
        text += f"; {plural(facts.actions, 'action')} {does} {them}"
    elif facts.blocking:
        text += "; none has a fix yet"
    return f"container-gate: {text}."


def _severity_line(evaluation: Evaluation) -> list[str]:
    lines = []
    for disp, row in evaluation.counts.by_severity.items():
        cells = [f"{sev.name} {n}" for sev, n in row.items() if n]
        if cells:
            lines.append(f"  {disp.value:<13} " + ", ".join(cells))
    return lines


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


def _where(action: Action) -> list[str]:
    origin = action.origin.value if action.origin is not None else "-"
    return [origin, str(action.dockerfile_line) if action.dockerfile_line is not None else "-"]


def _actions(
    actions: Sequence[Action],
    by_action: dict[str, list[Decision]],
    blocking_only: bool,
    more: str,
    width: int,
) -> list[str]:
    header = ["#", "CLEARS", "SEVERITY", "WHAT TO DO", "LAYER", "LINE"]
    rows = [
        [
            str(n),
            str(cleared(a, blocking_only)),
            next(iter(cleared_by_severity(a, by_action.get(a.id, []))), a.highest_severity).name,
            terminal_safe(what_to_do(a, "->", pinned=False)),
            *_where(a),
        ]
        for n, a in enumerate(actions[:MAX_ACTIONS], start=1)
    ]
    # Where nothing is known (no base image, no Dockerfile), the column says nothing: left out.
    for column in (5, 4):
        if all(row[column] == "-" for row in rows):
            header.pop(column)
            for row in rows:
                row.pop(column)
    lines, more_lines = _what_to_do_wrapped(rows, header, width)
    out = lines[:1]
    for action, line, going_on in zip(actions, lines[1:], more_lines, strict=False):
        out.append(line)
        out += going_on
        exploited = known_exploited(by_action.get(action.id, []))
        if exploited:
            # Why an action that clears fewer findings can come first.
            kev = f"clears {plural(exploited, 'known-exploited finding')} (in {KEV_NAME})"
            out.append(fit(f"       {kev}", width))
        pinned = pinned_words(action)
        if pinned:
            out.append(fit(f"       {pinned}", width))
        if action.estimated:
            out.append(fit(f"       {estimate_words(action)}", width))
        if action.command:
            out += command_lines(terminal_safe(action.command), width)
    if len(actions) > MAX_ACTIONS:
        rest = f"#{MAX_ACTIONS + 1}" + (f" to #{len(actions)}" if len(actions) > MAX_ACTIONS + 1 else "")
        out += wrap(f"  ... and {len(actions) - MAX_ACTIONS} more actions, {rest} ({more})", width)
    return out


def _what_to_do_wrapped(
    rows: list[list[str]], header: list[str], width: int
) -> tuple[list[str], list[list[str]]]:
    """The actions' table, and for each row the lines its WHAT TO DO goes on to below it. The
    column gives way to the others on a narrow terminal; cut there, `Rebuild on a refreshed …`
    and `Upgrade lodash 4.17.11 …` lost what to rebuild on and what to upgrade to, which is what
    the reader came for. The cell goes on to the next lines, at its column, instead."""
    what = header.index("WHAT TO DO")
    lines = table(rows, header, flexible=what, width=width)
    start = lines[0].index("WHAT TO DO")
    after = lines[0][start:].split("  ", 1)
    room = lines[0].index(after[1].lstrip()) - start - 2 if len(after) > 1 else width - start
    going_on: list[list[str]] = []
    for row in rows:
        parts = wrap(row[what], room, hang="") if display_width(row[what]) > room else [row[what]]
        row[what] = parts[0]
        going_on.append([fit(" " * start + part, width) for part in parts[1:]])
    if any(going_on):
        lines = table(rows, header, flexible=what, width=width)
    return lines, going_on


def command_lines(command: str, width: int, indent: str = "       ") -> list[str]:
    """`$ command` after `indent`, within `width`, broken at spaces with the shell's line
    continuation: a command is what a reader pastes into a shell or a Dockerfile's RUN, and one cut
    with an ellipsis (`--only-upgrad…`) would not run. Only a package name longer than a line (a
    hostile report's: real ones are far shorter) leaves the command on one line, cut."""
    line = f"{indent}$ {command}"
    if display_width(line) <= width:
        return [line]
    lines = wrap(line, width - 2, hang="    ")
    if any(display_width(part) > width - 2 for part in lines):
        return [fit(line, width)]
    return [f"{part} \\" for part in lines[:-1]] + lines[-1:]


@dataclass(frozen=True)
class CommandPart:
    """A part of a command the summary gives: a word, or an option with its value."""

    text: str
    """As typed, quoted for the shell (`--report 'my report.json'`)."""
    stand_in: str
    """What the summary gives instead when `text` is longer than a line (`--report REPORT`): the
    summary keeps to the terminal's width, and a path cut short would not run."""


def _command_lines(parts: Sequence[CommandPart], width: int) -> list[str]:
    """`$ command` within `width`, broken before a part with the shell's line continuation, never
    inside a part (a quoted path with a space in it, broken there, would not run)."""
    hang = "        "
    shown = [part.text if display_width(hang + part.text) <= width - 2 else part.stand_in for part in parts]
    lines = [f"    $ {shown[0]}"]
    for text in shown[1:]:
        joined = f"{lines[-1]} {text}"
        if display_width(joined) > width - 2:
            lines.append(hang + text)
        else:
            lines[-1] = joined
    return [f"{line} \\" for line in lines[:-1]] + lines[-1:]


def _found_by(finding: Finding, ran: Sequence[str]) -> str:
    """`trivy+grype`, or `grype only`, among the scanners that ran."""
    found, only = found_by(finding, ran)
    return terminal_safe("+".join(found) + (" only" if only else ""), 40)


def _findings(
    decisions: Sequence[Decision],
    numbers: dict[str, int],
    evaluation: Evaluation,
    ran: Sequence[str],
    more: str,
    width: int,
) -> list[str]:
    reasons = Counter(short_reason(d, evaluation.policy) for d in decisions)
    said = [f"{terminal_safe(reason)} ({n})" for reason, n in reasons.most_common(MAX_REASONS)]
    if len(reasons) > MAX_REASONS:
        said.append(f"{len(reasons) - MAX_REASONS} other reasons")
    found_column = ["FOUND BY"] if len(ran) > 1 else []
    listed = first_listed(decisions, MAX_ROWS)
    # Only when the run has something to show in it: a run without exploit data reads as before.
    exploit_column = ["EXPLOIT"] if any(marks(d) for d in listed) else []
    header = ["ACTION", "ID", "PACKAGE", "INSTALLED -> FIXED", "SEVERITY", *found_column, *exploit_column]
    rows = []
    for d in listed:
        f = d.finding
        action_id = evaluation.plan.action_ids.get(f.key)
        rows.append(
            [
                f"#{numbers[action_id]}" if action_id in numbers else ("-" if action_id is None else "more"),
                terminal_safe(f.vulnerability_id, ID_LIMIT),
                terminal_safe(f.package.name, 28),
                terminal_safe(fix_text(f)),
                f.severity.name,
                *([_found_by(f, ran)] if found_column else []),
                *([" ".join(marks(d)) or "-"] if exploit_column else []),
            ]
        )
    why = f"  why they {'block' if evaluation.counts[Disposition.BLOCKING] else 'would'}:"
    if len(said) == 1:
        out = wrap(f"{why} {said[0]}", width)
    else:
        # One a line: a reason can hold a `;` of its own (`...; 7 HIGH findings exceed the budget
        # of 3`, `...; worse than in the baseline`), and joined by `;` three read as four.
        out = [why, *(line for reason in said for line in wrap(f"    - {reason}", width))]
    out += table(
        rows, header, flexible=3, width=width, give_way=_give_way(len(found_column), len(exploit_column))
    )
    if len(decisions) > MAX_ROWS:
        out += wrap(f"  ... and {len(decisions) - MAX_ROWS} more ({more})", width)
    return out


def _cleared_by_entries(evaluation: Evaluation, more: str, width: int) -> list[str]:
    """The allowlist entries that cleared findings, in the policy's order, each with how many and
    in which packages: after an edit of the policy, what each entry took off the blocking list
    (the counts say only how many findings are allowlisted, by entries and VEX statements alike)."""
    used = [item for item in evaluation.entries if item.state is EntryState.USED]
    if not used:
        return []
    packages: dict[int, list[str]] = {}
    for d in evaluation.decisions:
        if (
            d.disposition is Disposition.ALLOWLISTED
            and d.rule.kind is RuleKind.ALLOWLIST
            and d.rule.index is not None
        ):
            packages.setdefault(d.rule.index, []).append(d.finding.package.name)
    out = ["", *wrap(f"Allowlist entries that cleared findings ({len(used)}):", width)]
    for item in used[:MAX_ROWS]:
        names = list(dict.fromkeys(packages.get(item.entry.index, ())))
        shown = ", ".join(terminal_safe(name, 28) for name in names[:MAX_PACKAGES])
        if len(names) > MAX_PACKAGES:
            shown += f" and {len(names) - MAX_PACKAGES} more"
        out += wrap(
            f"  - {item.entry.name} {terminal_safe(item.entry.vulnerability)}: "
            f"{plural(item.matched, 'finding')}" + (f" in {shown}" if shown else ""),
            width,
        )
    if len(used) > MAX_ROWS:
        out += wrap(f"  ... and {len(used) - MAX_ROWS} more ({more})", width)
    return out


def _give_way(found: int, exploit: int) -> list[dict[int, int] | int]:
    """How the findings' columns give way on a narrow terminal: the package, the versions and the
    exploit marks are cut first, then the scanners that found each are left out (the agreement
    line counts them), then the others are cut again, then the exploit marks are left out (the
    verdict counts the known-exploited findings, the reasons line says why they block), then the
    package and the versions are cut to a few columns, then the versions are left out (the
    actions above name the version to upgrade to), then the severity (the reasons line says
    which severities block). The id is cut only after all of that: it is what a reader copies to
    look the finding up. At 60 columns, a Snyk id of 38 characters (the longest a real report
    has shown), the package cut short and the action's number show whole."""
    ident, package, versions, severity, exploit_at = 1, 2, 3, 4, 5 + found
    cut = {package: 16, versions: 12, exploit_at: 9} if exploit else {package: 16, versions: 12}
    cut_more = {package: 8, versions: 7, exploit_at: 5} if exploit else {package: 8, versions: 7}
    return [
        cut,
        *([5] if found else []),
        cut_more,
        *([exploit_at] if exploit else []),
        {package: 5, versions: 5},
        versions,
        severity,
        {ident: LEAST_ID},
    ]


def render_terminal(
    evaluation: Evaluation,
    json_path: str | None = None,
    json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report,
    width: int = WIDTH,
    explain: Sequence[CommandPart] | None = None,
) -> str:
    """The summary as plain text, ending with a newline. `json_path` is the JSON report written
    beside it, if one was asked for: the lists cut short here point to it; else to `json_hint`,
    how the run's user asks for one. `width` is the columns the tables fit in: WIDTH, or on a
    terminal its `fitted_width` (the command line measures it; a renderer reads no terminal).
    `explain` is the `container-gate explain ID ...` command that says why one of the findings
    blocks, given below them; None where the run's user has no such command to type."""
    report = evaluation.report
    counts = evaluation.counts
    more = f"all are in {terminal_safe(json_path)}" if json_path else json_hint.terminal
    headline = _headline(evaluation, counts)
    out = [headline]
    delta = delta_line(evaluation, lambda source: f"`{terminal_safe(source)}`")
    if delta:
        out.append(f"baseline: {delta}")
    if report.image is not None:
        img = report.image
        digest = img.digest or img.image_id
        if img.digest and img.reference.endswith("@" + img.digest):
            digest = None  # the reference names it already
        extra = ", ".join(x for x in (img.platform, img.distro, digest) if x)
        label = "image:    "
        said = terminal_safe(img.reference) + (f" ({terminal_safe(extra)})" if extra else "")
        # Under the reference: a digest or a reference longer than the width is a line of its own.
        parts = wrap(said, width - len(label), hang="")
        out += [label + parts[0], *(" " * len(label) + part for part in parts[1:])]
    elif report.sources:
        out.append("reports:  " + ", ".join(terminal_safe(s) for s in report.sources))
    if evaluation.base_image is not None:
        line = base_image_line(evaluation.base_image, lambda name: f"`{terminal_safe(name)}`", terminal_safe)
        out.append(terminal_safe(line))
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
        f"{counts[Disposition.ALLOWLISTED]} allowlisted{count_detail(evaluation, Disposition.ALLOWLISTED)}, "
        f"{counts[Disposition.IGNORED]} ignored, {counts[Disposition.INFORMATIONAL]} informational"
        f"{count_detail(evaluation, Disposition.INFORMATIONAL)}"
    )
    out.extend(_severity_line(evaluation))
    ran = list(dict.fromkeys(s.name for s in report.scanners))
    out.extend(_agreement_line(evaluation, ran))
    for warning in evaluation.warnings:
        out.append(f"warning:  {terminal_safe(warning)}")
    out.extend(vex_line(evaluation))
    out.extend(terminal_suspects(evaluation))
    out.extend(terminal_cleared_kev(evaluation))

    by_action, without_fix = clearing_decisions(evaluation)
    actions = clearing_actions(evaluation)
    would = "would block" if not counts[Disposition.BLOCKING] else "block"
    if actions:
        out += ["", "What to do, most useful first:"]
        out += _actions(actions, by_action, counts_blocking_only(evaluation), more, width)
        if base_unknown(evaluation):
            out += wrap(f"  ({base_unknown_words(json_hint.base_image_plain)})", width)
    # Every action has its number, listed or not: a finding's row names the one that clears it.
    numbers = {a.id: n for n, a in enumerate(actions, start=1)}
    blocking = [d for ds in by_action.values() for d in ds] + without_fix
    if blocking:
        title = "Findings that block" if would == "block" else "Findings that would block"
        out += ["", *wrap(f"{title} ({len(blocking)}), with the action (#) that clears them:", width)]
        out += _findings(blocking, numbers, evaluation, ran, more, width)
        if without_fix:
            # What the summary's "without a fix" section advises, within the table's width.
            out += wrap(
                f"  ACTION -: no fix yet for {len(without_fix)}; "
                "allowlist them with a reason and an expiry, or remove the package",
                width,
            )
            stale = listing_a_stale_fix(without_fix)
            if stale:
                # The row shows a fix: say why it is none, on a line of its own within the width.
                out += wrap(f"  ({stale})", width)
        if explain:
            # The table says what blocks; the reader's next question is why this one, and what
            # clears it: the command that answers it, with this run's report and policy.
            why = "why one blocks" if would == "block" else "why one would block"
            out += [f"  {why}, and what clears it:", *_command_lines(explain, width)]

    if evaluation.policy_failures:
        out += ["", "Policy failures:"]
        out += [
            line for text in evaluation.policy_failures for line in wrap(f"  - {terminal_safe(text)}", width)
        ]

    attention = needs_attention(evaluation)
    if attention:
        out += ["", *wrap("Allowlist entries that need attention (renew, fix or remove them):", width)]
        for item, state in attention[:MAX_ROWS]:
            e = item.entry
            out += wrap(
                f"  - {e.name} {terminal_safe(e.vulnerability)}: {state}: {terminal_safe(e.reason, 100)}",
                width,
            )
        if len(attention) > MAX_ROWS:
            out += wrap(f"  ... and {len(attention) - MAX_ROWS} more ({more})", width)
    out += _cleared_by_entries(evaluation, more, width)
    if counts[Disposition.IGNORED]:
        # The counts say how many; a HIGH or CRITICAL finding that does not block is the one the
        # reader asks about ("30 HIGH, and it passes?"): the reasons say why, as the Markdown
        # summary's "Ignored" section does.
        reasons = Counter(d.reason for d in evaluation.decisions if d.disposition is Disposition.IGNORED)
        out += ["", *wrap(f"Ignored ({counts[Disposition.IGNORED]}), by reason ({more}):", width)]
        for reason, n in reasons.most_common(MAX_REASONS):
            out += wrap(f"  - {terminal_safe(reason)} ({n})", width)
        if len(reasons) > MAX_REASONS:
            out += wrap(f"  ... and {len(reasons) - MAX_REASONS} other reasons", width)
    if len(out) > 1:
        out += ["", headline]
    return "\n".join(out) + "\n"
