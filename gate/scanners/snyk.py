"""Snyk container reports (`snyk container test IMAGE --json`) as a `ScanReport`.

The output is one project object (the image's OS packages), an array of projects (the OS project
followed by one project per application found in the image), or, with `--group-issues` and newer
CLIs, one object whose `applications` member holds the application projects.

Snyk lists a vulnerability once per dependency path (`from`); those repeats are one finding. With
`--group-issues` one entry covers several paths and names: `name` and `from` become arrays, and each
distinct name is a finding of its own, as it would be without grouping.

Snyk gives no package URL; a package gets the one its name, version and package manager make, with
the type, namespace and name Trivy and Grype write for the same package, so that VEX statements and
allowlist entries naming packages by purl apply to it (`_purl`): `alpine:3.12` is
`pkg:apk/alpine/<binary>`, `debian:10` and `ubuntu:20.04` are `pkg:deb/debian/...` and
`pkg:deb/ubuntu/...`, npm, PyPI, Maven (`groupId:artifactId`), RubyGems, NuGet, Composer and Cargo
packages are theirs. The version is Snyk's, so a Debian epoch is in it (`@1:1.2.11.dfsg-1`), as
Grype writes it; Trivy writes an `epoch` qualifier instead, and matching reads the two alike
(gate/enrich/purls.py). Snyk gives no architecture or distribution release, so the purl has no
qualifiers. Other package managers get none: `linux` (older CLIs) names no distribution, an RPM
distribution's purl namespace differs between scanners, and a Go entry names a Go package, not the
module a purl names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from packageurl import PackageURL

from gate.merge import choose_ids, dedupe
from gate.model import (
    Cvss,
    DirectUpgrade,
    Finding,
    ImageInfo,
    Package,
    ScannerInfo,
    ScanReport,
    Severity,
    VendorStatus,
)
from gate.scanners._fields import (
    At,
    JsonObject,
    as_object,
    check_findings_key,
    cvss_score,
    objects,
    opt_bool,
    opt_list,
    opt_object,
    opt_str,
    read_located,
    req_str,
    str_list,
    str_or_empty,
    strings_or_string,
)
from gate.scanners._findings import SNYK_SEVERITIES, SeverityReader, cvss_severity, strip_root
from gate.scanners._values import refuse_lone_surrogates

# Package managers of the image's own distribution packages (Snyk's names).
OS_PACKAGE_MANAGERS = frozenset({"apk", "deb", "linux", "rpm"})

UNREAD_MEMBERS = frozenset({"semver", "references", "patches", "credit", "functions"})
"""Members of a vulnerability entry this parser never reads, and half of a decoded report: the
reader may leave them out (gate/scanners/_json.py). Take a member out of here before reading it."""

# `identifiers` members that name weaknesses (CWE) rather than vulnerabilities.
_NOT_VULNERABILITY_IDS = frozenset({"CWE"})

_ADVISORY_URL = "https://security.snyk.io/vuln/"
_URL_SAFE_ID = re.compile(r"[A-Za-z0-9:._-]+")


def parse_snyk(data: object, source: str, *, lenient_severity: bool = False) -> ScanReport:
    """Reads a decoded `snyk container test --json` report; `source` names the file.

    `lenient_severity` (the policy's key) reads a severity word Snyk does not write as a missing
    severity instead of refusing the report.
    """
    report = read_located(lambda doc, root: _read_report(doc, root, lenient_severity), data, source)
    return refuse_lone_surrogates(report, data, source)


def _read_report(data: object, root: At, lenient_severity: bool) -> ScanReport:
    source = root.source
    severities = SeverityReader(SNYK_SEVERITIES, lenient_severity)
    projects: list[tuple[JsonObject, At]] = []
    if isinstance(data, list):
        if not data:
            raise root.error("expected at least one Snyk project, got an empty array")
        projects = [(as_object(item, root[index]), root[index]) for index, item in enumerate(data)]
    else:
        doc = as_object(data, root)
        projects = [(doc, root), *objects(doc, "applications", root, null=False)]
    findings: list[Finding] = []
    for project, at in projects:
        _read_project(project, at, severities, findings)
    return ScanReport(
        findings=dedupe(findings),
        scanners=(ScannerInfo(name="snyk", source=source),),
        image=_image(projects),
        sources=(source,),
        warnings=_filtered_warning(projects, source) + severities.warnings(source),
    )


def _filtered_warning(projects: list[tuple[JsonObject, At]], source: str) -> tuple[str, ...]:
    """A warning when Snyk's own policy (a `.snyk` file) took vulnerabilities out of the report:
    Snyk moves each of them from `vulnerabilities` to `filtered.ignore` (or `filtered.patch`), so
    they never reach the gate's policy. Counted as findings are: one per vulnerability, installed
    package (each binary package of a source package: `name`) and version, and application,
    whatever the number of dependency paths."""
    counts: dict[str, set[tuple[str, str, str, str]]] = {"ignore": set(), "patch": set()}
    for project, at in projects:
        filtered = opt_object(project, "filtered", at)
        if not filtered:
            continue
        path = _project_path(project, at)
        for kind, seen in counts.items():
            for vuln, where in objects(filtered, kind, at["filtered"], null=False):
                own_id = req_str(vuln, "id", where)
                version = str_or_empty(vuln, "version", where)
                seen.update((own_id, name, version, path) for name in _filtered_names(vuln, where))
    ignored, patched = len(counts["ignore"]), len(counts["patch"])
    if not ignored and not patched:
        return ()
    parts = [f"ignored {ignored}"] if ignored else []
    if patched:
        parts.append(f"patched {patched}")
    return (
        f"{source}: Snyk's own policy (a .snyk file) {' and '.join(parts)} vulnerability(ies); they "
        "are not in this verdict: state exceptions in the gate's policy allowlist instead",
    )


def _is_application(project: JsonObject, at: At) -> bool:
    """An application project names the manifest or lockfile it was read from.

    The OS project can name a file too (`--file=Dockerfile`), so its package manager decides first.
    """
    manager = opt_str(project, "packageManager", at)
    if manager in OS_PACKAGE_MANAGERS:
        return False
    return bool(opt_str(project, "displayTargetFile", at) or opt_str(project, "targetFile", at))


def _filtered_names(vuln: JsonObject, at: At) -> list[str]:
    """The installed packages a filtered vulnerability is in, as its findings would name them (`name`,
    one or a list); its `packageName` when `name` is not there: a count needs no more."""
    name = vuln.get("name")
    if isinstance(name, list) and name and all(isinstance(item, str) and item for item in name):
        return [str(item) for item in name]
    if isinstance(name, str) and name:
        return [name]
    return [str_or_empty(vuln, "packageName", at)]


def _project_path(project: JsonObject, at: At) -> str:
    """Where an application project's packages are (its manifest or lockfile); "" for the image's
    own packages."""
    if not _is_application(project, at):
        return ""
    return strip_root(opt_str(project, "displayTargetFile", at) or opt_str(project, "targetFile", at) or "")


def _read_project(project: JsonObject, at: At, severities: SeverityReader, out: list[Finding]) -> None:
    if "vulnerabilities" not in project:
        raise at["vulnerabilities"].error("missing (every Snyk project has it)")
    check_findings_key(project, "vulnerabilities", at, frozenset())
    is_app = _is_application(project, at)
    path = _project_path(project, at)
    project_manager = opt_str(project, "packageManager", at)
    seen: set[tuple[str, str, str]] = set()
    # Each entry names one dependency path (or, grouped, several): a finding's are gathered from
    # every entry of it, repeats too, and given to its finding once the project is read.
    paths: dict[tuple[str, str, str], _Paths] = {}
    for vuln, where in objects(project, "vulnerabilities", at, null=False):
        own_id = req_str(vuln, "id", where)
        version = str_or_empty(vuln, "version", where)
        source_name = req_str(vuln, "packageName", where)
        names = strings_or_string(vuln, "name", where)
        if is_app:
            _read_paths(vuln, where, [paths.setdefault((own_id, name, version), _Paths()) for name in names])
        new_names = [name for name in dict.fromkeys(names) if (own_id, name, version) not in seen]
        if not new_names:
            # The same vulnerability in the same package again, through another dependency path:
            # Snyk copies the entry, so the rest of it is not read a second time.
            continue
        primary, aliases = choose_ids(_ids(own_id, vuln, where))
        fixed, upgradable = _fix(vuln, where, names)
        score = cvss_score(vuln, "cvssScore", where)
        vector = opt_str(vuln, "CVSSv3", where)
        cvss = Cvss(score, vector, "snyk") if score is not None else None
        severity = _severity(vuln, where, severities, cvss)
        entry_manager = opt_str(vuln, "packageManager", where)
        pkg_type = project_manager or entry_manager or ""
        title = opt_str(vuln, "title", where)
        description = opt_str(vuln, "description", where)
        # An id with a lone surrogate is refused once the report is read (refuse_lone_surrogates,
        # naming its key path): until then, quoting it must not fail on it.
        url = _ADVISORY_URL + (
            own_id if _URL_SAFE_ID.fullmatch(own_id) else quote(own_id, safe=":", errors="surrogatepass")
        )
        for name in new_names:
            seen.add((own_id, name, version))
            if is_app:
                paths[(own_id, name, version)].position = len(out)
            out.append(
                Finding(
                    vulnerability_id=primary,
                    package=_package(
                        name, version, pkg_type, path, source_name, is_app, entry_manager or project_manager
                    ),
                    severity=severity,
                    aliases=aliases,
                    fixed_versions=fixed,
                    status=VendorStatus.FIXED if fixed or upgradable else VendorStatus.AFFECTED,
                    cvss=cvss,
                    title=title,
                    description=description,
                    primary_url=url,
                    scanners=("snyk",),
                )
            )
    for found in paths.values():
        upgrades = () if found.unnamed else tuple(dict.fromkeys(found.upgrades))
        if found.position is not None and (upgrades or found.no_direct_upgrade):
            out[found.position] = replace(
                out[found.position],
                direct_upgrades=upgrades,
                no_direct_upgrade=found.no_direct_upgrade,
            )


@dataclass
class _Paths:
    """What the dependency paths of one finding (`from`) and their upgrades (`upgradePath`) say."""

    upgrades: list[DirectUpgrade] = field(default_factory=list)
    """The upgrades of a direct dependency that fix it, in the report's order."""
    through_other: bool = False
    """Whether a path reaches it through another package: it is a transitive dependency."""
    direct: bool = False
    """Whether a path has it as a direct dependency of the project."""
    upgradable: bool = False
    """Whether an entry says an upgrade fixes it (`isUpgradable`, or any upgrade step)."""
    unnamed: bool = False
    """Whether a path has no upgrade of its direct dependency named: the package is a direct
    dependency there, or the direct dependency stays and the path is fixed below it, or no upgrade
    fixes it, or it is a later path of a grouped entry (whose `upgradePath` is the first's). An
    upgrade of the others' direct dependency leaves the package installed through that path."""
    position: int | None = None
    """Where its finding is in the findings read so far."""

    @property
    def no_direct_upgrade(self) -> bool:
        """Snyk's "no direct upgrade": pulled in only through other packages, and no entry of it
        upgradable."""
        return self.through_other and not self.direct and not self.upgradable


def _read_paths(vuln: JsonObject, at: At, found: list[_Paths]) -> None:
    """Adds what one entry's `from` and `upgradePath` say to each of `found`.

    `from` is the path from the project to the package (`["app@1.0.0", "express@2.5.11",
    "qs@0.4.2"]`), or, grouped (`--group-issues`), a list of such paths; `upgradePath` lists the
    upgrade of each package of the (first) path, `false` for the project itself and for a package
    that stays (https://docs.snyk.io/scan-with-snyk/snyk-open-source/manage-vulnerabilities/
    upgrade-package-versions-to-fix-vulnerabilities: the smallest upgrade of the direct
    dependency that brings a fixed version of the package). Its second step names the direct
    dependency's upgrade; the same version as installed means that the direct dependency stays
    and the path is fixed below it. A path without such an upgrade is `_Paths.unnamed`.
    """
    given = opt_list(vuln, "from", at)
    where = at["from"]
    chains: list[list[str]] = []
    if given and type(given[0]) is not list:
        chains.append([_step_text(step, where[k]) for k, step in enumerate(given)])
    else:
        for index, item in enumerate(given):
            if type(item) is not list:
                raise where[index].wrong("a list of package@version", item)
            chains.append([_step_text(step, where[index][k]) for k, step in enumerate(item)])
    if not chains:
        return
    steps = opt_list(vuln, "upgradePath", at)
    upgradable = bool(opt_bool(vuln, "isUpgradable", at)) or any(type(step) is str for step in steps)
    upgrade = _direct_upgrade(chains[0], steps)
    unnamed = (upgrade is None and len(chains[0]) > 1) or any(len(chain) > 1 for chain in chains[1:])
    for paths in found:
        paths.unnamed = paths.unnamed or unnamed
        paths.through_other = paths.through_other or any(len(chain) > 2 for chain in chains)
        paths.direct = paths.direct or any(len(chain) == 2 for chain in chains)
        paths.upgradable = paths.upgradable or upgradable
        if upgrade is not None:
            paths.upgrades.append(upgrade)


def _step_text(step: object, at: At) -> str:
    if type(step) is not str:
        raise at.wrong("a package@version", step)
    return step


def _direct_upgrade(chain: list[str], steps: list[object]) -> DirectUpgrade | None:
    """The upgrade of the direct dependency that `steps` (`upgradePath`) names for the path
    `chain` (`from`) to a package pulled in through it; None when the package is itself a direct
    dependency or no step upgrades that dependency."""
    if len(chain) < 3 or len(steps) < 2 or type(steps[1]) is not str:
        return None
    name, _, version = chain[1].rpartition("@")
    upgraded, _, target = steps[1].rpartition("@")
    if not name or upgraded != name or not target or target == version:
        return None
    return DirectUpgrade(name=name, version=version, target=target)


def _fix(vuln: JsonObject, at: At, names: list[str]) -> tuple[tuple[str, ...], bool]:
    """The fixed versions, and whether Snyk says an upgrade fixes the entry, from every member
    through which a Snyk CLI has said "fixed in":

    - `fixedIn`, the fixed versions of the issue data (current CLIs);
    - `nearestFixedInVersion` (container projects, and CLIs that predate `fixedIn`);
    - `upgradePath`, the upgrade of each package on the dependency path (`name@version`, or false
      where that package stays): its last step, when it upgrades the vulnerable package itself,
      is a fixed version (legacy CLIs, whose entries had neither member above);
    - `isUpgradable`, or any upgrade step at all: an upgrade of what pulls the package in fixes
      it, though no version of the package itself is named.
    """
    fixed = list(str_list(vuln, "fixedIn", at))
    nearest = opt_str(vuln, "nearestFixedInVersion", at)
    if nearest and nearest not in fixed:
        fixed.append(nearest)
    steps = opt_list(vuln, "upgradePath", at)
    for index, step in enumerate(steps):
        if type(step) is not str and type(step) is not bool:
            raise at["upgradePath"][index].wrong("a package@version or false", step)
    last = steps[-1] if steps else None
    if not fixed and isinstance(last, str):
        # Only without the members above: the step is an upgrade target, which may be past the
        # first fixed version (connect 2.6.0 where the fix is 2.0.0).
        name, _, version = last.rpartition("@")
        if name in names and version:
            fixed.append(version)
    upgradable = bool(opt_bool(vuln, "isUpgradable", at)) or any(type(step) is str for step in steps)
    return tuple(fixed), upgradable


def _severity(vuln: JsonObject, at: At, severities: SeverityReader, cvss: Cvss | None) -> Severity:
    """Snyk's severity: `severityWithCritical` (newer CLIs; `severity` then stops at high for
    some issues) or `severity`, the higher of the two; without either, the highest of the CVSS
    scores and the NVD's and other assigners' severities the entry carries."""
    given = [severities.given(vuln, key, at) for key in ("severityWithCritical", "severity")]
    severity = max((word for word in given if word is not None), default=None)
    if severity is not None:
        return severity
    derived: list[Severity | None] = [severities.given(vuln, "nvdSeverity", at)]
    if cvss is not None:
        derived.append(cvss_severity(_cvss_major(cvss.vector), cvss.score))
    for detail, where in objects(vuln, "cvssDetails", at):
        derived.append(severities.given(detail, "severity", where))
        score = cvss_score(detail, "cvssV3BaseScore", where)
        if score is not None:
            derived.append(cvss_severity(_cvss_major(opt_str(detail, "cvssV3Vector", where)), score))
    return severities.settle(derived)


def _cvss_major(vector: str | None) -> int:
    """The CVSS major version a vector names (`CVSS:3.1/...` -> 3); 0 when it says none."""
    if vector and vector.startswith("CVSS:") and vector[5:6].isdigit():
        return int(vector[5])
    return 0


def _package(
    name: str, version: str, pkg_type: str, path: str, source_name: str, is_app: bool, manager: str | None
) -> Package:
    if is_app:
        purl = _purl(manager, name, version, app=True)
        return Package(name=name, version=version, type=pkg_type, purl=purl, path=path)
    # OS packages are named `source/binary` (`glibc/libc6`), with the source in `packageName`:
    # the binary name is the installed package, as other scanners name it.
    prefix = source_name + "/"
    binary = name[len(prefix) :] if name.startswith(prefix) else name
    purl = _purl(manager, binary, version, app=False)
    return Package(name=binary, version=version, type=pkg_type, purl=purl, path="", source_name=source_name)


# The distributions whose packages' purls Trivy and Grype write alike: purl type and namespace.
_OS_PURLS = {"alpine": ("apk", "alpine"), "debian": ("deb", "debian"), "ubuntu": ("deb", "ubuntu")}
# Application package managers (Snyk's names) and their purl types.
_APP_PURLS = {
    "npm": "npm",
    "yarn": "npm",
    "pip": "pypi",
    "poetry": "pypi",
    "pipenv": "pypi",
    "maven": "maven",
    "gradle": "maven",
    "sbt": "maven",
    "rubygems": "gem",
    "nuget": "nuget",
    "composer": "composer",
    "cargo": "cargo",
}


def _purl(manager: str | None, name: str, version: str, *, app: bool) -> str | None:
    """The package URL of a Snyk package, from its package manager (`alpine:3.12`, `npm`, ...),
    name and version; None when they do not make one (see the module docstring)."""
    if not manager or not name or not version:
        return None
    namespace: str | None = None
    if app:
        kind = _APP_PURLS.get(manager)
        if kind is None:
            return None
        if kind == "maven":
            namespace, colon, name = name.partition(":")
            if not colon or not namespace or not name or ":" in name:
                return None
        elif "/" in name:
            # An npm scope (`@babel/core`), a Composer vendor (`monolog/monolog`).
            if kind not in ("npm", "composer"):
                return None
            namespace, _, name = name.rpartition("/")
    else:
        found = _OS_PURLS.get(manager.partition(":")[0])
        if found is None or "/" in name:
            return None
        kind, namespace = found
    try:
        return PackageURL(kind, namespace, name, version).to_string()
    except ValueError:
        return None


def _ids(own_id: str, vuln: JsonObject, at: At) -> list[str]:
    """The entry's own id, then its `identifiers` in the report's order (CVE, GHSA, ...)."""
    ids = [own_id]
    identifiers = opt_object(vuln, "identifiers", at)
    if not identifiers:
        return ids
    where = at["identifiers"]
    for kind, values in identifiers.items():
        if kind in _NOT_VULNERABILITY_IDS or values is None:
            continue
        if type(values) is not list:
            raise where[kind].wrong("an array", values)
        for index, value in enumerate(values):
            if type(value) is str:
                ids.append(value)
            elif type(value) is int:
                # Node Security Project advisories are bare numbers (`"NSP": [3]`).
                ids.append(f"{kind}-{value}")
            else:
                raise where[kind][index].wrong("a string or an integer", value)
    return ids


def _image(projects: list[tuple[JsonObject, At]]) -> ImageInfo | None:
    for project, at in projects:
        reference = opt_str(project, "path", at)
        if not reference or _is_application(project, at):
            continue
        platform = opt_str(project, "platform", at)
        os_name, _, arch = (platform or "").partition("/")
        docker = opt_object(project, "docker", at)
        return ImageInfo(
            reference=reference,
            os=os_name or None,
            architecture=arch or None,
            base_image=opt_str(docker, "baseImage", at["docker"]) if docker else None,
        )
    return None
