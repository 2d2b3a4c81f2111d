"""`--baseline FILE`: an earlier decision report (`--json`), read back as a `Baseline`.

Only the gate's own decision report is a baseline: a scanner's report has no `evaluated_at` and
no platform the gate vouched for, and a baseline whose findings mean something else would make a
pull request's findings look old. Every way the file can be wrong is a `ReportError` naming it;
the command line turns that into a warning (the full policy applies) or, with
`--baseline-required`, exit 2. The gate never writes a baseline itself.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TypeGuard

from gate._input_file import read_input, shown_name
from gate._json_at import describe
from gate.enrich.baseline import Baseline, BaselineFinding
from gate.errors import ReportError
from gate.scanners._json import decode_report
from gate.scanners.decision import SCHEMA, parse_decision


def load_baseline(path: Path, *, max_bytes: int | None = None, too_large_hint: str | None = None) -> Baseline:
    """The baseline in the decision report at `path`. A file of more than `max_bytes` is refused
    (the bound of a report), before it is read when it has a size to check: a device or a pipe
    that never ends would otherwise take all the memory of the run. `too_large_hint` says how to
    raise the bound, where the command has a way."""
    name = shown_name(path)

    def too_large() -> ReportError:
        return ReportError(
            f"{name}: the baseline is larger than {max_bytes:,} bytes, the most a report may be; not read",
            hint=too_large_hint,
        )

    def read() -> bytes:
        if max_bytes is not None and path.is_file() and path.stat().st_size > max_bytes:
            raise too_large()
        data = read_input(path, "baseline", read_as="the baseline", at_most=max_bytes)
        if max_bytes is not None and len(data) > max_bytes:
            raise too_large()
        return data

    # Not pruned: the findings' `kev` member is read here, and the report parsers never read it.
    data = decode_report(read, name, prune=False)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ReportError(
            f"{name}: not a decision report of container-gate (expected the --json output of an "
            f'earlier run, with "schema": "{SCHEMA}")'
        )
    report = parse_decision(data, name)
    created = data.get("evaluated_at")
    if created is not None and not _is_time(created):
        raise ReportError(
            f"{name}: evaluated_at: expected the time the report was made (RFC 3339, as the gate "
            f"writes it), got {describe(created, quote_strings=True)}"
        )
    raw_findings = data.get("findings")
    if not isinstance(raw_findings, list):
        # Read as no findings, every finding of this run would be new: the baseline would vouch
        # for nothing while saying it was used.
        raise ReportError(f"{name}: findings: expected an array of findings, got {describe(raw_findings)}")
    raws = raw_findings
    # Each finding's `kev` says whether it was known-exploited only when that run had KEV data: a
    # run with EPSS scores alone writes `"kev": null` for every finding too, and read as "not
    # listed then", every finding KEV lists now would look newly known-exploited.
    exploit_data = data.get("exploit_data")
    had_kev = isinstance(exploit_data, dict) and exploit_data.get("kev_listed") is not None
    findings = []
    for position, finding in enumerate(report.findings):
        raw = raws[position] if position < len(raws) and isinstance(raws[position], dict) else {}
        findings.append(
            BaselineFinding(
                vulnerability_id=finding.vulnerability_id,
                aliases=finding.aliases,
                package=finding.package.name,
                package_type=finding.package.type,
                path=finding.package.path,
                installed_version=finding.package.version,
                severity=finding.severity,
                fixable=finding.fixable,
                # A report written with KEV data says `"kev": {...}` or `"kev": null`.
                known_exploited=(raw["kev"] is not None) if had_kev and "kev" in raw else None,
            )
        )
    return Baseline(
        source=name,
        created=created if _is_time(created) else None,
        platform=report.image.platform if report.image else None,
        findings=tuple(findings),
    )


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_time(value: object) -> TypeGuard[str]:
    """A date-time as the decision report's `evaluated_at` holds it (`2026-12-01T12:00:00+00:00`)."""
    if not isinstance(value, str) or not _DAY.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
