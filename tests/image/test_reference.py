"""Image references, platforms, manifests and registry credentials: table tests of the pure parts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gate.errors import ImageError
from gate.image.manifest import Descriptor, Index, Manifest, Platform, choose_platform, parse_manifest
from gate.image.reference import ImageRef, is_loopback, names_registry, parse_reference
from gate.image.registry_auth import Credentials, default_port_twin, find_credentials, parse_challenges

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine", ImageRef("docker.io", "library/alpine")),
        ("alpine:3.19", ImageRef("docker.io", "library/alpine", "3.19")),
        ("acme/app:1", ImageRef("docker.io", "acme/app", "1")),
        ("docker.io/alpine", ImageRef("docker.io", "library/alpine")),
        ("index.docker.io/acme/app", ImageRef("docker.io", "acme/app")),
        ("ghcr.io/acme/app@" + DIGEST, ImageRef("ghcr.io", "acme/app", None, DIGEST)),
        ("ghcr.io/acme/app:1.2@" + DIGEST, ImageRef("ghcr.io", "acme/app", "1.2", DIGEST)),
        ("127.0.0.1:5000/app:1", ImageRef("127.0.0.1:5000", "app", "1")),
        ("localhost/team/app", ImageRef("localhost", "team/app")),
        ("[::1]:5000/app", ImageRef("[::1]:5000", "app")),
        ("registry.example.com:443/a/b/c:v1_2-3", ImageRef("registry.example.com:443", "a/b/c", "v1_2-3")),
    ],
)
def test_references(text: str, expected: ImageRef) -> None:
    assert parse_reference(text) == expected


def test_reference_properties() -> None:
    hub = parse_reference("alpine")
    assert (hub.api_host, hub.reference, hub.loopback, str(hub)) == (
        "registry-1.docker.io",
        "latest",
        False,
        "docker.io/library/alpine",
    )
    local = parse_reference(f"127.0.0.1:5000/app:1@{DIGEST}")
    assert (local.api_host, local.reference, local.loopback) == ("127.0.0.1:5000", DIGEST, True)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("ghcr.io/acme/app:1", True),
        ("docker.io/library/alpine", True),
        ("localhost/app", True),
        ("127.0.0.1:5000/app:1", True),
        ("[::1]:5000/app", True),
        (f"ghcr.io/acme/app@{DIGEST}", True),
        ("alpine:3.19", False),
        ("acme/app:1", False),
        ("app", False),
        (f"app@{DIGEST}", False),  # the digest's colon is no registry port
        ("localhost", False),  # the image `localhost`, on Docker Hub
    ],
)
def test_a_reference_names_its_registry_by_its_first_component(text: str, names: bool) -> None:
    assert names_registry(text) is names


@pytest.mark.parametrize(
    ("registry", "twin"),
    [
        ("ghcr.io", "ghcr.io:443"),
        ("ghcr.io:443", "ghcr.io"),
        ("[2001:db8::1]", "[2001:db8::1]:443"),
        ("[2001:db8::1]:443", "[2001:db8::1]"),
        ("registry.example.com:5000", None),  # another port is another registry
        ("127.0.0.1:443", None),  # loopback registries are read over plain HTTP
        ("localhost", None),
        ("docker.io", None),  # Docker Hub's login has a key of its own
    ],
)
def test_a_registry_with_and_without_its_default_port(registry: str, twin: str | None) -> None:
    assert default_port_twin(registry) == twin


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.8.9.10", True),
        ("[::1]:5000", True),
        ("[::1]", True),
        ("::1", True),
        ("registry.localhost:80", True),
        ("10.0.0.1:5000", False),
        ("ghcr.io", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("have", "wanted", "satisfies"),
    [
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm/v7", "linux/arm", True),
        ("linux/arm/v6", "linux/arm", True),  # no variant asked: any variant
        ("linux/arm/v6", "linux/arm/v7", False),
        ("linux/amd64", "linux/x86_64", True),
        ("linux/arm64", "linux/aarch64", True),
        ("linux/amd64", "windows/amd64", False),
    ],
)
def test_platforms(have: str, wanted: str, satisfies: bool) -> None:
    assert Platform.parse(have).satisfies(Platform.parse(wanted)) is satisfies


def entry(platform: str) -> tuple[Platform, Descriptor]:
    return Platform.parse(platform), Descriptor("application/vnd.oci.image.manifest.v1+json", DIGEST, 1)


def test_choosing_a_platform() -> None:
    entries = [entry("linux/arm/v6"), entry("linux/arm/v7"), entry("linux/arm64/v8")]
    assert (
        str(choose_platform(entries, Platform.parse("linux/arm"), "x")[0]) == "linux/arm/v7"
    )  # Docker's default
    assert str(choose_platform(entries, Platform.parse("linux/arm64"), "x")[0]) == "linux/arm64/v8"
    assert str(choose_platform(entries[:1], None, "x")[0]) == "linux/arm/v6"  # the only one
    with pytest.raises(ImageError) as caught:
        choose_platform(entries, Platform.parse("linux/ppc64le"), "img")
    assert (
        caught.value.message
        == "img has no linux/ppc64le image (available: linux/arm/v6, linux/arm/v7, linux/arm64/v8)"
    )
    doubled = [entry("linux/arm/v6"), entry("linux/arm/v5")]
    with pytest.raises(ImageError, match=r"img has several linux/arm images \(linux/arm/v5, linux/arm/v6\)"):
        choose_platform(doubled, Platform.parse("linux/arm"), "img")


def test_manifests_are_read_strictly() -> None:
    index = parse_manifest(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": DIGEST,
                        "size": 7,
                        "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                    }
                ],
            }
        ).encode(),
        "r",
    )
    assert isinstance(index, Index)
    assert index.manifests[0].platform == Platform("linux", "arm", "v7")
    assert index.manifests[0].is_attestation
    manifest = parse_manifest(
        json.dumps({"config": {"mediaType": "c", "digest": DIGEST, "size": 2}, "layers": []}).encode(), "r"
    )
    assert isinstance(manifest, Manifest)
    assert manifest.layers == ()
    for body, problem in [
        (b"{", "r: not valid JSON"),
        (b'{"schemaVersion": 1}', "r: Docker schema 1 manifests are not supported"),
        (b'{"mediaType": "text/plain"}', "r: not an image manifest or index (media type 'text/plain')"),
        (b'{"mediaType": {"a": 1}, "layers": []}', "r.mediaType: expected a string"),
        (
            b'{"manifests": [{"mediaType": "m", "digest": "md5:1", "size": 1}]}',
            "r.manifests[0].digest: expected",
        ),
        (
            b'{"config": {"mediaType": "c", "digest": "' + DIGEST.encode() + b'", "size": -1}, "layers": []}',
            "r.config.size",
        ),
    ]:
        with pytest.raises(ImageError) as caught:
            parse_manifest(body, "r")
        assert caught.value.message.startswith(problem)


def test_challenges() -> None:
    header = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'
    assert parse_challenges(header) == [
        (
            "bearer",
            {
                "realm": "https://auth.example/token",
                "service": "registry.example",
                "scope": "repository:a/b:pull,push",
            },
        )
    ]
    assert parse_challenges('Basic realm="r", Bearer realm=x') == [
        ("basic", {"realm": "r"}),
        ("bearer", {"realm": "x"}),
    ]
    assert parse_challenges("") == []


def write_config(tmp_path: Path, doc: dict[str, object]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    return path


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_credentials_are_found_by_registry(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hubpass")},
                "ghcr.io": {"username": "gh", "password": "ghpass"},
                "http://127.0.0.1:5000/v2/": {"auth": b64("local:pw:with:colons")},
                "quay.io": {},
                "http://[::1": {"auth": b64("unparsable:key")},  # names no registry: skipped
            }
        },
    )
    found = {
        reg: find_credentials(reg, path, {})
        for reg in ("docker.io", "ghcr.io", "127.0.0.1:5000", "quay.io", "x.io")
    }
    assert found == {
        "docker.io": Credentials("hubuser", "hubpass"),
        "ghcr.io": Credentials("gh", "ghpass"),
        "127.0.0.1:5000": Credentials("local", "pw:with:colons"),
        "quay.io": None,
        "x.io": None,
    }
    assert "hubpass" not in repr(found)
    assert find_credentials("docker.io", tmp_path / "absent.json", {}) is None
    broken = write_config(tmp_path, {"auths": {"ghcr.io": {"auth": "bm90LWEtcGFpcg=="}}})  # "not-a-pair"
    with pytest.raises(ImageError, match=r"auths\['ghcr.io'\].auth is not base64 of user:password"):
        find_credentials("ghcr.io", broken, {})
