"""The gate's own JSON decision report (`--json`, `container-gate/decision/v1`) read back as a report.

`explain VULN_ID --report gate.json` then explains a finding of an earlier scan without running
the scanner again (and `check gate.json` gates its findings under another policy): the findings
come back with everything the decision report keeps of them (ids, package, fix, severity, status,
CVSS, layer, scanners, and what each merged report said). The dispositions are not read back:
the policy given now decides them again, as it would for the scanner's own report.
"""

from __future__ import annotations

from gate.model import (
    Assessment,
    Cvss,
    Finding,
    ImageInfo,
    Layer,
    LayerOrigin,
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
    cvss_score,
    objects,
    opt_int,
    opt_object,
    opt_str,
    read_located,
    req_str,
    str_list,
    str_or_empty,
)
from gate.scanners._values import refuse_lone_surrogates

SCHEMA = "container-gate/decision/v1"
"""The `schema` member that tells a decision report apart."""

_SEVERITIES = {severity.name: severity for severity in Severity}
_STATUSES = {status.value: status for status in VendorStatus}
_ORIGINS = {origin.value: origin for origin in LayerOrigin}


def parse_decision(data: object, source: str, *, lenient_severity: bool = False) -> ScanReport:
    """Reads a decoded decision report; `source` names the file. (`lenient_severity` is accepted
    for the parsers' common signature: the gate writes only its own severity names.)"""
    report = read_located(_read_report, data, source)
    return refuse_lone_surrogates(report, data, source)


def _read_report(data: object, root: At) -> ScanReport:
    doc = as_object(data, root)
    if doc.get("verdict") == "error":
        error = opt_object(doc, "error", root)
        said = opt_str(error, "message", root["error"]) if error else None
        raise root["verdict"].error(
            f"the gate could not decide in that run, there are no findings ({said or 'no message'})"
        )
    findings = [_finding(item, at) for item, at in objects(doc, "findings", root, null=False)]
    scanners = tuple(
        ScannerInfo(
            name=req_str(item, "name", at),
            version=opt_str(item, "version", at),
            db_updated_at=opt_str(item, "db_updated_at", at),
            source=opt_str(item, "source", at),
        )
        for item, at in objects(doc, "scanners", root)
    )
    return ScanReport(
        findings=tuple(findings),
        scanners=scanners,
        image=_image(doc, root),
        sources=(root.source,),
        warnings=tuple(str_list(doc, "warnings", root)),
    )


def _word(obj: JsonObject, key: str, at: At, words: dict[str, object]) -> object:
    value = req_str(obj, key, at)
    if value not in words:
        raise at[key].error(f"expected one of {', '.join(words)}, got {value!r}")
    return words[value]


def _finding(item: JsonObject, at: At) -> Finding:
    cvss = opt_object(item, "cvss", at)
    score = cvss_score(cvss, "score", at["cvss"]) if cvss else None
    return Finding(
        vulnerability_id=req_str(item, "vulnerability_id", at),
        package=Package(
            name=req_str(item, "package", at),
            version=str_or_empty(item, "installed_version", at),
            type=str_or_empty(item, "package_type", at),
            purl=opt_str(item, "purl", at),
            path=str_or_empty(item, "path", at),
            source_name=opt_str(item, "source_package", at),
        ),
        severity=_word(item, "severity", at, _SEVERITIES),  # type: ignore[arg-type]
        aliases=tuple(str_list(item, "aliases", at)),
        fixed_versions=tuple(str_list(item, "fixed_versions", at)),
        status=_word(item, "status", at, _STATUSES),  # type: ignore[arg-type]
        cvss=Cvss(score, opt_str(cvss, "vector", at["cvss"]), opt_str(cvss, "source", at["cvss"]))
        if cvss and score is not None
        else None,
        title=opt_str(item, "title", at),
        primary_url=opt_str(item, "primary_url", at),
        layer=_layer(item, at),
        scanners=tuple(str_list(item, "scanners", at)),
        assessments=tuple(
            Assessment(
                scanner=req_str(said, "scanner", where),
                source=opt_str(said, "source", where),
                severity=_word(said, "severity", where, _SEVERITIES),  # type: ignore[arg-type]
                status=_word(said, "status", where, _STATUSES),  # type: ignore[arg-type]
                fixed_versions=tuple(str_list(said, "fixed_versions", where)),
            )
            for said, where in objects(item, "assessments", at)
        ),
    )


def _layer(item: JsonObject, at: At) -> Layer | None:
    layer = opt_object(item, "layer", at)
    if layer is None:
        return None
    where = at["layer"]
    origin = opt_str(layer, "origin", where)
    if origin is not None and origin not in _ORIGINS:
        raise where["origin"].error(f"expected base or own, got {origin!r}")
    return Layer(
        diff_id=opt_str(layer, "diff_id", where),
        digest=opt_str(layer, "digest", where),
        index=opt_int(layer, "index", where),
        created_by=opt_str(layer, "created_by", where),
        origin=_ORIGINS[origin] if origin else None,
        dockerfile_line=opt_int(layer, "dockerfile_line", where),
    )


def _image(doc: JsonObject, root: At) -> ImageInfo | None:
    image = opt_object(doc, "image", root)
    if image is None:
        return None
    at = root["image"]
    platform = opt_str(image, "platform", at)
    os_name, _, arch = (platform or "").partition("/")
    return ImageInfo(
        reference=req_str(image, "reference", at),
        digest=opt_str(image, "digest", at),
        image_id=opt_str(image, "image_id", at),
        os=os_name or None,
        architecture=arch or None,
        distro=opt_str(image, "distro", at),
        size=opt_int(image, "size", at),
        base_image=opt_str(image, "base_image", at),
        base_layer_count=opt_int(image, "base_layer_count", at),
    )
