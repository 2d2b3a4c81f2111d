"""The DB's metadata as Trivy reads it, and the images as written without and with an engine."""

from __future__ import annotations

import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from testbed.dockerfile import DockerfileError, apply_dockerfile
from testbed.engine import Engine
from testbed.images import IMAGES_DIR, build_docker_archive
from testbed.trivy import db_metadata
from testbed.trivydb import build_trivy_db
from tests.support.fixtures import TestbedImages


def test_metadata_has_the_four_fields_trivy_needs(tmp_path: Path) -> None:
    info = build_trivy_db(tmp_path, updated_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    meta = json.loads((tmp_path / "db" / "metadata.json").read_text())
    assert meta == info.metadata
    assert meta["Version"] == 2
    assert meta["UpdatedAt"] == "2024-01-02T03:04:05Z" == meta["DownloadedAt"]
    assert meta["NextUpdate"] > "2100"


def test_trivy_reports_an_old_db_as_old(tmp_path: Path, trivy_bin: Path) -> None:
    build_trivy_db(tmp_path, updated_at=datetime(2020, 5, 17, tzinfo=UTC))
    assert db_metadata(trivy_bin, tmp_path)["UpdatedAt"].startswith("2020-05-17T00:00:00")


def test_engineless_archives_are_reproducible(tmp_path: Path) -> None:
    first = build_docker_archive(tmp_path / "a")
    second = build_docker_archive(tmp_path / "b")
    assert first.app.read_bytes() == second.app.read_bytes()
    assert first.app_id == second.app_id


def _config(archive: Path) -> dict[str, object]:
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config: dict[str, object] = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        return config


def _history(config: dict[str, object]) -> list[tuple[str, bool]]:
    """(created_by with COPY hashes masked, empty_layer) per history entry."""
    out = []
    for h in config["history"]:  # type: ignore[attr-defined]
        created_by = h["created_by"]
        if " COPY dir:" in created_by:
            head, _, rest = created_by.partition(" COPY dir:")
            created_by = f"{head} COPY dir:<hash>{rest[64:]}"
        out.append((created_by, bool(h.get("empty_layer"))))
    return out


def test_engineless_history_and_labels_match_the_engines(
    built_images: TestbedImages, engineless_archives: object
) -> None:
    engine = _config(built_images.app_archive)
    engineless = _config(engineless_archives.app)  # type: ignore[attr-defined]
    assert _history(engineless) == _history(engine)
    assert engineless["config"]["Labels"] == engine["config"]["Labels"]  # type: ignore[index]
    assert len(engineless["rootfs"]["diff_ids"]) == len(engine["rootfs"]["diff_ids"])  # type: ignore[index]


def test_unsupported_instructions_are_refused(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nRUN apt-get install -y curl\n")
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: only RUN printf"):
        apply_dockerfile(dockerfile, tmp_path, None, {})
    dockerfile.write_text("FROM scratch\nWORKDIR /app\n")
    with pytest.raises(DockerfileError, match="WORKDIR is not supported"):
        apply_dockerfile(dockerfile, tmp_path, None, {})


def test_the_committed_dockerfiles_build_without_an_engine() -> None:
    base = apply_dockerfile(IMAGES_DIR / "base" / "Dockerfile", IMAGES_DIR / "base", None, {})
    app = apply_dockerfile(IMAGES_DIR / "app" / "Dockerfile", IMAGES_DIR / "app", base, {"BASE": "b:1"})
    status = app.files["var/lib/dpkg/status"].decode()
    assert status.startswith(base.files["var/lib/dpkg/status"].decode())
    assert status.endswith(
        "Package: libcurl4\nStatus: install ok installed\n"
        + status.split("Package: libcurl4\nStatus: install ok installed\n")[1]
    )
    assert app.labels == {"org.opencontainers.image.base.name": "b:1"}


def test_the_engine_ran_the_base_images_shell(built_images: TestbedImages, docker_engine: Engine) -> None:
    out = docker_engine.client.containers.run(
        built_images.engine.app, ["/bin/sh", "-c", "grep -c '^Package:' /var/lib/dpkg/status"], remove=True
    )
    assert int(out) == 52
