"""What we know about the image itself: where it is, its layers, history, labels and base image.

`resolve_image` finds the image and reads its config (never its layers) from one of:

| reference | source |
|---|---|
| `docker-archive:PATH[:NAME]` | a `docker save` tarball |
| `oci-archive:PATH[:NAME]` | an OCI image layout tarball |
| `docker-daemon:REF` | the Docker engine only (`docker_host`, else `DOCKER_HOST`) |
| `docker://REF` | the registry only |
| `REF` | the engine when it is reachable and has the image, else the registry (as Trivy does) |

Then it attributes each layer to the base image or to the image's own build: by an explicit base
image (whose layers must be the image's first ones), else by the `org.opencontainers.image.base.*`
labels, else by the Dockerfile, which also names the line of each own layer's instruction.
`ImageInfo.size` is what the source says: the engine's unpacked size, else the stored layer blobs.
"""

from __future__ import annotations

import difflib
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gate._input_file import shown_name
from gate.errors import GateError, ImageError, UsageError
from gate.image.archive import read_docker_archive, read_oci_archive
from gate.image.dockerfile import parse_dockerfile, read_dockerfile
from gate.image.layers import (
    DockerfileMatch,
    attribute,
    first_difference,
    is_prefix,
    match_dockerfile,
)
from gate.image.manifest import Platform, PlatformNotChosen
from gate.image.reference import ImageRef, names_registry, parse_reference
from gate.image.registry_auth import AuthRefused, ConfigLogins, Credentials, docker_config_file
from gate.image.source import ImageNotFound, SourceImage, SourceKind, SourceUnreachable
from gate.model import ImageInfo
from gate.run_wording import COMMAND_LINE_WORDS, LoginHint, RunWording

if TYPE_CHECKING:
    import docker

BASE_NAME_LABEL = "org.opencontainers.image.base.name"
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"


@dataclass(frozen=True)
class ImageTarget:
    """A resolved image: what a scanner needs to scan it, and what the gate knows about it."""

    reference: str
    """The reference exactly as the user gave it (`docker-archive:app.tar`, `ghcr.io/a/b:1`)."""
    kind: SourceKind
    """Where it is read from."""
    info: ImageInfo
    """Digest, size, platform, layers (diff ids, history), labels, base image."""
    name: str
    """What to hand the scanner: the image reference without any `docker-daemon:`/`docker://` prefix,
    or the archive path (without a `:NAME` suffix) for the archive kinds."""
    archive_path: Path | None = None
    """The tarball, for the archive kinds."""
    docker_host: str | None = None
    """The engine's address (`unix:///...`), for the engine kind."""
    platform: str | None = None
    """`os/arch[/variant]` selected from a multi-platform index, or None when the image has one."""
    insecure_registry: bool = False
    """True when the registry is plain HTTP (loopback registries): Grype must be told (Trivy's
    registry client speaks HTTP to loopback by itself)."""
    manifest_digest: str | None = None
    """The chosen platform's manifest digest (registry, OCI archive); `info.digest` names the index."""
    layout_dir: Path | None = None
    """For an OCI archive while a scan runs: the chosen image unpacked alone as an OCI image
    layout (`gate.image.oci_layout`), for Trivy, which reads layouts only as directories."""
    warnings: tuple[str, ...] = ()
    """Things the user should know (a base image that could not be read, a Dockerfile that does not
    match the image), for `ScanReport.warnings`."""


class _Sources:
    """Finds images for one resolution; the engine is connected at most once."""

    def __init__(
        self,
        docker_host: str | None,
        environ: Mapping[str, str],
        config: Path | None,
        timeout: float,
        login: LoginHint = COMMAND_LINE_WORDS.login,
        ca_file: str | None = None,
        untrusted: str = COMMAND_LINE_WORDS.untrusted_certificate,
    ):
        self.docker_host = docker_host
        self.login = login
        self.ca_file = ca_file
        self.untrusted = untrusted
        self.environ = environ
        self.timeout = timeout
        self.warnings: list[str] = []
        self.logins = ConfigLogins(config, environ, login)
        self._engine: tuple[docker.DockerClient, str] | SourceUnreachable | None = None

    def credentials(self, registry: str) -> Credentials | None:
        said = len(self.logins.twin_logins)
        found = self.logins(registry)
        self.warnings.extend(self.logins.twin_logins[said:])
        return found

    def engine(self) -> tuple[docker.DockerClient, str]:
        # The docker SDK and requests take ~0.15 s to import: only engine and registry sources
        # pay for them, so scanning an archive starts as fast as the scanner allows.
        from gate.image.engine import connect

        if self._engine is None:
            try:
                self._engine = connect(self.docker_host, self.environ, int(self.timeout))
            except SourceUnreachable as exc:
                self._engine = exc
        if isinstance(self._engine, SourceUnreachable):
            raise self._engine
        return self._engine

    def close(self) -> None:
        if isinstance(self._engine, tuple):
            self._engine[0].close()

    def locate(self, reference: str, wanted: Platform | None) -> SourceImage:
        if reference.startswith("docker-archive:"):
            return read_docker_archive(reference.removeprefix("docker-archive:"), wanted)
        if reference.startswith("oci-archive:"):
            return read_oci_archive(reference.removeprefix("oci-archive:"), wanted)
        from gate.image.engine import read_engine

        if reference.startswith("docker-daemon:"):
            client, host = self.engine()
            return read_engine(client, host, reference.removeprefix("docker-daemon:"), wanted)
        if reference.startswith("docker://"):
            name = reference.removeprefix("docker://")
            return self._read_registry(parse_reference(name), name, wanted)
        _refuse_oci_transport(reference)
        misspelt = _misspelt_source(reference)
        if reference.endswith((".tar", ".tar.gz", ".tgz")) or reference.startswith(("/", "./", "../")):
            if misspelt:
                raise UsageError(f"image {reference!r}: unknown image source", hint=misspelt)
            raise UsageError(
                f"image {reference!r} looks like a file",
                hint=f"a docker save tarball is docker-archive:{reference}, an OCI layout tarball oci-archive:{reference}",
            )
        try:
            ref = parse_reference(reference)
        except UsageError as exc:
            if misspelt:
                raise UsageError(exc.message, hint=misspelt) from None
            raise
        tried: list[ImageError] = []
        try:
            client, host = self.engine()
            return read_engine(client, host, reference, wanted)
        except (SourceUnreachable, ImageNotFound) as exc:
            tried.append(exc)
        try:
            found = self._read_registry(ref, reference, wanted)
        except SourceUnreachable as exc:
            failed: ImageError = exc
        except ImageError as exc:
            if self._engine_beside_the_point(reference, tried[0]):
                # The registry answered (it refused the read or has no such image): its answer is
                # the one the user needs, without how to start an engine nobody asked for.
                raise
            failed = exc
        else:
            if isinstance(tried[0], SourceUnreachable) and self._engine_named():
                # Only worth saying when the user pointed at an engine; CI jobs without one are common.
                self.warnings.append(f"{tried[0].message}; read {reference} from its registry instead")
            return found
        hints = "; ".join(e.hint for e in (*tried, failed) if e.hint)
        reasons = "; ".join(e.message for e in (*tried, failed))
        raise ImageError(f"image {reference} not found: {reasons}", hint=hints or None)

    def _read_registry(self, ref: ImageRef, name: str, wanted: Platform | None) -> SourceImage:
        """The image `name` (`ref`, parsed) from its registry, with this run's logins and trust."""
        from gate.image.registry import read_registry

        return read_registry(
            ref, name, wanted, self.credentials, self.timeout, self.login, self.ca_file, self.untrusted
        )

    def _engine_named(self) -> bool:
        """Whether the user pointed at an engine (`docker_host`, `DOCKER_HOST`)."""
        return bool(self.docker_host or self.environ.get("DOCKER_HOST"))

    def _engine_beside_the_point(self, reference: str, engine_failure: ImageError) -> bool:
        """True when a registry's answer about `reference` is the whole story: no engine was
        named and none answered at the default address, and the reference names its registry.
        A name left to Docker Hub's default (`app:1`) is how locally built images are usually
        called, so there what the engine said stays beside what the registry said."""
        return (
            isinstance(engine_failure, SourceUnreachable)
            and not self._engine_named()
            and names_registry(reference)
        )


_SOURCES = ("docker-archive", "oci-archive", "docker-daemon", "docker")
"""The image sources a reference can name before its first colon (`docker` as `docker://`)."""


def _refuse_oci_transport(reference: str) -> None:
    """`oci:PATH`, skopeo's and buildah's name for an OCI layout on disk, names a file or directory
    here: said so, rather than looked up as the image `oci` at tag PATH in an engine and Docker Hub."""
    head, colon, rest = reference.partition(":")
    if head != "oci" or not colon or not rest:
        return
    # `oci:DIR:NAME` picks the image a layout names NAME, as `oci-archive:PATH:NAME` does here.
    directory, _, name = rest.rpartition(":")
    if not Path(rest).exists() and directory and name and Path(directory).is_dir():
        rest, tail = directory, f":{name}"
    else:
        tail = ""
    path = Path(rest)
    if path.is_dir():
        raise UsageError(
            f"image {reference!r}: an OCI image layout directory, which the gate reads as a tarball",
            hint=f"tar -cf image.tar -C {shlex.quote(rest)} . and scan oci-archive:image.tar{tail}",
        )
    if path.is_file():
        raise UsageError(
            f"image {reference!r}: unknown image source", hint=f"did you mean oci-archive:{rest}?"
        )


def _misspelt_source(reference: str) -> str | None:
    """ "did you mean docker-archive:app.tar?" for a reference whose first word is close to an
    image source's (`docker-archve:app.tar`, `docker-deamon:app:1`, `dockr://app:1`), else None.
    Only asked for a reference that is not an image's name as it stands."""
    head, colon, rest = reference.partition(":")
    if not colon or not rest:
        return None
    close = difflib.get_close_matches(head.lower(), _SOURCES, n=1, cutoff=0.75)
    if not close:
        return None
    source = close[0]
    prefix = "docker://" if source == "docker" else f"{source}:"
    target = rest.lstrip("/") if source == "docker" or rest.startswith("//") else rest
    return f"did you mean {prefix}{target}?"


def resolve_image(
    reference: str,
    *,
    platform: str | None = None,
    docker_host: str | None = None,
    base_image: str | None = None,
    dockerfile: Path | None = None,
    build_args: Mapping[str, str] | None = None,
    base_from_label: bool = True,
    base_may_have_moved: bool = False,
    environ: Mapping[str, str] | None = None,
    docker_config: Path | None = None,
    timeout: float = 60.0,
    wording: RunWording = COMMAND_LINE_WORDS,
    ca_file: str | None = None,
) -> ImageTarget:
    """Find the image and read what it is. Raises `ImageError` (exit 3) when it cannot, and
    `UsageError` (exit 2) for a malformed reference or platform, an unreadable Dockerfile, or a
    `base_image` the image was not built FROM.

    `build_args` fill the Dockerfile's ARGs (`FROM ${BASE}`); `base_from_label=False` skips looking up
    the base image the labels name; `base_may_have_moved=True` (the base image check will tell
    which base the image was built on) makes a `base_image` whose layers are not the image's first
    ones unknown rather than an error; `environ` (default `os.environ`) gives `DOCKER_HOST`,
    `DOCKER_CONFIG` and `HOME`; `docker_config` overrides where the registry credentials are read;
    `wording` words what to do when a registry refuses the read (`RunWording.login`) or its
    certificate is not trusted (`RunWording.untrusted_certificate`), and names
    the options in warnings as the run's user sets them; `ca_file` is a CA the registries'
    certificates may be signed by, besides the usual ones.
    """
    env = os.environ if environ is None else environ
    wanted = Platform.parse(platform) if platform else None
    sources = _Sources(
        docker_host,
        env,
        docker_config or docker_config_file(env),
        timeout,
        wording.login,
        ca_file,
        wording.untrusted_certificate,
    )
    try:
        image = sources.locate(reference, wanted)
        info = _describe(
            reference,
            image,
            sources,
            base_image,
            dockerfile,
            build_args,
            from_label=base_from_label,
            may_have_moved=base_may_have_moved,
            wording=wording,
        )
    except PlatformNotChosen as exc:
        raise exc.worded(wording) from None
    except AuthRefused as exc:
        if not sources.logins.twin_logins:
            raise
        # The login the user made is there, under the registry's other spelling: the way out.
        hint = "; ".join(h for h in (exc.hint, *sources.logins.twin_logins) if h)
        raise AuthRefused(exc.message, hint=hint) from None
    finally:
        sources.close()
    return ImageTarget(
        reference=reference,
        kind=image.kind,
        info=info,
        name=image.name,
        archive_path=image.archive_path,
        docker_host=image.docker_host,
        platform=str(image.platform) if image.platform else None,
        insecure_registry=image.insecure_registry,
        manifest_digest=image.manifest_digest,
        warnings=tuple(sources.warnings),
    )


def _describe(
    reference: str,
    image: SourceImage,
    sources: _Sources,
    base_image: str | None,
    dockerfile: Path | None,
    build_args: Mapping[str, str] | None,
    *,
    from_label: bool,
    may_have_moved: bool,
    wording: RunWording = COMMAND_LINE_WORDS,
) -> ImageInfo:
    config = image.config
    base_name, base_count = _base(reference, image, sources, base_image, from_label, may_have_moved)
    match, from_line = DockerfileMatch(), None
    if dockerfile is not None:
        name = shown_name(dockerfile)
        build = parse_dockerfile(read_dockerfile(dockerfile, wording), name, build_args).final_build()
        match, from_line = match_dockerfile(config, build, name), build.from_line
        sources.warnings.extend(match.warnings)
        if may_have_moved and not base_name and build.base is None and not build.scratch:
            sources.warnings.append(
                f"{name}:{build.from_line}: FROM names its image with an ARG that has no default "
                "value, so the Dockerfile does not say which base image to check (give the value the "
                f"build had: {wording.option('build-arg', 'NAME=VALUE')})"
            )
        base_name = base_name or build.base
        if base_count is None:
            base_count = match.base_layer_count
        elif any(index < base_count for index in match.lines) or match.base_layer_count not in (
            None,
            base_count,
        ):
            sources.warnings.append(
                f"{name}: its instructions do not line up with the base image's {base_count} layers: "
                "no layer is mapped to a Dockerfile line"
            )
            match, from_line = DockerfileMatch(), None
    platform = config.platform
    return ImageInfo(
        reference=reference,
        digest=image.digest,
        image_id=image.image_id,
        manifest_digest=image.manifest_digest,
        os=platform.os if platform else None,
        architecture="/".join(p for p in (platform.architecture, platform.variant) if p)
        if platform
        else None,
        size=image.size,
        layers=attribute(config.layers(), base_count, match.lines, from_line),
        labels=config.labels,
        base_image=base_name,
        base_layer_count=base_count,
        created=config.created,
        base_sought=True,
    )


def _base(
    reference: str,
    image: SourceImage,
    sources: _Sources,
    base_image: str | None,
    from_label: bool,
    may_have_moved: bool,
) -> tuple[str | None, int | None]:
    """The base image's name and layer count, from `base_image` or the image's labels."""
    diff_ids, platform = image.config.diff_ids, image.config.platform
    if base_image is not None:
        base = sources.locate(base_image, platform).config.diff_ids
        if not is_prefix(base, diff_ids) and may_have_moved:
            # `--base-image NAME:TAG` whose tag moved on, as the base image check will tell.
            return base_image, None
        if not is_prefix(base, diff_ids):
            at = first_difference(base, diff_ids)
            why = (
                f"the base has {len(base)} layers, the image only {len(diff_ids)}"
                if at >= len(diff_ids)
                else f"the base's layer {at} ({base[at][:19]}...) is not the image's layer {at}"
            )
            raise UsageError(
                f"{reference} was not built FROM {base_image}: {why}",
                hint="give the base image the Dockerfile's FROM names, at the version the image was built on",
            )
        return base_image, len(base)
    labels = dict(image.config.labels)
    name = labels.get(BASE_NAME_LABEL)
    # The base a label names is looked up only where the image itself could come from: an
    # engine image in the engine, a registry image in the engine or registries. An archive is
    # scanned offline, so nothing is contacted for it behind the user's back: --base-image
    # says where its base is.
    where = {SourceKind.ENGINE: "docker-daemon:", SourceKind.REGISTRY: ""}.get(image.kind)
    if not name or not from_label or where is None:
        return name, None
    lookup = name
    try:
        if labels.get(BASE_DIGEST_LABEL):
            parsed = parse_reference(name)
            lookup = f"{parsed.registry}/{parsed.repository}@{labels[BASE_DIGEST_LABEL]}"
            parse_reference(lookup)
        base = sources.locate(where + lookup, platform).config.diff_ids
    except GateError as exc:
        # With the base image check to come, the check finds the base over the registry, or its
        # own warning says why it could not: this one would only contradict or repeat it.
        if not may_have_moved:
            sources.warnings.append(
                f"the base image {lookup} named by the image's labels could not be read: {exc.diagnostics()}"
            )
        return name, None
    if not is_prefix(base, diff_ids):
        if not may_have_moved:
            sources.warnings.append(
                f"the base image {lookup} named by the image's labels is not the one the image was built on "
                "(its layers are not the image's first layers; was it rebuilt since?)"
            )
        return name, None
    return name, len(base)
