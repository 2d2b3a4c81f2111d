"""The Markdown summary: the pull-request comment, the merge-request note and the job summary.

Verdict first, one line of counts, the blocking findings as a table, then collapsible
sections for allowlisted, ignored and informational findings, then the allowlist entries
that need attention. The body must fit the platform's limit (GitHub: 65,536 characters per
comment), so rows are dropped from the least important section first and the text says
how many were left out. All report text goes through `md_escape`/`md_code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.model import Finding
from gate.policy.evaluate import Decision, Disposition, EntryState, Evaluation
from gate.policy.model import Mode
from gate.render.text import md_code, md_escape, safe_url

GITHUB_COMMENT_LIMIT = 65_536
"""GitHub rejects issue and pull-request comments longer than this (422 "Body is too long")."""
GITLAB_NOTE_LIMIT = 1_000_000
"""GitLab's maximum note length (Notes API, `body`)."""
DEFAULT_SECTION_ROWS = 100
"""Rows shown per collapsible section before the rest is summarized: past that, people read
the JSON report or the code-scanning view, not a comment."""


def _id_cell(finding: Finding) -> str:
    url = safe_url(finding.primary_url)
    text = md_escape(finding.vulnerability_id, 60)
    return f"[{text}]({url})" if url else text


def _fix_cell(finding: Finding) -> str:
    fixed = ", ".join(finding.fixed_versions)
    installed = md_code(finding.package.version, 60)
    return f"{installed} → {md_code(fixed, 60)}" if fixed else f"{installed} (no fix)"


def _layer_cell(finding: Finding) -> str:
    layer = finding.layer
    if layer is None:
        return ""
    origin = layer.origin.value if layer.origin else f"layer {layer.index}" if layer.index is not None else ""
    step = md_code(layer.created_by, 60) if layer.created_by else ""
    if layer.dockerfile_line:
        step = f"{step} (Dockerfile line {layer.dockerfile_line})".strip()
    return f"{origin} {step}".strip()


def _package_cell(finding: Finding) -> str:
    cell = md_code(finding.package.name, 60)
    if finding.package.path:
        cell += f" in {md_code(finding.package.path, 80)}"
    return cell


@dataclass
class _Section:
    """A titled list of rows; rows are the unit dropped when the body is too long."""

    title: str
    header: str
    rows: list[str]
    collapsible: bool
    total: int

    def render(self) -> str:
        if not self.total:
            return ""
        left_out = self.total - len(self.rows)
        tail = (
            f"\n\n_{left_out} more row(s) left out; the JSON report (`--json`) lists every finding._"
            if left_out
            else ""
        )
        table = "\n".join([self.header, *self.rows]) if self.rows else ""
        body = f"{table}{tail}".strip()
        if self.collapsible:
            return f"<details><summary>{self.title} ({self.total})</summary>\n\n{body}\n\n</details>\n"
        return f"#### {self.title} ({self.total})\n\n{body}\n"


def _table_header(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |\n|" + "---|" * len(cells)


def _decision_rows(decisions: Sequence[Decision], kind: Disposition) -> list[str]:
    ordered = sorted(decisions, key=lambda d: (-int(d.finding.severity), d.finding.vulnerability_id))
    rows = []
    for d in ordered:
        f = d.finding
        cells = [_id_cell(f), _package_cell(f), _fix_cell(f), f.severity.name]
        if kind in (Disposition.BLOCKING, Disposition.INFORMATIONAL):
            cells.append(_layer_cell(f))
        cells.append(md_escape(d.reason, 300))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _headline(evaluation: Evaluation) -> str:
    if evaluation.policy.mode is Mode.ADVISORY:
        return (
            f"### ⚠️ container-gate: advisory only, never fails: {evaluation.would_block} finding(s) "
            "would block under an enforcing policy"
        )
    if evaluation.passed:
        return "### ✅ container-gate: pass, no blocking findings"
    counts = evaluation.counts
    parts = []
    if counts["blocking"]:
        parts.append(f"{counts['blocking']} blocking finding(s)")
    if evaluation.policy_failures:
        parts.append(f"{len(evaluation.policy_failures)} policy failure(s)")
    return "### ❌ container-gate: fail, " + " and ".join(parts)


def _context_line(evaluation: Evaluation) -> str:
    report = evaluation.report
    bits = []
    if report.image is not None:
        bits.append(f"image {md_code(report.image.reference, 120)}")
        if report.image.platform:
            bits.append(md_escape(report.image.platform))
    elif report.sources:
        bits.append("reports " + ", ".join(md_code(s, 80) for s in report.sources[:5]))
    bits.append(f"policy {md_code(evaluation.policy.source, 120)}")
    scanners = [s.name + (f" {s.version}" if s.version else "") for s in report.scanners]
    if scanners:
        bits.append("scanned by " + ", ".join(md_escape(s) for s in dict.fromkeys(scanners)))
    return " · ".join(bits)


def _entries_section(evaluation: Evaluation) -> str:
    lines = []
    for item in evaluation.entries:
        e = item.entry
        if item.state is EntryState.EXPIRED:
            hides = f", would match {item.would_match} finding(s)" if item.would_match else ""
            lines.append(
                f"- ⏰ `{e.name}` {md_escape(e.vulnerability, 60)} expired on "
                f"{e.expires.isoformat() if e.expires else '?'}{hides}: {md_escape(e.reason, 200)}"
            )
        elif item.state is EntryState.UNUSED:
            lines.append(
                f"- 💤 `{e.name}` {md_escape(e.vulnerability, 60)} matched no finding: {md_escape(e.reason, 200)}"
            )
    if not lines:
        return ""
    return "#### Allowlist entries that need attention\n\n" + "\n".join(lines) + "\n"


def render_markdown(
    evaluation: Evaluation,
    *,
    limit: int = GITHUB_COMMENT_LIMIT,
    marker: str | None = None,
    section_rows: int = DEFAULT_SECTION_ROWS,
) -> str:
    """The summary as Markdown of at most `limit` characters.

    `marker` is a hidden HTML comment placed first, by which a platform finds the comment
    it wrote before; it is produced by the platform code from trusted values only.
    """
    by_kind: dict[Disposition, list[Decision]] = {d: [] for d in Disposition}
    for decision in evaluation.decisions:
        by_kind[decision.disposition].append(decision)

    counts = evaluation.counts
    head = [
        marker or "",
        _headline(evaluation),
        "",
        _context_line(evaluation),
        "",
        f"**{counts['blocking']} blocking** · {counts['allowlisted']} allowlisted · "
        f"{counts['ignored']} ignored · {counts['informational']} informational",
        "",
    ]
    for warning in evaluation.report.warnings:
        head += [f"> [!WARNING]\n> {md_escape(warning, 500)}", ""]
    for failure in evaluation.policy_failures:
        head += [f"- ❌ {md_escape(failure, 500)}"]
    if evaluation.policy_failures:
        head.append("")

    block_hdr = _table_header("Vulnerability", "Package", "Installed → fixed", "Severity", "Layer", "Why")
    allow_hdr = _table_header("Vulnerability", "Package", "Installed → fixed", "Severity", "Allowlist entry")
    ignore_hdr = _table_header("Vulnerability", "Package", "Installed → fixed", "Severity", "Why")
    info_hdr = _table_header("Vulnerability", "Package", "Installed → fixed", "Severity", "Layer", "Why")
    sections = [
        _Section(
            "Blocking findings",
            block_hdr,
            _decision_rows(by_kind[Disposition.BLOCKING], Disposition.BLOCKING),
            False,
            counts["blocking"],
        ),
        _Section(
            "Allowlisted",
            allow_hdr,
            _decision_rows(by_kind[Disposition.ALLOWLISTED], Disposition.ALLOWLISTED),
            True,
            counts["allowlisted"],
        ),
        _Section(
            "Ignored",
            ignore_hdr,
            _decision_rows(by_kind[Disposition.IGNORED], Disposition.IGNORED),
            True,
            counts["ignored"],
        ),
        _Section(
            "Informational",
            info_hdr,
            _decision_rows(by_kind[Disposition.INFORMATIONAL], Disposition.INFORMATIONAL),
            True,
            counts["informational"],
        ),
    ]
    for section in sections[1:]:
        del section.rows[section_rows:]
    entries = _entries_section(evaluation)
    footer = "\n<sub>container-gate · every finding above has exactly one disposition; the JSON report has them all.</sub>\n"

    def assemble() -> str:
        parts = ["\n".join(head), sections[0].render(), entries, *(s.render() for s in sections[1:]), footer]
        return "\n".join(p for p in parts if p)

    body = assemble()
    if len(body) <= limit:
        return body
    # Too long: drop rows from the least important section first (informational, ignored,
    # allowlisted, then blocking), keeping a margin for the "left out" notes.
    excess = len(body) - limit + 200
    for section in reversed(sections):
        while section.rows and excess > 0:
            excess -= len(section.rows.pop()) + 1
        if excess <= 0:
            break
    body = assemble()
    if len(body) > limit:
        # Only the fixed parts are left and they are still too long (a huge warning list):
        # cut hard, at a line, and say so.
        cut = body[: limit - 80].rsplit("\n", 1)[0]
        body = cut + "\n\n_The summary was cut to fit the comment size limit._\n"
    return body


def render_markdown_error(message: str, exit_code: int) -> str:
    """The summary when the gate could not decide: loud, and never mistakable for a pass."""
    return (
        "### 🛑 container-gate: error, no verdict\n\n"
        f"The gate could not decide (exit code {exit_code}): {md_escape(message, 2000)}\n\n"
        "An error never counts as a pass; fix the cause and run the gate again.\n"
    )
