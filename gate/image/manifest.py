"""Image manifests and indexes (OCI image-spec, Docker distribution schema 2), and platform choice.

An OCI archive and a registry describe an image the same way: an index (a Docker manifest list or
an OCI image index) naming one manifest per platform, each manifest naming its config and layers.
Both are read strictly here; an error names where the JSON came from and the key that is wrong.
"""

from __future__ import annotations

import platform as host
import re
from dataclasses import dataclass

from gate._json_decode import loads
from gate.errors import ImageError, UsageError
from gate.run_wording import COMMAND_LINE_WORDS, RunWording

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
"""What a client asks a registry for (schema 1 manifests are deliberately not accepted)."""

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")

# Spellings of the same CPU that tools print (uname, Debian, Go); the OCI platform names are the values.
_ARCH_ALIASES = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "aarch64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
}


@dataclass(frozen=True)
class Platform:
    """An OCI platform: `os/architecture[/variant]`."""

    os: str
    """`linux`, `windows`, ..."""
    architecture: str
    """`amd64`, `arm64`, `arm`, ..."""
    variant: str | None = None
    """`v7`, `v8`, ... when the architecture has variants."""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Reads `os/arch[/variant]` as given to `--platform`."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"--platform {text!r}: expected OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def normalized(self) -> Platform:
        """The canonical spelling: arm64's default variant v8 dropped, arm's default v7 made explicit."""
        arch, variant = _ARCH_ALIASES.get(self.architecture, (self.architecture, None))
        variant = self.variant or variant
        if arch == "arm64" and variant == "v8":
            variant = None
        elif arch == "arm" and variant is None:
            variant = "v7"
        elif arch == "amd64" and variant == "v1":
            variant = None
        return Platform(self.os, arch, variant)

    def satisfies(self, wanted: Platform) -> bool:
        """True when this image platform is what `wanted` asks for.

        A request without a variant accepts any variant (`linux/arm` takes `linux/arm/v6`).
        """
        have, want = self.normalized(), wanted.normalized()
        if have == want:
            return True
        return wanted.variant is None and (have.os, have.architecture) == (want.os, want.architecture)


def host_platform() -> Platform:
    """The platform `docker pull` would choose on this machine (Linux images on any host)."""
    return Platform("linux", host.machine().lower()).normalized()


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest or index points at."""

    media_type: str
    """The target's media type."""
    digest: str
    """`sha256:...` of the target's bytes."""
    size: int
    """The target's size in bytes."""
    platform: Platform | None = None
    """For index entries: the platform of the image the entry names."""
    annotations: tuple[tuple[str, str], ...] = ()
    """Sorted annotations (`org.opencontainers.image.ref.name`, attestation markers)."""

    def annotation(self, key: str) -> str | None:
        """One annotation's value, if set."""
        return dict(self.annotations).get(key)

    @property
    def is_attestation(self) -> bool:
        """BuildKit's provenance/SBOM entries: `unknown/unknown` and not an image to scan."""
        if self.annotation("vnd.docker.reference.type") == "attestation-manifest":
            return True
        return self.platform is not None and self.platform.os == "unknown"


@dataclass(frozen=True)
class Manifest:
    """An image manifest: one platform's config and layers."""

    config: Descriptor
    """The image config blob."""
    layers: tuple[Descriptor, ...]
    """The layer blobs, bottom first (one per `rootfs.diff_ids` entry)."""


@dataclass(frozen=True)
class Index:
    """An image index or manifest list: one entry per platform (and attestations)."""

    manifests: tuple[Descriptor, ...]
    """The entries, in the index's order."""


class PlatformNotChosen(ImageError):
    """An image of several platforms, or variants of one, none of which the run chose: the hint
    names the platform's option, which the reader words as the command line's and the image's
    resolution as the run's user sets it (`worded`)."""

    def __init__(self, message: str, asks: str, wording: RunWording = COMMAND_LINE_WORDS) -> None:
        super().__init__(message, hint=asks.format(platform=wording.option("platform")))
        self.asks = asks
        """The hint, `{platform}` where the option goes."""

    def worded(self, wording: RunWording) -> PlatformNotChosen:
        """The same error, naming the platform as `wording` does."""
        return PlatformNotChosen(self.message, self.asks, wording)


def _fail(where: str, problem: str) -> ImageError:
    return ImageError(f"{where}: {problem}")


def _descriptor(raw: object, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise _fail(where, "expected a descriptor object")
    media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
    if not isinstance(media_type, str):
        raise _fail(f"{where}.mediaType", "expected a string")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise _fail(f"{where}.digest", "expected a sha256:<64 hex> digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail(f"{where}.size", "expected a non-negative integer")
    plat = raw.get("platform")
    parsed: Platform | None = None
    if plat is not None:
        if not isinstance(plat, dict) or not isinstance(plat.get("os"), str):
            raise _fail(f"{where}.platform", "expected an object with os and architecture")
        arch, variant = plat.get("architecture"), plat.get("variant")
        if not isinstance(arch, str) or not (variant is None or isinstance(variant, str)):
            raise _fail(f"{where}.platform", "expected string architecture and variant")
        parsed = Platform(plat["os"], arch, variant or None)
    notes = raw.get("annotations") or {}
    if not isinstance(notes, dict) or not all(isinstance(v, str) for v in notes.values()):
        raise _fail(f"{where}.annotations", "expected an object of strings")
    return Descriptor(media_type, digest, size, parsed, tuple(sorted(notes.items())))


def parse_manifest(data: bytes, where: str, content_type: str | None = None) -> Manifest | Index:
    """Reads a manifest or an index; `content_type` is the registry's header, when there is one."""
    try:
        doc = loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(where, f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _fail(where, "expected a JSON object")
    if doc.get("schemaVersion") == 1:
        raise _fail(
            where, "Docker schema 1 manifests are not supported (push the image again with a current client)"
        )
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _fail(f"{where}.mediaType", "expected a string")
    media_type = declared or (content_type or "").split(";")[0].strip()
    if media_type in INDEX_TYPES or (not media_type and "manifests" in doc):
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise _fail(f"{where}.manifests", "expected an array")
        return Index(tuple(_descriptor(e, f"{where}.manifests[{i}]") for i, e in enumerate(entries)))
    if media_type in MANIFEST_TYPES or (not media_type and "config" in doc):
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise _fail(f"{where}.layers", "expected an array")
        return Manifest(
            _descriptor(doc.get("config"), f"{where}.config"),
            tuple(_descriptor(e, f"{where}.layers[{i}]") for i, e in enumerate(layers)),
        )
    raise _fail(where, f"not an image manifest or index (media type {media_type or 'missing'!r})")


def choose_platform(
    entries: list[tuple[Platform, Descriptor]], wanted: Platform | None, what: str
) -> tuple[Platform, Descriptor]:
    """The entry for `wanted`; without it, the only one, else the host's (as `docker pull` picks).

    Raises an ImageError listing the platforms available when none or several fit.
    """
    available = ", ".join(sorted({str(p) for p, _ in entries})) or "none"
    if wanted is None:
        if len(entries) == 1:
            return entries[0]
        wanted = host_platform()
        found = _matching(entries, wanted)
        if len(found) == 1:
            return found[0]
        raise PlatformNotChosen(
            f"{what} has several platforms ({available}) and none is this machine's ({wanted})",
            "choose one with {platform}",
        )
    found = _matching(entries, wanted)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ImageError(f"{what} has no {wanted} image (available: {available})")
    raise PlatformNotChosen(
        f"{what} has several {wanted} images ({available})", "name the variant in {platform}"
    )


def _matching(
    entries: list[tuple[Platform, Descriptor]], wanted: Platform
) -> list[tuple[Platform, Descriptor]]:
    # An exact match first: `linux/arm` means arm/v7 when both v6 and v7 are offered, as in Docker.
    exact = [e for e in entries if e[0].normalized() == wanted.normalized()]
    return exact or [e for e in entries if e[0].satisfies(wanted)]
