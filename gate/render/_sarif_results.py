"""SARIF rules and results from decisions: fingerprints, levels, security severities, ranking.

The mappings are documented in gate/render/sarif.py's module docstring; the tables live here.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from gate.enrich.baseline import BaselineState, normalized_path
from gate.model import Cvss, Finding, Layer, Package, Severity
from gate.policy.actions import Action, Plan
from gate.policy.evaluation import Decision, Disposition, RuleKind
from gate.render import _sarif_text as words
from gate.render._exploit import sarif_properties
from gate.render._sarif_om import JsonValue, to_json
from gate.untrusted import safe_url

FINGERPRINT_KEY = "containerGateFinding/v1"
"""The `partialFingerprints` key; a new version whenever the value of a finding that kept its
identity would change. Taking version-like parts out of package paths left every other value as
it was and gave the ones that changed (a jar, a gemspec, a wheel's dist-info) the value they keep
from then on: the key stayed, so no alert of any other finding is seen anew."""

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
"""`security-severity` of a rule without a CVSS score, inside GitHub's bands (critical > 9.0,
high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9); UNKNOWN has no entry and gets no security severity."""

RULE_LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "note",
}
"""A rule's `defaultConfiguration.level`, from the highest severity among its findings."""

# Which result is kept first when a limit is hit: blocking, then informational (still to act
# on), then the accepted ones: allowlisted, then ignored.
_DISPOSITION_RANK = {
    Disposition.BLOCKING: 0,
    Disposition.INFORMATIONAL: 1,
    Disposition.ALLOWLISTED: 2,
    Disposition.IGNORED: 3,
}

# Scanners name one ecosystem differently (Trivy `debian`, Grype `deb`); the package URL type is
# the common word. Only packages without a path (OS packages) use it in their fingerprint.
_ECOSYSTEMS = {
    "apk": ("alpine", "wolfi", "chainguard"),
    "deb": ("debian", "ubuntu"),
    "rpm": ("redhat", "centos", "rocky", "alma", "amazon", "oracle", "fedora", "photon", "cbl-mariner",
            "azurelinux", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "suse", "sles", "slem"),
    "pypi": ("pip", "python-pkg", "pipenv", "poetry", "uv"),
    "npm": ("node-pkg", "yarn", "pnpm"),
    "gem": ("gemspec", "bundler"),
    "maven": ("jar", "java-archive", "pom", "gradle"),
    "golang": ("gomod", "gobinary", "go-module", "gomodules"),
}  # fmt: skip
_ECOSYSTEM_OF = {alias: eco for eco, aliases in _ECOSYSTEMS.items() for alias in aliases}

# A package at a path has a finding per vulnerability: each path is taken apart once.
_versionless = functools.lru_cache(maxsize=1 << 16)(normalized_path)


def _ecosystem(package: Package) -> str:
    if package.purl and package.purl.startswith("pkg:") and "/" in package.purl:
        return package.purl[4:].split("/", 1)[0].lower()
    kind = package.type.lower()
    return _ECOSYSTEM_OF.get(kind, kind)


def finding_fingerprint(finding: Finding, *, exact_path: bool = False) -> str:
    """The same vulnerability in the same package at the same place gives the same value, whatever
    the installed version, layer, image digest or time: so GitHub keeps one alert across runs and
    rebuilds. The place is the package path with its version-like parts taken out, as the
    baseline compares it (`spring-beans-5.3.15.jar` and `-5.3.16.jar`, `x-1.2.dist-info` and
    `x-1.3.dist-info` are one place: the path of a jar, a gemspec or a wheel names the version
    installed), or the ecosystem for OS packages (which have none). `exact_path` keeps the
    path as it is, for copies whose paths differ only in versions (`items`)."""
    package = finding.package
    path = package.path if exact_path or not package.path else _versionless(package.path)
    place = path or _ecosystem(package)
    material = f"{finding.vulnerability_id}\x00{package.name}\x00{place}"
    return hashlib.sha256(material.encode()).hexdigest()


def result_level(decision: Decision) -> str:
    """The result's `level`: blocking -> error; informational -> warning when it meets the blocking
    threshold or is MEDIUM or above, else note; allowlisted and ignored -> note."""
    if decision.disposition is Disposition.BLOCKING:
        return "error"
    if decision.disposition is Disposition.INFORMATIONAL:
        return "warning" if decision.tolerated or decision.finding.severity >= Severity.MEDIUM else "note"
    return "note"


def security_severity(findings: Sequence[Finding], severity: Severity) -> str | None:
    """The highest CVSS base score in (0, 10] among `findings`, else `SECURITY_SEVERITY[severity]`."""
    scores = [f.cvss.score for f in findings if f.cvss is not None and 0.0 < f.cvss.score <= 10.0]
    if scores:
        return f"{max(scores):.1f}"
    return SECURITY_SEVERITY.get(severity)


@dataclass(frozen=True)
class Item:
    """One result to be: the decision it shows, and other installed versions at the same place."""

    decision: Decision
    """The decision shown (the most important one when several versions share the place)."""
    others: tuple[Decision, ...]
    """Other installed versions of the package at the same place (rpm can hold several)."""
    order: int
    """Position in the report, for a stable output order."""
    fingerprint: str
    """`finding_fingerprint` of the finding, unique among items."""
    action: Action | None = None
    """The action that clears the finding shown, or None when no published version fixes it."""

    @property
    def rule_id(self) -> str:
        """The vulnerability id, which is the rule's id."""
        return self.decision.finding.vulnerability_id


_BASELINE_STATE = {
    BaselineState.NEW: "new",
    BaselineState.WORSE: "updated",
    BaselineState.UNCHANGED: "unchanged",
}
"""SARIF's `baselineState` of each state, newest first: `updated` is SARIF's word for a result
in the baseline that changed in a way that matters (here: worse)."""


_NEWEST_FIRST = {state: rank for rank, state in enumerate(_BASELINE_STATE)}


def baseline_state(item: Item) -> str | None:
    """The result's `baselineState` with `--baseline`, else None: `new` when any installed version
    the result shows is new, else `updated` when any got worse, else `unchanged`."""
    states = [d.baseline for d in (item.decision, *item.others) if d.baseline is not None]
    return _BASELINE_STATE[min(states, key=_NEWEST_FIRST.__getitem__)] if states else None


def _importance(decision: Decision) -> tuple[int, int]:
    return (_DISPOSITION_RANK[decision.disposition], -int(decision.finding.severity))


def items(decisions: Sequence[Decision], plan: Plan | None = None) -> list[Item]:
    """One item per fingerprint: several installed versions at one place become one result, or
    GitHub would see two results with one fingerprint. Each names the action of its finding.

    Copies of a package at paths that differ only in versions (python3.11's and python3.12's
    site-packages) are each a result of their own, fingerprinted by their exact path: one
    alert must not stand for two copies."""
    by_place: dict[str, list[Decision]] = {}
    for decision in decisions:
        by_place.setdefault(finding_fingerprint(decision.finding), []).append(decision)
    groups: dict[str, list[Decision]] = {}
    for fingerprint, found in by_place.items():
        if len({d.finding.package.path for d in found}) == 1:  # the usual case: one path
            groups[fingerprint] = found
            continue
        for decision in found:
            exact = finding_fingerprint(decision.finding, exact_path=True)
            groups.setdefault(exact, []).append(decision)
    out = []
    for order, (fingerprint, group) in enumerate(groups.items()):
        others: tuple[Decision, ...] = ()
        if len(group) == 1:  # most places hold one installed version
            shown = group[0]
        else:
            shown = min(group, key=_importance)
            others = tuple(d for d in group if d is not shown)
        action = plan.action_of(shown.finding) if plan is not None else None
        out.append(Item(shown, others, order, fingerprint, action))
    return out


def ranked(all_items: Sequence[Item]) -> list[Item]:
    """Most important first: blocking, informational, allowlisted, ignored; within each, the higher
    severity first; then report order. A limit leaves out the tail."""
    # `_importance`, written out: the key is made for every finding of the report.
    return sorted(
        all_items,
        key=lambda i: (_DISPOSITION_RANK[i.decision.disposition], -i.decision.finding.severity, i.order),
    )


def select(by_rank: Sequence[Item], count: int, max_rules: int) -> list[Item]:
    """The first `count` items of the ranking whose rules fit in `max_rules`, in report order."""
    kept: list[Item] = []
    rules: set[str] = set()
    for item in by_rank:
        if len(kept) >= count:
            break
        rule_id = item.decision.finding.vulnerability_id
        if rule_id not in rules and len(rules) >= max_rules:
            continue
        rules.add(rule_id)
        kept.append(item)
    return sorted(kept, key=lambda i: i.order)


def _tags(decisions: Sequence[Decision], severity: Severity, limit: int) -> list[str]:
    tags = ["security", "vulnerability", severity.name.lower()]
    # One rule's findings share a few package types, and a report's findings a few more.
    for package_type in dict.fromkeys(d.finding.package.type for d in decisions):
        tag = _type_tag(package_type)
        if tag:
            tags.append(tag)
    return list(dict.fromkeys(tags))[:limit]


@functools.lru_cache(maxsize=1 << 10)
def _type_tag(package_type: str) -> str:
    """The tag of a package type (`debian`, `python-pkg`), or "" when nothing of it is left."""
    kind = words.segments(package_type.replace("/", "-"))
    return kind[0][:40] if kind else ""


def _rule_name(findings: Sequence[Finding]) -> str:
    # SARIF §3.49.7: a readable name, not the id again (the Multitool warns when they are equal).
    kinds = {bool(f.package.path) for f in findings}
    if kinds == {False}:
        return "OsPackageVulnerability"
    if kinds == {True}:
        return "LanguagePackageVulnerability"
    return "PackageVulnerability"


def rule(
    vuln_id: str, decisions: Sequence[Decision], max_tags: int, own_server: str | None = None
) -> dict[str, JsonValue]:
    """The `reportingDescriptor` of one vulnerability, from the decisions of its results
    (`own_server` as `help_texts` takes it).

    JSON values as `to_json` writes sarif-om's `ReportingDescriptor` (its members in the class's
    order, members without a value left out), made without the objects and their walk.
    tests/render/test_sarif_om.py compares the two."""
    findings = [d.finding for d in decisions]
    # The first finding with a title speaks for the rule.
    first = next((f for f in findings if f.title), findings[0])
    described = next((f for f in findings if f.description), first)
    severity = max(f.severity for f in findings)
    score = security_severity(findings, severity)
    ordered = sorted(decisions, key=lambda d: d.finding is not first)
    properties: dict[str, JsonValue] = {"tags": _tags(decisions, severity, max_tags)}  # type: ignore[dict-item]
    if score is not None:
        properties["security-severity"] = score
    help_text, help_markdown, full = words.help_texts(
        vuln_id, ordered, severity, score, described, own_server
    )
    out: dict[str, JsonValue] = {
        "id": vuln_id,
        "defaultConfiguration": {"level": RULE_LEVEL[severity]},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_markdown},
    }
    help_uri = safe_url(first.primary_url)
    if help_uri is not None:
        out["helpUri"] = help_uri
    out["name"] = _rule_name(findings)
    out["properties"] = properties
    out["shortDescription"] = {"text": words.short_description(first)}
    return out


def _present(members: Sequence[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    # Strings and integers only (`to_json` would keep them as they are): members without a value
    # are left out.
    return {name: value for name, value in members if value is not None}


def _cvss(cvss: Cvss) -> dict[str, JsonValue]:
    if not math.isfinite(cvss.score):
        raise ValueError(f"SARIF output cannot hold the number {cvss.score}")
    return _present((("score", cvss.score), ("vector", cvss.vector), ("source", cvss.source)))


def _layer(layer: Layer) -> dict[str, JsonValue]:
    return _present(
        (
            ("index", layer.index),
            ("diffId", layer.diff_id),
            ("origin", layer.origin.value if layer.origin else None),
            ("createdBy", layer.created_by),
            ("dockerfileLine", layer.dockerfile_line),
        )
    )


def _location(uri: str, line: int) -> JsonValue:
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}


class Results:
    """The results of one run (`result`), with the parts many of them share made once: a report's
    findings share a few layers, CVSS blocks, policy rules and reasons (the corpus report of 10k
    findings: 23, 21, 294 and 298), and an action often clears several of them. The shared JSON
    values are written, never changed."""

    def __init__(self, uri: str, dockerfile_uri: str, image: str | None) -> None:
        self.uri = uri
        self.dockerfile_uri = dockerfile_uri
        self.image = image
        self.unplaced = _location(uri, 1)
        # Keyed by identity, the object kept with what is made of it so its identity is not
        # reused: hashing these frozen dataclasses runs in Python.
        self.layers: dict[int, tuple[Layer, JsonValue, str, JsonValue]] = {}
        self.rules: dict[int, tuple[object, str]] = {}
        self.actions: dict[int, tuple[Action, str]] = {}
        self.cvss: dict[tuple[type, float, str | None, str | None], JsonValue] = {}
        self.suppressions: dict[str, JsonValue] = {}

    def _layer(self, layer: Layer) -> tuple[Layer, JsonValue, str, JsonValue]:
        """The layer's properties, its words in the message and its result's location."""
        cached = self.layers.get(id(layer))
        if cached is None or cached[0] is not layer:
            line = layer.dockerfile_line
            location = _location(self.dockerfile_uri, line) if line else self.unplaced
            cached = self.layers[id(layer)] = (layer, _layer(layer), words.layer_words_of(layer), location)
        return cached

    def _rule(self, rule: object) -> str:
        cached = self.rules.get(id(rule))
        if cached is None or cached[0] is not rule:
            cached = self.rules[id(rule)] = (rule, str(rule))
        return cached[1]

    def _action(self, action: Action | None) -> str:
        if action is None:
            return words.action_words(None)
        cached = self.actions.get(id(action))
        if cached is None or cached[0] is not action:
            cached = self.actions[id(action)] = (action, words.action_words(action))
        return cached[1]

    def _cvss(self, cvss: Cvss) -> JsonValue:
        # The score's type is in the key, as 7 and 7.0 are one key and two texts; so are 0.0 and
        # -0.0, which are not kept.
        key = (type(cvss.score), cvss.score, cvss.vector, cvss.source)
        value = self.cvss.get(key)
        if value is None:
            value = _cvss(cvss)
            if cvss.score:
                self.cvss[key] = value
        return value

    def _suppressions(self, reason: str) -> JsonValue:
        value = self.suppressions.get(reason)
        if value is None:
            # `Suppression`'s members in its order: kind, justification, status.
            value = self.suppressions[reason] = [
                {"kind": "external", "justification": words.plain(reason), "status": "accepted"}
            ]
        return value

    def properties(self, item: Item, layer: JsonValue | None) -> dict[str, JsonValue]:
        """The `properties` of one item's result: the package, the decision and what decided it
        (`layer`: its finding's layer as `_layer` writes it).

        JSON values as `to_json` writes the bag (members without a value left out), made without the
        walk: a run holds up to 25,000 results. tests/render/test_sarif_om.py compares the two.
        """
        decision = item.decision
        f = decision.finding
        package = f.package
        properties: dict[str, JsonValue] = {"package": package.name}
        if package.type:
            properties["packageType"] = package.type
        if package.path:
            properties["packagePath"] = package.path
        if package.purl is not None:
            properties["purl"] = package.purl
        properties["installedVersion"] = package.version
        properties["fixedVersions"] = list(f.fixed_versions)
        properties["severity"] = words.SEVERITY_NAME[f.severity]
        # `_value_`, the member's value: `value` is a property that runs in Python.
        properties["vendorStatus"] = f.status._value_
        properties["disposition"] = decision.disposition._value_
        properties["policyRule"] = self._rule(decision.rule)
        if f.cvss:
            properties["cvss"] = self._cvss(f.cvss)
        if layer is not None:
            properties["layer"] = layer
        if self.image is not None:
            properties["image"] = self.image
        properties["scanners"] = list(f.scanners)
        if item.others:
            properties["otherInstalledVersions"] = [o.finding.package.version for o in item.others]
        if item.action is not None:
            properties["action"] = item.action.id
        # Only when there is something to say: a run without exploit data uploads what it did before.
        for key, value in sarif_properties(decision).items():
            if value is not None:
                properties[key] = to_json(value)
        return properties

    def result(self, item: Item, rule_index: int) -> JsonValue:
        """`result` of the item, with the run's locations and image."""
        decision = item.decision
        f = decision.finding
        if f.layer is not None:
            _, layer, layer_words, location = self._layer(f.layer)
        else:
            layer, layer_words, location = None, "", self.unplaced
        # GitHub matches alerts across uploads by `primaryLocationLineHash` alone. Left out, the
        # upload action would hash the source line (the Dockerfile's FROM or RUN line): every
        # package with the same CVE on one line would collapse into one alert, and editing the line
        # would reopen it. So it carries our own fingerprint, which follows the finding, not the line.
        fingerprints: dict[str, JsonValue] = {
            FINGERPRINT_KEY: item.fingerprint,
            "primaryLocationLineHash": item.fingerprint,
        }
        out: dict[str, JsonValue] = {
            "message": {"text": words.message(decision, item.others, self._action(item.action), layer_words)}
        }
        if decision.baseline is not None:
            out["baselineState"] = baseline_state(item)
        out["kind"] = "fail"
        out["level"] = result_level(decision)
        out["locations"] = [location]
        out["partialFingerprints"] = fingerprints
        out["properties"] = self.properties(item, layer)
        out["ruleId"] = f.vulnerability_id
        if rule_index != -1:  # sarif-om's default, which `to_json` leaves out
            out["ruleIndex"] = rule_index
        # SARIF 2.1.0 §3.27.23: an empty array says the result is not suppressed, an absent one
        # that nobody knows. The gate decided it for every finding, so every result says it.
        if decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED):
            out["suppressions"] = self._suppressions(_justification(decision))
        else:
            out["suppressions"] = []
        return out


def _justification(decision: Decision) -> str:
    """Why a suppressed result is suppressed: its reason, and for a finding VEX let through the
    statement that did it (`vex:<file>#<index>`, each when several cleared it together), as an
    allowlist entry's reason names the entry."""
    if decision.rule.kind is not RuleKind.VEX or decision.vex is None:
        return decision.reason
    return f"{decision.reason} ({', '.join(s.rule for s in decision.vex.statements)})"


def result(item: Item, rule_index: int, uri: str, dockerfile_uri: str, image: str | None) -> JsonValue:
    """The `result` of one item as JSON values, placed on `dockerfile_uri` at the layer's
    Dockerfile line when that is known, else on `uri` at line 1 (both repository-relative URIs).
    A run's results are made by one `Results`, which makes the parts they share once.

    Written as `to_json` writes sarif-om's `Result` (its members in the class's order, the
    defaults left out), without the objects: a run holds up to 25,000 results, and making and
    walking their objects took a fifth of the SARIF output's time. tests/render/test_sarif_om.py
    compares the two.
    """
    return Results(uri, dockerfile_uri, image).result(item, rule_index)
