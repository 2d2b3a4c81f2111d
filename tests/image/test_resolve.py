"""gate/image/resolve.py on the test bed's real images: every source describes the same image, and layers are
attributed to the base image or to the app (by label, by --base-image, by the Dockerfile)."""

from __future__ import annotations

import json
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from gate.errors import ExitCode, ImageError, UsageError
from gate.image.engine import _history
from gate.image.layers import attribute_layers
from gate.image.resolve import ImageTarget, resolve_image
from gate.image.source import SourceKind
from gate.model import Layer, LayerOrigin, ScanReport
from gate.scanners.trivy import parse_trivy
from testbed.engine import Engine, Registry
from testbed.expected import load_expected
from testbed.images import IMAGES_DIR, ArchiveImages
from testbed.trivy import scan_image
from tests.support.factories import finding
from tests.support.fixtures import TestbedImages
from tests.support.registry_tools import oci_image, read_docker_archive, write_oci_archive

APP_DOCKERFILE = IMAGES_DIR / "app" / "Dockerfile"
BASE_LABEL = ("org.opencontainers.image.base.name", "container-gate-testbed/base:1")
# testbed/images/app/Dockerfile: FROM on line 4, then COPY (5), COPY (6), RUN (7).
APP_LINES = [4, 5, 6, 7]
BASE, OWN = LayerOrigin.BASE, LayerOrigin.OWN


@pytest.fixture
def env(docker_engine: Engine, tmp_path: Path) -> dict[str, str]:
    """The engine's address, and a HOME without any Docker credentials."""
    return {"DOCKER_HOST": docker_engine.host, "HOME": str(tmp_path)}


def layer_view(target: ImageTarget) -> list[tuple[str, str | None]]:
    return [(layer.diff_id, layer.created_by) for layer in target.info.layers]


def oci_archive_of(docker_archive: Path, dest: Path) -> Path:
    """The same image as an OCI layout tarball (what `skopeo copy docker-archive: oci-archive:` makes)."""
    config, layers = read_docker_archive(docker_archive)
    image = oci_image(config, layers)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": image.digest,
                    "size": len(image.manifest),
                    "annotations": {"org.opencontainers.image.ref.name": "1"},
                }
            ],
        }
    ).encode()
    return write_oci_archive(dest, index, image.blobs())


def test_every_source_describes_the_same_app_image(
    built_images: TestbedImages, env: dict[str, str], tmp_path: Path
) -> None:
    engine = resolve_image(f"docker-daemon:{built_images.engine.app}", environ=env)
    sources = {
        "bare name (engine)": resolve_image(built_images.engine.app, environ=env),
        "docker-archive": resolve_image(f"docker-archive:{built_images.app_archive}", environ=env),
        "oci-archive": resolve_image(
            f"oci-archive:{oci_archive_of(built_images.app_archive, tmp_path / 'app.oci.tar')}", environ=env
        ),
        "registry": resolve_image(f"docker://{built_images.registry_app}", environ=env),
    }
    assert engine.kind is SourceKind.ENGINE
    assert engine.docker_host == env["DOCKER_HOST"]
    assert engine.info.image_id == built_images.engine.app_id
    assert len(engine.info.layers) == 4
    assert (engine.info.layers[0].created_by or "").endswith(" in / ")
    assert "COPY dir:" in (engine.info.layers[1].created_by or "")
    assert (engine.info.layers[3].created_by or "").startswith("/bin/sh -c printf")
    assert engine.info.labels == (BASE_LABEL,)
    assert (engine.info.os, engine.info.architecture) == ("linux", "amd64")
    assert engine.info.digest
    assert engine.info.digest.startswith("sha256:")
    for name, target in sources.items():
        assert layer_view(target) == layer_view(engine), name
        assert target.info.labels == engine.info.labels, name
        assert target.info.image_id == engine.info.image_id, name
        assert target.info.platform == "linux/amd64", name
        assert (target.info.size or 0) > 0, name
        assert target.warnings == (), name
    assert [t.kind for t in sources.values()] == [
        SourceKind.ENGINE,
        SourceKind.DOCKER_ARCHIVE,
        SourceKind.OCI_ARCHIVE,
        SourceKind.REGISTRY,
    ]
    registry = sources["registry"]
    # The registry's manifest digest is the repository digest the engine recorded when it pushed.
    assert registry.info.digest == engine.info.digest == registry.manifest_digest
    assert registry.insecure_registry is True
    assert registry.name == built_images.registry_app
    assert sources["docker-archive"].archive_path == built_images.app_archive
    assert sources["docker-archive"].info.digest is None


def test_the_engineless_archive_records_the_same_build_steps(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    target = resolve_image(
        f"docker-archive:{engineless_archives.app}", environ={"HOME": str(tmp_path)}, base_from_label=False
    )
    assert target.info.image_id == engineless_archives.app_id
    assert [(layer.created_by or "").split(" in ")[0][:26] for layer in target.info.layers] == [
        "/bin/sh -c #(nop) COPY dir",
        "/bin/sh -c #(nop) COPY dir",
        "/bin/sh -c #(nop) COPY dir",
        "/bin/sh -c printf '%s\\n' '",
    ]
    # Without a base lookup the label still names the base, but no layer is attributed.
    assert target.info.base_image == "container-gate-testbed/base:1"
    assert target.info.base_layer_count is None
    assert {layer.origin for layer in target.info.layers} == {None}


@pytest.mark.parametrize("source", ["engine", "registry"])
def test_the_base_image_label_attributes_layers(
    built_images: TestbedImages, env: dict[str, str], source: str
) -> None:
    reference = {
        "engine": built_images.engine.app,
        "registry": f"docker://{built_images.registry_app}",
    }[source]
    info = resolve_image(reference, environ=env).info
    assert info.base_image == "container-gate-testbed/base:1"
    assert info.base_layer_count == 1
    assert [layer.origin for layer in info.layers] == [BASE, OWN, OWN, OWN]
    assert {layer.dockerfile_line for layer in info.layers} == {None}


def test_an_explicit_base_image_attributes_layers_in_any_form(
    built_images: TestbedImages, env: dict[str, str]
) -> None:
    for base in (
        f"docker-archive:{built_images.base_archive}",
        f"docker://{built_images.registry_base}",
        built_images.engine.base,
    ):
        info = resolve_image(f"docker-archive:{built_images.app_archive}", base_image=base, environ=env).info
        assert info.base_image == base
        assert info.base_layer_count == 1
        assert [layer.origin for layer in info.layers] == [BASE, OWN, OWN, OWN], base
    # An image is trivially built on itself: every layer is the base's.
    same = resolve_image(built_images.engine.app, base_image=built_images.engine.app, environ=env).info
    assert [layer.origin for layer in same.layers] == [BASE] * 4


def test_a_base_image_the_image_was_not_built_from_is_refused(
    built_images: TestbedImages, engineless_archives: ArchiveImages, env: dict[str, str]
) -> None:
    # Same packages, same Dockerfile, other bytes: the engine-less base is not the engine-built app's base.
    with pytest.raises(UsageError) as caught:
        resolve_image(
            built_images.engine.app, base_image=f"docker-archive:{engineless_archives.base}", environ=env
        )
    assert caught.value.exit_code == ExitCode.USAGE
    text = caught.value.diagnostics()
    assert f"{built_images.engine.app} was not built FROM docker-archive:{engineless_archives.base}" in text
    assert "layer 0" in text
    # A base with more layers than the image cannot be its base either.
    with pytest.raises(UsageError) as longer:
        resolve_image(built_images.engine.base, base_image=built_images.engine.app, environ=env)
    assert longer.value.message == (
        f"{built_images.engine.base} was not built FROM {built_images.engine.app}: "
        "the base has 4 layers, the image only 1"
    )


def test_an_unreadable_explicit_base_image_is_an_image_error(
    built_images: TestbedImages, env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(ImageError, match="no such file"):
        resolve_image(
            built_images.engine.app, base_image=f"docker-archive:{tmp_path / 'none.tar'}", environ=env
        )


def test_the_dockerfile_maps_each_layer_to_its_line(built_images: TestbedImages, env: dict[str, str]) -> None:
    for reference in (built_images.engine.app, f"docker-archive:{built_images.app_archive}"):
        target = resolve_image(reference, dockerfile=APP_DOCKERFILE, environ=env, base_from_label=False)
        info = target.info
        assert [layer.dockerfile_line for layer in info.layers] == APP_LINES
        # Without a label lookup, the Dockerfile alone says where the base ends.
        assert info.base_layer_count == 1
        assert [layer.origin for layer in info.layers] == [BASE, OWN, OWN, OWN]
        # `FROM ${BASE}` expands with the ARG's default.
        assert info.base_image == "container-gate-testbed/base:1"
        assert target.warnings == ()


def test_the_dockerfile_and_the_label_agree(built_images: TestbedImages, env: dict[str, str]) -> None:
    info = resolve_image(built_images.engine.app, dockerfile=APP_DOCKERFILE, environ=env).info
    assert [(layer.origin, layer.dockerfile_line) for layer in info.layers] == list(
        zip([BASE, OWN, OWN, OWN], APP_LINES, strict=True)
    )


def test_a_dockerfile_that_does_not_match_maps_only_what_is_certain(
    built_images: TestbedImages, env: dict[str, str], tmp_path: Path
) -> None:
    text = APP_DOCKERFILE.read_text().replace(
        "COPY node_modules/ /app/node_modules/", "COPY node_modules/ /srv/node_modules/"
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    target = resolve_image(built_images.engine.app, dockerfile=dockerfile, environ=env, base_from_label=False)
    assert [layer.dockerfile_line for layer in target.info.layers] == [None, None, None, 7]
    assert target.info.base_layer_count is None
    assert len(target.warnings) == 1
    assert f"{dockerfile}:6: COPY does not match the image history" in target.warnings[0]
    assert "only the last 4 instruction(s) are mapped" in target.warnings[0]
    # With the label's base known, origins stay exact while lines are only given where certain.
    labelled = resolve_image(built_images.engine.app, dockerfile=dockerfile, environ=env)
    assert [layer.origin for layer in labelled.info.layers] == [BASE, OWN, OWN, OWN]
    assert [layer.dockerfile_line for layer in labelled.info.layers] == [4, None, None, 7]


def test_a_dockerfile_that_contradicts_the_base_image_maps_no_line(
    built_images: TestbedImages, env: dict[str, str], tmp_path: Path
) -> None:
    """The base's and the app's Dockerfiles as one FROM scratch build: it matches the history step
    for step, but it says the image has no base layer, while the label's base has one."""
    base = (IMAGES_DIR / "base" / "Dockerfile").read_text()
    app = APP_DOCKERFILE.read_text().replace("ARG BASE=container-gate-testbed/base:1\nFROM ${BASE}\n", "")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(base + app.replace("ARG BASE\n", "ARG BASE=container-gate-testbed/base:1\n"))
    alone = resolve_image(built_images.engine.app, dockerfile=dockerfile, environ=env, base_from_label=False)
    assert alone.warnings == ()
    assert alone.info.base_layer_count == 0
    assert [layer.origin for layer in alone.info.layers] == [OWN] * 4
    assert [layer.dockerfile_line for layer in alone.info.layers] == [5, 10, 11, 12]
    labelled = resolve_image(built_images.engine.app, dockerfile=dockerfile, environ=env)
    assert labelled.info.base_layer_count == 1
    assert [layer.dockerfile_line for layer in labelled.info.layers] == [None] * 4
    assert labelled.warnings == (
        f"{dockerfile}: its instructions do not line up with the base image's 1 layers: "
        "no layer is mapped to a Dockerfile line",
    )


def test_the_engine_history_is_exact_when_sizes_are_ambiguous(
    built_images: TestbedImages, docker_engine: Engine, env: dict[str, str], tmp_path: Path
) -> None:
    """WORKDIR of a new directory and `RUN mkdir` make layers of size 0; `RUN true` makes none."""
    context = tmp_path / "ctx"
    context.mkdir()
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(
        f"FROM {built_images.engine.base}\nWORKDIR /app\nWORKDIR /app\nRUN true\nRUN mkdir /x\n"
        "RUN printf x > /y\nUSER 1000\n"
    )
    image, _ = docker_engine.client.images.build(
        path=str(context), tag="container-gate-test/ambiguous:1", rm=True
    )
    history = list(reversed(image.history()))
    assert [h["Size"] for h in history][3:] == [0, 0, 0, 0, 1, 0]
    assert _history(history, len(image.attrs["RootFS"]["Layers"])) is None  # the sizes cannot tell
    archive = tmp_path / "ambiguous.tar"
    with archive.open("wb") as out:
        for chunk in image.save():
            out.write(chunk)
    from_engine = resolve_image(
        "docker-daemon:container-gate-test/ambiguous:1", dockerfile=dockerfile, environ=env
    )
    from_archive = resolve_image(f"docker-archive:{archive}", dockerfile=dockerfile, environ=env)
    assert from_engine.info.layers == from_archive.info.layers
    assert [layer.dockerfile_line for layer in from_engine.info.layers] == [1, 2, 5, 6]
    assert [layer.created_by for layer in from_engine.info.layers][1:] == [
        "/bin/sh -c #(nop) WORKDIR /app",
        "/bin/sh -c mkdir /x",
        "/bin/sh -c printf x > /y",
    ]


def test_attribute_layers_completes_findings_from_a_real_trivy_scan(
    built_images: TestbedImages, env: dict[str, str], trivy_bin: Path, trivy_db: Path
) -> None:
    raw = scan_image(trivy_bin, trivy_db, ["--input", str(built_images.app_archive)])
    report = parse_trivy(raw, "trivy.json")
    target = resolve_image(
        f"docker-archive:{built_images.app_archive}", dockerfile=APP_DOCKERFILE, environ=env
    )
    attributed = attribute_layers(report, target.info)
    expected = load_expected()
    own_ids = {(e.id, e.package) for e in expected.own_findings}
    assert len(attributed.findings) == len(report.findings) > 0
    for attributed_finding in attributed.findings:
        layer = attributed_finding.layer
        assert layer is not None
        assert layer.index is not None
        own = (attributed_finding.vulnerability_id, attributed_finding.package.name) in own_ids
        assert layer.origin is (OWN if own else BASE), attributed_finding.vulnerability_id
        assert layer.dockerfile_line == APP_LINES[layer.index]
        assert layer.created_by == target.info.layers[layer.index].created_by
    assert attributed.image is not None
    assert attributed.image.base_layer_count == 1
    assert attributed.image.distro == "debian 12.0"  # the scanner's, kept
    assert attributed.warnings == report.warnings


def test_attribute_layers_is_a_lookup_that_shares_layer_objects(
    built_images: TestbedImages, env: dict[str, str]
) -> None:
    info = resolve_image(built_images.engine.app, environ=env).info
    diff_ids = [layer.diff_id for layer in info.layers]
    findings = (
        *tuple(
            finding(
                f"CVE-2024-{i:05d}",
                pkg=f"pkg{i % 50}",
                version="1.0",
                layer=Layer(diff_id=diff_ids[i % 4], digest="sha256:" + "0" * 64),
            )
            for i in range(100000)
        ),
        finding("CVE-2024-99999", pkg="stranger", version="1", layer=Layer(diff_id="sha256:" + "f" * 64)),
        finding("CVE-2024-99998", pkg="nowhere", version="1"),
    )
    out = attribute_layers(ScanReport(findings=findings), info)
    assert len(out.findings) == len(findings)
    assert [out.findings[i].layer.index for i in range(4)] == [0, 1, 2, 3]  # type: ignore[union-attr]
    assert [out.findings[i].layer.origin for i in range(4)] == [BASE, OWN, OWN, OWN]  # type: ignore[union-attr]
    assert out.findings[0].layer.digest == "sha256:" + "0" * 64  # type: ignore[union-attr]
    assert out.findings[0].layer is out.findings[4].layer  # one Layer object per distinct layer
    assert out.findings[-2] is findings[-2]
    assert out.findings[-1] is findings[-1]
    assert out.warnings == (
        f"1 finding(s) name a layer that {built_images.engine.app} does not have: the report may describe another image",
    )
    assert out.image == info


def environ_without_engine(tmp_path: Path) -> Mapping[str, str]:
    return {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock", "HOME": str(tmp_path)}


def test_a_bare_reference_falls_back_to_the_registry(built_images: TestbedImages, tmp_path: Path) -> None:
    target = resolve_image(
        built_images.registry_app, environ=environ_without_engine(tmp_path), base_from_label=False
    )
    assert target.kind is SourceKind.REGISTRY
    assert target.insecure_registry
    assert len(target.info.layers) == 4
    assert target.warnings == (
        f"cannot reach the Docker engine at unix://{tmp_path}/no-engine.sock (DOCKER_HOST): no such socket; "
        f"read {built_images.registry_app} from its registry instead",
    )


def test_a_bare_reference_the_engine_lacks_is_read_from_the_registry(
    built_images: TestbedImages, registry: Registry, env: dict[str, str], engineless_archives: ArchiveImages
) -> None:
    from tests.support.registry_tools import Pusher

    config, layers = read_docker_archive(engineless_archives.base)
    Pusher(registry.address).image("only-in-registry/base", "1", oci_image(config, layers))
    target = resolve_image(f"{registry.address}/only-in-registry/base:1", environ=env)
    assert target.kind is SourceKind.REGISTRY
    assert target.warnings == ()  # the engine was reachable, it just does not have the image
    assert target.info.image_id is not None


def test_docker_archive_names_pick_one_of_several_images(
    built_images: TestbedImages, docker_engine: Engine, env: dict[str, str], tmp_path: Path
) -> None:
    both = tmp_path / "both.tar"
    # The SDK saves one image at a time; the docker CLI (part of docker.io) saves several into one archive.
    subprocess.run(
        [
            "docker",
            "-H",
            docker_engine.host,
            "save",
            "-o",
            str(both),
            built_images.engine.base,
            built_images.engine.app,
        ],
        check=True,
        capture_output=True,
    )
    with pytest.raises(ImageError) as caught:
        resolve_image(f"docker-archive:{both}", environ=env)
    assert "holds 2 images" in caught.value.message
    assert caught.value.hint == f"name one: docker-archive:{both}:NAME"
    app = resolve_image(f"docker-archive:{both}:{built_images.engine.app}", environ=env)
    assert app.info.image_id == built_images.engine.app_id
    assert app.archive_path == both
    assert app.name == str(both)
    with pytest.raises(ImageError, match="no image named 'nothing:1'"):
        resolve_image(f"docker-archive:{both}:nothing:1", environ=env)


def test_archive_members_are_never_extracted(
    built_images: TestbedImages, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    resolve_image(f"docker-archive:{built_images.app_archive}", environ=env)
    assert list(tmp_path.iterdir()) == []
    with tarfile.open(built_images.app_archive) as tar:
        assert any(name.endswith("layer.tar") for name in tar.getnames())


def test_an_image_read_by_the_gate_says_its_base_image_was_looked_for(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    # Not found (the base image has no base-name label, no --base-image was given): the outputs
    # then say that --base-image would make its packages one refresh action.
    target = resolve_image(f"docker-archive:{engineless_archives.base}", environ={"HOME": str(tmp_path)})
    assert (target.info.base_sought, target.info.base_image, target.info.base_layer_count) == (
        True,
        None,
        None,
    )
