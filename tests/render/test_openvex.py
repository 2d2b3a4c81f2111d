"""How `--openvex` names the image (gate/render/openvex.py): what a VEX reader matches it by."""

from __future__ import annotations

from gate.enrich.purls import image_identifiers, names_image, purl_matches
from gate.model import ImageInfo
from gate.render.openvex import image_products

DIGEST = "sha256:" + "ab" * 32


def test_a_pushed_image_is_named_by_its_oci_purl_with_the_digest() -> None:
    image = ImageInfo("ghcr.io/acme/app:1.2", digest=DIGEST, image_id="sha256:" + "cd" * 32)
    (product,) = image_products(image)
    assert product == f"pkg:oci/app@sha256:{'ab' * 32}?repository_url=ghcr.io/acme/app"
    # Read back against the same image (and a later tag of the same digest), it names it.
    assert names_image(product, frozenset(image_identifiers(image)))
    assert names_image(
        product, frozenset(image_identifiers(ImageInfo("ghcr.io/acme/app:1.3", digest=DIGEST)))
    )
    assert not names_image(product, frozenset(image_identifiers(ImageInfo("ghcr.io/acme/app:1.2"))))


def test_a_docker_hub_image_is_named_as_trivy_and_grype_name_it() -> None:
    """Both derive the image's purl from go-containerregistry, which spells Docker Hub
    `index.docker.io`, and go-vex compares a product's qualifiers as text."""
    image = ImageInfo("alpine:3.20", digest=DIGEST)
    (product,) = image_products(image)
    assert product == f"pkg:oci/alpine@sha256:{'ab' * 32}?repository_url=index.docker.io/library/alpine"
    trivy = (
        f"pkg:oci/alpine@sha256%3A{'ab' * 32}?repository_url=index.docker.io%2Flibrary%2Falpine&arch=amd64"
    )
    assert purl_matches(product, trivy)
    assert names_image(product, frozenset(image_identifiers(image)))
    assert names_image(
        product, frozenset(image_identifiers(ImageInfo("docker.io/library/alpine:3.20", digest=DIGEST)))
    )


def test_without_a_digest_the_known_identifiers_name_it() -> None:
    image = ImageInfo("docker-archive:app.tar", image_id="sha256:" + "cd" * 32)
    assert image_products(image) == ("sha256:" + "cd" * 32, "docker-archive:app.tar")
    assert image_products(None) == ()
