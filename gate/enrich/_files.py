"""Reading the exploitability data files: plain or gzip, identified by content, errors that name the file.

Whether a file is gzip is told by its first two bytes, not its name: a mirror may serve a `.json`
compressed, and `data fetch` names what it stores by what it received.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from gate._input_file import capped, shown_name, too_large
from gate.enrich.exploit import DataKind, DataSource
from gate.errors import ReportError

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip member (RFC 1952, section 2.3.1)."""

GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
"""What Python's gzip raises on a truncated or corrupt stream."""


def data_error(path: Path | str, problem: str, where: str | None = None) -> ReportError:
    """A one-line error about a data file: `FILE: WHERE: PROBLEM` (WHERE a line or key path)."""
    name = shown_name(path) if isinstance(path, Path) else path
    return ReportError(f"{name}: {where}: {problem}" if where else f"{name}: {problem}")


def quoted(text: str, limit: int = 60) -> str:
    """Untrusted file text for an error message: JSON-quoted (control characters escaped), cut short."""
    return json.dumps(text if len(text) <= limit else text[:limit] + "...")


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with _open(path) as handle:
        return handle.read(2) == GZIP_MAGIC


_WHAT = {DataKind.KEV: "a KEV catalog", DataKind.EPSS: "an EPSS scores file"}
"""What each kind of file is, as the size error says it."""

_THE = {DataKind.KEV: "the KEV catalog", DataKind.EPSS: "the EPSS scores file"}
"""Each kind of file as a read error names it: a path on the command line (`--kev`, the action's
`kev` input) says nothing of what the file was for."""


def _cannot_read(path: Path, kind: DataKind | None, error: OSError) -> ReportError:
    what = _THE[kind] if kind is not None else "the file"
    return data_error(path, f"cannot read {what} ({error.strerror or error})")


def too_large_error(path: Path | str, kind: DataKind, *, decompressed: bool = False) -> ReportError:
    """The error for a data file holding more than `MAX_DATA_BYTES`, as stored or, when
    `decompressed`, after gunzip."""
    name = shown_name(path) if isinstance(path, Path) else path
    return too_large(name, _WHAT[kind], decompressed=decompressed)


def read_bytes(path: Path, kind: DataKind) -> tuple[bytes, DataSource]:
    """The file's content, decompressed when it is gzip, and its identity as stored; either
    larger than `MAX_DATA_BYTES` is an error as soon as the read passes it."""
    with _open(path, kind) as handle:
        try:
            raw = capped(handle, too_large_error(path, kind)).read()
        except OSError as exc:
            raise _cannot_read(path, kind, exc) from None
    source = DataSource(kind, shown_name(path), hashlib.sha256(raw).hexdigest(), len(raw))
    if not raw.startswith(GZIP_MAGIC):
        return raw, source
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as unzipped:
            content = capped(cast(BinaryIO, unzipped), too_large_error(path, kind, decompressed=True)).read()
            return content, source
    except GZIP_ERRORS as exc:
        raise data_error(path, f"truncated or corrupt gzip data ({exc})") from None


@contextmanager
def open_stream(path: Path, kind: DataKind) -> Iterator[BinaryIO]:
    """The file open for reading, through a gzip decompressor when it is gzip, and through a count
    that raises the size error past `MAX_DATA_BYTES` of content; both closed after."""
    with _open(path, kind) as handle:
        compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        if not compressed:
            yield capped(handle, too_large_error(path, kind))
            return
        with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
            yield capped(cast(BinaryIO, unzipped), too_large_error(path, kind, decompressed=True))


def source_of(path: Path, kind: DataKind) -> DataSource:
    """The file's identity (SHA-256 and size of the bytes as stored), read in chunks; a file
    larger than `MAX_DATA_BYTES` as stored is refused (its content could be no smaller)."""
    with _open(path, kind) as handle:
        try:
            digest = hashlib.file_digest(capped(handle, too_large_error(path, kind)), "sha256")
        except OSError as exc:
            raise _cannot_read(path, kind, exc) from None
        size = handle.tell()
    return DataSource(kind, shown_name(path), digest.hexdigest(), size)


def _open(path: Path, kind: DataKind | None = None) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise _cannot_read(path, kind, error) from None
