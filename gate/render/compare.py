"""`compare`: the same policy over several images, one row each, as a terminal table, Markdown or JSON.

The JSON document is a contract, schema `container-gate/compare/v1` (docs/compare.md):
`{"schema", "policy", "advisory", "images": [{"reference", "os", "arch", "size_bytes", "created",
"packages", "findings", "counts_by_severity", "fixable", "blocking", "verdict", "error", "warnings",
"actions", "known_exploited", "policy_failures", "would_block", "allowlist_attention",
"base_image", "vex"}]}`. `counts_by_severity` is flat and counts every finding whatever its disposition;
`blocking` counts those the policy blocks; `actions` the actions that clear them, as `check` counts
them; `known_exploited` the findings CISA's KEV catalog lists (null without KEV data);
`allowlist_attention` the allowlist entries that need attention for that image (expired, expiring
soon, matching nothing), as `check` lists them; `base_image` the base image check of a decision
report read back (null without one); `vex` the VEX statements counted (null without VEX). An image that could not be scanned is a row with its
`error`, `verdict: "error"` and nulls.

Rows are made once (`CompareRow.of`) from each image's evaluation, in the order the images were
given; every piece of image or report text is escaped for the output it goes to.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gate.image.base_image import parse_created
from gate.model import LayerOrigin, Severity
from gate.policy.base_status import BaseImageStatus
from gate.policy.evaluation import Disposition, EntryReport, Evaluation
from gate.policy.model import Mode
from gate.policy.plan import has_usable_fix
from gate.render._columns import display_width, pad, wrap
from gate.render._delta import vex_counts, vex_gap_line
from gate.render._json_text import surrogates_escaped
from gate.render._markdown_cells import table_header, table_row
from gate.render._summary import base_image_line
from gate.render.json import base_image_json, entry_json
from gate.render.remediation import clearing_actions, known_exploited, needs_attention
from gate.untrusted import md_code, md_escape, shorten, terminal_safe

SCHEMA = "container-gate/compare/v1"
SEVERITIES = tuple(reversed(Severity))
"""CRITICAL first, UNKNOWN last: the order of `counts_by_severity`."""
NAME_LIMIT = 60
"""Characters of an image reference in a table cell."""
KEPT_COLUMNS = 5
"""The terminal table's columns that never give way to a narrow terminal: the image, its verdict,
what blocks, the actions that clear it, what is known exploited."""
REASON_LIMIT = 100
"""Characters of an allowlist entry's reason in the list of entries that need attention, as in
`check`'s summary."""
ATTENTION_TITLE = "Allowlist entries that need attention (renew, fix or remove them):"
"""The title of that list, `check`'s own."""
MAX_LISTED = 20
"""Lines of each list under the table (warnings, allowlist entries that need attention, ...)
before the rest is counted, as `check`'s summary lists at most 20 entries: a policy of a few
hundred entries, stale in every image, would otherwise bury the table."""


def more_words(left_out: int) -> str:
    """The line that counts what a list under the table leaves out."""
    return f"... and {left_out} more (--json lists every image's)"


@dataclass(frozen=True)
class ComparedImage:
    """One image of a comparison, as the command line hands it over."""

    reference: str
    """The image reference as given, or NAME of `NAME=REPORT.json`."""
    evaluation: Evaluation | None = None
    """The policy's evaluation of its findings; None when it could not be scanned or read."""
    size_bytes: int | None = None
    """Compressed size from the image's manifest, when it has one (registry, OCI layout)."""
    error: str | None = None
    """Why it could not be scanned or read."""


@dataclass(frozen=True)
class CompareRow:
    """One row, counted once; every output prints these values."""

    reference: str
    """The image reference as given."""
    os: str | None
    """`linux`, ... when known."""
    arch: str | None
    """`amd64`, `arm64`, `arm/v7`, ... when known."""
    size_bytes: int | None
    """Compressed size from the manifest, when known."""
    created: str | None
    """The image config's `created`, as written."""
    packages: int | None
    """Packages the scanner found, vulnerable or not, when its report lists them."""
    findings: int | None
    """Every finding, whatever its disposition."""
    counts_by_severity: Mapping[Severity, int] | None
    """Every finding per severity, CRITICAL first."""
    fixable: int | None
    """Findings with a fix newer than the installed version (`has_usable_fix`: the fix the actions
    upgrade to and `fail_on.fixable_only` asks for; a listed fix no newer is none)."""
    blocking: int | None
    """Findings the policy blocks."""
    base: int | None
    """Findings in the base image's layers, when the base image is known."""
    own: int | None
    """Findings in the image's own layers, when the base image is known."""
    verdict: str
    """`pass`, `fail`, or `error`."""
    error: str | None
    """Why the image could not be scanned or read."""
    warnings: tuple[str, ...] = ()
    """What its scan or report warned about (an old vulnerability DB, ...), as `scan` shows it."""
    actions: int | None = None
    """The actions that clear what blocks (else what would: advisory mode, budgets), as `check`'s
    verdict line counts them."""
    known_exploited: int | None = None
    """Findings CISA's KEV catalog lists, blocking or not (as the decision report's `kev` marks
    them; check's verdict line counts only the blocking ones); None when the run had no KEV data."""
    would_block: int | None = None
    """Findings that block, or would but for advisory mode or a budget, as `check` counts them."""
    policy_failures: tuple[str, ...] = ()
    """Why the policy fails the image besides its blocking findings (an expired allowlist entry
    with `fail_on_expired`, a stale base image with `on_stale: fail`), as `check` says it."""
    attention: tuple[tuple[EntryReport, str], ...] = ()
    """The allowlist entries that need attention for this image (expired, expiring soon, matching
    nothing), each with what is the matter, as `check` lists them."""
    base_image: BaseImageStatus | None = None
    """What the base image check of a decision report read back found (stale, current, not
    checked), said in the words of `check`'s line about it; None without one."""
    base_image_json: Mapping[str, Any] | None = None
    """That check, as the decision report's `base_image` has it (without `removed_findings`,
    which point into a list of findings compare does not give)."""
    vex: tuple[str, ...] = ()
    """What became of the VEX statements in this image, as `check` says it (not yet escaped): how
    many were used and unused, and the CVEs that keep findings open; empty without VEX."""
    vex_json: Mapping[str, int] | None = None
    """The statements counted: `statements`, `used`, `partial`, `unused`; None without VEX."""

    @classmethod
    def of(cls, item: ComparedImage) -> CompareRow:
        """The row of one compared image."""
        ev = item.evaluation
        if ev is None:
            return cls(
                reference=item.reference,
                os=None,
                arch=None,
                size_bytes=None,
                created=None,
                packages=None,
                findings=None,
                counts_by_severity=None,
                fixable=None,
                blocking=None,
                base=None,
                own=None,
                verdict="error",
                error=item.error or "not scanned",
            )
        image = ev.report.image
        by_severity = {s: sum(ev.counts.by_severity[d][s] for d in Disposition) for s in SEVERITIES}
        counts = vex_counts(ev)
        base = own = None
        if image is not None and image.base_layer_count is not None:
            origins = [d.finding.layer.origin for d in ev.decisions if d.finding.layer is not None]
            base, own = origins.count(LayerOrigin.BASE), origins.count(LayerOrigin.OWN)
        return cls(
            reference=item.reference,
            os=image.os if image else None,
            arch=image.architecture if image else None,
            size_bytes=item.size_bytes,
            created=image.created if image else None,
            packages=ev.report.package_count,
            findings=len(ev.decisions),
            counts_by_severity=by_severity,
            fixable=sum(1 for d in ev.decisions if has_usable_fix(d.finding)),
            blocking=ev.counts[Disposition.BLOCKING],
            base=base,
            own=own,
            verdict=ev.verdict,
            error=None,
            warnings=ev.warnings,
            actions=len(clearing_actions(ev)),
            would_block=ev.counts.would_block,
            policy_failures=ev.policy_failures,
            attention=tuple(needs_attention(ev)),
            vex=tuple(text for text in (counts.words() if counts else "", vex_gap_line(ev, str)) if text),
            vex_json=(
                {
                    "statements": counts.statements,
                    "used": counts.used,
                    "partial": counts.partial,
                    "unused": counts.unused,
                }
                if counts is not None
                else None
            ),
            base_image=ev.base_image,
            base_image_json=(
                {
                    key: value
                    for key, value in base_image_json(ev.base_image, ev.decisions).items()
                    if key != "removed_findings"
                }
                if ev.base_image is not None
                else None
            ),
            known_exploited=(
                known_exploited(ev.decisions)
                if ev.exploit is not None and ev.exploit.kev is not None
                else None
            ),
        )


def rows_of(images: Sequence[ComparedImage]) -> list[CompareRow]:
    """The rows, in the order the images were given."""
    return [CompareRow.of(image) for image in images]


# --- JSON ---------------------------------------------------------------------------------------


def render_compare_json(images: Sequence[ComparedImage], policy: str, mode: Mode | None = None) -> str:
    """The `container-gate/compare/v1` document; `policy` names the policy file applied."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "policy": policy,
        # The table's ADVISORY MODE line: every row's verdict is `pass` whatever would block.
        "advisory": advisory(images, mode),
        "images": [
            {
                "reference": row.reference,
                "os": row.os,
                "arch": row.arch,
                "size_bytes": row.size_bytes,
                "created": row.created,
                "packages": row.packages,
                "findings": row.findings,
                "counts_by_severity": {s.name: n for s, n in row.counts_by_severity.items()}
                if row.counts_by_severity is not None
                else None,
                "fixable": row.fixable,
                "blocking": row.blocking,
                "verdict": row.verdict,
                "error": row.error,
                "warnings": list(row.warnings) if row.error is None else None,
                "actions": row.actions,
                "known_exploited": row.known_exploited,
                "policy_failures": list(row.policy_failures) if row.error is None else None,
                "would_block": row.would_block,
                "allowlist_attention": [
                    {**entry_json(item), "attention": state} for item, state in row.attention
                ]
                if row.error is None
                else None,
                "base_image": dict(row.base_image_json) if row.base_image_json is not None else None,
                "vex": dict(row.vex_json) if row.vex_json is not None else None,
            }
            for row in rows_of(images)
        ],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    # A name or path of the command line that is not UTF-8 holds lone surrogates, which no UTF-8
    # file can: they are written as JSON escapes, as `ensure_ascii` would write them.
    return surrogates_escaped(text) + "\n"


# --- cells shared by the terminal and Markdown ---------------------------------------------------


def size_text(size: int | None) -> str:
    """Bytes in decimal units as registries and `docker images` show them (`2.1 MB`)."""
    if size is None:
        return "-"
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def created_text(created: str | None) -> str:
    """The creation date (UTC); the text as written when it is not a date."""
    when = parse_created(created)
    if when is None:
        return created or "-"
    return when.astimezone(dt.UTC).date().isoformat()


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def _blocking(row: CompareRow) -> str:
    """What blocks, and how many more would under an enforcing policy without budgets (advisory
    mode, a budget): `0 (+2 would)`, so that a trial of a policy still tells the images apart."""
    if row.blocking is None or row.would_block is None or row.would_block <= row.blocking:
        return _number(row.blocking)
    return f"{row.blocking} (+{row.would_block - row.blocking} would)"


def _platform(row: CompareRow) -> str:
    return "/".join(part for part in (row.os, row.arch) if part) or "-"


def _split(row: CompareRow) -> str:
    return "-" if row.base is None or row.own is None else f"{row.base}/{row.own}"


def _error_line(row: CompareRow) -> str:
    """`image: why`; an error that already starts with the image's name is not prefixed again."""
    error = row.error or ""
    return error if error.startswith(row.reference) else f"{row.reference}: {error}"


def attention_text(item: EntryReport, state: str) -> str:
    """An allowlist entry that needs attention, as `check`'s summary lists it (not yet escaped):
    `allowlist[0] CVE-2019-14697: expired on 2020-01-01, would match 2 findings: not shipped`."""
    entry = item.entry
    return f"{entry.name} {entry.vulnerability}: {state}: {shorten(entry.reason, REASON_LIMIT)}"


@dataclass(frozen=True)
class Shown:
    """How an output shows report text in the lists under its table."""

    code: Callable[[str], str]
    """A name shown as code (the base image's), escaped."""
    text: Callable[[str], str]
    """Any other text, escaped."""


TERMINAL_SHOWN = Shown(code=lambda name: f"`{terminal_safe(name)}`", text=terminal_safe)
MARKDOWN_SHOWN = Shown(code=lambda name: md_code(name, 200, in_table=False), text=md_escape)
"""A name as a code span, as the Markdown summary of `check` shows the base image's."""

Said = Callable[[Sequence[CompareRow], Shown], list[tuple[str, str]]]
"""What a list under the table says: (image reference, text shown as the output shows it) pairs,
in the order listed."""


def _each(texts: Callable[[CompareRow], Sequence[str]]) -> Said:
    return lambda rows, shown: [(row.reference, shown.text(text)) for row in rows for text in texts(row)]


def _base_images(rows: Sequence[CompareRow], shown: Shown) -> list[tuple[str, str]]:
    """`check`'s line about the base image check of each row that has one."""
    return [
        (row.reference, base_image_line(row.base_image, shown.code, shown.text))
        for row in rows
        if row.base_image is not None
    ]


def _attention(rows: Sequence[CompareRow], shown: Shown) -> list[tuple[str, str]]:
    """The allowlist entries that need attention, in the policy's order, as each image needs it:
    one entry's lines stay together, whatever each image makes of it."""
    said = [
        (item.entry.index, n, row.reference, shown.text(attention_text(item, state)))
        for n, row in enumerate(rows)
        for item, state in row.attention
    ]
    return [(reference, text) for _, _, reference, text in sorted(said, key=lambda x: (x[0], x[1]))]


_WARNINGS = _each(lambda row: row.warnings)
LISTS: tuple[tuple[str, Said], ...] = (
    ("Base images:", _base_images),
    ("Failed by the policy, besides blocking findings:", _each(lambda row: row.policy_failures)),
    (ATTENTION_TITLE, _attention),
    ("VEX statements:", _each(lambda row: row.vex)),
    ("Warnings:", _WARNINGS),
)
"""The lists under the table, in this order: each title, and what it says of the rows."""


def _warnings(
    rows: Sequence[CompareRow], shown: Shown, said: Said = _WARNINGS
) -> list[tuple[tuple[str, ...] | None, str]]:
    """Each distinct text `said` of the rows (a warning, a policy failure, an allowlist entry that
    needs attention), shown as `shown` shows it, once, with the images it is about (None: every
    image compared)."""
    about: dict[str, list[str]] = {}
    for reference, warning in said(rows, shown):
        images = about.setdefault(warning, [])
        if reference not in images:
            images.append(reference)
    compared = [row.reference for row in rows if row.error is None]
    return [
        (None if len(compared) > 1 and images == compared else tuple(images), warning)
        for warning, images in about.items()
    ]


def _shown_severities(rows: Sequence[CompareRow]) -> tuple[Severity, ...]:
    """Every severity but UNKNOWN, which only gets a column when some image has one."""
    unknown = any(row.counts_by_severity and row.counts_by_severity[Severity.UNKNOWN] for row in rows)
    return SEVERITIES if unknown else SEVERITIES[:-1]


def shown_names(references: Iterable[str]) -> dict[str, str]:
    """Each image reference as the tables show it, before escaping: at most `NAME_LIMIT`
    characters, cut in the middle, so that the registry and repository at the start and the tag
    or digest at the end both stay (two builds of one image differ at the end). A cut that would
    make different references read the same is not made: those are shown whole."""
    cut = {reference: _cut_middle(reference, NAME_LIMIT) for reference in dict.fromkeys(references)}
    times = Counter(cut.values())
    return {reference: shown if times[shown] == 1 else reference for reference, shown in cut.items()}


def _cut_middle(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


ADVISORY_NOTE = (
    "ADVISORY MODE: this policy never fails an image; (+N would) is what an enforcing policy would block."
)
"""The line under the table when the policy is advisory, as check's verdict line says it: every row
then reads PASS with 0 blocking, which alone would look like images with nothing to fix."""
ADVISORY_NOTE_MARKDOWN = (
    "**ADVISORY MODE: this policy never fails an image**; _Blocking_'s (+N would) is what an "
    "enforcing policy would block."
)
"""The same, above the Markdown table."""


def advisory(images: Sequence[ComparedImage], mode: Mode | None = None) -> bool:
    """Whether the policy applied is advisory (`mode: advisory`; compare takes no `--advisory`: it
    never fails, so the option would only hide what blocks): `mode`, the policy's, when given (a
    run whose every image failed to scan has no evaluation to say it), else as the images'
    evaluations say it (the same policy for every image)."""
    if mode is not None:
        return mode is Mode.ADVISORY
    return any(i.evaluation is not None and i.evaluation.policy.mode is Mode.ADVISORY for i in images)


# --- terminal ------------------------------------------------------------------------------------


def render_compare_terminal(
    images: Sequence[ComparedImage], policy: str, width: int | None = None, mode: Mode | None = None
) -> str:
    """The comparison as a plain-text table, ending with a newline.

    `width` is a terminal's columns (None: not a terminal, every column whatever its width). On a
    terminal narrower than the table, the last columns give way, never the first `KEPT_COLUMNS`,
    and a line names those left out; the lines of prose are wrapped."""
    rows = rows_of(images)
    names = shown_names(row.reference for row in rows)
    shown = _shown_severities(rows)
    by_severity = "/".join(s.name[0] for s in shown)
    # What a choice rests on first (the verdict, what blocks, the actions that clear it, what is
    # known exploited), then the counts behind it, then what the image is.
    header = ["IMAGE", "VERDICT", "BLOCKING", "ACTIONS", "KEV", "FINDINGS", by_severity, "FIXABLE"]
    header += ["BASE/OWN", "PACKAGES", "OS/ARCH", "SIZE", "CREATED"]
    cells = []
    for row in rows:
        counts = row.counts_by_severity
        cells.append(
            [
                terminal_safe(names[row.reference]),
                row.verdict.upper(),
                _blocking(row),
                _number(row.actions),
                _number(row.known_exploited),
                _number(row.findings),
                "/".join(str(counts[s]) for s in shown) if counts is not None else "-",
                _number(row.fixable),
                _split(row),
                _number(row.packages),
                terminal_safe(_platform(row), 30),
                size_text(row.size_bytes),
                terminal_safe(created_text(row.created), 30),
            ]
        )
    # In the columns a terminal gives the text: a CJK character or an emoji takes two.
    widths = [max(len(h), *(display_width(c[i]) for c in cells)) for i, h in enumerate(header)]

    kept = len(header)
    if width is not None:
        # Each column is two spaces and its width; a row folded by the terminal reads as two.
        while kept > KEPT_COLUMNS and sum(w + 2 for w in widths[:kept]) > width:
            kept -= 1
    left_out = header[kept:]
    header, widths, cells = header[:kept], widths[:kept], [c[:kept] for c in cells]

    def line(values: Sequence[str]) -> str:
        return "  " + "  ".join(pad(v, w) for v, w in zip(values, widths, strict=True)).rstrip()

    count = len(rows)
    out = [
        f"container-gate compare: {count} image{'s' if count != 1 else ''}, policy {terminal_safe(policy)}"
    ]
    out += [line(header), *(line(c) for c in cells)]
    if advisory(images, mode):
        out.append(ADVISORY_NOTE)
    out.append(
        "BLOCKING: what the policy blocks (+N would: more without advisory mode or budgets); "
        "ACTIONS: the upgrades and rebuilds that clear it"
    )
    # A column left out for the terminal's width is not explained either.
    size = "; SIZE: compressed, from the image's manifest" if "SIZE" in header else ""
    # Every KEV-listed finding, blocking or not: what an image carries, whatever the policy;
    # check's verdict line counts only the blocking ones ("1 blocking finding(s), 1 known-exploited").
    out.append(f"KEV: findings CISA lists as known exploited, blocking or not (- without KEV data){size}")
    if by_severity in header:
        out.append(f"{by_severity}: findings by severity, whatever the policy made of them")
    if left_out:
        out.append(
            f"Left out for the terminal's width: {', '.join(left_out)} (a wider terminal, a pipe, "
            "--markdown or --json has every column)"
        )
    failed = [row for row in rows if row.error is not None]
    if failed:
        out.append("")
        out.append("Not compared:")
        out += [f"  {terminal_safe(_error_line(row))}" for row in failed]
    for title, said in LISTS:
        listed = _warnings(rows, TERMINAL_SHOWN, said)
        if listed:
            out += ["", title]
            for about, warning in listed[:MAX_LISTED]:
                which = (
                    "every image"
                    if about is None
                    else ", ".join(terminal_safe(names.get(i, i)) for i in about)
                )
                out.append(f"  {which}: {warning}")
            if len(listed) > MAX_LISTED:
                out.append(f"  {more_words(len(listed) - MAX_LISTED)}")
    if width is not None:
        # The table's rows stay whole (cut, they would no longer line up); the prose is wrapped.
        table = range(1, 2 + len(cells))
        out = [
            wrapped
            for n, text in enumerate(out)
            for wrapped in ([text] if n in table else wrap(text, width, "    "))
        ]
    return "\n".join(out) + "\n"


# --- Markdown ------------------------------------------------------------------------------------


def render_compare_markdown(images: Sequence[ComparedImage], policy: str, mode: Mode | None = None) -> str:
    """The comparison as a GitHub-flavoured Markdown table (a job summary, a comment, a doc)."""
    rows = rows_of(images)
    names = shown_names(row.reference for row in rows)
    shown = _shown_severities(rows)
    columns = ["Image", "Verdict", "Blocking", "Actions", "Known exploited", "Findings"]
    columns += [s.name.capitalize() for s in shown]
    columns += ["Fixable", "Base / own", "Packages", "OS/arch", "Size", "Created"]
    out = [
        "### container-gate compare",
        "",
        f"{len(rows)} image(s), policy {md_code(policy, in_table=False)}. Findings by severity count "
        "every finding, whatever the policy made of it; _Blocking_ is what the policy blocks, _Actions_ "
        "the upgrades and rebuilds that clear it, _Known exploited_ the findings in CISA's KEV catalog, "
        "blocking or not (- without KEV data).",
        "",
        *([ADVISORY_NOTE_MARKDOWN, ""] if advisory(images, mode) else []),
        table_header(columns),
    ]
    for row in rows:
        counts = row.counts_by_severity
        out.append(
            table_row(
                [
                    md_code(names[row.reference]),
                    f"**{row.verdict}**",
                    md_escape(_blocking(row)),
                    _number(row.actions),
                    _number(row.known_exploited),
                    _number(row.findings),
                    *(_number(counts[s] if counts is not None else None) for s in shown),
                    _number(row.fixable),
                    _split(row),
                    _number(row.packages),
                    md_escape(_platform(row)) if row.os or row.arch else "",
                    size_text(row.size_bytes),
                    md_escape(created_text(row.created), 30) if row.created else "",
                ]
            )
        )
    failed = [row for row in rows if row.error is not None]
    if failed:
        out += ["", "Not compared:", ""]
        out += [f"- {md_escape(_error_line(row))}" for row in failed]
    for title, said in LISTS:
        listed = _warnings(rows, MARKDOWN_SHOWN, said)
        if listed:
            out += ["", title, ""]
            for about, warning in listed[:MAX_LISTED]:
                which = (
                    "every image"
                    if about is None
                    else ", ".join(md_code(names.get(i, i), in_table=False) for i in about)
                )
                out.append(f"- {which}: {warning}")
            if len(listed) > MAX_LISTED:
                out.append(f"- {more_words(len(listed) - MAX_LISTED)}")
    return "\n".join(out) + "\n"
