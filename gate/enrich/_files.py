"""Reading the exploitability data files: plain or gzip, identified by content, errors that name the file.

Whether a file is gzip is told by its first two bytes, not its name: a mirror may serve a `.json`
compressed, and `data fetch` names what it stores by what it received.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from gate.enrich.exploit import DataKind, DataSource
from gate.errors import ReportError

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip member (RFC 1952, section 2.3.1)."""

GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
"""What Python's gzip raises on a truncated or corrupt stream."""


def data_error(path: Path | str, problem: str, where: str | None = None) -> ReportError:
    """A one-line error about a data file: `FILE: WHERE: PROBLEM` (WHERE a line or key path)."""
    return ReportError(f"{path}: {where}: {problem}" if where else f"{path}: {problem}")


def quoted(text: str, limit: int = 60) -> str:
    """Untrusted file text for an error message: JSON-quoted (control characters escaped), cut short."""
    return json.dumps(text if len(text) <= limit else text[:limit] + "...")


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with _open(path) as handle:
        return handle.read(2) == GZIP_MAGIC


def read_bytes(path: Path, kind: DataKind) -> tuple[bytes, DataSource]:
    """The file's content, decompressed when it is gzip, and its identity as stored."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise data_error(path, f"cannot read the file ({error.strerror or error})") from None
    source = DataSource(kind, str(path), hashlib.sha256(raw).hexdigest(), len(raw))
    if not raw.startswith(GZIP_MAGIC):
        return raw, source
    try:
        return gzip.decompress(raw), source
    except GZIP_ERRORS as error:
        raise data_error(path, f"truncated or corrupt gzip data ({error})") from None


@contextmanager
def open_stream(path: Path) -> Iterator[BinaryIO]:
    """The file open for reading, through a gzip decompressor when it is gzip; both closed after."""
    with _open(path) as handle:
        compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        if not compressed:
            yield handle
            return
        with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
            yield cast(BinaryIO, unzipped)


def source_of(path: Path, kind: DataKind) -> DataSource:
    """The file's identity (SHA-256 and size of the bytes as stored), read in chunks."""
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256")
            size = handle.tell()
    except OSError as error:
        raise data_error(path, f"cannot read the file ({error.strerror or error})") from None
    return DataSource(kind, str(path), digest.hexdigest(), size)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise data_error(path, f"cannot read the file ({error.strerror or error})") from None
