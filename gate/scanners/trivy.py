"""Trivy JSON reports (`trivy image --format json`, schema version 2) as a `ScanReport`.

Field meanings follow Trivy's `pkg/types` (Report, Result, DetectedVulnerability) and trivy-db's
`pkg/types` (CVSS, Status). Only results that carry `Vulnerabilities` contribute findings: the
`os-pkgs` and `lang-pkgs` classes; secrets, misconfigurations and licenses are other scanners' business.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from gate.merge import choose_ids, dedupe
from gate.model import (
    Finding,
    ImageInfo,
    Layer,
    LayerInfo,
    Package,
    ScannerInfo,
    ScanReport,
    Severity,
    VendorStatus,
)
from gate.scanners._fields import (
    NULL_FINDINGS,
    At,
    JsonObject,
    as_object,
    check_findings_key,
    cvss_score,
    objects,
    opt_int,
    opt_list,
    opt_object,
    opt_str,
    read_located,
    req_str,
    str_list,
    str_or_empty,
)
from gate.scanners._findings import (
    TRIVY_SEVERITIES,
    TRIVY_VENDOR_SEVERITIES,
    CvssCandidate,
    SeverityReader,
    best_cvss,
    cvss_severity,
    strip_root,
)
from gate.scanners._image import LayerTable, parse_image_config, repo_digest
from gate.scanners._values import refuse_lone_surrogates
from gate.scanners.trivy_typed import Vulnerability, entry_dict

_UNSET = msgspec.UNSET

SUPPORTED_SCHEMA_VERSIONS = (2,)
"""`SchemaVersion` values this parser reads (2: Trivy 0.20 and later)."""

_STATUSES = {status.value: status for status in VendorStatus}

# Result types of OS package results, for reports that predate the `Class` field.
_OS_TYPES = frozenset(
    {"alpine", "alma", "amazon", "azurelinux", "bottlerocket", "cbl-mariner", "centos", "chainguard",
     "debian", "echo", "fedora", "minimos", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "oracle",
     "photon", "redhat", "rocky", "slem", "sles", "suse", "ubuntu", "wolfi"}
)  # fmt: skip

UNREAD_MEMBERS = frozenset({"References", "CweIDs", "DataSource"})
"""Members of a vulnerability entry this parser never reads, and half of a decoded report: the
reader may leave them out (gate/scanners/_json.py). Take a member out of here before reading it."""

# Trivy's `Report` and `Result` members (pkg/types/report.go): any other member that looks like
# the list of findings under another name is refused (`check_findings_key`).
_REPORT_MEMBERS = frozenset(
    {"SchemaVersion", "CreatedAt", "ArtifactID", "ArtifactName", "ArtifactType", "Metadata", "Results",
     "Trivy", "ReportID"}
)  # fmt: skip
_RESULT_MEMBERS = frozenset(
    {"Target", "Class", "Type", "Packages", "Vulnerabilities", "MisconfSummary", "Misconfigurations",
     "Secrets", "Licenses", "CustomResources"}
)  # fmt: skip

# trivy-db `CVSS` members: (major version, score key, vector key), newest first.
_CVSS_KEYS = ((4, "V40Score", "V40Vector"), (3, "V3Score", "V3Vector"), (2, "V2Score", "V2Vector"))


def parse_trivy(
    data: object, source: str, *, lenient_severity: bool = False, surrogates_refused: bool = False
) -> ScanReport:
    """Reads a decoded Trivy JSON report; `source` names the file in errors and in the result.

    `lenient_severity` (the policy's key) reads a severity word Trivy does not write as a missing
    severity instead of refusing the report. `surrogates_refused` says that the decoder already
    refused every lone surrogate (msgspec does, gate/scanners/trivy_typed.py): the search of every
    string of the report for one (0.15 s at 100k findings) is then skipped.
    """
    report = read_located(lambda doc, root: _read_report(doc, root, lenient_severity), data, source)
    return report if surrogates_refused else refuse_lone_surrogates(report, data, source)


def _read_report(data: object, root: At, lenient_severity: bool) -> ScanReport:
    source = root.source
    severities = SeverityReader(TRIVY_SEVERITIES, lenient_severity)
    doc = as_object(data, root)
    _check_schema_version(doc, root)
    trivy = opt_object(doc, "Trivy", root)
    scanner = ScannerInfo(
        name="trivy",
        version=opt_str(trivy, "Version", root["Trivy"]) if trivy else None,
        source=source,
    )
    image, layers = _image(doc, root)
    check_findings_key(doc, "Results", root, _REPORT_MEMBERS)
    findings: list[Finding] = []
    packages: int | None = None
    others = _Unjudged()
    unsourced: set[str] = set()
    for result, at in objects(doc, "Results", root, null=False):
        # `Packages` is there when the report lists every package (`--list-all-pkgs`); a report
        # without it says nothing about how many packages the image has.
        if result.get("Packages") is not None:
            packages = (packages or 0) + len(opt_list(result, "Packages", at))
        _read_result(result, at, layers, severities, findings, unsourced)
        others.count(result)
    # Trivy leaves `Results` out when it found no OS or language packages at all (a scratch image,
    # or one whose package database it could not read): nothing was checked, and that is said.
    empty = () if doc.get("Results") else (f"{source}: the report lists no packages (no Results)",)
    return ScanReport(
        findings=dedupe(findings),
        scanners=(scanner,),
        image=image,
        sources=(source,),
        package_count=packages,
        warnings=empty
        + _no_package_list(source, unsourced)
        + others.warnings(source)
        + severities.warnings(source),
    )


LIST_ALL_PKGS = "run Trivy with --list-all-pkgs"
"""How the warning of a report without its package list ends on the command line: the command
line puts it in the words of the way the gate runs (gate/cli/wording.py)."""


def _no_package_list(source: str, unsourced: set[str]) -> tuple[str, ...]:
    """The warning of a report whose vulnerable OS packages' source packages are unknown.

    A vulnerability names its binary package only; the source package it was built from is in the
    result's `Packages`, which Trivy before 0.67 writes only with `--list-all-pkgs` (0.67 made it the
    default: aquasecurity/trivy#9510) and none with `--list-all-pkgs=false`. Without it, the binary
    packages of one source (libc6, libc-bin: glibc) are upgrades of their own. A vulnerability
    says nothing of its source, so that one source per package cannot be told from a lost list:
    two vulnerable OS packages or more are said, one is not (it is its own upgrade either way).
    """
    if len(unsourced) < 2:
        return ()
    return (
        f"{source}: without its package list, the report's {len(unsourced)} vulnerable OS packages "
        "cannot be grouped by the source package they are built from (as libc6 and libc-bin are "
        f"from glibc), so each is an upgrade of its own: {LIST_ALL_PKGS}",
    )


class _Unjudged:
    """The secrets and failed misconfiguration checks of a report (`trivy image` looks for
    secrets by default): not vulnerabilities, so no finding, but never left out without a word."""

    def __init__(self) -> None:
        self.secrets = 0
        self.misconfigurations = 0

    def count(self, result: JsonObject) -> None:
        # Counted as found, never read strictly: their shape is not the gate's to check.
        secrets = result.get("Secrets")
        self.secrets += len(secrets) if isinstance(secrets, list) else 0
        checks = result.get("Misconfigurations")
        if isinstance(checks, list):
            self.misconfigurations += sum(
                1 for check in checks if isinstance(check, dict) and check.get("Status") == "FAIL"
            )

    def warnings(self, source: str) -> tuple[str, ...]:
        parts = [
            f"{count} {what}"
            for count, what in (
                (self.secrets, "secret" if self.secrets == 1 else "secrets"),
                (
                    self.misconfigurations,
                    "failed misconfiguration check"
                    if self.misconfigurations == 1
                    else "failed misconfiguration checks",
                ),
            )
            if count
        ]
        if not parts:
            return ()
        return (
            f"{source}: the report also holds {' and '.join(parts)}, which the gate does not judge "
            "(it gates vulnerabilities): see them in Trivy's own output",
        )


def _check_schema_version(doc: JsonObject, root: At) -> None:
    if "SchemaVersion" not in doc:
        raise root["SchemaVersion"].error("missing (a Trivy JSON report of schema version 2 has it)")
    version = doc["SchemaVersion"]
    if type(version) is not int:
        raise root["SchemaVersion"].wrong("an integer", version)
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)
        raise root["SchemaVersion"].error(
            f"Trivy report schema version {version} is not supported (supported: {supported}, "
            "as written by Trivy 0.20 and later)"
        )


def _read_result(
    result: JsonObject,
    at: At,
    layers: LayerTable,
    severities: SeverityReader,
    out: list[Finding],
    unsourced: set[str],
) -> None:
    """Reads the result's findings into `out`; the names of its vulnerable OS packages into
    `unsourced` when the result does not list its packages (`_no_package_list`)."""
    check_findings_key(result, "Vulnerabilities", at, _RESULT_MEMBERS)
    vulns = opt_list(result, "Vulnerabilities", at)
    if not vulns:
        if "Vulnerabilities" in result and result["Vulnerabilities"] is None:
            raise at["Vulnerabilities"].error(NULL_FINDINGS)
        return
    kind = opt_str(result, "Class", at)
    pkg_type = str_or_empty(result, "Type", at)
    is_os = kind == "os-pkgs" or (kind is None and pkg_type in _OS_TYPES)
    # Language packages without their own path were read from this lockfile or manifest.
    target_path = "" if is_os else strip_root(str_or_empty(result, "Target", at))
    sources = _source_packages(result, at) if is_os else {}
    entries = _Entries(pkg_type, is_os, target_path, sources, layers, severities)
    first = len(out)
    _read_entries(result, vulns, at, entries, out)
    if is_os and not result.get("Packages"):
        unsourced.update(finding.package.name for finding in out[first:])


def _read_entries(
    result: JsonObject, vulns: list[object], at: At, entries: _Entries, out: list[Finding]
) -> None:
    if type(vulns[0]) is Vulnerability:
        # The typed decoder's structs (gate/scanners/trivy_typed.py: every entry is one). A
        # report with a problem is read again with locations, from the dicts the structs make.
        if at.blind:
            entries.read_typed(vulns, at, out)  # type: ignore[arg-type]
            return
        result = {**result, "Vulnerabilities": [entry_dict(vuln) for vuln in vulns]}  # type: ignore[arg-type]
    for vuln, where in objects(result, "Vulnerabilities", at, null=False):
        out.append(entries.read(vuln, where))


_TEXT = frozenset({str, type(None), msgspec.UnsetType})
"""The types of an optional string member read from a struct (`UNSET`: absent)."""


class _Entries:
    """The vulnerability entries of one result: what they share, and the reading of each."""

    __slots__ = ("is_os", "layers", "packages", "pkg_type", "severities", "sources", "target_path")

    def __init__(
        self,
        pkg_type: str,
        is_os: bool,
        target_path: str,
        sources: dict[str, tuple[str | None, str | None]],
        layers: LayerTable,
        severities: SeverityReader,
    ) -> None:
        self.pkg_type = pkg_type
        self.is_os = is_os
        self.target_path = target_path
        self.sources = sources
        self.layers = layers
        self.severities = severities
        self.packages: dict[tuple[str, str, str | None, str, str | None, str | None], Package] = {}

    def package(
        self,
        name: str,
        version: str,
        purl: str | None,
        path: str,
        src_name: str | None,
        src_version: str | None,
    ) -> Package:
        pkg_key = (name, version, purl, path, src_name, src_version)
        package = self.packages.get(pkg_key)
        if package is None:
            package = Package(name, version, self.pkg_type, purl, path, src_name, src_version)
            self.packages[pkg_key] = package
        return package

    def read(self, vuln: JsonObject, where: At) -> Finding:
        """One entry, decoded as a dict: the strict reader's and the typed one's where the entry
        is not plain (`read_typed`)."""
        severities = self.severities
        name = req_str(vuln, "PkgName", where)
        version = str_or_empty(vuln, "InstalledVersion", where)
        ident = opt_object(vuln, "PkgIdentifier", where)
        purl = opt_str(ident, "PURL", where["PkgIdentifier"]) if ident else None
        # `opt_str` is called only for what it does not pass as it is (a string, or null): a dozen
        # members per finding, over a million calls at 100k findings.
        pkg_path = vuln.get("PkgPath")
        pkg_path = (pkg_path or None) if type(pkg_path) is str else opt_str(vuln, "PkgPath", where)
        # OS packages always get "": that is how every parser writes them, so they merge.
        path = "" if self.is_os else (strip_root(pkg_path) if pkg_path else self.target_path)
        pkg_id = opt_str(vuln, "PkgID", where) if self.sources else None
        src_name = vuln.get("SrcName")
        src_name = (src_name or None) if type(src_name) is str else opt_str(vuln, "SrcName", where)
        src_name, src_version = self.sources.get(pkg_id or "", (src_name, None))
        package = self.package(name, version, purl, path, src_name, src_version)

        own_id = req_str(vuln, "VulnerabilityID", where)
        vendor_ids = str_list(vuln, "VendorIDs", where)
        fixed_text = vuln.get("FixedVersion")
        if type(fixed_text) is not str:
            fixed_text = opt_str(vuln, "FixedVersion", where)
        status_word = vuln.get("Status")
        status_word = (status_word or None) if type(status_word) is str else opt_str(vuln, "Status", where)
        severity_source = vuln.get("SeveritySource")
        if type(severity_source) is not str:
            severity_source = opt_str(vuln, "SeveritySource", where)
        layer = opt_object(vuln, "Layer", where)
        scores = _cvss_scores(opt_object(vuln, "CVSS", where), where)
        severity = severities.given(vuln, "Severity", where)
        if severity is None:
            severity = severities.settle(
                [
                    *(cvss_severity(major, score) for major, _, score, _, _ in scores),
                    *_vendor(opt_object(vuln, "VendorSeverity", where), where),
                ]
            )
        title = vuln.get("Title")
        title = (title or None) if type(title) is str else opt_str(vuln, "Title", where)
        description = vuln.get("Description")
        if type(description) is not str:
            description = opt_str(vuln, "Description", where)
        primary_url = vuln.get("PrimaryURL")
        primary_url = (
            (primary_url or None) if type(primary_url) is str else opt_str(vuln, "PrimaryURL", where)
        )
        return _finding(
            package,
            own_id,
            vendor_ids,
            fixed_text,
            status_word,
            severity,
            scores,
            severity_source,
            title,
            description or None,
            primary_url,
            self.layers.get(
                opt_str(layer, "DiffID", where["Layer"]), opt_str(layer, "Digest", where["Layer"])
            )
            if layer
            else None,
        )

    def read_typed(self, vulns: list[Vulnerability], at: At, out: list[Finding]) -> None:
        """The entries as the typed decoder made them (gate/scanners/trivy_typed.py), read from
        the structs: each member's checks as `read` makes them on the dict `entry_dict` makes
        (an absent member, `UNSET`, is falsy like null). An entry with a value that is not plain
        (a string where one is expected, and so on) is read by `read` from that dict, which
        refuses it or reads it; `at` is blind: a problem reads the report again with locations."""
        severities = self.severities
        sources = self.sources
        layers = self.layers
        for vuln in vulns:
            name = vuln.PkgName
            own_id = vuln.VulnerabilityID
            version = vuln.InstalledVersion
            pkg_path = vuln.PkgPath
            fixed_text = vuln.FixedVersion
            status_word = vuln.Status
            severity_source = vuln.SeveritySource
            title = vuln.Title
            description = vuln.Description
            primary_url = vuln.PrimaryURL
            pkg_id = vuln.PkgID if sources else None
            ident = vuln.PkgIdentifier
            layer = vuln.Layer
            vendor_ids = vuln.VendorIDs
            cvss = vuln.CVSS
            vendor = vuln.VendorSeverity
            purl = layer_id = digest = None
            if type(ident) is dict and ident:
                purl = ident.get("PURL")
            if type(layer) is dict and layer:
                layer_id, digest = layer.get("DiffID"), layer.get("Digest")
            if not (
                type(name) is str
                and name
                and type(own_id) is str
                and own_id
                and type(version) in _TEXT
                and type(pkg_path) in _TEXT
                and type(fixed_text) in _TEXT
                and type(status_word) in _TEXT
                and type(severity_source) in _TEXT
                and type(title) in _TEXT
                and type(description) in _TEXT
                and type(primary_url) in _TEXT
                and type(pkg_id) in _TEXT
                and type(purl) in _TEXT
                and type(layer_id) in _TEXT
                and type(digest) in _TEXT
                and (ident is None or ident is _UNSET or type(ident) is dict)
                and (layer is None or layer is _UNSET or type(layer) is dict)
                and (cvss is None or cvss is _UNSET or type(cvss) is dict)
                and (vendor is None or vendor is _UNSET or type(vendor) is dict)
                and (
                    vendor_ids is None
                    or vendor_ids is _UNSET
                    or (type(vendor_ids) is list and all(type(i) is str for i in vendor_ids))
                )
            ):
                out.append(self.read(entry_dict(vuln), at))
                continue
            path = "" if self.is_os else (strip_root(pkg_path) if pkg_path else self.target_path)
            src_name, src_version = sources.get(pkg_id or "", (None, None))
            package = self.package(name, version or "", purl or None, path, src_name, src_version)
            scores = _cvss_scores(cvss or None, at)
            severity_word = vuln.Severity
            severity = (
                None
                if severity_word is None or severity_word is _UNSET
                else severities.word(severity_word, "Severity", at)
            )
            if severity is None:
                severity = severities.settle(
                    [
                        *(cvss_severity(major, score) for major, _, score, _, _ in scores),
                        *_vendor(vendor or None, at),
                    ]
                )
            out.append(
                _finding(
                    package,
                    own_id,
                    vendor_ids or (),
                    fixed_text or None,
                    status_word or None,
                    severity,
                    scores,
                    severity_source or None,
                    title or None,
                    description or None,
                    primary_url or None,
                    layers.get(layer_id or None, digest or None) if layer else None,
                )
            )


def _finding(
    package: Package,
    own_id: str,
    vendor_ids: Sequence[str],
    fixed_text: str | None,
    status_word: str | None,
    severity: Severity,
    scores: list[CvssCandidate],
    severity_source: str | None,
    title: str | None,
    description: str | None,
    primary_url: str | None,
    layer: Layer | None,
) -> Finding:
    """A finding of the members read from an entry."""
    primary, aliases = choose_ids([own_id, *vendor_ids]) if vendor_ids else (own_id, ())
    fixed = _fixed_versions(fixed_text)
    if status_word is None:
        status = VendorStatus.FIXED if fixed else VendorStatus.AFFECTED
    else:
        # A status word newer than this parser is kept as unknown, not rejected: it still
        # reaches the policy, which treats an unknown status as not ignorable.
        status = _STATUSES.get(status_word, VendorStatus.UNKNOWN)
    preferred = (severity_source, "nvd", "ghsa") if severity_source else ("nvd", "ghsa")
    return Finding(
        vulnerability_id=primary,
        package=package,
        severity=severity,
        aliases=aliases,
        fixed_versions=fixed,
        status=status,
        cvss=best_cvss(scores, preferred) if scores else None,
        title=title,
        description=description,
        primary_url=primary_url,
        layer=layer,
        scanners=("trivy",),
    )


def _source_packages(result: JsonObject, at: At) -> dict[str, tuple[str | None, str | None]]:
    """`PkgID` -> (source name, source version) of the OS packages the result lists.

    Trivy lists a result's packages (`Packages`) with `--list-all-pkgs`, which `scan` asks for; a
    vulnerability names its package by `PkgID` only. Language packages have no source package, so
    only OS results are read. The source version is written as Trivy compares it
    (`FormatSrcVersion`: `epoch:version-release`).
    """
    found: dict[str, tuple[str | None, str | None]] = {}
    if not opt_list(result, "Packages", at):
        return found
    for package, where in objects(result, "Packages", at):
        pkg_id = opt_str(package, "ID", where)
        src_name = opt_str(package, "SrcName", where)
        if pkg_id is None or src_name is None:
            continue
        version = opt_str(package, "SrcVersion", where)
        release = opt_str(package, "SrcRelease", where)
        epoch = opt_int(package, "SrcEpoch", where)
        if version:
            version = f"{version}-{release}" if release else version
            version = f"{epoch}:{version}" if epoch else version
        found[pkg_id] = (src_name, version or None)
    return found


def _fixed_versions(text: str | None) -> tuple[str, ...]:
    """Trivy's `FixedVersion`: the patched versions joined with ", ".

    Some advisories give a patched *range* per branch (RustSec: `>= 3.1.0`, `>= 2.1.3, < 3.0.0`),
    and the join makes the upper bound look like a version of its own; a piece starting with `<`
    after a piece starting with `>` is put back onto it.
    """
    if not text:
        return ()
    if ", " not in text:
        return (text,)
    pieces: list[str] = []
    for piece in text.split(", "):
        piece = piece.strip()
        if not piece:
            continue
        if pieces and piece.startswith("<") and pieces[-1].startswith(">"):
            pieces[-1] = f"{pieces[-1]}, {piece}"
        else:
            pieces.append(piece)
    return tuple(pieces)


def _cvss_scores(by_source: JsonObject | None, at: At) -> list[CvssCandidate]:
    """Every CVSS score of an entry (`by_source`, its `CVSS` member read as an object), by
    source; the finding shows the one `best_cvss` picks.

    Order of preference: the newest CVSS version present (4.0, then 3.x, then 2.0); among the
    sources scoring that version, Trivy's `SeveritySource` (the vendor whose severity the finding
    shows), then `nvd`, then `ghsa`, then any other source in sorted order.
    """
    if not by_source:
        return []
    where = at["CVSS"]
    candidates: list[CvssCandidate] = []
    # The checks of `as_object`, `cvss_score` and `opt_str` are made inline for the values they
    # pass as they are (a float score within 0..10, a string vector): three per source and
    # finding, half a million calls at 100k findings. Anything else goes through them.
    for source_name, scores in by_source.items():
        if type(scores) is not dict:
            scores = as_object(scores, where[source_name])
        for major, score_key, vector_key in _CVSS_KEYS:
            score = scores.get(score_key)
            if score is None:
                continue
            if type(score) is not float or not 0.0 <= score <= 10.0:
                score = cvss_score(scores, score_key, where[source_name])
            vector = scores.get(vector_key)
            if type(vector) is str:
                vector = vector or None
            else:
                vector = opt_str(scores, vector_key, where[source_name])
            candidates.append((major, source_name, score, vector, source_name))  # type: ignore[arg-type]
    return candidates


def _vendor(by_source: JsonObject | None, at: At) -> list[Severity | None]:
    """The entry's `VendorSeverity` values (trivy-db numbers 0-4 per source; `by_source`, the
    member read as an object), as severities."""
    if not by_source:
        return []
    where = at["VendorSeverity"]
    out: list[Severity | None] = []
    for source_name, number in by_source.items():
        if type(number) is not int or not 0 <= number < len(TRIVY_VENDOR_SEVERITIES):
            raise where[source_name].wrong(
                "a trivy-db severity number from 0 (UNKNOWN) to 4 (CRITICAL)", number
            )
        out.append(TRIVY_VENDOR_SEVERITIES[number])
    return out


def _image(doc: JsonObject, root: At) -> tuple[ImageInfo | None, LayerTable]:
    metadata = opt_object(doc, "Metadata", root)
    artifact_type = opt_str(doc, "ArtifactType", root)
    name = opt_str(doc, "ArtifactName", root)
    if name is None:
        return None, LayerTable()
    if metadata is None:
        return (ImageInfo(reference=name) if artifact_type == "container_image" else None), LayerTable()
    at = root["Metadata"]
    image_id = opt_str(metadata, "ImageID", at)
    if artifact_type != "container_image" and image_id is None:
        # A repository, filesystem, VM or SBOM scan: there is no image to describe.
        return None, LayerTable()
    config = opt_object(metadata, "ImageConfig", at)
    parsed = parse_image_config(config, at["ImageConfig"]) if config else None
    layers = parsed.layers if parsed else ()
    if not layers:
        layers = tuple(LayerInfo(diff_id=d) for d in str_list(metadata, "DiffIDs", at))
    os_info = opt_object(metadata, "OS", at)
    distro = None
    if os_info:
        family = opt_str(os_info, "Family", at["OS"])
        release = opt_str(os_info, "Name", at["OS"])
        # Trivy writes the family "none" when it found no OS (e.g. its files were skipped).
        if family and family != "none":
            distro = f"{family} {release}" if release else family
    image = ImageInfo(
        reference=name,
        digest=repo_digest(str_list(metadata, "RepoDigests", at)),
        image_id=image_id,
        os=parsed.os if parsed else None,
        architecture=parsed.architecture if parsed else None,
        distro=distro,
        size=opt_int(metadata, "Size", at),
        layers=layers,
        labels=parsed.labels if parsed else (),
        created=parsed.created if parsed else None,
    )
    return image, LayerTable(image.layers)
