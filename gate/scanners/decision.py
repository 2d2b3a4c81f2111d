"""The gate's own JSON decision report (`--json`, `container-gate/decision/v1`) read back as a report.

`explain VULN_ID --report gate.json` then explains a finding of an earlier scan without running
the scanner again (and `check gate.json` gates its findings under another policy): the findings
come back with everything the decision report keeps of them (ids, package, fix, severity, status,
CVSS, layer, scanners, and what each merged report said). The dispositions are not read back:
the policy given now decides them again, as it would for the scanner's own report. The KEV and
EPSS data each finding carries (`kev`, `epss`) come back too, like a Grype report's own fields:
a re-check decides on the data the first run had, unless a file of that kind is given now. So
do the architecture suspects the run found (`suspect`), when it looked for them: the report
keeps no description to look in again. So do the upgrades of direct dependencies a scanner named
(`direct_upgrades`, `no_direct_upgrade`), which the plan groups a finding by.

Of the report's warnings, only the reports' own (`report_warnings`: what the scanner reports
read or the scan said) come back. The run's own warnings (its policy, baseline, VEX statements,
the data's age or absence, options not used) are judged again by the re-check, with what it is
given and as of its own time. A report of an earlier release has no `report_warnings`: of its
`warnings`, those about the data's age or absence, about the baseline, about VEX statements
dated after the first run, and the policy's (which name its `policy.source`) are known by their
sentences and left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from gate.enrich._json import parse_date, parse_moment
from gate.enrich.baseline import is_baseline_warning
from gate.enrich.exploit import DataKind, EpssScore, KevEntry, is_data_warning
from gate.enrich.grype_exploit import MatchExploitData
from gate.enrich.vex_model import is_future_statement_warning
from gate.image.base_image import BaseCheck, BaseImageState
from gate.model import (
    Assessment,
    Cvss,
    DirectUpgrade,
    Finding,
    ImageInfo,
    Layer,
    LayerInfo,
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
    opt_bool,
    opt_int,
    opt_list,
    opt_object,
    opt_str,
    read_located,
    req_str,
    str_list,
    str_map,
    str_or_empty,
)
from gate.scanners._values import refuse_lone_surrogates

SCHEMA = "container-gate/decision/v1"
"""The `schema` member that tells a decision report apart."""

_SEVERITIES = {severity.name: severity for severity in Severity}
_STATUSES = {status.value: status for status in VendorStatus}
_ORIGINS = {origin.value: origin for origin in LayerOrigin}
_SUSPECT_KINDS = ("arch",)  # `gate.policy.model.SuspectKind`, which this stage does not import


def parse_decision(
    data: object,
    source: str,
    *,
    lenient_severity: bool = False,
    exploit: list[MatchExploitData] | None = None,
    base: list[BaseCheck] | None = None,
) -> ScanReport:
    """Reads a decoded decision report; `source` names the file. (`lenient_severity` is accepted
    for the parsers' common signature: the gate writes only its own severity names.) `exploit`,
    when given, receives the KEV and EPSS data of the report's findings, and what its
    `exploit_data` says of the data (which kinds the run had, and how old they were). `base`, when
    given, receives the base image check of the run (`scan --check-base`), when it had one."""
    sink = exploit
    # The list may hold the data of the reports read before this one: only this one's is redone.
    start = len(sink) if sink is not None else 0
    base_start = len(base) if base is not None else 0

    def read(doc: object, root: At) -> ScanReport:
        if sink is not None:
            del sink[start:]  # the located second pass reads every finding again
        if base is not None:
            del base[base_start:]
        return _read_report(doc, root, sink, base)

    report = read_located(read, data, source)
    return refuse_lone_surrogates(report, data, source)


def _read_report(
    data: object,
    root: At,
    exploit: list[MatchExploitData] | None = None,
    base: list[BaseCheck] | None = None,
) -> ScanReport:
    doc = as_object(data, root)
    if doc.get("verdict") == "error":
        error = opt_object(doc, "error", root)
        said = opt_str(error, "message", root["error"]) if error else None
        raise root["verdict"].error(
            f"the gate could not decide in that run, there are no findings ({said or 'no message'})"
        )
    looked = _looked_for_suspects(doc, root)
    findings = [_finding(item, at, looked) for item, at in objects(doc, "findings", root, null=False)]
    if exploit is not None:
        exploit += _exploit(doc, root)
    check = _base_check(doc, root, findings)
    if base is not None and check is not None:
        base.append(check)
    if "report_warnings" in doc:
        # The reports' own warnings, kept apart from the run's (its policy, baseline, VEX and
        # data), which this run judges again with what it is given now. Present, it replaces
        # `warnings`: null would drop them all unseen, so it is refused like any other non-array.
        if doc["report_warnings"] is None:
            raise root["report_warnings"].wrong("an array of strings", None)
        warnings = str_list(doc, "report_warnings", root)
    else:
        warnings = _older_report_warnings(doc, root, exploit is not None)
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
        warnings=tuple(warnings),
        named_after=_named_after(doc, root),
    )


def _named_after(doc: JsonObject, root: At) -> tuple[str, ...]:
    """The report files the run was named after (its SARIF category and JUnit suite, when no image
    is named): the ones its own report read back was named after (`named_after_all`; a report of
    an earlier release kept only the first, `named_after`), else the ones it read."""
    every = str_list(doc, "named_after_all", root)
    first = opt_str(doc, "named_after", root)
    if every:
        return tuple(every)
    return (first,) if first else tuple(str_list(doc, "sources", root))


def _older_report_warnings(doc: JsonObject, root: At, with_data: bool) -> list[str]:
    """The `warnings` of a report written before `report_warnings` was, without the run's own
    warnings that are known by their sentences. A VEX statement decides again only when given
    again, and is judged as of this run; so is a baseline, given again (said as of then, its age
    would be said twice), and the policy given now. With `with_data`, the data come back and are judged
    again, as of this run and with the data given now: the first run's sentences about them (as
    of then, naming its files) would say it a second time, or say the run has no data when it has."""
    policy = opt_object(doc, "policy", root)
    # The policy's warnings name its file first: the policy given now says its own.
    policy_source = opt_str(policy, "source", root["policy"]) if policy is not None else None
    warnings = [
        w
        for w in str_list(doc, "warnings", root)
        if not is_future_statement_warning(w)
        and not is_baseline_warning(w)
        and not (policy_source and w.startswith(f"{policy_source}: "))
    ]
    if with_data:
        warnings = [warning for warning in warnings if not is_data_warning(warning)]
    return warnings


def _word(obj: JsonObject, key: str, at: At, words: dict[str, object]) -> object:
    value = req_str(obj, key, at)
    if value not in words:
        raise at[key].error(f"expected one of {', '.join(words)}, got {value!r}")
    return words[value]


def _looked_for_suspects(doc: JsonObject, root: At) -> bool:
    """Whether the report's run looked for architecture suspects (`gate.policy.exploit_rules`):
    its policy had `ignore_suspects`, or it had exploit data. Its findings then say what it found
    (`suspect`, `suspect_reason`), which a re-check takes as it is: the report keeps no
    description to look in again."""
    policy = opt_object(doc, "policy", root)
    ignoring = str_list(policy, "ignore_suspects", root["policy"]) if policy is not None else []
    return bool(ignoring) or opt_object(doc, "exploit_data", root) is not None


def _suspect(item: JsonObject, at: At) -> str | None:
    """The reason of an architecture suspect (`suspect: arch`), or None for a finding without one."""
    kind = opt_str(item, "suspect", at)
    if kind is None:
        return None
    if kind not in _SUSPECT_KINDS:
        raise at["suspect"].error(f"expected one of {', '.join(_SUSPECT_KINDS)}, got {kind!r}")
    return req_str(item, "suspect_reason", at)


def _finding(item: JsonObject, at: At, looked: bool = False) -> Finding:
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
        arch_suspect=_suspect(item, at),
        arch_checked=looked,
        direct_upgrades=tuple(
            DirectUpgrade(
                name=req_str(upgrade, "package", where),
                version=str_or_empty(upgrade, "installed_version", where),
                target=req_str(upgrade, "target_version", where),
            )
            for upgrade, where in objects(item, "direct_upgrades", at)
        ),
        no_direct_upgrade=bool(opt_bool(item, "no_direct_upgrade", at)),
    )


def _layer(item: JsonObject, at: At) -> Layer | None:
    layer = opt_object(item, "layer", at)
    if layer is None:
        return None
    where = at["layer"]
    return Layer(
        diff_id=opt_str(layer, "diff_id", where),
        digest=opt_str(layer, "digest", where),
        index=opt_int(layer, "index", where),
        created_by=opt_str(layer, "created_by", where),
        origin=_origin(layer, where),
        dockerfile_line=opt_int(layer, "dockerfile_line", where),
    )


def _origin(layer: JsonObject, at: At) -> LayerOrigin | None:
    """A layer's `origin` (a finding's or one of the image's layers), when it says one."""
    origin = opt_str(layer, "origin", at)
    if origin is not None and origin not in _ORIGINS:
        raise at["origin"].error(f"expected base or own, got {origin!r}")
    return _ORIGINS[origin] if origin else None


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
        # Absent from reports written before it was added: None, as when it was unknown.
        manifest_digest=opt_str(image, "manifest_digest", at),
        os=os_name or None,
        architecture=arch or None,
        distro=opt_str(image, "distro", at),
        size=opt_int(image, "size", at),
        created=opt_str(image, "created", at),
        base_image=opt_str(image, "base_image", at),
        base_layer_count=opt_int(image, "base_layer_count", at),
        layers=tuple(
            _image_layer(layer, where, index)
            for index, (layer, where) in enumerate(objects(image, "layers", at))
        ),
        # The base-name label names a base given as an archive (`gate.policy.plan.base_image_name`).
        labels=tuple(sorted(str_map(image, "labels", at).items())),
    )


def _image_layer(layer: JsonObject, at: At, position: int) -> LayerInfo:
    """One of the image's layers (`image.layers`), written in order with its `index`."""
    index = opt_int(layer, "index", at)
    if index is not None and index != position:
        raise at["index"].error(f"expected its position in the list ({position}), got {index}")
    return LayerInfo(
        diff_id=str_or_empty(layer, "diff_id", at),
        created_by=opt_str(layer, "created_by", at),
        origin=_origin(layer, at),
        dockerfile_line=opt_int(layer, "dockerfile_line", at),
    )


def _base_check(doc: JsonObject, root: At, findings: list[Finding]) -> BaseCheck | None:
    """The run's base image check (`base_image`), as the check handed it to that run's evaluation:
    the policy given now judges it again (stale past its `max_age_days`, what a rebuild removes
    that blocks), and the remediation plan takes its findings as that run's did. None without
    one, and for a report of an earlier release, which does not say which findings a rebuild
    removes (`removed_findings`) nor whether the tag moved (`tag_moved`)."""
    data = opt_object(doc, "base_image", root)
    if data is None:
        return None
    at = root["base_image"]
    checked = opt_bool(data, "checked", at)
    if checked is None:
        raise at["checked"].wrong("a boolean", data.get("checked"))
    name = opt_str(data, "name", at)
    reason = opt_str(data, "reason", at)
    digest, current_digest = opt_str(data, "digest", at), opt_str(data, "current_digest", at)
    used = BaseImageState(name or "", digest, opt_str(data, "created", at), ()) if digest else None
    current = (
        BaseImageState(name or "", current_digest, opt_str(data, "current_created", at), ())
        if current_digest
        else None
    )
    if "removed_findings" not in data and "tag_moved" not in data:
        return None  # an earlier release's report
    for member, other in (("tag_moved", "removed_findings"), ("removed_findings", "tag_moved")):
        if member not in data:
            # Without it the base check would be left out, as an earlier release's: a stale base
            # that failed the run that checked it would pass when read back.
            raise at[member].error(f"missing (a report with {other} has it too)")
    if not checked:
        return BaseCheck(False, name=name, used=used, current=current, reason=reason)
    for member in ("name", "digest", "current_digest"):
        # A check that ran names the base and both its images: without one, the tag would read
        # as not moved, and a stale base that failed the run that checked it would pass.
        if not isinstance(data.get(member), str) or not data[member]:
            raise at[member].wrong("a non-empty string (the check ran: checked is true)", data.get(member))
    # A check that ran says both: a null would read as "the tag has not moved" and "a rebuild
    # removes nothing", a pass the run that checked did not give.
    moved = opt_bool(data, "tag_moved", at)
    if moved is None:
        raise at["tag_moved"].wrong("a boolean (the check ran: checked is true)", None)
    if data["removed_findings"] is None:
        raise at["removed_findings"].wrong("an array (the check ran: checked is true)", None)
    removed: list[Finding] = []
    for index, position in enumerate(opt_list(data, "removed_findings", at)):
        if type(position) is not int or not 0 <= position < len(findings):
            raise at["removed_findings"][index].wrong(
                f"the position of one of the report's {len(findings)} findings (from 0)", position
            )
        removed.append(findings[position])
    return BaseCheck(
        True, name=name, used=used, current=current, removed=tuple(removed), reason=reason, tag_moved=moved
    )


def _exploit(doc: JsonObject, root: At) -> list[MatchExploitData]:
    """The KEV and EPSS data of the report: one item for its `exploit_data`, one per finding that
    carries some, each keyed by the finding's own id (the id it is looked up under first)."""
    data = opt_object(doc, "exploit_data", root)
    if data is None:
        return []  # a run without the data: its findings carry none either
    at = root["exploit_data"]
    found = [
        MatchExploitData(
            kev_given=data.get("kev_listed") is not None,
            epss_given=data.get("epss_scored") is not None,
            kev_date_released=_stamp(data, "kev_date_released", at),
            epss_score_date=_stamp(data, "epss_score_date", at),
            source=root.source,
            from_files=_from_files(data, at),
        )
    ]
    for item, where in objects(doc, "findings", root, null=False):
        cve = req_str(item, "vulnerability_id", where).upper()
        kev = opt_object(item, "kev", where)
        epss = opt_object(item, "epss", where)
        if kev is None and epss is None:
            continue
        found.append(
            MatchExploitData(
                kev=(_kev_entry(cve, kev, where["kev"]),) if kev is not None else (),
                epss=(_epss_score(cve, epss, where["epss"]),) if epss is not None else (),
            )
        )
    return found


def _from_files(data: JsonObject, at: At) -> tuple[DataKind, ...]:
    """The kinds of data the report's run read from a KEV or EPSS file (`sources` with a `path`),
    or took from a report read back whose run did (`from_file`)."""
    kinds = {kind.value: kind for kind in DataKind}
    found: list[DataKind] = []
    for source, where in objects(data, "sources", at):
        kind = kinds.get(opt_str(source, "kind", where) or "")
        said = opt_bool(source, "from_file", where)  # checked even where a path says it already
        from_file = opt_str(source, "path", where) is not None or bool(said)
        if kind is not None and from_file and kind not in found:
            found.append(kind)
    return tuple(found)


def _kev_entry(cve: str, kev: JsonObject, at: At) -> KevEntry:
    return KevEntry(
        cve=cve,
        date_added=_day(kev, "date_added", at),
        due_date=_day(kev, "due_date", at),
        known_ransomware=bool(opt_bool(kev, "ransomware", at)),
    )


def _epss_score(cve: str, epss: JsonObject, at: At) -> EpssScore:
    return EpssScore(
        cve=cve,
        score=_probability(epss, "score", at),
        percentile=_probability(epss, "percentile", at),
        date=_day(epss, "date", at),
    )


def _probability(obj: JsonObject, key: str, at: At) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise at[key].error(f"expected a number from 0 to 1, got {value!r}")
    return float(value)


_T = TypeVar("_T")


def _day(obj: JsonObject, key: str, at: At) -> date | None:
    return _optional(obj, key, at, parse_date, "a date (YYYY-MM-DD)")


def _stamp(obj: JsonObject, key: str, at: At) -> datetime | None:
    return _optional(obj, key, at, parse_moment, "a date and time (ISO 8601)")


def _optional(
    obj: JsonObject, key: str, at: At, parse: Callable[[str], _T | None], expected: str
) -> _T | None:
    """Member `key` read by `parse`; None when it is absent or null, an error naming the key path
    when it is text that `parse` does not take."""
    text = opt_str(obj, key, at)
    if text is None:
        return None
    value = parse(text)
    if value is None:
        raise at[key].error(f"expected {expected}, got {text!r}")
    return value
