"""OpenVEX documents for the tests of VEX, and the corpus finding a GitHub advisory stands for
several CVEs in."""

from __future__ import annotations

import json
from typing import Any

from gate.enrich.vex import VexStatement, parse_vex
from gate.model import Finding, ScanReport
from gate.scanners.grype import parse_grype
from tests.support.corpus import corpus_json

HTTPCLIENT = {"@id": "pkg:maven/org.apache.httpcomponents/httpclient"}
"""The product of `ghsa_report`'s finding, as a statement names it."""


OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"


def openvex_document(*statements: Any, **document: Any) -> dict[str, Any]:
    """An OpenVEX document of these statements, its members changed or added by `document`."""
    return {
        "@context": OPENVEX_CONTEXT,
        "@id": "https://example.com/vex/1",
        "author": "Platform team",
        "timestamp": "2024-05-01T12:00:00Z",
        "version": 1,
        "statements": list(statements),
        **document,
    }


def openvex(
    *statements: dict[str, Any], timestamp: str = "2024-05-01T12:00:00Z", name: str = "app.openvex.json"
) -> tuple[VexStatement, ...]:
    """The statements of `openvex_document`, read as the gate reads a file named `name`."""
    doc = openvex_document(*statements, timestamp=timestamp)
    return parse_vex(json.dumps(doc).encode(), name)


def ghsa_report() -> tuple[ScanReport, Finding]:
    """Grype's report of a GitHub advisory, GHSA-cfh5-3ghh-wfjx in httpclient, standing for two CVEs
    (the second one is made up for the test), and its finding."""
    doc = corpus_json("grype", "ghsa-test.json")
    (ghsa,) = [m for m in doc["matches"] if m["vulnerability"]["id"] == "GHSA-cfh5-3ghh-wfjx"]
    ghsa["relatedVulnerabilities"].append({**ghsa["relatedVulnerabilities"][0], "id": "CVE-2014-9999"})
    report = parse_grype(doc, "grype.json")
    (httpclient,) = [f for f in report.findings if f.package.name == "httpclient"]
    assert httpclient.ids == ("CVE-2014-3577", "GHSA-cfh5-3ghh-wfjx", "CVE-2014-9999")
    return report, httpclient


def statement(
    vulnerability: str, status: str, product: dict[str, Any] = HTTPCLIENT, **extra: Any
) -> dict[str, Any]:
    """A statement of `status` about `vulnerability` in `product`, with a justification when it
    clears and gives no impact statement."""
    said: dict[str, Any] = {"vulnerability": {"name": vulnerability}, "products": [product], "status": status}
    if status == "not_affected" and "impact_statement" not in extra:
        said["justification"] = "vulnerable_code_not_in_execute_path"
    return {**said, **extra}
