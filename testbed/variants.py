"""The demo app rebuilt with remediation actions applied, to prove what each action clears.

    variant = build_app_variant(
        client,
        base_upgrades={"libc6": "2.36-9+deb12u4", "libc-bin": "2.36-9+deb12u4"},  # (a) refreshed base
        own_upgrades={"libcurl4": "7.88.1-10+deb12u5"},                          # (b) own layer
        python={"Flask": "2.3.2"}, npm={"lodash": "4.17.21"},                    # (c) language packages
    )

builds, with the real engine, `container-gate-testbed/variant/base:<name>` (testbed/images/base with
those Debian packages at the given versions) and `container-gate-testbed/variant/app:<name>`
(testbed/images/app FROM it, with its own layers' packages changed). Any argument may be omitted.
Only the metadata a scanner reads changes (dpkg stanzas' `Version`, the dist-info directory and its
METADATA `Version`, package.json's `version`): the images stay a few kilobytes.

What the variant must report, and which (id, package) pairs of the app it no longer has, come from
the advisories, not from a scanner: `testbed.derive_refresh.variant_findings(fixture, ...)` and
`removed_by_variant(fixture, ...)` with the same arguments.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker

from testbed.derive_refresh import upgraded_status
from testbed.images import ImageBuildError, prepare_context

VARIANT_PREFIX = "container-gate-testbed/variant"


@dataclass(frozen=True)
class AppVariant:
    """A variant of the demo app in the engine."""

    ref: str
    """`container-gate-testbed/variant/app:<name>`."""
    base_ref: str
    """`container-gate-testbed/variant/base:<name>`, what the app is FROM (and its base label)."""
    image_id: str
    """The app's image id."""
    base_upgrades: Mapping[str, str] = field(default_factory=dict)
    """Debian binary package -> version, in the base."""
    own_upgrades: Mapping[str, str] = field(default_factory=dict)
    """Debian binary package -> version, in the app's own layer."""
    python: Mapping[str, str] = field(default_factory=dict)
    """Python distribution (as Trivy names it, `Flask`) -> version."""
    npm: Mapping[str, str] = field(default_factory=dict)
    """npm package -> version."""


def variant_name(*upgrades: Mapping[str, str] | None) -> str:
    """A tag naming the combination of upgrades (the same upgrades give the same name)."""
    text = json.dumps([dict(sorted((u or {}).items())) for u in upgrades])
    return "v-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _bump_python(site_packages: Path, versions: Mapping[str, str]) -> None:
    for name, version in versions.items():
        found = [d for d in site_packages.glob("*.dist-info") if d.name.split("-")[0].lower() == name.lower()]
        if len(found) != 1:
            raise ImageBuildError(f"the app has no Python package {name!r} in {site_packages.name}/")
        metadata = found[0] / "METADATA"
        text = re.sub(r"(?m)^Version: .*$", f"Version: {version}", metadata.read_text(), count=1)
        metadata.write_text(text)
        found[0].rename(site_packages / f"{found[0].name.split('-')[0]}-{version}.dist-info")


def _bump_npm(node_modules: Path, versions: Mapping[str, str]) -> None:
    for name, version in versions.items():
        manifest = node_modules / name / "package.json"
        if not manifest.is_file():
            raise ImageBuildError(f"the app has no npm package {name!r}")
        data = json.loads(manifest.read_text())
        data["version"] = version
        manifest.write_text(json.dumps(data, indent=2) + "\n")


def _bump_own(dockerfile: Path, versions: Mapping[str, str]) -> None:
    text = dockerfile.read_text()
    for name, version in versions.items():
        # The RUN line appends exactly one dpkg stanza, quoted field by field.
        if f"'Package: {name}'" not in text:
            raise ImageBuildError(f"the app's own layer installs no Debian package {name!r}")
        text = re.sub(r"'Version: [^']*'", f"'Version: {version}'", text, count=1)
    dockerfile.write_text(text)


def _build(client: docker.DockerClient, context: Path, tag: str, buildargs: dict[str, str]) -> str:
    try:
        image, _ = client.images.build(path=str(context), tag=tag, buildargs=buildargs, rm=True, forcerm=True)
    except docker.errors.BuildError as exc:
        raise ImageBuildError(f"docker build of {tag} failed: {exc.msg}") from exc
    return str(image.id)


def build_app_variant(
    client: docker.DockerClient,
    base_upgrades: Mapping[str, str] | None = None,
    own_upgrades: Mapping[str, str] | None = None,
    python: Mapping[str, str] | None = None,
    npm: Mapping[str, str] | None = None,
    name: str | None = None,
    prefix: str = VARIANT_PREFIX,
) -> AppVariant:
    """Builds the base and the app with the given upgrades applied; see the module docstring.

    Raises ImageBuildError when an upgrade names a package the image does not have.
    """
    tag = name or variant_name(base_upgrades, own_upgrades, python, npm)
    base_ref, app_ref = f"{prefix}/base:{tag}", f"{prefix}/app:{tag}"
    with tempfile.TemporaryDirectory(prefix="cg-variant-") as tmp:
        (Path(tmp) / "b").mkdir()
        base_context = prepare_context("base", Path(tmp) / "b")
        status = base_context / "rootfs/var/lib/dpkg/status"
        try:
            status.write_text(upgraded_status(status.read_text(), base_upgrades or {}))
        except ValueError as exc:
            raise ImageBuildError(f"base upgrades: {exc}") from exc
        app_context = prepare_context("app", Path(tmp))
        _bump_python(app_context / "site-packages", python or {})
        _bump_npm(app_context / "node_modules", npm or {})
        _bump_own(app_context / "Dockerfile", own_upgrades or {})
        # Built only once every upgrade was applied: a wrong package name builds nothing.
        _build(client, base_context, base_ref, {})
        image_id = _build(client, app_context, app_ref, {"BASE": base_ref})
    return AppVariant(
        ref=app_ref,
        base_ref=base_ref,
        image_id=image_id,
        base_upgrades=dict(base_upgrades or {}),
        own_upgrades=dict(own_upgrades or {}),
        python=dict(python or {}),
        npm=dict(npm or {}),
    )
