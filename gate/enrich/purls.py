"""Package URLs as VEX statements use them: does a product name this package, or this image?

Parsing and normalisation (percent-encoding, npm scopes written `%40scope` or `@scope`, PyPI name
case, qualifier order) are `packageurl-python`'s; the matching rule is the one OpenVEX tools apply:
a purl without a version matches every version, qualifiers it gives must be present and equal,
and extra qualifiers are ignored.

A Debian or RPM package's epoch is written two ways: Trivy writes it as an `epoch` qualifier
(`pkg:deb/debian/zlib1g@1.2.11.dfsg-1?epoch=1`), as the purl spec's rpm type does, while Grype
(Syft) writes a Debian package's epoch in its version (`@1:1.2.11.dfsg-1`), and so does a Snyk
finding's purl (gate/scanners/snyk.py). Both purls are read in the first form before they are
compared (`_epoch_as_qualifier`), so a statement or an allowlist entry written either way names
the same package from any of the three.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from packageurl import PackageURL

from gate.model import ImageInfo


@functools.lru_cache(maxsize=8192)
def parse_purl(text: str) -> PackageURL | None:
    """The parsed purl, or None when `text` is not one."""
    try:
        return PackageURL.from_string(text.strip())
    except ValueError:
        return None


def purl_matches(pattern: str, purl: str) -> bool:
    """True when the package URL `purl` is one that `pattern` names.

    Type, namespace and name must be equal (as normalised by the purl library); a pattern
    without a version matches every version, else the versions must be equal; every qualifier
    of the pattern must be present in `purl` with the same value, and qualifiers only `purl` has
    are ignored; a pattern's subpath must be equal. Text that is not a purl matches nothing.
    """
    want = parse_purl(pattern)
    if want is None or _names_another(want, purl):
        return False
    have = parse_purl(purl)
    return have is not None and parsed_purls_match(want, have)


def parsed_purls_match(want: PackageURL, have: PackageURL) -> bool:
    """`purl_matches` of two parsed purls: `want` the pattern, `have` the finding's."""
    if (want.type, want.namespace, want.name) != (have.type, have.namespace, have.name):
        return False
    if want.subpath and want.subpath != have.subpath:
        return False
    want_version, wanted = _epoch_as_qualifier(want)
    have_version, given = _epoch_as_qualifier(have)
    if want_version is not None and want_version != have_version:
        return False
    if want.type in _EPOCH_TYPES and "epoch" in wanted:
        # dpkg and rpm read a version without an epoch as epoch 0, and Trivy and Grype leave a
        # zero epoch out: a pattern's `epoch=0` (or `0:`) names the finding that has none.
        given = {"epoch": "0", **given}
    return all(given.get(key) == value for key, value in wanted.items())


# The purl types whose versions may start with an epoch (`1:`), as dpkg and rpm write one.
_EPOCH_TYPES = frozenset({"deb", "rpm"})
_EPOCH_PREFIX = re.compile(r"([0-9]+):(.+)")


def _epoch_as_qualifier(purl: PackageURL) -> tuple[str | None, dict[str, str]]:
    """The purl's version and qualifiers, with an epoch written before a Debian or RPM version
    (`1:1.2.11.dfsg-1`) moved to the `epoch` qualifier, as Trivy writes it: `1.2.11.dfsg-1` and
    `{"epoch": "1"}`. A version whose epoch contradicts the purl's `epoch` qualifier is left
    as it is, and then equals no version written the other way."""
    qualifiers = dict(purl.qualifiers) if isinstance(purl.qualifiers, dict) else {}
    version = purl.version
    if purl.type not in _EPOCH_TYPES or version is None:
        return version, qualifiers
    found = _EPOCH_PREFIX.fullmatch(version)
    if found is None:
        return version, qualifiers
    epoch, rest = found.groups()
    if qualifiers.setdefault("epoch", epoch) != epoch:
        return version, qualifiers
    return rest, qualifiers


# Parsing a purl takes packageurl-python about 30 us, and most of the purls an allowlist entry's
# package is compared with name another package: a report of 100,000 findings parsed 13,000 purls
# (0.4 s) to say so. For the types below, packageurl-python's name is a piece of the purl's text
# before its qualifiers, lower-cased or with `_` spelled `-` at most, as long as the text is plain:
# printable ASCII without `%` (percent-decoding), `:` after the scheme and `//` (which urlsplit
# reads as a scheme or an authority), `#` (a subpath) or spaces (which urlsplit drops). A plain
# purl whose text holds no such spelling of the wanted name cannot name that package.
_PLAIN_NAME_TYPES = frozenset({
    "alpm", "apk", "cargo", "composer", "conan", "deb", "gem", "generic", "golang", "hex", "maven",
    "npm", "nuget", "pypi", "rpm",
})  # fmt: skip
_NOT_PLAIN = re.compile(r"[^!-~]|[%#:]|//")


def _fold(text: str) -> str:
    return text.lower().replace("_", "-")


def _names_another(want: PackageURL, purl: str) -> bool:
    """True when `purl` certainly names a package other than `want`'s (see `_PLAIN_NAME_TYPES`);
    False when it may name it, which only the parsed purl tells."""
    if want.type not in _PLAIN_NAME_TYPES:
        return False
    name_text = _plain_name_text(purl)
    return name_text is not None and _fold(want.name) not in name_text


@functools.lru_cache(maxsize=4096)
def _plain_name_text(purl: str) -> str | None:
    """The folded text of a plain purl before its qualifiers, where its name is; None for a purl
    that is not plain. Kept for the purls seen last: one finding's purl is compared with every
    allowlist entry for its id, dozens when an allowlist has many entries for one id."""
    text = purl.strip()
    if not text.startswith("pkg:"):
        return None
    rest = text[4:].lstrip("/")
    if _NOT_PLAIN.search(rest):
        return None
    return _fold(rest.partition("?")[0])


_DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# Transports that name a file or a local store rather than a registry repository, and the look of
# an archive path given to the scanner (Trivy's `--input`).
_LOCAL_TRANSPORTS = ("docker-archive:", "oci-archive:", "oci:", "dir:", "containers-storage:")
_FILE_LIKE = re.compile(r"(?:\.{0,2}/.*|.*\.(?:tar|tgz|tar\.gz|tar\.zst|tar\.xz))")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class _Reference:
    """A registry reference, normalised as Docker does."""

    registry: str
    """The registry host (`docker.io` for Docker Hub, whatever the reference called it)."""
    repository: str
    """The repository path (`library/alpine` for Docker Hub's official images)."""
    tag: str | None
    """The tag; `latest` when the reference has neither tag nor digest."""
    digest: str | None
    """The `sha256:...` digest the reference pins, if any."""


def _split_reference(reference: str) -> _Reference | None:
    """A registry reference's parts, normalised as Docker does; None for anything else."""
    text = reference.strip()
    for prefix in ("docker://", "docker-daemon:"):
        text = text.removeprefix(prefix)
    if not text or text.startswith(_LOCAL_TRANSPORTS) or _FILE_LIKE.fullmatch(text):
        return None
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        return None
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            return None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = _DOCKER_HUB, name
    if registry in _DOCKER_HUB_ALIASES:
        registry = _DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        return None
    if tag is None and not digest:
        tag = "latest"
    return _Reference(registry, path, tag, digest or None)


def image_identifiers(image: ImageInfo) -> set[str]:
    """Every form in which a VEX document may name this image.

    The reference as given; the repository digest, the manifest digest of the platform scanned
    (when known and not the same) and the image ID (`sha256:...`); and, when the reference names a
    registry repository, for each of those two digests where a digest goes: `pkg:oci/<name>@sha256:<digest>?repository_url=<registry/
    repository>` (with `tag` and `arch` qualifiers when known, so patterns that give them match),
    the tag form `pkg:oci/<name>?repository_url=...&tag=<tag>`, Docker's `pkg:docker/<namespace>/
    <name>@<tag or digest>`, and the normalised references `<registry>/<repository>:<tag>` and
    `...@<digest>`. Docker Hub repositories are named both `docker.io/library/x` and
    `index.docker.io/library/x` (Trivy writes the second), and by their short names.
    """
    found = {image.reference}
    found.update(d for d in (image.digest, image.image_id, image.manifest_digest) if d)
    ref = _split_reference(image.reference)
    if ref is None:
        return found
    # The index digest names every platform's image; a platform's manifest digest names the one
    # scanned (the purl spec's oci version: "the digest of the artifact"). Both are this image's.
    digests = tuple(dict.fromkeys(d for d in (image.digest or ref.digest, image.manifest_digest) if d))
    arch = image.architecture.partition("/")[0] if image.architecture else None
    hub = ref.registry == _DOCKER_HUB
    registries = (_DOCKER_HUB, "index.docker.io") if hub else (ref.registry,)
    short = ref.repository.removeprefix("library/") if hub else None
    name = ref.repository.rsplit("/", 1)[-1]

    for registry in registries:
        repository_url = f"{registry}/{ref.repository}"
        qualifiers = {"repository_url": repository_url}
        if arch:
            qualifiers["arch"] = arch
        if ref.tag:
            qualifiers["tag"] = ref.tag
            found.add(PackageURL("oci", None, name, None, qualifiers).to_string())
            found.add(f"{repository_url}:{ref.tag}")
        for digest in digests:
            found.add(PackageURL("oci", None, name, digest, qualifiers).to_string())
            found.add(f"{repository_url}@{digest}")

    namespace, _, _ = ref.repository.rpartition("/")
    namespaces = {namespace, ""} if hub and namespace == "library" else {namespace}
    docker_qualifiers = None if hub else {"repository_url": ref.registry}
    for version in (ref.tag, *digests):
        if version:
            for space in namespaces:
                found.add(PackageURL("docker", space or None, name, version, docker_qualifiers).to_string())
    if short:
        for version, sep in ((ref.tag, ":"), *((digest, "@") for digest in digests)):
            if version:
                found.update({f"{short}{sep}{version}", f"{ref.repository}{sep}{version}"})
    return found


def names_image(identifier: str, image_ids: AbstractSet[str]) -> bool:
    """True when a VEX product identifier names the image whose `image_identifiers` are given:
    the same text, a purl pattern that matches one of the image's purls, or a registry reference
    to it in another spelling (`_names_reference`)."""
    if identifier in image_ids:
        return True
    pattern = parse_purl(identifier)
    if pattern is None:
        return _names_reference(identifier, image_ids)
    candidates = [candidate for candidate in image_ids if candidate.startswith("pkg:")]
    if pattern.type == "oci" and (url := _qualifier(pattern, "repository_url")):
        # The repository read as Docker reads it: `docker.io/alpine` is `docker.io/library/alpine`.
        ref = _split_reference(url)
        if ref is not None and ref.tag == "latest" and ":" not in url.rpartition("/")[2]:
            qualifiers = dict(pattern.qualifiers) if isinstance(pattern.qualifiers, dict) else {}
            qualifiers["repository_url"] = f"{ref.registry}/{ref.repository}"
            identifier = pattern._replace(qualifiers=qualifiers).to_string()
    if pattern.type == "docker" and not _qualifier(pattern, "repository_url"):
        # The purl spec's docker type: "The default repository is https://hub.docker.com". Without
        # a repository_url the pattern names a Docker Hub image, never one of another registry
        # (whose docker purls carry their registry as that qualifier, which matching would ignore).
        candidates = [c for c in candidates if not _qualifier(parse_purl(c), "repository_url")]
    return any(purl_matches(identifier, candidate) for candidate in candidates)


def _names_reference(identifier: str, image_ids: AbstractSet[str]) -> bool:
    """True when `identifier` is a registry reference to the image in another spelling of it
    (`docker.io/alpine:3.9` for `alpine:3.9`, `ghcr.io/org/app:1.0@sha256:...`): normalised as
    Docker does, its digest when it pins one, else its tag, is one of the image's."""
    ref = _split_reference(identifier)
    if ref is None:
        return False
    version = f"@{ref.digest}" if ref.digest else f":{ref.tag}"
    return f"{ref.registry}/{ref.repository}{version}" in image_ids


def _qualifier(purl: PackageURL | None, key: str) -> str | None:
    qualifiers = purl.qualifiers if purl is not None and isinstance(purl.qualifiers, dict) else {}
    return qualifiers.get(key)


def oci_purl(image: ImageInfo) -> str | None:
    """The image as `pkg:oci/<name>@sha256:<digest>?repository_url=<registry/repository>`, the
    form OpenVEX documents name images by; None when the reference names no registry repository
    or the digest is not known.

    A Docker Hub repository is written `index.docker.io/<repository>`: Trivy and Grype name the
    image they scan that way (go-containerregistry's `Repository.Name()`) and compare the
    qualifier's text exactly, so the `docker.io` spelling would make them skip the statement."""
    ref = _split_reference(image.reference)
    digest = image.digest or (ref.digest if ref else None)
    if ref is None or not digest:
        return None
    name = ref.repository.rsplit("/", 1)[-1]
    registry = "index.docker.io" if ref.registry == _DOCKER_HUB else ref.registry
    return PackageURL(
        "oci", None, name, digest, {"repository_url": f"{registry}/{ref.repository}"}
    ).to_string()
