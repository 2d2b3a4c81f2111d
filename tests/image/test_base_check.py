"""Locating the base image an image was built on, and what its tag points to now: real registries.

The scenario test (tests/scanners/test_base_scan.py) covers the day gap and the removed findings;
these cover how the base is identified, authentication, and the reasons the check gives when it
cannot run.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gate.image import base_check
from gate.image.base_check import BaseNotChecked, base_reference, locate_base
from gate.image.base_image import BaseCheck, BaseImageState, LocatedBase, parse_created
from gate.image.registry_auth import docker_config_file, find_credentials
from gate.image.resolve import resolve_image
from gate.model import ImageInfo, LayerInfo, ScanReport
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, RunWording
from gate.scanners import run
from gate.scanners.options import BaseCheckMode, ScannerChoice, ScanOptions
from gate.scanners.run import ScanRequest
from testbed.images import ArchiveImages
from tests.support.registry_tools import (
    AuthRegistries,
    base_behind_auth,
)
from tests.support.repo_paths import PROJECT_ROOT

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def auth(engineless_archives: ArchiveImages) -> Iterator[AuthRegistries]:
    """The test bed's base image pushed as `private/base:12` behind Basic and Bearer authentication."""
    with base_behind_auth(engineless_archives.base) as registries:
        yield registries


def app_info(engineless: ArchiveImages, base: str | None) -> ImageInfo:
    """The test bed's app (built FROM the base), as if its labels named `base`."""
    info = resolve_image(f"docker-archive:{engineless.app}", environ={}).info
    return replace(info, base_image=base)


def lookup(env: dict[str, str]):  # type: ignore[no-untyped-def]
    config = docker_config_file(env)
    return lambda registry: find_credentials(registry, config, env)


def test_a_private_base_is_read_with_the_docker_config_credentials(
    auth: AuthRegistries, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    for registry in (auth.bearer, auth.basic):
        (tmp_path / ".docker").mkdir(exist_ok=True)
        secret = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
        (tmp_path / ".docker" / "config.json").write_text(
            json.dumps({"auths": {f"http://{registry}": {"auth": secret}}})
        )
        env = {"HOME": str(tmp_path)}
        located = locate_base(app_info(engineless_archives, f"{registry}/private/base:12"), lookup(env), 30)
        assert located.name == f"{registry}/private/base:12"
        assert located.used == located.current
        assert not located.changed
        assert located.behind_days == 0


def test_unauthorized(auth: AuthRegistries, engineless_archives: ArchiveImages, tmp_path: Path) -> None:
    info = app_info(engineless_archives, f"{auth.bearer}/private/base:12")
    with pytest.raises(BaseNotChecked) as caught:
        locate_base(info, lookup({"HOME": str(tmp_path)}), 30)
    assert caught.value.diagnostics() == (
        f"unauthorized: registry {auth.bearer} refused anonymous access to private/base (HTTP 401, UNAUTHORIZED) "
        f"(the repository does not exist or needs credentials: docker login {auth.bearer})"
    )


class _NoSuchManifest(BaseHTTPRequestHandler):
    """A registry that has no manifest at all: it answers 404 MANIFEST_UNKNOWN, as every registry
    does for a tag that was deleted and for one that never existed alike."""

    def do_GET(self) -> None:
        found = self.path.rstrip("/") == "/v2"
        body = (
            b"{}" if found else b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}'
        )
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_tag_the_registry_does_not_have_is_not_found_not_gone(engineless_archives: ArchiveImages) -> None:
    # A 404 says the registry has no such tag now; not that it ever had one (a typo in FROM).
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoSuchManifest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        registry = f"127.0.0.1:{server.server_address[1]}"
        info = app_info(engineless_archives, f"{registry}/acme/bsae:12")
        with pytest.raises(BaseNotChecked) as caught:
            locate_base(info, lambda _registry: None, 30)
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.diagnostics() == (
        f"the tag {registry}/acme/bsae:12 was not found in the registry: registry {registry} has no "
        "acme/bsae:12 (HTTP 404, MANIFEST_UNKNOWN) (check the name's spelling; a tag deleted or "
        "renamed since the build is not found either)"
    )


def test_which_base_reference_and_digests_are_tried() -> None:
    labels = (
        ("org.opencontainers.image.base.digest", DIGEST),
        ("org.opencontainers.image.base.name", "ghcr.io/acme/base:12"),
    )
    info = ImageInfo(reference="app", base_image="ghcr.io/acme/base:12", labels=labels)
    assert base_reference(info) == (base_reference(info)[0], (DIGEST,))
    assert str(base_reference(info)[0]) == "ghcr.io/acme/base:12"
    # A digest pinned in --base-image comes first; the tag is what is followed.
    other = "sha256:" + "cd" * 32
    pinned = replace(info, base_image=f"ghcr.io/acme/base:12@{other}")
    assert base_reference(pinned)[1] == (other, DIGEST)
    assert str(base_reference(pinned)[0]) == "ghcr.io/acme/base:12"
    # A label digest of another repository says nothing about this base.
    assert base_reference(replace(info, base_image="docker.io/library/debian:12"))[1] == ()
    # An archive base: the label names the registry base to check.
    assert (
        str(base_reference(replace(info, base_image="docker-archive:base.tar"))[0]) == "ghcr.io/acme/base:12"
    )


@pytest.mark.parametrize(
    ("base", "labels", "reason"),
    [
        (None, (), "the base image of app is not known"),
        ("docker-archive:base.tar", (), "the base image docker-archive:base.tar is not in a registry, so it has no tag to check"),
        ("scratch", (), "app is built FROM scratch: it has no base image to check"),
        (f"ghcr.io/acme/base@{DIGEST}", (), f"the base image ghcr.io/acme/base@{DIGEST} names a digest and no tag, so there is no tag to check"),
        ("Not A Reference", (), "the base image reference 'Not A Reference' cannot be read: "),
    ],
)  # fmt: skip
def test_bases_that_cannot_be_checked(
    base: str | None, labels: tuple[tuple[str, str], ...], reason: str
) -> None:
    with pytest.raises(BaseNotChecked) as caught:
        base_reference(ImageInfo(reference="app", base_image=base, labels=labels))
    assert caught.value.message.startswith(reason)


@pytest.mark.parametrize(
    ("wording", "said"),
    [
        (COMMAND_LINE_WORDS, "give --base-image NAME:TAG"),
        (ACTION_WORDS, "set the action's `base-image` input to NAME:TAG"),
        (GITLAB_WORDS, "set the `base-image` input (the CONTAINER_GATE_BASE_IMAGE variable) to NAME:TAG"),
    ],
    ids=["command-line", "action", "gitlab"],
)
def test_the_base_checks_hints_name_the_base_image_as_the_runs_user_gives_it(
    wording: RunWording, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BaseNotChecked) as caught:
        base_reference(ImageInfo(reference="app"), wording)
    assert caught.value.hint == f"{said}, or label the image org.opencontainers.image.base.name"
    # A tag that moved on, and no digest naming the base the image was built on.
    moved = BaseImageState(f"ghcr.io/acme/base@{DIGEST}", DIGEST, None, ("sha256:" + "cd" * 32,))
    monkeypatch.setattr(base_check, "_read", lambda *_args: moved)
    info = ImageInfo(
        reference="app", base_image="ghcr.io/acme/base:12", layers=(LayerInfo("sha256:" + "ef" * 32),)
    )
    with pytest.raises(BaseNotChecked) as caught:
        locate_base(info, lambda _registry: None, 30, wording=wording)
    assert caught.value.hint == (
        f"label the image org.opencontainers.image.base.digest at build time, or {said}@DIGEST"
    )


def test_an_image_whose_dockerfile_builds_from_scratch_has_no_base_to_check(
    engineless_archives: ArchiveImages,
) -> None:
    # The test bed's base image is built FROM scratch: its Dockerfile says so, and names no base.
    dockerfile = PROJECT_ROOT / "testbed" / "images" / "base" / "Dockerfile"
    reference = f"docker-archive:{engineless_archives.base}"
    info = resolve_image(reference, dockerfile=dockerfile, environ={}).info
    assert (info.base_image, info.base_layer_count) == (None, 0)
    with pytest.raises(BaseNotChecked) as caught:
        base_reference(info)
    assert caught.value.diagnostics() == f"{reference} is built FROM scratch: it has no base image to check"


def state(created: str | None, layers: tuple[str, ...]) -> BaseImageState:
    return BaseImageState(f"r/b@{DIGEST}", DIGEST, created, layers)


def test_behind_days_are_whole_days_rounded_down() -> None:
    used = state("2024-01-10T00:00:00Z", ("sha256:a",))
    cases = {
        "2024-02-26T13:00:00Z": 47,
        "2024-02-26T00:00:00.000000001Z": 47,
        "2024-01-10T23:59:59Z": 0,
        "2024-01-01T00:00:00Z": 0,  # the tag went back in time: not behind
        "2024-01-11T01:00:00+02:00": 0,  # 23 hours, said in another zone
    }
    for created, days in cases.items():
        assert LocatedBase("b:1", used, state(created, ("sha256:b",))).behind_days == days, created
    # Same layers: not behind, whatever the config's date says.
    assert LocatedBase("b:1", used, state("2025-01-01T00:00:00Z", ("sha256:a",))).behind_days == 0
    assert LocatedBase("b:1", used, state(None, ("sha256:b",))).behind_days is None
    # Images built without a date (distroless) say the epoch: how far behind is unknown, not 0.
    epoch = state("1970-01-01T00:00:00Z", ("sha256:a",))
    assert LocatedBase("b:1", epoch, state("1970-01-01T00:00:00Z", ("sha256:b",))).behind_days is None
    assert LocatedBase("b:1", epoch, state("1970-01-01T00:00:00Z", ("sha256:a",))).behind_days == 0
    assert BaseCheck(False, reason="x").behind_days is None
    assert parse_created("2024-01-10T00:00:00") == parse_created("2024-01-10T00:00:00Z")
    assert parse_created("yesterday") is None


def test_a_from_whose_arg_has_no_value_is_named_when_the_base_is_checked(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('ARG BASE\nFROM ${BASE}\nCMD ["/bin/sh"]\n')
    reference = f"docker-archive:{engineless_archives.base}"
    target = resolve_image(reference, dockerfile=dockerfile, environ={}, base_may_have_moved=True)
    assert target.info.base_image is None
    assert (
        f"{dockerfile}:2: FROM names its image with an ARG that has no default value, so the Dockerfile "
        "does not say which base image to check (give the value the build had: --build-arg NAME=VALUE)"
    ) in target.warnings
    # Without the check, nothing needs the base image's name.
    plain = resolve_image(reference, dockerfile=dockerfile, environ={})
    assert not any("ARG" in warning for warning in plain.warnings)


@pytest.mark.parametrize(
    ("wording", "said"),
    [
        (ACTION_WORDS, "the action's `build-args` input (NAME=VALUE)"),
        (GITLAB_WORDS, "the `build-args` input (CONTAINER_GATE_BUILD_ARGS: NAME=VALUE)"),
    ],
    ids=["action", "gitlab"],
)
def test_in_the_action_and_gitlab_a_from_arg_without_value_names_the_build_args_input(
    wording: RunWording,
    said: str,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A scan hands the run's words, which its options carry, to the image's reader.
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('ARG BASE\nFROM ${BASE}\nCMD ["/bin/sh"]\n')
    monkeypatch.setattr(run, "run_scanners", lambda target, *_args, **_kw: ScanReport((), image=target.info))
    request = ScanRequest(
        reference=f"docker-archive:{engineless_archives.base}",
        scanner=ScannerChoice.TRIVY,
        options=ScanOptions(env={}, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), wording=wording),
        dockerfile=dockerfile,
        check_base=BaseCheckMode.REQUIRED,
    )
    target, _report = run.scan_target(request)
    (warning,) = [warning for warning in target.warnings if "ARG" in warning]
    assert warning.endswith(f"(give the value the build had: {said})")


def test_build_args_of_the_scan_name_the_base_image_of_from_arg(
    engineless_archives: ArchiveImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `scan --dockerfile D --build-arg BASE=...`: the values docker build was given fill the ARGs,
    # a later value of a name winning, and the base image check has a base to check.
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('ARG BASE\nARG TAG=1\nFROM ${BASE}:${TAG}\nCMD ["/bin/sh"]\n')
    monkeypatch.setattr(run, "run_scanners", lambda target, *_args, **_kw: ScanReport((), image=target.info))
    request = ScanRequest(
        reference=f"docker-archive:{engineless_archives.base}",
        scanner=ScannerChoice.TRIVY,
        options=ScanOptions(env={}, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
        dockerfile=dockerfile,
        build_args=(("BASE", "ghcr.io/acme/old"), ("BASE", "ghcr.io/acme/base"), ("TAG", "12")),
        check_base=BaseCheckMode.REQUIRED,
    )
    target, _report = run.scan_target(request)
    assert target.info.base_image == "ghcr.io/acme/base:12"
    assert not any("ARG" in warning for warning in target.warnings)
