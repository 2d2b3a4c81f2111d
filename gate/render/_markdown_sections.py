"""The tables of the Markdown summary, as sections whose rows the body's limit can leave out.

A `Section` is a titled table; its rows are made only when they may be shown (a report can have
100,000 findings), and a column that holds one value in every row shown is said once above the
table instead (`constant_columns`). `sections()` lists them in display order, each with its
priority: when not everything fits, rows are kept for the more important sections first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from gate.policy.actions import Action, ActionKind, Step
from gate.policy.evaluation import Decision, Disposition, Evaluation, RuleKind, counted
from gate.policy.plan import base_image_name
from gate.render import _markdown_actions as acts
from gate.render import _markdown_cells as cells
from gate.render._summary import first_listed
from gate.render.remediation import (
    clearing_actions,
    clearing_decisions,
    counts_blocking_only,
    listing_a_stale_fix,
    needs_attention,
)
from gate.run_wording import COMMAND_LINE_WORDS
from gate.untrusted import md_code, md_escape

LEAD_ACTIONS = 8
"""Actions in the "What to do" table; more go to a collapsible section (the first screen of a
comment holds the verdict, one sentence and about this many rows)."""

MORE_ACTIONS = "More actions"
"""The title of the section of the actions the "What to do" table does not hold."""

_T = TypeVar("_T")


@dataclass
class Section(Generic[_T]):
    """A table; its rows are the unit left out when the body is too long."""

    title: str
    """Shown with the total count (`Ignored (12)`); empty for the "What to do" table, which the
    sentence before it introduces. Raw HTML in a `<summary>`: the renderer's own words only."""
    columns: Sequence[str]
    """The table's column names."""
    items: Sequence[_T]
    """What the rows are made of, in display order (at most the rows that may be shown)."""
    make_cells: Callable[[_T], list[str]]
    """The cells of one row."""
    total: int
    """How many rows the section has in all, shown or not."""
    collapsible: bool
    """In a `<details>` element (closed), or under a heading."""
    priority: int
    """Lower keeps its rows first when not everything fits."""
    intro: str = ""
    """A line before the table (Markdown, escaped)."""
    listed: str = "every finding"
    """What the JSON report lists of the rows, for the note on the rows left out."""
    json_report: str = COMMAND_LINE_WORDS.json_report.markdown
    """The JSON report as the note names it (`JsonReportHint.markdown`)."""
    optional: tuple[str, ...] = ()
    """Columns left out when no row shown has a value in them (an action with no place has no
    "Where"), even in a table of one row, which `constant_columns` keeps whole."""
    made: list[list[str]] = field(default_factory=list)
    """The rows made so far."""

    def cells(self, index: int) -> list[str]:
        while len(self.made) <= index:
            self.made.append(self.make_cells(self.items[len(self.made)]))
        return self.made[index]

    def cost(self, index: int) -> int:
        """An upper bound of what row `index` adds (the first also brings the table header)."""
        row = len(cells.table_row(self.cells(index))) + 1
        return row + (len(cells.table_header(self.columns)) + 2 if index == 0 else 0)

    def note(self, shown: int) -> str:
        if shown >= self.total:
            return ""
        return (
            f"_{self.total - shown} of {self.total} rows left out; {self.json_report} lists {self.listed}._"
        )

    def render(self, shown: int) -> str:
        if not self.total:
            return ""
        parts = [self.intro]
        if shown:
            made = [self.cells(i) for i in range(shown)]
            keep = [
                i
                for i, name in enumerate(self.columns)
                if name not in self.optional or any(row[i] for row in made)
            ]
            columns, rows, shared = cells.constant_columns(
                [self.columns[i] for i in keep], [[row[i] for i in keep] for row in made]
            )
            parts.append(shared)
            parts.append("\n".join([cells.table_header(columns), *(cells.table_row(r) for r in rows)]))
        parts.append(self.note(shown))
        body = "\n\n".join(p for p in parts if p)
        if self.collapsible:
            return f"<details><summary>{self.title}</summary>\n\n{body}\n\n</details>"
        return f"#### {self.title}\n\n{body}" if self.title else body


FINDING_COLUMNS = ("Vulnerability", "Package", "Installed → fixed", "Severity")


def sections(evaluation: Evaluation, section_rows: int, own_server: str | None = None) -> list[Section[Any]]:
    """Every table of the summary, in display order; `own_server` as `comment_link_url` takes it."""
    ran = list(dict.fromkeys(s.name for s in evaluation.report.scanners))
    plan = evaluation.plan
    clearing = list(clearing_actions(evaluation))
    lead, more = clearing[:LEAD_ACTIONS], clearing[LEAD_ACTIONS:]
    listed = {action.id for action in clearing}
    more += [a for a in plan.actions if a.id not in listed]
    by_action, without_fix = clearing_decisions(evaluation)
    blocking_only = counts_blocking_only(evaluation)

    def action_cells(action: Action) -> list[str]:
        return acts.action_cells(action, by_action.get(action.id, []))

    attention = needs_attention(evaluation)
    base_name = base_image_name(evaluation.report.image)

    def why(d: Decision) -> str:
        return acts.why_cell(d, evaluation)

    def finding_cells(d: Decision) -> list[str]:
        return [*cells.common_cells(d, ran, own_server), why(d)]

    def of_action(action: Action) -> Section[Decision]:
        decisions = first_listed(by_action.get(action.id, []))
        return Section(
            acts.summary_words(action, len(decisions)),
            [*FINDING_COLUMNS, "Why"],
            decisions,
            finding_cells,
            len(decisions),
            collapsible=True,
            priority=2,
            intro=acts.action_intro(action),
        )

    out: list[Section[Any]] = [
        Section(
            "",
            acts.ACTION_COLUMNS,
            lead,
            action_cells,
            len(lead),
            collapsible=False,
            priority=0,
            optional=acts.OPTIONAL_ACTION_COLUMNS,
        ),
        Section(
            f"Allowlist entries that need attention ({len(attention)})",
            ["Entry", "Vulnerability", "Package", "State", "Reason"],
            attention[:section_rows],
            cells.entry_cells,
            len(attention),
            collapsible=False,
            priority=1,
            listed="every allowlist entry",
        ),
    ]
    base = next((a for a in plan.actions if a.kind is ActionKind.BASE_REFRESH), None)
    steps: list[Section[Any]] = []
    if base is not None and base.steps:
        # Each upgrade counts what the refresh's own row counts: in advisory mode, what would block.
        by_key = {d.finding.key: d for d in evaluation.decisions}

        def step_cells(step: Step) -> list[str]:
            count = sum(1 for key in step.findings if key in by_key and counted(by_key[key], blocking_only))
            return acts.step_cells(step, count, blocking_only)

        steps.append(
            Section(
                f"Upgrades a refreshed base image brings ({len(base.steps)})",
                acts.STEP_COLUMNS,
                base.steps[:section_rows],
                step_cells,
                len(base.steps),
                collapsible=True,
                priority=3,
                intro="For a Dockerfile that patches the base image itself, by source package:",
                listed="every upgrade, under the action's steps",
            )
        )
    # The upgrades follow the refresh they detail: right after its findings when it is a lead
    # action, before the next action's; else after "More actions", which holds it (with a baseline,
    # what the base image had before).
    base_leads = base is not None and base in lead
    for action in lead:
        out.append(of_action(action))
        if action is base:
            out += steps
    others = first_listed(d for action in more for d in by_action.get(action.id, []))
    out.append(
        Section(
            f"Findings the other actions clear ({len(others)})",
            ["Action", *FINDING_COLUMNS],
            others,
            lambda d: [
                md_code(plan.action_ids[d.finding.key], cells.CELL_LIMIT),
                *cells.common_cells(d, ran, own_server),
            ],
            len(others),
            collapsible=True,
            priority=2,
        )
    )
    no_fix = first_listed(without_fix)
    stale = listing_a_stale_fix(without_fix)
    out.append(
        Section(
            f"Findings that {'block' if blocking_only else 'would block'} without a fix ({len(no_fix)})",
            [*FINDING_COLUMNS, "Where"],
            no_fix,
            lambda d: [*cells.common_cells(d, ran, own_server), cells.layer_cell(d.finding, base_name)],
            len(no_fix),
            collapsible=True,
            priority=2,
            optional=("Where",),
            intro="No published version fixes these yet: accept them in the allowlist, with a reason and an "
            "expiry, or remove the package."
            + (
                f" {stale[0].upper()}{stale[1:]}: the scanner's data may be behind a backport."
                if stale
                else ""
            ),
        )
    )
    out.append(
        Section(
            f"{MORE_ACTIONS} ({len(more)})",
            acts.ACTION_COLUMNS,
            more[:section_rows],
            action_cells,
            len(more),
            collapsible=True,
            priority=3,
            listed="every action",
            optional=acts.OPTIONAL_ACTION_COLUMNS,
        )
    )
    if not base_leads:
        out += steps
    out += _by_disposition(evaluation, section_rows, ran, blocking_only, own_server)
    return out


def _by_disposition(
    evaluation: Evaluation, section_rows: int, ran: list[str], blocking_only: bool, own_server: str | None
) -> list[Section[Decision]]:
    """The findings that do not block (nor would, when nothing blocks: `counts_blocking_only`), one
    section per disposition."""
    groups: dict[Disposition, list[Decision]] = {d: [] for d in Disposition}
    for decision in evaluation.decisions:
        if not counted(decision, blocking_only):
            groups[decision.disposition].append(decision)

    def allowlisted(d: Decision) -> list[str]:
        entry = evaluation.allowlist_entry(d)
        if entry is None:
            # A VEX statement is named as an entry is, by its rule (each of them, when statements
            # about an advisory's CVEs clear it together): which document let the finding through.
            said = d.vex.statements if d.vex is not None and d.rule.kind is RuleKind.VEX else ()
            named = "".join(f"{md_code(s.rule, cells.REASON_LIMIT)}, " for s in said)
            named = f"{named[:-2]}: " if named else ""
            return [*cells.common_cells(d, ran, own_server), named + md_escape(d.reason, cells.REASON_LIMIT)]
        expiry = cells.expiry_cell(entry)
        return [
            *cells.common_cells(d, ran, own_server),
            f"{cells.entry_cell(entry)}, {expiry}: {md_escape(entry.reason, cells.REASON_LIMIT)}",
        ]

    def other(d: Decision) -> list[str]:
        return [*cells.common_cells(d, ran, own_server), acts.why_cell(d, evaluation)]

    made = []
    for priority, (kind, title, last, make) in enumerate(
        (
            (Disposition.ALLOWLISTED, "Allowlisted", "Allowlist entry", allowlisted),
            (Disposition.IGNORED, "Ignored", "Why", other),
            (Disposition.INFORMATIONAL, "Informational", "Why", other),
        ),
        start=4,
    ):
        decisions = groups[kind]
        made.append(
            Section(
                f"{title} ({len(decisions)})",
                [*FINDING_COLUMNS, last],
                first_listed(decisions, section_rows),
                make,
                len(decisions),
                collapsible=True,
                priority=priority,
            )
        )
    return made
