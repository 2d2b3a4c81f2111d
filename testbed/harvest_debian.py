"""Harvests real (source package, fixed version, CVE) triples from Debian 12 changelogs.

A maintainer's tool, not used by the tests: it printed the Debian part of `advisories.yaml`
and the package stanzas of the base image's dpkg status, on a Debian 12 machine where the
named packages are installed. Run it again to check or extend the fixture:

    python -m testbed.harvest_debian glibc=libc6 zlib=zlib1g openssl=libssl3,openssl ...
    python -m testbed.harvest_debian --root DIR imagemagick=libmagickcore-6.q16-6   # unpacked .debs

For each source package:
- the installed version declared in the image is the bookworm release version: the changelog
  entry just before the first bookworm update (`+deb12uN`), or before the unstable upload that a
  first `V~deb12uN` update backports (a real upload in every case);
- an advisory that must match: a CVE named in a bookworm update entry, fixed in the oldest
  such entry naming it;
- a negative control (fixed version lower than installed): a CVE named in an entry older than
  the release version.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ENTRY = re.compile(r"^(?P<source>\S+) \((?P<version>[^)]+)\) (?P<dists>[^;]+);")
CVE = re.compile(r"CVE-\d{4}-\d{4,7}")


@dataclass(frozen=True)
class Entry:
    """One changelog entry."""

    version: str
    """The version the entry introduced."""
    distribution: str
    """The suite it was uploaded to (`bookworm-security`, `unstable`, ...)."""
    cves: tuple[str, ...]
    """CVE ids named in the entry, in order of first mention."""
    lines: tuple[str, ...]
    """The entry's text lines (to quote what a fix says about each CVE)."""

    def mentions(self, cve: str) -> str:
        """The entry's lines that name `cve`, joined: the changelog's own words about the fix."""
        return " ".join(" ".join(line.split()).lstrip("*- ") for line in self.lines if cve in line)


def read_changelog(binary: str, root: Path = Path("/")) -> list[Entry]:
    """The entries of a binary package's changelog, newest first.

    `root` is `/` for installed packages, or a directory where downloaded packages were unpacked
    (`apt-get download PKG && dpkg-deb -x PKG_*.deb DIR`), for packages this machine lacks.
    """
    doc = root / "usr/share/doc" / binary
    # Native packages (apt, dpkg) ship changelog.gz instead of changelog.Debian.gz.
    path = doc / "changelog.Debian.gz" if (doc / "changelog.Debian.gz").exists() else doc / "changelog.gz"
    entries: list[Entry] = []
    version, dist, cves, lines = "", "", list[str](), list[str]()
    with gzip.open(path, "rt", errors="replace") as text:
        lines_read = text.readlines()
    for line in lines_read:
        match = ENTRY.match(line)
        if match:
            if version:
                entries.append(Entry(version, dist, tuple(cves), tuple(lines)))
            version, dist, cves, lines = match["version"], match["dists"].strip(), [], []
        else:
            cves.extend(cve for cve in CVE.findall(line) if cve not in cves)
            lines.append(line.rstrip("\n"))
    if version:
        entries.append(Entry(version, dist, tuple(cves), tuple(lines)))
    return entries


def release_version(entries: list[Entry]) -> int:
    """Index of the bookworm release entry: the one just older than the first bookworm update."""
    updates = [i for i, e in enumerate(entries) if "deb12u" in e.version]
    if not updates:
        return 0  # never updated in bookworm: the newest entry is the release version
    release = updates[-1] + 1
    # A first update `V~deb12u1` backports unstable's V: then V itself never was in bookworm, and
    # the release version is the entry before it (libxml2: 1.2 in bookworm, 1.3 in unstable).
    if release < len(entries) and entries[updates[-1]].version.startswith(entries[release].version + "~"):
        release += 1
    if release >= len(entries):
        raise SystemExit("the changelog has no entry older than its first bookworm update")
    return release


def harvest(source: str, binary: str, limit: int, root: Path = Path("/")) -> tuple[str, list[dict[str, str]]]:
    """Returns (release version, advisories) for one source package: up to `limit` that
    must match, then one negative control fixed before the release version."""
    entries = read_changelog(binary, root)
    release = release_version(entries)
    origin = (
        f"/usr/share/doc/{binary} changelog, Debian {entries[0].version}"
        if root == Path("/")
        else f"changelog.Debian.gz of {binary} {entries[0].version} (apt-get download)"
    )
    fixed: dict[str, Entry] = {}
    for entry in reversed(entries[:release]):
        if "deb12u" in entry.version:
            for cve in entry.cves:
                fixed.setdefault(cve, entry)  # the oldest update naming it fixed it
    rows = [
        {"id": cve, "fixed": e.version, "source": f"{origin}, entry {e.version}", "says": e.mentions(cve)}
        for cve, e in fixed.items()
    ][:limit]
    for e in entries[release + 1 :]:
        for cve in e.cves:
            if cve not in fixed:
                rows.append(
                    {
                        "id": cve,
                        "fixed": e.version,
                        "source": f"{origin}, entry {e.version}",
                        "says": e.mentions(cve),
                        "control": f"fixed in {e.version}, before the installed {entries[release].version}",
                    }
                )
                return entries[release].version, rows
    return entries[release].version, rows


def binary_stanza(binary: str, version: str) -> str:
    """The installed package's real dpkg stanza, with the older version declared."""
    fields = (
        "Package,Status,Priority,Section,Installed-Size,Maintainer,Architecture,Multi-Arch,Source,Version"
    )
    query = [f"{name}: ${{{name}}}" for name in fields.split(",")] + ["Description: ${binary:Summary}"]
    text = subprocess.run(
        ["dpkg-query", "-W", "-f", "\n".join(query) + "\n", binary],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in text.splitlines() if not line.endswith(": ")]
    out = []
    for line in lines:
        if line.startswith("Version: "):
            line = f"Version: {version}"
        elif line.startswith("Source: "):
            line = line.split(" (")[0]
        out.append(line)
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    limit = 6
    root = Path("/")
    if argv[:1] == ["--root"]:
        # Changelogs of downloaded packages unpacked under this directory; no dpkg stanzas then
        # (dpkg-query knows installed packages only).
        root, argv = Path(argv[1]), argv[2:]
    for arg in argv:
        source, _, binaries = arg.partition("=")
        names = binaries.split(",")
        version, rows = harvest(source, names[0], limit, root)
        print(f"# {source} {version} binaries={','.join(names)}")
        for row in rows:
            print(json.dumps({"bucket": "debian 12", "package": source, **row}))
        if root == Path("/"):
            for name in names:
                sys.stderr.write(binary_stanza(name, version) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
