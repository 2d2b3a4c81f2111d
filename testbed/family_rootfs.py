"""Writes the committed package metadata of the image family (full, slim, distroless, alpine).

A maintainer's tool, not used by the tests: on a Debian 12 machine with current package lists
(`apt-get update`), it printed the dpkg stanzas from `apt-cache show` and wrote them under
`testbed/images/<name>/rootfs/`. Run it again to check or change the family:

    python -m testbed.family_rootfs

Versions are chosen so that every image is a coherent, real Debian 12 system:
- a source package the `base` image has keeps the base's (older, real) version, so an image
  carries one version per source package, and the base's advisories apply to every binary of it;
- a source package with advisories of its own (`NEW_SOURCES`) gets the version
  `testbed/harvest_debian.py` found as its Debian 12 release version;
- anything else gets the version `apt-cache` offers now (a real Debian 12 version).
Only the fields Trivy and a reader need are kept (no Depends): the image is metadata, not software.
"""

from __future__ import annotations

import re
import subprocess

from testbed.images import IMAGES_DIR
from testbed.packages import read_dpkg_status

# Source packages whose advisories came from downloaded packages' changelogs (harvest_debian
# --root): their Debian 12 release versions.
NEW_SOURCES = {
    "imagemagick": "8:6.9.11.60+dfsg-1.6",
    "xz-utils": "5.4.1-1",
    "libssh2": "1.10.0-3",
    "pcre2": "10.42-1",
    "libzstd": "1.5.4+dfsg2-5",
    "ncurses": "6.4-4",
}
# What debian:bookworm-slim (and so python:3.9-slim) installs beyond the packages the base
# image already declares, plus the runtime libraries python:3.9-slim adds.
SLIM_FROM_BASE = [
    "libc6", "libc-bin", "zlib1g", "libssl3", "openssl", "libexpat1", "tar", "libgnutls30",
    "libsqlite3-0", "libsystemd0", "libudev1", "util-linux", "login", "passwd", "perl-base",
    "libtasn1-6", "libcap2", "gpgv", "libseccomp2", "libpam0g", "coreutils", "apt",
    "libapt-pkg6.0", "libgcrypt20", "bash",
]  # fmt: skip
SLIM_MORE = [
    "base-files", "base-passwd", "bsdutils", "ca-certificates", "dash", "debconf",
    "debian-archive-keyring", "debianutils", "diffutils", "dpkg", "e2fsprogs", "findutils",
    "gcc-12-base", "grep", "gzip", "hostname", "init-system-helpers", "libacl1", "libattr1",
    "libaudit-common", "libaudit1", "libblkid1", "libbz2-1.0", "libcap-ng0", "libcom-err2",
    "libcrypt1", "libdb5.3", "libdebconfclient0", "libext2fs2", "libffi8", "libgcc-s1",
    "libgmp10", "libgpg-error0", "libhogweed6", "libidn2-0", "liblz4-1", "liblzma5", "libmd0",
    "libmount1", "libnettle8", "libp11-kit0", "libpam-modules", "libpam-modules-bin",
    "libpam-runtime", "libpcre2-8-0", "libselinux1", "libsemanage-common", "libsemanage2",
    "libsepol2", "libsmartcols1", "libss2", "libstdc++6", "libtinfo6", "libncursesw6",
    "libunistring2", "libuuid1", "libxxhash0", "libzstd1", "logsave", "mawk", "mount",
    "ncurses-base", "ncurses-bin", "netbase", "sed", "sysvinit-utils", "tzdata",
    "usr-is-merged", "util-linux-extra",
]  # fmt: skip
# What python:3.9 (buildpack-deps:bookworm) adds: compilers, build tools, -dev packages.
FULL_MORE = [
    "gcc", "gcc-12", "cpp", "cpp-12", "g++-12", "libgcc-12-dev", "libstdc++-12-dev", "make",
    "binutils", "libbinutils", "dpkg-dev", "patch", "libc6-dev", "libc-dev-bin", "libssl-dev",
    "zlib1g-dev", "curl", "libcurl4", "libcurl4-openssl-dev", "libexpat1-dev", "libxml2-dev",
    "libsqlite3-dev", "perl", "perl-modules-5.36", "libperl5.36", "python3.11",
    "python3.11-minimal", "libpython3.11-stdlib", "libk5crypto3", "libkrb5support0",
    "libkrb5-dev", "libmagickcore-6.q16-6", "libmagickwand-6.q16-6", "imagemagick-6-common",
    "libssh2-1", "liblzma-dev", "xz-utils", "libtiff-dev", "libpng-dev", "libglib2.0-dev",
    "libpq-dev", "libxslt1-dev", "libgnutls28-dev",
]  # fmt: skip
# gcr.io/distroless/base-debian12: one status file per package, no shell, no package manager.
DISTROLESS = ["base-files", "ca-certificates", "libc6", "libssl3", "netbase", "tzdata"]

KEEP = ["Package", "Status", "Priority", "Section", "Installed-Size", "Maintainer", "Architecture"]
KEEP += ["Multi-Arch", "Source", "Version", "Description"]

# Alpine 3.10.2: `apk info -vv` of an alpine:3.10.2 container (sonatype-nexus-community/ahab,
# parse/apk_test.go), with each package's origin (`o:`) and license (`L:`).
ALPINE_RELEASE = "3.10.2"
ALPINE = [
    ("alpine-baselayout", "3.1.2-r0", "alpine-baselayout", "GPL-2.0-only", "Alpine base dir structure and init scripts"),
    ("alpine-keys", "2.1-r2", "alpine-keys", "MIT", "Public keys for Alpine Linux packages"),
    ("apk-tools", "2.10.4-r2", "apk-tools", "GPL2", "Alpine Package Keeper - package manager for alpine"),
    ("busybox", "1.30.1-r2", "busybox", "GPL-2.0", "Size optimized toolbox of many common UNIX utilities"),
    ("ca-certificates-cacert", "20190108-r0", "ca-certificates", "MPL-2.0 GPL-2.0-or-later", "Mozilla bundled certificates"),
    ("libc-utils", "0.7.1-r0", "libc-dev", "BSD", "Meta package to pull in correct libc"),
    ("libcrypto1.1", "1.1.1c-r0", "openssl", "OpenSSL", "Crypto library from openssl"),
    ("libssl1.1", "1.1.1c-r0", "openssl", "OpenSSL", "SSL shared libraries"),
    ("libtls-standalone", "2.9.1-r0", "libtls-standalone", "ISC", "libtls extricated from libressl sources"),
    ("musl", "1.1.22-r3", "musl", "MIT", "the musl c library (libc) implementation"),
    ("musl-utils", "1.1.22-r3", "musl", "MIT BSD GPL2+", "the musl c library (libc) implementation"),
    ("scanelf", "1.2.3-r0", "pax-utils", "GPL-2.0", "Scan ELF binaries for stuff"),
    ("ssl_client", "1.30.1-r2", "busybox", "GPL-2.0", "EXternal ssl_client for busybox wget"),
    ("zlib", "1.2.11-r1", "zlib", "Zlib", "A compression/decompression Library"),
]  # fmt: skip
ALPINE_OS_RELEASE = f"""NAME="Alpine Linux"
ID=alpine
VERSION_ID={ALPINE_RELEASE}
PRETTY_NAME="Alpine Linux v3.10"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://bugs.alpinelinux.org/"
"""


def apt_stanza(binary: str) -> dict[str, str]:
    """The candidate version's fields from the package lists (`apt-cache show`)."""
    text = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", binary], check=True, capture_output=True, text=True
    ).stdout
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith(" ") and ": " in line:
            key, value = line.split(": ", 1)
            fields.setdefault(key, value)
    return fields


def pinned_stanza(binary: str, source_versions: dict[str, str]) -> str:
    """A dpkg status stanza for `binary`, at its source's pinned version where there is one."""
    fields = apt_stanza(binary)
    source = fields.get("Source", binary).split(" ")[0]
    version = fields["Version"]
    if source in source_versions:
        pinned = source_versions[source]
        # The binary's own epoch (bsdutils 1:..., built from util-linux without one) is kept,
        # and then dpkg records the source's version beside its name, as it does for binNMUs.
        epoch = version.split(":")[0] + ":" if ":" in version and ":" not in pinned else ""
        version = epoch + pinned
        fields["Source"] = f"{source} ({pinned})" if epoch else source
    fields.update(Version=version, Status="install ok installed")
    if fields.get("Source") == binary:
        del fields["Source"]
    return "".join(f"{key}: {fields[key]}\n" for key in KEEP if fields.get(key))


def write_debian(name: str, binaries: list[str], base_stanzas: dict[str, str], per_file: bool) -> None:
    """Writes rootfs/etc/{os-release,debian_version} and the dpkg status (or status.d/) of `name`."""
    base_rootfs = IMAGES_DIR / "base" / "rootfs"
    pins = {p.source: p.source_version for p in read_dpkg_status(base_rootfs)}
    pins.update(NEW_SOURCES)
    rootfs = IMAGES_DIR / name / "rootfs"
    for rel in ("etc/os-release", "etc/debian_version"):
        (rootfs / rel).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / rel).write_bytes((base_rootfs / rel).read_bytes())
    stanzas = {b: base_stanzas.get(b) or pinned_stanza(b, pins) for b in binaries}
    dpkg = rootfs / "var/lib/dpkg"
    if per_file:
        (dpkg / "status.d").mkdir(parents=True, exist_ok=True)
        for binary, stanza in stanzas.items():
            (dpkg / "status.d" / binary).write_text(stanza)
    else:
        dpkg.mkdir(parents=True, exist_ok=True)
        (dpkg / "status").write_text("\n".join(stanzas[b] for b in binaries))


def write_alpine() -> None:
    rootfs = IMAGES_DIR / "alpine" / "rootfs"
    (rootfs / "etc").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc/os-release").write_text(ALPINE_OS_RELEASE)
    (rootfs / "etc/alpine-release").write_text(ALPINE_RELEASE + "\n")
    db = rootfs / "lib/apk/db"
    db.mkdir(parents=True, exist_ok=True)
    entries = [
        f"P:{name}\nV:{version}\nA:x86_64\nT:{title}\nL:{license_}\no:{origin}\n"
        for name, version, origin, license_, title in ALPINE
    ]
    (db / "installed").write_text("\n".join(entries) + "\n")


def base_stanzas() -> dict[str, str]:
    """The base image's committed stanzas by package name (reused verbatim)."""
    text = (IMAGES_DIR / "base/rootfs/var/lib/dpkg/status").read_text()
    out = {}
    for stanza in text.strip().split("\n\n"):
        match = re.match(r"Package: (\S+)", stanza)
        if match:
            out[match[1]] = stanza + "\n"
    return out


def main() -> None:
    base = base_stanzas()
    slim = SLIM_FROM_BASE + SLIM_MORE
    full = list(base) + [b for b in SLIM_MORE + FULL_MORE if b not in base]
    write_debian("slim", slim, base, per_file=False)
    write_debian("full", full, base, per_file=False)
    write_debian("distroless", DISTROLESS, base, per_file=True)
    write_alpine()


if __name__ == "__main__":
    main()
