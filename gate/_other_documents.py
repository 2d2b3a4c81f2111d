"""The documents people give by mistake where the gate reads a report, a policy or VEX (a SARIF
log, an SBOM, another tool's report), told apart by a member their format requires: one table,
read by the report reader (gate/scanners/ingest.py), the policy reader (gate/policy/load.py) and
the VEX reader (gate/enrich/vex.py), each with what to do instead in its own words; and the keys
of Trivy's and Grype's configuration files and of Trivy's ignore files, which the policy, report
and VEX readers name."""

from __future__ import annotations

import re
from collections.abc import Iterable

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

# The top-level keys of Trivy's configuration file (trivy.yaml: its flags, grouped in sections
# such as `scan:` and `vulnerability:`, and a few flags of earlier releases) and of Grype's
# (.grype.yaml), from their documentation of the file. Given as the policy or as a report by
# someone moving a scanner's settings to the gate.
TRIVY_SECTIONS = frozenset(
    {
        "cache", "db", "image", "kubernetes", "license", "misconfiguration", "module", "pkg",
        "registry", "rego", "report", "repository", "sbom", "scan", "secret", "server", "vulnerability",
    }
)  # fmt: skip
TRIVY_CONFIG_KEYS = TRIVY_SECTIONS | {
    "cache-dir", "config", "debug", "dependency-tree", "exit-code", "exit-on-eol", "format",
    "ignore-policy", "ignore-unfixed", "ignorefile", "insecure", "list-all-pkgs", "no-progress",
    "output", "output-plugin-arg", "quiet", "scanners", "security-checks", "severity", "skip-db-update",
    "skip-dirs", "skip-files", "template", "timeout", "vuln-type",
}  # fmt: skip
GRYPE_CONFIG_KEYS = frozenset(
    {
        "add-cpes-if-none", "by-cve", "check-for-app-update", "db", "default-image-pull-source",
        "dev", "distro", "exclude", "external-sources", "fail-on-severity", "file", "ignore",
        "ignore-wontfix", "log", "match", "match-upstream-kernel-headers", "name", "only-fixed",
        "only-notfixed", "output", "platform", "pretty", "profiles", "quiet", "registry", "search",
        "show-suppressed", "sort-by", "vex-add", "vex-documents",
    }
)  # fmt: skip


TRIVYIGNORE_YAML_KEYS = frozenset({"licenses", "misconfigurations", "secrets", "vulnerabilities"})
"""The top-level keys of Trivy's `.trivyignore.yaml`, its ignore rules by kind of finding."""

_YAML_KEY = re.compile(r"([A-Za-z][\w-]*)[ \t]*:(?:[ \t]|\Z)")
"""A YAML mapping's key at the start of a line (`severity:`, `scan: {...}`)."""


def yaml_top_level_keys(text: str) -> list[str]:
    """The keys of a YAML mapping at the top of `text`, or none when a line at the top level is
    something else (a document that is no YAML mapping has none)."""
    keys = []
    for line in text.splitlines():
        if not line.strip() or line[0] in " \t#-":  # blank, nested, a comment, a list item or `---`
            continue
        key = _YAML_KEY.match(line.rstrip())
        if key is None:
            return []
        keys.append(key.group(1))
    return keys


def scanner_configuration(keys: Iterable[str]) -> tuple[str, str, str] | None:
    """(what the document is, the scanner, the option that reads it) when `keys`, the top-level
    keys of a YAML mapping, are all of them Trivy's or Grype's configuration keys; else None."""
    found = set(keys)
    if not found:
        return None
    trivy, grype = found <= TRIVY_CONFIG_KEYS, found <= GRYPE_CONFIG_KEYS
    if trivy and grype:
        return "a Trivy or Grype configuration", "a scanner", "trivy --config or grype --config"
    if trivy:
        return "a Trivy configuration (trivy.yaml)", "Trivy", "trivy --config"
    if grype:
        return "a Grype configuration (.grype.yaml)", "Grype", "grype --config"
    return None


_TRIVYIGNORE_LINE = re.compile(r"[^\s:#-][^\s:]*(?:[ \t]+[^\s:]+:\S*)*")
"""A line of Trivy's `.trivyignore`: an id, then options (`CVE-2019-0004 exp:2020-01-01`)."""


def is_trivyignore(text: str) -> bool:
    """Whether `text` is Trivy's `.trivyignore`: ids one a line, with comments and blank lines; one
    id at least has a digit, so that a word alone is not taken for one. Given as a report or as the
    policy by someone moving exceptions to the gate: the report and policy readers ask it."""
    lines = [line.strip() for line in text.removeprefix("\ufeff").splitlines()]
    ids = [line for line in lines if line and not line.startswith("#")]
    return (
        bool(ids)
        and all(_TRIVYIGNORE_LINE.fullmatch(line) for line in ids)
        and any(char.isdigit() for line in ids for char in line.split()[0])
    )
