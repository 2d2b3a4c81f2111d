"""The KEV catalog reader: the real catalog of the corpus, its variants (gzip, `\\/`), and bad files."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from gate.enrich.exploit import DataKind, KevEntry
from gate.enrich.kev import read_kev
from gate.errors import ExitCode, ReportError
from tests.support.corpus import corpus_file

KEV_FILE = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json")

GLIBC = KevEntry(
    cve="CVE-2023-4911",
    date_added=date(2023, 11, 21),
    due_date=date(2023, 12, 12),
    known_ransomware=False,
    vendor_project="GNU",
    product="GNU C Library",
    vulnerability_name="GNU C Library Buffer Overflow Vulnerability",
)


def real_doc() -> Any:
    return json.loads(KEV_FILE.read_bytes())


def test_the_real_catalog_reads_whole() -> None:
    catalog = read_kev(KEV_FILE)
    assert catalog.catalog_version == "2026.08.07"
    assert catalog.date_released == datetime(2026, 8, 7, 16, 45, 47, 64800, tzinfo=UTC)
    assert catalog.total == len(catalog.entries) == 1662
    assert catalog.entries["CVE-2023-4911"] == GLIBC
    raw = KEV_FILE.read_bytes()
    assert catalog.source.kind is DataKind.KEV
    assert catalog.source.path == str(KEV_FILE)
    assert catalog.source.sha256 == hashlib.sha256(raw).hexdigest()
    assert catalog.source.size == len(raw) == 1_417_615
    ransomware = [entry for entry in catalog.entries.values() if entry.known_ransomware]
    assert len(ransomware) == 338  # the entries whose knownRansomwareCampaignUse is "Known"


def test_only_the_wanted_cves_are_kept_but_all_are_counted() -> None:
    catalog = read_kev(KEV_FILE, frozenset({"CVE-2023-4911", "CVE-2099-0001"}))
    assert dict(catalog.entries) == {"CVE-2023-4911": GLIBC}
    assert catalog.total == 1662
    assert read_kev(KEV_FILE, frozenset()).entries == {}


def test_gzip_reads_the_same_and_is_told_by_content_not_name(tmp_path: Path) -> None:
    packed = gzip.compress(KEV_FILE.read_bytes())
    for name in ("kev.json.gz", "kev.json"):
        path = tmp_path / name
        path.write_bytes(packed)
        catalog = read_kev(path)
        assert catalog.entries == read_kev(KEV_FILE).entries
        assert catalog.source.sha256 == hashlib.sha256(packed).hexdigest()  # of the file as stored
        assert catalog.source.size == len(packed)


def test_slashes_escaped_as_cisa_writes_them_read_the_same(tmp_path: Path) -> None:
    # Every "/" of the file is inside a string (names, URLs, notes): `\/` is the same JSON value.
    escaped = KEV_FILE.read_bytes().replace(b"/", b"\\/")
    path = tmp_path / "kev.json"
    path.write_bytes(escaped)
    catalog = read_kev(path)
    assert catalog.entries == read_kev(KEV_FILE).entries
    assert catalog.entries["CVE-2025-32433"].product == "Erlang/OTP"


def edit(change: Callable[[Any], object]) -> Callable[[], bytes]:
    def build() -> bytes:
        doc = real_doc()
        doc["vulnerabilities"] = doc["vulnerabilities"][:3]
        doc["count"] = 3
        change(doc)
        return json.dumps(doc).encode()

    return build


def first(key: str, value: object) -> Callable[[Any], object]:
    return lambda doc: doc["vulnerabilities"][0].__setitem__(key, value)


def dropped(key: str) -> Callable[[Any], object]:
    return lambda doc: doc["vulnerabilities"][0].pop(key)


FIRST = "vulnerabilities[0] (CVE-2026-8037)"

BAD_FILES: list[tuple[str, Callable[[], bytes], str]] = [
    (
        "empty",
        lambda: b"",
        "kev.json: line 1 column 1: not valid JSON (Expecting value); expected the CISA KEV catalog",
    ),
    (
        "cut short",
        lambda: KEV_FILE.read_bytes()[:5000],
        "kev.json: line 56 column 28: not valid JSON (Unterminated string starting at)",
    ),
    (
        "an HTML page",
        lambda: b"<html><body>Access denied</body></html>",
        "kev.json: line 1 column 1: not valid JSON",
    ),
    (
        "an array",
        lambda: b"[]",
        "kev.json: expected the CISA KEV catalog (an object with catalogVersion, dateReleased and vulnerabilities), got an array",
    ),
    (
        "no version",
        edit(lambda doc: doc.pop("catalogVersion")),
        "kev.json: catalogVersion: missing (expected a string)",
    ),
    (
        "a release date without a time",
        edit(lambda doc: doc.__setitem__("dateReleased", "2026-08-07")),
        'kev.json: dateReleased: expected a date and time with a zone (ISO 8601), got "2026-08-07"',
    ),
    (
        "vulnerabilities not an array",
        edit(lambda doc: doc.__setitem__("vulnerabilities", {})),
        "kev.json: vulnerabilities: expected an array, got an object",
    ),
    (
        "no vulnerabilities at all",
        edit(lambda doc: doc.update(vulnerabilities=[], count=0)),
        "kev.json: vulnerabilities: empty: a KEV catalog lists the known exploited vulnerabilities",
    ),
    (
        "a count that does not match",
        edit(lambda doc: doc.__setitem__("count", 1662)),
        "kev.json: count: says 1662 entries, but vulnerabilities has 3",
    ),
    (
        "a count written as a string",
        edit(lambda doc: doc.__setitem__("count", "3")),
        'kev.json: count: expected a whole number, got "3"',
    ),
    (
        "an entry that is not an object",
        edit(lambda doc: doc["vulnerabilities"].__setitem__(1, "CVE-2026-8037")),
        'kev.json: vulnerabilities[1]: expected an object, got "CVE-2026-8037"',
    ),
    (
        "a bad CVE id",
        edit(first("cveID", "CVE-26-1")),
        'kev.json: vulnerabilities[0].cveID: expected a CVE id (CVE-YYYY-NNNN), got "CVE-26-1"',
    ),
    (
        "a date in another format",
        edit(first("dateAdded", "2026/08/07")),
        f'kev.json: {FIRST}.dateAdded: expected a date (YYYY-MM-DD), got "2026/08/07"',
    ),
    (
        "a day that does not exist",
        edit(first("dueDate", "2026-02-30")),
        f'kev.json: {FIRST}.dueDate: expected a date (YYYY-MM-DD), got "2026-02-30"',
    ),
    ("no due date", edit(dropped("dueDate")), f"kev.json: {FIRST}.dueDate: missing (expected a string)"),
    (
        "an unknown ransomware value",
        edit(first("knownRansomwareCampaignUse", "Maybe")),
        f'kev.json: {FIRST}.knownRansomwareCampaignUse: expected "Known" or "Unknown", got "Maybe"',
    ),
    (
        "a null product",
        edit(first("product", None)),
        f"kev.json: {FIRST}.product: expected a string, got null",
    ),
    (
        "a CVE listed twice",
        edit(lambda doc: doc["vulnerabilities"][2].__setitem__("cveID", "CVE-2026-8037")),
        "kev.json: vulnerabilities[2]: CVE-2026-8037 is listed twice (also at vulnerabilities[0])",
    ),
    (
        "nested too deeply",
        lambda: b"[" * 100_000 + b"]" * 100_000,
        "kev.json: not valid JSON (nested too deeply to read); expected the CISA KEV catalog",
    ),
    (
        "a number too long",
        lambda: KEV_FILE.read_bytes().replace(b'"count": 1662', b'"count": ' + b"3" * 5000, 1),
        "kev.json: not valid JSON (a number too long to read: more than 4300 digits); expected the CISA KEV catalog",
    ),
    (
        "a member given twice in an entry",
        lambda: KEV_FILE.read_bytes().replace(b'"dueDate": ', b'"dueDate": "2099-01-01", "dueDate": ', 1),
        'kev.json: the entry of "CVE-2026-8037" gives "dueDate" twice',
    ),
    (
        "a lone surrogate escape in a string the gate keeps",
        lambda: KEV_FILE.read_bytes().replace(b'"catalogVersion": "', b'"catalogVersion": "\\udfff', 1),
        'kev.json: catalogVersion: holds a lone UTF-16 surrogate ("\\udfff"), which is not text',
    ),
    (
        "NaN, which JSON does not have",
        lambda: KEV_FILE.read_bytes().replace(b'"notes": ', b'"cvss": NaN, "notes": ', 1),
        "kev.json: not valid JSON (NaN is not a JSON number); expected the CISA KEV catalog",
    ),
    (
        "UTF-8 that encodes a lone surrogate",
        lambda: KEV_FILE.read_bytes().replace(b"Progress", b"Progress\xed\xa0\x80", 1),
        "kev.json: not a JSON document (not UTF-8 text); expected the CISA KEV catalog",
    ),
    (
        "UTF-16",
        lambda: KEV_FILE.read_text(encoding="utf-8").encode("utf-16"),
        "kev.json: not a JSON document (not UTF-8 text); expected the CISA KEV catalog",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES]
)
def test_a_bad_catalog_is_an_exit_2_error_naming_the_file_and_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Callable[[], bytes], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("kev.json").write_bytes(content())
    with pytest.raises(ReportError) as caught:
        read_kev(Path("kev.json"))
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.diagnostics().startswith(message)
    assert "\n" not in caught.value.diagnostics()


def test_a_truncated_gzip_file_is_an_error(tmp_path: Path) -> None:
    packed = gzip.compress(KEV_FILE.read_bytes())
    path = tmp_path / "kev.json.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(
        ReportError, match=r"kev\.json\.gz: truncated or corrupt gzip data \(Compressed file ended"
    ):
        read_kev(path)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        ReportError, match=r"nothing\.json: cannot read the KEV catalog \(No such file or directory\)"
    ):
        read_kev(tmp_path / "nothing.json")


def test_a_gzip_bomb_is_refused_at_the_bound_after_decompression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", 2**20)
    path = tmp_path / "kev.json.gz"
    # 8 MiB of zeros inflate from about 8 KB: well under the bound as stored, far over it inflated.
    with gzip.open(path, "wb") as packed:
        for _ in range(8):
            packed.write(bytes(2**20))
    with pytest.raises(ReportError) as caught:
        read_kev(path)
    assert caught.value.diagnostics() == f"{path}: larger than 1 MiB (after decompression); not a KEV catalog"
    assert caught.value.exit_code == ExitCode.USAGE


def test_an_endless_file_is_refused_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", 2**20)
    with pytest.raises(ReportError) as caught:
        read_kev(Path("/dev/zero"))
    assert caught.value.diagnostics() == "/dev/zero: larger than 1 MiB; not a KEV catalog"


def test_the_catalog_reads_at_exactly_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = KEV_FILE.read_bytes()
    path = tmp_path / "kev.json.gz"
    path.write_bytes(gzip.compress(content))
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", len(content))
    assert read_kev(path).total == read_kev(KEV_FILE).total
    monkeypatch.setattr("gate._input_file.MAX_DATA_BYTES", len(content) - 1)
    with pytest.raises(ReportError, match="larger than"):
        read_kev(path)
