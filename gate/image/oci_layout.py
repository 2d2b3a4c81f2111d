"""An `oci-archive:` image as an OCI image layout directory, for a scanner that reads only those.

Trivy opens an OCI image layout only as a directory (`--input DIR`), and of a layout holding
several images (the platforms of a multi-platform build) it scans the first whatever
`--platform` says. So the image `resolve_image` chose is written, alone, into a private temporary
directory: `oci-layout`, an `index.json` naming its one manifest, and the manifest, config and
layer blobs, each copied from the archive and checked against its digest and size. The directory
is removed when the scan is done.

Nothing else of the archive is extracted, and no member name becomes a path: each blob is written
under a name made from its digest (`blobs/sha256/<64 hex>`, checked by `gate.image.manifest`),
found through the same safe member lookup that reading the archive uses (no absolute names, no
`..`, links followed only inside the archive, duplicates refused). The space the blobs need is
checked before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import lzma
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gate._json_decode import loads
from gate.errors import ImageError
from gate.image.archive import _Members, _safe, _scan
from gate.image.manifest import Descriptor, Manifest, parse_manifest

_CHUNK = 1 << 20
"""Bytes copied at a time."""
_SPARE = 64 << 20
"""Free space left over after the copy, so that the scanner itself still has room."""


@contextlib.contextmanager
def oci_layout(archive: Path, manifest_digest: str, label: str) -> Iterator[Path]:
    """A private directory holding the image whose manifest is `manifest_digest` in the OCI
    archive `archive`, as an OCI image layout; removed on leaving. `label` names the archive in
    errors (`oci-archive:app.tar`)."""
    members = _scan(archive, label)
    manifest_desc, manifest = _chosen(members, manifest_digest, label)
    # An image may repeat a layer (two steps that changed nothing): each blob is copied once.
    wanted = {desc.digest: desc for desc in (manifest_desc, manifest.config, *_present_layers(manifest))}
    sources: dict[str, Descriptor] = {}
    for desc in wanted.values():
        algorithm, _, hexdigest = desc.digest.partition(":")
        info = members.member(f"blobs/{algorithm}/{hexdigest}", "blob")
        if info.size != desc.size:
            raise ImageError(
                f"{label}: blob {desc.digest} holds {info.size} bytes, its descriptor says {desc.size}"
            )
        name = _safe(info.name) or ""
        if name in sources:  # two digests, one member (through a link): one of them is false
            raise ImageError(f"{label}: blobs {sources[name].digest} and {desc.digest} are one member")
        sources[name] = desc
    directory = Path(tempfile.mkdtemp(prefix="container-gate-oci-"))  # mode 0700: this user's only
    try:
        needed = sum(desc.size for desc in wanted.values()) + _SPARE
        free = shutil.disk_usage(directory).free
        if free < needed:
            raise ImageError(  # needed rounded up, free down: the two never read as enough
                f"{label}: not enough space in {directory.parent} to unpack the image for Trivy "
                f"({-(-needed >> 20)} MiB needed with {_SPARE >> 20} MiB to spare, {free >> 20} MiB free)",
                hint="free some space, or point TMPDIR at a larger disk",
            )
        _copy_blobs(archive, sources, directory, label)
        (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}', encoding="utf-8")
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": manifest_desc.media_type,
                    "digest": manifest_desc.digest,
                    "size": manifest_desc.size,
                }
            ],
        }
        (directory / "index.json").write_text(json.dumps(index), encoding="utf-8")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _chosen(members: _Members, manifest_digest: str, label: str) -> tuple[Descriptor, Manifest]:
    algorithm, _, hexdigest = manifest_digest.partition(":")
    data = members.read_json(f"blobs/{algorithm}/{hexdigest}", "manifest")
    if hashlib.new(algorithm, data).hexdigest() != hexdigest:
        raise ImageError(f"{label}: manifest {manifest_digest} does not match its digest")
    manifest = parse_manifest(data, f"{label}: manifest {manifest_digest}", "")
    if not isinstance(manifest, Manifest):
        raise ImageError(f"{label}: {manifest_digest} is not an image manifest")
    media_type = _media_type(data)
    return Descriptor(media_type, manifest_digest, len(data), None, ()), manifest


def _media_type(data: bytes) -> str:
    doc = loads(data)
    media_type = doc.get("mediaType") if isinstance(doc, dict) else None
    return media_type if isinstance(media_type, str) else "application/vnd.oci.image.manifest.v1+json"


def _present_layers(manifest: Manifest) -> list[Descriptor]:
    # Foreign and non-distributable layers live elsewhere by design; the archive does not hold them.
    return [
        layer
        for layer in manifest.layers
        if "nondistributable" not in layer.media_type and "foreign" not in layer.media_type
    ]


def _copy_blobs(archive: Path, sources: dict[str, Descriptor], directory: Path, label: str) -> None:
    left = dict(sources)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for info in tar:
                desc = left.pop(_safe(info.name) or "", None)
                if desc is None:
                    continue
                stream = tar.extractfile(info)
                if stream is None:
                    raise ImageError(f"{label}: blob {desc.digest} is not a regular file")
                _copy(stream, desc, directory, label)
                if not left:
                    break
    except (EOFError, OSError, tarfile.TarError, zlib.error, lzma.LZMAError) as exc:
        raise ImageError(f"{label}: cannot unpack the image ({exc})") from None
    if left:
        # A member the archive's table named but the second reading did not meet.
        raise ImageError(f"{label}: blob {next(iter(left.values())).digest} could not be unpacked")


def _copy(stream: IO[bytes], desc: Descriptor, directory: Path, label: str) -> None:
    algorithm, _, hexdigest = desc.digest.partition(":")
    folder = directory / "blobs" / algorithm
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.new(algorithm)
    written = 0
    with open(folder / hexdigest, "wb") as out:
        while chunk := stream.read(_CHUNK):
            written += len(chunk)
            if written > desc.size:
                break
            digest.update(chunk)
            out.write(chunk)
    if written != desc.size or digest.hexdigest() != hexdigest:
        raise ImageError(f"{label}: blob {desc.digest} does not match its digest")
