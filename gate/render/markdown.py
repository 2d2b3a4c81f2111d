"""The Markdown summary: the pull-request comment, the merge-request note and the job summary.

Verdict first, one line of counts, the blocking findings as a table, then collapsible sections
for allowlisted (with reason and expiry), ignored and informational findings, then the allowlist
entries that need attention (expired, unused).

The body must fit the platform's limit (GitHub: 65,536 characters per comment), so rows are
kept in order of importance (blocking, allowlist entries, allowlisted, ignored, informational)
while they fit, and every section says how many of its rows were left out. Only whole rows and
whole sections are ever left out, so no cut leaves an open `<details>` or half a table.

All report and policy text goes through `md_escape`/`md_code` (gate/untrusted.py); the only
raw HTML is the renderer's own (`<details>`, `<summary>`, `<sub>`, the marker comment).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Generic, TypeVar

from gate.policy.evaluation import Decision, Disposition, EntryState, Evaluation
from gate.policy.model import Mode
from gate.render import _markdown_cells as cells
from gate.render._summary import agreement, first_listed, why_it_fails
from gate.untrusted import md_code, md_escape

GITHUB_COMMENT_LIMIT = 65_536
"""GitHub rejects issue and pull-request comments longer than this (422 "Body is too long")."""
GITLAB_NOTE_LIMIT = 1_000_000
"""GitLab's maximum note length (Notes API, `body`)."""
MIN_LIMIT = 1_024
"""The smallest `limit` accepted: room for the verdict, the counts and a note."""
DEFAULT_SECTION_ROWS = 100
"""Rows shown per collapsible section before the rest is summarized: past that, people read
the JSON report or the code-scanning view, not a comment."""
MAX_NOTICES = 10
"""Scanner warnings, and policy failures, listed before the rest is counted."""
NOTICE_LIMIT = 200
"""Characters of one warning or policy failure before it is cut."""
MAX_SOURCES = 5
"""Report files named in the context line before the rest is counted."""

_MARKER = re.compile(r"<!-- [A-Za-z0-9 =:/._-]{1,200} -->")
_T = TypeVar("_T")
_FOOTER = "<sub>container-gate · every finding has exactly one disposition; the JSON report (`--json`) lists them all.</sub>"


@dataclass
class _Section(Generic[_T]):
    """A titled table; its rows are the unit left out when the body is too long."""

    title: str
    """Shown with the total count (`Ignored (12)`)."""
    columns: Sequence[str]
    """The table's column names."""
    items: Sequence[_T]
    """What the rows are made of, in display order (at most the rows that may be shown)."""
    make_row: Callable[[_T], str]
    """One row from one item."""
    total: int
    """How many rows the section has in all, shown or not."""
    collapsible: bool
    """In a `<details>` element (closed), or under a heading."""
    rows: list[str] = field(default_factory=list)
    """The rows made so far (made on demand: a report can have 50,000 findings)."""

    def row(self, index: int) -> str:
        while len(self.rows) <= index:
            self.rows.append(self.make_row(self.items[len(self.rows)]))
        return self.rows[index]

    def note(self, shown: int) -> str:
        if shown >= self.total:
            return ""
        return (
            f"_{self.total - shown} of {self.total} rows left out; "
            "the JSON report (`--json`) lists every finding._"
        )

    def render(self, shown: int) -> str:
        if not self.total:
            return ""
        parts = [self.note(shown)]
        if shown:
            parts.insert(
                0, "\n".join([cells.table_header(self.columns), *(self.row(i) for i in range(shown))])
            )
        body = "\n\n".join(p for p in parts if p)
        if self.collapsible:
            return f"<details><summary>{self.title} ({self.total})</summary>\n\n{body}\n\n</details>"
        return f"#### {self.title} ({self.total})\n\n{body}"


def _headline(evaluation: Evaluation) -> str:
    counts = evaluation.counts
    if evaluation.policy.mode is Mode.ADVISORY:
        return (
            f"### ⚠️ container-gate: advisory only, never fails: {counts.would_block} finding(s) "
            "would block under an enforcing policy"
        )
    if evaluation.passed:
        return "### ✅ container-gate: pass, no blocking findings"
    return f"### ❌ container-gate: fail, {why_it_fails(evaluation)}"


def _scanner_names(evaluation: Evaluation) -> list[str]:
    return list(dict.fromkeys(s.name for s in evaluation.report.scanners))


def _context_line(evaluation: Evaluation) -> str:
    report = evaluation.report
    bits = []
    if report.image is not None:
        bits.append(f"image {md_code(report.image.reference, 120, in_table=False)}")
        if report.image.platform:
            bits.append(md_escape(report.image.platform, 40))
    elif report.sources:
        # File names only: the directories are the CI machine's, not the reader's.
        names = [md_code(PurePath(s).name, 80, in_table=False) for s in report.sources[:MAX_SOURCES]]
        if len(report.sources) > MAX_SOURCES:
            names.append(f"{len(report.sources) - MAX_SOURCES} more")
        bits.append("reports " + ", ".join(names))
    bits.append(f"policy {md_code(evaluation.policy.source, 120, in_table=False)}")
    scanners = [s.name + (f" {s.version}" if s.version else "") for s in report.scanners]
    if scanners:
        bits.append("scanned by " + ", ".join(md_escape(s, 60) for s in dict.fromkeys(scanners)))
    return " · ".join(bits)


def _counts_line(evaluation: Evaluation) -> str:
    counts = evaluation.counts
    line = (
        f"**{counts[Disposition.BLOCKING]} blocking** · {counts[Disposition.ALLOWLISTED]} allowlisted · "
        f"{counts[Disposition.IGNORED]} ignored · {counts[Disposition.INFORMATIONAL]} informational"
    )
    if evaluation.policy.mode is Mode.ADVISORY:
        line += f" · {counts.would_block} would block"
    return line


def _agreement_line(evaluation: Evaluation) -> str:
    """Where several scanners ran: how many findings all of them reported."""
    names = _scanner_names(evaluation)
    if len(names) < 2 or not evaluation.decisions:
        return ""
    agreed, alone = agreement(evaluation, names)
    only = ", ".join(f"{count} only by {md_escape(name, 40)}" for name, count in alone)
    return f"Scanners agree on {agreed} of {len(evaluation.decisions)} findings; {only}."


def _notices(evaluation: Evaluation) -> list[str]:
    blocks = []
    warnings = evaluation.warnings
    for warning in warnings[:MAX_NOTICES]:
        blocks.append(f"> [!WARNING]\n> {md_escape(warning, NOTICE_LIMIT)}")
    if len(warnings) > MAX_NOTICES:
        blocks.append(f"_{len(warnings) - MAX_NOTICES} more warning(s) left out._")
    failures = evaluation.policy_failures
    if failures:
        lines = [f"- ❌ {md_escape(failure, NOTICE_LIMIT)}" for failure in failures[:MAX_NOTICES]]
        if len(failures) > MAX_NOTICES:
            lines.append(f"- {len(failures) - MAX_NOTICES} more policy failure(s) left out")
        blocks.append("\n".join(lines))
    return blocks


def _by_kind(evaluation: Evaluation) -> dict[Disposition, list[Decision]]:
    """The decisions of each disposition, in the report's order."""
    by_kind: dict[Disposition, list[Decision]] = {d: [] for d in Disposition}
    for decision in evaluation.decisions:
        by_kind[decision.disposition].append(decision)
    return by_kind


def _sections(
    evaluation: Evaluation, by_kind: dict[Disposition, list[Decision]], section_rows: int
) -> list[_Section[Any]]:
    """The sections in display order."""
    names = _scanner_names(evaluation)
    several = len(names) > 1
    common = ["Vulnerability", "Package", "Installed → fixed", "Severity"]
    found_by = ["Found by"] if several else []

    def finding_row(extra: Callable[[Decision], list[str]]) -> Callable[[Decision], str]:
        def make(item: Decision) -> str:
            agreement = [cells.scanners_cell(item.finding, names)] if several else []
            return cells.table_row([*cells.common_cells(item), *extra(item), *agreement])

        return make

    def why(d: Decision) -> str:
        return md_escape(d.reason, cells.REASON_LIMIT)

    def allowlisted(d: Decision) -> list[str]:
        entry = evaluation.allowlist_entry(d)
        reason = md_escape(entry.reason, cells.REASON_LIMIT) if entry else why(d)
        return [
            cells.entry_cell(entry) if entry else md_escape(str(d.rule)),
            reason,
            cells.expiry_cell(entry),
        ]

    def section(
        kind: Disposition, title: str, columns: list[str], extra: Callable[[Decision], list[str]]
    ) -> _Section[Decision]:
        decisions = by_kind[kind]
        # Blocking rows are all shown while they fit; the other sections show `section_rows` at most.
        shown = first_listed(decisions, None if kind is Disposition.BLOCKING else section_rows)
        return _Section(
            title,
            [*common, *columns, *found_by],
            shown,
            finding_row(extra),
            len(decisions),
            collapsible=kind is not Disposition.BLOCKING,
        )

    attention = [e for e in evaluation.entries if e.state is not EntryState.USED]
    return [
        section(
            Disposition.BLOCKING,
            "Blocking findings",
            ["Layer", "Why"],
            lambda d: [cells.layer_cell(d.finding), why(d)],
        ),
        section(
            Disposition.ALLOWLISTED, "Allowlisted", ["Allowlist entry", "Reason", "Expires"], allowlisted
        ),
        section(
            Disposition.IGNORED, "Ignored", ["Rule", "Why"], lambda d: [md_code(str(d.rule), 60), why(d)]
        ),
        section(
            Disposition.INFORMATIONAL,
            "Informational",
            ["Layer", "Why"],
            lambda d: [cells.layer_cell(d.finding), why(d)],
        ),
        _Section(
            "Allowlist entries that need attention",
            ["Entry", "Vulnerability", "Package", "State", "Reason"],
            attention[:section_rows],
            cells.entry_row,
            len(attention),
            collapsible=False,
        ),
    ]


# Which sections keep their rows when not everything fits, most important first: the indexes
# of `_sections`' list (blocking, attention, allowlisted, ignored, informational).
_PRIORITY = (0, 4, 1, 2, 3)


def _allocate(sections: Sequence[_Section[Any]], budget: int) -> list[int]:
    """How many rows each section shows within `budget` extra characters, most important first.

    A less important section gets rows only when every more important one shows all of its own,
    so truncation always takes from the least important section first.
    """
    shown = [0] * len(sections)
    for index in _PRIORITY:
        section = sections[index]
        for row in range(len(section.items)):
            # The first row brings the table header; later ones a row and its newline.
            cost = (
                len(section.row(row)) + 1 + (len(cells.table_header(section.columns)) + 2 if row == 0 else 0)
            )
            if cost > budget:
                return shown
            budget -= cost
            shown[index] += 1
    return shown


def render_markdown(
    evaluation: Evaluation,
    *,
    limit: int = GITHUB_COMMENT_LIMIT,
    marker: str | None = None,
    section_rows: int = DEFAULT_SECTION_ROWS,
) -> str:
    """The summary as Markdown of at most `limit` characters.

    `marker` is a hidden HTML comment (`<!-- ... -->`) placed first, by which a platform finds
    the comment it wrote before; it is made by the platform code from trusted values only.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit {limit} is below the minimum of {MIN_LIMIT} characters")
    by_kind = _by_kind(evaluation)
    first = _marker_line(marker) + _headline(evaluation)
    head = [first, _context_line(evaluation), _counts_line(evaluation), _agreement_line(evaluation)]
    head += _notices(evaluation)
    sections = _sections(evaluation, by_kind, section_rows)

    def assemble(shown: Sequence[int]) -> str:
        body = [*head, *(s.render(n) for s, n in zip(sections, shown, strict=True)), _FOOTER]
        return "\n\n".join(b for b in body if b) + "\n"

    # The skeleton shows no row, with each "left out" note at its longest (every row left out);
    # rows are only made while they may fit (a report can have 50,000 findings).
    skeleton = assemble([0] * len(sections))
    if len(skeleton) > limit:
        return _minimal(first, _counts_line(evaluation), limit)
    everything = [len(s.items) for s in sections]
    # The notes of sections shown whole vanish: with their room, everything may still fit.
    slack = sum(len(s.note(0)) + 2 for s in sections if s.total and len(s.items) == s.total)
    if _allocate(sections, limit - len(skeleton) + slack) == everything:
        body = assemble(everything)
        if len(body) <= limit:
            return body
    shown = _allocate(sections, limit - len(skeleton))
    body = assemble(shown)
    while len(body) > limit:  # only if the estimate above was short: take one more row away
        index = next(i for i in reversed(_PRIORITY) if shown[i])
        shown[index] -= 1
        body = assemble(shown)
    return body


def _minimal(first: str, counts_line: str, limit: int) -> str:
    """The verdict and counts alone, when even the section titles do not fit."""
    body = (
        f"{first}\n\n{counts_line}\n\n"
        f"_The details do not fit in {limit} characters; the JSON report (`--json`) lists every finding._\n"
    )
    if len(body) > limit:  # only a marker of 200 characters and a limit near the minimum
        raise ValueError(f"limit {limit} is too small for the verdict")
    return body


def _marker_line(marker: str | None) -> str:
    if marker is None:
        return ""
    if not _MARKER.fullmatch(marker):
        raise ValueError(f"not a marker comment: {marker!r}")
    return marker + "\n"


def render_markdown_error(
    message: str, exit_code: int, *, marker: str | None = None, limit: int = GITHUB_COMMENT_LIMIT
) -> str:
    """The summary when the gate could not decide: loud, and never mistakable for a pass."""
    if limit < MIN_LIMIT:
        raise ValueError(f"limit {limit} is below the minimum of {MIN_LIMIT} characters")
    return (
        f"{_marker_line(marker)}### 🛑 container-gate: error, no verdict\n\n"
        f"The gate could not decide (exit code {exit_code}): {md_escape(message, min(2000, limit // 4))}\n\n"
        "An error never counts as a pass; fix the cause and run the gate again.\n"
    )
