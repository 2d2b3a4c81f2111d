"""The bbolt writer: walked back by an independent reader here, and read by the real Trivy."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.advisories import load_fixture
from testbed.bbolt import PAGE_SIZE, BboltError, Tree, encode_bbolt, fnv1a64
from testbed.trivy import scan_image
from testbed.trivydb import build_trivy_db, db_tree

# --- A tiny reader, written from bbolt's page.go / db.go, independent of the writer's code. ---


def _page(data: bytes, pgid: int) -> tuple[int, int, int, int]:
    """(id, flags, count, overflow) of the page header at pgid."""
    ident, flags, count, overflow = struct.unpack_from("<QHHI", data, pgid * PAGE_SIZE)
    assert ident == pgid, f"page {pgid} says it is page {ident}"
    return ident, flags, count, overflow


def _read_bucket(data: bytes, pgid: int, seen: set[int]) -> dict[bytes, Any]:
    _, flags, count, overflow = _page(data, pgid)
    assert flags == 0x02, f"page {pgid}: flags {flags:#x}, expected a leaf"
    span = set(range(pgid, pgid + overflow + 1))
    assert not span & seen, f"page {pgid} referenced twice"
    seen |= span
    out: dict[bytes, Any] = {}
    keys = []
    for i in range(count):
        at = pgid * PAGE_SIZE + 16 + i * 16
        eflags, pos, ksize, vsize = struct.unpack_from("<IIII", data, at)
        end = at + pos + ksize + vsize
        assert end <= (pgid + overflow + 1) * PAGE_SIZE, f"element {i} of page {pgid} runs past its pages"
        key = data[at + pos : at + pos + ksize]
        value = data[at + pos + ksize : end]
        keys.append(key)
        if eflags & 0x01:
            root, _sequence = struct.unpack("<QQ", value)
            out[key] = _read_bucket(data, root, seen)
        else:
            out[key] = value
    assert keys == sorted(set(keys)), f"page {pgid}: keys not strictly sorted"
    return out


def read_bbolt(data: bytes) -> dict[bytes, Any]:
    """Checks both meta pages and every page's header, returns the tree."""
    assert len(data) % PAGE_SIZE == 0
    metas = []
    for pgid in (0, 1):
        _, flags, _, _ = _page(data, pgid)
        assert flags == 0x04
        meta = data[pgid * PAGE_SIZE + 16 : pgid * PAGE_SIZE + 16 + 64]
        magic, version, page_size, _f, root, _seq, freelist, high, txid, checksum = struct.unpack(
            "<IIIIQQQQQQ", meta
        )
        assert (magic, version, page_size) == (0xED0CDAED, 2, PAGE_SIZE)
        assert checksum == fnv1a64(meta[:56])
        assert high * PAGE_SIZE == len(data), "high-water mark is not the file's page count"
        metas.append((txid, root, freelist))
    assert [m[0] for m in metas] == [0, 1]
    assert metas[0][1:] == metas[1][1:]
    _, flags, count, _ = _page(data, metas[0][2])
    assert (flags, count) == (0x10, 0)
    seen = {0, 1, metas[0][2]}
    tree = _read_bucket(data, metas[0][1], seen)
    assert seen == set(range(len(data) // PAGE_SIZE)), "unreachable pages"
    return tree


def _leaf_overflows(data: bytes) -> list[int]:
    """The overflow count of every data page, walking headers (continuation pages have none)."""
    out, pgid = [], 3
    while pgid < len(data) // PAGE_SIZE:
        _, _, _, overflow = _page(data, pgid)
        out.append(overflow)
        pgid += overflow + 1
    return out


# --- Tests ---

values = st.binary(min_size=0, max_size=300)
keys = st.binary(min_size=1, max_size=40)
buckets = st.recursive(
    st.dictionaries(keys, values, max_size=8),
    lambda inner: st.dictionaries(keys, st.one_of(values, inner), max_size=6),
    max_leaves=40,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(keys, buckets, max_size=5))
def test_any_tree_reads_back_identical(tree: dict[bytes, Any]) -> None:
    assert read_bbolt(encode_bbolt(tree)) == tree


def test_keys_are_stored_in_bytewise_order() -> None:
    tree: Tree = {b"b": {b"\xff": b"1", b"B": b"2", b"a": b"3", b"ab": b"4", b"\x00": b"5"}}
    data = encode_bbolt(tree)
    inner = read_bbolt(data)[b"b"]
    assert list(inner) == [b"\x00", b"B", b"a", b"ab", b"\xff"]


def test_a_bucket_larger_than_a_page_spans_overflow_pages() -> None:
    big = {f"CVE-2024-{i:05d}".encode(): b'{"FixedVersion":"1.0-1"}' for i in range(3000)}
    data = encode_bbolt({b"debian 12": {b"pkg": big}, b"v": {b"x": b"y" * 10000}})
    assert max(_leaf_overflows(data)) >= 10
    assert read_bbolt(data)[b"debian 12"][b"pkg"] == big


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({b"top": b"value"}, "must be a bucket"),
        ({b"top": {b"": b"x"}}, "key of 0 bytes"),
        ({b"top": {"str": b"x"}}, "is not bytes"),
        ({b"top": {b"k": 3}}, "expected bytes or a mapping"),
        ({b"top": {str(i).encode(): b"" for i in range(70000)}}, "at most 65535"),
    ],
)
def test_unwritable_trees_are_refused_with_the_key_path(tree: Any, message: str) -> None:
    with pytest.raises(BboltError, match=message):
        encode_bbolt(tree)


def test_the_fixture_db_reads_back_with_the_layout_trivy_expects(tmp_path: Path) -> None:
    info = build_trivy_db(tmp_path)
    tree = read_bbolt(info.db_path.read_bytes())
    assert tree == db_tree(load_fixture())
    assert json.loads(tree[b"debian 12"][b"zlib"][b"CVE-2023-45853"]) == {"Status": 5}
    assert json.loads(tree[b"debian 12"][b"glibc"][b"CVE-2023-4911"]) == {"FixedVersion": "2.36-9+deb12u3"}
    flask = json.loads(tree[b"pip::GitHub Security Advisory Pip"][b"flask"][b"CVE-2023-30861"])
    assert flask["VulnerableVersions"] == ["< 2.2.5", ">= 2.3.0, < 2.3.2"]
    assert json.loads(tree[b"data-source"][b"debian 12"])["ID"] == "debian"


def test_trivy_reads_a_multi_page_bucket_written_here(
    tmp_path: Path, trivy_bin: Path, engineless_archives: Any
) -> None:
    # 2000 advisories for zlib on top of the fixture: the bucket spans many overflow pages, and
    # Trivy must find the one real match among them.
    fixture = load_fixture()
    tree: dict[bytes, Any] = dict(db_tree(fixture))
    debian: dict[bytes, Any] = dict(tree[b"debian 12"])
    zlib: dict[bytes, Any] = dict(debian[b"zlib"])
    zlib.update({f"CVE-2099-{i:05d}".encode(): b'{"FixedVersion":"1:1.2.0-1"}' for i in range(2000)})
    debian[b"zlib"] = zlib
    tree[b"debian 12"] = debian
    info = build_trivy_db(tmp_path)
    info.db_path.write_bytes(encode_bbolt(tree))
    assert max(_leaf_overflows(info.db_path.read_bytes())) > 5
    report = scan_image(trivy_bin, tmp_path, ["--input", str(engineless_archives.base)])
    zlib_ids = {
        v["VulnerabilityID"]
        for r in report["Results"]
        for v in r.get("Vulnerabilities", [])
        if v["PkgName"] == "zlib1g"
    }
    assert zlib_ids == {"CVE-2023-45853"}
