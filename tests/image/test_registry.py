"""Registry and multi-platform sources on real registries: an OCI index pushed over the HTTP API,
OCI archives with two platforms, and the Basic and Bearer (token) authentication flows."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from gate.errors import ImageError
from gate.image.manifest import Platform, host_platform
from gate.image.registry_auth import Credentials
from gate.image.resolve import resolve_image
from gate.image.source import SourceKind
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, RunWording
from testbed.engine import Registry
from testbed.images import ArchiveImages
from tests.support.data_server import Reply, hanging_up, running_server
from tests.support.fixtures import TestbedImages, unavailable
from tests.support.registry_tools import (
    OCI_INDEX,
    OCI_MANIFEST,
    AuthRegistries,
    ImageBlobs,
    Pusher,
    base_behind_auth,
    bcrypt_hash,
    index_of,
    oci_image,
    read_docker_archive,
    serve_registry,
    sha256,
    write_oci_archive,
)
from tests.support.tls import REGISTRY_NAME, PrivateCa, registry_at_default_port

ATTESTATION = {"vnd.docker.reference.type": "attestation-manifest"}
UNKNOWN = {"os": "unknown", "architecture": "unknown"}


@dataclass(frozen=True)
class MultiPlatform:
    """`container-gate-testbed/app:multi`: the engine-built amd64 app, an arm64 image and an attestation."""

    reference: str
    index_digest: str
    amd64_manifest: str
    arm64: ImageBlobs


def arm64_app(engineless: ArchiveImages) -> ImageBlobs:
    config, layers = read_docker_archive(engineless.app)
    return oci_image(config, layers, architecture="arm64", variant="v8")


@pytest.fixture(scope="module")
def multi_platform(
    built_images: TestbedImages, registry: Registry, engineless_archives: ArchiveImages
) -> MultiPlatform:
    pusher = Pusher(registry.address)
    repo = built_images.registry_app.split("/", 1)[1].rsplit(":", 1)[0]
    amd64_body, amd64_type = pusher.get_manifest(repo, "1")
    arm64 = arm64_app(engineless_archives)
    pusher.image(repo, arm64.digest, arm64)
    index = index_of(
        [
            (amd64_body, amd64_type, {"os": "linux", "architecture": "amd64"}),
            (arm64.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
            (arm64.manifest, OCI_MANIFEST, UNKNOWN),
        ],
        annotations=[{}, {}, ATTESTATION],
    )
    digest = pusher.manifest(repo, "multi", index, OCI_INDEX)
    return MultiPlatform(f"{registry.address}/{repo}:multi", digest, sha256(amd64_body), arm64)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """No engine, no credentials: only the registry can answer."""
    return {"HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}


def test_the_platform_selects_an_image_of_a_registry_index(
    multi_platform: MultiPlatform, home: dict[str, str]
) -> None:
    arm = resolve_image(
        f"docker://{multi_platform.reference}", platform="linux/arm64", environ=home, base_from_label=False
    )
    assert arm.kind is SourceKind.REGISTRY
    assert arm.platform == "linux/arm64/v8"
    assert (arm.info.platform, arm.info.architecture) == ("linux/arm64/v8", "arm64/v8")
    assert arm.info.image_id == sha256(multi_platform.arm64.config)
    assert arm.info.digest == multi_platform.index_digest
    assert arm.manifest_digest == arm.info.manifest_digest == multi_platform.arm64.digest
    assert arm.info.size == sum(len(layer) for layer in multi_platform.arm64.layers)
    amd = resolve_image(
        f"docker://{multi_platform.reference}", platform="linux/amd64", environ=home, base_from_label=False
    )
    assert amd.platform == "linux/amd64"
    assert amd.manifest_digest == multi_platform.amd64_manifest
    assert amd.info.digest == multi_platform.index_digest
    assert len(amd.info.layers) == len(arm.info.layers) == 4
    assert amd.info.layers[0].diff_id != arm.info.layers[0].diff_id


def test_without_a_platform_the_hosts_is_chosen(multi_platform: MultiPlatform, home: dict[str, str]) -> None:
    ref = f"docker://{multi_platform.reference}"
    if host_platform().architecture not in ("amd64", "arm64"):
        with pytest.raises(ImageError, match="none is this machine's"):
            resolve_image(ref, environ=home, base_from_label=False)
        return
    target = resolve_image(ref, environ=home, base_from_label=False)
    assert target.platform is not None
    assert Platform.parse(target.platform).satisfies(host_platform())


def test_a_platform_not_in_the_index_lists_the_available_ones(
    multi_platform: MultiPlatform, home: dict[str, str]
) -> None:
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{multi_platform.reference}", platform="linux/s390x", environ=home)
    # The attestation entry (unknown/unknown) is not offered as a platform.
    assert caught.value.message == (
        f"{multi_platform.reference.replace(':multi', '')}:multi has no linux/s390x image "
        "(available: linux/amd64, linux/arm64/v8)"
    )


def two_foreign_platforms(engineless: ArchiveImages) -> tuple[ImageBlobs, ImageBlobs]:
    config, layers = read_docker_archive(engineless.app)
    return oci_image(config, layers, architecture="s390x"), oci_image(config, layers, architecture="riscv64")


def test_an_index_without_the_hosts_platform_needs_one_chosen(
    registry: Registry, engineless_archives: ArchiveImages, home: dict[str, str]
) -> None:
    pusher = Pusher(registry.address)
    s390x, riscv = two_foreign_platforms(engineless_archives)
    for image in (s390x, riscv):
        pusher.image("foreign/app", image.digest, image)
    index = index_of(
        [
            (s390x.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "s390x"}),
            (riscv.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "riscv64"}),
        ]
    )
    pusher.manifest("foreign/app", "1", index, OCI_INDEX)
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{registry.address}/foreign/app:1", environ=home)
    assert "has several platforms (linux/riscv64, linux/s390x)" in caught.value.message
    assert caught.value.hint == "choose one with --platform"
    # The action's users set its input.
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{registry.address}/foreign/app:1", environ=home, wording=ACTION_WORDS)
    assert caught.value.hint == "choose one with the action's `platform` input"
    # Two variants of the platform asked for: its variant is named by the platform input too.
    variants = index_of(
        [
            (s390x.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "s390x", "variant": "v1"}),
            (riscv.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "s390x", "variant": "v2"}),
        ]
    )
    pusher.manifest("foreign/app", "2", variants, OCI_INDEX)
    for wording, said in (
        (COMMAND_LINE_WORDS, "--platform"),
        (ACTION_WORDS, "the action's `platform` input"),
    ):
        with pytest.raises(ImageError) as caught:
            resolve_image(
                f"docker://{registry.address}/foreign/app:2",
                platform="linux/s390x",
                environ=home,
                wording=wording,
            )
        assert caught.value.hint == f"name the variant in {said}"
    chosen = resolve_image(
        f"docker://{registry.address}/foreign/app:1", platform="linux/riscv64", environ=home
    )
    assert chosen.info.image_id == sha256(riscv.config)


def oci_two_platforms(
    built: TestbedImages, engineless: ArchiveImages, path: Path, *, nested: bool
) -> tuple[Path, ImageBlobs, ImageBlobs, bytes]:
    config, layers = read_docker_archive(built.app_archive)
    amd64 = oci_image(config, layers)
    arm64 = arm64_app(engineless)
    platforms = index_of(
        [
            (amd64.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "amd64"}),
            (arm64.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
        ]
    )
    blobs = {**amd64.blobs(), **arm64.blobs()}
    if nested:
        # What `docker buildx build --platform a,b --output type=oci` writes: index.json -> index -> manifests.
        blobs[sha256(platforms)] = platforms
        top = index_of(
            [(platforms, OCI_INDEX, None)], annotations=[{"org.opencontainers.image.ref.name": "1"}]
        )
    else:
        top = platforms
    return write_oci_archive(path, top, blobs), amd64, arm64, platforms


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_an_oci_archive_with_two_platforms(
    built_images: TestbedImages,
    engineless_archives: ArchiveImages,
    home: dict[str, str],
    tmp_path: Path,
    nested: bool,
) -> None:
    path, amd64, arm64, platforms = oci_two_platforms(
        built_images, engineless_archives, tmp_path / "two.tar", nested=nested
    )
    arm = resolve_image(f"oci-archive:{path}", platform="linux/arm64/v8", environ=home, base_from_label=False)
    assert arm.kind is SourceKind.OCI_ARCHIVE
    assert (arm.platform, arm.info.platform) == ("linux/arm64/v8", "linux/arm64/v8")
    assert arm.info.image_id == sha256(arm64.config)
    assert arm.manifest_digest == arm64.digest
    # The digest names what index.json points at: the nested index, or the manifest itself.
    assert arm.info.digest == (sha256(platforms) if nested else arm64.digest)
    amd = resolve_image(f"oci-archive:{path}", platform="linux/amd64", environ=home, base_from_label=False)
    assert amd.info.image_id == sha256(amd64.config)
    assert amd.archive_path == path
    with pytest.raises(ImageError) as caught:
        resolve_image(f"oci-archive:{path}", platform="windows/amd64", environ=home)
    assert (
        caught.value.message
        == f"oci-archive:{path} has no windows/amd64 image (available: linux/amd64, linux/arm64/v8)"
    )


def test_an_oci_archive_names_its_images(
    built_images: TestbedImages, engineless_archives: ArchiveImages, home: dict[str, str], tmp_path: Path
) -> None:
    config, layers = read_docker_archive(built_images.app_archive)
    app = oci_image(config, layers)
    base_config, base_layers = read_docker_archive(built_images.base_archive)
    base = oci_image(base_config, base_layers)
    top = index_of(
        [(app.manifest, OCI_MANIFEST, None), (base.manifest, OCI_MANIFEST, None)],
        annotations=[
            {"org.opencontainers.image.ref.name": "app"},
            {"org.opencontainers.image.ref.name": "base"},
        ],
    )
    path = write_oci_archive(tmp_path / "named.tar", top, {**app.blobs(), **base.blobs()})
    with pytest.raises(ImageError) as caught:
        resolve_image(f"oci-archive:{path}", environ=home)
    assert caught.value.message == f"oci-archive:{path}: holds several images (app, base)"
    assert caught.value.hint == f"name one: oci-archive:{path}:NAME"
    chosen = resolve_image(f"oci-archive:{path}:base", environ=home)
    assert chosen.info.image_id == sha256(base_config)
    assert chosen.platform is None  # one image, not a platform choice
    with pytest.raises(ImageError, match=r"no image named 'other' \(the archive has: app, base\)"):
        resolve_image(f"oci-archive:{path}:other", environ=home)


# --- authentication -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth(engineless_archives: ArchiveImages) -> Iterator[AuthRegistries]:
    with base_behind_auth(engineless_archives.base, ("public/base:1", "private/base:1")) as registries:
        yield registries


def docker_config(tmp_path: Path, doc: dict[str, object]) -> dict[str, str]:
    (tmp_path / ".docker").mkdir(exist_ok=True)
    (tmp_path / ".docker" / "config.json").write_text(json.dumps(doc))
    return {"HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/none.sock", "PATH": ""}


def basic_auths(registry: str, user: str, password: str) -> dict[str, object]:
    return {"auths": {registry: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}


def test_anonymous_bearer_tokens_pull_public_images(auth: AuthRegistries, tmp_path: Path) -> None:
    env = docker_config(tmp_path, {})
    target = resolve_image(f"docker://{auth.bearer}/public/base:1", environ=env)
    assert len(target.info.layers) == 1
    assert auth.tokens.seen[-1] == {"user": "anonymous", "scope": "repository:public/base:pull"}


def test_a_private_image_needs_credentials(auth: AuthRegistries, tmp_path: Path) -> None:
    env = docker_config(tmp_path, {})
    for registry in (auth.bearer, auth.basic):
        with pytest.raises(ImageError) as caught:
            resolve_image(f"docker://{registry}/private/base:1", environ=env)
        assert (
            caught.value.message
            == f"registry {registry} refused anonymous access to private/base (HTTP 401, UNAUTHORIZED)"
        )
        assert (
            caught.value.hint
            == f"the repository does not exist or needs credentials: docker login {registry}"
        )


@pytest.mark.parametrize(
    ("wording", "needed"),
    [
        (
            ACTION_WORDS,
            "set the action's `registry` input to {registry}, with `registry-username` and "
            "`registry-password`",
        ),
        (
            GITLAB_WORDS,
            "the job logs in to its project's registry only: for {registry}, point DOCKER_CONFIG at a "
            "Docker config with a login for it (docs/gitlab-ci.md, Registry credentials)",
        ),
    ],
)
def test_a_refused_read_says_how_the_run_gives_credentials(
    auth: AuthRegistries, tmp_path: Path, wording: RunWording, needed: str
) -> None:
    # The action's users set its inputs and the GitLab job's a Docker config: neither runs
    # `docker login` where the gate runs.
    env = docker_config(tmp_path, {})
    for registry in (auth.bearer, auth.basic):
        with pytest.raises(ImageError) as caught:
            resolve_image(f"docker://{registry}/private/base:1", environ=env, wording=wording)
        assert caught.value.hint == (
            f"the repository does not exist or needs credentials: {needed.format(registry=registry)}"
        )
    wrong = docker_config(tmp_path, basic_auths(auth.basic, auth.username, "not-" + auth.password))
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{auth.basic}/private/base:1", environ=wrong, wording=wording)
    assert caught.value.hint == wording.login.when_refused(auth.basic)
    assert "docker login" not in caught.value.diagnostics()


@pytest.mark.parametrize("flow", ["bearer", "basic"])
def test_credentials_from_the_docker_config_are_used(auth: AuthRegistries, tmp_path: Path, flow: str) -> None:
    registry = auth.bearer if flow == "bearer" else auth.basic
    env = docker_config(tmp_path, basic_auths(f"http://{registry}", auth.username, auth.password))
    target = resolve_image(f"docker://{registry}/private/base:1", environ=env)
    assert target.info.base_layer_count is None
    assert len(target.info.layers) == 1
    if flow == "bearer":
        assert auth.tokens.seen[-1] == {"user": auth.username, "scope": "repository:private/base:pull"}


@pytest.mark.parametrize("flow", ["bearer", "basic"])
def test_wrong_credentials_are_refused_without_being_shown(
    auth: AuthRegistries, tmp_path: Path, flow: str
) -> None:
    registry = auth.bearer if flow == "bearer" else auth.basic
    wrong = "not-" + auth.password
    env = docker_config(tmp_path, basic_auths(registry, auth.username, wrong))
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{registry}/private/base:1", environ=env)
    text = caught.value.diagnostics()
    expected = (
        f"registry {registry}: its token service refused the credentials of user 'gate-user' (HTTP 401)"
        if flow == "bearer"
        else f"registry {registry} refused the credentials of user 'gate-user' (HTTP 401, UNAUTHORIZED)"
    )
    assert caught.value.message == expected
    assert caught.value.hint == f"docker login {registry} again"
    assert wrong not in text
    assert auth.password not in text
    assert wrong not in repr(Credentials(auth.username, wrong))


def test_a_repository_the_user_may_not_pull_is_not_blamed_on_the_credentials(
    auth: AuthRegistries, tmp_path: Path
) -> None:
    # The token service takes the credentials and grants nothing for this repository (as for a
    # misspelt or someone else's private repository): logging in again would not help.
    env = docker_config(tmp_path, basic_auths(auth.bearer, auth.username, auth.password))
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{auth.bearer}/other/base:1", environ=env)
    assert caught.value.message == (
        f"registry {auth.bearer} refused user 'gate-user' access to other/base (HTTP 401, UNAUTHORIZED)"
    )
    assert caught.value.hint == "the repository does not exist, or user 'gate-user' may not pull it"
    assert auth.password not in caught.value.diagnostics()


def test_docker_config_and_credential_helpers(auth: AuthRegistries, tmp_path: Path) -> None:
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-gatetest"
    answer = json.dumps({"ServerURL": auth.bearer, "Username": auth.username, "Secret": auth.password})
    # The helper protocol: `get`, the server on stdin, JSON on stdout; it records what it was asked.
    helper.write_text(f"#!/bin/sh\ncat > {tmp_path}/asked\necho '{answer}'\n")
    helper.chmod(0o755)
    config_dir = tmp_path / "elsewhere"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"credHelpers": {auth.bearer: "gatetest"}}))
    env = {
        "DOCKER_CONFIG": str(config_dir),
        "PATH": str(helper_dir),
        "DOCKER_HOST": f"unix://{tmp_path}/none.sock",
    }
    resolve_image(f"docker://{auth.bearer}/private/base:1", environ=env)
    assert (tmp_path / "asked").read_text() == auth.bearer
    assert auth.tokens.seen[-1]["user"] == auth.username


def test_identity_tokens_use_the_oauth2_refresh_flow(auth: AuthRegistries, tmp_path: Path) -> None:
    env = docker_config(tmp_path, {"auths": {auth.bearer: {"identitytoken": auth.tokens.refresh_token}}})
    resolve_image(f"docker://{auth.bearer}/private/base:1", environ=env)
    assert auth.tokens.seen[-1] == {"user": "identity", "scope": "repository:private/base:pull"}


def test_a_missing_credential_helper_is_named(auth: AuthRegistries, tmp_path: Path) -> None:
    env = docker_config(tmp_path, {"credsStore": "nothere"})
    with pytest.raises(ImageError, match="docker-credential-nothere is not installed"):
        resolve_image(f"docker://{auth.bearer}/private/base:1", environ=env)


def test_a_broken_docker_config_is_an_error(auth: AuthRegistries, tmp_path: Path) -> None:
    env = docker_config(tmp_path, {})
    (tmp_path / ".docker" / "config.json").write_text('{"auths": {"x": {"auth": "secret-ish"')
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{auth.bearer}/private/base:1", environ=env)
    assert caught.value.message.startswith(f"{tmp_path}/.docker/config.json: cannot read the Docker config (")
    assert "secret-ish" not in caught.value.message


# --- registry errors ------------------------------------------------------------------------------


def test_registry_errors(registry: Registry, home: dict[str, str]) -> None:
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://{registry.address}/container-gate-testbed/absent:1", environ=home)
    assert caught.value.message == (
        f"registry {registry.address} has no container-gate-testbed/absent:1 (HTTP 404, MANIFEST_UNKNOWN)"
    )
    digest = "sha256:" + "0" * 64
    with pytest.raises(
        ImageError, match=rf"has no container-gate-testbed/app@{digest} \(HTTP 404, MANIFEST_UNKNOWN\)"
    ):
        resolve_image(f"docker://{registry.address}/container-gate-testbed/app@{digest}", environ=home)


@pytest.mark.parametrize(
    ("reset", "said"), [(True, "connection reset"), (False, "it closed the connection without answering")]
)
def test_a_registry_that_hangs_up_says_how(home: dict[str, str], reset: bool, said: str) -> None:
    # Was "(ConnectionError)": the exception's class, for a reset as for a close.
    with hanging_up(reset) as url:
        address = url.removeprefix("http://")
        with pytest.raises(ImageError) as caught:
            resolve_image(f"docker://{address}/app:1", environ=home)
    assert caught.value.message == f"cannot reach registry {address} ({said})"


def test_a_registry_answer_cut_short_says_so(home: dict[str, str]) -> None:
    # The manifest is streamed: a connection that broke while it was read was an uncaught
    # ChunkedEncodingError, an internal error that quoted urllib3's text.
    for server in running_server():
        manifest = Reply(200, b'{"schemaVersion":', "application/vnd.oci.image.manifest.v1+json", length=200)
        server.serve("/v2/app/manifests/1", manifest)
        address = server.base.removeprefix("http://")
        with pytest.raises(ImageError) as caught:
            resolve_image(f"docker://{address}/app:1", environ=home)
    assert caught.value.message == (
        f"cannot read app:1 from registry {address} "
        "(it closed the connection before the whole answer was received)"
    )


def test_an_unreachable_registry(home: dict[str, str]) -> None:
    from tests.support.registry_tools import free_port

    port = free_port()
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker://127.0.0.1:{port}/app:1", environ=home)
    assert caught.value.message == f"cannot reach registry 127.0.0.1:{port} (connection refused)"
    # A bare reference tries the engine first, and says what each source answered.
    with pytest.raises(ImageError) as both:
        resolve_image(f"127.0.0.1:{port}/app:1", environ=home)
    assert both.value.message == (
        f"image 127.0.0.1:{port}/app:1 not found: cannot reach the Docker engine at {home['DOCKER_HOST']} "
        f"(DOCKER_HOST): no such socket; cannot reach registry 127.0.0.1:{port} (connection refused)"
    )
    assert both.value.hint is not None
    assert "DOCKER_HOST" in both.value.hint


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """DOCKER_HOST unset and nothing at the default address, as in a CI job without an engine."""
    monkeypatch.setattr("gate.image.engine.DEFAULT_HOST", f"unix://{tmp_path}/docker.sock")
    return {"HOME": str(tmp_path)}


def test_with_no_engine_at_all_a_registry_reference_gets_the_registrys_answer_alone(
    registry: Registry, auth: AuthRegistries, no_engine: dict[str, str]
) -> None:
    # Nothing pointed at an engine and the reference names its registry: how to start an engine
    # is beside the point when the registry lacks the image or refuses it.
    with pytest.raises(ImageError) as absent:
        resolve_image(f"{registry.address}/container-gate-testbed/absent:1", environ=no_engine)
    assert absent.value.message == (
        f"registry {registry.address} has no container-gate-testbed/absent:1 (HTTP 404, MANIFEST_UNKNOWN)"
    )
    assert absent.value.hint is None
    with pytest.raises(ImageError) as refused:
        resolve_image(f"{auth.bearer}/private/base:1", environ=no_engine)
    assert refused.value.message == (
        f"registry {auth.bearer} refused anonymous access to private/base (HTTP 401, UNAUTHORIZED)"
    )
    assert refused.value.hint == (
        f"the repository does not exist or needs credentials: docker login {auth.bearer}"
    )


def test_an_engine_the_user_named_stays_in_a_registrys_refusal(
    registry: Registry, home: dict[str, str]
) -> None:
    with pytest.raises(ImageError) as caught:
        resolve_image(f"{registry.address}/container-gate-testbed/absent:1", environ=home)
    assert caught.value.message == (
        f"image {registry.address}/container-gate-testbed/absent:1 not found: cannot reach the Docker "
        f"engine at {home['DOCKER_HOST']} (DOCKER_HOST): no such socket; registry {registry.address} "
        "has no container-gate-testbed/absent:1 (HTTP 404, MANIFEST_UNKNOWN)"
    )
    assert caught.value.hint is not None
    assert "DOCKER_HOST" in caught.value.hint


def _serve_once_each(answer: Callable[[socket.socket], None]) -> tuple[int, Callable[[], None]]:
    """A loopback TCP server that hands each connection to `answer`; gives its port and a stop."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # a blocked accept() is not woken by close(): it looks at `stopping`
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with contextlib.suppress(OSError), conn:
                answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)
        listener.close()

    return listener.getsockname()[1], stop


ELSEWHERE = "10.20.30.40"
"""An address the private CA's certificate does not name (it names 127.0.0.1), reaching the local
server all the same."""


def test_a_tls_failure_says_what_failed(
    private_ca: PrivateCa, home: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every TLS failure was said to be an untrusted certificate, and the hint sent the user to
    # their CA file when the certificate was for another name, or the port spoke plain HTTP.
    lookup = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        local = str(host).endswith(".gitlab.test") or host == ELSEWHERE
        return lookup("127.0.0.1" if local else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)

    def tls(conn: socket.socket) -> None:
        with private_ca.server_context.wrap_socket(conn, server_side=True) as secure:
            secure.recv(4096)

    def plain_http(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    def hang_up(conn: socket.socket) -> None:
        conn.recv(4096)

    def refused(
        name: str, answer: Callable[[socket.socket], None], wording: RunWording = COMMAND_LINE_WORDS
    ) -> ImageError:
        port, stop = _serve_once_each(answer)
        try:
            with pytest.raises(ImageError) as caught:
                resolve_image(f"docker://{name}:{port}/app:1", environ=home, wording=wording)
        finally:
            stop()
        assert caught.value.message.startswith(f"cannot reach registry {name}:{port} (TLS error: ")
        return caught.value

    untrusted = refused(REGISTRY_NAME, tls)
    assert "(TLS error: its certificate is not trusted)" in untrusted.message
    # Each way of running says how its user has the gate trust a CA of their own: the command line
    # named the GitLab runner's CI_SERVER_TLS_CA_FILE, which means nothing there.
    assert untrusted.hint == COMMAND_LINE_WORDS.untrusted_certificate
    assert "REQUESTS_CA_BUNDLE" in untrusted.hint
    assert "CI_SERVER_TLS_CA_FILE" not in untrusted.hint
    in_gitlab = refused(REGISTRY_NAME, tls, GITLAB_WORDS).hint or ""
    assert "(CI_SERVER_TLS_CA_FILE)" in in_gitlab
    in_action = refused(REGISTRY_NAME, tls, ACTION_WORDS).hint or ""
    assert "the gate step's `env:`" in in_action
    assert "CI_SERVER_TLS_CA_FILE" not in in_action

    # What the command line's hint says to do is what the gate honours.

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(private_ca.ca_file))
    assert "(TLS error:" not in _message_or_empty(REGISTRY_NAME, tls, home)
    other = refused("other.gitlab.test", tls)
    assert "(TLS error: its certificate is not for other.gitlab.test)" in other.message
    assert "CA" not in (other.hint or "")
    # By address, the certificate is checked against the addresses it names, not host names.
    by_address = refused(ELSEWHERE, tls)
    assert f"(TLS error: its certificate is not for the IP address {ELSEWHERE})" in by_address.message
    assert by_address.hint == "check the address, or connect by a host name the certificate is for"

    not_tls = refused(REGISTRY_NAME, plain_http)
    assert "(TLS error: it did not answer in TLS)" in not_tls.message
    assert "serve HTTPS" in (not_tls.hint or "")
    closed = refused(REGISTRY_NAME, hang_up)
    assert "(TLS error: it closed the connection during the TLS handshake)" in closed.message


def _message_or_empty(name: str, answer: Callable[[socket.socket], None], home: dict[str, str]) -> str:
    """The error a read of `name` ends with (a trusted TLS server that answers nothing fails later)."""
    port, stop = _serve_once_each(answer)
    try:
        resolve_image(f"docker://{name}:{port}/app:1", environ=home)
    except ImageError as error:
        return error.message
    finally:
        stop()
    return ""


def test_in_a_gitlab_job_requests_ca_bundle_is_trusted_besides_the_runners_ca_and_the_public_ones(
    private_ca: PrivateCa,
    other_cas: tuple[PrivateCa, PrivateCa],
    home: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The GitLab hint said REQUESTS_CA_BUNDLE "replaces the gate's bundle": with the runner's CA
    # file given, it is trusted besides the public CAs and that file, so a file of the user's CA
    # alone does.
    yours, public = other_cas
    lookup = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: lookup("127.0.0.1", *a, **k))
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setattr(requests.utils, "DEFAULT_CA_BUNDLE_PATH", str(public.ca_file))  # the public CAs
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(yours.ca_file))

    def read(signed_by: PrivateCa, ca_file: str | None) -> str:
        def tls(conn: socket.socket) -> None:
            with signed_by.server_context.wrap_socket(conn, server_side=True) as secure:
                secure.recv(4096)

        port, stop = _serve_once_each(tls)
        try:
            resolve_image(f"docker://{REGISTRY_NAME}:{port}/app:1", environ=home, ca_file=ca_file)
        except ImageError as error:
            return error.message
        finally:
            stop()
        return ""

    runner_ca = str(private_ca.ca_file)
    for signed_by in (private_ca, yours, public):
        assert "(TLS error:" not in read(signed_by, runner_ca)
    assert "besides the public CAs and the CI_SERVER_TLS_CA_FILE one" in GITLAB_WORDS.untrusted_certificate
    # Without the runner's CA file (a job with no tls-ca-file, or the command line anywhere else),
    # REQUESTS_CA_BUNDLE replaces the public CAs, as both hints say.
    assert "(TLS error: its certificate is not trusted)" in read(public, None)
    assert "(TLS error:" not in read(yours, None)
    assert COMMAND_LINE_WORDS.untrusted_certificate.endswith("it replaces the gate's bundle")
    assert "replaces the gate's bundle" in GITLAB_WORDS.untrusted_certificate


def test_a_login_under_the_registrys_other_spelling_is_named_when_the_registry_refuses(
    engineless_archives: ArchiveImages,
    private_ca: PrivateCa,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `docker login REGISTRY:443` stores a key that Docker, Trivy and Grype never use for
    # REGISTRY/REPO (nor the gate, which reads the registry as they do): the refusal says why.
    secure_port = registry_at_default_port(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(private_ca.ca_file))
    (tmp_path / "htpasswd").write_text(f"gate-user:{bcrypt_hash('secret-pw')}\n")
    storage = tmp_path / "storage"
    basic = f"auth: {{htpasswd: {{realm: gate-test, path: {tmp_path / 'htpasswd'}}}}}\n"
    try:
        with (
            serve_registry(tmp_path, storage) as plain,
            serve_registry(tmp_path, storage, basic, tls=private_ca.server_files) as secure,
            serve_registry(tmp_path, storage, tls=private_ca.server_files) as anonymous,
        ):
            secure_port.append(int(secure.rpartition(":")[2]))
            config, layers = read_docker_archive(engineless_archives.base)
            Pusher(plain).image("private/base", "1", oci_image(config, layers))
            for written, other in (
                (REGISTRY_NAME, f"{REGISTRY_NAME}:443"),
                (f"{REGISTRY_NAME}:443", REGISTRY_NAME),
            ):
                env = docker_config(tmp_path, basic_auths(other, "gate-user", "secret-pw"))
                with pytest.raises(ImageError) as caught:
                    resolve_image(f"docker://{written}/private/base:1", environ=env)
                assert caught.value.message == (
                    f"registry {written} refused anonymous access to private/base (HTTP 401, UNAUTHORIZED)"
                )
                assert caught.value.hint == (
                    f"the repository does not exist or needs credentials: docker login {written}; "
                    f"{tmp_path}/.docker/config.json: its login for {other} is not used for {written}: "
                    "Docker and the scanners take a registry written with and without its default port "
                    f":443 as two, and the image reference writes {written}: docker login {written}"
                )
                # Under the spelling the reference has, the login is used.
                env = docker_config(tmp_path, basic_auths(written, "gate-user", "secret-pw"))
                target = resolve_image(f"docker://{written}/private/base:1", environ=env)
                assert len(target.info.layers) == 1
                assert target.warnings == ()
            # In the action and the GitLab job, the way out is theirs, not `docker login`.
            env = docker_config(tmp_path, basic_auths(f"{REGISTRY_NAME}:443", "gate-user", "secret-pw"))
            for wording in (ACTION_WORDS, GITLAB_WORDS):
                with pytest.raises(ImageError) as caught:
                    resolve_image(f"docker://{REGISTRY_NAME}/private/base:1", environ=env, wording=wording)
                writes = f"and the image reference writes {REGISTRY_NAME}: "
                assert (caught.value.hint or "").endswith(writes + wording.login.when_needed(REGISTRY_NAME))
            # A registry that lets anyone read asks for no login: nothing to say of one.
            secure_port[0] = int(anonymous.rpartition(":")[2])
            env = docker_config(tmp_path, basic_auths(f"{REGISTRY_NAME}:443", "gate-user", "secret-pw"))
            assert resolve_image(f"docker://{REGISTRY_NAME}/private/base:1", environ=env).warnings == ()
    except (RuntimeError, FileNotFoundError) as exc:
        unavailable(f"a registry over HTTPS: {exc}")


def test_with_no_engine_a_name_left_to_docker_hubs_default_keeps_what_the_engine_said(
    no_engine: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `app:1` is how a locally built image is usually named: that no engine answered is half the
    # story beside Docker Hub's answer.
    def hub_has_none(*_args: Any, **_kwargs: Any) -> Any:
        raise ImageError("registry docker.io has no library/app:1 (HTTP 404, MANIFEST_UNKNOWN)")

    monkeypatch.setattr("gate.image.registry.read_registry", hub_has_none)
    with pytest.raises(ImageError) as caught:
        resolve_image("app:1", environ=no_engine)
    assert caught.value.message.startswith("image app:1 not found: cannot reach the Docker engine at ")
    assert caught.value.message.endswith(
        "; registry docker.io has no library/app:1 (HTTP 404, MANIFEST_UNKNOWN)"
    )


def test_with_no_engine_an_unreachable_registry_is_said_beside_the_engine(
    no_engine: dict[str, str],
) -> None:
    # Neither source answered: what each said stays, with how to reach either.
    from tests.support.registry_tools import free_port

    port = free_port()
    with pytest.raises(ImageError) as caught:
        resolve_image(f"127.0.0.1:{port}/app:1", environ=no_engine)
    assert caught.value.message.startswith(
        f"image 127.0.0.1:{port}/app:1 not found: cannot reach the Docker engine at "
    )
    assert caught.value.message.endswith(f"; cannot reach registry 127.0.0.1:{port} (connection refused)")
