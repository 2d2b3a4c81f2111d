"""The cells of the Markdown summary's tables about actions: what to do, what it clears, where.

Every piece of report text (package names, versions, the base image's name, paths, commands made
of them) goes through `md_code` or `md_escape` (gate/untrusted.py). Summaries of `<details>`
sections are raw HTML, where Markdown escapes do not apply: they hold the renderer's own words,
and a package name only through `html_code`.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.model import LayerOrigin
from gate.policy.actions import Action, ActionKind, Step
from gate.policy.evaluation import Decision, Evaluation
from gate.render._markdown_cells import CELL_LIMIT, REASON_LIMIT
from gate.render._summary import short_reason
from gate.render.remediation import (
    cleared_by_severity,
    direct_words,
    estimate_words,
    known_exploited,
    pinned_words,
    plural,
    refreshed_base,
    severity_words,
)
from gate.untrusted import html_code, md_code, md_escape

COMMAND_LIMIT = 200
"""Characters of a command in a cell before it is cut."""


def _versions(action: Action | Step, in_table: bool = True) -> str:
    installed = md_code(action.installed_version, CELL_LIMIT, in_table=in_table)
    if action.target_version is None:
        return f"{installed} (no listed fix is known to be newer)"
    return f"{installed} → {md_code(action.target_version, CELL_LIMIT, in_table=in_table)}"


def _names(package: str, packages: tuple[str, ...], in_table: bool = True) -> str:
    names = md_code(package, CELL_LIMIT, in_table=in_table)
    if packages != (package,):
        names += " (" + ", ".join(md_code(name, CELL_LIMIT, in_table=in_table) for name in packages[:6])
        names += f", {len(packages) - 6} more)" if len(packages) > 6 else ")"
    return names


def what_cell(action: Action, in_table: bool = True) -> str:
    """`Rebuild on a refreshed base image (fixes are published for 163 of its 175 findings)`, or
    `Upgrade `curl` (`libcurl4`) `7.88.1-10` → `7.88.1-10+deb12u5``."""
    if action.kind is ActionKind.BASE_REFRESH:
        notes = "; ".join(note for note in (pinned_words(action), estimate_words(action)) if note)
        return "Rebuild on a refreshed base image" + (f" ({notes})" if notes else "")
    return (
        f"Upgrade {_names(action.package, action.packages, in_table)} {_versions(action, in_table)}"
        f"{_direct_cell(action, in_table)}"
    )


def _direct_cell(action: Action, in_table: bool) -> str:
    """`direct_words` with each package and version as code."""
    return direct_words(action, code=lambda text: md_code(text, CELL_LIMIT, in_table=in_table))


def clears_cell(action: Action, cleared: Sequence[Decision]) -> str:
    """`**62**: 11 CRITICAL, 51 HIGH (1 known-exploited)`: the findings it clears that block (or
    would), by severity, and how many of them CISA lists as known exploited, which is why such an
    action comes first; for an action that clears none of them, how many findings it clears.
    `cleared` is its list of `clearing_decisions` (see `counts_blocking_only`)."""
    if cleared:
        exploited = known_exploited(cleared)
        kev = f" ({exploited} known-exploited)" if exploited else ""
        return f"**{len(cleared)}**: {severity_words(cleared_by_severity(action, cleared))}{kev}"
    return f"{plural(len(action.findings), 'other finding')}: {severity_words(action.counts_by_severity)}"


def where_cell(action: Action) -> str:
    """The base image by name, or the own layer, a library's path, and the Dockerfile line."""
    if action.origin is LayerOrigin.BASE:
        # Only a base refresh is named after the base image; an upgrade's package is no image.
        named = action.package and action.kind is ActionKind.BASE_REFRESH
        where = f"base image {md_code(action.package, CELL_LIMIT)}" if named else "base image"
    elif action.origin is LayerOrigin.OWN:
        where = "own layer"
    else:
        where = ""
    if action.path and action.kind is ActionKind.PACKAGE_UPGRADE:
        where = f"{where} {md_code(action.path, CELL_LIMIT)}".strip()
    if action.dockerfile_line is not None:
        where = (
            f"{where}, Dockerfile line {action.dockerfile_line}"
            if where
            else f"Dockerfile line {action.dockerfile_line}"
        )
    return where


def command_cell(action: Action | Step) -> str:
    """The command that performs the upgrade, where it is certain."""
    return md_code(action.command, COMMAND_LIMIT) if action.command else ""


def action_cells(action: Action, cleared: Sequence[Decision]) -> list[str]:
    """One row of the "What to do" table (`cleared`: as for `clears_cell`)."""
    return [what_cell(action), clears_cell(action, cleared), where_cell(action), command_cell(action)]


ACTION_COLUMNS = ("What to do", "Clears", "Where", "Command")
"""The columns of the "What to do" table."""

OPTIONAL_ACTION_COLUMNS = ("Where", "Command")
"""The columns of the "What to do" table left out when no action shown has a value in them: a
place, or a certain command (a base refresh has none: how the image is built is the reader's)."""

STEP_COLUMNS = ("Package", "Installed → target", "Clears", "Command")
"""The columns of the table of the upgrades a refreshed base image brings."""


def step_cells(step: Step, count: int, blocking_only: bool) -> list[str]:
    """One upgrade a base refresh brings; `count`, of its findings, those the summaries count (see
    `counts_blocking_only`): those that block, else those that would under an enforcing policy."""
    verb = "blocking" if blocking_only else "would block"
    blocking = f", **{count}** {verb}" if count else ""
    return [
        _names(step.package, step.packages),
        _versions(step),
        f"{plural(len(step.findings), 'finding')}{blocking}",
        command_cell(step),
    ]


def summary_words(action: Action, count: int) -> str:
    """The `<summary>` of an action's findings (raw HTML: see the module docstring)."""
    if action.kind is ActionKind.BASE_REFRESH:
        return f"Findings a refreshed base image clears ({count})"
    # Named, as in the tables: two upgrades of Debian packages such as `libglib2.0-0` and
    # `python3.11` must not both read "this package".
    return f"Findings the upgrade of {html_code(action.package, CELL_LIMIT)} clears ({count})"


def action_intro(action: Action) -> str:
    """The first line inside an action's section: the action in full, with its command."""
    if action.kind is ActionKind.BASE_REFRESH:
        base = refreshed_base(action)
        name = f" {md_code(base, CELL_LIMIT, in_table=False)}" if base else ""
        notes = [note for note in (pinned_words(action), estimate_words(action)) if note]
        what = f"Rebuild on a refreshed base image{name}" + "".join(f"; {note}" for note in notes)
    else:
        what = what_cell(action, in_table=False)
    command = f": {md_code(action.command, COMMAND_LIMIT, in_table=False)}" if action.command else ""
    return f"**{what}**{command}"


def why_cell(decision: Decision, evaluation: Evaluation) -> str:
    """Why the policy decided so, as `short_reason` words it."""
    return md_escape(short_reason(decision, evaluation.policy), REASON_LIMIT)
