"""The typed decoder of Trivy reports (gate/scanners/trivy_typed.py) reads what the strict reader
reads, or hands the report to it: the same ScanReport on every corpus report, and on every hostile
input either the typed path declines or both give the same error.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import msgspec
import pytest

from gate.errors import ReportError
from gate.model import ScanReport
from gate.scanners import trivy_blocks
from gate.scanners._json import decode_report
from gate.scanners.ingest import load_report, parse_report_bytes
from gate.scanners.trivy import parse_trivy
from gate.scanners.trivy_blocks import decode_trivy_typed, read_trivy_typed
from gate.scanners.trivy_typed import _CHECKED_SCALAR, Vulnerability, _as_null, entry_dict
from tests.support.corpus import corpus_files

TRIVY_REPORTS = [path for path in corpus_files("trivy") if b'"SchemaVersion"' in path.read_bytes()[:4096]]


def strict(raw: bytes, name: str = "r.json", lenient: bool = False) -> ScanReport:
    """The strict reader alone: decode_report, then parse_trivy."""
    return parse_trivy(decode_report(lambda: raw, name), name, lenient_severity=lenient)


def strict_error(raw: bytes, name: str = "r.json") -> str:
    with pytest.raises(ReportError) as caught:
        strict(raw, name)
    return caught.value.message


@pytest.mark.parametrize("path", TRIVY_REPORTS, ids=lambda path: path.name)
@pytest.mark.parametrize("lenient", [False, True])
def test_every_corpus_report_reads_the_same_through_both_paths(path: Path, lenient: bool) -> None:
    raw = path.read_bytes()
    try:
        expected = strict(raw, str(path), lenient)
    except ReportError:
        assert read_trivy_typed(raw, str(path), lenient_severity=lenient) is None
        return
    # Every report Trivy wrote takes the typed path (else the test would prove nothing).
    assert decode_trivy_typed(raw) is not None
    assert read_trivy_typed(raw, str(path), lenient_severity=lenient) == expected
    assert load_report(path, lenient_severity=lenient) == expected


def test_the_corpus_has_trivy_reports() -> None:
    assert len(TRIVY_REPORTS) >= 30


def _report(
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


def test_a_plain_report_takes_the_typed_path() -> None:
    raw = _report()
    assert decode_trivy_typed(raw) is not None
    assert read_trivy_typed(raw, "r.json") == strict(raw)


# The members whose values the count does not walk, as `parse_trivy` refuses anything but a
# string (or null) there: an object in one, with or without a repeated key, and nesting.
_GIVEN = {
    "VulnerabilityID": '"CVE-2024-1"',
    "PkgName": '"openssl"',
    "InstalledVersion": '"1.0"',
    "Severity": '"HIGH"',
}


def _member(member: str, value: str, around: int) -> bytes:
    if member in _GIVEN:
        given = f'"{member}": {_GIVEN[member]}'
        return _report(around=around).replace(given.encode(), f'"{member}": {value}'.encode())
    return _report(vuln_members=f', "{member}": {value}', around=around)


def hostile_reports(around: int) -> dict[str, bytes]:
    """Every hostile input, the hostile entry between `around` plain ones on either side."""
    report = partial(_report, around=around)
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
            f"{kind} in {member}": _member(member, value, around)
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


HOSTILE = hostile_reports(0)
HOSTILE_AMID = hostile_reports(3)
"""The same, each hostile entry between plain ones: in a run of entries, or decoded alone."""


@pytest.mark.parametrize("raw", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_falls_back_to_the_strict_reader(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(raw)
    assert read_trivy_typed(raw, "r.json") is None
    try:
        expected: ScanReport | str = strict(raw, str(path))
    except ReportError as exc:
        expected = exc.message
    readers: list[Callable[[], ScanReport]] = [
        lambda: load_report(path),
        lambda: parse_report_bytes(raw, str(path)),
    ]
    for read in readers:
        try:
            got: ScanReport | str = read()
        except ReportError as exc:
            got = exc.message
        assert got == expected


def test_a_quoted_colon_in_a_description_only_costs_the_fallback() -> None:
    # `\":` inside a string counts as a key in the text: the counts differ, the strict reader reads.
    raw = _report(vuln_members=', "Description": "he said \\"no\\": fine"')
    assert read_trivy_typed(raw, "r.json") is None
    assert parse_report_bytes(raw, "r.json") == strict(raw)


def test_non_ascii_text_reads_the_same_without_escaping() -> None:
    title = "caf\u00e9 \u4e2d\u6587 \U0001f512"
    raw = _report(vuln_members=", " + json.dumps("Title") + ": " + json.dumps(title, ensure_ascii=False))
    report = read_trivy_typed(raw, "r.json")
    assert report is not None
    assert report == strict(raw)
    assert report.findings[0].title == title


def test_a_repeat_is_refused_with_its_path_through_load_report(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(HOSTILE["repeated unread member"])
    with pytest.raises(ReportError, match=r'Vulnerabilities\[0\]: duplicate key "References"'):
        load_report(path)


# Not a report the JSON decoding refuses: its error opens the path again to look for Trivy's table
# output, which a pipe without a writer never answers (as before the typed decoder).
@pytest.mark.parametrize("raw", [_report(), HOSTILE["wrong type"], HOSTILE["CVSS outside 0..10"]])
def test_a_pipe_is_read_once_on_either_path(raw: bytes, tmp_path: Path) -> None:
    # The strict reader cannot read a pipe again: the bytes read for the typed decode are kept.
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_bytes, args=(raw,))
    writer.start()
    try:
        got: ScanReport | str = load_report(pipe)
    except ReportError as exc:
        got = exc.message
    finally:
        writer.join()
    try:
        expected: ScanReport | str = strict(raw, str(pipe))
    except ReportError as exc:
        expected = exc.message
    assert got == expected


@pytest.mark.parametrize("path", TRIVY_REPORTS, ids=lambda path: path.name)
def test_the_entries_are_the_dicts_msgspec_would_make(path: Path) -> None:
    # The entries stay structs, which `parse_trivy` reads as they are; one that is not plain it
    # reads as the dict `entry_dict` makes, and that is the dict the report would decode to.
    raw = path.read_bytes()
    typed, again = decode_trivy_typed(raw), decode_trivy_typed(raw)
    if typed is None or again is None:
        return
    expected = msgspec.to_builtins(again._report, enc_hook=_as_null)
    got = typed.as_data()
    for result in got.get("Results") or ():
        if result.get("Vulnerabilities"):
            assert all(type(entry) is Vulnerability for entry in result["Vulnerabilities"])
            result["Vulnerabilities"] = [entry_dict(entry) for entry in result["Vulnerabilities"]]
    assert got == expected
    # The same members in the same order, down to each entry.
    assert list(got) == list(expected)
    for result, expected_result in zip(got.get("Results") or (), expected.get("Results") or (), strict=True):
        assert list(result) == list(expected_result)
        entries = zip(
            result.get("Vulnerabilities") or (), expected_result.get("Vulnerabilities") or (), strict=True
        )
        assert all(list(entry) == list(expected_entry) for entry, expected_entry in entries)


def test_a_search_that_fails_sends_the_report_to_the_strict_reader(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The search for keys with whitespace before their colon runs on a thread of its own; if it
    # cannot answer, the typed decode cannot prove its reading, and says nothing about it.
    class Failing:
        def search(self, text: bytes) -> None:
            raise MemoryError

    raw = _report()
    threads = threading.active_count()
    unhandled: list[object] = []
    monkeypatch.setattr(threading, "excepthook", unhandled.append)
    monkeypatch.setattr(trivy_blocks, "_SPACE_BEFORE_COLON", Failing())
    assert decode_trivy_typed(raw) is None
    assert parse_report_bytes(raw, "r.json") == strict(raw)
    assert threading.active_count() == threads
    assert unhandled == []
    assert capsys.readouterr() == ("", "")


# `parse_trivy` reads the typed decoder's structs as they are where an entry is plain, and from
# the dict `entry_dict` makes where it is not: each member of an entry, with every kind of value,
# reads as the strict reader reads it, or the report goes to the strict reader.
_ODD_VALUES = ('""', "null", "0", "1.5", "true", "[]", '["a"]', "[1]", "{}", '{"PURL": "pkg:deb/debian/a@1"}',
               '{"PURL": ""}', '{"DiffID": "sha256:1", "Digest": 2}', '{"nvd": {"V3Score": 7.5}}', '{"nvd": 3}', '"LOW"',
               '"x, < 2"', '"/srv/app"')  # fmt: skip
_STRUCT_MEMBERS = ("VulnerabilityID", "VendorIDs", "PkgID", "PkgName", "PkgPath", "PkgIdentifier",
                   "InstalledVersion", "FixedVersion", "Status", "Layer", "SeveritySource", "PrimaryURL",
                   "Title", "Description", "Severity", "VendorSeverity", "CVSS")  # fmt: skip
_PACKAGES = ', "Packages": [{"ID": "openssl@1.0", "Name": "openssl", "SrcName": "ssl", "SrcVersion": "1.0"}]'


@pytest.mark.parametrize("member", _STRUCT_MEMBERS)
@pytest.mark.parametrize("without_severity", [False, True])
@pytest.mark.parametrize("packages", [False, True])
def test_every_member_of_a_struct_reads_as_the_strict_reader_reads_it(
    member: str, without_severity: bool, packages: bool
) -> None:
    for value in _ODD_VALUES:
        raw = _member(member, value, around=1)
        if packages:
            raw = raw.replace(b'"Vulnerabilities"', _PACKAGES[2:].encode() + b', "Vulnerabilities"', 1)
        if without_severity and member != "Severity":
            raw = raw.replace(b'"Severity": "HIGH"', b'"Severity": null')
        try:
            expected: ScanReport | None = strict(raw)
        except ReportError:
            expected = None
        typed = read_trivy_typed(raw, "r.json")
        assert typed is None or typed == expected, (member, value)
        if expected is not None and member not in _CHECKED_SCALAR:
            assert typed == expected, (member, value)  # read on the typed path
