"""The words of the SARIF output: result messages, rule descriptions and help, run categories.

Two kinds of text go into SARIF. Plain text (`message.text`, descriptions, `help.text`) is not
Markdown, but SARIF 2.1.0 §3.11.6 reads `[text](target)` in it as an embedded link, so the `](`
that would close one is escaped (`\\](`) and control characters are removed. Other brackets stay
as they are (`allowlist[0]`): escaped, they would show as `\\[0\\]` in viewers that do not
unescape. `help.markdown` is rendered by GitHub as GitHub-flavoured Markdown, so every piece of
report text in it goes through `md_escape` or `md_code` (gate/untrusted.py) and links only ever
point at `safe_url` URLs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from gate.model import Finding, ImageInfo, Layer, LayerOrigin, Severity
from gate.policy.actions import Action
from gate.policy.evaluation import Decision
from gate.render._markdown_cells import table_header
from gate.render._summary import no_fix_reason
from gate.render.remediation import what_to_do
from gate.untrusted import (
    advisory_url,
    comment_link_url,
    link_target,
    md_code,
    md_escape,
    safe_url,
    terminal_safe,
)

GITHUB_TEXT_LIMIT = 1024
"""GitHub's maximum for a rule's `shortDescription.text` and `fullDescription.text`."""
MESSAGE_LIMIT = 1024
"""Our own cap on a result message: GitHub shows its first sentence as the alert title."""
HELP_PACKAGE_ROWS = 50
"""Packages listed in one rule's help before the rest is counted; the results list them all."""

# SARIF §3.11.6: an embedded link is `[text](target)`; escaping the `]` before `(` (and doubling
# backslashes already there) leaves no link for a viewer to make out of untrusted text.
_LINK_CLOSE = re.compile(r"(\\*)\](?=\()")


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary when one is near, marked `…`."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    # A cut must not leave half of a `\]` escape behind.
    return head.rstrip().rstrip("\\") + "…"


def plain(text: str | None, limit: int = GITHUB_TEXT_LIMIT) -> str:
    """Untrusted text as one line of SARIF plain text: no control characters, no embedded links."""
    return cut(_flat(text), limit)


def _flat(text: str | None) -> str:
    """`plain` before the cut."""
    if not text:
        return ""
    # Printable ASCII (most text) without a run of spaces or a space at either end is one line
    # with nothing to show as a code: left as it is, without the split, join and regex pass.
    if text.isascii() and text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        flat = text
    else:
        flat = terminal_safe(" ".join(text.split()))
    # `_LINK_CLOSE` needs a `](`; most text has none and skips the substitution.
    if "](" in flat:
        flat = _LINK_CLOSE.sub(lambda m: m.group(1) * 2 + "\\]", flat)
    return flat


def fix_words(finding: Finding) -> str:
    """`fixed in 1.2.3` or `no fixed version`, with the vendor's reason when it gave one."""
    if finding.fixed_versions:
        return "fixed in " + ", ".join(finding.fixed_versions)
    if finding.fixable:
        return "a fix exists, no version named"
    reason = no_fix_reason(finding)
    return f"no fixed version, vendor status {reason}" if reason else "no fixed version"


def layer_words(finding: Finding) -> str:
    """Which layer installed the package, as far as it is known; empty when nothing is."""
    return "" if finding.layer is None else layer_words_of(finding.layer)


def layer_words_of(layer: Layer) -> str:
    """`layer_words` of a finding installed by `layer`."""
    bits = []
    if layer.index is not None:
        bits.append(f"layer {layer.index}")
    if layer.origin is not None:
        bits.append("base image" if layer.origin is LayerOrigin.BASE else "own layer")
    words = ", ".join(bits)
    # The history's text can end in blanks, which would stand before the sentence's full stop.
    step = (layer.created_by or "").strip()
    if step:
        words = f"{words}: {step}" if words else step
    if layer.dockerfile_line:
        words = f"{words} (Dockerfile line {layer.dockerfile_line})".strip()
    return words


SEVERITY_NAME = {severity: severity.name for severity in Severity}
"""Each severity's name, without the enum's `name` property (a call in Python) per result."""


def message(decision: Decision, others: Sequence[Decision], to_fix: str, layer: str) -> str:
    """`CVE-X in openssl 3.0.2 (fixed in 3.0.13): HIGH, blocking: <reason>.`, the action that
    clears it, and then the details; given the words of its action (`to_fix`: `action_words`) and
    of its finding's layer (`layer`: `layer_words`), which many results share.

    The first sentence is what GitHub shows as the alert's title, so it carries the verdict.
    """
    f = decision.finding
    package = f.package
    head = (
        f"{f.vulnerability_id} in {package.name} {package.version} ({fix_words(f)}): "
        f"{SEVERITY_NAME[f.severity]}, {decision.disposition._value_}: {_reason_words(decision.reason)}"
    )
    tail = [to_fix]
    if package.path:
        tail.append(f"Found at {package.path}")
    if layer:
        tail.append(f"Installed by {layer}")
    for other in others:
        tail.append(
            f"Also installed here: {other.finding.package.version} "
            f"({fix_words(other.finding)}), {other.disposition.value}"
        )
    text = ". ".join([s.rstrip(".") for s in [head, *tail]]) + "."
    return plain(text, MESSAGE_LIMIT)


@functools.lru_cache(maxsize=1 << 12)
def _reason_words(reason: str) -> str:
    # A policy gives the same few reasons to many findings.
    return cut(" ".join(reason.split()), 300)


def action_words(action: Action | None) -> str:
    """`To fix: upgrade curl (libcurl4) 7.88.1-10 -> 7.88.1-10+deb12u5 (action deb:curl)`."""
    if action is None:
        return "To fix: no published version fixes it yet"
    what = what_to_do(action, "->")
    return f"To fix: {what[:1].lower()}{what[1:]} (action {action.id})"


def _first_shown(*texts: str | None) -> str:
    """`plain` of the first text that is not empty once made plain (whitespace alone is)."""
    for text in texts:
        shown = plain(text) if text else ""
        if shown:
            return shown
    return ""


def short_description(finding: Finding) -> str:
    """The rule's one-line summary: the title when the scanner gave one, else the id; never empty
    (GitHub refuses a rule without one): an id of whitespace alone is shown quoted."""
    vid = finding.vulnerability_id
    return _first_shown(finding.title, vid, repr(vid))


def full_description(finding: Finding) -> str:
    """The rule's description, cut cleanly to GitHub's limit; never empty."""
    vid = finding.vulnerability_id
    return _first_shown(finding.description, finding.title, vid, repr(vid))


def _alias_links(ids: Sequence[str]) -> list[str]:
    links = []
    for vuln_id in ids:
        page = advisory_url(vuln_id)
        links.append(f"[{md_escape(vuln_id)}]({page})" if page else md_escape(vuln_id, 100))
    return links


def help_texts(
    vuln_id: str,
    decisions: Sequence[Decision],
    severity: Severity,
    score: str | None,
    described: Finding | None = None,
    own_server: str | None = None,
) -> tuple[str, str, str]:
    """`help.text` (what the vulnerability is, which packages have it, where to read more),
    `help.markdown` (the same, every piece of report text escaped) and, with `described`, the
    rule's `full_description` of it.

    `help.markdown` links the report's URL only where a comment would (`comment_link_url`, with
    `own_server` as it takes it): an issue or pull-request URL is named, not linked.

    Made together: a package's row in both helps shares its words, and the description of the
    finding that speaks for the rule (`decisions[0]`) is made plain once for the help's text and
    for the full description when `described` is that finding. A rule has a row per finding, up
    to `HELP_PACKAGE_ROWS`. tests/render/test_sarif.py compares this with each text made alone.
    """
    first = decisions[0].finding
    url = safe_url(first.primary_url)
    link = comment_link_url(url, own_server)
    description = _flat(first.description) if first.description else ""
    full = ""
    if described is not None:
        if described is first and description:
            full = cut(description, GITHUB_TEXT_LIMIT)
        else:
            full = full_description(described)
    lines = [plain(f"{vuln_id}: {first.title}" if first.title else vuln_id)]
    title = f"[{md_escape(vuln_id, 100)}]({link_target(link)})" if link else md_escape(vuln_id, 100)
    parts = [f"**{title}**: {md_escape(first.title, 300)}" if first.title else f"**{title}**", ""]
    score_words = f", security severity {score}" if score else ""
    lines += [f"Severity: {severity.name}{score_words}", ""]
    parts += [f"Severity **{severity.name}**{score_words}", "", _HELP_TABLE_HEADER]
    for d in decisions[:HELP_PACKAGE_ROWS]:
        f = d.finding
        package = f.package
        fixed = fix_words(f)
        disposition = d.disposition.value
        where = f" at {package.path}" if package.path else ""
        lines.append(plain(f"- {package.name} {package.version}{where}: {fixed} ({disposition})"))
        # `table_row` of the five cells, an empty one written as a dash.
        fixed_cell = md_code(", ".join(f.fixed_versions), 100) if f.fixed_versions else md_escape(fixed)
        parts.append(
            f"| {md_code(package.name, 100) or '-'} | {md_code(package.path, 150) or '-'} "
            f"| {md_code(package.version, 100) or '-'} | {fixed_cell or '-'} | {disposition or '-'} |"
        )
    if len(decisions) > HELP_PACKAGE_ROWS:
        lines.append(f"- and {len(decisions) - HELP_PACKAGE_ROWS} more package(s)")
        parts.append(f"\n_and {len(decisions) - HELP_PACKAGE_ROWS} more package(s)_")
    lines.append("")
    if first.description:
        lines += [cut(description, 3000), ""]
        parts += ["", md_escape(first.description, 3000)]
    if url:
        lines.append(f"More information: {url}")
    if first.aliases:
        lines.append(plain("Also known as: " + ", ".join(first.aliases)))
    # A URL left unlinked is still named: `md_escape` breaks its `://`, so no viewer links it.
    links = [f"[{md_escape(link)}]({link_target(link)})" if link else md_escape(url)] if url else []
    links += _alias_links(first.aliases)
    if links:
        parts += ["", "**Links:** " + " · ".join(links)]
    return "\n".join(lines).strip() + "\n", "\n".join(parts).strip() + "\n", full


_HELP_TABLE_HEADER = table_header(["Package", "Path", "Installed", "Fixed in", "Disposition"])


# Transports whose reference names a file or directory, not a repository (gate/image/resolve.py forms).
_PATH_TRANSPORTS = ("docker-archive:", "oci-archive:", "oci:", "dir:")
_OTHER_TRANSPORTS = ("docker-daemon:", "docker://", "registry:", "podman:", "containers-storage:")
_ARCHIVE = re.compile(r"(?i)\.(?:tar|tgz|tar\.gz|tar\.zst|tar\.xz|tar\.bz2)\Z")
_SEGMENT_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def file_stem(path: str) -> str:
    """The file name without its extensions (`out/app.tar.gz` -> `app`, `trivy.json` -> `trivy`)."""
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    while True:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or not ext.isalpha() or len(ext) > 8:
            return name
        name = stem


def image_name(reference: str) -> str:
    """The image repository without tag or digest, or the file name of an image archive."""
    ref = reference.strip()
    for prefix in _PATH_TRANSPORTS:
        if ref.startswith(prefix):
            return file_stem(ref[len(prefix) :].split(":", 1)[0])
    for prefix in _OTHER_TRANSPORTS:
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    if _ARCHIVE.search(ref):
        return file_stem(ref)
    ref = ref.split("@", 1)[0]
    head, slash, last = ref.rpartition("/")
    ref = f"{head}{slash}{last.split(':', 1)[0]}"
    # `alpine`, `library/alpine` and `docker.io/library/alpine` are one repository.
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    return ref


def segments(text: str) -> list[str]:
    """`text` as category path segments: lower case, `[a-z0-9._-]` only, none empty or dots only."""
    out = []
    for part in text.split("/"):
        segment = _SEGMENT_UNSAFE.sub("-", part.lower()).strip("-")[:100]
        if segment.strip("."):
            out.append(segment)
    return out


def default_category(image: ImageInfo | None, sources: Sequence[str]) -> str:
    """`container-gate/<image repository>/<os>-<arch>[-<variant>]/` (see `render_sarif`)."""
    if image is not None:
        name = segments(image_name(image.reference))
    else:
        name = segments(file_stem(sources[0])) if sources else []
    platform = segments((image.platform or "").replace("/", "-")) if image is not None else []
    return "/".join(["container-gate", *(name or ["unnamed"]), *(platform or ["unknown"])]) + "/"
