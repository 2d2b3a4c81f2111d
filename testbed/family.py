"""The image family: five images that mirror the comparison behind the project.

`full` (python:3.9-like: build tools, -dev packages, many libraries), `slim` (bookworm-slim-like),
`distroless` (status.d files for libc6, libssl3, ca-certificates, tzdata, ...; no shell),
`alpine` (Alpine 3.10.2's apk database) and `scratch` (one static binary, no package metadata).
Each is FROM scratch with one layer, built from `testbed/images/<name>/Dockerfile`; all but
`scratch` are metadata only, a few kilobytes. Expected findings: testbed/expected_family.yaml.

- `build_family(client)`: the real engine's legacy builder, tags `<prefix>/<name>:1`.
- `build_family_archives(dest)`: docker-archives written without an engine (testbed/dockerfile.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import docker

from testbed.derive_family import FAMILY
from testbed.dockerfile import apply_dockerfile
from testbed.images import IMAGES_DIR, ImageBuildError, static_shell, write_docker_archive

FAMILY_PREFIX = "container-gate-testbed/family"
FAMILY_TAG = "1"


@dataclass(frozen=True)
class BuiltFamily:
    """The family in an engine."""

    refs: Mapping[str, str]
    """Image name (`full`, ...) -> reference, `container-gate-testbed/family/full:1`."""
    ids: Mapping[str, str]
    """Image name -> image id (config digest)."""


@dataclass(frozen=True)
class FamilyArchives:
    """The family as docker-archives written without an engine."""

    paths: Mapping[str, Path]
    """Image name -> docker-archive path (`<dest>/<name>.tar`)."""
    ids: Mapping[str, str]
    """Image name -> config digest."""


def family_context(name: str, dest: Path, binary: Path | None = None) -> Path:
    """Copies `testbed/images/<name>` to `dest/<name>`; `scratch` also gets its static binary."""
    context = dest / name
    shutil.copytree(IMAGES_DIR / name, context)
    if name == "scratch":
        (context / "bin").mkdir()
        shutil.copy2(binary or static_shell(), context / "bin" / "busybox")
    return context


def build_family(client: docker.DockerClient, prefix: str = FAMILY_PREFIX) -> BuiltFamily:
    """Builds the five images with the engine; returns their references and ids."""
    refs, ids = {}, {}
    with tempfile.TemporaryDirectory(prefix="cg-family-") as tmp:
        for name in FAMILY:
            ref = f"{prefix}/{name}:{FAMILY_TAG}"
            try:
                image, _ = client.images.build(
                    path=str(family_context(name, Path(tmp))), tag=ref, rm=True, forcerm=True
                )
            except docker.errors.BuildError as exc:
                raise ImageBuildError(f"docker build of {ref} failed: {exc.msg}") from exc
            refs[name], ids[name] = ref, str(image.id)
    return BuiltFamily(refs=refs, ids=ids)


def build_family_archives(dest: Path, prefix: str = FAMILY_PREFIX) -> FamilyArchives:
    """Writes `dest/<name>.tar` for the five images, byte-for-byte reproducibly, without an engine."""
    dest.mkdir(parents=True, exist_ok=True)
    paths, ids = {}, {}
    with tempfile.TemporaryDirectory(prefix="cg-family-") as tmp:
        for name in FAMILY:
            context = family_context(name, Path(tmp))
            state = apply_dockerfile(context / "Dockerfile", context, None, {})
            paths[name] = dest / f"{name}.tar"
            ids[name] = write_docker_archive(state, f"{prefix}/{name}:{FAMILY_TAG}", paths[name])
    return FamilyArchives(paths=paths, ids=ids)
