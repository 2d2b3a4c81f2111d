"""Trivy reports for the tests of its readers: the corpus reports Trivy wrote in its JSON format,
the strict reader alone, and a report of one entry built with any members, hostile ones included."""

from __future__ import annotations

from functools import partial

from gate.model import ScanReport
from gate.scanners._json import decode_report
from gate.scanners.trivy import parse_trivy
from gate.scanners.trivy_typed import _CHECKED_SCALAR
from tests.support.corpus import corpus_files

TRIVY_REPORTS = [path for path in corpus_files("trivy") if b'"SchemaVersion"' in path.read_bytes()[:4096]]
"""The corpus reports that carry Trivy's `SchemaVersion` (its JSON format)."""


def strict(raw: bytes, name: str = "r.json", lenient: bool = False) -> ScanReport:
    """The strict reader alone: decode_report, then parse_trivy."""
    return parse_trivy(decode_report(lambda: raw, name), name, lenient_severity=lenient)


def trivy_report(
    vuln_members: str = "", result_members: str = "", top_members: str = "", around: int = 0
) -> bytes:
    """A report of one entry with these members added, `around` plain entries before and after it."""
    vuln = (
        '{"VulnerabilityID": "CVE-2024-1", "PkgName": "openssl", "InstalledVersion": "1.0", '
        '"Severity": "HIGH", "References": ["https://example.com/a"]' + vuln_members + "}"
    )
    plain = [
        f'{{"VulnerabilityID": "CVE-2023-{number}", "PkgName": "zlib", "InstalledVersion": "2.0", "Severity": "LOW"}}'
        for number in range(2 * around)
    ]
    entries = ", ".join([*plain[:around], vuln, *plain[around:]])
    result = '{"Target": "img", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [' + entries + "]"
    result += result_members + "}"
    return (
        '{"SchemaVersion": 2, "ArtifactName": "img", "Results": [' + result + "]" + top_members + "}"
    ).encode()


# The members whose values the count does not walk, as `parse_trivy` refuses anything but a
# string (or null) there: an object in one, with or without a repeated key, and nesting.
_GIVEN = {
    "VulnerabilityID": '"CVE-2024-1"',
    "PkgName": '"openssl"',
    "InstalledVersion": '"1.0"',
    "Severity": '"HIGH"',
}


def member_report(member: str, value: str, around: int) -> bytes:
    """A report whose entry has `member` set to the JSON text `value`, in place of its own if it has one."""
    if member in _GIVEN:
        given = f'"{member}": {_GIVEN[member]}'
        return trivy_report(around=around).replace(given.encode(), f'"{member}": {value}'.encode())
    return trivy_report(vuln_members=f', "{member}": {value}', around=around)


def hostile_reports(around: int) -> dict[str, bytes]:
    """Every hostile input, the hostile entry between `around` plain ones on either side."""
    report = partial(trivy_report, around=around)
    hostile = {
        "repeated read member": report(vuln_members=', "Severity": "LOW"'),
        "repeated unread member": report(vuln_members=', "References": []'),
        "repeated key in an unread object": report(vuln_members=', "DataSource": {"ID": "a", "ID": "b"}'),
        "repeated key in CVSS": report(vuln_members=', "CVSS": {"nvd": {"V3Score": 9.8, "V3Score": 1.0}}'),
        "repeated result member": report(result_members=', "Target": "other"'),
        "repeated top-level member": report(top_members=', "SchemaVersion": 2'),
        "lone surrogate in a title": report(vuln_members=', "Title": "a \\ud800 b"'),
        "lone surrogate in an unread list": report(vuln_members=', "CweIDs": ["\\udc00"]'),
        # parse_trivy leaves the search for lone surrogates to msgspec on this path: every kind refused.
        "lone surrogate in a key": report(vuln_members=', "Custom": {"a\\ud800": 1}'),
        "lone low surrogate in a description": report(vuln_members=', "Description": "\\udfff"'),
        "surrogate pair reversed": report(vuln_members=', "Description": "\\ude00\\ud83d"'),
        "surrogate encoded in UTF-8": report(vuln_members=', "Title": "aXb"').replace(
            b"aXb", b"a\xed\xa0\x80b"
        ),
        "lone surrogate in a package name": report().replace(b'"PkgName": "', b'"PkgName": "\\ud800'),
        "long integer in an unread list": report(vuln_members=', "CweIDs": [' + "7" * 4301 + "]"),
        "long integer in a read member": report(
            vuln_members=', "VendorSeverity": {"nvd": ' + "3" * 4301 + "}"
        ),
        "null findings": report(result_members=', "Packages": null').replace(
            b'"Vulnerabilities": [', b'"Vulnerabilities": null, "X": ['
        ),
        "misspelled findings": report(result_members=', "Vulnerabilites": []'),
        "foreign findings": report(top_members=', "matches": []'),
        "severity outside the vocabulary": report(vuln_members=', "Severity": "CRIT"').replace(
            b'"Severity": "HIGH", ', b""
        ),
        "CVSS outside 0..10": report(vuln_members=', "CVSS": {"nvd": {"V3Score": 11}}'),
        "infinite CVSS": report(vuln_members=', "CVSS": {"nvd": {"V3Score": 1e999}}'),
        "NaN": report(vuln_members=', "CweIDs": [NaN]'),
        "wrong type": report(vuln_members=', "FixedVersion": 1'),
        "findings not a list": report().replace(b'"Vulnerabilities": [', b'"Vulnerabilities": {"a": ['),
        "control character in a string": report(vuln_members=', "Title": "a\tb"'),
        "not UTF-8": report(vuln_members=', "Title": "aXb"').replace(b"aXb", b"a\xffb"),
        "byte order mark": b"\xef\xbb\xbf" + report(),
        "deep nesting": report(vuln_members=', "Custom": ' + "[" * 3000 + "]" * 3000),
        "space before a colon": report(vuln_members=', "Title" : "t"'),
        # A key with whitespace before its colon is not counted in the text, so a repeated key could
        # hide behind it (the counts agree): only the search for such keys sends these back.
        "repeated key, the first with a space before its colon": report(
            vuln_members=', "Title" : "a", "Title": "b"'
        ),
        "repeated key, the second with a newline before its colon": report(
            vuln_members=', "Title": "a", "Title"\n: "b"'
        ),
        "repeated key, the first with a tab before its colon": report(
            vuln_members=', "Title"\t: "a", "Title": "b"'
        ),
        "a member Trivy does not write": report(vuln_members=', "Extra": {"a": 1}'),
        "schema version 1": report().replace(b'"SchemaVersion": 2', b'"SchemaVersion": 1'),
        "repeated key in an object in an unread list": report(vuln_members=', "CweIDs": [{"a": 1, "a": 2}]'),
        "deep nesting in an unread list": report(
            vuln_members=', "CweIDs": ["CWE-1", ' + "[" * 3000 + "]" * 3000 + "]"
        ),
    }
    hostile.update(
        {
            f"{kind} in {member}": member_report(member, value, around)
            for member in sorted(_CHECKED_SCALAR)
            for kind, value in (
                ("repeated key", '{"a": 1, "a": 2}'),
                ("an object", '{"a": 1}'),
                ("deep nesting", "[" * 3000 + "]" * 3000),
                ("shallow nesting", "[[]]"),
            )
        }
    )
    return hostile


HOSTILE_AMID = hostile_reports(3)
"""The same, each hostile entry between plain ones: in a run of entries, or decoded alone."""
