"""Images in a local Docker engine (or any engine speaking its API), through the docker SDK.

The engine's inspect and history endpoints give everything but one fact: which history entries
made no layer (`empty_layer`), which the config has and the API drops. A history entry of size 0
may be a step that made no layer (ENV, `RUN true`) or one whose layer holds only directories
(`WORKDIR /app`, `RUN mkdir /x`). When sizes and instruction kinds settle it, no more is asked;
otherwise the config itself is read from the start of the engine's `docker save` stream.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from collections.abc import Iterator, Mapping
from typing import Any

import docker
import docker.errors
import requests

from gate.errors import ImageError
from gate.image.config import HistoryEntry, ImageConfig, parse_config
from gate.image.manifest import Platform
from gate.image.reference import parse_reference
from gate.image.source import ImageNotFound, SourceImage, SourceKind, SourceUnreachable

DEFAULT_HOST = "unix:///var/run/docker.sock"
# Instructions that only change the config: no builder (legacy, BuildKit, buildah, kaniko) makes a layer for them.
_METADATA = frozenset(
    [
        "ENV",
        "LABEL",
        "CMD",
        "ENTRYPOINT",
        "EXPOSE",
        "USER",
        "VOLUME",
        "STOPSIGNAL",
        "SHELL",
        "ARG",
        "HEALTHCHECK",
        "MAINTAINER",
        "ONBUILD",
    ]
)


def connect(
    docker_host: str | None, environ: Mapping[str, str], timeout: int
) -> tuple[docker.DockerClient, str]:
    """A client of the engine at `docker_host`, else `DOCKER_HOST`, else the default socket."""
    host = docker_host or environ.get("DOCKER_HOST") or DEFAULT_HOST
    origin = (
        "--docker-host"
        if docker_host
        else ("DOCKER_HOST" if environ.get("DOCKER_HOST") else "DOCKER_HOST is unset")
    )
    try:
        client = docker.from_env(environment={**environ, "DOCKER_HOST": host}, timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise SourceUnreachable(
            f"cannot reach the Docker engine at {host} ({origin}): {_reason(exc)}",
            hint="start it, set DOCKER_HOST to its address (unix:///path/docker.sock), or scan "
            "docker-archive:PATH or a registry reference",
        ) from None
    return client, host


def _reason(exc: Exception) -> str:
    text = str(exc)
    for pattern, reason in (
        (r"No such file or directory", "no such socket"),
        (r"Connection refused", "connection refused"),
        (r"Permission denied", "permission denied"),
        (r"timed out", "timed out"),
    ):
        if re.search(pattern, text):
            return reason
    return f"{type(exc).__name__}: {text[:160]}"


def read_engine(
    client: docker.DockerClient, host: str, reference: str, wanted: Platform | None
) -> SourceImage:
    """Reads image `reference` (name, name:tag, name@digest or id) from the engine."""
    try:
        image = client.images.get(reference)
        attrs: dict[str, Any] = image.attrs
        history: list[dict[str, Any]] = list(reversed(image.history()))
    except docker.errors.ImageNotFound:
        raise ImageNotFound(f"the engine at {host} has no image {reference}") from None
    except (docker.errors.APIError, requests.RequestException) as exc:
        raise ImageError(f"the engine at {host} could not read {reference}: {_reason(exc)}") from None
    label = f"engine image {reference}"
    image_id = attrs.get("Id")
    os_name, arch, variant = attrs.get("Os"), attrs.get("Architecture"), attrs.get("Variant")
    diff_ids = (attrs.get("RootFS") or {}).get("Layers") or []
    if (
        not isinstance(image_id, str)
        or not isinstance(diff_ids, list)
        or not all(isinstance(d, str) for d in diff_ids)
    ):
        raise ImageError(f"{label}: the engine's inspect data has no Id or RootFS.Layers")
    image_id = image_id if ":" in image_id else f"sha256:{image_id}"
    platform = (
        Platform(os_name, arch, variant or None)
        if isinstance(os_name, str) and isinstance(arch, str)
        else None
    )
    if wanted is not None and (platform is None or not platform.satisfies(wanted)):
        raise ImageNotFound(
            f"the engine's image {reference} is {platform or 'of unknown platform'}, not {wanted}"
        )
    steps = _history(history, len(diff_ids))
    labels = ((attrs.get("Config") or {}).get("Labels")) or {}
    if steps is None:
        config = parse_config(_config_from_save(image, image_id, label), f"{label}: config")
    else:
        config = ImageConfig(
            platform=platform,
            diff_ids=tuple(diff_ids),
            history=steps,
            labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
            created=attrs.get("Created") if isinstance(attrs.get("Created"), str) else None,
        )
    size = attrs.get("Size")
    return SourceImage(
        SourceKind.ENGINE,
        reference,
        config,
        image_id,
        digest=_repo_digest(attrs.get("RepoDigests") or [], reference),
        size=size if isinstance(size, int) else None,
        docker_host=host,
    )


def _keyword(created_by: str) -> str:
    text = created_by.split("#(nop)", 1)[1] if "#(nop)" in created_by else created_by
    words = text.split()
    return words[0].upper() if words else ""


def _history(items: list[dict[str, Any]], layers: int) -> tuple[HistoryEntry, ...] | None:
    """The history with `empty_layer` worked out, or None when sizes and kinds do not settle it."""
    sized: list[tuple[str | None, str | None, int]] = []
    for item in items:
        created_by, comment, size = item.get("CreatedBy"), item.get("Comment"), item.get("Size")
        sized.append(
            (
                created_by if isinstance(created_by, str) else None,
                comment if isinstance(comment, str) and comment else None,
                size if isinstance(size, int) else -1,
            )
        )
    certain = sum(1 for _, _, size in sized if size > 0)
    unsure = [i for i, (by, _, size) in enumerate(sized) if size == 0 and _keyword(by or "") not in _METADATA]
    if any(size < 0 for _, _, size in sized):
        return None
    if layers - certain == 0:
        made = set()
    elif layers - certain == len(unsure):
        made = set(unsure)
    else:
        return None
    return tuple(
        HistoryEntry(by, empty_layer=not (size > 0 or i in made), comment=comment)
        for i, (by, comment, size) in enumerate(sized)
    )


def _repo_digest(repo_digests: list[object], reference: str) -> str | None:
    """The digest this reference's repository knows the image by, else any repository's."""
    digests: list[tuple[str, str]] = []
    for item in repo_digests:
        if isinstance(item, str) and "@" in item:
            name, _, digest = item.rpartition("@")
            digests.append((name, digest))
    try:
        wanted = parse_reference(reference.split("@")[0])
        for name, digest in digests:
            ref = parse_reference(name)
            if (ref.registry, ref.repository) == (wanted.registry, wanted.repository):
                return digest
    except ImageError:
        pass  # an image id, not a name
    return digests[0][1] if digests else None


class _Chunks(io.RawIOBase):
    """A readable file over the engine's streamed export, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _config_from_save(image: Any, image_id: str, label: str) -> bytes:
    """The config JSON from the engine's export, read as a stream and stopped as soon as found."""
    hexdigest = image_id.partition(":")[2]
    names = {f"{hexdigest}.json", f"blobs/sha256/{hexdigest}"}
    stream = image.save(chunk_size=1 << 20)
    try:
        with tarfile.open(fileobj=_Chunks(stream), mode="r|") as tar:
            for member in tar:
                if member.name.lstrip("./") in names and member.isfile() and member.size < 8 << 20:
                    handle = tar.extractfile(member)
                    data = handle.read() if handle else b""
                    if hashlib.sha256(data).hexdigest() == hexdigest:
                        return data
    except (tarfile.TarError, docker.errors.APIError, requests.RequestException) as exc:
        raise ImageError(f"{label}: could not read the engine's export: {_reason(exc)}") from None
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    raise ImageError(f"{label}: the engine's export holds no config {image_id}")
