"""`scan --check-base`: what rebuilding the image on its base image's current tag would remove.

`gate.image.base_check.locate_base` finds the base image the image was built on and what its tag
points to now (registry reads only). When the tag moved on, the current base is scanned with the
same scanners and the same DB as the image (never updating the DB in between, so both scans
judge by the same advisories), and the image's findings in base-image layers that the current
base does not have are what a rebuild removes.

A finding is "still there" when the current base has a finding that shares one of its ids (the
primary id or an alias), in a package of the same name at the same path; the version is not
compared, since a rebuild is what changes it. Paths that spell the package's own version
(`pip-23.0.1.dist-info/METADATA`) are compared with that version taken out, so an upgraded but
still vulnerable package is not counted as removed.

Every way the check can fail (registry unreachable, tag gone, unauthorized, base not identifiable,
the current base not scannable) gives `BaseCheck(checked=False, reason=...)` and a warning in the
report: the check never changes a verdict by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from gate.errors import GateError
from gate.image.base_check import BaseNotChecked, NoBaseImage, base_reference, locate_base
from gate.image.base_image import BaseCheck
from gate.image.layers import attribute, attribute_layers
from gate.image.registry_auth import ConfigLogins, docker_config_file
from gate.image.resolve import resolve_image
from gate.model import Finding, Package, ScanReport
from gate.scanners.options import ScannerChoice, ScanOptions
from gate.scanners.run import run_scanners

REGISTRY_TIMEOUT = 60.0
"""Seconds each registry request of the check may take (as for reading an image)."""


def check_base(
    report: ScanReport, scanner: ScannerChoice, options: ScanOptions
) -> tuple[ScanReport, BaseCheck]:
    """The base image check of a scanned image's report.

    Returns the report (its layers attributed to the base image when only the check could tell
    which they are, and with a warning when the check could not run) and the check's result.
    """
    logins = ConfigLogins(docker_config_file(options.env), options.env, options.wording.login)
    check = _check(report, scanner, options, logins)
    # A login the Docker config has under the base registry's other spelling is said as for the
    # image's own registry (once, when the image's read said it already).
    said = tuple(w for w in logins.twin_logins if w not in report.warnings)
    if said:
        report = replace(report, warnings=(*report.warnings, *said))
    if not check.checked:
        warning = f"base image check: {check.reason}"
        return replace(report, warnings=(*report.warnings, warning)), check
    assert check.used is not None  # noqa: S101 - a check that ran identified the base
    return with_base_layers(report, len(check.used.diff_ids), check.name), check


def _check(
    report: ScanReport, scanner: ScannerChoice, options: ScanOptions, logins: ConfigLogins
) -> BaseCheck:
    info = report.image
    if info is None:
        return BaseCheck(False, reason="the report does not describe an image")
    try:
        name = str(base_reference(info, options.wording)[0])
    except BaseNotChecked as exc:
        return BaseCheck(False, reason=exc.diagnostics(), no_base=isinstance(exc, NoBaseImage))
    try:
        located = locate_base(
            info,
            logins,
            REGISTRY_TIMEOUT,
            options.wording,
            options.registry_ca_file,
        )
    except BaseNotChecked as exc:
        return BaseCheck(False, name=name, reason=exc.diagnostics())
    check = BaseCheck(True, name=located.name, used=located.used, current=located.current)
    if not located.changed:
        return check
    try:
        target = resolve_image(
            f"docker://{located.current.reference}",
            environ=options.env,
            timeout=REGISTRY_TIMEOUT,
            wording=options.wording,
            ca_file=options.registry_ca_file,
        )
        # The image's own scan already fetched or refreshed the DB: the base is judged by the same one.
        current = run_scanners(target, scanner, replace(options, skip_db_update=True))
    except GateError as exc:
        reason = (
            f"the current {located.name} ({located.current.digest}) could not be scanned: {exc.diagnostics()}"
        )
        return replace(check, checked=False, reason=reason)
    used_layers = frozenset(located.used.diff_ids)
    in_base = [f for f in report.findings if f.layer is not None and f.layer.diff_id in used_layers]
    return replace(check, removed=removed_findings(in_base, current.findings))


def _place(package: Package) -> tuple[str, str]:
    """(name, path) of a package, with its own version taken out of the path."""
    path = package.path
    if package.version and package.version in path:
        path = path.replace(package.version, "\0")
    return package.name, path


def removed_findings(in_base: Sequence[Finding], current: Iterable[Finding]) -> tuple[Finding, ...]:
    """The findings of `in_base` that no finding of `current` matches (an id in common, same
    package name and path; versions not compared)."""
    present: dict[tuple[str, str], set[str]] = {}
    for finding in current:
        present.setdefault(_place(finding.package), set()).update(i.upper() for i in finding.ids)
    return tuple(
        finding
        for finding in in_base
        if present.get(_place(finding.package), set()).isdisjoint(i.upper() for i in finding.ids)
    )


def with_base_layers(report: ScanReport, count: int, name: str | None) -> ScanReport:
    """The report with its bottom `count` layers attributed to the base image, when nothing had
    told them apart before (an archive whose labels name its base: only the check reads it)."""
    info = report.image
    if info is None or info.base_layer_count is not None or count > len(info.layers):
        return report
    lines = {i: layer.dockerfile_line for i, layer in enumerate(info.layers) if layer.dockerfile_line}
    layers = attribute(info.layers, count, lines, None)
    image = replace(info, layers=layers, base_layer_count=count, base_image=info.base_image or name)
    attributed = attribute_layers(report, image)
    # A warning the first attribution gave (findings in layers the image lacks) is not said twice.
    return replace(attributed, warnings=tuple(dict.fromkeys(attributed.warnings)))
