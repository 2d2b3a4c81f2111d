"""The `scan` section of the GitLab container-scanning report: analyzer, scanner and messages.

`scan.messages` is where the report accounts for what it does not list: GitLab shows every entry of
`vulnerabilities` as an open vulnerability, so the allowlisted and ignored findings are left out of
it and counted here, with their reasons, at level `info` (schema 15.0.7: "info to communicate
normal scan behaviour"); policy failures and report warnings are `warn`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from gate.model import ScannerInfo
from gate.policy.evaluation import Decision, Disposition, Evaluation, RuleKind
from gate.policy.model import Mode
from gate.render._delta import delta_line
from gate.render._gitlab_ids import storable
from gate.render._summary import base_image_line
from gate.run_wording import COMMAND_LINE_WORDS, JsonReportHint
from gate.untrusted import safe_url, terminal_safe

# The underlying scanners, for `scan.scanner` (id, name, url, vendor).
SCANNERS = {
    "trivy": ("trivy", "Trivy", "https://github.com/aquasecurity/trivy", "Aqua Security"),
    "grype": ("grype", "Grype", "https://github.com/anchore/grype", "Anchore"),
    "snyk": ("snyk", "Snyk Container", "https://snyk.io/product/container-vulnerability-management/", "Snyk"),
}


def scanner_section(scanners: tuple[ScannerInfo, ...]) -> dict[str, Any]:
    """`scan.scanner`: the one scanner behind the report, or all of them when reports were merged."""
    named = list(
        dict.fromkeys((s.name or "unknown", storable(s.version or "") or "unknown") for s in scanners)
    )
    if not named:
        return {
            "id": "unknown",
            "name": "unknown scanner",
            "version": "unknown",
            "vendor": {"name": "unknown"},
        }
    rows = [SCANNERS.get(name, (name, name, None, name)) for name, _ in named]
    if len(named) == 1:
        sid, name, url, vendor = rows[0]
        scanner: dict[str, Any] = {
            "id": sid,
            "name": name,
            "version": named[0][1],
            "vendor": {"name": vendor},
        }
        if url:
            scanner["url"] = url
        return scanner
    return {
        "id": "+".join(row[0] for row in rows),
        "name": " + ".join(row[1] for row in rows),
        "version": ", ".join(f"{name} {version}" for name, version in named),
        "vendor": {"name": ", ".join(dict.fromkeys(row[3] for row in rows))},
    }


def analyzer_section(version: str, url: str | None) -> dict[str, Any]:
    """`scan.analyzer`: the gate itself."""
    analyzer: dict[str, Any] = {
        "id": "container-gate",
        "name": "container-gate",
        "version": version or "unknown",
        "vendor": {"name": "container-gate"},
    }
    link = safe_url(url)
    if link:
        analyzer["url"] = link
    return analyzer


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def left_out_message(
    decisions: tuple[Decision, ...], json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report
) -> str | None:
    """The `scan.messages` text that accounts for the allowlisted and ignored findings, or None;
    it sends the reader to the JSON report as `json_hint` names it."""
    # A rule is shown as every message's text is: a VEX rule holds the file's name, which
    # `--vex` or the policy gives (`vex:<file>#<index>`), and a file name can hold any character
    # but `/`. VEX statements are counted apart: they are not the policy's allowlist.
    allowlisted: Counter[str] = Counter()
    by_vex: Counter[str] = Counter()
    for d in decisions:
        if d.disposition is Disposition.ALLOWLISTED:
            (by_vex if d.rule.kind is RuleKind.VEX else allowlisted)[terminal_safe(str(d.rule))] += 1
    ignored: Counter[str] = Counter()
    for d in decisions:
        if d.disposition is Disposition.IGNORED:
            if d.rule.kind is RuleKind.IGNORE_STATUSES:
                ignored[f"vendor status {d.finding.status.value}"] += 1
            elif d.rule.kind is RuleKind.FIXABLE_ONLY:
                ignored["no fixed version under fail_on.fixable_only"] += 1
            else:
                ignored[terminal_safe(str(d.rule))] += 1
    total = sum(allowlisted.values()) + sum(by_vex.values()) + sum(ignored.values())
    if not total:
        return None
    parts = []
    for rules, by in ((allowlisted, "the policy"), (by_vex, "VEX statements")):
        if rules:
            detail = ", ".join(f"{rule}: {n}" for rule, n in sorted(rules.items()))
            parts.append(f"{sum(rules.values())} allowlisted by {by} ({detail})")
    if ignored:
        detail = ", ".join(f"{why}: {n}" for why, n in sorted(ignored.items()))
        parts.append(f"{sum(ignored.values())} ignored ({detail})")
    return (
        f"{_count(total, 'finding')} left out: {', '.join(parts)}; "
        f"{json_hint.plain} lists each with its reason"
    )


def scan_messages(
    evaluation: Evaluation,
    notes: list[dict[str, str]],
    json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report,
) -> list[dict[str, str]]:
    """`scan.messages`: the verdict, what the change introduced beside the baseline (with
    `--baseline`), the base image check, what was left out and why, policy failures, warnings,
    then `notes`."""
    counts = evaluation.counts
    verdict = (
        f"container-gate verdict: {evaluation.verdict} under policy {terminal_safe(evaluation.policy.source, 200)}; "
        f"{counts[Disposition.BLOCKING]} blocking and {counts[Disposition.INFORMATIONAL]} informational finding(s) reported"
    )
    if evaluation.policy.mode is Mode.ADVISORY:
        verdict += f"; the policy is advisory: {counts.would_block} finding(s) would block"
    messages = [{"level": "info", "value": verdict}]
    delta = delta_line(evaluation, lambda source: f"`{terminal_safe(source, 200)}`")
    if delta:
        # The same line as the terminal and Markdown summaries: the new and worse findings first.
        messages.append({"level": "info", "value": f"baseline: {delta}"})
    base = evaluation.base_image
    if base is not None and base.check.checked:
        # What `scan --check-base` found, as the summaries say it; a check that could not run is
        # among the warnings below.
        line = base_image_line(base, lambda name: f"`{terminal_safe(name, 200)}`", terminal_safe)
        messages.append({"level": "warn" if base.stale else "info", "value": line})
    left_out = left_out_message(evaluation.decisions, json_hint)
    if left_out:
        messages.append({"level": "info", "value": left_out})
    messages += [
        {"level": "warn", "value": terminal_safe(failure, 2000)} for failure in evaluation.policy_failures
    ]
    messages += [{"level": "warn", "value": terminal_safe(warning, 2000)} for warning in evaluation.warnings]
    return messages + notes
