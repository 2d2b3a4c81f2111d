"""Derives expected.yaml from advisories.yaml and the images' declared packages, without Trivy.

A maintainer's tool (Debian only: versions are compared by `dpkg --compare-versions`):

    python -m testbed.derive_expected           # print
    python -m testbed.derive_expected --write   # rewrite testbed/expected*.yaml

It also writes the image family's (derive_family.py) and the base-refresh scenario's
(derive_refresh.py) expected files.

tests/testbed/ checks that the committed file equals this derivation, and that the real Trivy
reports exactly it: two independent routes to the same findings.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from typing import Any

import yaml

from testbed.advisories import Advisory, Fixture, load_fixture
from testbed.derive_family import FAMILY, FAMILY_FILE, derive_family, image_packages
from testbed.expected import EXPECTED_FILE
from testbed.images import IMAGES_DIR

HEADER = """\
# The exact findings Trivy must report on the test bed's images with the DB built from advisories.yaml.
#
# Written by `python -m testbed.derive_expected --write` from advisories.yaml and the images' declared
# packages (Debian versions compared by `dpkg --compare-versions`, Python and npm ranges numerically);
# tests/testbed/ checks the real Trivy against it. Regenerate it after editing either.
#
# Images (testbed/images/): `base` has one layer (index 0); `app` is FROM base and adds three:
#   1: COPY of Flask 0.12.3's METADATA, 2: COPY of lodash 4.17.11's package.json,
#   3: RUN that appends a libcurl4 stanza to /var/lib/dpkg/status.
# The base image reports `base_findings`. The app image reports `base_findings` (origin base, same
# layer index) plus `own_findings` (origin own). `package` is the name Trivy reports (binary package
# for Debian). `controls` are advisories in the DB that must produce no finding: no reported finding
# may have that id on one of those packages (with that fixed version, when one is given).
"""
# The app's language packages (testbed/images/app): name in the DB, name Trivy reports, version, layer.
LANGUAGE_PACKAGES = [
    ("pip::", "flask", "Flask", "0.12.3", "python-pkg", 1),
    ("npm::", "lodash", "lodash", "4.17.11", "node-pkg", 2),
]
APP_RUN_LAYER = 3


def parse_status(text: str) -> list[tuple[str, str, str]]:
    """(binary, source, version) of each stanza of a dpkg status file."""
    out = []
    for stanza in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
        out.append(
            (fields["Package"], fields.get("Source", fields["Package"]).split(" ")[0], fields["Version"])
        )
    return out


def app_run_stanza() -> str:
    """The lines the app's RUN printf appends to the dpkg status."""
    run = next(
        line
        for line in (IMAGES_DIR / "app" / "Dockerfile").read_text().splitlines()
        if line.startswith("RUN ")
    )
    words = shlex.split(run[4:])
    return "\n".join(words[2 : words.index(">>")])


def dpkg_lt(a: str, b: str) -> bool:
    """Debian version order, from dpkg itself."""
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


def in_range(version: str, spec: str) -> bool:
    """`< X` / `>= X, < Y` over dotted numeric versions (all the fixture's ranges use)."""

    def parse(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    ops = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return all(ops[op](parse(version), parse(bound)) for op, bound in (p.split() for p in spec.split(",")))


def os_findings(fixture: Fixture, packages: list[tuple[str, str, str]], layer: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for binary, source, version in packages:
        for adv in fixture.advisories:
            if adv.bucket != "debian 12" or adv.package != source:
                continue
            if adv.fixed is not None and not dpkg_lt(version, adv.fixed):
                continue
            finding: dict[str, Any] = {"id": adv.id, "package": binary, "version": version}
            finding.update({"fixed": adv.fixed} if adv.fixed else {"status": adv.status})
            out.append({**finding, "type": "debian", "layer": layer})
    return out


def language_findings(fixture: Fixture) -> list[dict[str, Any]]:
    out = []
    for prefix, name, reported, version, kind, layer in LANGUAGE_PACKAGES:
        for adv in fixture.advisories:
            matches = adv.bucket.startswith(prefix) and adv.package == name
            if matches and any(in_range(version, spec) for spec in adv.vulnerable):
                fixed = ", ".join(adv.patched)
                finding = {"id": adv.id, "package": reported, "version": version, "fixed": fixed}
                out.append({**finding, "type": kind, "layer": layer})
    return out


def control(adv: Advisory, binaries: dict[str, list[str]]) -> dict[str, Any]:
    if "::" in adv.bucket:
        names = [
            next(
                (r for p, n, r, *_ in LANGUAGE_PACKAGES if adv.bucket.startswith(p) and n == adv.package),
                adv.package,
            )
        ]
    else:
        names = binaries.get(adv.package) or [adv.package]
    entry: dict[str, Any] = {"id": adv.id, "packages": names, "bucket": adv.bucket}
    if adv.fixed:
        entry["fixed"] = adv.fixed
    return {**entry, "why": adv.control}


def derive(fixture: Fixture, absent_binaries: dict[str, list[str]]) -> str:
    """The text of expected.yaml. `absent_binaries` names the binaries of packages no image has."""
    base_packages = parse_status((IMAGES_DIR / "base/rootfs/var/lib/dpkg/status").read_text())
    app_packages = parse_status(app_run_stanza())
    binaries = dict(absent_binaries)
    for binary, source, _ in base_packages + app_packages:
        binaries.setdefault(source, []).append(binary)
    sections = {
        "base_findings": os_findings(fixture, base_packages, 0),
        "own_findings": language_findings(fixture) + os_findings(fixture, app_packages, APP_RUN_LAYER),
        "controls": [control(a, binaries) for a in fixture.advisories if a.control],
    }
    text = HEADER
    for name, items in sections.items():
        text += f"{name}:\n"
        for item in items:
            line = yaml.safe_dump(item, default_flow_style=True, width=1000, sort_keys=False).strip()
            text += f"  - {line}\n"
    return text


# Binary names of source packages that are in no image, for the controls' `packages`.
ABSENT_BINARIES = {"libde265": ["libde265-0"]}


def absent_binaries() -> dict[str, list[str]]:
    """ABSENT_BINARIES, plus the binaries of source packages only the image family has."""
    here = {s for _, s, _ in parse_status((IMAGES_DIR / "base/rootfs/var/lib/dpkg/status").read_text())}
    here |= {s for _, s, _ in parse_status(app_run_stanza())}
    out = dict(ABSENT_BINARIES)
    for name in FAMILY:
        for pkg in image_packages(IMAGES_DIR / name / "rootfs"):
            if pkg.source not in here and pkg.name not in out.setdefault(pkg.source, []):
                out[pkg.source].append(pkg.name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.derive_expected")
    parser.add_argument(
        "--write", action="store_true", help=f"rewrite {EXPECTED_FILE.name} and the other expected files"
    )
    args = parser.parse_args(argv)
    # Imported here: derive_refresh builds on this module's app description.
    from testbed.derive_refresh import REFRESH_FILE, derive_refresh

    fixture = load_fixture()
    texts = {
        EXPECTED_FILE: derive(fixture, absent_binaries()),
        FAMILY_FILE: derive_family(fixture),
        REFRESH_FILE: derive_refresh(fixture),
    }
    for path, text in texts.items():
        if args.write:
            path.write_text(text)
        else:
            sys.stdout.write(f"# --- {path.name}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
