"""The baseline: the findings of an earlier decision report, and what each finding of this run is
beside them (`new`, `unchanged`, `worse`), so a pull request is judged on what it adds.

Pure: `gate.scanners.baseline_file` reads the file; evaluation asks `compare`.

The identity of a finding across runs is what stays the same from one build to the next:
- the vulnerability: matched on any of its ids, so a Grype finding whose primary id is a GHSA
  matches the same CVE in the baseline, and aliases merge;
- the package type and name (the binary package's name for OS packages, as the scanners give it),
  the type by its ecosystem where the gate knows it: Trivy's `alpine` and Grype's `apk` are one,
  so a baseline made with one scanner serves a run of the other (Snyk's `linux`, a distribution
  package of a distribution it does not name, is one with a package of any distribution);
- the package path with its version-like parts taken out (`x-1.2.dist-info` and `x-1.3.dist-info`
  are one directory), for language packages installed at a path; a Java library's path is that of
  its outermost archive, where both Trivy (which names the inner jar) and Grype place it;
- the platform, when both reports know it.
Each baseline finding is at most one finding of this run, the one at the same path first: of two
copies of a package (python3.11's and python3.12's site-packages) each is its own finding, and a
copy added since is new.
Not the installed version, the layer, or the image's name, tag or digest: those change on every
build, and keying on them makes every finding new (snyk-delta's and osv-scanner's version-keyed
diffs went wrong there).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gate.merge import outer_java_archive
from gate.model import Finding, Severity
from gate.versions import PACKAGE_TYPES, Ecosystem

_VERSION_LIKE = re.compile(
    r"\d+(?:[._]\d+)*(?:[-.+~]?(?:alpha|beta|dev|post|pre|rc|a|b|final|release|snapshot)\d*)*",
    re.IGNORECASE,
)
"""A version inside a path segment: `1.2`, `3.11`, `2.0.0rc1`, `1.0-SNAPSHOT`."""


class BaselineState(enum.Enum):
    """What a finding of this run is beside the baseline."""

    NEW = "new"
    """Not in the baseline."""
    UNCHANGED = "unchanged"
    """In the baseline, no worse than it was."""
    WORSE = "worse"
    """In the baseline, but its severity rose, it became fixable, or it became known-exploited."""


def normalized_path(path: str) -> str:
    """The package path with every version-like part replaced by `*`, per path segment."""
    return "/".join(_VERSION_LIKE.sub("*", segment) for segment in path.strip("/").split("/"))


_OS_TYPES = frozenset(
    e.value for e in (Ecosystem.DEB, Ecosystem.APK, Ecosystem.RPM, Ecosystem.ALPM, Ecosystem.EBUILD)
)
"""The package types (by ecosystem) of a distribution's own packages."""
_ANY_OS = "linux"
"""Snyk's type for a distribution package of a distribution it does not name (its container
reports without a project `packageManager`): the same package as one of any type in `_OS_TYPES`."""


def package_key(package_type: str, name: str, path: str) -> tuple[str, str, str]:
    """The package part of a finding's identity: type and name (case aside), normalized path.

    The type counts by its ecosystem when the gate knows it: each scanner names the same packages
    differently (Trivy's `alpine` and `debian`, Grype's `apk` and `deb`, Snyk's `apk` and `deb`,
    or a Snyk vulnerability's `debian:10`); so does the name of a Java package (see below)."""
    kind = package_type.casefold()
    if ":" in kind:
        # Snyk's `<distribution>:<release>`: a distribution package, of that distribution's type.
        found = PACKAGE_TYPES.get(kind.partition(":")[0])
        kind = found.value if found is not None and found.value in _OS_TYPES else _ANY_OS
    ecosystem = PACKAGE_TYPES.get(kind)
    if ecosystem is Ecosystem.MAVEN:
        # Trivy (and Snyk) name a Java package `groupId:artifactId`, Grype by its artifactId (the
        # group is in its purl): the artifactId, with the path, is the package. Trivy places a
        # library inside an archive at the inner jar's path (`app.war/WEB-INF/lib/a-1.0.jar`),
        # Grype at the outermost archive's (`app.war`): the outermost archive is its place.
        name = name.rpartition(":")[2]
        path = outer_java_archive(path.strip("/"))
    return (ecosystem.value if ecosystem is not None else kind, name.casefold(), normalized_path(path))


def _norm(vulnerability_id: str) -> str:
    return vulnerability_id.strip().upper()


@dataclass(frozen=True)
class BaselineFinding:
    """One finding of the baseline report, as much of it as comparing needs."""

    vulnerability_id: str
    """Its primary id in the baseline report."""
    aliases: tuple[str, ...]
    """Its other ids."""
    package: str
    """The package name."""
    package_type: str
    """The package type (`debian`, `pip`, ...), empty when the report did not say."""
    path: str
    """The package path as the baseline report gives it."""
    installed_version: str
    """The version installed then (shown for fixed findings; never part of the identity)."""
    severity: Severity
    """Its severity then."""
    fixable: bool
    """Whether a fix was known then."""
    known_exploited: bool | None = None
    """Whether it was known-exploited then: None when the baseline report carries no exploit data
    (no `kev` member), so a rise cannot be judged."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The primary id followed by every alias."""
        return (self.vulnerability_id, *self.aliases)

    @property
    def package_key(self) -> tuple[str, str, str]:
        """Its package identity (`package_key`)."""
        return package_key(self.package_type, self.package, self.path)


def is_worse(before: BaselineFinding, finding: Finding, known_exploited: bool | None = None) -> bool:
    """True when `finding` is worse than it was in the baseline: its severity rose, it became
    fixable, or it became known-exploited (`known_exploited` is this run's KEV flag; the
    comparison is made only when both runs know it)."""
    if finding.severity > before.severity:
        return True
    if finding.fixable and not before.fixable:
        return True
    return bool(known_exploited and before.known_exploited is False)


@dataclass(frozen=True)
class Baseline:
    """An earlier decision report's findings, indexed by identity."""

    source: str
    """The file, as the user named it."""
    created: str | None
    """When that report was made (its `evaluated_at`, RFC 3339), if it says."""
    platform: str | None
    """The platform of its image, if it says."""
    findings: tuple[BaselineFinding, ...]
    """Its findings, in its order."""
    branch: str | None = None
    """The branch whose last successful pipeline made it, when the job fetched it from there
    (`--baseline-branch`, the GitLab templates' `baseline-ref`): the outputs name that, since
    `source` is then only the job's own copy. None when the user gave the file."""
    _by_cve: dict[tuple[tuple[str, str, str], str], list[int]] = field(init=False, repr=False, compare=False)
    """(package identity, CVE) -> positions in `findings`."""
    _by_other: dict[tuple[tuple[str, str, str], str], list[int]] = field(
        init=False, repr=False, compare=False
    )
    """(package identity, any id of a finding without a CVE) -> positions."""
    _by_alias: dict[tuple[tuple[str, str, str], str], list[int]] = field(
        init=False, repr=False, compare=False
    )
    """(package identity, a non-CVE alias of a finding with a CVE) -> positions."""

    def __post_init__(self) -> None:
        by_cve: dict[tuple[tuple[str, str, str], str], list[int]] = {}
        by_other: dict[tuple[tuple[str, str, str], str], list[int]] = {}
        by_alias: dict[tuple[tuple[str, str, str], str], list[int]] = {}
        for position, item in enumerate(self.findings):
            key = item.package_key
            names = {_norm(i) for i in item.ids}
            cves = {n for n in names if _is_cve(n)}
            for name in names:
                index = (by_cve if name in cves else by_alias) if cves else by_other
                index.setdefault((key, name), []).append(position)
        object.__setattr__(self, "_by_cve", by_cve)
        object.__setattr__(self, "_by_other", by_other)
        object.__setattr__(self, "_by_alias", by_alias)

    @property
    def created_date(self) -> str:
        """The day it was made (`YYYY-MM-DD`), or `an unknown date`."""
        return self.created[:10] if self.created else "an unknown date"

    def match(self, finding: Finding, platform: str | None) -> int | None:
        """The position of the first baseline finding that is `finding`, or None (`candidates`)."""
        return next((p for group in self.candidates(finding, platform) for p in group), None)

    def candidates(self, finding: Finding, platform: str | None) -> list[list[int]]:
        """The positions of the baseline findings that are `finding` (the same vulnerability, the
        same package), in groups, best first: a group holds more than one when a package is
        installed at several paths that differ only in version-like parts, and a position can be
        in several groups. A report of another platform matches nothing. The groups are the
        baseline's own: not to be changed.

        A finding with a CVE is that CVE: it matches a baseline finding with the same CVE, or one
        that had no CVE but shares another id (a GHSA). Other ids never join two findings that
        both have CVEs: a distro advisory (RHSA-2019:2304) covers several CVEs, each its own
        finding. A finding without a CVE matches on any id."""
        if platform and self.platform and platform != self.platform:
            return []
        key = package_key(finding.package.type, finding.package.name, finding.package.path)
        keys = [key, *_os_alternatives(key)]
        names = sorted({_norm(i) for i in finding.ids})
        cves = [n for n in names if _is_cve(n)]
        lookups = (
            [(self._by_cve, cves), (self._by_other, names)]
            if cves
            else [(self._by_other, names), (self._by_alias, names)]
        )
        return [
            group
            for index, candidates in lookups
            for name in candidates
            for one in keys
            if (group := index.get((one, name)))
        ]


def _os_alternatives(key: tuple[str, str, str]) -> list[tuple[str, str, str]]:
    """The other package identities a distribution package may have had in a report of another
    scanner: Snyk's `linux` is a package of any distribution type, and one of those is `linux`."""
    kind, name, path = key
    if kind == _ANY_OS:
        return [(other, name, path) for other in sorted(_OS_TYPES)]
    if kind in _OS_TYPES:
        return [(_ANY_OS, name, path)]
    return []


def _is_cve(name: str) -> bool:
    return name.startswith("CVE-")


@dataclass(frozen=True)
class BaselineComparison:
    """Every finding of this run beside the baseline, and what is gone since."""

    baseline: Baseline
    """The baseline compared against."""
    states: tuple[BaselineState, ...]
    """One state per finding of this run, in its order."""
    fixed: tuple[BaselineFinding, ...]
    """The baseline's findings that no finding of this run is, in the baseline's order."""
    matched: tuple[BaselineFinding | None, ...] = ()
    """For each finding of this run, the baseline finding it is (None for a new one)."""

    def count(self, state: BaselineState) -> int:
        """How many findings of this run are in `state`."""
        return sum(1 for s in self.states if s is state)

    def delta_line(self) -> str:
        """`3 new · 1 worse · 12 fixed · 40 unchanged`, the words every output leads with (without
        the source): new, worse and unchanged add up to the findings of this run."""
        return (
            f"{self.count(BaselineState.NEW)} new · {self.count(BaselineState.WORSE)} worse · "
            f"{len(self.fixed)} fixed · {self.count(BaselineState.UNCHANGED)} unchanged"
        )


def compare(
    baseline: Baseline,
    findings: Iterable[Finding],
    platform: str | None,
    known_exploited: Mapping[str, bool] | None = None,
) -> BaselineComparison:
    """Each finding's state beside `baseline`, and the baseline's findings gone since.

    `known_exploited` maps a vulnerability id (upper case) to this run's KEV flag, when the run has
    exploit data; without it, known-exploitation is not compared."""
    findings = tuple(findings)
    groups = [baseline.candidates(finding, platform) for finding in findings]
    chosen: list[int | None] = [None] * len(findings)
    matched: set[int] = set()
    # Each baseline finding is one finding of this run at most, the one at the same path first:
    # then two copies of a package each keep their own, and a copy moved (python3.11 to 3.12)
    # still finds its own in the second round. Both rounds stay linear when an image holds
    # thousands of copies of one package: a group's positions by path are made once, and each
    # group's cursor passes a taken position once.
    by_path: dict[int, dict[str, list[int]]] = {}
    for at, finding in enumerate(findings):
        path = finding.package.path.strip("/")
        for group in groups[at]:
            if len(group) == 1:
                same = group if baseline.findings[group[0]].path.strip("/") == path else ()
            else:
                paths = by_path.get(id(group))
                if paths is None:
                    paths = by_path[id(group)] = {}
                    for position in group:
                        paths.setdefault(baseline.findings[position].path.strip("/"), []).append(position)
                same = paths.get(path, ())
            found = next((p for p in same if p not in matched), None)
            if found is not None:
                chosen[at] = found
                matched.add(found)
                break
    cursors: dict[int, int] = {}
    for at in range(len(findings)):
        if chosen[at] is not None:
            continue
        for group in groups[at]:
            cursor = cursors.get(id(group), 0)
            while cursor < len(group) and group[cursor] in matched:
                cursor += 1
            cursors[id(group)] = cursor
            if cursor < len(group):
                chosen[at] = group[cursor]
                matched.add(group[cursor])
                break
    states: list[BaselineState] = []
    for finding, choice in zip(findings, chosen, strict=True):
        if choice is None:
            states.append(BaselineState.NEW)
            continue
        kev = None
        if known_exploited is not None:
            kev = any(known_exploited.get(_norm(i), False) for i in finding.ids)
        before = baseline.findings[choice]
        states.append(BaselineState.WORSE if is_worse(before, finding, kev) else BaselineState.UNCHANGED)
    fixed = tuple(item for position, item in enumerate(baseline.findings) if position not in matched)
    matches = tuple(None if choice is None else baseline.findings[choice] for choice in chosen)
    return BaselineComparison(baseline, tuple(states), fixed, matches)


def worse_since(before: BaselineFinding, finding: Finding, known_exploited: bool | None = None) -> str:
    """What made `finding` worse than `before` (`is_worse`), as a reason says it: `LOW then`,
    `no fix then`, `not known-exploited then`."""
    changes = []
    if finding.severity > before.severity:
        changes.append(f"{before.severity.name} then")
    if finding.fixable and not before.fixable:
        changes.append("no fix then")
    if known_exploited and before.known_exploited is False:
        changes.append("not known-exploited then")
    return ", ".join(changes)


BASELINE_NOT_USED = "baseline not used, the full policy applies: "
"""How the warning for a baseline that could not be read starts (the reason follows)."""

_BASELINE_WARNING = re.compile(
    r"the baseline .*(?: does not say when it was made \(no evaluated_at\)"
    r"| says it was made on .*, after this run's time \(\d{4}-\d\d-\d\d\): is (?:--as-of or a clock|the "
    r"runner's clock) wrong\? Its age is not judged"
    r"| is \d+ days old \(baseline\.max_age_days: \d+\): (?:refresh it from the default branch|run a "
    r"pipeline of .* to refresh it)"
    r"| is of platform .*, this report of .*: no finding matches it, every finding is new)\Z",
    re.DOTALL,
)
"""The sentences of `gate.policy.enrichment.baseline_warnings`."""


def is_baseline_warning(text: str) -> bool:
    """True when `text` is a warning a run says about its baseline (its age, its date, its
    platform, or that it could not be read): a decision report of an earlier release, read back,
    carries its run's among its `warnings`, and the run reading it back says its own."""
    return text.startswith(BASELINE_NOT_USED) or _BASELINE_WARNING.match(text) is not None
