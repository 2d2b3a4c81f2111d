"""The base-refresh scenario in the test bed's registry: an app whose base image tag moved on.

`build_base_refresh(client, registry)` pushes, in this order (`<reg>` = 127.0.0.1:PORT,
`<p>` = container-gate-testbed):
1. `<reg>/<p>/base:12`: the base image (testbed/images/base + a static busybox as /bin/sh),
   config `created` = OLD_CREATED, Docker schema 2 manifest;
   `<reg>/<p>/base-unchanged:12`: the same image;
   `<reg>/<p>/base-multi:12`: an OCI index of linux/arm64 (metadata only) and linux/amd64 (the same
   base, as an OCI manifest); the arm64 image is listed first.
2. `<reg>/<p>/app-stale:1`, `app-unchanged:1`, `app-multi:1`: testbed/images/app built by the engine
   FROM each base pulled from the registry, labelled org.opencontainers.image.base.name (the base
   reference) and .base.digest (the digest the tag had: a manifest, or the index), pushed.
3. The second push: a newer `base:12` (derive_refresh.BASE_UPGRADES etc., `created` = NEW_CREATED);
   `base-unchanged:12` again, byte for byte; `base-multi:12` as a new index whose arm64 image changed
   (upgraded, later `created`) and whose amd64 manifest is the very same.
The apps stay in the engine under the same references. Expected outcomes: expected_base_refresh.yaml.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from testbed.derive_refresh import (
    BASE_UPGRADES,
    NEW_CREATED,
    OLD_CREATED,
    base_status_text,
    newer_base_status,
    upgraded_status,
)
from testbed.images import IMAGES_DIR, ImageBuildError, prepare_context, static_shell
from testbed.registry import PushedImage, RegistryClient, layer_tar, sha256

BASE_LABEL_NAME = "org.opencontainers.image.base.name"
BASE_LABEL_DIGEST = "org.opencontainers.image.base.digest"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class RefreshCase:
    """One base tag and the app built on it, before and after the tag's second push."""

    base: str
    """The base reference the app's label names, `127.0.0.1:PORT/container-gate-testbed/base:12`."""
    app: str
    """The app, pushed and in the engine: `127.0.0.1:PORT/container-gate-testbed/app-stale:1`."""
    label_digest: str
    """The app's `base.digest` label: what the tag pointed to at build time (manifest or index)."""
    used_manifest: str
    """Digest of the linux/amd64 manifest the app was built on."""
    current_digest: str
    """What the tag points to after the second push (manifest or index)."""
    current_manifest: str
    """Digest of the tag's linux/amd64 manifest after the second push."""
    used_created: str
    """Config `created` of the base the app was built on."""
    current_created: str
    """Config `created` of the tag's linux/amd64 image after the second push."""


@dataclass(frozen=True)
class BaseRefreshScenario:
    """The three cases of the scenario (see the module docstring)."""

    registry: str
    """`127.0.0.1:PORT`."""
    stale: RefreshCase
    """base:12 moved on to a newer image."""
    unchanged: RefreshCase
    """base-unchanged:12 pushed again, identical."""
    multi_platform: RefreshCase
    """base-multi:12: only the arm64 image changed."""
    arm64_before: str
    """Digest of base-multi's arm64 manifest at the first push."""
    arm64_after: str
    """... and at the second."""


def base_files(status: str, architecture: str = "amd64") -> dict[str, bytes]:
    """The base rootfs's committed files, with `status` as the dpkg status."""
    rootfs = IMAGES_DIR / "base" / "rootfs"
    files = {str(p.relative_to(rootfs)): p.read_bytes() for p in sorted(rootfs.rglob("*")) if p.is_file()}
    files["var/lib/dpkg/status"] = status.replace(
        "Architecture: amd64", f"Architecture: {architecture}"
    ).encode()
    return files


def base_image(
    status: str, created: str, shell: Path | None, architecture: str = "amd64"
) -> tuple[bytes, dict[str, Any]]:
    """(layer, config) of a base image: with a static shell (amd64), or metadata only (shell None)."""
    files = base_files(status, architecture)
    links = {}
    if shell is not None:
        files["bin/busybox"] = shell.read_bytes()
        links["bin/sh"] = "busybox"
    layer = layer_tar(files, frozenset({"bin/busybox"}), links)
    nop = "/bin/sh -c #(nop) "
    config: dict[str, Any] = {
        "architecture": architecture,
        "os": "linux",
        "created": created,
        "config": {"Env": [PATH_ENV], "Cmd": ["/bin/sh"]},
        "history": [
            {"created": created, "created_by": f"{nop}COPY dir:{sha256(layer)[7:]} in / "},
            {"created": created, "created_by": f"{nop} ENV {PATH_ENV}", "empty_layer": True},
            {"created": created, "created_by": f'{nop} CMD ["/bin/sh"]', "empty_layer": True},
        ],
    }
    if architecture == "arm64":
        config["variant"] = "v8"
    return layer, config


def _push(
    reg: RegistryClient, repo: str, tag: str | None, image: tuple[bytes, dict[str, Any]], oci: bool = False
) -> PushedImage:
    return reg.push_image(repo, tag, [image[0]], image[1], oci=oci)


def _engine_push(client: docker.DockerClient, ref: str) -> None:
    repo, _, tag = ref.rpartition(":")
    for line in client.images.push(repo, tag, stream=True, decode=True):
        if "error" in line:
            raise ImageBuildError(f"push of {ref} failed: {line['error']}")


def build_app_on(client: docker.DockerClient, base_ref: str, app_ref: str, label_digest: str) -> str:
    """Pulls `base_ref`, builds testbed/images/app FROM it with the base labels, pushes `app_ref`;
    returns the app's image id."""
    repo, _, tag = base_ref.rpartition(":")
    client.images.pull(repo, tag=tag)
    with tempfile.TemporaryDirectory(prefix="cg-context-") as tmp:
        try:
            app, _ = client.images.build(
                path=str(prepare_context("app", Path(tmp))),
                tag=app_ref,
                buildargs={"BASE": base_ref},
                labels={BASE_LABEL_DIGEST: label_digest},
                rm=True,
                forcerm=True,
            )
        except docker.errors.BuildError as exc:
            raise ImageBuildError(f"docker build of {app_ref} failed: {exc.msg}") from exc
    _engine_push(client, app_ref)
    return str(app.id)


def build_base_refresh(
    client: docker.DockerClient, registry: str, prefix: str = "container-gate-testbed"
) -> BaseRefreshScenario:
    """Runs the whole scenario (both pushes) against the registry at `registry` (host:port)."""
    reg = RegistryClient(registry)
    shell = static_shell()
    old = base_image(base_status_text(), OLD_CREATED, shell)
    new = base_image(newer_base_status(), NEW_CREATED, shell)
    arm_old = base_image(base_status_text(), OLD_CREATED, None, "arm64")
    arm_new = base_image(upgraded_status(base_status_text(), BASE_UPGRADES), NEW_CREATED, None, "arm64")
    repos = {
        case: f"{prefix}/base{suffix}"
        for case, suffix in (("stale", ""), ("unchanged", "-unchanged"), ("multi_platform", "-multi"))
    }
    apps = {"stale": "app-stale", "unchanged": "app-unchanged", "multi_platform": "app-multi"}

    # First push.
    used = {case: _push(reg, repos[case], "12", old) for case in ("stale", "unchanged")}
    amd64 = _push(reg, repos["multi_platform"], None, old, oci=True)
    arm64_before = _push(reg, repos["multi_platform"], None, arm_old, oci=True)
    index_before = reg.push_index(repos["multi_platform"], "12", [arm64_before, amd64])
    labels = {
        "stale": used["stale"].digest,
        "unchanged": used["unchanged"].digest,
        "multi_platform": index_before,
    }
    used["multi_platform"] = amd64
    for case, app in apps.items():
        build_app_on(client, f"{registry}/{repos[case]}:12", f"{registry}/{prefix}/{app}:1", labels[case])

    # Second push.
    current = {
        "stale": _push(reg, repos["stale"], "12", new),
        "unchanged": _push(reg, repos["unchanged"], "12", old),
        "multi_platform": amd64,
    }
    arm64_after = _push(reg, repos["multi_platform"], None, arm_new, oci=True)
    index_after = reg.push_index(repos["multi_platform"], "12", [arm64_after, amd64])
    tags_now = {
        "stale": current["stale"].digest,
        "unchanged": current["unchanged"].digest,
        "multi_platform": index_after,
    }

    cases = {
        case: RefreshCase(
            base=f"{registry}/{repos[case]}:12",
            app=f"{registry}/{prefix}/{apps[case]}:1",
            label_digest=labels[case],
            used_manifest=used[case].digest,
            current_digest=tags_now[case],
            current_manifest=current[case].digest,
            used_created=str(used[case].config["created"]),
            current_created=str(current[case].config["created"]),
        )
        for case in apps
    }
    return BaseRefreshScenario(
        registry=registry,
        stale=cases["stale"],
        unchanged=cases["unchanged"],
        multi_platform=cases["multi_platform"],
        arm64_before=arm64_before.digest,
        arm64_after=arm64_after.digest,
    )
