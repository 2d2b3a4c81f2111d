"""The remediation plan: an evaluation's findings grouped into the few actions that clear them.

`plan(evaluation)` reads nothing but its argument (no file, clock or environment), like
`evaluate`, which calls it once so that every `Evaluation` carries its `Plan`. How findings group
(the types are in `gate.policy.actions`):

1. A finding without a fix (not `Finding.fixable`), or whose every listed fixed version is the
   installed one or older (upgrading to it clears nothing), goes to the "no fix available yet"
   group, never an action.
2. A finding in the base image's layers goes to the one base-refresh action: that is how a team
   fixes them, by rebuilding on a refreshed base image. Inside it, the same grouping as below
   makes its `steps`, for teams that patch in their own Dockerfile.
3. Any other finding goes to the upgrade of its package: an OS package by its source package
   (`libc6` and `libc-bin` are both `glibc`; distributions publish fixes per source package), a
   library by its type, name and path (two copies of `lodash` are two actions). A library an
   application pulls in through one direct dependency whose upgrade the scanner names as its fix
   on every path (Snyk's `upgradePath`: `express@3.0.0` for `qs`) goes to the upgrade of that
   direct dependency instead: that is what a developer changes in the manifest. Its target is the
   highest of those upgrades (and of the direct dependency's own fixes), and the packages it
   brings fixed versions of are the action's `fixes`.

The target of an upgrade is the highest, over its findings, of the lowest fixed version newer than
the installed one (the source package's version when the scanner gave it), each compared in its
ecosystem's own ordering, moved up while a finding with fixes on several branches is still
vulnerable on the target's branch (`gate.versions.upgrade_target`): the one version that fixes
every finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import NamedTuple

from gate.model import Finding, ImageInfo, LayerOrigin, Severity
from gate.policy.actions import BASE_REFRESH_ID, Action, ActionKind, FindingKey, NoFix, PackageFix, Plan, Step
from gate.policy.base_status import rebuild_removes
from gate.policy.evaluation import Decision, Disposition, Evaluation
from gate.policy.exploit_rank import rank_known_exploited
from gate.versions import Ecosystem, compare, ecosystem_of, no_newer_fix, upgrade_target

_OS_ECOSYSTEMS = frozenset({Ecosystem.DEB, Ecosystem.RPM, Ecosystem.APK, Ecosystem.ALPM, Ecosystem.EBUILD})
# Package types whose installer is certain: npm's `node_modules`, pip's `site-packages`.
_NPM_TYPES = frozenset({"node-pkg", "npm"})
_PIP_TYPES = frozenset({"python-pkg", "pip", "python"})
# What a command may contain of report text: the names and versions these ecosystems allow (Debian
# policy 5.6.1 and 5.6.12, apk, PEP 508, npm's package name rules), nothing a shell reads as more
# than one word.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
_NPM_NAME = re.compile(r"(?:@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*\Z")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~:-]*\Z")
_ARCHIVES = ("docker-archive:", "oci-archive:")
# The OCI annotation gate/image/resolve.py also reads (not imported: the image stage loads the
# Docker SDK, which `check` never needs).
_BASE_NAME_LABEL = "org.opencontainers.image.base.name"

_NAMES = {ecosystem: ecosystem.value for ecosystem in Ecosystem}
"""Each ecosystem's name, without the enum's `value` property, per finding."""

GroupKey = tuple[str, str, str, LayerOrigin | None]
"""(ecosystem, package, path, origin): the findings one upgrade clears."""


def plan(evaluation: Evaluation) -> Plan:
    """The actions that clear the findings of `evaluation`. Pure."""
    base = evaluation.base_image
    return plan_decisions(
        evaluation.decisions, evaluation.report.image, rebuild_removes(base.check if base else None)
    )


@dataclass
class _Group:
    """The findings of one upgrade, gathered in the report's order."""

    ecosystem: str
    package: str
    path: str
    origin: LayerOrigin | None
    decisions: list[tuple[int, Decision]] = field(default_factory=list)


def plan_decisions(
    decisions: Sequence[Decision],
    image: ImageInfo | None,
    rebuild: frozenset[FindingKey] | None = None,
) -> Plan:
    """`plan` of decisions made about the findings of `image` (None when the report names none).

    `rebuild` is what the base image check found a rebuild on the base's current tag removes
    (`scan --check-base`): the base-refresh action is then exactly those findings (a package the
    newer base no longer installs takes its findings along, fixed version or not), and a finding
    of the base image's layers that the newer base still has is an upgrade of its package in the
    image's own build. Without it, the base-refresh action is every fixable finding of the base
    image's layers: an estimate.
    """
    upgrades: dict[GroupKey, _Group] = {}
    in_base: dict[GroupKey, _Group] = {}
    no_fix: list[Decision] = []
    base_findings = 0
    for index, decision in enumerate(decisions):
        finding = decision.finding
        origin = finding.layer.origin if finding.layer is not None else None
        base_findings += origin is LayerOrigin.BASE
        refreshed = origin is LayerOrigin.BASE and (rebuild is None or finding.key in rebuild)
        key = _group_key(finding, origin)
        if not (refreshed and rebuild is not None) and not _usable_fix(finding, key[0]):
            no_fix.append(decision)
            continue
        groups = in_base if refreshed else upgrades
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(*key)
        group.decisions.append((index, decision))

    actions = [_upgrade(group) for group in upgrades.values()]
    if in_base:
        steps = sorted((_step(group) for group in in_base.values()), key=_step_order)
        actions.append(_base_refresh(list(in_base.values()), steps, image, base_findings, rebuild is None))
    actions = _unique_ids(rank_known_exploited(sorted(actions, key=_order), decisions))
    ids = {key: action.id for action in actions for key in action.findings}
    unfixed = _tally(no_fix)
    return Plan(
        actions=tuple(actions),
        no_fix=NoFix(
            findings=tuple(d.finding.key for d in no_fix),
            blocking=unfixed.blocking,
            would_block=unfixed.would_block,
            counts_by_severity=unfixed.by_severity,
        ),
        action_ids=MappingProxyType(ids),
    )


def _group_key(finding: Finding, origin: LayerOrigin | None) -> GroupKey:
    package = finding.package
    ecosystem = ecosystem_of(package)
    name = _NAMES[ecosystem] if ecosystem is not Ecosystem.GENERIC else (package.type or "generic")
    direct = _direct(finding)
    if direct is not None:
        return (name, direct, package.path, origin)
    if ecosystem in _OS_ECOSYSTEMS or (not package.path and package.source_name):
        return (name, package.source_name or package.name, "", origin)
    return (name, package.name, package.path, origin)


def _direct(finding: Finding) -> str | None:
    """The direct dependency whose upgrade fixes `finding`, a package an application pulls in
    through it (`Finding.direct_upgrades`); None when none is named, or several are (paths through
    two direct dependencies: no one upgrade clears it, so the package's own upgrade does)."""
    upgrades = finding.direct_upgrades
    if not upgrades:
        return None
    name = upgrades[0].name
    return name if all(upgrade.name == name for upgrade in upgrades) else None


def _via(finding: Finding, package: str) -> bool:
    """Whether `finding` is in a group of `package` as a package pulled in through it."""
    return bool(finding.direct_upgrades) and finding.package.name != package and _direct(finding) == package


def _fixes_of(finding: Finding, package: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The installed version and fixed versions an upgrade of `package` compares for `finding`:
    for a package pulled in through it, the direct dependency's version and target once per
    dependency path, since each path is fixed only by its own upgrade and the target must reach
    the highest (not a choice among them, as a finding's fixed versions are); else the finding's
    own."""
    if _via(finding, package):
        return tuple(
            dict.fromkeys((upgrade.version, (upgrade.target,)) for upgrade in finding.direct_upgrades)
        )
    return ((_installed(finding), finding.fixed_versions),)


def _usable_fix(finding: Finding, ecosystem: str) -> bool:
    """Whether upgrading can clear `finding`: it is `Finding.fixable`, and its listed fixes are not
    all known to be the installed version or older (`gate.versions.no_newer_fix`): a fix at or
    below what is installed (a fix of an older branch, a scanner's data behind a backport) clears
    nothing. A package pulled in through a direct dependency whose upgrade the scanner names is
    cleared by that upgrade."""
    if _direct(finding) is not None:
        return True
    return finding.fixable and not no_newer_fix(ecosystem, _installed(finding), finding.fixed_versions)


def has_usable_fix(finding: Finding) -> bool:
    """Whether upgrading can clear `finding` (`_usable_fix` in its ecosystem): what
    `fail_on.fixable_only` asks, so that the policy calls fixable exactly the findings the plan
    and `explain` give an upgrade, never one whose listed fix is no newer than what is installed."""
    return _usable_fix(finding, _group_key(finding, None)[0])


def _installed(finding: Finding) -> str:
    """The version fixed versions compare against: an OS package's source version when known."""
    return finding.package.source_version or finding.package.version


def location(path: str) -> str:
    """Where a library is installed, without the manifest file that describes it: the package's
    directory for `.../node_modules/lodash/package.json`, the installation directory for a Python
    distribution's or a gem's metadata (whose name holds the version); any other path as it is."""
    head, _, last = path.rpartition("/")
    if not head:
        return path
    if last == "package.json" or last.endswith((".dist-info", ".egg-info", ".gemspec")):
        return head
    parent, _, directory = head.rpartition("/")
    if parent and directory.endswith((".dist-info", ".egg-info")):
        return parent
    return path


class _Facts(NamedTuple):
    """What a step and an action share, worked out once per group. (A named tuple, not a frozen
    dataclass: made and read once per group, never kept, and made faster.)"""

    packages: tuple[str, ...]
    installed: str
    target: str | None
    findings: tuple[FindingKey, ...]
    command: str | None
    fixes: tuple[PackageFix, ...] = ()
    no_direct_upgrade: bool = False


def _facts(group: _Group) -> _Facts:
    eco = group.ecosystem
    if len(group.decisions) == 1 and not group.decisions[0][1].finding.direct_upgrades:
        # Most packages have one finding: its facts are made without the passes over a list.
        finding = group.decisions[0][1].finding
        package = finding.package
        installed = _installed(finding)
        target = upgrade_target(eco, ((installed, finding.fixed_versions),))
        names: tuple[str, ...] = (package.name,)
        return _Facts(
            packages=names,
            installed=installed,
            target=target,
            findings=(finding.key,),
            command=_command(eco, {package.type}, group.package, names, target, group.path),
            no_direct_upgrade=finding.no_direct_upgrade,
        )
    findings = [d.finding for _, d in group.decisions]
    fixes = [fix for f in findings for fix in _fixes_of(f, group.package)]
    installed = _oldest(eco, (version for version, _ in fixes))
    target = upgrade_target(eco, fixes)
    via = [_via(f, group.package) for f in findings]
    pulled_in = [f for f, pulled in zip(findings, via, strict=True) if pulled]
    packages = tuple(
        sorted({group.package if pulled else f.package.name for f, pulled in zip(findings, via, strict=True)})
    )
    types = {f.package.type for f in findings}
    return _Facts(
        packages=packages,
        installed=installed,
        target=target,
        findings=tuple(f.key for f in findings),
        command=_command(eco, types, group.package, packages, target, group.path),
        fixes=_package_fixes(eco, pulled_in),
        no_direct_upgrade=all(f.no_direct_upgrade for f in findings),
    )


def _package_fixes(eco: str, pulled_in: list[Finding]) -> tuple[PackageFix, ...]:
    """The packages a direct dependency's upgrade brings fixed versions of, by name and version."""
    by_package: dict[tuple[str, str], list[Finding]] = {}
    for finding in pulled_in:
        by_package.setdefault((finding.package.name, finding.package.version), []).append(finding)
    return tuple(
        PackageFix(
            package=name,
            installed_version=version,
            target_version=upgrade_target(eco, ((version, f.fixed_versions) for f in found)),
        )
        for (name, version), found in sorted(by_package.items())
    )


def _step(group: _Group) -> Step:
    facts = _facts(group)
    return Step(
        package=group.package,
        packages=facts.packages,
        ecosystem=group.ecosystem,
        installed_version=facts.installed,
        target_version=facts.target,
        findings=facts.findings,
        blocking=_tally(d for _, d in group.decisions).blocking,
        command=facts.command,
    )


def _upgrade(group: _Group) -> Action:
    facts = _facts(group)
    decisions = group.decisions
    tally = _tally_one(decisions[0][1]) if len(decisions) == 1 else _tally(d for _, d in decisions)
    where = location(group.path) if group.path else ""
    action_id = f"{group.ecosystem}:{group.package}" + (f"@{where}" if group.path else "")
    return Action(
        id=action_id,
        kind=ActionKind.PACKAGE_UPGRADE,
        package=group.package,
        packages=facts.packages,
        origin=group.origin,
        ecosystem=group.ecosystem,
        path=where,
        installed_version=facts.installed,
        target_version=facts.target,
        dockerfile_line=tally.first_line,
        findings=facts.findings,
        blocking=tally.blocking,
        would_block=tally.would_block,
        counts_by_severity=tally.by_severity,
        blocking_by_severity=tally.would_by_severity,
        command=facts.command,
        fixes=facts.fixes,
        no_direct_upgrade=facts.no_direct_upgrade,
    )


def _base_refresh(
    groups: list[_Group], steps: list[Step], image: ImageInfo | None, base_findings: int, estimated: bool
) -> Action:
    decisions = [d for _, d in sorted(item for group in groups for item in group.decisions)]
    tally = _tally(decisions)
    return Action(
        id=BASE_REFRESH_ID,
        kind=ActionKind.BASE_REFRESH,
        package=base_image_name(image) or "",
        packages=tuple(sorted({name for step in steps for name in step.packages})),
        origin=LayerOrigin.BASE,
        ecosystem=None,
        path="",
        installed_version=None,
        target_version=None,
        dockerfile_line=tally.first_line,
        findings=tuple(d.finding.key for d in decisions),
        blocking=tally.blocking,
        would_block=tally.would_block,
        counts_by_severity=tally.by_severity,
        blocking_by_severity=tally.would_by_severity,
        command=None,
        steps=tuple(steps),
        estimated=estimated,
        base_findings=base_findings,
    )


class _Tally(NamedTuple):
    """What a group's findings add up to, counted in one pass. (A named tuple, as `_Facts`.)"""

    blocking: int
    would_block: int
    by_severity: Mapping[Severity, int]
    would_by_severity: Mapping[Severity, int]
    first_line: int | None


def _tally(decisions: Iterable[Decision]) -> _Tally:
    blocking = would_block = 0
    every, would = [0] * len(Severity), [0] * len(Severity)
    first_line: int | None = None
    for d in decisions:
        severity = d.finding.severity
        every[severity] += 1
        blocking += d.disposition is Disposition.BLOCKING
        if d.blocks_when_enforced:
            would_block += 1
            would[severity] += 1
        layer = d.finding.layer
        line = layer.dockerfile_line if layer is not None else None
        if line is not None and (first_line is None or line < first_line):
            first_line = line
    return _Tally(blocking, would_block, _by_severity(every), _by_severity(would), first_line)


def _tally_one(decision: Decision) -> _Tally:
    """`_tally` of one decision, without its loop and lists."""
    finding = decision.finding
    severity = _SEVERITIES[finding.severity]  # as `_by_severity` keys it
    would = decision.blocks_when_enforced
    layer = finding.layer
    return _Tally(
        1 if decision.disposition is Disposition.BLOCKING else 0,
        1 if would else 0,
        MappingProxyType({severity: 1}),
        MappingProxyType({severity: 1} if would else {}),
        layer.dockerfile_line if layer is not None else None,
    )


def base_image_name(image: ImageInfo | None) -> str | None:
    """The base image as a person names it: the image's base-name label when the base was given
    as an archive (a path on the machine that scanned, not a name), else the base image known."""
    if image is None or image.base_image is None:
        return None
    if image.base_image.startswith(_ARCHIVES):
        label = dict(image.labels).get(_BASE_NAME_LABEL)
        if label:
            return label
    return image.base_image


def _command(
    ecosystem: str, types: set[str], package: str, packages: tuple[str, ...], target: str | None, path: str
) -> str | None:
    """The command that upgrades these packages, where it is certain; else None."""
    if target is None or not _VERSION.match(target):
        return None
    if ecosystem == Ecosystem.NPM and types <= _NPM_TYPES and _NPM_NAME.match(package):
        # Only a copy at the top of a project's `node_modules` is certain to be the project's own
        # dependency. One inside another package's (`express/node_modules/qs`, or the npm CLI's
        # own `npm/node_modules/...`), and an entry of a lockfile or manifest (`package-lock.json`,
        # Snyk's `package.json`), may be a dependency's dependency: `npm install qs@6.0.4` would
        # add a top-level qs and leave that one as it is.
        if path.split("/").count("node_modules") != 1:
            return None
        return f"npm install {package}@{target}"
    if not all(_NAME.match(name) for name in (package, *packages)):
        return None
    # A command to paste into a Dockerfile's RUN: an image's package lists are stale or absent (a
    # Debian image ships none, an Alpine image no index), so each one reads fresh ones first, as
    # the GitLab report's Dockerfile patch does (gate/render/_gitlab_remediations.py).
    if ecosystem == Ecosystem.DEB:
        return "apt-get update && apt-get install -y --only-upgrade " + " ".join(packages)
    if ecosystem == Ecosystem.APK:
        return "apk upgrade --no-cache " + " ".join(packages)
    if ecosystem == Ecosystem.PYPI and types <= _PIP_TYPES:
        return f"pip install {package}=={target}"
    return None


def _oldest(ecosystem: str, versions: Iterable[str]) -> str:
    found: str | None = None
    for version in versions:
        if found is None or compare(ecosystem, version, found) < 0:
            found = version
    return found or ""


_DOWN = tuple(reversed(Severity))
_SEVERITIES = tuple(Severity)


def _by_severity(counts: list[int]) -> Mapping[Severity, int]:
    """Counts indexed by severity, as a mapping from the highest severity down, zeros left out."""
    return MappingProxyType({severity: counts[severity] for severity in _DOWN if counts[severity]})


_HIGHEST_FIRST = tuple(sorted(Severity, reverse=True))


def _order(action: Action) -> tuple[int, int, tuple[int, ...], int, str]:
    """Most useful first: blocking findings cleared, then those that would block, then the counts
    per severity of those (of all its findings when none would block) compared from CRITICAL down,
    the number of findings, and the id so that equal actions keep one order.

    Compared severity by severity, an upgrade clearing 2 CRITICAL and 2 HIGH comes before one
    clearing 1 CRITICAL and 3 HIGH; the highest severity alone left them to the count and the id."""
    counts = action.blocking_by_severity or action.counts_by_severity
    by_severity = tuple(-counts.get(severity, 0) for severity in _HIGHEST_FIRST)
    return (-action.blocking, -action.would_block, by_severity, -len(action.findings), action.id)


def _step_order(step: Step) -> tuple[int, int, str]:
    return (-step.blocking, -len(step.findings), step.package)


def _unique_ids(actions: list[Action]) -> list[Action]:
    """Two groups can spell one id (a package of unknown origin and the same one in an own layer);
    the later in the order gets `~2`, `~3`, skipping a suffixed id another group spells already (a
    report's package names are its own): the same inputs still give the same ids."""
    spelled = {action.id for action in actions}
    if len(spelled) == len(actions):
        return actions
    given: set[str] = set()
    out = []
    for action in actions:
        if action.id in given:
            number = 2
            while f"{action.id}~{number}" in given or f"{action.id}~{number}" in spelled:
                number += 1
            action = replace(action, id=f"{action.id}~{number}")
        given.add(action.id)
        out.append(action)
    return out
