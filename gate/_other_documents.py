"""The documents people give by mistake where the gate reads a report, a policy or VEX (a SARIF
log, an SBOM, another tool's report), told apart by a member their format requires: one table,
read by the report reader (gate/scanners/ingest.py), the policy reader (gate/policy/load.py) and
the VEX reader (gate/enrich/vex.py), each with what to do instead in its own words."""

from __future__ import annotations

OTHER_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("runs", "a SARIF log"),
    ("bomFormat", "a CycloneDX document"),
    ("spdxVersion", "an SPDX document"),
    # `syft IMAGE -o json`, Syft's own SBOM format (and Grype's sibling: `grype sbom:FILE` reads it).
    ("artifactRelationships", "a Syft SBOM"),
    ("statements", "an OpenVEX document"),
    ("scan", "a GitLab security report"),
    ("document", "a CSAF document"),
)
"""(member, what the document is), in the order they are told apart."""
