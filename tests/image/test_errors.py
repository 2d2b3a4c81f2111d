"""Every way resolving an image can fail says so in one line, with the right exception and exit code."""

from __future__ import annotations

import gzip
import io
import json
import lzma
import tarfile
from pathlib import Path

import pytest

from gate.errors import ExitCode, GateError, ImageError, UsageError
from gate.image.resolve import resolve_image
from gate.run_wording import ACTION_WORDS
from testbed.engine import Registry
from testbed.images import ArchiveImages
from tests.support.fixtures import TestbedImages
from tests.support.registry_tools import Pusher, oci_image, read_docker_archive, sha256

Member = bytes | tuple[str, str]
"""A regular file's content, or ("symlink" | "hardlink", target)."""


def tarball(path: Path, members: dict[str, Member]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type = tarfile.SYMTYPE if content[0] == "symlink" else tarfile.LNKTYPE
                info.linkname = content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


def members_except(path: Path, name: str) -> dict[str, Member]:
    """The regular members of a tarball, but `name`."""
    out: dict[str, Member] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            handle = tar.extractfile(member)
            if handle is not None and member.name != name:
                out[member.name] = handle.read()
    return out


def docker_archive(
    path: Path,
    config: bytes,
    layers: list[bytes],
    *,
    config_name: str | None = None,
    extra: dict[str, Member] | None = None,
) -> Path:
    names = [f"{i}/layer.tar" for i in range(len(layers))]
    config_name = config_name or f"{sha256(config)[7:]}.json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["x:1"], "Layers": names}]).encode()
    members: dict[str, Member] = {
        **dict(zip(names, layers, strict=True)),
        config_name: config,
        "manifest.json": manifest,
    }
    return tarball(path, {**members, **(extra or {})})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}


@pytest.fixture
def app(engineless_archives: ArchiveImages) -> tuple[bytes, list[bytes]]:
    return read_docker_archive(engineless_archives.app)


def fails(
    reference: str, env: dict[str, str], kind: type[GateError] = ImageError, **kwargs: object
) -> GateError:
    with pytest.raises(kind) as caught:
        resolve_image(reference, environ=env, **kwargs)  # type: ignore[arg-type]
    assert caught.value.exit_code == (ExitCode.USAGE if kind is UsageError else ExitCode.ERROR)
    assert "\n" not in caught.value.diagnostics()
    return caught.value


def test_archive_missing_not_a_tarball_or_a_directory(tmp_path: Path, env: dict[str, str]) -> None:
    assert (
        fails(f"docker-archive:{tmp_path}/none.tar", env).message
        == f"docker-archive:{tmp_path}/none.tar: no such file"
    )
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a tar archive\n" * 40)
    assert (
        fails(f"oci-archive:{text}", env).message
        == f"oci-archive:{text}: not a tar archive (plain, gzip, bzip2 or xz)"
    )
    whole = tarball(tmp_path / "whole.tar", {"a": bytes(range(256)) * 400})
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(gzip.compress(whole.read_bytes())[:3000])
    assert fails(f"docker-archive:{damaged}", env).message.startswith(f"docker-archive:{damaged}: ")
    error = fails(f"docker-archive:{tmp_path}", env)
    assert error.message == f"docker-archive:{tmp_path}: is a directory, expected a tar archive"
    assert error.hint == f"tar -cf image.tar -C {tmp_path} ."
    # The command to copy is quoted for the shell: a directory name with a space stays one word.
    spaced = tmp_path / "my image"
    spaced.mkdir()
    assert fails(f"docker-archive:{spaced}", env).hint == f"tar -cf image.tar -C '{spaced}' ."


def test_damaged_compressed_data_is_an_image_error(
    tmp_path: Path, env: dict[str, str], engineless_archives: ArchiveImages
) -> None:
    # xz and zlib report damage with their own exception types, not OSError.
    packed = bytearray(lzma.compress(engineless_archives.app.read_bytes()))
    middle = len(packed) // 2
    packed[middle : middle + 16] = bytes(byte ^ 0xFF for byte in packed[middle : middle + 16])
    damaged = tmp_path / "app.tar.xz"
    damaged.write_bytes(packed)
    error = fails(f"docker-archive:{damaged}", env)
    assert error.message == f"docker-archive:{damaged}: cannot read the archive (Corrupt input data)"


def test_json_nested_too_deeply_is_an_image_error(
    tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    manifest = tarball(tmp_path / "manifest.tar", {"manifest.json": deep})
    assert fails(f"docker-archive:{manifest}", env).message == (
        f"docker-archive:{manifest}: manifest.json: not valid JSON (nested too deeply to read)"
    )
    config = docker_archive(tmp_path / "config.tar", deep, app[1])
    assert fails(f"docker-archive:{config}", env).message.endswith(
        ".json: image config is not valid JSON (nested too deeply to read)"
    )


def test_the_wrong_kind_of_archive_is_named(
    tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]
) -> None:
    plain = tarball(tmp_path / "plain.tar", {"etc/os-release": b"ID=debian\n"})
    assert (
        fails(f"docker-archive:{plain}", env).message
        == f"docker-archive:{plain}: not a docker-archive (no manifest.json)"
    )
    assert (
        fails(f"oci-archive:{plain}", env).message
        == f"oci-archive:{plain}: not an OCI image layout (no index.json)"
    )
    docker = docker_archive(tmp_path / "docker.tar", *app)
    assert fails(f"oci-archive:{docker}", env).hint == "it is a docker-archive: use docker-archive:"
    oci = tarball(
        tmp_path / "oci.tar", {"oci-layout": b"{}", "index.json": b'{"schemaVersion": 2, "manifests": []}'}
    )
    assert fails(f"docker-archive:{oci}", env).hint == "it is an OCI archive: use oci-archive:"
    assert (
        fails(f"oci-archive:{oci}", env).message == f"oci-archive:{oci}: index.json names no image manifest"
    )


def test_names_that_leave_the_archive_are_never_followed(
    tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]
) -> None:
    config, layers = app
    climbing = docker_archive(tmp_path / "climb.tar", config, layers, config_name="../../etc/passwd")
    assert fails(f"docker-archive:{climbing}", env).message == (
        f"docker-archive:{climbing}: config '../../etc/passwd' is not a path inside the archive"
    )
    # A symlink pointing out of the archive leads nowhere.
    outside = docker_archive(
        tmp_path / "link.tar",
        config,
        layers,
        config_name="cfg.json",
        extra={"cfg.json": ("symlink", "/etc/passwd")},
    )
    assert (
        fails(f"docker-archive:{outside}", env).message
        == f"docker-archive:{outside}: config 'cfg.json' is missing from the archive"
    )
    # A symlink inside the archive is followed (older `docker save` links duplicate layers).
    inside = docker_archive(
        tmp_path / "inside.tar",
        config,
        layers,
        config_name="cfg.json",
        extra={"cfg.json": ("symlink", "real/config.json"), "real/config.json": config},
    )
    assert len(resolve_image(f"docker-archive:{inside}", environ=env, base_from_label=False).info.layers) == 4
    # Absolute and climbing member names cannot stand in for the names a manifest uses.
    for trick in ("/3/layer.tar", "x/../3/layer.tar"):
        path = docker_archive(tmp_path / "trick.tar", config, layers)
        tarball(path, {**members_except(path, "3/layer.tar"), trick: layers[3]})
        assert fails(f"docker-archive:{path}", env).message == (
            f"docker-archive:{path}: layer '3/layer.tar' is missing from the archive"
        )


def test_a_name_given_twice_is_refused(
    tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]
) -> None:
    path = docker_archive(tmp_path / "twice.tar", *app)
    with tarfile.open(path, "a") as tar:
        info = tarfile.TarInfo("./manifest.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"[]"))
    assert (
        fails(f"docker-archive:{path}", env).message
        == f"docker-archive:{path}: 'manifest.json' appears twice in the archive"
    )


def test_inconsistent_archives(tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]) -> None:
    config, layers = app
    missing = docker_archive(tmp_path / "missing.tar", config, layers)
    tarball(missing, members_except(missing, "2/layer.tar"))
    assert (
        fails(f"docker-archive:{missing}", env).message
        == f"docker-archive:{missing}: layer '2/layer.tar' is missing from the archive"
    )
    short = docker_archive(tmp_path / "short.tar", config, layers[:3])
    assert (
        fails(f"docker-archive:{short}", env).message
        == f"docker-archive:{short}: manifest.json lists 3 layers, the config 4"
    )
    renamed = docker_archive(tmp_path / "renamed.tar", config, layers, config_name=f"{'a' * 64}.json")
    assert (
        fails(f"docker-archive:{renamed}", env).message
        == f"docker-archive:{renamed}: config '{'a' * 64}.json' does not match its digest"
    )
    bad = docker_archive(tmp_path / "bad.tar", b'{"rootfs": {"diff_ids": ["md5:1"]}}', [])
    assert fails(f"docker-archive:{bad}", env).message.endswith(
        "rootfs.diff_ids: expected an array of sha256:<64 hex> digests"
    )


def test_a_layer_that_does_not_match_its_diff_id_is_refused(
    tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]
) -> None:
    # A copy that zeroed a layer: the scanner reads it as an empty tar, and its findings vanish.
    config, layers = app
    zeroed = docker_archive(tmp_path / "zeroed.tar", config, [bytes(len(layers[0])), *layers[1:]])
    error = fails(f"docker-archive:{zeroed}", env, base_from_label=False)
    diff_id = json.loads(config)["rootfs"]["diff_ids"][0]
    assert error.message == (
        f"docker-archive:{zeroed}: layer '0/layer.tar' does not match its diff_id in the config "
        f"({diff_id[:19]}...): the archive is damaged"
    )
    assert error.hint == "save or copy the image again"
    # A layer stored compressed is checked uncompressed, as its diff_id is.
    packed = docker_archive(tmp_path / "packed.tar", config, [gzip.compress(layers[0]), *layers[1:]])
    assert resolve_image(f"docker-archive:{packed}", environ=env, base_from_label=False).info.layers
    # A compressed layer cut short by the copy is named too, not "cannot read the archive".
    packed_layer = gzip.compress(layers[0])
    cut = docker_archive(tmp_path / "cut.tar", config, [packed_layer[: len(packed_layer) // 2], *layers[1:]])
    error = fails(f"docker-archive:{cut}", env, base_from_label=False)
    assert error.message.startswith(f"docker-archive:{cut}: layer '0/layer.tar' cannot be decompressed ("), (
        error.message
    )
    assert error.message.endswith("): the archive is damaged")
    assert error.hint == "save or copy the image again"


def test_a_compressed_docker_archive_is_read_as_a_stream(
    tmp_path: Path, env: dict[str, str], engineless_archives: ArchiveImages
) -> None:
    packed = tmp_path / "app.tar.gz"
    packed.write_bytes(gzip.compress(engineless_archives.app.read_bytes()))
    target = resolve_image(f"docker-archive:{packed}", environ=env, base_from_label=False)
    assert target.info.image_id == engineless_archives.app_id


def test_a_single_platform_archive_is_not_another_platform(
    engineless_archives: ArchiveImages, env: dict[str, str]
) -> None:
    error = fails(f"docker-archive:{engineless_archives.app}", env, platform="linux/arm64")
    assert (
        error.message
        == f"docker-archive:{engineless_archives.app} has no linux/arm64 image (available: linux/amd64)"
    )


def test_engine_errors(built_images: TestbedImages, tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/gone.sock"
    error = fails("docker-daemon:container-gate-testbed/app:1", {"HOME": str(tmp_path)}, docker_host=host)
    assert error.message == f"cannot reach the Docker engine at {host} (--docker-host): no such socket"
    assert error.hint is not None
    assert "DOCKER_HOST" in error.hint
    error = fails("docker-daemon:app:1", {"HOME": str(tmp_path), "DOCKER_HOST": host})
    assert error.message == f"cannot reach the Docker engine at {host} (DOCKER_HOST): no such socket"


def test_an_image_in_neither_the_engine_nor_the_registry(
    built_images: TestbedImages, docker_engine_host: str, tmp_path: Path
) -> None:
    registry = built_images.registry_app.split("/", 1)[0]
    error = fails(f"{registry}/nothing/here:1", {"HOME": str(tmp_path), "DOCKER_HOST": docker_engine_host})
    assert error.message == (
        f"image {registry}/nothing/here:1 not found: the engine at {docker_engine_host} has no image "
        f"{registry}/nothing/here:1; registry {registry} has no nothing/here:1 (HTTP 404, MANIFEST_UNKNOWN)"
    )


@pytest.fixture
def docker_engine_host(docker_engine: object) -> str:
    return str(docker_engine.host)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("UPPER/case:1", "image reference 'UPPER/case:1': invalid repository name 'UPPER/case'"),
        ("app:bad tag", "image reference 'app:bad tag': invalid tag 'bad tag'"),
        ("app@sha256:123", "image reference 'app@sha256:123': the digest must be sha256:<64 lowercase hex>"),
        ("app:v\u00e9", "image reference 'app:v\u00e9': invalid tag 'v\u00e9'"),  # tags are ASCII
        ("docker://", "image reference '': invalid repository name 'library/'"),
    ],
)
def test_malformed_references_are_usage_errors(reference: str, message: str, env: dict[str, str]) -> None:
    assert fails(reference, env, UsageError).message.startswith(message)


def test_a_file_given_as_an_image_gets_a_hint(tmp_path: Path, env: dict[str, str]) -> None:
    error = fails("app.tar", env, UsageError)
    assert error.message == "image 'app.tar' looks like a file"
    assert (
        error.hint
        == "a docker save tarball is docker-archive:app.tar, an OCI layout tarball oci-archive:app.tar"
    )


@pytest.mark.parametrize(
    ("reference", "hint"),
    [
        ("docker-archve:app.tar", "did you mean docker-archive:app.tar?"),
        ("oci-archiv:/tmp/app.tar", "did you mean oci-archive:/tmp/app.tar?"),
        ("docker-deamon:app:1", "did you mean docker-daemon:app:1?"),
        ("dockr://app:1", "did you mean docker://app:1?"),
        ("docker:/app:1", "did you mean docker://app:1?"),
    ],
)
def test_a_misspelt_image_source_is_named(reference: str, hint: str, env: dict[str, str]) -> None:
    assert fails(reference, env, UsageError).hint == hint


def test_skopeos_oci_transport_names_a_path_not_an_image(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `oci:DIR` (skopeo, buildah) parses as the image `oci` at tag DIR: it was looked up in the
    # engine and on Docker Hub, and "not found" said nothing of the directory.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "layout").mkdir()
    (tmp_path / "layout" / "index.json").write_text("{}")
    (tmp_path / "app").write_bytes(b"")
    error = fails("oci:layout", env, UsageError)
    assert (
        error.message
        == "image 'oci:layout': an OCI image layout directory, which the gate reads as a tarball"
    )
    assert error.hint == "tar -cf image.tar -C layout . and scan oci-archive:image.tar"
    error = fails("oci:app", env, UsageError)
    assert (error.message, error.hint) == (
        "image 'oci:app': unknown image source",
        "did you mean oci-archive:app?",
    )
    # `oci:DIR:NAME`, skopeo's form for one image of a layout, names the directory too; a path
    # the shell would split is quoted in the command to copy.
    (tmp_path / "my layout").mkdir()
    error = fails("oci:my layout:v1", env, UsageError)
    assert error.message.startswith("image 'oci:my layout:v1': an OCI image layout directory")
    assert error.hint == "tar -cf image.tar -C 'my layout' . and scan oci-archive:image.tar:v1"
    # Without such a path, `oci:TAG` is the image `oci`, as before.
    assert "oci:nothing here" in fails("oci:nothing here", env, UsageError).message


def test_a_malformed_platform_is_a_usage_error(
    engineless_archives: ArchiveImages, env: dict[str, str]
) -> None:
    error = fails(f"docker-archive:{engineless_archives.app}", env, UsageError, platform="arm64")
    assert error.message == "--platform 'arm64': expected OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64"


def test_an_unreadable_dockerfile_is_a_usage_error(
    engineless_archives: ArchiveImages, env: dict[str, str], tmp_path: Path
) -> None:
    error = fails(
        f"docker-archive:{engineless_archives.app}",
        env,
        UsageError,
        dockerfile=tmp_path / "Dockerfile",
        base_from_label=False,
    )
    assert error.message.startswith(f"--dockerfile {tmp_path}/Dockerfile: cannot read it (")
    # The action's users set its input.
    action = fails(
        f"docker-archive:{engineless_archives.app}",
        env,
        UsageError,
        dockerfile=tmp_path / "Dockerfile",
        base_from_label=False,
        wording=ACTION_WORDS,
    )
    assert action.message.startswith(
        f"the action's `dockerfile` input ({tmp_path}/Dockerfile): cannot read it ("
    )
    (tmp_path / "Dockerfile").write_text("RUN echo no from\n")
    error = fails(
        f"docker-archive:{engineless_archives.app}",
        env,
        UsageError,
        dockerfile=tmp_path / "Dockerfile",
        base_from_label=False,
    )
    assert error.message == f"{tmp_path}/Dockerfile:1: RUN before the first FROM (only ARG may come first)"
    # A file that never ends is refused after a bounded read, not read until memory runs out.
    error = fails(
        f"docker-archive:{engineless_archives.app}",
        env,
        UsageError,
        dockerfile=Path("/dev/zero"),
        base_from_label=False,
    )
    assert error.message == "--dockerfile /dev/zero: larger than 4 MiB; not a Dockerfile"


def test_a_dockerfile_named_dash_is_named_as_given(
    engineless_archives: ArchiveImages, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `./-` (`-` alone is refused as standard input): a message naming `-` reads as standard input.
    monkeypatch.chdir(tmp_path)
    given = {"dockerfile": Path("./-"), "base_from_label": False}
    error = fails(f"docker-archive:{engineless_archives.app}", env, UsageError, **given)
    assert error.message.startswith("--dockerfile ./-: cannot read it (")
    (tmp_path / "-").write_text("RUN echo no from\n")
    error = fails(f"docker-archive:{engineless_archives.app}", env, UsageError, **given)
    assert error.message == "./-:1: RUN before the first FROM (only ARG may come first)"


def test_a_label_naming_an_unreachable_base_is_a_warning(
    env: dict[str, str], app: tuple[bytes, list[bytes]], registry: Registry
) -> None:
    config, layers = app
    doc = json.loads(config)
    doc["config"]["Labels"] = {
        "org.opencontainers.image.base.name": "127.0.0.1:9/base:1",
        "org.opencontainers.image.base.digest": "sha256:" + "1" * 64,
    }
    Pusher(registry.address).image("relabelled/app", "1", oci_image(json.dumps(doc).encode(), layers))
    target = resolve_image(f"docker://{registry.address}/relabelled/app:1", environ=env)
    assert target.info.base_image == "127.0.0.1:9/base:1"
    assert target.info.base_layer_count is None
    assert target.warnings[-1].startswith(
        f"the base image 127.0.0.1:9/base@sha256:{'1' * 64} named by the image's labels could not be read: image "
    )
    assert "cannot reach registry 127.0.0.1:9" in target.warnings[-1]
    # With the base image check to come (`scan --check-base`), the check says why it cannot read
    # the base, or finds it over the registry: no warning that would repeat or contradict it.
    checked = resolve_image(
        f"docker://{registry.address}/relabelled/app:1", environ=env, base_may_have_moved=True
    )
    assert (checked.info.base_image, checked.info.base_layer_count) == ("127.0.0.1:9/base:1", None)
    assert not any("named by the image's labels" in warning for warning in checked.warnings)


def test_an_archive_never_looks_up_the_base_its_label_names(
    tmp_path: Path, env: dict[str, str], app: tuple[bytes, list[bytes]]
) -> None:
    config, layers = app
    doc = json.loads(config)
    doc["config"]["Labels"] = {"org.opencontainers.image.base.name": "127.0.0.1:9/base:1"}
    path = docker_archive(tmp_path / "labelled.tar", json.dumps(doc).encode(), layers)
    target = resolve_image(f"docker-archive:{path}", environ=env)
    assert target.info.base_image == "127.0.0.1:9/base:1"
    assert target.info.base_layer_count is None
    assert target.warnings == ()
