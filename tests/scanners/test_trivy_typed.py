"""The typed decoder of Trivy reports (gate/scanners/trivy_typed.py) reads what the strict reader
reads, or hands the report to it: the same ScanReport on every corpus report, and on every hostile
input either the typed path declines or both give the same error.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from gate.errors import ReportError
from gate.model import ScanReport
from gate.scanners import trivy_blocks
from gate.scanners.ingest import load_report, parse_report_bytes
from gate.scanners.trivy_blocks import decode_trivy_typed, read_trivy_typed
from gate.scanners.trivy_typed import _CHECKED_SCALAR, Vulnerability, _as_null, entry_dict
from tests.support.trivy_reports import TRIVY_REPORTS, hostile_reports, member_report, strict, trivy_report


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


def test_a_plain_report_takes_the_typed_path() -> None:
    raw = trivy_report()
    assert decode_trivy_typed(raw) is not None
    assert read_trivy_typed(raw, "r.json") == strict(raw)


HOSTILE = hostile_reports(0)


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
    raw = trivy_report(vuln_members=', "Description": "he said \\"no\\": fine"')
    assert read_trivy_typed(raw, "r.json") is None
    assert parse_report_bytes(raw, "r.json") == strict(raw)


def test_non_ascii_text_reads_the_same_without_escaping() -> None:
    title = "caf\u00e9 \u4e2d\u6587 \U0001f512"
    raw = trivy_report(vuln_members=", " + json.dumps("Title") + ": " + json.dumps(title, ensure_ascii=False))
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
@pytest.mark.parametrize("raw", [trivy_report(), HOSTILE["wrong type"], HOSTILE["CVSS outside 0..10"]])
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

    raw = trivy_report()
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
        raw = member_report(member, value, around=1)
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
