"""Identifiers and CVSS vectors of a GitLab container-scanning vulnerability (schema 15.0.7).

GitLab tells two identifiers apart by `type` and `value`, shows `name` and links `url`; the first
identifier is the primary one that GitLab tracks the vulnerability by (GitLab docs, "Security scanner
integration", "Identifiers"), so it is always the finding's primary id, and every alias follows.
GitLab keeps only the first 20 identifiers of a vulnerability in its database (the pipeline view
shows them all); they are all written, primary first, aliases in the scanner's order.
"""

from __future__ import annotations

import re
from typing import Any

from gate.model import Finding
from gate.untrusted import md_escape, safe_url, terminal_safe

# Id prefix -> (identifier type, URL of the advisory). The types are those GitLab's analyzers
# define (analyzers/report `identifier.go`: cve, ghsa, rhsa, elsa, usn, osvdb) and, for the
# other advisory databases scanners report, the prefix in lower case. The CVE link is NVD's,
# as GitLab's container-scanning analyzer uses when an identifier has no URL.
IDENTIFIER_TYPES: dict[str, tuple[str, str | None]] = {
    "CVE": ("cve", "https://nvd.nist.gov/vuln/detail/{id}"),
    "GHSA": ("ghsa", "https://github.com/advisories/{id}"),
    "RHSA": ("rhsa", "https://access.redhat.com/errata/{id}"),
    "ELSA": ("elsa", "https://linux.oracle.com/errata/{id}.html"),
    "USN": ("usn", "https://ubuntu.com/security/notices/{id}"),
    "OSVDB": ("osvdb", None),
    "DSA": ("dsa", "https://security-tracker.debian.org/tracker/{id}"),
    "DLA": ("dla", "https://security-tracker.debian.org/tracker/{id}"),
    "ALAS": ("alas", "https://alas.aws.amazon.com/{id}.html"),
    "SNYK": ("snyk", "https://security.snyk.io/vuln/{id}"),
    "GO": ("go", "https://pkg.go.dev/vuln/{id}"),
    "PYSEC": ("pysec", "https://osv.dev/vulnerability/{id}"),
    "RUSTSEC": ("rustsec", "https://rustsec.org/advisories/{id}.html"),
}
OTHER_TYPE = "other"
"""The type of an id with no letter prefix (the schema requires a non-empty type)."""

_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9]*)-")
# Only ids of these characters are put into a URL, or named as they are: anything else (from an
# untrusted report) could change what the URL points to, or what GitLab's Markdown makes of it.
_URL_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*\Z")

# Schema 15.0.7 `cvss_vectors[].vector`: CVSS v2 (no prefix) or CVSS:3.0/3.1; anything else
# (CVSS 4.0, a v2 vector in parentheses) is left out rather than failing validation.
_V2_PART = r"(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))"
_V3_PART = r"(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])"
_CVSS_V2 = re.compile(rf"({_V2_PART}/)*{_V2_PART}")
_CVSS_V3 = re.compile(rf"CVSS:3[.][01]/({_V3_PART}/)*{_V3_PART}")

# Finding.cvss.source -> the vendor name GitLab shows beside a vector.
CVSS_VENDORS = {"nvd": "NVD", "ghsa": "GitHub", "redhat": "Red Hat"}


def storable(text: str) -> str:
    """`text` without U+0000, which GitLab's database cannot store in a text or JSON column: a
    report that holds one anywhere it keeps (an identifier, a location) is not ingested at all.
    Fields GitLab matches on are otherwise written as the scanner gave them."""
    return text.replace("\x00", "") if "\x00" in text else text


def identifier_type(vuln_id: str) -> tuple[str, str | None]:
    """(GitLab identifier type, advisory URL or None) for one id."""
    match = _PREFIX.match(vuln_id)
    if match is None:
        return OTHER_TYPE, None
    prefix = match.group(1).upper()
    kind, template = IDENTIFIER_TYPES.get(prefix, (prefix.lower(), None))
    if template is None or not _URL_SAFE_ID.match(vuln_id):
        return kind, None
    return kind, template.format(id=vuln_id)


def identifiers(finding: Finding) -> list[dict[str, Any]]:
    """Every id of the finding, primary first; none is dropped but exact repeats."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for position, vuln_id in enumerate(finding.ids):
        if not vuln_id:
            continue
        kind, url = identifier_type(vuln_id)
        if (kind, vuln_id) in seen:
            continue
        seen.add((kind, vuln_id))
        if url is None and position == 0:
            # The scanner's own link is about the primary id; no alias borrows it.
            url = safe_url(finding.primary_url)
        # Schema 15.0.7: `name` must not be empty, and an id of whitespace only flattens to nothing.
        # GitLab pastes `[name](url)` into the Markdown of an issue created from the
        # vulnerability (ee/app/views/vulnerabilities/issue_description.md.erb): an id of other
        # characters than an advisory id's is escaped (at most 3 characters for each of 80), so
        # it cannot close the link, mention anyone or add HTML there.
        if _URL_SAFE_ID.match(vuln_id):
            name = terminal_safe(vuln_id, 255)
        else:
            name = md_escape(vuln_id, 80) or md_escape(repr(vuln_id), 80)
        entry: dict[str, Any] = {"type": kind, "name": name, "value": storable(vuln_id) or name}
        if url:
            entry["url"] = url
        out.append(entry)
    return out


def cvss_vectors(finding: Finding) -> list[dict[str, str]]:
    """`cvss_vectors` for the finding's CVSS assessment, when its vector is one the schema accepts."""
    cvss = finding.cvss
    if cvss is None or not cvss.vector or len(cvss.vector) > 128:
        return []
    vector = cvss.vector
    if not (_CVSS_V3.fullmatch(vector) and len(vector) >= 32) and not (
        _CVSS_V2.fullmatch(vector) and len(vector) >= 16
    ):
        return []
    source = (cvss.source or "").strip()
    vendor = CVSS_VENDORS.get(source.lower(), terminal_safe(source, 100)) or "unknown"
    return [{"vendor": vendor, "vector": vector}]
