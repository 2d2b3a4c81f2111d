"""A writer of read-only bbolt snapshots, the file format of Trivy's vulnerability DB.

Trivy opens `<cache>/db/trivy.db` with go.etcd.io/bbolt. The test bed builds that file itself
from real advisories, so the real Trivy can scan with zero network. Only what a reader of a
freshly written snapshot needs is produced (format: bbolt's page.go, node.go, bucket.go, db.go):

- page 0 and 1: meta pages (txid 0 and 1), page 2: an empty freelist, then data pages;
- every bucket is one leaf page, spanning contiguous overflow pages when it does not fit one,
  so no branch page is ever needed; nested buckets are never inlined.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

Tree: TypeAlias = Mapping[bytes, "bytes | Tree"]
"""A bucket: keys map to a value or to a nested bucket."""

PAGE_SIZE = 4096
MAGIC = 0xED0CDAED
VERSION = 2

BRANCH_PAGE = 0x01
LEAF_PAGE = 0x02
META_PAGE = 0x04
FREELIST_PAGE = 0x10
BUCKET_LEAF_FLAG = 0x01

PAGE_HEADER = struct.Struct("<QHHI")
"""id, flags, count, overflow."""
LEAF_ELEMENT = struct.Struct("<IIII")
"""flags, pos (relative to the element itself), ksize, vsize."""
BUCKET_HEADER = struct.Struct("<QQ")
"""root page id, sequence."""
META = struct.Struct("<IIIIQQQQQ")
"""magic, version, page size, flags, root bucket (root, sequence), freelist, pgid, txid."""

# bbolt's limits (bolt_amd64.go, bucket.go): `count` is a u16, keys are at most 32 KiB.
MAX_ELEMENTS = 0xFFFF
MAX_KEY_SIZE = 32768
FREELIST_PGID = 2
FIRST_DATA_PGID = 3


class BboltError(ValueError):
    """The tree cannot be written as a bbolt file (empty or oversized key, too many keys)."""


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64, the checksum bbolt stores in each meta page (hash/fnv New64a)."""
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


class _Pages:
    """Data pages in page-id order, starting at the first data page."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.next_pgid = FIRST_DATA_PGID

    def add_leaf(self, elements: list[tuple[int, bytes, bytes]], where: str) -> int:
        """Writes one leaf page (plus overflow pages) and returns its page id."""
        if len(elements) > MAX_ELEMENTS:
            raise BboltError(f"{where}: {len(elements)} keys, a bbolt leaf holds at most {MAX_ELEMENTS}")
        headers = bytearray()
        payload = bytearray()
        table_size = LEAF_ELEMENT.size * len(elements)
        for index, (flags, key, value) in enumerate(elements):
            # pos counts from the element's own start to its key (page.go leafPageElement.key).
            pos = table_size - index * LEAF_ELEMENT.size + len(payload)
            headers += LEAF_ELEMENT.pack(flags, pos, len(key), len(value))
            payload += key + value
        size = PAGE_HEADER.size + len(headers) + len(payload)
        npages = max(1, -(-size // PAGE_SIZE))
        pgid = self.next_pgid
        page = PAGE_HEADER.pack(pgid, LEAF_PAGE, len(elements), npages - 1) + headers + payload
        self.chunks.append(page.ljust(npages * PAGE_SIZE, b"\0"))
        self.next_pgid += npages
        return pgid


def _write_bucket(pages: _Pages, tree: Tree, where: str) -> int:
    """Writes the nested buckets first (they need page ids), then this bucket's leaf."""
    elements: list[tuple[int, bytes, bytes]] = []
    for key in tree:
        if not isinstance(key, bytes):
            raise BboltError(f"{where}: key {key!r} is not bytes")
    # bbolt finds keys by binary search over bytewise order (bytes.Compare).
    for key in sorted(tree):
        if not key or len(key) > MAX_KEY_SIZE:
            raise BboltError(f"{where}: key of {len(key)} bytes, expected 1 to {MAX_KEY_SIZE}")
        value = tree[key]
        if isinstance(value, bytes):
            elements.append((0, key, value))
        elif isinstance(value, Mapping):
            root = _write_bucket(pages, value, f"{where}/{key.decode(errors='replace')}")
            elements.append((BUCKET_LEAF_FLAG, key, BUCKET_HEADER.pack(root, 0)))
        else:
            raise BboltError(
                f"{where}: value of {key!r} is {type(value).__name__}, expected bytes or a mapping"
            )
    return pages.add_leaf(elements, where or "/")


def _meta_page(pgid: int, root: int, high_water: int) -> bytes:
    meta = META.pack(MAGIC, VERSION, PAGE_SIZE, 0, root, 0, FREELIST_PGID, high_water, pgid)
    meta += struct.pack("<Q", fnv1a64(meta))
    return (PAGE_HEADER.pack(pgid, META_PAGE, 0, 0) + meta).ljust(PAGE_SIZE, b"\0")


def encode_bbolt(tree: Tree) -> bytes:
    """Returns the bytes of a bbolt file holding `tree` (top-level values must be buckets)."""
    for key, value in tree.items():
        if not isinstance(value, Mapping):
            # bbolt's root bucket only holds buckets (tx.go CreateBucket); a plain value there
            # is unreadable through the public API.
            raise BboltError(f"/: top-level key {key!r} must be a bucket, got {type(value).__name__}")
    pages = _Pages()
    root = _write_bucket(pages, tree, "")
    high_water = pages.next_pgid
    freelist = PAGE_HEADER.pack(FREELIST_PGID, FREELIST_PAGE, 0, 0).ljust(PAGE_SIZE, b"\0")
    return b"".join(
        [_meta_page(0, root, high_water), _meta_page(1, root, high_water), freelist, *pages.chunks]
    )


def write_bbolt(path: Path, tree: Tree) -> int:
    """Writes `tree` as a bbolt file at `path`; returns the file size in bytes."""
    data = encode_bbolt(tree)
    path.write_bytes(data)
    return len(data)
