"""An OCI archive's chosen image unpacked alone, privately and safely, for Trivy (gate/image/oci_layout.py).

The archives are the test bed's real images (written without an engine) as OCI image layouts,
with one or two platforms; the hostile ones add what an attacker would.
"""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from gate.errors import ImageError
from gate.image.oci_layout import oci_layout
from gate.image.resolve import resolve_image
from testbed.images import ArchiveImages
from tests.support.registry_tools import (
    OCI_MANIFEST,
    index_of,
    oci_image,
    read_docker_archive,
    sha256,
    two_platform_oci_archive,
    write_oci_archive,
)


def test_the_chosen_platform_alone_in_a_private_directory(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    path, app, base = two_platform_oci_archive(engineless_archives, tmp_path / "two.tar")
    target = resolve_image(f"oci-archive:{path}", platform="linux/arm64/v8", environ={})
    assert target.manifest_digest == base.digest
    with oci_layout(path, base.digest, f"oci-archive:{path}") as layout:
        assert stat.S_IMODE(layout.stat().st_mode) == 0o700
        index = json.loads((layout / "index.json").read_text())
        assert [m["digest"] for m in index["manifests"]] == [base.digest]
        blobs = {f"sha256:{p.name}": p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}
        assert blobs == base.blobs()
        assert sha256(app.manifest) not in blobs
        assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert not layout.exists()


def test_the_directory_is_removed_when_the_scan_fails(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    path, app, _ = two_platform_oci_archive(engineless_archives, tmp_path / "two.tar")
    with pytest.raises(RuntimeError), oci_layout(path, app.digest, "oci-archive:two.tar") as layout:
        raise RuntimeError("the scanner failed")
    assert not layout.exists()


def test_a_blob_that_does_not_match_its_digest_is_refused(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    app = oci_image(*read_docker_archive(engineless_archives.app))
    blobs = app.blobs()
    layer = sha256(app.layers[0])
    blobs[layer] = bytes(reversed(blobs[layer]))  # the same size, other bytes
    path = write_oci_archive(tmp_path / "bad.tar", index_of([(app.manifest, OCI_MANIFEST, None)]), blobs)
    with pytest.raises(ImageError) as caught, oci_layout(path, app.digest, "oci-archive:bad.tar"):
        pass
    assert caught.value.message == f"oci-archive:bad.tar: blob {layer} does not match its digest"


def test_members_outside_the_layout_are_never_written(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    app = oci_image(*read_docker_archive(engineless_archives.app))
    path = write_oci_archive(
        tmp_path / "evil.tar", index_of([(app.manifest, OCI_MANIFEST, None)]), app.blobs()
    )
    with tarfile.open(path, "a") as tar:
        for name in ("../escaped", "/tmp/absolute-escape", "blobs/../../escaped-too"):
            info = tarfile.TarInfo(name)
            info.size = 5
            tar.addfile(info, io.BytesIO(b"owned"))
        link = tarfile.TarInfo("blobs/sha256/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with oci_layout(path, app.digest, "oci-archive:evil.tar") as layout:
        written = sorted(str(p.relative_to(layout)) for p in layout.rglob("*"))
    assert written == sorted(
        ["blobs", "blobs/sha256", "index.json", "oci-layout"]
        + [f"blobs/sha256/{d.removeprefix('sha256:')}" for d in app.blobs()]
    )
    assert not (tmp_path / "escaped").exists()
    assert not Path("/tmp/absolute-escape").exists()


def test_a_declared_size_that_the_member_does_not_have_is_refused(
    engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    app = oci_image(*read_docker_archive(engineless_archives.app))
    manifest = json.loads(app.manifest)
    manifest["layers"][0]["size"] += 1
    body = json.dumps(manifest).encode()
    blobs = {**app.blobs(), sha256(body): body}
    path = write_oci_archive(tmp_path / "size.tar", index_of([(body, OCI_MANIFEST, None)]), blobs)
    with (
        pytest.raises(ImageError, match="its descriptor says"),
        oci_layout(path, sha256(body), "oci-archive:x"),
    ):
        pass


def test_too_little_space_says_how_much_is_needed_with_the_spare(
    engineless_archives: ArchiveImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = oci_image(*read_docker_archive(engineless_archives.app))
    path = write_oci_archive(
        tmp_path / "app.tar", index_of([(app.manifest, OCI_MANIFEST, None)]), app.blobs()
    )
    free = 50 << 20  # more than the image, less than the image and the spare
    monkeypatch.setattr("gate.image.oci_layout.shutil.disk_usage", lambda _: SimpleNamespace(free=free))
    with pytest.raises(ImageError) as caught, oci_layout(path, app.digest, "oci-archive:app.tar"):
        pass
    message = caught.value.message
    assert message.startswith("oci-archive:app.tar: not enough space in ")
    assert message.endswith(
        " to unpack the image for Trivy (65 MiB needed with 64 MiB to spare, 50 MiB free)"
    )
