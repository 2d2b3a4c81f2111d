"""What every image source (engine, archive, registry) hands back, and the errors they share."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from gate.errors import ImageError
from gate.image.config import ImageConfig
from gate.image.manifest import Platform


class SourceKind(enum.Enum):
    """Where the image is read from."""

    ENGINE = "engine"
    """An image in the local Docker engine (docker SDK, `DOCKER_HOST` honoured)."""
    DOCKER_ARCHIVE = "docker-archive"
    """A `docker save` tarball: `docker-archive:PATH`."""
    OCI_ARCHIVE = "oci-archive"
    """An OCI image layout tarball: `oci-archive:PATH`."""
    REGISTRY = "registry"
    """A reference pulled from a registry by the scanner itself."""


class ImageNotFound(ImageError):
    """The source is reachable and has no such image: another source may be tried."""


class SourceUnreachable(ImageError):
    """The engine or registry could not be reached: another source may be tried."""


@dataclass(frozen=True)
class SourceImage:
    """One image as a source read it, before base image attribution."""

    kind: SourceKind
    """Where it was read from."""
    name: str
    """The image name or archive path, without any `docker-archive:`-style prefix."""
    config: ImageConfig
    """Its config: layers, history, labels, platform."""
    image_id: str
    """The config digest."""
    digest: str | None = None
    """What the reference names in a registry: the index digest for a multi-platform image."""
    manifest_digest: str | None = None
    """The digest of the one platform's manifest, when there is a manifest (registry, OCI archive)."""
    size: int | None = None
    """Bytes: the engine's unpacked size, else the sum of the layer blobs as stored."""
    platform: Platform | None = None
    """The platform chosen from an index; None when the image had only one."""
    archive_path: Path | None = None
    """The tarball, for the archive kinds."""
    docker_host: str | None = None
    """The engine's address, for the engine kind."""
    insecure_registry: bool = False
    """True when the registry was read over plain HTTP (loopback only)."""
