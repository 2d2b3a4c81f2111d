"""Report files: read one (any supported scanner, detected from its shape), merge several.

`load_report` is the one place a report file is opened, and `parse_report_bytes` reads a report a
scanner printed; every way either can fail is a `ReportError` with a one-line message naming the
file. `merge_reports` combines the reports of several scanners about one image into one `ScanReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from gate.errors import ReportError
from gate.model import Finding, ScanReport
from gate.report_json import decode_json as decode_json
from gate.report_json import decode_report
from gate.scanners._findings import combine, is_cve
from gate.scanners.grype import parse_grype
from gate.scanners.snyk import parse_snyk
from gate.scanners.trivy import parse_trivy

Parser = Callable[[object, str], ScanReport]

UNKNOWN_SHAPE = "not a Trivy (SchemaVersion 2), Grype (matches) or Snyk container (vulnerabilities) report"

# Members every `snyk test --json` project has besides `vulnerabilities`; GitLab, CycloneDX and
# CSAF documents also have `vulnerabilities` but none of these.
_SNYK_MEMBERS = (
    "ok",
    "packageManager",
    "projectName",
    "uniqueCount",
    "dependencyCount",
    "docker",
    "applications",
)


def load_report(path: Path) -> ScanReport:
    """Reads a Trivy, Grype or Snyk container JSON report, whichever `path` holds."""
    name = str(path)

    def read() -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ReportError(f"{name}: no such report file") from None
        except IsADirectoryError:
            raise ReportError(f"{name}: is a directory, not a report file") from None
        except OSError as exc:
            raise ReportError(f"{name}: cannot read the report ({exc.strerror or exc})") from None

    # The file's bytes are dropped once they are text, and the text once it is decoded: a report
    # can be hundreds of MB (see gate/report_json.py).
    return _parse(decode_report(read, name), name)


def parse_report_bytes(raw: bytes, name: str) -> ScanReport:
    """Reads a report already in memory (a scanner's standard output); `name` stands for the file."""
    return _parse(decode_report(lambda: raw, name), name)


def _parse(data: object, name: str) -> ScanReport:
    return detect_format(data, name)(data, name)


def detect_format(data: object, name: str) -> Parser:
    """The parser for a decoded report, chosen by its top-level shape."""
    if isinstance(data, dict):
        if "SchemaVersion" in data:
            return parse_trivy
        if "matches" in data:
            return parse_grype
        if "vulnerabilities" in data and any(key in data for key in _SNYK_MEMBERS):
            return parse_snyk
    elif isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        if all("vulnerabilities" in item for item in data):
            return parse_snyk
        if all("Target" in item for item in data):
            # Before schema version 2 (Trivy 0.20), Trivy wrote a bare array of results.
            raise ReportError(
                f"{name}: a Trivy report without SchemaVersion (written by Trivy before 0.20) "
                "is not supported (supported: SchemaVersion 2)"
            )
    raise ReportError(f"{name}: {UNKNOWN_SHAPE}", hint=_other_format(data))


# Documents people pass by mistake, told apart by a member their format requires.
_OTHER_FORMATS = (
    ("runs", "this is a SARIF log"),
    ("bomFormat", "this is a CycloneDX document"),
    ("statements", "this is an OpenVEX document"),
    ("scan", "this is a GitLab security report"),
    ("document", "this is a CSAF document"),
)


def _other_format(data: object) -> str | None:
    if isinstance(data, dict):
        for member, what in _OTHER_FORMATS:
            if member in data:
                return (
                    f"{what}; give the scanner's JSON output: trivy --format json, grype -o json, snyk --json"
                )
    return None


def merge_reports(reports: Sequence[ScanReport]) -> ScanReport:
    """One report from several reports about the same image (several scanners, or several files).

    Two findings merge when they are about the same package (name, version and path equal) and
    share an id (the primary id or any alias: a GHSA in one scanner and the CVE in another meet
    through the aliases). The merged finding keeps the earlier report's fields and takes from the
    later one only what the earlier lacks (see `gate.scanners._findings.combine`); it carries the
    union of ids and of scanner names. Severity is not maximized: the first report given is the
    one whose judgment stands, which keeps the result independent of how scanners rank vendors.

    Findings one report keeps apart are never merged with each other: each finding absorbs at most
    one finding of each later report (see `_PackageIndex.match` for which). Scanner infos, sources
    and warnings are the union, in order; the image is the first report's that has one.
    """
    if not reports:
        raise ValueError("merge_reports needs at least one report")
    if len(reports) == 1:
        return reports[0]
    merged: list[Finding] = []
    keys: set[tuple[str, str, str, str]] = set()
    indexes: dict[tuple[str, str, str], _PackageIndex] = {}
    for report in reports:
        absorbed: set[int] = set()
        # Findings this report adds or changes cannot take another finding of the same report, so
        # they enter the index only after it: lookups never wade through them.
        pending: list[tuple[_PackageIndex, int, tuple[str, ...]]] = []
        for finding in report.findings:
            package = finding.package
            index = indexes.get((package.name, package.version, package.path))
            if index is None:
                index = indexes[(package.name, package.version, package.path)] = _PackageIndex()
            target = index.match(finding, merged, absorbed)
            if target is None:
                target = len(merged)
                merged.append(finding)
                keys.add(finding.key)
                new_ids: tuple[str, ...] = finding.ids
            else:
                before = merged[target]
                merged[target] = _merged(before, finding, keys)
                new_ids = tuple(vuln_id for vuln_id in merged[target].ids if vuln_id not in before.ids)
            absorbed.add(target)
            pending.append((index, target, new_ids))
        for index, target, new_ids in pending:
            index.add(target, new_ids, has_cve=bool(_cves(merged[target])))
    return ScanReport(
        findings=tuple(merged),
        scanners=tuple(dict.fromkeys(info for report in reports for info in report.scanners)),
        image=next((report.image for report in reports if report.image is not None), None),
        sources=tuple(dict.fromkeys(src for report in reports for src in report.sources)),
        warnings=tuple(dict.fromkeys(warning for report in reports for warning in report.warnings)),
    )


class _PackageIndex:
    """The merged findings of one package (name, version, path), looked up by id (upper case)."""

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


def _merged(before: Finding, finding: Finding, keys: set[tuple[str, str, str, str]]) -> Finding:
    after = combine(before, finding)
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
