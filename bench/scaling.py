"""Large scanner reports made from the real ones in the corpus.

A corpus report holds a handful of findings; a monorepo image or a fat base image gives tens of
thousands. `scale_report` builds a report of exactly `count` findings by replicating the corpus'
real vulnerability entries (titles, descriptions, CVSS blocks, layers, purls as the scanner wrote
them) inside the real document structure of one corpus report (`BASES`). The entries of every
report of that scanner form the pool, with repeats of one finding removed. Copy `k` of an entry is
varied so that it stays a finding of its own once read (the gate merges findings that share an id,
package, version and path):

- OS packages get a new name (`libssl1.1` -> `libssl1.1-k7`, purl too), application packages a
  new path (`srv/app7/...`), so no two copies share a package;
- two copies in three get a new version (`1.2.3` -> `1.2.3.1`, purl too);
- CVE ids cycle through `ID_VARIANTS` numbers per real id, so one id is shared by many findings (as
  a CVE in a library vendored by many applications is), without all sharing the corpus' few ids.

OS entries of every distribution go into the base report's one OS result (or project): the gate
and Trivy read each entry on its own, so what matters is that the entries are real.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.shapes import Shaper
from gate.merge import choose_ids
from gate.scanners._findings import strip_root
from gate.scanners.grype import OS_PACKAGE_TYPES
from gate.scanners.ingest import parse_report_bytes
from gate.scanners.snyk import OS_PACKAGE_MANAGERS

Json = dict[str, Any]
"""A decoded JSON object of a report."""

KINDS = ("trivy", "grype", "snyk")
"""The scanners whose reports can be scaled."""

BASES = {
    "trivy": "aquasecurity-trivy__distroless-python27.json.golden",
    "grype": "anchore-grype__keycloak-test.json",
    "snyk": "snyk-cli__test-fixtures-container-app-vulns__resultJsonDataNonGrouped.json",
}
"""Per scanner, the corpus report whose document structure (metadata, image, projects) is kept."""

INDENT = {"trivy": 2, "grype": 1, "snyk": 2}
"""Per scanner, the indentation of its JSON output (Trivy's and Snyk's 2 spaces, Grype's 1)."""

ID_VARIANTS = 50
"""How many distinct CVE ids each real CVE id of the pool turns into across the copies."""

_CVE = re.compile(r"(CVE-\d{4}-)(\d+)\Z", re.IGNORECASE)


@dataclass(frozen=True)
class Facts:
    """What an allowlist entry can name about one finding of a scaled report."""

    vulnerability: str
    """The id the scanner gave the entry (a Trivy ignore file matches only this one)."""
    name: str
    """The package name, as the gate reads it."""
    version: str
    """The installed version."""
    purl: str | None
    """The package URL, when the scanner gave one."""
    path: str
    """The package path as the gate reads it: no leading slash, empty for OS packages."""


@dataclass(frozen=True)
class ScaledReport:
    """A scaled report and what an allowlist needs to know about its findings."""

    kind: str
    """`trivy`, `grype` or `snyk`."""
    document: Json
    """The report, ready for `json.dump`."""
    facts: tuple[Facts, ...]
    """One per finding, in report order."""
    image: str | None
    """The image reference the gate reads from the report, if any."""


def vary_id(vuln_id: str, k: int) -> str:
    """The id of copy `k`: one of `ID_VARIANTS` CVE numbers per real CVE; other ids are kept."""
    variant = k % ID_VARIANTS
    match = _CVE.match(vuln_id)
    if variant == 0 or match is None:
        return vuln_id
    return f"{match.group(1)}{int(match.group(2)) + 100_000 * variant}"


def vary_name(name: str, k: int) -> str:
    """The package name of copy `k`."""
    return name if k == 0 else f"{name}-k{k}"


def vary_version(version: str, k: int) -> str:
    """The installed version of copy `k` (two copies in three get one of their own)."""
    return version if k % 3 == 0 or not version else f"{version}.{k % 3}"


def vary_path(path: str, k: int) -> str:
    """The package path of copy `k`: the same file in another application's directory."""
    if k == 0 or not path:
        return path
    lead = "/" if path.startswith("/") else ""
    return f"{lead}srv/app{k}/{path.lstrip('/')}"


def vary_purl(purl: str, k: int, rename: bool) -> str:
    """The purl of copy `k`, its name and version changed as `vary_name` and `vary_version` do."""
    if k == 0:
        return purl
    cut = min((i for i in (purl.find("?"), purl.find("#")) if i >= 0), default=len(purl))
    main, rest = purl[:cut], purl[cut:]
    at = main.find("@", main.rfind("/") + 1)
    base, version = (main[:at], main[at + 1 :]) if at >= 0 else (main, None)
    if rename:
        base = vary_name(base, k)
    versioned = base if version is None else f"{base}@{vary_version(version, k)}"
    return versioned + rest


def _copies(count: int, pools: Sequence[Sequence[Json]]) -> Iterator[tuple[int, int, Sequence[Json]]]:
    """(copy number, pool index, entries) until `count` entries are handed out, pool by pool."""
    if count < 1 or not any(pools):
        raise ValueError(f"cannot build a report of {count} findings from {sum(map(len, pools))} entries")
    left, k = count, 0
    while True:
        for index, pool in enumerate(pools):
            part = pool[:left]
            if part:
                yield k, index, part
                left -= len(part)
            if left == 0:
                return
        k += 1


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _image_of(kind: str, document: Json) -> str | None:
    """The image reference the gate itself reads from a (small) report."""
    report = parse_report_bytes(json.dumps(document).encode(), f"{kind} base report")
    return report.image.reference if report.image else None


def _unique(keyed: Iterable[tuple[object, Json]], seen: set[object]) -> list[Json]:
    """The entries whose key (the finding's identity as the gate reads it) is not in `seen` yet."""
    fresh = []
    for identity, entry in keyed:
        if identity not in seen:
            seen.add(identity)
            fresh.append(entry)
    return fresh


# --- Trivy -----------------------------------------------------------------------------------


def _trivy(count: int, corpus: Path, shape: str = "corpus") -> ScaledReport:
    shaper = Shaper(shape)
    base = _load(corpus / "trivy" / BASES["trivy"])
    os_header = next(
        {k: v for k, v in r.items() if k not in ("Vulnerabilities", "Packages")}
        for r in base["Results"]
        if r.get("Class") == "os-pkgs"
    )
    os_pool: list[Json] = []
    lang: list[tuple[Json, list[Json]]] = []
    seen: set[object] = set()
    for path in sorted((corpus / "trivy").iterdir()):
        for result in _load(path).get("Results") or []:
            is_os = result.get("Class") == "os-pkgs"
            header = {k: v for k, v in result.items() if k not in ("Vulnerabilities", "Packages")}
            target = "" if is_os else strip_root(result.get("Target") or "")
            vulns = result.get("Vulnerabilities") or []
            fresh = _unique(((_trivy_key(v, strip_root(v.get("PkgPath") or target)), v) for v in vulns), seen)
            if is_os:
                os_pool.extend(fresh)
            elif fresh:
                lang.append((header, fresh))
    pools = [os_pool, *(entries for _, entries in lang)]
    os_result: Json = {**os_header, "Vulnerabilities": []}
    results = [os_result]
    facts: list[Facts] = []
    for k, index, entries in _copies(count, pools):
        if index == 0:
            os_result["Vulnerabilities"].extend(_trivy_entry(v, k, None, facts, shaper) for v in entries)
            continue
        header = dict(lang[index - 1][0])
        header["Target"] = vary_path(header.get("Target") or "", k)
        target = strip_root(header["Target"])
        vulns = [_trivy_entry(v, k, target, facts, shaper) for v in entries]
        results.append({**header, "Vulnerabilities": vulns})
    document = {**base, "Results": results}
    return ScaledReport("trivy", document, tuple(facts), _image_of("trivy", base))


def _trivy_key(vuln: Json, path: str) -> object:
    vendor = vuln.get("VendorIDs") or []
    primary = choose_ids([vuln["VulnerabilityID"], *vendor])[0]
    return (primary, vuln["PkgName"], vuln.get("InstalledVersion") or "", path)


def _trivy_entry(vuln: Json, k: int, target: str | None, facts: list[Facts], shaper: Shaper) -> Json:
    """Copy `k` of a vulnerability entry; `target` is None in the OS result."""
    out = dict(vuln)
    out["VulnerabilityID"] = vary_id(vuln["VulnerabilityID"], k)
    if vuln.get("VendorIDs"):
        out["VendorIDs"] = [vary_id(i, k) for i in vuln["VendorIDs"]]
    pkg_path = vuln.get("PkgPath") if target is not None else None
    rename = target is None or not (pkg_path or target)
    name = vary_name(vuln["PkgName"], k) if rename else vuln["PkgName"]
    version = vary_version(vuln.get("InstalledVersion") or "", k)
    out["PkgName"], out["InstalledVersion"] = name, version
    if "PkgID" in vuln:
        out["PkgID"] = f"{name}@{version}"
    ident = vuln.get("PkgIdentifier")
    purl = ident.get("PURL") if ident else None
    if ident and purl:
        purl = vary_purl(purl, k, rename)
        out["PkgIdentifier"] = {**ident, "PURL": purl}
    path = ""
    if pkg_path:
        out["PkgPath"] = vary_path(pkg_path, k)
        path = strip_root(out["PkgPath"])
    elif target is not None:
        path = target
    shaper.apply(out, path)
    facts.append(Facts(out["VulnerabilityID"], name, version, purl, path))
    return out


# --- Grype -----------------------------------------------------------------------------------


def _grype(count: int, corpus: Path) -> ScaledReport:
    base = _load(corpus / "grype" / BASES["grype"])
    seen: set[object] = set()
    pool: list[Json] = []
    for path in sorted((corpus / "grype").iterdir()):
        pool.extend(_unique(((_grype_key(m), m) for m in _load(path).get("matches") or []), seen))
    facts: list[Facts] = []
    matches = [_grype_match(m, k, facts) for k, _, part in _copies(count, [pool]) for m in part]
    document = {**base, "matches": matches}
    return ScaledReport("grype", document, tuple(facts), _image_of("grype", base))


def _grype_path(artifact: Json) -> str:
    if artifact.get("type") in OS_PACKAGE_TYPES:
        return ""
    return next((strip_root(p) for loc in artifact.get("locations") or [] if (p := loc.get("path"))), "")


def _grype_ids(match: Json) -> tuple[str, list[str]]:
    own: str = match["vulnerability"]["id"]
    related = [r["id"] for r in match.get("relatedVulnerabilities") or []]
    return own, related


def _grype_key(match: Json) -> object:
    own, related = _grype_ids(match)
    artifact = match["artifact"]
    primary = choose_ids([own, *related])[0]
    return (primary, artifact["name"], artifact.get("version") or "", _grype_path(artifact))


def _grype_match(match: Json, k: int, facts: list[Facts]) -> Json:
    out = dict(match)
    out["vulnerability"] = {**match["vulnerability"], "id": vary_id(match["vulnerability"]["id"], k)}
    if match.get("relatedVulnerabilities"):
        out["relatedVulnerabilities"] = [
            {**r, "id": vary_id(r["id"], k)} for r in match["relatedVulnerabilities"]
        ]
    artifact = dict(match["artifact"])
    rename = not _grype_path(artifact)
    if rename:
        artifact["name"] = vary_name(artifact["name"], k)
    else:
        artifact["locations"] = [
            {**loc, "path": vary_path(loc["path"], k)} if loc.get("path") else loc
            for loc in artifact["locations"]
        ]
    artifact["version"] = vary_version(artifact.get("version") or "", k)
    if artifact.get("purl"):
        artifact["purl"] = vary_purl(artifact["purl"], k, rename)
    if artifact.get("id") and k:
        artifact["id"] = f"{artifact['id']}-k{k}"
    out["artifact"] = artifact
    facts.append(
        Facts(
            out["vulnerability"]["id"],
            artifact["name"],
            artifact["version"],
            artifact.get("purl") or None,
            _grype_path(artifact),
        )
    )
    return out


# --- Snyk ------------------------------------------------------------------------------------


def _snyk(count: int, corpus: Path) -> ScaledReport:
    base = _load(corpus / "snyk" / BASES["snyk"])
    seen: set[object] = set()
    os_pool: list[Json] = []
    apps: list[tuple[Json, list[Json]]] = []
    for path in sorted((corpus / "snyk").iterdir()):
        doc = _load(path)
        projects = doc if isinstance(doc, list) else [doc, *(doc.get("applications") or [])]
        for project in projects:
            target = _snyk_target(project)
            # A grouped entry names several packages; one entry per name keeps counts exact.
            entries = [
                {**v, "name": name}
                for v in project["vulnerabilities"]
                for name in dict.fromkeys([v["name"]] if isinstance(v["name"], str) else v["name"])
            ]
            fresh = _unique(((_snyk_key(v, target), v) for v in entries), seen)
            if target is None:
                os_pool.extend(fresh)
            elif fresh:
                header = {k: v for k, v in project.items() if k != "vulnerabilities"}
                apps.append((header, fresh))
    facts: list[Facts] = []
    os_vulns: list[Json] = []
    applications: list[Json] = []
    for k, index, part in _copies(count, [os_pool, *(pool for _, pool in apps)]):
        if index == 0:
            os_vulns.extend(_snyk_entry(v, k, None, facts) for v in part)
            continue
        header = dict(apps[index - 1][0])
        for key in ("displayTargetFile", "targetFile"):
            if header.get(key):
                header[key] = vary_path(header[key], k)
        target = _snyk_target(header)
        applications.append({**header, "vulnerabilities": [_snyk_entry(v, k, target, facts) for v in part]})
    document: Json = {**base, "vulnerabilities": os_vulns, "applications": applications}
    return ScaledReport("snyk", document, tuple(facts), _image_of("snyk", base))


def _snyk_target(project: Json) -> str | None:
    """The application's manifest path, or None for the OS project (as the gate tells them apart)."""
    if project.get("packageManager") in OS_PACKAGE_MANAGERS:
        return None
    target = project.get("displayTargetFile") or project.get("targetFile")
    return strip_root(target) if target else None


def _snyk_ids(vuln: Json) -> list[str]:
    ids: list[str] = [vuln["id"]]
    for kind, values in (vuln.get("identifiers") or {}).items():
        if kind != "CWE":
            ids.extend(v if isinstance(v, str) else f"{kind}-{v}" for v in values or [])
    return ids


def _snyk_name(vuln: Json, target: str | None) -> str:
    name: str = vuln["name"]
    prefix = vuln["packageName"] + "/"
    return name[len(prefix) :] if target is None and name.startswith(prefix) else name


def _snyk_key(vuln: Json, target: str | None) -> object:
    primary = choose_ids(_snyk_ids(vuln))[0]
    return (primary, _snyk_name(vuln, target), vuln.get("version") or "", target or "")


def _snyk_entry(vuln: Json, k: int, target: str | None, facts: list[Facts]) -> Json:
    out = dict(vuln)
    identifiers = vuln.get("identifiers")
    if identifiers:
        out["identifiers"] = {
            kind: [vary_id(v, k) if isinstance(v, str) else v for v in values or []]
            for kind, values in identifiers.items()
        }
    if target is None:
        out["name"] = vary_name(vuln["name"], k)
    out["version"] = vary_version(vuln.get("version") or "", k)
    primary = choose_ids(_snyk_ids(out))[0]
    facts.append(Facts(primary, _snyk_name(out, target), out["version"], None, target or ""))
    return out


_SCALERS: dict[str, Callable[[int, Path], ScaledReport]] = {"trivy": _trivy, "grype": _grype, "snyk": _snyk}


def scale_report(kind: str, count: int, corpus: Path, shape: str = "corpus") -> ScaledReport:
    """A `kind` report of exactly `count` distinct findings built from the corpus at `corpus`,
    in one of `bench.shapes.SHAPES` (only Trivy reports come in other shapes than `corpus`)."""
    if kind == "trivy":
        return _trivy(count, corpus, shape)
    if shape != "corpus":
        raise ValueError(f"only Trivy reports are reshaped, not {kind}")
    return _SCALERS[kind](count, corpus)
