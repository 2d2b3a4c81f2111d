"""Pushes hand-made images and indexes to the test bed's registry over its HTTP API.

The engine cannot set an image's config `created`, push an OCI index, or push one platform of a
multi-platform image; these helpers can, with nothing but the distribution API (blob upload,
manifest PUT) against 127.0.0.1. Layers are written deterministically (sorted entries, fixed
mtime, root-owned, gzip without a timestamp), so the same content always has the same digests.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from testbed.dockerfile import EPOCH

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json"]
)


class RegistryError(RuntimeError):
    """The registry refused a request; the message has the method, path, status and body."""


def sha256(data: bytes) -> str:
    """`sha256:<hex>` of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(
    files: Mapping[str, bytes],
    executables: frozenset[str] = frozenset(),
    symlinks: Mapping[str, str] | None = None,
) -> bytes:
    """A deterministic, uncompressed layer: parent directories, files and symlinks, sorted."""
    links = dict(symlinks or {})
    paths = set(files) | set(links)
    dirs = {str(p) for path in paths for p in PurePosixPath(path).parents if str(p) != "."}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(dirs | paths):
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            if name in dirs:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif name in links:
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, links[name], 0o777
                tar.addfile(info)
            else:
                info.size, info.mode = len(files[name]), 0o755 if name in executables else 0o644
                tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


@dataclass(frozen=True)
class PushedImage:
    """One platform image in the registry."""

    digest: str
    """Manifest digest."""
    manifest: bytes
    """The manifest exactly as pushed."""
    media_type: str
    """Its media type (Docker schema 2 or OCI)."""
    config: dict[str, Any]
    """The image config (`created`, `architecture`, `rootfs.diff_ids`, ...)."""


class RegistryClient:
    """The few calls of the registry HTTP API the test bed needs (no auth: loopback only)."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        host, _, port = address.partition(":")
        self.address = address
        self._host, self._port, self._timeout = host, int(port or 80), timeout

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; raises RegistryError unless the status is in `ok`."""
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
            data = response.read()
            result = response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()
        if result[0] not in ok:
            raise RegistryError(f"{method} {path}: HTTP {result[0]}: {data[:300]!r}")
        return result

    def put_blob(self, repo: str, data: bytes) -> str:
        """Uploads a blob (monolithic upload) unless the repository has it; returns its digest."""
        digest = sha256(data)
        status, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", ok=(200, 404))
        if status == 200:
            return digest
        _, headers, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        location = headers["location"]
        location = location.split(self.address, 1)[-1] if "://" in location else location
        sep = "&" if "?" in location else "?"
        self.request(
            "PUT",
            f"{location}{sep}digest={digest}",
            body=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        return digest

    def put_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        """Pushes a manifest or index under a tag or its digest; returns its digest."""
        self.request(
            "PUT", f"/v2/{repo}/manifests/{reference}", body=body, headers={"Content-Type": media_type}
        )
        return sha256(body)

    def get_manifest(self, repo: str, reference: str) -> tuple[bytes, str, str]:
        """(body, media type, digest) of a tag or digest, any manifest or index type."""
        _, headers, body = self.request(
            "GET", f"/v2/{repo}/manifests/{reference}", headers={"Accept": ACCEPT}
        )
        return body, headers.get("content-type", ""), headers.get("docker-content-digest", sha256(body))

    def get_blob(self, repo: str, digest: str) -> bytes:
        """A blob's bytes (configs, layers)."""
        return self.request("GET", f"/v2/{repo}/blobs/{digest}")[2]

    def push_image(
        self, repo: str, tag: str | None, layers: list[bytes], config: dict[str, Any], oci: bool = False
    ) -> PushedImage:
        """Pushes one image: its gzipped layers, its config (diff_ids filled in) and manifest."""
        config = {**config, "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]}}
        config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
        blobs = [gzip.compress(layer, mtime=0) for layer in layers]
        for blob in blobs:
            self.put_blob(repo, blob)
        self.put_blob(repo, config_bytes)
        media, config_media, layer_media = (
            (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER) if oci else (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER)
        )
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media,
                "config": {
                    "mediaType": config_media,
                    "size": len(config_bytes),
                    "digest": sha256(config_bytes),
                },
                "layers": [{"mediaType": layer_media, "size": len(b), "digest": sha256(b)} for b in blobs],
            },
            indent=3,
        ).encode()
        digest = self.put_manifest(repo, tag or sha256(manifest), manifest, media)
        return PushedImage(digest=digest, manifest=manifest, media_type=media, config=config)

    def push_index(self, repo: str, tag: str, images: list[PushedImage]) -> str:
        """Pushes an OCI index of already pushed platform images under `tag`; returns its digest."""
        for image in images:
            self.put_manifest(repo, image.digest, image.manifest, image.media_type)
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": image.media_type,
                        "size": len(image.manifest),
                        "digest": image.digest,
                        "platform": {
                            k: image.config[k] for k in ("architecture", "os", "variant") if k in image.config
                        },
                    }
                    for image in images
                ],
            },
            indent=3,
        ).encode()
        return self.put_manifest(repo, tag, index, OCI_INDEX)
