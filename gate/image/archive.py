"""Image tarballs: `docker-archive:PATH` (what `docker save` writes) and `oci-archive:PATH` (an OCI
image layout, https://github.com/opencontainers/image-spec/blob/main/image-layout.md, as a tar).

An archive is read in one pass, member by member, and nothing is extracted: only small members
that start like JSON (manifests, indexes, configs) are kept in memory, layers are only counted.
Member names are used as lookup keys, never as file system paths, and names that are absolute or
climb with `..` can never be referenced. `PATH:NAME` picks one image of an archive holding several
(a `RepoTags` entry, or an OCI `org.opencontainers.image.ref.name`), as skopeo does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import posixpath
import shlex
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from gate._json_decode import loads
from gate.errors import ImageError
from gate.image.config import check_platform, parse_config
from gate.image.manifest import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    Descriptor,
    Index,
    Manifest,
    Platform,
    choose_platform,
    parse_manifest,
)
from gate.image.source import SourceImage, SourceKind

MAX_JSON = 8 << 20
"""Largest member read as JSON; configs with a long history stay well below it."""
MAX_JSON_TOTAL = 64 << 20
"""Most JSON kept in memory for one archive."""
REF_NAME = "org.opencontainers.image.ref.name"


def _safe(name: str) -> str | None:
    """The member name without `./` and empty parts; None when absolute or climbing out."""
    if name.startswith("/"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


@dataclass
class _Members:
    """The archive's member table and the JSON members it holds."""

    label: str
    """How errors name the archive (`docker-archive:app.tar`)."""
    infos: dict[str, tarfile.TarInfo] = field(default_factory=dict)
    twice: set[str] = field(default_factory=set)
    json: dict[str, bytes] = field(default_factory=dict)

    def resolve(self, name: str, depth: int = 0) -> str | None:
        """The regular member a name leads to, following links inside the archive."""
        info = self.infos.get(name)
        if info is None or depth > 8:
            return None
        if info.isfile():
            return name
        if info.issym():
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), info.linkname))
        elif info.islnk():
            target = info.linkname
        else:
            return None
        safe = _safe(target)
        return self.resolve(safe, depth + 1) if safe else None

    def member(self, ref: str, what: str) -> tarfile.TarInfo:
        """The regular member a manifest names; errors for unsafe, missing or duplicated names."""
        name = _safe(ref)
        if name is None:
            raise ImageError(f"{self.label}: {what} {ref!r} is not a path inside the archive")
        real = self.resolve(name)
        if real is None:
            raise ImageError(f"{self.label}: {what} {ref!r} is missing from the archive")
        if name in self.twice or real in self.twice:
            raise ImageError(f"{self.label}: {ref!r} appears twice in the archive")
        return self.infos[real]

    def read_json(self, ref: str, what: str) -> bytes:
        """A JSON member's bytes."""
        info = self.member(ref, what)
        data = self.json.get(_safe(info.name) or "")
        if data is None:
            problem = "too large" if info.size > MAX_JSON else "not JSON"
            raise ImageError(f"{self.label}: {what} {ref!r} is {problem}")
        return data

    def blob(self, desc: Descriptor, what: str) -> bytes:
        """An OCI blob, checked against its digest."""
        algorithm, _, hexdigest = desc.digest.partition(":")
        data = self.read_json(f"blobs/{algorithm}/{hexdigest}", what)
        if hashlib.new(algorithm, data).hexdigest() != hexdigest:
            raise ImageError(f"{self.label}: {what} {desc.digest} does not match its digest")
        return data


def _scan(path: Path, label: str) -> _Members:
    if not path.exists():
        raise ImageError(f"{label}: no such file")
    if path.is_dir():
        raise ImageError(
            f"{label}: is a directory, expected a tar archive",
            hint=f"tar -cf image.tar -C {shlex.quote(str(path))} .",
        )
    members = _Members(label)
    total = 0
    try:
        with tarfile.open(path, "r:*") as tar:
            for info in tar:
                name = _safe(info.name)
                if name is None:
                    continue
                if name in members.infos:
                    members.twice.add(name)
                members.infos[name] = info
                if not info.isfile() or info.size > MAX_JSON:
                    continue
                stream = tar.extractfile(info)
                if stream is None:
                    continue
                head = stream.read(64)
                if head.lstrip()[:1] not in (b"{", b"["):
                    continue
                data = head + stream.read(MAX_JSON)
                total += len(data)
                if total > MAX_JSON_TOTAL:
                    raise ImageError(f"{label}: holds more than {MAX_JSON_TOTAL >> 20} MiB of JSON")
                members.json[name] = data
    except tarfile.ReadError as exc:
        # `r:*` lists every decompressor it tried, one per line: keep the message to one line.
        first = str(exc).splitlines()[0] if str(exc) else "unreadable"
        if not members.infos:
            raise ImageError(f"{label}: not a tar archive (plain, gzip, bzip2 or xz)") from None
        raise ImageError(f"{label}: the tar archive is damaged ({first})") from None
    except (EOFError, OSError, tarfile.TarError, zlib.error, lzma.LZMAError) as exc:
        # Damaged compressed data fails inside the decompressor, with its own exception types.
        raise ImageError(f"{label}: cannot read the archive ({exc})") from None
    return members


def split_archive_reference(rest: str) -> tuple[Path, str | None]:
    """`PATH` or `PATH:NAME`: the longest existing file wins, so paths with colons still work."""
    if Path(rest).exists() or ":" not in rest:
        return Path(rest), None
    head, _, name = rest.rpartition(":")
    while head:
        if Path(head).is_file():
            return Path(head), name
        head, sep, more = head.rpartition(":")
        name = f"{more}:{name}" if sep else name
    return Path(rest), None


def _json(data: bytes, where: str) -> object:
    try:
        return loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{where}: not valid JSON ({exc})") from None


_LAYOUTS = {
    "docker-archive": ("manifest.json", "a docker-archive", "it is an OCI archive: use oci-archive:"),
    "oci-archive": ("index.json", "an OCI image layout", "it is a docker-archive: use docker-archive:"),
}
"""Per scheme: the file at the top of its archives, what such an archive is called, and the hint
for an archive of the other kind."""


def _open(rest: str, scheme: str) -> tuple[Path, str | None, str, _Members]:
    """The archive `rest` names (what follows `scheme:`): its path, the image name after it, its
    label for messages and its members; an archive without `scheme`'s top file is refused, with
    a hint when it is of the other kind."""
    path, name = split_archive_reference(rest)
    label = f"{scheme}:{path}"
    members = _scan(path, label)
    top, kind, hint = _LAYOUTS[scheme]
    if top not in members.infos:
        other = any(t in members.infos for s, (t, _, _) in _LAYOUTS.items() if s != scheme)
        raise ImageError(f"{label}: not {kind} (no {top})", hint=hint if other else None)
    return path, name, label, members


def read_docker_archive(rest: str, wanted: Platform | None) -> SourceImage:
    """Reads a `docker save` tarball (`rest` is what follows `docker-archive:`)."""
    path, name, label, members = _open(rest, "docker-archive")
    doc = _json(members.read_json("manifest.json", "manifest"), f"{label}: manifest.json")
    if not isinstance(doc, list) or not doc or not all(isinstance(e, dict) for e in doc):
        raise ImageError(f"{label}: manifest.json: expected a non-empty array of objects")
    entry = _docker_entry(doc, name, label)
    config_ref, layer_refs = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_ref, str) or not isinstance(layer_refs, list):
        raise ImageError(f"{label}: manifest.json: expected Config (string) and Layers (array)")
    data = members.read_json(config_ref, "config")
    image_id = f"sha256:{hashlib.sha256(data).hexdigest()}"
    stem = posixpath.basename(config_ref).removesuffix(".json")
    if len(stem) == 64 and stem != image_id[7:]:
        raise ImageError(f"{label}: config {config_ref!r} does not match its digest")
    config = parse_config(data, f"{label}: {config_ref}")
    if len(layer_refs) != len(config.diff_ids):
        raise ImageError(
            f"{label}: manifest.json lists {len(layer_refs)} layers, the config {len(config.diff_ids)}"
        )
    layers = [
        (str(ref), members.member(str(ref), "layer"), diff_id)
        for ref, diff_id in zip(layer_refs, config.diff_ids, strict=True)
    ]
    size = sum(info.size for _, info, _ in layers)
    check_platform(config, wanted, label)
    _check_layers(path, label, layers)
    return SourceImage(SourceKind.DOCKER_ARCHIVE, str(path), config, image_id, size=size, archive_path=path)


_GZIP = b"\x1f\x8b"
_OTHER_COMPRESSIONS = (b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ")
"""zstd, bzip2, xz: layers the scanner decompresses; the gate does not check them."""


def _diff_id(stream: io.BufferedReader) -> str | None:
    """sha256 of the layer's uncompressed tar (its diff_id); None for a compression not read here."""
    head = stream.peek(6)[:6]
    if head.startswith(_OTHER_COMPRESSIONS):
        return None
    unpacked: gzip.GzipFile | io.BufferedReader = (
        gzip.GzipFile(fileobj=stream) if head.startswith(_GZIP) else stream
    )
    digest = hashlib.sha256()
    while chunk := unpacked.read(1 << 20):
        digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _check_layers(path: Path, label: str, layers: list[tuple[str, tarfile.TarInfo, str]]) -> None:
    """Each layer against the diff_id the config gives it, in one more pass over the archive.

    The scanner does not check them: a layer zeroed by a broken copy reads as an empty tar, and
    its packages, and their findings, would be missing from a verdict that then passes."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for ref, info, diff_id in layers:
        wanted.setdefault(info.name, []).append((ref, diff_id))
    try:
        with tarfile.open(path, "r:*") as tar:
            for info in tar:
                if info.name not in wanted or not info.isfile():
                    continue
                stream = tar.extractfile(info)
                refs = wanted.pop(info.name)
                try:
                    digest = _diff_id(stream) if isinstance(stream, io.BufferedReader) else None
                except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                    # A gzip layer cut short or overwritten: its data, not the archive's tar, is bad.
                    raise ImageError(
                        f"{label}: layer {refs[0][0]!r} cannot be decompressed ({exc}): the archive is damaged",
                        hint="save or copy the image again",
                    ) from None
                for ref, diff_id in refs:
                    if digest is not None and digest != diff_id:
                        raise ImageError(
                            f"{label}: layer {ref!r} does not match its diff_id in the config "
                            f"({diff_id[:19]}...): the archive is damaged",
                            hint="save or copy the image again",
                        )
                if not wanted:
                    return
    except (EOFError, OSError, tarfile.TarError, zlib.error, lzma.LZMAError) as exc:
        raise ImageError(f"{label}: cannot read the archive ({exc})") from None


def _tags(value: object) -> list[str]:
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _docker_entry(doc: list[dict[str, object]], name: str | None, label: str) -> dict[str, object]:
    tags = [_tags(e.get("RepoTags")) for e in doc]
    if name is None:
        if len(doc) == 1:
            return doc[0]
        listed = ", ".join(t[0] if t else f"@{i}" for i, t in enumerate(tags))
        raise ImageError(f"{label}: holds {len(doc)} images ({listed})", hint=f"name one: {label}:NAME")
    if name.startswith("@") and name[1:].isdigit() and int(name[1:]) < len(doc):
        return doc[int(name[1:])]
    for entry, entry_tags in zip(doc, tags, strict=True):
        if name in entry_tags or f"{name}:latest" in entry_tags:
            return entry
    listed = ", ".join(t for ts in tags for t in ts) or "no tags"
    raise ImageError(f"{label}: no image named {name!r} (the archive has: {listed})")


def read_oci_archive(rest: str, wanted: Platform | None) -> SourceImage:
    """Reads an OCI image layout tarball (`rest` is what follows `oci-archive:`)."""
    path, name, label, members = _open(rest, "oci-archive")
    top = parse_manifest(members.read_json("index.json", "index"), f"{label}: index.json", "")
    if not isinstance(top, Index):
        raise ImageError(f"{label}: index.json is not an image index")
    entries = list(top.manifests)
    names = sorted({n for d in entries if (n := d.annotation(REF_NAME))})
    if name is not None:
        entries = [d for d in entries if d.annotation(REF_NAME) == name]
        if not entries:
            raise ImageError(
                f"{label}: no image named {name!r} (the archive has: {', '.join(names) or 'none'})"
            )
    elif len(names) > 1:
        raise ImageError(
            f"{label}: holds several images ({', '.join(names)})", hint=f"name one: {label}:NAME"
        )
    candidates: list[tuple[Platform, Descriptor]] = []
    tops: dict[str, Descriptor] = {}
    for desc in entries:
        for manifest_desc, plat in _platform_manifests(members, desc, label, 0):
            candidates.append((plat, manifest_desc))
            tops[manifest_desc.digest] = desc
    if not candidates:
        raise ImageError(f"{label}: index.json names no image manifest")
    plat, chosen = choose_platform(candidates, wanted, label)
    manifest = _manifest(members, chosen, label)
    data = members.blob(manifest.config, "config")
    config = parse_config(data, f"{label}: config {manifest.config.digest}")
    if len(manifest.layers) != len(config.diff_ids):
        raise ImageError(
            f"{label}: the manifest lists {len(manifest.layers)} layers, the config {len(config.diff_ids)}"
        )
    for layer in manifest.layers:
        if "nondistributable" not in layer.media_type and "foreign" not in layer.media_type:
            algorithm, _, hexdigest = layer.digest.partition(":")
            members.member(f"blobs/{algorithm}/{hexdigest}", "layer")
    check_platform(config, wanted, label)
    return SourceImage(
        SourceKind.OCI_ARCHIVE,
        str(path),
        config,
        manifest.config.digest,
        digest=tops[chosen.digest].digest,
        manifest_digest=chosen.digest,
        size=sum(layer.size for layer in manifest.layers),
        platform=plat if len(candidates) > 1 else None,
        archive_path=path,
    )


def _manifest(members: _Members, desc: Descriptor, label: str) -> Manifest:
    parsed = parse_manifest(
        members.blob(desc, "manifest"), f"{label}: manifest {desc.digest}", desc.media_type
    )
    if not isinstance(parsed, Manifest):
        raise ImageError(f"{label}: {desc.digest} is an index where a manifest was expected")
    return parsed


def _platform_manifests(
    members: _Members, desc: Descriptor, label: str, depth: int
) -> list[tuple[Descriptor, Platform]]:
    """The image manifests an index entry leads to, attestations left out, each with its platform."""
    if desc.is_attestation:
        return []
    if desc.media_type in INDEX_TYPES:
        if depth > 3:
            raise ImageError(f"{label}: indexes nested too deep")
        nested = parse_manifest(members.blob(desc, "index"), f"{label}: index {desc.digest}", desc.media_type)
        if not isinstance(nested, Index):
            raise ImageError(f"{label}: {desc.digest} is a manifest where an index was expected")
        return [
            found for d in nested.manifests for found in _platform_manifests(members, d, label, depth + 1)
        ]
    if desc.media_type not in MANIFEST_TYPES:
        return []  # artifacts (signatures, SBOMs) that are not images
    if desc.platform is not None:
        return [(desc, desc.platform)]
    manifest = _manifest(members, desc, label)
    config = parse_config(
        members.blob(manifest.config, "config"), f"{label}: config {manifest.config.digest}"
    )
    return [(desc, config.platform or Platform("unknown", "unknown"))]
