"""One finding from several reports of it: the primary id, and how findings and reports combine.

Primary id: a finding's `vulnerability_id` is the first CVE among the ids the scanner gives for the
entry, in the scanner's own order; without a CVE it is the scanner's own id. Every other id becomes an
alias (no duplicates, primary excluded, order kept). Policies, allowlists and merges then meet on CVEs,
the one id every scanner and distribution shares.

Combining: when one package is reported twice for the same vulnerability (twice in one file, or by two
scanners), what decides the verdict takes the worst case, whatever order the reports came in: the
highest severity, every fixed version any report knows (so the finding is fixable if any scanner knows
a fix), and the least ignorable vendor status. The descriptive fields (title, CVSS, layer, purl, ...)
are the first report's, filled from the later one where the first lacks them. `dedupe` does it within
one report (each parser calls it), `merge_reports` across the reports of several scanners or files
about one image, where each finding also keeps what every report said (`Finding.assessments`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from typing import Any

from gate.model import Assessment, Cvss, Finding, ImageInfo, Layer, Package, ScanReport, VendorStatus

IGNORABILITY: dict[VendorStatus, int] = {
    status: rank
    for rank, status in enumerate(
        (
            VendorStatus.FIXED,
            VendorStatus.AFFECTED,
            VendorStatus.UNKNOWN,
            VendorStatus.UNDER_INVESTIGATION,
            VendorStatus.FIX_DEFERRED,
            VendorStatus.WILL_NOT_FIX,
            VendorStatus.END_OF_LIFE,
            VendorStatus.NOT_AFFECTED,
        )
    )
}
"""Vendor statuses from the least to the most ignorable: a fix to take first, then a plain
"affected", a status nobody stated, then the vendor's reasons to leave a finding alone, and
"not affected" last. Two reports of one finding keep the least ignorable of their statuses."""


def is_cve(vuln_id: str) -> bool:
    """True for a CVE id (`CVE-2024-1234`), whatever its case."""
    return vuln_id[:4].upper() == "CVE-"


def choose_ids(ids: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The primary id and the aliases, from an entry's ids in the scanner's order (first is its own).

    Empty strings and repeats are dropped; `ids` must hold at least one non-empty id.
    """
    if len(ids) == 1:
        return ids[0], ()
    primary = next((vuln_id for vuln_id in ids if is_cve(vuln_id)), None) or next(filter(None, ids))
    aliases = dict.fromkeys(ids)
    del aliases[primary]
    aliases.pop("", None)
    return primary, tuple(aliases)


def dedupe(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings with one entry per `Finding.key`, the first kept and later repeats combined into it."""
    index: dict[tuple[str, str, str, str], int] = {}
    out: list[Finding] = []
    for finding in findings:
        key = finding.key
        position = index.get(key)
        if position is None:
            index[key] = len(out)
            out.append(finding)
        else:
            out[position] = combine(out[position], finding)
    return tuple(out)


def combine(first: Finding, later: Finding) -> Finding:
    """One finding from two reports of the same vulnerability in the same package.

    The worst case decides, in either order: the higher severity, the higher CVSS score (a
    `fail_on.cvss_score` rule reads it), the union of the fixed versions (in order, the first
    report's first), and the least ignorable status (`IGNORABILITY`); a
    finding with a fixed version is `fixed`, so it never says "affected" next to a fixed version.
    The other fields are the first report's, and a field it leaves empty (no title, no
    layer, no purl, ...) is filled from the later one; but a Java library's name and path are the
    more precise of the two in either order (`_fill_package`). Ids and scanner names are the union, in
    order; the primary id follows `choose_ids` over the union (a CVE wins over a scanner's own id).
    """
    if _adds_nothing(first, later):
        return first
    primary, aliases = choose_ids((*first.ids, *later.ids))
    scanners = first.scanners + tuple(name for name in later.scanners if name not in first.scanners)
    status, fixed = _worst_fix(first, later)
    # What dependency paths say of direct dependencies, from the report that says it (Snyk's).
    paths = first if _says_paths(first) or not _says_paths(later) else later
    return replace(
        first,
        vulnerability_id=primary,
        aliases=aliases,
        package=_fill_package(first.package, later.package),
        severity=max(first.severity, later.severity),
        fixed_versions=fixed,
        status=status,
        cvss=_worst_cvss(first.cvss, later.cvss),
        title=first.title or later.title,
        description=first.description or later.description,
        primary_url=first.primary_url or later.primary_url,
        layer=_fill_layer(first.layer, later.layer),
        scanners=scanners,
        direct_upgrades=paths.direct_upgrades,
        no_direct_upgrade=paths.no_direct_upgrade,
    )


def _worst_fix(first: Finding, later: Finding) -> tuple[VendorStatus, tuple[str, ...]]:
    """The status and fixed versions of two reports of one finding, the least ignorable of both."""
    fixed = first.fixed_versions + tuple(v for v in later.fixed_versions if v not in first.fixed_versions)
    if fixed:
        return VendorStatus.FIXED, fixed
    status = min(first.status, later.status, key=IGNORABILITY.__getitem__)
    return status, fixed


def _worst_cvss(first: Cvss | None, later: Cvss | None) -> Cvss | None:
    """The assessment with the higher score; the first one's on a tie."""
    if first is None or (later is not None and later.score > first.score):
        return later
    return first


def _adds_nothing(first: Finding, later: Finding) -> bool:
    """True when `combine(first, later)` would be `first` (the same report read twice, mostly)."""
    return (
        (later.scanners == first.scanners or all(name in first.scanners for name in later.scanners))
        and (later.ids == first.ids or all(vuln_id in first.ids for vuln_id in later.ids))
        and later.severity <= first.severity
        and (
            later.fixed_versions == first.fixed_versions
            or all(version in first.fixed_versions for version in later.fixed_versions)
        )
        and (later.status is first.status or _worst_fix(first, later) == (first.status, first.fixed_versions))
        and _worst_cvss(first.cvss, later.cvss) is first.cvss
        and (first.title is not None or later.title is None)
        and (first.description is not None or later.description is None)
        and (first.primary_url is not None or later.primary_url is None)
        and (first.layer == later.layer or later.layer is None)
        and (first.package == later.package)
        and (_says_paths(first) or not _says_paths(later))
    )


def _says_paths(finding: Finding) -> bool:
    """Whether a report said what upgrading its direct dependencies does to the finding."""
    return bool(finding.direct_upgrades) or finding.no_direct_upgrade


def _fill_package(first: Package, later: Package) -> Package:
    if first.path != later.path or first.name != later.name:
        # A Java library of two scanners (`_package_key`): in either order, the more precise
        # place and name, the inner jar and `groupId:artifactId` (Trivy's), so that an allowlist
        # entry's `path` or `package` matches whichever report is read first.
        precise = max((first, later), key=lambda p: (len(p.path), ":" in p.name))
        first = replace(first, name=precise.name, path=precise.path)
    if (
        (first.type or not later.type)
        and (first.purl or not later.purl)
        and (first.source_name or not later.source_name)
        and (first.source_version or not later.source_version)
    ):
        return first
    return replace(
        first,
        type=first.type or later.type,
        purl=first.purl or later.purl,
        source_name=first.source_name or later.source_name,
        source_version=first.source_version or later.source_version,
    )


def _fill_layer(first: Layer | None, later: Layer | None) -> Layer | None:
    if first is None or later is None:
        return first or later
    if first == later:
        return first
    if first.diff_id and later.diff_id and first.diff_id != later.diff_id:
        # Two scanners disagree on the layer: the first report's answer stands, unmixed.
        return first
    return Layer(
        diff_id=first.diff_id or later.diff_id,
        digest=first.digest or later.digest,
        index=first.index if first.index is not None else later.index,
        created_by=first.created_by or later.created_by,
        origin=first.origin or later.origin,
        dockerfile_line=first.dockerfile_line if first.dockerfile_line is not None else later.dockerfile_line,
    )


def another_image(reports: Sequence[ScanReport]) -> str | None:
    """Why `reports` are not all about one image, as a warning, or None.

    A report is of another image than the first one when both give the image's config digest
    and those differ (lacking one, its repository digest). Merged, they are judged as the first
    report's image: its name for allowlist `image:` globs, its platform, its layers.
    """
    images = [(report, report.image) for report in reports if report.image is not None]
    if not images:
        return None
    first, ours = images[0]
    for report, theirs in images[1:]:
        for mine, other in ((ours.image_id, theirs.image_id), (ours.digest, theirs.digest)):
            if mine and other:
                if mine != other:
                    return (
                        f"{_source(report)} is a report of another image ({other}) than "
                        f"{_source(first)} ({mine}): they are judged as one image, {ours.reference}; "
                        "gate each image's reports on their own"
                    )
                break
    return None


def _source(report: ScanReport) -> str:
    """The file a report was read from, for a message."""
    return report.sources[0] if report.sources else "a report"


def merge_reports(reports: Sequence[ScanReport]) -> ScanReport:
    """One report from several reports about the same image (several scanners, or several files).

    Two findings merge when they are about the same package (name, version and path equal; for a
    Java library, see `_package_key`) and share an id (the primary id or any alias: a GHSA in one
    scanner and the CVE in another meet through the aliases). The merged finding takes the worst
    case of the reports' severities, fixes and statuses, whatever the order of the reports, and
    keeps the earlier report's other fields, filled from the later one where it lacks them (see
    `combine`); it carries the union of ids and of scanner names, and what each report said
    (`Finding.assessments`), so that `explain` can show which scanner said what.

    Findings one report keeps apart are never merged with each other: each finding absorbs at most
    one finding of each later report (see `_PackageIndex.match` for which). Scanner infos, sources
    and warnings are the union, in order; the image is the first report's that has one, with what
    it lacks (manifest digest, platform, ...) from a later report of the same image (see `_image`).
    """
    if not reports:
        raise ValueError("merge_reports needs at least one report")
    if len(reports) == 1:
        return reports[0]
    merged: list[Finding] = []
    sources: list[str | None] = []  # the report each merged finding first came from
    keys: set[tuple[str, str, str, str]] = set()
    indexes: dict[tuple[str, str, str], _PackageIndex] = {}
    for report in reports:
        absorbed: set[int] = set()
        # Findings this report adds or changes cannot take another finding of the same report, so
        # they enter the index only after it: lookups never wade through them.
        pending: list[tuple[_PackageIndex, int, tuple[str, ...]]] = []
        source = report.sources[0] if len(report.sources) == 1 else None
        for finding in report.findings:
            package_key = _package_key(finding.package)
            index = indexes.get(package_key)
            if index is None:
                index = indexes[package_key] = _PackageIndex()
            target = index.match(finding, merged, absorbed)
            if target is None:
                target = len(merged)
                merged.append(finding)
                sources.append(source)
                keys.add(finding.key)
                new_ids: tuple[str, ...] = finding.ids
            else:
                before = merged[target]
                merged[target] = _merged(before, finding, keys, sources[target], source)
                new_ids = tuple(vuln_id for vuln_id in merged[target].ids if vuln_id not in before.ids)
            absorbed.add(target)
            pending.append((index, target, new_ids))
        for index, target, new_ids in pending:
            index.add(target, new_ids, has_cve=bool(_cves(merged[target])))
    return ScanReport(
        findings=tuple(merged),
        scanners=tuple(dict.fromkeys(info for report in reports for info in report.scanners)),
        image=_image(reports),
        sources=tuple(dict.fromkeys(src for report in reports for src in report.sources)),
        warnings=tuple(dict.fromkeys(warning for report in reports for warning in report.warnings)),
        package_count=next((r.package_count for r in reports if r.package_count is not None), None),
        named_after=_named_after(reports),
    )


def _image(reports: Sequence[ScanReport]) -> ImageInfo | None:
    """The first report's image, each field it lacks (`_FILLED`) filled from the first later
    report of the same image that has it: Trivy writes no manifest digest, Grype does, so a VEX
    statement naming the image by that digest applies whatever the order of the reports; a
    repository digest, platform, distribution or build date only one scanner gives is kept as
    well. A value the first report has is never replaced. The same image: the same config digest,
    which is one platform's; a repository digest may be a multi-platform index's."""
    images = [report.image for report in reports if report.image is not None]
    if not images:
        return None
    first = images[0]
    if not first.image_id:
        return first
    same = [later for later in images[1:] if later.image_id == first.image_id]
    filled: dict[str, Any] = {}  # values of the fields named, each of its own type
    for name in _FILLED:
        if _unknown(getattr(first, name)):
            known = [getattr(later, name) for later in same if not _unknown(getattr(later, name))]
            if known:
                filled[name] = known[0]
    return replace(first, **filled) if filled else first


def _unknown(value: object) -> bool:
    """True for a field a report leaves empty (a size or a layer count of 0 is known)."""
    return value is None or value == "" or value == ()


_FILLED = tuple(
    field.name for field in fields(ImageInfo) if field.name not in ("reference", "image_id", "base_sought")
)
"""The fields of a merged report's image a later report of the same image fills: all but the
reference the user gave, the config digest that makes it the same image, and `base_sought` (whether
the gate itself looked for a base image, not a fact about the image)."""


def _named_after(reports: Sequence[ScanReport]) -> tuple[str, ...]:
    """What merged reports are named after: each report's name (what a decision report read back
    was named after, else its own files), in order, when one of them is named after other files
    than its own; else nothing, and the merged `sources` name it."""
    if not any(report.named_after for report in reports):
        return ()
    return tuple(dict.fromkeys(name for report in reports for name in report.named_after or report.sources))


# Java archives, by the suffixes Syft's Java cataloger reads (`pkg/cataloger/java`).
_JAVA_ARCHIVES = (".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".lpkg")


def _package_key(package: Package) -> tuple[str, str, str]:
    """What two reports must agree on to be about one package: its name, version and path.

    A Go package's version is compared without its prefix: Trivy writes the standard library of
    a Go binary as `v1.20.4`, Grype (Syft) as `go1.20.4`.

    Except for a Java library with a Maven package URL, which the scanners name and place
    differently: Trivy names it `groupId:artifactId` at the innermost archive's path
    (`app.war/WEB-INF/lib/spring-beans-5.3.15.jar`), Grype `artifactId` at the outermost archive's
    (`app.war`). Both give the same package URL, and both paths start with the outermost archive.
    """
    purl = package.purl
    if package.type in _GO_TYPES or (purl is not None and purl.startswith("pkg:golang/")):
        return (package.name, _go_version(package.version), package.path)
    if purl is None or not purl.startswith("pkg:maven/"):
        return (package.name, package.version, package.path)
    # The package URL without its version, qualifiers and subpath: `pkg:maven/group/artifact`.
    identity = purl.partition("#")[0].partition("?")[0].rpartition("@")[0] or purl
    return (identity, package.version, outer_java_archive(package.path))


# Go package types: Trivy's (fanal `LangType`) and Grype's (syft `pkg.Type`).
_GO_TYPES = frozenset({"gobinary", "gomod", "go-module"})


def _go_version(version: str) -> str:
    """A Go version without its `v` or `go` prefix (`1.20.4` of `v1.20.4` and `go1.20.4`)."""
    for prefix in ("v", "go"):
        if version.startswith(prefix) and version[len(prefix) : len(prefix) + 1].isdigit():
            return version[len(prefix) :]
    return version


def outer_java_archive(path: str) -> str:
    """The path up to the first Java archive in it (`app.war` of `app.war/WEB-INF/lib/a.jar`)."""
    parts = path.split("/")
    for count, part in enumerate(parts, 1):
        if part.lower().endswith(_JAVA_ARCHIVES):
            return "/".join(parts[:count])
    return path


class _PackageIndex:
    """The merged findings of one package (`_package_key`: name, version and path, or a Java
    library's package URL, version and outermost archive), looked up by id (upper case)."""

    def __init__(self) -> None:
        self.by_id: dict[str, list[int]] = {}
        """Every id of a finding -> the positions (in the merged list) of findings that have it."""
        self.without_cve: dict[str, list[int]] = {}
        """The same, for findings that name no CVE."""

    def add(self, slot: int, ids: tuple[str, ...], has_cve: bool) -> None:
        for vuln_id in ids:
            key = vuln_id.upper()
            self.by_id.setdefault(key, []).append(slot)
            if not has_cve:
                self.without_cve.setdefault(key, []).append(slot)

    def match(self, finding: Finding, merged: list[Finding], absorbed: set[int]) -> int | None:
        """The position of the earlier finding that `finding` merges into, if any.

        A finding with the same primary id comes first; else the earliest finding sharing any id,
        unless both name CVEs and none in common: two CVEs listed under one vendor advisory (an
        RHSA or DSA alias) are two vulnerabilities, not one. `absorbed` holds the findings already
        merged with (or added by) the report `finding` comes from.
        """
        primary = finding.vulnerability_id
        for slot in self.by_id.get(primary.upper(), ()):
            if slot not in absorbed and merged[slot].vulnerability_id == primary:
                return slot
        cves = _cves(finding)
        if cves:
            # A finding with CVEs can only merge with one sharing a CVE, or with one naming none.
            candidates = [self.by_id.get(cve, []) for cve in cves]
            candidates += [self.without_cve.get(vuln_id.upper(), []) for vuln_id in finding.ids]
        else:
            candidates = [self.by_id.get(vuln_id.upper(), []) for vuln_id in finding.ids]
        best: int | None = None
        for slots in candidates:
            for slot in slots:
                if slot in absorbed or (best is not None and slot >= best):
                    continue
                if cves:
                    other = _cves(merged[slot])
                    if other and not cves & other:
                        continue
                best = slot
        return best


def _cves(finding: Finding) -> set[str]:
    return {vuln_id.upper() for vuln_id in finding.ids if is_cve(vuln_id)}


def _merged(
    before: Finding,
    finding: Finding,
    keys: set[tuple[str, str, str, str]],
    before_source: str | None,
    source: str | None,
) -> Finding:
    after = combine(before, finding)
    assessments = tuple(
        dict.fromkeys(
            (*(before.assessments or (_assessment(before, before_source),)),
             *(finding.assessments or (_assessment(finding, source),)))
        )
    )  # fmt: skip
    # One report given twice says one thing: there is nothing to tell apart.
    if len(assessments) > 1 and assessments != before.assessments:
        after = replace(after, assessments=assessments)
    if after.key == before.key:
        return after
    if after.key in keys:
        # The union's CVE is already another finding's primary id: this one keeps its own.
        primary = before.vulnerability_id
        aliases = tuple(dict.fromkeys(vuln_id for vuln_id in after.ids if vuln_id != primary))
        return replace(after, vulnerability_id=primary, aliases=aliases)
    keys.discard(before.key)
    keys.add(after.key)
    return after


def _assessment(finding: Finding, source: str | None) -> Assessment:
    return Assessment(
        scanner="+".join(finding.scanners),
        source=source,
        severity=finding.severity,
        status=finding.status,
        fixed_versions=finding.fixed_versions,
    )
