"""The remediation plan: the few actions that clear an evaluation's findings, as typed objects.

The types only; `gate.policy.plan` is the algorithm that makes them. A `Plan` is part of every
`Evaluation`, so each renderer reads the same actions in the same order and never groups findings
itself:

- `Action`: one thing a team does. Either rebuild the image on a refreshed base image (its
  findings are those of the base image's layers that have a published fix, or, once the base
  image check scanned the base's current tag, exactly those a rebuild removes; its `steps` say
  which package upgrades that brings), or upgrade one package: an OS source package (`glibc`,
  which ships `libc6` and `libc-bin`) or a library at one place (`lodash` in
  `app/node_modules/lodash`). A library an application pulls in through a direct dependency is
  upgraded by upgrading that dependency, where the scanner names the upgrade (Snyk's
  `upgradePath`: `express` for `qs`): the action is the direct dependency's, and its `fixes` name
  the packages it brings fixed versions of.
- `NoFix`: the findings no published version fixes yet. They are no action: nothing can be done
  but wait, accept them in the allowlist, or drop the package.

Every fixable finding (`Finding.fixable`: a fixed version, or a vendor status `fixed` that names
none) is in exactly one action, and every other finding is in `NoFix`. Findings are named by `Finding.key`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gate.model import Finding, LayerOrigin, Severity

FindingKey = tuple[str, str, str, str]
"""`Finding.key`: (vulnerability id, package name, installed version, package path)."""

BASE_REFRESH_ID = "base-refresh"
"""The id of the one action that rebuilds the image on a refreshed base image."""


class ActionKind(enum.Enum):
    """What kind of work an action is."""

    BASE_REFRESH = "base_refresh"
    """Rebuild the image on a refreshed base image."""
    PACKAGE_UPGRADE = "package_upgrade"
    """Upgrade one package (an OS source package, or a library at one place)."""


@dataclass(frozen=True)
class Step:
    """One package upgrade a base refresh brings: for teams that patch in their own Dockerfile."""

    package: str
    """The source package of OS packages (`glibc`), else the library's name."""
    packages: tuple[str, ...]
    """The installed packages it upgrades (`libc-bin`, `libc6`), sorted; a library's own name."""
    ecosystem: str
    """Whose version ordering applies: the package URL type (`deb`, `rpm`, `apk`, `npm`, `pypi`, ...)."""
    installed_version: str
    """The oldest installed version among its findings (the source package's version when known)."""
    target_version: str | None
    """The version that fixes all of its findings: the highest, over its findings, of the lowest
    fixed version newer than the installed one, moved up to a finding's next fix while it falls on
    a branch that finding's fixes leave vulnerable (`gate.versions.upgrade_target`); None when no
    listed fix is newer."""
    findings: tuple[FindingKey, ...]
    """Its findings, in the report's order."""
    blocking: int
    """How many of its findings block."""
    command: str | None
    """A command that performs the upgrade, only where it is certain, to paste into a Dockerfile's
    RUN (`apt-get update && apt-get install -y --only-upgrade libc6 libc-bin`); None otherwise."""


@dataclass(frozen=True)
class PackageFix:
    """A package that the upgrade of a direct dependency brings a fixed version of."""

    package: str
    """The package pulled in through the direct dependency (`qs`)."""
    installed_version: str
    """Its installed version."""
    target_version: str | None
    """The version that fixes its findings (`Step.target_version`'s rule over their fixed
    versions); None when none is listed (the scanner says only that the upgrade fixes them)."""


@dataclass(frozen=True)
class Action:
    """One thing to do, and the findings it clears."""

    id: str
    """Stable and readable, the same for the same inputs: `base-refresh`, `deb:openssl`,
    `npm:lodash@app/node_modules/lodash`."""
    kind: ActionKind
    """A base refresh or a package upgrade."""
    package: str
    """What is upgraded: the base image's name, an OS source package (`openssl`), or a library."""
    packages: tuple[str, ...]
    """The installed packages it upgrades (`libssl3`, `openssl`), sorted; for a base refresh, every
    package of its steps."""
    origin: LayerOrigin | None
    """Where its packages were installed: the base image's layers or the image's own; None when the
    base image is unknown."""
    ecosystem: str | None
    """The package URL type whose version ordering applies; None for a base refresh."""
    path: str
    """Where a library is in the image (`app/node_modules/lodash`); empty for OS packages and a base
    refresh."""
    installed_version: str | None
    """The oldest installed version among its findings (the source package's version when known);
    None for a base refresh."""
    target_version: str | None
    """The version that fixes all of its findings (see `Step.target_version`); None for a base
    refresh and when no listed fix is known to be newer than the installed version."""
    dockerfile_line: int | None
    """The Dockerfile line that installed its packages (the `FROM` line for a base refresh), when the
    image's layers were mapped to a Dockerfile."""
    findings: tuple[FindingKey, ...]
    """Its findings, in the report's order, whatever their disposition."""
    blocking: int
    """How many of its findings block."""
    would_block: int
    """How many of its findings block or would under an enforcing policy (advisory mode, budgets)."""
    counts_by_severity: Mapping[Severity, int]
    """Its findings per severity, highest first, only severities it has."""
    blocking_by_severity: Mapping[Severity, int]
    """Its findings that block or would block (`would_block`) per severity, highest first, only
    severities it has."""
    command: str | None
    """A command that performs the upgrade, only where it is certain; None otherwise."""
    steps: tuple[Step, ...] = ()
    """For a base refresh: the package upgrades it brings, in the order of the actions."""
    estimated: bool = False
    """For a base refresh: True when its findings are those of the base image's layers whose fix is
    published, an estimate of what a refreshed base removes; False when the base image check
    scanned the current base and found exactly what a rebuild removes."""
    base_findings: int = 0
    """For a base refresh: every finding in the base image's layers, with a fix or not."""
    fixes: tuple[PackageFix, ...] = ()
    """For the upgrade of an application's direct dependency (`express`): the packages it pulls in
    whose findings the upgrade clears (`qs 0.4.2 -> 6.0.4`), as the scanner's dependency paths say
    (Snyk's `upgradePath`), sorted by name; empty for any other action."""
    no_direct_upgrade: bool = False
    """For the upgrade of a package an application pulls in through others: True when the scanner
    says that no upgrade of a direct dependency brings its fix (Snyk's `isUpgradable: false`), so
    the package itself is pinned or overridden (npm `overrides`, Maven `dependencyManagement`)."""

    @property
    def highest_severity(self) -> Severity:
        """The most severe of its findings that block or would, else of all its findings."""
        counts = self.blocking_by_severity or self.counts_by_severity
        return next(iter(counts), Severity.UNKNOWN)


@dataclass(frozen=True)
class NoFix:
    """The findings no published version fixes yet: never an action."""

    findings: tuple[FindingKey, ...] = ()
    """Their keys, in the report's order."""
    blocking: int = 0
    """How many of them block."""
    would_block: int = 0
    """How many of them block or would under an enforcing policy."""
    counts_by_severity: Mapping[Severity, int] = field(default_factory=lambda: MappingProxyType({}))
    """Per severity, highest first, only severities present."""


@dataclass(frozen=True)
class Plan:
    """The actions that clear an evaluation's findings, most useful first."""

    actions: tuple[Action, ...] = ()
    """Ordered by blocking findings cleared, then findings that would block, then the highest
    severity, then the number of findings, then id: actions whose findings block come first;
    with KEV data, those clearing blocking known-exploited findings before them all
    (`gate.policy.exploit_rank`)."""
    no_fix: NoFix = field(default_factory=NoFix)
    """The findings without a fixed version."""
    action_ids: Mapping[FindingKey, str] = field(default_factory=lambda: MappingProxyType({}))
    """The id of the action of each finding that has one."""
    by_id: Mapping[str, Action] = field(init=False, repr=False, compare=False)
    """The actions by id, made once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType({action.id: action for action in self.actions}))

    def action_of(self, finding: Finding) -> Action | None:
        """The action that clears `finding`, or None when no published version fixes it."""
        action_id = self.action_ids.get(finding.key)
        return self.by_id.get(action_id) if action_id is not None else None

    @property
    def clearing(self) -> tuple[Action, ...]:
        """The actions that clear at least one finding that blocks (or would block)."""
        return tuple(action for action in self.actions if action.would_block)
