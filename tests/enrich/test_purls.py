"""Package URL matching and the names of an image, on the images of the corpus reports."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gate.enrich import purls
from gate.enrich.purls import image_identifiers, names_image, purl_matches
from gate.model import ImageInfo
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file

ALPINE_DIGEST = "sha256:451eee8bedcb2f029756dc3e9d73bab0e7943c1ac55cff3a4861c52a0fdd3e98"


@pytest.mark.parametrize(
    ("pattern", "purl", "matches"),
    [
        # No version in the pattern: every version.
        ("pkg:deb/debian/bash", "pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10.2", True),
        ("pkg:deb/debian/bash@5.0-4", "pkg:deb/debian/bash@5.0-4?arch=amd64", True),
        ("pkg:deb/debian/bash@5.0-3", "pkg:deb/debian/bash@5.0-4?arch=amd64", False),
        ("pkg:deb/debian/bash@5.0-4", "pkg:deb/debian/bash", False),
        # Qualifiers the pattern gives must be there and equal; extra ones are ignored.
        ("pkg:deb/debian/bash?arch=amd64", "pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10.2", True),
        ("pkg:deb/debian/bash?arch=arm64", "pkg:deb/debian/bash@5.0-4?arch=amd64", False),
        ("pkg:deb/debian/bash?arch=amd64", "pkg:deb/debian/bash@5.0-4", False),
        # Type, namespace and name.
        ("pkg:deb/ubuntu/bash", "pkg:deb/debian/bash@5.0-4", False),
        ("pkg:rpm/debian/bash", "pkg:deb/debian/bash@5.0-4", False),
        ("pkg:deb/debian/bash-static", "pkg:deb/debian/bash@5.0-4", False),
        # npm scopes, encoded or not, on either side.
        ("pkg:npm/%40babel/core", "pkg:npm/@babel/core@7.0.0", True),
        ("pkg:npm/@babel/core@7.0.0", "pkg:npm/%40babel/core@7.0.0", True),
        ("pkg:npm/@babel/core", "pkg:npm/core@7.0.0", False),
        # The library's normalisation: PyPI names, percent-encoding.
        ("pkg:pypi/Django_Foo", "pkg:pypi/django-foo@1.0", True),
        ("pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04", "pkg:deb/ubuntu/libstdc++6@12.3.0-1ubuntu1~22.04", True),
        ("pkg:golang/github.com/docker/distribution@v2.7.1%2Bincompatible", "pkg:golang/github.com/docker/distribution@v2.7.1+incompatible", True),
        # A subpath in the pattern must be equal.
        ("pkg:golang/google.golang.org/genproto#googleapis/api", "pkg:golang/google.golang.org/genproto@v1#googleapis/api", True),
        ("pkg:golang/google.golang.org/genproto#googleapis/rpc", "pkg:golang/google.golang.org/genproto@v1#googleapis/api", False),
        # An epoch in the version (Grype, Snyk) or as a qualifier (Trivy), on either side.
        ("pkg:deb/debian/zlib1g@1.2.11.dfsg-1?epoch=1", "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", True),
        ("pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@1.2.11.dfsg-1?arch=amd64&epoch=1", True),
        ("pkg:deb/debian/zlib1g@1%3A1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@1.2.11.dfsg-1?epoch=1", True),
        ("pkg:deb/debian/zlib1g?epoch=1", "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", True),
        ("pkg:rpm/centos/openssl-libs@1:1.0.2k-16.el7", "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?epoch=1", True),
        ("pkg:deb/debian/zlib1g@2:1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@1.2.11.dfsg-1?epoch=1", False),
        ("pkg:deb/debian/zlib1g@1.2.11.dfsg-1?epoch=2", "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", False),
        ("pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@1.2.11.dfsg-1", False),
        ("pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2", False),
        # A version without an epoch leaves it open, as a qualifier not given does; 0 is none.
        ("pkg:deb/debian/zlib1g@1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", True),
        ("pkg:rpm/rhel/nss@0:3.79.0-17.el9_1", "pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64", True),
        ("pkg:deb/debian/zlib1g@1.2.11.dfsg-1?epoch=0", "pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", False),
        # An epoch the version and the qualifier disagree on names neither.
        ("pkg:deb/debian/zlib1g@1:1.2.11.dfsg-1", "pkg:deb/debian/zlib1g@2:1.2.11.dfsg-1?epoch=1", False),
        # Other types keep a colon in their versions.
        ("pkg:npm/lib@1.0?epoch=1", "pkg:npm/lib@1:1.0", False),
        # Not purls.
        ("debian:bookworm", "pkg:deb/debian/bash@1", False),
        ("pkg:deb/debian/bash", "bash", False),
        ("pkg:", "pkg:", False),
    ],
)  # fmt: skip
def test_purl_matches(pattern: str, purl: str, matches: bool) -> None:
    assert purl_matches(pattern, purl) is matches


def _matches_when_parsed(pattern: str, purl: str) -> bool:
    """`purl_matches` as it was before its shortcut: both purls parsed, always."""
    want, have = purls.parse_purl(pattern), purls.parse_purl(purl)
    return want is not None and have is not None and purls.parsed_purls_match(want, have)


# Purls of the shortcut's types, spelled with what packageurl-python reads specially: case, `_`
# and `-`, percent-encoding, `@` (npm scopes, versions), `:`, `//`, `?`, `#`, spaces and tabs.
def _pieces(*choices: str) -> st.SearchStrategy[str]:
    return st.sampled_from(choices)


_PURLS = st.tuples(
    _pieces("pkg:", "pkg://", " pkg:"),
    _pieces("deb", "DEB", "npm", "pypi"),
    _pieces("/", "//", "///"),
    _pieces("", "debian/", "@scope/", "%40scope/", "a:b/"),
    _pieces("bash", "Bash", "ba%73h", "lib_x", "LIB-X", "ba sh", "ba\tsh", "bash:x"),
    _pieces("", "@1.0", "@1:2", "@"),
    _pieces("", "?arch=x", "?"),
    _pieces("", "#sub"),
).map("".join)
_TEXT = st.lists(
    _pieces("pkg:", "/", "//", "@", "?", "#", ":", "%40", "_", "-", " ", "\t", "deb", "npm", "bash", "lib_x"),
    max_size=10,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(st.sampled_from(["pkg:deb/bash", "pkg:npm/@scope/lib_x", "pkg:pypi/Lib_X"]), _PURLS),
    st.one_of(_PURLS, _TEXT),
)
@example("pkg:npm/@scope/lib_x", "pkg:npm/%40scope/lib_x@1.0")
@example("pkg:pypi/Lib_X", "pkg:pypi/LIB-X@1.0?arch=x")
@example("pkg:pypi/Lib-X", "pkg:pypi/lib_x@1.0")
@example("pkg:deb/bash", "pkg:deb///bash")
@example("pkg:deb/debian/bash", "pkg:deb/debian/ba\tsh")
def test_the_shortcut_never_turns_a_match_away(pattern: str, purl: str) -> None:
    assert purl_matches(pattern, purl) is _matches_when_parsed(pattern, purl)


def test_the_names_of_a_docker_hub_image_with_its_digest() -> None:
    """The trivy-action corpus report: `alpine:3.10`, pulled, so its repository digest is known."""
    image = load_report(
        corpus_file("trivy", "trivy-action__test-data-with-trivy-yaml-cfg__report.json")
    ).image
    assert image is not None
    assert (image.reference, image.digest, image.architecture) == ("alpine:3.10", ALPINE_DIGEST, "amd64")
    names = image_identifiers(image)
    assert {
        "alpine:3.10",
        ALPINE_DIGEST,
        image.image_id,
        f"pkg:oci/alpine@{ALPINE_DIGEST}?arch=amd64&repository_url=docker.io/library/alpine&tag=3.10",
        f"pkg:oci/alpine@{ALPINE_DIGEST}?arch=amd64&repository_url=index.docker.io/library/alpine&tag=3.10",
        "pkg:oci/alpine?arch=amd64&repository_url=docker.io/library/alpine&tag=3.10",
        "pkg:oci/alpine?arch=amd64&repository_url=index.docker.io/library/alpine&tag=3.10",
        "pkg:docker/alpine@3.10",
        "pkg:docker/library/alpine@3.10",
        f"pkg:docker/alpine@{ALPINE_DIGEST}",
        "docker.io/library/alpine:3.10",
        f"docker.io/library/alpine@{ALPINE_DIGEST}",
        "index.docker.io/library/alpine:3.10",
        "library/alpine:3.10",
        f"alpine@{ALPINE_DIGEST}",
    } <= names
    # How VEX documents write it: Trivy's purl (repository from RepoDigests, arch from the config),
    # the tag form, the bare digest, the reference; and what does not name it.
    trivy = f"pkg:oci/alpine@sha256%3A{ALPINE_DIGEST[7:]}?repository_url=index.docker.io%2Flibrary%2Falpine&arch=amd64"
    for product in (trivy, "pkg:oci/alpine", "pkg:oci/alpine?tag=3.10", ALPINE_DIGEST, "alpine:3.10"):
        assert names_image(product, names), product
    for product in (
        "pkg:oci/alpine@sha256%3A" + "f" * 64,  # another digest
        "pkg:oci/alpine?tag=3.11",
        "pkg:oci/alpine?repository_url=ghcr.io/library/alpine",
        "pkg:oci/debian",
        "alpine:3.11",
        "pkg:oci/alpine?arch=arm64",
    ):
        assert not names_image(product, names), product


def test_the_names_of_images_of_other_registries() -> None:
    keycloak = load_report(corpus_file("grype", "keycloak-test.json")).image
    assert keycloak is not None
    digest = "sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50"
    assert {
        f"pkg:oci/keycloak@{digest}?arch=amd64&repository_url=docker.io/keycloak/keycloak&tag=21.0.2",
        "pkg:docker/keycloak/keycloak@21.0.2",
        f"docker.io/keycloak/keycloak@{digest}",
        "keycloak/keycloak:21.0.2",
    } <= image_identifiers(keycloak)
    ruby = load_report(corpus_file("grype", "chainguard-ruby-test.json")).image
    assert ruby is not None
    names = image_identifiers(ruby)
    assert "pkg:oci/ruby?arch=arm64&repository_url=cgr.dev/chainguard/ruby&tag=latest-3.0" in names
    assert "pkg:docker/chainguard/ruby@latest-3.0?repository_url=cgr.dev" in names
    assert names_image("pkg:oci/ruby?repository_url=cgr.dev/chainguard/ruby", names)
    assert not names_image("pkg:oci/ruby?repository_url=docker.io/library/ruby", names)
    # A docker purl without repository_url is Docker Hub's chainguard/ruby: another image.
    assert names_image("pkg:docker/chainguard/ruby@latest-3.0?repository_url=cgr.dev", names)
    assert not names_image("pkg:docker/chainguard/ruby@latest-3.0", names)
    assert not names_image("pkg:docker/chainguard/ruby", names)


def test_an_image_read_from_a_file_is_named_only_by_what_is_known() -> None:
    """Trivy's goldens scan archives (`testdata/fixtures/images/alpine-310.tar.gz`): no registry."""
    image = load_report(corpus_file("trivy", "trivy__alpine-310.json.golden")).image
    assert image is not None
    assert image_identifiers(image) == {image.reference, image.image_id}
    for reference in ("docker-archive:app.tar", "oci-archive:/tmp/app.tar", "./app.tar", "Not/A/Reference"):
        assert image_identifiers(ImageInfo(reference, image_id="sha256:" + "1" * 64)) == {
            reference,
            "sha256:" + "1" * 64,
        }


def test_a_local_registry_and_a_reference_without_a_tag() -> None:
    names = image_identifiers(ImageInfo("localhost:5000/team/app"))
    assert "pkg:oci/app?repository_url=localhost:5000/team/app&tag=latest" in names
    assert "localhost:5000/team/app:latest" in names
