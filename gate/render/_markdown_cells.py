"""The cells and rows of the Markdown summary's tables, one function per kind of cell.

Every piece of report or policy text goes through `md_escape` or `md_code` (gate/untrusted.py);
links point only at `comment_link_url` URLs or at advisory pages built from a checked id. A row is one
line (`| a | b |`) with exactly as many cells as its table's header, whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gate.model import Finding, LayerOrigin
from gate.policy.evaluation import Decision, EntryReport, EntryState
from gate.policy.model import AllowlistEntry
from gate.render._exploit import markdown_mark
from gate.render._summary import found_by, no_fix_reason
from gate.untrusted import advisory_url, comment_link_url, link_target, md_code, md_escape

CELL_LIMIT = 80
"""Characters of one piece of report text in a cell before it is cut (an id, a name, a version)."""
REASON_LIMIT = 300
"""Characters of a reason (the policy's or an allowlist entry's) in a cell."""

# Image history spells RUN steps as the shell command line (`/bin/sh -c apt-get ...`), other
# steps as `/bin/sh -c #(nop) COPY ...`, and BuildKit appends `# buildkit`: the Dockerfile
# instruction is easier to recognize without them.
_NOP = re.compile(r"\A/bin/sh -c #\(nop\)\s*")
_SHELL = re.compile(r"\A/bin/sh -c\s+")
_BUILDKIT = re.compile(r"\s*# buildkit\Z")


def table_header(columns: Sequence[str]) -> str:
    """The header and delimiter rows of a GFM table (column names are the renderer's own)."""
    return "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)


def table_row(cells: Sequence[str]) -> str:
    """One row; an empty cell gets a dash so every row visibly has all its cells."""
    return "| " + " | ".join(cell or "-" for cell in cells) + " |"


def id_cell(finding: Finding, own_server: str | None = None) -> str:
    """The vulnerability id, linked to the report's page for it or to its public advisory
    (`own_server` as `comment_link_url` takes it)."""
    text = md_escape(finding.vulnerability_id, CELL_LIMIT)
    url = comment_link_url(finding.primary_url, own_server) or advisory_url(finding.vulnerability_id)
    return f"[{text}]({link_target(url)})" if url else text


def package_cell(finding: Finding) -> str:
    """The package name, and where in the image it is when that is a file path."""
    cell = md_code(finding.package.name, CELL_LIMIT)
    if finding.package.path:
        cell += f" in {md_code(finding.package.path, CELL_LIMIT)}"
    return cell


def fix_cell(finding: Finding) -> str:
    """`installed → fixed`, or the installed version and why there is no fix."""
    installed = md_code(finding.package.version, CELL_LIMIT)
    if finding.fixed_versions:
        return f"{installed} → {md_code(', '.join(finding.fixed_versions), CELL_LIMIT)}"
    if finding.fixable:
        # The vendor says an upgrade fixes it (Snyk: of what pulls the package in): an action
        # clears it and `fail_on.fixable_only` lets it block, so it is no "no fix".
        return f"{installed} (a fix exists; no version named)"
    reason = no_fix_reason(finding)
    return f"{installed} (no fix, {reason})" if reason else f"{installed} (no fix)"


def instruction(created_by: str) -> str:
    """The image-history step as the Dockerfile instruction it came from, roughly."""
    text = _BUILDKIT.sub("", created_by.strip())
    if _NOP.match(text):
        return _NOP.sub("", text)
    if _SHELL.match(text):
        return "RUN " + _SHELL.sub("", text)
    return text


def layer_cell(finding: Finding, base_image: str | None = None) -> str:
    """Base image (by its name: its history steps are the base's build, not the reader's) or own
    layer with the instruction that added the package, and the Dockerfile line."""
    layer = finding.layer
    if layer is None:
        return ""
    if layer.origin is LayerOrigin.BASE:
        where = f"base image {md_code(base_image, CELL_LIMIT)}" if base_image else "base image"
        line = f" (Dockerfile line {layer.dockerfile_line})" if layer.dockerfile_line else ""
        return where + line
    if layer.origin is not None:
        where = "own layer"
    else:
        where = f"layer {layer.index}" if layer.index is not None else ""
    step = md_code(instruction(layer.created_by), CELL_LIMIT) if layer.created_by else ""
    cell = f"{where}: {step}" if where and step else where or step
    if layer.dockerfile_line:
        cell = f"{cell} (Dockerfile line {layer.dockerfile_line})".strip()
    return cell


def scanners_mark(finding: Finding, ran: Sequence[str]) -> str:
    """` <sub>grype only</sub>` when fewer than all the scanners that ran found it, else empty: a
    mark inside the vulnerability's cell, so that tables keep their columns."""
    found, only = found_by(finding, ran)
    return f" <sub>{md_escape(', '.join(found))} only</sub>" if only and len(ran) > 1 else ""


def common_cells(decision: Decision, ran: Sequence[str] = (), own_server: str | None = None) -> list[str]:
    """Vulnerability, package, versions and severity: the first cells of every findings table."""
    f = decision.finding
    return [
        id_cell(f, own_server) + scanners_mark(f, ran) + markdown_mark(decision),
        package_cell(f),
        fix_cell(f),
        f.severity.name,
    ]


def expiry_cell(entry: AllowlistEntry | None) -> str:
    """`until 2027-01-31`, or `no expiry`."""
    if entry is None:
        return ""
    return f"until {entry.expires.isoformat()}" if entry.expires else "no expiry"


def entry_cell(entry: AllowlistEntry) -> str:
    """`allowlist[3]`, with its line in the policy file when known."""
    line = f" (line {entry.line})" if entry.line else ""
    return f"`{entry.name}`{line}"


_STATE_MARKS = {EntryState.EXPIRED: "⏰", EntryState.UNUSED: "💤", EntryState.USED: "⌛"}


def entry_cells(attention: tuple[EntryReport, str]) -> list[str]:
    """An allowlist entry that needs attention (expired, expiring soon, or matching nothing), and
    what is the matter with it (`needs_attention` words it; they hold no report text)."""
    item, state = attention
    e = item.entry
    package = md_code(e.package, CELL_LIMIT) if e.package else "any"
    return [
        entry_cell(e),
        md_escape(e.vulnerability, CELL_LIMIT),
        package,
        f"{_STATE_MARKS[item.state]} {state}",
        md_escape(e.reason, REASON_LIMIT),
    ]


_SAID_AS = {"Installed → fixed": "versions", "Installed → target": "versions"}
"""How a column is named when its one value is said in a sentence (a reason is said as it is)."""


def constant_columns(
    columns: Sequence[str], rows: Sequence[Sequence[str]]
) -> tuple[list[str], list[list[str]], str]:
    """The table without the columns that hold one value in every row, and a sentence that says
    those values once (`In every row: severity HIGH; at or above the blocking severity HIGH.`;
    an empty value says nothing). A table of one row is kept whole."""
    if len(rows) < 2:
        return list(columns), [list(row) for row in rows], ""
    keep = [i for i in range(len(columns)) if any(row[i] != rows[0][i] for row in rows)] or [0]
    said = [
        rows[0][i] if columns[i] == "Why" else f"{_SAID_AS.get(columns[i], columns[i].lower())} {rows[0][i]}"
        for i in range(len(columns))
        if i not in keep and rows[0][i]
    ]
    sentence = f"In every row: {'; '.join(said)}." if said else ""
    return [columns[i] for i in keep], [[row[i] for i in keep] for row in rows], sentence
