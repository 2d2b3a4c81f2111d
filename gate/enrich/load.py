"""Reading the exploitability data a run was given: the boundary's one call before evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gate.enrich.epss import read_epss
from gate.enrich.exploit import ExploitData
from gate.enrich.kev import read_kev
from gate.model import Finding


def wanted_cves(findings: Iterable[Finding]) -> frozenset[str]:
    """Every CVE id of the findings, primary or alias, upper case: what the readers need to keep."""
    return frozenset(
        vuln_id.upper() for finding in findings for vuln_id in finding.ids if vuln_id[:4].upper() == "CVE-"
    )


def load_exploit_data(kev: Path | None, epss: Path | None, findings: Iterable[Finding]) -> ExploitData:
    """The KEV catalog and the EPSS scores of the given files (either may be None), keeping only the
    CVEs of `findings`. Raises `ReportError` (exit 2) for a file that cannot be read or understood."""
    wanted = wanted_cves(findings)
    return ExploitData.from_files(
        read_kev(kev, wanted) if kev is not None else None,
        read_epss(epss, wanted) if epss is not None else None,
    )
