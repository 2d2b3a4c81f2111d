"""Has the base image's tag moved on since the image was built? Registry reads only.

`locate_base` finds two images of the base image's repository, both for the image's own platform:

- **the one used**: the platform manifest whose config `rootfs.diff_ids` are the first layers of
  the image. Candidates, in order: the digest the base reference pins (`--base-image NAME@DIGEST`),
  the digest of the `org.opencontainers.image.base.digest` label, then what the tag points to
  now. A digest may name an index; the image's platform is chosen from it.
- **the current one**: what the tag points to now, over the registry HTTP API (the same client
  and credentials as every registry read): a manifest, or an index from which the image's
  platform is chosen, then that platform's config.

Platform manifests and layers are compared, never index digests: a multi-platform base whose other
platforms were rebuilt has a new index digest but is still current for this image's platform.
A base whose tag now has the same layers is not behind, whatever its config says.

The results are typed data (`LocatedBase`, `BaseCheck`: gate/image/base_image.py); nothing here scans. Every reason the check
cannot run is a `BaseNotChecked` with a one-line reason, which the caller turns into a report of
`checked: false`, never into a verdict.
"""

from __future__ import annotations

from gate.errors import GateError, ImageError
from gate.image.base_image import BaseImageState, LocatedBase
from gate.image.layers import is_prefix
from gate.image.manifest import Platform
from gate.image.reference import ImageRef, parse_reference
from gate.image.registry import CredentialLookup, read_registry
from gate.image.registry_auth import AuthRefused
from gate.image.resolve import BASE_DIGEST_LABEL, BASE_NAME_LABEL
from gate.image.source import ImageNotFound, SourceUnreachable
from gate.model import ImageInfo
from gate.run_wording import COMMAND_LINE_WORDS, LoginHint, RunWording

_NOT_REGISTRY = ("docker-archive:", "oci-archive:", "docker-daemon:")


class BaseNotChecked(ImageError):
    """The base image check could not run; `message` is the reason, in one line."""


class NoBaseImage(BaseNotChecked):
    """The image is built FROM scratch: there is no base image, so none can be stale."""


def image_platform(info: ImageInfo) -> Platform | None:
    """The scanned image's platform (`arm/v7` architectures carry their variant)."""
    if not info.os or not info.architecture:
        return None
    arch, _, variant = info.architecture.partition("/")
    return Platform(info.os, arch, variant or None)


def base_reference(
    info: ImageInfo, wording: RunWording = COMMAND_LINE_WORDS
) -> tuple[ImageRef, tuple[str, ...]]:
    """The base image's tag, and the digests that may name the base the image was built on.

    Raises `BaseNotChecked` when no base is known or it has no registry tag to check; its hint
    names the base image's option as `wording` does.
    """
    labels = dict(info.labels)
    name = info.base_image
    if name and name.startswith(_NOT_REGISTRY):
        # An archive or engine image has no tag to follow; the label may still name its registry.
        name = labels.get(BASE_NAME_LABEL) or name
    if not name and info.base_layer_count == 0:
        # No name, yet nothing below the image's own layers: its Dockerfile builds FROM scratch.
        raise NoBaseImage(f"{info.reference} is built FROM scratch: it has no base image to check")
    if not name:
        raise BaseNotChecked(
            f"the base image of {info.reference} is not known",
            hint=f"{wording.setting('base-image', 'NAME:TAG')}, or label the image {BASE_NAME_LABEL}",
        )
    if name.startswith(_NOT_REGISTRY):
        raise BaseNotChecked(f"the base image {name} is not in a registry, so it has no tag to check")
    if name == "scratch":
        raise NoBaseImage(f"{info.reference} is built FROM scratch: it has no base image to check")
    try:
        ref = parse_reference(name.removeprefix("docker://"))
    except GateError as exc:
        raise BaseNotChecked(f"the base image reference {name!r} cannot be read: {exc.message}") from None
    pinned = [ref.digest] if ref.digest else []
    label_digest, label_name = labels.get(BASE_DIGEST_LABEL), labels.get(BASE_NAME_LABEL)
    if label_digest and label_digest not in pinned and _same_repository(label_name, ref):
        pinned.append(label_digest)
    if ref.tag is None and ref.digest is not None:
        raise BaseNotChecked(
            f"the base image {name} names a digest and no tag, so there is no tag to check",
            hint="name the tag as well: NAME:TAG@DIGEST",
        )
    return ImageRef(ref.registry, ref.repository, ref.tag), tuple(pinned)


def _same_repository(name: str | None, ref: ImageRef) -> bool:
    if not name:
        return True  # a digest label without a name belongs to whatever base is known
    try:
        other = parse_reference(name.removeprefix("docker://"))
    except GateError:
        return False
    return (other.registry, other.repository) == (ref.registry, ref.repository)


def locate_base(
    info: ImageInfo,
    credentials: CredentialLookup,
    timeout: float,
    wording: RunWording = COMMAND_LINE_WORDS,
    ca_file: str | None = None,
) -> LocatedBase:
    """The base image `info` was built on and what its tag points to now (registry reads only).

    Raises `BaseNotChecked` with the reason when either cannot be told (`wording` words what to do
    about a registry that refuses the read, and how the run's user names the base image; `ca_file`
    is a CA trusted besides the usual ones).
    """
    tag, pinned = base_reference(info, wording)
    login = wording.login
    layers = tuple(layer.diff_id for layer in info.layers)
    if not layers:
        raise BaseNotChecked(f"the layers of {info.reference} are not known, so its base cannot be told")
    wanted = image_platform(info)
    current = _read(tag, wanted, credentials, timeout, login, ca_file, wording.untrusted_certificate)
    used: BaseImageState | None = None
    misses: list[str] = []
    for digest in pinned:
        try:
            candidate = _read(
                ImageRef(tag.registry, tag.repository, None, digest),
                wanted,
                credentials,
                timeout,
                login,
                ca_file,
                wording.untrusted_certificate,
            )
        except BaseNotChecked as exc:
            misses.append(exc.message)
            continue
        if is_prefix(candidate.diff_ids, layers):
            used = candidate
            break
        misses.append(f"the layers of {tag.repository}@{digest} are not the image's first layers")
    if used is None and is_prefix(current.diff_ids, layers):
        used = current
    if used is None:
        why = f" ({'; '.join(misses)})" if misses else ""
        raise BaseNotChecked(
            f"cannot tell which {tag} {info.reference} was built on: its layers do not start with "
            f"those of the tag now, and no digest names the one it was{why}",
            hint=f"label the image {BASE_DIGEST_LABEL} at build time, or "
            f"{wording.setting('base-image', 'NAME:TAG@DIGEST')}",
        )
    return LocatedBase(str(tag), used, current)


def _read(
    ref: ImageRef,
    wanted: Platform | None,
    credentials: CredentialLookup,
    timeout: float,
    login: LoginHint,
    ca_file: str | None,
    untrusted: str,
) -> BaseImageState:
    """One platform's manifest digest and config; registry failures become `BaseNotChecked`."""
    what = str(ref)
    try:
        image = read_registry(ref, what, wanted, credentials, timeout, login, ca_file, untrusted)
    except SourceUnreachable as exc:
        raise BaseNotChecked(exc.message, hint=exc.hint) from None
    except AuthRefused as exc:
        raise BaseNotChecked(f"unauthorized: {exc.message}", hint=exc.hint) from None
    except ImageNotFound as exc:
        # A 404 says what the registry has now, not what it had: a tag deleted since the build
        # and a misspelt one that never existed get the same answer.
        missing = f"the tag {ref}" if ref.digest is None else str(ref)
        raise BaseNotChecked(
            f"{missing} was not found in the registry: {exc.message}",
            hint="check the name's spelling; a tag deleted or renamed since the build is not found either",
        ) from None
    except GateError as exc:
        raise BaseNotChecked(exc.message, hint=exc.hint) from None
    digest = image.manifest_digest or image.digest
    if digest is None:  # read_registry always knows it; a guard for the type
        raise BaseNotChecked(f"registry {ref.registry} did not say the digest of {what}")
    return BaseImageState(
        reference=f"{ref.registry}/{ref.repository}@{digest}",
        digest=digest,
        created=image.config.created,
        diff_ids=image.config.diff_ids,
    )
