"""Image references (`ghcr.io/acme/app:1.2`, `alpine`, `127.0.0.1:5000/app@sha256:...`).

The grammar is distribution's (https://github.com/distribution/reference/blob/main/reference.go):
the first path component is a registry host when it has a `.` or a `:` or is `localhost`; otherwise
the image is on Docker Hub, where one-component names live under `library/`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from gate.errors import UsageError

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.?)+(?::[0-9]+)?|\[[0-9a-fA-F:.]+\](?::[0-9]+)?"
)
# ASCII: distribution's \w is [a-zA-Z0-9_], Python's would take any letter.
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalized image reference."""

    registry: str
    """The registry as named (`docker.io`, `ghcr.io`, `127.0.0.1:5000`)."""
    repository: str
    """The repository path in that registry (`library/alpine`, `acme/app`)."""
    tag: str | None = None
    """The tag, if given."""
    digest: str | None = None
    """The manifest digest, if given."""

    @property
    def api_host(self) -> str:
        """The host that serves the registry API (Docker Hub's differs from its name)."""
        return "registry-1.docker.io" if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What to ask the manifest endpoint for: the digest, else the tag, else `latest`."""
        return self.digest or self.tag or "latest"

    @property
    def loopback(self) -> bool:
        """True for `localhost` and 127.0.0.0/8 or ::1 registries, the only ones read over plain HTTP."""
        return is_loopback(self.registry)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_loopback(host: str) -> bool:
    """True when `host` (optionally with a port) is this machine."""
    if host.startswith("["):
        name = host[1:].partition("]")[0]  # `[::1]` or `[::1]:5000`
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_registry_host(first: str) -> bool:
    """Whether a reference's first path component is a registry host rather than a repository's."""
    return "." in first or ":" in first or first == "localhost" or first.startswith("[")


def names_registry(text: str) -> bool:
    """True when the reference names its registry (`ghcr.io/acme/app:1`, `localhost:5000/app`),
    False when it leaves it to the Docker Hub default (`alpine:3.19`, `app:1`), as a locally built
    image's name usually does."""
    first, sep, _ = text.partition("@")[0].partition("/")
    return bool(sep) and _is_registry_host(first)


def parse_reference(text: str) -> ImageRef:
    """Parses and normalizes a reference; a UsageError says what is wrong with it."""
    rest, digest = text, None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not _DIGEST.fullmatch(digest):
            raise UsageError(f"image reference {text!r}: the digest must be sha256:<64 lowercase hex>")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise UsageError(f"image reference {text!r}: invalid tag {tag!r}")
    first, sep, remainder = rest.partition("/")
    if sep and _is_registry_host(first):
        if not _HOST.fullmatch(first):
            raise UsageError(f"image reference {text!r}: invalid registry host {first!r}")
        registry, path = first.lower(), remainder
    else:
        registry, path = DOCKER_HUB, rest
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        raise UsageError(
            f"image reference {text!r}: invalid repository name {path!r} "
            "(lowercase letters, digits and . _ - separators)"
        )
    return ImageRef(registry, path, tag, digest)
