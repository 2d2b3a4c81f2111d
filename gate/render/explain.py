"""`container-gate explain`: what the policy made of one vulnerability, and why."""

from __future__ import annotations

import datetime as dt

from gate.model import Assessment, Layer
from gate.policy.evaluation import Decision, EntryState, Evaluation
from gate.policy.match import mismatch
from gate.policy.model import Mode
from gate.render._columns import wrap
from gate.render._exploit import marks
from gate.render.remediation import days_words, expiring_in, what_to_do
from gate.render.terminal import WIDTH, command_lines, fix_text
from gate.untrusted import terminal_safe

VALUE_COLUMN = 15
"""The column a finding's values start at, after their labels (`  because:     `); a value that
goes on to the next line goes on there."""


def explain(evaluation: Evaluation, vulnerability: str, width: int = WIDTH) -> tuple[str, bool]:
    """The explanation as text, and whether any finding has that id or alias. Its lines fit in
    `width` columns as the terminal summary's do (WIDTH, or a terminal's `fitted_width`): prose
    goes on to the next line at its value's column, an id, a path or a version is never cut, and
    a command goes on its own lines with the shell's continuation (`command_lines`)."""
    wanted = vulnerability.casefold()
    image = evaluation.report.image.reference if evaluation.report.image else None
    decisions = [d for d in evaluation.decisions if any(i.casefold() == wanted for i in d.finding.ids)]
    entries = [e for e in evaluation.entries if e.entry.vulnerability.casefold() == wanted]
    # An entry may name an alias of the findings' primary id: include those too.
    aliases = {i.casefold() for d in decisions for i in d.finding.ids}
    entries += [
        e for e in evaluation.entries if e.entry.vulnerability.casefold() in aliases and e not in entries
    ]
    entries.sort(key=lambda e: e.entry.index)  # in policy order, whichever id each names

    out: list[str] = []

    def say(text: str, hang: str = "  ") -> None:
        out.extend(wrap(text, width, hang))

    def field(label: str, value: str) -> None:
        # The value is wrapped in its own column: wrapped with its label, the label's padding
        # would be taken for blanks between words.
        lines = wrap(value, width - VALUE_COLUMN, hang="")
        out.append(f"  {label + ':':<{VALUE_COLUMN - 2}}{lines[0]}")
        out.extend(" " * VALUE_COLUMN + line for line in lines[1:])

    name = terminal_safe(vulnerability)
    if not decisions:
        meant = _closest_ids(evaluation, vulnerability)
        close = f" (did you mean {' or '.join(terminal_safe(i) for i in meant)}?)" if meant else ""
        say(f"{name}: no finding in the report(s) has this id or alias{close}.")
    else:
        say(f"{name}: {len(decisions)} finding(s) under policy {terminal_safe(evaluation.policy.source)}")
    for d in decisions:
        f = d.finding
        out.append("")
        say(
            f"- {terminal_safe(f.vulnerability_id)} in {terminal_safe(f.package.name)} {terminal_safe(fix_text(f))}"
        )
        if f.aliases:
            field("aliases", terminal_safe(", ".join(f.aliases)))
        if f.package.path:
            field("path", terminal_safe(f.package.path))
        cvss = ""
        if f.cvss:
            # The source is a key of the report (Trivy's `CVSS` map): as untrusted as the rest.
            source = f", {terminal_safe(f.cvss.source)}" if f.cvss.source else ""
            cvss = f" (CVSS {f.cvss.score:g}{source})"
        field("severity", f"{f.severity.name}{cvss}; vendor status {f.status.value}")
        if f.assessments:
            field("merged from", "the worst case of what each report said:")
            for said in f.assessments:
                say(f"    - {_said(said)}")
        if f.layer is not None and (f.layer.created_by or f.layer.origin):
            field("added by", _layer_words(f.layer))
        for label, value in _inputs(d):
            field(label, value)
        # A VEX rule holds the file's name, which the policy gives: as untrusted as report text.
        field("disposition", f"{d.disposition.value.upper()} (rule {terminal_safe(str(d.rule))})")
        field("because", terminal_safe(d.reason))
        what, command = _action(evaluation, d)
        field("to fix it", what)
        if command:
            # On lines of its own, as the summary's "What to do" has it: a command is pasted into a
            # shell, and one wrapped as prose would not run.
            out.extend(command_lines(command, width, " " * VALUE_COLUMN))
    if entries:
        out.append("")
        say("Allowlist entries naming it:")
    for item in entries:
        e = item.entry
        where = f" (line {e.line})" if e.line else ""
        say(f"- {e.name}{where}: {item.state.value}; reason: {terminal_safe(e.reason, 200)}")
        if item.state is EntryState.EXPIRED and e.expires:
            say(f"  expired on {e.expires.isoformat()}: it no longer applies")
            if evaluation.policy.fail_on_expired and evaluation.policy.mode is Mode.ENFORCE:
                # What fails the run when every finding it names is informational: `check` lists
                # it under "Policy failures", and explain is where its reader asks why.
                say("  fail_on_expired is set: it fails the gate; renew it with a new date or remove it")
        days = expiring_in(evaluation, item)
        if days is not None and e.expires:
            # What `check` lists as needing attention ("expires in 3 days"): the finding it
            # allowlists is judged without it from the day after.
            after = (e.expires + dt.timedelta(days=1)).isoformat()
            say(
                f"  expiring soon: {e.expires.isoformat()} is its last day ({days_words(days)}); from "
                f"{after} it no longer applies: renew it with a new date, or fix what it allowlists"
            )
        for d in decisions:
            why = mismatch(e, d.finding, image)
            if why:
                say(f"  does not match {terminal_safe(d.finding.package.name)}: {terminal_safe(why)}")
    if evaluation.policy_failures:
        # What fails the run besides its findings (stale exploit data under on_stale: fail, an
        # expired entry under fail_on_expired, a stale base): under `warn` the same words are a
        # warning, shown below; under `fail` they were said nowhere, the decisions relying on them.
        out.append("")
        say("Policy failures (the gate fails for these, whatever the findings):")
        for failure in evaluation.policy_failures:
            say(f"- {terminal_safe(failure)}")
    if evaluation.warnings:
        out.append("")
        say("Warnings:")
        for warning in evaluation.warnings:
            say(f"- {terminal_safe(warning)}")
    return "\n".join(out) + "\n", bool(decisions)


def _action(evaluation: Evaluation, decision: Decision) -> tuple[str, str | None]:
    """What clears the finding, in the words of the summaries' "What to do" table, and its command
    where it is certain (escaped); or why no action does, and None."""
    finding = decision.finding
    action = evaluation.plan.action_of(finding)
    if action is None:
        if finding.fixed_versions:
            return "no action: its listed fix is no newer than the installed version", None
        return "no action: no published version fixes it yet", None
    command = terminal_safe(action.command) if action.command else None
    return terminal_safe(what_to_do(action, "->")), command


def _inputs(decision: Decision) -> list[tuple[str, str]]:
    """What the run's other inputs say of the finding, as (label, text): baseline, KEV and EPSS,
    VEX, suspicion."""
    lines = []
    if decision.baseline is not None:
        lines.append(("baseline", decision.baseline.value))
    exploit = [mark for mark in marks(decision) if not mark.startswith("suspect")]
    if exploit:
        lines.append(("exploit", " · ".join(exploit)))
    vex = decision.vex
    if vex is not None:
        by = f" by {terminal_safe(vex.author, 100)}" if vex.author else ""
        where = "; ".join(f"{part.source}: {part.location}" for part in vex.statements)
        lines.append(("VEX", f"{vex.status.value}{by} ({terminal_safe(where, 200)})"))
    gap = decision.vex_gap
    if gap is not None:
        where = "; ".join(f"{part.source}: {part.location}" for part in gap.clearing)
        lines.append(
            (
                "VEX",
                f"{terminal_safe(', '.join(gap.cleared))} cleared ({terminal_safe(where, 200)}), "
                f"but no statement clears {terminal_safe(', '.join(gap.not_cleared))}: VEX leaves the "
                "finding open until one does (keep the statements it has)",
            )
        )
    if decision.suspect is not None:
        lines.append(
            ("suspect", f"{decision.suspect.kind.value}: {terminal_safe(decision.suspect.reason, 200)}")
        )
    return lines


def _layer_words(layer: Layer) -> str:
    """`own layer 3: RUN apk add zlib`: what is known of the layer, without an empty part. The
    history's text often ends in blanks (a `# buildkit` cut off, an instruction's own spaces)."""
    origin = f"{layer.origin.value} layer" if layer.origin else "layer"
    where = origin if layer.index is None else f"{origin} {layer.index}"
    step = terminal_safe((layer.created_by or "").strip(), 100)
    return f"{where}: {step}" if step else where


def _said(said: Assessment) -> str:
    """`trivy (trivy.json): CRITICAL, fixed in 1.2-3`: one report's view of a merged finding."""
    where = f" ({terminal_safe(said.source)})" if said.source else ""
    fix = f"fixed in {', '.join(said.fixed_versions)}" if said.fixed_versions else "no fixed version"
    return (
        f"{terminal_safe(said.scanner, 40)}{where}: {said.severity.name}, status {said.status.value}, "
        f"{terminal_safe(fix, 100)}"
    )


def _closest_ids(evaluation: Evaluation, vulnerability: str) -> list[str]:
    """The ids and aliases of the report's findings one typo away from an id none has (a
    character left out, added or changed, or two swapped: `CVE-2023-245`, `CVE-2032-2455`); at
    most three, as the report spells them. Farther ones are other vulnerabilities, not a typo."""
    wanted = vulnerability.casefold()
    by_folded = {i.casefold(): i for d in evaluation.decisions for i in d.finding.ids}
    return [by_folded[i] for i in sorted(by_folded) if _one_typo_apart(wanted, i)][:3]


def _one_typo_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one character left out, added or changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    start = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        swapped = a[start : start + 2] == b[start : start + 2][::-1] and a[start + 2 :] == b[start + 2 :]
        return a[start + 1 :] == b[start + 1 :] or swapped
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[start + 1 :] == shorter[start:]
