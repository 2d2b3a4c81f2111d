"""Grype JSON reports (`grype IMAGE -o json`) as a `ScanReport`.

Field meanings follow Grype's `grype/presenter/models` (Document, Match, Vulnerability, Package,
Source, Descriptor) and Syft's image source metadata. `ignoredMatches` (what the user's Grype
configuration suppressed) are not findings: the gate's own policy is where exceptions are stated.
They are counted, and the report's warnings say how many never reach the policy.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from gate._json_decode import loads
from gate.enrich._json import parse_moment
from gate.enrich.grype_exploit import NOTHING, MatchExploitData, read_grype_match
from gate.errors import ReportError
from gate.merge import choose_ids, combine, dedupe
from gate.model import (
    Finding,
    ImageInfo,
    LayerInfo,
    Package,
    ScannerInfo,
    ScanReport,
    VendorStatus,
)
from gate.scanners._fields import (
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
    CVSS_VERSION_RANK,
    GRYPE_SEVERITIES,
    CvssCandidate,
    SeverityReader,
    best_cvss,
    cvss_severity,
    strip_root,
)
from gate.scanners._image import ImageConfig, LayerTable, parse_image_config, repo_digest
from gate.scanners._values import refuse_lone_surrogates

# Syft package types read from a distribution's package database: their location is the database
# file, not where the package lives, so they get the empty path every parser gives OS packages.
OS_PACKAGE_TYPES = frozenset({"alpm", "apk", "deb", "msrc-kb", "portage", "rpm"})

# Grype `fix.state` -> the model's vendor status.
_FIX_STATES = {
    "fixed": VendorStatus.FIXED,
    "not-fixed": VendorStatus.AFFECTED,
    "wont-fix": VendorStatus.WILL_NOT_FIX,
    "unknown": VendorStatus.UNKNOWN,
    "": VendorStatus.UNKNOWN,
}
# Grype's (Syft's) source schemes that name an image in a store or a registry; the archive
# schemes stay, as the gate writes them too (`docker-archive:app.tar`).
_IMAGE_SCHEMES = frozenset({"containerd", "docker", "podman", "registry"})

_NO_FIX = frozenset({VendorStatus.AFFECTED, VendorStatus.WILL_NOT_FIX})
"""The states in which Grype says the package has no fix, whatever versions the match lists."""

# CVSS `source` values Grype copies from NVD records, in the names the rest of the gate uses.
_CVSS_SOURCES = {
    "nvd@nist.gov": "nvd",
    "security-advisories@github.com": "ghsa",
    "secalert@redhat.com": "redhat",
}

# Grype's `Document` members (grype/presenter/models/document.go): any other member that looks
# like the list of matches under another name is refused (`check_findings_key`).
_REPORT_MEMBERS = frozenset(
    {"matches", "ignoredMatches", "source", "distro", "descriptor", "alertsByPackage"}
)

# Grype test builds write this instead of a version.
_NO_VERSION = "[not provided]"

# The key `best_cvss` ranks the matched record's own scores by (see `_cvss`).
_OWN = ""
_PREFERRED = (_OWN, "nvd", "ghsa")


UNREAD_MEMBERS = (
    ("vulnerability", "artifact", frozenset({"matchDetails"})),
    ("locations", "cpes", frozenset({"cpes", "licenses", "metadata"})),
    # The matched vulnerability always has `fix`; a related one never does, and only its id,
    # CVSS and description are read (its URL list is the longest part of a Grype report).
    ("fix", "severity", frozenset({"advisories"})),
    ("namespace", "urls", frozenset({"urls", "advisories"})),
)
"""Members this parser never reads, by the kind of object (a match, its artifact, the matched
and the related vulnerabilities) told by two members it always has, first rule that fits: the
reader may leave them out (gate/scanners/_json.py). Take a member out of here before reading it."""


def parse_grype(
    data: object,
    source: str,
    *,
    lenient_severity: bool = False,
    exploit: list[MatchExploitData] | None = None,
) -> ScanReport:
    """Reads a decoded Grype JSON report; `source` names the file in errors and in the result.

    `lenient_severity` (the policy's key) reads a severity word Grype does not write as a missing
    severity instead of refusing the report. `exploit`, when given, receives the KEV and EPSS data
    of every match that has some (Grype 0.88 and later write `knownExploited` and `epss`): the
    caller turns them into `ExploitData` with `exploit_data_from_grype`. Matches without any add
    nothing, so a report without these fields costs no memory.
    """
    sink = exploit
    # The list may hold the data of the reports read before this one: only this one's is redone.
    start = len(sink) if sink is not None else 0

    def read(doc: object, root: At) -> ScanReport:
        if sink is not None:
            del sink[start:]  # the located second pass reads every match again
        return _read_report(doc, root, lenient_severity, sink)

    report = read_located(read, data, source)
    return refuse_lone_surrogates(report, data, source)


def _read_report(
    data: object, root: At, lenient_severity: bool, exploit: list[MatchExploitData] | None = None
) -> ScanReport:
    source = root.source
    doc = as_object(data, root)
    if "matches" not in doc:
        raise root["matches"].error("missing (a Grype JSON report has it)")
    check_findings_key(doc, "matches", root, _REPORT_MEMBERS)
    if not isinstance(doc.get("descriptor"), dict):
        # Grype writes it in every JSON report: without it, `{"matches": []}` from anywhere would
        # pass as a scan that found nothing.
        raise root["descriptor"].error(
            "missing or not an object (a Grype JSON report names the tool and its DB there)"
        )
    image, layers = _image(doc, root)
    severities = SeverityReader(GRYPE_SEVERITIES, lenient_severity)
    findings = [
        _finding(match, at, layers, severities) for match, at in objects(doc, "matches", root, null=False)
    ]
    scanner = _scanner(doc, root, source)
    if exploit is not None:
        # `exploit` may hold other reports' data: this report's dates are of its own data.
        found = [
            part
            for match, at in objects(doc, "matches", root, null=False)
            if (part := _match_exploit(match, at)) is not NOTHING
        ]
        if found:
            exploit += found
            exploit.append(_data_dates(scanner, found, source))
    return ScanReport(
        findings=_fold_named_cves(dedupe(findings)),
        scanners=(scanner,),
        image=image,
        sources=(source,),
        warnings=_ignored_warning(doc, root) + _alert_warnings(doc, root) + severities.warnings(source),
    )


def _fold_named_cves(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Grype's match of a CVE folded into its match of an advisory that names that CVE, in the same
    package: one vulnerability that two matchers found (the GitHub advisory, whose related records
    are its CVEs, and the CVE itself by NVD's CPE). `dedupe` joins them when the CVE is the
    advisory's primary id; an advisory naming several CVEs has the first as its primary id, and a
    match of another of them is the same vulnerability all the same, as `merge_reports` finds when
    the two come in two reports."""
    named: dict[tuple[str, str, str, str], int] = {}
    for position, finding in enumerate(findings):
        package = finding.package
        for alias in finding.aliases:
            named.setdefault((alias.upper(), package.name, package.version, package.path), position)
    if not named:
        return findings
    out: list[Finding | None] = list(findings)
    for position, finding in enumerate(findings):
        if finding.aliases:
            continue
        package = finding.package
        target = named.get((finding.vulnerability_id.upper(), package.name, package.version, package.path))
        if target is None or target == position:
            continue
        kept = out[target]
        if kept is None:  # never: a finding with aliases is not folded
            continue
        out[target] = combine(kept, finding)
        out[position] = None
    return tuple(finding for finding in out if finding is not None)


def _data_dates(scanner: ScannerInfo, found: list[MatchExploitData], source: str) -> MatchExploitData:
    """How old the report's KEV and EPSS data are, for `exploit_data.max_age_days`: the KEV entries
    are as old as Grype's DB (it carries the catalog), the EPSS scores as their oldest `date` says,
    else as old as the DB. Unknown (None) when the report says neither."""
    # A build time that is not one: the DB age check of `scan` says so; here the age is unknown.
    built = parse_moment(scanner.db_updated_at) if scanner.db_updated_at else None
    days = [score.date for part in found for score in part.epss if score.date is not None]
    scored = dt.datetime.combine(min(days), dt.time(), dt.UTC) if days else built
    return MatchExploitData(
        kev_given=any(part.kev for part in found),
        epss_given=any(part.epss for part in found),
        kev_date_released=built,
        epss_score_date=scored,
        source=source,
    )


def _match_exploit(match: JsonObject, at: At) -> MatchExploitData:
    """The KEV and EPSS data of one match; in the blind first pass a problem sends the reader to
    the located pass, whose error names the match's key path."""
    try:
        return read_grype_match(match, at.source, at.path())
    except ReportError:
        if at.blind:
            raise at.error("unreadable knownExploited or epss") from None
        raise


def _ignored_warning(doc: JsonObject, root: At) -> tuple[str, ...]:
    """A warning when Grype's own configuration suppressed matches: they never reach the policy
    (Grype's default rules for kernel headers packages are told apart from the user's); and one
    when its `exclude` kept packages from being scanned at all."""
    settings = _settings(doc)
    warnings = []
    excluded = settings.get("exclude")
    if isinstance(excluded, list) and excluded:
        warnings.append(
            f"{root.source}: Grype ran with `exclude` in its configuration ({_listed(excluded)}): the packages "
            "at those paths were not scanned, and the report says nothing of their findings; run "
            "Grype without it, and state exceptions in the gate's policy allowlist instead"
        )
    ignored = kernel = vex = 0
    headers: dict[str, None] = {}
    # With the setting true, rules of that shape are the user's own.
    defaults = settings.get("match-upstream-kernel-headers") is not True
    for match, _ in objects(doc, "ignoredMatches", root, null=False):
        if _by_vex(match):
            vex += 1
            continue
        if not (defaults and _kernel_headers_only(match)):
            ignored += 1
            continue
        kernel += 1
        artifact = match.get("artifact")
        name = artifact.get("name") if isinstance(artifact, dict) else None
        headers[name[:_PATH_LIMIT] if isinstance(name, str) and name else "?"] = None
    if kernel:
        names = ", ".join(list(headers)[:_SHOWN_PATHS]) + (" and more" if len(headers) > _SHOWN_PATHS else "")
        warnings.append(
            f"{root.source}: Grype's default `match-upstream-kernel-headers: false` suppressed {kernel} "
            f"match(es) of kernel headers packages ({names}), which it matched through the kernel they "
            "are built from; they are not in this verdict: run Grype with "
            "`match-upstream-kernel-headers: true` to have the policy judge them, as Trivy reports them"
        )
    if vex:
        documents = settings.get("vex-documents")
        listed = _listed(documents) if isinstance(documents, list) else ""
        warnings.append(
            f"{root.source}: Grype's VEX documents"
            + (f" ({listed})" if listed else "")
            + f" suppressed {vex} match(es) they state not affected or fixed; they are not in this "
            "verdict: list the documents in the gate's policy (`vex`) instead, where each finding they "
            "cover is allowlisted with its statement"
        )
    if ignored:
        # `only-fixed` and `only-notfixed` are ignore rules on the fix state in Grype: what they
        # suppressed is in `ignoredMatches` with the ignore list's.
        named = [f"{key}: true" for key in ("only-fixed", "only-notfixed") if settings.get(key) is True]
        # `--ignore-states` (Grype 0.72 and later), written as `ignore-wontfix`: ignore rules on
        # the fix states it lists, as `only-fixed`'s are.
        states = settings.get("ignore-wontfix")
        if isinstance(states, str) and states.strip():
            named.append(f"--ignore-states {states.strip()[:_PATH_LIMIT]}")
        which = ", ".join(named) if named else "a .grype.yaml ignore list"
        warnings.append(
            f"{root.source}: Grype's own configuration ({which}) suppressed {ignored} match(es); they are "
            "not in this verdict: state exceptions in the gate's policy allowlist instead"
        )
    return tuple(warnings)


# Grype's ignore rules for kernel headers packages, which it adds unless
# `match-upstream-kernel-headers` is true (cmd/grype/cli/commands/root.go, Grype 0.77 and later):
# a package of this type built from this upstream, matched through it (`exact-indirect-match`).
# The package names they match have changed between releases; the upstreams have not.
_KERNEL_HEADER_UPSTREAMS = frozenset({("rpm", "kernel"), ("deb", "linux"), ("deb", "linux.*")})


def _by_vex(match: JsonObject) -> bool:
    """Whether an ignored match was suppressed by a VEX statement given to Grype (`--vex`): its rule
    has the statement's status (grype/vex/openvex `matchingRule`, namespace `vex`)."""
    rules = match.get("appliedIgnoreRules")
    return isinstance(rules, list) and any(
        isinstance(rule, dict) and (rule.get("vex-status") or rule.get("namespace") == "vex")
        for rule in rules
    )


def _kernel_headers_only(match: JsonObject) -> bool:
    """Whether every ignore rule applied to an ignored match is one of Grype's default rules for
    kernel headers packages."""
    rules = match.get("appliedIgnoreRules")
    if not isinstance(rules, list) or not rules:
        return False
    for rule in rules:
        package = rule.get("package") if isinstance(rule, dict) else None
        if not isinstance(package, dict):
            return False
        upstream = (package.get("type"), package.get("upstream-name"))
        # Strings only: a list or an object there cannot be looked up (it is no rule of Grype's).
        if (
            rule.get("match-type") != "exact-indirect-match"
            or rule.get("vulnerability")
            or not all(isinstance(part, str) for part in upstream)
            or upstream not in _KERNEL_HEADER_UPSTREAMS
        ):
            return False
    return True


def _listed(values: list[object]) -> str:
    """The first `_SHOWN_PATHS` of `values` (paths, files), each cut at `_PATH_LIMIT`, and how
    many more there are."""
    more = f" and {len(values) - _SHOWN_PATHS} more" if len(values) > _SHOWN_PATHS else ""
    return ", ".join(str(value)[:_PATH_LIMIT] for value in values[:_SHOWN_PATHS]) + more


_SHOWN_PATHS = 3
"""How many `exclude` paths the warning names."""
_PATH_LIMIT = 100
"""The most characters of one `exclude` path shown."""


def _settings(doc: JsonObject) -> JsonObject:
    """The configuration Grype ran with (`descriptor.configuration`), or nothing. Read only for
    warnings, whose settings have changed shape across Grype releases: a value of another shape
    is passed over rather than refusing the report."""
    descriptor = doc.get("descriptor")
    settings = descriptor.get("configuration") if isinstance(descriptor, dict) else None
    return settings if isinstance(settings, dict) else {}


def _alert_warnings(doc: JsonObject, root: At) -> tuple[str, ...]:
    """A warning per kind of Grype alert (`alertsByPackage`, Grype 0.106 and later): a package from
    an end-of-life distribution (`distro-eol`) has vulnerability data that may be incomplete or
    outdated, so findings may be missing from the report, and Grype says so only on its terminal."""
    packages: dict[str, int] = {}
    distros: dict[str, dict[str, None]] = {}
    for entry, where in objects(doc, "alertsByPackage", root, null=False):
        kinds: dict[str, None] = {}
        for alert, alert_at in objects(entry, "alerts", where, null=False):
            kind = req_str(alert, "type", alert_at)
            kinds[kind] = None
            metadata = alert.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            version = metadata.get("version") if isinstance(metadata, dict) else None
            if isinstance(name, str) and name:
                label = f"{name} {version}" if isinstance(version, str) and version else name
                distros.setdefault(kind, {})[label] = None
        for kind in kinds:
            packages[kind] = packages.get(kind, 0) + 1
    warnings = []
    for kind, count in packages.items():
        named = ", ".join(distros.get(kind, ()))
        if kind == "distro-eol":
            warnings.append(
                f"{root.source}: Grype says {count} package(s) come from an end-of-life distribution"
                + (f" ({named})" if named else "")
                + ": its vulnerability data for them may be incomplete or outdated, so findings may be "
                "missing from this verdict; move the image to a supported release"
            )
        else:
            warnings.append(
                f"{root.source}: Grype raised a {kind!r} alert about {count} package(s)"
                + (f" ({named})" if named else "")
                + "; findings about them may be missing from this verdict"
            )
    return tuple(warnings)


def _finding(match: JsonObject, at: At, layers: LayerTable, severities: SeverityReader) -> Finding:
    vuln_at = at["vulnerability"]
    vuln = as_object(match.get("vulnerability"), vuln_at)
    related = (
        list(objects(match, "relatedVulnerabilities", at))
        if opt_list(match, "relatedVulnerabilities", at)
        else []
    )
    own_id = req_str(vuln, "id", vuln_at)
    if related:
        primary, aliases = choose_ids([own_id, *(req_str(rel, "id", where) for rel, where in related)])
    else:
        primary, aliases = own_id, ()

    art_at = at["artifact"]
    artifact = as_object(match.get("artifact"), art_at)
    pkg_type = str_or_empty(artifact, "type", art_at)
    path = ""
    layer_ids: list[str] = []
    linked: list[str] = []
    for location, where in objects(artifact, "locations", art_at):
        if not path and pkg_type not in OS_PACKAGE_TYPES:
            path = strip_root(str_or_empty(location, "path", where))
        layer_id = opt_str(location, "layerID", where)
        if layer_id:
            # A file Syft reached through a link (`accessPath`, the path it asked for, is not
            # `path`, the file's own) is another package's, from the layer that installed that
            # one: a Debian package's `/usr/share/doc/NAME` is often a link to the doc directory
            # of another package of its source (`libstdc++6` to `gcc-12-base`).
            access = location.get("accessPath")
            through_link = isinstance(access, str) and access and access != location.get("path")
            (linked if through_link else layer_ids).append(layer_id)
    upstream = next(iter(objects(artifact, "upstreams", art_at)), None)
    package = Package(
        name=req_str(artifact, "name", art_at),
        version=str_or_empty(artifact, "version", art_at),
        type=pkg_type,
        purl=opt_str(artifact, "purl", art_at),
        path=path,
        source_name=opt_str(upstream[0], "name", upstream[1]) if upstream else None,
        # Syft gives the upstream a version only when it differs from the package's own.
        source_version=opt_str(upstream[0], "version", upstream[1]) if upstream else None,
    )

    fixed, status = _fix(vuln, vuln_at)
    description = opt_str(vuln, "description", vuln_at)
    if description is None:
        description = next(filter(None, (opt_str(rel, "description", where) for rel, where in related)), None)
    # `links` before Grype 0.13, `urls` since.
    urls = str_list(vuln, "urls", vuln_at) or str_list(vuln, "links", vuln_at)
    scores = _cvss_scores(vuln, vuln_at, related)
    severity = severities.given(vuln, "severity", vuln_at)
    if severity is None:
        # The related records are the same vulnerability as other sources (NVD, GHSA) rate it.
        severity = severities.settle(
            [
                *(cvss_severity(major, score) for major, _, score, _, _ in scores),
                *(severities.given(rel, "severity", where) for rel, where in related),
            ]
        )
    return Finding(
        vulnerability_id=primary,
        package=package,
        severity=severity,
        aliases=aliases,
        fixed_versions=fixed,
        status=status,
        cvss=best_cvss(scores, _PREFERRED) if scores else None,
        title=None,
        description=description,
        primary_url=opt_str(vuln, "dataSource", vuln_at) or (urls[0] if urls else None),
        # The layer that installed the package is the earliest of its locations': Syft lists the
        # package database first (its primary evidence), from the last layer that changed the
        # database, whatever package that layer installed; a Debian package's own files
        # (`/var/lib/dpkg/info/NAME.md5sums`, its copyright), written when it is installed or
        # upgraded, follow from the layer that did it. Files reached through a link count only
        # when there is nothing else.
        layer=layers.get(layers.earliest(layer_ids or linked), None),
        scanners=("grype",),
    )


def _fix(vuln: JsonObject, at: At) -> tuple[tuple[str, ...], VendorStatus]:
    """The fixed versions and the vendor status, from every member through which a Grype version
    has said "fixed in":

    - `fix.versions` and `fix.state` (Grype 0.13 and later);
    - `fix.available[].version` (Grype 0.99 and later, with the date each fix was published;
      Grype 0.98 wrote `available` as one object without a version);
    - `fixedInVersion` (before Grype 0.13, which had neither `fix` nor a state).
    """
    fixed: list[str] = []
    status = VendorStatus.UNKNOWN
    fix = opt_object(vuln, "fix", at)
    if fix:
        fix_at = at["fix"]
        fixed += str_list(fix, "versions", fix_at)
        status = _FIX_STATES.get(str_or_empty(fix, "state", fix_at), VendorStatus.UNKNOWN)
        if type(fix.get("available")) is not dict:  # an object (Grype 0.98) names no version
            for available, where in objects(fix, "available", fix_at):
                version = opt_str(available, "version", where)
                if version and version not in fixed:
                    fixed.append(version)
    old = opt_str(vuln, "fixedInVersion", at)
    if old and old not in fixed:
        fixed.append(old)
    if status in _NO_FIX:
        # `fix.state` is Grype's word on whether this package has a fix (its --only-fixed keeps
        # the `fixed` state only): versions listed beside `not-fixed` or `wont-fix` are no
        # upgrade the gate may propose.
        return (), status
    if fixed and status is VendorStatus.UNKNOWN:
        status = VendorStatus.FIXED
    return tuple(fixed), status


def _cvss_scores(vuln: JsonObject, at: At, related: list[tuple[JsonObject, At]]) -> list[CvssCandidate]:
    """Every CVSS score of the matched record and its related records; the finding shows the one
    `best_cvss` picks.

    Order of preference: the newest CVSS version present (4.0, then 3.x, then 2.0); among records
    scoring that version, the matched record itself (the one Grype took the severity from), then
    NVD, then GitHub advisories, then any other source in sorted order.
    """
    candidates: list[CvssCandidate] = []
    _collect_cvss(vuln, at, True, candidates)
    for record, where in related:
        _collect_cvss(record, where, False, candidates)
    return candidates


def _collect_cvss(record: JsonObject, at: At, own: bool, out: list[CvssCandidate]) -> None:
    if own:
        # Before Grype 0.13 the matched record carried one score per version, without a source.
        for major, key in ((3, "cvssV3"), (2, "cvssV2")):
            old = opt_object(record, key, at)
            score = cvss_score(old, "baseScore", at[key]) if old else None
            if old and score is not None:
                out.append((major, _OWN, score, opt_str(old, "vector", at[key]), None))
    if not record.get("cvss"):
        opt_list(record, "cvss", at)  # an empty array or null; anything else is an error
        return
    namespace = opt_str(record, "namespace", at)
    for entry, where in objects(record, "cvss", at):
        metrics = opt_object(entry, "metrics", where)
        score = cvss_score(metrics, "baseScore", where["metrics"]) if metrics else None
        if score is None:
            continue
        version = str_or_empty(entry, "version", where)
        source = _source_name(opt_str(entry, "source", where), namespace)
        vector = opt_str(entry, "vector", where)
        out.append(
            (CVSS_VERSION_RANK.get(version[:1], 0), _OWN if own else source or "", score, vector, source)
        )


def _source_name(cvss_source: str | None, namespace: str | None) -> str | None:
    """Who scored a CVSS entry: its `source`, else the vulnerability record's namespace provider."""
    if cvss_source:
        return _CVSS_SOURCES.get(cvss_source, cvss_source)
    if namespace:
        provider = namespace.split(":", 1)[0]  # `nvd:cpe`, `github:language:ruby`, `redhat:distro:...`
        return "ghsa" if provider == "github" else provider
    return None


def _scanner(doc: JsonObject, root: At, source: str) -> ScannerInfo:
    descriptor = opt_object(doc, "descriptor", root)
    if not descriptor:
        return ScannerInfo(name="grype", source=source)
    at = root["descriptor"]
    version = opt_str(descriptor, "version", at)
    db = opt_object(descriptor, "db", at)
    built = None
    if db:
        # Database schema v5 writes `db.built`; v6 (Grype 0.87 and later) writes `db.status.built`.
        built = opt_str(db, "built", at["db"])
        status = opt_object(db, "status", at["db"])
        if built is None and status:
            built = opt_str(status, "built", at["db"]["status"])
    return ScannerInfo(
        name="grype",
        version=None if version == _NO_VERSION else version,
        db_updated_at=built,
        source=source,
    )


def _image(doc: JsonObject, root: At) -> tuple[ImageInfo | None, LayerTable]:
    src = opt_object(doc, "source", root)
    if not src or opt_str(src, "type", root["source"]) != "image":
        # A directory, file or SBOM scan: there is no image to describe.
        return None, LayerTable()
    at = root["source"]["target"]
    target = as_object(src.get("target"), at)
    reference = opt_str(target, "userInput", at)
    if reference is None:
        return None, LayerTable()
    scheme, colon, rest = reference.partition(":")
    if colon and scheme in _IMAGE_SCHEMES and rest:
        # `grype docker:app:1`: Grype reads the scheme off and scans `app:1`, and writes what it
        # was given. The policy's `image` globs and VEX products name the image, not the scheme.
        reference = rest
    config = _decoded_config(target, at)
    created_by = {info.diff_id: info.created_by for info in config.layers} if config else {}
    # Syft's image layer `digest` is the layer's diff id (stereoscope LayerMetadata.Digest).
    layers = tuple(
        LayerInfo(diff_id=diff_id, created_by=created_by.get(diff_id))
        for diff_id in (req_str(layer, "digest", where) for layer, where in objects(target, "layers", at))
    )
    arch = opt_str(target, "architecture", at)
    variant = opt_str(target, "variant", at)
    if arch and variant:
        arch = f"{arch}/{variant}"
    image = ImageInfo(
        reference=reference,
        digest=repo_digest(str_list(target, "repoDigests", at)),
        image_id=opt_str(target, "imageID", at),
        # Syft's image metadata: the digest of the manifest of the image it read (of the one
        # platform, where the repository digest is an index's).
        manifest_digest=opt_str(target, "manifestDigest", at),
        os=opt_str(target, "os", at) or (config.os if config else None),
        architecture=arch or (config.architecture if config else None),
        distro=_distro(doc, root),
        size=opt_int(target, "imageSize", at),
        layers=layers,
        labels=config.labels if config else (),
        created=config.created if config else None,
    )
    return image, LayerTable(layers)


def _decoded_config(target: JsonObject, at: At) -> ImageConfig | None:
    """The image config Syft embeds base64-encoded in `source.target.config`, if any."""
    encoded = opt_str(target, "config", at)
    if not encoded:
        return None
    try:
        config = loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise at["config"].error("expected a base64-encoded image config (JSON)") from None
    return parse_image_config(as_object(config, at["config"]), at["config"])


def _distro(doc: JsonObject, root: At) -> str | None:
    distro = opt_object(doc, "distro", root)
    if not distro:
        return None
    name = opt_str(distro, "name", root["distro"])
    version = opt_str(distro, "version", root["distro"])
    if not name:
        return None
    return f"{name} {version}" if version else name
