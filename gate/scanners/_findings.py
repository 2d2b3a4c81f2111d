"""Rules every parser shares: the primary id, the best CVSS, and how two reports of one finding combine.

Primary id: a finding's `vulnerability_id` is the first CVE among the ids the scanner gives for the
entry, in the scanner's own order; without a CVE it is the scanner's own id. Every other id becomes an
alias (no duplicates, primary excluded, order kept). Policies, allowlists and merges then meet on CVEs,
the one id every scanner and distribution shares.

Combining: when one package is reported twice for the same vulnerability (twice in one file, or by two
scanners), the first report's fields are kept and only the fields it lacks are taken from the later one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from gate.model import Cvss, Finding, Layer, Package, Severity, VendorStatus


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


_SEVERITIES: dict[str | None, Severity] = {}


def severity_of(word: str | None) -> Severity:
    """`Severity.parse`, remembered per word: a report repeats a handful of words many times."""
    severity = _SEVERITIES.get(word)
    if severity is None:
        severity = Severity.parse(word)
        if len(_SEVERITIES) < 64:
            _SEVERITIES[word] = severity
    return severity


def strip_root(path: str) -> str:
    """A path inside the image without its leading slash, as `Package.path` is written."""
    return path.lstrip("/") if path.startswith("/") else path


CVSS_VERSION_RANK = {"2": 2, "3": 3, "4": 4}
"""Major CVSS version -> rank; a newer version is preferred over any source of an older one."""


CvssCandidate = tuple[int, str, float, str | None, str | None]
"""One CVSS assessment of an entry: (major version, ranking key, score, vector, source)."""


def best_cvss(candidates: Iterable[CvssCandidate], preferred: Sequence[str]) -> Cvss | None:
    """The best of an entry's CVSS assessments.

    The highest major version wins (4.0 over 3.x over 2.0): a newer version describes the
    vulnerability with more precision and is what current advisories publish. Among assessments of
    that version, the ranking key that comes first in `preferred` wins (each parser puts the source
    the scanner took its severity from first, then `nvd`, then `ghsa`); keys not listed follow in
    sorted order, and the report's order breaks the remaining ties. The choice never depends on the
    scores themselves, so the gate neither inflates nor hides a vendor's assessment.
    """
    best: CvssCandidate | None = None
    best_key: tuple[int, int, str, int] | None = None
    unlisted = len(preferred)
    for order, candidate in enumerate(candidates):
        source = candidate[1]
        rank = preferred.index(source) if source in preferred else unlisted
        key = (-candidate[0], rank, source if rank == unlisted else "", order)
        if best_key is None or key < best_key:
            best, best_key = candidate, key
    if best is None:
        return None
    return Cvss(score=best[2], vector=best[3], source=best[4])


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

    The first report's fields win; a field the first leaves empty (unknown severity, no CVSS, no
    title, no layer, no purl, ...) is filled from the later one. The fix data is one unit: when the
    first report knows neither a status nor a fixed version, both come from the later report, so a
    finding never says "affected" next to a fixed version. Ids and scanner names are the union, in
    order; the primary id follows `choose_ids` over the union (a CVE wins over a scanner's own id).
    """
    if _adds_nothing(first, later):
        return first
    primary, aliases = choose_ids((*first.ids, *later.ids))
    status, fixed = first.status, first.fixed_versions
    if not fixed and status is VendorStatus.UNKNOWN:
        status, fixed = later.status, later.fixed_versions
    elif not fixed and status is VendorStatus.FIXED and later.status is VendorStatus.FIXED:
        fixed = later.fixed_versions
    scanners = first.scanners + tuple(name for name in later.scanners if name not in first.scanners)
    return replace(
        first,
        vulnerability_id=primary,
        aliases=aliases,
        package=_fill_package(first.package, later.package),
        severity=first.severity if first.severity is not Severity.UNKNOWN else later.severity,
        fixed_versions=fixed,
        status=status,
        cvss=first.cvss or later.cvss,
        title=first.title or later.title,
        description=first.description or later.description,
        primary_url=first.primary_url or later.primary_url,
        layer=_fill_layer(first.layer, later.layer),
        scanners=scanners,
    )


def _adds_nothing(first: Finding, later: Finding) -> bool:
    """True when `combine(first, later)` would be `first` (the same report read twice, mostly)."""
    return (
        (later.scanners == first.scanners or all(name in first.scanners for name in later.scanners))
        and (later.ids == first.ids or all(vuln_id in first.ids for vuln_id in later.ids))
        and (first.severity is not Severity.UNKNOWN or later.severity is Severity.UNKNOWN)
        and (
            bool(first.fixed_versions)
            or (
                not later.fixed_versions
                and (first.status is not VendorStatus.UNKNOWN or later.status is VendorStatus.UNKNOWN)
            )
        )
        and (first.cvss is not None or later.cvss is None)
        and (first.title is not None or later.title is None)
        and (first.description is not None or later.description is None)
        and (first.primary_url is not None or later.primary_url is None)
        and (first.layer == later.layer or later.layer is None)
        and (first.package == later.package)
    )


def _fill_package(first: Package, later: Package) -> Package:
    if (
        (first.type or not later.type)
        and (first.purl or not later.purl)
        and (first.source_name or not later.source_name)
    ):
        return first
    return replace(
        first,
        type=first.type or later.type,
        purl=first.purl or later.purl,
        source_name=first.source_name or later.source_name,
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
