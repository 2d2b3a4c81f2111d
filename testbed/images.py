"""The test bed's images: built by a real engine, or written as docker-archives without one.

`base` (FROM scratch, a minimal Debian 12 declaring older real package versions) and `app`
(FROM base, adding its own vulnerable layers) come from `testbed/images/*/Dockerfile`.
Expected findings are in `testbed/expected.yaml`.

- `build_images(client)`: the legacy builder of a real dockerd (no network needed: FROM scratch,
  COPY from the context, RUN with a static busybox the context brings along).
- `build_docker_archive(dest)`: the same images as `docker save` tarballs, in pure Python, for a
  `make demo` where no engine is reachable. Their layer digests differ from the engine's (file
  metadata differs, and the base carries no busybox since no RUN is executed), but they declare
  the same packages in the same layer order, so Trivy reports the same findings.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker

from testbed.dockerfile import EPOCH, ImageState, apply_dockerfile

IMAGES_DIR = Path(__file__).with_name("images")
BASE_REPO = "container-gate-testbed/base"
APP_REPO = "container-gate-testbed/app"
TAG = "1"
CREATED = "2023-11-14T22:13:20Z"
"""Creation time recorded in engine-less configs (= EPOCH), for reproducible digests."""


class ImageBuildError(RuntimeError):
    """An image could not be built; the message says why and what to install."""


@dataclass(frozen=True)
class BuiltImages:
    """References of the two images in an engine."""

    base: str
    """`container-gate-testbed/base:1` (or under the given prefix)."""
    app: str
    """`container-gate-testbed/app:1`."""
    base_id: str
    """Image id (config digest) of the base."""
    app_id: str
    """Image id of the app."""


def static_shell() -> Path:
    """A statically linked busybox for the base image's /bin/sh (Debian's busybox-static)."""
    for candidate in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and Path(candidate).is_file() and _is_static_elf(Path(candidate)):
            return Path(candidate)
    raise ImageBuildError("no statically linked busybox: apt-get install busybox-static")


def _is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF without a PT_INTERP program header (no dynamic loader)."""
    data = path.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * phentsize)[0] != 3 for i in range(phnum))


def prepare_context(name: str, dest: Path, shell: Path | None = None) -> Path:
    """Copies `testbed/images/<name>` to `dest/<name>`; the base also gets bin/busybox and bin/sh."""
    context = dest / name
    shutil.copytree(IMAGES_DIR / name, context)
    if name == "base":
        bin_dir = context / "rootfs" / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shell or static_shell(), bin_dir / "busybox")
        (bin_dir / "sh").symlink_to("busybox")
    return context


def build_images(client: docker.DockerClient, prefix: str = "container-gate-testbed") -> BuiltImages:
    """Builds base and app with the engine's legacy builder; returns their references."""
    base_ref, app_ref = f"{prefix}/base:{TAG}", f"{prefix}/app:{TAG}"
    with tempfile.TemporaryDirectory(prefix="cg-context-") as tmp:
        try:
            base, _ = client.images.build(
                path=str(prepare_context("base", Path(tmp))), tag=base_ref, rm=True, forcerm=True
            )
            app, _ = client.images.build(
                path=str(prepare_context("app", Path(tmp))),
                tag=app_ref,
                buildargs={"BASE": base_ref},
                rm=True,
                forcerm=True,
            )
        except docker.errors.BuildError as exc:
            log = "".join(str(chunk.get("stream", chunk)) for chunk in exc.build_log)
            raise ImageBuildError(f"docker build failed: {exc.msg}\n{log[-3000:]}") from exc
    return BuiltImages(base=base_ref, app=app_ref, base_id=str(base.id), app_id=str(app.id))


def _config(state: ImageState) -> bytes:
    diff_ids = [f"sha256:{hashlib.sha256(layer).hexdigest()}" for layer in state.layers]
    history = [{"created": CREATED, **entry} for entry in state.history]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": [f"{k}={v}" for k, v in state.env.items()],
            "Cmd": state.cmd,
            "Labels": state.labels or None,
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    return json.dumps(config, separators=(",", ":")).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
    tar.addfile(info, io.BytesIO(data))


def write_docker_archive(state: ImageState, ref: str, path: Path) -> str:
    """Writes one image as a docker-archive (manifest.json, config, <diff id>/layer.tar); returns its id."""
    config = _config(state)
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    layer_names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in state.layers]
    repo, _, tag = ref.rpartition(":")
    manifest = [{"Config": config_name, "RepoTags": [ref], "Layers": layer_names}]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, layer in zip(layer_names, state.layers, strict=True):
            _add(tar, name, layer)
        _add(tar, config_name, config)
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "repositories", json.dumps({repo: {tag: layer_names[-1].split("/")[0]}}).encode())
    return f"sha256:{config_name.removesuffix('.json')}"


@dataclass(frozen=True)
class ArchiveImages:
    """Engine-less docker-archives of the two images."""

    base: Path
    """docker-archive of the base image."""
    app: Path
    """docker-archive of the app image."""
    base_id: str
    """Config digest of the base."""
    app_id: str
    """Config digest of the app."""


def build_docker_archive(dest: Path, prefix: str = "container-gate-testbed") -> ArchiveImages:
    """Writes `dest/base.tar` and `dest/app.tar` without any engine (byte-for-byte reproducible)."""
    dest.mkdir(parents=True, exist_ok=True)
    base_ref, app_ref = f"{prefix}/base:{TAG}", f"{prefix}/app:{TAG}"
    base = apply_dockerfile(IMAGES_DIR / "base" / "Dockerfile", IMAGES_DIR / "base", None, {})
    app = apply_dockerfile(IMAGES_DIR / "app" / "Dockerfile", IMAGES_DIR / "app", base, {"BASE": base_ref})
    base_id = write_docker_archive(base, base_ref, dest / "base.tar")
    app_id = write_docker_archive(app, app_ref, dest / "app.tar")
    return ArchiveImages(base=dest / "base.tar", app=dest / "app.tar", base_id=base_id, app_id=app_id)
