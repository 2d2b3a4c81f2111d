"""The Markdown summary: the pull-request comment, the merge-request note and the job summary.

It leads with what to do: the verdict on line 1, then one sentence ("70 findings block; 4 actions
clear them"), then the "What to do" table, one row per action (what, what it clears, where, the
command), then the warnings and the allowlist entries that need attention (expired, expiring
soon, unused). Everything after is collapsible: the findings each action clears, the findings that
block without a fix, and the findings that do not block, by disposition. No table has more than
five columns, and a column holding one value in every row is said once above its table.

The body must fit the platform's limit (GitHub: 65,536 characters per comment), so rows are kept
in order of importance (the actions, the entries that need attention, the findings that block,
the other actions, allowlisted, ignored, informational) while they fit, and every section says
how many of its rows were left out. Only whole rows and whole sections are ever left out, so no
cut leaves an open `<details>` or half a table. Where even the sections' titles do not all fit (a
job summary with little room left), whole sections go, least important first, and one line says
how many: the actions lead as long as any of them fits.

All report and policy text goes through `md_escape`/`md_code` (gate/untrusted.py); the only
raw HTML is the renderer's own (`<details>`, `<summary>`, `<sub>`, the marker comment).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from gate.policy.evaluation import Disposition, Evaluation
from gate.policy.model import Mode
from gate.render._delta import delta_line, vex_gap_line
from gate.render._exploit import summary_count
from gate.render._markdown_sections import LEAD_ACTIONS, MORE_ACTIONS, Section, sections
from gate.render._summary import (
    agreement,
    base_image_line,
    count_detail,
    count_words,
    why_it_fails,
)
from gate.render.remediation import (
    base_unknown,
    base_unknown_words,
    cleared,
    clearing_actions,
    counts_blocking_only,
    lead,
    plural,
)
from gate.run_wording import COMMAND_LINE_WORDS, JsonReportHint
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
NOTICE_LIMIT = 500
"""Characters of one warning or policy failure before it is cut: enough for the longest the gate
writes (a file's path, what is wrong with it, and the remedy at the end), not for a scanner's
message of any length."""
MAX_SOURCES = 5
"""Report files named in the context line before the rest is counted."""

_REFILLS = 4
_REFILL_ROOM = 500
_MARKER = re.compile(r"<!-- [A-Za-z0-9 =:/._-]{1,200} -->")
_FOOTER = (
    "<sub>container-gate · every finding has exactly one disposition; {json_report} lists them all.</sub>"
)


def _headline(evaluation: Evaluation) -> str:
    counts = evaluation.counts
    if evaluation.policy.mode is Mode.ADVISORY:
        return (
            f"### ⚠️ container-gate: advisory only, never fails: {counts.would_block} finding(s) "
            f"would block under an enforcing policy{summary_count(evaluation, enforced=True)}"
        )
    if evaluation.passed:
        return "### ✅ container-gate: pass, no blocking findings"
    return f"### ❌ container-gate: fail, {why_it_fails(evaluation)}"


def _scanner_names(evaluation: Evaluation) -> list[str]:
    return list(dict.fromkeys(s.name for s in evaluation.report.scanners))


def _base_line(evaluation: Evaluation) -> str:
    """The base image check in one line, when the run made one (`scan --check-base`)."""
    if evaluation.base_image is None:
        return ""
    return base_image_line(evaluation.base_image, lambda name: md_code(name, 200, in_table=False), md_escape)


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


def _lead_line(evaluation: Evaluation) -> str:
    """`**70 findings block; 4 actions clear them.** 186 findings: 70 blocking · ...`."""
    counts = evaluation.counts
    sentence = lead(evaluation).sentence()
    failures = len(evaluation.policy_failures)
    if not counts.would_block and failures and not evaluation.passed:
        # "Nothing blocks." under a failing verdict would contradict it.
        sentence = (
            "No finding blocks; the policy failure below fails the gate."
            if failures == 1
            else f"No finding blocks; the {failures} policy failures below fail the gate."
        )
    informational = count_detail(evaluation, Disposition.INFORMATIONAL)
    if evaluation.policy.mode is Mode.ADVISORY:
        # Nothing blocks in advisory mode: what would block is informational, and is said as part
        # of that count, so that the four counts still add up to the total.
        detail = count_words(evaluation, Disposition.INFORMATIONAL)
        informational = f" ({counts.would_block} would block{f'; {detail}' if detail else ''})"
    return (
        f"**{sentence}** {plural(len(evaluation.decisions), 'finding')}: "
        f"{counts[Disposition.BLOCKING]} blocking · {counts[Disposition.ALLOWLISTED]} allowlisted"
        f"{count_detail(evaluation, Disposition.ALLOWLISTED)} · {counts[Disposition.IGNORED]} ignored · "
        f"{counts[Disposition.INFORMATIONAL]} informational{informational}"
    )


def _agreement_line(evaluation: Evaluation) -> str:
    """Where several scanners ran: how many findings all of them reported."""
    names = _scanner_names(evaluation)
    if len(names) < 2 or not evaluation.decisions:
        return ""
    agreed, alone = agreement(evaluation, names)
    only = ", ".join(f"{count} only by {md_escape(name, 40)}" for name, count in alone)
    return f"Scanners agree on {agreed} of {len(evaluation.decisions)} findings; {only}."


def _more_actions_line(evaluation: Evaluation, json_hint: JsonReportHint, listed_below: bool = True) -> str:
    """Below a "What to do" table that does not hold every action that clears a blocking finding:
    how many others there are, what they clear and where they are listed (`listed_below`: in the
    "More actions" section, else only in the JSON report), so the table's "Clears" add up to the
    lead; then, for a scan that found no base image, that giving one groups its packages."""
    more = _more_actions(
        evaluation, 'under "More actions" below' if listed_below else f"in {json_hint.markdown}"
    )
    if not base_unknown(evaluation):
        return more
    words = base_unknown_words(json_hint.base_image)
    hint = f"_{words[0].upper()}{words[1:]}._"
    return f"{more}\n\n{hint}" if more else hint


def _more_actions(evaluation: Evaluation, where: str) -> str:
    rest = clearing_actions(evaluation)[LEAD_ACTIONS:]
    if not rest:
        return ""
    blocking_only = counts_blocking_only(evaluation)
    count = sum(cleared(action, blocking_only) for action in rest)
    verb = ("blocks" if count == 1 else "block") if blocking_only else "would block"
    actions = "One more action, which clears" if len(rest) == 1 else f"{len(rest)} more actions, which clear"
    place = "is" if len(rest) == 1 else "are"
    return f"_{actions} {plural(count, 'more finding')} that {verb}, {place} {where}._"


def _notices(evaluation: Evaluation) -> list[str]:
    """The policy failures (what fails the gate besides findings: something to do), then the
    warnings (things to know)."""
    blocks = []
    failures = evaluation.policy_failures
    if failures:
        lines = [f"- ❌ {md_escape(failure, NOTICE_LIMIT)}" for failure in failures[:MAX_NOTICES]]
        if len(failures) > MAX_NOTICES:
            lines.append(f"- {len(failures) - MAX_NOTICES} more policy failure(s) left out")
        blocks.append("\n".join(lines))
    warnings = evaluation.warnings
    for warning in warnings[:MAX_NOTICES]:
        blocks.append(f"> [!WARNING]\n> {md_escape(warning, NOTICE_LIMIT)}")
    if len(warnings) > MAX_NOTICES:
        blocks.append(f"_{len(warnings) - MAX_NOTICES} more warning(s) left out._")
    return blocks


def _allocate(all_sections: Sequence[Section[Any]], budget: int) -> list[int]:
    """How many rows each section shows within `budget` extra characters, most important first.

    A less important section gets rows only when every more important one shows all of its own,
    so truncation always takes from the least important section first.
    """
    shown = [0] * len(all_sections)
    for index in _by_priority(all_sections):
        section = all_sections[index]
        for row in range(len(section.items)):
            cost = section.cost(row)
            if cost > budget:
                return shown
            budget -= cost
            shown[index] += 1
    return shown


def _by_priority(all_sections: Sequence[Section[Any]]) -> list[int]:
    """The sections' indexes, most important first (display order among equals)."""
    return sorted(range(len(all_sections)), key=lambda i: (all_sections[i].priority, i))


def render_markdown(
    evaluation: Evaluation,
    *,
    limit: int = GITHUB_COMMENT_LIMIT,
    marker: str | None = None,
    section_rows: int = DEFAULT_SECTION_ROWS,
    json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report,
    own_server: str | None = None,
) -> str:
    """The summary as Markdown of at most `limit` characters.

    `marker` is a hidden HTML comment (`<!-- ... -->`) placed first, by which a platform finds
    the comment it wrote before; it is made by the platform code from trusted values only.
    `json_hint` names the JSON report where the summary points to it, as the run's user asks for it.
    `own_server` is the address of the CI server the run belongs to (`run_server`): a report's
    link to an issue or pull request there is left out as one to github.com is (`comment_link_url`).
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit {limit} is below the minimum of {MIN_LIMIT} characters")
    first = _marker_line(marker) + _headline(evaluation)
    delta = delta_line(evaluation, lambda source: md_code(source, 120, in_table=False))
    head = [
        first,
        delta,
        vex_gap_line(evaluation, lambda cve: md_code(cve, 80, in_table=False)),
        _context_line(evaluation),
        _base_line(evaluation),
        _lead_line(evaluation),
    ]
    head.append(_agreement_line(evaluation))
    more_actions = _more_actions_line(evaluation, json_hint)
    notices = _notices(evaluation)
    tables = sections(evaluation, section_rows, own_server)
    for table in tables:
        table.json_report = json_hint.markdown
    footer = _FOOTER.format(json_report=json_hint.markdown)

    cut = ""

    def assemble(shown: Sequence[int]) -> str:
        rendered = [s.render(n) for s, n in zip(tables, shown, strict=True)]
        # The "What to do" table right after the sentence that introduces it, then the warnings.
        body = [*head, rendered[0], more_actions, *notices, *rendered[1:], cut, footer]
        return "\n\n".join(b for b in body if b) + "\n"

    # The skeleton shows no row, with each "left out" note at its longest (every row left out);
    # rows are only made while they may fit (a report can have 50,000 findings).
    skeleton = assemble([0] * len(tables))
    # The rows of the "What to do" table come before any other section's title: whole sections
    # go, least important first, until those rows fit beside what is left. The table itself (the
    # only section of priority 0) stays.
    actions = sum(tables[0].cost(row) for row in range(len(tables[0].items)))
    dropped = 0
    while len(skeleton) + actions > limit and len(tables) > 1:
        gone = _by_priority(tables)[-1]
        dropped += bool(tables[gone].total)  # a section without rows shows nothing anyway
        tables = [table for index, table in enumerate(tables) if index != gone]
        cut = (
            f"_{plural(dropped, 'more section')} did not fit in {limit:,} characters; "
            f"{json_hint.markdown} lists every finding and action._"
            if dropped
            else ""
        )
        listed_below = any(table.title.startswith(MORE_ACTIONS) for table in tables)
        more_actions = _more_actions_line(evaluation, json_hint, listed_below)
        skeleton = assemble([0] * len(tables))
    if len(skeleton) > limit:
        lead_lines = "\n\n".join(x for x in (delta, _lead_line(evaluation)) if x)
        return _minimal(first, lead_lines, limit, json_hint)
    everything = [len(s.items) for s in tables]
    # The notes of sections shown whole vanish: with their room, everything may still fit.
    slack = sum(len(s.note(0)) + 2 for s in tables if s.total and len(s.items) == s.total)
    if _allocate(tables, limit - len(skeleton) + slack) == everything:
        body = assemble(everything)
        if len(body) <= limit:
            return body
    budget = limit - len(skeleton)
    shown = _allocate(tables, budget)
    body = assemble(shown)
    # A row costs less than its estimate when a column it has is said once instead: give the
    # room that left back to the allocation, a few times at most.
    for _ in range(_REFILLS):
        room = limit - len(body)
        if room < _REFILL_ROOM or shown == everything:
            break
        more = _allocate(tables, budget + room)
        longer = assemble(more)
        if len(longer) > limit:
            break
        budget, shown, body = budget + room, more, longer
    while len(body) > limit:  # only if the estimate above was short: take one more row away
        index = next(i for i in reversed(_by_priority(tables)) if shown[i])
        shown[index] -= 1
        body = assemble(shown)
    return body


def _minimal(first: str, lead_line: str, limit: int, json_hint: JsonReportHint) -> str:
    """The verdict and counts alone, when even the section titles do not fit."""
    body = (
        f"{first}\n\n{lead_line}\n\n"
        f"_The details do not fit in {limit} characters; {json_hint.markdown} lists every finding._\n"
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
