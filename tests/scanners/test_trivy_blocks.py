"""A Trivy report read block by block (gate/scanners/trivy_blocks.py) reads as the strict reader
reads it, wherever the blocks end: runs of entries cut out and decoded as they come, the rest
decoded last, markers replaced by their runs; and the report's bytes are not all held at once.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gate.errors import ReportError
from gate.model import ScanReport
from gate.scanners import trivy_blocks
from gate.scanners.ingest import load_report, parse_report_bytes
from gate.scanners.trivy import parse_trivy
from gate.scanners.trivy_blocks import decode_trivy_blocks, decode_trivy_typed, read_trivy_typed
from tests.support.trivy_reports import HOSTILE_AMID, TRIVY_REPORTS, strict

SIZES = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 4096, 1 << 20]


def blocks(raw: bytes, size: int) -> Iterator[bytes]:
    return (raw[start : start + size] for start in range(0, len(raw), size))


def read_in_blocks(raw: bytes, size: int) -> ScanReport | None:
    """As `read_trivy_typed`, the text in blocks of `size` bytes."""
    typed = decode_trivy_blocks(blocks(raw, size))
    if typed is None:
        return None
    try:
        return parse_trivy(typed.as_data(), "r.json", surrogates_refused=True)
    except ReportError:
        return None


def entry(number: int, description: str = "d", cwe: object = "CWE-79") -> str:
    return json.dumps(
        {
            "VulnerabilityID": f"CVE-2024-{number}",
            "PkgName": f"lib{number % 7}",
            "InstalledVersion": "1.0",
            "FixedVersion": "1.1",
            "Severity": "HIGH",
            "Description": description,
            "References": [f"https://example.com/{number}"],
            "CweIDs": [cwe],
        },
        indent=2,
    )


def report(*results: list[str]) -> bytes:
    """A report of results with these entries, indented as Trivy writes it."""
    parts = [
        '{\n  "Target": "img",\n  "Class": "os-pkgs",\n  "Type": "debian",\n  "Vulnerabilities": [\n'
        + ",\n".join(entries)
        + "\n  ]\n}"
        for entries in results
    ]
    return (
        '{\n  "SchemaVersion": 2,\n  "ArtifactName": "img",\n  "Results": [\n'
        + ",\n".join(parts)
        + "\n  ]\n}\n"
    ).encode()


MANY = report([entry(n) for n in range(40)], [], [entry(n) for n in range(40, 45)], [entry(45)])


@pytest.mark.parametrize("path", TRIVY_REPORTS, ids=lambda path: path.name)
def test_every_corpus_report_reads_the_same_wherever_the_blocks_end(path: Path) -> None:
    raw = path.read_bytes()
    expected = strict(raw, "r.json")
    for size in SIZES:
        assert read_in_blocks(raw, size) == expected, size


def test_runs_across_results_and_empty_results_read_the_same_at_every_block_size() -> None:
    expected = strict(MANY)
    assert len(expected.findings) == 46
    for size in range(1, 700):
        assert read_in_blocks(MANY, size) == expected, size


def test_members_counted_in_a_run_that_did_not_decode_are_not_counted_twice() -> None:
    # An unread member holding an object is counted as it is decoded. With the key of a result's
    # entries escaped, nothing shows where one result's entries end and the next one's start: the
    # run across them fails as a list at its end, is decoded again entry by entry, and each
    # entry's members are counted once.
    raw = report([entry(n, cwe={"id": n}) for n in range(5)], [entry(n, cwe={"id": n}) for n in range(5, 9)])
    escaped = raw.replace(b'"Vulnerabilities"', b'"Vulnerabilit\\u0069es"')
    expected = strict(raw)
    assert strict(escaped) == expected
    for size in SIZES:
        assert read_in_blocks(raw, size) == expected, size
        assert read_in_blocks(escaped, size) == expected, size


def test_entries_longer_than_a_block_are_read_whole() -> None:
    raw = report([entry(n, "long " * 400) for n in range(6)])
    for size in (64, 500, 2001, 2100):
        assert read_in_blocks(raw, size) == strict(raw), size


def test_a_run_of_entries_outside_a_results_findings_goes_to_the_strict_reader() -> None:
    # Text that looks like entries, in a member `parse_trivy` does not read, is cut out as a run
    # too; its marker is then not among a result's findings, so the typed decode cannot assemble
    # the report and the strict reader reads it. Entries of one member count as many members as
    # their marker: only finding every marker tells. In small blocks no run is cut (no two
    # entries in one), and the typed decode reads the report whole.
    packages = [{"VulnerabilityID": f"GHSA-{n}"} for n in range(5)]
    raw = MANY.replace(
        b'"Type": "debian",', b'"Type": "debian", "Packages": ' + json.dumps(packages).encode() + b",", 1
    )
    expected = strict(raw)
    assert expected.findings == strict(MANY).findings
    assert decode_trivy_typed(raw) is None
    for size in SIZES:
        typed = decode_trivy_blocks(blocks(raw, size))
        if typed is not None:
            assert typed.as_data()["Results"][0]["Packages"] == packages, size
    assert parse_report_bytes(raw, "r.json") == expected


def test_entries_nested_in_an_entry_are_read_in_their_entry_or_by_the_strict_reader() -> None:
    # Whole in a run, the nested entries are part of their entry; alone in a small block, they
    # are cut out as a run whose marker is not among a result's findings, and the strict reader
    # reads the report.
    nested = '"Custom": [' + ", ".join(entry(n) for n in range(100, 104)) + "], "
    raw = MANY.replace(b'"PkgName": "lib3"', nested.encode() + b'"PkgName": "lib3"', 1)
    expected = strict(raw)
    ids = sorted(finding.vulnerability_id for finding in expected.findings)
    assert ids == sorted(finding.vulnerability_id for finding in strict(MANY).findings)
    outcomes = [read_in_blocks(raw, size) for size in SIZES]
    assert all(got in (None, expected) for got in outcomes)
    assert None in outcomes
    assert expected in outcomes
    assert parse_report_bytes(raw, "r.json") == expected


@pytest.mark.parametrize("amid", list(HOSTILE_AMID.values()), ids=list(HOSTILE_AMID))
def test_hostile_entries_among_others_fall_back_wherever_the_blocks_end(amid: bytes, tmp_path: Path) -> None:
    # The hostile entry stands between plain ones, in a run the list decode reads or alone.
    assert read_trivy_typed(amid, "r.json") is None
    for size in SIZES:
        assert read_in_blocks(amid, size) is None, size
    path = tmp_path / "r.json"
    path.write_bytes(amid)
    try:
        expected: ScanReport | str = strict(amid, str(path))
    except ReportError as exc:
        expected = exc.message
    try:
        got: ScanReport | str = load_report(path)
    except ReportError as exc:
        got = exc.message
    assert got == expected


@pytest.mark.parametrize(
    "name",
    [
        "space before a colon",
        "repeated key, the first with a space before its colon",
        "repeated key, the second with a newline before its colon",
        "repeated key, the first with a tab before its colon",
    ],
)
def test_whitespace_before_a_colon_is_found_across_every_block_boundary(name: str) -> None:
    raw = HOSTILE_AMID[name]
    for size in range(1, len(raw) + 1):
        assert decode_trivy_blocks(blocks(raw, size)) is None, size


def test_whitespace_across_several_blocks_before_a_colon_is_found() -> None:
    raw = MANY.replace(b'"PkgName": "lib3"', b'"PkgName"' + b" " * 50 + b'\n: "lib3"', 1)
    for size in (1, 7, 20, 49, 50, 51):
        assert decode_trivy_blocks(blocks(raw, size)) is None, size


def test_a_key_split_between_blocks_is_counted() -> None:
    # `":` split between two blocks counts once: the plain report reads at every block size.
    raw = report([entry(n) for n in range(3)])
    for size in range(1, len(raw) + 1):
        assert read_in_blocks(raw, size) == strict(raw), size


def test_nesting_near_the_recursion_limit_is_never_read_where_the_strict_reader_refuses_it() -> None:
    # Every decode runs deeper in the call stack than the strict reader's, so that a report nested
    # too deep for the strict reader is never read on this path, in a run or in the skeleton.
    refused = 0
    for depth in range(940, 1001):
        custom = '"Custom": ' + "[" * depth + "]" * depth + ", "
        raw = MANY.replace(b'"PkgName": "lib3"', custom.encode() + b'"PkgName": "lib3"', 1)
        if strict_error(raw) is not None:
            assert strict_error(raw) == "r.json: not valid JSON (nested too deeply to read)"
            refused += 1
            for size in (1 << 20, 300):
                assert read_in_blocks(raw, size) is None, (depth, size)
    assert refused > 0


def strict_error(raw: bytes) -> str | None:
    """The strict reader's error on `raw`, None if it reads it."""
    try:
        strict(raw)
    except ReportError as exc:
        return exc.message
    return None


def test_blocks_are_read_as_they_are_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Entries of long descriptions, as in a report of 711 MB that peaked at 1.4 GB decoded whole:
    # read in blocks, the bytes already decoded are dropped, where the bytes read at once are all
    # held while they are decoded.
    raw = report([entry(n, f"{n} " + "long text " * 1000) for n in range(1000)])
    path = tmp_path / "r.json"
    path.write_bytes(raw)
    monkeypatch.setattr("gate.scanners.ingest.BLOCK_SIZE", 1 << 20)
    at_once, at_once_peak = traced(lambda: parse_report_bytes(path.read_bytes(), str(path)))
    in_blocks, in_blocks_peak = traced(lambda: load_report(path))
    assert in_blocks == at_once == strict(raw, str(path))
    assert at_once_peak > 2 * len(raw)
    assert in_blocks_peak < at_once_peak - 0.5 * len(raw)


def traced(read: Callable[[], ScanReport]) -> tuple[ScanReport, int]:
    """What `read` returns, and the peak of the memory it took (Python's allocations)."""
    gc.collect()
    tracemalloc.start()
    try:
        got = read()
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("escaped", [False, True], ids=["in a run", "alone"])
def test_an_entry_is_refused_as_deep_as_the_skeleton_would_refuse_it(
    escaped: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the margin below the strict reader: a deep entry in a run of a large block, or
    # decoded alone (with the key of a result's entries escaped, the run across two results is
    # decoded entry by entry), is refused wherever the same entry, left in the skeleton by small
    # blocks, is.
    monkeypatch.setattr(trivy_blocks, "_DEPTH", 0)
    refused = 0
    for depth in range(940, 1001):
        custom = '"Custom": ' + "[" * depth + "]" * depth + ", "
        raw = MANY.replace(b'"PkgName": "lib3"', custom.encode() + b'"PkgName": "lib3"', 1)
        if escaped:
            raw = raw.replace(b'"Vulnerabilities"', b'"Vulnerabilit\\u0069es"')
        if read_in_blocks(raw, 300) is None:
            refused += 1
            assert read_in_blocks(raw, 1 << 20) is None, depth
    assert refused > 0
