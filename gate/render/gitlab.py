"""The GitLab container-scanning report (`--gitlab`): security report format 15.0.7.

GitLab reads it from a job's `artifacts:reports:container_scanning` and shows each vulnerability in
the merge-request widget, the pipeline's Security tab and the vulnerability report. GitLab 15.0 and
later reject a report that does not validate against the schema version it declares (GitLab docs,
"Security scanner integration", "Report validation"), so the version is pinned in `SCHEMA_VERSION`
and the tests validate every corpus report against that schema.

What goes in: the findings GitLab should show as open, that is the blocking and the informational
ones. Allowlisted and ignored findings are left out, because GitLab would list them as open
vulnerabilities again; `scan.messages` says how many were left out and why, and the JSON report
keeps each of them with its reason.

Tracking: GitLab tracks a vulnerability across pipelines by its report type, its primary identifier
(the first of `identifiers`) and a location fingerprint built from the image name (or
`default_branch_image` on other branches) and the package name; the path inside the image and the
version are not part of it, and GitLab keeps one vulnerability per such key. So a finding whose
vulnerability and package name an earlier finding of the report already has is written with its
path, or else its version, in `location.dependency.package.name` (`tracked_names`): the first keeps
the plain name, and the others are not merged into it. Our own `id` is a UUID derived from the
vulnerability id, package name and path, never the version, so an upgrade that does not fix the
vulnerability keeps its id.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gate import __version__
from gate.model import Cvss, Finding, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.actions import Action, ActionKind, FindingKey
from gate.policy.evaluation import Decision, Disposition, Evaluation
from gate.render._exploit import kev_note
from gate.render._gitlab_ids import cvss_vectors, identifiers, storable
from gate.render._gitlab_remediations import DockerfileText, remediations
from gate.render._gitlab_scan import analyzer_section, scan_messages, scanner_section
from gate.render._json_text import FloatsChecked, Skeleton, plain_float
from gate.render._markdown_actions import what_cell
from gate.render.remediation import estimate_words, pinned_words, refreshed_base, what_to_do
from gate.run_wording import COMMAND_LINE_WORDS, JsonReportHint
from gate.untrusted import md_code, md_escape, safe_url, shorten, terminal_safe

SCHEMA_VERSION = "15.0.7"
"""The security report schema version the report declares and validates against."""
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/container-scanning-report-format.json"
)

# Schema 15.0.7 `vulnerabilities[].severity`; Info is never produced (no scanner says "info").
SEVERITIES = {
    Severity.UNKNOWN: "Unknown",
    Severity.LOW: "Low",
    Severity.MEDIUM: "Medium",
    Severity.HIGH: "High",
    Severity.CRITICAL: "Critical",
}

NAME_LIMIT = 255
"""Schema 15.0.7: `vulnerabilities[].name` maxLength."""
DESCRIPTION_LIMIT = 1_048_576
"""Schema 15.0.7: `vulnerabilities[].description` maxLength."""
SOLUTION_LIMIT = 7_000
"""Schema 15.0.7: `vulnerabilities[].solution` maxLength."""
DEFAULT_BRANCH_IMAGE_LIMIT = 255
"""Schema 15.0.7: `location.default_branch_image` maxLength."""

NO_VERSION_NAMED = "a fixed version (the scanner says a fix exists but names no version)"
"""What a solution upgrades to when the scanner says a fix exists without naming its version."""

UNKNOWN_OS = "Unknown"
"""`location.operating_system` is required; GitLab's own Trivy template writes this when unknown."""
UNKNOWN_IMAGE = "unknown-image"
"""`location.image` is required; used (and said in a message) when no reference is known at all."""

# What GitLab's container-scanning analyzer accepts for CS_DEFAULT_BRANCH_IMAGE (gcs
# lib/gcs/vulnerability.rb DEFAULT_BRANCH_IMAGE): a name, an optional registry port, and a tag.
_DEFAULT_BRANCH_IMAGE = re.compile(r"[a-zA-Z0-9/_.-]+(:\d+[a-zA-Z0-9/_.-]*)?:[a-zA-Z0-9_.-]+\Z")

_ID_NAMESPACE = uuid.UUID("3b1576c9-9be8-5de0-b7be-425a5d9bf498")
"""uuid5(NAMESPACE_URL, "container-gate:gitlab-container-scanning:vulnerability"): never change it,
or every vulnerability id in GitLab changes."""


@dataclass(frozen=True)
class GitLabReportOptions:
    """What the report needs that the evaluation does not hold; the CLI supplies it."""

    start_time: dt.datetime
    """When the scan (or the reading of the reports) started; timezone-aware."""
    end_time: dt.datetime
    """When it ended; timezone-aware, not before `start_time`."""
    image: str | None = None
    """The image reference to use when the report names none (e.g. `$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA`)."""
    default_branch_image: str | None = None
    """The image's name on the default branch (`CS_DEFAULT_BRANCH_IMAGE`), so GitLab matches
    vulnerabilities across branches whose image names differ."""
    analyzer_version: str = __version__
    """`scan.analyzer.version`."""
    analyzer_url: str | None = None
    """`scan.analyzer.url`, an http(s) link to the gate's documentation, when there is one."""
    dockerfile: DockerfileText | None = None
    """The Dockerfile the image was built from, for `remediations` that patch it."""
    json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report
    """The JSON report as the run's user asks for it, where the messages send the reader to it:
    `--json`, or the GitLab templates' `container-gate.json` artifact."""

    def __post_init__(self) -> None:
        for name in ("start_time", "end_time"):
            value: dt.datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"GitLabReportOptions.{name} must be timezone-aware, got {value!r}")
        if self.end_time < self.start_time:
            raise ValueError("GitLabReportOptions.end_time is before start_time")


def gitlab_time(moment: dt.datetime) -> str:
    """Schema 15.0.7 `scan.start_time`/`end_time`: UTC as `yyyy-mm-ddThh:mm:ss`, no offset."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


_ID_PREFIX = _ID_NAMESPACE.bytes


_VARIANT = {digit: format((int(digit, 16) & 0x3) | 0x8, "x") for digit in "0123456789abcdef"}
"""A hex digit with its two high bits made RFC 9562's variant, `10`."""


def vulnerability_uuid(finding: Finding, *extra: str) -> str:
    """The stable `id`: from the vulnerability id, package name and path (not the version).

    `uuid.uuid5(_ID_NAMESPACE, name)` as its text, written out (RFC 9562 section 5.5: the SHA-1 of
    the namespace and the name, with the version and variant bits set): building the `UUID`
    object took a fifth of the GitLab report's time at 100k findings. The bits are set on the
    digest's hex text: the version is the 13th digit, the variant the high bits of the 17th.
    """
    parts = (finding.vulnerability_id, finding.package.name, finding.package.path, *extra)
    text = hashlib.sha1(_ID_PREFIX + "\x1f".join(parts).encode("utf-8")).hexdigest()  # noqa: S324 - UUID version 5 is SHA-1
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"


def _plain(text: str | None, limit: int | None = None) -> str:
    """One line of untrusted text without control characters, for fields GitLab shows as text."""
    if text and text.isascii() and text.isprintable() and (limit is None or len(text) <= limit):
        return text  # what `terminal_safe` makes of printable ASCII within the limit, at once
    return terminal_safe(text, limit)


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

_CACHED_TEXT_LIMIT = 8_192
"""Descriptions up to this length are escaped once per text (`_markdown_cached`); longer ones,
rare and seldom shared, every time, so the cache stays small whatever the report holds."""


def _markdown(text: str, limit: int) -> str:
    """Untrusted multi-paragraph text made inert as GitLab Flavored Markdown.

    Schema 15.0.7 says a vulnerability's text is GitLab Flavored Markdown, and GitLab renders the
    description as such (and copies it into issues created from it), so links, images, mentions
    and references from a report must not come alive; paragraphs are kept.
    """
    if len(text) <= _CACHED_TEXT_LIMIT:
        return _markdown_cached(text, limit)
    return _markdown_escaped(text, limit)


def _markdown_escaped(text: str, limit: int) -> str:
    # Most descriptions hold no `\r`: looking for one character is a tenth of looking for two.
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    return shorten("\n\n".join(md_escape(p) for p in paragraphs), limit)


# Every finding of one vulnerability carries its description, so a report of 100k findings holds
# a few thousand distinct ones: escaping each once took the GitLab report's escaping from about
# 2 s to nothing at 100k findings. The escaping is a pure function of the text, so a cached
# result is the one it would give again.
_markdown_cached = functools.lru_cache(maxsize=512)(_markdown_escaped)


SOLUTION_PART_LIMIT = 500
"""Characters of one piece of report text (a name, a version, a command) in a solution."""


def _code(text: str) -> str:
    """Report text in a solution: a code span, inert as GitLab Flavored Markdown."""
    return md_code(text, SOLUTION_PART_LIMIT, in_table=False)


def _rebuild_words(action: Action, code: Callable[[str], str]) -> str:
    """`Rebuild on a refreshed base image `debian:12``, with what a digest pin needs first."""
    name, words = refreshed_base(action), pinned_words(action)
    text = f"Rebuild on a refreshed base image {code(name)}" if name else "Rebuild on a refreshed base image"
    return f"{text} ({words})" if words else text


def _solution(finding: Finding, action: Action | None) -> str | None:
    """How to fix it, naming the action that does (gate/policy/plan.py): the upgrade that fixes
    every finding of its package, or the rebuild on a refreshed base image.

    GitLab pastes the solution into the description of an issue created from the vulnerability
    (ee/app/views/vulnerabilities/issue_description.md.erb), as Markdown: every name, version and
    command from the report is a code span there, so an npm scope (`@babel/core`) mentions no
    one and no name turns into a link or HTML. A solution longer than the schema allows (many
    long fixed versions) is not cut inside a code span, which would leave its fence open and what
    follows it Markdown again: its plain words are escaped as a whole and cut instead.

    A fix that exists without a version named (Snyk's `isUpgradable`, `Finding.fixable`) has a
    solution too: GitLab shows a vulnerability without one as having no fix."""
    if not finding.fixed_versions and finding.status is not VendorStatus.FIXED:
        return None  # not `finding.fixable`
    text = _solution_text(finding, action, _code, _what_cell)
    if len(text) <= SOLUTION_LIMIT:
        return text
    plain = _solution_text(finding, action, str, what_to_do)
    escaped = md_escape(plain, SOLUTION_LIMIT)
    # The limit cuts the text before it is escaped, and escaping makes a character at most three.
    return escaped if len(escaped) <= SOLUTION_LIMIT else md_escape(plain, SOLUTION_LIMIT // 3)


_what_cell = functools.partial(what_cell, in_table=False)
"""`what_cell` outside a table, made once: `_solution` runs per finding."""


def _solution_text(
    finding: Finding, action: Action | None, code: Callable[[str], str], what: Callable[[Action], str]
) -> str:
    """The solution's words, with `code` applied to each name, version and command from the
    report and `what` saying the upgrade an action is."""
    if action is None or (action.kind is ActionKind.PACKAGE_UPGRADE and action.target_version is None):
        own = _own_upgrade(finding, code)
        return own[:1].upper() + own[1:]
    if action.kind is ActionKind.BASE_REFRESH:
        # With `--check-base` the action is what a rebuild removes, no estimate: nothing to add.
        estimate = estimate_words(action)
        own = _own_upgrade(finding, code)
        text = f"{_rebuild_words(action, code)}{f' ({estimate})' if estimate else ''}; to patch the image instead, {own}"
    else:
        # An upgrade to a known version names the action's versions, not the finding's: the
        # finding's own upgrade is not made (it was, and thrown away, for most findings).
        text = f"{what(action)}, which fixes every finding of the package"
    command = f": {code(action.command)}" if action.command else ""
    return f"{text}{command} (action {code(action.id)})"


def _own_upgrade(finding: Finding, code: Callable[[str], str]) -> str:
    """`upgrade `curl` to `7.88.1-10+deb12u5``: the finding's own fix, `code` applied to each
    name and version."""
    versions = " or ".join(code(v) for v in finding.fixed_versions) or NO_VERSION_NAMED
    return f"upgrade {code(finding.package.name)} to {versions}"


def _text(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "type": "text", "value": value}


class _Shared:
    """The parts of a vulnerability that many findings share, each made once per report.

    A report of 100k findings holds a few distinct layers, rules and CVSS vectors and about one
    distinct id list for every five findings; each part is a pure function of the fields it is
    keyed by, so a part made before is the one it would make again. Equal parts are the same
    objects in several vulnerabilities, which only the encoder reads.
    """

    def __init__(self, evaluation: Evaluation) -> None:
        image = evaluation.report.image
        self.base = image.base_image if image else None
        self.decisions: dict[tuple[str, int, int], tuple[object, dict[str, Any]]] = {}
        self.layers: dict[int, tuple[Layer, dict[str, Any]]] = {}
        self.identifiers: dict[tuple[tuple[str, ...], str | None], list[dict[str, Any]]] = {}
        self.vectors: dict[tuple[str | None, str | None], list[dict[str, str]]] = {}
        self.fixes: dict[tuple[tuple[str, ...], int], dict[str, Any]] = {}
        self.scores: dict[tuple[float, str | None], dict[str, Any]] = {}
        self.scanners: dict[tuple[str, ...], dict[str, Any]] = {}
        self.names: dict[tuple[str | None, str], str] = {}
        self.package_types: dict[str, dict[str, Any]] = {}
        self.links: dict[str, list[dict[str, str]]] = {}

    def policy_decision(self, decision: Decision) -> dict[str, Any]:
        # Keyed by identity: a rule is one object for all the findings it decided (hashing it
        # and the disposition, enums hashed in Python, cost more than the text), and the rule is
        # kept with the item, so its identity is not taken by another object.
        key = (decision.reason, id(decision.rule), id(decision.disposition))
        cached = self.decisions.get(key)
        if cached is not None and cached[0] is decision.rule:
            return cached[1]
        text = f"{decision.disposition.value}: {decision.reason} ({decision.rule})"
        item = _text("Policy decision", _plain(text))
        self.decisions[key] = (decision.rule, item)
        return item

    def layer_items(self, layer: Layer) -> dict[str, Any]:
        # Keyed by identity: the findings of one layer share its object (a dataclass's hash is
        # a call in Python), and the layer is kept with its items, so its identity is not taken
        # by another object. Equal layers of two objects make equal items twice.
        cached = self.layers.get(id(layer))
        if cached is None or cached[0] is not layer:
            cached = self.layers[id(layer)] = (layer, _layer_items(layer, self.base))
        return cached[1]

    def name(self, finding: Finding) -> str:
        key = (finding.title, finding.vulnerability_id)
        name = self.names.get(key)
        if name is None:
            name = _plain(finding.title, NAME_LIMIT) or _plain(finding.vulnerability_id, NAME_LIMIT)
            self.names[key] = name
        return name

    def links_of(self, url: str | None) -> list[dict[str, str]] | None:
        if not url:
            return None
        links = self.links.get(url)
        if links is None:
            safe = safe_url(url)
            links = self.links[url] = [{"url": safe}] if safe else []
        return links

    def cvss_score(self, cvss: Cvss) -> dict[str, Any]:
        score = cvss.score
        if not score or type(score) is not float:
            return _cvss_score(cvss)  # 0.0 and -0.0, 1 and 1.0: one key, two texts
        key = (score, cvss.source)
        item = self.scores.get(key)
        if item is None:
            item = self.scores[key] = _cvss_score(cvss)
        return item

    def identifiers_of(self, finding: Finding) -> list[dict[str, Any]]:
        key = (finding.ids, finding.primary_url)
        out = self.identifiers.get(key)
        if out is None:
            out = self.identifiers[key] = identifiers(finding)
        return out

    def cvss_vectors_of(self, finding: Finding) -> list[dict[str, str]]:
        cvss = finding.cvss
        if cvss is None:
            return []
        key = (cvss.vector, cvss.source)
        out = self.vectors.get(key)
        if out is None:
            out = self.vectors[key] = cvss_vectors(finding)
        return out


def _layer_items(layer: Layer, base: str | None) -> dict[str, Any]:
    items: dict[str, Any] = {}
    if layer.origin is not None:
        origin = "base image" if layer.origin is LayerOrigin.BASE else "own layer"
        if layer.origin is LayerOrigin.BASE and base:
            origin += f" ({_plain(base)})"
        items["layer_origin"] = _text("Layer origin", origin)
    if layer.created_by:
        items["layer_created_by"] = {
            "name": "Layer created by",
            "type": "code",
            "value": _plain(layer.created_by, 2000),
        }
    if layer.dockerfile_line is not None:
        items["dockerfile_line"] = {
            "name": "Dockerfile line",
            "type": "value",
            "value": layer.dockerfile_line,
        }
    if layer.diff_id:
        items["layer_diff_id"] = _text("Layer diff ID", _plain(layer.diff_id))
    return items


def _details(decision: Decision, shared: _Shared) -> dict[str, Any]:
    f = decision.finding
    pkg = f.package
    # The parts are made once per distinct value (`_Shared`): a report's findings of one
    # vulnerability share their fixed versions and vendor status.
    items: dict[str, Any] = {"policy_decision": shared.policy_decision(decision)}
    # A vendor status is an enum member, which lives as long as the process: its identity is
    # its key (an enum's hash is a call in Python).
    fix = shared.fixes.get((f.fixed_versions, id(f.status)))
    if fix is None:
        fix = shared.fixes[(f.fixed_versions, id(f.status))] = _fix_items(f)
    items.update(fix)
    # Most packages have findings of one vulnerability or a few: their path and purl are made for each.
    if pkg.path:
        items["package_path"] = _text("Path in the image", _plain(pkg.path))
    if pkg.type:
        # A report has a few package types (`debian`, `npm`): each item made once.
        package_type = shared.package_types.get(pkg.type)
        if package_type is None:
            package_type = shared.package_types[pkg.type] = _text("Package type", _plain(pkg.type))
        items["package_type"] = package_type
    if pkg.purl:
        items["purl"] = _text("Package URL", _plain(pkg.purl))
    if f.cvss is not None:
        items["cvss_score"] = shared.cvss_score(f.cvss)
    if f.layer is not None:
        items.update(shared.layer_items(f.layer))
    if f.scanners:
        found_by = shared.scanners.get(f.scanners)
        if found_by is None:
            found_by = shared.scanners[f.scanners] = _text("Found by", _plain(", ".join(f.scanners)))
        items["scanners"] = found_by
    return items


def _fix_items(f: Finding) -> dict[str, Any]:
    items: dict[str, Any] = {}
    if f.fixed_versions:
        items["fixed_versions"] = _text("Fixed versions", _plain(", ".join(f.fixed_versions)))
    items["vendor_status"] = _text("Vendor status", f.status.value)
    return items


def _cvss_score(cvss: Cvss) -> dict[str, Any]:
    source = f" ({_plain(cvss.source)})" if cvss.source else ""
    return {"name": f"CVSS score{source}", "type": "value", "value": cvss.score}


def _location(
    finding: Finding, image: str, operating_system: str, default_branch: str | None, name: str | None
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "dependency": {
            "package": {"name": name or storable(finding.package.name)},
            "version": storable(finding.package.version),
        },
        "operating_system": operating_system,
        "image": image,
    }
    if default_branch:
        location["default_branch_image"] = default_branch
    return location


def _vulnerability(
    decision: Decision, vuln_id: str, action: Action | None, location: dict[str, Any], shared: _Shared
) -> dict[str, Any]:
    f = decision.finding
    vuln: dict[str, Any] = {"id": vuln_id, "name": shared.name(f), "severity": SEVERITIES[f.severity]}
    if f.description:
        vuln["description"] = _markdown(f.description, DESCRIPTION_LIMIT)
    if decision.kev is not None:
        note = kev_note(decision)
        # The KEV note first: it is the one sentence that must survive the length limit. It is the
        # gate's own words and dates the catalog reader parsed: nothing in it to escape.
        rest = vuln.get("description")
        vuln["description"] = shorten(f"**{note}**" + (f"\n\n{rest}" if rest else ""), DESCRIPTION_LIMIT)
    solution = _solution(f, action)
    if solution:
        vuln["solution"] = solution
    vuln["identifiers"] = shared.identifiers_of(f)
    if f.cvss is not None:
        vectors = shared.cvss_vectors_of(f)
        if vectors:
            vuln["cvss_vectors"] = vectors
    links = shared.links_of(f.primary_url)
    if links:
        vuln["links"] = links
    vuln["location"] = location
    vuln["details"] = _details(decision, shared)
    return vuln


def _image_and_notes(
    evaluation: Evaluation, options: GitLabReportOptions
) -> tuple[str, str, str | None, list[dict[str, str]]]:
    notes: list[dict[str, str]] = []
    info = evaluation.report.image
    image = next(
        (ref for ref in (info.reference if info else None, options.image) if ref and ref.strip()), ""
    )
    image = storable(image)
    if not image.strip():
        image = UNKNOWN_IMAGE
        notes.append(
            {
                "level": "warn",
                "value": f"no image reference is known: location.image is {UNKNOWN_IMAGE!r}; "
                "pass --image-name so GitLab can track these vulnerabilities",
            }
        )
    operating_system = (info.distro if info else None) or UNKNOWN_OS
    default_branch = options.default_branch_image
    if default_branch and (
        len(default_branch) > DEFAULT_BRANCH_IMAGE_LIMIT or not _DEFAULT_BRANCH_IMAGE.match(default_branch)
    ):
        notes.append(
            {
                "level": "warn",
                "value": f"default branch image {_plain(default_branch, 300)!r} ignored: expected "
                "NAME:TAG of at most 255 characters",
            }
        )
        default_branch = None
    return image, _plain(operating_system) or UNKNOWN_OS, default_branch, notes


def vulnerability_ids(evaluation: Evaluation) -> dict[FindingKey, str]:
    """The `id` of every finding the report lists (blocking and informational), by finding.

    Made once for the vulnerabilities and the patches that fix them (`remediations`), so a patch
    names the vulnerabilities its action clears even where another finding of the report shares
    their vulnerability, package name and path (two ecosystems, two installed versions).
    """
    ids: dict[FindingKey, str] = {}
    seen: set[str] = set()
    for decision in _listed(evaluation):
        f = decision.finding
        vuln_id = vulnerability_uuid(f)
        if vuln_id in seen:
            # Two installed versions of one package at one path (two reports merged): the
            # version tells them apart, for the later ones only, so the first keeps its id.
            vuln_id = vulnerability_uuid(f, f.package.version)
        seen.add(vuln_id)
        ids[f.key] = vuln_id
    return ids


def tracked_names(evaluation: Evaluation) -> dict[FindingKey, str]:
    """The package name of each listed finding that GitLab would otherwise merge into an earlier one
    (same vulnerability, same package name: see the module docstring), by finding; the others,
    nearly all, keep their own name and are not in it."""
    taken: set[tuple[str, str]] = set()
    names: dict[FindingKey, str] = {}
    for decision in _listed(evaluation):
        f = decision.finding
        pkg = f.package
        name = storable(pkg.name)
        if (f.vulnerability_id, name) in taken:
            where = f" ({storable(pkg.path)})" if pkg.path else ""
            version = f" {storable(pkg.version)}" if pkg.version else ""
            for candidate in (f"{name}{where}", f"{name}{version}{where}"):
                if (f.vulnerability_id, candidate) not in taken:
                    name = names[f.key] = candidate
                    break
        taken.add((f.vulnerability_id, name))
    return names


def _vulnerabilities(
    evaluation: Evaluation,
    ids: dict[FindingKey, str],
    image: str,
    operating_system: str,
    default_branch: str | None,
) -> Iterator[dict[str, Any]]:
    """One `vulnerabilities` entry per blocking or informational finding, in report order."""
    shared = _Shared(evaluation)
    names = tracked_names(evaluation)
    # `evaluation.plan.action_of`, with the finding's key made once for the three lookups.
    action_ids = evaluation.plan.action_ids
    by_id = evaluation.plan.by_id
    for decision in _listed(evaluation):
        f = decision.finding
        key = f.key
        action_id = action_ids.get(key)
        action = by_id.get(action_id) if action_id is not None else None
        location = _location(f, image, operating_system, default_branch, names.get(key))
        yield _vulnerability(decision, ids[key], action, location, shared)


def gitlab_chunks(evaluation: Evaluation, options: GitLabReportOptions) -> Iterator[bytes]:
    """The container-scanning report as UTF-8 JSON text, a vulnerability at a time: the file is
    written as it is made, never held whole (gate/render/_json_text.py)."""
    image, operating_system, default_branch, notes = _image_and_notes(evaluation, options)
    ids = vulnerability_ids(evaluation)
    skeleton = Skeleton()
    doc = {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": analyzer_section(options.analyzer_version, options.analyzer_url),
            "scanner": scanner_section(evaluation.report.scanners),
            "type": "container_scanning",
            "start_time": gitlab_time(options.start_time),
            "end_time": gitlab_time(options.end_time),
            "status": "success",
            "messages": scan_messages(evaluation, notes, options.json_hint),
        },
        "vulnerabilities": skeleton.slot(),
        "remediations": skeleton.slot(),
    }
    made = _vulnerabilities(evaluation, ids, image, operating_system, default_branch)
    # A vulnerability's only float is its CVSS score (`_details`): when every listed finding's
    # is one orjson writes as `json` does, their text is not searched for others.
    checked = all(
        plain_float(d.finding.cvss.score) for d in _listed(evaluation) if d.finding.cvss is not None
    )
    vulnerabilities: Iterable[dict[str, Any]] | FloatsChecked = FloatsChecked(made) if checked else made
    yield from skeleton.chunks(doc, vulnerabilities, remediations(evaluation, options.dockerfile, ids))


def _listed(evaluation: Evaluation) -> Iterator[Decision]:
    """The decisions the report lists as vulnerabilities: blocking and informational ones."""
    for decision in evaluation.decisions:
        if decision.disposition in (Disposition.BLOCKING, Disposition.INFORMATIONAL):
            yield decision


@dataclass(frozen=True)
class GitLabChunks:
    """The report's UTF-8 chunks, made as they are written, and what GitLab cannot track as asked."""

    evaluation: Evaluation
    options: GitLabReportOptions

    def __iter__(self) -> Iterator[bytes]:
        return gitlab_chunks(self.evaluation, self.options)

    def notice(self) -> str | None:
        """One line for the terminal when the report names no image or ignored the default branch
        image: `scan.messages` says so too, but GitLab shows those messages in few places, and a
        `CS_DEFAULT_BRANCH_IMAGE` that was set and not used must not go unnoticed in the job log."""
        notes = _image_and_notes(self.evaluation, self.options)[3]
        return "; ".join(note["value"] for note in notes) or None


def render_gitlab(evaluation: Evaluation, options: GitLabReportOptions) -> str:
    """The container-scanning report as JSON text."""
    return b"".join(gitlab_chunks(evaluation, options)).decode("utf-8")


def render_gitlab_error(message: str, exit_code: int, options: GitLabReportOptions) -> str:
    """The report when the gate could not decide: a failed scan, so GitLab shows no stale result."""
    doc = {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": analyzer_section(options.analyzer_version, options.analyzer_url),
            "scanner": scanner_section(()),
            "type": "container_scanning",
            "start_time": gitlab_time(options.start_time),
            "end_time": gitlab_time(options.end_time),
            "status": "failure",
            "messages": [
                {
                    "level": "fatal",
                    "value": f"container-gate could not decide (exit code {exit_code}): "
                    f"{_plain(message, 4000) or 'no detail'}",
                }
            ],
        },
        "vulnerabilities": [],
        "remediations": [],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
