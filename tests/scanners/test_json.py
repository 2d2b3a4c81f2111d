"""Decoding report JSON with bounded memory: the same documents and the same errors as plain `json`.

Non-ASCII text is escaped before decoding, and members no parser reads are dropped from
vulnerability entries (gate/scanners/_json.py); neither may change a report as the parsers read it,
nor the wording of any error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.errors import ReportError
from gate.scanners import _json
from gate.scanners._json import decode_json, decode_report
from gate.scanners.ingest import detect_format, load_report
from tests.support.corpus import REPORT_KINDS, corpus_file, corpus_files, corpus_json

REPORTS = [path for kind in REPORT_KINDS for path in corpus_files(kind)]

NON_ASCII = [
    "caf\u00e9 \u2019quoted\u2019 \u0142\u0144",  # 2-byte characters, as in Snyk descriptions
    "\u4e2d\u6587 \u00e9",  # CJK
    "emoji \U0001f512 and \U00010348",  # astral: surrogate pairs once escaped
    'a \\"quoted\\" word and a backslash \\\\ before \u00e9',
]


def plain_error(text: bytes) -> str:
    """The message the reader gave before escaping existed: decode as written."""
    with pytest.raises(ReportError) as caught:
        _json._loads(_json._utf8(text, "r.json"), "r.json", prune=False)
    return caught.value.message


@pytest.mark.parametrize("value", NON_ASCII)
@pytest.mark.parametrize("chunk", [3, 7, 1 << 22])
def test_non_ascii_text_decodes_to_the_same_document(
    value: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks cut multi-byte characters and escapes apart; the result must not notice.
    monkeypatch.setattr(_json, "_CHUNK", chunk)
    document = {"title": json.loads(f'"{value}"'), "list": ["\u00e9", {"k\u00e9y": "v\u00e0l"}], "n": 1}
    raw = json.dumps(document, ensure_ascii=False).encode()
    assert decode_json(raw, "r.json") == document
    assert decode_json(b"\xef\xbb\xbf" + raw, "r.json") == document  # with a byte order mark


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(document=JSON_VALUES, chunk=st.integers(min_value=1, max_value=64))
def test_any_document_decodes_as_plain_json_does(document: object, chunk: int) -> None:
    raw = json.dumps({"v": document}, ensure_ascii=False).encode()
    original = _json._CHUNK
    _json._CHUNK = chunk  # hypothesis runs many examples per test: no monkeypatch fixture
    try:
        assert decode_json(raw, "r.json") == json.loads(raw)
    finally:
        _json._CHUNK = original


def test_escaping_reaches_one_byte_per_character() -> None:
    raw = json.dumps({"d": "\u2019" + "x" * 1000}, ensure_ascii=False).encode()
    text, escaped = _json._compact_text(lambda: raw)
    assert escaped
    assert text is not None
    assert text.isascii()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\\xc3\xa9"}',  # a backslash before a non-ASCII character: an invalid escape
        b'{"a": 1}\xc2\xa0x',  # a non-breaking space is not JSON whitespace
        '{"caf\u00e9": [1, 2,\n  3 4]}'.encode(),  # a column after a non-ASCII character
        '{"\u00e9": "unterminated'.encode(),
        b'{"a": "\xff"}',  # not UTF-8
        '{"\u00e9": NaN}'.encode(),
    ],
)
def test_errors_are_worded_as_for_the_text_as_written(raw: bytes) -> None:
    with pytest.raises(ReportError) as caught:
        decode_json(raw, "r.json")
    assert caught.value.message == plain_error(raw)
    assert caught.value.message.startswith("r.json: not valid JSON (")


def test_a_backslash_before_non_ascii_in_the_next_chunk_is_still_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = b'{"ab": "\\\xc3\xa9"}'
    monkeypatch.setattr(_json, "_CHUNK", raw.index(b"\\") + 1)
    with pytest.raises(ReportError, match="invalid \\\\escape"):
        decode_json(raw, "r.json")


@pytest.mark.parametrize("path", REPORTS, ids=[path.name for path in REPORTS])
def test_every_corpus_report_reads_the_same_without_the_unread_members(path: Path) -> None:
    # A parser that starts reading a member its module lists as unread makes this fail.
    data = json.loads(path.read_text(encoding="utf-8"))
    assert load_report(path) == detect_format(data, str(path))(data, str(path))


def test_unread_members_are_dropped_from_entries_only() -> None:
    doc = corpus_json("trivy", "debian-buster.json.golden")
    labels = {"VulnerabilityID": "x", "PkgName": "y", "References": "kept: a string"}
    doc["Metadata"]["ImageConfig"]["config"]["Labels"] = labels
    decoded = decode_report(lambda: json.dumps(doc).encode(), "r.json")
    assert isinstance(decoded, dict)
    vuln = decoded["Results"][0]["Vulnerabilities"][0]
    assert "References" not in vuln
    assert "CweIDs" not in vuln
    assert vuln["CVSS"] == doc["Results"][0]["Vulnerabilities"][0]["CVSS"]
    assert decoded["Metadata"]["ImageConfig"]["config"]["Labels"] == labels


def test_decode_json_keeps_every_member() -> None:
    raw = corpus_file("trivy", "debian-buster.json.golden").read_bytes()
    assert decode_json(raw, "r.json") == json.loads(raw)


def test_grype_matches_artifacts_and_vulnerabilities_lose_only_their_unread_members() -> None:
    doc = corpus_json("grype", "TestJsonImgsPresenter.golden")
    decoded = decode_report(lambda: json.dumps(doc).encode(), "r.json")
    assert isinstance(decoded, dict)
    match, original = decoded["matches"][0], doc["matches"][0]
    assert "matchDetails" not in match
    assert "advisories" not in match["vulnerability"]
    # Grype's own KEV and EPSS data is read (gate/enrich/grype_exploit.py).
    assert match["vulnerability"]["epss"] == original["vulnerability"]["epss"]
    read = ("id", "severity", "urls", "fix", "cvss", "dataSource")
    assert {k: match["vulnerability"][k] for k in read} == {k: original["vulnerability"][k] for k in read}
    assert "cpes" not in match["artifact"]
    assert "metadata" not in match["artifact"]
    assert match["artifact"]["locations"] == original["artifact"]["locations"]
    assert decoded["source"] == doc["source"]
    related = corpus_json("grype", "ghsa-test.json")["matches"][0]
    decoded = decode_report(lambda: json.dumps({"matches": [related]}).encode(), "r.json")
    assert isinstance(decoded, dict)
    (kept,) = decoded["matches"][0]["relatedVulnerabilities"]
    assert "urls" not in kept
    assert kept["id"] == related["relatedVulnerabilities"][0]["id"]
    assert decoded["matches"][0]["vulnerability"]["urls"] == related["vulnerability"]["urls"]
